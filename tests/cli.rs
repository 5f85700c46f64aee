//! CLI contract: JSON shape, exit codes, walker behaviour, bad input.

mod common;

use std::fs;

use common::*;

const KEY: &str = "AKIARZPUZDIKEEQH746Y";
const SECRET: &str = "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";

fn repo_with_key() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    write(
        t.path(),
        "envs/prod/providers.tf",
        format!(
            "provider \"aws\" {{\n  region     = \"eu-west-1\"\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n"
        ),
    );
    t
}

#[test]
fn json_contract() {
    let t = repo_with_key();
    let out = keyward(t.path(), &["scan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let top: Vec<&str> = doc
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        top,
        [
            "accepted",
            "errors",
            "findings",
            "gate",
            "iam_users",
            "more",
            "policy",
            "scan",
            "summary",
            "tool",
            "version"
        ]
    );
    // No IAM source in this run: no owners to list.
    assert_eq!(doc["iam_users"], serde_json::json!([]));
    assert_eq!(
        doc["gate"],
        serde_json::json!({"fail_on": "low", "failing": 2})
    );
    assert_eq!(doc["policy"]["max_key_age_days"], 90);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["tool"]["name"], "keyward");
    assert_eq!(doc["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let f = &doc["findings"][0];
    let keys: Vec<&str> = f
        .as_object()
        .expect("finding")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "account",
            "column",
            "context",
            "end_column",
            "end_line",
            "fingerprint",
            "iam",
            "key_id",
            "line",
            "message",
            "name",
            "path",
            "related",
            "rule",
            "secret",
            "severity",
            "snippet"
        ]
    );
    assert_eq!(f["rule"], "KW001");
    assert_eq!(f["name"], "hardcoded-access-key");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["path"], "envs/prod/providers.tf");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(17))
    );
    assert_eq!(
        (f["end_line"].as_u64(), f["end_column"].as_u64()),
        (Some(3), Some(37))
    );
    assert_eq!(f["key_id"], KEY);
    assert_eq!(f["secret"], "Am/d…2yMK");
    assert_eq!(f["account"], "123456789012");
    assert_eq!(f["context"], "provider.aws.access_key");
    assert_eq!(f["fingerprint"].as_str().map(str::len), Some(32));
    assert_eq!(f["related"], serde_json::json!([]));
    assert!(f["iam"].is_null(), "no IAM source: no IAM facts");
    // The secret's finding sits on the secret's line.
    let s = &doc["findings"][1];
    assert_eq!(s["rule"], "KW002");
    assert_eq!(
        (s["line"].as_u64(), s["column"].as_u64()),
        (Some(4), Some(17))
    );
    assert_eq!(s["context"], "provider.aws.secret_key");
    assert_eq!(doc["summary"]["files_scanned"], 1);
    assert_eq!(doc["summary"]["files_parsed"], 1);
    assert_eq!(doc["summary"]["findings"], 2);
}

