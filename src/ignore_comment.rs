//! `keyward:ignore` comments: where they stand in a file and what they
//! name. Deciding what they accept is [`crate::suppress`]'s job.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::rules::RuleSet;
use crate::shown::LineIndex;

/// The comment text, and a prefilter keyword.
pub const MARKER: &str = "keyward:ignore";

static MARKER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"keyward:ignore(?:[ \t]+([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*(?:[ \t]*,[ \t]*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)*))?(?:[ \t]*--[ \t]*([^>\r\n][^\r\n]*?))?[ \t]*(?:\*/|-->)?[ \t]*(?:\r?\n|$)",
    )
    .expect("static regex")
});

/// An ignore comment found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreMarker {
    /// The `keyward:ignore …` text.
    pub span: Range<usize>,
    /// 0-based line of the marker.
    pub line: usize,
    /// Rule IDs it names; empty (and nothing unknown): every rule.
    pub rules: Vec<String>,
    /// Names it gives that are no rule (a typo: `KW01`).
    pub unknown: Vec<String>,
    pub reason: String,
}

impl IgnoreMarker {
    /// Replaces rule names by IDs and sets aside what names no rule.
    pub fn resolve(&mut self, rules: &RuleSet) {
        let mut known = Vec::new();
        for r in std::mem::take(&mut self.rules) {
            match rules.get(&r) {
                Some(rule) => known.push(rule.id.clone()),
                None => self.unknown.push(r),
            }
        }
        self.rules = known;
    }
}

/// Comment openers of the formats keyward reads: HCL `#` `//` `/*`, YAML,
/// shell and dotenv `#`, INI `;` and `#`, Markdown `<!--`.
const OPENERS: [&str; 5] = ["#", "//", "/*", ";", "<!--"];

/// Every `keyward:ignore` that stands in a comment.
pub fn find_markers(text: &str) -> Vec<IgnoreMarker> {
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return Vec::new();
    }
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    for caps in MARKER_RE.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        let line = lines.line_of(whole.start());
        let line_start = lines.line_start(line);
        let before = text.get(line_start..whole.start()).unwrap_or("");
        if !OPENERS.iter().any(|o| before.contains(o)) {
            continue;
        }
        let rules = caps
            .get(1)
            .map(|m| {
                m.as_str()
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let reason = caps.get(2).map_or("", |m| m.as_str().trim()).to_string();
        let end = whole.start() + whole.as_str().trim_end().len();
        out.push(IgnoreMarker {
            span: whole.start()..end,
            line,
            rules,
            unknown: Vec::new(),
            reason,
        });
    }
    out
}

/// Drops the markers that stand inside fenced code blocks or code spans
/// of a Markdown file: those are examples of the syntax (a README showing
/// how to ignore a key), not ignores.
pub fn outside_markdown_fences(text: &str, markers: Vec<IgnoreMarker>) -> Vec<IgnoreMarker> {
    if markers.is_empty() {
        return markers;
    }
    let mut fenced = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let fence = ["```", "~~~"].into_iter().find(|f| t.starts_with(f));
        match (open, fence) {
            (None, Some(f)) => open = Some((i, f)),
            (Some((start, f)), Some(g)) if f == g && t.trim_end() == g => {
                fenced.push(start..=i);
                open = None;
            }
            _ => {}
        }
    }
    if let Some((start, _)) = open {
        fenced.push(start..=usize::MAX);
    }
    let lines = LineIndex::new(text);
    // An odd number of backticks before it on its line: inside a code span.
    let in_code_span = |m: &IgnoreMarker| {
        text.get(lines.line_start(m.line)..m.span.start)
            .is_some_and(|before| before.bytes().filter(|&b| b == b'`').count() % 2 == 1)
    };
    markers
        .into_iter()
        .filter(|m| !fenced.iter().any(|r| r.contains(&m.line)) && !in_code_span(m))
        .collect()
}

/// Whether an ignore comment on 0-based line `marker.line` covers a finding
/// of `rule` on 0-based line `line`: its own line and the one below.
pub fn marker_covers(marker: &IgnoreMarker, line: usize, rule: &str) -> bool {
    (marker.line == line || marker.line + 1 == line)
        && ((marker.rules.is_empty() && marker.unknown.is_empty())
            || marker.rules.iter().any(|r| r == rule))
}

/// The ignore comment of `markers` that suppresses a finding of `rule` on
/// 0-based line `line`, with its index: the finding's own line's first, so
/// a trailing ignore on the line above never takes its credit.
pub fn covering<'a>(
    markers: &'a [IgnoreMarker],
    line: usize,
    rule: &str,
) -> Option<(usize, &'a IgnoreMarker)> {
    markers
        .iter()
        .enumerate()
        .filter(|(_, m)| marker_covers(m, line, rule))
        .min_by_key(|(_, m)| m.line != line)
}

/// Markdown, where an ignore comment inside a code fence is an example,
/// not a suppression.
pub fn is_markdown(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "md" | "markdown" | "mdx"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_comment_closer_is_not_a_reason() {
        let m = find_markers("x <!-- keyward:ignore -->\n");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].reason, "");
        let m = find_markers("x <!-- keyward:ignore KW001 -- demo value -->\n");
        assert_eq!(m[0].reason, "demo value");
        assert_eq!(m[0].rules, ["KW001"]);
        let m = find_markers("x /* keyward:ignore -- in C */\n");
        assert_eq!(m[0].reason, "in C");
        let m = find_markers("# keyward:ignore --no space\n");
        assert_eq!(m[0].reason, "no space");
    }

    #[test]
    fn markers_in_comments_of_every_format() {
        let text = "a = 1 # keyward:ignore\n// keyward:ignore KW001, KW002 -- rotated in 2024\n/* keyward:ignore KW004 */\n; keyward:ignore\n<!-- keyward:ignore -->\nvalue: \"keyward:ignore\"\n";
        let m = find_markers(text);
        assert_eq!(m.len(), 5, "{m:?}");
        assert_eq!(m[0].line, 0);
        assert!(m[0].rules.is_empty());
        assert_eq!(m[1].rules, ["KW001", "KW002"]);
        assert_eq!(m[1].reason, "rotated in 2024");
        assert_eq!(m[2].rules, ["KW004"]);
        assert_eq!(
            &text[m[1].span.clone()],
            "keyward:ignore KW001, KW002 -- rotated in 2024"
        );
    }

    #[test]
    fn markers_in_markdown_fences_are_examples() {
        let text = "# Usage\n<!-- keyward:ignore -->\n```hcl\nkey = 1 # keyward:ignore\n```\nafter # keyward:ignore\nuse `# keyward:ignore`\n~~~\n# keyward:ignore\n";
        let kept = outside_markdown_fences(text, find_markers(text));
        let lines: Vec<usize> = kept.iter().map(|m| m.line).collect();
        assert_eq!(lines, [1, 5]);
    }

    #[test]
    fn no_marker_no_work() {
        assert!(find_markers("nothing to see").is_empty());
    }
}
