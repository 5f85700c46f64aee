//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF
//! viewers. One run; every rule is described, whether it fired or not, so a
//! viewer can show rule help for results uploaded later too.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::{Lines, Region, regions};
use crate::finding::{Finding, SourceFile, SuppressionKind};
use crate::output::ScanOutput;
use crate::rules::{Rule, RuleSet, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/keyward/keyward";
/// Where each rule's documentation is published (`#kw001` anchors).
pub const RULES_DOC: &str = "https://github.com/keyward/keyward/blob/main/docs/rules.md";
const SRCROOT: &str = "%SRCROOT%";
const FINGERPRINT_KEY: &str = "keyward/v1";

/// Snippets longer than this fall back to the region's own text: a secret on
/// a minified one-line file would otherwise copy the whole file into the log
/// (GitHub rejects uploads above 10 MB).
const MAX_SNIPPET_BYTES: usize = 4096;

/// The SARIF 2.1.0 log of a scan. `root` is the directory relative paths
/// are resolved against; without one `%SRCROOT%` is left for the consumer
/// to define, which SARIF allows.
pub fn render(out: &ScanOutput, rules: &RuleSet, root: Option<&Path>) -> String {
    let rule_index: HashMap<&str, usize> = rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let masked: Vec<Vec<String>> = out
        .files
        .iter()
        .map(|f| masked_lines(f.masked_text().as_str()))
        .collect();
    let lines: Vec<Lines<'_>> = out.files.iter().map(|f| f.lines()).collect();
    let results: Vec<Value> = out
        .findings
        .iter()
        .zip(regions(&out.files, &out.findings))
        .map(|(f, r)| result(out, f, r, &rule_index, &masked, &lines))
        .collect();
    let notifications: Vec<Value> = out
        .warnings
        .iter()
        .map(|e| {
            json!({
                "level": "warning",
                "message": {"text": e.message},
                "locations": [{"physicalLocation": {"artifactLocation": artifact_location(&e.path)}}],
            })
        })
        .collect();
    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({"driver": {
            "name": "keyward",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": INFORMATION_URI,
            "rules": rules.rules.iter().map(descriptor).collect::<Vec<_>>(),
        }}),
    );
    run.insert(
        "invocations".into(),
        json!([{"executionSuccessful": true, "toolExecutionNotifications": notifications}]),
    );
    if let Some(root) = root {
        run.insert(
            "originalUriBaseIds".into(),
            json!({SRCROOT: {"uri": root_uri(root)}}),
        );
    }
    run.insert("columnKind".into(), json!("unicodeCodePoints"));
    run.insert("results".into(), Value::Array(results));
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [Value::Object(run)],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn result(
    out: &ScanOutput,
    f: &Finding,
    r: Region,
    rule_index: &HashMap<&str, usize>,
    masked: &[Vec<String>],
    lines: &[Lines<'_>],
) -> Value {
    let path = out.files.get(f.file).map_or("", |s| s.path.as_str());
    let mut region = region_json(r);
    if let Some(text) = snippet(out.files.get(f.file), masked.get(f.file), f, r) {
        region.insert("snippet".into(), json!({"text": text}));
    }
    let mut res = Map::new();
    res.insert("ruleId".into(), json!(f.rule));
    // A finding from a rule outside the set cannot point into driver.rules;
    // leaving the index out is valid SARIF, a wrong one is not.
    if let Some(i) = rule_index.get(f.rule.as_str()) {
        res.insert("ruleIndex".into(), json!(i));
    }
    res.insert("level".into(), json!(level(f.severity)));
    res.insert(
        "message".into(),
        json!({"text": super::message_with_provenance(f)}),
    );
    res.insert(
        "locations".into(),
        json!([{"physicalLocation": {
            "artifactLocation": artifact_location(path),
            "region": Value::Object(region),
        }}]),
    );
    res.insert(
        "partialFingerprints".into(),
        json!({FINGERPRINT_KEY: f.fingerprint}),
    );
    if !f.related.is_empty() {
        let related: Vec<Value> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, rel)| {
                let rel_path = out.files.get(rel.file).map_or("", |s| s.path.as_str());
                let mut loc = Map::new();
                loc.insert("artifactLocation".into(), artifact_location(rel_path));
                if let Some(l) = lines.get(rel.file) {
                    loc.insert(
                        "region".into(),
                        Value::Object(region_json(l.region(&rel.span))),
                    );
                }
                json!({
                    "id": i + 1,
                    "physicalLocation": Value::Object(loc),
                    "message": {"text": rel.message},
                })
            })
            .collect();
        res.insert("relatedLocations".into(), Value::Array(related));
    }
    if let Some(s) = &f.suppression {
        let kind = match s.kind {
            SuppressionKind::Inline => "inSource",
            SuppressionKind::Baseline | SuppressionKind::Allow => "external",
        };
        res.insert(
            "suppressions".into(),
            json!([{"kind": kind, "status": "accepted", "justification": s.reason}]),
        );
    }
    let mut props = Map::new();
    props.insert("severity".into(), json!(f.severity.as_str()));
    for (name, value) in [
        ("key_id", &f.key_id),
        ("secret", &f.secret),
        ("account", &f.account),
    ] {
        if let Some(v) = value {
            props.insert(name.into(), json!(v));
        }
    }
    props.insert("context".into(), json!(f.context));
    if let Some(p) = &f.provenance {
        let p = serde_json::to_value(super::json::provenance(p)).unwrap_or(Value::Null);
        props.insert("provenance".into(), p);
    }
    res.insert("properties".into(), Value::Object(props));
    Value::Object(res)
}

