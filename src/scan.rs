//! The pipeline: walk → prefilter → parse → detect → enrich → rules.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::detect::{self, Candidate, CandidateKind, key_id};
use crate::finding::{Finding, ScanError, SourceFile, fingerprint};
use crate::parse::{self, Format};
use crate::prefilter;
use crate::rules::facts::{Fact, Facts};
use crate::rules::{RuleSet, Severity, eval};
use crate::walk::{self, Entry, WalkOptions};

/// Policy settings that rules see as `config.*` facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub allowed_accounts: Vec<String>,
    pub max_key_age_days: i64,
    pub max_unused_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_accounts: Vec::new(),
            max_key_age_days: 90,
            max_unused_days: 90,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub no_ignore: bool,
    pub max_file_size: u64,
    /// 0 picks the number of CPUs.
    pub threads: usize,
    pub include_placeholders: bool,
    pub policy: Policy,
    /// Paths are shown relative to this directory when below it.
    pub cwd: PathBuf,
    /// `[scan] include`/`exclude` of the configuration.
    pub scope: Option<Scope>,
    /// Where `iam.*` facts come from, and whether pairs are verified.
    pub iam: crate::iam::IamOptions,
    /// Time budget per file (`--file-timeout`); `None` is unlimited.
    pub file_timeout: Option<std::time::Duration>,
    /// IAM's answers given in advance: IAM is not asked, and what it would
    /// have been asked is kept in [`ScanOutput::iam_wanted`] (`--history`
    /// asks once for all blobs).
    pub iam_answers: Option<std::sync::Arc<crate::iam::Enrichment>>,
}

/// Which files a configuration keeps in scope, by globs relative to `root`.
#[derive(Debug, Clone)]
pub struct Scope {
    pub root: PathBuf,
    pub exclude: globset::GlobSet,
    pub include: Option<globset::GlobSet>,
}

impl Scope {
    fn wants(&self, path: &Path, cwd: &Path) -> bool {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            cwd.join(path)
        };
        let abs = std::path::absolute(&abs).unwrap_or(abs);
        let root = std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone());
        let rel = normalize(abs.strip_prefix(&root).unwrap_or(&abs));
        if self.exclude.is_match(&rel) {
            return false;
        }
        self.include.as_ref().is_none_or(|s| s.is_match(&rel))
    }
}

/// Drops `.` components so globs match `a/b.tf`, not `./a/b.tf`.
fn normalize(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;
/// Generous: a 10 MiB file takes well under a second; only a pathological
/// one gets near this.
pub const DEFAULT_FILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            paths: vec![PathBuf::from(".")],
            no_ignore: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: 0,
            include_placeholders: false,
            policy: Policy::default(),
            cwd: std::env::current_dir().unwrap_or_default(),
            scope: None,
            iam: crate::iam::IamOptions::default(),
            file_timeout: Some(DEFAULT_FILE_TIMEOUT),
            iam_answers: None,
        }
    }
}

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub candidates: AtomicU64,
    /// IAM/STS requests sent (shared with the live IAM client).
    pub iam_requests: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Regular files read.
    pub files_scanned: u64,
    /// Files that passed the keyword prefilter and were parsed.
    pub files_parsed: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    /// Symlinks not followed, FIFOs, sockets, devices.
    pub skipped_other: u64,
    pub findings: u64,
    /// Placeholder credentials left out (see `--include-placeholders`).
    pub placeholders: u64,
    /// Files left out by the configuration's include/exclude globs.
    pub excluded: u64,
    /// Findings counted but not reported one by one (see [`More`]).
    pub not_shown: u64,
    /// keyward's own reports, skipped.
    pub own_reports: u64,
    /// IAM inventories (`keyward inventory pull`), skipped.
    pub inventories: u64,
    /// Baselined findings accepted at a new path (their file moved).
    pub baseline_moved: u64,
}

