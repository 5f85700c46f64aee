//! Times the prefilter alone over every file under a folder, held in
//! memory, and prints how many files it sends on to parsing: a change to
//! the prefilter must keep that count (and the placeholders it counts)
//! while it changes the time.
//!
//!     cargo build --profile profiling --example prefilter_corpus
//!     target/profiling/examples/prefilter_corpus /tmp/peerbench/planted
//!
//! With `--list`, it prints the size and path of each file sent on instead.
use std::time::Instant;

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: prefilter_corpus FOLDER");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file()
                && let Ok(bytes) = std::fs::read(entry.path())
                && bytes.len() <= 10 << 20
            {
                files.push((entry.path(), bytes));
            }
        }
    }
    if std::env::args().any(|a| a == "--list") {
        for (path, bytes) in &files {
            if keyward::prefilter::judge(bytes, false) == keyward::prefilter::Verdict::Parse {
                println!("{}\t{}", bytes.len(), path.display());
            }
        }
        return;
    }
    let total: usize = files.iter().map(|(_, b)| b.len()).sum();
    eprintln!("{} files, {} MB", files.len(), total >> 20);
    for _ in 0..5 {
        let started = Instant::now();
        let (mut parse, mut placeholders) = (0, 0);
        for (_, f) in &files {
            match keyward::prefilter::judge(f, false) {
                keyward::prefilter::Verdict::Parse => parse += 1,
                keyward::prefilter::Verdict::Skip { placeholders: p } => placeholders += p,
            }
        }
        eprintln!(
            "judge {:?} (parse {parse}, placeholders {placeholders})",
            started.elapsed()
        );
    }
}
