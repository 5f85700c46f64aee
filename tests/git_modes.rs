//! `--staged`, `--since REV` and `--history` on real git repos built in
//! temp dirs: commits, index states, renames, merges, branches.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

// Synthetic (scripts/genkey.py --seed 505).
const K1: &str = "AKIARZPUZDIKEQTRV6SW";
const K2: &str = "AKIARZPUZDIKMH4FYVQ6";
const K3: &str = "AKIARZPUZDIKFIYVJPDL";
const K4: &str = "AKIARZPUZDIKDUQQEEAK";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.email", "ann@example.com"]);
        r.git(&["config", "user.name", "Ann"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        run_git(
            Command::new("git")
                .current_dir(self.path())
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1"),
            args,
        )
    }

    fn write(&self, rel: &str, text: &str) {
        write(self.path(), rel, text);
    }

    /// Stages everything and commits; returns the commit ID.
    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn scan(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let mut all = vec!["scan", "--format", "json"];
        all.extend_from_slice(args);
        let out = keyward(self.path(), &all);
        (out.status.code(), json(&out))
    }
}

fn env(key: &str) -> String {
    format!("APP=web\nAWS_ACCESS_KEY_ID={key}\n")
}

/// (path, key_id, line) of each finding.
fn found(doc: &serde_json::Value) -> Vec<(String, String, u64)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["key_id"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The rule of each finding.
fn rules_of(doc: &serde_json::Value) -> Vec<&str> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect()
}

#[test]
fn staged_scans_the_index_not_the_working_tree() {
    let r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("init");
    // Staged, then cleaned in the working tree only: the commit still has it.
    r.write("app/.env", &env(K1));
    r.git(&["add", "app/.env"]);
    r.write("app/.env", "APP=web\n");
    // Only in the working tree: not part of the commit.
    r.write(
        "README.md",
        &format!("hello {K2}\nAWS_ACCESS_KEY_ID={K2}\n"),
    );
    r.write("untracked.env", &env(K3));
    let (code, doc) = r.scan(&["--staged"]);
    assert_eq!(code, Some(1));
    assert_eq!(found(&doc), vec![("app/.env".into(), K1.into(), 2)]);
    assert_eq!(doc["summary"]["files_scanned"], 1);
    // A plain scan sees the working tree instead.
    let (_, plain) = r.scan(&[]);
    let keys: Vec<String> = found(&plain).into_iter().map(|f| f.1).collect();
    assert!(keys.contains(&K2.to_string()) && !keys.contains(&K1.to_string()));
}

