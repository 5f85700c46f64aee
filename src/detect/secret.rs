//! Secret access keys and session tokens, and the names they hide under.

use std::ops::Range;

/// Lowercase with separators removed, so `AWS_SECRET_ACCESS_KEY`,
/// `aws-secret-access-key`, `SecretAccessKey` and `secret.access.key` compare
/// equal.
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A name under which a 40-character value is a secret access key.
pub fn is_secret_name(name: &str) -> bool {
    let n = normalize_name(name);
    n.contains("secretaccesskey")
        || n.contains("secretkey")
        || n.contains("awssecret")
        || n.contains("secretaccess")
        || (n.contains("secret") && (n.contains("aws") || n.contains("iam")))
}

/// A name under which a value is meant to be an access key ID.
pub fn is_key_id_name(name: &str) -> bool {
    let n = normalize_name(name);
    if is_secret_name(name) || is_session_token_name(name) {
        return false;
    }
    n.contains("accesskey") || n.ends_with("keyid") || n == "awskey" || n.ends_with("accessid")
}

pub fn is_session_token_name(name: &str) -> bool {
    let n = normalize_name(name);
    n.contains("sessiontoken") || n.contains("securitytoken")
}

pub fn is_secret_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/' || b == b'+'
}

pub const SECRET_LEN: usize = 40;

/// Byte ranges of maximal runs of exactly 40 secret characters. A longer run
/// is some other base64 blob, and a run followed by `=` padding is one too.
#[cfg(test)]
fn find_tokens(text: &str) -> Vec<Range<usize>> {
    find_tokens_padded(text, false)
}

/// As [`find_tokens`]; with `padded`, a run followed by `=` or `==` (and
/// nothing more of base64) counts too. A secret access key is 40 base64
/// characters that encode 30 bytes, so it never carries padding: under a
/// secret's name, a trailing `=` is a stray character copied along with the
/// key, and the 40 characters before it are the secret.
pub fn find_tokens_padded(text: &str, padded: bool) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_secret_char(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_secret_char(bytes[i]) {
            i += 1;
        }
        if i - start != SECRET_LEN {
            continue;
        }
        if bytes.get(i) != Some(&b'=') {
            out.push(start..i);
        } else if padded {
            let pad = bytes[i..].iter().take_while(|&&b| b == b'=').count();
            let next = bytes.get(i + pad).copied();
            if pad <= 2 && !next.is_some_and(|b| is_secret_char(b) || b == b'=') {
                out.push(start..i);
            }
        }
    }
    out
}

/// A 40-hex string is a git SHA or a lockfile hash, never a secret.
pub fn is_hex(token: &str) -> bool {
    token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Random base64 of this length practically always mixes upper case, lower
/// case and digits (missing one class has odds under 0.2%).
pub fn looks_random(token: &str) -> bool {
    let has = |f: fn(&u8) -> bool| token.as_bytes().iter().any(f);
    has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && !is_hex(token)
}

/// A token that may stand under a secret-ish name: anything that is not hex
/// and not a single character class (`aaaa…`, a 40-letter word).
pub fn plausible_named_secret(token: &str) -> bool {
    if is_hex(token) {
        return false;
    }
    let classes = [
        token.bytes().any(|b| b.is_ascii_uppercase()),
        token.bytes().any(|b| b.is_ascii_lowercase()),
        token
            .bytes()
            .any(|b| b.is_ascii_digit() || b == b'/' || b == b'+'),
    ];
    classes.iter().filter(|&&c| c).count() >= 2
}

/// Session tokens are long base64; shorter values under that name are not.
pub fn is_session_token(token: &str) -> bool {
    token.len() >= 100
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'='))
}

/// The first token of an assignment's value, without surrounding quotes:
/// `"abc", # x` gives `abc`. Returns its byte range in `text`.
pub fn leading_token(text: &str) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len()
        && (bytes[start].is_ascii_whitespace() || matches!(bytes[start], b'"' | b'\'' | b'`'))
    {
        start += 1;
    }
    let mut end = start;
    while end < bytes.len()
        && !bytes[end].is_ascii_whitespace()
        && !matches!(
            bytes[end],
            b'"' | b'\'' | b'`' | b',' | b';' | b')' | b'}' | b']' | b'#'
        )
    {
        end += 1;
    }
    (end > start).then_some(start..end)
}

/// Values that refer to a credential rather than contain one.
pub fn is_reference(text: &str) -> bool {
    let t = text.trim();
    t.contains("${")
        || t.contains("{{")
        || t.contains("$(")
        || t.starts_with('$')
        || t.starts_with('!')
        || t.contains("resolve:secretsmanager")
        || t.contains("resolve:ssm")
        || [
            "var.", "local.", "module.", "data.", "each.", "secrets.", "env.",
        ]
        .iter()
        .any(|p| t.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "aws_secret_access_key",
            "AWS_SECRET_ACCESS_KEY",
            "SecretAccessKey",
            "secretAccessKey",
            "secret_key",
            "aws-secret-key",
            "AWS_SECRET",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in ["secret", "password", "access_key", "token", "client_secret"] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn key_id_names() {
        for n in [
            "aws_access_key_id",
            "access_key",
            "AWS_ACCESS_KEY_ID",
            "accessKeyId",
            "key_id",
            "AccessKeyId",
        ] {
            assert!(is_key_id_name(n), "{n}");
        }
        for n in [
            "aws_secret_access_key",
            "secret_key",
            "aws_session_token",
            "region",
            "name",
        ] {
            assert!(!is_key_id_name(n), "{n}");
        }
    }

    #[test]
    fn tokens_are_exactly_forty_and_maximal() {
        let s40 = "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK";
        let t = format!("k = \"{s40}\" x{s40} {s40}A {s40}=");
        let found: Vec<&str> = find_tokens(&t).iter().map(|r| &t[r.clone()]).collect();
        assert_eq!(found, vec![s40]);
    }

    #[test]
    fn hex_and_randomness() {
        assert!(is_hex("3f786850e387550fdab836ed7e6dc881de23001b"));
        assert!(!looks_random("3f786850e387550fdab836ed7e6dc881de23001b"));
        assert!(looks_random("Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK"));
        assert!(!looks_random("thisisafortycharacterlowercasewordsalads"));
        assert!(plausible_named_secret(
            "UVl4nuYV/d8fNYvvDbzDZST6IaXqA2h9Uz0/T1Sa"
        ));
        assert!(!plausible_named_secret(
            "thisisafortycharacterlowercasewordsalads"
        ));
    }

    #[test]
    fn leading_tokens() {
        let t = " \"abc/+1\", # note";
        assert_eq!(leading_token(t).map(|r| &t[r]), Some("abc/+1"));
        assert_eq!(leading_token("   "), None);
    }

    #[test]
    fn references() {
        for r in [
            "${var.key}",
            "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
            "$(aws configure get aws_secret_access_key)",
            "$AWS_SECRET_ACCESS_KEY",
            "var.access_key",
            "{{resolve:secretsmanager:prod/aws:SecretString:key}}",
        ] {
            assert!(is_reference(r), "{r}");
        }
        assert!(!is_reference("AKIARZPUZDIKEEQH746Y"));
    }
}
