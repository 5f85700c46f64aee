//! `--format human`: each finding as a miette diagnostic with a labelled
//! source snippet (secrets masked in it), then a one-line summary.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, Severity as MietteSeverity, SourceCode, SourceSpan, SpanContents,
};

use crate::finding::Finding;
use crate::output::ScanOutput;
use crate::rules::Severity;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// One credential's story: every finding about one key (and the secret
/// paired with it) at one place, as one diagnostic with each rule listed
/// and each value labelled. Other findings are alone in theirs.
struct Shown<'a> {
    findings: Vec<&'a Finding>,
    /// What each marked span is, in the snippet's coordinates.
    labels: Vec<(std::ops::Range<usize>, String)>,
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
        let span = self.source.spans.first().cloned().unwrap_or(0..0);
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some("here".to_string()),
            span.start,
            span.end - span.start,
        ))))
    }
}

impl Shown<'_> {
    fn severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} finding(s)", self.findings.len())
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [first, ..] = self.findings.as_slice() else {
            return Ok(());
        };
        let can = can_line(&self.findings);
        if self.findings.len() == 1 {
            write!(
                f,
                "[{}] {}",
                first.severity.as_str(),
                super::printable(&first.message)
            )?;
            if let Some(can) = can {
                write!(f, "\n{can}")?;
            }
            return Ok(());
        }
        let key = first.key_id.as_deref().unwrap_or("");
        let secret = self.findings.iter().find_map(|x| x.secret.as_deref());
        match secret {
            Some(s) => write!(
                f,
                "[{}] key pair `{}` / `{}`",
                self.severity().as_str(),
                super::printable(key),
                super::printable(s)
            )?,
            None => write!(
                f,
                "[{}] access key `{}`",
                self.severity().as_str(),
                super::printable(key)
            )?,
        }
        if let Some(iam) = self.findings.iter().find_map(|x| x.iam.as_ref()) {
            write!(f, " of IAM user `{}`", super::printable(&iam.user))?;
            match iam.last_used_days {
                None => write!(f, " (never used)")?,
                Some(d) => {
                    let ago =
                        super::audit::last_used_text(Some(super::audit::LastUse::DaysAgo(d)), None);
                    match crate::iam::last_used_where(
                        Some(&iam.last_used_service),
                        Some(&iam.last_used_region),
                    ) {
                        Some(w) => write!(f, " (last used {ago}, by {})", super::printable(&w))?,
                        None => write!(f, " (last used {ago})")?,
                    }
                }
            }
        }
        write!(f, ": {} findings", self.findings.len())?;
        for x in &self.findings {
            write!(
                f,
                "\n{} [{}] {}",
                x.rule,
                x.severity.as_str(),
                super::printable(&x.message)
            )?;
        }
        if let Some(can) = can {
            write!(f, "\n{can}")?;
        }
        Ok(())
    }
}

/// `can: iam:CreateAccessKey, s3:GetObject`: what the key's owner may do
/// (`--blast-radius`), on a line of its own under the findings.
fn can_line(findings: &[&Finding]) -> Option<String> {
    let iam = findings.iter().find_map(|x| x.iam.as_ref())?;
    if iam.can.is_empty() {
        return None;
    }
    let approximate = if iam.can_approximate {
        " (read from its policies, conditions not evaluated)"
    } else {
        ""
    };
    Some(format!(
        "can: {}{approximate}",
        super::printable(&iam.can.join(", "))
    ))
}

impl std::error::Error for Shown<'_> {}