#[test]
fn staged_passes_when_only_the_working_tree_has_a_key() {
    let r = Repo::new();
    r.write("app/.env", "APP=web\n");
    r.commit("init");
    r.write("app/.env", &env(K1));
    r.write("notes.txt", "clean\n");
    r.git(&["add", "notes.txt"]);
    let (code, doc) = r.scan(&["--staged"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(found(&doc), vec![]);
    assert_eq!(doc["summary"]["files_scanned"], 1);
    let human = keyward(r.path(), &["scan", "--staged"]);
    assert!(
        stdout(&human).contains("0 findings in 1 file scanned"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn staged_in_the_first_commit_and_deleted_files() {
    let r = Repo::new();
    r.write("a.env", &env(K1));
    r.write("b.env", &env(K2));
    r.git(&["add", "-A"]);
    // No HEAD yet: everything in the index is new.
    let (code, doc) = r.scan(&["--staged"]);
    assert_eq!(code, Some(1));
    assert_eq!(found(&doc).len(), 2);
    r.commit("keys");
    // A staged deletion has nothing to scan.
    r.git(&["rm", "-q", "b.env"]);
    let (code, doc) = r.scan(&["--staged"]);
    assert_eq!(code, Some(0), "{doc}");
    assert_eq!(doc["summary"]["files_scanned"], 0);
}

#[test]
fn staged_with_listed_paths_takes_those_files_as_staged() {
    let r = Repo::new();
    r.write("a.env", "APP=a\n");
    r.write("gone.env", "APP=g\n");
    r.commit("init");
    r.write("a.env", &env(K1));
    r.write("b.env", &env(K2));
    r.git(&["add", "-A"]);
    r.write("a.env", "APP=a\n");
    r.git(&["rm", "-q", "gone.env"]);
    // What pre-commit passes: staged files by name.
    let (code, doc) = r.scan(&["--staged", "a.env"]);
    assert_eq!(code, Some(1));
    assert_eq!(found(&doc), vec![("a.env".into(), K1.into(), 2)]);
    assert_eq!(doc["summary"]["files_scanned"], 1);
    // A name with nothing staged is a warning, not a silent pass.
    let (code, doc) = r.scan(&["--staged", "gone.env", "nowhere.env"]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["summary"]["files_scanned"], 0);
    let errors = doc["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{doc}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("not in the index")
    );
}

#[test]
fn staged_paths_are_relative_to_a_subdirectory() {
    let r = Repo::new();
    r.write("infra/prod/.env", &env(K1));
    r.write("top.env", &env(K2));
    r.git(&["add", "-A"]);
    let out = keyward(
        &r.path().join("infra"),
        &["scan", "--staged", "--format", "json"],
    );
    let doc = json(&out);
    // The default path `.` limits the scan to the cwd, as a walk would.
    assert_eq!(found(&doc), vec![("prod/.env".into(), K1.into(), 2)]);
    let out = keyward(
        &r.path().join("infra"),
        &[
            "scan",
            "--staged",
            "--format",
            "json",
            "prod/.env",
            "../top.env",
        ],
    );
    let paths: Vec<String> = found(&json(&out)).into_iter().map(|f| f.0).collect();
    let top = std::fs::canonicalize(r.path())
        .expect("canon")
        .join("top.env");
    assert_eq!(paths, vec![top.display().to_string(), "prod/.env".into()]);
}

#[test]
fn since_reports_only_added_lines() {
    let r = Repo::new();
    r.write("app/.env", &env(K1));
    r.write("other.env", &env(K4));
    r.commit("old key");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "app/.env",
        &format!("{}AWS_ACCESS_KEY_ID_2={K2}\n", env(K1)),
    );
    r.commit("new key");
    let (code, doc) = r.scan(&["--since", "main"]);
    assert_eq!(code, Some(1));
    assert_eq!(found(&doc), vec![("app/.env".into(), K2.into(), 3)]);
    // other.env did not change: not scanned at all.
    assert_eq!(doc["summary"]["files_scanned"], 1);
    let (_, all) = r.scan(&["--since", "main", "--all-lines"]);
    assert_eq!(
        found(&all),
        vec![
            ("app/.env".into(), K1.into(), 2),
            ("app/.env".into(), K2.into(), 3)
        ]
    );
}

#[test]
fn since_follows_renames() {
    let r = Repo::new();
    let body = format!("{}# {}\n", env(K1), "x".repeat(200));
    r.write("old/name.env", &body);
    r.commit("old key");
    r.git(&["checkout", "-q", "-b", "feature"]);
    std::fs::create_dir_all(r.path().join("new")).expect("mkdir");
    r.git(&["mv", "old/name.env", "new/name.env"]);
    r.write("new/name.env", &format!("{body}AWS_ACCESS_KEY_ID_2={K2}\n"));
    r.commit("rename and add");
    let (code, doc) = r.scan(&["--since", "main"]);
    assert_eq!(code, Some(1));
    // The moved key is not new: only the added line counts, at the new path.
    assert_eq!(found(&doc), vec![("new/name.env".into(), K2.into(), 4)]);
    let (_, all) = r.scan(&["--since", "main", "--all-lines"]);
    assert_eq!(found(&all).len(), 2);
}

#[test]
fn since_uses_the_merge_base() {
    let r = Repo::new();
    r.write("a.env", "APP=a\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.env", &env(K2));
    r.commit("feature key");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.env", &env(K3));
    r.commit("main key");
    r.git(&["checkout", "-q", "feature"]);
    // Before and after merging main in, only the branch's own change counts.
    let (_, doc) = r.scan(&["--since", "main"]);
    assert_eq!(found(&doc), vec![("b.env".into(), K2.into(), 2)]);
    r.git(&["merge", "-q", "--no-edit", "main"]);
    let (_, doc) = r.scan(&["--since", "main"]);
    assert_eq!(found(&doc), vec![("b.env".into(), K2.into(), 2)]);
    // A commit with nothing new passes.
    let (code, doc) = r.scan(&["--since", "HEAD"]);
    assert_eq!(
        (code, doc["summary"]["files_scanned"].as_u64()),
        (Some(0), Some(0))
    );
}

#[test]
fn since_keeps_ignore_comments_working() {
    let r = Repo::new();
    r.write("a.env", "APP=a\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(
        "a.env",
        &format!("APP=a\n# keyward:ignore -- test account\nAWS_ACCESS_KEY_ID={K1}\n"),
    );
    r.commit("ignored key");
    let (code, doc) = r.scan(&["--since", "main"]);
    assert_eq!(doc["summary"]["suppressed"]["inline"], 1);
    // The comment is new in this change: KW015 (tests/suppression_added.rs)
    // is what fails the gate, not the key it silences.
    assert_eq!(code, Some(1), "{doc}");
    let rules = rules_of(&doc);
    assert_eq!(rules, ["KW015"], "{doc}");
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let r = Repo::new();
    r.write("a.env", "APP=a\n");
    r.commit("init");
    let out = keyward(r.path(), &["scan", "--since", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown revision `no-such-branch`"), "{err}");
    // The error keeps its help: what a CI checkout usually lacks.
    let said = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("check out with the history (actions/checkout"),
        "{err}"
    );
    let out = keyward(
        r.path(),
        &["scan", "--history", "--history-range", "nope..HEAD"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown revision `nope`"));
    let plain = tempfile::tempdir().expect("tempdir");
    for mode in [&["--staged"][..], &["--since", "main"], &["--history"]] {
        let mut args = vec!["scan"];
        args.extend_from_slice(mode);
        let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(&args)
            .current_dir(plain.path())
            .env(
                "GIT_CEILING_DIRECTORIES",
                plain.path().parent().expect("parent"),
            )
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{mode:?}");
        let err = stderr(&out);
        assert!(err.contains("not a git repository"), "{mode:?}: {err}");
    }
    // The modes exclude each other.
    let out = keyward(r.path(), &["scan", "--staged", "--history"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn history_reports_each_key_once_with_first_and_last_commit() {
    let r = Repo::new();
    r.write("app/.env", &env(K1));
    let c1 = r.commit("add key");
    r.write("app/.env", &format!("{}DEBUG=1\n", env(K1)));
    let c2 = r.commit("touch file, key stays");
    r.git(&["config", "user.name", "Bob"]);
    r.write("app/.env", "APP=web\n");
    r.commit("remove key");
    // Back to an earlier content: the same blob, not read again.
    r.write("app/.env", &env(K1));
    let c4 = r.commit("revert removal");
    r.write("app/.env", "APP=web\n");
    r.commit("remove again");
    let (code, doc) = r.scan(&["--history"]);
    assert_eq!(code, Some(1));
    let f = doc["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 1, "{doc}");
    assert_eq!(f[0]["key_id"], K1);
    assert_eq!(f[0]["path"], "app/.env");
    let p = &f[0]["provenance"];
    assert_eq!(p["first"]["commit"], c1.as_str());
    assert_eq!(p["first"]["author"], "Ann");
    assert_eq!(p["first"]["email"], "ann@example.com");
    assert_eq!(p["first"]["path"], "app/.env");
    assert!(p["first"]["date"].as_str().is_some_and(|d| d.len() >= 20));
    assert_eq!(p["last"]["commit"], c4.as_str());
    assert_eq!(p["last"]["author"], "Bob");
    assert_eq!(p["commits"], 3, "c1, c2 and c4 wrote it");
    assert_ne!(c2, c4);
    // Three distinct blobs of app/.env: env(K1), env(K1)+DEBUG, APP=web.
    assert_eq!(doc["summary"]["files_scanned"], 3);
    // The working tree is clean: a plain scan passes.
    assert_eq!(r.scan(&[]).0, Some(0));
    let human = stdout(&keyward(r.path(), &["scan", "--history"]));
    assert!(
        human.contains(&format!(
            "introduced in {} by Ann <ann@example.com>",
            &c1[..10]
        )),
        "{human}"
    );
    assert!(human.contains("written by 3 commits"), "{human}");
}

#[test]
fn history_sees_merged_branches_renames_and_ranges() {
    let r = Repo::new();
    r.write("a.env", "APP=a\n");
    let c1 = r.commit("init");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side.env", &env(K2));
    let side = r.commit("side key");
    r.git(&["checkout", "-q", "main"]);
    r.write("b.env", "APP=b\n");
    r.commit("main work");
    r.git(&["merge", "-q", "--no-edit", "side"]);
    r.git(&["mv", "side.env", "moved.env"]);
    r.commit("rename");
    r.git(&["checkout", "-q", "-b", "unmerged"]);
    r.write("wip.env", &env(K3));
    r.commit("wip key");
    r.git(&["checkout", "-q", "main"]);

    let (_, doc) = r.scan(&["--history"]);
    let f = doc["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 1, "{doc}");
    assert_eq!(f[0]["key_id"], K2);
    assert_eq!(f[0]["provenance"]["first"]["commit"], side.as_str());
    assert_eq!(f[0]["path"], "side.env");
    // The rename wrote the same blob again, at its new path.
    assert_eq!(f[0]["provenance"]["last"]["path"], "moved.env");
    assert_eq!(f[0]["provenance"]["commits"], 2);

    let (_, all) = r.scan(&["--history", "--all-refs"]);
    let keys: Vec<String> = found(&all).into_iter().map(|f| f.1).collect();
    assert_eq!(keys, vec![K2.to_string(), K3.to_string()]);

    let range = format!("{side}..HEAD");
    let (_, ranged) = r.scan(&["--history", "--history-range", &range]);
    let f = ranged["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 1, "{ranged}");
    assert_ne!(f[0]["provenance"]["first"]["commit"], side.as_str());
    assert_eq!(f[0]["path"], "moved.env");
    let (code, none) = r.scan(&["--history", "--history-range", &format!("{c1}..{c1}")]);
    assert_eq!((code, found(&none).len()), (Some(0), 0));
}

#[test]
fn history_resolves_conflicts_written_by_a_merge() {
    let r = Repo::new();
    r.write("c.env", "APP=base\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("c.env", "APP=side\n");
    r.commit("side");
    r.git(&["checkout", "-q", "main"]);
    r.write("c.env", "APP=main\n");
    r.commit("main");
    let merge = Command::new("git")
        .args(["merge", "-q", "--no-edit", "side"])
        .current_dir(r.path())
        .output()
        .expect("git");
    assert!(!merge.status.success(), "expected a conflict");
    // The key exists only in the merge commit's resolution.
    r.write("c.env", &env(K4));
    let m = r.commit("merge with resolution");
    let (_, doc) = r.scan(&["--history"]);
    let f = doc["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 1, "{doc}");
    assert_eq!(f[0]["provenance"]["first"]["commit"], m.as_str());
}

#[test]
fn history_asks_iam_once_and_judges_old_keys_with_its_answers() {
    let r = Repo::new();
    r.write("app/.env", &env(K1));
    r.commit("add key");
    // Rotated: K1 deactivated, K2 in use.
    r.write("app/.env", &env(K2));
    r.commit("rotate");
    // A key that was deleted since, in another file.
    r.write("ci/vars.env", &env(K3));
    r.commit("ci key");
    r.write("ci/vars.env", "APP=ci\n");
    r.commit("drop ci key");
    let inventory = serde_json::json!({
        "version": 1,
        "generated_at": "2026-11-28T12:00:00Z",
        "accounts": [{"account": "123456789012", "keys": [
            {"access_key_id": K1, "user": "deploy-bot", "status": "Inactive",
             "created": "2025-01-01T00:00:00Z", "last_used": "2025-06-01T00:00:00Z"},
            {"access_key_id": K2, "user": "deploy-bot", "status": "Active",
             "created": "2026-06-01T00:00:00Z", "last_used": "2026-11-27T00:00:00Z"}
        ]}]
    });
    let inv = tempfile::NamedTempFile::new().expect("inventory");
    std::fs::write(inv.path(), inventory.to_string()).expect("write");
    let inv_path = inv.path().to_str().expect("utf-8 path");
    let (code, doc) = r.scan(&[
        "--history",
        "--inventory",
        inv_path,
        "--now",
        "2026-11-28T12:00:00Z",
    ]);
    assert_eq!(code, Some(1), "{doc}");
    let rules_for = |key: &str| -> Vec<String> {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["key_id"] == key)
            .map(|f| f["rule"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(rules_for(K1), ["KW001", "KW006"], "{doc}");
    // 180 days old (KW008); never "divergent": a history references every
    // key a user ever had.
    assert_eq!(rules_for(K2), ["KW001", "KW008"], "{doc}");
    assert_eq!(rules_for(K3), ["KW001", "KW007"], "{doc}");
    let k1 = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW006")
        .expect("KW006");
    assert_eq!(k1["iam"]["user"], "deploy-bot");
    assert_eq!(k1["iam"]["status"], "Inactive");
    assert!(k1["provenance"]["first"]["commit"].is_string());
    // Without IAM the history has no IAM findings, as before.
    let (_, plain) = r.scan(&["--history"]);
    assert!(
        plain["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["rule"] == "KW001"),
        "{plain}"
    );
}

/// In `--history` each version of a file is judged alone: two keys of one
/// user in one version are a divergence there, while the same two keys in
/// successive versions (a rotation) are not.
#[test]
fn history_counts_a_users_keys_within_one_version() {
    let r = Repo::new();
    r.write("app/.env", &env(K1));
    r.commit("add key");
    r.write("app/.env", &env(K2));
    r.commit("rotate");
    r.write("ops/both.env", &format!("OLD_KEY={K1}\nNEW_KEY={K2}\n"));
    r.commit("both keys in one file");
    let inventory = serde_json::json!({
        "version": 1,
        "generated_at": "2026-11-28T12:00:00Z",
        "accounts": [{"account": "123456789012", "keys": [
            {"access_key_id": K1, "user": "deploy-bot", "status": "Active",
             "created": "2026-10-01T00:00:00Z", "last_used": "2026-11-01T00:00:00Z"},
            {"access_key_id": K2, "user": "deploy-bot", "status": "Active",
             "created": "2026-11-01T00:00:00Z", "last_used": "2026-11-27T00:00:00Z"}
        ]}]
    });
    let inv = tempfile::NamedTempFile::new().expect("inventory");
    std::fs::write(inv.path(), inventory.to_string()).expect("write");
    let inv_path = inv.path().to_str().expect("utf-8 path");
    let (_, doc) = r.scan(&[
        "--history",
        "--inventory",
        inv_path,
        "--now",
        "2026-11-28T12:00:00Z",
    ]);
    let divergent: Vec<(String, String)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW011")
        .map(|f| {
            let file = f["path"].as_str().unwrap_or("").to_string();
            (file, f["key_id"].as_str().unwrap_or("").to_string())
        })
        .collect();
    assert_eq!(
        divergent,
        [("ops/both.env".to_string(), K1.to_string())],
        "{doc}"
    );
    // The newest key's place in that same version.
    let related = &doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW011")
        .expect("KW011")["related"];
    assert_eq!(related[0]["path"], "ops/both.env", "{doc}");
    assert_eq!(related[0]["line"], 2, "{doc}");
    assert_eq!(related[0]["column"], 9, "{doc}");
    assert!(doc["scan"]["iam"].is_object(), "{doc}");
}

/// `terraform fmt` realigns `=` in a PR: the key was already on main, so
/// the PR does not own it, though its lines changed; the same after a
/// rename. A new key on a realigned file is still the PR's.
#[test]
fn since_does_not_blame_a_reformat_or_a_rename_for_an_old_key() {
    let r = Repo::new();
    let secret = "h0ZmQ6FpcLJsBp3IgWMLNFUxjW2ZVJbuvO1bRKiQ";
    r.write(
        "prod.tfvars",
        &format!(
            "region = \"eu-west-1\"\naws_access_key = \"{K1}\"\naws_secret_key = \"{secret}\"\n"
        ),
    );
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "fmt"]);
    // A longer name is added, and fmt realigns every `=`: the key lines
    // change.
    r.write(
        "prod.tfvars",
        &format!("region                = \"eu-west-1\"\naws_access_key        = \"{K1}\"\naws_secret_key        = \"{secret}\"\ninstance_profile_name = \"app\"\n"),
    );
    r.commit("terraform fmt");
    let lines = r.git(&["diff", "-U0", "main", "--", "prod.tfvars"]);
    assert!(
        lines.contains(&format!("+aws_access_key        = \"{K1}\"")),
        "{lines}"
    );
    let (code, doc) = r.scan(&["--since", "main"]);
    assert_eq!(code, Some(0), "{doc}");
    assert!(found(&doc).is_empty(), "{doc}");
    // --all-lines still shows everything in the changed file.
    let (_, doc) = r.scan(&["--since", "main", "--all-lines"]);
    assert_eq!(found(&doc).len(), 2, "{doc}");

    r.git(&["mv", "prod.tfvars", "production.tfvars"]);
    r.commit("rename");
    let (code, doc) = r.scan(&["--since", "main"]);
    assert_eq!(code, Some(0), "{doc}");

    r.write(
        "production.tfvars",
        &format!(
            "region                = \"eu-west-1\"\naws_access_key        = \"{K1}\"\naws_secret_key        = \"{secret}\"\ninstance_profile_name = \"app\"\nbackup_key            = \"{K2}\"\n"
        ),
    );
    r.commit("a new key");
    let (code, doc) = r.scan(&["--since", "main"]);
    assert_eq!(code, Some(1), "{doc}");
    assert_eq!(
        found(&doc),
        [("production.tfvars".to_string(), K2.to_string(), 5)]
    );
}

/// `--history` says whether HEAD still holds each key, and where, or the
/// commit that removed it; a removed key's help is about rotation.
#[test]
fn history_says_what_is_still_there() {
    let r = Repo::new();
    r.write("a.env", &env(K1));
    r.write("b.env", &env(K2));
    r.write("c.env", &env(K3));
    r.commit("three keys");
    r.write("a.env", "APP=web\n");
    let removal = r.commit("drop K1");
    std::fs::create_dir_all(r.path().join("config")).expect("mkdir");
    r.git(&["mv", "c.env", "config/c.env"]);
    r.commit("move c");
    let (_, doc) = r.scan(&["--history"]);
    let findings = doc["findings"].as_array().expect("findings");
    let of = |key: &str| {
        findings
            .iter()
            .find(|f| f["key_id"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key}: {doc}"))
    };
    let gone = of(K1);
    assert_eq!(
        gone["provenance"]["at_head"],
        serde_json::json!([]),
        "{gone}"
    );
    assert_eq!(
        gone["provenance"]["removed_in"]["commit"],
        removal.as_str(),
        "{gone}"
    );
    let kept = of(K2);
    assert_eq!(
        kept["provenance"]["at_head"],
        serde_json::json!(["b.env"]),
        "{kept}"
    );
    assert!(kept["provenance"]["removed_in"].is_null());
    let moved = of(K3);
    assert_eq!(
        moved["provenance"]["at_head"],
        serde_json::json!(["config/c.env"]),
        "{moved}"
    );

    let out = keyward(r.path(), &["scan", "--history", "--fail-on", "never"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("removed in {}", &removal[..7])),
        "{text}"
    );
    assert!(text.contains("still at HEAD in b.env"), "{text}");
    // The help of a key only history holds is its rule's `history-help:`
    // (the JSON contract has no help; the human output shows it).
    let rule = gone["rule"].as_str().expect("rule");
    let file = std::fs::read_dir(common::root().join("rules"))
        .expect("rules")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(rule))
        })
        .expect("rule file");
    let history_help = std::fs::read_to_string(file)
        .expect("rule file")
        .lines()
        .find_map(|l| {
            l.strip_prefix("history-help: \"")
                .map(|t| t.trim_end_matches('"').to_string())
        })
        .expect("history-help");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let gone_count = findings
        .iter()
        .filter(|f| f["provenance"]["at_head"] == serde_json::json!([]))
        .count();
    assert!(gone_count >= 1, "{doc}");
    assert!(flat.contains(&format!("help: {history_help}")), "{text}");
    assert_eq!(
        flat.matches("help: Only git history holds").count(),
        gone_count,
        "{text}"
    );
}

/// A commit is judged with the rest of the repository: a key whose secret
/// differs in a committed file the commit does not touch is KW010 on the
/// staged file, the other file's own findings are not reported, and the
/// key IDs of each blob are remembered under the git directory (never a
/// secret).
#[test]
fn staged_files_are_judged_with_the_rest_of_the_repository() {
    let fixture = common::root().join("fixtures/rules/KW010-key-pair-mismatch/fail");
    let r = Repo::new();
    let creds = std::fs::read_to_string(fixture.join("deploy/aws/credentials")).expect("fixture");
    r.write("deploy/aws/credentials", &creds);
    r.write("README.md", "hello\n");
    r.commit("init");
    let env_text = std::fs::read_to_string(fixture.join(".env.staging")).expect("fixture");
    r.write(".env.staging", &env_text);
    r.git(&["add", ".env.staging"]);
    for run in ["first", "cached"] {
        let (code, doc) = r.scan(&["--staged"]);
        assert_eq!(code, Some(1), "{run}");
        let findings = doc["findings"].as_array().expect("findings");
        assert!(
            findings.iter().all(|f| f["path"] == ".env.staging"),
            "{run}: only the commit's file is reported: {findings:#?}"
        );
        assert!(
            findings.iter().any(|f| f["rule"] == "KW010"),
            "{run}: KW010 in {findings:#?}"
        );
        assert_eq!(doc["summary"]["files_scanned"], 1, "{run}");
    }
    // The cache: HEAD's tree, and the one file of it that holds a key.
    let blob = r.git(&["rev-parse", "HEAD:deploy/aws/credentials"]);
    let tree = r.git(&["rev-parse", "HEAD^{tree}"]);
    let cache = std::fs::read_to_string(r.path().join(".git/keyward/key-ids")).expect("the cache");
    assert_eq!(
        cache.lines().collect::<Vec<_>>(),
        [
            "keyward key-ids 2".to_string(),
            format!("tree {tree}"),
            format!("deploy/aws/credentials\t{blob}\tAKIARZPUZDIKI3GNM364"),
        ],
        "{cache}"
    );
    let secrets = [
        creds
            .lines()
            .find_map(|l| l.strip_prefix("aws_secret_access_key = ")),
        env_text
            .lines()
            .find_map(|l| l.strip_prefix("AWS_SECRET_ACCESS_KEY=")),
    ];
    for secret in secrets {
        let secret = secret.expect("a secret in the fixture");
        assert!(!cache.contains(secret), "{cache}");
    }
    // Judged alone (the other file gone from the index), no mismatch.
    r.git(&["rm", "-q", "--cached", "deploy/aws/credentials"]);
    let (_, doc) = r.scan(&["--staged"]);
    let rules = rules_of(&doc);
    assert!(!rules.contains(&"KW010"), "{rules:?}");
}

/// With an inventory, a commit is judged with the files that hold other
/// keys of the same IAM users: a rotation left half done (KW011) shows at
/// commit time, the old key staged while the new one is committed
/// elsewhere. Without the inventory the two files share no key and the
/// commit is judged alone.
#[test]
fn staged_files_are_judged_with_the_other_keys_of_their_owners() {
    let fixture = common::root().join("fixtures/rules/KW011-divergent-credential");
    let r = Repo::new();
    let prod = "terraform/envs/prod/providers.tf";
    let read =
        |rel: &str| std::fs::read_to_string(fixture.join("fail").join(rel)).expect("fixture");
    r.write(prod, &read(prod));
    r.write(
        "inventory.json",
        &std::fs::read_to_string(fixture.join("inventory.json")).expect("inventory"),
    );
    r.commit("init");
    r.write(".env.staging", &read(".env.staging"));
    r.git(&["add", ".env.staging"]);
    let now = ["--now", common::FIXTURE_NOW];
    for run in ["first", "cached"] {
        let (_, doc) = r.scan(&["--staged", "--inventory", "inventory.json", now[0], now[1]]);
        let findings = doc["findings"].as_array().expect("findings");
        assert!(
            findings.iter().all(|f| f["path"] == ".env.staging"),
            "{run}: only the commit's file is reported: {findings:#?}"
        );
        let kw011 = findings
            .iter()
            .find(|f| f["rule"] == "KW011")
            .unwrap_or_else(|| panic!("{run}: KW011 in {findings:#?}"));
        let related = kw011["related"].to_string();
        assert!(related.contains(prod), "{run}: {related}");
        assert_eq!(doc["summary"]["files_scanned"], 1, "{run}");
    }
    let (_, doc) = r.scan(&["--staged", now[0], now[1]]);
    let rules = rules_of(&doc);
    assert!(!rules.contains(&"KW011"), "{rules:?}");
}

/// The cache follows HEAD: after a commit only what the commit changed is
/// read, a file that left the tree leaves the cache, and a stale or
/// hand-edited cache is rebuilt rather than believed.
#[test]
fn the_commit_time_cache_follows_head() {
    let fixture = common::root().join("fixtures/rules/KW010-key-pair-mismatch/fail");
    let r = Repo::new();
    let creds = std::fs::read_to_string(fixture.join("deploy/aws/credentials")).expect("fixture");
    let env_text = std::fs::read_to_string(fixture.join(".env.staging")).expect("fixture");
    r.write("README.md", "hello\n");
    r.commit("init");
    let cache_file = r.path().join(".git/keyward/key-ids");
    // A commit that moves HEAD: the credentials file joins the cache.
    r.write("deploy/aws/credentials", &creds);
    r.commit("credentials");
    r.write(".env.staging", &env_text);
    r.git(&["add", ".env.staging"]);
    let (_, doc) = r.scan(&["--staged"]);
    assert!(rules_of(&doc).contains(&"KW010"), "{doc:#}");
    let cache = std::fs::read_to_string(&cache_file).expect("the cache");
    let tree = r.git(&["rev-parse", "HEAD^{tree}"]);
    assert!(cache.contains(&format!("tree {tree}")), "{cache}");
    assert!(cache.contains("deploy/aws/credentials\t"), "{cache}");
    // The file is deleted in a commit: gone from the cache, no KW010.
    r.git(&["rm", "-q", "--cached", ".env.staging"]);
    std::fs::remove_file(r.path().join(".env.staging")).expect("rm");
    r.git(&["rm", "-q", "deploy/aws/credentials"]);
    r.commit("no credentials");
    r.write(".env.staging", &env_text);
    r.git(&["add", ".env.staging"]);
    let (_, doc) = r.scan(&["--staged"]);
    assert!(!rules_of(&doc).contains(&"KW010"), "{doc:#}");
    let cache = std::fs::read_to_string(&cache_file).expect("the cache");
    assert!(!cache.contains("deploy/aws/credentials"), "{cache}");
    // A cache edited to claim the file is back is not believed: its tree
    // is not HEAD's, the diff from it fails, and it is rebuilt.
    let forged = format!(
        "keyward key-ids 2\ntree {}\ndeploy/aws/credentials\t{}\tAKIARZPUZDIKI3GNM364\n",
        "0".repeat(40),
        "1".repeat(40)
    );
    std::fs::write(&cache_file, forged).expect("write");
    let (_, doc) = r.scan(&["--staged"]);
    assert!(!rules_of(&doc).contains(&"KW010"), "{doc:#}");
    let cache = std::fs::read_to_string(&cache_file).expect("the cache");
    assert!(!cache.contains("deploy/aws/credentials"), "{cache}");
}

/// The staged blobs and the base versions are read in one `cat-file`; a
/// base version that is missing is compared as absent (the file is judged
/// whole) and is no warning, a staged blob that is missing is one.
#[test]
fn a_missing_base_is_judged_whole_and_a_missing_staged_blob_is_said() {
    let r = Repo::new();
    r.write("app.env", "APP=web\n");
    r.commit("init");
    let base = r.git(&["rev-parse", "HEAD:app.env"]);
    r.write("app.env", &env("AKIARZPUZDIKI3GNM364"));
    r.git(&["add", "app.env"]);
    let staged = r.git(&["rev-parse", ":app.env"]);
    let object = |id: &str| r.path().join(".git/objects").join(&id[..2]).join(&id[2..]);
    std::fs::remove_file(object(&base)).expect("the base is a loose object");
    let (_, doc) = r.scan(&["--staged"]);
    assert_eq!(found(&doc).len(), 1, "{doc:#}");
    let errors = doc["errors"].to_string();
    assert!(!errors.contains("is missing"), "{errors}");
    std::fs::remove_file(object(&staged)).expect("the staged blob is a loose object");
    let (_, doc) = r.scan(&["--staged"]);
    assert!(found(&doc).is_empty(), "{doc:#}");
    let errors = doc["errors"].to_string();
    assert!(
        errors.contains(&format!("not scanned: object {staged} is missing")),
        "{errors}"
    );
}

/// `--history` reads packed blobs itself and the rest through git: a
/// history of deltified versions gives the same report packed as loose,
/// with a blob over `--max-file-size` streamed and a loose commit on top.
#[test]
fn history_reads_packed_and_loose_objects_alike() {
    let r = Repo::new();
    let keys = [K1, K2, K3, K4];
    for v in 0..24 {
        let mut tf = String::new();
        for b in 0..60 {
            tf.push_str(&format!(
                "resource \"aws_s3_bucket\" \"b{b}\" {{\n  bucket = \"b{b}-{}\"\n}}\n",
                if b == v { v } else { 0 }
            ));
        }
        if v % 6 == 0 {
            tf.push_str(&format!(
                "provider \"aws\" {{\n  access_key = \"{}\"\n}}\n",
                keys[v / 6]
            ));
        }
        r.write("infra/main.tf", &tf);
        r.write(
            "app/values.yaml",
            &format!("replicas: {v}\n{}", "image: web\n".repeat(80)),
        );
        r.commit(&format!("v{v}"));
    }
    // Over the limit below: streamed for keys, not parsed.
    r.write(
        "big/dump.env",
        &format!("{}\n{}", "#".repeat(6000), env(K2)),
    );
    r.commit("big");
    let args = ["--history", "--max-file-size", "5000"];
    let report = |doc: &serde_json::Value| {
        serde_json::json!({
            "findings": doc["findings"],
            "summary": doc["summary"],
            "errors": doc["errors"],
        })
    };
    let (_, loose) = r.scan(&args);
    let before = report(&loose);
    assert_eq!(found(&loose).len(), 5, "{loose}");

    r.git(&[
        "repack",
        "-a",
        "-d",
        "-f",
        "-q",
        "--depth=50",
        "--window=50",
    ]);
    r.git(&["prune-packed"]);
    let count = r.git(&["count-objects", "-v"]);
    assert!(count.contains("count: 0"), "all packed: {count}");
    let (_, packed) = r.scan(&args);
    assert_eq!(report(&packed), before);

    // One more commit, loose, beside the pack.
    r.write("late.env", &env(K3).replace("web", "late"));
    r.commit("late");
    let (_, mixed) = r.scan(&args);
    let late: Vec<_> = found(&mixed)
        .into_iter()
        .filter(|f| f.0 == "late.env")
        .collect();
    assert_eq!(late, vec![("late.env".to_string(), K3.to_string(), 2)]);
    assert_eq!(found(&mixed).len(), 6, "{mixed}");
}
