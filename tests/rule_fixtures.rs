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

/// Rules about what a change does (KW015) carry a `CHANGE` note: each of
/// `fail/` and `pass/` holds `base/` and `change/`, committed in turn to a
/// temp repository that is scanned with `--since main`.
fn change_rule(rule_dir: &std::path::Path) -> bool {
    rule_dir.join("CHANGE").exists()
}

/// A repository with `case/base` on `main` and `case/change` on `pr`.
fn change_repo(case: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let git = |args: &[&str]| git_in(dir.path(), args);
    git(&["init", "-q", "-b", "main"]);
    copy_tree(&case.join("base"), dir.path());
    git(&["add", "-A"]);
    git(&["commit", "-q", "--allow-empty", "-m", "base"]);
    git(&["checkout", "-q", "-b", "pr"]);
    copy_tree(&case.join("change"), dir.path());
    git(&["add", "-A"]);
    git(&["commit", "-q", "--allow-empty", "-m", "change"]);
    dir
}

/// Runs `args` on a fixture case: in place, or as a change.
fn scan_case(
    rule_dir: &std::path::Path,
    case: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    if change_rule(rule_dir) {
        let repo = change_repo(case);
        let mut all = args.to_vec();
        all.extend_from_slice(&["--since", "main"]);
        keyward(repo.path(), &all)
    } else {
        keyward(case, args)
    }
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
    finding_rules(&scan_case(dir.parent().expect("rule dir"), dir, &args))
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

/// Each rule's `fail/` case, scanned in-process with only that rule
/// enabled and rendered as the human format: rewording one rule changes one
/// snapshot. A rule about a change (KW015) keeps the others on, because
/// what it reports is the findings a suppression silences.
#[test]
fn human_output_snapshots() {
    for (name, dir) in rule_dirs() {
        if live_only(&dir) {
            continue;
        }
        let id = &name[..5];
        let repo = change_rule(&dir).then(|| change_repo(&dir.join("fail")));
        let case = match &repo {
            Some(r) => r.path().to_path_buf(),
            None => dir.join("fail"),
        };
        let config = match keyward::config::discover(&case) {
            Some(p) => keyward::config::load(&p).expect("config"),
            None => keyward::config::Config::default(),
        };
        let mut rules = keyward::rules::RuleSet::configured(&config).expect("rules");
        // An unused ignore names a rule that must run for the ignore to be
        // judged unused; its fixture holds no key, so no other rule fires.
        let about_ignores = rules
            .get(id)
            .is_some_and(|r| r.raised_by == Some(keyward::rules::load::RaisedBy::Suppression));
        if repo.is_none() && !about_ignores {
            for r in &mut rules.rules {
                r.enabled = r.id == id;
            }
        }
        let policy = keyward::PolicySet::from_work_tree(
            config,
            rules,
            None,
            keyward::Named::default(),
            &case,
        );
        let mut iam = keyward::iam::IamOptions::default();
        let inventory = dir.join("inventory.json");
        if inventory.exists() {
            iam.source = keyward::iam::SourceChoice::Inventory(inventory);
            iam.now = Some("2026-11-28T12:00:00Z".parse().expect("timestamp"));
        }
        let mut scan = keyward::Scan::new(&policy)
            .cwd(&case)
            .allowed_accounts(vec!["123456789012".into()])
            .iam(iam)
            .fail_on(keyward::FailOn::Never);
        if repo.is_some() {
            scan = scan.since("main", false);
        }
        let out = scan.run().expect("scan");
        let fired: Vec<&str> = out.active().map(|f| f.rule.as_str()).collect();
        assert!(fired.contains(&id), "{name}: {fired:?}");
        if repo.is_none() {
            assert!(fired.iter().all(|r| *r == id), "{name}: {fired:?}");
        }
        let text = keyward::report::human::render(
            &out,
            keyward::report::human::Style {
                color: false,
                width: 100,
            },
        );
        insta::assert_snapshot!(name, text);
    }
}
