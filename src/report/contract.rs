//! The JSON contract (DESIGN.md, "JSON output") as types: `--format json`
//! writes a [`Document`] and `keyward report` reads one back, so the two
//! cannot drift apart.
//!
//! Fields are declared in alphabetical order: the output has always listed
//! keys that way, and diffs of kept reports stay quiet. Readers accept keys
//! they do not know (the contract grows by extension within a version) and
//! nothing keyward never wrote.

use serde::{Deserialize, Serialize};

use crate::finding::SuppressionKind;
use crate::problem::ProblemKind;
use crate::severity::{FailOn, Severity};

/// The contract's version; a document with another is refused.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Findings accepted by an ignore, allow entry or baseline.
    pub accepted: Vec<Finding>,
    pub errors: Vec<Problem>,
    pub findings: Vec<Finding>,
    /// The exit-code gate, once the run decided it.
    pub gate: Option<Gate>,
    /// The IAM users who own a key found, with every key IAM lists for
    /// them: what a rotation plan is made from.
    #[serde(default)]
    pub iam_users: Vec<IamUser>,
    /// Findings past the per-file cap, counted.
    pub more: Vec<More>,
    pub policy: Policy,
    pub scan: Scan,
    pub summary: Summary,
    pub tool: Tool,
    /// `--verify-pairs` only: the keys this run itself used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub account: Option<String>,
    pub column: u64,
    pub context: String,
    pub end_column: u64,
    pub end_line: u64,
    pub fingerprint: String,
    pub iam: Option<Iam>,
    pub key_id: Option<String>,
    pub line: u64,
    pub message: String,
    pub name: String,
    pub path: String,
    /// `--history` only: where the finding entered and left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    pub related: Vec<Related>,
    /// Merged reports (`keyward report a.json b.json --format json`) only:
    /// the repository the finding is in; `path` is within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    pub rule: String,
    /// Masked: first 4 and last 4 characters, never more.
    pub secret: Option<String>,
    pub severity: Severity,
    /// The finding's line with every secret masked.
    pub snippet: Option<String>,
    /// Accepted findings only: how and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
}

/// IAM's record of the key, when an inventory or live IAM knew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iam {
    pub age_days: i64,
    /// `--blast-radius` only: the high-impact actions the owner may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub can: Vec<String>,
    /// `can` read from the policies by keyward, not simulated by AWS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub can_approximate: bool,
    /// `null`: never used. Documents written before 0.2 said `-1`; both
    /// read as never.
    #[serde(deserialize_with = "never_if_negative")]
    pub last_used_days: Option<i64>,
    /// Empty when never used or not known.
    #[serde(default)]
    pub last_used_region: String,
    #[serde(default)]
    pub last_used_service: String,
    /// IAM's own word for the key (`Active`, `Inactive`, `Expired`), passed
    /// through as IAM wrote it: a status IAM adds later must survive a
    /// report, not turn into "unknown".
    pub status: String,
    pub user: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub column: u64,
    pub end_column: u64,
    pub end_line: u64,
    pub line: u64,
    pub message: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `inline`, `allow` or `baseline`.
    pub kind: SuppressionKind,
    /// The ignore's or allow entry's reason; empty when none was given.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub at_head: Vec<String>,
    pub commits: u64,
    pub first: CommitRef,
    pub last: CommitRef,
    pub removed_in: Option<CommitRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRef {
    pub author: String,
    pub commit: String,
    pub date: String,
    pub email: String,
    pub path: String,
}

/// A problem with one file or path that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What kind of problem (`read`, `parse`, `iam` …); absent in
    /// documents written before problems had kinds.
    #[serde(default)]
    pub kind: Option<ProblemKind>,
    pub message: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct More {
    pub count: u64,
    pub name: String,
    pub path: String,
    pub rule: String,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub allowed_accounts: Vec<String>,
    pub max_key_age_days: i64,
    pub max_unused_days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub commit: Option<String>,
    /// RFC 3339.
    pub date: String,
    pub iam: Option<IamSource>,
    pub repository: Option<String>,
}

/// Where the IAM facts came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum IamSource {
    Inventory { file: String, generated_at: String },
    Live { accounts: Vec<String>, at: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamUser {
    pub account: String,
    /// Newest first.
    pub keys: Vec<IamUserKey>,
    /// The newest Active key; none when there is none or it is a tie.
    pub newest_active: Option<String>,
    /// Two Active keys created in the same second and used alike.
    pub tied: bool,
    pub user: String,
    /// AWS's quarantine policies attached to the user (KW013).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantine: Vec<String>,
    /// `--blast-radius`: what the user may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub can: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamUserKey {
    pub age_days: i64,
    pub key_id: String,
    /// Null: never used, or not known.
    #[serde(default, deserialize_with = "never_if_negative")]
    pub last_used_days: Option<i64>,
    /// `s3 in eu-west-1`, when IAM says.
    #[serde(default)]
    pub last_used_where: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// A severity, or `never`.
    pub fail_on: FailOn,
    pub failing: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub baseline_moved: u64,
    pub bytes_scanned: u64,
    pub excluded: u64,
    pub files_parsed: u64,
    pub files_scanned: u64,
    pub findings: u64,
    pub inventories: u64,
    pub not_shown: u64,
    pub own_reports: u64,
    pub placeholders: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    pub skipped_other: u64,
    pub suppressed: Suppressed,
    /// Symlinks, not followed; their target text was scanned. (Absent
    /// before keyward scanned link targets.)
    #[serde(default)]
    pub symlinks: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Suppressed {
    pub allow: u64,
    pub baseline: u64,
    pub inline: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verify {
    pub accepted: Vec<String>,
    pub sent: Vec<String>,
}

/// Why a text is not a document of this contract.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not JSON: {0}")]
    Json(serde_json::Error),
    #[error("not the output of `keyward scan --format json`: {0}")]
    Shape(String),
}

impl Document {
    /// Reads a document, refusing other versions and other tools' JSON
    /// (SARIF has a `version` too) before looking at the fields.
    pub fn parse(text: &str) -> Result<Document, ReadError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(ReadError::Json)?;
        match value.get("version") {
            Some(v) if v.as_u64() == Some(u64::from(VERSION)) => {}
            Some(v) => {
                return Err(ReadError::Shape(format!(
                    "version {v}; this keyward reads version {VERSION}"
                )));
            }
            None => return Err(ReadError::Shape("no `version`".into())),
        }
        serde_json::from_value(value).map_err(|e| ReadError::Shape(e.to_string()))
    }

    /// The document as `--format json` writes it: pretty, one trailing
    /// newline.
    pub fn to_text(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// `last_used_days`: `null`, or the `-1` older documents wrote, is never.
fn never_if_negative<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let days = <Option<i64> as serde::Deserialize>::deserialize(d)?;
    Ok(days.filter(|d| *d >= 0))
}
