//! `keyward report r1.json r2.json …`: scan reports of many repositories
//! merged into one, each named by its `--repository`; a per-repository
//! table, the same IAM user's keys used differently across repositories,
//! and one rotation plan. Three generated repositories share the demo's
//! inventory: infra moved acme-api to its newest key, app still uses the
//! old one, tools uses github-ci's Inactive key.

mod common;

use std::path::Path;

use common::markup::*;
use common::*;

/// Scans `files` as repository `name` with the demo inventory; the JSON
/// report's path.
fn scanned(base: &Path, name: &str, files: &[(&str, &str)]) -> String {
    let dir = base.join(name);
    for (rel, text) in files {
        write(&dir, rel, text);
    }
    let inventory = root().join("fixtures/demo/inventory.json");
    let out = keyward(
        &dir,
        &[
            "scan",
            ".",
            "--inventory",
            inventory.to_str().expect("utf-8"),
            "--repository",
            name,
            "--format",
            "json",
            "--fail-on",
            "never",
            "--now",
            FIXTURE_NOW,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = base.join(format!("{name}.json"));
    std::fs::write(&report, &out.stdout).expect("write");
    report.display().to_string()
}

#[test]
fn three_repositories_make_one_report() {
    let t = tempfile::tempdir().expect("temp dir");
    let infra = scanned(
        t.path(),
        "acme/infra",
        &[(
            "prod.tfvars",
            "app_access_key_id = \"AKIARZPUZDIKLGATVSKW\"\n",
        )],
    );
    let app = scanned(
        t.path(),
        "acme/app",
        &[(".env", "APP=api\nAWS_ACCESS_KEY_ID=AKIARZPUZDIKONEHY5VH\n")],
    );
    let tools = scanned(
        t.path(),
        "acme/tools",
        &[("ci.env", "AWS_ACCESS_KEY_ID=AKIARZPUZDIKAMOZVAIB\n")],
    );
    let merged = |format: &str| {
        let out = keyward(
            t.path(),
            &["report", &infra, &app, &tools, "--format", format],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };

    let doc: serde_json::Value = serde_json::from_str(&merged("json")).expect("json");
    let repos: Vec<&str> = doc["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["repository"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(repos, ["acme/infra", "acme/app", "acme/tools"]);
    // The app repository is behind the infra repository on acme-api's key.
    let divergence = doc["divergence"].as_array().expect("divergence");
    assert_eq!(divergence.len(), 1, "{divergence:#?}");
    assert_eq!(divergence[0]["user"], "acme-api");
    assert_eq!(divergence[0]["newest_active"], "AKIARZPUZDIKLGATVSKW");
    assert_eq!(divergence[0]["current"], serde_json::json!(["acme/infra"]));
    assert_eq!(divergence[0]["rule"], "KW011");
    assert_eq!(
        divergence[0]["message"],
        "IAM user `acme-api` is rotated in acme/infra (newest Active key `AKIARZPUZDIKLGATVSKW`) but acme/app still uses an older key"
    );
    let related: Vec<&str> = divergence[0]["related"]
        .as_array()
        .expect("related")
        .iter()
        .map(|r| r["place"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(related, ["acme/infra:prod.tfvars:1", "acme/app:.env:2"]);
    assert_eq!(
        divergence[0]["behind"],
        serde_json::json!([{"repository": "acme/app", "key_id": "AKIARZPUZDIKONEHY5VH", "places": ["acme/app:.env:2"]}])
    );
    // One plan across the three: acme-api's old key is retired in app.
    let users = doc["plan"]["users"].as_array().expect("users");
    let api = users
        .iter()
        .find(|u| u["user"] == "acme-api")
        .expect("acme-api");
    let steps = api["steps"].as_array().expect("steps");
    let commands_of = |action: &str, key: Option<&str>| -> Vec<&serde_json::Value> {
        steps
            .iter()
            .filter(|s| s["action"] == action && s["key"].as_str() == key)
            .map(|s| &s["commands"])
            .collect()
    };
    assert_eq!(
        commands_of("update-references", None),
        [&serde_json::json!([
            "keyward fix --diff .env  # in acme/app",
            "keyward fix --diff prod.tfvars  # in acme/infra",
        ])],
        "{steps:#?}"
    );
    assert_eq!(
        commands_of("deactivate", Some("AKIARZPUZDIKONEHY5VH")),
        [&serde_json::json!([
            "aws iam update-access-key --user-name acme-api --access-key-id AKIARZPUZDIKONEHY5VH --status Inactive",
        ])],
        "{steps:#?}"
    );
    assert!(users.iter().any(|u| u["user"] == "github-ci"));

    let md = merged("markdown");
    let sections: Vec<&str> = md_headings(&md.lines().collect::<Vec<_>>())
        .into_iter()
        .filter(|h| h.starts_with("## "))
        .collect();
    assert_eq!(
        sections,
        [
            "## Repositories",
            "## Cross-repository divergence",
            "## Findings by severity",
            "## Findings by rule",
            "## Findings by environment",
            "## Findings by account",
            "## Findings by IAM user",
            "## Keys",
            "## Rotation plan",
        ],
        "{md}"
    );
    // A row per repository, in the order given, none of them at a commit
    // (they are not git work trees), with its own findings.
    let repositories = md_table(&md_section(&md, &["## Repositories"]));
    assert_eq!(
        repositories.column("Repository"),
        ["`acme/infra`", "`acme/app`", "`acme/tools`"],
        "{md}"
    );
    assert_eq!(repositories.column("Commit"), ["—", "—", "—"], "{md}");
    assert_eq!(repositories.column("Findings"), ["1", "2", "2"], "{md}");
    assert_eq!(
        md_section(&md, &["## Cross-repository divergence"]),
        [
            "- IAM user `acme-api` (account 123456789012): the newest Active key \
             `AKIARZPUZDIKLGATVSKW` is used in `acme/infra`; still on an older key:",
            "  - `acme/app` uses `AKIARZPUZDIKONEHY5VH` at `acme/app:.env:2`",
        ],
        "{md}"
    );
    // Places name their repository.
    assert_eq!(
        md_table(&md_section(&md, &["## Keys"])).column("Places referenced"),
        [
            "acme/tools:ci.env",
            "acme/infra:prod.tfvars",
            "acme/app:.env"
        ],
        "{md}"
    );

    let html = merged("html");
    assert_eq!(
        html_elements(&html, "h2"),
        [
            "<h2>Repositories</h2>",
            "<h2>Cross-repository divergence</h2>",
            "<h2>Keys</h2>",
            "<h2>Findings by rule</h2>",
            "<h2>Findings by environment</h2>",
            "<h2>Findings by account</h2>",
            "<h2>Findings by IAM user</h2>",
            "<h2>Rotation plan</h2>",
            "<h2>All findings, by file</h2>",
        ],
        "{html}"
    );
}

/// A scan without `--repository` outside git is named by its report file.
#[test]
fn reports_without_a_name_are_named_by_their_file() {
    let t = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    for name in ["one", "two"] {
        let dir = t.path().join(name);
        write(&dir, "a.env", "AWS_ACCESS_KEY_ID=AKIARZPUZDIKLGATVSKW\n");
        let out = keyward(
            &dir,
            &["scan", ".", "--format", "json", "--fail-on", "never"],
        );
        let path = t.path().join(format!("{name}.json"));
        std::fs::write(&path, &out.stdout).expect("write");
        paths.push(path.display().to_string());
    }
    let out = keyward(
        t.path(),
        &["report", &paths[0], &paths[1], "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let names: Vec<&str> = doc["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["repository"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names.len(), 2);
    assert_ne!(names[0], names[1], "{names:?}");
}

/// The merged JSON lists every repository's findings in the scan report's
/// own shape, each with its `repository`: a tool that reads `findings` of a
/// scan report reads an organisation's the same way.
#[test]
fn the_merged_json_lists_every_finding_with_its_repository() {
    let t = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    let mut counts = Vec::new();
    for (name, text) in [
        ("api", "AWS_ACCESS_KEY_ID=AKIARZPUZDIKLGATVSKW\n"),
        (
            "web",
            "AWS_ACCESS_KEY_ID=AKIARZPUZDIKKJZDEGXD\nOTHER_AWS_ACCESS_KEY_ID=AKIARZPUZDIKONEHY5VH\n",
        ),
    ] {
        let dir = t.path().join(name);
        write(&dir, "svc/.env", text);
        let out = keyward(
            &dir,
            &[
                "scan",
                ".",
                "--format",
                "json",
                "--fail-on",
                "never",
                "--repository",
                name,
            ],
        );
        counts.push(json(&out)["findings"].as_array().map_or(0, Vec::len));
        let path = t.path().join(format!("{name}.json"));
        std::fs::write(&path, &out.stdout).expect("write");
        paths.push(path.display().to_string());
    }
    let out = keyward(
        t.path(),
        &["report", &paths[0], &paths[1], "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), counts.iter().sum::<usize>(), "{doc:#}");
    for (repo, n) in [("api", counts[0]), ("web", counts[1])] {
        let mine: Vec<_> = findings
            .iter()
            .filter(|f| f["repository"] == repo)
            .collect();
        assert_eq!(mine.len(), n, "{repo}: {doc:#}");
        // The scan report's fields, the path within the repository.
        for f in mine {
            assert_eq!(f["path"], "svc/.env", "{f}");
            assert!(f["rule"].is_string() && f["line"].is_u64() && f["fingerprint"].is_string());
        }
    }
    assert!(doc["accepted"].is_array(), "{doc:#}");
}
