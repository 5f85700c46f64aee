//! Emitters over the same finding list. Lines and columns are computed here
//! and nowhere else; spans travel as byte ranges until now.

pub mod audit;
pub mod contract;
pub mod emit;
pub mod html;
pub mod rules;

// The formats' own renderers, reached through `emit`'s emitters; the
// tests reach two directly with the `internals` feature.
pub(crate) mod concise;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod escape;
#[cfg(not(feature = "internals"))]
pub(crate) mod escape;
pub(crate) mod github;
pub(crate) mod gitlab;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod human;
#[cfg(not(feature = "internals"))]
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod sarif;

use crate::finding::{Provenance, SourceFile};
pub(crate) use crate::shown::{Lines, Region, printable, printable_keeping_breaks, short_commit};

/// The audit report of one scan document, with its rotation plan.
pub fn audit_of(doc: &contract::Document) -> Result<audit::Audit, audit::AuditError> {
    Ok(audit::Audit::of(doc)?.with_plan(crate::plan::of_document(doc)))
}

/// One audit report of many repositories' scan documents (each with the
/// name to use when the document names no repository), with one plan
/// across them and the divergence it shows.
pub fn audit_of_many(
    docs: &[(String, contract::Document)],
) -> Result<audit::Audit, audit::AuditError> {
    let merged = audit::Audit::merge(docs)?;
    let plan = {
        let named: Vec<(&str, &contract::Document)> = merged
            .repositories
            .iter()
            .map(|r| r.name.as_str())
            .zip(docs.iter().map(|(_, d)| d))
            .collect();
        crate::plan::of_documents(&named)
    };
    Ok(merged.with_plan(plan))
}

/// `introduced in 1a2b3c4d5e by Ann <ann@example.com> on 2025-03-01 (a.tf)`:
/// where a `--history` finding came from, for every report format.
pub(crate) fn introduced(p: &Provenance) -> String {
    format!(
        "introduced in {} by {} <{}> on {} ({})",
        short_commit(&p.first.commit),
        printable(&p.first.author),
        printable(&p.first.email),
        p.first.date.get(..10).unwrap_or(&p.first.date),
        printable(&p.first.path)
    )
}

/// Whether HEAD still holds a `--history` finding: `still at HEAD in
/// path`, `removed in abc1234 (2025-03-01)`, or `no longer at HEAD`.
pub(crate) fn at_head(p: &Provenance) -> String {
    match (p.at_head.first(), &p.removed_in) {
        (Some(path), _) => {
            let more = p.at_head.len() - 1;
            let also = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("still at HEAD in {}{also}", printable(path))
        }
        (None, Some(c)) => format!(
            "removed in {} ({})",
            short_commit(&c.commit),
            c.date.get(..10).unwrap_or(&c.date)
        ),
        (None, None) => "no longer at HEAD".to_string(),
    }
}

/// A finding's message, with where it was introduced for `--history`
/// findings (for formats that have one text field per result).
pub(crate) fn message_with_provenance(f: &crate::finding::Finding) -> String {
    match &f.provenance {
        Some(p) => format!("{} ({}; {})", f.message, introduced(p), at_head(p)),
        None => f.message.clone(),
    }
}

/// The masked line of `file` that holds `offset`, cut to a window of
/// about 80 characters on each side when it is long, with ellipses.
pub(crate) fn line_window(
    file: &crate::finding::SourceFile,
    index: &crate::shown::LineIndex,
    offset: usize,
) -> String {
    const SIDE: usize = 80;
    let text = &file.text;
    let line = index.line_range(text, index.line_of(offset.min(text.len())));
    let body = file.masked(line.clone());
    if body.len() <= 2 * SIDE + 40 {
        return body;
    }
    let at = offset.clamp(line.start, line.end) - line.start;
    let from = body.floor_char_boundary(at.saturating_sub(SIDE));
    let to = body.ceil_char_boundary((at + SIDE).min(body.len()));
    format!(
        "{}{}{}",
        if from > 0 { "…" } else { "" },
        &body[from..to],
        if to < body.len() { "…" } else { "" }
    )
}

/// Regions of every finding, in finding order.
pub(crate) fn regions(files: &[SourceFile], findings: &[crate::Finding]) -> Vec<Region> {
    let lines: Vec<Lines<'_>> = files.iter().map(|f| f.lines()).collect();
    findings
        .iter()
        .map(|f| {
            lines.get(f.file).map_or(
                Region {
                    line: 1,
                    column: 1,
                    end_line: 1,
                    end_column: 1,
                },
                |l| l.region(&f.span),
            )
        })
        .collect()
}
