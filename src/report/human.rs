//! `--format human`: each finding as a miette diagnostic with a labelled
//! source snippet (secrets masked in it), then a one-line summary.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, Severity as MietteSeverity, SourceCode, SourceSpan, SpanContents,
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
    /// The finding's span holds its key ID (not its secret).
    on_key: bool,
    source: Snippet,
    /// Rendered after the finding, each with its own snippet.
    related: Vec<RelatedShown<'a>>,
}

/// Another place that belongs to a finding (KW011's other side).
struct RelatedShown<'a> {
    message: &'a str,
    source: Snippet,
}

impl fmt::Debug for RelatedShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl fmt::Display for RelatedShown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::printable(self.message))
    }
}

impl std::error::Error for RelatedShown<'_> {}

impl Diagnostic for RelatedShown<'_> {
    fn severity(&self) -> Option<MietteSeverity> {
        Some(MietteSeverity::Advice)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = &self.source.span;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some("here".to_string()),
            span.start,
            span.end - span.start,
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
            super::printable(&self.finding.message)
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
        Some(Box::new(super::printable(&self.finding.help)))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = &self.source.span;
        // What the marked value is; the value itself is right above it.
        let label = if self.on_key {
            "access key ID".to_string()
        } else if self.finding.secret.is_some() {
            "secret access key (masked)".to_string()
        } else if self.finding.key_id.is_some() {
            // About a key, on something that is neither it nor its secret.
            "session token (masked)".to_string()
        } else if !self.finding.context.is_empty() {
            // A finding about a setting (KW015): what kind of setting.
            self.finding.context.clone()
        } else {
            self.finding.name.clone()
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
    // Masked and indexed once per file, when a finding first needs it: a
    // diagnostic then costs its own lines, not the file's size.
    let mut views: Vec<Option<Arc<FileView>>> = vec![None; out.files.len()];
    let mut view = |i: usize| -> Option<Arc<FileView>> {
        let slot = views.get_mut(i)?;
        if slot.is_none() {
            let f = out.files.get(i)?;
            let text = f.masked_text();
            *slot = Some(Arc::new(FileView {
                name: super::printable(&f.path).into_owned(),
                lines: crate::detect::pair::LineIndex::new(&text),
                text,
            }));
        }
        slot.clone()
    };
    let mut text = String::new();
    for finding in out.active() {
        let Some(file) = view(finding.file) else {
            continue;
        };
        let related = finding
            .related
            .iter()
            .filter_map(|r| {
                Some(RelatedShown {
                    message: &r.message,
                    source: Snippet::new(view(r.file)?.as_ref(), r.span.clone()),
                })
            })
            .collect();
        let on_key = finding.key_id.as_deref().is_some_and(|k| {
            out.files
                .get(finding.file)
                .and_then(|f| f.text.get(finding.span.clone()))
                == Some(k)
        });
        let shown = Shown {
            finding,
            on_key,
            source: Snippet::new(&file, finding.span.clone()),
            related,
        };
        if handler.render_report(&mut text, &shown).is_err() {
            text.push_str(&format!("{shown}\n"));
        }
        // Rendered on their own: as miette's related diagnostics each got
        // an empty "Advice:" heading.
        for r in &shown.related {
            let before = text.len();
            if handler.render_report(&mut text, r).is_err() {
                text.truncate(before);
                text.push_str(&format!("  {r}\n"));
            }
        }
        if let Some(p) = &finding.provenance {
            text.push_str(&provenance_line(p));
        }
        text.push('\n');
    }
    for m in &out.more {
        let path = out.files.get(m.file).map_or("", |f| f.path.as_str());
        text.push_str(&format!(
            "note: {}: {} more {} {} finding{} like the ones above, not shown one by one\n",
            super::printable(path),
            m.count,
            m.rule,
            m.name,
            if m.count == 1 { "" } else { "s" }
        ));
    }
    for e in &out.errors {
        text.push_str(&format!(
            "warning: {}: {}\n",
            super::printable(&e.path),
            super::printable(&e.message)
        ));
    }
    text.push_str(&summary_line(out));
    text.push('\n');
    text
}

/// A file as the human format shows it: masked once, with its lines.
struct FileView {
    name: String,
    text: String,
    lines: crate::detect::pair::LineIndex,
}

/// Characters of a long line kept on each side of the span.
const WINDOW: usize = 60;
/// A line longer than this (in characters) is cut around the span.
const LONG_LINE: usize = 160;
/// At most this many lines of a span that runs over several.
const MAX_SPAN_LINES: usize = 8;

/// What one diagnostic shows of a file: the lines around a span, long lines
/// cut to a window around it with an ellipsis, control characters made
/// visible. miette renders it as if it were the file: line numbers and the
/// header's column are those of the file.
struct Snippet {
    name: String,
    text: String,
    /// The file's line (0-based) of the first line of `text`.
    first_line: usize,
    /// The span, in `text`.
    span: std::ops::Range<usize>,
    /// The file's column (0-based, in characters) where the span starts.
    true_col: usize,
}

impl Snippet {
    fn new(file: &FileView, span: std::ops::Range<usize>) -> Snippet {
        let src = file.text.as_str();
        let start = floor_boundary(src, span.start.min(src.len()));
        let end = floor_boundary(src, span.end.clamp(start, src.len()));
        let l0 = file.lines.line_of(start);
        let l1 = file
            .lines
            .line_of(end.saturating_sub(1).max(start))
            .min(l0 + MAX_SPAN_LINES - 1);
        let first = l0.saturating_sub(1);
        let last = (l1 + 1).min(file.lines.len() - 1);
        let mut text = String::new();
        let mut out_span = 0..0;
        let mut true_col = 0;
        for line in first..=last {
            if line > first {
                text.push('\n');
            }
            let range = file.lines.line_range(src, line);
            let body = &src[range.clone()];
            // The part of the span on this line, relative to the line.
            let on_line = (line >= l0 && line <= l1).then(|| {
                let s = start.max(range.start) - range.start;
                let e = end.clamp(range.start, range.end) - range.start;
                s..e.max(s)
            });
            let (shown, cut_before, kept) = window(body, on_line.clone());
            let base = text.len();
            push_printable(&mut text, shown, cut_before > 0, kept.end < body.len());
            let ellipsis = if cut_before > 0 { '…'.len_utf8() } else { 0 };
            if let Some(r) = on_line {
                let s = base + ellipsis + r.start.saturating_sub(kept.start);
                let e = base + ellipsis + r.end.min(kept.end).saturating_sub(kept.start);
                if line == l0 {
                    out_span.start = s;
                    true_col = body[..r.start].chars().count();
                }
                out_span.end = e.max(out_span.start);
            }
        }
        // The last line keeps its line break, as in the file: miette shows
        // an empty last line only when it is terminated.
        if file.lines.line_range(src, last).end < src.len() {
            text.push('\n');
        }
        Snippet {
            name: file.name.clone(),
            text,
            first_line: first,
            span: out_span,
            true_col,
        }
    }
}

/// The part of a line to show: all of it when short, else a window around
/// the span. Returns the text, how many characters were cut before it, and
/// its byte range in the line.
fn window(
    line: &str,
    span: Option<std::ops::Range<usize>>,
) -> (&str, usize, std::ops::Range<usize>) {
    if line.len() <= LONG_LINE || line.chars().nth(LONG_LINE).is_none() {
        return (line, 0, 0..line.len());
    }
    let (from, to) = match span {
        Some(r) => {
            let from = back_chars(line, r.start, WINDOW);
            // A very long span is itself cut.
            let span_end = forward_chars(line, r.start, 2 * WINDOW).min(r.end.max(r.start));
            (from, forward_chars(line, span_end, WINDOW))
        }
        None => (0, forward_chars(line, 0, LONG_LINE)),
    };
    let cut = line[..from].chars().count();
    (&line[from..to], cut, from..to)
}

/// The byte offset `n` characters before `at` (or 0).
fn back_chars(s: &str, at: usize, n: usize) -> usize {
    let at = floor_boundary(s, at);
    s[..at]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i)
}

