//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF
//! viewers. One run; every rule is described, whether it fired or not, so a
//! viewer can show rule help for results uploaded later too.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::{Lines, Region, regions};
use crate::finding::{Finding, SourceFile, SuppressionKind};
use crate::output::ScanOutput;
use crate::rules::{Rule, RuleSet, Severity};

mod model;

use model::{
    ArtifactContent, ArtifactLocation, ColumnKind, Driver, Invocation, Level, Location, Log,
    Message, MultiformatMessage, Notification, PhysicalLocation, ReportingConfiguration,
    ReportingDescriptor, ResultProperties, RuleProperties, Run, SarifResult, Tool,
};

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
    let results = out
        .findings
        .iter()
        .zip(regions(&out.files, &out.findings))
        .map(|(f, r)| result(out, f, r, &rule_index, &masked, &lines))
        .collect();
    let notifications = out
        .warnings
        .iter()
        .map(|e| Notification {
            level: Level::Warning,
            locations: vec![Location::at(PhysicalLocation {
                artifact_location: artifact_location(&e.path),
                region: None,
            })],
            message: Message {
                text: Cow::Borrowed(&e.message),
            },
        })
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    let log = Log {
        schema: SCHEMA,
        runs: vec![Run {
            column_kind: ColumnKind::UnicodeCodePoints,
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: root.map(|root| {
                let base = ArtifactLocation {
                    uri: root_uri(root),
                    uri_base_id: None,
                };
                BTreeMap::from([(SRCROOT, base)])
            }),
            results,
            tool: Tool {
                driver: Driver {
                    information_uri: INFORMATION_URI,
                    name: "keyward",
                    rules: rules.rules.iter().map(descriptor).collect(),
                    semantic_version: version,
                    version,
                },
            },
        }],
        version: "2.1.0",
    };
    // The model has string keys and no floats, so writing it cannot fail;
    // the fallback only keeps a bug from becoming a panic.
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn result<'a>(
    out: &'a ScanOutput,
    f: &'a Finding,
    r: Region,
    rule_index: &HashMap<&str, usize>,
    masked: &[Vec<String>],
    lines: &[Lines<'_>],
) -> SarifResult<'a> {
    let path = out.files.get(f.file).map_or("", |s| s.path.as_str());
    let mut region = region_of(r);
    region.snippet = snippet(out.files.get(f.file), masked.get(f.file), f, r)
        .map(|text| ArtifactContent { text });
    let related_locations = f
        .related
        .iter()
        .enumerate()
        .map(|(i, rel)| {
            let rel_path = out.files.get(rel.file).map_or("", |s| s.path.as_str());
            Location {
                id: Some(i + 1),
                message: Some(Message {
                    text: Cow::Borrowed(&rel.message),
                }),
                physical_location: PhysicalLocation {
                    artifact_location: artifact_location(rel_path),
                    region: lines.get(rel.file).map(|l| region_of(l.region(&rel.span))),
                },
            }
        })
        .collect();
    let suppressions = f
        .suppression
        .iter()
        .map(|s| model::Suppression {
            justification: &s.reason,
            kind: match s.kind {
                SuppressionKind::Inline => model::SuppressionKind::InSource,
                SuppressionKind::Baseline | SuppressionKind::Allow => {
                    model::SuppressionKind::External
                }
            },
            status: model::SuppressionStatus::Accepted,
        })
        .collect();
    SarifResult {
        level: level(f.severity),
        locations: vec![Location::at(PhysicalLocation {
            artifact_location: artifact_location(path),
            region: Some(region),
        })],
        message: Message {
            text: Cow::Owned(super::message_with_provenance(f)),
        },
        partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, f.fingerprint.as_str())]),
        properties: ResultProperties {
            account: f.account.as_deref(),
            context: &f.context,
            key_id: f.key_id.as_deref(),
            provenance: f.provenance.as_deref().map(super::json::provenance),
            secret: f.secret.as_deref(),
            severity: f.severity,
        },
        related_locations,
        rule_id: &f.rule,
        // A finding from a rule outside the set cannot point into
        // driver.rules; leaving the index out is valid SARIF, a wrong one is
        // not.
        rule_index: rule_index.get(f.rule.as_str()).copied(),
        suppressions,
    }
}

fn region_of(r: Region) -> model::Region {
    model::Region {
        end_column: r.end_column,
        end_line: r.end_line,
        snippet: None,
        start_column: r.column,
        start_line: r.line,
    }
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

fn descriptor(rule: &Rule) -> ReportingDescriptor<'_> {
    let mut tags = rule.tags.clone();
    if !tags.iter().any(|t| t == "security") {
        tags.push("security".into());
    }
    let help = format!("{}\n\n{}", rule.help.trim(), rule.docs.trim_end());
    let full = what_it_does(&rule.docs).map_or(Cow::Borrowed(rule.summary.as_str()), Cow::Owned);
    ReportingDescriptor {
        default_configuration: ReportingConfiguration {
            level: level(rule.severity),
        },
        full_description: MultiformatMessage {
            markdown: None,
            text: full,
        },
        help: MultiformatMessage {
            markdown: Some(Cow::Owned(help.clone())),
            text: Cow::Owned(help),
        },
        help_uri: format!("{RULES_DOC}#{}", rule.id.to_lowercase()),
        id: &rule.id,
        name: &rule.name,
        properties: RuleProperties {
            precision: "high",
            security_severity: security_severity(rule.severity),
            tags,
        },
        short_description: MultiformatMessage {
            markdown: None,
            text: Cow::Borrowed(&rule.summary),
        },
    }
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

fn level(s: Severity) -> Level {
    match s {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium => Level::Warning,
        Severity::Low | Severity::Info => Level::Note,
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
fn artifact_location(path: &str) -> ArtifactLocation {
    if is_absolute(path) {
        ArtifactLocation {
            uri: file_uri(path, false),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: encode_path(path, true),
            uri_base_id: Some(SRCROOT),
        }
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
    use serde_json::{Value, json};
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
        let location = |p: &str| serde_json::to_value(artifact_location(p)).expect("json");
        assert_eq!(
            location("/other/b.tf"),
            json!({"uri": "file:///other/b.tf"})
        );
        assert_eq!(
            location("a/b c.tf"),
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

    /// The model's fields are declared in sorted order (see `model`), which
    /// is the order logs had when they were built from sorted maps: a log
    /// read back into a sorted map and written again is unchanged.
    #[test]
    fn fields_are_written_in_sorted_order() {
        let (out, rules) = sample();
        let text = render(&out, &rules, Some(Path::new("/r")));
        let doc: Value = serde_json::from_str(&text).expect("json");
        let again = serde_json::to_string_pretty(&doc).expect("json") + "\n";
        assert_eq!(again, text);
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
