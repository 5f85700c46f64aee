//! YAML parser: walks the `saphyr-parser` event stream (never building a
//! tree, never expanding aliases) and emits one [`Value`] per mapping value
//! or sequence item, plus one per comment.
//!
//! saphyr reports positions in characters; everything here is converted to
//! byte offsets with a cursor that only walks the distance between successive
//! events, so the whole conversion is linear in the file size.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use super::{Encoding, Format, MAX_DEPTH, ParseFailure, Parsed, Value, ValueKind};

/// Kubernetes writes padded base64, but hand-written manifests often drop the
/// padding; both decode the same.
const SECRET_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// CloudFormation intrinsics whose argument names another resource or
/// parameter: the argument is never a literal secret, so it is not emitted.
const REFERENCE_TAGS: &[&str] = &["Ref", "GetAtt", "ImportValue", "GetAZs", "Condition"];

/// Keys whose scalar value names the sibling `value` entry (Kubernetes env,
/// ECS task definitions, CloudFormation parameters and tags).
const NAME_KEYS: &[&str] = &["name", "Name", "key", "Key", "ParameterKey"];
const VALUE_KEYS: &[&str] = &["value", "Value", "ParameterValue"];

pub fn parse(src: &str) -> Result<Parsed, ParseFailure> {
    let mut walker = Walker::new(src);
    for item in Parser::new_from_str(src) {
        if crate::budget::expired() {
            return Err(ParseFailure::out_of_budget());
        }
        match item {
            Ok((event, span)) => walker.event(event, span.start.index(), span.end.index())?,
            Err(err) => return Err(walker.scan_failure(&err)),
        }
    }
    walker.finish()
}

