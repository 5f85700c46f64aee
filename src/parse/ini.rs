//! INI files, chiefly AWS shared credentials and config files (`[default]`,
//! `[profile prod]`, nested `s3 =` settings), but also `*.ini` / `*.cfg`.
//!
//! INI has no standard, so the parser accepts the common forms and keeps
//! whatever else it meets as text (with a warning) instead of failing: a
//! credentials file with one stray line still has its keys found with their
//! profile as context.

use super::{ParseFailure, ParseWarning, Parsed, Value, ValueKind};
use std::ops::Range;

/// Section names and keys are copied into the context of every value below
/// them; cutting absurdly long ones keeps that copying linear in the input.
const SEGMENT_CAP: usize = 256;

pub fn parse(src: &str) -> Result<Parsed, ParseFailure> {
    let mut p = Parser::default();
    let b = src.as_bytes();
    let mut pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut line_no = 0usize;
    while pos < b.len() {
        if crate::budget::expired() {
            return Err(ParseFailure::out_of_budget());
        }
        let nl = memchr::memchr(b'\n', &b[pos..]).map_or(b.len(), |n| pos + n);
        let end = if nl > pos && b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        line_no += 1;
        p.line(src, pos, end, line_no);
        pos = nl + 1;
    }
    if p.shaped == 0 && p.non_blank > 0 {
        return Err(ParseFailure::new(
            p.warnings.first().and_then(|w| w.offset),
            "no INI section, key or comment found",
        ));
    }
    Ok(Parsed {
        values: p.out,
        warnings: p.warnings,
        flavour: None,
    })
}

#[derive(Default)]
struct Parser {
    out: Vec<Value>,
    warnings: Vec<ParseWarning>,
    section: Option<String>,
    group: u32,
    last_group: u32,
    /// A key with an empty value opens AWS-style nested settings:
    /// `s3 =` followed by more-indented `max_concurrent_requests = 10`.
    nested: Option<(String, usize)>,
    /// The last key and its indentation: more-indented lines that are not
    /// settings continue its value (Python configparser style, `setup.cfg`).
    last_key: Option<(String, usize)>,
    shaped: usize,
    non_blank: usize,
}

impl Parser {
    fn line(&mut self, src: &str, start: usize, end: usize, line_no: usize) {
        let b = src.as_bytes();
        let lead = skip_blanks(b, start, end);
        if lead == end {
            return;
        }
        self.non_blank += 1;
        let indent = lead - start;
        match b[lead] {
            b';' | b'#' => {
                self.shaped += 1;
                self.comment(src, lead + 1..end);
                return;
            }
            b'[' => {
                if let Some(close) = memchr::memchr(b']', &b[lead..end]).map(|n| lead + n) {
                    self.shaped += 1;
                    self.last_group += 1;
                    self.group = self.last_group;
                    self.section = Some(cap(src[lead + 1..close].trim()));
                    self.nested = None;
                    self.last_key = None;
                    if let Some(c) = memchr::memchr2(b';', b'#', &b[close + 1..end]) {
                        self.comment(src, close + 2 + c..end);
                    }
                    return;
                }
            }
            _ => {}
        }

        let setting = setting_at(src, lead, end);
        if let Some((parent, parent_indent)) = self.nested.clone()
            && indent > parent_indent
        {
            match setting {
                Some(s) if is_identifier(&src[s.key.clone()]) => {
                    self.shaped += 1;
                    let sub = src[s.key.clone()].to_string();
                    let mut context = self.section_context();
                    context.push(parent);
                    context.push(sub.clone());
                    self.setting_values(src, &s, context, sub);
                }
                _ => self.continuation(src, lead, end),
            }
            return;
        }
        match setting {
            Some(s) => {
                self.shaped += 1;
                let key = src[s.key.clone()].to_string();
                let is_empty = s.value.is_empty();
                let mut context = self.section_context();
                context.push(key.clone());
                self.setting_values(src, &s, context, key.clone());
                let key = cap(&key);
                self.nested = is_empty.then(|| (key.clone(), indent));
                self.last_key = Some((key, indent));
            }
            None if self.last_key.as_ref().is_some_and(|(_, i)| indent > *i) => {
                self.continuation(src, lead, end)
            }
            None => {
                self.nested = None;
                self.last_key = None;
                let text_end = lead + src[lead..end].trim_end().len();
                self.out.push(Value {
                    text: src[lead..text_end].to_string(),
                    span: lead..text_end,
                    context: self.section_context(),
                    group: self.group,
                    verbatim: true,
                    kind: ValueKind::Text,
                    ..Value::default()
                });
                self.warnings.push(ParseWarning {
                    offset: Some(lead),
                    message: format!("line {line_no} is not an INI section, setting or comment"),
                });
            }
        }
    }