impl Summary {
    /// Adds the counts of one part of a scan. `findings` is left out: it is
    /// set once, from the findings that remain after merging.
    pub(crate) fn add(&mut self, s: &Summary) {
        self.files_scanned += s.files_scanned;
        self.files_parsed += s.files_parsed;
        self.bytes_scanned += s.bytes_scanned;
        self.skipped_binary += s.skipped_binary;
        self.skipped_large += s.skipped_large;
        self.skipped_other += s.skipped_other;
        self.placeholders += s.placeholders;
        self.excluded += s.excluded;
        self.not_shown += s.not_shown;
        self.own_reports += s.own_reports;
        self.inventories += s.inventories;
    }
}

#[derive(Debug, Clone, Default)]
pub struct ScanOutput {
    /// Sorted by path, offset, rule.
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub summary: Summary,
    pub files: Vec<SourceFile>,
    /// The policy the rules ran with (reports show the rotation limit).
    pub policy: Policy,
    /// With [`ScanOptions::iam_answers`]: what IAM would have been asked.
    pub(crate) iam_wanted: crate::iam::Wanted,
    /// Findings past the per-file cap, counted by file and rule.
    pub more: Vec<More>,
    /// The gate this run was judged by, once the caller has decided it.
    pub gate: Option<Gate>,
    /// `--verify-pairs`: the keys this run itself used.
    pub signed_with: Option<crate::iam::SignedWith>,
    /// What the run was: when, on what, with which IAM facts.
    pub meta: ScanMeta,
    /// Files skipped as keyward's own reports (see [`crate::own_report`]):
    /// shown path and first line.
    pub own_reports: Vec<(String, String)>,
}

/// What a report needs to say what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanMeta {
    /// When the scan ran (or the `--now` it was pinned to), RFC 3339.
    pub date: String,
    /// The repository (its `origin` URL without credentials, else its
    /// directory name) and commit, when the scan ran in a git work tree.
    pub repository: Option<String>,
    pub commit: Option<String>,
    pub iam: Option<crate::iam::IamSourceInfo>,
}

/// The exit-code gate: its threshold (`None`: never fails) and how many
/// findings, counted ones past the per-file cap included, are at or above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub fail_on: Option<Severity>,
    pub failing: u64,
}

impl Gate {
    /// Judges `out` by `fail_on`.
    pub fn judge(out: &ScanOutput, fail_on: Option<Severity>) -> Gate {
        let shown = out
            .active()
            .filter(|f| crate::rules::eval::at_least(f.severity, fail_on))
            .count() as u64;
        let more: u64 = out
            .more
            .iter()
            .filter(|m| crate::rules::eval::at_least(m.severity, fail_on))
            .map(|m| m.count)
            .sum();
        Gate {
            fail_on,
            failing: shown + more,
        }
    }
}

