//! Line-based scanner for unstructured text (shell, Dockerfiles, Markdown,
//! source code, Helm templates, files that failed to parse) and for text
//! embedded in other formats (heredocs, block scalars, comments).
//!
//! Each line is cut into segments at `NAME=`, `NAME:`, `NAME =>`, `NAME :=`
//! assignments, so every value gets the name written in front of it. An
//! `[section]` line sets the context of what follows (INI embedded in a
//! heredoc), and a blank line starts a new group: consecutive lines form the
//! block in which a secret is paired with its key ID.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{Value, ValueKind};

static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*(?:=>|:=|=|:)[ \t]*"#)
        .expect("static regex")
});

/// A piece of a line: the value written after `name` (or free text, with an
/// empty name, before the first assignment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Byte range in the scanned text.
    pub range: Range<usize>,
    pub name: String,
    /// `[section]` in force, when the text has INI sections.
    pub section: Option<String>,
    /// Blank-line separated block number.
    pub group: u32,
}

const MAX_ASSIGNMENTS_PER_LINE: usize = 1024;

/// Cuts `text` into named segments.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut group = 0u32;
    let mut offset = 0usize;
    // (line number, value) of the last `name:` seen, for `- name: X` / `value: Y` pairs.
    let mut last_name_entry: Option<(usize, String)> = None;
    for (line_no, raw_line) in text.split_inclusive('\n').enumerate() {
        // Cut short, the segments so far are still worth scanning.
        if crate::budget::expired() {
            break;
        }
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            group += 1;
            continue;
        }
        if let Some(inner) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
            && !inner.contains(['[', ']', '='])
            && !inner.trim().is_empty()
        {
            section = Some(inner.trim().to_string());
            group += 1;
            continue;
        }
        let assigns: Vec<(usize, usize, &str)> = ASSIGNMENT
            .captures_iter(line)
            // A minified line can hold millions of `a=b`; a segment (and a
            // value, later) each costs far more than its bytes, so past this
            // the last value kept runs to the end of the line: key IDs in it
            // are still found, and memory stays near the file's size.
            .take(MAX_ASSIGNMENTS_PER_LINE)
            .filter_map(|c| {
                let whole = c.get(0)?;
                let name = c.get(1)?;
                // `https://host` is not an assignment of `https`.
                if line[whole.end()..].starts_with("//") {
                    return None;
                }
                Some((whole.start(), whole.end(), name.as_str()))
            })
            .collect();
        let first_start = assigns.first().map_or(line.len(), |a| a.0);
        if !line[..first_start].trim().is_empty() {
            out.push(Segment {
                range: line_start..line_start + first_start,
                name: String::new(),
                section: section.clone(),
                group,
            });
        }
        for (i, &(_, value_start, name)) in assigns.iter().enumerate() {
            let value_end = assigns.get(i + 1).map_or(line.len(), |next| next.0);
            let value = &line[value_start..value_end];
            let mut seg_name = name.to_string();
            if name.eq_ignore_ascii_case("name") {
                last_name_entry = Some((line_no, unquote(value).to_string()));
            } else if name.eq_ignore_ascii_case("value")
                && let Some((at, n)) = &last_name_entry
                && line_no.saturating_sub(*at) <= 1
                && !n.is_empty()
            {
                seg_name = n.clone();
            }
            out.push(Segment {
                range: line_start + value_start..line_start + value_end,
                name: seg_name,
                section: section.clone(),
                group,
            });
        }
    }
    out
}

fn unquote(s: &str) -> &str {
    s.trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | ',' | ';'))
        .trim()
}

/// The whole-file text scanner: one value per segment.
pub fn scan(src: &str) -> Vec<Value> {
    segments(src)
        .into_iter()
        .map(|seg| {
            let mut context = Vec::new();
            if let Some(section) = &seg.section {
                context.push(section.clone());
            }
            if !seg.name.is_empty() {
                context.push(seg.name.clone());
            }
            Value {
                text: src[seg.range.clone()].to_string(),
                span: seg.range,
                context,
                name: seg.name,
                group: seg.group,
                verbatim: true,
                encoding: super::Encoding::Plain,
                kind: ValueKind::Text,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(text: &str) -> Vec<(String, String, Option<String>, u32)> {
        segments(text)
            .into_iter()
            .map(|s| (s.name, text[s.range].to_string(), s.section, s.group))
            .collect()
    }

    #[test]
    fn shell_exports_are_named() {
        let t = "#!/bin/sh\nexport AWS_ACCESS_KEY_ID=AKIA1 AWS_SECRET_ACCESS_KEY=\"abc\"\n";
        let s = segs(t);
        assert_eq!(s[0].1, "#!/bin/sh");
        assert_eq!(s[1].0, "");
        assert_eq!(s[1].1, "export ");
        assert_eq!(
            (s[2].0.as_str(), s[2].1.as_str()),
            ("AWS_ACCESS_KEY_ID", "AKIA1 ")
        );
        assert_eq!(
            (s[3].0.as_str(), s[3].1.as_str()),
            ("AWS_SECRET_ACCESS_KEY", "\"abc\"")
        );
    }

    #[test]
    fn ini_sections_and_groups() {
        let t =
            "[default]\naws_access_key_id = A\n\n[profile prod]\r\naws_secret_access_key = B\r\n";
        let s = segs(t);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0],
            (
                "aws_access_key_id".into(),
                "A".into(),
                Some("default".into()),
                1
            )
        );
        assert_eq!(s[1].1, "B");
        assert_eq!(s[1].2.as_deref(), Some("profile prod"));
        assert_ne!(s[0].3, s[1].3);
    }

    #[test]
    fn yaml_like_name_value_pairs_take_the_name() {
        let t = "  - name: AWS_ACCESS_KEY_ID\n    value: AKIA1\n";
        let s = segs(t);
        assert_eq!(s.last().map(|x| x.0.as_str()), Some("AWS_ACCESS_KEY_ID"));
    }

    #[test]
    fn urls_are_not_assignments() {
        let t = "see https://example.com/x?a=b";
        let s = segs(t);
        assert_eq!(s[0].0, "");
        assert_eq!(s[1].0, "a");
    }

    #[test]
    fn scan_spans_are_exact() {
        let src = "ENV AWS_SECRET_ACCESS_KEY=xyz\n";
        let v = scan(src);
        let named = v
            .iter()
            .find(|v| v.name == "AWS_SECRET_ACCESS_KEY")
            .expect("named");
        assert_eq!(&src[named.span.clone()], "xyz");
        assert!(named.verbatim);
    }
}