impl Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if let [only] = self.findings.as_slice() {
            return Some(Box::new(format!("{} {}", only.rule, only.name)));
        }
        let mut rules: Vec<&str> = Vec::new();
        for f in &self.findings {
            if !rules.contains(&f.rule.as_str()) {
                rules.push(&f.rule);
            }
        }
        Some(Box::new(rules.join(" ")))
    }

    fn severity(&self) -> Option<MietteSeverity> {
        Some(match Shown::severity(self) {
            Severity::Critical | Severity::High => MietteSeverity::Error,
            Severity::Medium => MietteSeverity::Warning,
            Severity::Low | Severity::Info => MietteSeverity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if let [only] = self.findings.as_slice() {
            return Some(Box::new(super::printable(&only.help)));
        }
        // One line per distinct advice, with the rules that give it.
        let mut helps: Vec<(Vec<&str>, &str)> = Vec::new();
        for f in &self.findings {
            match helps.iter_mut().find(|(_, h)| *h == f.help.as_str()) {
                Some((rules, _)) if rules.contains(&f.rule.as_str()) => {}
                Some((rules, _)) => rules.push(&f.rule),
                None => helps.push((vec![&f.rule], &f.help)),
            }
        }
        let lines: Vec<String> = helps
            .iter()
            .map(|(rules, h)| format!("{}: {}", rules.join(", "), super::printable(h)))
            .collect();
        Some(Box::new(lines.join("\n")))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().map(|(span, label)| {
            LabeledSpan::new(Some(label.clone()), span.start, span.end - span.start)
        })))
    }
}

/// What a marked value is, from what the span holds (the value itself is
/// right above it): the key ID, its secret, either base64-encoded, or a
/// session token beside them.
fn label_of(finding: &Finding, held: &str) -> String {
    let key = finding.key_id.as_deref();
    let is_secret = |t: &str| {
        finding
            .secret
            .as_deref()
            .is_some_and(|s| crate::detect::mask(t) == s)
    };
    if key == Some(held) {
        return "access key ID".to_string();
    }
    if is_secret(held) {
        return "secret access key (masked)".to_string();
    }
    if let Some(decoded) = crate::detect::decode_base64(held) {
        let decoded = decoded.trim();
        if key == Some(decoded) {
            return "access key ID, base64-encoded".to_string();
        }
        if is_secret(decoded) {
            return "secret access key, base64-encoded (masked)".to_string();
        }
    }
    if key.is_some() {
        // About a key, on something that is neither it nor its secret.
        "session token (masked)".to_string()
    } else if finding.secret.is_some() {
        "secret access key (masked)".to_string()
    } else if !finding.context.is_empty() {
        // A finding about a setting (KW015): what kind of setting.
        finding.context.clone()
    } else {
        finding.name.clone()
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
    let mut views = Views {
        out,
        views: vec![None; out.files.len()],
    };
    let mut text = String::new();
    for group in credential_groups(out) {
        render_group(&handler, &group, &mut views, &mut text);
    }
    for m in &out.more {
        let path = out.files.get(m.file).map_or("", |f| f.path.as_str());
        text.push_str(&format!(
            "note: {}: {} more {} {} finding{} like the ones above, not shown one by one\n",
            super::printable(path),
            m.count,
            m.rule,
            m.name,
            crate::shown::s(m.count)
        ));
    }
    for e in &out.warnings {
        text.push_str(&format!(
            "warning: {}: {}\n",
            super::printable(&e.path),
            super::printable(&e.message)
        ));
    }
    text.push_str(&summary_line(out));
    text.push('\n');
    text.push_str(&next_steps(&out.next));
    text
}

/// The files' views, masked and indexed once per file when a finding first
/// needs one: a diagnostic then costs its own lines, not the file's size.
struct Views<'a> {
    out: &'a ScanOutput,
    views: Vec<Option<Arc<FileView>>>,
}

impl Views<'_> {
    fn get(&mut self, i: usize) -> Option<Arc<FileView>> {
        let slot = self.views.get_mut(i)?;
        if slot.is_none() {
            *slot = Some(Arc::new(FileView::new(self.out.files.get(i)?)));
        }
        slot.clone()
    }
}

