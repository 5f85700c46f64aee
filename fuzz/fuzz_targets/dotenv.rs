#![no_main]
//! The dotenv parser must not panic, and every value it returns must point at
//! bytes of the input (a span past the end or inside a character would make
//! the report panic later).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = keyward::parse::dotenv::parse(src) {
        keyward_fuzz_check::values(src, &parsed.values);
    }
});
