//! File → candidates: walk or blobs, read, decode, prefilter, parse,
//! detect. No rule runs and IAM is not asked here; [`crate::scan::judge`] turns
//! the candidates into findings.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::detect::{self, Candidate, CandidateKind};
use crate::finding::{SourceFile, Warning};
use crate::parse::{self, Format};
use crate::prefilter;
use crate::scan::{Progress, ScanFailure, ScanOptions, Summary, join_workers};
use crate::walk::{self, Entry, WalkOptions};

/// Everything a set of files holds that the judge needs, with what went
/// wrong reading them.
#[derive(Default)]
pub(crate) struct Extracted {
    /// Files with candidates or ignore comments, sorted by path.
    pub files: Vec<FileCandidates>,
    pub errors: Vec<Warning>,
    pub summary: Summary,
    /// Files skipped as keyward's own reports: shown path and first line.
    pub own_reports: Vec<(String, String)>,
    /// Files skipped as IAM inventories: shown paths.
    pub inventories: Vec<String>,
}

impl Extracted {
    fn merge(states: Vec<ThreadState>) -> Extracted {
        let mut out = Extracted::default();
        for st in states {
            out.files.extend(st.files);
            out.errors.extend(st.errors);
            out.summary.add(&st.summary);
            out.own_reports.extend(st.own_reports);
            out.inventories.extend(st.inventories);
        }
        out.own_reports.sort();
        out.inventories.sort();
        out.files.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// The key IDs and pairs IAM is asked about. Placeholders and malformed IDs
    /// are never sent; secrets are collected only when pairs are verified.
    pub fn wanted(&self, iam: &crate::iam::IamOptions) -> crate::iam::Wanted {
        let mut wanted = crate::iam::Wanted::default();
        if iam.source == crate::iam::SourceChoice::None && !iam.verify_pairs {
            return wanted;
        }
        for f in &self.files {
            for c in &f.candidates {
                if c.kind != CandidateKind::AccessKeyId || c.malformed || c.placeholder {
                    continue;
                }
                wanted.keys.insert(c.value.clone());
                let secret = c.pair.and_then(|i| f.candidates.get(i));
                if iam.verify_pairs
                    && let Some(s) = secret.filter(|s| !s.placeholder)
                {
                    wanted.pairs.push(crate::iam::Pair {
                        key_id: c.value.clone(),
                        secret: s.value.clone(),
                        token: c
                            .token
                            .and_then(|i| f.candidates.get(i))
                            .map(|t| t.value.clone()),
                    });
                }
            }
        }
        wanted
    }
}

/// One file's candidates, on their way to the judge.
pub(crate) struct FileCandidates {
    pub path: String,
    pub format: Format,
    pub text: Arc<str>,
    pub candidates: Vec<Candidate>,
    pub ignores: Vec<crate::ignore_comment::IgnoreMarker>,
    /// A file too large to parse: `text` holds windows of it.
    pub excerpt: Option<Arc<crate::shown::Excerpt>>,
}

impl FileCandidates {
    /// The access key ID a candidate is about: itself, or the key ID it
    /// is paired with.
    pub fn key_of<'a>(&'a self, c: &'a Candidate) -> Option<&'a Candidate> {
        match c.kind {
            CandidateKind::AccessKeyId => Some(c),
            _ => c.pair.and_then(|i| self.candidates.get(i)),
        }
    }

    /// The secret access key a candidate is about: itself, or the secret
    /// paired with its key ID. A session token has none of its own.
    pub fn secret_of<'a>(&'a self, c: &'a Candidate) -> Option<&'a Candidate> {
        match c.kind {
            CandidateKind::SecretAccessKey => Some(c),
            CandidateKind::AccessKeyId => c.pair.and_then(|i| self.candidates.get(i)),
            CandidateKind::SessionToken => None,
        }
    }

    /// The credential at a place, whatever rule speaks of it
    /// ([`crate::Finding::identity`]): the same in every version of a
    /// file, so a change that only moves it can be told from one that adds
    /// it.
    pub fn identity(&self, c: &Candidate) -> String {
        crate::finding::fingerprint(
            "",
            "",
            self.key_of(c).map_or("", |k| k.value.as_str()),
            self.secret_of(c).map_or("", |s| s.value.as_str()),
            &c.context,
        )
    }

