//! The one judgement of "this is a documentation value, not a credential",
//! obeyed by every candidate kind and so by every rule.
//!
//! A real key must never be called a placeholder by chance. A well-formed
//! key ID has a random 16-character base32 tail, in which any given two
//! letters (`MY`) turn up about once in 70 keys, so for such IDs only strong
//! signals count: `EXAMPLE`, AWS's documented IDs, long runs, filler words
//! of four letters or more, and the account AWS never issues. The short
//! words apply only to values that are malformed anyway. A test draws a
//! million random IDs and allows fewer than 1 in 10,000 through.

/// AWS's documented examples that do not already say `EXAMPLE`.
const DOCUMENTED_IDS: &[&str] = &["AKIAI44QH8DHBEXAMPLE", "AKIAIOSFODNN7EXAMPLE"];

/// Filler words that are strong enough for a well-formed ID. Each 4-letter
/// word costs a random tail about 1.2 in 100,000 (13 places, 32^-4 each), so
/// this list is kept short; longer words cost practically nothing.
const STRONG_WORDS: &[&str] = &[
    "EXAMPLE",
    "SAMPLE",
    "DUMMY",
    "CHANGEME",
    "REPLACE",
    "ACCESSKEY",
    "SECRETKEY",
    "PLACEHOLDER",
    "REDACTED",
    "YOUR",
    "TEST",
    "FAKE",
    "XXXX",
];

/// Only for values that are not valid IDs (or not valid secrets) to begin
/// with: there nothing random is at stake.
const WEAK_WORDS: &[&str] = &[
    "MY", "HERE", "KEY", "ID", "123456", "111111", "000000", "ABCDEF", "XXX", "ACCESS", "SECRET",
    "AWS",
];

/// An account no key is issued for: AWS's emulators and SDK test suites use
/// it, and a decode to it means the ID was made up.
pub const NULL_ACCOUNT: &str = "000000000000";

/// A well-formed key ID (prefix plus 16 base32 characters) that is a
/// placeholder. Strong signals only.
pub fn key_id(id: &str) -> bool {
    if DOCUMENTED_IDS.contains(&id) {
        return true;
    }
    let tail = id.get(4..).unwrap_or("");
    if STRONG_WORDS.iter().any(|w| tail.contains(w)) {
        return true;
    }
    if distinct(tail.as_bytes()) <= 4 || longest_repeat(tail.as_bytes()) >= 6 {
        return true;
    }
    if longest_ascending_run(tail.as_bytes()) >= 7 {
        return true;
    }
    super::key_id::account(id).as_deref() == Some(NULL_ACCOUNT)
}

/// A value under a key-ID name that is not a valid ID: any filler counts.
pub fn malformed_key_id(token: &str) -> bool {
    let upper = token.to_ascii_uppercase();
    let tail = upper.get(4..).unwrap_or("");
    STRONG_WORDS.iter().any(|w| tail.contains(w))
        || WEAK_WORDS.iter().any(|w| tail.contains(w))
        || longest_repeat(tail.as_bytes()) >= 4
        || longest_ascending_run(tail.as_bytes()) >= 5
}

/// Secret-shaped words, matched without regard to case. A random 40-character
/// secret holds a given 4 letters (either case) about once in 30,000, so
/// only words of five letters or more count here.
const SECRET_WORDS: &[&str] = &[
    "EXAMPLE",
    "SAMPLE",
    "DUMMY",
    "CHANGEME",
    "REPLACE",
    "SECRETKEY",
    "SECRETACCESSKEY",
    "ACCESSKEY",
    "PLACEHOLDER",
    "REDACTED",
    "XXXXXXXX",
    "YOURSECRET",
    "MYSECRET",
    "FAKESECRET",
    "TESTSECRET",
    "ABCDEFGHIJ",
    "123456789",
];

/// A secret access key or session token that is a placeholder.
pub fn secret(token: &str) -> bool {
    let upper = token.to_ascii_uppercase();
    if SECRET_WORDS.iter().any(|w| upper.contains(w)) {
        return true;
    }
    distinct(token.as_bytes()) <= 8 || longest_repeat(token.as_bytes()) >= 8
}

/// Whether `s` uses at most `n` different bytes.
pub fn few_distinct(s: &[u8], n: usize) -> bool {
    distinct(s) <= n
}

fn distinct(s: &[u8]) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in s {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            n += 1;
        }
    }
    n
}

