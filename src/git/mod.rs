//! Scanning what git holds rather than the working tree: the index
//! (`--staged`), the changes of a branch (`--since REV`) and every commit
//! (`--history`). Content comes from `git` plumbing (see DESIGN.md,
//! "Decisions") and goes through [`scan_blobs`], the same pipeline as a
//! directory scan.

mod context;
mod history;
pub(crate) mod lines;
mod pack;
pub(crate) mod plumbing;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::Warning;
use crate::rules::RuleSet;
use crate::scan::{Blob, Progress, ScanOptions, ScanOutput, scan_blobs};
use crate::shown::Lines;

pub use plumbing::Repo;

/// Which git content to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The index. `listed`: the paths are files to take from the index as
    /// they are staged (what pre-commit passes); otherwise every file staged
    /// with a change under the paths.
    Staged { listed: bool },
    /// Files changed between the merge base of `rev` and HEAD, and HEAD;
    /// findings only on added or changed lines unless `all_lines`.
    Since { rev: String, all_lines: bool },
    /// Every blob of every commit reachable from HEAD, from `range`'s
    /// revisions, or from all refs.
    History {
        range: Option<String>,
        all_refs: bool,
    },
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GitError {
    #[error("not a git repository: {} ({detail})", dir.display())]
    NotARepo { dir: PathBuf, detail: String },
    #[error("cannot run git: {0}")]
    #[diagnostic(help(
        "the git modes (--staged, --since, --history, --policy-from) run git: install it, or put it on PATH. keyward's container image has no git: run them where git is (the wheel, a release binary)"
    ))]
    NoGit(String),
    #[error("unknown revision `{0}`")]
    #[diagnostic(help(
        "a CI checkout often lacks the base branch: fetch it (`git fetch origin BRANCH`), or check out with the history (actions/checkout with `fetch-depth: 0`, GitLab `GIT_DEPTH: 0`)"
    ))]
    UnknownRev(String),
    #[error(
        "`{rev}` is not in this clone, which is shallow; fetch the history (`git fetch --unshallow`, or actions/checkout with `fetch-depth: 0`)"
    )]
    NotInShallowClone { rev: String },
    #[error("`{since}` and HEAD have no common ancestor")]
    NoMergeBase { since: String },
    #[error(
        "`{since}` and HEAD have no common ancestor in this clone, which is shallow; fetch the history (`git fetch --unshallow`, or actions/checkout with `fetch-depth: 0`)"
    )]
    NoMergeBaseShallow { since: String },
    #[error("`git {command}` failed: {detail}")]
    Failed { command: String, detail: String },
    #[error("unexpected output from `git {command}`: {detail}")]
    Parse { command: String, detail: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Scan(#[from] crate::scan::ScanFailure),
}

/// A tree policy files are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tree {
    /// A commit.
    Commit {
        /// The full commit ID.
        id: String,
        /// What the user called it (`origin/main`).
        name: String,
    },
    /// The staged content.
    Index,
    /// Before the first commit: no files at all.
    Empty,
}

impl std::fmt::Display for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tree::Commit { id, name } => {
                let short = crate::shown::short_commit(id);
                if name == id || name.is_empty() {
                    write!(f, "{short}")
                } else {
                    write!(f, "{name} ({short})")
                }
            }
            Tree::Index => f.write_str("the index"),
            Tree::Empty => f.write_str("an empty tree"),
        }
    }
}

impl Tree {
    /// The commit `rev` names; an unborn `HEAD` is the empty tree.
    pub fn commit(repo: &Repo, rev: &str) -> Result<Tree, GitError> {
        match repo.commit_id(rev) {
            Ok(id) => Ok(Tree::Commit {
                id,
                name: rev.to_string(),
            }),
            Err(GitError::UnknownRev(_)) if rev == "HEAD" && unborn(repo) => Ok(Tree::Empty),
            Err(e) => Err(e),
        }
    }
}

/// A repository with no commit yet.
fn unborn(repo: &Repo) -> bool {
    repo.command()
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .output()
        .is_ok_and(|o| !o.status.success())
}

/// What is left to do after suppressions are applied.
#[derive(Debug, Default)]
pub struct Post {
    /// `--since`: what the change wrote, judged by content.
    written: Option<Written>,
    history: bool,
    change: Option<Change>,
}

