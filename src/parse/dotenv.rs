//! `.env` files: `KEY=value` assignments as read by docker compose,
//! python-dotenv, dotenv (Node) and direnv's `.envrc`.
//!
//! The dialects disagree on details; this parser takes the common ground and
//! leans towards keeping bytes: anything it cannot read as an assignment is
//! still emitted as text so the detector sees it.

use super::{ParseFailure, ParseWarning, Parsed, Value, ValueKind};
use std::ops::Range;

pub fn parse(src: &str) -> Result<Parsed, ParseFailure> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut quotes = QuoteMemo::default();
    let mut non_blank = 0usize;
    let mut failed = 0usize;
    let mut first_failure = None;
    let mut pos = if src.starts_with('\u{feff}') { 3 } else { 0 };

    while pos < b.len() {
        if crate::budget::expired() {
            return Err(ParseFailure::out_of_budget());
        }
        let (line, next) = line_at(b, pos);
        pos = next;
        let lead = skip_blanks(b, line.start, line.end);
        if lead == line.end {
            continue;
        }
        non_blank += 1;
        if b[lead] == b'#' {
            out.push(comment(src, lead + 1..line.end));
            continue;
        }
        match assignment(src, lead, line.end, &mut quotes, &mut out) {
            Some(resume) => pos = pos.max(resume),
            None => {
                failed += 1;
                first_failure.get_or_insert(lead);
                let end = lead + src[lead..line.end].trim_end().len();
                out.push(Value {
                    text: src[lead..end].to_string(),
                    span: lead..end,
                    verbatim: true,
                    kind: ValueKind::Text,
                    ..Value::default()
                });
            }
        }
    }

    let mut warnings = Vec::new();
    // A stray shell line in a .env is normal; a majority of them means the
    // file is something else named like one (a script, YAML), and the values
    // above carry little structure.
    if failed * 2 > non_blank {
        warnings.push(ParseWarning {
            offset: first_failure,
            message: format!(
                "{failed} of {non_blank} lines are not KEY=value assignments; \
                 the file may not be dotenv"
            ),
        });
    }
    Ok(Parsed {
        values: out,
        warnings,
        flavour: None,
    })
}

