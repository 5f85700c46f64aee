//! `--format human`: each finding as a miette diagnostic with a labelled
//! source snippet (secrets masked in it), then a one-line summary.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource,
    Severity as MietteSeverity, SourceCode,
};

use crate::ScanOutput;
use crate::finding::Finding;
use crate::rules::Severity;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

struct Shown<'a> {
    finding: &'a Finding,
    source: &'a NamedSource<Arc<String>>,
    /// Rendered after the finding, each with its own snippet.
    related: Vec<RelatedShown<'a>>,
}

/// Another place that belongs to a finding (KW011's other side).
struct RelatedShown<'a> {
    message: &'a str,
    source: &'a NamedSource<Arc<String>>,
    span: std::ops::Range<usize>,
}

impl fmt::Debug for RelatedShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl fmt::Display for RelatedShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for RelatedShown<'_> {}

impl Diagnostic for RelatedShown<'_> {
    fn severity(&self) -> Option<MietteSeverity> {
        Some(MietteSeverity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some("here".to_string()),
            self.span.start,
            self.span.end - self.span.start,
        ))))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}",
            self.finding.severity.as_str(),
            self.finding.message
        )
    }
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{} {}",
            self.finding.rule, self.finding.name
        )))
    }

    fn severity(&self) -> Option<MietteSeverity> {
        Some(match self.finding.severity {
            Severity::Critical | Severity::High => MietteSeverity::Error,
            Severity::Medium => MietteSeverity::Warning,
            Severity::Low | Severity::Info => MietteSeverity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.finding.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = &self.finding.span;
        let label = match (&self.finding.key_id, &self.finding.secret) {
            (Some(k), _) if self.finding.rule != "KW002" => k.clone(),
            (_, Some(s)) => s.clone(),
            _ => self.finding.name.clone(),
        };
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some(label),
            span.start,
            span.end - span.start,
        ))))
    }
}

pub fn render(out: &ScanOutput, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_context_lines(1);
    let sources: Vec<NamedSource<Arc<String>>> = out
        .files
        .iter()
        .map(|f| NamedSource::new(&f.path, Arc::new(f.masked_text())).with_language(f.format))
        .collect();
    let mut text = String::new();
    for finding in out.active() {
        let Some(source) = sources.get(finding.file) else {
            continue;
        };
        let related = finding
            .related
            .iter()
            .filter_map(|r| {
                Some(RelatedShown {
                    message: &r.message,
                    source: sources.get(r.file)?,
                    span: r.span.clone(),
                })
            })
            .collect();
        let shown = Shown {
            finding,
            source,
            related,
        };
        if handler.render_report(&mut text, &shown).is_err() {
            text.push_str(&format!("{shown}\n"));
        }
        if let Some(p) = &finding.provenance {
            text.push_str(&provenance_line(p));
        }
        text.push('\n');
    }
    for e in &out.errors {
        text.push_str(&format!("warning: {}: {}\n", e.path, e.message));
    }
    text.push_str(&summary_line(out));
    text.push('\n');
    text
}

/// `  introduced in 1a2b3c4d by Ann <ann@example.com> on 2025-03-01 (a.tf); last written in 5e6f7a8b, 3 commits`
fn provenance_line(p: &crate::finding::Provenance) -> String {
    let mut line = format!("  {}", super::introduced(p));
    if p.commits > 1 {
        line.push_str(&format!(
            "; last written in {} on {}; written by {} commits",
            super::short_commit(&p.last.commit),
            p.last.date.get(..10).unwrap_or(&p.last.date),
            p.commits
        ));
    }
    line.push('\n');
    line
}

/// `keyward: 5 findings (1 critical, 3 high, 1 low) in 12 files (4 parsed)…`
pub fn summary_line(out: &ScanOutput) -> String {
    let s = &out.summary;
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|&sev| {
            let n = out.count(sev);
            (n > 0).then(|| format!("{n} {}", sev.as_str()))
        })
        .collect();
    let mut line = format!(
        "keyward: {} finding{}",
        s.findings,
        if s.findings == 1 { "" } else { "s" }
    );
    if !by_severity.is_empty() {
        line.push_str(&format!(" ({})", by_severity.join(", ")));
    }
    line.push_str(&format!(
        " in {} file{} scanned ({} parsed)",
        s.files_scanned,
        if s.files_scanned == 1 { "" } else { "s" },
        s.files_parsed
    ));
    let mut notes = Vec::new();
    if s.skipped_binary > 0 {
        notes.push(format!("{} binary skipped", s.skipped_binary));
    }
    if s.skipped_large > 0 {
        notes.push(format!("{} too large skipped", s.skipped_large));
    }
    if s.skipped_other > 0 {
        notes.push(format!(
            "{} symlinks/special files skipped",
            s.skipped_other
        ));
    }
    if s.placeholders > 0 {
        notes.push(format!(
            "{} placeholder{} ignored",
            s.placeholders,
            if s.placeholders == 1 { "" } else { "s" }
        ));
    }
    let suppressed = crate::suppress::suppressed_counts(out);
    if !suppressed.is_empty() {
        let total: usize = suppressed.values().sum();
        let by: Vec<String> = suppressed
            .iter()
            .map(|(k, n)| format!("{n} by {}", k.as_str()))
            .collect();
        notes.push(format!("{total} suppressed ({})", by.join(", ")));
    }
    if s.excluded > 0 {
        notes.push(format!("{} excluded by config", s.excluded));
    }
    if !out.errors.is_empty() {
        notes.push(format!(
            "{} warning{}",
            out.errors.len(),
            if out.errors.len() == 1 { "" } else { "s" }
        ));
    }
    if !notes.is_empty() {
        line.push_str(&format!("; {}", notes.join(", ")));
    }
    line
}