    /// The file as the reporters see it: text, spans to mask, ignores.
    pub fn source_file(&self) -> SourceFile {
        SourceFile {
            path: self.path.clone(),
            format: self.format,
            text: self.text.clone(),
            secret_spans: self
                .candidates
                .iter()
                .filter(|c| c.kind != CandidateKind::AccessKeyId)
                .map(|c| c.span.clone())
                .collect(),
            ignores: self.ignores.clone(),
            excerpt: self.excerpt.clone(),
        }
    }
}

#[derive(Default)]
struct ThreadState {
    /// The read buffer, reused file after file.
    buf: Vec<u8>,
    files: Vec<FileCandidates>,
    own_reports: Vec<(String, String)>,
    inventories: Vec<String>,
    errors: Vec<Warning>,
    summary: Summary,
}

/// Walks `opts.paths` in parallel and extracts every file's candidates.
pub(crate) fn paths(opts: &ScanOptions, progress: &Progress) -> Result<Extracted, ScanFailure> {
    for p in &opts.paths {
        if std::fs::symlink_metadata(p).is_err() {
            return Err(ScanFailure::PathNotFound(p.clone()));
        }
    }
    let walk_opts = WalkOptions {
        no_ignore: opts.no_ignore,
        threads: opts.threads,
        follow_links: false,
    };
    let states = walk::walk(
        &opts.paths,
        &walk_opts,
        ThreadState::default,
        |st, entry| visit(st, entry, opts, progress),
        || {
            // The walk starts over: what it counted so far is counted again.
            progress.files.store(0, Ordering::Relaxed);
            progress.bytes.store(0, Ordering::Relaxed);
            progress.candidates.store(0, Ordering::Relaxed);
        },
    );
    Ok(Extracted::merge(states))
}

fn visit(st: &mut ThreadState, entry: Entry, opts: &ScanOptions, progress: &Progress) {
    match entry {
        Entry::Error { path, message } => st.errors.push(Warning {
            kind: crate::finding::ProblemKind::Read,
            path: path.map_or_else(String::new, |p| walk::display_path(&p, &opts.cwd)),
            message,
        }),
        Entry::Skipped => st.summary.skipped_other += 1,
        Entry::Symlink { path } => {
            if let Some(scope) = &opts.scope
                && !scope.wants(&path, &opts.cwd)
            {
                st.summary.excluded += 1;
                return;
            }
            let display = walk::display_path(&path, &opts.cwd);
            st.summary.symlinks += 1;
            match std::fs::read_link(&path) {
                Ok(target) => {
                    let target = target.as_os_str().as_encoded_bytes().to_vec();
                    take_bytes(st, &path, &|| display.clone(), &target, opts, progress);
                }
                Err(e) => st.errors.push(Warning {
                    kind: crate::finding::ProblemKind::Read,
                    path: display,
                    message: format!("cannot read the symlink: {e}"),
                }),
            }
        }
        Entry::File { path, len } => {
            if let Some(scope) = &opts.scope
                && !scope.wants(&path, &opts.cwd)
            {
                st.summary.excluded += 1;
                return;
            }
            // Made only for a file something is said of: most files have
            // nothing key-like and never need it.
            let shown = || walk::display_path(&path, &opts.cwd);
            if let Some(len) = len
                && len > opts.max_file_size
            {
                let large = sweep_file(&path, len, opts.file_timeout);
                take_large(st, shown(), large, opts, progress);
                return;
            }
            let mut buf = std::mem::take(&mut st.buf);
            match crate::source::read_regular(&path, opts.max_file_size, &mut buf) {
                Ok(crate::source::Read::Bytes) => {
                    take_bytes(st, &path, &shown, &buf, opts, progress);
                }
                Ok(crate::source::Read::TooLarge(len)) => {
                    let large = sweep_file(&path, len, opts.file_timeout);
                    take_large(st, shown(), large, opts, progress);
                }
                Ok(crate::source::Read::NotRegular) => st.summary.skipped_other += 1,
                Err(e) => st.errors.push(Warning {
                    kind: crate::finding::ProblemKind::Read,
                    path: shown(),
                    message: format!("cannot read: {e}"),
                }),
            }
            // A rare huge file does not keep its buffer for the rest of the walk.
            if buf.capacity() > KEPT_BUFFER {
                buf = Vec::new();
            }
            st.buf = buf;
        }
    }
}

/// A read buffer grown past this by one large file is let go.
const KEPT_BUFFER: usize = 4 << 20;

/// Counts, decodes, parses and detects one file's content.
fn take_bytes(
    st: &mut ThreadState,
    path: &Path,
    shown: &dyn Fn() -> String,
    bytes: &[u8],
    opts: &ScanOptions,
    progress: &Progress,
) {
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress
        .bytes
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    if bytes.len() as u64 > opts.max_file_size {
        let large = Large {
            size: bytes.len() as u64,
            swept: crate::large::sweep(bytes, &|| false),
        };
        take_large(st, shown(), large, opts, progress);
        return;
    }
    let outcome = process_file(path, shown, bytes, opts);
    st.summary.bytes_scanned += bytes.len() as u64;
    st.summary.placeholders += outcome.placeholders;
    match outcome.status {
        Status::Binary => st.summary.skipped_binary += 1,
        Status::NoKeyword => st.summary.files_scanned += 1,
        Status::Parsed => {
            st.summary.files_scanned += 1;
            st.summary.files_parsed += 1;
        }
        Status::Inventory => {
            st.summary.inventories += 1;
            st.inventories.push(shown());
        }
        Status::OwnReport { first_line } => {
            st.summary.own_reports += 1;
            st.own_reports.push((shown(), first_line));
        }
    }
    for w in outcome.warnings {
        st.errors.push(Warning {
            kind: w.kind,
            path: shown(),
            message: w.message,
        });
    }
    if let Some(file) = outcome.file {
        progress
            .candidates
            .fetch_add(file.candidates.len() as u64, Ordering::Relaxed);
        st.files.push(file);
    }
}

/// One blob, unless the configuration's scope leaves it out; a context
/// blob is taken without being counted.
fn take_blob(st: &mut ThreadState, blob: Blob, opts: &ScanOptions, progress: &Progress) {
    if blob.context {
        let counted = (
            st.summary.clone(),
            st.inventories.len(),
            st.own_reports.len(),
        );
        take_counted(st, blob, opts, progress);
        st.summary = counted.0;
        st.inventories.truncate(counted.1);
        st.own_reports.truncate(counted.2);
        return;
    }
    take_counted(st, blob, opts, progress);
}

fn take_counted(st: &mut ThreadState, blob: Blob, opts: &ScanOptions, progress: &Progress) {
    let path = PathBuf::from(&blob.path);
    if let Some(scope) = &opts.scope
        && !scope.wants(&path, &opts.cwd)
    {
        st.summary.excluded += 1;
        return;
    }
    match blob.large {
        Some(large) => take_large(st, blob.path, *large, opts, progress),
        None => take_bytes(
            st,
            &path,
            &|| blob.path.clone(),
            &blob.bytes,
            opts,
            progress,
        ),
    }
}

/// A file too large to parse: its windows ([`crate::large`]) are the text
/// that is scanned, as text, and each place is the file's own.
fn take_large(
    st: &mut ThreadState,
    display: String,
    large: Large,
    opts: &ScanOptions,
    progress: &Progress,
) {
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress.bytes.fetch_add(large.size, Ordering::Relaxed);
    let swept = match large.swept {
        Ok(s) => s,
        Err(e) => {
            st.errors.push(Warning {
                kind: crate::finding::ProblemKind::Read,
                path: display,
                message: format!(
                    "cannot read: {e} ({} bytes, over --max-file-size)",
                    large.size
                ),
            });
            return;
        }
    };
    st.summary.skipped_large += 1;
    st.summary.bytes_scanned += swept.bytes;
    let mut message = format!(
        "not parsed: {} bytes is over --max-file-size ({}); searched for key IDs and named secrets only",
        large.size, opts.max_file_size
    );
    if swept.more > 0 {
        message.push_str(&format!(
            "; {} more past the first {} not shown",
            swept.more,
            crate::large::MAX_WINDOWS
        ));
    }
    if swept.cut {
        message.push_str("; stopped after --file-timeout, the rest not searched");
    }
    st.errors.push(Warning {
        kind: crate::finding::ProblemKind::TooLarge,
        path: display.clone(),
        message,
    });
    if swept.text.is_empty() {
        return;
    }
    let values = parse::text::scan(&swept.text);
    // Documentation accounts' keys are not judged here: the windows are
    // lines out of context (a docstring's quotes may lie outside them).
    let candidates = detect::detect(&swept.text, &values);
    if candidates.is_empty() {
        return;
    }
    progress
        .candidates
        .fetch_add(candidates.len() as u64, Ordering::Relaxed);
    st.files.push(FileCandidates {
        path: display,
        format: Format::Text,
        text: Arc::from(swept.text.as_str()),
        candidates,
        ignores: Vec::new(),
        excerpt: Some(Arc::new(swept.excerpt)),
    });
}

/// Streams a file too large to read whole.
fn sweep_file(path: &Path, size: u64, timeout: Option<std::time::Duration>) -> Large {
    let _budget = crate::budget::start(timeout);
    let swept = std::fs::File::open(path)
        .and_then(|f| crate::large::sweep(std::io::BufReader::new(f), &crate::budget::expired));
    Large { size, swept }
}

/// Content that does not come from the working tree: a staged file, a blob
/// of a commit. `path` is what output shows (repo-relative, `/`-separated).
#[derive(Debug)]
pub struct Blob {
    /// The path it is shown at, which also decides its format.
    pub path: String,
    /// Its content.
    pub bytes: Vec<u8>,
    /// Content too large to parse, streamed for keys instead of read
    /// (`bytes` is then empty).
    pub large: Option<Box<Large>>,
    /// Read only so that rules about the whole repository see it (a
    /// commit's context): judged with the rest, left out of the summary,
    /// which counts what the caller asked to scan.
    pub context: bool,
}

impl Blob {
    /// Content to scan as if it were the file at `path`.
    pub fn new(path: impl Into<String>, bytes: Vec<u8>) -> Blob {
        Blob {
            path: path.into(),
            bytes,
            large: None,
            context: false,
        }
    }

