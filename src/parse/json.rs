//! Span-preserving JSON parser.
//!
//! serde_json discards byte offsets, and findings must point at the exact
//! bytes of a secret, so this is a small hand-written parser. It is lenient
//! about what real files contain (a UTF-8 BOM, `//` and `/* */` comments,
//! trailing commas, several top-level documents as in JSON Lines) and strict
//! about everything else, so that a file that is not JSON falls back to the
//! text scanner instead of producing nonsense context.
//!
//! Nesting is tracked on an explicit stack, never by recursion, so hostile
//! input cannot overflow the thread's stack.

use super::{Format, MAX_DEPTH, ParseFailure, Parsed, Value, ValueKind};

/// Keys whose string value names the sibling `Value` member
/// (`{"Name": "AWS_SECRET_ACCESS_KEY", "Value": "..."}` in ECS task
/// definitions, `ParameterKey`/`ParameterValue` in CloudFormation parameter
/// files, `Key`/`Value` in tag lists).
const NAME_KEYS: &[&str] = &["Name", "name", "Key", "key", "ParameterKey"];
const VALUE_KEYS: &[&str] = &["Value", "value", "ParameterValue"];

/// Every value carries a copy of its context, so one huge key repeated in
/// the context of many values would make the output quadratic in the input.
/// Real keys are short; longer ones are cut (the value text never is).
const SEGMENT_CAP: usize = 256;
/// Bounds the copied context per value for the same reason: deep nesting
/// times many values. The innermost segments are kept because they are the
/// ones that say what a value is; an elided prefix becomes one `…` segment.
const CONTEXT_BUDGET: usize = 1024;
/// Accounts for the allocation behind each segment, so that many empty keys
/// also exhaust the budget.
const SEGMENT_OVERHEAD: usize = 16;

pub fn parse(src: &str) -> Result<Parsed, ParseFailure> {
    let mut p = Parser::new(src);
    p.run()?;
    Ok(Parsed {
        values: p.out,
        warnings: Vec::new(),
        flavour: p.cloudformation.then_some(Format::CloudFormation),
    })
}

enum Frame {
    Object {
        id: u32,
        /// Name given to values of the current member: its key.
        key: String,
        /// First string value of a `Name`-like member, for pairing.
        pair_name: Option<String>,
        /// Indices into the output of string values of `Value`-like members,
        /// renamed when the object closes (the `Name` member may come later).
        pair_values: Vec<usize>,
    },
    Array {
        id: u32,
        index: usize,
        /// Elements are named after the key that holds the array.
        name: String,
    },
}