fn region_json(r: Region) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("startLine".into(), json!(r.line));
    m.insert("startColumn".into(), json!(r.column));
    m.insert("endLine".into(), json!(r.end_line));
    m.insert("endColumn".into(), json!(r.end_column));
    m
}

/// The masked text split into lines without their terminators; a leading
/// byte-order mark is not part of line 1 as a reader sees it.
fn masked_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect()
}

/// The masked source lines of the region. Built only from the masked text, so
/// an unmasked secret can never reach the log through a snippet.
fn snippet(
    file: Option<&SourceFile>,
    masked: Option<&Vec<String>>,
    f: &Finding,
    r: Region,
) -> Option<String> {
    let masked = masked?;
    let first = r.line.checked_sub(1)?;
    let last = r.end_line.checked_sub(1)?.max(first);
    let picked = masked.get(first..=last)?;
    let text = picked.join("\n");
    if text.len() <= MAX_SNIPPET_BYTES {
        return Some(text);
    }
    // Masking keeps every character's position, so the span's character
    // range in the original is the same range in the masked text.
    let file = file?;
    let start = file.text.get(..f.span.start)?.chars().count();
    let len = file.text.get(f.span.clone())?.chars().count();
    let masked_full = file.masked_text();
    let cut: String = masked_full.chars().skip(start).take(len).collect();
    (cut.len() <= MAX_SNIPPET_BYTES).then_some(cut)
}

fn descriptor(rule: &Rule) -> Value {
    let mut tags = rule.tags.clone();
    if !tags.iter().any(|t| t == "security") {
        tags.push("security".into());
    }
    let help = format!("{}\n\n{}", rule.help.trim(), rule.docs.trim_end());
    json!({
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what_it_does(&rule.docs).unwrap_or_else(|| rule.summary.clone())},
        "help": {"text": help, "markdown": help},
        "helpUri": format!("{RULES_DOC}#{}", rule.id.to_lowercase()),
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": {
            "security-severity": security_severity(rule.severity),
            "tags": tags,
            "precision": "high",
        },
    })
}

