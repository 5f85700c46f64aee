//! A scan's options and output, and the two steps that make it:
//! `extract` (files → candidates), IAM asked once, then
//! `judge` (candidates + answers → findings).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use crate::scan::extract::Blob;
pub(crate) mod extract;
pub(crate) mod judge;

use crate::finding::{Finding, SourceFile, Warning};
use crate::rules::{RuleSet, Severity};
use extract::Extracted;

/// Policy settings that rules see as `config.*` facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub allowed_accounts: Vec<String>,
    pub max_key_age_days: i64,
    pub max_unused_days: i64,
}

/// The rotation limit (`max-key-age-days`): AWS's own IAM best practice.
pub const DEFAULT_MAX_KEY_AGE_DAYS: i64 = 90;
/// How long an Active key may go unused (`max-unused-days`).
pub const DEFAULT_MAX_UNUSED_DAYS: i64 = 90;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_accounts: Vec::new(),
            max_key_age_days: DEFAULT_MAX_KEY_AGE_DAYS,
            max_unused_days: DEFAULT_MAX_UNUSED_DAYS,
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
    /// HCL pieces parsed by an earlier scan of the same file (the editor
    /// server's, per document).
    pub pieces: Option<PieceCacheHandle>,
}

/// A [`PieceCache`](crate::parse::hcl::PieceCache) shared with the scan's
/// workers.
pub type PieceCacheHandle = std::sync::Arc<std::sync::Mutex<crate::parse::hcl::PieceCache>>;

/// Which files a configuration keeps in scope, by globs relative to `root`.
#[derive(Debug, Clone)]
pub struct Scope {
    pub root: PathBuf,
    pub exclude: globset::GlobSet,
    pub include: Option<globset::GlobSet>,
}

impl Scope {
    pub(crate) fn wants(&self, path: &Path, cwd: &Path) -> bool {
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

pub use crate::source::{DEFAULT_FILE_TIMEOUT, DEFAULT_MAX_FILE_SIZE};

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
            pieces: None,
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
    /// FIFOs, sockets and devices: counted, not read.
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
    /// Symlinks, not followed: their target text was scanned.
    pub symlinks: u64,
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
        self.symlinks += s.symlinks;
    }
}

#[derive(Debug, Clone, Default)]
pub struct ScanOutput {
    /// Sorted by path, offset, rule.
    pub findings: Vec<Finding>,
    /// Problems that did not stop the scan.
    pub warnings: Vec<Warning>,
    pub summary: Summary,
    pub files: Vec<SourceFile>,
    /// The policy the rules ran with (reports show the rotation limit).
    pub policy: Policy,
    /// Findings past the per-file cap, counted by file and rule.
    pub more: Vec<More>,
    /// The gate this run was judged by, once the caller has decided it.
    pub gate: Option<Gate>,
    /// `--verify-pairs`: the keys this run itself used.
    pub signed_with: Option<crate::iam::SignedWith>,
    /// What the run was: when, on what, with which IAM facts.
    pub meta: ScanMeta,
    /// Files skipped as keyward's own reports (see `own_report`):
    /// shown path and first line.
    pub own_reports: Vec<(String, String)>,
    /// Files skipped as IAM inventories (shown paths): their key IDs are
    /// there by design and not judged.
    pub inventories: Vec<String>,
    /// The IAM users whose keys the scan found, with all their keys (for
    /// rotation plans); empty without IAM facts.
    pub iam_users: Vec<crate::iam::IamUser>,
    /// What the human output suggests running next; empty: nothing.
    pub next: Next,
}

/// The commands that help with a run's findings, from their rules'
/// `next:` (and the baseline, for a first full scan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Next {
    /// Findings about a credential written in a file (`next: fix`).
    pub fix: u64,
    /// Distinct keys whose findings call for a rotation (`next: plan`).
    pub plan: u64,
    /// A full scan with credential findings and no baseline: a team
    /// adopting keyward can accept today's and fail only on new ones.
    pub baseline: bool,
}

impl Next {
    /// From the active findings of `out`, by their rules' `next:`.
    pub fn of(
        out: &ScanOutput,
        rules: &crate::rules::RuleSet,
        full_scan: bool,
        baseline: bool,
    ) -> Next {
        use crate::rules::load::NextStep;
        let mut next = Next::default();
        let mut keys = std::collections::HashSet::new();
        for f in out.active() {
            match rules.get(&f.rule).and_then(|r| r.next) {
                Some(NextStep::Fix) => next.fix += 1,
                Some(NextStep::Plan) => {
                    if let Some(k) = &f.key_id {
                        keys.insert(k.as_str());
                    }
                }
                None => {}
            }
        }
        next.plan = keys.len() as u64;
        next.baseline = (next.fix > 0 || next.plan > 0) && full_scan && !baseline;
        next
    }
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
    pub fail_on: crate::severity::FailOn,
    pub failing: u64,
}

impl Gate {
    /// Judges `out` by `fail_on`.
    pub fn judge(out: &ScanOutput, fail_on: crate::severity::FailOn) -> Gate {
        let shown = out.active().filter(|f| fail_on.fails(f.severity)).count() as u64;
        let more: u64 = out
            .more
            .iter()
            .filter(|m| fail_on.fails(m.severity))
            .map(|m| m.count)
            .sum();
        Gate {
            fail_on,
            failing: shown + more,
        }
    }
}

