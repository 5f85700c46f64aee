//! Pairs each secret and session token with its access key ID: structure
//! first (same block, mapping, section or env file), then proximity.

use std::collections::HashMap;

use super::{Candidate, CandidateKind};
pub use crate::shown::LineIndex;

/// A named secret with no key ID in its block still pairs with a key ID this
/// many lines away (credentials written one per line in free text).
const PROXIMITY_LINES: usize = 3;

/// Pairs every secret and session token with a key ID. `cands` is sorted by
/// span. Each choice is a binary search over key IDs sorted by place, so a
/// file of many pairs stays n log n.
pub fn pair(src: &str, cands: &mut Vec<Candidate>) {
    let mut keyed_groups: std::collections::HashSet<u64> = std::collections::HashSet::new();
    for c in cands.iter() {
        if c.kind == CandidateKind::AccessKeyId {
            keyed_groups.insert(c.group);
        }
    }
    // An unnamed token is a secret only beside a key ID.
    cands.retain(|c| !c.needs_pair || keyed_groups.contains(&c.group));
    // Key IDs by place: all, per group, per name stem.
    let mut keys_by_group: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut keys_by_stem: HashMap<String, Vec<usize>> = HashMap::new();
    let mut all_keys = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        if c.kind == CandidateKind::AccessKeyId {
            keys_by_group.entry(c.group).or_default().push(i);
            let stem = name_stem(&c.name);
            if !stem.is_empty() {
                keys_by_stem.entry(stem).or_default().push(i);
            }
            all_keys.push(i);
        }
    }
    // A file that names a single key ID: a secret anywhere is that key's.
    let one_key = all_keys
        .split_first()
        .is_some_and(|(&f, rest)| rest.iter().all(|&k| cands[k].value == cands[f].value));
    let lines = LineIndex::new(src);
    let mut links: Vec<(usize, usize)> = Vec::new();
    for (i, c) in cands.iter().enumerate() {
        if c.kind == CandidateKind::AccessKeyId {
            continue;
        }
        let at = c.span.start;
        let line = lines.line_of(at);
        let chosen = keys_by_group
            .get(&c.group)
            .and_then(|ks| nearest(cands, ks, at))
            .or_else(|| {
                nearest_where(cands, &all_keys, at, |k| {
                    lines.line_of(cands[k].span.start).abs_diff(line) <= PROXIMITY_LINES
                })
            })
            // `ci_secret_access_key` belongs with `ci_access_key_id`.
            .or_else(|| {
                let stem = name_stem(&c.name);
                keys_by_stem
                    .get(&stem)
                    .filter(|_| !stem.is_empty())
                    .and_then(|ks| nearest(cands, ks, at))
            })
            .or_else(|| one_key.then(|| nearest(cands, &all_keys, at)).flatten());
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

/// The key ID of `keys` (indices into `cands`, sorted by place) nearest to
/// offset `at`; on a tie, the one written before it. Only the neighbours
/// on either side of `at` can be nearest.
fn nearest(cands: &[Candidate], keys: &[usize], at: usize) -> Option<usize> {
    nearest_where(cands, keys, at, |_| true)
}

/// As [`nearest`], among the keys `ok` accepts, where `ok` is monotone in
/// the distance (a line bound): if the neighbour on one side fails, every
/// key beyond it on that side does.
fn nearest_where(
    cands: &[Candidate],
    keys: &[usize],
    at: usize,
    ok: impl Fn(usize) -> bool,
) -> Option<usize> {
    let split = keys.partition_point(|&k| cands[k].span.start <= at);
    let before = split
        .checked_sub(1)
        .and_then(|i| keys.get(i))
        .copied()
        .filter(|&k| ok(k));
    let after = keys.get(split).copied().filter(|&k| ok(k));
    match (before, after) {
        (Some(b), Some(a)) => {
            let db = at - cands[b].span.start;
            let da = cands[a].span.start - at;
            Some(if da < db { a } else { b })
        }
        (b, a) => b.or(a),
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
        assert_eq!(l.line_count(), 4);
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
