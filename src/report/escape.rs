//! One escaper per output language. Every renderer puts every string it did
//! not write itself (paths, key names, messages, inventory fields,
//! repository names) through these, so a file named
//! `<img src=x onerror=…>.env` or a YAML key holding backticks reads as
//! text, never as markup, a link or a workflow command.
//!
//! Messages are written with `code` spans in backticks; the values keyward
//! puts into them have their backticks replaced (`shown::code_value`), so the
//! spans of a message always pair up.

/// Markdown (CommonMark with GitHub's tables).
pub mod md {
    /// Text outside code spans: every character that can start inline
    /// markup (emphasis, links, images, code) is
    /// backslash-escaped, and so are `#`, `-` and `+` at the start (a
    /// heading or a list); `<` and `&` are entities (no raw HTML), and line
    /// breaks are spaces.
    pub fn text(s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 8);
        for (i, c) in super::super::printable_keeping_breaks(s)
            .chars()
            .enumerate()
        {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '\r' | '\n' => out.push(' '),
                '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '|' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                '#' | '-' | '+' if i == 0 => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out
    }

    /// A code span holding `s` whatever it contains: fenced with one more
    /// backtick than its longest run of them, padded with a space when it
    /// starts or ends with one, line breaks as spaces, `|` escaped (GitHub
    /// splits table cells at a bare `|` even inside code spans, and reads
    /// `\|` as a pipe there).
    pub fn code(s: &str) -> String {
        let body = super::super::printable_keeping_breaks(s)
            .replace(['\r', '\n'], " ")
            .replace('|', "\\|");
        let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        if body.is_empty() {
            return "` `".to_string();
        }
        let fence = "`".repeat(longest + 1);
        let pad = if body.starts_with('`') || body.ends_with('`') {
            " "
        } else {
            ""
        };
        format!("{fence}{pad}{body}{pad}{fence}")
    }

    /// Lines (shell commands) as a fenced code block, each line indented by
    /// `indent` (a list item's block): the fence is longer than any run of
    /// backticks in them, and each line shows control characters escaped,
    /// so nothing ends the block early.
    pub fn fenced(lang: &str, lines: &[String], indent: &str) -> String {
        let lines: Vec<String> = lines
            .iter()
            .map(|l| super::super::printable(l).into_owned())
            .collect();
        let longest = lines
            .iter()
            .flat_map(|l| l.split(|c| c != '`').map(str::len))
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let mut out = format!("{indent}{fence}{lang}\n");
        for l in &lines {
            out.push_str(&format!("{indent}{l}\n"));
        }
        out.push_str(&format!("{indent}{fence}\n"));
        out
    }

    /// A message with `code` spans: the spans as code, the rest as text. An
    /// unpaired backtick makes the whole message text.
    pub fn message(s: &str) -> String {
        if s.matches('`').count() % 2 == 1 {
            return text(s);
        }
        s.split('`')
            .enumerate()
            .map(|(i, part)| if i % 2 == 1 { code(part) } else { text(part) })
            .collect()
    }
}

/// HTML.
pub mod html {
    use std::fmt::{self, Write};

    /// The HTML escaper: `&`, `<`, `>`, `"` and `'` as entities, safe in
    /// text and in quoted attribute values. The templates of the HTML
    /// reports use it for every value they print (`askama.toml`).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Entities;

    impl askama::filters::Escaper for Entities {
        fn write_escaped_str<W: Write>(&self, mut dest: W, s: &str) -> fmt::Result {
            let mut last = 0;
            for (i, b) in s.bytes().enumerate() {
                let entity = match b {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    b'\'' => "&#39;",
                    _ => continue,
                };
                dest.write_str(s.get(last..i).unwrap_or_default())?;
                dest.write_str(entity)?;
                last = i + 1;
            }
            dest.write_str(s.get(last..).unwrap_or_default())
        }
    }

    /// Text and attribute values, through [`Entities`].
    #[cfg(any(test, feature = "internals"))]
    pub fn text(s: &str) -> String {
        use askama::filters::Escaper;
        let mut out = String::with_capacity(s.len() + 8);
        // Writing into a String cannot fail.
        let _ = Entities.write_escaped_str(&mut out, s);
        out
    }
}

/// GitHub Actions workflow commands (`::error file=…::message`).
pub mod workflow {
    /// A command's message: `%`, CR and LF would end or garble it; other
    /// control characters are shown escaped.
    pub fn data(s: &str) -> String {
        super::super::printable_keeping_breaks(s)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    }

    /// A property value also ends at `,` and at the `::` that starts the
    /// message.
    pub fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shown::code_value;

    const HOSTILE: &str = "a`b](https://evil.example/x) ![i](https://evil.example/p.png) <img src=x onerror=alert(1)> | c\nd";

    #[test]
    fn markdown_text_is_inert() {
        let t = md::text(HOSTILE);
        assert!(!t.contains("<img"), "{t}");
        // Every bracket and bang is escaped: no link, no image.
        for (i, c) in t.char_indices() {
            if matches!(c, '[' | ']' | '!' | '`') {
                assert_eq!(&t[i - 1..i], "\\", "unescaped {c} at {i}: {t}");
            }
        }
        assert!(!t.contains('\n'));
        assert!(!t.contains(" | "), "a bare pipe would split a cell: {t}");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(md::code("x"), "`x`");
        assert_eq!(md::code("a`b"), "``a`b``");
        assert_eq!(md::code("`x"), "`` `x ``");
        assert_eq!(md::code("a|b\nc"), "`a\\|b c`");
        assert_eq!(md::code(""), "` `");
        // However many backticks, the fence is longer.
        let s = md::code("```");
        assert!(s.starts_with("````") && s.ends_with("````"), "{s}");
    }

    #[test]
    fn messages_keep_their_spans_and_lose_injected_ones() {
        let value = code_value(HOSTILE);
        let message = format!("hardcoded in `{value}` here");
        let m = md::message(&message);
        assert!(m.starts_with("hardcoded in `"), "{m}");
        assert!(m.ends_with("` here"), "{m}");
        // The value's brackets are inside the code span, not links.
        let inner = &m["hardcoded in `".len()..m.len() - "` here".len()];
        assert!(!inner.contains('`'), "{inner}");
        // An unpaired backtick: all text.
        assert_eq!(md::message("a ` b"), "a \\` b");
    }

    #[test]
    fn workflow_commands_cannot_be_ended_early() {
        assert_eq!(workflow::data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(workflow::property("a:b,c"), "a%3Ab%2Cc");
    }
}