/// One credential's findings as one diagnostic, its related places and
/// where it came from (in a history scan).
fn render_group(
    handler: &GraphicalReportHandler,
    group: &[&Finding],
    views: &mut Views,
    text: &mut String,
) {
    let Some(&first) = group.first() else {
        return;
    };
    let Some(file) = views.get(first.file) else {
        return;
    };
    let places = places_of(views.out, group);
    let Some((first_span, _, _)) = places.first() else {
        return;
    };
    let spans: Vec<_> = places.iter().map(|(s, _, _)| file.shown_span(s)).collect();
    let source = Snippet::new(&file, &spans, file.column(first_span.start));
    let labels = places
        .iter()
        .zip(&source.spans)
        .map(|((_, label, rules), span)| {
            let label = if group.len() > 1 {
                format!("{label} · {}", rules.join(", "))
            } else {
                label.clone()
            };
            (span.clone(), label)
        })
        .collect();
    let related = group
        .iter()
        .flat_map(|f| &f.related)
        .filter_map(|r| {
            let v = views.get(r.file)?;
            let span = v.shown_span(&r.span);
            Some(RelatedShown {
                message: &r.message,
                source: Snippet::new(&v, &[span], v.column(r.span.start)),
            })
        })
        .collect();
    let shown = Shown {
        findings: group.to_vec(),
        labels,
        source,
        related,
    };
    if handler.render_report(text, &shown).is_err() {
        text.push_str(&format!("{shown}\n"));
    }
    // Rendered on their own: as miette's related diagnostics each got
    // an empty "Advice:" heading.
    for r in &shown.related {
        let before = text.len();
        if handler.render_report(text, r).is_err() {
            text.truncate(before);
            text.push_str(&format!("  {r}\n"));
        }
    }
    let mut seen = Vec::new();
    for p in group.iter().filter_map(|f| f.provenance.as_deref()) {
        let line = provenance_line(p);
        if !seen.contains(&line) {
            text.push_str(&line);
            seen.push(line);
        }
    }
    text.push('\n');
}

/// One label per place of a credential's findings, with the rules found
/// there (named when there are several places).
fn places_of<'f>(
    out: &ScanOutput,
    group: &[&'f Finding],
) -> Vec<(std::ops::Range<usize>, String, Vec<&'f str>)> {
    let held = |f: &Finding| {
        out.files
            .get(f.file)
            .and_then(|s| s.text.get(f.span.clone()))
            .unwrap_or("")
    };
    let mut places: Vec<(std::ops::Range<usize>, String, Vec<&str>)> = Vec::new();
    for f in group {
        match places.iter_mut().find(|(s, _, _)| *s == f.span) {
            Some((_, _, rules)) if rules.contains(&f.rule.as_str()) => {}
            Some((_, _, rules)) => rules.push(&f.rule),
            None => places.push((f.span.clone(), label_of(f, held(f)), vec![&f.rule])),
        }
    }
    places
}

/// What to run next, one command a line, after the summary (`--no-hints`
/// leaves it out).
pub fn next_steps(next: &crate::output::Next) -> String {
    let s = crate::shown::s;
    let mut steps = Vec::new();
    if next.fix > 0 {
        steps.push((
            "keyward fix --diff",
            format!(
                "shows how {} hardcoded credential{} can move out of the files",
                next.fix,
                s(next.fix)
            ),
        ));
    }
    if next.plan > 0 {
        steps.push((
            "keyward plan",
            format!(
                "orders the rotation of {} key{}, per IAM user",
                next.plan,
                s(next.plan)
            ),
        ));
    }
    if next.baseline {
        steps.push((
            "keyward baseline",
            "accepts today's findings, so that only new ones fail".to_string(),
        ));
    }
    let mut text = String::new();
    for (i, (command, what)) in steps.iter().enumerate() {
        let lead = if i == 0 { "next:" } else { "" };
        text.push_str(&format!("{lead:<5} {command:<20}{what}\n"));
    }
    text
}