/// The line starting at `pos`, without its terminator (`\n` or `\r\n`), and
/// the start of the next line.
fn line_at(b: &[u8], pos: usize) -> (Range<usize>, usize) {
    let nl = memchr::memchr(b'\n', &b[pos..]).map_or(b.len(), |n| pos + n);
    let end = if nl > pos && b[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    (pos..end, nl + 1)
}

fn skip_blanks(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

fn comment(src: &str, span: Range<usize>) -> Value {
    Value {
        text: src[span.clone()].to_string(),
        span,
        verbatim: true,
        kind: ValueKind::Comment,
        ..Value::default()
    }
}

fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Reads `[export ]KEY = value` starting at `lead`. Returns `None` when the
/// line is not an assignment; otherwise the offset parsing resumes from (past
/// the end of a multi-line quoted value, or 0 when the value was one line).
fn assignment(
    src: &str,
    lead: usize,
    line_end: usize,
    quotes: &mut QuoteMemo,
    out: &mut Vec<Value>,
) -> Option<usize> {
    let b = src.as_bytes();
    let mut k = lead;
    // `export KEY=…` is shell syntax that many dotenv readers accept; a key
    // literally named `export` (`export=1`) is still a key.
    if b[lead..line_end].starts_with(b"export") && matches!(b.get(lead + 6), Some(b' ' | b'\t')) {
        k = skip_blanks(b, lead + 6, line_end);
    }
    let key_start = k;
    if k >= line_end || !(b[k].is_ascii_alphabetic() || b[k] == b'_') {
        return None;
    }
    while k < line_end && is_key_byte(b[k]) {
        k += 1;
    }
    let key = &src[key_start..k];
    let mut i = skip_blanks(b, k, line_end);
    // `KEY: value` is YAML, not dotenv: reject it rather than guess.
    if b.get(i) != Some(&b'=') || i >= line_end {
        return None;
    }
    i += 1;
    let after_eq = i;
    i = skip_blanks(b, i, line_end);

    let value = |text: String, span: Range<usize>| Value {
        verbatim: src.get(span.clone()) == Some(text.as_str()),
        text,
        span,
        context: vec![key.to_string()],
        name: key.to_string(),
        group: 0,
        ..Value::default()
    };

    let quote = b.get(i).copied().filter(|_| i < line_end);
    // An unmatched quote is taken literally, as part of an unquoted value.
    if let Some(q @ (b'"' | b'\'' | b'`')) = quote
        && let Some(close) = quotes.closing(b, i + 1, q)
    {
        let span = i + 1..close;
        let text = if q == b'"' {
            unescape(&src[span.clone()])
        } else {
            src[span.clone()].to_string()
        };
        if !text.is_empty() {
            out.push(value(text, span));
        }
        // The value may have run over several lines; the rest of the line
        // holding the closing quote can still carry a comment.
        let (rest, next) = line_at(b, close + 1);
        let rest = close + 1..rest.end;
        if let Some(h) = inline_comment(b, rest.start, rest.end, true) {
            out.push(comment(src, h + 1..rest.end));
        }
        return Some(next);
    }

    let hash = inline_comment(b, after_eq, line_end, false);
    let raw_end = hash.unwrap_or(line_end);
    let text = src[i..raw_end].trim_end();
    if !text.is_empty() {
        out.push(value(text.to_string(), i..i + text.len()));
    }
    if let Some(h) = hash {
        out.push(comment(src, h + 1..line_end));
    }
    Some(0)
}

/// The offset of a `#` that starts a comment in `start..end`: one preceded by
/// a blank (`KEY=a#b` keeps the `#`, secrets and URLs contain them). After a
/// closing quote (`after_quote`) a `#` right away also counts.
fn inline_comment(b: &[u8], start: usize, end: usize, after_quote: bool) -> Option<usize> {
    let mut i = start;
    while let Some(n) = memchr::memchr(b'#', b.get(i..end)?) {
        let h = i + n;
        let prev_blank = h > 0 && matches!(b[h - 1], b' ' | b'\t');
        if prev_blank || (after_quote && h == start) {
            return Some(h);
        }
        i = h + 1;
    }
    None
}

/// Resolves the escapes double-quoted dotenv values support; others are kept
/// as written.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Finds closing quotes, remembering where a search failed: once no closing
/// `"` exists after offset p, none exists after any later offset either, so a
/// file full of unmatched quotes is scanned once instead of once per line.
#[derive(Default)]
struct QuoteMemo {
    /// Per quote kind (`"`, `'`, `` ` ``): an offset after which there is no
    /// closing quote.
    none_after: [Option<usize>; 3],
}

impl QuoteMemo {
    fn closing(&mut self, b: &[u8], from: usize, q: u8) -> Option<usize> {
        let slot = match q {
            b'"' => 0,
            b'\'' => 1,
            _ => 2,
        };
        if self.none_after[slot].is_some_and(|p| p <= from) {
            return None;
        }
        let found = if q == b'"' {
            // Skip escaped characters; the memo stays sound because every
            // later search starts right after a quote, where this scan was
            // not inside an escape.
            let mut i = from;
            loop {
                let Some(rest) = b.get(i..) else { break None };
                match memchr::memchr2(b'"', b'\\', rest) {
                    None => break None,
                    Some(n) if b[i + n] == b'"' => break Some(i + n),
                    Some(n) => i += n + 2,
                }
            }
        } else {
            memchr::memchr(q, b.get(from..)?).map(|n| from + n)
        };
        if found.is_none() {
            self.none_after[slot] = Some(from);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::*;

    fn ok(src: &str) -> Parsed {
        parsed(parse(src))
    }

    fn named<'a>(p: &'a Parsed, name: &str) -> &'a Value {
        p.values
            .iter()
            .find(|v| v.name == name && v.kind == ValueKind::Scalar)
            .unwrap_or_else(|| panic!("no value named {name:?} in {:#?}", p.values))
    }

    #[test]
    fn assignments_of_every_shape() {
        let src = format!(
            "AWS_ACCESS_KEY_ID={KID}\n\
             export AWS_SECRET_ACCESS_KEY = {SECRET}   # rotated\n\
             SINGLE='{KID2}'\n\
             BACK=`{SECRET2}`\n\
             DOUBLE=\"a\\\"b\\\\c\\nd\"\n\
             HASHED=abc#def\n\
             EMPTY=\n\
             EMPTY_QUOTED=\"\"\n\
             \x20\x20INDENTED=yes\n"
        );
        let p = ok(&src);
        check_spans(&src, &p);
        assert!(p.warnings.is_empty());

        let v = named(&p, "AWS_ACCESS_KEY_ID");
        assert_eq!(v.text, KID);
        assert_eq!(&src[v.span.clone()], KID);
        assert_eq!(ctx(v), "AWS_ACCESS_KEY_ID");
        assert_eq!(v.group, 0);
        assert!(v.verbatim);

        let v = named(&p, "AWS_SECRET_ACCESS_KEY");
        assert_eq!(v.text, SECRET);
        assert_eq!(&src[v.span.clone()], SECRET);
        let c = first_of_kind(&p, ValueKind::Comment);
        assert_eq!(c.text, " rotated");
        assert_eq!((c.name.as_str(), c.group), ("", 0));

        let v = named(&p, "SINGLE");
        assert_eq!((v.text.as_str(), &src[v.span.clone()]), (KID2, KID2));
        assert_eq!(named(&p, "BACK").text, SECRET2);

        let v = named(&p, "DOUBLE");
        assert_eq!(v.text, "a\"b\\c\nd");
        assert_eq!(&src[v.span.clone()], r#"a\"b\\c\nd"#);
        assert!(!v.verbatim);

        assert_eq!(named(&p, "HASHED").text, "abc#def");
        assert_eq!(named(&p, "INDENTED").text, "yes");
        assert!(
            p.values
                .iter()
                .all(|v| v.name != "EMPTY" && v.name != "EMPTY_QUOTED")
        );
    }

    #[test]
    fn fixture_app_env_crlf() {
        let src = include_str!("../../fixtures/parse/dotenv/app.env");
        let p = ok(src);
        check_spans(src, &p);
        assert!(p.warnings.is_empty());
        let kid = named(&p, "AWS_ACCESS_KEY_ID");
        assert_eq!(&src[kid.span.clone()], "AKIARZPUZDIKHFT7V4SE");
        let secret = named(&p, "AWS_SECRET_ACCESS_KEY");
        assert_eq!(secret.text, "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");
        assert_eq!(named(&p, "AWS_REGION").text, "eu-central-1");
        assert_eq!(
            named(&p, "DATABASE_URL").text,
            "postgres://app@db:5432/app#main"
        );
        assert!(p.values.iter().all(|v| !v.text.contains('\r')));
        assert_eq!(of_kind(&p, ValueKind::Comment).len(), 2);
    }

    #[test]
    fn single_quotes_are_literal() {
        let src = "A='x\\ny # z'\n";
        let p = ok(src);
        let v = named(&p, "A");
        assert_eq!(v.text, "x\\ny # z");
        assert!(v.verbatim);
        assert!(p.values.iter().all(|v| v.kind != ValueKind::Comment));
    }

    #[test]
    fn multiline_double_quoted_value() {
        let src = format!("PEM=\"line1\n{SECRET}\nline3\" # after\nNEXT={KID}\n");
        let p = ok(&src);
        check_spans(&src, &p);
        let v = named(&p, "PEM");
        assert_eq!(v.text, format!("line1\n{SECRET}\nline3"));
        assert!(v.verbatim);
        // The lines inside the quotes are not re-read as assignments/text.
        assert!(p.values.iter().all(|v| v.kind != ValueKind::Text));
        assert_eq!(texts(of_kind(&p, ValueKind::Comment)), [" after"]);
        assert_eq!(named(&p, "NEXT").text, KID);
    }

    #[test]
    fn unmatched_quote_is_literal() {
        let src = format!("A=\"{KID}\nB={SECRET}\n");
        let p = ok(&src);
        assert_eq!(named(&p, "A").text, format!("\"{KID}"));
        assert_eq!(named(&p, "B").text, SECRET);
    }

    #[test]
    fn comments_and_non_assignments() {
        let src = format!("# creds: {KID}\nKEY: value\nA=1\nB=2\n");
        let p = ok(&src);
        check_spans(&src, &p);
        let c = &p.values[0];
        assert_eq!(c.kind, ValueKind::Comment);
        assert_eq!(c.text, format!(" creds: {KID}"));
        let t = first_of_kind(&p, ValueKind::Text);
        assert_eq!(t.text, "KEY: value");
        assert_eq!(t.name, "");
        // One failure in four non-blank lines: no warning.
        assert!(p.warnings.is_empty());
        // `KEY: value` is never a named value.
        assert!(p.values.iter().all(|v| v.name != "KEY"));
    }

    #[test]
    fn mostly_not_dotenv_warns_but_parses() {
        let src = "services:\n  web:\n    image: x\nA=1\n";
        let p = ok(src);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].offset, Some(0));
        assert_eq!(of_kind(&p, ValueKind::Text).len(), 3);
        assert_eq!(named(&p, "A").text, "1");
    }

    #[test]
    fn export_edge_cases() {
        let p = ok("export=1\nexport\texport_me=2\nexport NOVALUE\n");
        assert_eq!(named(&p, "export").text, "1");
        assert_eq!(named(&p, "export_me").text, "2");
        let t = first_of_kind(&p, ValueKind::Text);
        assert_eq!(t.text, "export NOVALUE");
    }

    #[test]
    fn crlf_bom_and_non_ascii() {
        let src = format!(
            "\u{feff}# ünïcödé\r\nNAME=\"déjà vu\"\r\nAWS_SECRET_ACCESS_KEY={SECRET}\r\nQ='{KID}' # c\r\n"
        );
        let p = ok(&src);
        check_spans(&src, &p);
        let v = named(&p, "AWS_SECRET_ACCESS_KEY");
        assert_eq!(v.text, SECRET);
        assert_eq!(&src[v.span.clone()], SECRET);
        assert_eq!(named(&p, "NAME").text, "déjà vu");
        assert_eq!(named(&p, "Q").text, KID);
        assert_eq!(texts(of_kind(&p, ValueKind::Comment)), [" ünïcödé", " c"]);
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(ok(""), Parsed::default());
        assert!(ok("\n\n  \n").values.is_empty());
        for s in [
            "=", "\"", "A=\"\\", "A=\"\\\"", "export ", "A=`", "\r", "é=é", "A='", "\u{feff}", "#",
        ] {
            let p = ok(s);
            check_spans(s, &p);
        }
    }

    #[test]
    fn quote_memo_skips_escapes_and_remembers_failure() {
        let mut m = QuoteMemo::default();
        let b = br#"a\"b\\"c"#;
        assert_eq!(m.closing(b, 0, b'"'), Some(6));
        assert_eq!(m.closing(b"a\\\"", 0, b'"'), None);
        assert_eq!(m.none_after[0], Some(0));
        // Remembered: a later search fails without looking.
        assert_eq!(m.closing(b"\"\"", 1, b'"'), None);
        assert_eq!(m.closing(b"x'", 0, b'\''), Some(1));
    }

    #[test]
    fn megabyte_inputs_complete() {
        // An opening quote per line: each pairs with the next line's, as
        // multi-line values do; the last one is unmatched and literal.
        let src = "A=\"x\n".repeat(200_001);
        let p = ok(&src);
        assert_eq!(p.values.len(), 100_001);
        assert_eq!(p.values[0].text, "x\nA=");
        assert_eq!(p.values[100_000].text, "\"x");
        let src = format!("K={}\n", "v".repeat(1_000_000));
        assert_eq!(ok(&src).values[0].text.len(), 1_000_000);
        let src = "# ".repeat(500_000);
        assert_eq!(ok(&src).values.len(), 1);
    }
}
