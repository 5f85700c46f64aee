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
    /// Read into the caller's buffer.
    Bytes,
    TooLarge(u64),
    /// Replaced by a FIFO, socket or device since the walk saw it.
    NotRegular,
}

/// Reads a file the walker saw as regular. The open does not block, so a
/// FIFO swapped in after the walk cannot hang the scan, and the file is
/// read before it is asked anything: the walk's directory entry already
/// said "regular file", and a `fstat` per file was 25,000 system calls on
/// the real-repository corpus. Only what a read cannot tell apart is
/// asked of the open handle: nothing read (an empty file, or a FIFO with
/// no writer) and more than `max` read (a large file, or a device).
///
/// The bytes go into `buf`, cleared first: one buffer per thread, reused,
/// instead of an allocation (and for large files a map and unmap) per file.
pub fn read_regular(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Read> {
    use std::io::Read as _;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO without a writer returns at once.
        options.custom_flags(0o4000);
    }
    let mut file = options.open(path)?;
    buf.clear();
    // A file that grows while being read is cut one byte past the limit,
    // which `take_bytes` then reports as too large.
    (&mut file).take(max.saturating_add(1)).read_to_end(buf)?;
    if !buf.is_empty() && buf.len() as u64 <= max {
        return Ok(Read::Bytes);
    }
    let meta = file.metadata()?;
    if !meta.is_file() {
        buf.clear();
        return Ok(Read::NotRegular);
    }
    if buf.len() as u64 > max {
        let read = buf.len() as u64;
        buf.clear();
        return Ok(Read::TooLarge(meta.len().max(read)));
    }
    Ok(Read::Bytes)
}

/// How a file's bytes were read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without a byte-order mark).
    Utf8,
    /// Mostly UTF-8: invalid bytes and NULs read as `?` and spaces, offsets
    /// kept.
    Utf8Lossy,
    /// UTF-16, by its byte-order mark or by the pattern of its NUL bytes.
    Utf16 { big_endian: bool, bom: bool },
    /// Single-byte text (ISO 8859-1, Windows-1252): each byte one character.
    Latin1,
    /// Not text: only its printable runs are read, as `strings` would, every
    /// other byte a space so offsets stay the file's.
    Binary,
}

/// A file's bytes as text, with how they were read and what that cost.
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// Said when bytes had to be replaced or the file is read in part.
    pub warning: Option<FileWarning>,
}

/// The window the encoding is judged from, as git and ripgrep judge binary.
const SNIFF: usize = 8192;

/// How to read `bytes`, judged from their first 8 KiB: UTF-16 by a
/// byte-order mark or by NUL bytes in every other place; UTF-8 when the
/// bytes are valid UTF-8 but for a few stray bytes or NULs (a NUL does not
/// make a `.env` binary: one planted NUL must not hide a file); single-byte
/// text when most non-ASCII bytes are invalid UTF-8 but control bytes are
/// rare; otherwise binary.
pub fn classify(bytes: &[u8]) -> Encoding {
    if let Some(big_endian) = utf16_bom(bytes) {
        return Encoding::Utf16 {
            big_endian,
            bom: true,
        };
    }
    if utf8_without_nul(bytes).is_some() {
        return Encoding::Utf8;
    }
    classify_other(bytes)
}

/// [`classify`] of bytes that are not plain UTF-8 (a NUL in the head, or an
/// invalid sequence).
fn classify_other(bytes: &[u8]) -> Encoding {
    let head = &bytes[..bytes.len().min(SNIFF)];
    if let Some(big_endian) = utf16_by_nuls(head) {
        return Encoding::Utf16 {
            big_endian,
            bom: false,
        };
    }
    let Counts {
        nuls,
        controls,
        high,
    } = counts(head);
    // Text has next to no control bytes; machine code and compressed data
    // are full of them.
    if (controls - nuls) * 100 > head.len() || nuls * 20 > head.len() {
        return Encoding::Binary;
    }
    let invalid = invalid_utf8_bytes(head);
    if invalid * 10 >= head.len() * 3 && head.len() >= 16 || invalid * 2 > high && high > 8 {
        // Most high bytes stand alone: a single-byte encoding. (Compressed
        // data has them too, but also control bytes, judged above.)
        return if nuls == 0 {
            Encoding::Latin1
        } else {
            Encoding::Binary
        };
    }
    Encoding::Utf8Lossy
}

