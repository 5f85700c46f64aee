//! The placeholder judgement, class by class, on fixtures: documentation
//! values, fillers, runs and the null account are counted and left out; the
//! near misses of each class are real keys and reported.

mod common;

use common::{json, keyward, root};

fn scan(dir: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["scan", dir, "--format", "json"];
    args.extend_from_slice(extra);
    json(&keyward(&root().join("fixtures/placeholders"), &args))
}

fn found(doc: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let (rule, path, line) = common::rule_path_line(f);
            let file = path.rsplit('/').next().unwrap_or("").to_string();
            (rule, file, line)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn placeholders_are_counted_not_reported() {
    let doc = scan("placeholder", &[]);
    assert_eq!(found(&doc), []);
    assert_eq!(doc["summary"]["placeholders"], 16);
    // Every class is there to be seen on request, each under its rule:
    // the session token beside the documentation key is no KW003 on its own.
    let all = scan("placeholder", &["--include-placeholders"]);
    let rules_by_file: std::collections::BTreeSet<(String, String)> =
        found(&all).into_iter().map(|(r, f, _)| (r, f)).collect();
    for (rule, file) in [
        ("KW001", "aws-docs.env"),
        ("KW002", "aws-docs.env"),
        ("KW001", "botocore-examples.json"),
        ("KW003", "botocore-examples.json"),
        ("KW001", "emulator.yaml"),
        ("KW001", "fillers.tfvars"),
        ("KW002", "fillers.tfvars"),
        ("KW004", "malformed-fillers.yaml"),
    ] {
        assert!(
            rules_by_file.contains(&(rule.to_string(), file.to_string())),
            "{rule} {file}: {rules_by_file:?}"
        );
    }
}

#[test]
fn near_misses_of_each_class_are_real_keys() {
    let doc = scan("real", &[]);
    let s = |r: &str, f: &str, l: u64| (r.to_string(), f.to_string(), l);
    assert_eq!(
        found(&doc),
        [
            s("KW001", "random-tails.env", 3),
            s("KW001", "random-tails.env", 4),
            s("KW001", "random-tails.env", 5),
            s("KW001", "secret-with-words.tfvars", 2),
            s("KW002", "secret-with-words.tfvars", 3),
            s("KW004", "near-miss.yaml", 3),
            s("KW004", "near-miss.yaml", 4),
        ]
    );
    assert_eq!(doc["summary"]["placeholders"], 0);
}
