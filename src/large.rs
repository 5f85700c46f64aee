//! Files too large to parse (`--max-file-size`) are not skipped: their
//! bytes are streamed once, in bounded memory, for key IDs and for secrets
//! written under a credential name, and each line that holds one is kept as
//! a short window. The windows are the text the scan then reads, with a
//! map back to the file's lines and columns ([`crate::shown::Excerpt`]).
//! Padding a file past the limit therefore hides nothing.

use std::io::Read;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::shown::Excerpt;

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;
/// Bytes kept on each side of a hit in its window.
const REACH: usize = 200;
/// The longest hit: a search resumes this far before where the last one
/// stopped, so a hit across the edge of a chunk is found whole.
const OVERLAP: usize = 128;
/// Windows kept per file; hits past this are counted, not kept.
pub const MAX_WINDOWS: usize = 1000;

/// Key IDs (ASCII word boundaries, as everywhere else), and a 40-character
/// secret after a credential name (`aws_secret_access_key = …`,
/// `"SecretAccessKey": "…"`).
static HIT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let prefixes = crate::detect::key_id::CREDENTIAL_PREFIXES.join("|");
    Regex::new(&format!(
        r#"(?-u:\b)(?:{prefixes})[A-Z2-7]{{16}}(?-u:\b)|(?i:(?:aws_?)?secret_?access_?key|aws_?secret(?:_?key)?|secret_?key)["']?\s{{0,8}}[:=]\s{{0,8}}["']?[A-Za-z0-9/+]{{40}}(?-u:\b)"#
    ))
    .ok()
});

/// What a streamed file held: the windows around its hits, one per line,
/// as text with their places in the file.
#[derive(Debug, Default)]
pub struct Swept {
    pub text: String,
    pub excerpt: Excerpt,
    /// Hits past [`MAX_WINDOWS`], not kept.
    pub more: u64,
    pub bytes: u64,
    /// `stop` said so before the end: the rest was not read.
    pub cut: bool,
}

/// Where the stream stands: the file's line and the characters since it
/// started, at `at`.
struct Cursor {
    at: u64,
    line: usize,
    column: usize,
    /// The previous byte was a CR: a LF right after it ends no new line.
    after_cr: bool,
}

impl Cursor {
    fn advance(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\n' if self.after_cr => {}
                b'\n' | b'\r' => {
                    self.line += 1;
                    self.column = 0;
                }
                // A UTF-8 continuation byte is part of the previous
                // character.
                0x80..=0xBF => {}
                _ => self.column += 1,
            }
            self.after_cr = b == b'\r';
        }
        self.at += bytes.len() as u64;
    }
}

