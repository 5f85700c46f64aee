//! `.gitattributes` lines a change writes that hide files from the people
//! who review it: `-diff`, `binary`, `linguist-generated` and the like make
//! git and pull-request views show no content for the files they match.
//! keyward itself reads content, never git's patch, so it still sees them;
//! a reviewer does not, which is why such a line is a policy change (KW015).

use std::ops::Range;

/// The attributes that hide or transform what a file holds.
fn hides(attribute: &str) -> bool {
    let (name, value) = match attribute.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (attribute, None),
    };
    match name {
        // Unset (`-diff`) or a driver (`diff=foo`): no textual diff.
        "-diff" | "binary" | "-text" => true,
        "diff" | "filter" | "working-tree-encoding" => value.is_some(),
        "linguist-generated" | "linguist-vendored" | "linguist-documentation" => {
            !matches!(value, Some("false" | "0"))
        }
        _ => false,
    }
}

/// One line of a `.gitattributes` file that hides files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hiding {
    /// The line's span in the file, without its line break.
    pub span: Range<usize>,
    /// 1-based.
    pub line: usize,
    pub pattern: String,
    /// The attributes that hide, as written (a macro by its name).
    pub attributes: Vec<String>,
}

/// Lines of `text` that give hiding attributes to a pattern, among the
/// 1-based `lines`. Macros (`[attr]name -diff`) defined in the same file
/// count by what they set.
pub fn hiding_lines(text: &str, lines: &[(usize, usize)]) -> Vec<Hiding> {
    let mut macros: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (pattern, rest) = split_pattern(trimmed);
        let attributes: Vec<&str> = rest.split_whitespace().collect();
        let hiding = |a: &str| hides(a) || macros.iter().any(|m| m == a);
        if let Some(name) = pattern.strip_prefix("[attr]") {
            if attributes.iter().any(|a| hiding(a)) {
                macros.push(name.to_string());
            }
            continue;
        }
        let number = i + 1;
        let written = lines.iter().any(|&(a, b)| (a..=b).contains(&number));
        let found: Vec<String> = attributes
            .iter()
            .filter(|a| hiding(a))
            .map(|a| (*a).to_string())
            .collect();
        if written && !found.is_empty() {
            out.push(Hiding {
                span: start..start + line.len(),
                line: number,
                pattern: pattern.to_string(),
                attributes: found,
            });
        }
    }
    out
}

/// The pattern of an attributes line (quoted or not) and the rest.
fn split_pattern(line: &str) -> (&str, &str) {
    if let Some(rest) = line.strip_prefix('"')
        && let Some(end) = rest.find('"')
    {
        return (&rest[..end], &rest[end + 1..]);
    }
    match line.find(char::is_whitespace) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    }
}

/// A matcher for a `.gitattributes` pattern of the file in directory
/// `dir` (repository-relative, `""` at the top), over repository paths:
/// a pattern without a slash matches a name at any depth below `dir`,
/// one with a slash is anchored at `dir`.
pub fn matcher(dir: &str, pattern: &str) -> Option<globset::GlobMatcher> {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let pattern = pattern.trim_start_matches('/');
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let glob = if anchored {
        format!("{prefix}{pattern}")
    } else {
        format!("{prefix}**/{pattern}")
    };
    globset::GlobBuilder::new(&glob)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_attributes() {
        let text = "# c\n*.png binary\n*.env -diff linguist-generated\n*.md text\n*.tf linguist-generated=false diff\n[attr]quiet -diff -merge\nsecrets/* quiet\n\"a b.txt\" filter=crypt\n";
        let all = hiding_lines(text, &[(1, 100)]);
        let got: Vec<(usize, &str, Vec<String>)> = all
            .iter()
            .map(|h| (h.line, h.pattern.as_str(), h.attributes.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "*.png", vec!["binary".to_string()]),
                (
                    3,
                    "*.env",
                    vec!["-diff".to_string(), "linguist-generated".to_string()]
                ),
                (7, "secrets/*", vec!["quiet".to_string()]),
                (8, "a b.txt", vec!["filter=crypt".to_string()]),
            ]
        );
        assert_eq!(&text[all[0].span.clone()], "*.png binary");
        // Only the lines the change writes.
        let some = hiding_lines(text, &[(3, 3)]);
        assert_eq!(some.len(), 1);
        assert_eq!(some[0].line, 3);
    }

    #[test]
    fn patterns_match_as_git_matches_them() {
        let m = matcher("", "*.env").expect("glob");
        assert!(m.is_match(".env"));
        assert!(m.is_match("app/prod.env"));
        let m = matcher("", "creds/**").expect("glob");
        assert!(m.is_match("creds/a/b.env"));
        assert!(!m.is_match("x/creds/a.env"));
        let m = matcher("sub", "*.tf").expect("glob");
        assert!(m.is_match("sub/a/main.tf"));
        assert!(!m.is_match("main.tf"));
        let m = matcher("", "/top.env").expect("glob");
        assert!(m.is_match("top.env"));
        assert!(!m.is_match("a/top.env"));
    }
}
