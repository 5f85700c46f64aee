//! The audit as JSON for scripts: typed views of [`Audit`], serialized.

use super::*;

/// The report's facts for scripts: the repositories (merged reports), the
/// findings as a scan report lists them, the cross-repository divergence
/// and the rotation plan ([`Audit`] serialized). No secret is in it.
pub fn json(a: &Audit) -> Result<String, EncodeError> {
    let mut text = serde_json::to_string_pretty(a)?;
    text.push('\n');
    Ok(text)
}

/// A report that could not be written as JSON (never expected: it is plain
/// strings and numbers); said rather than written empty.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("could not encode the JSON report: {0}")]
#[diagnostic(code(keyward::report))]
pub struct EncodeError(#[from] serde_json::Error);

/// Findings per severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Findings of severity `critical`.
    pub critical: usize,
    /// Findings of severity `high`.
    pub high: usize,
    /// Findings of severity `medium`.
    pub medium: usize,
    /// Findings of severity `low`.
    pub low: usize,
    /// Findings of severity `info`.
    pub info: usize,
}

impl SeverityCounts {
    /// From counts in [`Severity::ALL`] order.
    pub fn of([critical, high, medium, low, info]: [usize; 5]) -> SeverityCounts {
        SeverityCounts {
            critical,
            high,
            medium,
            low,
            info,
        }
    }
}

/// A repository's findings per severity, written as [`SeverityCounts`].
pub(super) fn by_severity<S: serde::Serializer>(
    counts: &[usize; 5],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    SeverityCounts::of(*counts).serialize(serializer)
}
