//! Terraform / HCL parser (`.tf`, `.tfvars`, `.hcl`, Terragrunt), built on
//! `tree-sitter-hcl`.
//!
//! Emits every quoted string, heredoc body and comment with its exact span.
//! Blocks contribute their type and labels to the context
//! (`provider "aws" {}` gives `["provider", "aws", ...]`), attributes and
//! object keys contribute their name, tuple elements an `[i]` segment.
//! Function calls are transparent: their arguments keep the context of the
//! expression they sit in.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use tree_sitter::{Node, Parser, Tree};

use super::{Encoding, MAX_DEPTH, ParseFailure, Parsed, Value, ValueKind, hcl_pieces};

thread_local! {
    // Building a parser allocates and loads the language tables; files are
    // parsed by the thousand on a few worker threads, so each keeps one.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// The values of pieces parsed before, by the piece's text: an editor
/// changes one block at a time, so a file's other pieces come from here
/// instead of tree-sitter. It holds the pieces of the last two parses
/// only, so it never grows past two versions of one file. Its owner (the
/// editor server, per document) hands it to each scan of the file
/// (`Scan::piece_cache`) and calls [`PieceCache::next_parse`] before it.
#[derive(Debug, Default)]
pub struct PieceCache {
    now: HashMap<String, CachedPiece>,
    before: HashMap<String, CachedPiece>,
    /// Pieces taken from the cache, for tests and benchmarks.
    pub hits: u64,
}

#[derive(Debug, Clone)]
struct CachedPiece {
    /// Spans relative to the piece; the piece's own groups from 1, the
    /// top level 0.
    values: Vec<Value>,
    groups: u32,
}

impl PieceCache {
    fn take(&mut self, text: &str) -> Option<CachedPiece> {
        if let Some(hit) = self.now.get(text) {
            return Some(hit.clone());
        }
        let hit = self.before.remove(text)?;
        self.now.insert(text.to_string(), hit.clone());
        Some(hit)
    }

    /// Starts the next parse: what the last one did not use goes.
    #[cfg(feature = "cli")]
    pub fn next_parse(&mut self) {
        self.before = std::mem::take(&mut self.now);
    }
}

impl PieceCache {
    /// The piece's values from the cache, else parsed and remembered.
    fn parse(
        &mut self,
        src: &str,
        piece: Range<usize>,
        next_group: &mut u32,
        values: &mut Vec<Value>,
    ) -> Result<(), ParseFailure> {
        let text = src.get(piece.clone()).unwrap_or_default();
        if let Some(hit) = self.take(text) {
            self.hits += 1;
            values.extend(hit.values.into_iter().map(|mut v| {
                v.span = v.span.start + piece.start..v.span.end + piece.start;
                if v.group > 0 {
                    v.group = v.group - 1 + *next_group;
                }
                v
            }));
            *next_group += hit.groups;
            return Ok(());
        }
        let first = *next_group;
        let from = values.len();
        parse_piece(src, piece.clone(), next_group, values)?;
        let cached = CachedPiece {
            values: values[from..]
                .iter()
                .map(|v| {
                    let mut v = v.clone();
                    v.span = v.span.start.saturating_sub(piece.start)
                        ..v.span.end.saturating_sub(piece.start);
                    // Group 0 is the file's top level in every piece; the
                    // piece's own groups count from 1 here.
                    v.group = if v.group >= first {
                        v.group - first + 1
                    } else {
                        0
                    };
                    v
                })
                .collect(),
            groups: next_group.saturating_sub(first),
        };
        self.now.insert(text.to_string(), cached);
        Ok(())
    }
}

/// From this size on a file is parsed piece by piece (see [`hcl_pieces`]),
/// and only the pieces the prefilter keeps: a 2,000-line module with one
/// key costs one piece's parse, which is what the editor server waits for
/// on every change. Below it, one piece is the whole file anyway.
const PIECEWISE_FROM: usize = 2 * PIECE_LEN;
/// Pieces are whole top-level blocks, gathered to about this size: a
/// block or a few. tree-sitter-hcl parses at a few MB/s, so a typical
/// module of a few kilobytes with a key in one block was most of a scan's
/// parsing time when parsed whole (16 KB pieces: the real-repository
/// corpus spent 15% of its user time in tree-sitter, mostly on blocks
/// that cannot hold a key; 1 KB: 8% less user time, the same output).
const PIECE_LEN: usize = 1024;

/// The largest piece given to tree-sitter. Its tree costs about 200 bytes
/// per byte of input (a 9 MB string literal took 1.9 GB), so one block
/// larger than this, which cannot be cut at top level, is read by the text
/// scanner instead: every value is still found, named by its assignment,
/// in memory close to the piece's size.
const TREE_MAX: usize = 256 * 1024;

/// Values of one oversized piece, by the line scanner.
fn text_piece(text: &str, base: usize, next_group: &mut u32, values: &mut Vec<Value>) {
    let first_group = *next_group;
    let mut last = 0;
    for mut v in super::text::scan(text) {
        v.span = v.span.start + base..v.span.end + base;
        last = last.max(v.group);
        v.group = v.group.saturating_add(first_group);
        values.push(v);
    }
    *next_group = first_group.saturating_add(last).saturating_add(1);
}

/// Parses Terraform / HCL source into values.
///
/// Returns [`ParseFailure`] when the source has a syntax error (the offset is
/// the first ERROR or MISSING node) or nests deeper than [`MAX_DEPTH`].
/// Every piece of a large file is parsed; see [`parse_pieces_worth`].
#[cfg(any(test, feature = "internals"))]
pub fn parse(src: &str) -> Result<Parsed, ParseFailure> {
    parse_pieces_worth(src, &|_| true, None)
}

/// As [`parse`], but a large file yields only the values of the pieces
/// `worth` keeps (the scan passes the prefilter's test, so a 50 MB module
/// costs the pieces that may hold a credential); the others are not
/// parsed. The parser asks rather than knows: it has no idea what a
/// credential looks like. Pieces found in `cache` are not parsed again.
pub fn parse_pieces_worth(
    src: &str,
    worth: &dyn Fn(&str) -> bool,
    mut cache: Option<&mut PieceCache>,
) -> Result<Parsed, ParseFailure> {
    let mut values = Vec::new();
    let mut next_group = 1;
    if src.len() < PIECEWISE_FROM {
        parse_piece(src, 0..src.len(), &mut next_group, &mut values)?;
    } else {
        for piece in hcl_pieces::pieces(src, PIECE_LEN) {
            let text = src.get(piece.clone()).unwrap_or_default();
            if !worth(text) {
                continue;
            }
            if piece.len() > TREE_MAX {
                text_piece(text, piece.start, &mut next_group, &mut values);
            } else if let Some(cache) = cache.as_deref_mut() {
                cache.parse(src, piece, &mut next_group, &mut values)?;
            } else {
                parse_piece(src, piece, &mut next_group, &mut values)?;
            }
        }
    }
    // The explicit stack queues comments inside an object element apart from
    // its value, so emission order is not quite file order; callers expect it.
    values.sort_by_key(|v| (v.span.start, v.span.end));
    Ok(Parsed {
        values,
        warnings: Vec::new(),
        flavour: None,
    })
}

/// The whole file in one parse, whatever its size: what piecewise parsing
/// must agree with.
#[cfg(test)]
pub(crate) fn parse_whole(src: &str) -> Result<Vec<Value>, ParseFailure> {
    let mut values = Vec::new();
    parse_piece(src, 0..src.len(), &mut 1, &mut values)?;
    values.sort_by_key(|v| (v.span.start, v.span.end));
    Ok(values)
}

/// Parses `src[piece]` and adds its values, with file offsets, to `values`.
fn parse_piece(
    src: &str,
    piece: Range<usize>,
    next_group: &mut u32,
    values: &mut Vec<Value>,
) -> Result<(), ParseFailure> {
    let base = piece.start;
    let text = src.get(piece).unwrap_or_default();
    let tree = parse_tree(text)?;
    let root = tree.root_node();
    if root.has_error() {
        let offset = first_error_offset(root).map(|o| o + base);
        let line = offset.map_or(0, |o| line_of(src, o));
        return Err(ParseFailure::new(
            offset,
            format!("HCL syntax error at line {line}"),
        ));
    }
    let mut walker = Walker {
        src: text,
        file: src,
        base,
        frames: Vec::new(),
        values: Vec::new(),
        next_group: *next_group,
    };
    walker.walk(root).map_err(|mut e| {
        e.offset = e.offset.map(|o| o + base);
        e
    })?;
    *next_group = walker.next_group;
    values.extend(walker.values.into_iter().map(|mut v| {
        v.span = v.span.start + base..v.span.end + base;
        v
    }));
    Ok(())
}

fn parse_tree(src: &str) -> Result<Tree, ParseFailure> {
    PARSER.with(|cell| {
        // A nested call on the same thread cannot happen today, but a fresh
        // parser is a cheaper answer to it than a panic.
        let mut fresh = None;
        let mut guard = cell.try_borrow_mut().ok();
        let slot: &mut Option<Parser> = match guard.as_deref_mut() {
            Some(slot) => slot,
            None => &mut fresh,
        };
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_hcl::LANGUAGE.into())
                .map_err(|e| ParseFailure::new(None, format!("HCL grammar unusable: {e}")))?;
            *slot = Some(parser);
        }
        let Some(parser) = slot.as_mut() else {
            return Err(ParseFailure::new(None, "HCL parser unavailable"));
        };
        // A previous parse that was cut short leaves state behind that would
        // be resumed instead of starting over.
        parser.reset();
        let bytes = src.as_bytes();
        // tree-sitter halts when this returns true: the per-file budget.
        let mut over_budget = |_: &tree_sitter::ParseState| crate::budget::expired();
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut over_budget);
        let tree = parser.parse_with_options(
            &mut |i, _| bytes.get(i..).unwrap_or_default(),
            None,
            Some(options),
        );
        match tree {
            Some(tree) => Ok(tree),
            None if crate::budget::was_exceeded() => Err(ParseFailure::out_of_budget()),
            None => Err(ParseFailure::new(None, "HCL parser gave no tree")),
        }
    })
}

