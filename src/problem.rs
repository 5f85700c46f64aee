//! What went wrong without stopping a scan. A leaf: readers, parsers and
//! the pipeline all report through these.

/// A problem with one file or path that did not stop the scan.
/// Sorted by path, then message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// The file or path, as shown (`(aws)` for IAM).
    pub path: String,
    /// What went wrong and what was done instead, in a sentence.
    pub message: String,
    /// What kind of problem, for callers that act on it.
    pub kind: ProblemKind,
}

/// What went wrong, so a caller can act on a kind (an editor underlines a
/// parse error, CI fails on an unreadable file) without reading messages.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A path could not be walked or read.
    Read,
    /// Over `--max-file-size`: not scanned.
    TooLarge,
    /// Invalid UTF-8, read with replacements.
    Decode,
    /// Not parseable as its format: scanned as text.
    Parse,
    /// Stopped by `--file-timeout`: findings may be incomplete.
    Budget,
    /// Left out by the git source: a merge conflict, not in the index, a
    /// missing object.
    NotScanned,
    /// A rule could not be evaluated.
    Rule,
    /// IAM or STS could not answer, or answered in part.
    Iam,
    /// The configuration, a baseline, a base revision's policy, an option.
    Config,
    /// keyward itself: a worker stopped.
    Internal,
}

impl ProblemKind {
    /// The kind's name in the JSON report (`too-large`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Read => "read",
            ProblemKind::TooLarge => "too-large",
            ProblemKind::Decode => "decode",
            ProblemKind::Parse => "parse",
            ProblemKind::Budget => "budget",
            ProblemKind::NotScanned => "not-scanned",
            ProblemKind::Rule => "rule",
            ProblemKind::Iam => "iam",
            ProblemKind::Config => "config",
            ProblemKind::Internal => "internal",
        }
    }
}

impl Warning {
    /// A warning of `kind` about `path`.
    pub fn new(kind: ProblemKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            path: path.into(),
            message: message.into(),
            kind,
        }
    }

    /// A warning from asking AWS, which belongs to no file.
    pub fn from_aws(message: String) -> Self {
        Warning::new(ProblemKind::Iam, "(aws)", message)
    }
}

/// A problem with one file that did not stop its scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWarning {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// What went wrong, in a sentence.
    pub message: String,
}