impl ScanOutput {
    /// Findings not accepted by an ignore, allow entry or baseline.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.active().filter(|f| f.severity == severity).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanFailure {
    #[error("path not found: {0}")]
    PathNotFound(PathBuf),
    #[error(transparent)]
    Iam(#[from] crate::iam::IamError),
}

/// One file with candidates, on its way to the rules.
struct FileResult {
    path: String,
    format: Format,
    text: Arc<str>,
    candidates: Vec<Candidate>,
    ignores: Vec<crate::suppress::IgnoreMarker>,
}

impl FileResult {
    /// The file as the reporters see it: text, spans to mask, ignores.
    fn source_file(&self) -> SourceFile {
        SourceFile {
            path: self.path.clone(),
            format: self.format.as_str(),
            text: self.text.clone(),
            secret_spans: self
                .candidates
                .iter()
                .filter(|c| c.kind != CandidateKind::AccessKeyId)
                .map(|c| c.span.clone())
                .collect(),
            ignores: self.ignores.clone(),
        }
    }
}

impl ThreadState {
    /// A file skipped for its size is counted and named, never silent.
    fn too_large(&mut self, path: String, len: u64, max: u64) {
        self.summary.skipped_large += 1;
        self.errors.push(ScanError {
            path,
            message: format!("skipped: {len} bytes is over --max-file-size ({max})"),
        });
    }
}

#[derive(Default)]
struct ThreadState {
    files: Vec<FileResult>,
    own_reports: Vec<(String, String)>,
    errors: Vec<ScanError>,
    summary: Summary,
}

pub fn scan(
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<ScanOutput, ScanFailure> {
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
    );
    finish(states, rules, opts)
}

/// Merges the threads' results, sorts them, and runs the rules.
fn finish(
    states: Vec<ThreadState>,
    rules: &RuleSet,
    opts: &ScanOptions,
) -> Result<ScanOutput, ScanFailure> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut summary = Summary::default();
    let mut own_reports = Vec::new();
    for st in states {
        files.extend(st.files);
        errors.extend(st.errors);
        summary.add(&st.summary);
        own_reports.extend(st.own_reports);
    }
    own_reports.sort();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    // IAM is asked once, about everything found, before any rule runs.
    let wanted = iam_wanted(&files, opts);
    let iam = match &opts.iam_answers {
        // Whoever asked reports the warnings, once.
        Some(given) => given.clone(),
        None => {
            let asked = crate::iam::enrich(&wanted, &opts.iam)?;
            errors.extend(asked.warnings.iter().cloned().map(ScanError::from_aws));
            std::sync::Arc::new(asked)
        }
    };
    errors.sort();
    let mut out = judge(files, rules, opts, &iam, &mut summary, &mut errors);
    out.errors = errors;
    out.own_reports = own_reports;
    if opts.iam_answers.is_none() && opts.iam.verify_pairs {
        out.signed_with = Some(iam.signed_with());
    }
    out.meta.iam.clone_from(&iam.source_info);
    out.meta.date = opts
        .iam
        .now
        .unwrap_or_else(jiff::Timestamp::now)
        .to_string();
    summary.findings = out.findings.len() as u64;
    out.summary = summary;
    out.policy = opts.policy.clone();
    if opts.iam_answers.is_some() {
        out.iam_wanted = wanted;
    }
    Ok(out)
}

fn visit(st: &mut ThreadState, entry: Entry, opts: &ScanOptions, progress: &Progress) {
    match entry {
        Entry::Error { path, message } => st.errors.push(ScanError {
            path: path.map_or_else(String::new, |p| walk::display_path(&p, &opts.cwd)),
            message,
        }),
        Entry::Skipped { .. } => st.summary.skipped_other += 1,
        Entry::File { path, len } => {
            if let Some(scope) = &opts.scope
                && !scope.wants(&path, &opts.cwd)
            {
                st.summary.excluded += 1;
                return;
            }
            let display = walk::display_path(&path, &opts.cwd);
            if let Some(len) = len
                && len > opts.max_file_size
            {
                st.too_large(display, len, opts.max_file_size);
                return;
            }
            let bytes = match crate::source::read_regular(&path, opts.max_file_size) {
                Ok(crate::source::Read::Bytes(b)) => b,
                Ok(crate::source::Read::TooLarge(len)) => {
                    st.too_large(display, len, opts.max_file_size);
                    return;
                }
                Ok(crate::source::Read::NotRegular) => {
                    st.summary.skipped_other += 1;
                    return;
                }
                Err(e) => {
                    st.errors.push(ScanError {
                        path: display,
                        message: format!("cannot read: {e}"),
                    });
                    return;
                }
            };
            take_bytes(st, &path, display, &bytes, opts, progress);
        }
    }
}

