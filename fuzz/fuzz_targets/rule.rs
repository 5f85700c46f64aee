#![no_main]
//! The rule loader must turn any text into a rule or a load error with a
//! span inside the text, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = keyward::rules::load::parse_rule("KW900-fuzzed.yaml", text) {
        if let Some(span) = e.span {
            assert!(
                span.offset() + span.len() <= text.len(),
                "error span {span:?} outside a {}-byte rule file",
                text.len()
            );
        }
    }
});
