//! Decides, from a file's bytes alone, whether it can hold a finding. Files
//! that cannot are never decoded or parsed, which is most files of most repos.
//!
//! A word is never enough: infra repos are full of `existingSecret`,
//! `secret_key = var.secret_key` and service models that name
//! `SecretAccessKey`, and parsing those was most of a scan's time on real
//! repositories while it could never yield a finding. A file goes on when
//! it holds
//! - a key-ID prefix starting a token long enough to be an ID (or a typo of
//!   one), a base64 form of a prefix inside a base64 run, or an ignore
//!   marker; or
//! - a credential name and a token shaped like a secret or session token.
//!
//! The first test is one non-overlapping, case-sensitive search for a
//! handful of literals, which the packed SIMD searcher of `aho-corasick`
//! runs near memory speed; each hit then gets a cheap look at its
//! neighbourhood.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use crate::detect::key_id::CREDENTIAL_PREFIXES;
use crate::detect::secret::SECRET_LEN;
use crate::detect::{BASE64_MARKERS, DOUBLE_BASE64_MARKERS};

/// The names secrets and tokens hide under, compared without case or
/// separators around an anchor hit, so `AWS_SECRET_ACCESS_KEY`,
/// `SecretAccessKey` and `secret-key` all count: `secretaccess`,
/// `secretkey`, `awssecret`, `sessiontoken`, `securitytoken`
/// ([`names_a_credential`]). Every name contains one of these anchors, in
/// the three spellings people use.
const NAME_ANCHORS: &[&str] = &[
    "secret", "Secret", "SECRET", "session", "Session", "SESSION", "security", "Security",
    "SECURITY",
];

/// Bytes after a key-ID prefix that must look like the rest of an ID: 14
/// is the shortest near miss `KW004` reports (18 characters in all).
const ID_TAIL_MIN: usize = 14;

/// A base64 run shorter than this cannot hold an encoded key ID.
const BASE64_RUN_MIN: usize = 24;

/// How far after a credential name its value is looked for.
const VALUE_REACH: usize = 512;

/// Session tokens are at least this long.
const TOKEN_MIN: usize = 100;

#[derive(Clone, Copy)]
enum Strong {
    Prefix,
    Base64,
    Marker,
    /// A string escape of a character in `0x30`–`0x5F`, which may spell a
    /// key ID (`"\x41KIA…"` in YAML, `"\u0041KIA…"` in HCL or JSON).
    Escape,
}

/// The starts of escapes that can write a character of a key ID (`A`–`Z`,
/// `2`–`7`): long enough for the packed search, which a bare `\x` would
/// slow down.
const ESCAPES: [&str; 9] = [
    "\\x3",
    "\\x4",
    "\\x5",
    "\\u003",
    "\\u004",
    "\\u005",
    "\\U0000003",
    "\\U0000004",
    "\\U0000005",
];

struct Matchers {
    strong: AhoCorasick,
    kinds: Vec<Strong>,
    anchors: aho_corasick::packed::Searcher,
}

static MATCHERS: LazyLock<Option<Matchers>> = LazyLock::new(|| {
    let mut patterns: Vec<&str> = Vec::new();
    let mut kinds = Vec::new();
    for p in CREDENTIAL_PREFIXES {
        patterns.push(p);
        kinds.push(Strong::Prefix);
    }
    for m in BASE64_MARKERS.into_iter().chain(DOUBLE_BASE64_MARKERS) {
        patterns.push(m);
        kinds.push(Strong::Base64);
    }
    patterns.push(crate::ignore_comment::MARKER);
    kinds.push(Strong::Marker);
    for e in ESCAPES {
        patterns.push(e);
        kinds.push(Strong::Escape);
    }
    // Leftmost-first, not overlapping: only then can the packed (Teddy)
    // searcher run. A hit that fails its second look restarts the search
    // one byte later, so no other literal is ever hidden behind it.
    let strong = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(&patterns)
        .ok()?;
    // The packed (Teddy) searcher itself: built as an automaton, these
    // literals get a prefilter on their start bytes, `s` and `S`, which
    // stops at nearly every word of English and was a fifth of a scan's
    // user time on real repositories.
    let anchors = aho_corasick::packed::Config::new()
        .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(NAME_ANCHORS)
        .build()?;
    Some(Matchers {
        strong,
        kinds,
        anchors,
    })
});

