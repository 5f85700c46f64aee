//! `keyward report FILE.json --format markdown|html` on the demo's JSON.

mod common;

use std::path::Path;

use common::markup::*;
use common::*;

/// The demo scanned to JSON, written where `report` can read it.
fn demo_json(dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    // Outside any git work tree and at a pinned date, so the report's
    // "what this is" line is the same on every machine and commit.
    let tree = dir.join("demo");
    copy_tree(&root().join("fixtures/demo"), &tree);
    let out = scan_at_fixture_now(&tree, "json");
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    let path = dir.join("demo.json");
    std::fs::write(&path, &out.stdout).expect("write");
    (path, doc)
}

fn report(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    keyward(dir, &all)
}

/// Every secret the demo plants, in full (`fixtures/expected/demo.tsv`).
fn planted_secrets() -> Vec<String> {
    let secrets: Vec<String> = expected("demo")
        .into_iter()
        .filter(|e| e.kind.contains("secret") || e.kind == "session-token")
        .map(|e| e.value)
        .collect();
    assert!(secrets.len() >= 5, "{secrets:?}");
    secrets
}

/// The paragraphs under the report's title, each split into its ` · `
/// parts: what the report is, then its counts.
fn lead_parts(md: &str) -> Vec<Vec<&str>> {
    md_lead(&md_section(md, &["# keyward audit report"]))
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(" · ").collect())
        .collect()
}

