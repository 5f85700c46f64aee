//! Emitters over the same finding list. Lines and columns are computed here
//! and nowhere else; spans travel as byte ranges until now.

pub mod audit;
pub mod concise;
pub mod contract;
pub mod emit;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use std::borrow::Cow;
use std::ops::Range;

use crate::finding::{Provenance, SourceFile};

/// `introduced in 1a2b3c4d5e by Ann <ann@example.com> on 2025-03-01 (a.tf)`:
/// where a `--history` finding came from, for every report format.
pub fn introduced(p: &Provenance) -> String {
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
pub fn at_head(p: &Provenance) -> String {
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

/// `s` with control characters escaped (`\n`, `\x1b`, `\u{202e}`), for
/// every path and message keyward prints: a file name must not start a
/// workflow command on a line of its own, move the cursor, recolour the
/// terminal or reorder what follows it.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A path as error messages and notes show it: control characters escaped.
pub fn shown_path(path: &std::path::Path) -> String {
    printable(&path.display().to_string()).into_owned()
}

/// As [`printable`], but CR and LF are left for the caller's own escaping
/// (a workflow command's `%0A`, a table cell's space).
pub fn printable_keeping_breaks(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c) && c != '\n' && c != '\r') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for (i, part) in s.split(['\n', '\r']).enumerate() {
        if i > 0 {
            // The break itself: which one does not matter to the callers.
            out.push('\n');
        }
        out.push_str(&printable(part));
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The masked line that holds `offset`, cut to a window of about 80
/// characters on each side when it is long, with ellipses.
pub(crate) fn line_window(
    masked: &str,
    index: &crate::detect::pair::LineIndex,
    offset: usize,
) -> String {
    const SIDE: usize = 80;
    let line = index.line_range(masked, index.line_of(offset.min(masked.len())));
    let body = &masked[line.clone()];
    if body.len() <= 2 * SIDE + 40 {
        return body.to_string();
    }
    let at = offset.clamp(line.start, line.end) - line.start;
    let mut from = at.saturating_sub(SIDE);
    while !body.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (at + SIDE).min(body.len());
    while !body.is_char_boundary(to) {
        to += 1;
    }
    format!(
        "{}{}{}",
        if from > 0 { "…" } else { "" },
        &body[from..to],
        if to < body.len() { "…" } else { "" }
    )
}

pub(crate) fn short_commit(id: &str) -> &str {
    id.get(..10).unwrap_or(id)
}

/// 1-based line and column (in characters) of both ends of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    /// One past the last character, as SARIF counts it.
    pub end_column: usize,
}

/// Line starts of a file, for offset → line/column conversion.
pub struct Lines<'a> {
    text: &'a str,
    index: crate::detect::pair::LineIndex,
    /// The last position asked for (line, offset, 0-based column): findings
    /// come in order, so on one long line each column is counted on from
    /// the previous one instead of from the line's start.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Lines {
            text,
            index: crate::detect::pair::LineIndex::new(text),
            last: std::cell::Cell::new((usize::MAX, 0, 0)),
        }
    }

    /// 1-based (line, column) of a byte offset; columns count characters,
    /// and a leading byte-order mark is not one.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.index.line_of(offset);
        let mut start = self.index.line_start(line);
        if start == 0 && self.text.starts_with('\u{feff}') {
            start = 3.min(offset);
        }
        let (last_line, last_offset, last_col) = self.last.get();
        let (from, base) = if last_line == line && last_offset >= start && last_offset <= offset {
            (last_offset, last_col)
        } else {
            (start, 0)
        };
        let col = base + self.text.get(from..offset).map_or(0, |s| s.chars().count());
        self.last.set((line, offset, col));
        (line + 1, col + 1)
    }

    pub fn region(&self, span: &Range<usize>) -> Region {
        let (line, column) = self.position(span.start);
        let (end_line, end_column) = self.position(span.end);
        Region {
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Regions of every finding, in finding order.
pub fn regions(files: &[SourceFile], findings: &[crate::Finding]) -> Vec<Region> {
    let lines: Vec<Lines<'_>> = files.iter().map(|f| Lines::new(&f.text)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let t = "a\n# clé: AKIA\r\n";
        let l = Lines::new(t);
        let off = t.find("AKIA").expect("present");
        assert_eq!(l.position(off), (2, 8));
        let r = l.region(&(off..off + 4));
        assert_eq!((r.end_line, r.end_column), (2, 12));
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("a/b.tf"), "a/b.tf");
        assert_eq!(
            printable("evil\n::error file=x::y\x1b[31m.txt"),
            "evil\\n::error file=x::y\\x1b[31m.txt"
        );
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        assert!(matches!(printable("clé.tf"), Cow::Borrowed(_)));
    }

    #[test]
    fn bom_is_not_a_column() {
        let t = "\u{feff}key=AKIA";
        let l = Lines::new(t);
        assert_eq!(l.position(t.find("AKIA").expect("present")), (1, 5));
    }
}
