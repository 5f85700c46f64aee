//! Text edits by byte range, and the line arithmetic the fixers share.

use std::ops::Range;

/// Replace `range` of the file's text by `with`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub with: String,
}

impl Edit {
    pub fn delete(range: Range<usize>) -> Edit {
        Edit {
            range,
            with: String::new(),
        }
    }
}

/// Applies edits that do not overlap; `None` when two do (two fixes
/// claiming one place is a bug to refuse, not a file to write).
pub fn apply(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    sorted.dedup_by(|a, b| a == b);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in sorted {
        if e.range.start < at || e.range.end > text.len() {
            return None;
        }
        out.push_str(text.get(at..e.range.start)?);
        out.push_str(&e.with);
        at = e.range.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// The line that holds byte `offset`: its text without the line break,
/// where it starts, and where the next line starts.
pub struct Line<'a> {
    pub text: &'a str,
    pub start: usize,
    /// One past the line break (`\n`, `\r\n`), or the end of the file.
    pub next: usize,
    /// The line break as the file writes it (`""` on a last line without).
    pub newline: &'a str,
}

impl<'a> Line<'a> {
    pub fn at(text: &'a str, offset: usize) -> Option<Line<'a>> {
        let offset = offset.min(text.len());
        let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
        let end = text
            .get(offset..)?
            .find('\n')
            .map_or(text.len(), |i| offset + i);
        let (body_end, next, newline) = if end == text.len() {
            (end, end, "")
        } else if end > start && text.as_bytes().get(end - 1) == Some(&b'\r') {
            (end - 1, end + 1, "\r\n")
        } else {
            (end, end + 1, "\n")
        };
        Some(Line {
            text: text.get(start..body_end)?,
            start,
            next,
            newline,
        })
    }

    /// The whole line with its break, for deleting it.
    pub fn whole(&self) -> Range<usize> {
        self.start..self.next
    }

    /// The leading spaces and tabs.
    pub fn indent(&self) -> &'a str {
        let n = self.text.len() - self.text.trim_start_matches([' ', '\t']).len();
        &self.text[..n]
    }

    /// 1-based line number.
    pub fn number(&self, text: &str) -> usize {
        text.get(..self.start)
            .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count())
            + 1
    }
}

/// Whether the file writes its lines with `\r\n`.
pub fn newline_of(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_breaks() {
        let t = "a = 1\r\nb = 2\nc";
        let l = Line::at(t, 2).expect("line");
        assert_eq!(
            (l.text, l.start, l.next, l.newline),
            ("a = 1", 0, 7, "\r\n")
        );
        let l = Line::at(t, 8).expect("line");
        assert_eq!((l.text, l.newline, l.number(t)), ("b = 2", "\n", 2));
        let l = Line::at(t, 14).expect("line");
        assert_eq!((l.text, l.newline, l.number(t)), ("c", "", 3));
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let t = "abcdef";
        let ok = apply(
            t,
            &[
                Edit::delete(0..1),
                Edit {
                    range: 3..4,
                    with: "X".into(),
                },
            ],
        );
        assert_eq!(ok.as_deref(), Some("bcXef"));
        assert_eq!(apply(t, &[Edit::delete(0..3), Edit::delete(2..4)]), None);
    }
}
