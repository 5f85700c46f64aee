//! The library entry point runs the whole pipeline: what the CLI reports,
//! a caller of `keyward::Scan` gets, suppression and KW000 included, from
//! the disk or from one editor buffer.

mod common;

use std::path::Path;

use common::*;
use keyward::{Named, PolicySet};

// Synthetic (scripts/genkey.py --seed 7).
const KEY: &str = "AKIARZPUZDIKKJZDEGXD";
const SECRET: &str = "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";

fn policy(dir: &Path) -> PolicySet {
    let config = keyward::config::load(&dir.join("keyward.toml")).expect("config");
    let rules = keyward::rules::RuleSet::configured(&config).expect("rules");
    PolicySet::from_work_tree(config, rules, None, Named::default(), dir)
}

fn rules_of(out: &keyward::ScanOutput) -> Vec<String> {
    out.active().map(|f| f.rule.clone()).collect()
}

#[test]
fn a_library_scan_suppresses_and_reports_unused_ignores_as_the_cli_does() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "keyward.toml",
        format!(
            "[policy]\nfail-on = \"high\"\n[[allow]]\npath = \"docs/**\"\nreason = \"examples\"\n[[allow]]\nkey-id = \"{KEY}\"\npath = \"nowhere/**\"\nreason = \"matches nothing\"\n"
        ),
    );
    write(
        d,
        "app.env",
        format!(
            "AWS_ACCESS_KEY_ID={KEY} # keyward:ignore KW001 -- rotated, tracked in SEC-12\nAWS_SECRET_ACCESS_KEY={SECRET}\n# keyward:ignore KW003 -- nothing here\nREGION=eu-west-1\n"
        ),
    );
    write(
        d,
        "docs/setup.md",
        format!("export AWS_SECRET_ACCESS_KEY={SECRET}\n"),
    );
    let policy = policy(d);
    let out = keyward::Scan::new(&policy)
        .cwd(d)
        .paths([d])
        .run()
        .expect("scan");
    let mut rules = rules_of(&out);
    rules.sort();
    // KW001 accepted inline, the docs secret by `[[allow]]`; the ignore for
    // KW003 and the allow entry for `nowhere/**` accept nothing: KW000.
    assert_eq!(rules, ["KW000", "KW000", "KW002"], "{:#?}", out.findings);
    let accepted: Vec<_> = out
        .findings
        .iter()
        .filter_map(|f| f.suppression.as_ref().map(|s| (f.rule.as_str(), s.kind)))
        .collect();
    assert!(
        accepted.contains(&("KW001", keyward::SuppressionKind::Inline)),
        "{accepted:?}"
    );
    assert!(
        accepted.contains(&("KW002", keyward::SuppressionKind::Allow)),
        "{accepted:?}"
    );
    // The gate is the configuration's: KW002 is critical, KW000 is not high.
    let gate = out.gate.expect("judged");
    assert_eq!(
        gate.fail_on,
        keyward::FailOn::At(keyward::rules::Severity::High)
    );
    assert_eq!(gate.failing, 1);

    // The same through the CLI.
    let cli = json(&keyward(d, &["scan", ".", "--format", "json"]));
    let mut cli_rules: Vec<&str> = cli["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    cli_rules.sort();
    assert_eq!(cli_rules, ["KW000", "KW000", "KW002"]);
}

/// An editor's unsaved buffer: scanned under its path (which picks the
/// parser and the `[[allow]]` entries), nothing read from the disk.
#[test]
fn one_buffer_is_scanned_under_its_path() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "keyward.toml",
        "[[allow]]\npath = \"fixtures/**\"\nreason = \"test data\"\n",
    );
    let policy = policy(d);
    let text =
        format!("provider \"aws\" {{\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n");
    let out = keyward::Scan::new(&policy)
        .cwd(d)
        .buffer("infra/providers.tf", text.clone())
        .run()
        .expect("scan");
    assert_eq!(rules_of(&out), ["KW001", "KW002"]);
    let f = out.active().next().expect("a finding");
    assert_eq!(out.files[f.file].path, "infra/providers.tf");
    assert_eq!(&text[f.span.clone()], KEY);
    assert_eq!(f.context, "provider.aws.access_key");
    assert!(!d.join("infra").exists());

    let out = keyward::Scan::new(&policy)
        .cwd(d)
        .buffer("fixtures/providers.tf", text)
        .run()
        .expect("scan");
    assert!(rules_of(&out).is_empty(), "{:#?}", out.findings);
    assert_eq!(out.findings.len(), 2, "kept, as accepted");
}