/// Smallest start byte of an ERROR or MISSING node, walking only subtrees
/// that contain one (iteratively: the tree can be as deep as the input).
fn first_error_offset(root: Node) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let mut descend = false;
        if node.is_error() || node.is_missing() {
            let start = node.start_byte();
            best = Some(best.map_or(start, |b| b.min(start)));
        } else if node.has_error() {
            descend = true;
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return best.or(Some(root.start_byte()));
            }
        }
    }
}

fn line_of(src: &str, offset: usize) -> usize {
    let end = offset.min(src.len());
    src.as_bytes()
        .get(..end)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// Where values found under a node belong.
struct Frame {
    context: Vec<String>,
    group: u32,
    /// Number of blocks, objects, tuples and calls around this point.
    depth: usize,
    /// Set for the `default` attribute of a top-level `variable "NAME"` block
    /// (and anything directly under it by index): such values are named
    /// after the variable, which is what says what the secret is.
    name_override: Option<String>,
}

struct Walker<'s> {
    /// The piece being parsed, which starts at `base` in `file`.
    src: &'s str,
    file: &'s str,
    base: usize,
    frames: Vec<Frame>,
    values: Vec<Value>,
    next_group: u32,
}

impl<'s> Walker<'s> {
    fn text(&self, range: Range<usize>) -> Result<&'s str, ParseFailure> {
        let start = range.start;
        self.src
            .get(range)
            .ok_or_else(|| ParseFailure::new(Some(start), "HCL node span outside the source"))
    }

    fn node_text(&self, node: Node) -> Result<&'s str, ParseFailure> {
        self.text(node.byte_range())
    }

    fn new_group(&mut self) -> u32 {
        let g = self.next_group;
        self.next_group = self.next_group.wrapping_add(1);
        g
    }

    /// Adds a frame derived from `parent`, failing past [`MAX_DEPTH`].
    fn push_frame(
        &mut self,
        parent: usize,
        segments: Vec<String>,
        group: Option<u32>,
        nests: bool,
        at: usize,
    ) -> Result<usize, ParseFailure> {
        let (mut context, parent_group, parent_depth, parent_override) =
            match self.frames.get(parent) {
                Some(f) => (f.context.clone(), f.group, f.depth, f.name_override.clone()),
                None => (Vec::new(), 0, 0, None),
            };
        let depth = parent_depth + usize::from(nests);
        if depth > MAX_DEPTH {
            return Err(ParseFailure::new(
                Some(at),
                format!(
                    "HCL nesting deeper than {MAX_DEPTH} at line {}",
                    line_of(self.file, self.base + at)
                ),
            ));
        }
        // An override survives only index segments: `default = ["..."]` is
        // still the variable's value, `default = { k = "..." }` is `k`.
        let name_override = if segments.iter().all(|s| s.starts_with('[')) {
            parent_override
        } else {
            None
        };
        context.extend(segments);
        self.frames.push(Frame {
            context,
            group: group.unwrap_or(parent_group),
            depth,
            name_override,
        });
        Ok(self.frames.len() - 1)
    }

    fn walk(&mut self, root: Node<'s>) -> Result<(), ParseFailure> {
        self.frames.push(Frame {
            context: Vec::new(),
            group: 0,
            depth: 0,
            name_override: None,
        });
        // Explicit stack: expression trees (parentheses, operators) can nest
        // as deep as the input, which recursion would not survive.
        let mut stack: Vec<(Node<'s>, usize)> = vec![(root, 0)];
        while let Some((node, frame)) = stack.pop() {
            if crate::budget::expired() {
                return Err(ParseFailure::out_of_budget());
            }
            match node.kind() {
                "comment" => self.emit_comment(node, frame)?,
                "block" => self.block(node, frame, &mut stack)?,
                "attribute" => self.attribute(node, frame, &mut stack)?,
                "object" => self.object(node, frame, &mut stack)?,
                "tuple" => self.tuple(node, frame, &mut stack)?,
                "string_lit" | "quoted_template" => self.emit_quoted(node, frame)?,
                "heredoc_template" => self.emit_heredoc(node, frame)?,
                "function_call" => {
                    let inner =
                        self.push_frame(frame, Vec::new(), None, true, node.start_byte())?;
                    push_children(node, inner, &mut stack);
                }
                // Leaves that cannot hold a string, and interpolation
                // internals reached only through templates (which are emitted
                // whole, so their parts are not visited).
                "identifier" | "numeric_lit" | "bool_lit" | "null_lit" | "variable_expr" => {}
                _ => push_children(node, frame, &mut stack),
            }
        }
        Ok(())
    }

    fn block(
        &mut self,
        node: Node<'s>,
        frame: usize,
        stack: &mut Vec<(Node<'s>, usize)>,
    ) -> Result<(), ParseFailure> {
        let mut segments = Vec::new();
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "identifier" => segments.push(self.node_text(child)?.to_string()),
                "string_lit" => segments.push(self.quoted_parts(child)?.1),
                _ => {}
            }
        }
        let top_level = self.frames.get(frame).is_some_and(|f| f.context.is_empty());
        let variable = match segments.as_slice() {
            [kind, name] if top_level && kind == "variable" => Some(name.clone()),
            _ => None,
        };
        let group = self.new_group();
        let inner = self.push_frame(frame, segments, Some(group), true, node.start_byte())?;
        let mut cursor = node.walk();
        for child in node
            .named_children(&mut cursor)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            match child.kind() {
                "body" if variable.is_some() => {
                    // The `default` attribute is recognised by the frame it
                    // gets, so walk the body's attributes here.
                    let mut bc = child.walk();
                    for item in child
                        .named_children(&mut bc)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                    {
                        if item.kind() == "attribute" {
                            let name = self.attribute_name(item)?;
                            let attr = self.push_frame(
                                inner,
                                vec![name.clone()],
                                None,
                                false,
                                item.start_byte(),
                            )?;
                            if name == "default"
                                && let Some(f) = self.frames.get_mut(attr)
                            {
                                f.name_override = variable.clone();
                            }
                            push_value_children(item, attr, stack);
                        } else {
                            stack.push((item, inner));
                        }
                    }
                }
                "body" | "comment" => stack.push((child, inner)),
                _ => {}
            }
        }
        Ok(())
    }

    fn attribute_name(&self, node: Node<'s>) -> Result<String, ParseFailure> {
        match node.named_child(0) {
            Some(id) if id.kind() == "identifier" => Ok(self.node_text(id)?.to_string()),
            _ => Err(ParseFailure::new(
                Some(node.start_byte()),
                "HCL attribute without a name",
            )),
        }
    }

    fn attribute(
        &mut self,
        node: Node<'s>,
        frame: usize,
        stack: &mut Vec<(Node<'s>, usize)>,
    ) -> Result<(), ParseFailure> {
        let name = self.attribute_name(node)?;
        let attr = self.push_frame(frame, vec![name], None, false, node.start_byte())?;
        push_value_children(node, attr, stack);
        Ok(())
    }

    fn object(
        &mut self,
        node: Node<'s>,
        frame: usize,
        stack: &mut Vec<(Node<'s>, usize)>,
    ) -> Result<(), ParseFailure> {
        let group = self.new_group();
        let obj = self.push_frame(frame, Vec::new(), Some(group), true, node.start_byte())?;
        let mut cursor = node.walk();
        let children: Vec<Node<'s>> = node.named_children(&mut cursor).collect();
        for child in children.into_iter().rev() {
            match child.kind() {
                "object_elem" => {
                    let key = match child.child_by_field_name("key") {
                        Some(k) => self.object_key(k)?,
                        None => String::new(),
                    };
                    let elem = self.push_frame(obj, vec![key], None, false, child.start_byte())?;
                    // Comments between key and value belong to the object.
                    let mut ec = child.walk();
                    for part in child
                        .named_children(&mut ec)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                    {
                        if part.kind() == "comment" {
                            stack.push((part, obj));
                        }
                    }
                    if let Some(val) = child.child_by_field_name("val") {
                        stack.push((val, elem));
                    }
                }
                _ => stack.push((child, obj)),
            }
        }
        Ok(())
    }

    /// The segment for an object key: a bare identifier or the unquoted
    /// string; anything else (`(var.k)`, templates) as written.
    fn object_key(&self, key: Node<'s>) -> Result<String, ParseFailure> {
        let mut node = key;
        // `expression > literal_value > string_lit` and
        // `expression > variable_expr > identifier` wrap the interesting node
        // in single-child layers.
        loop {
            match node.kind() {
                "string_lit" | "quoted_template" => return Ok(self.quoted_parts(node)?.1),
                "identifier" => return Ok(self.node_text(node)?.to_string()),
                "expression" | "literal_value" | "template_expr" | "variable_expr"
                    if node.named_child_count() == 1 =>
                {
                    match node.named_child(0) {
                        Some(c) => node = c,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        Ok(self.node_text(key)?.to_string())
    }

    fn tuple(
        &mut self,
        node: Node<'s>,
        frame: usize,
        stack: &mut Vec<(Node<'s>, usize)>,
    ) -> Result<(), ParseFailure> {
        // Elements of one list are siblings of each other, not of the
        // attribute holding the list.
        let group = self.new_group();
        let tup = self.push_frame(frame, Vec::new(), Some(group), true, node.start_byte())?;
        let mut cursor = node.walk();
        let mut pending = Vec::new();
        let mut index = 0usize;
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "comment" => pending.push((child, tup)),
                "tuple_start" | "tuple_end" => {}
                _ => {
                    let elem = self.push_frame(
                        tup,
                        vec![format!("[{index}]")],
                        None,
                        false,
                        child.start_byte(),
                    )?;
                    pending.push((child, elem));
                    index += 1;
                }
            }
        }
        stack.extend(pending.into_iter().rev());
        Ok(())
    }

    fn make_value(&self, frame: usize, text: String, span: Range<usize>, kind: ValueKind) -> Value {
        let (context, group, name_override) = match self.frames.get(frame) {
            Some(f) => (f.context.clone(), f.group, f.name_override.clone()),
            None => (Vec::new(), 0, None),
        };
        let name = match kind {
            ValueKind::Comment => String::new(),
            _ => name_override.unwrap_or_else(|| {
                context
                    .iter()
                    .rev()
                    .find(|s| !s.starts_with('['))
                    .cloned()
                    .unwrap_or_default()
            }),
        };
        let verbatim = self.src.get(span.clone()) == Some(text.as_str());
        Value {
            text,
            span,
            context,
            name,
            group,
            verbatim,
            encoding: Encoding::Plain,
            kind,
        }
    }

    fn emit_comment(&mut self, node: Node<'s>, frame: usize) -> Result<(), ParseFailure> {
        let mut span = node.byte_range();
        // Line comments end before `\n` but swallow the `\r` of a CRLF line.
        if self.text(span.clone())?.ends_with('\r') {
            span.end -= 1;
        }
        let text = self.text(span.clone())?.to_string();
        let v = self.make_value(frame, text, span, ValueKind::Comment);
        self.values.push(v);
        Ok(())
    }

    fn emit_quoted(&mut self, node: Node<'s>, frame: usize) -> Result<(), ParseFailure> {
        let (span, text) = self.quoted_parts(node)?;
        let v = self.make_value(frame, text, span, ValueKind::Scalar);
        self.values.push(v);
        Ok(())
    }

    /// Content span (inside the quotes) and decoded text of a quoted string.
    /// Escapes are resolved in literal pieces only; `${...}` and `%{...}` are
    /// kept as written so the detector can recognise references.
    fn quoted_parts(&self, node: Node<'s>) -> Result<(Range<usize>, String), ParseFailure> {
        let mut start = node.start_byte();
        let mut end = node.end_byte();
        let mut cursor = node.walk();
        let children: Vec<Node<'s>> = node.children(&mut cursor).collect();
        for child in &children {
            match child.kind() {
                "quoted_template_start" => start = child.end_byte(),
                "quoted_template_end" => end = child.start_byte(),
                _ => {}
            }
        }
        if end < start {
            end = start;
        }
        let mut text = String::new();
        let mut pos = start;
        for child in &children {
            let r = child.byte_range();
            if r.start < start || r.end > end {
                continue;
            }
            text.push_str(self.text(pos..r.start)?);
            let piece = self.text(r.clone())?;
            if child.kind() == "template_literal" {
                unescape_into(piece, &mut text);
            } else {
                text.push_str(piece);
            }
            pos = r.end;
        }
        text.push_str(self.text(pos..end)?);
        Ok((start..end, text))
    }

    fn emit_heredoc(&mut self, node: Node<'s>, frame: usize) -> Result<(), ParseFailure> {
        let mut cursor = node.walk();
        let idents: Vec<Node<'s>> = node
            .children(&mut cursor)
            .filter(|c| c.kind() == "heredoc_identifier")
            .collect();
        let (Some(open), Some(close)) = (idents.first(), idents.last()) else {
            return Err(ParseFailure::new(
                Some(node.start_byte()),
                "HCL heredoc without markers",
            ));
        };
        let open_end = open.end_byte();
        let close_start = close.start_byte();
        let after_open = self.text(open_end..node.end_byte())?;
        let body_start = match after_open.find('\n') {
            Some(i) => open_end + i + 1,
            None => close_start,
        };
        let before_close = self.text(node.start_byte()..close_start)?;
        let close_line = before_close
            .rfind('\n')
            .map_or(close_start, |i| node.start_byte() + i + 1);
        let mut body_end = close_line.max(body_start);
        // The line break before the closing marker ends the last body line;
        // leaving it out keeps the span on the lines that hold the text.
        let body = self.text(body_start..body_end)?;
        if body.ends_with("\r\n") {
            body_end -= 2;
        } else if body.ends_with('\n') {
            body_end -= 1;
        }
        let span = body_start..body_end;
        let text = self.text(span.clone())?.to_string();
        let v = self.make_value(frame, text, span, ValueKind::Scalar);
        self.values.push(v);
        Ok(())
    }
}

/// Pushes the children of a node (in reverse, so they pop in file order).
fn push_children<'s>(node: Node<'s>, frame: usize, stack: &mut Vec<(Node<'s>, usize)>) {
    let mut cursor = node.walk();
    let children: Vec<Node<'s>> = node.named_children(&mut cursor).collect();
    stack.extend(children.into_iter().rev().map(|c| (c, frame)));
}

/// Pushes an attribute's value (everything after the name identifier).
fn push_value_children<'s>(node: Node<'s>, frame: usize, stack: &mut Vec<(Node<'s>, usize)>) {
    let mut cursor = node.walk();
    let children: Vec<Node<'s>> = node.named_children(&mut cursor).skip(1).collect();
    stack.extend(children.into_iter().rev().map(|c| (c, frame)));
}

/// Resolves HCL string escapes. Sequences that are not valid escapes (the
/// grammar rejects most) are kept as written rather than guessed at.
fn unescape_into(raw: &str, out: &mut String) {
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let Some(&(_, next)) = chars.peek() else {
                    out.push('\\');
                    continue;
                };
                let simple = match next {
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    _ => None,
                };
                if let Some(ch) = simple {
                    out.push(ch);
                    chars.next();
                    continue;
                }
                let width = match next {
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                let decoded = raw
                    .get(i + 2..i + 2 + width)
                    .filter(|h| width > 0 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32);
                match decoded {
                    Some(ch) => {
                        out.push(ch);
                        // The escape letter and its hex digits are ASCII.
                        for _ in 0..=width {
                            chars.next();
                        }
                    }
                    None => out.push('\\'),
                }
            }
            // `$${` and `%%{` are the escapes for a literal `${` / `%{`.
            '$' | '%' if raw.get(i + 1..i + 3) == Some(if c == '$' { "${" } else { "%{" }) => {
                out.push(c);
                chars.next();
            }
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::join_context;
    use crate::parse::test_support::{find, parsed};

    // Synthetic keys from `scripts/genkey.py --count 2 --secret --seed 11`.
    const KID1: &str = "AKIARZPUZDIKO54ML6LG";
    const SEC1: &str = "5MslfY5ubiheyEd7P4zDL+ak6J0kGODKdinZnLXi";
    const KID2: &str = "AKIARZPUZDIKAANND6YZ";
    const SEC2: &str = "1jzIRlNQb0prFmbh7/wy5yq1XoY1BaIMcAxYmfsB";

    /// A module of a few kilobytes is parsed by the blocks that may hold a
    /// key: the key's values are those of one parse of the whole file.
    #[test]
    fn a_small_module_is_parsed_by_the_blocks_worth_it() {
        let mut src = String::new();
        for i in 0..40 {
            src.push_str(&format!(
                "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"logs-{i}\"\n  tags = {{ team = \"t{i}\" }}\n}}\n\n"
            ));
            if i == 20 {
                src.push_str(&format!(
                    "provider \"aws\" {{\n  access_key = \"{KID1}\"\n  secret_key = \"{SEC1}\"\n}}\n\n"
                ));
            }
        }
        assert!(src.len() > PIECEWISE_FROM, "{}", src.len());
        let worth = |t: &str| crate::prefilter::may_contain_credentials(t.as_bytes());
        let piecewise = parse_pieces_worth(&src, &worth, None)
            .expect("pieces")
            .values;
        let whole = parse_whole(&src).expect("whole");
        assert!(
            piecewise.len() * 4 < whole.len(),
            "{} of {}",
            piecewise.len(),
            whole.len()
        );
        let shape = |v: &Value| {
            (
                v.text.clone(),
                v.span.clone(),
                v.context.clone(),
                v.name.clone(),
            )
        };
        for text in [KID1, SEC1] {
            let one = |values: &[Value]| values.iter().find(|v| v.text == text).map(shape);
            assert_eq!(one(&piecewise), one(&whole), "{text}");
            assert!(one(&piecewise).is_some(), "{text}");
        }
        let group =
            |values: &[Value], text: &str| values.iter().find(|v| v.text == text).map(|v| v.group);
        assert_eq!(group(&piecewise, KID1), group(&piecewise, SEC1));
    }

    fn ok(src: &str) -> Parsed {
        parsed(parse(src))
    }

    /// Checks text, that the span covers exactly what the file says, the
    /// joined context and the name.
    fn check(src: &str, v: &Value, at_span: &str, ctx: &str, name: &str) {
        assert_eq!(&src[v.span.clone()], at_span, "span of {:?}", v.text);
        assert_eq!(join_context(&v.context), ctx, "context of {:?}", v.text);
        assert_eq!(v.name, name, "name of {:?}", v.text);
        assert_eq!(v.encoding, Encoding::Plain);
    }

    /// The one value whose text is `text`, checked with [`check`] where the
    /// file holds the text as it is.
    fn found<'a>(src: &str, p: &'a Parsed, text: &str, ctx: &str, name: &str) -> &'a Value {
        let v = find(p, text);
        check(src, v, text, ctx, name);
        v
    }

    #[test]
    fn provider_block() {
        let src = format!(
            "provider \"aws\" {{\n  region     = \"us-east-1\"\n  access_key = \"{KID1}\"\n  secret_key = \"{SEC1}\"\n}}\n"
        );
        let p = ok(&src);
        assert_eq!(p.values.len(), 3);
        let kid = found(&src, &p, KID1, "provider.aws.access_key", "access_key");
        let sec = found(&src, &p, SEC1, "provider.aws.secret_key", "secret_key");
        assert_eq!(kid.context, ["provider", "aws", "access_key"]);
        assert!(kid.verbatim && sec.verbatim);
        assert_eq!(kid.kind, ValueKind::Scalar);
        assert_eq!(kid.group, sec.group);
        assert_ne!(kid.group, 0, "a block body is not the file's top level");
    }

    #[test]
    fn variable_default_is_named_after_the_variable() {
        let src = format!(
            "variable \"aws_secret_key\" {{\n  type    = string\n  default = \"{SEC1}\"\n  description = \"the key\"\n}}\nvariable \"ci_access_key_id\" {{ default = [\"{KID1}\"] }}\n"
        );
        let p = ok(&src);
        let sec = found(
            &src,
            &p,
            SEC1,
            "variable.aws_secret_key.default",
            "aws_secret_key",
        );
        let desc = found(
            &src,
            &p,
            "the key",
            "variable.aws_secret_key.description",
            "description",
        );
        assert_eq!(desc.group, sec.group);
        let kid = found(
            &src,
            &p,
            KID1,
            "variable.ci_access_key_id.default[0]",
            "ci_access_key_id",
        );
        assert_ne!(kid.group, sec.group);
    }

    #[test]
    fn locals_nested_maps() {
        let src = format!(
            "locals {{\n  legacy = {{\n    billing = {{\n      key_id = \"{KID1}\"\n      secret = \"{SEC1}\"\n    }}\n    owner = \"ops\"\n  }}\n  plain = \"x\"\n}}\n"
        );
        let p = ok(&src);
        let kid = found(&src, &p, KID1, "locals.legacy.billing.key_id", "key_id");
        let sec = found(&src, &p, SEC1, "locals.legacy.billing.secret", "secret");
        let owner = found(&src, &p, "ops", "locals.legacy.owner", "owner");
        let plain = found(&src, &p, "x", "locals.plain", "plain");
        assert_eq!(kid.group, sec.group);
        assert_ne!(kid.group, owner.group);
        assert_ne!(owner.group, plain.group);
        assert_ne!(kid.group, plain.group);
    }

    #[test]
    fn module_inputs_and_nested_blocks() {
        let src = format!(
            "module \"x\" {{\n  source = \"./m\"\n  aws_access_key = \"{KID1}\"\n}}\n\
             resource \"aws_iam_access_key\" \"ci\" {{\n  user = \"ci\"\n}}\n\
             terraform {{\n  backend \"s3\" {{\n    access_key = \"{KID2}\"\n  }}\n  required_version = \">= 1.5\"\n}}\n"
        );
        let p = ok(&src);
        let kid = found(&src, &p, KID1, "module.x.aws_access_key", "aws_access_key");
        assert_eq!(kid.group, find(&p, "./m").group);
        found(
            &src,
            &p,
            "ci",
            "resource.aws_iam_access_key.ci.user",
            "user",
        );
        let backend = found(
            &src,
            &p,
            KID2,
            "terraform.backend.s3.access_key",
            "access_key",
        );
        let version = found(
            &src,
            &p,
            ">= 1.5",
            "terraform.required_version",
            "required_version",
        );
        assert_ne!(backend.group, version.group);
        assert_ne!(backend.group, kid.group);
    }

    #[test]
    fn terragrunt_inputs() {
        let src = format!(
            "include \"root\" {{\n  path = find_in_parent_folders()\n}}\n\
             inputs = {{\n  aws_access_key = \"{KID1}\"\n  aws_secret_key = \"{SEC1}\"\n}}\n"
        );
        let p = ok(&src);
        assert_eq!(p.values.len(), 2);
        let kid = found(&src, &p, KID1, "inputs.aws_access_key", "aws_access_key");
        let sec = found(&src, &p, SEC1, "inputs.aws_secret_key", "aws_secret_key");
        assert_eq!(kid.group, sec.group);
        assert_ne!(kid.group, 0, "the inputs object is its own group");
    }

    #[test]
    fn tfvars_top_level() {
        let src = format!("db_key = \"{KID1}\"\ndb_secret = \"{SEC1}\"\nport = 5432\n");
        let p = ok(&src);
        assert_eq!(p.values.len(), 2, "numbers are not emitted");
        let kid = found(&src, &p, KID1, "db_key", "db_key");
        let sec = found(&src, &p, SEC1, "db_secret", "db_secret");
        assert_eq!(kid.group, 0);
        assert_eq!(sec.group, 0);
    }

    #[test]
    fn tuples_and_function_arguments() {
        let src = format!(
            "locals {{\n  keys = [\"{KID1}\", \"{SEC1}\", [\"inner\"]]\n  x = base64decode(\"{SEC2}\")\n}}\n"
        );
        let p = ok(&src);
        let kid = found(&src, &p, KID1, "locals.keys[0]", "keys");
        let sec = found(&src, &p, SEC1, "locals.keys[1]", "keys");
        assert_eq!(kid.context, ["locals", "keys", "[0]"]);
        let inner = found(&src, &p, "inner", "locals.keys[2][0]", "keys");
        assert_eq!(kid.group, sec.group);
        assert_ne!(kid.group, inner.group);
        let arg = found(&src, &p, SEC2, "locals.x", "x");
        assert_ne!(arg.group, kid.group);
    }

    #[test]
    fn quoted_and_colon_object_keys() {
        let src = format!(
            "env = {{\n  \"AWS_ACCESS_KEY_ID\" = \"{KID1}\"\n  AWS_SECRET_ACCESS_KEY: \"{SEC1}\"\n  \"a\\\"b\" = \"q\"\n}}\n"
        );
        let p = ok(&src);
        let kid = found(&src, &p, KID1, "env.AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
        let sec = found(
            &src,
            &p,
            SEC1,
            "env.AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY",
        );
        found(&src, &p, "q", "env.a\"b", "a\"b");
        assert_eq!(kid.group, sec.group);
        assert_eq!(p.values.len(), 3, "object keys are not values");
    }

    #[test]
    fn escapes_are_resolved() {
        let src = "a = \"a\\\"b\"\nb = \"t\\tn\\n\\\\ \\u00e9\\U0001F600\"\nc = \"$${x} %%{y}\"\nd = \"\"\n";
        let p = ok(src);
        let a = find(&p, "a\"b");
        check(src, a, "a\\\"b", "a", "a");
        assert!(!a.verbatim);
        let b = find(&p, "t\tn\n\\ \u{e9}\u{1F600}");
        check(src, b, "t\\tn\\n\\\\ \\u00e9\\U0001F600", "b", "b");
        assert!(!b.verbatim);
        let c = find(&p, "${x} %{y}");
        assert!(!c.verbatim);
        let d = found(src, &p, "", "d", "d");
        assert!(d.verbatim);
        assert_eq!(d.span.start, src.find("\"\"").map(|i| i + 1).unwrap_or(0));
    }

    #[test]
    fn interpolated_template_kept_whole() {
        let src = "resource \"x\" \"y\" {\n  id = \"AKIA${var.suffix}-%{ if true }t%{ endif }\"\n  z = \"${lookup(m, \"k\\\"\")}\"\n}\n";
        let p = ok(src);
        let id = found(
            src,
            &p,
            "AKIA${var.suffix}-%{ if true }t%{ endif }",
            "resource.x.y.id",
            "id",
        );
        assert!(id.verbatim);
        // Escapes inside an interpolation belong to the nested string, not
        // the template text; the nested string is not emitted separately.
        let z = find(&p, "${lookup(m, \"k\\\"\")}");
        assert!(z.verbatim);
        assert_eq!(p.values.len(), 2);
    }

    #[test]
    fn heredocs() {
        let src = format!(
            "locals {{\n  creds = <<EOF\n[default]\naws_access_key_id = {KID1}\naws_secret_access_key = {SEC1}\nEOF\n  indented = <<-EOT\n    [ci]\n    aws_access_key_id = {KID2}\n    EOT\n  empty = <<E\nE\n}}\n"
        );
        let p = ok(&src);
        let body1 =
            format!("[default]\naws_access_key_id = {KID1}\naws_secret_access_key = {SEC1}");
        let h1 = found(&src, &p, &body1, "locals.creds", "creds");
        assert!(h1.verbatim);
        let body2 = format!("    [ci]\n    aws_access_key_id = {KID2}");
        let h2 = found(&src, &p, &body2, "locals.indented", "indented");
        assert!(h2.verbatim);
        assert_eq!(h1.group, h2.group);
        found(&src, &p, "", "locals.empty", "empty");
        assert_eq!(p.values.len(), 3);
    }

    #[test]
    fn comments() {
        let src = format!(
            "# top {KID1}\nprovider \"aws\" {{\n  // old {SEC1}\n  region = \"eu-west-1\" /* inline\n {KID2} */\n}}\nx = {{\n  # in object\n  a = \"b\"\n}}\n"
        );
        let p = ok(&src);
        let top = found(&src, &p, &format!("# top {KID1}"), "", "");
        assert_eq!(top.kind, ValueKind::Comment);
        assert_eq!(top.group, 0);
        assert!(top.verbatim);
        let old = found(&src, &p, &format!("// old {SEC1}"), "provider.aws", "");
        assert_eq!(old.kind, ValueKind::Comment);
        let block = find(&p, &format!("/* inline\n {KID2} */"));
        assert_eq!(block.kind, ValueKind::Comment);
        assert_eq!(block.group, old.group);
        assert_eq!(block.group, find(&p, "eu-west-1").group);
        let obj = found(&src, &p, "# in object", "x", "");
        assert_eq!(obj.group, find(&p, "b").group);
        // File order.
        let starts: Vec<usize> = p.values.iter().map(|v| v.span.start).collect();
        let mut sorted = starts.clone();
        sorted.sort_unstable();
        assert_eq!(starts, sorted);
    }

    #[test]
    fn syntax_error_reports_offset() {
        let src = "a = \"ok\"\nprovider \"aws\" {\n  access_key = \n}\nb = [1, 2\n";
        let err = match parse(src) {
            Ok(p) => panic!("expected an error, got {p:?}"),
            Err(e) => e,
        };
        // The attribute's value is missing; the first point the grammar
        // notices is the closing brace on line 4.
        let brace = src.find("\n}").map(|i| i + 1);
        assert_eq!(err.offset, brace);
        assert_eq!(err.message, "HCL syntax error at line 4");
        // Bad escapes are a syntax error too.
        assert!(parse("a = \"\\q\"\n").is_err());
        assert!(parse("a = \"unterminated\n").is_err());
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let n = 5_000;
        let src = format!("a = {}1{}", "{ b = ".repeat(n), "}".repeat(n));
        assert!(parse(&src).is_err());
        let over = MAX_DEPTH + 10;
        let src = format!("a = {}1{}", "{ b = ".repeat(over), "}".repeat(over));
        match parse(&src) {
            Ok(_) => panic!("nesting past MAX_DEPTH must be refused"),
            Err(e) => assert!(e.message.contains("nesting deeper than"), "{}", e.message),
        }
        let src = format!("a = {}\"x\"{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&src).is_err());
        let src = format!("a = {}1{}", "(".repeat(n), ")".repeat(n));
        let p = ok(&src);
        assert!(p.values.is_empty());
        let src = format!("a = \"{}\"", "${\"".repeat(n));
        let _ = parse(&src);
        let src = "b {\n".repeat(n);
        assert!(parse(&src).is_err());
        // Within the limit nesting works.
        let depth = 50;
        let src = format!(
            "a = {}\"{KID1}\"{}",
            "{ b = ".repeat(depth),
            "}".repeat(depth)
        );
        let p = ok(&src);
        assert_eq!(find(&p, KID1).context.len(), depth + 1);
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert!(ok("").values.is_empty());
        assert!(ok("\n\n  \n").values.is_empty());
        let p = ok("# only\n");
        assert_eq!(p.values.len(), 1);
        assert_eq!(p.values[0].span, 0..6);
    }

    #[test]
    fn crlf_line_endings() {
        let src = format!(
            "# note\r\nprovider \"aws\" {{\r\n  access_key = \"{KID1}\"\r\n  secret_key = \"{SEC1}\"\r\n}}\r\nh = <<EOF\r\n[default]\r\naws_access_key_id = {KID2}\r\nEOF\r\n"
        );
        let p = ok(&src);
        found(&src, &p, "# note", "", "");
        found(&src, &p, KID1, "provider.aws.access_key", "access_key");
        let body = format!("[default]\r\naws_access_key_id = {KID2}");
        let h = found(&src, &p, &body, "h", "h");
        assert!(h.verbatim);
    }

    #[test]
    fn parser_is_reused_across_calls() {
        // A failed parse must not leave state that breaks the next one.
        assert!(parse("a = {").is_err());
        let p = ok("a = \"b\"\n");
        assert_eq!(p.values.len(), 1);
        assert_eq!(p.values[0].text, "b");
    }

    #[test]
    fn unescape_edge_cases() {
        let mut s = String::new();
        unescape_into("x\\", &mut s);
        assert_eq!(s, "x\\");
        s.clear();
        unescape_into("\\u12", &mut s);
        assert_eq!(s, "\\u12");
        s.clear();
        unescape_into("\\uD800é", &mut s);
        assert_eq!(s, "\\uD800é");
        s.clear();
        unescape_into("$$x%%", &mut s);
        assert_eq!(s, "$$x%%");
    }
}