/// The byte offset `n` characters after `at` (or the end).
fn forward_chars(s: &str, at: usize, n: usize) -> usize {
    let at = floor_boundary(s, at);
    s[at..]
        .char_indices()
        .nth(n)
        .map_or(s.len(), |(i, _)| at + i)
}

fn floor_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Appends a line with control characters replaced by visible ones of the
/// same width in bytes and characters, so a file cannot move the cursor,
/// recolour the terminal or reorder text (bidi overrides) in a report.
fn push_printable(out: &mut String, s: &str, ellipsis_before: bool, ellipsis_after: bool) {
    if ellipsis_before {
        out.push('…');
    }
    for c in s.chars() {
        out.push(match c {
            '\t' => '\t',
            c if (c as u32) < 0x20 || c == '\u{7f}' => '?',
            '\u{80}'..='\u{9f}' => '¿',
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                '\u{fffd}'
            }
            c => c,
        });
    }
    if ellipsis_after {
        out.push('…');
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        // miette counts the header's column in bytes of what it is given;
        // the file's column in characters is known here.
        let column = if before == 0 && span.offset() == self.span.start {
            self.true_col
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
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
    line.push_str(&format!("; {}", super::at_head(p)));
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
    // Files the prefilter passed over were read and held nothing key-like:
    // said so, or "(0 parsed)" reads like a parse failure.
    let unparsed = s.files_scanned.saturating_sub(s.files_parsed);
    let parsed = if unparsed == 0 {
        format!("{} parsed", s.files_parsed)
    } else {
        format!(
            "{} parsed, {unparsed} with nothing key-like",
            s.files_parsed
        )
    };
    line.push_str(&format!(
        " in {} file{} scanned ({parsed})",
        s.files_scanned,
        if s.files_scanned == 1 { "" } else { "s" },
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
        let moved = if s.baseline_moved > 0 {
            format!("; {} moved", s.baseline_moved)
        } else {
            String::new()
        };
        notes.push(format!("{total} suppressed ({}{moved})", by.join(", ")));
    }
    if s.excluded > 0 {
        notes.push(format!("{} excluded by config", s.excluded));
    }
    if let Some(v) = &out.signed_with
        && !v.sent.is_empty()
    {
        let recorded = match v.accepted.len() {
            0 => String::new(),
            1 => " (IAM now records it as used today)".to_string(),
            _ => " (IAM now records them as used today)".to_string(),
        };
        notes.push(format!(
            "--verify-pairs signed with {} key{}, {} accepted{recorded}",
            v.sent.len(),
            if v.sent.len() == 1 { "" } else { "s" },
            v.accepted.len(),
        ));
    }
    if s.own_reports > 0 {
        notes.push(format!(
            "{} keyward report{} skipped",
            s.own_reports,
            if s.own_reports == 1 { "" } else { "s" }
        ));
    }
    if s.not_shown > 0 {
        notes.push(format!("{} more not shown (per-file cap)", s.not_shown));
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
