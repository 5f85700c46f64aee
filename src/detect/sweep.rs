//! Key IDs wherever they are in the file's bytes, whatever the parser made
//! of them: mapping keys (`AKIA…: secret`), INI sections, JSON object names,
//! URL userinfo (`https://AKIA…:secret@host`), `curl --user AKIA…:secret`,
//! and tokens a parser recovered from by dropping them (`access_key =
//! AKIA…` unquoted in HCL). A key ID in the bytes is reported or counted as
//! a placeholder, never silently lost.

use std::collections::HashMap;

use super::{Candidate, CandidateKind, Encoding, key_id, placeholder, secret};
use crate::parse::{Value, join_context};

/// How far after a key ID its value may start and still count as "on the
/// same line, right after it".
const NEAR: usize = 256;

/// Adds a candidate for every well-formed key ID in `src` that no candidate
/// covers yet, and a secret written right after one (`KEY:SECRET`,
/// `KEY=SECRET`, `"KEY": "SECRET"`, `KEY = "SECRET"`) in the same group.
/// `out` is sorted by span on entry and on return.
pub fn key_ids_anywhere(src: &str, values: &[Value], out: &mut Vec<Candidate>) {
    let covered = Covered::new(
        out.iter()
            .filter(|c| c.kind == CandidateKind::AccessKeyId)
            .map(|c| c.span.clone()),
    );
    let missing: Vec<std::ops::Range<usize>> =
        key_id::find(src).filter(|r| !covered.covers(r)).collect();
    if missing.is_empty() {
        return;
    }
    // Values by where they start, and values under a key-ID name: both
    // built once, so a file of many such keys stays linear.
    let mut by_start: Vec<(usize, usize)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.span.start, i))
        .collect();
    by_start.sort_unstable();
    let mut under_id: HashMap<&str, usize> = HashMap::new();
    for (i, v) in values.iter().enumerate() {
        for seg in &v.context {
            if seg.len() == 20 && key_id::find(seg).next().is_some() {
                under_id.entry(seg.as_str()).or_insert(i);
            }
        }
    }
    let mut secret_at: HashMap<usize, usize> = out
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == CandidateKind::SecretAccessKey)
        .map(|(i, c)| (c.span.start, i))
        .collect();
    for r in missing {
        let id = &src[r.clone()];
        let host = under_id
            .get(id)
            .copied()
            .or_else(|| next_value_on_line(src, values, &by_start, r.end));
        let (context, group) = match host {
            Some(i) => (join_context(&values[i].context), u64::from(values[i].group)),
            None => (name_on_line(src, r.start), (1 << 63) | r.start as u64),
        };
        let base = Candidate {
            kind: CandidateKind::AccessKeyId,
            span: r.clone(),
            value: id.to_string(),
            context,
            name: String::new(),
            encoding: Encoding::Plain,
            malformed: false,
            placeholder: placeholder::key_id(id),
            pair: None,
            token: None,
            group,
            needs_pair: false,
        };
        if let Some(s) = adjacent_secret(src, r.end) {
            match secret_at.get(&s.start) {
                // Found already, as an unnamed token that needed a key ID
                // beside it: this is the one.
                Some(&j) => {
                    out[j].needs_pair = false;
                    out[j].group = group;
                }
                None => {
                    let value = src[s.clone()].to_string();
                    secret_at.insert(s.start, out.len());
                    out.push(Candidate {
                        kind: CandidateKind::SecretAccessKey,
                        span: s,
                        placeholder: placeholder::secret(&value),
                        value,
                        ..base.clone()
                    });
                }
            }
        }
        out.push(base);
    }
    out.sort_by_key(|c| (c.span.start, c.span.end, c.kind));
}

/// Spans of the key IDs found already, sorted, with the furthest end so far
/// beside each: whether a range lies inside any of them is one search.
struct Covered {
    starts: Vec<usize>,
    max_end: Vec<usize>,
}

impl Covered {
    fn new(spans: impl Iterator<Item = std::ops::Range<usize>>) -> Covered {
        let mut spans: Vec<_> = spans.collect();
        spans.sort_by_key(|r| r.start);
        let mut furthest = 0;
        let max_end = spans
            .iter()
            .map(|r| {
                furthest = furthest.max(r.end);
                furthest
            })
            .collect();
        Covered {
            starts: spans.iter().map(|r| r.start).collect(),
            max_end,
        }
    }

    fn covers(&self, r: &std::ops::Range<usize>) -> bool {
        let upto = self.starts.partition_point(|&s| s <= r.start);
        upto > 0 && self.max_end[upto - 1] >= r.end
    }
}

/// The first value that starts after `from` on the same line, nearby.
fn next_value_on_line(
    src: &str,
    values: &[Value],
    by_start: &[(usize, usize)],
    from: usize,
) -> Option<usize> {
    let at = by_start.partition_point(|&(s, _)| s < from);
    let &(start, i) = by_start.get(at)?;
    let between = src.get(from..start)?;
    (start - from <= NEAR && !between.contains(['\n', '\r']) && !values[i].context.is_empty())
        .then_some(i)
}

/// The name a line assigns to what holds `at` (`access_key` in `access_key =
/// AKIA…`), or `line N` when it names nothing.
fn name_on_line(src: &str, at: usize) -> String {
    let start = src[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let end = src[at..].find(['\n', '\r']).map_or(src.len(), |i| at + i);
    let line = &src[start..end];
    let rel = at - start;
    crate::parse::text::segments(line)
        .into_iter()
        .find(|s| s.range.start <= rel && rel < s.range.end && !s.name.is_empty())
        .map(|s| s.name)
        .unwrap_or_else(|| {
            let n = src[..start].bytes().filter(|&b| b == b'\n').count() + 1;
            format!("line {n}")
        })
}

/// A 40-character secret right after a key ID: closing quote, `:` or `=`
/// (spaces and an opening quote allowed around it), then the token.
fn adjacent_secret(src: &str, from: usize) -> Option<std::ops::Range<usize>> {
    let bytes = src.as_bytes();
    let mut i = from;
    let skip = |i: &mut usize, set: &[u8]| {
        while *i < bytes.len() && *i < from + 8 && set.contains(&bytes[*i]) {
            *i += 1;
        }
    };
    skip(&mut i, b"\"' \t");
    if !matches!(bytes.get(i), Some(b':' | b'=')) {
        return None;
    }
    i += 1;
    skip(&mut i, b"\"' \t");
    let start = i;
    let is_secret_char = secret::is_secret_char;
    while i < bytes.len() && is_secret_char(bytes[i]) {
        i += 1;
    }
    let token = &src[start..i];
    (token.len() == secret::SECRET_LEN && secret::plausible_named_secret(token)).then_some(start..i)
}