/// Maps saphyr's character indices to byte offsets.
struct ByteCursor<'a> {
    src: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'a> ByteCursor<'a> {
    fn new(src: &'a str) -> Self {
        ByteCursor {
            src,
            ascii: src.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    /// Events arrive in source order, so the cursor mostly moves forward by a
    /// few characters; moving backwards (error markers) is supported but rare.
    fn byte(&mut self, char_idx: usize) -> usize {
        if self.ascii {
            return char_idx.min(self.src.len());
        }
        if char_idx < self.chars {
            let before = self.src.get(..self.bytes).unwrap_or("");
            let mut back = before.char_indices().rev();
            while self.chars > char_idx {
                match back.next() {
                    Some((b, _)) => {
                        self.bytes = b;
                        self.chars -= 1;
                    }
                    None => {
                        self.bytes = 0;
                        self.chars = 0;
                    }
                }
            }
        } else {
            let rest = self.src.get(self.bytes..).unwrap_or("");
            for c in rest.chars() {
                if self.chars >= char_idx {
                    break;
                }
                self.bytes += c.len_utf8();
                self.chars += 1;
            }
        }
        self.bytes
    }
}

enum MapState {
    Key,
    Value(String),
}

enum FrameKind {
    Map {
        state: MapState,
        /// Direct scalar values, held back until the mapping ends because a
        /// `name:` entry may follow the `value:` it names.
        direct: Vec<Pending>,
        name_of_value: Option<String>,
    },
    Seq {
        index: usize,
    },
}

struct Frame {
    group: u32,
    kind: FrameKind,
    /// Whether entering this collection pushed a segment onto `path`.
    pushed_segment: bool,
    /// The nearest mapping key above this collection: the name its sequence
    /// items get. Tracked structurally because a key may itself look like
    /// an index segment (`"[0]": x`).
    key_name: String,
}

struct Pending {
    value: Value,
    key: String,
    /// A direct child of a top-level `data:`/`binaryData:` mapping, decoded
    /// if the document turns out to be a Kubernetes Secret.
    secret_data: bool,
}

/// Where the node that starts with the current event sits in its parent.
enum Slot {
    Root,
    Key,
    MapValue(String),
    Item(usize),
}

/// A subtree whose contents are not emitted (a reference-tagged collection
/// or a complex key). Scalars inside still mask comments.
struct Skip {
    depth: usize,
    slot_is_key: bool,
}

#[derive(Default)]
struct DocFacts {
    api_version: bool,
    kind: bool,
    kind_value: Option<String>,
    cfn_version: bool,
    cfn_aws_type: bool,
    gha_on: bool,
    gha_jobs: bool,
    compose_service: bool,
    ansible_play: bool,
}

#[derive(Default)]
struct Flavours {
    kubernetes: bool,
    cloudformation: bool,
    github_actions: bool,
    compose: bool,
    ansible: bool,
}

struct Walker<'a> {
    src: &'a str,
    cursor: ByteCursor<'a>,
    frames: Vec<Frame>,
    path: Vec<String>,
    skip: Option<Skip>,
    next_group: u32,
    /// Text of anchored scalars, so an alias used as a key still names its
    /// entry (`*k: v`).
    anchor_text: HashMap<usize, String>,
    doc: Vec<Pending>,
    facts: DocFacts,
    flavours: Flavours,
    values: Vec<Value>,
    /// Byte ranges of every scalar (keys included); a `#` inside one is data.
    masks: Vec<Range<usize>>,
}

impl<'a> Walker<'a> {
    fn new(src: &'a str) -> Self {
        Walker {
            src,
            cursor: ByteCursor::new(src),
            frames: Vec::new(),
            path: Vec::new(),
            skip: None,
            next_group: 0,
            anchor_text: HashMap::new(),
            doc: Vec::new(),
            facts: DocFacts::default(),
            flavours: Flavours::default(),
            values: Vec::new(),
            masks: Vec::new(),
        }
    }

    fn fresh_group(&mut self) -> u32 {
        let g = self.next_group;
        self.next_group = self.next_group.wrapping_add(1);
        g
    }

    fn scan_failure(&mut self, err: &ScanError) -> ParseFailure {
        let offset = self.cursor.byte(err.marker().index());
        ParseFailure::new(
            Some(offset),
            format!(
                "YAML syntax error at line {}: {}",
                err.marker().line(),
                err.info()
            ),
        )
    }

    fn depth_failure(&mut self, char_idx: usize) -> ParseFailure {
        let offset = self.cursor.byte(char_idx);
        ParseFailure::new(
            Some(offset),
            format!("YAML nesting deeper than {MAX_DEPTH} levels"),
        )
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) -> Result<(), ParseFailure> {
        match event {
            Event::DocumentStart(_) => {
                self.doc.clear();
                self.facts = DocFacts::default();
            }
            Event::DocumentEnd | Event::StreamEnd => self.end_document(),
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(text, style, anchor, tag.as_deref(), start, end)
            }
            Event::Alias(id) => {
                if self.skip.is_none() {
                    let key = self
                        .anchor_text
                        .get(&id)
                        .map_or_else(|| "*".to_string(), Clone::clone);
                    let slot = self.slot();
                    self.complete(slot, Some(key));
                }
            }
            Event::MappingStart(_, tag) => self.collection_start(true, tag.as_deref(), start)?,
            Event::SequenceStart(_, tag) => self.collection_start(false, tag.as_deref(), start)?,
            Event::MappingEnd | Event::SequenceEnd => self.collection_end(),
            Event::StreamStart | Event::Nothing => {}
        }
        Ok(())
    }

    fn slot(&self) -> Slot {
        match self.frames.last() {
            None => Slot::Root,
            Some(frame) => match &frame.kind {
                FrameKind::Map {
                    state: MapState::Key,
                    ..
                } => Slot::Key,
                FrameKind::Map {
                    state: MapState::Value(k),
                    ..
                } => Slot::MapValue(k.clone()),
                FrameKind::Seq { index } => Slot::Item(*index),
            },
        }
    }

    /// Advances the parent once a node in `slot` is complete; `key_text` is
    /// the key's text when the node was a key.
    fn complete(&mut self, slot: Slot, key_text: Option<String>) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        match (&mut frame.kind, slot) {
            (FrameKind::Map { state, .. }, Slot::Key) => {
                *state = MapState::Value(key_text.unwrap_or_else(|| "?".to_string()));
            }
            (FrameKind::Map { state, .. }, _) => *state = MapState::Key,
            (FrameKind::Seq { index }, _) => *index += 1,
        }
    }

    /// The last mapping key on the way to a node in `slot`.
    fn item_name(&self, slot: &Slot) -> String {
        match slot {
            Slot::MapValue(k) => k.clone(),
            Slot::Item(_) => self
                .frames
                .last()
                .map(|f| f.key_name.clone())
                .unwrap_or_default(),
            Slot::Root | Slot::Key => String::new(),
        }
    }

    fn segment(slot: &Slot) -> Option<String> {
        match slot {
            Slot::MapValue(k) => Some(k.clone()),
            Slot::Item(i) => Some(format!("[{i}]")),
            Slot::Root | Slot::Key => None,
        }
    }

    fn collection_start(
        &mut self,
        is_map: bool,
        tag: Option<&Tag>,
        start: usize,
    ) -> Result<(), ParseFailure> {
        if self.frames.len() + self.skip.as_ref().map_or(0, |s| s.depth) >= MAX_DEPTH {
            return Err(self.depth_failure(start));
        }
        if let Some(skip) = &mut self.skip {
            skip.depth += 1;
            return Ok(());
        }
        let slot = self.slot();
        if matches!(slot, Slot::Key) || is_reference(tag) {
            self.skip = Some(Skip {
                depth: 1,
                slot_is_key: matches!(slot, Slot::Key),
            });
            return Ok(());
        }
        let key_name = self.item_name(&slot);
        let pushed_segment = match Self::segment(&slot) {
            Some(seg) => {
                self.path.push(seg);
                true
            }
            None => false,
        };
        let group = self.fresh_group();
        let kind = if is_map {
            FrameKind::Map {
                state: MapState::Key,
                direct: Vec::new(),
                name_of_value: None,
            }
        } else {
            FrameKind::Seq { index: 0 }
        };
        self.frames.push(Frame {
            group,
            kind,
            pushed_segment,
            key_name,
        });
        Ok(())
    }

    fn collection_end(&mut self) {
        if let Some(skip) = &mut self.skip {
            skip.depth = skip.depth.saturating_sub(1);
            if skip.depth == 0 {
                let slot = if skip.slot_is_key {
                    Slot::Key
                } else {
                    Slot::Item(0)
                };
                self.skip = None;
                self.complete(slot, None);
            }
            return;
        }
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if frame.pushed_segment {
            self.path.pop();
        }
        if let FrameKind::Map {
            direct,
            name_of_value,
            ..
        } = frame.kind
        {
            for mut p in direct {
                if let Some(name) = &name_of_value
                    && VALUE_KEYS.contains(&p.key.as_str())
                {
                    p.value.name = name.clone();
                }
                self.doc.push(p);
            }
        }
        // The parent's slot kind does not matter here: a collection is never
        // a key outside skip mode.
        self.complete(Slot::Item(0), None);
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        start: usize,
        end: usize,
    ) {
        let raw = self.cursor.byte(start)..self.cursor.byte(end);
        let has_props = anchor != 0 || tag.is_some();
        let (span, mask) = content_span(self.src, raw, style, has_props);
        if !mask.is_empty() {
            self.masks.push(mask);
        }
        if self.skip.is_some() {
            return;
        }
        if anchor != 0 {
            self.anchor_text.insert(anchor, text.to_string());
        }
        let slot = self.slot();
        match slot {
            Slot::Key => {
                self.note_key(&text);
                self.complete(Slot::Key, Some(text.into_owned()));
                return;
            }
            Slot::Root | Slot::MapValue(_) | Slot::Item(_) => {}
        }
        let implicit_null = style == ScalarStyle::Plain && text.is_empty();
        if implicit_null || is_reference(tag) {
            self.complete(slot, None);
            return;
        }
        let key = match &slot {
            Slot::MapValue(k) => k.clone(),
            _ => String::new(),
        };
        self.note_value(&key, &text);
        let mut context = self.path.clone();
        if let Some(seg) = Self::segment(&slot) {
            context.push(seg);
        }
        let name = self.item_name(&slot);
        let secret_data = context.len() == 2
            && self.frames.len() == 2
            && matches!(context[0].as_str(), "data" | "binaryData")
            && matches!(slot, Slot::MapValue(_));
        // `!!binary` declares base64: what it holds is searched decoded.
        let binary = tag.is_some_and(is_binary_tag);
        let decoded = if binary { decode_secret(&text) } else { None };
        let encoding = if decoded.is_some() {
            Encoding::Base64
        } else {
            Encoding::Plain
        };
        let text = decoded.unwrap_or_else(|| text.into_owned());
        let verbatim =
            encoding == Encoding::Plain && self.src.get(span.clone()) == Some(text.as_str());
        let group = match self.frames.last() {
            Some(f) => f.group,
            None => self.fresh_group(),
        };
        let pending = Pending {
            value: Value {
                text,
                span,
                context,
                name,
                group,
                verbatim,
                encoding,
                kind: ValueKind::Scalar,
            },
            key: key.clone(),
            secret_data: secret_data && encoding == Encoding::Plain,
        };
        match self.frames.last_mut() {
            Some(Frame {
                kind:
                    FrameKind::Map {
                        direct,
                        name_of_value,
                        ..
                    },
                ..
            }) => {
                if name_of_value.is_none() && NAME_KEYS.contains(&key.as_str()) {
                    *name_of_value = Some(pending.value.text.clone());
                }
                direct.push(pending);
            }
            _ => self.doc.push(pending),
        }
        self.complete(slot, None);
    }

    /// Records the structural facts flavour detection needs from a key.
    fn note_key(&mut self, key: &str) {
        let f = &mut self.facts;
        match self.path.as_slice() {
            [] if self.frames.len() == 1 => match key {
                "apiVersion" => f.api_version = true,
                "kind" => f.kind = true,
                "AWSTemplateFormatVersion" => f.cfn_version = true,
                // YAML 1.1 tools write the bare `on` back out as `true`.
                "on" | "true" => f.gha_on = true,
                "jobs" => f.gha_jobs = true,
                _ => {}
            },
            [services, _] if services == "services" => {
                if matches!(key, "image" | "build" | "environment") {
                    f.compose_service = true;
                }
            }
            [item] if item.starts_with('[') && self.frames.len() == 2 => {
                if matches!(key, "hosts" | "tasks") {
                    f.ansible_play = true;
                }
            }
            _ => {}
        }
    }

    fn note_value(&mut self, key: &str, text: &str) {
        match (self.path.as_slice(), key) {
            ([], "kind") if self.frames.len() == 1 => {
                self.facts.kind_value = Some(text.to_string());
            }
            ([resources, _], "Type") if resources == "Resources" && text.starts_with("AWS::") => {
                self.facts.cfn_aws_type = true;
            }
            _ => {}
        }
    }

    fn end_document(&mut self) {
        let facts = std::mem::take(&mut self.facts);
        let fl = &mut self.flavours;
        fl.kubernetes |= facts.api_version && facts.kind;
        fl.cloudformation |= facts.cfn_version || facts.cfn_aws_type;
        fl.github_actions |= facts.gha_on && facts.gha_jobs;
        fl.compose |= facts.compose_service;
        fl.ansible |= facts.ansible_play;
        let is_secret = facts.kind_value.as_deref() == Some("Secret");
        for p in std::mem::take(&mut self.doc) {
            let mut value = p.value;
            if is_secret
                && p.secret_data
                && let Some(decoded) = decode_secret(&value.text)
            {
                value.text = decoded;
                value.encoding = Encoding::Base64;
                value.verbatim = false;
            }
            self.values.push(value);
        }
        self.frames.clear();
        self.path.clear();
        self.skip = None;
        self.anchor_text.clear();
    }

    fn finish(mut self) -> Result<Parsed, ParseFailure> {
        // A stream cut short without StreamEnd still flushes what it has.
        self.end_document();
        self.masks.sort_unstable_by_key(|r| r.start);
        let mut comments = find_comments(self.src, &self.masks);
        // (end of the previous whole-line comment, its group)
        let mut block: Option<(usize, u32)> = None;
        for c in &mut comments {
            c.group = match block {
                Some((prev_end, group)) if same_comment_block(self.src, prev_end, c) => group,
                _ => self.fresh_group(),
            };
            block = full_line(self.src, c.span.start).then_some((c.span.end, c.group));
        }
        let mut values = self.values;
        values.append(&mut comments);
        values.sort_by_key(|v| v.span.start);
        let fl = &self.flavours;
        let flavour = if fl.kubernetes {
            Some(Format::Kubernetes)
        } else if fl.cloudformation {
            Some(Format::CloudFormation)
        } else if fl.github_actions {
            Some(Format::GithubActions)
        } else if fl.compose {
            Some(Format::Compose)
        } else if fl.ansible {
            Some(Format::Ansible)
        } else {
            None
        };
        Ok(Parsed {
            values,
            warnings: Vec::new(),
            flavour,
        })
    }
}

