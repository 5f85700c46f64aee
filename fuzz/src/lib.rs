//! Invariants the fuzz targets check on parser output.

use keyward::parse::Value;

/// Every span lies inside `src` on character boundaries, and a verbatim
/// value is exactly the bytes at its span: the detector and the reports
/// slice the file with these spans.
pub fn values(src: &str, values: &[Value]) {
    for v in values {
        let Some(raw) = src.get(v.span.clone()) else {
            panic!(
                "span {:?} outside the input or inside a character ({} bytes)",
                v.span,
                src.len()
            );
        };
        if v.verbatim {
            assert_eq!(raw, v.text, "verbatim value differs from its span");
        }
    }
}