    /// An indented line under a key that is not itself a setting: another
    /// line of that key's value.
    fn continuation(&mut self, src: &str, lead: usize, end: usize) {
        self.shaped += 1;
        let Some((key, _)) = self.last_key.clone() else {
            return;
        };
        let mut context = self.section_context();
        if let Some((parent, _)) = &self.nested
            && *parent != key
        {
            context.push(parent.clone());
        }
        context.push(key.clone());
        let (value, comment) = value_at(src.as_bytes(), lead, end);
        let s = Setting {
            key: lead..lead,
            value,
            comment,
        };
        self.setting_values(src, &s, context, key);
    }

    fn setting_values(&mut self, src: &str, s: &Setting, context: Vec<String>, name: String) {
        if !s.value.is_empty() {
            self.out.push(Value {
                text: src[s.value.clone()].to_string(),
                span: s.value.clone(),
                context,
                name,
                group: self.group,
                verbatim: true,
                ..Value::default()
            });
        }
        if let Some(c) = &s.comment {
            self.comment(src, c.clone());
        }
    }

    fn comment(&mut self, src: &str, span: Range<usize>) {
        self.out.push(Value {
            text: src[span.clone()].to_string(),
            span,
            context: self.section_context(),
            group: self.group,
            verbatim: true,
            kind: ValueKind::Comment,
            ..Value::default()
        });
    }

    fn section_context(&self) -> Vec<String> {
        self.section.iter().cloned().collect()
    }
}

struct Setting {
    key: Range<usize>,
    /// Inside quotes when quoted; empty for `key =`.
    value: Range<usize>,
    comment: Option<Range<usize>>,
}

/// Reads `key = value` or `key: value` in `lead..end`.
fn setting_at(src: &str, lead: usize, end: usize) -> Option<Setting> {
    let b = src.as_bytes();
    let sep = lead + memchr::memchr2(b'=', b':', &b[lead..end])?;
    let key_len = src[lead..sep].trim_end().len();
    if key_len == 0 || matches!(b[lead], b'"' | b'\'' | b'[' | b']') {
        return None;
    }
    let (value, comment) = value_at(b, sep + 1, end);
    Some(Setting {
        key: lead..lead + key_len,
        value,
        comment,
    })
}

/// Parses the value in `from..end`: optionally quoted, optionally followed
/// by an inline comment. Returns the value span (possibly empty) and the
/// comment span.
fn value_at(b: &[u8], from: usize, end: usize) -> (Range<usize>, Option<Range<usize>>) {
    let start = skip_blanks(b, from, end);
    if let Some(&q @ (b'"' | b'\'')) = b.get(start).filter(|_| start < end)
        && let Some(close) = memchr::memchr(q, &b[start + 1..end]).map(|n| start + 1 + n)
    {
        let comment = memchr::memchr2(b';', b'#', &b[close + 1..end]).map(|n| close + 2 + n..end);
        return (start + 1..close, comment);
    }
    // A `;` or `#` starts a comment only after a blank: secrets, URLs and
    // connection strings contain them.
    let mut comment = None;
    let mut i = from;
    while let Some(n) = memchr::memchr2(b';', b'#', &b[i..end]) {
        let h = i + n;
        if h > from && matches!(b[h - 1], b' ' | b'\t') {
            comment = Some(h + 1..end);
            break;
        }
        i = h + 1;
    }
    // The comment marker is non-blank, so it lies at or after `start`.
    let mut v_end = comment.as_ref().map_or(end, |c| c.start - 1);
    while v_end > start && matches!(b[v_end - 1], b' ' | b'\t') {
        v_end -= 1;
    }
    (start..v_end, comment)
}