/// Reads `bytes` as `classify` judged them.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    decode_as(bytes, classify(bytes))
}

/// What a file's bytes are: text, or binary (whose text, its printable
/// runs, is made only when asked: most binary files hold nothing).
pub enum Content<'a> {
    Text(Decoded<'a>),
    Binary,
}

/// As [`decode`], but a binary file's text is not made.
pub fn content(bytes: &[u8]) -> Content<'_> {
    if let Some(text) = utf8_without_nul(bytes) {
        return Content::Text(Decoded {
            text: Cow::Borrowed(text),
            warning: None,
        });
    }
    let encoding = match utf16_bom(bytes) {
        Some(big_endian) => Encoding::Utf16 {
            big_endian,
            bom: true,
        },
        None => classify_other(bytes),
    };
    match encoding {
        Encoding::Binary => Content::Binary,
        e => Content::Text(decode_as(bytes, e)),
    }
}

/// Whether the bytes may be UTF-16: a byte-order mark, or NULs in every
/// other place of the first 8 KiB.
pub fn may_be_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF)];
    utf16_bom(bytes).is_some()
        || (memchr::memchr(0, head).is_some() && utf16_by_nuls(head).is_some())
}

/// The bytes as text when they are valid UTF-8 with no NUL in the first
/// 8 KiB: most files, in one validation.
fn utf8_without_nul(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(SNIFF)];
    if memchr::memchr(0, head).is_some() {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// Reads `bytes` in `encoding`.
pub fn decode_as(bytes: &[u8], encoding: Encoding) -> Decoded<'_> {
    let text = match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            // The window looked clean but a later byte is not: read lossily.
            Err(_) => return decode_as(bytes, Encoding::Utf8Lossy),
        },
        Encoding::Utf8Lossy => Cow::Owned(lossy_text(bytes).replace('\0', " ")),
        Encoding::Utf16 { big_endian, bom } => {
            let skip = if bom { 2 } else { 0 };
            Cow::Owned(decode_utf16(bytes.get(skip..).unwrap_or(&[]), big_endian))
        }
        Encoding::Latin1 => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        Encoding::Binary => Cow::Owned(printable_runs(bytes)),
    };
    Decoded {
        text,
        warning: decoding_warning(bytes, encoding),
    }
}

/// What reading `bytes` in `encoding` costs, said without making the text
/// (a file the prefilter skips still gets it). `Utf8` is for bytes known
/// to be valid.
pub fn decoding_warning(bytes: &[u8], encoding: Encoding) -> Option<FileWarning> {
    match encoding {
        Encoding::Utf8 | Encoding::Binary => None,
        Encoding::Utf8Lossy => {
            let nuls = memchr::memchr_iter(0, bytes).count();
            let invalid = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
            let message = match (invalid, nuls) {
                (Some(at), 0) => format!("invalid UTF-8 at byte {at}; invalid bytes read as `?`"),
                (Some(at), n) => format!(
                    "invalid UTF-8 at byte {at} and {n} NUL {}; invalid bytes read as `?`, NULs as spaces",
                    plural(n, "byte", "bytes")
                ),
                (None, n) => format!(
                    "{n} NUL {} read as {}",
                    plural(n, "byte", "bytes"),
                    plural(n, "a space", "spaces")
                ),
            };
            Some(decode_warning(message))
        }
        Encoding::Utf16 { big_endian, bom } => (!bom).then(|| {
            decode_warning(format!(
                "read as UTF-16{} (no byte-order mark; judged by its NUL bytes)",
                if big_endian { "BE" } else { "LE" }
            ))
        }),
        Encoding::Latin1 => Some(decode_warning(
            "not UTF-8: read as single-byte text (Latin-1)".into(),
        )),
    }
}

fn decode_warning(message: String) -> FileWarning {
    FileWarning {
        kind: WarningKind::Decode,
        message,
    }
}

fn plural<'s>(n: usize, one: &'s str, many: &'s str) -> &'s str {
    if n == 1 { one } else { many }
}

/// What the sniff counts in a file's head.
struct Counts {
    nuls: usize,
    /// Control bytes text does not hold: all below 0x20 but tab, line
    /// breaks and form feed, and DEL (NULs among them).
    controls: usize,
    /// Bytes past ASCII.
    high: usize,
}

