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

/// One `keyward scan --format json` report: the whole top-level object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Findings accepted by an ignore, allow entry or baseline.
    pub accepted: Vec<Finding>,
    /// Problems that did not stop the scan (unreadable, unparsable files …).
    pub errors: Vec<Problem>,
    /// The findings not accepted: those the gate and the counts are about.
    pub findings: Vec<Finding>,
    /// The exit-code gate, once the run decided it.
    pub gate: Option<Gate>,
    /// The IAM users who own a key found, with every key IAM lists for
    /// them: what a rotation plan is made from.
    #[serde(default)]
    pub iam_users: Vec<IamUser>,
    /// Findings past the per-file cap, counted.
    pub more: Vec<More>,
    /// The policy the rules ran with; `keyward report` takes its rotation
    /// limit from here.
    pub policy: Policy,
    /// What the run was: when, on which repository and commit, with which
    /// IAM facts.
    pub scan: Scan,
    /// What the run read and found, counted.
    pub summary: Summary,
    /// The program that wrote the document.
    pub tool: Tool,
    /// `--verify-pairs` only: the keys this run itself used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verify>,
    /// The contract's version: always [`VERSION`].
    pub version: u32,
}

/// One rule violation at one place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The 12-digit AWS account decoded offline from `key_id`; `None` when
    /// there is no key ID or it is not a new-format ID, which encodes one.
    pub account: Option<String>,
    /// 1-based column where the finding starts, in characters (Unicode
    /// code points; a leading byte-order mark is not one).
    pub column: u64,
    /// The value's structural path (`provider.aws.access_key`); for
    /// findings about no credential (an unused ignore) empty or a label.
    pub context: String,
    /// Exclusive: one past the finding's last character, as SARIF counts.
    pub end_column: u64,
    /// 1-based line where the finding ends.
    pub end_line: u64,
    /// The finding's identity for baselines and `[[allow]] fingerprint`:
    /// 32 hex digits hashed from rule, path, key ID, a salted hash of the
    /// secret (never the secret) and context. Line numbers and whitespace
    /// do not change it.
    pub fingerprint: String,
    /// IAM's record of the key; `None` when IAM was not asked or did not
    /// know the key (not in the inventory, or its account out of scope).
    pub iam: Option<Iam>,
    /// The access key ID as written, in full (it is not a secret); `None`
    /// when the finding is about no key ID (a lone secret, an unused ignore).
    pub key_id: Option<String>,
    /// 1-based line where the finding starts.
    pub line: u64,
    /// What is wrong, rendered from the rule's message; secrets masked.
    pub message: String,
    /// The rule's name (`hardcoded-access-key`).
    pub name: String,
    /// The file, relative to the current directory when below it, with `/`
    /// separators.
    pub path: String,
    /// `--history` only: where the finding entered and left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Other places that belong to the finding (where KW011's newest key
    /// is used); the finding's own place is not among them.
    pub related: Vec<Related>,
    /// Merged reports (`keyward report a.json b.json --format json`) only:
    /// the repository the finding is in; `path` is within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The rule's ID (`KW001`).
    pub rule: String,
    /// The secret access key paired with the finding, masked: first 4 and
    /// last 4 characters, never more (all `*` when 8 or fewer); `None`
    /// when there is no secret.
    pub secret: Option<String>,
    /// The rule's severity, or the configuration's override of it.
    pub severity: Severity,
    /// The finding's line with every secret masked, cut to about 80
    /// characters on each side of the finding when the line is long.
    pub snippet: Option<String>,
    /// Accepted findings only: how and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
}

/// IAM's record of the key, when an inventory or live IAM knew it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iam {
    /// Whole days since the key was created, as of the scan's date.
    pub age_days: i64,
    /// `--blast-radius` only: the high-impact actions the owner may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub can: Vec<String>,
    /// `can` read from the policies by keyward, not simulated by AWS.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub can_approximate: bool,
    /// Whole days since the key was last used, as of the scan's date.
    /// `null`: never used. Documents written before 0.2 said `-1`; both
    /// read as never.
    #[serde(default, deserialize_with = "never_if_negative")]
    pub last_used_days: Option<i64>,
    /// The region of the last use (`eu-west-1`); empty when never used or
    /// not known.
    #[serde(default)]
    pub last_used_region: String,
    /// The service of the last use (`s3`); empty when never used or not
    /// known.
    #[serde(default)]
    pub last_used_service: String,
    /// IAM's own word for the key (`Active`, `Inactive`, `Expired`), passed
    /// through as IAM wrote it: a status IAM adds later must survive a
    /// report, not turn into "unknown". (A scan itself writes `Unknown` for
    /// a status this keyward does not know.)
    pub status: String,
    /// The IAM user who owns the key.
    pub user: String,
}

