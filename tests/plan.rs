//! `keyward plan` on the demo and its inventory: the key each IAM user
//! keeps, the places that use another key, the steps in order, and no
//! secret anywhere.

mod common;

use common::*;

fn demo_plan(format: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("demo");
    copy_tree(&root().join("fixtures/demo"), &tree);
    let out = keyward(&tree, &["plan", "--format", format, "--now", FIXTURE_NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for secret in planted_secrets() {
        assert!(!text.contains(&secret), "a full secret in the plan");
    }
    text
}

/// Every secret the demo plants, in full (`fixtures/expected/demo.tsv`).
fn planted_secrets() -> Vec<String> {
    let tsv = std::fs::read_to_string(root().join("fixtures/expected/demo.tsv")).expect("tsv");
    tsv.lines()
        .flat_map(|l| l.split('\t'))
        .filter(|f| f.len() >= 40 && !f.starts_with("AKIA") && !f.starts_with("ASIA"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_demo_plan_in_markdown() {
    insta::assert_snapshot!(demo_plan("markdown"));
}

#[test]
fn each_user_keeps_the_newest_active_key_and_retires_the_rest() {
    let plan: serde_json::Value = serde_json::from_str(&demo_plan("json")).expect("json");
    let users = plan["users"].as_array().expect("users");
    let user = |name: &str| {
        users
            .iter()
            .find(|u| u["user"] == name)
            .unwrap_or_else(|| panic!("{name} in {plan}"))
    };
    // A rotation left half done: staging still has the old Active key.
    let api = user("acme-api");
    assert_eq!(api["keep"], "AKIARZPUZDIKLGATVSKW");
    let commands: Vec<String> = api["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .flat_map(|s| s["commands"].as_array().cloned().unwrap_or_default())
        .map(|c| c.as_str().unwrap_or("").to_string())
        .collect();
    let order = |needle: &str| {
        commands
            .iter()
            .position(|c| c.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {commands:?}"))
    };
    // Change the references, then deactivate, watch, delete.
    assert!(order("keyward fix") < order("--status Inactive"));
    assert!(order("--status Inactive") < order("get-access-key-last-used"));
    assert!(order("get-access-key-last-used") < order("delete-access-key"));
    assert!(
        commands.iter().all(|c| !c.contains("AKIARZPUZDIKLGATVSKW")),
        "the kept key is never deactivated"
    );
    // An Inactive key is deleted without a deactivation step.
    let ci = user("github-ci");
    let ci_commands = ci["steps"].to_string();
    assert!(
        ci_commands.contains(
            "delete-access-key --user-name github-ci --access-key-id AKIARZPUZDIKAMOZVAIB"
        )
    );
    assert!(!ci_commands.contains("--status Inactive"), "{ci_commands}");
    // Keys without an owner in IAM have their own section.
    let ownerless: Vec<&str> = plan["ownerless"]
        .as_array()
        .expect("ownerless")
        .iter()
        .map(|k| k["key_id"].as_str().unwrap_or(""))
        .collect();
    assert!(ownerless.contains(&"AKIA6RU73QDQWU7MZ2KM"), "{ownerless:?}");
    assert!(ownerless.contains(&"ASIARZPUZDIKIO54DGO7"), "{ownerless:?}");
}

#[test]
fn without_iam_facts_the_plan_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("demo");
    copy_tree(&root().join("fixtures/demo"), &tree);
    let out = keyward(&tree, &["plan", "--no-iam"]);
    let text = stdout(&out);
    assert!(text.contains("No IAM facts in this run"), "{text}");
    assert!(!text.contains("## IAM user"), "{text}");
}

/// The plan's HTML page: a section per user with its table and steps, the
/// commands in `pre`, backticked names as `code`, nothing unescaped.
#[test]
fn the_demo_plan_in_html() {
    let html = demo_plan("html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<h1>Rotation plan</h1>"), "{html}");
    assert!(
        html.contains("<h2>IAM user <code>acme-api</code> (account 123456789012)</h2>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<li>Keep <code>AKIARZPUZDIKLGATVSKW</code> (the user&#39;s newest Active key)."
        ) || html.contains(
            "<li>Keep <code>AKIARZPUZDIKLGATVSKW</code> (the user&#x27;s newest Active key)."
        ),
        "{html}"
    );
    assert!(
        html.contains("<pre class=\"snip\">aws iam update-access-key --user-name acme-api --access-key-id AKIARZPUZDIKONEHY5VH --status Inactive</pre>"),
        "{html}"
    );
    assert!(html.contains("<h2>Keys no IAM user owns</h2>"), "{html}");
    assert!(!html.contains('`'), "a backtick left unconverted");
}

/// The plan is a section of the audit report too, made from the scan's
/// JSON alone: its IAM users travel in the contract's `iam_users`.
#[test]
fn the_audit_report_has_the_plan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("demo");
    copy_tree(&root().join("fixtures/demo"), &tree);
    let out = scan_at_fixture_now(&tree, "json");
    let doc = json(&out);
    let users: Vec<&str> = doc["iam_users"]
        .as_array()
        .expect("iam_users")
        .iter()
        .map(|u| u["user"].as_str().unwrap_or(""))
        .collect();
    assert!(
        users.contains(&"acme-api") && users.contains(&"github-ci"),
        "{users:?}"
    );
    let report = tree.join("scan.json");
    std::fs::write(&report, stdout(&out)).expect("write");
    let md = stdout(&keyward(
        &tree,
        &["report", "scan.json", "--format", "markdown"],
    ));
    let plan = md
        .split("## Rotation plan\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no plan section: {md}"));
    assert!(
        plan.contains(
            "### IAM user `acme-api` (account 123456789012)\n\nKeep: `AKIARZPUZDIKLGATVSKW`"
        ),
        "{plan}"
    );
    // The report cannot know which fixer applies: it points at the review.
    assert!(
        plan.contains("keyward fix --diff .env.staging deploy/aws/credentials"),
        "{plan}"
    );
    assert!(plan.contains("### Keys no IAM user owns"), "{plan}");
    for secret in planted_secrets() {
        assert!(!md.contains(&secret), "a full secret in the report");
    }
    let html = stdout(&keyward(
        &tree,
        &["report", "scan.json", "--format", "html"],
    ));
    assert!(
        html.contains("<section class=\"plan\" id=\"rotation-plan\">\n<h2>Rotation plan</h2>"),
        "{html}"
    );
}