/// A rule author adds a rule with related locations in YAML alone: here,
/// every place a key is referenced points at the others.
#[test]
fn a_custom_rule_with_related_locations() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "keyward.toml", "[rules]\nrules-dir = \"policy\"\n");
    write(
        d,
        "policy/KW900-shared-key.yaml",
        r#"id: KW900
name: shared-key
severity: medium
summary: One key configured in several places
when: candidate.kind == "access-key-id" && repo.refs > 1
message: "access key `{key.id}` is configured in {repo.refs} places"
help: "Give each workload its own credentials."
related:
  keys: key.id
  message: "`{key.id}` is also configured here"
docs: |
  ## What it does
  Reports keys configured in more than one place.
  ## Why is this bad?
  Rotating one place breaks the others.
  ## Example
  Two services with one key.
  ## How to fix
  One key per workload.
"#,
    );
    write(d, "a.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(d, "b/c.env", format!("\nAWS_ACCESS_KEY_ID={KEY}\n"));
    let doc = json(&keyward(
        d,
        &["scan", ".", "--format", "json", "--fail-on", "never"],
    ));
    let shared: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW900")
        .collect();
    assert_eq!(shared.len(), 2, "{doc:#}");
    for f in &shared {
        let related = f["related"].as_array().expect("related");
        // The other place, not itself.
        assert_eq!(related.len(), 1, "{f:#}");
        assert_ne!(related[0]["path"], f["path"], "{f:#}");
        assert_eq!(
            related[0]["message"],
            format!("`{KEY}` is also configured here")
        );
    }
    let human = stdout(&keyward(d, &["scan", ".", "--fail-on", "never"]));
    assert!(
        human.contains(&format!("☞ `{KEY}` is also configured here")),
        "{human}"
    );
}

/// After a rotation, a Terraform resource that writes the credential reads
/// it from the store through one data source per store, added once, and the
/// file still parses as HCL.
#[test]
fn a_rotation_points_a_terraform_resource_at_the_store() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "keyward.toml", "");
    write(
        d,
        "infra/ci.tf",
        format!(
            "resource \"local_file\" \"note\" {{\n  filename = \"note\"\n  content  = \"x\"\n}}\n\nresource \"vault_aws_secret_backend\" \"aws\" {{\n  path       = \"aws\"\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n"
        ),
    );
    let policy = policy(d);
    let out = keyward::Scan::new(&policy)
        .cwd(d)
        .paths([d])
        .run()
        .expect("scan");
    for (kind, data) in [
        (
            keyward::fix::StoreKind::SecretsManager,
            "data.aws_secretsmanager_secret_version.keyward_ci.secret_string",
        ),
        (
            keyward::fix::StoreKind::Ssm,
            "data.aws_ssm_parameter.keyward_ci.value",
        ),
    ] {
        let opts = keyward::fix::FixOptions {
            unsafe_fixes: true,
            buffer: false,
            only: None,
            keys: None,
            store: Some(keyward::fix::FixStore {
                kind,
                name: "keyward/ci".into(),
                k8s_secret: "keyward-ci".into(),
            }),
        };
        let fixes = keyward::fix::fixes(&out, &opts, d);
        assert_eq!(fixes.changes.len(), 1, "{:#?}", fixes.refused);
        let after = &fixes.changes[0].after;
        assert!(!after.contains(KEY) && !after.contains(SECRET), "{after}");
        for field in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let read = format!("jsondecode({data})[\"{field}\"]");
            assert_eq!(after.matches(&read).count(), 1, "{read} in\n{after}");
        }
        // One data source for both fields, naming the store.
        let block = data.split('.').nth(1).expect("type");
        assert_eq!(
            after
                .matches(&format!("data \"{block}\" \"keyward_ci\""))
                .count(),
            1,
            "{after}"
        );
        assert!(after.contains("\"keyward/ci\""), "{after}");
        // Still HCL: a rescan of the fixed text finds nothing and warns of nothing.
        write(d, "fixed/ci.tf", after.clone());
        let again = keyward::Scan::new(&policy)
            .cwd(d)
            .paths([d.join("fixed")])
            .run()
            .expect("rescan");
        assert_eq!(again.active().count(), 0, "{:#?}", again.findings);
        assert!(again.warnings.is_empty(), "{:#?}", again.warnings);
    }
}