/// Another place that belongs to a finding (the other side of a
/// divergence, the key a secret pairs with elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    /// 1-based, in characters.
    pub column: u64,
    /// Exclusive: one past the last character.
    pub end_column: u64,
    /// 1-based.
    pub end_line: u64,
    /// 1-based.
    pub line: u64,
    /// What this place is to the finding, from the rule's `related:`
    /// message.
    pub message: String,
    /// As a finding's `path`.
    pub path: String,
}

/// How and why an accepted finding was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// `inline`, `allow` or `baseline`.
    pub kind: SuppressionKind,
    /// The ignore's or allow entry's reason; empty when none was given.
    pub reason: String,
}

/// Where `--history` saw a finding. The finding's own `path`, `line` and
/// `column` are those of the first version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The repository paths where HEAD still holds the finding; empty
    /// when it is gone.
    pub at_head: Vec<String>,
    /// How many commits wrote a version of a file holding the finding.
    pub commits: u64,
    /// The commit that first wrote it (parents walked before children).
    pub first: CommitRef,
    /// The last commit that wrote it.
    pub last: CommitRef,
    /// When gone from HEAD: the first later commit that rewrote its file
    /// without it; `None` when still at HEAD or the walk shows none (the
    /// file was deleted).
    pub removed_in: Option<CommitRef>,
}

/// One commit of a finding's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRef {
    /// The author's name.
    pub author: String,
    /// The full commit hash.
    pub commit: String,
    /// Author date, ISO 8601 (`2025-03-01T12:00:00+01:00`).
    pub date: String,
    /// The author's email.
    pub email: String,
    /// The file's repository path in that commit (a rename shows here).
    pub path: String,
}

/// A problem with one file or path that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What kind of problem (`read`, `parse`, `iam` …); absent in
    /// documents written before problems had kinds.
    #[serde(default)]
    pub kind: Option<ProblemKind>,
    /// What went wrong.
    pub message: String,
    /// The file or path; empty when the problem is about none.
    pub path: String,
}

/// The findings of one rule in one file past the per-file cap (the first
/// 1,000 are listed): counted, not listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct More {
    /// How many findings were left out; `summary.not_shown` adds them up.
    pub count: u64,
    /// The rule's name.
    pub name: String,
    /// As a finding's `path`.
    pub path: String,
    /// The rule's ID.
    pub rule: String,
    /// The rule's severity.
    pub severity: Severity,
}

/// The policy settings the rules ran with (`config.*` facts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The accounts keys may belong to; empty: any (KW005 is off).
    pub allowed_accounts: Vec<String>,
    /// The rotation limit: an Active key older than this many days is
    /// stale.
    pub max_key_age_days: i64,
    /// How many days an Active key may go unused.
    pub max_unused_days: i64,
}

/// What the run was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    /// HEAD's full commit hash, when the run was in a git work tree with a
    /// commit.
    pub commit: Option<String>,
    /// When the scan ran (or the `--now` it was pinned to), RFC 3339.
    pub date: String,
    /// Where the IAM facts came from; `None`: IAM was not asked.
    pub iam: Option<IamSource>,
    /// `--repository`, else the `origin` URL without credentials, else the
    /// work tree's directory name; `None` outside git without
    /// `--repository`.
    pub repository: Option<String>,
}

/// Where the IAM facts came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum IamSource {
    /// An inventory file (`keyward inventory pull`).
    Inventory {
        /// The inventory's path, as output shows it.
        file: String,
        /// When the inventory was pulled, RFC 3339.
        generated_at: String,
    },
    /// IAM asked during the run (`--live`).
    Live {
        /// The accounts whose IAM was read.
        accounts: Vec<String>,
        /// When IAM was asked (the scan's clock), RFC 3339.
        at: String,
    },
}

