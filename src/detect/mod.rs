//! Detection: turns parsed [`Value`]s into credential [`Candidate`]s with
//! exact file spans, then pairs each secret (and session token) with the key
//! ID it belongs to.

use std::ops::Range;

use base64::Engine as _;

use crate::parse::text;
use crate::parse::{Encoding, Value, ValueKind, join_context};

pub mod documented;
pub mod env;
pub mod key_id;
pub mod pair;
pub mod placeholder;
pub mod secret;
mod sweep;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateKind {
    AccessKeyId,
    SecretAccessKey,
    SessionToken,
}

impl CandidateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateKind::AccessKeyId => "access-key-id",
            CandidateKind::SecretAccessKey => "secret-access-key",
            CandidateKind::SessionToken => "session-token",
        }
    }
}

/// One credential-shaped thing found in a file.
#[derive(Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: CandidateKind,
    /// Byte range in the file (the encoded text for base64-decoded finds).
    pub span: Range<usize>,
    /// The key ID, secret or token as found. Secrets and tokens are held in
    /// memory only to pair and fingerprint them; output uses [`mask`].
    pub value: String,
    /// Dotted structural context (`provider.aws.access_key`).
    pub context: String,
    /// The name the value is written under (last key, env var, `name:`).
    pub name: String,
    pub encoding: Encoding,
    pub malformed: bool,
    pub placeholder: bool,
    /// For a secret or token: index of its key ID in the file's list. For a
    /// key ID: index of its paired secret.
    pub pair: Option<usize>,
    /// For a key ID: index of a session token paired with it.
    pub token: Option<usize>,
    pub(crate) group: u64,
    /// An unnamed 40-character token that is only a secret if a key ID
    /// shares its block.
    pub(crate) needs_pair: bool,
}

impl std::fmt::Debug for Candidate {
    // Debug output must not leak a secret either.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = match self.kind {
            CandidateKind::AccessKeyId => self.value.clone(),
            _ => mask(&self.value),
        };
        f.debug_struct("Candidate")
            .field("kind", &self.kind)
            .field("span", &self.span)
            .field("value", &shown)
            .field("context", &self.context)
            .field("name", &self.name)
            .field("encoding", &self.encoding)
            .field("malformed", &self.malformed)
            .field("placeholder", &self.placeholder)
            .field("pair", &self.pair)
            .finish()
    }
}

/// First four and last four characters, the rest elided: `wJal…EKEY`.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// Same length as `secret`, middle replaced by `*`, so a masked copy of a
/// source line keeps every column where it was.
pub fn mask_in_place(secret: &str) -> String {
    let n = secret.chars().count();
    secret
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 4 || i + 4 >= n { c } else { '*' })
        .collect()
}

/// `text` with every run a secret access key could hide in masked (40 or
/// more secret characters, not hex, not a key ID), borrowed when there was
/// nothing to mask: the last step of every string keyward writes (reports,
/// messages, errors), whatever produced it. Unlike [`mask_suspects`] it
/// does not read names: keyward's own messages say "secret" and then name
/// places (`Resources.ExportTask…`), which are not values.
pub fn redacted(text: &str) -> std::borrow::Cow<'_, str> {
    let mut bytes = text.as_bytes().to_vec();
    mask_runs(&mut bytes, false);
    // Only ASCII bytes are replaced, by ASCII: still UTF-8.
    let masked = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    if masked == text {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(masked)
    }
}