/// The first paragraph under `## What it does`, joined into one line, with
/// code backticks dropped because `fullDescription.text` is shown as plain
/// text.
fn what_it_does(docs: &str) -> Option<String> {
    let after = docs.split_once("## What it does")?.1;
    let para: Vec<&str> = after
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let text = para.join(" ").replace('`', "");
    (!text.is_empty()).then_some(text)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning maps this score to its own critical/high/medium/low
/// bands (>= 9.0, >= 7.0, >= 4.0, > 0.0).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A path as shown in output, as a SARIF artifact location: relative paths
/// resolve against `%SRCROOT%`; a path outside the current directory is
/// already absolute and becomes a `file:` URI on its own.
fn artifact_location(path: &str) -> Value {
    if is_absolute(path) {
        json!({"uri": file_uri(path, false)})
    } else {
        json!({"uri": encode_path(path, true), "uriBaseId": SRCROOT})
    }
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

fn root_uri(root: &Path) -> String {
    file_uri(&root.to_string_lossy(), true)
}

/// `file:///abs/path` with `/` separators; a Windows drive path gets the
/// extra leading slash RFC 8089 asks for.
fn file_uri(path: &str, trailing_slash: bool) -> String {
    let mut p = path.replace('\\', "/");
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    if trailing_slash && !p.ends_with('/') {
        p.push('/');
    }
    format!("file://{}", encode_path(&p, false))
}

/// Percent-encodes everything but unreserved characters, `/` and the
/// sub-delimiters that are harmless in a path. In a relative reference a `:`
/// would turn the first segment into a scheme (`c:x.tf`), so it is encoded
/// there; absolute file URIs keep it for drive letters.
fn encode_path(path: &str, relative: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            )
            || (b == b':' && !relative);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Related, Suppression};
    use std::sync::Arc;

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(encode_path("a b/clé.tf", true), "a%20b/cl%C3%A9.tf");
        assert_eq!(encode_path("c:x#1?%.tf", true), "c%3Ax%231%3F%25.tf");
        assert_eq!(
            file_uri("/home/me/my repo", true),
            "file:///home/me/my%20repo/"
        );
        assert_eq!(file_uri("C:\\src\\r", true), "file:///C:/src/r/");
        assert_eq!(
            artifact_location("/other/b.tf"),
            json!({"uri": "file:///other/b.tf"})
        );
        assert_eq!(
            artifact_location("a/b c.tf"),
            json!({"uri": "a/b%20c.tf", "uriBaseId": "%SRCROOT%"})
        );
    }

    #[test]
    fn first_paragraph_of_what_it_does() {
        let docs =
            "## What it does\nFinds `AKIA` keys\nin files.\n\nMore.\n## Why is this bad?\nx\n";
        assert_eq!(
            what_it_does(docs).as_deref(),
            Some("Finds AKIA keys in files.")
        );
        assert_eq!(what_it_does("## Why\nx"), None);
    }

    fn sample() -> (ScanOutput, RuleSet) {
        let secret = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/";
        let text = format!("[default]\nid = AKIAX\nkey = {secret}\n");
        let start = text.find(secret).expect("present");
        let file = SourceFile {
            path: "dir one/credentials".into(),
            format: crate::parse::format::Format::Ini,
            text: Arc::from(text.as_str()),
            secret_spans: std::iter::once(start..start + secret.len()).collect(),
            ignores: Vec::new(),
            excerpt: None,
        };
        let finding = Finding {
            rule: "KW002".into(),
            name: "hardcoded-secret-key".into(),
            severity: Severity::Critical,
            message: "secret `PtYg…ihA/` hardcoded".into(),
            help: "rotate".into(),
            file: 0,
            span: start..start + secret.len(),
            key_id: Some("AKIAX".into()),
            secret: Some("PtYg…ihA/".into()),
            account: None,
            context: "default.key".into(),
            fingerprint: "f".repeat(32),
            identity: String::new(),
            suppression: Some(Suppression {
                kind: SuppressionKind::Inline,
                reason: "test fixture".into(),
            }),
            related: vec![Related {
                file: 0,
                span: 15..20,
                message: "its key ID".into(),
            }],
            iam: None,
            provenance: None,
        };
        let out = ScanOutput {
            findings: vec![finding],
            files: vec![file],
            ..ScanOutput::default()
        };
        (out, RuleSet::builtin().expect("builtin rules"))
    }

    #[test]
    fn result_carries_masked_snippet_suppression_and_related() {
        let (out, rules) = sample();
        let text = render(&out, &rules, Some(Path::new("/r")));
        assert!(!text.contains("PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/"));
        let doc: Value = serde_json::from_str(&text).expect("json");
        let run = &doc["runs"][0];
        assert_eq!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///r/");
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().map(Vec::len),
            Some(rules.rules.len())
        );
        let res = &run["results"][0];
        let kw002 = rules
            .rules
            .iter()
            .position(|r| r.id == "KW002")
            .expect("KW002");
        assert_eq!(res["ruleIndex"], kw002);
        assert_eq!(res["level"], "error");
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "dir%20one/credentials");
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(loc["region"]["startColumn"], 7);
        assert_eq!(loc["region"]["endColumn"], 47);
        assert_eq!(
            loc["region"]["snippet"]["text"],
            "key = PtYg********************************ihA/"
        );
        assert_eq!(
            res["suppressions"],
            json!([{"kind": "inSource", "status": "accepted", "justification": "test fixture"}])
        );
        let rel = &res["relatedLocations"][0];
        assert_eq!(rel["id"], 1);
        assert_eq!(rel["message"]["text"], "its key ID");
        assert_eq!(rel["physicalLocation"]["region"]["startLine"], 2);
        assert_eq!(rel["physicalLocation"]["region"]["startColumn"], 6);
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn unknown_rule_and_out_of_range_spans_do_not_panic() {
        let (mut out, rules) = sample();
        out.findings[0].rule = "KW999".into();
        out.findings[0].file = 7;
        out.findings[0].related[0].span = 1000..2000;
        let doc: Value = serde_json::from_str(&render(&out, &rules, None)).expect("json");
        let res = &doc["runs"][0]["results"][0];
        assert!(res.get("ruleIndex").is_none());
        assert!(doc["runs"][0].get("originalUriBaseIds").is_none());
    }

    #[test]
    fn long_lines_fall_back_to_the_region() {
        let (mut out, rules) = sample();
        let secret = "PtYgjmUhBel31iEl2hpChYgCfrL1spNxnyVmihA/";
        let pad = "x".repeat(MAX_SNIPPET_BYTES);
        let text = format!("{pad} {secret} {pad}\n");
        let start = pad.len() + 1;
        out.files[0].text = Arc::from(text.as_str());
        out.files[0].secret_spans = std::iter::once(start..start + secret.len()).collect();
        out.findings[0].span = start..start + secret.len();
        out.findings[0].related.clear();
        let doc: Value = serde_json::from_str(&render(&out, &rules, None)).expect("json");
        let snip = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["snippet"]
            ["text"];
        assert_eq!(snip, "PtYg********************************ihA/");
    }
}