/// The longest run of one repeated character.
fn longest_repeat(s: &[u8]) -> usize {
    let mut best = usize::from(!s.is_empty());
    let mut run = best;
    for w in s.windows(2) {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        best = best.max(run);
    }
    best
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The longest run of characters that follow each other (`ABCDEFG`,
/// `234567`, `123456`): typed fillers, never random.
fn longest_ascending_run(s: &[u8]) -> usize {
    let pos = |c: u8| {
        BASE32
            .iter()
            .position(|&b| b == c)
            .or_else(|| c.is_ascii_digit().then(|| 100 + usize::from(c - b'0')))
    };
    let mut best = usize::from(!s.is_empty());
    let mut run = best;
    for w in s.windows(2) {
        match (pos(w[0]), pos(w[1])) {
            (Some(a), Some(b)) if b == a + 1 => run += 1,
            _ => run = 1,
        }
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn random_ids_are_almost_never_placeholders() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut hits = 0;
        let n = 1_000_000;
        let mut id = *b"AKIAAAAAAAAAAAAAAAAA";
        for _ in 0..n {
            for c in id.iter_mut().skip(4) {
                *c = BASE32[(rng.next() >> 59) as usize];
            }
            // Only IDs a key could have: the 5th character of a new-format
            // ID is Q or later; old-format IDs (A-P) are just as random.
            let s = std::str::from_utf8(&id).unwrap_or_default();
            if key_id(s) {
                hits += 1;
            }
        }
        assert!(
            hits * 10_000 < n,
            "{hits} of {n} random IDs called placeholders"
        );
    }

    #[test]
    fn random_secrets_are_almost_never_placeholders() {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let mut hits = 0;
        let n = 200_000;
        let mut s = [b'A'; 40];
        for _ in 0..n {
            for c in s.iter_mut() {
                *c = ALPHABET[(rng.next() >> 58) as usize];
            }
            if secret(std::str::from_utf8(&s).unwrap_or_default()) {
                hits += 1;
            }
        }
        assert!(hits * 10_000 < n, "{hits} of {n} random secrets");
    }

    #[test]
    fn documentation_ids() {
        for id in [
            "AKIAIOSFODNN7EXAMPLE",
            "ASIAIOSFODNN7EXAMPLE",
            "AKIAXXXXXXXXXXXXXXXX",
            "AKIAAAAAAAAAAAAAAAAA",
            "AKIAABCDEFGHIJKLMNOP",
            "AKIA2222333344445555",
            "AKIAYOURACCESSKEYID2",
            "AKIATESTKEYIDZZQWERT",
            "AKIAFAKEKEYIDZZQWERT",
            "AKIADUMMYKEYZZQWERTY",
            "AKIAZZZZZZZUPDQWERTY",
            // Decodes to account 000000000000.
            "AKIAQAAAAAAAAAAAAAAA",
            "AKIAQAAAAAAAAZPUZDIK",
        ] {
            assert!(key_id(id), "{id}");
        }
    }

    #[test]
    fn real_looking_ids_are_not_placeholders() {
        for id in [
            "AKIARZPUZDIKEEQH746Y",
            "ASIAY34FZKBOKMUTVV7A",
            // Short words inside a random tail: chance, not intent.
            "AKIARZMYUZDIKEEQH746",
            "AKIARZPUZDIKIDHERE74",
            "AKIARZPUZDIKEYQH746Y",
        ] {
            assert!(!key_id(id), "{id}");
        }
    }

    #[test]
    fn malformed_fillers() {
        for v in [
            "AKIAMYACCESSKEY123456789",
            "AKIA111111111EXAMPLE",
            "ASIAV3ZUEFP6EXAMPLE",
            "AKIAMYKEYID",
            "AKIA1234567890",
            "AKIAxxxxxxxxxxxxxxxx",
        ] {
            assert!(malformed_key_id(v), "{v}");
        }
        for v in ["AKIARZPUZDIKGQWOKWJ", "AKIARZPUZDIKEEQH7460"] {
            assert!(!malformed_key_id(v), "{v}");
        }
    }

    #[test]
    fn secrets() {
        for s in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "abababababababababababababababababababab",
            "YourSecretAccessKeyGoesHere1234567890abc",
            "aB3dEf7hIjKlMnOpQrStUvWxYz0123456789/+Aa",
        ] {
            assert!(secret(s), "{s}");
        }
        assert!(!secret("Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK"));
    }
}
