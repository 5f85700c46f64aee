//! Configuration, inline ignores, allow entries, baselines, the gate.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const KEY: &str = "AKIARZPUZDIKEEQH746Y";
const SECRET: &str = "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";

fn rules_at(dir: &Path, args: &[&str]) -> Vec<(String, String, u64)> {
    let mut all = vec!["scan", "--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let out = keyward(dir, &all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json(&out)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(rule_path_line)
        .collect()
}

#[test]
fn docs_rules_md_is_up_to_date() {
    let set = keyward::rules::RuleSet::builtin().expect("rules");
    let generated = keyward::rules::docs::markdown(&set);
    let committed = fs::read_to_string(root().join("docs/rules.md")).expect("docs/rules.md");
    assert!(
        generated == committed,
        "docs/rules.md is out of date: run `cargo run -- rules --format markdown > docs/rules.md`"
    );
    for r in &set.rules {
        assert!(committed.contains(&format!("## {}", r.id)));
    }
}

#[test]
fn config_turns_rules_off_changes_severity_and_gates() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "app.env",
        format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
    );
    write(d, "vendor/lib.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(
        d,
        "keyward.toml",
        "[scan]\nexclude = [\"vendor/**\"]\n[policy]\nfail-on = \"critical\"\n[rules]\nKW002 = \"off\"\nKW001 = { severity = \"critical\" }\n",
    );
    let found = rules_at(d, &[]);
    assert_eq!(found, [("KW001".to_string(), "app.env".to_string(), 1)]);
    let out = keyward(d, &["scan", "--format", "json"]);
    assert_eq!(json(&out)["findings"][0]["severity"], "critical");
    assert_eq!(json(&out)["summary"]["excluded"], 1);
    assert_eq!(out.status.code(), Some(1));
    // The flag wins over the config's fail-on.
    assert_eq!(
        keyward(d, &["scan", "--fail-on", "never"]).status.code(),
        Some(0)
    );
    let shown = stdout(&keyward(d, &["config", "show"]));
    assert!(shown.contains("KW002 = \"off\""), "{shown}");
    assert!(shown.contains("fail-on = \"critical\""), "{shown}");
    let listed = stdout(&keyward(d, &["rules"]));
    let kw002 = listed
        .lines()
        .find(|l| l.starts_with("KW002"))
        .expect("KW002 listed");
    assert!(kw002.contains(" no "), "{kw002}");
}

#[test]
fn config_errors_exit_2_with_a_span() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "a.env", "X=1\n");
    for (text, needle) in [
        ("[scan]\nexclud = []\n", "exclud"),
        ("[scan]\nexclude = [\"b/[\"]\n", "bad glob"),
        ("[policy]\nfail-on = \"urgent\"\n", "urgent"),
        ("[rules]\nKW999 = \"off\"\n", "no rule `KW999`"),
    ] {
        write(d, "keyward.toml", text);
        let out = keyward(d, &["scan"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = stderr(&out);
        assert!(err.contains(needle), "{text}: {err}");
        assert!(
            err.contains("keyward.toml:"),
            "no span into the file: {err}"
        );
    }
}

#[test]
fn custom_rules_are_added_and_broken_ones_rejected() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "prod/app.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(d, "keyward.toml", "[rules]\nrules-dir = \"policy\"\n");
    write(
        d,
        "policy/KW900-prod-key.yaml",
        "id: KW900\nname: prod-key\nseverity: critical\nsummary: A key in a prod path\nwhen: candidate.kind == \"access-key-id\" && file.env == \"prod\"\nmessage: \"`{key.id}` sits in a prod file\"\nhelp: \"move it\"\ndocs: |\n  ## What it does\n  x\n  ## Why is this bad?\n  x\n  ## Example\n  x\n  ## How to fix\n  x\n",
    );
    let found = rules_at(d, &[]);
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(rules, ["KW001", "KW900"]);
    write(
        d,
        "policy/KW901-broken.yaml",
        "id: KW901\nname: broken\nseverity: low\nsummary: x\nwhen: key.nope\nmessage: m\nhelp: h\ndocs: |\n  ## What it does\n  ## Why is this bad?\n  ## Example\n  ## How to fix\n",
    );
    let out = keyward(d, &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("key.nope"));
}

