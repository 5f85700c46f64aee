//! Which lines a change writes, from the decoded text of both versions of a
//! file. git's own patch is not asked: a `.gitattributes` entry (`-diff`,
//! `binary`) or an encoding git does not read (UTF-16) leaves a patch
//! without hunks, and a change must not be able to hide its lines that way.

use std::time::{Duration, Instant};

use similar::{Algorithm, DiffTag};

use crate::shown::LineIndex;

/// Lines of one file, 1-based and inclusive.
pub type LineRanges = Vec<(usize, usize)>;

/// How long one file's line diff may take. Past it the diff is coarser
/// (more lines count as written), never finer: slow input costs precision
/// of the report, not the gate.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// The lines of `new` that are not lines of `old` (1-based, inclusive
/// ranges), lines compared without their line breaks. `old` of `None`: the
/// file is new, every line is written.
pub fn written(old: Option<&str>, new: &str) -> LineRanges {
    let new_lines = lines(new);
    let Some(old) = old else {
        return if new_lines.is_empty() {
            Vec::new()
        } else {
            vec![(1, new_lines.len())]
        };
    };
    let old_lines = lines(old);
    let deadline = Instant::now().checked_add(DIFF_DEADLINE);
    let ops =
        similar::capture_diff_slices_deadline(Algorithm::Myers, &old_lines, &new_lines, deadline);
    let mut ranges: LineRanges = Vec::new();
    for op in ops {
        if matches!(op.tag(), DiffTag::Insert | DiffTag::Replace) {
            let r = op.new_range();
            if r.is_empty() {
                continue;
            }
            let (first, last) = (r.start + 1, r.end);
            match ranges.last_mut() {
                Some(prev) if prev.1 + 1 >= first => prev.1 = prev.1.max(last),
                _ => ranges.push((first, last)),
            }
        }
    }
    ranges
}

/// The text's lines without their breaks, as [`LineIndex`] counts them
/// (`\n`, `\r\n`, a lone `\r`). A final line break starts no line.
fn lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let index = LineIndex::new(text);
    let mut out: Vec<&str> = (0..index.line_count())
        .map(|l| text.get(index.line_range(text, l)).unwrap_or(""))
        .collect();
    if text.ends_with(['\n', '\r']) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_files_are_written_whole() {
        assert_eq!(written(None, "a\nb\nc\n"), [(1, 3)]);
        assert_eq!(written(None, "a\nb"), [(1, 2)]);
        assert!(written(None, "").is_empty());
    }

    #[test]
    fn changed_and_added_lines() {
        let old = "a\nb\nc\nd\n";
        assert!(written(Some(old), old).is_empty());
        assert_eq!(written(Some(old), "a\nB\nc\nd\ne\n"), [(2, 2), (5, 5)]);
        assert_eq!(written(Some(old), "x\ny\na\nb\nc\nd\n"), [(1, 2)]);
        // Lines deleted write nothing.
        assert!(written(Some(old), "a\nd\n").is_empty());
        // Adjacent ranges are one.
        assert_eq!(written(Some(old), "a\nB\nC\nd\n"), [(2, 3)]);
    }

    #[test]
    fn line_breaks_are_not_content() {
        assert!(written(Some("a\nb\n"), "a\r\nb\r\n").is_empty());
        assert!(written(Some("a\nb"), "a\nb\n").is_empty());
        // A lone CR ends a line, as editors count it.
        assert_eq!(written(Some("a\nb\n"), "a\rX\rb\r"), [(2, 2)]);
    }
}