/// The active findings, one group per credential: findings about the same
/// key ID in one file whose places lie within a few lines of each other
/// (the key, its secret, the IAM rules on the key). A finding about no
/// key is alone. Groups come in the order of their first finding.
fn credential_groups(out: &ScanOutput) -> Vec<Vec<&Finding>> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    // Per (file, key ID): the groups open for it, with their first line.
    let mut open: std::collections::HashMap<(usize, &str), Vec<(usize, usize)>> =
        std::collections::HashMap::new();
    let mut lines: Vec<Option<crate::shown::LineIndex>> = std::iter::repeat_with(|| None)
        .take(out.files.len())
        .collect();
    for f in out.active() {
        let Some(key) = f.key_id.as_deref() else {
            groups.push(vec![f]);
            continue;
        };
        let line = match (lines.get_mut(f.file), out.files.get(f.file)) {
            (Some(slot), Some(src)) => slot
                .get_or_insert_with(|| crate::shown::LineIndex::new(&src.text))
                .line_of(f.span.start),
            _ => 0,
        };
        let candidates = open.entry((f.file, key)).or_default();
        match candidates
            .iter()
            .find(|(first, _)| line.abs_diff(*first) < MAX_SPAN_LINES)
        {
            Some(&(_, g)) => groups[g].push(f),
            None => {
                candidates.push((line, groups.len()));
                groups.push(vec![f]);
            }
        }
    }
    groups
}

/// A file as the human format shows it: masked once, with its lines. A
/// masked secret reads `wJal…EKEY` here as in messages; the file's own
/// offsets are mapped to the shorter text.
struct FileView {
    name: String,
    text: String,
    lines: crate::shown::LineIndex,
    /// The masked file, same length as the file: columns are counted here.
    masked: String,
    /// Runs of masking `*` (file offsets) shown as one `…`.
    runs: Vec<std::ops::Range<usize>>,
    /// A file too large to parse: `text` is windows of it, one per line,
    /// and this places them (with the lines of `masked`).
    excerpt: Option<(
        std::sync::Arc<crate::shown::Excerpt>,
        crate::shown::LineIndex,
    )>,
}

impl FileView {
    fn new(f: &crate::finding::SourceFile) -> FileView {
        let masked = f.masked_text();
        let runs = masked_runs(f.text.as_bytes(), masked.as_bytes());
        let mut text = String::with_capacity(masked.len());
        let mut last = 0;
        for r in &runs {
            text.push_str(masked.get(last..r.start).unwrap_or(""));
            text.push('…');
            last = r.end;
        }
        text.push_str(masked.get(last..).unwrap_or(""));
        let excerpt = f
            .excerpt
            .clone()
            .map(|e| (e, crate::shown::LineIndex::new(&masked)));
        FileView {
            name: super::printable(&f.path).into_owned(),
            lines: crate::shown::LineIndex::new(&text),
            text,
            masked,
            runs,
            excerpt,
        }
    }

    /// A file offset in the shown text.
    fn shown_offset(&self, at: usize) -> usize {
        let ellipsis = '…'.len_utf8();
        let mut removed = 0;
        for r in &self.runs {
            if r.end <= at {
                removed += r.len() - ellipsis;
            } else if r.start < at {
                // Inside a run: after its ellipsis.
                return r.start - removed + ellipsis;
            } else {
                break;
            }
        }
        at - removed
    }

    fn shown_span(&self, span: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let start = self.shown_offset(span.start);
        start..self.shown_offset(span.end).max(start)
    }

    /// The file's column (0-based, in characters) of a file offset.
    fn column(&self, at: usize) -> usize {
        let at = floor_boundary(&self.masked, at);
        let before = &self.masked[..at];
        let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let window = match &self.excerpt {
            Some((e, lines)) => e.place(lines.line_of(at)).map_or(0, |p| p.1),
            None => 0,
        };
        window + before[line_start..].chars().count()
    }

    /// The file's line (0-based) of a line of the shown text.
    fn file_line(&self, line: usize) -> usize {
        match &self.excerpt {
            Some((e, _)) => e.place(line).map_or(line, |p| p.0),
            None => line,
        }
    }
}