#[test]
fn inline_ignores_in_every_format_and_unused_ones_are_reported() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "main.tf",
        format!(
            "provider \"aws\" {{\n  # keyward:ignore KW001 -- canary\n  access_key = \"{KEY}\"\n  region = \"x\" // keyward:ignore\n}}\n"
        ),
    );
    write(
        d,
        "values.yaml",
        format!("aws:\n  key: {KEY} # keyward:ignore\n"),
    );
    write(
        d,
        "app.env",
        format!("# keyward:ignore KW001,KW002 -- rotated\nAWS_ACCESS_KEY_ID={KEY}\n"),
    );
    write(
        d,
        "credentials",
        format!("[default]\n; keyward:ignore\naws_access_key_id = {KEY}\n"),
    );
    write(
        d,
        "deploy.sh",
        format!("export AWS_ACCESS_KEY_ID={KEY} # keyward:ignore KW002\n"),
    );
    let found = rules_at(d, &[]);
    assert_eq!(
        found,
        [
            ("KW001".to_string(), "deploy.sh".to_string(), 1),
            ("KW000".to_string(), "deploy.sh".to_string(), 1),
            ("KW000".to_string(), "main.tf".to_string(), 4),
        ],
        "only the wrongly targeted and the stale ignores remain"
    );
    let out = keyward(d, &["scan"]);
    let text = stdout(&out);
    assert!(text.contains("4 suppressed (4 by inline)"), "{text}");
}

#[test]
fn allow_entries_need_and_carry_reasons() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    // Not a documentation account's key: in Markdown it is still a finding.
    let key = "AKIA2UC3C4FQTBRPOIGF";
    write(d, "docs/setup.md", format!("Use `{key}`.\n"));
    write(d, "app.env", format!("AWS_ACCESS_KEY_ID={key}\n"));
    write(
        d,
        "keyward.toml",
        "[[allow]]\npath = \"docs/**\"\nreason = \"docs\"\n",
    );
    assert_eq!(
        rules_at(d, &[]),
        [("KW001".to_string(), "app.env".to_string(), 1)]
    );
    write(
        d,
        "keyward.toml",
        format!("[[allow]]\nkey-id = \"{key}\"\nreason = \"canary\"\n"),
    );
    assert!(rules_at(d, &[]).is_empty());
}

/// The demo repo, reformatted: lines moved, reindented, keys reordered.
fn reformat(dir: &Path) {
    let providers = dir.join("terraform/envs/prod/providers.tf");
    let text = fs::read_to_string(&providers).expect("providers.tf");
    let moved = format!(
        "{}{}",
        "\n# spacer\n".repeat(50),
        text.replace("  ", "    ")
    );
    fs::write(&providers, moved).expect("write");
    let env = dir.join(".env.staging");
    let text = fs::read_to_string(&env).expect(".env.staging");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    fs::write(&env, format!("\n\n{}\n", lines.join("\n"))).expect("write");
    let values = dir.join("charts/api/values-prod.yaml");
    let text = fs::read_to_string(&values).expect("values");
    fs::write(&values, format!("# moved down\n\n\n{text}")).expect("write");
}

