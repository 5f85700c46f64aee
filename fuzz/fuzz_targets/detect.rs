#![no_main]
//! The detector over what the YAML parser (structured values, base64
//! Secrets) or else the text scanner makes of the input: no panic, and every
//! candidate span inside the input on character boundaries.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let values = match keyward::parse::yaml::parse(src) {
        Ok(p) => p.values,
        Err(_) => keyward::parse::text::scan(src),
    };
    let found = keyward::detect::detect(src, &values);
    for c in &found {
        assert!(
            src.get(c.span.clone()).is_some(),
            "candidate span {:?} outside the input ({} bytes)",
            c.span,
            src.len()
        );
        // Pairs index into the same file's candidate list.
        for i in c.pair.iter().chain(c.token.iter()) {
            assert!(*i < found.len(), "pair index {i} of {}", found.len());
        }
    }
});
