//! The demo and mixed repos: every planted credential is found on its exact
//! line and column, with the right rule, and nothing else is reported.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

type Pos = (String, u64, u64);

fn findings(tree: &str, extra: &[&str]) -> BTreeMap<Pos, BTreeSet<String>> {
    let dir = root().join("fixtures").join(tree);
    let mut args = vec!["scan", ".", "--format", "json", "--fail-on", "never"];
    args.extend_from_slice(extra);
    let out = keyward(&dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let mut map: BTreeMap<Pos, BTreeSet<String>> = BTreeMap::new();
    for f in doc["findings"].as_array().expect("findings") {
        let pos = (
            f["path"].as_str().expect("path").to_string(),
            f["line"].as_u64().expect("line"),
            f["column"].as_u64().expect("column"),
        );
        map.entry(pos)
            .or_default()
            .insert(f["rule"].as_str().expect("rule").to_string());
    }
    map
}

/// The rules a planted thing of this kind must trigger (at least one of).
fn rules_for(kind: &str) -> &'static [&'static str] {
    match kind {
        "key-id" | "placeholder-key-id" => &["KW001", "KW003"],
        "secret" | "placeholder-secret" => &["KW002"],
        "session-token" => &["KW003"],
        "malformed-key-id" => &["KW004"],
        other => panic!("unknown kind {other}"),
    }
}

fn check_tree(tree: &str) {
    let expected = expected(tree);
    let got = findings(tree, &["--include-placeholders"]);
    let mut problems = Vec::new();
    let want: BTreeSet<Pos> = expected
        .iter()
        .map(|e| (e.path.clone(), e.line, e.column))
        .collect();
    for e in &expected {
        let pos = (e.path.clone(), e.line, e.column);
        match got.get(&pos) {
            None => problems.push(format!(
                "missing {} at {}:{}:{}",
                e.kind, e.path, e.line, e.column
            )),
            Some(rules) => {
                if !rules_for(&e.kind).iter().any(|r| rules.contains(*r)) {
                    problems.push(format!("{} at {pos:?} got rules {rules:?}", e.kind));
                }
            }
        }
    }
    for (pos, rules) in &got {
        if !want.contains(pos) {
            problems.push(format!("unexpected {rules:?} at {pos:?}"));
        }
    }
    assert!(problems.is_empty(), "{tree}:\n{}", problems.join("\n"));

    // Without --include-placeholders, exactly the placeholders disappear.
    let default = findings(tree, &[]);
    for e in &expected {
        let pos = (e.path.clone(), e.line, e.column);
        let placeholder = e.kind.starts_with("placeholder");
        assert_eq!(default.contains_key(&pos), !placeholder, "{e:?}");
    }
}

#[test]
fn demo_repo_findings_are_exact() {
    check_tree("demo");
}

#[test]
fn mixed_repo_findings_are_exact() {
    check_tree("mixed");
}

#[test]
fn no_secret_is_ever_printed_in_full() {
    for tree in ["demo", "mixed"] {
        let secrets: Vec<String> = expected(tree)
            .into_iter()
            .filter(|e| e.kind.contains("secret") || e.kind == "session-token")
            .map(|e| e.value)
            .collect();
        assert!(!secrets.is_empty());
        let dir = root().join("fixtures").join(tree);
        for format in ["human", "json"] {
            let out = keyward(
                &dir,
                &["scan", ".", "--format", format, "--include-placeholders"],
            );
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
            assert!(all.len() > 1000, "{tree} {format} printed little: {all}");
            for s in &secrets {
                assert!(
                    !all.contains(s.as_str()),
                    "{tree} {format} leaked a secret: {}…",
                    &s[..4]
                );
                // Not even a long middle piece of it.
                assert!(
                    !all.contains(&s[4..s.len() - 4]),
                    "{tree} {format} leaked a secret's middle"
                );
            }
        }
    }
}

#[test]
fn thread_count_does_not_change_output() {
    let dir = root().join("fixtures/mixed");
    // The date is pinned: it is the one thing two runs may differ in.
    let now = FIXTURE_NOW;
    let one = keyward(
        &dir,
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--threads",
            "1",
            "--now",
            now,
        ],
    );
    let many = keyward(
        &dir,
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--threads",
            "8",
            "--now",
            now,
        ],
    );
    assert_eq!(stdout(&one), stdout(&many));
    assert!(stdout(&one).contains("KW002"));
}