/// `text` with every suspect token masked ([`mask_suspects`]): for error
/// messages that quote a file keyward could not read. Same length.
pub fn masked_for_errors(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    mask_suspects(&mut bytes);
    // Only ASCII bytes are replaced, by ASCII: still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Masks, in place, every token a secret could hide in, found or not: a
/// run of 40 or more secret characters (`x` + secret, secret + `=`, one
/// too many characters), and, after a secret-ish name on its line
/// (`secret`, `token`, `password`, `passwd`, `credential`, `apikey`), any
/// value of 8 or more characters that holds a digit, `/` or `+`, or is 16
/// or more hex digits: what a password or an API token looks like, AWS's
/// or not. Shown text must not depend on
/// detection having understood the line. Hex runs (digests) and key IDs
/// stay readable elsewhere. Lengths are kept, so spans stay valid.
pub fn mask_suspects(bytes: &mut [u8]) {
    mask_runs(bytes, true);
}

/// [`mask_suspects`]; `named`: also the values after a secret-ish name.
fn mask_runs(bytes: &mut [u8], named: bool) {
    let is_secret_char = secret::is_secret_char;
    let mut named_from = usize::MAX;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' || b == b'\r' {
            named_from = usize::MAX;
            i += 1;
            continue;
        }
        if !is_secret_char(b) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_secret_char(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        let hex = run.iter().all(u8::is_ascii_hexdigit);
        let key_id =
            run.len() == 20 && key_id::find(std::str::from_utf8(run).unwrap_or("")).count() == 1;
        // A run that reads as a path is not a secret:
        // `templates/DataFirehose/DataFirehoseDelivery…` is a file of the
        // repository. Two or more `/`, at most one digit, and words, whose
        // case changes far less often than a random string's: together
        // about four random secrets in 100,000 (unit-tested).
        let path_like = run.iter().filter(|&&b| b == b'/').count() >= 2
            && run.iter().filter(|b| b.is_ascii_digit()).count() <= 1
            && case_switches(run) * 3 < run.iter().filter(|b| b.is_ascii_alphabetic()).count();
        let long = run.len() >= secret::SECRET_LEN && !path_like;
        // A run of a few characters repeated (`xxxx…`, `====`) hides
        // nothing, nor does AWS's documentation value (`…EXAMPLEKEY`),
        // which docs and rule examples quote.
        let filler =
            placeholder::few_distinct(run, 8) || memchr::memmem::find(run, b"EXAMPLE").is_some();
        let valued = named
            && start >= named_from
            && run.len() >= 8
            && !key_id
            // `xxxxxxxx`, `12121212`: a filler, not a password.
            && !placeholder::few_distinct(run, 2)
            && (run
                .iter()
                .any(|&b| b.is_ascii_digit() || b == b'/' || b == b'+')
                || (hex && run.len() >= 16));
        let n = run.len();
        if valued && n < 24 {
            // Short enough that its ends would give much of it away.
            for b in &mut bytes[start..i] {
                *b = b'*';
            }
        } else if valued || (!hex && !key_id && !filler && long) {
            for b in &mut bytes[start + 4..start + n - 4] {
                *b = b'*';
            }
        }
        if named_from == usize::MAX && is_secret_word(&bytes[start..i]) {
            named_from = i;
        }
    }
}

/// How often the case changes between adjacent letters: about every other
/// letter in a random string, at word starts in names.
fn case_switches(run: &[u8]) -> usize {
    run.windows(2)
        .filter(|w| {
            w[0].is_ascii_alphabetic()
                && w[1].is_ascii_alphabetic()
                && w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase()
        })
        .count()
}

/// A word that says the value after it is a secret: `secret`, `token`,
/// `password`, `passwd`, `credential` or `apikey` inside it, any case.
fn is_secret_word(run: &[u8]) -> bool {
    let lower: Vec<u8> = run.iter().map(u8::to_ascii_lowercase).collect();
    [
        &b"secret"[..],
        b"token",
        b"password",
        b"passwd",
        b"credential",
        b"apikey",
    ]
    .iter()
    .any(|w| memchr::memmem::find(&lower, w).is_some())
}

/// Base64 of the credential prefixes at each of the three byte alignments.
pub const BASE64_MARKERS: [&str; 12] = [
    "QUtJQ", "FLSU", "BS0lB", "QVNJQ", "FTSU", "BU0lB", "QUJJQ", "FCSU", "BQklB", "QUNDQ", "FDQ0",
    "BQ0NB",
];