/// One pass over the head for all three counts. It runs on 8 KiB of every
/// binary file the prefilter skips: written without branches (`&`, `|` on
/// bools, per-chunk `u8` sums), so the compiler makes vector code of it; a
/// branch per byte mispredicted on binary data and was 8% of a scan.
fn counts(head: &[u8]) -> Counts {
    let mut c = Counts {
        nuls: 0,
        controls: 0,
        high: 0,
    };
    for chunk in head.chunks(255) {
        let (mut nuls, mut controls, mut high) = (0u8, 0u8, 0u8);
        for &b in chunk {
            let text_control = (b == b'\t') | (b == b'\n') | (b == b'\r') | (b == 0x0C);
            nuls += u8::from(b == 0);
            controls += u8::from(((b < 0x20) & !text_control) | (b == 0x7F));
            high += u8::from(b >= 0x80);
        }
        c.nuls += usize::from(nuls);
        c.controls += usize::from(controls);
        c.high += usize::from(high);
    }
    c
}

/// Printable ASCII, tabs and line breaks as they are; every other byte a
/// space. One byte each way, so spans are the file's.
fn printable_runs(bytes: &[u8]) -> String {
    // Bytes, not chars: every byte written is ASCII, so the vector is UTF-8
    // and becomes a string without a copy (collecting chars pushed each
    // one as UTF-8, a sixth of a scan's time on a repo of images).
    let ascii: Vec<u8> = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                b
            } else {
                b' '
            }
        })
        .collect();
    String::from_utf8(ascii).unwrap_or_default()
}

