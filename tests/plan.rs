//! `keyward plan` on the demo and its inventory: every exposed key retired,
//! the steps in order within AWS's two-key limit, and no secret anywhere.

mod common;

use common::markup::*;
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

/// Each step of a user as `(action, key)`.
fn steps_of(user: &serde_json::Value) -> Vec<(String, Option<String>)> {
    user["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap_or("").to_string(),
                s["key"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn step(action: &str, key: Option<&str>) -> (String, Option<String>) {
    (action.to_string(), key.map(str::to_string))
}

/// Nothing exposed is kept: every key the repository holds ends deleted,
/// in order, and AWS's two-key limit is respected.
#[test]
fn every_exposed_key_is_retired_in_order() {
    let plan: serde_json::Value = serde_json::from_str(&demo_plan("json")).expect("json");
    let users = plan["users"].as_array().expect("users");
    let user = |name: &str| {
        users
            .iter()
            .find(|u| u["user"] == name)
            .unwrap_or_else(|| panic!("{name} in {plan}"))
    };
    // Two Active keys, both in the repository: the least recently used
    // goes first to make room (said plainly), then the replacement, then
    // the other.
    let api = user("acme-api");
    assert!(api["keep"].is_null(), "{api}");
    let (old, newer) = (Some("AKIARZPUZDIKONEHY5VH"), Some("AKIARZPUZDIKLGATVSKW"));
    assert_eq!(
        steps_of(api),
        [
            step("deactivate", old),
            step("delete", old),
            step("create-key", None),
            step("store-secret", None),
            step("update-references", None),
            step("verify", None),
            step("deactivate", newer),
            step("wait-unused", newer),
            step("delete", newer),
        ]
    );
    assert_eq!(
        api["steps"][0]["warning"],
        "whatever still uses `AKIARZPUZDIKONEHY5VH` (1 day ago (s3 in eu-west-1)) \
         stops working now, before its replacement exists, until its places read the new key",
        "{api}"
    );
    // The user's only key is hardcoded: the full sequence, with commands.
    let nightly = user("nightly-export");
    let key = Some("AKIARZPUZDIKEFYRYMFT");
    assert_eq!(
        steps_of(nightly),
        [
            step("create-key", None),
            step("store-secret", None),
            step("update-references", None),
            step("verify", None),
            step("deactivate", key),
            step("wait-unused", key),
            step("delete", key),
        ]
    );
    for s in nightly["steps"].as_array().expect("steps") {
        let cmds = s["commands"].as_array().expect("commands");
        assert!(!cmds.is_empty(), "a step without a command: {s}");
    }
    // An Active key the repository does not hold stays; the exposed
    // Inactive one is deleted, without a deactivation.
    let ci = user("github-ci");
    assert_eq!(ci["keep"], "AKIARZPUZDIKNSHJY7RU");
    let gone = Some("AKIARZPUZDIKAMOZVAIB");
    assert_eq!(
        steps_of(ci),
        [
            step("update-references", Some("AKIARZPUZDIKNSHJY7RU")),
            step("verify", Some("AKIARZPUZDIKNSHJY7RU")),
            step("delete", gone),
        ]
    );
    // Every exposed key of every user ends deleted; every step is of its
    // user's account.
    for u in users {
        let deleted: Vec<Option<String>> = steps_of(u)
            .into_iter()
            .filter(|(a, _)| a == "delete")
            .map(|(_, k)| k)
            .collect();
        for k in u["keys"].as_array().expect("keys") {
            if k["exposed"] == true {
                let id = k["key_id"].as_str().map(str::to_string);
                assert!(deleted.contains(&id), "{id:?} of {} kept", u["user"]);
            }
        }
        for s in u["steps"].as_array().expect("steps") {
            assert_eq!(s["account"], u["account"], "{s}");
        }
    }
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
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        md_lead(&md_section(&text, &["# Rotation plan"])),
        [
            "No IAM facts in this run: run `keyward plan --inventory FILE` or `--live` \
             to know whose keys these are."
        ],
        "{text}"
    );
    // No section per IAM user: every key is one nobody is known to own.
    assert_eq!(
        md_headings(&text.lines().collect::<Vec<_>>()),
        ["# Rotation plan", "## Keys no IAM user owns"],
        "{text}"
    );
}

/// The plan's HTML page: a section per user with its table and steps, the
/// commands in `pre`, backticked names as `code`, nothing unescaped.
#[test]
fn the_demo_plan_in_html() {
    let html = demo_plan("html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert_eq!(html_elements(&html, "h1"), ["<h1>Rotation plan</h1>"]);
    assert_eq!(
        html_elements(&html, "h2"),
        [
            "<h2>IAM user <code>acme-api</code> (account 123456789012)</h2>",
            "<h2>IAM user <code>github-ci</code> (account 123456789012)</h2>",
            "<h2>IAM user <code>nightly-export</code> (account 123456789012)</h2>",
            "<h2>IAM user <code>report-worker</code> (account 123456789012)</h2>",
            "<h2>IAM user <code>terraform-prod</code> (account 123456789012)</h2>",
            "<h2>Keys no IAM user owns</h2>",
        ]
    );
    // acme-api's first step: what it does, the warning, the command.
    assert_eq!(
        html_elements(&html, "li")[0],
        "<li><code>deactivate</code> Deactivate <code>AKIARZPUZDIKONEHY5VH</code>, the least \
         recently used of the two Active keys, to make room: AWS allows two keys per user.<br>\
         <strong>Careful:</strong> whatever still uses <code>AKIARZPUZDIKONEHY5VH</code> (1 day \
         ago (s3 in eu-west-1)) stops working now, before its replacement exists, until its \
         places read the new key.<pre class=\"snip\">aws iam update-access-key --user-name \
         acme-api --access-key-id AKIARZPUZDIKONEHY5VH --status Inactive</pre></li>"
    );
    assert!(!html.contains('`'), "a backtick left unconverted");
    insta::assert_snapshot!("the_demo_plan_in_html", html);
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
    let plan = md_section(&md, &["## Rotation plan"]);
    assert_eq!(
        md_headings(&plan),
        [
            "### IAM user `acme-api` (account 123456789012)",
            "### IAM user `github-ci` (account 123456789012)",
            "### IAM user `nightly-export` (account 123456789012)",
            "### IAM user `report-worker` (account 123456789012)",
            "### IAM user `terraform-prod` (account 123456789012)",
            "### Keys no IAM user owns",
        ],
        "{md}"
    );
    let api = md_section(
        &md,
        &[
            "## Rotation plan",
            "### IAM user `acme-api` (account 123456789012)",
        ],
    );
    assert_eq!(
        md_lead(&api)[0],
        "Keeps: a new key (every Active key of the user is in the repository: \
         a new one replaces them)"
    );
    // The report cannot know which fixer applies: it points at the review.
    let update = api
        .iter()
        .position(|l| l.starts_with("5. `update-references` "))
        .unwrap_or_else(|| panic!("no update-references step: {api:#?}"));
    assert_eq!(
        md_code_blocks(&api[update..])[0],
        [
            "keyward fix --diff .env.staging charts/api/values-prod.yaml deploy/aws/credentials \
             k8s/secret.yaml terraform/envs/prod/prod.tfvars"
        ]
    );
    for secret in planted_secrets() {
        assert!(!md.contains(&secret), "a full secret in the report");
    }
    let html = stdout(&keyward(
        &tree,
        &["report", "scan.json", "--format", "html"],
    ));
    assert_eq!(
        html_open_tag(html_section(&html, "Rotation plan")),
        "<section class=\"plan\" id=\"rotation-plan\">"
    );
}

/// Why a key no IAM user owns gets no rotation is the rules' to say (their
/// `plan:` text), a custom rule's too: the demo's key of another account
/// with KW005 on, then with KW005 off and a custom rule that says more.
#[test]
fn a_rule_says_what_the_plan_does_with_a_key_nobody_owns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tree = dir.path().join("demo");
    copy_tree(&root().join("fixtures/demo"), &tree);
    let why_of = |tree: &std::path::Path| -> String {
        let out = keyward(tree, &["plan", "--format", "json", "--now", FIXTURE_NOW]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        plan["ownerless"]
            .as_array()
            .expect("ownerless")
            .iter()
            .find(|k| k["key_id"] == "AKIA6RU73QDQWU7MZ2KM")
            .and_then(|k| k["why"].as_str())
            .expect("the foreign key in ownerless")
            .to_string()
    };
    let kw005 =
        std::fs::read_to_string(root().join("rules/KW005-foreign-account-key.yaml")).expect("rule");
    let said: serde_norway::Value = serde_norway::from_str(&kw005).expect("yaml");
    assert_eq!(why_of(&tree), said["plan"].as_str().expect("plan:"));

    let config = std::fs::read_to_string(tree.join("keyward.toml")).expect("config");
    std::fs::write(
        tree.join("keyward.toml"),
        format!("{config}\n[rules]\nrules-dir = \"policy\"\nKW005 = \"off\"\n"),
    )
    .expect("write");
    std::fs::create_dir_all(tree.join("policy")).expect("mkdir");
    std::fs::write(
        tree.join("policy/KW901-vendor-key.yaml"),
        r#"id: KW901
name: vendor-key
severity: high
summary: A key of the vendor's account
when: candidate.kind == "access-key-id" && key.account != "" && key.account != "123456789012"
message: "access key `{key.id}` is the vendor's (account {key.account})"
help: "Ask the vendor for a role instead."
plan: "the vendor's key: open a ticket with the vendor (VEND-7) to revoke it"
docs: |
  ## What it does
  Reports the vendor's keys.
  ## Why is this bad?
  We cannot rotate them.
  ## Example
  A key of account 999988887777.
  ## How to fix
  Ask the vendor.
"#,
    )
    .expect("write");
    assert_eq!(
        why_of(&tree),
        "the vendor's key: open a ticket with the vendor (VEND-7) to revoke it"
    );
}

/// Why a user comes first is the `first:` of the rule that reports its
/// exposed key (KW013 here: AWS quarantined the user), filled in; with the
/// rule turned off the user is not put first.
#[test]
fn a_rule_says_why_a_user_comes_first() {
    let fixture = root().join("fixtures/rules/KW013-aws-quarantined-key");
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixture.join("fail"), dir.path());
    std::fs::copy(fixture.join("inventory.json"), dir.path().join("iam.json")).expect("copy");
    let urgent_of = |dir: &std::path::Path| -> serde_json::Value {
        let out = keyward(
            dir,
            &[
                "plan",
                "--format",
                "json",
                "--inventory",
                "iam.json",
                "--now",
                FIXTURE_NOW,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        let user = plan["users"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["user"] == "ci-deploy")
            .expect("ci-deploy in the plan")
            .clone();
        user["urgent"].clone()
    };
    let rule =
        std::fs::read_to_string(root().join("rules/KW013-aws-quarantined-key.yaml")).expect("rule");
    let said: serde_norway::Value = serde_norway::from_str(&rule).expect("yaml");
    let first = said["first"].as_str().expect("first:");
    let want = first
        .replace("{user}", "ci-deploy")
        .replace(
            "{policies}",
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
        )
        .replace("{id}", "KW013");
    assert_eq!(urgent_of(dir.path()), serde_json::json!(want));
    std::fs::write(
        dir.path().join("keyward.toml"),
        "[rules]\nKW013 = \"off\"\n",
    )
    .expect("write");
    assert_eq!(urgent_of(dir.path()), serde_json::Value::Null);
}