/// Base64 of base64 of the prefixes (the markers above, encoded again at
/// each alignment): a Kubernetes Secret whose value was encoded twice.
pub const DOUBLE_BASE64_MARKERS: [&str; 36] = [
    "CUTBOQ", "CUWtsQ", "CUzBsQ", "CVTBsQ", "FVSkpR", "FVTkRR", "FVdEpR", "FWTkpR", "GQ1NV",
    "GRFEw", "GTFNV", "GVFNV", "JRME5C", "JRa2xC", "JTMGxC", "JVMGxC", "QlEwTk", "QlFrbE",
    "QlMwbE", "QlUwbE", "RVU5EU", "RVUpKU", "RVXRKU", "RVk5KU", "RkNTV", "RkRRM", "RkxTV", "RlRTV",
    "UVV0Sl", "UVVKSl", "UVVORF", "UVZOSl", "ZDU1", "ZEUT", "ZMU1", "ZUU1",
];

/// One search for all 48 markers: run per value, 48 substring searches
/// each were a sixth of a scan of real repositories.
fn has_base64_marker(text: &str) -> bool {
    static MARKERS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::new(BASE64_MARKERS.iter().chain(&DOUBLE_BASE64_MARKERS)).ok()
        });
    match MARKERS.as_ref() {
        Some(ac) => ac.is_match(text),
        None => true,
    }
}

/// Bytes before an unnamed token searched for the word "secret".
const LOOKBACK: usize = 256;

/// How deep base64 inside base64 is followed.
const MAX_DECODE_DEPTH: usize = 2;

struct Scanner<'a> {
    src: &'a str,
    out: Vec<Candidate>,
}

/// Where a piece of a value lies in the file.
struct Placement<'v> {
    value: &'v Value,
    /// Search position for non-verbatim values, so repeated needles map to
    /// successive occurrences.
    cursor: usize,
}

impl Placement<'_> {
    fn span(&mut self, src: &str, rel: Range<usize>, needle: &str) -> Range<usize> {
        let v = self.value;
        if v.encoding == Encoding::Base64 {
            return v.span.clone();
        }
        if v.verbatim {
            return v.span.start + rel.start..v.span.start + rel.end;
        }
        let raw = src.get(v.span.clone()).unwrap_or("");
        let from = self.cursor.min(raw.len());
        let found = raw
            .get(from..)
            .and_then(|r| r.find(needle))
            .map(|i| i + from);
        match found {
            Some(i) => {
                self.cursor = i + needle.len();
                v.span.start + i..v.span.start + i + needle.len()
            }
            None => v.span.clone(),
        }
    }
}

/// One named piece of text to scan, and where it sits.
struct Piece<'t> {
    /// Range of `text` within the value's text.
    rel: Range<usize>,
    text: &'t str,
    name: &'t str,
    context: &'t str,
    group: u64,
    encoding: Encoding,
    /// How many base64 layers were decoded to reach this text.
    depth: usize,
}

/// Finds every candidate in one file's values and pairs them.
/// The shortest run a candidate can be: a key ID missing four characters.
const SHORTEST_CREDENTIAL: usize = 16;

/// Whether `bytes` hold `len` bytes in a row with no ASCII whitespace.
fn has_run(bytes: &[u8], len: usize) -> bool {
    let mut run = 0;
    for &b in bytes {
        if b.is_ascii_whitespace() {
            run = 0;
        } else {
            run += 1;
            if run >= len {
                return true;
            }
        }
    }
    false
}

pub fn detect(src: &str, values: &[Value]) -> Vec<Candidate> {
    let mut scanner = Scanner {
        src,
        out: Vec::new(),
    };
    for (index, value) in values.iter().enumerate() {
        if crate::budget::expired() {
            break;
        }
        scanner.value(index, value);
    }
    let mut out = scanner.out;
    out.sort_by_key(|c| (c.span.start, c.span.end, c.kind));
    out.dedup_by(|a, b| a.span == b.span && a.kind == b.kind);
    sweep::key_ids_anywhere(src, values, &mut out);
    pair::pair(src, &mut out);
    spread_placeholders(&mut out);
    out
}

