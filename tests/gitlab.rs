//! `--format gitlab` against GitLab's published secret detection report
//! schema (fixtures/schemas/gitlab/, vendored), and against keyward's own
//! JSON report of the same scan: the same findings, at the same places,
//! in the commit scanned.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use serde_json::Value;

fn validator() -> jsonschema::Validator {
    schema_validator("fixtures/schemas/gitlab/secret-detection-report-format.json")
}

fn assert_valid(doc: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
}

/// The demo in a repository of its own, committed once.
fn demo_repo() -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().expect("tempdir");
    copy_tree(&root().join("fixtures/demo"), t.path());
    write(
        t.path(),
        "accepted.env",
        "# keyward:ignore -- a test account's key, accepted for this test\n\
         AWS_ACCESS_KEY_ID=AKIATCH6YDSYUQTRV6SW\n",
    );
    git_in(t.path(), &["init", "-q", "-b", "main"]);
    git_in(t.path(), &["add", "-A"]);
    git_in(t.path(), &["commit", "-q", "-m", "demo"]);
    let head = git_in(t.path(), &["rev-parse", "HEAD"]);
    (t, head)
}

fn gitlab(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["scan", ".", "--format", "gitlab"];
    args.extend(extra);
    let out = keyward(dir, &args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    json(&out)
}

fn title(severity: &str) -> String {
    let mut c = severity.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

#[test]
fn the_demo_report_matches_gitlabs_schema_and_keywards_findings() {
    let (repo, head) = demo_repo();
    let doc = gitlab(repo.path(), &[]);
    assert_valid(&doc);
    assert_eq!(doc["version"], "15.2.4");
    assert_eq!(doc["scan"]["type"], "secret_detection");
    assert_eq!(doc["scan"]["status"], "success");
    assert_eq!(doc["scan"]["analyzer"]["id"], "keyward");

    let report = json(&keyward(repo.path(), &["scan", ".", "--format", "json"]));
    let active: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .collect();
    let accepted = report["accepted"].as_array().expect("accepted");
    assert!(
        accepted.iter().any(|f| f["path"] == "accepted.env"),
        "the accepted key is in the JSON report, as accepted"
    );
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    assert!(!vulns.is_empty());
    // Every finding that stands, and only those, at the same place.
    let place = |path: &str, line: u64, rule: &str, severity: String| {
        (path.to_string(), line, rule.to_string(), severity)
    };
    let mut want: BTreeMap<_, usize> = BTreeMap::new();
    for f in &active {
        let (rule, path, line) = rule_path_line(f);
        let severity = title(f["severity"].as_str().expect("severity"));
        *want.entry(place(&path, line, &rule, severity)).or_default() += 1;
    }
    let mut got: BTreeMap<_, usize> = BTreeMap::new();
    for v in vulns {
        let rule = v["identifiers"][0]["value"].as_str().expect("rule");
        assert_eq!(v["identifiers"][0]["type"], "keyward_rule_id");
        assert_eq!(v["location"]["commit"]["sha"], head.as_str());
        assert!(
            v["location"]["end_line"].as_u64() >= v["location"]["start_line"].as_u64(),
            "{v}"
        );
        let path = v["location"]["file"].as_str().expect("file");
        assert_ne!(path, "accepted.env", "an accepted finding is left out");
        *got.entry(place(
            path,
            v["location"]["start_line"].as_u64().expect("line"),
            rule,
            v["severity"].as_str().expect("severity").to_string(),
        ))
        .or_default() += 1;
    }
    assert_eq!(got, want);

    // IDs: one per vulnerability, the same on the next run.
    let ids: Vec<&str> = vulns
        .iter()
        .map(|v| v["id"].as_str().expect("id"))
        .collect();
    let unique: BTreeSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let again = gitlab(repo.path(), &[]);
    let ids_again: Vec<&str> = again["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .map(|v| v["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ids_again);
    // Warnings reach the scan's messages.
    let warnings = report["errors"].as_array().map_or(0, Vec::len);
    let messages = doc["scan"]["messages"].as_array().map_or(0, Vec::len);
    assert!(messages >= warnings, "{messages} < {warnings}");
}

#[test]
fn a_history_finding_names_the_commit_that_wrote_it() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    git_in(d, &["init", "-q", "-b", "main"]);
    write(
        d,
        "deploy/prod.env",
        "AWS_ACCESS_KEY_ID=AKIATCH6YDSYUQTRV6SW\n\
         AWS_SECRET_ACCESS_KEY=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\n",
    );
    git_in(d, &["add", "-A"]);
    git_in(d, &["commit", "-q", "-m", "add a key"]);
    let wrote = git_in(d, &["rev-parse", "HEAD"]);
    std::fs::remove_file(d.join("deploy/prod.env")).expect("rm");
    write(d, "README.md", "moved to the secret store\n");
    git_in(d, &["add", "-A"]);
    git_in(d, &["commit", "-q", "-m", "remove it"]);

    let doc = gitlab(d, &["--history"]);
    assert_valid(&doc);
    let vulns = doc["vulnerabilities"].as_array().expect("vulnerabilities");
    assert!(!vulns.is_empty(), "{doc}");
    for v in vulns {
        assert_eq!(v["location"]["commit"]["sha"], wrote.as_str(), "{v}");
        assert_eq!(v["location"]["file"], "deploy/prod.env", "{v}");
    }
    assert!(
        !doc.to_string()
            .contains("h0ZmQ6FpcLJsBp3IgWMLNFUxjW2ZVJbuvO1bRKiQ"),
        "the secret is masked"
    );
}

#[test]
fn without_a_commit_findings_are_refused_and_nothing_is_written() {
    let t = tempfile::tempdir().expect("tempdir");
    write(
        t.path(),
        "app.env",
        "AWS_ACCESS_KEY_ID=AKIATCH6YDSYUQTRV6SW\n",
    );
    let out = keyward(t.path(), &["scan", ".", "--format", "gitlab"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("outside a git work tree"),
        "{}",
        stderr(&out)
    );
    // A clean folder has nothing to place: a valid, empty report.
    let clean = tempfile::tempdir().expect("tempdir");
    write(clean.path(), "app.yaml", "region: eu-west-1\n");
    let out = keyward(clean.path(), &["scan", ".", "--format", "gitlab"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert_valid(&doc);
    assert_eq!(doc["vulnerabilities"], serde_json::json!([]));
}

/// The template's job: its script, run as GitLab would run it (bash, the
/// job's variables, `keyward` on PATH; the `pip install` of
/// `before_script` is the wheel, tested in scripts/test-wheel.sh).
struct Template {
    job: Value,
}

impl Template {
    fn load() -> Template {
        let text =
            std::fs::read_to_string(root().join("ci/keyward.gitlab-ci.yml")).expect("template");
        let doc: Value = serde_norway::from_str(&text).expect("the template is YAML");
        Template {
            job: doc["keyward"].clone(),
        }
    }

    fn run(&self, dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
        let script: Vec<&str> = self.job["script"]
            .as_array()
            .expect("script")
            .iter()
            .map(|l| l.as_str().expect("a script line"))
            .collect();
        let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_keyward"));
        let path = format!(
            "{}:{}",
            bin.parent().expect("bin dir").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = std::process::Command::new("bash");
        cmd.args(["-c", &script.join("\n")])
            .current_dir(dir)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env_remove("AWS_ACCESS_KEY_ID");
        for (k, v) in self.job["variables"].as_object().expect("variables") {
            cmd.env(k, v.as_str().expect("a string variable"));
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("bash runs")
    }
}

#[test]
fn the_ci_template_judges_a_merge_request_by_its_bases_policy() {
    let template = Template::load();
    let job = &template.job;
    assert_eq!(
        job["artifacts"]["reports"]["secret_detection"],
        "gl-secret-detection-report.json"
    );
    assert_eq!(job["artifacts"]["when"], "always");
    assert_eq!(job["variables"]["GIT_DEPTH"], "0");
    let rules = job["rules"].to_string();
    assert!(rules.contains("merge_request_event"), "{rules}");
    assert!(
        job["before_script"][0]
            .as_str()
            .is_some_and(|l| l.contains("\"keyward==${KEYWARD_VERSION}\"")),
        "{job}"
    );
    let crate_version = env!("CARGO_PKG_VERSION");
    assert_eq!(job["variables"]["KEYWARD_VERSION"], crate_version);

    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    git_in(d, &["init", "-q", "-b", "main"]);
    // On the target branch: one key already there (not the merge
    // request's business), and the policy.
    write(d, "old.env", "AWS_ACCESS_KEY_ID=AKIARZPUZDIKONEHY5VH\n");
    write(d, "keyward.toml", "[policy]\nfail-on = \"high\"\n");
    git_in(d, &["add", "-A"]);
    git_in(d, &["commit", "-q", "-m", "base"]);
    let base = git_in(d, &["rev-parse", "HEAD"]);
    // The merge request: a new key, and a policy that turns its rule off.
    git_in(d, &["checkout", "-q", "-b", "feature"]);
    write(d, "new.env", "AWS_ACCESS_KEY_ID=AKIATCH6YDSYUQTRV6SW\n");
    write(
        d,
        "keyward.toml",
        "[policy]\nfail-on = \"high\"\n\n[rules]\nKW001 = \"off\"\n",
    );
    git_in(d, &["add", "-A"]);
    git_in(d, &["commit", "-q", "-m", "feature"]);
    let head = git_in(d, &["rev-parse", "HEAD"]);

    let o = template.run(
        d,
        &[
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base),
        ],
    );
    let log = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "the gate fails the job: {log}");
    assert!(log.contains("judged by the policy at"), "{log}");
    let report: Value = serde_json::from_slice(
        &std::fs::read(d.join("gl-secret-detection-report.json")).expect("the report artifact"),
    )
    .expect("JSON");
    assert_valid(&report);
    let found: BTreeSet<(String, String)> = report["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .map(|v| {
            (
                v["identifiers"][0]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                v["location"]["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    // The base's policy: KW001 still holds, and turning it off is itself a
    // finding; the key already on the target branch is not reported.
    assert!(
        found.contains(&("KW001".into(), "new.env".into())),
        "{found:?}"
    );
    assert!(found.iter().any(|(rule, _)| rule == "KW015"), "{found:?}");
    assert!(
        !found.iter().any(|(_, file)| file == "old.env"),
        "{found:?}"
    );
    for v in report["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
    {
        assert_eq!(v["location"]["commit"]["sha"], head.as_str());
    }

    // On the default branch: the whole tree, the branch's own policy.
    git_in(d, &["checkout", "-q", "main"]);
    std::fs::remove_file(d.join("gl-secret-detection-report.json")).expect("rm");
    let o = template.run(
        d,
        &[("CI_PIPELINE_SOURCE", "push"), ("KEYWARD_FAIL_ON", "never")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(
        &std::fs::read(d.join("gl-secret-detection-report.json")).expect("the report artifact"),
    )
    .expect("JSON");
    assert_valid(&report);
    let files: BTreeSet<&str> = report["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .filter_map(|v| v["location"]["file"].as_str())
        .collect();
    assert_eq!(files, BTreeSet::from(["old.env"]));
}