/// What a change wrote into each file, from the decoded text of both
/// versions (never from git's patch, which `.gitattributes` can empty).
#[derive(Debug, Default)]
struct Written {
    /// Lines (1-based, inclusive) by shown path.
    lines: HashMap<String, lines::LineRanges>,
    /// How many places of each credential (by identity) the base's version
    /// of each file held, by the change's shown path: the base's version,
    /// the file it was renamed from, or, for a file new to git, the files
    /// the change deletes.
    base: HashMap<String, HashMap<String, usize>>,
}

/// A change keyward judges (`--since`, `--staged`): the tree it starts from,
/// the tree it makes, and the ignore comments it adds.
#[derive(Debug, Clone)]
pub struct Change {
    /// The repository the change is in, as the scan found it (the review
    /// of its suppressions asks it again, without discovering it twice).
    pub repo: Repo,
    pub base: Tree,
    pub head: Tree,
    pub markers: Vec<AddedMarker>,
    /// Added or changed lines (1-based, inclusive) by shown path.
    pub lines: HashMap<String, Vec<(usize, usize)>>,
    /// The `.gitattributes` files the change writes, as it writes them.
    pub attributes: Vec<AttributesFile>,
    /// Files (shown paths) the change adds, or makes larger than the base
    /// had them.
    pub grown: HashSet<String>,
    /// Credentials the change writes into files the configuration's scope
    /// leaves out.
    pub excluded: Vec<ExcludedCredential>,
}

impl Change {
    /// What the change from `base` to `head` does, from the blobs it
    /// writes (`written`) and their base versions: the lines, the ignore
    /// markers and `.gitattributes` it adds, the files it grows, the
    /// credentials it hides from the scope.
    fn examine(
        repo: &Repo,
        written: &[Blob],
        before: &BaseBlobs,
        opts: &ScanOptions,
        base: Tree,
        head: Tree,
    ) -> Change {
        let lines = written_lines(written, before);
        Change {
            repo: repo.clone(),
            base,
            head,
            markers: markers_on(written, &lines),
            attributes: attributes_files(repo, written),
            grown: grown(written, before),
            excluded: excluded_credentials(written, before, opts),
            lines,
        }
    }
}

/// A credential a change writes where `[scan] exclude`/`include` keeps
/// keyward from judging it.
#[derive(Debug, Clone)]
pub struct ExcludedCredential {
    /// As output shows it.
    pub path: String,
    pub text: Arc<str>,
    pub span: std::ops::Range<usize>,
    /// What it is, for a message: "access key ID `AKIA…`".
    pub what: String,
}

