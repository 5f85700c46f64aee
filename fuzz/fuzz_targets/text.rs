#![no_main]
//! The text scanner must not panic, and its values must be verbatim slices.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let values = keyward::parse::text::scan(src);
    keyward_fuzz_check::values(src, &values);
});
