//! `--format github`: workflow commands on stdout and the job summary appended
//! to `$GITHUB_STEP_SUMMARY`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// Runs keyward with `GITHUB_STEP_SUMMARY` set to `summary`, or removed, so
/// a test run inside Actions does not write to the real job summary.
fn run(dir: &Path, args: &[&str], summary: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyward"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID");
    match summary {
        Some(p) => cmd.env("GITHUB_STEP_SUMMARY", p),
        None => cmd.env_remove("GITHUB_STEP_SUMMARY"),
    };
    cmd.output().expect("keyward runs")
}

fn kw002() -> std::path::PathBuf {
    root().join("fixtures/rules/KW002-hardcoded-secret-key/fail")
}

#[test]
fn workflow_commands_snapshot() {
    let out = run(&kw002(), &["scan", ".", "--format", "github"], None);
    assert_eq!(out.status.code(), Some(1), "findings exit 1");
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=credentials,line=3,col=25,")),
        "{text}"
    );
    insta::assert_snapshot!("KW002-hardcoded-secret-key", text);
}

#[test]
fn no_findings_exit_zero_and_print_only_the_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "resource \"x\" \"y\" {}\n").expect("write");
    let out = run(dir.path(), &["scan", ".", "--format", "github"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("keyward: 0 findings"), "{text}");
}

#[test]
fn step_summary_is_appended_not_truncated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("step_summary.md");
    let before = "# Earlier step\n\nkept as is\n";
    std::fs::write(&summary, before).expect("write");
    let out = run(
        &kw002(),
        &["scan", ".", "--format", "github"],
        Some(&summary),
    );
    assert_eq!(out.status.code(), Some(1), "exit code unchanged");
    let after = std::fs::read_to_string(&summary).expect("read");
    let rest = after
        .strip_prefix(before)
        .unwrap_or_else(|| panic!("old content lost:\n{after}"));
    assert!(rest.starts_with("## keyward\n"), "{rest}");
    assert!(rest.contains("| critical | 1 |"), "{rest}");
    assert!(
        rest.contains("| Severity | Rule | Location | Message |"),
        "{rest}"
    );
    assert!(
        rest.contains("| critical | KW002 hardcoded-secret-key | `credentials`:3 |"),
        "{rest}"
    );
    // stdout still carries the workflow commands.
    assert!(stdout(&out).starts_with("::"));

    // A second step appends again.
    run(
        &kw002(),
        &["scan", ".", "--format", "github"],
        Some(&summary),
    );
    let twice = std::fs::read_to_string(&summary).expect("read");
    assert_eq!(twice.matches("## keyward").count(), 2);
    assert!(twice.starts_with(before));
}

#[test]
fn other_formats_leave_the_step_summary_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("step_summary.md");
    std::fs::write(&summary, "x\n").expect("write");
    let out = run(&kw002(), &["scan", ".", "--format", "json"], Some(&summary));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&summary).expect("read"), "x\n");
}

#[test]
fn unwritable_step_summary_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory cannot be opened for appending, even by root.
    let out = run(
        &kw002(),
        &["scan", ".", "--format", "github"],
        Some(dir.path()),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("GITHUB_STEP_SUMMARY"), "{err}");
}