fn rule_ids(doc: &serde_json::Value) -> std::collections::BTreeSet<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn markdown_snapshot_of_the_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (json_path, doc) = demo_json(dir.path());
    let out = report(
        dir.path(),
        &[json_path.to_str().expect("utf-8"), "--format", "markdown"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let md = stdout(&out);
    // A row per rule that fired, no other.
    assert_eq!(
        md_table(&md_section(&md, &["## Findings by rule"])).column("Rule"),
        rule_ids(&doc).iter().collect::<Vec<_>>(),
        "{md}"
    );
    for secret in planted_secrets() {
        assert!(!md.contains(&secret), "full secret in the report");
    }
    // The demo's inventory names the owners; keys it does not know (another
    // account, a temporary or deleted key) are counted apart.
    let by_user = md_table(&md_section(&md, &["## Findings by IAM user"]));
    assert_eq!(by_user.header, ["IAM user", "Findings", "Keys"]);
    assert_eq!(by_user.align, ["---", "---:", "---:"]);
    assert_eq!(
        by_user.rows,
        [
            ["`acme-api`", "14", "2"],
            ["`terraform-prod`", "9", "1"],
            ["`github-ci`", "6", "1"],
            ["`report-worker`", "4", "1"],
            ["`nightly-export`", "3", "1"],
            ["—", "13", "4"],
        ]
    );
    assert_eq!(
        lead_parts(&md)[0],
        [
            "Scanned 2026-11-28 (ages are as of this date)",
            &format!("keyward {}", env!("CARGO_PKG_VERSION")),
            "IAM: inventory inventory.json (generated 2026-11-27)",
        ]
    );
    insta::assert_snapshot!("demo-audit-markdown", md);
}

/// Tags that must be closed, and the number of times each was opened.
fn unbalanced_tags(html: &str) -> Vec<String> {
    let tags = [
        "html",
        "head",
        "body",
        "main",
        "section",
        "style",
        "title",
        "h1",
        "h2",
        "p",
        "figure",
        "figcaption",
        "svg",
        "rect",
        "text",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "div",
        "span",
        "i",
    ];
    tags.iter()
        .filter_map(|t| {
            let open = regex::Regex::new(&format!(r"<{t}[\s>]")).expect("regex");
            let opened = open.find_iter(html).count();
            let closed = html.matches(&format!("</{t}>")).count();
            (opened != closed).then(|| format!("<{t}> opened {opened}, closed {closed}"))
        })
        .collect()
}

#[test]
fn html_is_one_self_contained_file_without_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (json_path, doc) = demo_json(dir.path());
    let html_path = dir.path().join("audit.html");
    let out = report(
        dir.path(),
        &[
            json_path.to_str().expect("utf-8"),
            "--format",
            "html",
            "-o",
            html_path.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    let html = std::fs::read_to_string(&html_path).expect("html written");

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(unbalanced_tags(&html), Vec::<String>::new());
    // The charts are inline SVG, one to a figure; the demo's inventory
    // gives ages, so their histogram is drawn, not the placeholder.
    let figures = html_elements(&html, "figure");
    let captions: Vec<&str> = figures
        .iter()
        .map(|f| html_inner(html_elements(f, "figcaption")[0]))
        .collect();
    assert_eq!(
        captions,
        [
            "Findings per severity",
            "Findings per environment",
            "Key ages against the 90-day rotation limit",
        ]
    );
    for figure in &figures {
        assert_eq!(html_elements(figure, "svg").len(), 1, "{figure}");
        assert_eq!(html_elements(figure, "p"), Vec::<&str>::new(), "{figure}");
    }
    // The whole page, so that any change to it is seen in review (the
    // assertions around say what must hold whatever the layout).
    insta::assert_snapshot!("demo-audit-html", html);
    // Nothing is fetched: no URLs at all, no scripts, stylesheets or images.
    for needle in [
        "http://", "https://", "src=", "href=", "<link", "<script", "<img", "url(",
    ] {
        assert!(!html.contains(needle), "{needle} in the report");
    }
    let rule_cells: Vec<&str> = html_rows(html_section(&html, "Findings by rule"))
        .iter()
        .map(|row| row[0])
        .collect();
    let rule_codes: Vec<String> = rule_ids(&doc)
        .iter()
        .map(|rule| format!("<td><code>{rule}</code></td>"))
        .collect();
    assert_eq!(rule_cells, rule_codes);
    let secrets = planted_secrets();
    for secret in &secrets {
        assert!(!html.contains(secret.as_str()), "full secret in the report");
    }
    // The secrets are there masked, so the check above is not vacuous:
    // every key's row shows its secrets, each the mask of a planted one.
    let masked: Vec<String> = secrets
        .iter()
        .map(|s| {
            let c: Vec<char> = s.chars().collect();
            let m = format!(
                "{}…{}",
                c[..4].iter().collect::<String>(),
                c[c.len() - 4..].iter().collect::<String>()
            );
            format!("<code>{}</code>", keyward::report::escape::html::text(&m))
        })
        .collect();
    let keys = html_rows(html_section(&html, "Keys"));
    assert_eq!(keys.len(), 10, "a row per key");
    for row in &keys {
        let shown = html_elements(row[1], "code");
        assert!(!shown.is_empty(), "no secret shown: {row:?}");
        for code in shown {
            assert!(masked.iter().any(|m| m == code), "{code} in {row:?}");
        }
    }
    // Each environment's bar is labelled, with its count.
    let env_labels: Vec<&str> = html_elements(figures[1], "text")
        .into_iter()
        .map(html_inner)
        .collect();
    assert_eq!(
        env_labels,
        ["prod", "13", "staging", "7", "dev", "2", "(none)", "27"]
    );
}

#[test]
fn ages_become_a_histogram_against_the_limit_in_the_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("iam.json");
    // Written through the contract's own types, as another producer of the
    // format (an org-wide merge) would.
    use keyward::report::contract;
    let finding =
        |rule: &str, name: &str, severity: &str, path: &str, key: &str, iam| contract::Finding {
            account: None,
            column: 1,
            context: "access_key".into(),
            end_column: 21,
            end_line: 1,
            fingerprint: String::new(),
            iam: Some(iam),
            key_id: Some(key.into()),
            line: 1,
            message: String::new(),
            name: name.into(),
            path: path.into(),
            provenance: None,
            related: Vec::new(),
            repository: None,
            rule: rule.into(),
            secret: None,
            severity: keyward::Severity::parse(severity).expect("a severity"),
            snippet: None,
            suppression: None,
        };
    let iam = |user: &str, status: &str, age_days, last_used_days| contract::Iam {
        user: user.into(),
        status: status.into(),
        age_days,
        last_used_days,
        last_used_service: "s3".into(),
        last_used_region: "eu-west-1".into(),
        can: Vec::new(),
        can_approximate: false,
    };
    let doc = contract::Document {
        iam_users: Vec::new(),
        accepted: Vec::new(),
        errors: Vec::new(),
        findings: vec![
            finding(
                "KW008",
                "stale-key",
                "medium",
                "live/prod/a.tf",
                "AKIAEXAMPLEAAAAAAAAA",
                iam("deploy-bot", "Active", 400, Some(3)),
            ),
            finding(
                "KW001",
                "hardcoded-access-key",
                "high",
                "dev/b.env",
                "AKIAEXAMPLEBBBBBBBBB",
                iam("ci", "Inactive", 12, None),
            ),
        ],
        gate: None,
        more: Vec::new(),
        policy: contract::Policy {
            allowed_accounts: Vec::new(),
            max_key_age_days: 60,
            max_unused_days: 90,
        },
        scan: contract::Scan {
            commit: None,
            date: "2026-11-28T12:00:00Z".into(),
            iam: None,
            repository: None,
        },
        summary: contract::Summary::default(),
        tool: contract::Tool {
            name: "keyward".into(),
            version: "0.1.0".into(),
        },
        verify: None,
        version: contract::VERSION,
    };
    std::fs::write(&input, doc.to_text()).expect("write");
    let out = report(dir.path(), &["iam.json", "--format", "html"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = stdout(&out);
    assert_eq!(unbalanced_tags(&html), Vec::<String>::new());
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "severity, environment, ages"
    );
    let ages = html_elements(&html, "figure")[2];
    let bars: Vec<&str> = html_elements(ages, "title")
        .into_iter()
        .map(html_inner)
        .filter(|t| !t.starts_with("0 keys"))
        .collect();
    assert_eq!(bars, ["1 key aged 0–19 days", "1 key aged 220+ days"]);
    let labels: Vec<&str> = html_elements(ages, "text")
        .into_iter()
        .map(html_inner)
        .collect();
    assert_eq!(
        labels,
        [
            "1",
            "1",
            "0",
            "40",
            "80",
            "120",
            "160",
            "200",
            "rotation limit: 60 days",
            "age in days (last bar: 220 and older)",
        ]
    );
    assert_eq!(
        html_rows(html_section(&html, "Keys"))[0],
        [
            "<td><code>AKIAEXAMPLEAAAAAAAAA</code></td>",
            "<td>—</td>",
            "<td>—</td>",
            "<td><code>deploy-bot</code></td>",
            "<td>Active</td>",
            "<td class=\"over\">400 days (over 60)</td>",
            "<td>3 days ago (s3 in eu-west-1)</td>",
            "<td class=\"n\">1</td>",
            "<td class=\"wrap\">live/prod/a.tf</td>",
        ]
    );

    let md = stdout(&report(dir.path(), &["iam.json"]));
    assert_eq!(
        md_table(&md_section(&md, &["## Keys"])).row("`AKIAEXAMPLEBBBBBBBBB`"),
        [
            "`AKIAEXAMPLEBBBBBBBBB`",
            "—",
            "—",
            "`ci`",
            "Inactive",
            "12 days",
            "never",
            "1",
            "dev/b.env"
        ],
        "{md}"
    );
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("junk.json"), "not json at all").expect("write");
    std::fs::write(
        dir.path().join("sarif.json"),
        r#"{"version":"2.1.0","runs":[]}"#,
    )
    .expect("write");
    for (file, message) in [
        (
            "junk.json",
            "cannot read junk.json: not JSON: expected ident at line 1 column 2",
        ),
        (
            "sarif.json",
            "cannot read sarif.json: not the output of `keyward scan --format json`: version \"2.1.0\"; this keyward reads version 1",
        ),
        ("missing.json", "cannot read missing.json: "),
    ] {
        let out = report(dir.path(), &[file, "--format", "html"]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        // miette wraps long messages and draws a gutter; compare the words.
        let err = stderr(&out).replace('│', " ");
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words(&err).contains(&words(message)), "{file}: {err}");
        assert!(out.stdout.is_empty(), "{file}: nothing rendered");
    }
}

#[test]
fn iam_facts_from_an_inventory_reach_the_report() {
    let t = tempfile::tempdir().expect("tempdir");
    let fixture = root().join("fixtures/rules/KW006-inactive-key-referenced");
    let json_path = t.path().join("scan.json");
    let out = scan_fixture_with_inventory(
        &fixture,
        &[
            "--fail-on",
            "never",
            "-o",
            json_path.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json")).expect("parse");
    let kw006 = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW006")
        .expect("KW006 fires");
    assert_eq!(kw006["iam"]["user"], "deploy-bot");
    assert_eq!(kw006["iam"]["status"], "Inactive");
    assert!(kw006["iam"]["age_days"].as_i64() > Some(0));
    let md = keyward(t.path(), &["report", "scan.json", "--format", "markdown"]);
    let text = stdout(&md);
    let keys = md_table(&md_section(&text, &["## Keys"]));
    let key = format!("`{}`", kw006["key_id"].as_str().expect("key_id"));
    assert_eq!(keys.cell(&key, "IAM user"), "`deploy-bot`", "{text}");
    assert_eq!(keys.cell(&key, "Status"), "Inactive", "{text}");
    assert_eq!(
        keys.cell(&key, "Age"),
        format!("{} days (over 90)", kw006["iam"]["age_days"]),
        "{text}"
    );
    assert_eq!(
        lead_parts(&text)[1],
        [
            "2 findings",
            "1 access key",
            "1 file scanned",
            "rotation limit 90 days"
        ],
        "{text}"
    );
}

/// The report says what it is (date, repository and commit, keyward
/// version, IAM source) and lists accepted references among a key's places:
/// during a rotation they still need changing.
#[test]
fn the_report_says_what_it_is_and_lists_accepted_places() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("infra");
    let key = "AKIARZPUZDIKN2ZTHJCF";
    write(&repo, "deploy/.env", format!("AWS_ACCESS_KEY_ID={key}\n"));
    write(
        &repo,
        "legacy/.env",
        format!("AWS_ACCESS_KEY_ID={key} # keyward:ignore -- old runner\n"),
    );
    let git = |args: &[&str]| git_in(&repo, args);
    git(&["init", "-q", "-b", "main"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://bot:s3cr3t-token@example.com/org/infra.git",
    ]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "x"]);
    let head = git(&["rev-parse", "HEAD"]);
    let inventory = root().join("fixtures/rules/KW006-inactive-key-referenced/inventory.json");
    let out = keyward(
        &repo,
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--now",
            FIXTURE_NOW,
            "--inventory",
            inventory.to_str().expect("utf-8"),
            "-o",
            "../scan.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("scan.json")).expect("json");
    assert!(
        !text.contains("s3cr3t-token"),
        "credentials of the remote URL leaked"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        doc["scan"]["repository"],
        "https://example.com/org/infra.git"
    );
    assert_eq!(doc["scan"]["commit"], head.as_str());
    assert_eq!(doc["scan"]["iam"]["source"], "inventory");
    // KW001 and KW006 on the ignored line.
    assert_eq!(doc["accepted"].as_array().map(Vec::len), Some(2), "{doc}");
    let out = report(dir.path(), &["scan.json", "--format", "markdown"]);
    let md = stdout(&out);
    assert_eq!(
        lead_parts(&md)[0],
        [
            "Scanned 2026-11-28 (ages are as of this date)",
            &format!("https://example.com/org/infra.git at {}", &head[..12]),
            &format!("keyward {}", env!("CARGO_PKG_VERSION")),
            &format!(
                "IAM: inventory {} (generated 2026-11-28)",
                inventory.display()
            ),
        ],
        "{md}"
    );
    let keys = md_table(&md_section(&md, &["## Keys"]));
    let places = keys.cell(&format!("`{key}`"), "Places referenced");
    assert_eq!(
        places.split(", ").collect::<Vec<_>>(),
        ["deploy/.env", "legacy/.env (accepted: inline)"],
        "{md}"
    );
}

/// Every format is an emitter of the scan: `scan --format markdown|html`
/// writes the same report as `report` does from the scan's JSON.
#[test]
fn scan_renders_the_audit_report_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (json_path, _) = demo_json(dir.path());
    let tree = dir.path().join("demo");
    for format in ["markdown", "html"] {
        let via_report = report(
            dir.path(),
            &[json_path.to_str().expect("utf-8"), "--format", format],
        );
        assert_eq!(via_report.status.code(), Some(0), "{}", stderr(&via_report));
        let direct = scan_at_fixture_now(&tree, format);
        assert_eq!(direct.status.code(), Some(0), "{}", stderr(&direct));
        assert_eq!(stdout(&direct), stdout(&via_report), "{format}");
    }
}

/// What `--format json` writes, `keyward report` reads back whole: the
/// same types on both sides, so a field cannot be written and then lost.
#[test]
fn the_json_contract_reads_back_what_it_wrote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, doc) = demo_json(dir.path());
    let text = std::fs::read_to_string(&path).expect("read");
    let back = keyward::report::contract::Document::parse(&text).expect("reads back");
    assert_eq!(back.to_text(), text);
    // The demo exercises the optional parts too.
    assert!(back.scan.iam.is_some(), "{doc}");
    assert!(back.findings.iter().any(|f| !f.related.is_empty()));
    assert!(back.findings.iter().any(|f| f.iam.is_some()));
}