/// What the prefilter makes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It may hold a finding: parse it.
    Parse,
    /// It cannot; it holds this many documentation key IDs (counted as
    /// placeholders, as a parse would have).
    Skip { placeholders: u64 },
}

/// Whether the bytes may hold a finding. Errs on the side of yes.
pub fn may_contain_credentials(bytes: &[u8]) -> bool {
    judge(bytes, true) == Verdict::Parse
}

/// As [`may_contain_credentials`]. Unless placeholders are to be reported
/// (`include_placeholders`), a file whose only key IDs are documentation
/// values (botocore's service models quote `AKIAIOSFODNN7EXAMPLE` in
/// megabytes of JSON) is not parsed, and its placeholders are counted.
pub fn judge(bytes: &[u8], include_placeholders: bool) -> Verdict {
    let Some(m) = MATCHERS.as_ref() else {
        return Verdict::Parse;
    };
    let mut placeholders = 0;
    if strong_hit(m, bytes, !include_placeholders, &mut placeholders) {
        return Verdict::Parse;
    }
    if has_credential_name(m, bytes) {
        return Verdict::Parse;
    }
    Verdict::Skip { placeholders }
}

fn strong_hit(m: &Matchers, bytes: &[u8], skip_placeholders: bool, placeholders: &mut u64) -> bool {
    let mut at = 0;
    while at < bytes.len() {
        let Some(hit) = m.strong.find(Input::new(bytes).span(at..bytes.len())) else {
            return false;
        };
        let ok = match m.kinds[hit.pattern().as_usize()] {
            Strong::Marker => true,
            Strong::Prefix if skip_placeholders && documentation_id(bytes, hit.start()) => {
                *placeholders += 1;
                false
            }
            Strong::Prefix => id_shaped(bytes, hit.start(), hit.end()),
            Strong::Base64 => base64_run_len(bytes, hit.start(), hit.end()) >= BASE64_RUN_MIN,
            Strong::Escape => escapes_an_id_char(bytes, hit.start()),
        };
        if ok {
            return true;
        }
        at = hit.start() + 1;
    }
    false
}

