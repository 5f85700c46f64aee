//! `keyward scan --repos FILE`: local bare repositories cloned over
//! `file://`, one that cannot be cloned, a local directory, standard input.

mod common;

use std::path::Path;

use common::*;

const KEY: &str = "AKIA2UC3C4FQ4VOKYSRY";
const KEY2: &str = "AKIA2UC3C4FQTBRPOIGF";

/// A bare repository at `dir/name.git` whose one commit holds `files`.
fn bare(dir: &Path, name: &str, files: &[(&str, String)]) -> String {
    let work = dir.join(format!("{name}-work"));
    std::fs::create_dir_all(&work).expect("mkdir");
    git_in(&work, &["init", "-q", "-b", "main"]);
    git_in(&work, &["config", "commit.gpgsign", "false"]);
    for (path, text) in files {
        write(&work, path, text);
    }
    git_in(&work, &["add", "-A"]);
    git_in(&work, &["commit", "-q", "-m", "init"]);
    let bare = dir.join(format!("{name}.git"));
    git_in(
        dir,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().expect("utf-8"),
            bare.to_str().expect("utf-8"),
        ],
    );
    format!("file://{}", bare.display())
}

#[test]
fn many_repositories_make_one_merged_report() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    let app = bare(
        d,
        "app",
        &[("prod.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"))],
    );
    let infra = bare(
        d,
        "infra",
        &[
            (
                "main.tf",
                format!("provider \"aws\" {{\n  access_key = \"{KEY2}\"\n}}\n"),
            ),
            ("README.md", "infra\n".to_string()),
        ],
    );
    let clean = bare(d, "clean", &[("README.md", "nothing\n".to_string())]);
    let local = d.join("local");
    write(&local, "ci.env", format!("AWS_ACCESS_KEY_ID={KEY2}\n"));
    let missing = format!("file://{}/missing.git", d.display());
    write(
        d,
        "repos.txt",
        format!(
            "# the organisation\n{app}\n{infra}\n\n{clean}\n{}\n",
            local.display()
        ),
    );
    let cache = d.join("cache");
    let out = keyward(
        d,
        &[
            "scan",
            "--repos",
            "repos.txt",
            "--repos-cache",
            cache.to_str().expect("utf-8"),
            "--format",
            "json",
            "--no-iam",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let by_repo: Vec<(String, String, String)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["repository"].as_str().unwrap_or("").to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(
        by_repo.contains(&(app.clone(), "prod.env".into(), "KW001".into())),
        "{by_repo:?}"
    );
    assert!(
        by_repo.contains(&(infra.clone(), "main.tf".into(), "KW001".into())),
        "{by_repo:?}"
    );
    let local_name = local.display().to_string();
    assert!(
        by_repo.contains(&(local_name, "ci.env".into(), "KW001".into())),
        "{by_repo:?}"
    );
    assert!(!by_repo.iter().any(|(r, _, _)| r == &clean), "{by_repo:?}");
    // Clones are kept for the next run.
    assert_eq!(std::fs::read_dir(&cache).expect("cache").count(), 3);

    // A repository that cannot be cloned is said, and the others still run.
    write(d, "repos.txt", format!("{app}\n{missing}\n"));
    let out = keyward(d, &["scan", "--repos", "repos.txt", "--no-iam"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("{app}: 1 finding")), "{text}");
    assert!(
        text.contains(&format!("{missing}: not scanned: git clone failed")),
        "{text}"
    );
    assert!(
        text.contains("in 1 of 2 repositories scanned; 1 could not be scanned"),
        "{text}"
    );
    assert!(stderr(&out).contains("missing.git"), "{}", stderr(&out));

    // The list on standard input.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["scan", "--repos", "-", "--no-iam", "--format", "concise"])
        .current_dir(d)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("keyward");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{clean}").expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains(&format!("{clean}: 0 findings")));
}

#[test]
fn credentials_in_a_listed_url_are_never_shown() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    // Port 9 on loopback: nothing listens, the clone fails at once.
    write(
        d,
        "repos.txt",
        "https://bot:s3cr3t-t0ken@127.0.0.1:9/acme/app.git\n",
    );
    let out = keyward(d, &["scan", "--repos", "repos.txt", "--no-iam"]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("s3cr3t-t0ken"), "{all}");
    assert!(all.contains("https://127.0.0.1:9/acme/app.git"), "{all}");
}
