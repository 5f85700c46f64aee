//! YAML parser: walks the `saphyr-parser` event stream (never building a
//! tree, never expanding aliases) and emits one [`Value`] per mapping value
//! or sequence item, plus one per comment.
//!
//! saphyr reports positions in characters; everything here is converted to
//! byte offsets with a cursor that only walks the distance between successive
//! events, so the whole conversion is linear in the file size.

use std::borrow::Cow;
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
    anchor_text: Vec<(usize, String)>,
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
            anchor_text: Vec::new(),
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
                        .iter()
                        .rev()
                        .find(|(a, _)| *a == id)
                        .map_or_else(|| "*".to_string(), |(_, t)| t.clone());
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
            self.anchor_text.push((anchor, text.to_string()));
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
        let name = context
            .iter()
            .rev()
            .find(|s| !s.starts_with('['))
            .cloned()
            .unwrap_or_default();
        let secret_data = context.len() == 2
            && self.frames.len() == 2
            && matches!(context[0].as_str(), "data" | "binaryData")
            && matches!(slot, Slot::MapValue(_));
        let text = text.into_owned();
        let verbatim = self.src.get(span.clone()) == Some(text.as_str());
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
                encoding: Encoding::Plain,
                kind: ValueKind::Scalar,
            },
            key: key.clone(),
            secret_data,
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
    String::from_utf8(bytes).ok()
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
            if end >= start + 2 && b.get(start) == Some(&q) && b.get(end - 1) == Some(&q) {
                start + 1..end - 1
            } else {
                start..end
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
    let mask = match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => span.start.saturating_sub(1)..end,
        ScalarStyle::Literal | ScalarStyle::Folded => span.clone(),
        ScalarStyle::Plain => span.clone(),
    };
    (span, mask)
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
        let starts_comment = p == 0 || b.get(p - 1).copied().is_some_and(is_ws);
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

/// Whether only indentation precedes `pos` on its line.
fn full_line(src: &str, pos: usize) -> bool {
    let b = src.as_bytes();
    let mut i = pos;
    while i > 0 {
        match b.get(i - 1) {
            Some(b'\n') => return true,
            Some(b' ' | b'\t') => i -= 1,
            _ => return false,
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
