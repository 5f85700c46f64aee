//! Helpers shared by the parsers' unit tests, so that every format is held
//! to the same invariants with the same failure messages.

use super::{ParseFailure, Parsed, Value, ValueKind, join_context};

// Synthetic, from scripts/genkey.py; not real credentials.
pub const KID: &str = "AKIARZPUZDIKNO6XHAGH";
pub const SECRET: &str = "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";
pub const KID2: &str = "AKIARZPUZDIKHXHPMR4U";
pub const SECRET2: &str = "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";

/// The parse, or a test failure that says why there is none.
pub fn parsed(result: Result<Parsed, ParseFailure>) -> Parsed {
    result.unwrap_or_else(|e| panic!("unexpected failure: {e:?}"))
}

/// The one value whose text is `text`: a second one would make the test's
/// other assertions ambiguous.
pub fn find<'a>(p: &'a Parsed, text: &str) -> &'a Value {
    let hits: Vec<&Value> = p.values.iter().filter(|v| v.text == text).collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one value {text:?} in {:#?}",
        p.values
    );
    hits[0]
}

/// The values of one kind, in file order.
pub fn of_kind(p: &Parsed, kind: ValueKind) -> Vec<&Value> {
    p.values.iter().filter(|v| v.kind == kind).collect()
}

pub fn texts<'a>(values: impl IntoIterator<Item = &'a Value>) -> Vec<&'a str> {
    values.into_iter().map(|v| v.text.as_str()).collect()
}

/// The first value of one kind.
pub fn first_of_kind(p: &Parsed, kind: ValueKind) -> &Value {
    p.values
        .iter()
        .find(|v| v.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} value in {:#?}", p.values))
}

/// Checks the span/verbatim invariant every value must satisfy.
pub fn check_spans(src: &str, p: &Parsed) {
    for v in &p.values {
        let raw = src.get(v.span.clone()).expect("span on char boundaries");
        assert_eq!(v.verbatim, raw == v.text, "{v:?}");
    }
}

pub fn ctx(v: &Value) -> String {
    join_context(&v.context)
}