/// Counts, decodes, parses and detects one file's content.
fn take_bytes(
    st: &mut ThreadState,
    path: &Path,
    display: String,
    bytes: &[u8],
    opts: &ScanOptions,
    progress: &Progress,
) {
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress
        .bytes
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    if bytes.len() as u64 > opts.max_file_size {
        st.too_large(display, bytes.len() as u64, opts.max_file_size);
        return;
    }
    let outcome = process_file(
        path,
        &display,
        bytes,
        opts.file_timeout,
        opts.include_placeholders,
    );
    st.summary.bytes_scanned += bytes.len() as u64;
    st.summary.placeholders += outcome.placeholders;
    match outcome.status {
        Status::Binary => st.summary.skipped_binary += 1,
        Status::NoKeyword => st.summary.files_scanned += 1,
        Status::Parsed => {
            st.summary.files_scanned += 1;
            st.summary.files_parsed += 1;
        }
        Status::Inventory => st.summary.inventories += 1,
        Status::OwnReport { first_line } => {
            st.summary.own_reports += 1;
            st.own_reports.push((display.clone(), first_line));
        }
    }
    for w in outcome.warnings {
        st.errors.push(ScanError {
            path: display.clone(),
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

/// One blob, unless the configuration's scope leaves it out.
fn take_blob(st: &mut ThreadState, blob: Blob, opts: &ScanOptions, progress: &Progress) {
    let path = PathBuf::from(&blob.path);
    if let Some(scope) = &opts.scope
        && !scope.wants(&path, &opts.cwd)
    {
        st.summary.excluded += 1;
        return;
    }
    take_bytes(st, &path, blob.path, &blob.bytes, opts, progress);
}

/// Content that does not come from the working tree: a staged file, a blob
/// of a commit. `path` is what output shows (repo-relative, `/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Scans blobs in parallel with the same decoding, parsing, detection and
/// rules as a directory scan. `opts.paths` is not used.
pub fn scan_blobs(
    blobs: Vec<Blob>,
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<ScanOutput, ScanFailure> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    if threads == 1 {
        // `--history` calls this per blob: no thread per call.
        let mut st = ThreadState::default();
        for blob in blobs {
            take_blob(&mut st, blob, opts, progress);
        }
        return finish(vec![st], rules, opts);
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
    finish(states, rules, opts)
}

/// Joins worker threads in order. A worker that panicked becomes `lost`
/// with an error for the output: results that are incomplete must say so.
pub(crate) fn join_workers<T>(
    workers: Vec<std::thread::ScopedJoinHandle<'_, T>>,
    what: &str,
    lost: impl Fn(ScanError) -> T,
) -> Vec<T> {
    workers
        .into_iter()
        .map(|w| {
            w.join().unwrap_or_else(|_| {
                lost(ScanError {
                    path: String::new(),
                    message: format!(
                        "internal error: a {what} worker stopped; results are incomplete"
                    ),
                })
            })
        })
        .collect()
}

enum Status {
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
    file: Option<FileResult>,
    /// Documentation key IDs the prefilter saw in a file it did not parse.
    placeholders: u64,
}

/// Decodes, parses and scans one file's bytes.
fn process_file(
    path: &Path,
    display: &str,
    bytes: &[u8],
    timeout: Option<std::time::Duration>,
    include_placeholders: bool,
) -> Outcome {
    let _budget = crate::budget::start(timeout);
    let mut outcome = process_file_within_budget(path, display, bytes, include_placeholders);
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

fn process_file_within_budget(
    path: &Path,
    display: &str,
    bytes: &[u8],
    include_placeholders: bool,
) -> Outcome {
    let mut warnings = Vec::new();
    let text = match crate::source::decode(bytes) {
        crate::source::Decoded::Binary => {
            return Outcome {
                status: Status::Binary,
                warnings,
                file: None,
                placeholders: 0,
            };
        }
        crate::source::Decoded::Text(text, warning) => {
            warnings.extend(warning);
            text
        }
    };
    if let prefilter::Verdict::Skip { placeholders } =
        prefilter::judge(text.as_bytes(), include_placeholders)
    {
        return Outcome {
            status: Status::NoKeyword,
            warnings,
            file: None,
            placeholders,
        };
    }
    let own = crate::own_report::kind(&text);
    if own == Some(crate::own_report::Kind::Inventory) {
        return Outcome {
            status: Status::Inventory,
            warnings,
            file: None,
            placeholders: 0,
        };
    }
    if own.is_some() {
        let first = text.lines().next().unwrap_or("");
        let mut end = first.len().min(200);
        while !first.is_char_boundary(end) {
            end -= 1;
        }
        return Outcome {
            status: Status::OwnReport {
                first_line: first[..end].to_string(),
            },
            warnings,
            file: None,
            placeholders: 0,
        };
    }
    let (values, format, parse_warning) = parse::values(path, &text);
    warnings.extend(parse_warning);
    let candidates = detect::detect(&text, &values);
    let mut ignores = crate::suppress::find_markers(&text);
    if is_markdown(path) {
        ignores = crate::suppress::outside_markdown_fences(&text, ignores);
    }
    let file = (!candidates.is_empty() || !ignores.is_empty()).then(|| FileResult {
        path: display.to_string(),
        format,
        text: Arc::from(text.as_ref()),
        candidates,
        ignores,
    });
    Outcome {
        status: Status::Parsed,
        warnings,
        file,
        placeholders: 0,
    }
}

/// Repo-wide aggregates, then facts and rules for every candidate.
fn judge(
    files: Vec<FileResult>,
    rules: &RuleSet,
    opts: &ScanOptions,
    iam: &crate::iam::Enrichment,
    summary: &mut Summary,
    errors: &mut Vec<ScanError>,
) -> ScanOutput {
    let mut refs: HashMap<&str, i64> = HashMap::new();
    let mut secrets: HashMap<&str, HashSet<&str>> = HashMap::new();
    for f in &files {
        for c in &f.candidates {
            if c.kind == CandidateKind::AccessKeyId && !c.malformed {
                *refs.entry(c.value.as_str()).or_default() += 1;
                if let Some(s) = c.pair.and_then(|i| f.candidates.get(i)) {
                    secrets
                        .entry(c.value.as_str())
                        .or_default()
                        .insert(s.value.as_str());
                }
            }
        }
    }
    let mut out = ScanOutput::default();
    let mut reported_errors: HashSet<String> = HashSet::new();
    let mut memo = eval::Memo::default();
    // Per finding (by fingerprint) of a rule with `related:`: the key IDs
    // whose places it points at, and what to say there.
    let mut wanted_related: HashMap<String, (Vec<String>, String)> = HashMap::new();
    for f in &files {
        let mut file_findings = Vec::new();
        // Findings per rule in this file; past the cap only counted.
        let mut per_rule: HashMap<usize, u64> = HashMap::new();
        for c in &f.candidates {
            let key = match c.kind {
                CandidateKind::AccessKeyId => Some(c),
                _ => c.pair.and_then(|i| f.candidates.get(i)),
            };
            let secret = match c.kind {
                CandidateKind::SecretAccessKey => Some(c),
                CandidateKind::AccessKeyId => c.pair.and_then(|i| f.candidates.get(i)),
                CandidateKind::SessionToken => None,
            };
            if !opts.include_placeholders && c.placeholder {
                summary.placeholders += 1;
                continue;
            }
            let mut facts = facts_for(f, c, key, secret, &refs, &secrets, &opts.policy);
            iam.set_facts(
                &mut facts,
                key.filter(|k| !k.malformed).map(|k| k.value.as_str()),
                secret.map(|s| s.value.as_str()),
            );
            let (hits, eval_errors) = rules.matching_with(&facts, &mut memo);
            for e in eval_errors {
                if reported_errors.insert(format!("{}{}", e.rule, e.message)) {
                    errors.push(ScanError {
                        path: f.path.clone(),
                        message: format!("rule {} could not be evaluated: {}", e.rule, e.message),
                    });
                }
            }
            let key_id = key.map(|k| k.value.clone());
            let account = key
                .filter(|k| !k.malformed)
                .and_then(|k| key_id::account(&k.value));
            let fp_secret = secret.map_or("", |s| s.value.as_str());
            for i in hits {
                let n = per_rule.entry(i).or_default();
                *n += 1;
                if *n > MAX_FINDINGS_PER_RULE_PER_FILE {
                    continue;
                }
                let rule = &rules.rules[i];
                let print = fingerprint(
                    &rule.id,
                    &f.path,
                    key_id.as_deref().unwrap_or(""),
                    fp_secret,
                    &c.context,
                );
                if let Some(spec) = &rule.related {
                    let keys = match facts.get(spec.keys) {
                        Some(Fact::Str(k)) if !k.is_empty() => vec![k.clone()],
                        Some(Fact::List(l)) => l.clone(),
                        _ => Vec::new(),
                    };
                    if !keys.is_empty() {
                        wanted_related
                            .insert(print.clone(), (keys, eval::render(&spec.message, &facts)));
                    }
                }
                file_findings.push(Finding {
                    rule: rule.id.clone(),
                    name: rule.name.clone(),
                    severity: rule.severity,
                    message: eval::text_for(&rule.messages, &facts, &memo),
                    help: eval::text_for(&rule.helps, &facts, &memo),
                    file: 0,
                    span: c.span.clone(),
                    key_id: key_id.clone(),
                    secret: secret.map(|s| detect::mask(&s.value)),
                    account: account.clone(),
                    context: c.context.clone(),
                    fingerprint: print,
                    identity: fingerprint(
                        "",
                        "",
                        key_id.as_deref().unwrap_or(""),
                        fp_secret,
                        &c.context,
                    ),
                    suppression: None,
                    related: Vec::new(),
                    iam: key
                        .filter(|k| !k.malformed)
                        .and_then(|k| iam.info(&k.value)),
                    provenance: None,
                });
            }
        }
        if file_findings.is_empty() && f.ignores.is_empty() {
            continue;
        }
        let index = out.files.len();
        let mut capped: Vec<(usize, u64)> = per_rule
            .into_iter()
            .filter(|&(_, n)| n > MAX_FINDINGS_PER_RULE_PER_FILE)
            .collect();
        capped.sort_unstable();
        for (i, n) in capped {
            let rule = &rules.rules[i];
            let more = n - MAX_FINDINGS_PER_RULE_PER_FILE;
            summary.not_shown += more;
            out.more.push(More {
                file: index,
                rule: rule.id.clone(),
                name: rule.name.clone(),
                severity: rule.severity,
                count: more,
            });
        }
        for finding in &mut file_findings {
            finding.file = index;
        }
        file_findings.sort_by(|a, b| (a.span.start, &a.rule).cmp(&(b.span.start, &b.rule)));
        out.findings.extend(file_findings);
        out.files.push(f.source_file());
    }
    link_related(&files, &mut out, &wanted_related);
    out
}

fn is_markdown(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "md" | "markdown" | "mdx"))
}

/// Past this many findings of one rule in one file, the rest are counted
/// ("N more like this"), not reported one by one: a file of 100,000 key IDs
/// is one problem, and each finding costs memory and a reader's time.
pub const MAX_FINDINGS_PER_RULE_PER_FILE: u64 = 1000;

/// The findings of one rule in one file past [`MAX_FINDINGS_PER_RULE_PER_FILE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct More {
    /// Index into [`ScanOutput::files`].
    pub file: usize,
    pub rule: String,
    pub name: String,
    pub severity: Severity,
    pub count: u64,
}

/// The key IDs and pairs IAM is asked about. Placeholders and malformed IDs
/// are never sent; secrets are collected only when pairs are verified.
fn iam_wanted(files: &[FileResult], opts: &ScanOptions) -> crate::iam::Wanted {
    let mut wanted = crate::iam::Wanted::default();
    if opts.iam.source == crate::iam::SourceChoice::None && !opts.iam.verify_pairs {
        return wanted;
    }
    for f in files {
        for c in &f.candidates {
            if c.kind != CandidateKind::AccessKeyId || c.malformed || c.placeholder {
                continue;
            }
            wanted.keys.insert(c.value.clone());
            let secret = c.pair.and_then(|i| f.candidates.get(i));
            if opts.iam.verify_pairs
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

/// Gives each finding of a rule with `related:` the places that hold the
/// key IDs its facts named.
fn link_related(
    files: &[FileResult],
    out: &mut ScanOutput,
    wanted: &HashMap<String, (Vec<String>, String)>,
) {
    if wanted.is_empty() {
        return;
    }
    for i in 0..out.findings.len() {
        let Some((keys, message)) = wanted.get(&out.findings[i].fingerprint) else {
            continue;
        };
        let mut related = Vec::new();
        for f in files {
            for c in &f.candidates {
                if c.kind != CandidateKind::AccessKeyId || !keys.contains(&c.value) {
                    continue;
                }
                let here = &out.findings[i];
                if out.files.get(here.file).is_some_and(|s| s.path == f.path) && here.span == c.span
                {
                    continue;
                }
                // A place without findings of its own still has to be
                // shown, so its file joins the output.
                let file = match out.files.iter().position(|s| s.path == f.path) {
                    Some(index) => index,
                    None => {
                        out.files.push(f.source_file());
                        out.files.len() - 1
                    }
                };
                related.push(crate::finding::Related {
                    file,
                    span: c.span.clone(),
                    message: message.clone(),
                });
            }
        }
        out.findings[i].related = related;
    }
}

fn facts_for(
    f: &FileResult,
    c: &Candidate,
    key: Option<&Candidate>,
    secret: Option<&Candidate>,
    refs: &HashMap<&str, i64>,
    secrets: &HashMap<&str, HashSet<&str>>,
    policy: &Policy,
) -> Facts {
    let mut facts = Facts::default();
    facts.str(crate::fact!("candidate.kind"), c.kind.as_str());
    if let Some(k) = key {
        facts.str(crate::fact!("key.id"), k.value.clone());
        facts.str(crate::fact!("key.prefix"), k.value.get(..4).unwrap_or(""));
        facts.str(crate::fact!("key.kind"), key_id::kind(&k.value));
        if !k.malformed {
            facts.str(
                crate::fact!("key.account"),
                key_id::account(&k.value).unwrap_or_default(),
            );
        }
        facts.bool(crate::fact!("key.placeholder"), k.placeholder);
        facts.bool(crate::fact!("key.malformed"), k.malformed);
        facts.int(
            crate::fact!("repo.refs"),
            refs.get(k.value.as_str()).copied().unwrap_or(0),
        );
        facts.int(
            crate::fact!("repo.secrets_for_key"),
            secrets.get(k.value.as_str()).map_or(0, |s| s.len() as i64),
        );
        facts.bool(crate::fact!("session.present"), k.token.is_some());
    }
    if let Some(s) = secret {
        facts.bool(crate::fact!("secret.present"), true);
        facts.str(crate::fact!("secret.masked"), detect::mask(&s.value));
        facts.bool(crate::fact!("secret.placeholder"), s.placeholder);
    }
    facts.str(crate::fact!("file.path"), f.path.clone());
    facts.str(crate::fact!("file.format"), f.format.as_str());
    facts.str(crate::fact!("file.env"), detect::env::from_path(&f.path));
    facts.str(crate::fact!("location.context"), c.context.clone());
    facts.str(crate::fact!("location.name"), c.name.clone());
    facts.str(crate::fact!("location.encoding"), c.encoding.as_str());
    facts.str(crate::fact!("verify.result"), "unchecked");
    facts.set(
        crate::fact!("config.allowed_accounts"),
        Fact::List(policy.allowed_accounts.clone()),
    );
    facts.int(
        crate::fact!("config.max_key_age_days"),
        policy.max_key_age_days,
    );
    facts.int(
        crate::fact!("config.max_unused_days"),
        policy.max_unused_days,
    );
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_scanned_like_files() {
        let rules = RuleSet::builtin().expect("rules");
        let blobs = vec![
            Blob {
                path: "infra/prod.tfvars".into(),
                bytes: b"aws_access_key = \"AKIARZPUZDIKEEQH746Y\"\n".to_vec(),
            },
            Blob {
                path: "README.md".into(),
                bytes: b"nothing here".to_vec(),
            },
            Blob {
                path: "logo.png".into(),
                bytes: b"\x89PNG\0\0".to_vec(),
            },
        ];
        let opts = ScanOptions {
            threads: 2,
            ..ScanOptions::default()
        };
        let out = scan_blobs(blobs, &opts, &rules, &Progress::default()).expect("scan");
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.files[0].path, "infra/prod.tfvars");
        assert_eq!(out.files[0].format, "tfvars");
        assert_eq!(out.findings[0].context, "aws_access_key");
        assert_eq!(out.summary.files_scanned, 2);
        assert_eq!(out.summary.skipped_binary, 1);
    }
}