/// A well-formed key ID on word boundaries that is a placeholder.
fn documentation_id(bytes: &[u8], start: usize) -> bool {
    let Some(id) = bytes.get(start..start + 20) else {
        return false;
    };
    let boundary = |b: Option<&u8>| !b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let well_formed = id[4..]
        .iter()
        .all(|&b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    well_formed
        && boundary(start.checked_sub(1).and_then(|i| bytes.get(i)))
        && boundary(bytes.get(start + 20))
        && std::str::from_utf8(id).is_ok_and(crate::detect::placeholder::key_id)
}

/// A prefix at a token's start, followed by enough ID-like bytes. An
/// escaped line break (`\` at the end of a line in a double-quoted YAML
/// scalar) joins the next line's text to the token, as the parser does.
fn id_shaped(bytes: &[u8], start: usize, end: usize) -> bool {
    if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut tail = 0;
    let mut i = end;
    while tail < ID_TAIL_MIN {
        match bytes.get(i) {
            Some(b'\\') if matches!(bytes.get(i + 1), Some(b'\n' | b'\r')) => {
                i += 1;
                while matches!(bytes.get(i), Some(b'\n' | b'\r' | b' ' | b'\t')) {
                    i += 1;
                }
            }
            // A byte past ASCII counts: decoding may read it as `?`.
            Some(&b) if (b.is_ascii_graphic() && !is_delimiter(b)) || b >= 0x80 => {
                tail += 1;
                i += 1;
            }
            _ => break,
        }
    }
    tail >= ID_TAIL_MIN
}

/// An escape that writes a character a key ID is made of (`A`–`Z`,
/// `2`–`7`): nobody escapes a plain capital letter but to hide it.
fn escapes_an_id_char(bytes: &[u8], start: usize) -> bool {
    let Some(&kind) = bytes.get(start + 1) else {
        return false;
    };
    let width = match kind {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        _ => return false,
    };
    bytes
        .get(start + 2..start + 2 + width)
        .and_then(|h| std::str::from_utf8(h).ok())
        .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .and_then(char::from_u32)
        .is_some_and(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'"' | b'\'' | b'`' | b',' | b';' | b')' | b'}' | b']' | b'#' | b'<' | b'>'
    )
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn base64_run_len(bytes: &[u8], start: usize, end: usize) -> usize {
    let before = bytes[..start]
        .iter()
        .rev()
        .take(BASE64_RUN_MIN)
        .take_while(|&&b| is_base64(b))
        .count();
    let after = bytes[end..]
        .iter()
        .take(BASE64_RUN_MIN)
        .take_while(|&&b| is_base64(b))
        .count();
    before + (end - start) + after
}

/// A run that detection could take for a secret or session token: exactly
/// [`SECRET_LEN`] secret characters that are neither hex nor one class of
/// character, a run of [`TOKEN_MIN`] token characters, or a run with JSON
/// or YAML escapes (`\/`) long enough to become one once decoded.
fn has_secret_shaped_token(bytes: &[u8]) -> bool {
    let is_token = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=' | b'\\');
    let mut i = 0;
    while i < bytes.len() {
        if !is_token(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token(bytes[i]) {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() < SECRET_LEN {
            continue;
        }
        if run.len() >= TOKEN_MIN || run.contains(&b'\\') {
            return true;
        }
        if run.split(|&b| b == b'=').any(secret_shaped) {
            return true;
        }
    }
    false
}

fn secret_shaped(run: &[u8]) -> bool {
    if run.len() != SECRET_LEN || run.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let upper = run.iter().any(u8::is_ascii_uppercase);
    let lower = run.iter().any(u8::is_ascii_lowercase);
    let other = run
        .iter()
        .any(|&b| b.is_ascii_digit() || b == b'/' || b == b'+');
    usize::from(upper) + usize::from(lower) + usize::from(other) >= 2
}

/// A credential name with a secret- or token-shaped run after it: an anchor
/// word, a case- and separator-blind look at the words around it, then the
/// run within [`VALUE_REACH`] bytes (a value follows its name: on the same
/// line, or in the block under it).
fn has_credential_name(m: &Matchers, bytes: &[u8]) -> bool {
    for hit in m.anchors.find_iter(bytes) {
        if names_a_credential(bytes, hit.start(), hit.end()) {
            let end = (hit.end() + VALUE_REACH).min(bytes.len());
            if has_secret_shaped_token(&bytes[hit.start()..end]) {
                return true;
            }
        }
    }
    false
}

/// How far around an anchor the rest of a name is looked for.
const AROUND: usize = 24;

/// Whether the anchor at `start..end` is part of one of [`NAMES`]: the
/// letters and digits next to it, case and separators ignored, complete
/// it (`secret` + `access`/`key`, `aws` + `secret`, `session`/`security` +
/// `token`). Compared in place: the anchors are everywhere in infra files
/// (`existingSecret`), and copying a window around each was a tenth of a
/// scan's time.
fn names_a_credential(bytes: &[u8], start: usize, end: usize) -> bool {
    let after = |word: &[u8]| {
        let window = &bytes[end..(end + AROUND).min(bytes.len())];
        let mut letters = window.iter().filter(|b| b.is_ascii_alphanumeric());
        word.iter()
            .all(|w| letters.next().is_some_and(|b| b.to_ascii_lowercase() == *w))
    };
    let before = |word: &[u8]| {
        let window = &bytes[start.saturating_sub(AROUND)..start];
        let mut letters = window.iter().rev().filter(|b| b.is_ascii_alphanumeric());
        word.iter()
            .rev()
            .all(|w| letters.next().is_some_and(|b| b.to_ascii_lowercase() == *w))
    };
    // The anchors differ by their third and fourth letters.
    match (bytes[start + 2] | 0x20, bytes[start + 3] | 0x20) {
        (b'c', b'r') => after(b"access") || after(b"key") || before(b"aws"),
        _ => after(b"token"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_and_misses() {
        let secret = "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK";
        assert!(may_contain_credentials(b"x = AKIARZPUZDIKEEQH746Y"));
        assert!(may_contain_credentials(
            format!("AWS_SECRET_ACCESS_KEY={secret}").as_bytes()
        ));
        assert!(may_contain_credentials(
            format!("SecretAccessKey: {secret}").as_bytes()
        ));
        assert!(may_contain_credentials(
            format!("aws_session_token = {}", "A".repeat(120)).as_bytes()
        ));
        assert!(may_contain_credentials(
            b"data: QUtJQVJaUFVaRElLRUVRSDc0Nlk="
        ));
        assert!(may_contain_credentials(b"# keyward:ignore KW001"));
        // A prefix inside a word, or with no ID after it, is not a key.
        assert!(!may_contain_credentials(
            b"region: ASIA-PACIFIC\nASIAN cuisine"
        ));
        assert!(!may_contain_credentials(b"xAKIARZPUZDIKEEQH746Y"));
        // A typo of an ID still goes on to KW004.
        assert!(may_contain_credentials(b"key_id: AKIARZPUZDIKGQWOKWJ"));
        // A marker outside a base64 run is a word.
        assert!(!may_contain_credentials(b"FLSU 1"));
        assert!(!may_contain_credentials(
            b"resource \"aws_s3_bucket\" \"b\" { bucket = \"x\" }"
        ));
        assert!(!may_contain_credentials(b""));
    }

    #[test]
    fn documentation_ids_alone_are_counted_not_parsed() {
        let docs = b"\"AccessKeyId\": \"AKIAIOSFODNN7EXAMPLE\", see AKIAIOSFODNN7EXAMPLE.";
        assert_eq!(judge(docs, false), Verdict::Skip { placeholders: 2 });
        // Asked to report placeholders, the file is parsed.
        assert_eq!(judge(docs, true), Verdict::Parse);
        // A real key beside them still means "parse".
        let mixed = b"AKIAIOSFODNN7EXAMPLE and AKIARZPUZDIKEEQH746Y";
        assert_eq!(judge(mixed, false), Verdict::Parse);
    }

    #[test]
    fn a_value_is_looked_for_after_its_name_only() {
        let secret = "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK";
        let near = format!("aws_secret_access_key:\n  {secret}\n");
        assert!(may_contain_credentials(near.as_bytes()));
        let far = format!(
            "aws_secret_access_key: see below\n{}\n{secret}\n",
            "# x\n".repeat(200)
        );
        assert!(!may_contain_credentials(far.as_bytes()));
    }

    #[test]
    fn a_name_without_a_long_token_is_not_worth_a_parse() {
        assert!(!may_contain_credentials(b"secret_key = var.secret_key\n"));
        assert!(!may_contain_credentials(
            b"AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}"
        ));
        // Escapes shorten a token only after decoding.
        let escaped = "{\"secret_access_key\": \"Am\\/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yM\"}";
        assert!(may_contain_credentials(escaped.as_bytes()));
        // A strong keyword right after a name is still seen.
        assert!(may_contain_credentials(b"secret_key:AKIARZPUZDIKEEQH746Y"));
        // A long run that no secret could be: a path, a hex digest.
        assert!(!may_contain_credentials(
            format!("existingSecret: x\ndigest: sha256:{}\n", "ab12".repeat(16)).as_bytes()
        ));
        assert!(!may_contain_credentials(
            b"SecretAccessKey docs: https://example.com/a/very/long/path/that/is/not/a/secret/at/all"
        ));
        // Names in any of the usual spellings.
        let secret = "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK";
        for name in [
            "AWS_SECRET_ACCESS_KEY",
            "aws-secret",
            "SecretKey",
            "sessionToken",
        ] {
            assert!(
                may_contain_credentials(format!("{name}: {secret}").as_bytes()),
                "{name}"
            );
        }
        // A word alone never is.
        assert!(!may_contain_credentials(
            b"existingSecret: my-secret\nsecretKey: password"
        ));
    }

    #[test]
    fn escaped_key_ids_are_worth_a_parse() {
        // An escape that writes a capital letter or a digit 2-7.
        assert!(may_contain_credentials(br#"k: "\x41KIARZPUZDIKEEQH746Y""#));
        assert!(may_contain_credentials(
            br#"k = "\u0041KIARZPUZDIKEEQH746Y""#
        ));
        assert!(may_contain_credentials(
            br#"k = "\U00000041KIARZPUZDIKEEQH746Y""#
        ));
        assert!(may_contain_credentials(br#"k: "AKIA\x52ZPUZDIKEEQH746Y""#));
        // A key cut by an escaped line break (YAML double quotes).
        assert!(may_contain_credentials(
            b"k: \"AKIARZPU\\\n    ZDIKEEQH746Y\"\n"
        ));
        // Escapes of other characters, and Windows paths, are not.
        assert!(!may_contain_credentials(
            br#"{"name": "caf\u00e9 \u003cb\u003e"}"#
        ));
        assert!(!may_contain_credentials(br"C:\Users\xavier\config"));
        assert!(!may_contain_credentials(b"line one \\\nline two"));
    }
}
