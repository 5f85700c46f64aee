//! Files the user names (a configuration, a baseline, an inventory, a
//! report to render): read whole, but only when they are regular files or
//! FIFOs, and never past a size cap. `--config /dev/zero` is an error that
//! names the file, not 9 GB of memory.

use std::io::Read as _;
use std::path::Path;

/// Large enough for any report or inventory keyward writes for a big
/// organisation; small enough that reading one cannot exhaust a runner.
pub const MAX_NAMED_FILE: u64 = 256 * 1024 * 1024;

/// Reads `path` as UTF-8 text, refusing devices, directories and anything
/// over `max` bytes.
pub fn read_text(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let meta = std::fs::metadata(path)?;
    let ft = meta.file_type();
    #[cfg(unix)]
    let fifo = std::os::unix::fs::FileTypeExt::is_fifo(&ft);
    #[cfg(not(unix))]
    let fifo = false;
    if !ft.is_file() && !fifo {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a device, directory or socket)",
        ));
    }
    if meta.len() > max {
        return Err(too_large(max));
    }
    let file = std::fs::File::open(path)?;
    read_capped(file, max)
}

/// Reads at most `max` bytes of `r` as UTF-8; more is an error.
pub fn read_capped(r: impl std::io::Read, max: u64) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    r.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn too_large(max: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!(
            "larger than {} MiB, the limit for a file named on the command line",
            max >> 20
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_oversized_files_are_refused() {
        let e = read_text(Path::new("/dev/zero"), 1024).expect_err("a device");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big.json");
        std::fs::write(&p, "x".repeat(2048)).expect("write");
        let e = read_text(&p, 1024).expect_err("too large");
        assert!(e.to_string().contains("larger than"), "{e}");
        std::fs::write(&p, "{}").expect("write");
        assert_eq!(read_text(&p, 1024).expect("small file"), "{}");
        let e = read_capped(std::io::repeat(b'a'), 10).expect_err("endless stream");
        assert!(e.to_string().contains("larger than"), "{e}");
    }
}
