//! `--format sarif` against the official OASIS SARIF 2.1.0 schema, plus what
//! GitHub code scanning needs beyond the schema.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// The schema file declares draft-04, but uses `uri-reference`, a draft-06+
/// format that a draft-04 validator does not check; draft-07 checks it, and
/// format checks are forced on so `uri`/`uri-reference` are really tested.
fn validator() -> jsonschema::Validator {
    schema_validator("fixtures/schemas/sarif-schema-2.1.0.json")
}

fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(doc: &Value) {
    let errors = schema_errors(&validator(), doc);
    assert!(
        errors.is_empty(),
        "{} schema errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

fn sarif(dir: &Path) -> (String, Value, Option<i32>) {
    let out = keyward(dir, &["scan", ".", "--format", "sarif"]);
    let text = stdout(&out);
    let doc = json(&out);
    (text, doc, out.status.code())
}

/// Checks GitHub code scanning relies on that the schema does not enforce.
fn assert_code_scanning_ready(doc: &Value) {
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: std::collections::BTreeSet<&str> =
        rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let builtin = keyward::rules::RuleSet::builtin().expect("built-in rules");
    for r in &builtin.rules {
        assert!(ids.contains(r.id.as_str()), "{} is not described", r.id);
    }
    for r in rules {
        let sev = r["properties"]["security-severity"]
            .as_str()
            .unwrap_or_else(|| panic!("security-severity on {r}"));
        let score: f64 = sev.parse().expect("security-severity is a number");
        assert!((0.0..=10.0).contains(&score), "{sev}");
        assert!(
            r["fullDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty() && !t.contains("##"))
        );
        assert!(
            r["help"]["markdown"]
                .as_str()
                .is_some_and(|t| t.contains("## How to fix"))
        );
        assert!(
            r["properties"]["tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("security")))
        );
    }
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT%");
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    for res in run["results"].as_array().expect("results") {
        let id = res["ruleId"].as_str().expect("ruleId");
        let index = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], id, "ruleIndex of {id}");
        assert!(
            res["partialFingerprints"]["keyward/v1"]
                .as_str()
                .is_some_and(|f| f.len() == 32)
        );
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(!uri.contains("://") && !uri.starts_with('/'), "{uri}");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1));
        assert!(loc["region"]["snippet"]["text"].as_str().is_some());
    }
}

#[test]
fn demo_tree_validates_and_is_code_scanning_ready() {
    let dir = root().join("fixtures/demo");
    let (text, doc, code) = sarif(&dir);
    assert_eq!(code, Some(1), "findings still exit 1");
    assert_valid(&doc);
    assert_code_scanning_ready(&doc);
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let json_out = json(&keyward(&dir, &["scan", ".", "--format", "json"]));
    assert_eq!(
        results.len(),
        json_out["findings"].as_array().expect("findings").len(),
        "one result per finding"
    );
    assert!(text.ends_with("}\n"));
}

#[test]
fn no_unmasked_secret_anywhere() {
    let (text, _, _) = sarif(&root().join("fixtures/demo"));
    let secrets: Vec<Expected> = expected("demo")
        .into_iter()
        .filter(|e| e.kind == "secret" || e.kind == "session-token")
        .collect();
    assert!(secrets.len() >= 10, "{}", secrets.len());
    for s in &secrets {
        // JSON escapes `/` only optionally; check both spellings.
        assert!(
            !text.contains(&s.value) && !text.contains(&s.value.replace('/', "\\/")),
            "unmasked secret from {}:{}",
            s.path,
            s.line
        );
    }
    // The masked forms do show up, so the check above looks at real snippets.
    assert!(text.contains("********"), "snippets carry masked secrets");
}

#[test]
fn output_is_deterministic() {
    let dir = root().join("fixtures/demo");
    let (a, _, _) = sarif(&dir);
    let (b, _, _) = sarif(&dir);
    assert!(a == b, "two runs differ");
}

#[test]
fn empty_scan_validates_and_describes_every_rule() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.tf"), "resource \"x\" \"y\" {}\n").expect("write");
    let (_, doc, code) = sarif(dir.path());
    assert_eq!(code, Some(0));
    assert_valid(&doc);
    assert_code_scanning_ready(&doc);
    assert_eq!(doc["runs"][0]["results"], json!([]));
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

#[test]
fn paths_with_spaces_and_scan_errors_validate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sub = dir.path().join("my dir");
    std::fs::create_dir(&sub).expect("mkdir");
    std::fs::write(
        sub.join("créds"),
        "[default]\naws_access_key_id = AKIARZPUZDIKPZIYACD7\n",
    )
    .expect("write");
    // Over --max-file-size: reported as a scan error, and the scan goes on.
    std::fs::write(sub.join("big file.txt"), "x".repeat(200)).expect("write");
    let out = keyward(
        dir.path(),
        &["scan", ".", "--format", "sarif", "--max-file-size", "100"],
    );
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_valid(&doc);
    let run = &doc["runs"][0];
    let uri = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "my%20dir/cr%C3%A9ds");
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["level"], "warning");
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("max-file-size"))
    );
    assert_eq!(
        notes[0]["locations"][0]["physicalLocation"]["artifactLocation"],
        json!({"uri": "my%20dir/big%20file.txt", "uriBaseId": "%SRCROOT%"})
    );
}