/// Where masking put two or more `*` in a row over characters that were
/// not `*`.
fn masked_runs(original: &[u8], masked: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < masked.len() {
        if masked[i] == b'*' && original.get(i) != Some(&b'*') {
            let start = i;
            while i < masked.len() && masked[i] == b'*' && original.get(i) != Some(&b'*') {
                i += 1;
            }
            if i - start >= 2 {
                runs.push(start..i);
            }
        } else {
            i += 1;
        }
    }
    runs
}

/// Characters of a long line kept on each side of the span.
const WINDOW: usize = 60;
/// A line longer than this (in characters) is cut around the span.
const LONG_LINE: usize = 160;
/// At most this many lines of a span that runs over several.
const MAX_SPAN_LINES: usize = 8;

/// What one diagnostic shows of a file: the lines around its spans, long
/// lines cut to a window around them with an ellipsis, control characters
/// made visible. miette renders it as if it were the file: line numbers and
/// the header's column are those of the file.
struct Snippet {
    name: String,
    text: String,
    /// The file's line (0-based) of the first line of `text`.
    first_line: usize,
    /// The spans, in `text`, in the order given.
    spans: Vec<std::ops::Range<usize>>,
    /// The file's column (0-based, in characters) where the first span
    /// starts.
    true_col: usize,
}

impl Snippet {
    /// `spans` are in the shown text; the first names the header's place.
    fn new(file: &FileView, spans: &[std::ops::Range<usize>], true_col: usize) -> Snippet {
        let src = file.text.as_str();
        let clamp = |span: &std::ops::Range<usize>| {
            let start = floor_boundary(src, span.start.min(src.len()));
            let end = floor_boundary(src, span.end.clamp(start, src.len()));
            start..end
        };
        let spans: Vec<_> = spans.iter().map(clamp).collect();
        let span_lines: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                let a = file.lines.line_of(s.start);
                (
                    a,
                    file.lines
                        .line_of(s.end.saturating_sub(1).max(s.start))
                        .max(a),
                )
            })
            .collect();
        let lo = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let hi = spans.iter().map(|s| s.end).max().unwrap_or(0);
        let l0 = file.lines.line_of(lo);
        let l1 = file
            .lines
            .line_of(hi.saturating_sub(1).max(lo))
            .min(l0 + MAX_SPAN_LINES - 1);
        // An excerpt's lines are windows of lines far apart: each stands
        // alone.
        let (first, last) = if file.excerpt.is_some() {
            (l0, l1)
        } else {
            (
                l0.saturating_sub(1),
                (l1 + 1).min(file.lines.line_count() - 1),
            )
        };
        let mut text = String::new();
        let mut out_spans = vec![None::<std::ops::Range<usize>>; spans.len()];
        for line in first..=last {
            if line > first {
                text.push('\n');
            }
            let range = file.lines.line_range(src, line);
            let body = &src[range.clone()];
            // The part of each span on this line, relative to the line.
            let on_line: Vec<Option<std::ops::Range<usize>>> = spans
                .iter()
                .zip(&span_lines)
                .map(|(span, &(a, b))| {
                    (line >= a && line <= b && line <= l1).then(|| {
                        let s = span.start.max(range.start) - range.start;
                        let e = span.end.clamp(range.start, range.end) - range.start;
                        s..e.max(s)
                    })
                })
                .collect();
            let union = on_line
                .iter()
                .flatten()
                .cloned()
                .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end));
            let (shown, cut_before, kept) = window(body, union);
            let base = text.len();
            push_printable(&mut text, shown, cut_before > 0, kept.end < body.len());
            let ellipsis = if cut_before > 0 { '…'.len_utf8() } else { 0 };
            for (r, out) in on_line.iter().zip(out_spans.iter_mut()) {
                let Some(r) = r else { continue };
                let s = base + ellipsis + r.start.saturating_sub(kept.start);
                let e = base + ellipsis + r.end.min(kept.end).saturating_sub(kept.start);
                match out {
                    None => *out = Some(s..e.max(s)),
                    Some(o) => o.end = e.max(o.start),
                }
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
            first_line: file.file_line(first),
            spans: out_spans.into_iter().map(|s| s.unwrap_or(0..0)).collect(),
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

fn floor_boundary(s: &str, at: usize) -> usize {
    s.floor_char_boundary(at)
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
        let column = if before == 0 && Some(span.offset()) == self.spans.first().map(|s| s.start) {
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
        crate::shown::s(s.findings)
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
        crate::shown::s(s.files_scanned),
    ));
    let notes = summary_notes(out);
    if !notes.is_empty() {
        line.push_str(&format!("; {}", notes.join(", ")));
    }
    line
}

