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
//! The literals are found by two case-sensitive searches of at most 32
//! literals each, which the packed SIMD searcher of `aho-corasick` (slim
//! Teddy) runs near memory speed; each hit then gets a cheap look at its
//! neighbourhood. One search of all of them would take fat Teddy, which
//! reads half as many bytes a step: two slim passes cost less than one fat.

use std::sync::LazyLock;

use aho_corasick::Span;
use aho_corasick::packed::{Config, MatchKind, Searcher};

use crate::detect::key_id::CREDENTIAL_PREFIXES;
use crate::detect::secret::SECRET_LEN;
use crate::detect::{BASE64_MARKERS, DOUBLE_BASE64_MARKERS};

/// The names secrets and tokens hide under, compared without case or
/// separators around an anchor hit, so `AWS_SECRET_ACCESS_KEY`,
/// `SecretAccessKey` and `secret-key` all count: `secretaccess`,
/// `secretkey`, `awssecret`, `sessiontoken`, `securitytoken`
/// ([`names_a_credential`]). Every name contains one of these anchors, in
/// the three spellings people use (`secret`, `Secret`, `SECRET`: the `s`
/// is checked after a hit, which keeps the second search at 32 literals).
const NAME_ANCHORS: &[&str] = &["ecret", "ECRET", "ession", "ESSION", "ecurity", "ECURITY"];

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
enum Literal {
    Prefix,
    Base64,
    Marker,
    /// A string escape of a character in `0x30`–`0x5F`, which may spell a
    /// key ID (`"\x41KIA…"` in YAML, `"\u0041KIA…"` in HCL or JSON).
    Escape,
    /// The rest of a credential name's anchor word, after its `s`.
    Anchor,
}

/// The starts of escapes that can write a character of a key ID (`A`–`Z`,
/// `2`–`7`): long enough for the packed search, which a bare `\x` would
/// slow down. The digits of `\u00XY` and `\U000000XY` are checked after
/// a hit.
const ESCAPES: [&str; 5] = ["\\x3", "\\x4", "\\x5", "\\u00", "\\U000000"];

/// Slim Teddy's limit: past it the packed searcher goes fat.
const SLIM: usize = 32;

/// One packed search and what each of its literals is.
struct Pass {
    searcher: Searcher,
    kinds: Vec<Literal>,
}

struct Matchers {
    /// Whatever says "parse" on its own: prefixes, base64 forms, the
    /// ignore marker, escapes.
    strong: Pass,
    /// The double-base64 forms that did not fit in `strong`, and the
    /// credential names' anchors.
    second: Pass,
}

fn pass(literals: &[(&str, Literal)]) -> Option<Pass> {
    if literals.len() > SLIM {
        return None;
    }
    // Leftmost-first, not overlapping, as the packed searcher requires. A
    // hit that fails its second look restarts the search one byte later,
    // so no other literal is ever hidden behind it.
    let searcher = Config::new()
        .match_kind(MatchKind::LeftmostFirst)
        .builder()
        .extend(literals.iter().map(|(l, _)| l))
        .build()?;
    Some(Pass {
        searcher,
        kinds: literals.iter().map(|(_, k)| *k).collect(),
    })
}