    /// Content too large to parse, streamed for keys by whoever read it.
    pub fn too_large(path: impl Into<String>, large: Large) -> Blob {
        Blob {
            path: path.into(),
            bytes: Vec::new(),
            large: Some(Box::new(large)),
            context: false,
        }
    }

    /// The content's size in bytes, read or streamed.
    pub fn size(&self) -> u64 {
        self.large
            .as_ref()
            .map_or(self.bytes.len() as u64, |l| l.size)
    }
}

/// What streaming a file too large to parse gave.
#[derive(Debug)]
pub struct Large {
    pub size: u64,
    pub swept: std::io::Result<crate::large::Swept>,
}

/// Reads `blobs` on the calling thread (`--history` reads one at a time
/// on each of its own workers: no thread per call).
pub(crate) fn blobs_here(
    blobs: impl IntoIterator<Item = Blob>,
    opts: &ScanOptions,
    progress: &Progress,
) -> Extracted {
    let mut st = ThreadState::default();
    for blob in blobs {
        take_blob(&mut st, blob, opts, progress);
    }
    Extracted::merge(vec![st])
}

/// Reads blobs in parallel with the same decoding, parsing and detection as
/// a directory. `opts.paths` is not used.
pub(crate) fn blobs(blobs: Vec<Blob>, opts: &ScanOptions, progress: &Progress) -> Extracted {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    if threads == 1 {
        return blobs_here(blobs, opts, progress);
    }
    let (tx, rx) = crossbeam_channel::unbounded::<Blob>();
    for b in blobs {
        // The receiver outlives this loop, so sending cannot fail.
        let _ = tx.send(b);
    }
    drop(tx);
    let states: Vec<ThreadState> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                scope.spawn(move || {
                    let mut st = ThreadState::default();
                    for blob in rx.iter() {
                        take_blob(&mut st, blob, opts, progress);
                    }
                    st
                })
            })
            .collect();
        join_workers(workers, "scan", |e| ThreadState {
            errors: vec![e],
            ..ThreadState::default()
        })
    });
    Extracted::merge(states)
}