/// Streams `reader` to its end and keeps a window around each hit. Memory
/// is one chunk plus the windows, whatever the file's size. `stop` is
/// asked between chunks (the per-file time budget).
pub fn sweep(mut reader: impl Read, stop: &dyn Fn() -> bool) -> std::io::Result<Swept> {
    let mut out = Swept::default();
    let Some(hit) = HIT.as_ref() else {
        return Ok(out);
    };
    // `buf` holds the file from `base` on: the unsearched rest of the last
    // chunk's tail, then the new chunk.
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 2 * REACH);
    let mut base: u64 = 0;
    let mut cursor = Cursor {
        at: 0,
        line: 0,
        column: 0,
        after_cr: false,
    };
    // Where the search resumes, and where the last hit and the last window
    // ended (file offsets): a hit is taken once, windows never overlap.
    let mut searched: u64 = 0;
    let mut hit_end: u64 = 0;
    let mut window_end: u64 = 0;
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = read_full(&mut reader, &mut chunk)?;
        buf.extend_from_slice(&chunk[..n]);
        out.bytes += n as u64;
        let eof = n < CHUNK;
        // A hit is searched only where its window's end is in memory.
        let limit = if eof {
            buf.len()
        } else {
            buf.len().saturating_sub(REACH + 64)
        };
        let from = usize::try_from(searched.saturating_sub(base)).unwrap_or(usize::MAX);
        let mut pos = from;
        // `find_at` on the whole buffer: the word boundary before a hit at
        // `from` is judged by the byte before it.
        while pos < limit {
            let Some(m) = hit.find_at(&buf[..limit], pos) else {
                break;
            };
            pos = m.end().max(m.start() + 1);
            let (start, end) = (m.start(), m.end());
            let abs_start = base + start as u64;
            if abs_start < hit_end {
                continue;
            }
            hit_end = base + end as u64;
            if abs_start < window_end {
                continue;
            }
            if out.excerpt.len() >= MAX_WINDOWS {
                out.more += 1;
                continue;
            }
            // The window: REACH bytes each side, within the line (looked
            // for within REACH only: a long line costs nothing more).
            let reach_back = start.saturating_sub(REACH);
            let line_from = buf[reach_back..start]
                .iter()
                .rposition(|&b| b == b'\n' || b == b'\r')
                .map_or(reach_back, |i| reach_back + i + 1);
            let earliest = usize::try_from(window_end.saturating_sub(base)).unwrap_or(0);
            let w_start = floor_char(&buf, line_from.max(earliest));
            let reach_on = (end + REACH).min(buf.len());
            let w_end = buf[end..reach_on]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map_or(reach_on, |i| end + i);
            let w_end = floor_char(&buf, w_end.max(end));
            let skip = usize::try_from(cursor.at - base).unwrap_or(0);
            if w_start > skip {
                cursor.advance(&buf[skip..w_start]);
            }
            if !out.text.is_empty() {
                out.text.push('\n');
            }
            out.excerpt.push(cursor.line, cursor.column);
            out.text
                .push_str(&crate::source::lossy_text(&buf[w_start..w_end]));
            window_end = base + w_end as u64;
        }
        searched = base + limit.saturating_sub(OVERLAP) as u64;
        if eof {
            return Ok(out);
        }
        if stop() {
            out.cut = true;
            return Ok(out);
        }
        // Keep what the next search and window need: from the earlier of
        // the search point and REACH bytes before it.
        let keep_from = limit.saturating_sub(OVERLAP + REACH);
        let skip = usize::try_from(cursor.at - base).unwrap_or(0);
        if keep_from > skip {
            cursor.advance(&buf[skip..keep_from]);
        }
        buf.drain(..keep_from);
        base += keep_from as u64;
    }
}

/// Reads until `buf` is full or the reader ends.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `at`, moved back to the start of the UTF-8 character it falls in.
fn floor_char(buf: &[u8], mut at: usize) -> usize {
    at = at.min(buf.len());
    while at > 0 && at < buf.len() && (0x80..0xC0).contains(&buf[at]) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AKIARZPUZDIKEEQH746Y";
    const SECRET: &str = "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";

    #[test]
    fn hits_keep_their_lines_and_columns() {
        let mut file = "x = 1\n".repeat(300_000).into_bytes();
        let line = 300_000;
        file.extend_from_slice(format!("é pad key = \"{KEY}\"\r\n").as_bytes());
        file.extend_from_slice(&vec![b'a'; 3 * CHUNK]);
        file.extend_from_slice(format!(" aws_secret_access_key={SECRET}\n").as_bytes());
        let swept = sweep(&file[..], &|| false).expect("reads");
        assert_eq!(swept.bytes, file.len() as u64);
        let lines: Vec<&str> = swept.text.lines().collect();
        assert_eq!(lines.len(), 2, "{:?}", swept.text);
        assert!(lines[0].contains(KEY));
        // The first window starts at its line's start; the second REACH
        // bytes before its hit, in a line of 3 MiB.
        assert_eq!(swept.excerpt.place(0), Some((line, 0)));
        let (l, c) = swept.excerpt.place(1).expect("second");
        assert_eq!(l, line + 1);
        assert_eq!(c, 3 * CHUNK + 1 - REACH);
        assert!(lines[1].contains(SECRET));
    }

    #[test]
    fn a_hit_across_a_chunk_edge_is_found_once() {
        for shift in [0, 1, 7, 19, 20, 63, 64, 100, 300] {
            let mut file = vec![b' '; CHUNK - REACH - 64 - shift];
            file.extend_from_slice(KEY.as_bytes());
            file.extend_from_slice(&vec![b' '; CHUNK]);
            let swept = sweep(&file[..], &|| false).expect("reads");
            assert_eq!(swept.text.matches(KEY).count(), 1, "shift {shift}");
        }
    }

    #[test]
    fn windows_are_capped_and_counted() {
        let file = format!("{KEY}\n").repeat(MAX_WINDOWS + 5);
        let swept = sweep(file.as_bytes(), &|| false).expect("reads");
        assert_eq!(swept.excerpt.len(), MAX_WINDOWS);
        assert_eq!(swept.more, 5);
    }
}