#[test]
fn baseline_survives_a_reformat_and_catches_a_changed_secret() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    copy_tree(&root().join("fixtures/demo"), d);
    let out = keyward(d, &["baseline", "-o", "baseline.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The demo's keyward.toml names no baseline: nothing uses this one yet,
    // and the command says how to use it.
    assert!(
        stdout(&out).contains(
            "scans use it with `--baseline baseline.json`; to share it with the hook and the \
             Action, add `baseline = \"baseline.json\"` under `[scan]` in keyward.toml"
        ),
        "{}",
        stdout(&out)
    );
    let text = fs::read_to_string(d.join("baseline.json")).expect("baseline");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    let n = doc["findings"].as_array().expect("findings").len();
    assert!(n >= 30, "{n}");
    for row in expected("demo") {
        if row.kind.contains("secret") || row.kind == "session-token" {
            assert!(!text.contains(&row.value), "baseline holds a secret");
        }
    }
    // Stable: a second run writes the same bytes.
    keyward(d, &["baseline", "-o", "baseline2.json"]);
    assert_eq!(
        text,
        fs::read_to_string(d.join("baseline2.json")).expect("second")
    );

    reformat(d);
    let after = keyward(
        d,
        &["scan", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
    let doc = json(&after);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        doc["summary"]["suppressed"]["baseline"].as_u64(),
        Some(n as u64)
    );

    // A changed secret resurfaces, and only that one.
    let prov = d.join("terraform/envs/prod/providers.tf");
    let text = fs::read_to_string(&prov).expect("providers");
    let secret = expected("demo")
        .into_iter()
        .find(|e| e.path == "terraform/envs/prod/providers.tf" && e.kind == "secret")
        .expect("planted secret")
        .value;
    let changed: String = secret.chars().rev().collect();
    fs::write(&prov, text.replace(&secret, &changed)).expect("write");
    let again = keyward(
        d,
        &["scan", "--baseline", "baseline.json", "--format", "json"],
    );
    let doc = json(&again);
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect();
    assert!(rules.contains(&"KW002"), "{rules:?}");
    assert!(
        doc["findings"]
            .as_array()
            .expect("f")
            .iter()
            .all(|f| f["path"] == "terraform/envs/prod/providers.tf")
    );
    assert_eq!(again.status.code(), Some(1));
}

#[test]
fn config_init_writes_a_valid_starter() {
    let t = tempfile::tempdir().expect("tempdir");
    let out = keyward(t.path(), &["config", "init"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(t.path().join("keyward.toml").is_file());
    assert_eq!(
        keyward(t.path(), &["config", "init"]).status.code(),
        Some(2)
    );
    assert_eq!(
        keyward(t.path(), &["config", "show"]).status.code(),
        Some(0)
    );
}

/// An ignore naming a rule that does not exist is reported with the name,
/// and does not silence anything; rule names work as IDs do.
#[test]
fn ignores_naming_unknown_rules_are_reported() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "a.env",
        format!("# keyward:ignore KW01 -- typo\nAWS_ACCESS_KEY_ID={KEY}\n"),
    );
    write(
        d,
        "b.env",
        format!("AWS_ACCESS_KEY_ID={KEY} # keyward:ignore hardcoded-access-key, KW1234\n"),
    );
    let out = keyward(d, &["scan", "--format", "json", "--fail-on", "never"]);
    let doc = json(&out);
    let found: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(rule_path_line)
        .collect();
    assert_eq!(
        found,
        [
            ("KW000".to_string(), "a.env".to_string(), 1),
            ("KW001".to_string(), "a.env".to_string(), 2),
            ("KW000".to_string(), "b.env".to_string(), 1),
        ]
    );
    let messages: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW000")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages[0].contains("names `KW01`, which is not a rule")
            && messages[0].contains("suppresses nothing"),
        "{messages:?}"
    );
    // b.env's comment did suppress KW001 by name; only the typo is reported.
    assert!(
        messages[1].contains("`KW1234`") && !messages[1].contains("suppresses nothing"),
        "{messages:?}"
    );
    assert_eq!(doc["summary"]["suppressed"]["inline"], 1);
}

/// Allow entries that accept nothing in a scan of the whole tree are
/// reported on their line (ruff's RUF100 for unused noqa); a scan of part of
/// the tree says nothing about them.
#[test]
fn unused_allow_entries_are_reported_on_whole_tree_scans() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, "app/a.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(
        d,
        "keyward.toml",
        format!(
            "[[allow]]\nkey-id = \"{KEY}\"\npath = \"app/**\"\nreason = \"canary\"\n\n\
             [[allow]]\npath = \"docs/**\"\nreason = \"docs\"\n"
        ),
    );
    assert_eq!(
        rules_at(d, &[]),
        [("KW000".to_string(), "keyward.toml".to_string(), 6)]
    );
    assert!(rules_at(d, &["app"]).is_empty());
    // key-id and path together: the key elsewhere is not accepted.
    write(d, "other/b.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    assert_eq!(
        rules_at(d, &["app", "other"]),
        [("KW001".to_string(), "other/b.env".to_string(), 1)]
    );
    // A key-id must be whole.
    write(
        d,
        "keyward.toml",
        "[[allow]]\nkey-id = \"AKIARZPUZDIK\"\nreason = \"prefix\"\n",
    );
    let out = keyward(d, &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("whole access key ID"),
        "{}",
        stderr(&out)
    );
}

