//! Ignore files as ripgrep applies them, except that what a repository
//! holds is never hidden: `.gitignore` only inside a work tree, `.ignore`
//! everywhere, and a tracked file always.

mod common;

use std::process::Command;

use common::{json, keyward, run_git, write};

/// Account 730335469921: not one of AWS's documentation accounts, so the
/// key in a comment is a finding, not a placeholder.
const KEY: &str = "AKIA2UC3C4FQ4VOKYSRY";

fn paths(doc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

fn tree(dir: &std::path::Path) {
    write(dir, ".gitignore", "*.tfvars\n.env\n");
    write(dir, ".ignore", "vendor/\n");
    write(dir, "prod.tfvars", format!("aws_access_key = \"{KEY}\"\n"));
    write(dir, ".env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(dir, "vendor/sdk.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(dir, "main.tf", format!("# {KEY}\n"));
}

#[test]
fn outside_a_work_tree_gitignore_means_nothing() {
    let t = tempfile::tempdir().expect("tempdir");
    tree(t.path());
    let doc = json(&keyward(t.path(), &["scan", "--format", "json"]));
    // `.ignore` still applies; `.gitignore` does not.
    assert_eq!(paths(&doc), [".env", "main.tf", "prod.tfvars"]);
}

#[test]
fn inside_a_work_tree_tracked_files_are_scanned_even_if_ignored() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    tree(d);
    let git = || {
        let mut c = Command::new("git");
        c.current_dir(d)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        c
    };
    run_git(&mut git(), &["init", "-q"]);
    // `.env` is committed first, then ignored: still on every clone.
    run_git(&mut git(), &["add", "-f", ".env", "main.tf", ".gitignore"]);
    run_git(
        &mut git(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            "x",
        ],
    );
    let doc = json(&keyward(d, &["scan", "--format", "json"]));
    // prod.tfvars is ignored and untracked: out. vendor/ is in `.ignore`.
    assert_eq!(paths(&doc), [".env", "main.tf"]);
    // A subdirectory scan sees the tracked file below it with its path.
    write(d, "live/.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    run_git(&mut git(), &["add", "-f", "live/.env"]);
    let doc = json(&keyward(d, &["scan", "live", "--format", "json"]));
    assert_eq!(paths(&doc), ["live/.env"]);
    let all = json(&keyward(d, &["scan", "--no-ignore", "--format", "json"]));
    assert_eq!(
        paths(&all),
        [
            ".env",
            "live/.env",
            "main.tf",
            "prod.tfvars",
            "vendor/sdk.env"
        ]
    );
}

#[test]
fn a_repository_below_the_scanned_folder_keeps_its_gitignore() {
    // A folder of clones, itself no repository: the walk starts without
    // reading `.gitignore` files and must start over once it meets `.git`.
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    let repo = d.join("clones/app");
    tree(&repo);
    run_git(
        Command::new("git")
            .current_dir(&repo)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1"),
        &["init", "-q"],
    );
    write(
        d,
        "loose/prod.tfvars",
        format!("aws_access_key = \"{KEY}\"\n"),
    );
    write(d, "loose/.gitignore", "*.tfvars\n");
    let doc = json(&keyward(d, &["scan", "--format", "json"]));
    // In the clone its `.gitignore` hides prod.tfvars and .env; outside any
    // work tree a `.gitignore` means nothing.
    assert_eq!(paths(&doc), ["clones/app/main.tf", "loose/prod.tfvars"]);
    assert_eq!(doc["summary"]["files_scanned"], 5, "{}", doc["summary"]);
}
