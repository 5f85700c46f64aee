//! Reading a file the walker found and turning its bytes into text:
//! size limits, special files, binary detection, UTF-16 and invalid UTF-8.
//! What comes out is text whose byte offsets are the file's (a UTF-16 file
//! aside), or the verdict that it is binary.

use std::borrow::Cow;
use std::path::Path;

use crate::problem::{FileWarning, ProblemKind as WarningKind};

/// Files larger than this are skipped, counted and named (`--max-file-size`).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Generous: a 10 MiB file takes well under a second; only a pathological
/// one gets near this.
pub const DEFAULT_FILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What reading a file gave.
pub enum Read {
    Bytes(Vec<u8>),
    TooLarge(u64),
    /// Replaced by a FIFO, socket or device since the walk saw it.
    NotRegular,
}

/// Reads a file the walker saw as regular. The size comes from the open
/// handle (the walker no longer stats every entry: that was a second path
/// lookup per file), and the open does not block, so a FIFO swapped in
/// after the walk cannot hang the scan.
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Read> {
    use std::io::Read as _;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO without a writer returns at once.
        options.custom_flags(0o4000);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Read::NotRegular);
    }
    if meta.len() > max {
        return Ok(Read::TooLarge(meta.len()));
    }
    // A file that grows while being read is cut one byte past the limit,
    // which `take_bytes` then reports as too large.
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok(Read::Bytes(bytes))
}

/// A file's bytes as text, or binary.
pub enum Decoded<'a> {
    Binary,
    /// The text, and a warning when bytes had to be replaced.
    Text(Cow<'a, str>, Option<FileWarning>),
}

/// Decodes a file: UTF-16 by its byte-order mark, else UTF-8 with each
/// invalid byte read as `?` (offsets kept) and a warning.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let utf16 = utf16_bom(bytes);
    if utf16.is_none() && is_binary(bytes) {
        return Decoded::Binary;
    }
    match utf16 {
        Some(big_endian) => Decoded::Text(Cow::Owned(decode_utf16(bytes, big_endian)), None),
        None => match std::str::from_utf8(bytes) {
            Ok(s) => Decoded::Text(Cow::Borrowed(s), None),
            Err(e) => Decoded::Text(
                Cow::Owned(replace_invalid_utf8(bytes)),
                Some(FileWarning {
                    kind: WarningKind::Decode,
                    message: format!(
                        "invalid UTF-8 at byte {}; invalid bytes read as `?`",
                        e.valid_up_to()
                    ),
                }),
            ),
        },
    }
}

fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

fn decode_utf16(bytes: &[u8], big_endian: bool) -> String {
    let units = bytes.get(2..).unwrap_or(&[]).chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// NUL bytes in the first 8 KiB, as git and ripgrep judge it, or a window
/// that is mostly not UTF-8 (compressed git objects, PDFs, encrypted
/// files): text with a few Latin-1 bytes stays text, and is warned about.
pub fn is_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    invalid_utf8_bytes(head) * 10 >= head.len() * 3 && head.len() >= 16
}

/// How many bytes of `bytes` are not part of a valid UTF-8 sequence. A
/// sequence cut at the end of the window counts as valid.
fn invalid_utf8_bytes(mut bytes: &[u8]) -> usize {
    let mut invalid = 0;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(_) => return invalid,
            Err(e) => {
                let Some(bad) = e.error_len() else {
                    return invalid;
                };
                invalid += bad;
                bytes = bytes.get(e.valid_up_to() + bad..).unwrap_or(&[]);
            }
        }
    }
}

/// Each invalid byte becomes one `?`, so byte offsets stay what they were.
fn replace_invalid_utf8(bytes: &[u8]) -> String {
    lossy_text(bytes)
}

/// Bytes as text, each byte that is not part of valid UTF-8 replaced by `?`.
pub fn bytes_as_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| lossy_text(e.as_bytes()))
}

/// As [`bytes_as_text`], from a borrowed slice: one `?` per invalid byte,
/// so byte offsets stay what they were.
pub fn lossy_text(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or(""));
                let bad = e.error_len().unwrap_or(rest.len()).max(1).min(rest.len());
                out.extend(std::iter::repeat_n('?', bad));
                bytes = rest.get(bad..).unwrap_or(&[]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_keeps_offsets() {
        let bytes = b"ab\xffcd\xe2\x82";
        let s = replace_invalid_utf8(bytes);
        assert_eq!(s.len(), bytes.len());
        assert_eq!(s, "ab?cd??");
        let Decoded::Text(text, Some(w)) = decode(bytes) else {
            panic!("text with a warning");
        };
        assert_eq!(text, "ab?cd??");
        assert_eq!(w.kind, WarningKind::Decode);
    }

    #[test]
    fn utf16_is_decoded() {
        let mut b = vec![0xFF, 0xFE];
        for u in "AKIA x".encode_utf16() {
            b.extend(u.to_le_bytes());
        }
        assert_eq!(utf16_bom(&b), Some(false));
        assert_eq!(decode_utf16(&b, false), "AKIA x");
        assert!(matches!(decode(&b), Decoded::Text(t, None) if t == "AKIA x"));
    }

    #[test]
    fn binary_detection() {
        assert!(is_binary(b"PNG\0\0"));
        assert!(!is_binary(b"plain text"));
        // zlib-compressed bytes (a loose git object) hold no NUL here.
        let compressed: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x81)
            .collect();
        assert!(is_binary(&compressed));
        // Latin-1 text with a few accented letters is text.
        let latin1 = b"caf\xe9 cr\xe8me br\xfbl\xe9e, aws_access_key_id = AKIARZPUZDIKEEQH746Y\n";
        assert!(!is_binary(latin1));
        // A multi-byte character cut at the 8 KiB edge is not held against it.
        let mut cut = "é".repeat(4095).into_bytes();
        cut.extend_from_slice(&[b'x', 0xC3]);
        assert!(!is_binary(&cut));
    }
}