/// What the summary line adds after the counts: what was skipped, ignored,
/// suppressed or signed with, and the warnings.
fn summary_notes(out: &ScanOutput) -> Vec<String> {
    let s = &out.summary;
    let mut notes = Vec::new();
    if s.skipped_binary > 0 {
        notes.push(format!(
            "{} binary (searched for keys only)",
            s.skipped_binary
        ));
    }
    if s.skipped_large > 0 {
        notes.push(format!(
            "{} too large (searched for keys only)",
            s.skipped_large
        ));
    }
    if s.skipped_other > 0 {
        notes.push(format!("{} special files skipped", s.skipped_other));
    }
    if s.symlinks > 0 {
        notes.push(format!(
            "{} symlink{} not followed (target text scanned)",
            s.symlinks,
            crate::shown::s(s.symlinks)
        ));
    }
    if s.placeholders > 0 {
        notes.push(format!(
            "{} placeholder{} ignored",
            s.placeholders,
            crate::shown::s(s.placeholders)
        ));
    }
    notes.extend(suppressed_note(out));
    if s.excluded > 0 {
        notes.push(format!("{} excluded by config", s.excluded));
    }
    notes.extend(signed_note(out));
    if s.own_reports > 0 {
        notes.push(format!(
            "{} keyward report{} skipped",
            s.own_reports,
            crate::shown::s(s.own_reports)
        ));
    }
    if s.inventories > 0 {
        notes.push(format!(
            "{} IAM inventor{} skipped",
            s.inventories,
            crate::shown::ies(s.inventories)
        ));
    }
    if s.not_shown > 0 {
        notes.push(format!("{} more not shown (per-file cap)", s.not_shown));
    }
    if !out.warnings.is_empty() {
        notes.push(format!(
            "{} warning{}",
            out.warnings.len(),
            crate::shown::s(out.warnings.len())
        ));
    }
    notes
}

/// `N suppressed (n by inline, …; m moved)`.
fn suppressed_note(out: &ScanOutput) -> Option<String> {
    let suppressed = out.suppressed_counts();
    if suppressed.is_empty() {
        return None;
    }
    let total: usize = suppressed.values().sum();
    let by: Vec<String> = suppressed
        .iter()
        .map(|(k, n)| format!("{n} by {}", k.as_str()))
        .collect();
    let moved = match out.summary.baseline_moved {
        0 => String::new(),
        n => format!("; {n} moved"),
    };
    Some(format!("{total} suppressed ({}{moved})", by.join(", ")))
}

/// What `--verify-pairs` signed with: its calls are uses IAM records.
fn signed_note(out: &ScanOutput) -> Option<String> {
    let v = out.signed_with.as_ref().filter(|v| !v.sent.is_empty())?;
    let recorded = match v.accepted.len() {
        0 => "",
        1 => " (IAM now records it as used today)",
        _ => " (IAM now records them as used today)",
    };
    Some(format!(
        "--verify-pairs signed with {} key{}, {} accepted{recorded}",
        v.sent.len(),
        crate::shown::s(v.sent.len()),
        v.accepted.len(),
    ))
}