/// Proves the validator is live: documents that break the schema in
/// different ways are each refused.
#[test]
fn broken_documents_fail_validation() {
    let v = validator();
    let doc = json(&keyward(
        &root().join("fixtures/rules/KW002-hardcoded-secret-key/fail"),
        &["scan", ".", "--format", "sarif"],
    ));
    assert!(
        schema_errors(&v, &doc).is_empty(),
        "{:?}",
        schema_errors(&v, &doc)
    );

    let mut bad_level = doc.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("fatal");
    let errors = schema_errors(&v, &bad_level);
    assert!(
        errors.iter().any(|e| e.contains("fatal")),
        "level fatal accepted: {errors:?}"
    );

    let mut bad_line = doc.clone();
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        json!(0);
    assert!(
        !schema_errors(&v, &bad_line).is_empty(),
        "startLine 0 accepted"
    );

    let mut bad_uri = doc.clone();
    bad_uri["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        json!("a dir/with space");
    assert!(
        !schema_errors(&v, &bad_uri).is_empty(),
        "unencoded space accepted"
    );

    let mut extra = doc.clone();
    extra["runs"][0]["tool"]["driver"]["information_uri"] = json!("https://x");
    assert!(
        !schema_errors(&v, &extra).is_empty(),
        "unknown property accepted"
    );

    let mut no_version = doc;
    no_version
        .as_object_mut()
        .expect("object")
        .remove("version");
    assert!(
        !schema_errors(&v, &no_version).is_empty(),
        "missing version accepted"
    );
}

#[test]
fn every_rule_has_a_distinct_index_and_result_levels_follow_severity() {
    let (_, doc, _) = sarif(&root().join("fixtures/demo"));
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: HashSet<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), rules.len());
    for res in run["results"].as_array().expect("results") {
        let sev = res["properties"]["severity"].as_str().expect("severity");
        let want = match sev {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(res["level"], want, "{res}");
    }
}

#[test]
fn suppressed_findings_are_carried_with_suppressions() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    let key = "AKIARZPUZDIKEEQH746Y";
    std::fs::write(
        d.join("app.env"),
        format!("# keyward:ignore KW001 -- canary key\nAWS_ACCESS_KEY_ID={key}\n"),
    )
    .expect("write");
    std::fs::write(d.join("other.env"), format!("AWS_ACCESS_KEY_ID={key}\n")).expect("write");
    let base = common::keyward(d, &["baseline", "other.env", "-o", "base.json"]);
    assert_eq!(base.status.code(), Some(0));
    let out = common::keyward(d, &["scan", "--format", "sarif", "--baseline", "base.json"]);
    // Everything is accepted: the gate passes.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("sarif json");
    assert_valid(&doc);
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let kinds: Vec<(&str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["suppressions"][0]["kind"].as_str().unwrap_or("none"),
                r["suppressions"][0]["justification"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("inSource", "canary key"), ("external", "in the baseline")]
    );
}

#[test]
fn history_findings_carry_their_commit_and_validate() {
    let t = tempfile::tempdir().expect("tempdir");
    let git = |args: &[&str]| {
        let mut cmd = std::process::Command::new("git");
        cmd.current_dir(t.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ann")
            .env("GIT_AUTHOR_EMAIL", "ann@example.com")
            .env("GIT_COMMITTER_NAME", "Ann")
            .env("GIT_COMMITTER_EMAIL", "ann@example.com");
        run_git(&mut cmd, args)
    };
    git(&["init", "-q", "-b", "main"]);
    // scripts/genkey.py --seed 505
    write(
        t.path(),
        "app.env",
        "AWS_ACCESS_KEY_ID=AKIARZPUZDIKEQTRV6SW\n",
    );
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "add key"]);
    let commit = git(&["rev-parse", "HEAD"]);
    write(t.path(), "app.env", "APP=web\n");
    git(&["commit", "-q", "-am", "remove key"]);

    let out = keyward(t.path(), &["scan", "--history", "--format", "sarif"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("sarif");
    assert_valid(&doc);
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "KW001");
    let p = &result["properties"]["provenance"];
    assert_eq!(p["first"]["commit"], commit.as_str());
    assert_eq!(p["first"]["author"], "Ann");
    assert_eq!(p["commits"], 1);
    let text = result["message"]["text"].as_str().expect("message");
    assert!(
        text.contains(&format!("introduced in {} by Ann", &commit[..10])),
        "{text}"
    );

    let out = keyward(t.path(), &["scan", "--history", "--format", "github"]);
    let annotations = String::from_utf8_lossy(&out.stdout);
    assert!(
        annotations.contains(&format!("introduced in {} by Ann", &commit[..10])),
        "{annotations}"
    );
}
