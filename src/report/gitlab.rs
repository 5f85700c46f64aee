//! `--format gitlab`: GitLab's secret detection report (the
//! `secret_detection` report artifact), schema version [`SCHEMA_VERSION`]
//! (fixtures/schemas/gitlab/, checked in the tests). GitLab shows it in the
//! merge request's security widget and the vulnerability report.
//!
//! A finding somebody accepted (ignore comment, `[[allow]]`, baseline) is
//! left out: GitLab would show it as open again. Each vulnerability's `id`
//! is derived from the finding's fingerprint, so it is the same on every
//! run while the finding stands, and the identifiers name the rule.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Region, regions};
use crate::finding::Finding;
use crate::output::ScanOutput;
use crate::severity::Severity;

/// The report schema version written (GitLab refuses versions it does not
/// know, and validates against the one declared).
pub const SCHEMA_VERSION: &str = "15.2.4";
const URL: &str = "https://github.com/keyward/keyward";

/// Why a GitLab report cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum GitlabError {
    /// The schema requires the commit of every vulnerability.
    #[error(
        "the GitLab report names the commit of each finding, and this scan ran outside a git \
         work tree (or before its first commit): scan a checkout, or use --format sarif or json"
    )]
    NoCommit,
}

#[derive(Serialize)]
struct Report<'a> {
    version: &'static str,
    vulnerabilities: Vec<Vulnerability>,
    scan: Scan<'a>,
}

#[derive(Serialize)]
struct Vulnerability {
    id: String,
    name: String,
    description: String,
    severity: &'static str,
    solution: String,
    identifiers: Vec<Identifier>,
    location: Location,
}

#[derive(Serialize)]
struct Identifier {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: String,
    url: String,
}

#[derive(Serialize)]
struct Location {
    file: String,
    start_line: usize,
    end_line: usize,
    commit: Commit,
}

#[derive(Serialize)]
struct Commit {
    sha: String,
}

#[derive(Serialize)]
struct Scan<'a> {
    analyzer: Tool,
    scanner: Tool,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: String,
    end_time: String,
    status: &'static str,
    messages: Vec<Message<'a>>,
}

#[derive(Serialize)]
struct Tool {
    id: &'static str,
    name: &'static str,
    url: &'static str,
    version: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct Message<'a> {
    level: &'static str,
    value: std::borrow::Cow<'a, str>,
}

/// The report of a scan, pretty-printed.
pub fn render(out: &ScanOutput) -> Result<String, GitlabError> {
    let mut seen = std::collections::HashMap::new();
    let vulnerabilities = out
        .findings
        .iter()
        .zip(regions(&out.files, &out.findings))
        .filter(|(f, _)| f.suppression.is_none())
        .map(|(f, r)| {
            let n = seen.entry(f.fingerprint.as_str()).or_insert(0u32);
            *n += 1;
            vulnerability(out, f, r, *n)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let time = scan_time(&out.meta.date);
    let report = Report {
        version: SCHEMA_VERSION,
        vulnerabilities,
        scan: Scan {
            analyzer: tool(),
            scanner: tool(),
            kind: "secret_detection",
            start_time: time.clone(),
            end_time: time,
            status: "success",
            messages: messages(out),
        },
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    Ok(text)
}

fn vulnerability(
    out: &ScanOutput,
    f: &Finding,
    r: Region,
    occurrence: u32,
) -> Result<Vulnerability, GitlabError> {
    // A --history finding is in the commit that wrote it; any other is in
    // the commit scanned.
    let sha = match &f.provenance {
        Some(p) => Some(p.first.commit.clone()),
        None => out.meta.commit.clone(),
    }
    .filter(|s| !s.is_empty())
    .ok_or(GitlabError::NoCommit)?;
    let file = match &f.provenance {
        Some(p) => p.first.path.clone(),
        None => out
            .files
            .get(f.file)
            .map(|s| s.path.clone())
            .unwrap_or_default(),
    };
    Ok(Vulnerability {
        id: stable_id(&f.fingerprint, occurrence),
        name: format!("{} {}", f.rule, f.name),
        description: super::message_with_provenance(f),
        severity: severity(f.severity),
        solution: f.help.clone(),
        identifiers: vec![Identifier {
            kind: "keyward_rule_id",
            name: format!("keyward {}", f.rule),
            value: f.rule.clone(),
            url: format!(
                "{}#{}",
                super::sarif::RULES_DOC,
                f.rule.to_ascii_lowercase()
            ),
        }],
        location: Location {
            file,
            start_line: r.line,
            end_line: r.end_line,
            commit: Commit { sha },
        },
    })
}

/// A UUID-shaped ID from the fingerprint (and which of equal fingerprints
/// this is), so GitLab tracks one vulnerability across pipelines.
fn stable_id(fingerprint: &str, occurrence: u32) -> String {
    let digest = Sha256::new()
        .chain_update(b"keyward/gitlab/v1\0")
        .chain_update(fingerprint.as_bytes())
        .chain_update(occurrence.to_be_bytes())
        .finalize();
    let hex = crate::finding::hex(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn tool() -> Tool {
    Tool {
        id: "keyward",
        name: "keyward",
        url: URL,
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor { name: "keyward" },
    }
}

/// `yyyy-mm-ddThh:mm:ss` in UTC, as the schema asks; the scan's date is
/// RFC 3339 with any offset.
fn scan_time(date: &str) -> String {
    let at = date
        .parse::<jiff::Timestamp>()
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    at.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The scan's warnings, and what the per-file cap left out.
fn messages(out: &ScanOutput) -> Vec<Message<'_>> {
    let mut messages: Vec<Message<'_>> = out
        .warnings
        .iter()
        .map(|w| Message {
            level: "warn",
            value: format!("{}: {}", w.path, w.message).into(),
        })
        .collect();
    let more: u64 = out.more.iter().map(|m| m.count).sum();
    if more > 0 {
        messages.push(Message {
            level: "warn",
            value: format!(
                "{more} more finding{} past the per-file cap are not listed (keyward's JSON and SARIF count them)",
                crate::shown::s(more)
            )
            .into(),
        });
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_stable() {
        let a = stable_id("abc", 1);
        assert_eq!(a, stable_id("abc", 1));
        assert_ne!(a, stable_id("abc", 2));
        assert_ne!(a, stable_id("abd", 1));
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
    }

    #[test]
    fn times_are_utc_without_offset() {
        assert_eq!(
            scan_time("2026-12-06T21:30:05+01:00"),
            "2026-12-06T20:30:05"
        );
        assert_eq!(scan_time("2026-12-06T20:30:05.123Z"), "2026-12-06T20:30:05");
    }

    #[test]
    fn findings_without_a_commit_are_refused() {
        let out = ScanOutput {
            findings: vec![Finding {
                rule: "KW001".into(),
                name: "hardcoded-access-key".into(),
                severity: Severity::High,
                message: "m".into(),
                help: "h".into(),
                file: 0,
                span: 0..1,
                key_id: None,
                secret: None,
                account: None,
                context: String::new(),
                fingerprint: "f".into(),
                identity: String::new(),
                suppression: None,
                related: Vec::new(),
                iam: None,
                provenance: None,
            }],
            ..ScanOutput::default()
        };
        assert!(matches!(render(&out), Err(GitlabError::NoCommit)));
        // Nothing to report needs no commit.
        assert!(render(&ScanOutput::default()).is_ok());
    }
}