/// An IAM user who owns a key the scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamUser {
    /// The user's 12-digit AWS account.
    pub account: String,
    /// `--blast-radius`: what the user may do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub can: Vec<String>,
    /// Newest first.
    pub keys: Vec<IamUserKey>,
    /// The newest Active key; none when there is none or it is a tie.
    pub newest_active: Option<String>,
    /// AWS's quarantine policies attached to the user (KW013).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quarantine: Vec<String>,
    /// Two Active keys created in the same second and used alike.
    pub tied: bool,
    /// The user's name.
    pub user: String,
}

/// One of an IAM user's keys, as IAM lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamUserKey {
    /// Whole days since the key was created, as of the scan's date.
    pub age_days: i64,
    /// The access key ID.
    pub key_id: String,
    /// Whole days since the last use, as of the scan's date. Null: never
    /// used, or not known. `-1`, as older documents wrote, reads as null.
    #[serde(default, deserialize_with = "never_if_negative")]
    pub last_used_days: Option<i64>,
    /// `s3 in eu-west-1`, when IAM says.
    #[serde(default)]
    pub last_used_where: Option<String>,
    /// `Active`, `Inactive`, `Expired`, or `Unknown` for a status this
    /// keyward does not know.
    pub status: String,
}

/// The exit-code gate the run was judged by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// A severity, or `never`: `--fail-on`, else the configuration's.
    pub fail_on: FailOn,
    /// How many findings are at or above `fail_on`, counted ones past the
    /// per-file cap included; accepted findings never count.
    pub failing: u64,
}

/// What the run read and found, counted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Baselined findings accepted at a new path (their file moved).
    pub baseline_moved: u64,
    /// Bytes read, too-large files' streamed bytes included.
    pub bytes_scanned: u64,
    /// Files left out by the configuration's include/exclude globs.
    pub excluded: u64,
    /// Files that passed the keyword prefilter and were parsed.
    pub files_parsed: u64,
    /// Text files read; binary and too-large files, inventories and
    /// keyward's own reports are counted apart.
    pub files_scanned: u64,
    /// Findings listed in `findings` (accepted ones and those past the
    /// cap are not).
    pub findings: u64,
    /// IAM inventories (`keyward inventory pull`) skipped: their key IDs
    /// are there by design.
    pub inventories: u64,
    /// Findings past the per-file cap: counted in `more`, not listed.
    pub not_shown: u64,
    /// keyward's own reports, skipped.
    pub own_reports: u64,
    /// Placeholder credentials left out (see `--include-placeholders`).
    pub placeholders: u64,
    /// Binary files: not parsed, their printable runs searched for keys.
    pub skipped_binary: u64,
    /// Files over `--max-file-size`: not parsed, streamed for key IDs and
    /// named secrets instead (each also listed in `errors`).
    pub skipped_large: u64,
    /// Special files not read (FIFOs, sockets, devices).
    pub skipped_other: u64,
    /// Accepted findings, by how they were accepted.
    pub suppressed: Suppressed,
    /// Symlinks, not followed; their target text was scanned. (Absent
    /// before keyward scanned link targets.)
    #[serde(default)]
    pub symlinks: u64,
}

/// Accepted findings (those in `accepted`), counted by kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Suppressed {
    /// Accepted by an `[[allow]]` entry of the configuration.
    pub allow: u64,
    /// Accepted by the baseline file.
    pub baseline: u64,
    /// Accepted by a `keyward:ignore` comment.
    pub inline: u64,
}

/// The program that wrote a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `keyward`.
    pub name: String,
    /// Its version (`0.1.0`).
    pub version: String,
}

/// The keys `--verify-pairs` signed a request with in this run. An accepted
/// request is a use IAM records, so later runs read those keys as used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verify {
    /// Key IDs STS accepted, sorted.
    pub accepted: Vec<String>,
    /// Key IDs a signed `sts:GetCallerIdentity` was sent with, sorted.
    pub sent: Vec<String>,
}

/// Why a text is not a document of this contract.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The text does not parse as JSON.
    #[error("not JSON: {0}")]
    Json(serde_json::Error),
    /// JSON, but not a document of this version: says what is wrong.
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
