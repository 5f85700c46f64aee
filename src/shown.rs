//! How places, paths and commits are shown to a person: byte offsets as
//! 1-based lines and columns, control characters escaped, commits cut
//! short. Every output path (reports, errors, notes) goes through here.

use std::borrow::Cow;
use std::ops::Range;

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

/// A value as it goes between backticks in a message: its own backticks
/// become `ˋ` (U+02CB, which looks the same and means nothing), line breaks
/// spaces, so the value cannot close the span it stands in.
pub fn code_value(s: &str) -> String {
    s.replace('`', "\u{2cb}").replace(['\r', '\n'], " ")
}

/// A commit ID as output shows it: its first ten characters.
pub fn short_commit(id: &str) -> &str {
    id.get(..10).unwrap_or(id)
}

/// Byte offset → 0-based line, by binary search over line starts.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Lines end at `\n`, `\r\n`, or a `\r` alone (old Mac files), as
    /// editors and GitHub count them.
    pub fn new(src: &str) -> Self {
        let bytes = src.as_bytes();
        let mut starts = vec![0];
        starts.extend(
            memchr::memchr2_iter(b'\n', b'\r', bytes)
                .filter(|&i| bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n'))
                .map(|i| i + 1),
        );
        LineIndex { starts }
    }

    /// Byte offset where `line` (0-based) starts, and where it ends without
    /// its line break.
    pub fn line_range(&self, src: &str, line: usize) -> std::ops::Range<usize> {
        let start = self.line_start(line).min(src.len());
        let mut end = self.starts.get(line + 1).copied().unwrap_or(src.len());
        let bytes = src.as_bytes();
        while end > start && matches!(bytes.get(end - 1), Some(b'\n' | b'\r')) {
            end -= 1;
        }
        start..end.max(start)
    }

    /// How many lines the text has.
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Where 0-based `line` starts (0 past the end).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(0)
    }
}

/// 1-based line and column (in characters) of both ends of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Where the span starts.
    pub line: usize,
    /// Where the span starts, in characters.
    pub column: usize,
    /// Where the span ends.
    pub end_line: usize,
    /// One past the last character, as SARIF counts it.
    pub end_column: usize,
}

/// Where the lines of a text cut from a larger file stand in that file:
/// the windows of a file too large to parse ([`crate::large`]), one line
/// each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Excerpt {
    /// Per line of the text: the file's line (0-based) and how many of its
    /// characters come before the window.
    places: Vec<(usize, usize)>,
}

impl Excerpt {
    pub fn push(&mut self, line: usize, column: usize) {
        self.places.push((line, column));
    }

    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// The file's line (0-based) of the text's line `i`, and the
    /// characters before the window on it.
    pub fn place(&self, i: usize) -> Option<(usize, usize)> {
        self.places.get(i).copied()
    }
}

/// Line starts of a file, for offset → line/column conversion.
pub struct Lines<'a> {
    text: &'a str,
    index: LineIndex,
    /// When the text is an excerpt: where its lines stand in the file.
    excerpt: Option<&'a Excerpt>,
    /// The last position asked for (line, offset, 0-based column): findings
    /// come in order, so on one long line each column is counted on from
    /// the previous one instead of from the line's start.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Self {
        Lines {
            text,
            index: LineIndex::new(text),
            excerpt: None,
            last: std::cell::Cell::new((usize::MAX, 0, 0)),
        }
    }

    /// Lines of an excerpt: positions are the file's.
    pub fn excerpt(text: &'a str, excerpt: Option<&'a Excerpt>) -> Self {
        Lines {
            excerpt,
            ..Lines::new(text)
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
        match self.excerpt.and_then(|e| e.place(line)) {
            Some((file_line, before)) => (file_line + 1, before + col + 1),
            None => (line + 1, col + 1),
        }
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

/// The plural ending of a noun counted `n`: `"s"` unless one.
pub fn s<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "" } else { "s" }
}

/// The ending of a noun in `-y` counted `n`: `"y"` for one ("1 inventory",
/// "2 inventories").
pub fn ies<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "y" } else { "ies" }
}

/// The ending of a verb whose subject is counted `n`: `"s"` for one
/// ("1 place uses", "2 places use"). Only `rotate` (the CLI's) says it.
#[cfg(any(feature = "cli", test))]
pub fn verb_s<N: PartialEq + From<u8>>(n: N) -> &'static str {
    if n == N::from(1) { "s" } else { "" }
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

    #[test]
    fn endings_follow_the_count() {
        assert_eq!(format!("1 file{}", super::s(1usize)), "1 file");
        assert_eq!(format!("0 file{}", super::s(0u64)), "0 files");
        assert_eq!(
            format!("2 places use{}", super::verb_s(2i64)),
            "2 places use"
        );
        assert_eq!(
            format!("1 place use{}", super::verb_s(1usize)),
            "1 place uses"
        );
    }
}
