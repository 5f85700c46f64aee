//! One engine behind every command (issue 25): the policy is loaded one
//! way, errors surface instead of vanishing, and the library's contract
//! types mean the same in every output.

mod common;

use common::*;

const KEY: &str = "AKIARZPUZDIKKJZDEGXD";

/// A configuration keyward cannot use is an error with its place, never an
/// empty report: `max-key-age-days = 0` used to give a 0-byte HTML file.
#[test]
fn an_unusable_limit_is_an_error_not_an_empty_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "app.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    for (config, says) in [
        ("[policy]\nmax-key-age-days = 0\n", "from 1 to 36500"),
        ("[policy]\nmax-unused-days = -3\n", "from 1 to 36500"),
        ("[rules]\nmax-key-age-days = 0\n", "belongs under [policy]"),
    ] {
        write(d, "keyward.toml", config);
        for format in ["html", "markdown", "json"] {
            let out = keyward(d, &["scan", ".", "--format", format, "-o", "report.out"]);
            assert_eq!(out.status.code(), Some(2), "{config} {format}");
            let err = stderr(&out);
            assert!(err.contains(says), "{config}: {err}");
            assert!(!err.contains("untagged"), "{err}");
            assert!(
                !d.join("report.out").exists(),
                "{config} {format}: a report was written"
            );
        }
    }
}

/// A baseline the configuration names but nobody made yet means one thing
/// to every command: nothing is accepted, and a warning says so.
#[test]
fn a_missing_configured_baseline_means_the_same_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "app.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(d, "keyward.toml", "[scan]\nbaseline = \"base.json\"\n");
    let scan = keyward(d, &["scan", ".", "--format", "json"]);
    assert_eq!(scan.status.code(), Some(1));
    let doc = json(&scan);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
    assert!(
        doc["errors"].to_string().contains("does not exist"),
        "{}",
        doc["errors"]
    );
    let fix = keyward(d, &["fix", "--diff"]);
    assert!(matches!(fix.status.code(), Some(0 | 1)), "{}", stderr(&fix));
    let plan = keyward(d, &["plan"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let base = keyward(d, &["baseline"]);
    assert_eq!(base.status.code(), Some(0), "{}", stderr(&base));
    assert!(d.join("base.json").exists());
    let scan = keyward(d, &["scan", ".", "--format", "json"]);
    assert_eq!(scan.status.code(), Some(0), "{}", stdout(&scan));
}

/// IAM is a seam: an embedder (or a test) hands the scan its own client,
/// here the in-memory account, and the rules judge its answers. One clock:
/// `--now` (`IamOptions::now`) dates the ages and the report.
#[test]
fn an_iam_client_can_be_injected() {
    use keyward::iam::api::ApiHandle;
    use keyward::iam::fake::FakeIam;
    use keyward::iam::{IamOptions, KeyStatus, SourceChoice};
    let now: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().expect("ts");
    let iam = std::sync::Arc::new(FakeIam::new("123456789012", now));
    iam.key(
        "deploy",
        KEY,
        "Bel31iEl2hpChYgCfrL1spNxnyVmihA+2O76UMFx",
        KeyStatus::Inactive,
        "2025-01-01T00:00:00Z".parse().expect("ts"),
        None,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "app.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    let policy = keyward::PolicySet::defaults().expect("rules");
    let out = keyward::Scan::new(&policy)
        .cwd(dir.path())
        .iam(IamOptions {
            source: SourceChoice::Api(ApiHandle(iam.clone())),
            now: Some(now),
            ..IamOptions::default()
        })
        .run()
        .expect("scan");
    let rules: Vec<&str> = out.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"KW006"), "{rules:?}");
    let f = out
        .findings
        .iter()
        .find(|f| f.rule == "KW006")
        .expect("KW006");
    assert_eq!(f.iam.as_ref().map(|i| i.user.as_str()), Some("deploy"));
    assert_eq!(out.meta.date, now.to_string());
    assert!(
        iam.calls_made()
            .contains(&format!("iam:GetAccessKeyLastUsed {KEY}"))
    );
}