fn is_reference(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| t.handle == "!" && REFERENCE_TAGS.contains(&t.suffix.as_str()))
}

fn decode_secret(encoded: &str) -> Option<String> {
    let compact: Vec<u8> = encoded
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = SECRET_B64.decode(compact).ok()?;
    // Binary around a key (`\xff\xfe\0AKIA…\0`) is still searched.
    Some(crate::source::bytes_as_text(bytes))
}

/// `!!binary` in any of its spellings.
fn is_binary_tag(tag: &Tag) -> bool {
    tag.suffix == "binary" && (tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:")
        || tag.suffix == "tag:yaml.org,2002:binary"
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Returns (content span, comment mask) in bytes for a scalar whose saphyr
/// span is `raw`. saphyr's span starts at the tag/anchor when there is one
/// (for block scalars: at the `|` header), includes the quotes of quoted
/// scalars and the trailing line breaks of block scalars.
fn content_span(
    src: &str,
    raw: Range<usize>,
    style: ScalarStyle,
    has_props: bool,
) -> (Range<usize>, Range<usize>) {
    let b = src.as_bytes();
    let end = raw.end.min(b.len());
    let mut start = raw.start.min(end);
    if has_props {
        start = skip_properties(b, start, end);
    }
    let span = match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            let q = if style == ScalarStyle::SingleQuoted {
                b'\''
            } else {
                b'"'
            };
            // saphyr's end runs on over trailing blanks and a same-line
            // comment (it looks ahead for a `:`), so find the closing quote.
            match closing_quote(b, start, end, q) {
                Some(close) if b.get(start) == Some(&q) => start + 1..close,
                _ => start..end,
            }
        }
        ScalarStyle::Literal | ScalarStyle::Folded => {
            // Without properties saphyr already starts at the body, which may
            // itself begin with `|` or `>`.
            if has_props && matches!(b.get(start), Some(b'|' | b'>')) {
                start = skip_block_header(b, start, end);
            }
            let body_end = trim_block_end(b, start, end);
            start.min(body_end)..body_end
        }
        ScalarStyle::Plain => start..end,
    };
    let span = if src.get(span.clone()).is_some() {
        span
    } else {
        // Only reachable if saphyr's positions ever disagree with the text;
        // its own span is on char boundaries by construction.
        raw.start.min(end)..end
    };
    let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    let mask = if quoted && span.start > raw.start.min(end) {
        span.start - 1..(span.end + 1).min(end)
    } else {
        span.clone()
    };
    (span, mask)
}