enum Status {
    /// Not text: its printable runs were searched for keys, nothing parsed.
    Binary,
    NoKeyword,
    Parsed,
    /// An IAM inventory: key IDs by design, not scanned.
    Inventory,
    /// keyward's own output: not scanned.
    OwnReport {
        first_line: String,
    },
}

struct Outcome {
    status: Status,
    warnings: Vec<parse::FileWarning>,
    file: Option<FileCandidates>,
    /// Documentation key IDs the prefilter saw in a file it did not parse.
    placeholders: u64,
}

/// Decodes, parses and scans one file's bytes.
fn process_file(
    path: &Path,
    shown: &dyn Fn() -> String,
    bytes: &[u8],
    opts: &ScanOptions,
) -> Outcome {
    let timeout = opts.file_timeout;
    let _budget = crate::budget::start(timeout);
    let mut outcome = process_file_within_budget(path, shown, bytes, opts);
    if crate::budget::was_exceeded() {
        outcome
            .warnings
            .retain(|w| w.kind != parse::WarningKind::Budget);
        outcome.warnings.push(parse::FileWarning {
            kind: parse::WarningKind::Budget,
            message: format!(
                "stopped after --file-timeout ({:.1}s): findings in this file may be incomplete",
                timeout.unwrap_or_default().as_secs_f64()
            ),
        });
    }
    outcome
}

impl Outcome {
    /// A file given up before any detection: no candidates.
    fn without_file(status: Status, warnings: Vec<parse::FileWarning>, placeholders: u64) -> Self {
        Outcome {
            status,
            warnings,
            file: None,
            placeholders,
        }
    }
}

