//! Pairs each secret and session token with its access key ID: structure
//! first (same block, mapping, section or env file), then proximity.

use std::collections::HashMap;

use super::{Candidate, CandidateKind};
pub use crate::shown::LineIndex;

/// A named secret with no key ID in its block still pairs with a key ID this
/// many lines away (credentials written one per line in free text).
const PROXIMITY_LINES: usize = 3;

pub fn pair(src: &str, cands: &mut Vec<Candidate>) {
    let mut keys_by_group: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, c) in cands.iter().enumerate() {
        if c.kind == CandidateKind::AccessKeyId {
            keys_by_group.entry(c.group).or_default().push(i);
        }
    }
    // An unnamed token is a secret only beside a key ID.
    cands.retain(|c| !c.needs_pair || keys_by_group.contains_key(&c.group));
    keys_by_group.clear();
    let mut all_keys = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        if c.kind == CandidateKind::AccessKeyId {
            keys_by_group.entry(c.group).or_default().push(i);
            all_keys.push(i);
        }
    }
    let lines = LineIndex::new(src);
    let mut links: Vec<(usize, usize)> = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        if c.kind == CandidateKind::AccessKeyId {
            continue;
        }
        let distance = |k: usize| {
            let ks = cands[k].span.start;
            let d = ks.abs_diff(c.span.start);
            // Prefer the key written before the secret on a tie.
            (d, usize::from(ks > c.span.start))
        };
        let in_group = keys_by_group
            .get(&c.group)
            .and_then(|ks| ks.iter().copied().min_by_key(|&k| distance(k)));
        let nearest_of = |keys: &mut dyn Iterator<Item = usize>| keys.min_by_key(|&k| distance(k));
        let line = lines.line_of(c.span.start);
        let stem = name_stem(&c.name);
        let chosen = in_group
            .or_else(|| {
                nearest_of(&mut all_keys.iter().copied().filter(|&k| {
                    lines.line_of(cands[k].span.start).abs_diff(line) <= PROXIMITY_LINES
                }))
            })
            // `ci_secret_access_key` belongs with `ci_access_key_id`.
            .or_else(|| {
                (!stem.is_empty())
                    .then(|| {
                        nearest_of(
                            &mut all_keys
                                .iter()
                                .copied()
                                .filter(|&k| name_stem(&cands[k].name) == stem),
                        )
                    })
                    .flatten()
            })
            // A file that names a single key ID: the secret is that key's.
            .or_else(|| {
                let first = all_keys.first().map(|&k| cands[k].value.as_str())?;
                all_keys
                    .iter()
                    .all(|&k| cands[k].value == first)
                    .then(|| nearest_of(&mut all_keys.iter().copied()))
                    .flatten()
            });
        if let Some(k) = chosen {
            links.push((i, k));
        }
    }
    for (i, k) in links {
        cands[i].pair = Some(k);
        let key_span = cands[k].span.start;
        match cands[i].kind {
            CandidateKind::SecretAccessKey => {
                let better = match cands[k].pair {
                    None => true,
                    Some(prev) => {
                        cands[i].span.start.abs_diff(key_span)
                            < cands[prev].span.start.abs_diff(key_span)
                    }
                };
                if better {
                    cands[k].pair = Some(i);
                }
            }
            CandidateKind::SessionToken => cands[k].token = Some(i),
            CandidateKind::AccessKeyId => {}
        }
    }
}

/// What is left of a name without the credential words: `ci` for both
/// `ci_secret_access_key` and `CI_ACCESS_KEY_ID`, `` for `aws_access_key_id`.
fn name_stem(name: &str) -> String {
    const WORDS: [&str; 8] = [
        "aws", "secret", "access", "key", "id", "session", "token", "value",
    ];
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(split_camel)
        .map(|w| w.to_ascii_lowercase())
        .filter(|w| !w.is_empty() && !WORDS.contains(&w.as_str()))
        .collect::<Vec<_>>()
        .join("_")
}

/// `ciSecretAccessKey` → `ci`, `Secret`, `Access`, `Key`.
fn split_camel(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = word.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i].is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase() {
            parts.push(&word[start..i]);
            start = i;
        }
    }
    parts.push(&word[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::name_stem;
    use crate::shown::LineIndex;

    #[test]
    fn lone_carriage_returns_end_lines() {
        let t = "a\rb\r\nc\nd";
        let l = LineIndex::new(t);
        assert_eq!(l.len(), 4);
        assert_eq!(l.line_of(t.find('b').unwrap_or(0)), 1);
        assert_eq!(l.line_of(t.find('c').unwrap_or(0)), 2);
        assert_eq!(l.line_of(t.find('d').unwrap_or(0)), 3);
        assert_eq!(&t[l.line_range(t, 1)], "b");
        assert_eq!(&t[l.line_range(t, 3)], "d");
    }

    #[test]
    fn stems() {
        assert_eq!(name_stem("ci_secret_access_key"), "ci");
        assert_eq!(name_stem("CI_ACCESS_KEY_ID"), "ci");
        assert_eq!(name_stem("ciSecretAccessKey"), "ci");
        assert_eq!(name_stem("aws_access_key_id"), "");
        assert_eq!(name_stem("billing_prod_key_id"), "billing_prod");
    }
}
