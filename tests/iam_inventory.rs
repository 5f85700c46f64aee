//! Offline IAM: `scan --inventory` through the CLI and the library.

mod common;

use std::path::PathBuf;

use common::*;
use keyward::iam::{IamOptions, SourceChoice};
use keyward::rules::RuleSet;
use keyward::{Progress, ScanOptions};

fn divergent() -> PathBuf {
    root().join("fixtures/rules/KW011-divergent-credential")
}

/// The library's options for `scan --inventory` of the divergent fixture.
fn divergent_fail_with_inventory() -> ScanOptions {
    let dir = divergent();
    ScanOptions {
        paths: vec![dir.join("fail")],
        cwd: dir.join("fail"),
        iam: IamOptions {
            source: SourceChoice::Inventory(dir.join("inventory.json")),
            now: Some(FIXTURE_NOW.parse().expect("time")),
            ..IamOptions::default()
        },
        ..ScanOptions::default()
    }
}

#[test]
fn divergent_credential_points_at_the_newest_key() {
    let opts = divergent_fail_with_inventory();
    let rules = RuleSet::builtin().expect("rules");
    let out = keyward::scan(&opts, &rules, &Progress::default()).expect("scan");
    let kw011: Vec<_> = out.findings.iter().filter(|f| f.rule == "KW011").collect();
    assert_eq!(kw011.len(), 1, "{:#?}", out.findings);
    let f = kw011[0];
    assert_eq!(out.files[f.file].path, ".env.staging");
    assert_eq!(f.key_id.as_deref(), Some("AKIARZPUZDIKALPL556L"));
    assert_eq!(f.related.len(), 1);
    let r = &f.related[0];
    let file = &out.files[r.file];
    assert_eq!(file.path, "terraform/envs/prod/providers.tf");
    assert_eq!(&file.text[r.span.clone()], "AKIARZPUZDIKDII7WJLU");
    assert!(r.message.contains("AKIARZPUZDIKDII7WJLU"), "{}", r.message);
}

#[test]
fn related_file_joins_the_output_even_without_findings_of_its_own() {
    // With only KW011 enabled, the newest key's file has no finding, yet
    // the related location must still resolve to a file in the output.
    let opts = divergent_fail_with_inventory();
    let mut rules = RuleSet::builtin().expect("rules");
    rules.rules.retain(|r| r.id == "KW011");
    let out = keyward::scan(&opts, &rules, &Progress::default()).expect("scan");
    assert_eq!(out.findings.len(), 1);
    let r = &out.findings[0].related[0];
    assert_eq!(out.files[r.file].path, "terraform/envs/prod/providers.tf");
}

#[test]
fn without_an_inventory_no_iam_rule_fires() {
    let dir = divergent();
    let out = keyward(&dir.join("fail"), &["scan", ".", "--format", "json"]);
    let rules = finding_rules(&out);
    assert!(rules.iter().all(|r| r == "KW001"), "{rules:?}");
}

#[test]
fn bad_inventory_is_exit_2_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tmp");
    let inv = tmp.path().join("inv.json");
    std::fs::write(&inv, r#"{"version": 1, "generated_at": "2026-11-28T12:00:00Z", "accounts": [{"account": "123", "keys": []}]}"#).expect("write");
    let dir = divergent().join("fail");
    let inv_arg = inv.display().to_string();
    let out = keyward(&dir, &["scan", ".", "--inventory", &inv_arg]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("invalid inventory"), "{err}");
    assert!(err.contains("account `123`"), "{err}");
    let missing = tmp.path().join("missing.json").display().to_string();
    let out = keyward(&dir, &["scan", ".", "--inventory", &missing]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("cannot read inventory"), "{err}");
}