impl Frame {
    fn id(&self) -> u32 {
        match self {
            Frame::Object { id, .. } | Frame::Array { id, .. } => *id,
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    out: Vec<Value>,
    stack: Vec<Frame>,
    /// `path[i]` is the segment of the current child of `stack[i]`, so the
    /// context of a value about to be read is the whole of `path`.
    path: Vec<String>,
    next_id: u32,
    cloudformation: bool,
}

/// What the parser expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    Value,
    /// A value has just ended: a separator, a closer or end of document.
    AfterValue,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        let pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
        Parser {
            src,
            b: src.as_bytes(),
            pos,
            out: Vec::new(),
            stack: Vec::new(),
            path: Vec::new(),
            next_id: 1,
            cloudformation: false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn error(&self, offset: usize, what: &str) -> ParseFailure {
        let offset = offset.min(self.b.len());
        let line = 1 + self.b[..offset].iter().filter(|&&c| c == b'\n').count();
        ParseFailure::new(
            Some(offset),
            format!("JSON syntax error at line {line}: {what}"),
        )
    }

    fn run(&mut self) -> Result<(), ParseFailure> {
        self.skip_ws()?;
        if self.pos >= self.b.len() {
            // An empty (or comment-only) file holds nothing to report and is
            // not worth a fallback warning.
            return Ok(());
        }
        let mut expect = Expect::Value;
        loop {
            if crate::budget::expired() {
                return Err(ParseFailure::out_of_budget());
            }
            self.skip_ws()?;
            expect = match expect {
                Expect::Value => self.value()?,
                Expect::AfterValue => match self.after_value()? {
                    Some(next) => next,
                    None => return Ok(()),
                },
            };
        }
    }

    /// Reads one value start. Containers are opened here and closed in
    /// `after_value`, which keeps the nesting on `self.stack`.
    fn value(&mut self) -> Result<Expect, ParseFailure> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.open(true, start)?;
                self.skip_ws()?;
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    self.close();
                    return Ok(Expect::AfterValue);
                }
                self.member_key()?;
                Ok(Expect::Value)
            }
            Some(b'[') => {
                self.pos += 1;
                self.open(false, start)?;
                self.skip_ws()?;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    self.close();
                    return Ok(Expect::AfterValue);
                }
                Ok(Expect::Value)
            }
            Some(b'"') => {
                let (text, span) = self.string()?;
                self.emit_string(text, span);
                Ok(Expect::AfterValue)
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                Ok(Expect::AfterValue)
            }
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(_) => Err(self.error(start, "expected a value")),
            None => Err(self.error(start, "unexpected end of input, expected a value")),
        }
    }

    /// After a value: `,` (possibly trailing), a closer, or the end of a
    /// top-level document. `None` means the input is finished.
    fn after_value(&mut self) -> Result<Option<Expect>, ParseFailure> {
        let at = self.pos;
        let is_object = match self.stack.last() {
            None => {
                // Another top-level document (JSON Lines) or the end.
                return Ok(if at >= self.b.len() {
                    None
                } else {
                    Some(Expect::Value)
                });
            }
            Some(Frame::Object { .. }) => true,
            Some(Frame::Array { .. }) => false,
        };
        let closer = if is_object { b'}' } else { b']' };
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws()?;
                if self.peek() == Some(closer) {
                    // Trailing comma.
                    self.pos += 1;
                    self.close();
                    return Ok(Some(Expect::AfterValue));
                }
                if is_object {
                    self.member_key()?;
                } else {
                    self.next_index();
                }
                Ok(Some(Expect::Value))
            }
            Some(c) if c == closer => {
                self.pos += 1;
                self.close();
                Ok(Some(Expect::AfterValue))
            }
            Some(_) => Err(self.error(
                at,
                if is_object {
                    "expected ',' or '}' after an object member"
                } else {
                    "expected ',' or ']' after an array element"
                },
            )),
            None => Err(self.error(at, "unexpected end of input inside a container")),
        }
    }

    fn open(&mut self, object: bool, at: usize) -> Result<(), ParseFailure> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                at,
                &format!("nesting deeper than {MAX_DEPTH} levels is not parsed"),
            ));
        }
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        if object {
            self.stack.push(Frame::Object {
                id,
                key: String::new(),
                pair_name: None,
                pair_values: Vec::new(),
            });
            self.path.push(String::new());
        } else {
            let name = self.current_name();
            self.stack.push(Frame::Array { id, index: 0, name });
            self.path.push("[0]".to_string());
        }
        Ok(())
    }

    fn close(&mut self) {
        self.path.pop();
        if let Some(Frame::Object {
            pair_name: Some(name),
            pair_values,
            ..
        }) = self.stack.pop()
        {
            for i in pair_values {
                if let Some(v) = self.out.get_mut(i) {
                    v.name.clone_from(&name);
                }
            }
        }
    }

    fn next_index(&mut self) {
        if let Some(Frame::Array { index, .. }) = self.stack.last_mut() {
            *index += 1;
            let seg = format!("[{index}]");
            if let Some(last) = self.path.last_mut() {
                *last = seg;
            }
        }
    }

    /// Reads `"key" :` and makes it the current member.
    fn member_key(&mut self) -> Result<(), ParseFailure> {
        if self.peek() != Some(b'"') {
            return Err(self.error(self.pos, "expected a string key or '}'"));
        }
        let (key, _) = self.string()?;
        self.skip_ws()?;
        if self.peek() != Some(b':') {
            return Err(self.error(self.pos, "expected ':' after an object key"));
        }
        self.pos += 1;
        if self.stack.len() == 1 && key == "AWSTemplateFormatVersion" {
            self.cloudformation = true;
        }
        let key = cap(&key, SEGMENT_CAP);
        if let Some(last) = self.path.last_mut() {
            last.clone_from(&key);
        }
        if let Some(Frame::Object { key: k, .. }) = self.stack.last_mut() {
            *k = key;
        }
        Ok(())
    }

    fn current_name(&self) -> String {
        match self.stack.last() {
            Some(Frame::Object { key, .. }) => key.clone(),
            Some(Frame::Array { name, .. }) => name.clone(),
            None => String::new(),
        }
    }

    fn emit_string(&mut self, text: String, span: std::ops::Range<usize>) {
        let idx = self.out.len();
        self.note_cloudformation_type(&text);
        let group = self.stack.last().map_or(0, Frame::id);
        let name = self.current_name();
        if let Some(Frame::Object {
            key,
            pair_name,
            pair_values,
            ..
        }) = self.stack.last_mut()
        {
            if NAME_KEYS.contains(&key.as_str()) {
                if pair_name.is_none() {
                    *pair_name = Some(cap(&text, SEGMENT_CAP));
                }
            } else if VALUE_KEYS.contains(&key.as_str()) {
                pair_values.push(idx);
            }
        }
        let verbatim = self.src.get(span.clone()) == Some(text.as_str());
        self.out.push(Value {
            text,
            span,
            context: context_of(&self.path),
            name,
            group,
            verbatim,
            ..Value::default()
        });
    }

    /// `Resources.<logical id>.Type` = `AWS::…` marks a CloudFormation
    /// template even without `AWSTemplateFormatVersion` (which is optional).
    fn note_cloudformation_type(&mut self, text: &str) {
        if self.cloudformation || self.stack.len() != 3 || !text.starts_with("AWS::") {
            return;
        }
        let all_objects = self.stack.iter().all(|f| matches!(f, Frame::Object { .. }));
        if all_objects && self.path[0] == "Resources" && self.path[2] == "Type" {
            self.cloudformation = true;
        }
    }

    fn literal(&mut self, word: &str) -> Result<Expect, ParseFailure> {
        let end = self.pos + word.len();
        let matches = self.b.get(self.pos..end) == Some(word.as_bytes());
        let boundary =
            !matches!(self.b.get(end), Some(c) if c.is_ascii_alphanumeric() || *c == b'_');
        if matches && boundary {
            self.pos = end;
            Ok(Expect::AfterValue)
        } else {
            Err(self.error(self.pos, "expected a value"))
        }
    }

    fn number(&mut self) -> Result<(), ParseFailure> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.peek(), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.error(start, "malformed number"));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error(start, "malformed number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error(start, "malformed number"));
            }
        }
        if matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.') {
            return Err(self.error(start, "malformed number"));
        }
        Ok(())
    }

    /// Reads a string starting at its opening quote. Returns the unescaped
    /// text and the span of the raw content between the quotes.
    fn string(&mut self) -> Result<(String, std::ops::Range<usize>), ParseFailure> {
        let open = self.pos;
        let start = open + 1;
        let mut i = start;
        let mut text = String::new();
        // Start of the not-yet-copied raw run; always just after an ASCII
        // byte (quote or escape), hence on a char boundary.
        let mut run = start;
        loop {
            let Some(&c) = self.b.get(i) else {
                return Err(self.error(open, "unterminated string"));
            };
            match c {
                b'"' => {
                    text.push_str(&self.src[run..i]);
                    self.pos = i + 1;
                    return Ok((text, start..i));
                }
                b'\\' => {
                    text.push_str(&self.src[run..i]);
                    i = self.escape(i, &mut text);
                    run = i;
                }
                _ => i += 1,
            }
        }
    }

    /// Decodes the escape at `at` (a backslash) into `text` and returns the
    /// index after it. Invalid escapes are kept as written: a typo in a
    /// string must not hide the secret next to it.
    fn escape(&self, at: usize, text: &mut String) -> usize {
        let simple = match self.b.get(at + 1) {
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            Some(b'/') => Some('/'),
            Some(b'b') => Some('\u{8}'),
            Some(b'f') => Some('\u{c}'),
            Some(b'n') => Some('\n'),
            Some(b'r') => Some('\r'),
            Some(b't') => Some('\t'),
            _ => None,
        };
        if let Some(ch) = simple {
            text.push(ch);
            return at + 2;
        }
        if let Some((ch, len)) = self.unicode_escape(at) {
            text.push(ch);
            return at + len;
        }
        // Keep the backslash; whatever follows is copied as ordinary text.
        text.push('\\');
        at + 1
    }

    /// Decodes `\uXXXX` (or a `\uD8xx\uDCxx` surrogate pair) at `at`; lone
    /// surrogates are not chars and stay as written.
    fn unicode_escape(&self, at: usize) -> Option<(char, usize)> {
        if self.b.get(at + 1) != Some(&b'u') {
            return None;
        }
        let hi = self.hex4(at + 2)?;
        if !(0xD800..0xE000).contains(&hi) {
            return char::from_u32(hi).map(|c| (c, 6));
        }
        if hi >= 0xDC00 || self.b.get(at + 6..at + 8) != Some(b"\\u".as_slice()) {
            return None;
        }
        let lo = self
            .hex4(at + 8)
            .filter(|lo| (0xDC00..0xE000).contains(lo))?;
        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).map(|c| (c, 12))
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.b.get(at..at + 4)?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + char::from(d).to_digit(16)?;
        }
        Some(v)
    }

    /// Skips whitespace and comments, emitting the comments so that keys
    /// pasted into them are still found.
    fn skip_ws(&mut self) -> Result<(), ParseFailure> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') => match self.b.get(self.pos + 1) {
                    Some(b'/') => {
                        let start = self.pos + 2;
                        let end = memchr::memchr(b'\n', &self.b[start..])
                            .map_or(self.b.len(), |n| start + n);
                        let content_end = if end > start && self.b[end - 1] == b'\r' {
                            end - 1
                        } else {
                            end
                        };
                        self.emit_comment(start..content_end);
                        self.pos = end;
                    }
                    Some(b'*') => {
                        let start = self.pos + 2;
                        let Some(n) = memchr::memmem::find(&self.b[start..], b"*/") else {
                            return Err(self.error(self.pos, "unterminated /* comment"));
                        };
                        self.emit_comment(start..start + n);
                        self.pos = start + n + 2;
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    fn emit_comment(&mut self, span: std::ops::Range<usize>) {
        let text = self.src.get(span.clone()).unwrap_or_default().to_string();
        // The container's own path: the pending member segment is not yet
        // (or no longer) meaningful between tokens.
        let context = context_of(&self.path[..self.path.len().saturating_sub(1)]);
        self.out.push(Value {
            text,
            span,
            context,
            name: String::new(),
            group: self.stack.last().map_or(0, Frame::id),
            verbatim: true,
            kind: ValueKind::Comment,
            ..Value::default()
        });
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary.
fn cap(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let end = s.floor_char_boundary(max);
    format!("{}…", &s[..end])
}

/// Copies `path` into a value's context within `CONTEXT_BUDGET`.
fn context_of(path: &[String]) -> Vec<String> {
    let mut cost = 0;
    let mut first = path.len();
    while first > 0 {
        let c = path[first - 1].len() + SEGMENT_OVERHEAD;
        if cost + c > CONTEXT_BUDGET {
            break;
        }
        cost += c;
        first -= 1;
    }
    let mut ctx = Vec::with_capacity(path.len() - first + 1);
    if first > 0 {
        ctx.push("…".to_string());
    }
    ctx.extend(path[first..].iter().cloned());
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::join_context;
    use crate::parse::test_support::*;

    fn ok(src: &str) -> Parsed {
        parsed(parse(src))
    }

    #[test]
    fn cloudformation_task_definition() {
        let src = format!(
            r#"{{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {{
    "Task": {{
      "Type": "AWS::ECS::TaskDefinition",
      "Properties": {{
        "ContainerDefinitions": [{{
          "Environment": [
            {{"Name": "AWS_ACCESS_KEY_ID", "Value": "{KID}"}},
            {{"Value": "{SECRET}", "Name": "AWS_SECRET_ACCESS_KEY"}}
          ]
        }}]
      }}
    }}
  }}
}}"#
        );
        let p = ok(&src);
        check_spans(&src, &p);
        assert_eq!(p.flavour, Some(Format::CloudFormation));
        let kid = find(&p, KID);
        assert_eq!(&src[kid.span.clone()], KID);
        assert!(kid.verbatim);
        assert_eq!(
            ctx(kid),
            "Resources.Task.Properties.ContainerDefinitions[0].Environment[0].Value"
        );
        assert_eq!(kid.name, "AWS_ACCESS_KEY_ID");
        // Name after Value in the same object still names it.
        let secret = find(&p, SECRET);
        assert_eq!(secret.name, "AWS_SECRET_ACCESS_KEY");
        assert_eq!(
            ctx(secret),
            "Resources.Task.Properties.ContainerDefinitions[0].Environment[1].Value"
        );
        // Each {Name, Value} object is its own group.
        assert_ne!(kid.group, secret.group);
        assert_eq!(find(&p, "AWS_ACCESS_KEY_ID").group, kid.group);
        // The Name member itself is a value named after its key.
        assert_eq!(find(&p, "AWS_ACCESS_KEY_ID").name, "Name");
        // Keys are not values.
        assert!(p.values.iter().all(|v| v.text != "Environment"));
    }

    #[test]
    fn fixture_ecs_task_definition() {
        let src = include_str!("../../fixtures/parse/json/ecs-task.json");
        let p = ok(src);
        check_spans(src, &p);
        assert_eq!(p.flavour, Some(Format::CloudFormation));
        let kid = find(&p, "AKIARZPUZDIKKJZDEGXD");
        assert_eq!(kid.name, "AWS_ACCESS_KEY_ID");
        let secret = find(&p, "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");
        assert_eq!(secret.name, "AWS_SECRET_ACCESS_KEY");
        assert_eq!(
            ctx(secret),
            "Resources.Task.Properties.ContainerDefinitions[0].Environment[1].Value"
        );
        // The container object has a Name but no Value: other members keep their keys.
        assert_eq!(find(&p, "example/worker:1.2").name, "Image");
        assert_eq!(find(&p, "info").name, "LOG_LEVEL");
        let c = first_of_kind(&p, ValueKind::Comment);
        assert!(c.text.contains("Synthetic"));
    }

    #[test]
    fn flavour_from_resource_types_only() {
        let p = ok(r#"{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}"#);
        assert_eq!(p.flavour, Some(Format::CloudFormation));
        let p = ok(r#"{"Resources": {"B": {"Type": "Custom::Thing"}}}"#);
        assert_eq!(p.flavour, None);
        let p = ok(r#"{"x": {"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}}"#);
        assert_eq!(p.flavour, None);
        let p = ok(r#"{"nested": {"AWSTemplateFormatVersion": "2010-09-09"}}"#);
        assert_eq!(p.flavour, None);
    }

    #[test]
    fn parameter_and_tag_pairs() {
        let src = format!(
            r#"[{{"ParameterKey": "SecretKey", "ParameterValue": "{SECRET}"}},
               {{"key": "owner", "value": "{KID}"}}]"#
        );
        let p = ok(&src);
        assert_eq!(find(&p, SECRET).name, "SecretKey");
        assert_eq!(find(&p, KID).name, "owner");
        assert_eq!(ctx(find(&p, KID)), "[1].value");
    }

    #[test]
    fn no_pairing_without_name_member() {
        let src = format!(r#"{{"Label": "x", "Value": "{KID}"}}"#);
        let p = ok(&src);
        assert_eq!(find(&p, KID).name, "Value");
        // A non-string Name does not name anything.
        let src = format!(r#"{{"Name": 3, "Value": "{KID}"}}"#);
        assert_eq!(find(&ok(&src), KID).name, "Value");
    }

    #[test]
    fn array_of_strings_shares_the_array_group_and_name() {
        let src = format!(r#"{{"args": ["--key", "{KID}"], "other": ["{KID2}"]}}"#);
        let p = ok(&src);
        let a = find(&p, "--key");
        let b = find(&p, KID);
        let c = find(&p, KID2);
        assert_eq!(a.group, b.group);
        assert_ne!(b.group, c.group);
        assert_eq!(b.name, "args");
        assert_eq!(ctx(b), "args[1]");
        assert_eq!(ctx(c), "other[0]");
    }

    #[test]
    fn escapes_are_decoded_and_spans_stay_raw() {
        let src = r#"{"a": "x\"y\\z\/w\nq", "b": "\u00e9\ud83d\ude00", "c": "bad\q\u12", "d": "\ud800x"}"#;
        let p = ok(src);
        check_spans(src, &p);
        let a = find(&p, "x\"y\\z/w\nq");
        assert!(!a.verbatim);
        assert_eq!(&src[a.span.clone()], r#"x\"y\\z\/w\nq"#);
        let b = find(&p, "é😀");
        assert!(!b.verbatim);
        // Invalid escapes are kept as written, and then the text is verbatim.
        let c = find(&p, r"bad\q\u12");
        assert!(c.verbatim);
        let d = find(&p, r"\ud800x");
        assert!(d.verbatim);
    }

    #[test]
    fn comments_bom_and_trailing_commas() {
        let src = format!(
            "\u{feff}{{\n  // old key {KID}\n  \"a\": [\"x\", /* {KID2} */ \"y\",],\n  \"b\": 1,\n}}\n"
        );
        let p = ok(&src);
        check_spans(&src, &p);
        let c = p
            .values
            .iter()
            .find(|v| v.kind == ValueKind::Comment && v.text.contains(KID))
            .expect("line comment");
        assert_eq!(c.text, format!(" old key {KID}"));
        assert_eq!(c.name, "");
        assert_eq!(&src[c.span.clone()], c.text);
        let c2 = p
            .values
            .iter()
            .find(|v| v.kind == ValueKind::Comment && v.text.contains(KID2))
            .expect("block comment");
        assert_eq!(c2.text, format!(" {KID2} "));
        assert_eq!(ctx(c2), "a");
        assert_eq!(ctx(find(&p, "y")), "a[1]");
        assert_eq!(find(&p, "y").kind, ValueKind::Scalar);
    }

    #[test]
    fn crlf_and_non_ascii_spans() {
        let src = format!("{{\r\n  \"név\": \"ünïcödé\",\r\n  \"k\": \"{KID}\" // c\r\n}}\r\n");
        let p = ok(&src);
        check_spans(&src, &p);
        let v = find(&p, KID);
        assert_eq!(&src[v.span.clone()], KID);
        assert_eq!(find(&p, "ünïcödé").name, "név");
        let c = first_of_kind(&p, ValueKind::Comment);
        assert_eq!(c.text, " c");
    }

    #[test]
    fn syntax_errors_fail_with_line() {
        for (src, line) in [
            ("{\n\"a\": 1\n\"b\": 2}", 3),
            ("{\"a\" 1}", 1),
            ("[1,,2]", 1),
            ("{\"a\": tru}", 1),
            ("{\"a\": \"open", 1),
            ("[1, 2", 1),
            ("{\"a\":1}}", 1),
            ("/* unterminated", 1),
            ("KEY=value", 1),
            ("[01x]", 1),
        ] {
            let e = parse(src).expect_err(src);
            assert!(
                e.message
                    .starts_with(&format!("JSON syntax error at line {line}:")),
                "{src:?}: {}",
                e.message
            );
            assert!(e.offset.is_some_and(|o| o <= src.len()));
        }
    }

    #[test]
    fn numbers_bools_null_are_not_values() {
        let p = ok(r#"{"a": -1.5e+3, "b": true, "c": false, "d": null, "e": 0}"#);
        assert!(p.values.is_empty(), "{:?}", p.values);
    }

    #[test]
    fn json_lines_and_empty_input() {
        let p = ok("{\"a\": \"1\"}\n{\"a\": \"2\"}\n");
        assert_eq!(p.values.len(), 2);
        assert_ne!(p.values[0].group, p.values[1].group);
        assert_eq!(ok("").values.len(), 0);
        assert_eq!(ok("  \n").values.len(), 0);
        assert_eq!(ok("\u{feff}").values.len(), 0);
        let top = ok("\"lonely\"");
        assert_eq!(top.values[0].group, 0);
        assert!(top.values[0].context.is_empty());
    }

    #[test]
    fn deep_nesting_fails_without_overflow() {
        let src = "[".repeat(10_000);
        let e = parse(&src).expect_err("too deep");
        assert!(e.message.contains("nesting"), "{}", e.message);
        let ok_depth = format!("{}\"x\"{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let p = ok(&ok_depth);
        assert_eq!(p.values.len(), 1);
        assert!(p.values[0].context.len() <= MAX_DEPTH + 1);
    }

    #[test]
    fn garbage_never_panics() {
        let samples = [
            "\u{feff}",
            "\"\\",
            "\"\\u",
            "\"\\ud800\\u",
            "{\"a\":\"\\uZZZZ\"}",
            "/",
            "/*",
            "//",
            "{,}",
            "[,]",
            "{\"a\"}",
            "-",
            "1e",
            "\u{0}\u{1}",
            "ü\"ü",
            "{\"é\":\"\\é\"}",
            "[]]",
            "}",
            "{\"a\":[}",
            "tru",
            "nul",
        ];
        for s in samples {
            let _ = parse(s);
            for cut in 0..=s.len() {
                if let Some(prefix) = s.get(..cut) {
                    let _ = parse(prefix);
                }
            }
        }
        let p = ok("{\"a\":\"\\é\"}");
        assert_eq!(p.values[0].text, "\\é");
    }

    #[test]
    fn megabyte_inputs_complete() {
        // Many values under one huge key: capping keeps the output linear.
        let key = "k".repeat(500_000);
        let src = format!("{{\"{key}\": [{}\"end\"]}}", "\"v\",".repeat(150_000));
        let p = ok(&src);
        assert_eq!(p.values.len(), 150_001);
        assert!(p.values[0].name.len() <= SEGMENT_CAP + "…".len());
        // Deep nesting times many values: the copied context is bounded.
        let keys: String = (0..200).map(|i| format!("{{\"key{i}\":")).collect();
        let src = format!(
            "{keys}[{}\"end\"]{}",
            "\"v\",".repeat(250_000),
            "}".repeat(200)
        );
        let p = ok(&src);
        assert_eq!(p.values.len(), 250_001);
        let ctx = &p.values[0].context;
        assert_eq!(ctx[0], "…");
        assert_eq!(join_context(&ctx[ctx.len() - 2..]), "key199[0]");
        // A 1 MB string with many escapes.
        let src = format!("[\"{}\"]", "\\n".repeat(500_000));
        assert_eq!(ok(&src).values[0].text.len(), 500_000);
    }
}
