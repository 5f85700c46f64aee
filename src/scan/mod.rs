//! A scan's options and output, and the two steps that make it:
//! `extract` (files → candidates), IAM asked once, then
//! `judge` (candidates + answers → findings).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

pub use crate::scan::extract::{Blob, Large};
pub(crate) mod extract;
pub(crate) mod judge;

use crate::finding::Warning;
pub use crate::output::{
    Gate, MAX_FINDINGS_PER_RULE_PER_FILE, More, Next, Policy, ScanOutput, Summary,
};
use crate::rules::RuleSet;
use extract::Extracted;

/// What one scan reads and how: the paths, limits, threads and policy.
/// [`Scan`](crate::Scan) builds it from the command line or the editor.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The files and directories to scan.
    pub paths: Vec<PathBuf>,
    /// Walk ignored files too (`--no-ignore`: `.gitignore`, `.ignore`).
    pub no_ignore: bool,
    /// Files larger than this (bytes) are not parsed, only searched for keys.
    pub max_file_size: u64,
    /// 0 picks the number of CPUs.
    pub threads: usize,
    /// Report placeholder credentials (`AKIAIOSFODNN7EXAMPLE`, …) too.
    pub include_placeholders: bool,
    /// What is suppressed and what fails the run.
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
    /// Files read so far.
    pub files: AtomicU64,
    /// Bytes read so far.
    pub bytes: AtomicU64,
    /// Candidate keys and secrets found so far.
    pub candidates: AtomicU64,
    /// IAM/STS requests sent (shared with the live IAM client).
    pub iam_requests: Arc<AtomicU64>,
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

/// What one blob holds, for a caller that feeds blobs one at a time and
/// judges them later (`--history`: blobs stream from git, and IAM is asked
/// once about all of them). It keeps candidates, not the blob's bytes.
pub(crate) struct Held(Extracted);

impl Held {
    /// Reads `blob` on the calling thread.
    pub fn read(blob: Blob, opts: &ScanOptions, progress: &Progress) -> Held {
        Held(extract::blobs_here([blob], opts, progress))
    }

    /// The warnings reading it gave, taken out.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.0.errors)
    }

    /// Whether it holds anything to judge (candidates or ignore comments);
    /// else its summary is all it adds.
    pub fn needs_judging(&self) -> bool {
        !self.0.files.is_empty()
    }

    /// What reading it counted.
    pub fn summary(&self) -> &Summary {
        &self.0.summary
    }

    /// The key IDs and pairs IAM would be asked about.
    pub fn wanted(&self, iam: &crate::iam::IamOptions) -> crate::iam::Wanted {
        self.0.wanted(iam)
    }

    /// Its findings, with IAM's answers: the blob alone is "the repo".
    pub fn judge(
        self,
        rules: &RuleSet,
        opts: &ScanOptions,
        iam: &crate::iam::Enrichment,
    ) -> ScanOutput {
        judge::judge(self.0, rules, opts, iam)
    }
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