/// Credentials the change writes into files outside the scan's scope: the
/// files are read anyway (a documented exclude must not become a place to
/// put a key), and what the base's version did not hold is reported.
fn excluded_credentials(
    head: &[Blob],
    base: &BaseBlobs,
    opts: &ScanOptions,
) -> Vec<ExcludedCredential> {
    let Some(scope) = &opts.scope else {
        return Vec::new();
    };
    let left_out = |b: &&Blob| b.large.is_none() && !scope.wants(Path::new(&b.path), &opts.cwd);
    let chosen: Vec<Blob> = head
        .iter()
        .filter(left_out)
        .map(|b| Blob::new(b.path.clone(), b.bytes.clone()))
        .collect();
    if chosen.is_empty() {
        return Vec::new();
    }
    let before: Vec<Blob> = chosen
        .iter()
        .filter_map(|b| base.get(&b.path))
        .filter(|b| b.large.is_none())
        .map(|b| Blob::new(b.path.clone(), b.bytes.clone()))
        .collect();
    let unscoped = ScanOptions {
        scope: None,
        threads: 1,
        ..opts.clone()
    };
    let idle = Progress::default();
    // The base's versions are read under the change's paths (`Blob::path`
    // of a base blob is its own old path): counted per change path.
    let base_paths: HashMap<String, String> = chosen
        .iter()
        .filter_map(|b| base.get(&b.path).map(|o| (o.path.clone(), b.path.clone())))
        .collect();
    let mut held: HashMap<(String, String), usize> = HashMap::new();
    for file in crate::scan::extract::blobs(before, &unscoped, &idle).files {
        let Some(new_path) = base_paths.get(&file.path) else {
            continue;
        };
        for c in &file.candidates {
            *held
                .entry((new_path.clone(), file.identity(c)))
                .or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for file in crate::scan::extract::blobs(chosen, &unscoped, &idle).files {
        for c in file.candidates.iter().filter(|c| !c.placeholder) {
            let left = held
                .entry((file.path.clone(), file.identity(c)))
                .or_default();
            if *left > 0 {
                *left -= 1;
                continue;
            }
            let what = match c.kind {
                crate::detect::CandidateKind::AccessKeyId => format!("access key ID `{}`", c.value),
                crate::detect::CandidateKind::SecretAccessKey => {
                    format!("secret access key `{}`", crate::detect::mask(&c.value))
                }
                crate::detect::CandidateKind::SessionToken => "a session token".to_string(),
            };
            out.push(ExcludedCredential {
                path: file.path.clone(),
                text: file.text.clone(),
                span: c.span.clone(),
                what,
            });
        }
    }
    out
}

/// The files of `head` that are new or larger than in `base`.
fn grown(head: &[Blob], base: &BaseBlobs) -> HashSet<String> {
    head.iter()
        .filter(|b| base.get(&b.path).is_none_or(|o| o.size() < b.size()))
        .map(|b| b.path.clone())
        .collect()
}

/// A `.gitattributes` file of a change.
#[derive(Debug, Clone)]
pub struct AttributesFile {
    /// As output shows it.
    pub path: String,
    /// Its directory in the repository (`""` at the top).
    pub dir: String,
    pub text: Arc<str>,
}

/// The `.gitattributes` files among the blobs a change writes.
fn attributes_files(repo: &Repo, head: &[Blob]) -> Vec<AttributesFile> {
    head.iter()
        .filter(|b| Path::new(&b.path).file_name() == Some(".gitattributes".as_ref()))
        .map(|b| {
            let repo_path = repo.repo_path(Path::new(&b.path)).unwrap_or_default();
            let dir = repo_path
                .rsplit_once('/')
                .map_or(String::new(), |(d, _)| d.to_string());
            AttributesFile {
                path: b.path.clone(),
                dir,
                text: Arc::from(crate::source::decode(&b.bytes).text.as_ref()),
            }
        })
        .collect()
}

/// A `keyward:ignore` comment on a line a change added or changed.
#[derive(Debug, Clone)]
pub struct AddedMarker {
    /// The file as output shows it.
    pub path: String,
    /// The file's text in the change.
    pub text: std::sync::Arc<str>,
    pub marker: crate::ignore_comment::IgnoreMarker,
}

/// The ignore comments of a file that stand on `ranges` (1-based lines),
/// read from the text the scan reads (the same decoding, Markdown code
/// fences left out), so a comment in a UTF-16 file is seen here too.
fn added_markers(path: &str, text: &str, ranges: &[(usize, usize)]) -> Vec<AddedMarker> {
    if ranges.is_empty() || !text.contains(crate::ignore_comment::MARKER) {
        return Vec::new();
    }
    let shared: Arc<str> = Arc::from(text);
    let mut found = crate::ignore_comment::find_markers(&shared);
    if crate::ignore_comment::is_markdown(Path::new(path)) {
        found = crate::ignore_comment::outside_markdown_fences(&shared, found);
    }
    found
        .into_iter()
        .filter(|m| ranges.iter().any(|&(a, b)| (a..=b).contains(&(m.line + 1))))
        .map(|marker| AddedMarker {
            path: path.to_string(),
            text: shared.clone(),
            marker,
        })
        .collect()
}

impl Post {
    /// Drops what the mode does not report: findings on lines a branch did
    /// not touch and findings of credentials the base's version of the file
    /// already held, at the same place in its structure, in that file or
    /// the one it was renamed from (`--since`), and unused-ignore findings of old file
    /// versions (`--history`: an ignore is about the current tree). Runs
    /// after suppression so an untouched ignore comment is not reported as
    /// unused either.
    /// The change being judged, in `--since` and `--staged` modes.
    pub fn change(&self) -> Option<&Change> {
        self.change.as_ref()
    }

    pub fn apply(&self, out: &mut ScanOutput) {
        if let Some(written) = &self.written {
            let keep = written.keep(out);
            let mut keep = keep.into_iter();
            out.findings.retain(|_| keep.next().unwrap_or(false));
        }
        if self.history {
            out.findings.retain(|f| f.provenance.is_some());
        }
        out.summary.findings = out.active().count() as u64;
    }
}

impl Written {
    /// Which findings the change made: a credential is the change's when
    /// its file in the base held fewer places of it (by identity, wherever
    /// they stand: a key the change only realigned or moved is not its); a
    /// finding about no credential (an unused ignore) when it stands on a
    /// line the change wrote.
    fn keep(&self, out: &ScanOutput) -> Vec<bool> {
        let lines: Vec<Lines<'_>> = out.files.iter().map(|f| f.lines()).collect();
        let on_written = |f: &crate::Finding| -> bool {
            let (Some(file), Some(l)) = (out.files.get(f.file), lines.get(f.file)) else {
                return false;
            };
            let line = l.position(f.span.start).0;
            self.lines
                .get(&file.path)
                .is_some_and(|r| r.iter().any(|&(a, b)| (a..=b).contains(&line)))
        };
        let written: Vec<bool> = out.findings.iter().map(on_written).collect();
        // Places of each credential in the change's version of each file,
        // and whether one of them stands on a written line.
        let mut places: HashMap<(usize, &str), (HashSet<usize>, bool)> = HashMap::new();
        for (f, &w) in out.findings.iter().zip(&written) {
            if !f.identity.is_empty() {
                let e = places.entry((f.file, f.identity.as_str())).or_default();
                e.0.insert(f.span.start);
                e.1 |= w;
            }
        }
        // Credentials with more places than the base had. Where the base
        // had some, the written lines say which places are new; where none
        // of them is on one, all are reported.
        let mut grown: HashMap<(usize, &str), bool> = HashMap::new();
        for (&(file, identity), (spans, any_written)) in &places {
            let before = out
                .files
                .get(file)
                .and_then(|s| self.base.get(&s.path))
                .and_then(|ids| ids.get(identity))
                .copied()
                .unwrap_or(0);
            if spans.len() > before {
                grown.insert((file, identity), before > 0 && *any_written);
            }
        }
        out.findings
            .iter()
            .zip(&written)
            .map(|(f, &w)| {
                if f.identity.is_empty() {
                    return w;
                }
                match grown.get(&(f.file, f.identity.as_str())) {
                    None => false,
                    Some(by_line) => !by_line || w,
                }
            })
            .collect()
    }
}

/// Scans the git content `mode` names, limited to `paths` (pathspecs
/// relative to `opts.cwd`).
pub fn scan(
    repo: &Repo,
    mode: &Mode,
    paths: &[PathBuf],
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<(ScanOutput, Post), GitError> {
    match mode {
        Mode::Staged { listed } => staged(repo, *listed, paths, opts, rules, progress),
        Mode::Since { rev, all_lines } => {
            since(repo, rev, *all_lines, paths, opts, rules, progress)
        }
        Mode::History { range, all_refs } => {
            let out = history::scan(
                repo,
                range.as_deref(),
                *all_refs,
                paths,
                opts,
                rules,
                progress,
            )?;
            Ok((
                out,
                Post {
                    written: None,
                    history: true,
                    change: None,
                },
            ))
        }
    }
}

/// A file to read from the object database.
struct BlobToRead {
    blob: String,
    path: String,
}

/// The staged files `paths` name, as blobs to read, and what is said of
/// the paths that name nothing staged or a conflict.
fn list_staged(
    repo: &Repo,
    paths: &[PathBuf],
) -> Result<(Vec<Warning>, Vec<BlobToRead>), GitError> {
    let mut errors = Vec::new();
    let mut wanted = Vec::new();
    let mut args: Vec<std::ffi::OsString> = vec![
        "ls-files".into(),
        "-s".into(),
        "-z".into(),
        "--full-name".into(),
        "--".into(),
    ];
    args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    let entries = plumbing::parse_ls_files(&repo.run(args)?).map_err(|detail| GitError::Parse {
        command: "ls-files".into(),
        detail,
    })?;
    let mut conflicted = HashSet::new();
    for e in &entries {
        if e.stage != 0 {
            if conflicted.insert(e.path.clone()) {
                errors.push(Warning {
                    kind: crate::finding::ProblemKind::NotScanned,
                    path: repo.display(&e.path),
                    message: "not scanned: unresolved merge conflict in the index".into(),
                });
            }
        } else if e.mode == "120000" || e.mode.starts_with("100") {
            wanted.push(BlobToRead {
                blob: e.blob.clone(),
                path: e.path.clone(),
            });
        }
    }
    // A path that names nothing staged is said so, never dropped quietly.
    for p in paths {
        let found = repo.repo_path(p).is_some_and(|rp| {
            rp.is_empty()
                || entries
                    .iter()
                    .any(|e| e.path == rp || e.path.starts_with(&format!("{rp}/")))
        });
        if !found {
            errors.push(Warning {
                kind: crate::finding::ProblemKind::NotScanned,
                path: crate::walk::display_path(p, &repo.cwd),
                message: "not scanned: not in the index (untracked or deleted)".into(),
            });
        }
    }
    Ok((errors, wanted))
}

fn staged(
    repo: &Repo,
    listed: bool,
    paths: &[PathBuf],
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<(ScanOutput, Post), GitError> {
    std::thread::scope(|scope| {
        // Each of these is a git process a commit's hook waits for: HEAD's
        // ids (for the key-ID context and the change's base) and the listing
        // are asked beside the diff, not after it.
        let head_ids = scope.spawn(|| repo.head_ids());
        let listing = listed.then(|| scope.spawn(|| list_staged(repo, paths)));
        // The index against HEAD, asked once for both the commit's files and
        // the key-ID context (which lays every change over HEAD's tree).
        let all_changes = IndexChanges::ask(repo, paths)?;
        let entries = match &all_changes {
            Some(all) => all.commit_entries(),
            None => raw_diff(repo, "ACMRT", false, &["--cached".to_string()], paths)?,
        };
        let (errors, mut wanted) = match listing {
            Some(listing) => listing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
            None => Default::default(),
        };
        let mut changes = Vec::new();
        for e in entries {
            if e.deleted() {
                continue;
            }
            if !listed && e.has_content() {
                wanted.push(BlobToRead {
                    blob: e.blob.clone(),
                    path: e.path.clone(),
                });
            }
            changes.push(e);
        }
        let (head, mut unread, base) = read_with_base(repo, wanted, &changes, opts)?;
        let head_ids = head_ids.join().ok().flatten();
        let base_tree = match &head_ids {
            Some(ids) => Tree::Commit {
                id: ids.commit.clone(),
                name: "HEAD".into(),
            },
            None => Tree::commit(repo, "HEAD")?,
        };
        let change = Change::examine(repo, &head, &base, opts, base_tree, Tree::Index);
        // The commit is judged with the rest of the repository; what is said is
        // about the commit's files only.
        let context = context::of_index(
            repo,
            head_ids.as_ref(),
            &head,
            all_changes.as_ref().map(|c| c.all.as_slice()),
            opts,
        )?;
        let context_paths: HashSet<String> = context.iter().map(|b| b.path.clone()).collect();
        let mut blobs = head;
        blobs.extend(context);
        let mut out = scan_read(blobs, unread.take(), opts, rules, progress)?;
        drop_context_findings(&mut out, &context_paths);
        out.warnings.extend(errors);
        out.warnings.sort();
        let post = Post {
            written: None,
            history: false,
            change: Some(change),
        };
        Ok((out, post))
    })
}

/// Leaves only what is about the commit's own files: findings and
/// warnings in the other files it was judged with (`context`, shown
/// paths) go (the files stay, for the related places that point there),
/// and the counts are the commit's.
fn drop_context_findings(out: &mut ScanOutput, context: &HashSet<String>) {
    let in_context = |file: usize, files: &[crate::SourceFile]| {
        files.get(file).is_some_and(|s| context.contains(&s.path))
    };
    let files = &out.files;
    out.findings.retain(|f| !in_context(f.file, files));
    out.more.retain(|m| !in_context(m.file, files));
    out.warnings.retain(|w| !context.contains(&w.path));
    // The context blobs were never counted (Blob::context).
    out.summary.findings = out.findings.len() as u64;
}

fn since(
    repo: &Repo,
    rev: &str,
    all_lines: bool,
    paths: &[PathBuf],
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<(ScanOutput, Post), GitError> {
    let since = repo.commit_id(rev)?;
    let head = repo.commit_id("HEAD")?;
    let base = match repo.command().args(["merge-base", &since, &head]).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(_) if repo.is_shallow() => {
            return Err(GitError::NoMergeBaseShallow {
                since: rev.to_string(),
            });
        }
        Ok(_) => {
            return Err(GitError::NoMergeBase {
                since: rev.to_string(),
            });
        }
        Err(e) => return Err(GitError::NoGit(e.to_string())),
    };
    let revs = [base.clone(), head.clone()];
    let entries = raw_diff(repo, "ACMRT", true, &revs, paths)?;
    let mut wanted = Vec::new();
    let mut changes = Vec::new();
    let mut symlinks = 0;
    for e in entries {
        if e.deleted() {
            continue;
        }
        symlinks += u64::from(e.is_symlink());
        if e.has_content() {
            wanted.push(BlobToRead {
                blob: e.blob.clone(),
                path: e.path.clone(),
            });
            changes.push(e);
        }
    }
    let (head_blobs, mut unread, base_blobs) = read_with_base(repo, wanted, &changes, opts)?;
    let change = Change::examine(
        repo,
        &head_blobs,
        &base_blobs,
        opts,
        Tree::Commit {
            id: base,
            name: format!("the merge base of {rev} and HEAD"),
        },
        Tree::Commit {
            id: head,
            name: "HEAD".into(),
        },
    );
    let written = if all_lines {
        None
    } else {
        Some(Written {
            base: base_identities(repo, &revs, paths, &head_blobs, base_blobs, opts, progress)?,
            lines: change.lines.clone(),
        })
    };
    let mut out = scan_read(head_blobs, unread.take(), opts, rules, progress)?;
    out.summary.symlinks += symlinks;
    let post = Post {
        written,
        history: false,
        change: Some(change),
    };
    Ok((out, post))
}

/// The base's version of each changed file, by the change's shown path:
/// the blob before the change, its path then as the blob's path.
type BaseBlobs = HashMap<String, Blob>;

/// Reads the base's versions of the changed files.
/// The blobs `wanted` and the base versions of the `changes`, in one
/// `cat-file` (a commit pays for one git process, not two). A base version
/// too large or missing is compared as absent (the change's file is then
/// judged whole) and is no warning; a wanted blob that cannot be read is.
fn read_with_base(
    repo: &Repo,
    wanted: Vec<BlobToRead>,
    changes: &[plumbing::RawEntry],
    opts: &ScanOptions,
) -> Result<(Vec<Blob>, Unread, BaseBlobs), GitError> {
    let n = wanted.len();
    let mut all = wanted;
    let mut shown = Vec::new();
    for e in changes {
        if e.has_content() && !plumbing::is_null_id(&e.src_blob) {
            all.push(BlobToRead {
                blob: e.src_blob.clone(),
                path: e.src_path.clone().unwrap_or_else(|| e.path.clone()),
            });
            shown.push(repo.display(&e.path));
        }
    }
    let mut head = Vec::with_capacity(n);
    let mut base = HashMap::new();
    let mut unread = read_each(repo, &all, opts, |i, blob| match i.checked_sub(n) {
        None => head.push(blob),
        Some(b) => {
            if let Some(p) = shown.get(b) {
                base.insert(p.clone(), blob);
            }
        }
    })?;
    unread.keep_below(n);
    Ok((head, unread, base))
}

/// The lines each changed file's change writes, from both versions' text
/// as the scan decodes it.
fn written_lines(head: &[Blob], base: &BaseBlobs) -> HashMap<String, lines::LineRanges> {
    head.iter()
        .map(|b| {
            let new = crate::source::decode(&b.bytes);
            let old = base.get(&b.path).map(|o| crate::source::decode(&o.bytes));
            let ranges = lines::written(old.as_ref().map(|o| o.text.as_ref()), &new.text);
            (b.path.clone(), ranges)
        })
        .collect()
}

/// The ignore comments on the lines a change writes.
fn markers_on(head: &[Blob], lines: &HashMap<String, lines::LineRanges>) -> Vec<AddedMarker> {
    head.iter()
        .filter_map(|b| lines.get(&b.path).map(|r| (b, r)))
        .flat_map(|(b, ranges)| {
            let text = crate::source::decode(&b.bytes);
            added_markers(&b.path, &text.text, ranges)
        })
        .collect()
}

/// What the base's versions of the changed files held, by identity and
/// count: a credential a change only realigned or moved is not the
/// change's. A file git does not pair with its old self (renamed and
/// reformatted past its similarity threshold) is compared with the files
/// the change deletes. No rules, no IAM: credentials by what they are.
fn base_identities(
    repo: &Repo,
    revs: &[String],
    paths: &[PathBuf],
    head: &[Blob],
    base: BaseBlobs,
    opts: &ScanOptions,
    progress: &Progress,
) -> Result<HashMap<String, HashMap<String, usize>>, GitError> {
    // The base's shown path → the change's paths it became (a file copied
    // twice becomes two).
    let mut became: HashMap<String, Vec<String>> = HashMap::new();
    let mut before: Vec<Blob> = Vec::new();
    for (new_path, blob) in base {
        let seen = became.contains_key(&blob.path);
        became.entry(blob.path.clone()).or_default().push(new_path);
        if !seen {
            before.push(blob);
        }
    }
    let added_alone: Vec<&str> = head
        .iter()
        .map(|b| b.path.as_str())
        .filter(|p| !became.values().flatten().any(|n| n == p))
        .collect();
    let mut deleted: HashSet<String> = HashSet::new();
    if !added_alone.is_empty() {
        let gone = raw_diff(repo, "D", false, revs, paths)?;
        let wanted: Vec<BlobToRead> = gone
            .into_iter()
            .filter(|e| !plumbing::is_null_id(&e.src_blob))
            // A rename git paired is compared with its new self already.
            .filter(|e| !became.contains_key(&repo.display(&e.path)))
            .map(|e| BlobToRead {
                blob: e.src_blob,
                path: e.path,
            })
            .collect();
        let (blobs, _) = read_blobs(repo, wanted, opts)?;
        for b in blobs {
            deleted.insert(b.path.clone());
            before.push(b);
        }
    }
    let extracted = crate::scan::extract::blobs(before, opts, progress);
    let mut ids: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut gone: HashMap<String, usize> = HashMap::new();
    for file in &extracted.files {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for c in &file.candidates {
            *counts.entry(file.identity(c)).or_default() += 1;
        }
        let owners: Vec<&str> = if deleted.contains(&file.path) {
            merge_max(&mut gone, &counts);
            Vec::new()
        } else {
            became
                .get(&file.path)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default()
        };
        for owner in owners {
            merge_max(ids.entry(owner.to_string()).or_default(), &counts);
        }
    }
    if !gone.is_empty() {
        for p in added_alone {
            merge_max(ids.entry(p.to_string()).or_default(), &gone);
        }
    }
    Ok(ids)
}

/// Each identity's count in `into` raised to its count in `from`.
fn merge_max(into: &mut HashMap<String, usize>, from: &HashMap<String, usize>) {
    for (id, &n) in from {
        let e = into.entry(id.clone()).or_default();
        *e = (*e).max(n);
    }
}

/// The options every `git diff --raw` here runs with.
fn diff_options(renames: bool, filter: &str) -> [String; 7] {
    [
        if renames {
            "--find-renames"
        } else {
            "--no-renames"
        }
        .to_string(),
        format!("--diff-filter={filter}"),
        "--no-relative".into(),
        // Nothing of the repository's attributes may shape what keyward
        // reads: no external diff, no text conversion, every file as text.
        "--no-ext-diff".into(),
        "--no-textconv".into(),
        "--text".into(),
        "--no-color".into(),
    ]
}

/// Every change of the index against HEAD, and the repository paths the
/// user named (none: all of them).
struct IndexChanges {
    all: Vec<plumbing::RawEntry>,
    named: Vec<String>,
}

impl IndexChanges {
    /// Asks git once; `None` when HEAD is not known yet or a named path
    /// does not resolve inside the work tree (git is then asked with the
    /// paths as pathspecs, and says what is wrong with them).
    fn ask(repo: &Repo, paths: &[PathBuf]) -> Result<Option<IndexChanges>, GitError> {
        if repo.head.is_none() {
            return Ok(None);
        }
        let Some(named) = paths
            .iter()
            .map(|p| repo.repo_path(p))
            .collect::<Option<Vec<String>>>()
        else {
            return Ok(None);
        };
        let all = raw_diff(repo, "ACDMRTUXB", false, &["--cached".to_string()], &[])?;
        Ok(Some(IndexChanges { all, named }))
    }

    /// The commit's entries: what is added or modified under the named
    /// paths, as `--diff-filter=ACMRT` with the paths as pathspecs gives.
    fn commit_entries(&self) -> Vec<plumbing::RawEntry> {
        let under = |path: &str| {
            self.named.is_empty()
                || self.named.iter().any(|n| {
                    n.is_empty()
                        || path == n
                        || path
                            .strip_prefix(n.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                })
        };
        self.all
            .iter()
            .filter(|e| b"ACMRT".contains(&e.status) && under(&e.path))
            .cloned()
            .collect()
    }
}

/// The entries of `git diff --raw` between `revs` (or `--cached`) with the
/// statuses in `filter`.
fn raw_diff(
    repo: &Repo,
    filter: &str,
    renames: bool,
    revs: &[String],
    paths: &[PathBuf],
) -> Result<Vec<plumbing::RawEntry>, GitError> {
    let mut args: Vec<std::ffi::OsString> = vec!["diff".into(), "--raw".into(), "-z".into()];
    args.push("--no-abbrev".into());
    args.extend(diff_options(renames, filter).iter().map(Into::into));
    args.extend(revs.iter().map(Into::into));
    args.push("--".into());
    args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    plumbing::parse_raw_diff(&repo.run(args)?).map_err(|detail| GitError::Parse {
        command: format!("diff --raw --diff-filter={filter}"),
        detail,
    })
}

/// Scans blobs read from git as one set (so repo-wide facts span them),
/// with what could not be read.
fn scan_read(
    blobs: Vec<Blob>,
    unread: Unread,
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<ScanOutput, GitError> {
    let mut out = scan_blobs(blobs, opts, rules, progress)?;
    out.warnings.extend(unread.errors);
    out.warnings.sort();
    Ok(out)
}

/// Blobs that could not be read: named, never silent.
#[derive(Default)]
struct Unread {
    errors: Vec<Warning>,
    /// The index in what was wanted of each error's blob.
    at: Vec<usize>,
}

impl Unread {
    fn take(&mut self) -> Unread {
        std::mem::take(self)
    }

    /// Only the blobs wanted before `n`.
    fn keep_below(&mut self, n: usize) {
        let at = std::mem::take(&mut self.at);
        let errors = std::mem::take(&mut self.errors);
        for (i, e) in at.into_iter().zip(errors) {
            if i < n {
                self.at.push(i);
                self.errors.push(e);
            }
        }
    }
}

/// Reads the blobs, in the order wanted; those that cannot be read are
/// counted and named.
fn read_blobs(
    repo: &Repo,
    wanted: Vec<BlobToRead>,
    opts: &ScanOptions,
) -> Result<(Vec<Blob>, Unread), GitError> {
    let mut blobs = Vec::with_capacity(wanted.len());
    let unread = read_each(repo, &wanted, opts, |_, blob| blobs.push(blob))?;
    Ok((blobs, unread))
}

/// Reads each wanted blob and hands it to `sink` with its index in
/// `wanted`.
fn read_each(
    repo: &Repo,
    wanted: &[BlobToRead],
    opts: &ScanOptions,
    mut sink: impl FnMut(usize, Blob),
) -> Result<Unread, GitError> {
    let ids: Vec<String> = wanted.iter().map(|w| w.blob.clone()).collect();
    let mut unread = Unread::default();
    plumbing::cat_blobs(repo, &ids, opts.max_file_size, |i, content| {
        let Some(w) = wanted.get(i) else {
            return false;
        };
        let path = repo.display(&w.path);
        match content {
            plumbing::BlobContent::Bytes(bytes) => sink(i, Blob::new(path, bytes)),
            plumbing::BlobContent::TooLarge { size, swept } => {
                sink(i, Blob::too_large(path, crate::scan::Large { size, swept }))
            }
            plumbing::BlobContent::Missing => {
                unread.errors.push(Warning {
                    kind: crate::finding::ProblemKind::NotScanned,
                    path,
                    message: format!("not scanned: object {} is missing", w.blob),
                });
                unread.at.push(i);
            }
        }
        true
    })?;
    Ok(unread)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: u8, path: &str) -> plumbing::RawEntry {
        plumbing::RawEntry {
            status,
            mode: "100644".into(),
            blob: "1".repeat(40),
            path: path.into(),
            src_blob: "0".repeat(40),
            src_path: None,
        }
    }

    /// The commit's entries from the one listing are what git's pathspecs
    /// and `--diff-filter=ACMRT` would give: a named directory holds what
    /// is below it, not a sibling sharing its name's start.
    #[test]
    fn a_commits_entries_are_those_under_the_named_paths() {
        let all = vec![
            entry(b'M', "app/main.tf"),
            entry(b'A', "app/sub/x.env"),
            entry(b'M', "apple/y.tf"),
            entry(b'D', "app/gone.tf"),
            entry(b'U', "app/conflict.tf"),
            entry(b'T', "top.yaml"),
        ];
        let paths = |changes: &IndexChanges| -> Vec<String> {
            changes
                .commit_entries()
                .into_iter()
                .map(|e| e.path)
                .collect()
        };
        let named = |named: &[&str]| IndexChanges {
            all: all.clone(),
            named: named.iter().map(|n| n.to_string()).collect(),
        };
        assert_eq!(paths(&named(&["app"])), ["app/main.tf", "app/sub/x.env"]);
        assert_eq!(
            paths(&named(&["apple/y.tf", "top.yaml"])),
            ["apple/y.tf", "top.yaml"]
        );
        let everything = ["app/main.tf", "app/sub/x.env", "apple/y.tf", "top.yaml"];
        assert_eq!(paths(&named(&[])), everything);
        // The top of the work tree, named as `.` from it.
        assert_eq!(paths(&named(&[""])), everything);
    }
}