/// A secret or session token written beside a documentation key ID is
/// documentation too, and a key ID beside a documentation secret likewise:
/// one placeholder makes its whole pair one.
fn spread_placeholders(cands: &mut [Candidate]) {
    for i in 0..cands.len() {
        if cands[i].kind != CandidateKind::AccessKeyId {
            continue;
        }
        let linked: Vec<usize> = [cands[i].pair, cands[i].token]
            .into_iter()
            .flatten()
            .filter(|&j| j < cands.len())
            .collect();
        let any = cands[i].placeholder || linked.iter().any(|&j| cands[j].placeholder);
        if any {
            cands[i].placeholder = true;
            for j in linked {
                cands[j].placeholder = true;
            }
        }
    }
    // Secrets and tokens point at their key too; cover one-way links.
    for i in 0..cands.len() {
        if let Some(k) = cands[i].pair.filter(|&k| k < cands.len())
            && cands[k].kind == CandidateKind::AccessKeyId
            && cands[k].placeholder
        {
            cands[i].placeholder = true;
        }
    }
}

impl Scanner<'_> {
    fn value(&mut self, index: usize, value: &Value) {
        let text = value.text.as_str();
        // Every credential, whole, typed wrong or encoded, is a run of at
        // least 16 characters without a space; most values of a large
        // manifest (descriptions, names, flags) have none.
        if !has_run(text.as_bytes(), SHORTEST_CREDENTIAL) {
            return;
        }
        let multiline = text.contains('\n');
        // Base64 padding at the end is not an assignment.
        let segmentable = value.kind != ValueKind::Text
            && (multiline
                || text.trim_end().trim_end_matches('=').contains('=')
                || text.contains(": "));
        let mut place = Placement { value, cursor: 0 };
        if !segmentable {
            let group = u64::from(value.group);
            let ctx = join_context(&value.context);
            self.piece(
                &mut place,
                &Piece {
                    rel: 0..text.len(),
                    text,
                    name: &value.name,
                    context: &ctx,
                    group,
                    encoding: value.encoding,
                    depth: 0,
                },
            );
            return;
        }
        for seg in text::segments(text) {
            let name = if seg.name.is_empty() && value.kind == ValueKind::Scalar {
                value.name.clone()
            } else {
                seg.name.clone()
            };
            let mut context = value.context.clone();
            if let Some(section) = &seg.section {
                context.push(section.clone());
            }
            if !seg.name.is_empty() && context.last() != Some(&seg.name) {
                context.push(seg.name.clone());
            }
            let group = if multiline {
                ((index as u64 + 1) << 32) | u64::from(seg.group)
            } else {
                u64::from(value.group)
            };
            let piece = &text[seg.range.clone()];
            let ctx = join_context(&context);
            self.piece(
                &mut place,
                &Piece {
                    rel: seg.range.clone(),
                    text: piece,
                    name: &name,
                    context: &ctx,
                    group,
                    encoding: value.encoding,
                    depth: 0,
                },
            );
        }
    }

    /// Scans one named piece of text. `rel` is its range within the value.
    fn piece(&mut self, place: &mut Placement<'_>, p: &Piece<'_>) {
        let (rel, text, name, context, group, encoding, depth) = (
            &p.rel, p.text, p.name, p.context, p.group, p.encoding, p.depth,
        );
        let mut found: Vec<Candidate> = Vec::new();
        let base = Candidate {
            kind: CandidateKind::AccessKeyId,
            span: 0..0,
            value: String::new(),
            context: context.to_string(),
            name: name.to_string(),
            encoding,
            malformed: false,
            placeholder: false,
            pair: None,
            token: None,
            group,
            needs_pair: false,
        };
        // Key IDs anywhere in the text.
        for r in key_id::find(text) {
            let id = &text[r.clone()];
            found.push(Candidate {
                span: abs(rel, &r),
                value: id.to_string(),
                placeholder: placeholder::key_id(id),
                ..base.clone()
            });
        }
        // A typo'd key ID under a key-ID name.
        if found.is_empty()
            && secret::is_key_id_name(name)
            && !secret::is_reference(text)
            && let Some(r) = secret::leading_token(text)
            && key_id::is_malformed(&text[r.clone()])
        {
            found.push(Candidate {
                span: abs(rel, &r),
                placeholder: placeholder::malformed_key_id(&text[r.clone()]),
                value: text[r].to_string(),
                malformed: true,
                ..base.clone()
            });
        }
        // Secret access keys.
        let named = secret::is_secret_name(name);
        for r in secret::find_tokens_padded(text, named) {
            let token = &text[r.clone()];
            if secret::is_hex(token) {
                continue;
            }
            let (is_secret, needs_pair) = if named {
                (secret::plausible_named_secret(token), false)
            } else if secret::looks_random(token) {
                // A bounded look-back: over the whole prefix this was
                // quadratic on a long piece (a minified line with many
                // tokens), and the word that matters sits right before.
                let from = text.ceil_char_boundary(r.start.saturating_sub(LOOKBACK));
                let before = secret::normalize_name(&text[from..r.start]);
                let keyword = before.contains("secret");
                (true, !keyword)
            } else {
                (false, false)
            };
            if is_secret {
                found.push(Candidate {
                    kind: CandidateKind::SecretAccessKey,
                    span: abs(rel, &r),
                    value: token.to_string(),
                    placeholder: placeholder::secret(token),
                    needs_pair,
                    ..base.clone()
                });
            }
        }
        // Session tokens.
        if secret::is_session_token_name(name)
            && let Some(r) = secret::leading_token(text)
            && secret::is_session_token(&text[r.clone()])
        {
            found.push(Candidate {
                kind: CandidateKind::SessionToken,
                span: abs(rel, &r),
                placeholder: placeholder::secret(&text[r.clone()]),
                value: text[r].to_string(),
                ..base.clone()
            });
        }
        for mut c in found {
            let local = c.span.start - rel.start..c.span.end - rel.start;
            c.span = place.span(self.src, c.span.clone(), &text[local]);
            self.out.push(c);
        }
        if depth < MAX_DECODE_DEPTH && has_base64_marker(text) {
            self.base64_runs(place, p);
        }
    }

    /// Decodes base64 runs that may hold a credential and scans inside; the
    /// finds sit on the encoded run.
    fn base64_runs(&mut self, place: &mut Placement<'_>, p: &Piece<'_>) {
        let (rel, text, name) = (&p.rel, p.text, p.name);
        let bytes = text.as_bytes();
        let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
        let mut i = 0;
        while i < bytes.len() {
            if !is_b64(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_b64(bytes[i]) {
                i += 1;
            }
            let run = &text[start..i];
            if run.len() < 24 || !has_base64_marker(run) {
                continue;
            }
            let Some(decoded) = decode_base64(run) else {
                continue;
            };
            let run_span = place.span(self.src, rel.start + start..rel.start + i, run);
            let decoded_value = Value {
                text: decoded,
                span: run_span,
                context: Vec::new(),
                name: name.to_string(),
                group: 0,
                verbatim: false,
                encoding: Encoding::Base64,
                kind: ValueKind::Scalar,
            };
            let mut inner = Placement {
                value: &decoded_value,
                cursor: 0,
            };
            let segs = text::segments(&decoded_value.text);
            for seg in segs {
                let piece = &decoded_value.text[seg.range.clone()];
                let seg_name = if seg.name.is_empty() {
                    name
                } else {
                    seg.name.as_str()
                };
                self.piece(
                    &mut inner,
                    &Piece {
                        rel: seg.range.clone(),
                        text: piece,
                        name: seg_name,
                        context: p.context,
                        group: p.group,
                        encoding: Encoding::Base64,
                        depth: p.depth + 1,
                    },
                );
            }
        }
    }
}

fn abs(rel: &Range<usize>, r: &Range<usize>) -> Range<usize> {
    rel.start + r.start..rel.start + r.end
}

/// Standard base64, padded or not, to text. Decoded bytes are searched as
/// bytes: what is not UTF-8 becomes `?`, one per byte, so a key between
/// binary bytes (`\xff\xfe\0AKIA…\0`) is still found.
pub fn decode_base64(s: &str) -> Option<String> {
    let cleaned: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = cleaned.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()?;
    Some(crate::source::bytes_as_text(bytes))
}

#[cfg(test)]
mod tests;