static MATCHERS: LazyLock<Option<Matchers>> = LazyLock::new(|| {
    let mut strong: Vec<(&str, Literal)> = Vec::new();
    strong.extend(CREDENTIAL_PREFIXES.map(|p| (p, Literal::Prefix)));
    strong.extend(BASE64_MARKERS.map(|m| (m, Literal::Base64)));
    strong.push((crate::ignore_comment::MARKER, Literal::Marker));
    strong.extend(ESCAPES.map(|e| (e, Literal::Escape)));
    let room = SLIM - strong.len();
    let (first, rest) = DOUBLE_BASE64_MARKERS.split_at(room.min(DOUBLE_BASE64_MARKERS.len()));
    strong.extend(first.iter().map(|m| (*m, Literal::Base64)));
    let mut second: Vec<(&str, Literal)> = rest.iter().map(|m| (*m, Literal::Base64)).collect();
    second.extend(NAME_ANCHORS.iter().map(|a| (*a, Literal::Anchor)));
    Some(Matchers {
        strong: pass(&strong)?,
        second: pass(&second)?,
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
    if any_hit(&m.strong, bytes, !include_placeholders, &mut placeholders)
        || any_hit(&m.second, bytes, !include_placeholders, &mut placeholders)
    {
        return Verdict::Parse;
    }
    Verdict::Skip { placeholders }
}

/// Whether a literal of `pass` is found where its second look says it can
/// start a finding.
fn any_hit(pass: &Pass, bytes: &[u8], skip_placeholders: bool, placeholders: &mut u64) -> bool {
    let mut at = 0;
    while at < bytes.len() {
        let Some(hit) = pass.searcher.find_in(bytes, Span::from(at..bytes.len())) else {
            return false;
        };
        let (start, end) = (hit.start(), hit.end());
        let ok = match pass.kinds[hit.pattern().as_usize()] {
            Literal::Marker => true,
            Literal::Prefix if skip_placeholders && documentation_id(bytes, start) => {
                *placeholders += 1;
                false
            }
            Literal::Prefix => id_shaped(bytes, start, end),
            Literal::Base64 => base64_run_len(bytes, start, end) >= BASE64_RUN_MIN,
            Literal::Escape => escapes_an_id_char(bytes, start),
            Literal::Anchor => credential_name_with_value(bytes, start, end),
        };
        if ok {
            return true;
        }
        at = start + 1;
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
/// `2`–`7`), followed by more of them, escaped or not: nobody escapes a
/// plain capital letter but to hide it, and an ID has at least its prefix's
/// four characters in a row. (One escape alone is what random bytes hold:
/// a video's `\x4e` sent 3.7 MB of binary on to the text scanner.)
fn escapes_an_id_char(bytes: &[u8], start: usize) -> bool {
    let Some((first, mut at)) = escaped_char(bytes, start) else {
        return false;
    };
    if !(first.is_ascii_uppercase() || ('2'..='7').contains(&first)) {
        return false;
    }
    // The rest of a typo may hold any digit (`KW004`).
    for _ in 1..ESCAPED_RUN_MIN {
        let next = match bytes.get(at) {
            Some(b'\\') => escaped_char(bytes, at),
            Some(&b) => Some((char::from(b), at + 1)),
            None => None,
        };
        match next {
            Some((c, end)) if c.is_ascii_uppercase() || c.is_ascii_digit() => at = end,
            _ => return false,
        }
    }
    true
}

/// Characters in a row an escaped key ID shows from its first escape.
const ESCAPED_RUN_MIN: usize = 4;

/// The character the escape at `start` writes (`\xHH`, `\uHHHH`,
/// `\UHHHHHHHH`) and where the escape ends.
fn escaped_char(bytes: &[u8], start: usize) -> Option<(char, usize)> {
    let width = match bytes.get(start + 1)? {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        _ => return None,
    };
    let end = start + 2 + width;
    let hex = bytes.get(start + 2..end)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    Some((char::from_u32(code)?, end))
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
fn credential_name_with_value(bytes: &[u8], rest: usize, end: usize) -> bool {
    let Some(start) = rest.checked_sub(1) else {
        return false;
    };
    if bytes[start] | 0x20 != b's' || !names_a_credential(bytes, start, end) {
        return false;
    }
    let reach = (end + VALUE_REACH).min(bytes.len());
    has_secret_shaped_token(&bytes[start..reach])
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
        // Every character escaped, or only the prefix's.
        assert!(may_contain_credentials(
            br#"k: "\x41\x4b\x49\x41\x52\x5a\x50\x55ZDIKEEQH746Y""#
        ));
        assert!(may_contain_credentials(br#"k: "A\x4bIARZPUZDIKEEQH746Y""#));
        // One escape amid other bytes, as random binary holds one.
        assert!(!may_contain_credentials(b"vn \\x3A AO# r {|5? ;\\x4e d6"));
        assert!(!may_contain_credentials(br#"k: "\x41""#));
    }
}