fn process_file_within_budget(
    path: &Path,
    shown: &dyn Fn() -> String,
    bytes: &[u8],
    opts: &ScanOptions,
) -> Outcome {
    let include_placeholders = opts.include_placeholders;
    let text_or_binary = |binary: bool| {
        if binary {
            Status::Binary
        } else {
            Status::NoKeyword
        }
    };
    let mut warnings = Vec::new();
    // Most files hold nothing key-like: judged as read, they are never
    // decoded. Every decoding but UTF-16's keeps ASCII bytes where they are.
    let as_read = !crate::source::may_be_utf16(bytes);
    if as_read
        && let prefilter::Verdict::Skip { placeholders } =
            prefilter::judge(bytes, include_placeholders)
    {
        let encoding = crate::source::classify(bytes);
        warnings.extend(crate::source::decoding_warning(bytes, encoding));
        let binary = encoding == crate::source::Encoding::Binary;
        return Outcome::without_file(text_or_binary(binary), warnings, placeholders);
    }
    // Binary bytes are searched as they are: no text is made of a file
    // whose bytes hold nothing key-like.
    let (decoded, binary) = match crate::source::content(bytes) {
        crate::source::Content::Text(d) => (d, false),
        crate::source::Content::Binary => {
            if !as_read
                && let prefilter::Verdict::Skip { placeholders } =
                    prefilter::judge(bytes, include_placeholders)
            {
                return Outcome::without_file(Status::Binary, warnings, placeholders);
            }
            (
                crate::source::decode_as(bytes, crate::source::Encoding::Binary),
                true,
            )
        }
    };
    warnings.extend(decoded.warning);
    let text = decoded.text;
    // Bytes the prefilter passed above pass again when decoding kept them.
    // A binary file's printable runs are judged again: its raw bytes pass
    // by chance (a prefix amid bytes past ASCII), and the runs were a
    // tenth of a scan's time on real repositories (a 3.7 MB video).
    let judged = as_read && matches!(text, std::borrow::Cow::Borrowed(_));
    if !judged
        && let prefilter::Verdict::Skip { placeholders } =
            prefilter::judge(text.as_bytes(), include_placeholders)
    {
        return Outcome::without_file(text_or_binary(binary), warnings, placeholders);
    }
    if let Some(status) = own_report(&text) {
        return Outcome::without_file(status, warnings, 0);
    }
    let (file, parse_warning) = candidates_in(path, shown, &text, binary, opts);
    warnings.extend(parse_warning);
    Outcome {
        status: if binary {
            Status::Binary
        } else {
            Status::Parsed
        },
        warnings,
        file,
        placeholders: 0,
    }
}

/// keyward's own report or inventory, which is skipped, not scanned.
fn own_report(text: &str) -> Option<Status> {
    use crate::own_report::Kind;
    match crate::own_report::kind(text)? {
        Kind::Inventory => Some(Status::Inventory),
        Kind::Sarif | Kind::Json | Kind::Audit => {
            let first = text.lines().next().unwrap_or("");
            let end = first.floor_char_boundary(200);
            Some(Status::OwnReport {
                first_line: first[..end].to_string(),
            })
        }
    }
}

/// Parses (or, for a binary file's printable runs, text-scans) the file and
/// detects its candidates and ignore markers; `None` when it holds neither.
fn candidates_in(
    path: &Path,
    shown: &dyn Fn() -> String,
    text: &str,
    binary: bool,
    opts: &ScanOptions,
) -> (Option<FileCandidates>, Option<parse::FileWarning>) {
    let worth = |piece: &str| prefilter::may_contain_credentials(piece.as_bytes());
    // A binary file's printable runs have no structure to parse.
    let (values, format, parse_warning) = if binary {
        (parse::text::scan(text), Format::Text, None)
    } else {
        // A poisoned cache (a worker panicked mid-parse) is only a cache:
        // parse without it.
        let mut pieces = opts.pieces.as_ref().and_then(|c| c.lock().ok());
        parse::values(path, text, &worth, pieces.as_deref_mut())
    };
    let mut candidates = detect::detect(text, &values);
    detect::documented::mark_examples(text, &values, path, &mut candidates);
    let mut ignores = crate::ignore_comment::find_markers(text);
    if crate::ignore_comment::is_markdown(path) {
        ignores = crate::ignore_comment::outside_markdown_fences(text, ignores);
    }
    let file = (!candidates.is_empty() || !ignores.is_empty()).then(|| FileCandidates {
        path: shown(),
        format,
        text: Arc::from(text),
        candidates,
        ignores,
        excerpt: None,
    });
    (file, parse_warning)
}
