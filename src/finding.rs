//! What the pipeline hands to the reporters.

use std::ops::Range;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::severity::Severity;

/// One rule violation at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's ID (`KW001`).
    pub rule: String,
    /// The rule's name (`hardcoded-access-key`).
    pub name: String,
    /// The rule's severity, or the one the configuration gave it.
    pub severity: Severity,
    /// What is wrong here, from the rule's message template; never a
    /// secret in full.
    pub message: String,
    /// What to do about it, from the rule's help.
    pub help: String,
    /// Index into [`ScanOutput::files`](crate::ScanOutput::files).
    pub file: usize,
    /// Byte range in the file.
    pub span: Range<usize>,
    /// The access key ID the finding is about (`AKIA…`, `ASIA…`).
    pub key_id: Option<String>,
    /// Always masked (`wJal…EKEY`).
    pub secret: Option<String>,
    /// The AWS account the key ID decodes to.
    pub account: Option<String>,
    /// Where in the file's structure: an attribute, a key path, a variable.
    pub context: String,
    /// Rule, path, key ID, salted secret and context hashed: stable when
    /// lines move; what baselines and SARIF's `partialFingerprints` match.
    pub fingerprint: String,
    /// The credential at its place, without rule or path: key ID, secret
    /// and structural context hashed like the fingerprint. Equal when a
    /// file is moved or reformatted; empty for findings about no
    /// credential (KW000, KW015).
    pub identity: String,
    /// Why the finding is accepted, when it is; suppressed findings are kept
    /// so SARIF can carry them, and are left out of the gate and the counts.
    pub suppression: Option<Suppression>,
    /// Other places that belong to this finding (the other side of a
    /// divergence, the key a secret pairs with elsewhere).
    pub related: Vec<Related>,
    /// What IAM says of the key, when an inventory or live IAM knew it.
    pub iam: Option<crate::iam::IamInfo>,
    /// `--history` only: the commits that wrote this finding.
    pub provenance: Option<Box<Provenance>>,
}

/// Where `--history` saw a finding: the first commit that wrote it (walking
/// parents before children), the last one, and how many commits wrote it.
/// Findings are the same when their fingerprints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub first: CommitRef,
    pub last: CommitRef,
    pub commits: u64,
    /// Where HEAD still holds it (repository paths); empty: gone.
    pub at_head: Vec<String>,
    /// When gone: the first commit after `last` that rewrote its file
    /// without it, if the history walked shows one.
    pub removed_in: Option<CommitRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitRef {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// Author date, ISO 8601 (`2025-03-01T12:00:00+01:00`).
    pub date: String,
    /// The file's path in the repo in that commit.
    pub path: String,
}

/// How a finding was accepted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SuppressionKind {
    /// A `keyward:ignore` comment in the file (SARIF `inSource`).
    Inline,
    /// Listed in the baseline file (SARIF `external`).
    Baseline,
    /// Matched an `[allow]` entry of the configuration (SARIF `external`).
    Allow,
}

impl SuppressionKind {
    /// The kind's name in the JSON report (`inline`, `baseline`, `allow`).
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionKind::Inline => "inline",
            SuppressionKind::Baseline => "baseline",
            SuppressionKind::Allow => "allow",
        }
    }
}

/// Why an accepted finding is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Which way it was accepted.
    pub kind: SuppressionKind,
    /// The reason its author gave (after `--` in an ignore comment, the
    /// `reason` of an allow entry or a baseline entry).
    pub reason: String,
}

/// A related location: a span in one of the output's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Index into [`ScanOutput::files`](crate::ScanOutput::files).
    pub file: usize,
    /// Byte range in that file.
    pub span: Range<usize>,
    /// Why this place belongs to the finding.
    pub message: String,
}

/// A file that has findings, kept for rendering. `text` is the file as
/// scanned; `secret_spans` are masked before any of it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// As shown: relative to the working directory when below it.
    pub path: String,
    /// The format the file was parsed as.
    pub format: crate::parse::format::Format,
    /// The file's text as scanned (decoded; windows of a large file).
    pub text: Arc<str>,
    /// Byte ranges of `text` that hold secrets: masked before any of the
    /// text is shown.
    pub secret_spans: Vec<Range<usize>>,
    /// `keyward:ignore` comments in the file.
    pub ignores: Vec<crate::ignore_comment::IgnoreMarker>,
    /// For a file too large to parse: `text` holds windows of it, and this
    /// says where they stand.
    pub excerpt: Option<Arc<crate::shown::Excerpt>>,
}

