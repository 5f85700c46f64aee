//! IAM rules on the cases a team meets in its first week: a brand-new key
//! that has not been used yet, a key last used a while ago, and a rotation
//! whose two keys were created in the same second. Judged offline from an
//! inventory at a pinned "now".

mod common;

use common::*;

// Synthetic (scripts/genkey.py --seed 901..904), account 123456789012.
const NEW: &str = "AKIARZPUZDIKNSHJY7RU";
const OLD_NEVER: &str = "AKIARZPUZDIKIZ6EJMJT";
const OLD_USED: &str = "AKIARZPUZDIKBFS4LMMZ";
const TWIN: &str = "AKIARZPUZDIKJZD27C7F";
const NOW: &str = "2026-11-28T12:00:00Z";

fn key(id: &str, user: &str, created: &str, last_used: Option<&str>) -> serde_json::Value {
    let mut k = serde_json::json!({
        "access_key_id": id, "user": user, "status": "Active", "created": created,
    });
    if let Some(t) = last_used {
        k["last_used"] = t.into();
    }
    k
}

fn scan(dir: &std::path::Path, keys: Vec<serde_json::Value>) -> Vec<(String, String, String)> {
    let inventory = serde_json::json!({
        "version": 1, "generated_at": NOW,
        "accounts": [{"account": "123456789012", "keys": keys}],
    });
    write(dir, "inventory.json", inventory.to_string());
    let out = keyward(
        dir,
        &[
            "scan",
            "app",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--inventory",
            "inventory.json",
            "--now",
            NOW,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json(&out)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["key_id"].as_str().unwrap_or("").to_string(),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn kw009_waits_for_a_new_key_and_says_which_case_applies() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "app/a.env",
        format!("A_KEY_ID={NEW}\nB_KEY_ID={OLD_NEVER}\nC_KEY_ID={OLD_USED}\n"),
    );
    let found = scan(
        d,
        vec![
            key(NEW, "fresh", "2026-11-27T12:00:00Z", None),
            key(OLD_NEVER, "idle", "2026-07-31T12:00:00Z", None),
            key(
                OLD_USED,
                "quiet",
                "2026-01-01T00:00:00Z",
                Some("2026-08-23T12:00:00Z"),
            ),
        ],
    );
    let kw009: Vec<&(String, String, String)> = found.iter().filter(|f| f.0 == "KW009").collect();
    assert_eq!(kw009.len(), 2, "{found:#?}");
    assert!(
        !kw009.iter().any(|f| f.1 == NEW),
        "a day-old key is not unused: {found:#?}"
    );
    let never = kw009.iter().find(|f| f.1 == OLD_NEVER).expect("never used");
    assert!(
        never
            .2
            .contains("was never used in the 120 days since it was created"),
        "{never:?}"
    );
    let used = kw009
        .iter()
        .find(|f| f.1 == OLD_USED)
        .expect("used long ago");
    assert!(used.2.contains("was last used 97 days ago"), "{used:?}");
}

#[test]
fn kw011_does_not_guess_when_the_newest_key_is_a_tie() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "app/dev.env", format!("AWS_ACCESS_KEY_ID={NEW}\n"));
    write(d, "app/prod.env", format!("AWS_ACCESS_KEY_ID={TWIN}\n"));
    let same_second = |id: &str, frac: &str, used: Option<&str>| {
        key(id, "deploy", &format!("2026-11-01T10:00:00{frac}Z"), used)
    };
    // A tie nobody's use breaks: both places are reported, no newest named.
    let found = scan(
        d,
        vec![same_second(NEW, ".1", None), same_second(TWIN, ".9", None)],
    );
    let kw011: Vec<_> = found.iter().filter(|f| f.0 == "KW011").collect();
    assert_eq!(kw011.len(), 2, "{found:#?}");
    for f in &kw011 {
        assert!(f.2.contains("there is no newest"), "{f:?}");
        assert!(!f.2.contains("is not the newest"), "{f:?}");
    }
    // Last use decides: the key in use is the newest, the other is reported.
    let found = scan(
        d,
        vec![
            same_second(NEW, ".1", Some("2026-11-27T00:00:00Z")),
            same_second(TWIN, ".9", Some("2026-11-02T00:00:00Z")),
        ],
    );
    let kw011: Vec<_> = found.iter().filter(|f| f.0 == "KW011").collect();
    assert_eq!(kw011.len(), 1, "{found:#?}");
    assert_eq!(kw011[0].1, TWIN);
    // The message names the key in use first, as the newest.
    assert!(
        kw011[0].2.contains(&format!("newest first: {NEW}, {TWIN}")),
        "{kw011:?}"
    );
}

/// `baseline` takes the scan's IAM flags, so IAM findings are accepted too
/// and do not come back on the next scan with the same flags.
#[test]
fn iam_findings_can_be_baselined() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "app/a.env", format!("AWS_ACCESS_KEY_ID={OLD_NEVER}\n"));
    let inventory = serde_json::json!({
        "version": 1, "generated_at": NOW,
        "accounts": [{"account": "123456789012", "keys": [
            {"access_key_id": OLD_NEVER, "user": "idle", "status": "Inactive",
             "created": "2026-01-01T00:00:00Z"}]}],
    });
    write(d, "inventory.json", inventory.to_string());
    let iam = ["--inventory", "inventory.json", "--now", NOW];
    let rules = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["scan", "app", "--format", "json"];
        all.extend_from_slice(args);
        finding_rules(&keyward(d, &all))
    };
    let before = rules(&iam);
    assert!(before.iter().any(|r| r == "KW006"), "{before:?}");
    let mut args = vec!["baseline", "app", "-o", "base.json"];
    args.extend_from_slice(&iam);
    let out = keyward(d, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(d.join("base.json")).expect("baseline");
    assert!(text.contains("\"KW006\""), "{text}");
    let mut args = iam.to_vec();
    args.extend_from_slice(&["--baseline", "base.json"]);
    assert_eq!(rules(&args), Vec::<String>::new());
}
