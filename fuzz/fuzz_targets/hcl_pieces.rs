#![no_main]
//! Cutting a large HCL file into pieces must cover it exactly, in order,
//! and cut only just after a newline; whatever the bytes, never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let min_len = usize::from(data.first().copied().unwrap_or(0) % 64) + 1;
    let pieces = keyward::parse::hcl_pieces::pieces(src, min_len);
    let mut at = 0;
    for p in &pieces {
        assert_eq!(p.start, at, "pieces are contiguous");
        assert!(p.end >= p.start);
        if p.start > 0 {
            assert_eq!(src.as_bytes()[p.start - 1], b'\n', "cut after a newline");
        }
        at = p.end;
    }
    assert_eq!(at, src.len(), "pieces cover the input");
});
