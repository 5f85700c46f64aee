//! The one entry point that runs a whole scan:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = keyward::PolicySet::defaults().expect("built-in rules");
//! let report = keyward::Scan::new(&policy).paths(["infra"]).run()?;
//! for finding in report.active() {
//!     println!("{} {}", finding.rule, finding.message);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Source (walk, index, a change, history or one buffer) → prefilter →
//! parse → detect → enrich → rules → suppress (inline, allow, baseline,
//! KW000) → the change's line filter → KW015 → gate. The CLI, the tests and
//! an editor server get the same findings from the same call; they only
//! choose what to read and how to show it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::finding::Warning;
use crate::git::{GitError, Mode};
use crate::iam::IamOptions;
use crate::policy::PolicySet;
use crate::scan::{self, Blob, Gate, Progress, ScanFailure, ScanOptions, ScanOutput, Scope};

/// What a scan reads.
#[derive(Debug, Clone, Default)]
enum Source {
    /// The files under the paths.
    #[default]
    Walk,
    /// A git view: the index, a change, or the history.
    Git(Mode),
    /// One file's text as an editor holds it, under its path.
    Buffer { path: String, text: String },
}

/// A source with what reading it needs: a git view's repository,
/// discovered once for every thread that asks git.
enum Ready {
    Walk,
    Git(crate::git::Repo, crate::git::Mode),
    Buffer { path: String, text: String },
}

/// Why a scan could not run at all (a file that cannot be read is a
/// warning in the report, not this).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RunError {
    /// The scan itself failed (its workers, its IAM source).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Scan(#[from] ScanFailure),
    /// A git source (`--staged`, `--since`, `--history`) could not be read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),
    /// Paths are shown relative to the current directory, which could not
    /// be read.
    #[error("cannot read the current directory: {0}")]
    Cwd(std::io::Error),
}

/// A scan to run: what to read, with which policy, and how hard to try.
#[must_use]
pub struct Scan<'a> {
    policy: &'a PolicySet,
    paths: Vec<PathBuf>,
    source: Source,
    cwd: Option<PathBuf>,
    threads: usize,
    file_timeout: Option<Duration>,
    max_file_size: Option<u64>,
    no_ignore: bool,
    include_placeholders: bool,
    allowed_accounts: Option<Vec<String>>,
    iam: Option<IamOptions>,
    fail_on: Option<crate::severity::FailOn>,
    identify: bool,
    repository: Option<String>,
    notes: Vec<Warning>,
    progress: Option<&'a Progress>,
    suppressions_fail: bool,
    pieces: Option<scan::PieceCacheHandle>,
    context: Vec<Blob>,
}

impl<'a> Scan<'a> {
    /// A scan of the current directory judged by `policy`, with its IAM
    /// source (`[iam] inventory`, if any).
    pub fn new(policy: &'a PolicySet) -> Scan<'a> {
        Scan {
            policy,
            paths: Vec::new(),
            source: Source::Walk,
            cwd: None,
            threads: 0,
            file_timeout: Some(scan::DEFAULT_FILE_TIMEOUT),
            max_file_size: None,
            no_ignore: false,
            include_placeholders: false,
            allowed_accounts: None,
            iam: None,
            fail_on: None,
            identify: false,
            repository: None,
            notes: Vec::new(),
            progress: None,
            suppressions_fail: true,
            pieces: None,
            context: Vec::new(),
        }
    }

    /// HCL pieces an earlier scan of the same file parsed: they are taken
    /// from `cache` instead of being parsed again, and this scan's go in.
    /// The owner calls `next_parse` on it before each scan.
    #[cfg(feature = "cli")]
    pub(crate) fn piece_cache(mut self, cache: scan::PieceCacheHandle) -> Self {
        self.pieces = Some(cache);
        self
    }

    /// Files and directories to scan (default: `.`).
    pub fn paths<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// What `git commit` would commit. `listed`: the paths are the files
    /// to take from the index (what pre-commit passes).
    pub fn staged(mut self, listed: bool) -> Self {
        self.source = Source::Git(Mode::Staged { listed });
        self
    }

    /// The change from the merge base with `rev` to HEAD: its findings
    /// only, and with `all_lines` false only on lines it writes.
    pub fn since(mut self, rev: impl Into<String>, all_lines: bool) -> Self {
        self.source = Source::Git(Mode::Since {
            rev: rev.into(),
            all_lines,
        });
        self
    }

    /// Every blob of the history: from HEAD, from a range, or all refs.
    pub fn history(mut self, range: Option<String>, all_refs: bool) -> Self {
        self.source = Source::Git(Mode::History { range, all_refs });
        self
    }

    /// One buffer instead of the disk: `path` (as output shows it) names
    /// the file and chooses its parser.
    pub fn buffer(mut self, path: impl Into<String>, text: impl Into<String>) -> Self {
        self.source = Source::Buffer {
            path: path.into(),
            text: text.into(),
        };
        self
    }

    /// Other files a buffer is judged with, so rules about the whole
    /// repository (a pair whose secrets differ across files, a rotation
    /// half done) see them; their findings come out too.
    pub fn context(mut self, files: Vec<Blob>) -> Self {
        self.context = files;
        self
    }

    /// Where relative paths (and the default `.`) start and paths are
    /// shown from (default: the process's current directory).
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Worker threads; 0 is one per core.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// How long one file may take before it is given up with a warning.
    pub fn file_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.file_timeout = timeout;
        self
    }

