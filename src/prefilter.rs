//! One Aho-Corasick pass over a file's bytes: files without any credential
//! keyword are never decoded or parsed, which is most files of most repos.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use crate::detect::BASE64_MARKERS;

/// Key prefixes, the names secrets and tokens hide under, and base64 forms
/// of the prefixes. Matched case-insensitively, so every spelling of a name
/// (`AWS_SECRET_ACCESS_KEY`, `SecretAccessKey`, `secret-key`) hits.
const KEYWORDS: &[&str] = &[
    "akia",
    "asia",
    "abia",
    "acca",
    "secret_access",
    "secretaccess",
    "secret-access",
    "secret_key",
    "secretkey",
    "secret-key",
    "aws_secret",
    "awssecret",
    "aws-secret",
    "session_token",
    "sessiontoken",
    "security_token",
    // An ignore comment must be seen even where nothing is left to ignore.
    crate::suppress::MARKER,
];

static MATCHER: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    let patterns: Vec<&str> = KEYWORDS
        .iter()
        .chain(BASE64_MARKERS.iter())
        .copied()
        .collect();
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(patterns)
        .ok()
});

/// Whether the bytes may hold a credential. Errs on the side of yes.
pub fn may_contain_credentials(bytes: &[u8]) -> bool {
    match MATCHER.as_ref() {
        Some(m) => m.is_match(bytes),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_and_misses() {
        assert!(may_contain_credentials(b"x = AKIARZPUZDIKEEQH746Y"));
        assert!(may_contain_credentials(b"AWS_SECRET_ACCESS_KEY=x"));
        assert!(may_contain_credentials(b"SecretAccessKey: x"));
        assert!(may_contain_credentials(b"aws_session_token = x"));
        assert!(may_contain_credentials(
            b"data: QUtJQVJaUFVaRElLRUVRSDc0Nlk="
        ));
        assert!(!may_contain_credentials(
            b"resource \"aws_s3_bucket\" \"b\" { bucket = \"x\" }"
        ));
        assert!(!may_contain_credentials(b""));
    }
}