#[test]
fn keys_of_accounts_outside_the_inventory_are_not_unknown() {
    let tmp = tempfile::tempdir().expect("tmp");
    // A key of account 999988887777 against an inventory of 123456789012.
    std::fs::write(
        tmp.path().join("providers.tf"),
        "provider \"aws\" {\n  access_key = \"AKIA6RU73QDQ52ZTHJCF\"\n}\n",
    )
    .expect("write");
    let inv = root().join("fixtures/rules/KW007-unknown-key/inventory.json");
    let inv_arg = inv.display().to_string();
    let out = keyward(
        tmp.path(),
        &["scan", ".", "--format", "json", "--inventory", &inv_arg],
    );
    let rules = finding_rules(&out);
    assert_eq!(rules, ["KW001"]);
}

#[test]
fn divergent_credential_points_at_the_newest_key_in_json() {
    let out = scan_fixture_with_inventory(&divergent(), &[]);
    let doc = json(&out);
    let kw011 = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW011")
        .expect("a KW011 finding");
    let related = kw011["related"].as_array().expect("related");
    assert_eq!(related.len(), 1, "{related:?}");
    assert_eq!(related[0]["path"], "fail/terraform/envs/prod/providers.tf");
    assert_eq!(
        (related[0]["line"].as_u64(), related[0]["column"].as_u64()),
        (Some(3), Some(17))
    );
}

/// Where a key was last used (`GetAccessKeyLastUsed`'s service and region,
/// kept in the inventory) reaches the JSON and the rotation plan's data.
#[test]
fn last_use_service_and_region_reach_the_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("demo");
    copy_tree(&root().join("fixtures/demo"), &tree);
    let out = scan_at_fixture_now(&tree, "json");
    let doc = json(&out);
    let staging = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["key_id"] == "AKIARZPUZDIKGW5DNOS7" && f["rule"] == "KW001")
        .expect("the staging key");
    assert_eq!(staging["iam"]["last_used_service"], "sts");
    assert_eq!(staging["iam"]["last_used_region"], "eu-west-1");
    let never = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["key_id"] == "AKIARZPUZDIKH36TI3HQ")
        .expect("the never-used key");
    assert_eq!(never["iam"]["last_used_service"], "");
    let user = doc["iam_users"]
        .as_array()
        .expect("iam_users")
        .iter()
        .find(|u| u["user"] == "terraform-prod")
        .expect("terraform-prod");
    assert_eq!(user["keys"][0]["last_used_where"], "sts in eu-west-1");
}

/// `keyward inventory merge`: inventories of two accounts become one, an
/// account in two files comes whole from the later one, the merged file is
/// as old as its oldest part, and a scan with it knows both accounts.
#[test]
fn inventories_of_several_accounts_merge() {
    let t = tempfile::tempdir().expect("temp dir");
    let demo = std::fs::read_to_string(root().join("fixtures/demo/inventory.json")).expect("demo");
    write(t.path(), "a.json", &demo);
    let other = r#"{"version": 1, "generated_at": "2026-11-20T00:00:00Z",
 "accounts": [{"account": "210987654321", "quarantine_checked": true,
   "users": [{"user": "partner", "quarantine_policies": ["arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"]}],
   "keys": [
    {"access_key_id": "AKIATCH6YDSYYUMPMHS6", "user": "partner", "status": "Active",
     "created": "2026-10-01T00:00:00Z"}]}]}"#;
    write(t.path(), "b.json", other);
    // A newer pull of the second account: it replaces the first whole.
    let newer = other
        .replace("2026-11-20T00:00:00Z", "2026-11-25T00:00:00Z")
        .replace("AKIATCH6YDSYYUMPMHS6", "AKIATCH6YDSYWGTQ3CJZ");
    write(t.path(), "c.json", &newer);
    let out = keyward(
        t.path(),
        &[
            "inventory",
            "merge",
            "a.json",
            "b.json",
            "c.json",
            "-o",
            "all.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("keyward: wrote all.json: 2 accounts, ")
            && stdout(&out).contains("in two files, taken from the later: 210987654321"),
        "{}",
        stdout(&out)
    );
    let text = std::fs::read_to_string(t.path().join("all.json")).expect("merged");
    let merged = keyward::iam::inventory::Inventory::parse("all.json", &text).expect("valid");
    assert_eq!(merged.accounts.len(), 2);
    let ids: Vec<&str> = merged
        .keys
        .iter()
        .map(|k| k.access_key_id.as_str())
        .collect();
    assert!(ids.contains(&"AKIATCH6YDSYWGTQ3CJZ"), "{ids:?}");
    assert!(
        !ids.contains(&"AKIATCH6YDSYYUMPMHS6"),
        "the older pull is replaced"
    );
    assert!(ids.contains(&"AKIARZPUZDIKLGATVSKW"), "{ids:?}");
    // As old as its oldest part in use: the replaced pull does not count.
    assert_eq!(merged.generated_at.to_string(), "2026-11-25T00:00:00Z");
    assert_eq!(merged.quarantine.len(), 1);

    // A scan with the merged inventory judges both accounts' keys.
    write(
        t.path(),
        "repo/.env",
        "A=AKIARZPUZDIKAMOZVAIB\nB=AKIATCH6YDSYWGTQ3CJZ\n",
    );
    let out = keyward(
        &t.path().join("repo"),
        &[
            "scan",
            ".",
            "--inventory",
            "../all.json",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--now",
            FIXTURE_NOW,
        ],
    );
    let doc = json(&out);
    let rules: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap_or(""),
                f["key_id"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        rules.contains(&"KW006 AKIARZPUZDIKAMOZVAIB".to_string()),
        "{rules:?}"
    );
    assert!(
        rules.contains(&"KW013 AKIATCH6YDSYWGTQ3CJZ".to_string()),
        "{rules:?}"
    );
}