    /// Skip files larger than this (default: the configuration's).
    pub fn max_file_size(mut self, bytes: Option<u64>) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Also scan what ignore files exclude.
    pub fn no_ignore(mut self, yes: bool) -> Self {
        self.no_ignore = yes;
        self
    }

    /// Also report documentation examples and filler keys.
    pub fn include_placeholders(mut self, yes: bool) -> Self {
        self.include_placeholders = yes;
        self
    }

    /// Accounts whose keys are expected, instead of the configuration's.
    pub fn allowed_accounts(mut self, accounts: Vec<String>) -> Self {
        if !accounts.is_empty() {
            self.allowed_accounts = Some(accounts);
        }
        self
    }

    /// Where IAM facts come from, instead of the policy's.
    pub fn iam(mut self, iam: IamOptions) -> Self {
        self.iam = Some(iam);
        self
    }

    /// Whether a suppression the change adds (KW015) fails the run: yes,
    /// except for a commit (`--staged`) that is not `--strict-suppressions`,
    /// whose pull request will be judged again, by a reviewer.
    pub fn suppressions_fail(mut self, fail: bool) -> Self {
        self.suppressions_fail = fail;
        self
    }

    /// The gate, instead of the policy's `fail-on`.
    pub fn fail_on(mut self, fail_on: crate::severity::FailOn) -> Self {
        self.fail_on = Some(fail_on);
        self
    }

    /// Names the repository in the output instead of asking git.
    pub fn repository(mut self, name: Option<String>) -> Self {
        self.repository = name;
        self
    }

    /// Record the repository and commit in the report (two git calls).
    pub fn identify(mut self, yes: bool) -> Self {
        self.identify = yes;
        self
    }

    /// Warnings from before the scan (loading the policy, the flags), to
    /// report with the scan's own.
    pub fn notes(mut self, notes: Vec<Warning>) -> Self {
        self.notes.extend(notes);
        self
    }

    /// Counters the caller can watch while the scan runs.
    pub fn progress(mut self, progress: &'a Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The options the scanning stages read.
    fn options(&self) -> Result<ScanOptions, RunError> {
        let config = &self.policy.config;
        let cwd = match &self.cwd {
            Some(c) => c.clone(),
            None => std::env::current_dir().map_err(RunError::Cwd)?,
        };
        let scope = (!config.exclude.is_empty() || config.include_set.is_some()).then(|| Scope {
            root: config.root.clone(),
            exclude: config.exclude_set.clone(),
            include: config.include_set.clone(),
        });
        let mut iam = self.iam.clone().unwrap_or_default();
        if self.iam.is_none() {
            iam.source = self.policy.iam.clone();
        }
        // One instant for the run (`--now`, else the clock once): every age,
        // the cache's freshness and the report's date read it.
        iam.now.get_or_insert_with(jiff::Timestamp::now);
        let mut paths = if self.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            self.paths.clone()
        };
        // Relative to the directory the caller named, not the process's.
        if self.cwd.is_some() {
            for p in &mut paths {
                if p.is_relative() {
                    *p = cwd.join(&*p);
                }
            }
        }
        Ok(ScanOptions {
            paths,
            no_ignore: config.no_ignore || self.no_ignore,
            max_file_size: self.max_file_size.unwrap_or(config.max_file_size),
            threads: self.threads,
            include_placeholders: config.include_placeholders || self.include_placeholders,
            policy: scan::Policy {
                allowed_accounts: self
                    .allowed_accounts
                    .clone()
                    .unwrap_or_else(|| config.allowed_accounts.clone()),
                max_key_age_days: config.max_key_age_days,
                max_unused_days: config.max_unused_days,
            },
            cwd,
            scope,
            iam,
            file_timeout: self.file_timeout,
            pieces: self.pieces.clone(),
        })
    }