/// Index of the quote closing the quoted scalar that opens at `open`.
fn closing_quote(b: &[u8], open: usize, limit: usize, q: u8) -> Option<usize> {
    let mut i = open + 1;
    while i < limit {
        match b.get(i)? {
            &c if c == q => {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i);
                }
            }
            b'\\' if q == b'"' => i += 2,
            _ => i += 1,
        }
    }
    None
}

fn skip_properties(b: &[u8], mut i: usize, end: usize) -> usize {
    loop {
        while i < end && b.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        match b.get(i) {
            Some(b'!' | b'&') if i < end => {
                while i < end && b.get(i).copied().is_some_and(|c| !is_ws(c)) {
                    i += 1;
                }
            }
            Some(b'#') if i < end && i > 0 && b.get(i - 1).copied().is_some_and(is_ws) => {
                while i < end && b.get(i) != Some(&b'\n') {
                    i += 1;
                }
            }
            _ => return i,
        }
    }
}

/// From a `|`/`>` indicator, finds the first character of the first
/// non-blank body line.
fn skip_block_header(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && b.get(i) != Some(&b'\n') {
        i += 1;
    }
    loop {
        if i < end && b.get(i) == Some(&b'\n') {
            i += 1;
        }
        while i < end && matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        match b.get(i) {
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') && i + 1 < end => i += 1,
            Some(b'\n') if i < end => {}
            _ => return i,
        }
    }
}

/// Drops trailing line breaks and whitespace-only lines (kept by `|+`), but
/// keeps trailing spaces of the last content line, which are content.
fn trim_block_end(b: &[u8], start: usize, mut end: usize) -> usize {
    loop {
        while end > start && matches!(b.get(end - 1), Some(b'\n' | b'\r')) {
            end -= 1;
        }
        let line_start = b
            .get(start..end)
            .and_then(|body| memchr::memrchr(b'\n', body))
            .map_or(start, |i| start + i + 1);
        let blank = b
            .get(line_start..end)
            .is_some_and(|l| l.iter().all(|c| matches!(c, b' ' | b'\t')));
        if blank && line_start > start {
            end = line_start;
        } else {
            return end;
        }
    }
}

/// A `#` at line start or after whitespace, outside every scalar, starts a
/// comment that runs to the end of the line.
fn find_comments(src: &str, masks: &[Range<usize>]) -> Vec<Value> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(rel) = b.get(pos..).and_then(|rest| memchr::memchr(b'#', rest)) {
        let p = pos + rel;
        let idx = masks.partition_point(|m| m.start <= p);
        if let Some(m) = idx.checked_sub(1).and_then(|i| masks.get(i))
            && p < m.end
        {
            pos = m.end.max(p + 1);
            continue;
        }
        let starts_comment = p == 0 || b.get(p - 1).copied().is_some_and(is_ws) || after_bom(b, p);
        if !starts_comment {
            pos = p + 1;
            continue;
        }
        let line_end = b
            .get(p..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map_or(b.len(), |i| p + i);
        let mut end = line_end;
        if end > p && b.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        if let Some(text) = src.get(p..end) {
            out.push(Value {
                text: text.to_string(),
                span: p..end,
                context: Vec::new(),
                name: String::new(),
                group: 0,
                verbatim: true,
                encoding: Encoding::Plain,
                kind: ValueKind::Comment,
            });
        }
        pos = line_end.max(p + 1);
    }
    out
}

/// A byte order mark opening the file (or a document) acts as a line start.
fn after_bom(b: &[u8], pos: usize) -> bool {
    pos >= 3 && b.get(pos - 3..pos) == Some(&[0xEF, 0xBB, 0xBF][..])
}

/// Whether only indentation precedes `pos` on its line.
fn full_line(src: &str, pos: usize) -> bool {
    let b = src.as_bytes();
    let mut i = pos;
    while i > 0 {
        match b.get(i - 1) {
            Some(b'\n') => return true,
            Some(b' ' | b'\t') => i -= 1,
            _ => return after_bom(b, i),
        }
    }
    true
}

