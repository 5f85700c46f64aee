//! One Aho-Corasick pass over a file's bytes: files without any credential
//! keyword are never decoded or parsed, which is most files of most repos.
//!
//! Keywords come in two tiers. A key-ID prefix, a base64 form of one, or an
//! ignore marker is enough to parse the file. A credential *name*
//! (`secret_key`, `AWS_SECRET_ACCESS_KEY`) is only worth a parse when the
//! file also holds a token long enough to be a secret or session token:
//! infra repos are full of `secret_key = var.secret_key` and
//! `${{ secrets.AWS_SECRET_ACCESS_KEY }}`, and parsing those (Terraform
//! through tree-sitter above all) was a quarter of a scan's time while it
//! could never yield a finding.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use crate::detect::BASE64_MARKERS;
use crate::detect::secret::SECRET_LEN;

/// Key prefixes and the ignore marker: a hit means "parse".
const STRONG: &[&str] = &[
    "akia",
    "asia",
    "abia",
    "acca",
    // An ignore comment must be seen even where nothing is left to ignore.
    crate::suppress::MARKER,
];

/// The names secrets and tokens hide under. Matched case-insensitively, so
/// every spelling (`AWS_SECRET_ACCESS_KEY`, `SecretAccessKey`, `secret-key`)
/// hits.
const NAMES: &[&str] = &[
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
];

struct Matcher {
    ac: AhoCorasick,
    /// Pattern ids below this are strong.
    strong: usize,
}

static MATCHER: LazyLock<Option<Matcher>> = LazyLock::new(|| {
    let patterns: Vec<&str> = STRONG
        .iter()
        .chain(BASE64_MARKERS.iter())
        .chain(NAMES.iter())
        .copied()
        .collect();
    // A DFA costs a few hundred KiB once and scans about twice as fast as the
    // default NFA on the bytes of every file, which is what this pass sees.
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(patterns)
        .ok()?;
    Some(Matcher {
        ac,
        strong: STRONG.len() + BASE64_MARKERS.len(),
    })
});

/// Whether the bytes may hold a credential. Errs on the side of yes.
pub fn may_contain_credentials(bytes: &[u8]) -> bool {
    let Some(m) = MATCHER.as_ref() else {
        return true;
    };
    let mut named = false;
    // Overlapping, so a strong keyword is never hidden inside a name's match.
    for hit in m.ac.find_overlapping_iter(bytes) {
        if hit.pattern().as_usize() < m.strong {
            return true;
        }
        named = true;
    }
    named && has_long_token(bytes)
}

/// Whether some run of at least [`SECRET_LEN`] bytes could decode to a
/// secret or session token. Backslashes and `=` count as part of a run:
/// JSON and YAML escapes (`\/`, `\u0041`) and base64 padding shorten a
/// token only once decoded, and a false "yes" merely costs a parse.
fn has_long_token(bytes: &[u8]) -> bool {
    let mut run = 0;
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=' | b'\\') {
            run += 1;
            if run >= SECRET_LEN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
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
        assert!(!may_contain_credentials(
            b"resource \"aws_s3_bucket\" \"b\" { bucket = \"x\" }"
        ));
        assert!(!may_contain_credentials(b""));
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
        assert!(may_contain_credentials(b"secret_keyAKIA"));
    }
}