impl SourceFile {
    /// The file's lines, for positions: those of the file itself also
    /// when `text` is an excerpt of it.
    pub fn lines(&self) -> crate::shown::Lines<'_> {
        crate::shown::Lines::excerpt(&self.text, self.excerpt.as_deref())
    }

    /// The text with every secret and token replaced by its same-length
    /// masked form, so snippets can be shown with columns intact.
    pub fn masked_text(&self) -> String {
        self.masked(0..self.text.len())
    }

    /// [`masked_text`](Self::masked_text) of whole lines `range` only:
    /// masking is line by line, so this is that text's slice, without
    /// masking a large file to show one of its lines. (A secret that
    /// starts or ends outside the range is starred where it overlaps.)
    pub fn masked(&self, range: std::ops::Range<usize>) -> String {
        let Some(text) = self.text.get(range.clone()) else {
            return String::new();
        };
        let mut out = String::with_capacity(text.len());
        let mut last = range.start;
        let mut spans: Vec<_> = self
            .secret_spans
            .iter()
            .filter(|s| s.start < range.end && s.end > range.start)
            .cloned()
            .collect();
        spans.sort_by_key(|s| s.start);
        for s in spans {
            if s.end > self.text.len() || s.end <= last {
                continue;
            }
            let start = s.start.max(last);
            out.push_str(self.text.get(last..start).unwrap_or(""));
            if s.start >= range.start && s.start >= last && s.end <= range.end {
                out.push_str(&crate::detect::mask_in_place(
                    self.text.get(s.clone()).unwrap_or(""),
                ));
            } else {
                let end = s.end.min(range.end);
                out.extend(std::iter::repeat_n('*', end - start));
            }
            last = s.end.min(range.end);
        }
        out.push_str(self.text.get(last..range.end).unwrap_or(""));
        let mut bytes = out.into_bytes();
        crate::detect::mask_suspects(&mut bytes);
        // Only ASCII bytes were replaced by `*`, so this is still UTF-8.
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

pub use crate::problem::{ProblemKind, Warning};

/// Salt for hashing secrets into fingerprints, so a fingerprint cannot be
/// checked against a list of known secrets hashed plainly.
const SECRET_SALT: &str = "keyward-fingerprint-v1:";

/// A finding's identity, independent of line numbers and whitespace: rule,
/// path, key ID, a salted hash of the secret (never the secret) and the
/// structural context.
pub fn fingerprint(rule: &str, path: &str, key_id: &str, secret: &str, context: &str) -> String {
    let secret_hash = if secret.is_empty() {
        String::new()
    } else {
        hex(&Sha256::digest(format!("{SECRET_SALT}{secret}").as_bytes()))
    };
    let mut h = Sha256::new();
    for part in [rule, path, key_id, &secret_hash, context] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex(&h.finalize()[..16])
}

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_identity_only() {
        let a = fingerprint(
            "KW002",
            "a.tf",
            "AKIA1",
            "secretA",
            "provider.aws.secret_key",
        );
        assert_eq!(a.len(), 32);
        assert_eq!(
            a,
            fingerprint(
                "KW002",
                "a.tf",
                "AKIA1",
                "secretA",
                "provider.aws.secret_key"
            )
        );
        assert_ne!(
            a,
            fingerprint(
                "KW002",
                "a.tf",
                "AKIA1",
                "secretB",
                "provider.aws.secret_key"
            )
        );
        assert_ne!(
            a,
            fingerprint(
                "KW002",
                "b.tf",
                "AKIA1",
                "secretA",
                "provider.aws.secret_key"
            )
        );
        assert!(!a.contains("secretA"));
    }

    #[test]
    fn masked_text_keeps_length_and_hides_secrets() {
        let secret = "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK";
        let text = format!("k = \"{secret}\"\n");
        let f = SourceFile {
            path: "x".into(),
            format: crate::parse::format::Format::Text,
            text: Arc::from(text.as_str()),
            secret_spans: std::iter::once(5..45).collect(),
            ignores: Vec::new(),
            excerpt: None,
        };
        let m = f.masked_text();
        assert_eq!(m.len(), text.len());
        assert!(!m.contains(secret));
        assert!(m.contains("Am/d"));
    }

    #[test]
    fn a_masked_line_is_the_masked_texts_line() {
        let secret = "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK";
        let other = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKQ";
        let text = format!("a = 1\nk = \"{secret}\"\ns: {other}\nx = 2\n");
        let start = text.find(secret).expect("secret");
        let f = SourceFile {
            path: "x".into(),
            format: crate::parse::format::Format::Text,
            text: Arc::from(text.as_str()),
            secret_spans: std::iter::once(start..start + 40).collect(),
            ignores: Vec::new(),
            excerpt: None,
        };
        let whole = f.masked_text();
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            let range = at..at + line.len();
            assert_eq!(f.masked(range.clone()), whole[range], "{line}");
            at += line.len();
        }
        // A range that cuts a secret stars the part it holds.
        let cut = f.masked(start + 10..start + 20);
        assert_eq!(cut, "*".repeat(10));
    }
}
