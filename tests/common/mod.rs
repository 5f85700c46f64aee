#![allow(dead_code)]

pub mod markup;
pub mod moto;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the keyward binary in `dir` with colour off.
pub fn keyward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .expect("keyward runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// One row of `fixtures/expected/*.tsv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub kind: String,
    pub value: String,
}

pub fn expected(tree: &str) -> Vec<Expected> {
    let text = std::fs::read_to_string(root().join(format!("fixtures/expected/{tree}.tsv")))
        .expect("expected file");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "bad row {l}");
            Expected {
                path: f[0].into(),
                line: f[1].parse().expect("line"),
                column: f[2].parse().expect("column"),
                kind: f[3].into(),
                value: f[4].into(),
            }
        })
        .collect()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `rel` below `dir`, making its folders; returns its path.
pub fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, bytes).expect("write");
    p
}

/// Runs `git` with `args` where the caller pointed it (directory,
/// environment) and returns its trimmed stdout. A failing git command fails
/// the test with git's own message: the test's setup is wrong, not keyward.
pub fn run_git(git: &mut Command, args: &[&str]) -> String {
    let out = git.args(args).output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A validator for the JSON schema at `rel` (under the repository root),
/// draft-07 with format checks forced on (`uri`, `uri-reference` … are
/// really tested, whatever draft the file declares).
pub fn schema_validator(rel: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join(rel)).expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

/// The rule of every finding in a JSON report, in report order.
pub fn finding_rules(o: &Output) -> Vec<String> {
    json(o)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule").to_string())
        .collect()
}

/// A finding of the JSON report as `(rule, path, line)`.
pub fn rule_path_line(f: &serde_json::Value) -> (String, String, u64) {
    (
        f["rule"].as_str().expect("rule").to_string(),
        f["path"].as_str().expect("path").to_string(),
        f["line"].as_u64().expect("line"),
    )
}

/// The moment the IAM rule fixtures' inventories are judged at.
pub const FIXTURE_NOW: &str = "2026-11-28T12:00:00Z";

/// `keyward scan . --format FORMAT --fail-on never --now FIXTURE_NOW` in
/// `dir`: a whole-tree report whose dates do not depend on the day.
#[allow(dead_code)]
pub fn scan_at_fixture_now(dir: &Path, format: &str) -> Output {
    keyward(
        dir,
        &[
            "scan",
            ".",
            "--format",
            format,
            "--fail-on",
            "never",
            "--now",
            FIXTURE_NOW,
        ],
    )
}

/// Scans an IAM rule fixture's `fail` tree with its `inventory.json` at
/// [`FIXTURE_NOW`], to JSON, with `extra` arguments after.
pub fn scan_fixture_with_inventory(fixture: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "scan",
        "fail",
        "--inventory",
        "inventory.json",
        "--now",
        FIXTURE_NOW,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    keyward(fixture, &args)
}

/// Copies a directory tree (a fixture into a temp dir), creating `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// `git` in `dir`, away from the machine's configuration, with a fixed
/// identity; returns its trimmed stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    run_git(
        Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com"),
        args,
    )
}

/// Whether a tool the integration tests drive (moto's server, pre-commit,
/// actionlint: `tests/requirements.txt`) runs here. A missing tool fails the
/// test with how to install it, unless `KEYWARD_QUICK=1` is set: the inner
/// loop's `KEYWARD_QUICK=1 cargo test` skips those tests and says so. CI
/// (`scripts/test.sh`) installs the tools and never sets it.
#[allow(dead_code)]
pub fn tool_runs(program: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    if std::env::var_os("KEYWARD_QUICK").is_some_and(|v| v == "1") {
        eprintln!("skipped: `{program}` does not run here (KEYWARD_QUICK=1)");
        return false;
    }
    panic!(
        "`{program} {}` does not run here: install the test tools with \
         `python3 -m pip install -r tests/requirements.txt` (scripts/test.sh does), \
         or set KEYWARD_QUICK=1 to skip the tests that need them",
        args.join(" ")
    );
}