fn skip_blanks(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// AWS nested setting names are snake_case identifiers; anything else under
/// an empty key (`requests>=2.0` under `install_requires =`) is a value line.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

fn cap(s: &str) -> String {
    if s.len() <= SEGMENT_CAP {
        return s.to_string();
    }
    let end = s.floor_char_boundary(SEGMENT_CAP);
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::*;

    fn ok(src: &str) -> Parsed {
        parsed(parse(src))
    }

    #[test]
    fn credentials_file_profiles() {
        let src = format!(
            "[default]\n\
             aws_access_key_id = {KID}\n\
             aws_secret_access_key={SECRET}\n\
             \n\
             [profile prod]\n\
             aws_access_key_id: {KID2}\n\
             aws_secret_access_key = \"{SECRET2}\"\n\
             region = 'eu-west-1'\n"
        );
        let p = ok(&src);
        check_spans(&src, &p);
        assert!(p.warnings.is_empty());

        let kid = find(&p, KID);
        assert_eq!(&src[kid.span.clone()], KID);
        assert_eq!(ctx(kid), "default.aws_access_key_id");
        assert_eq!(kid.name, "aws_access_key_id");
        assert_eq!(kid.kind, ValueKind::Scalar);
        assert!(kid.verbatim);
        let secret = find(&p, SECRET);
        assert_eq!(secret.name, "aws_secret_access_key");
        assert_eq!(secret.group, kid.group);
        assert_ne!(kid.group, 0);

        let kid2 = find(&p, KID2);
        assert_eq!(kid2.context, ["profile prod", "aws_access_key_id"]);
        assert_ne!(kid2.group, kid.group);
        let secret2 = find(&p, SECRET2);
        assert_eq!(&src[secret2.span.clone()], SECRET2);
        assert_eq!(secret2.group, kid2.group);
        assert_eq!(&src[find(&p, "eu-west-1").span.clone()], "eu-west-1");
        // Keys are not values.
        assert!(p.values.iter().all(|v| v.text != "region"));
    }

    #[test]
    fn fixture_shared_credentials() {
        let src = include_str!("../../fixtures/parse/ini/credentials");
        let p = ok(src);
        check_spans(src, &p);
        assert!(p.warnings.is_empty());
        let a = find(&p, "AKIARZPUZDIKKJZDEGXD");
        let b = find(&p, "Bel31iEl2hpChYgCfrL1spNxnyVmihA+2O76UMFx");
        assert_eq!(
            (ctx(a).as_str(), a.group),
            ("default.aws_access_key_id", b.group)
        );
        let c = find(&p, "ASIARZPUZDIKHXYIMCFI");
        let d = find(&p, "FAZd6/6X+yZl/DcI08WoHmiXWnhREl+Asie/ys64");
        assert_eq!(ctx(d), "profile ci.aws_secret_access_key");
        assert_eq!(c.group, d.group);
        assert_ne!(a.group, c.group);
        assert_eq!(ctx(find(&p, "20")), "profile ci.s3.max_concurrent_requests");
        assert_eq!(find(&p, " session").kind, ValueKind::Comment);
    }

    #[test]
    fn keys_before_sections_and_section_whitespace() {
        let src = format!("token = {KID}\n[  sso-session corp  ]\nsso_region = us-east-1\n");
        let p = ok(&src);
        let v = find(&p, KID);
        assert_eq!(v.context, ["token"]);
        assert_eq!(v.group, 0);
        let r = find(&p, "us-east-1");
        assert_eq!(ctx(r), "sso-session corp.sso_region");
        assert_ne!(r.group, 0);
    }

    #[test]
    fn comments_whole_line_and_inline() {
        let src = format!(
            "; old: {KID}\n# note\n[default] ; main\n\
             aws_access_key_id = {KID2} ; rotated\n\
             aws_secret_access_key = {SECRET}#not-a-comment\n\
             quoted = \"a ; b\" # after\n"
        );
        let p = ok(&src);
        check_spans(&src, &p);
        assert_eq!(
            texts(of_kind(&p, ValueKind::Comment)),
            [
                format!(" old: {KID}").as_str(),
                " note",
                " main",
                " rotated",
                " after"
            ]
        );
        assert!(
            of_kind(&p, ValueKind::Comment)
                .iter()
                .all(|v| v.name.is_empty())
        );
        assert_eq!(find(&p, KID2).name, "aws_access_key_id");
        assert_eq!(
            find(&p, &format!("{SECRET}#not-a-comment")).name,
            "aws_secret_access_key"
        );
        assert_eq!(find(&p, "a ; b").name, "quoted");
    }

    #[test]
    fn aws_nested_settings() {
        let src = "[profile dev]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\nregion = eu-west-1\n";
        let p = ok(src);
        check_spans(src, &p);
        let v = find(&p, "10");
        assert_eq!(ctx(v), "profile dev.s3.max_concurrent_requests");
        assert_eq!(v.name, "max_concurrent_requests");
        assert_eq!(ctx(find(&p, "path")), "profile dev.s3.addressing_style");
        // Back at the parent's indentation: nesting has ended.
        assert_eq!(ctx(find(&p, "eu-west-1")), "profile dev.region");
        assert!(p.values.iter().all(|v| !v.text.is_empty()));
    }

    #[test]
    fn continuation_lines_of_multiline_values() {
        let src = "[options]\ninstall_requires =\n    requests>=2.0\n    click\nname = x\n  more\n";
        let p = ok(src);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let v = find(&p, "requests>=2.0");
        assert_eq!(ctx(v), "options.install_requires");
        assert_eq!(v.name, "install_requires");
        assert_eq!(find(&p, "click").name, "install_requires");
        assert_eq!(ctx(find(&p, "more")), "options.name");
    }

    #[test]
    fn unparsed_lines_warn_and_all_garbage_fails() {
        let src = format!("[default]\nthis line has no separator\naws_access_key_id = {KID}\n");
        let p = ok(&src);
        let t = first_of_kind(&p, ValueKind::Text);
        assert_eq!(t.text, "this line has no separator");
        assert_eq!(t.name, "");
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].offset, Some(10));
        assert!(p.warnings[0].message.contains("line 2"));
        assert_eq!(find(&p, KID).context, ["default", "aws_access_key_id"]);

        let e = parse("just some words\nand more words\n").expect_err("not ini");
        assert_eq!(e.offset, Some(0));
        let e = parse("[unclosed\n").expect_err("not ini");
        assert_eq!(e.offset, Some(0));
    }

    #[test]
    fn crlf_bom_and_non_ascii() {
        let src = format!(
            "\u{feff}[profil é]\r\nclé = \"ünï\"\r\naws_secret_access_key = {SECRET}\r\n; c\r\n"
        );
        let p = ok(&src);
        check_spans(&src, &p);
        let v = find(&p, SECRET);
        assert_eq!(&src[v.span.clone()], SECRET);
        assert_eq!(ctx(v), "profil é.aws_secret_access_key");
        assert_eq!(find(&p, "ünï").name, "clé");
        assert_eq!(find(&p, " c").kind, ValueKind::Comment);
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(ok(""), Parsed::default());
        assert_eq!(ok("\n \r\n\t\n"), Parsed::default());
        assert_eq!(ok("\u{feff}"), Parsed::default());
        for s in [
            "=",
            ":",
            "[",
            "]",
            "[]",
            "\"",
            "k=\"",
            "k='",
            "k=\"\"",
            " =x",
            "é:é",
            "[é",
            "k= ;",
            "k =\n  =",
            "k =\n  \"",
            "\r",
            "#",
            "a\u{0}=b",
        ] {
            if let Ok(p) = parse(s) {
                check_spans(s, &p);
            }
        }
        // An empty key is not a setting.
        assert!(parse("= value").is_err());
    }

    #[test]
    fn megabyte_inputs_complete() {
        // A huge section name copied into many contexts is capped.
        let src = format!("[{}]\n{}", "s".repeat(500_000), "k = v\n".repeat(100_000));
        let p = ok(&src);
        assert_eq!(p.values.len(), 100_000);
        assert!(p.values[0].context[0].len() <= SEGMENT_CAP + "…".len());
        let src = format!("k =\n{}", "  x\n".repeat(250_000));
        assert_eq!(ok(&src).values.len(), 250_000);
        let src = format!("k = {}", ";".repeat(1_000_000));
        assert_eq!(ok(&src).values.len(), 1);
    }
}