/// A key IAM has no use of: `null` in the JSON (never a `-1` sentinel),
/// "never" in the audit; an older document's `-1` still reads as never.
#[test]
fn a_never_used_key_is_null_in_json_and_never_in_the_report() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "inventory.json",
        r#"{"version": 1, "generated_at": "2026-11-27T06:00:00Z", "accounts": [{"account": "123456789012", "keys": [
  {"access_key_id": "AKIARZPUZDIKKJZDEGXD", "user": "idle-bot", "status": "Active", "created": "2026-01-01T00:00:00Z"},
  {"access_key_id": "AKIARZPUZDIKLGATVSKW", "user": "busy-bot", "status": "Active", "created": "2026-01-01T00:00:00Z",
   "last_used": "2026-11-20T00:00:00Z", "last_used_service": "s3", "last_used_region": "eu-west-1"}]}]}"#,
    );
    write(
        d,
        "app.env",
        "IDLE_AWS_ACCESS_KEY_ID=AKIARZPUZDIKKJZDEGXD\nBUSY_AWS_ACCESS_KEY_ID=AKIARZPUZDIKLGATVSKW\n",
    );
    let out = keyward(
        d,
        &[
            "scan",
            "app.env",
            "--inventory",
            "inventory.json",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--now",
            "2026-11-27T06:00:00Z",
        ],
    );
    let doc = json(&out);
    let days = |key: &str| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["key_id"] == key && !f["iam"].is_null())
            .map(|f| f["iam"]["last_used_days"].clone())
            .expect("a finding with IAM facts")
    };
    assert_eq!(days("AKIARZPUZDIKKJZDEGXD"), serde_json::Value::Null);
    assert_eq!(days("AKIARZPUZDIKLGATVSKW"), serde_json::json!(7));

    // The report of that document, and of one an older keyward wrote.
    let text = stdout(&out);
    let older = text.replace("\"last_used_days\": null", "\"last_used_days\": -1");
    assert_ne!(older, text, "the document has a null to replace");
    for (name, doc) in [("new.json", &text), ("old.json", &older)] {
        write(d, name, doc);
        let report = keyward(d, &["report", name, "--format", "markdown"]);
        assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
        let md = stdout(&report);
        let row = md
            .lines()
            .find(|l| l.contains("AKIARZPUZDIKKJZDEGXD") && l.contains("idle-bot"))
            .unwrap_or_else(|| panic!("no row for the idle key in\n{md}"));
        assert!(row.contains("never"), "{row}");
    }
}
