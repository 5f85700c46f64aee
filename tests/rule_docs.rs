//! The examples in the rules' docs (`keyward explain`, docs/rules.md, the
//! help SARIF embeds) are tested: every key and secret in them is a
//! placeholder keyward itself skips, so docs and reports that quote them
//! are not findings; each account they claim a key decodes to is checked;
//! and each rule that can fire offline fires on its own example.

mod common;

use std::sync::LazyLock;

use common::*;
use regex::Regex;

static KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,20}\b").expect("regex"));
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])").expect("regex")
});
static DECODES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"decodes to account `([0-9]{12})`").expect("regex"));
static ALLOWED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"--allowed-account ([0-9]{12})").expect("regex"));

/// The `## Example` section of a rule's docs: its prose and its code blocks
/// (fence language, text).
fn example(docs: &str) -> (String, Vec<(String, String)>) {
    let start = docs.find("## Example").expect("an Example section");
    let rest = &docs[start..];
    let end = rest.find("## How to fix").unwrap_or(rest.len());
    let section = &rest[..end];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.trim().strip_prefix("```") {
            let mut body = String::new();
            for l in lines.by_ref() {
                if l.trim() == "```" {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            blocks.push((lang.to_string(), body));
        }
    }
    (section.to_string(), blocks)
}

/// A file name that makes keyward read a block as its language.
fn file_for(lang: &str, i: usize) -> String {
    match lang {
        "hcl" => format!("ex{i}/main.tf"),
        "ini" => format!("ex{i}/credentials"),
        "yaml" => format!("ex{i}/values.yaml"),
        "dotenv" | "sh" => format!("ex{i}/.env"),
        "toml" => format!("ex{i}/keyward.toml.example"),
        _ => format!("ex{i}/example.txt"),
    }
}

#[test]
fn every_example_key_and_secret_is_a_placeholder_keyward_skips() {
    let rules = keyward::rules::RuleSet::builtin().expect("rules");
    let mut seen = 0;
    for r in &rules.rules {
        let (section, blocks) = example(&r.docs);
        for (_, body) in &blocks {
            for k in KEY.find_iter(body) {
                let k = k.as_str();
                seen += 1;
                let skipped = if k.len() == 20 {
                    keyward::detect::placeholder::key_id(k)
                } else {
                    keyward::detect::placeholder::malformed_key_id(k)
                };
                assert!(skipped, "{}: `{k}` is not a placeholder", r.id);
            }
            for s in SECRET.captures_iter(body) {
                let s = &s[1];
                seen += 1;
                assert!(
                    keyward::detect::placeholder::secret(s),
                    "{}: secret `{s}` is not a placeholder",
                    r.id
                );
            }
        }
        for claim in DECODES.captures_iter(&section) {
            let keys: Vec<&str> = blocks
                .iter()
                .flat_map(|(_, b)| KEY.find_iter(b).map(|m| m.as_str()))
                .collect();
            assert!(
                keys.iter()
                    .any(|k| keyward::detect::key_id::account(k).as_deref() == Some(&claim[1])),
                "{}: no example key decodes to {}: {keys:?} decode to {:?}",
                r.id,
                &claim[1],
                keys.iter()
                    .map(|k| keyward::detect::key_id::account(k))
                    .collect::<Vec<_>>()
            );
        }
    }
    assert!(seen >= 12, "the examples name keys: {seen}");
}

/// Scanned with placeholders included (they are examples), each offline
/// rule fires on its own example, and not at all without them.
#[test]
fn each_offline_rule_fires_on_its_example() {
    let rules = keyward::rules::RuleSet::builtin().expect("rules");
    for r in &rules.rules {
        let offline = !r.reads().iter().any(|f| {
            f.starts_with("iam.") || f.starts_with("verify.") || *f == "repo.keys_for_user"
        });
        // KW000 and KW015 are raised by the suppression and policy steps.
        if !offline || r.when == "false" {
            continue;
        }
        let (section, blocks) = example(&r.docs);
        let t = tempfile::tempdir().expect("tempdir");
        for (i, (lang, body)) in blocks.iter().enumerate() {
            write(t.path(), &file_for(lang, i), body);
        }
        let mut args = vec!["scan", ".", "--format", "json", "--fail-on", "never"];
        let allowed: Vec<String> = ALLOWED
            .captures_iter(&section)
            .map(|c| c[1].to_string())
            .collect();
        for a in &allowed {
            args.extend(["--allowed-account", a.as_str()]);
        }
        let quiet = finding_rules(&keyward(t.path(), &args));
        assert!(
            quiet.is_empty(),
            "{}: placeholders were reported: {quiet:?}",
            r.id
        );
        args.push("--include-placeholders");
        let fired = finding_rules(&keyward(t.path(), &args));
        assert!(fired.iter().any(|f| f == &r.id), "{}: {fired:?}", r.id);
    }
}

/// The README's rule table is `keyward rules --format summary`, between
/// its markers: a new rule or a changed summary shows up there or fails.
#[test]
fn the_readme_rule_table_is_up_to_date() {
    let set = keyward::rules::RuleSet::builtin().expect("rules");
    let generated = keyward::rules::docs::summary_table(&set);
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let begin = "<!-- rules:begin";
    let end = "<!-- rules:end -->";
    let start = readme.find(begin).expect("the table's begin marker");
    let start = start + readme[start..].find('\n').expect("a marker line") + 1;
    let stop = readme.find(end).expect("the table's end marker");
    assert_eq!(
        &readme[start..stop],
        generated,
        "README.md's rule table is out of date: run `cargo run -- rules --format summary` and paste it between the markers"
    );
    for r in &set.rules {
        assert!(generated.contains(&format!("| {} |", r.name)), "{}", r.id);
    }
}