impl ScanOutput {
    /// Masks every suspect token ([`crate::detect::redacted`]) in the text
    /// of findings and warnings: messages may quote configuration values, a
    /// reason, a name from a file. The library's output boundary; reports
    /// mask their whole text once more when written.
    pub fn redact(&mut self) {
        let mask = |s: &mut String| {
            if let std::borrow::Cow::Owned(m) = crate::detect::redacted(s) {
                *s = m;
            }
        };
        for f in &mut self.findings {
            mask(&mut f.message);
            mask(&mut f.help);
            mask(&mut f.context);
            if let Some(s) = &mut f.suppression {
                mask(&mut s.reason);
            }
            for r in &mut f.related {
                mask(&mut r.message);
            }
        }
        for e in &mut self.warnings {
            mask(&mut e.message);
            mask(&mut e.path);
        }
        for (_, first_line) in &mut self.own_reports {
            mask(first_line);
        }
    }

    /// Findings not accepted by an ignore, allow entry or baseline.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.active().filter(|f| f.severity == severity).count()
    }

    /// Counts of suppressed findings by how they were accepted.
    pub fn suppressed_counts(
        &self,
    ) -> std::collections::BTreeMap<crate::finding::SuppressionKind, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for f in &self.findings {
            if let Some(s) = &f.suppression {
                *counts.entry(s.kind).or_default() += 1;
            }
        }
        counts
    }
}

/// Scans the files under `opts.paths`: extracts their candidates, asks IAM
/// once about all of them, and judges them.
pub fn scan(
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<ScanOutput, ScanFailure> {
    let extracted = extract::paths(opts, progress)?;
    ask_and_judge(extracted, rules, opts)
}

/// Scans content that is not in the working tree (staged files, blobs of
/// commits) the same way. `opts.paths` is not used.
pub fn scan_blobs(
    blobs: Vec<Blob>,
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<ScanOutput, ScanFailure> {
    ask_and_judge(extract::blobs(blobs, opts, progress), rules, opts)
}

/// IAM is asked once, about everything found, before any rule runs.
fn ask_and_judge(
    mut extracted: Extracted,
    rules: &RuleSet,
    opts: &ScanOptions,
) -> Result<ScanOutput, ScanFailure> {
    let wanted = extracted.wanted(&opts.iam);
    let iam = ask_iam(&wanted, opts, &mut extracted.errors)?;
    let mut out = judge::judge(extracted, rules, opts, &iam);
    out.iam_users = iam.users_of(wanted.keys.iter().map(String::as_str));
    if opts.iam.verify_pairs {
        out.signed_with = Some(iam.signed_with());
    }
    Ok(out)
}

/// Asks IAM about `wanted`; its warnings join `errors`.
pub(crate) fn ask_iam(
    wanted: &crate::iam::Wanted,
    opts: &ScanOptions,
    errors: &mut Vec<Warning>,
) -> Result<crate::iam::Enrichment, ScanFailure> {
    let mut answers = crate::iam::enrich(wanted, &opts.iam)?;
    errors.extend(
        std::mem::take(&mut answers.warnings)
            .into_iter()
            .map(Warning::from_aws),
    );
    Ok(answers)
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ScanFailure {
    #[error("path not found: {0}")]
    PathNotFound(PathBuf),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Iam(#[from] crate::iam::IamError),
}

/// Joins worker threads in order. A worker that panicked becomes `lost`
/// with an error for the output: results that are incomplete must say so.
pub(crate) fn join_workers<T>(
    workers: Vec<std::thread::ScopedJoinHandle<'_, T>>,
    what: &str,
    lost: impl Fn(Warning) -> T,
) -> Vec<T> {
    workers
        .into_iter()
        .map(|w| {
            w.join().unwrap_or_else(|_| {
                lost(Warning {
                    kind: crate::finding::ProblemKind::Internal,
                    path: String::new(),
                    message: format!(
                        "internal error: a {what} worker stopped; results are incomplete"
                    ),
                })
            })
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_scanned_like_files() {
        let rules = RuleSet::builtin().expect("rules");
        let blobs = vec![
            Blob::new(
                "infra/prod.tfvars",
                b"aws_access_key = \"AKIARZPUZDIKEEQH746Y\"\n".to_vec(),
            ),
            Blob::new("README.md", b"nothing here".to_vec()),
            Blob::new("logo.png", b"\x89PNG\0\0".to_vec()),
        ];
        let opts = ScanOptions {
            threads: 2,
            ..ScanOptions::default()
        };
        let out = scan_blobs(blobs, &opts, &rules, &Progress::default()).expect("scan");
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.files[0].path, "infra/prod.tfvars");
        assert_eq!(out.files[0].format, crate::parse::format::Format::Tfvars);
        assert_eq!(out.findings[0].context, "aws_access_key");
        assert_eq!(out.summary.files_scanned, 2);
        assert_eq!(out.summary.skipped_binary, 1);
    }
}