/// Whole-line comments on consecutive lines form one block.
fn same_comment_block(src: &str, prev_end: usize, comment: &Value) -> bool {
    let Some(between) = src.get(prev_end..comment.span.start) else {
        return false;
    };
    between.bytes().all(is_ws)
        && between.bytes().filter(|&c| c == b'\n').count() == 1
        && full_line(src, comment.span.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::join_context;
    use crate::parse::test_support::{of_kind, parsed};
    use std::time::{Duration, Instant};

    // Synthetic, from scripts/genkey.py; never real credentials.
    const KID: &str = "AKIARZPUZDIKFQTJ2CS6";
    const SECRET: &str = "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";
    const KID2: &str = "AKIARZPUZDIKBFEN3CQZ";
    const SECRET2: &str = "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";

    fn ok(src: &str) -> Parsed {
        parsed(parse(src))
    }

    fn scalars(p: &Parsed) -> Vec<&Value> {
        of_kind(p, ValueKind::Scalar)
    }

    fn comments(p: &Parsed) -> Vec<&Value> {
        of_kind(p, ValueKind::Comment)
    }

    fn get<'p>(p: &'p Parsed, ctx: &str) -> &'p Value {
        let found: Vec<&Value> = scalars(p)
            .into_iter()
            .filter(|v| join_context(&v.context) == ctx)
            .collect();
        assert_eq!(found.len(), 1, "values at {ctx}: {:#?}", p.values);
        found[0]
    }

    fn absent(p: &Parsed, ctx: &str) {
        assert!(
            scalars(p).iter().all(|v| join_context(&v.context) != ctx),
            "unexpected value at {ctx}"
        );
    }

    /// Asserts text, the file bytes at the span, name and verbatim.
    fn check(src: &str, v: &Value, text: &str, at_span: &str, name: &str, verbatim: bool) {
        assert_eq!(v.text, text);
        assert_eq!(&src[v.span.clone()], at_span);
        assert_eq!(v.name, name);
        assert_eq!(v.verbatim, verbatim);
        assert_eq!(v.verbatim, src.get(v.span.clone()) == Some(v.text.as_str()));
    }

    #[test]
    fn compose_environment_mapping() {
        let src = format!(
            "services:\n  worker:\n    image: acme/worker:1.2\n    environment:\n      \
             AWS_ACCESS_KEY_ID: {KID}\n      AWS_SECRET_ACCESS_KEY: \"{SECRET}\"\n"
        );
        let p = ok(&src);
        let kid = get(&p, "services.worker.environment.AWS_ACCESS_KEY_ID");
        check(&src, kid, KID, KID, "AWS_ACCESS_KEY_ID", true);
        let sec = get(&p, "services.worker.environment.AWS_SECRET_ACCESS_KEY");
        check(&src, sec, SECRET, SECRET, "AWS_SECRET_ACCESS_KEY", true);
        assert_eq!(kid.group, sec.group);
        assert_ne!(kid.group, get(&p, "services.worker.image").group);
        assert_eq!(
            kid.context,
            ["services", "worker", "environment", "AWS_ACCESS_KEY_ID"]
        );
        assert_eq!(p.flavour, Some(Format::Compose));
    }

    #[test]
    fn compose_environment_list() {
        let src = format!(
            "services:\n  api:\n    build: .\n    environment:\n      - AWS_ACCESS_KEY_ID={KID}\n      \
             - \"AWS_SECRET_ACCESS_KEY={SECRET}\"\n"
        );
        let p = ok(&src);
        let a = get(&p, "services.api.environment[0]");
        let line0 = format!("AWS_ACCESS_KEY_ID={KID}");
        check(&src, a, &line0, &line0, "environment", true);
        let b = get(&p, "services.api.environment[1]");
        let line1 = format!("AWS_SECRET_ACCESS_KEY={SECRET}");
        check(&src, b, &line1, &line1, "environment", true);
        assert_eq!(a.group, b.group);
        assert_eq!(a.context, ["services", "api", "environment", "[0]"]);
        assert_eq!(p.flavour, Some(Format::Compose));
    }

    #[test]
    fn kubernetes_env_name_value_pairs() {
        let src = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    \
             spec:\n      containers:\n        - name: api\n          image: acme/api\n          \
             env:\n            - name: AWS_ACCESS_KEY_ID\n              value: {KID}\n            \
             - value: \"{SECRET}\"\n              name: AWS_SECRET_ACCESS_KEY\n"
        );
        let p = ok(&src);
        let v0 = get(&p, "spec.template.spec.containers[0].env[0].value");
        check(&src, v0, KID, KID, "AWS_ACCESS_KEY_ID", true);
        // `value` before `name`: the pairing still holds.
        let v1 = get(&p, "spec.template.spec.containers[0].env[1].value");
        check(&src, v1, SECRET, SECRET, "AWS_SECRET_ACCESS_KEY", true);
        assert_eq!(
            v1.context,
            [
                "spec",
                "template",
                "spec",
                "containers",
                "[0]",
                "env",
                "[1]",
                "value"
            ]
        );
        let n1 = get(&p, "spec.template.spec.containers[0].env[1].name");
        assert_eq!(n1.name, "name");
        assert_eq!(n1.group, v1.group);
        assert_ne!(v0.group, v1.group);
        assert_eq!(
            get(&p, "spec.template.spec.containers[0].name").name,
            "name"
        );
        assert_eq!(p.flavour, Some(Format::Kubernetes));
    }

    #[test]
    fn ecs_and_cloudformation_name_value_pairs() {
        let src = format!(
            "Environment:\n  - Name: AWS_ACCESS_KEY_ID\n    Value: {KID}\nParameters:\n  \
             - ParameterKey: DbSecret\n    ParameterValue: {SECRET}\n"
        );
        let p = ok(&src);
        check(
            &src,
            get(&p, "Environment[0].Value"),
            KID,
            KID,
            "AWS_ACCESS_KEY_ID",
            true,
        );
        check(
            &src,
            get(&p, "Parameters[0].ParameterValue"),
            SECRET,
            SECRET,
            "DbSecret",
            true,
        );
    }

    #[test]
    fn kubernetes_secret_data_is_decoded() {
        // `kind` comes last on purpose; data values: padded, unpadded and
        // folded across lines, and one that is not UTF-8 once decoded.
        let src = "apiVersion: v1\nmetadata:\n  name: aws\ntype: Opaque\ndata:\n  \
                   AWS_ACCESS_KEY_ID: QUtJQVJaUFVaRElLRlFUSjJDUzY=\n  \
                   AWS_SECRET_ACCESS_KEY: c0YwYVd4d1FLSlVDVm16bStPNzVGQzBSbXFtRDA1OGM2UFl5aDk4aA\n  \
                   wrapped: QUtJQVJaUFVa\n    RElLRlFUSjJDUzY=\nbinaryData:\n  blob: //4A\n\
                   stringData:\n  AWS_SESSION_TOKEN: plain-token\nkind: Secret\n";
        let p = ok(src);
        let kid = get(&p, "data.AWS_ACCESS_KEY_ID");
        check(
            src,
            kid,
            KID,
            "QUtJQVJaUFVaRElLRlFUSjJDUzY=",
            "AWS_ACCESS_KEY_ID",
            false,
        );
        assert_eq!(kid.encoding, Encoding::Base64);
        let sec = get(&p, "data.AWS_SECRET_ACCESS_KEY");
        assert_eq!(sec.text, SECRET);
        assert_eq!(sec.encoding, Encoding::Base64);
        assert_eq!(
            &src[sec.span.clone()],
            "c0YwYVd4d1FLSlVDVm16bStPNzVGQzBSbXFtRDA1OGM2UFl5aDk4aA"
        );
        let wrapped = get(&p, "data.wrapped");
        assert_eq!(wrapped.text, KID);
        assert_eq!(
            &src[wrapped.span.clone()],
            "QUtJQVJaUFVa\n    RElLRlFUSjJDUzY="
        );
        // Binary data is searched too: bytes that are not UTF-8 read as `?`.
        let blob = get(&p, "binaryData.blob");
        check(src, blob, "??\0", "//4A", "blob", false);
        assert_eq!(blob.encoding, Encoding::Base64);
        let tok = get(&p, "stringData.AWS_SESSION_TOKEN");
        check(
            src,
            tok,
            "plain-token",
            "plain-token",
            "AWS_SESSION_TOKEN",
            true,
        );
        assert_eq!(tok.encoding, Encoding::Plain);
        assert_eq!(p.flavour, Some(Format::Kubernetes));
    }

    #[test]
    fn configmap_data_is_not_decoded() {
        let src = "apiVersion: v1\nkind: ConfigMap\ndata:\n  k: QUtJQVJaUFVaRElLRlFUSjJDUzY=\n";
        let p = ok(src);
        let v = get(&p, "data.k");
        assert_eq!(v.text, "QUtJQVJaUFVaRElLRlFUSjJDUzY=");
        assert_eq!(v.encoding, Encoding::Plain);
        assert!(v.verbatim);
    }

    #[test]
    fn github_actions_workflow() {
        let src = "name: deploy\non:\n  push:\n    branches: [main]\nenv:\n  AWS_REGION: eu-west-1\n  \
                   AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\njobs:\n  deploy:\n    \
                   runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      \
                   - run: aws s3 ls\n        env:\n          \
                   AWS_SECRET_ACCESS_KEY: \"${{ secrets.AWS_SECRET_ACCESS_KEY }}\"\n";
        let p = ok(src);
        let kid = get(&p, "env.AWS_ACCESS_KEY_ID");
        let expr = "${{ secrets.AWS_ACCESS_KEY_ID }}";
        check(src, kid, expr, expr, "AWS_ACCESS_KEY_ID", true);
        assert_eq!(kid.group, get(&p, "env.AWS_REGION").group);
        let sec = get(&p, "jobs.deploy.steps[1].env.AWS_SECRET_ACCESS_KEY");
        let expr = "${{ secrets.AWS_SECRET_ACCESS_KEY }}";
        check(src, sec, expr, expr, "AWS_SECRET_ACCESS_KEY", true);
        check(
            src,
            get(&p, "on.push.branches[0]"),
            "main",
            "main",
            "branches",
            true,
        );
        assert_eq!(p.flavour, Some(Format::GithubActions));
    }

    #[test]
    fn cloudformation_tags() {
        let src = format!(
            "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  User:\n    Type: AWS::IAM::User\n  \
             Key:\n    Type: AWS::IAM::AccessKey\n    Properties:\n      UserName: !Ref User\n      \
             Serial: !GetAtt [User, Arn]\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      \
             Environment:\n        Variables:\n          KEY_ARN: !GetAtt User.Arn\n          \
             SECRET: !Sub \"aws_secret=${{Pass}}-{SECRET}\"\n          \
             JOINED: !Join [\"\", [\"a\", !Ref Pass, b]]\n          RAW: !Base64 {KID}\n          \
             IMPORTED: !ImportValue shared-key\n"
        );
        let p = ok(&src);
        absent(&p, "Resources.Key.Properties.UserName");
        absent(&p, "Resources.Key.Properties.Serial[0]");
        absent(&p, "Resources.Key.Properties.Serial[1]");
        absent(&p, "Resources.Fn.Properties.Environment.Variables.KEY_ARN");
        absent(&p, "Resources.Fn.Properties.Environment.Variables.IMPORTED");
        assert!(
            scalars(&p)
                .iter()
                .all(|v| v.text != "User.Arn" && v.text != "Pass")
        );
        let sub = get(&p, "Resources.Fn.Properties.Environment.Variables.SECRET");
        let t = format!("aws_secret=${{Pass}}-{SECRET}");
        check(&src, sub, &t, &t, "SECRET", true);
        let vars = "Resources.Fn.Properties.Environment.Variables";
        check(
            &src,
            get(&p, &format!("{vars}.JOINED[1][0]")),
            "a",
            "a",
            "JOINED",
            true,
        );
        check(
            &src,
            get(&p, &format!("{vars}.JOINED[1][2]")),
            "b",
            "b",
            "JOINED",
            true,
        );
        absent(&p, &format!("{vars}.JOINED[1][1]"));
        check(&src, get(&p, &format!("{vars}.RAW")), KID, KID, "RAW", true);
        assert_eq!(p.flavour, Some(Format::CloudFormation));
    }

    #[test]
    fn multi_document() {
        let src = format!("# first\na: {KID}\n---\nb: {SECRET}\n...\n---\n- c\n--- |-\n  tail\n");
        let p = ok(&src);
        let a = get(&p, "a");
        check(&src, a, KID, KID, "a", true);
        let b = get(&p, "b");
        check(&src, b, SECRET, SECRET, "b", true);
        check(&src, get(&p, "[0]"), "c", "c", "", true);
        let root = get(&p, "");
        check(&src, root, "tail", "tail", "", true);
        assert_ne!(a.group, b.group);
        assert_eq!(scalars(&p).len(), 4);
        // Output is in file order.
        assert!(
            p.values
                .windows(2)
                .all(|w| w[0].span.start <= w[1].span.start)
        );
    }

    #[test]
    fn flow_collections() {
        let src = "x: {a: b, c: [d, \"e#f\"], g: {h: 'i'}}\n";
        let p = ok(src);
        let a = get(&p, "x.a");
        check(src, a, "b", "b", "a", true);
        let d = get(&p, "x.c[0]");
        check(src, d, "d", "d", "c", true);
        let e = get(&p, "x.c[1]");
        check(src, e, "e#f", "e#f", "c", true);
        check(src, get(&p, "x.g.h"), "i", "i", "h", true);
        let p = ok("\"[0]\": [v]\n");
        check("\"[0]\": [v]\n", get(&p, "[0][0]"), "v", "v", "[0]", true);
        assert_eq!(d.group, e.group);
        assert_ne!(a.group, d.group);
        assert!(comments(&p).is_empty());
    }

    #[test]
    fn literal_block_with_ini_credentials() {
        let src = format!(
            "files:\n  credentials: |\n    [default]\n    aws_access_key_id = {KID}\n    \
             aws_secret_access_key = {SECRET}\n\n  other: x\n"
        );
        let p = ok(&src);
        let v = get(&p, "files.credentials");
        let text =
            format!("[default]\naws_access_key_id = {KID}\naws_secret_access_key = {SECRET}\n");
        let body = format!(
            "[default]\n    aws_access_key_id = {KID}\n    aws_secret_access_key = {SECRET}"
        );
        check(&src, v, &text, &body, "credentials", false);
        check(&src, get(&p, "files.other"), "x", "x", "other", true);
    }

    #[test]
    fn block_scalar_variants() {
        let src = "a: >\n  one\n  two\n\nb: |+\n  kept\n\n\nc: !Sub | # header comment\n  \
                   tagged ${X}\nd: |\n  |starts with bar\ne: |-\n  trail  \n";
        let p = ok(src);
        check(src, get(&p, "a"), "one two\n", "one\n  two", "a", false);
        check(src, get(&p, "b"), "kept\n\n\n", "kept", "b", false);
        check(
            src,
            get(&p, "c"),
            "tagged ${X}\n",
            "tagged ${X}",
            "c",
            false,
        );
        check(
            src,
            get(&p, "d"),
            "|starts with bar\n",
            "|starts with bar",
            "d",
            false,
        );
        check(src, get(&p, "e"), "trail  ", "trail  ", "e", true);
        let c = comments(&p);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].text, "# header comment");
    }

    #[test]
    fn quoted_scalars_and_escapes() {
        let src = "a: 'it''s'\nb: \"tab\\there\\n\\u00e9\"\nc: \"plain\"\nd: ''\n";
        let p = ok(src);
        check(src, get(&p, "a"), "it's", "it''s", "a", false);
        check(
            src,
            get(&p, "b"),
            "tab\there\né",
            "tab\\there\\n\\u00e9",
            "b",
            false,
        );
        check(src, get(&p, "c"), "plain", "plain", "c", true);
        check(src, get(&p, "d"), "", "", "d", true);
    }

    #[test]
    fn non_ascii_before_values_uses_byte_offsets() {
        let src = format!(
            "\u{feff}# ünïcödé — комментарий\nnote: \"日本語テキスト\"\nключ: значение {KID}\nk: {SECRET}\n"
        );
        let p = ok(&src);
        check(
            &src,
            get(&p, "note"),
            "日本語テキスト",
            "日本語テキスト",
            "note",
            true,
        );
        let t = format!("значение {KID}");
        check(&src, get(&p, "ключ"), &t, &t, "ключ", true);
        check(&src, get(&p, "k"), SECRET, SECRET, "k", true);
        let c = comments(&p);
        assert_eq!(c.len(), 1);
        assert_eq!(&src[c[0].span.clone()], "# ünïcödé — комментарий");
    }

    #[test]
    fn byte_cursor_moves_both_ways() {
        let s = "aé日b";
        let mut c = ByteCursor::new(s);
        assert_eq!(c.byte(3), 6);
        assert_eq!(c.byte(1), 1);
        assert_eq!(c.byte(2), 3);
        assert_eq!(c.byte(4), 7);
        assert_eq!(c.byte(99), 7);
        assert_eq!(c.byte(0), 0);
    }

    #[test]
    fn crlf_line_endings() {
        let src =
            format!("a: {KID}\r\nb: \"{SECRET}\"\r\nc: |\r\n  l1\r\n  l2\r\n# note\r\nd: x\r\n");
        let p = ok(&src);
        check(&src, get(&p, "a"), KID, KID, "a", true);
        check(&src, get(&p, "b"), SECRET, SECRET, "b", true);
        check(&src, get(&p, "c"), "l1\nl2\n", "l1\r\n  l2", "c", false);
        check(&src, get(&p, "d"), "x", "x", "d", true);
        let c = comments(&p);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].text, "# note");
        assert_eq!(&src[c[0].span.clone()], "# note");
    }

    #[test]
    fn comments_outside_scalars_only() {
        let src = format!(
            "# top comment {KID}\n  # continues\na: \"value # not a comment\"  # trailing\n\
             b: x#y\nc: | # hdr\n  # inside block\n'k # key': v # t2\n\n# later block\n"
        );
        let p = ok(&src);
        let c = comments(&p);
        let texts: Vec<&str> = c.iter().map(|v| v.text.as_str()).collect();
        let top = format!("# top comment {KID}");
        assert_eq!(
            texts,
            [
                top.as_str(),
                "# continues",
                "# trailing",
                "# hdr",
                "# t2",
                "# later block"
            ]
        );
        for v in &c {
            assert_eq!(&src[v.span.clone()], v.text);
            assert!(v.verbatim);
            assert!(v.context.is_empty());
            assert_eq!(v.name, "");
        }
        assert_eq!(c[0].group, c[1].group);
        assert_ne!(c[1].group, c[2].group);
        assert_ne!(c[2].group, c[3].group);
        assert_ne!(c[3].group, c[4].group);
        assert_ne!(c[4].group, c[5].group);
        // Comment groups never collide with mapping groups.
        assert!(scalars(&p).iter().all(|v| v.group != c[0].group));
        check(
            &src,
            get(&p, "a"),
            "value # not a comment",
            "value # not a comment",
            "a",
            true,
        );
        check(&src, get(&p, "b"), "x#y", "x#y", "b", true);
        check(
            &src,
            get(&p, "c"),
            "# inside block\n",
            "# inside block",
            "c",
            false,
        );
        check(&src, get(&p, "k # key"), "v", "v", "k # key", true);
    }

    #[test]
    fn anchors_are_emitted_once_and_aliases_never_expanded() {
        let src = format!(
            "base: &creds\n  key: {KID}\n  plain: &p hello\nprod:\n  <<: *creds\n  other: *p\n  \
             *p : aliased-key\n  k: &k2 !Sub \"{SECRET2}\"\n"
        );
        let p = ok(&src);
        assert_eq!(scalars(&p).iter().filter(|v| v.text == KID).count(), 1);
        check(&src, get(&p, "base.key"), KID, KID, "key", true);
        check(&src, get(&p, "base.plain"), "hello", "hello", "plain", true);
        absent(&p, "prod.<<");
        absent(&p, "prod.other");
        check(
            &src,
            get(&p, "prod.hello"),
            "aliased-key",
            "aliased-key",
            "hello",
            true,
        );
        check(&src, get(&p, "prod.k"), SECRET2, SECRET2, "k", true);
    }

    #[test]
    fn alias_bomb_is_harmless() {
        let mut src = String::from("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let prev = format!("*l{}", i - 1);
            let items = vec![prev; 9].join(", ");
            src.push_str(&format!("l{i}: &l{i} [{items}]\n"));
        }
        src.push_str("boom: *l9\n");
        let started = Instant::now();
        let p = ok(&src);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(p.values.len(), 9);
        assert!(p.values.iter().all(|v| v.text == "lol"));
    }

    #[test]
    fn deep_flow_nesting_fails_cleanly() {
        let src = "[".repeat(10_000);
        let e = parse(&src).unwrap_err();
        assert!(e.offset.is_some());
        let src = format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&src).is_err());
    }

    #[test]
    fn deep_block_nesting_fails_cleanly() {
        let mut src = String::new();
        for depth in 0..10_000 {
            src.push_str(&" ".repeat(depth));
            src.push_str("k:\n");
        }
        let e = parse(&src).unwrap_err();
        assert!(e.message.contains("nesting"), "{}", e.message);
        assert!(e.offset.is_some_and(|o| o > 0 && o < src.len()));
    }

    #[test]
    fn moderate_nesting_parses() {
        let mut src = String::new();
        for depth in 0..200 {
            src.push_str(&" ".repeat(depth));
            src.push_str("k:\n");
        }
        src.push_str(&" ".repeat(200));
        src.push_str("leaf: v\n");
        let p = ok(&src);
        let v = &scalars(&p)[0];
        assert_eq!(v.context.len(), 201);
        assert_eq!(v.text, "v");
    }

    #[test]
    fn syntax_error_reports_line_and_byte_offset() {
        let e = parse("é: b\n  c: d\n").unwrap_err();
        assert!(
            e.message.starts_with("YAML syntax error at line 2: "),
            "{}",
            e.message
        );
        // saphyr reports character 8; 'é' is two bytes.
        assert_eq!(e.offset, Some(9));
        assert!(parse("a: 'unterminated\n").is_err());
        assert!(parse("a: [b, c\n").is_err());
    }

    #[test]
    fn helm_template_fails_so_caller_falls_back() {
        let src = "{{- if .Values.aws.enabled }}\napiVersion: v1\nkind: Secret\n{{- end }}\n";
        let e = parse(src).unwrap_err();
        assert!(e.message.starts_with("YAML syntax error at line 1"));
    }

    #[test]
    fn empty_and_comment_only_files() {
        let p = ok("");
        assert!(p.values.is_empty());
        assert_eq!(p.flavour, None);
        let p = ok("---\n");
        assert!(p.values.is_empty());
        let p = ok("# just a note\n");
        assert_eq!(p.values.len(), 1);
        assert_eq!(p.values[0].kind, ValueKind::Comment);
        assert_eq!(p.values[0].text, "# just a note");
    }

    #[test]
    fn root_scalar_and_implicit_nulls() {
        let src = format!("just text {KID}\n");
        let p = ok(&src);
        let t = format!("just text {KID}");
        check(&src, get(&p, ""), &t, &t, "", true);
        let p = ok("a:\nb: ~\n");
        assert_eq!(scalars(&p).len(), 1);
        assert_eq!(get(&p, "b").text, "~");
    }

    #[test]
    fn odd_tags_never_fail() {
        let src = "a: !!binary aGVsbG8=\nb: !custom {x: y}\nc: !Sub\n  - \"z\"\nd: !<tag:x> w\n";
        let p = ok(src);
        // `!!binary` is declared base64: its value is the decoded bytes.
        check(src, get(&p, "a"), "hello", "aGVsbG8=", "a", false);
        assert_eq!(get(&p, "a").encoding, Encoding::Base64);
        check(src, get(&p, "b.x"), "y", "y", "x", true);
        check(src, get(&p, "c[0]"), "z", "z", "c", true);
        check(src, get(&p, "d"), "w", "w", "d", true);
    }

    #[test]
    fn flavour_detection() {
        let f = |s: &str| ok(s).flavour;
        assert_eq!(
            f("a: 1\n---\napiVersion: v1\nkind: Pod\n"),
            Some(Format::Kubernetes)
        );
        assert_eq!(f("apiVersion: v1\n"), None);
        assert_eq!(
            f("AWSTemplateFormatVersion: '2010-09-09'\n"),
            Some(Format::CloudFormation)
        );
        assert_eq!(
            f("Resources:\n  B:\n    Type: AWS::S3::Bucket\n"),
            Some(Format::CloudFormation)
        );
        assert_eq!(f("Resources:\n  B:\n    Type: Custom\n"), None);
        assert_eq!(f("on: push\njobs:\n  a: {}\n"), Some(Format::GithubActions));
        assert_eq!(
            f("true: push\njobs:\n  a: {}\n"),
            Some(Format::GithubActions)
        );
        assert_eq!(f("jobs:\n  a: {}\n"), None);
        assert_eq!(
            f("services:\n  web:\n    image: nginx\n"),
            Some(Format::Compose)
        );
        assert_eq!(
            f("services:\n  web:\n    environment:\n      - A=b\n"),
            Some(Format::Compose)
        );
        assert_eq!(f("services:\n  web:\n    replicas: 2\n"), None);
        assert_eq!(
            f("- hosts: all\n  tasks:\n    - shell: echo\n"),
            Some(Format::Ansible)
        );
        assert_eq!(f("- tasks: []\n"), Some(Format::Ansible));
        assert_eq!(f("x:\n  - hosts: all\n"), None);
        assert_eq!(f("a: b\n"), None);
    }

    #[test]
    fn large_non_ascii_file_is_linear() {
        let mut src = String::from("# заголовок\n");
        for i in 0..20_000 {
            src.push_str(&format!("ключ{i}: \"значение {i}\"  # примечание\n"));
        }
        src.push_str(&format!("last: {KID}\n"));
        let started = Instant::now();
        let p = ok(&src);
        // A quadratic char-to-byte conversion takes minutes here.
        assert!(started.elapsed() < Duration::from_secs(10));
        check(&src, get(&p, "last"), KID, KID, "last", true);
        check(
            &src,
            get(&p, "ключ19999"),
            "значение 19999",
            "значение 19999",
            "ключ19999",
            true,
        );
        assert_eq!(comments(&p).len(), 20_001);
    }

    #[test]
    fn every_prefix_parses_or_fails_without_panicking() {
        let doc = format!(
            "\u{feff}# ü\napiVersion: v1\nkind: Secret\ndata:\n  k: QUtJQVJaUFVaRElLRlFUSjJDUzY=\n\
             s: !Sub \"a\\\"b # c\"  # d\nl: |+\n  x é\n\n---\n- [a, {{b: 'c''d'}}, &x e, *x]\n\
             - ? complex\n  : v\n- !Ref r\n- >-\n  f\r\n  g\r\n- {SECRET}\n"
        );
        let mut parsed_some = 0;
        for (i, _) in doc.char_indices().chain([(doc.len(), ' ')]) {
            let src = &doc[..i];
            if let Ok(p) = parse(src) {
                parsed_some += 1;
                for v in &p.values {
                    let at = src.get(v.span.clone());
                    assert!(at.is_some(), "bad span {:?} in {src:?}", v.span);
                    assert_eq!(v.verbatim, at == Some(v.text.as_str()));
                }
            }
        }
        assert!(parse(&doc).is_ok());
        assert!(parsed_some > 10);
    }

    #[test]
    fn fixture_kubernetes_bundle() {
        let src = include_str!("../../fixtures/parse/yaml/k8s-bundle.yaml");
        let p = ok(src);
        assert_eq!(p.flavour, Some(Format::Kubernetes));
        let kid = get(&p, "spec.template.spec.containers[0].env[0].value");
        assert_eq!(kid.name, "AWS_ACCESS_KEY_ID");
        assert_eq!(kid.text, KID2);
        let sec = get(&p, "data.aws_secret_access_key");
        assert_eq!(sec.text, SECRET2);
        assert_eq!(sec.encoding, Encoding::Base64);
        let ini = get(&p, "data.credentials");
        assert!(ini.text.contains(&format!("aws_access_key_id = {KID2}")));
        assert!(comments(&p).iter().any(|c| c.text.contains("rotate")));
    }
}
