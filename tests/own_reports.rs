//! keyward's own reports left in the tree (the Action's `keyward.sarif`, a
//! `scan --format json -o` file, the audit report) are recognised by their
//! content and skipped with a count, so a second scan finds what the first
//! found; a change that commits one is KW015.

mod common;

use std::path::Path;

use common::*;

fn count(dir: &Path) -> (usize, u64) {
    let out = keyward(
        dir,
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--no-ignore",
        ],
    );
    let doc = json(&out);
    (
        doc["findings"].as_array().expect("findings").len(),
        doc["summary"]["own_reports"].as_u64().expect("own_reports"),
    )
}

#[test]
fn a_second_scan_skips_the_first_scans_reports() {
    let t = tempfile::tempdir().expect("tempdir");
    copy_tree(&root().join("fixtures/demo"), t.path());
    let (before, none) = count(t.path());
    assert!(before > 0);
    assert_eq!(none, 0);
    let dir = t.path();
    for (format, file) in [("sarif", "keyward.sarif"), ("json", "out/keyward.json")] {
        std::fs::create_dir_all(dir.join("out")).expect("mkdir");
        let out = keyward(
            dir,
            &[
                "scan",
                ".",
                "--format",
                format,
                "-o",
                file,
                "--fail-on",
                "never",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    for (format, file) in [("html", "out/audit.html"), ("markdown", "out/audit.md")] {
        let out = keyward(
            dir,
            &["report", "out/keyward.json", "--format", format, "-o", file],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    // A report of another tool that names keys is still scanned.
    let sarif = std::fs::read_to_string(dir.join("keyward.sarif")).expect("sarif");
    std::fs::write(
        dir.join("other.sarif"),
        sarif.replace("\"keyward\"", "\"othertool\""),
    )
    .expect("write");
    let (after, skipped) = count(dir);
    assert_eq!(skipped, 4, "SARIF, JSON, HTML and Markdown");
    assert!(
        after > before,
        "the other tool's SARIF is scanned: {after} vs {before}"
    );
    std::fs::remove_file(dir.join("other.sarif")).expect("rm");
    assert_eq!(count(dir), (before, 4));
    let human = keyward(dir, &["scan", ".", "--fail-on", "never", "--no-ignore"]);
    assert!(
        stdout(&human).contains("4 keyward reports skipped"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn a_change_that_commits_a_report_is_kw015() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    let git = |args: &[&str]| git_in(dir, args);
    git(&["init", "-q", "-b", "main"]);
    write(dir, "README.md", "demo\n");
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "base"]);
    git(&["checkout", "-q", "-b", "pr"]);
    copy_tree(&root().join("fixtures/demo"), &dir.join("demo"));
    let out = keyward(
        dir,
        &[
            "scan",
            "demo",
            "--format",
            "sarif",
            "-o",
            "results.sarif",
            "--fail-on",
            "never",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_dir_all(dir.join("demo")).expect("rm");
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "a report that hides keys"]);
    let out = keyward(dir, &["scan", "--since", "main", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("findings");
    // One finding: the report. The `keyward:ignore` examples of the rule
    // docs it embeds are quoted text, not suppressions this change adds.
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = findings[0].clone();
    assert_eq!(f["rule"], "KW015");
    assert_eq!(f["path"], "results.sarif");
    assert_eq!(f["line"], 1);
    assert!(
        f["message"]
            .as_str()
            .unwrap_or("")
            .contains("its own report"),
        "{f}"
    );
}
