//! Each rule's fixtures: `fail/` triggers it (snapshot of the human output),
//! `pass/` does not.

mod common;

use common::*;

fn rule_dirs() -> Vec<(String, std::path::PathBuf)> {
    let mut dirs: Vec<_> = std::fs::read_dir(root().join("fixtures/rules"))
        .expect("fixtures/rules")
        .map(|e| e.expect("entry"))
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    dirs.sort();
    dirs
}

/// Rules that only a live endpoint can trigger carry a `LIVE` note.
fn live_only(rule_dir: &std::path::Path) -> bool {
    rule_dir.join("LIVE").exists()
}

/// IAM rules' fixtures carry an `inventory.json` beside `fail/` and `pass/`;
/// ages are measured from its `generated_at`, so the snapshots do not age.
fn iam_args(rule_dir: &std::path::Path) -> Vec<String> {
    let inventory = rule_dir.join("inventory.json");
    if !inventory.exists() {
        return Vec::new();
    }
    vec![
        "--inventory".into(),
        inventory.display().to_string(),
        "--now".into(),
        "2026-11-28T12:00:00Z".into(),
    ]
}

fn rules_fired(dir: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "scan",
        ".",
        "--format",
        "json",
        "--allowed-account",
        "123456789012",
    ]
    .map(String::from)
    .to_vec();
    args.extend(iam_args(dir.parent().expect("rule dir")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    finding_rules(&keyward(dir, &args))
}

#[test]
fn fail_fixtures_fire_and_pass_fixtures_do_not() {
    let dirs = rule_dirs();
    assert!(dirs.len() >= 5);
    for (name, dir) in dirs {
        let id = &name[..5];
        let fail = rules_fired(&dir.join("fail"));
        if live_only(&dir) {
            // Verified against moto in tests/iam_moto.rs; offline nothing
            // is verified, so nothing may fire.
            assert!(
                !fail.iter().any(|r| r == id),
                "{name}/fail offline: {fail:?}"
            );
            continue;
        }
        assert!(fail.iter().any(|r| r == id), "{name}/fail: {fail:?}");
        let pass = rules_fired(&dir.join("pass"));
        assert!(!pass.iter().any(|r| r == id), "{name}/pass: {pass:?}");
    }
}

#[test]
fn human_output_snapshots() {
    for (name, dir) in rule_dirs() {
        if live_only(&dir) {
            continue;
        }
        let mut args: Vec<String> = [
            "scan",
            ".",
            "--allowed-account",
            "123456789012",
            "--fail-on",
            "never",
        ]
        .map(String::from)
        .to_vec();
        args.extend(iam_args(&dir));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = keyward(&dir.join("fail"), &args);
        insta::assert_snapshot!(name, stdout(&out));
    }
}