/// A baselined finding whose file moved stays accepted, counted as moved;
/// a copy (the old place still has it) is new.
#[test]
fn moving_a_file_keeps_its_baselined_findings() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "k8s/base/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nstringData:\n  AWS_ACCESS_KEY_ID: {KEY}\n  AWS_SECRET_ACCESS_KEY: {SECRET}\n"
        ),
    );
    let out = keyward(d, &["baseline", "-o", "base.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(rules_at(d, &["--baseline", "base.json"]).is_empty());
    fs::rename(
        d.join("k8s/base/secret.yaml"),
        d.join("k8s/base/aws-secret.yaml"),
    )
    .expect("mv");
    let out = keyward(d, &["scan", "--baseline", "base.json", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc = json(&out);
    assert_eq!(doc["summary"]["baseline_moved"], 2, "{doc}");
    assert_eq!(doc["summary"]["suppressed"]["baseline"], 2, "{doc}");
    let human = keyward(d, &["scan", "--baseline", "base.json"]);
    assert!(
        stdout(&human).contains("2 suppressed (2 by baseline; 2 moved)"),
        "{}",
        stdout(&human)
    );

    // A copy: the old place still holds the findings, the new one is new.
    fs::copy(
        d.join("k8s/base/aws-secret.yaml"),
        d.join("k8s/base/secret.yaml"),
    )
    .expect("cp");
    assert_eq!(
        rules_at(d, &["--baseline", "base.json"]),
        [
            (
                "KW001".to_string(),
                "k8s/base/aws-secret.yaml".to_string(),
                4
            ),
            (
                "KW002".to_string(),
                "k8s/base/aws-secret.yaml".to_string(),
                5
            ),
        ]
    );
}

/// `--select`, `--extend-select` and `--ignore` as ruff has them, after
/// `[rules]`'s own; an ignore or allow entry for a rule that did not run is
/// not called unused.
#[test]
fn rules_are_selected_on_the_command_line_and_in_the_configuration() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(
        d,
        "app.env",
        format!(
            "AWS_ACCESS_KEY_ID={KEY} # keyward:ignore KW001 -- canary\nAWS_SECRET_ACCESS_KEY={SECRET}\n"
        ),
    );
    write(d, "other.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    let rules = |args: &[&str]| -> Vec<String> {
        let mut r: Vec<String> = rules_at(d, args).into_iter().map(|(r, _, _)| r).collect();
        r.sort();
        r.dedup();
        r
    };
    assert_eq!(rules(&[]), ["KW001", "KW002"]);
    assert_eq!(rules(&["--select", "hardcoded-secret-key"]), ["KW002"]);
    assert_eq!(
        rules(&["--ignore", "KW001"]),
        ["KW002"],
        "no KW000 for the ignore"
    );
    assert_eq!(
        rules(&[
            "--select",
            "ALL",
            "--ignore",
            "KW00",
            "--extend-select",
            "KW001"
        ]),
        ["KW001"]
    );
    write(d, "keyward.toml", "[rules]\nselect = [\"KW001\"]\n");
    assert_eq!(rules(&[]), ["KW001"]);
    assert_eq!(rules(&["--extend-select", "KW002"]), ["KW001", "KW002"]);
    assert_eq!(
        rules(&["--select", "KW002"]),
        ["KW002"],
        "the command line's select replaces"
    );
    write(
        d,
        "keyward.toml",
        "[rules]\nignore = [\"KW01\", \"nonsense\"]\n",
    );
    let out = keyward(d, &["scan"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("`nonsense` to ignore"), "{err}");
    let out = keyward(d, &["scan", "--select", "KW9"]);
    assert_eq!(out.status.code(), Some(2));
}