fn utf16_bom(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

/// UTF-16 without a byte-order mark: text that is mostly ASCII has a NUL
/// in every other byte, on the same side. Some: big-endian.
fn utf16_by_nuls(head: &[u8]) -> Option<bool> {
    let pairs = head.len() / 2;
    if pairs < 4 {
        return None;
    }
    let (even, odd) = head.chunks_exact(2).fold((0usize, 0usize), |(e, o), pair| {
        (e + usize::from(pair[0] == 0), o + usize::from(pair[1] == 0))
    });
    // A NUL beside a NUL is a binary file's padding, not a UTF-16 high
    // byte of ASCII: one side must be nearly free of them.
    if odd * 2 >= pairs && even * 20 <= pairs {
        Some(false)
    } else if even * 2 >= pairs && odd * 20 <= pairs {
        Some(true)
    } else {
        None
    }
}

fn decode_utf16(bytes: &[u8], big_endian: bool) -> String {
    let units = bytes.chunks_exact(2).map(|c| {
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

    /// Only what a read cannot tell apart is asked of the handle: an empty
    /// file stays a file, a FIFO is not one, a large file has its size.
    #[test]
    fn reading_tells_files_apart_without_asking_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = |name: &str| dir.path().join(name);
        let mut buf = vec![b'x'; 64];
        std::fs::write(at("small"), b"abc").expect("write");
        assert!(matches!(
            read_regular(&at("small"), 10, &mut buf),
            Ok(Read::Bytes)
        ));
        assert_eq!(buf, b"abc");
        std::fs::write(at("empty"), b"").expect("write");
        assert!(matches!(
            read_regular(&at("empty"), 10, &mut buf),
            Ok(Read::Bytes)
        ));
        assert!(buf.is_empty());
        std::fs::write(at("exact"), b"0123456789").expect("write");
        assert!(matches!(
            read_regular(&at("exact"), 10, &mut buf),
            Ok(Read::Bytes)
        ));
        std::fs::write(at("large"), vec![b'y'; 1000]).expect("write");
        assert!(matches!(
            read_regular(&at("large"), 10, &mut buf),
            Ok(Read::TooLarge(1000))
        ));
        assert!(buf.is_empty(), "a large file's bytes are not kept");
        let status = std::process::Command::new("mkfifo")
            .arg(at("fifo"))
            .status()
            .expect("mkfifo");
        assert!(status.success());
        assert!(matches!(
            read_regular(&at("fifo"), 10, &mut buf),
            Ok(Read::NotRegular)
        ));
    }

    fn text_of(bytes: &[u8]) -> (String, Encoding) {
        let d = decode(bytes);
        (d.text.into_owned(), classify(bytes))
    }

    #[test]
    fn invalid_utf8_keeps_offsets() {
        let bytes = b"ab\xffcd\xe2\x82";
        let s = lossy_text(bytes);
        assert_eq!(s.len(), bytes.len());
        assert_eq!(s, "ab?cd??");
        let d = decode(bytes);
        assert_eq!(d.text, "ab?cd??");
        assert_eq!(classify(bytes), Encoding::Utf8Lossy);
        assert_eq!(d.warning.map(|w| w.kind), Some(WarningKind::Decode));
    }

    #[test]
    fn utf16_is_decoded_with_or_without_a_bom() {
        let utf16 = |s: &str, big: bool| -> Vec<u8> {
            s.encode_utf16()
                .flat_map(|u| {
                    if big {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect()
        };
        let mut b = vec![0xFF, 0xFE];
        b.extend(utf16("AKIA x", false));
        assert_eq!(utf16_bom(&b), Some(false));
        let d = decode(&b);
        assert_eq!(d.text, "AKIA x");
        assert!(d.warning.is_none());
        let env = "AWS_ACCESS_KEY_ID=AKIARZPUZDIKEEQH746Y\nnote=café\n";
        for big in [false, true] {
            let (text, enc) = text_of(&utf16(env, big));
            assert_eq!(text, env);
            assert_eq!(
                enc,
                Encoding::Utf16 {
                    big_endian: big,
                    bom: false
                }
            );
        }
    }

    #[test]
    fn the_head_counts_agree_with_a_byte_by_byte_count() {
        // Every byte value, in runs longer than a chunk, and an odd tail.
        let mut head: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        head.extend(std::iter::repeat_n(0u8, 300));
        head.extend(std::iter::repeat_n(0x7Fu8, 260));
        head.extend(b"text\t\r\n\x0c");
        let c = counts(&head);
        let naive_control =
            |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) || b == 0x7F;
        assert_eq!(c.nuls, head.iter().filter(|&&b| b == 0).count());
        assert_eq!(
            c.controls,
            head.iter().filter(|&&b| naive_control(b)).count()
        );
        assert_eq!(c.high, head.iter().filter(|&&b| b >= 0x80).count());
        assert!(c.controls > 300 && c.high > 1000, "the input has them");
    }

    #[test]
    fn a_nul_byte_does_not_make_text_binary() {
        let bytes = b"AWS_ACCESS_KEY_ID=AKIARZPUZDIKEEQH746Y\0\nx=1\n";
        let (text, enc) = text_of(bytes);
        assert_eq!(enc, Encoding::Utf8Lossy);
        assert_eq!(text, "AWS_ACCESS_KEY_ID=AKIARZPUZDIKEEQH746Y \nx=1\n");
        assert_eq!(text.len(), bytes.len());
    }

    #[test]
    fn binary_is_read_as_its_printable_runs() {
        let bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0AKIARZPUZDIKEEQH746Y\0\xff";
        let (text, enc) = text_of(bytes);
        assert_eq!(enc, Encoding::Binary);
        assert_eq!(text.len(), bytes.len());
        let at = text.find("AKIARZPUZDIKEEQH746Y").expect("kept");
        assert_eq!(&bytes[at..at + 20], b"AKIARZPUZDIKEEQH746Y");
        assert!(classify(&[0u8; 4096]) == Encoding::Binary);
        // zlib-compressed bytes (a loose git object): control bytes give it away.
        let compressed: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(classify(&compressed), Encoding::Binary);
    }

    #[test]
    fn latin1_text_is_text() {
        // A few accented letters: UTF-8 with replacements, offsets kept.
        let few = b"caf\xe9 cr\xe8me, aws_access_key_id = AKIARZPUZDIKEEQH746Y\n";
        assert_eq!(classify(few), Encoding::Utf8Lossy);
        // Mostly Latin-1: decoded as such.
        let mut many = Vec::new();
        for _ in 0..40 {
            many.extend_from_slice(b"\xe9t\xe9 \xe0 la pla\xe7e, ");
        }
        many.extend_from_slice(b"\nkey = AKIARZPUZDIKEEQH746Y\n");
        let (text, enc) = text_of(&many);
        assert_eq!(enc, Encoding::Latin1);
        assert!(text.starts_with("été à la plaçe, "));
        assert!(text.contains("key = AKIARZPUZDIKEEQH746Y"));
        // A multi-byte character cut at the 8 KiB edge is not held against it.
        let mut cut = "é".repeat(4095).into_bytes();
        cut.extend_from_slice(&[b'x', 0xC3]);
        assert_eq!(classify(&cut), Encoding::Utf8Lossy);
        assert_eq!(classify("plain text".as_bytes()), Encoding::Utf8);
    }
}