#[test]
fn exit_codes() {
    let t = repo_with_key();
    assert_eq!(keyward(t.path(), &["scan"]).status.code(), Some(1));
    // The secret is critical, so the gate at critical still trips...
    assert_eq!(
        keyward(t.path(), &["scan", "--fail-on", "critical"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        keyward(t.path(), &["scan", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    let clean = tempfile::tempdir().expect("tempdir");
    write(
        clean.path(),
        "main.tf",
        "provider \"aws\" { region = \"eu-west-1\" }\n",
    );
    let out = keyward(clean.path(), &["scan"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out)
            .contains("keyward: 0 findings in 1 file scanned (0 parsed, 1 with nothing key-like)"),
        "{}",
        stdout(&out)
    );
    // ...and a high-only repo passes a critical gate.
    write(
        clean.path(),
        "key.env",
        format!("AWS_ACCESS_KEY_ID={KEY}\n"),
    );
    assert_eq!(
        keyward(clean.path(), &["scan", "--fail-on", "critical"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        keyward(clean.path(), &["scan", "--fail-on", "high"])
            .status
            .code(),
        Some(1)
    );
    // Usage and runtime errors are 2.
    let missing = keyward(clean.path(), &["scan", "no/such/dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("path not found"));
    assert_eq!(
        keyward(clean.path(), &["scan", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        keyward(clean.path(), &["scan", "--allowed-account", "12"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        keyward(clean.path(), &["explain", "KW999"]).status.code(),
        Some(2)
    );
}

#[test]
fn output_file() {
    let t = repo_with_key();
    let out = keyward(
        t.path(),
        &[
            "scan",
            "envs",
            "--format",
            "json",
            "--output",
            "report.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let text = fs::read_to_string(t.path().join("report.json")).expect("report written");
    assert!(text.contains("\"KW002\""));
    assert!(!text.contains(SECRET));
}

#[test]
fn walker_rules() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    write(d, ".gitignore", "ignored/\n");
    write(d, "ignored/x.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(
        d,
        ".github/workflows/ci.yml",
        format!("on: push\njobs:\n  a:\n    env:\n      AWS_ACCESS_KEY_ID: {KEY}\n"),
    );
    write(d, ".git/config", format!("key = {KEY}\n"));
    write(d, "logo.png", b"\x89PNG\0\0AKIARZPUZDIKEEQH746Y");
    let paths = |o: &std::process::Output| -> Vec<String> {
        json(o)["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["path"].as_str().expect("path").to_string())
            .collect()
    };
    let out = keyward(d, &["scan", "--format", "json"]);
    // A binary file is not parsed, but its printable bytes are searched.
    assert_eq!(paths(&out), [".github/workflows/ci.yml", "logo.png"]);
    let doc = json(&out);
    assert_eq!(doc["summary"]["skipped_binary"], 1);
    let all = keyward(d, &["scan", "--format", "json", "--no-ignore"]);
    assert_eq!(
        paths(&all),
        [".github/workflows/ci.yml", "ignored/x.env", "logo.png"]
    );
    // An explicitly named file is scanned even though it is ignored.
    let explicit = keyward(d, &["scan", "ignored/x.env", "--format", "json"]);
    assert_eq!(paths(&explicit), ["ignored/x.env"]);
    // Oversized files are skipped with a note, not silently.
    let small = keyward(d, &["scan", "--format", "json", "--max-file-size", "10"]);
    let doc = json(&small);
    assert!(doc["summary"]["skipped_large"].as_u64() >= Some(1));
    assert!(doc["errors"].to_string().contains("max-file-size"));
}

#[test]
fn bad_input_is_a_warning_and_the_scan_goes_on() {
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    // Broken YAML falls back to the text scanner and says so.
    write(
        d,
        "broken.yaml",
        format!("a: [unclosed\naws_access_key_id: {KEY}\n"),
    );
    // Invalid UTF-8 in the middle of a .tf file.
    let mut tf = b"# \xff\xfe bad bytes\nvariable \"k\" {\n  default = \"".to_vec();
    tf.extend_from_slice(KEY.as_bytes());
    tf.extend_from_slice(b"\"\n}\n");
    write(d, "vars.tf", tf);
    // UTF-16 with a BOM is decoded.
    let mut u16 = vec![0xFF, 0xFE];
    for u in format!("AWS_ACCESS_KEY_ID={KEY}\r\n").encode_utf16() {
        u16.extend(u.to_le_bytes());
    }
    write(d, "win.env", u16);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(d, d.join("loop")).expect("symlink");
    }
    let out = keyward(d, &["scan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let found: Vec<(String, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("p").to_string(),
                f["line"].as_u64().expect("l"),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("broken.yaml".to_string(), 2),
            ("vars.tf".to_string(), 3),
            ("win.env".to_string(), 1)
        ]
    );
    let errors = doc["errors"].to_string();
    assert!(errors.contains("could not parse as yaml"), "{errors}");
    assert!(errors.contains("invalid UTF-8"), "{errors}");
    // The symlink is not followed; its target text is scanned.
    #[cfg(unix)]
    assert_eq!(doc["summary"]["symlinks"], 1);
}

#[test]
fn rules_and_explain() {
    let d = root();
    let out = keyward(&d, &["rules"]);
    let text = stdout(&out);
    for id in ["KW000", "KW001", "KW002", "KW003", "KW004", "KW005"] {
        assert!(text.contains(id), "{text}");
    }
    let out = keyward(&d, &["explain", "KW004"]);
    let text = stdout(&out);
    assert!(text.starts_with("KW004 malformed-key-id (low)"), "{text}");
    assert!(text.contains("\nHow to fix\n----------\n"), "{text}");
    assert!(
        !text.contains("```"),
        "code fences are rendered as indented blocks"
    );
    let by_name = keyward(&d, &["explain", "malformed-key-id"]);
    assert_eq!(stdout(&by_name), text);
    let facts = stdout(&keyward(&d, &["rules", "--facts"]));
    assert!(facts.contains("iam.status"));
}

#[test]
fn every_rule_file_is_built_in_and_valid() {
    let mut on_disk: Vec<String> = fs::read_dir(root().join("rules"))
        .expect("rules dir")
        .map(|e| format!("rules/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut built_in: Vec<String> = keyward::rules::builtin::FILES
        .iter()
        .map(|(o, _)| o.to_string())
        .collect();
    built_in.sort();
    assert_eq!(on_disk, built_in);
    let set = keyward::rules::RuleSet::builtin().expect("built-in rules load");
    assert_eq!(set.rules.len(), on_disk.len());
    for r in &set.rules {
        assert!(
            root()
                .join("fixtures/rules")
                .join(format!("{}-{}", r.id, r.name))
                .is_dir(),
            "{} has no fixtures",
            r.id
        );
    }
}

/// Every argument of every subcommand says what it does.
#[test]
fn every_argument_has_help() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" || arg.is_hide_set() {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&keyward::cli::Cli::command(), "keyward", &mut missing);
    assert!(missing.is_empty(), "without help: {missing:?}");
}

/// `keyward rules` says what each rule needs to fire; `--facts` what each
/// fact means.
#[test]
fn rules_say_what_they_need_and_facts_what_they_mean() {
    let d = tempfile::tempdir().expect("tempdir");
    let text = stdout(&keyward(d.path(), &["rules"]));
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("KW006").contains("--inventory or --live"), "{text}");
    assert!(line("KW012").contains("--verify-pairs"), "{text}");
    assert!(line("KW005").contains("--allowed-account"), "{text}");
    assert!(line("KW015").contains("--since or --staged"), "{text}");
    assert!(line("KW001").contains(" - "), "{text}");
    let facts = stdout(&keyward(d.path(), &["rules", "--facts"]));
    assert!(
        facts
            .lines()
            .any(|l| l.starts_with("iam.last_used_days") && l.contains("-1 if never")),
        "{facts}"
    );
}

/// `--format concise`: one line per finding, then the summary.
#[test]
fn concise_output_of_the_demo() {
    let demo = root().join("fixtures/demo");
    let out = scan_at_fixture_now(&demo, "concise");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let json_count = json(&scan_at_fixture_now(&demo, "json"))["findings"]
        .as_array()
        .expect("findings")
        .len();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), json_count + 1, "{text}");
    assert!(lines.last().is_some_and(|l| l.starts_with("keyward: ")));
    insta::assert_snapshot!(text);
}

/// One credential, one story: a key and its secret at one place are one
/// diagnostic that lists both rules and labels both values; the same key
/// far below is its own. The snippet masks the secret as the message does.
#[test]
fn human_output_groups_per_credential() {
    let t = tempfile::tempdir().expect("tempdir");
    let filler = "# filler\n".repeat(20);
    write(
        t.path(),
        "app.env",
        format!(
            "AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n{filler}OTHER_KEY_ID={KEY}\n"
        ),
    );
    let out = keyward(t.path(), &["scan", ".", "--fail-on", "never"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let masked = "Am/d…2yMK";
    assert_eq!(
        text.matches(&format!("key pair `{KEY}` / `{masked}`: 2 findings"))
            .count(),
        1,
        "{text}"
    );
    assert!(text.contains("access key ID · KW001"), "{text}");
    assert!(
        text.contains("secret access key (masked) · KW002"),
        "{text}"
    );
    assert!(
        text.contains(&format!("AWS_SECRET_ACCESS_KEY={masked}")),
        "{text}"
    );
    assert!(!text.contains("Am/d*"), "one masking style: {text}");
    assert!(!text.contains(SECRET), "{text}");
    // The far reference: alone, with its single rule's code line.
    assert_eq!(
        text.matches("KW001 hardcoded-access-key").count(),
        1,
        "{text}"
    );
    assert!(text.contains("app.env:23:14"), "{text}");
    assert!(text.contains("3 findings"), "{text}");
}

/// The human summary ends with the commands that help, from the rules'
/// `next:`; `--no-hints` leaves them out, and a baseline in use or a scan of
/// a change does not suggest making one.
#[test]
fn the_summary_points_at_the_next_command() {
    let t = repo_with_key();
    let d = t.path();
    let next = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["scan", "--fail-on", "never"];
        all.extend_from_slice(args);
        let out = keyward(d, &all);
        let text = stdout(&out);
        let after: Vec<String> = text
            .lines()
            .skip_while(|l| !l.starts_with("keyward: "))
            .skip(1)
            .map(|l| l.split_whitespace().take(4).collect::<Vec<_>>().join(" "))
            .collect();
        after
    };
    assert_eq!(
        next(&[]),
        [
            "next: keyward fix --diff",
            "keyward baseline accepts today's"
        ]
    );
    assert!(next(&["--no-hints"]).is_empty());
    assert!(next(&["--format", "concise"]).is_empty());
    let out = keyward(d, &["baseline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    write(
        d,
        "later.env",
        format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
    );
    assert_eq!(
        next(&["--baseline", ".keyward-baseline.json"]),
        ["next: keyward fix --diff"]
    );
}