    /// Runs every stage and judges the gate.
    pub fn run(mut self) -> Result<ScanOutput, RunError> {
        let opts = self.options()?;
        let idle = Progress::default();
        let progress = self.progress.unwrap_or(&idle);
        let policy = self.policy;
        let rules = &policy.rules;
        // Unused `[[allow]]` entries mean something only when every file
        // they could name was scanned.
        let walked = matches!(self.source, Source::Walk);
        let whole_tree = walked && covers_root(&opts.paths, &policy.config, &opts.cwd);
        // A git source's repository, discovered once for every thread that
        // asks git (each discovery is a process a commit's hook waits for).
        let source = match std::mem::take(&mut self.source) {
            Source::Walk => Ready::Walk,
            Source::Git(mode) => Ready::Git(crate::git::Repo::discover(&opts.cwd)?, mode),
            Source::Buffer { path, text } => Ready::Buffer { path, text },
        };
        let identity = self.identify.then(|| identity_beside(&source, &opts.cwd));
        let read_ahead = policies_beside(&source, policy);
        let (mut out, post) = match source {
            Ready::Walk => (
                scan::scan(&opts, rules, progress)?,
                crate::git::Post::default(),
            ),
            Ready::Git(repo, mode) => {
                crate::git::scan(&repo, &mode, &opts.paths, &opts, rules, progress)?
            }
            Ready::Buffer { path, text } => {
                let mut blobs = vec![Blob::new(path, text.into_bytes())];
                blobs.append(&mut self.context);
                (
                    scan::scan_blobs(blobs, &opts, rules, progress)?,
                    crate::git::Post::default(),
                )
            }
        };
        crate::suppress::apply(
            &mut out,
            &policy.config,
            policy.baseline.as_ref(),
            rules,
            &opts.cwd,
            whole_tree,
        );
        post.apply(&mut out);
        // The gate of the policy in force; a judged change also answers to
        // its base's, so a change that raises `fail-on` cannot pass by it.
        let mut gate = policy.config.fail_on;
        if let Some(change) = post.change() {
            let base_gate = crate::policy::added::report(
                &mut out,
                &change.repo,
                change,
                &policy.named,
                self.suppressions_fail,
                read_ahead
                    .into_iter()
                    .filter_map(|h| h.join().ok().flatten())
                    .collect(),
            );
            gate = gate.stricter(base_gate);
        }
        out.warnings.extend(policy.notes.iter().cloned());
        out.warnings.extend(self.notes);
        if out.meta.date.is_empty() {
            out.meta.date = opts
                .iam
                .now
                .unwrap_or_else(jiff::Timestamp::now)
                .to_string();
        }
        if let Some(Ok(Some((repository, commit)))) = identity.map(|h| h.join()) {
            out.meta.repository = Some(repository);
            out.meta.commit = commit;
        }
        if let Some(name) = self.repository.take() {
            out.meta.repository = Some(name);
        }
        let threshold = self.fail_on.unwrap_or(gate);
        out.gate = Some(judge(&out, threshold, self.suppressions_fail, rules));
        out.next = crate::scan::Next::of(&out, rules, walked, policy.baseline.is_some());
        out.redact();
        Ok(out)
    }
}

type Identity = Option<(String, Option<String>)>;

/// The repository's name and commit, asked of git while the scan runs
/// instead of after it.
fn identity_beside(source: &Ready, cwd: &Path) -> std::thread::JoinHandle<Identity> {
    let cwd = cwd.to_path_buf();
    let repo = match source {
        Ready::Git(repo, _) => Some(repo.clone()),
        _ => None,
    };
    std::thread::spawn(move || match repo {
        Some(repo) => Some(repo.identity()),
        None => identify(&cwd),
    })
}

/// A commit's review reads HEAD's policy and the index's: read beside the
/// scan (nothing for other sources).
fn policies_beside(
    source: &Ready,
    policy: &PolicySet,
) -> Vec<std::thread::JoinHandle<Option<crate::policy::added::TreePolicy>>> {
    use crate::policy::added::TreePolicy;
    let Ready::Git(repo, Mode::Staged { .. }) = source else {
        return Vec::new();
    };
    [TreePolicy::of_head, TreePolicy::of_index]
        .into_iter()
        .map(|read| {
            let (repo, named) = (repo.clone(), policy.named.clone());
            std::thread::spawn(move || read(&repo, &named))
        })
        .collect()
}

/// The gate at `threshold`. Without `suppressions_fail` the findings of
/// the change review's rule (a suppression the change adds) are advisory:
/// shown, not failing.
fn judge(
    out: &ScanOutput,
    threshold: crate::severity::FailOn,
    suppressions_fail: bool,
    rules: &crate::rules::RuleSet,
) -> Gate {
    let mut judged = Gate::judge(out, threshold);
    if !suppressions_fail && let Some(added) = rules.raised_by(crate::rules::load::RaisedBy::Change)
    {
        let advisory = out
            .active()
            .filter(|f| f.rule == added.id && threshold.fails(f.severity))
            .count() as u64;
        judged.failing = judged.failing.saturating_sub(advisory);
    }
    judged
}

/// The repository's name and commit, when `cwd` is in a work tree (no git
/// is started when no `.git` is above it).
fn identify(cwd: &Path) -> Identity {
    let abs = std::path::absolute(cwd).ok()?;
    if !abs.ancestors().any(|d| d.join(".git").exists()) {
        return None;
    }
    crate::git::Repo::discover(cwd).ok().map(|r| r.identity())
}

/// Whether one of the scanned paths is the configuration's directory or
/// above it.
fn covers_root(paths: &[PathBuf], config: &crate::config::Config, cwd: &Path) -> bool {
    if config.path.is_none() {
        return false;
    }
    let abs = |p: &Path| std::fs::canonicalize(cwd.join(p)).ok();
    let Some(root) = abs(&config.root) else {
        return false;
    };
    paths
        .iter()
        .filter_map(|p| abs(p))
        .any(|p| root.starts_with(p))
}
