//! Scanning what git holds rather than the working tree: the index
//! (`--staged`), the changes of a branch (`--since REV`) and every commit
//! (`--history`). Content comes from `git` plumbing (see DESIGN.md,
//! "Decisions") and goes through [`scan_blobs`], the same pipeline as a
//! directory scan.

mod history;
pub(crate) mod plumbing;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::finding::ScanError;
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

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("not a git repository: {} ({detail})", dir.display())]
    NotARepo { dir: PathBuf, detail: String },
    #[error("cannot run git: {0}")]
    NoGit(String),
    #[error("unknown revision `{0}`")]
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
    Scan(#[from] crate::scan::ScanFailure),
}

/// A tree policy files are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tree {
    /// A commit, by full ID; `name` is what the user called it.
    Commit { id: String, name: String },
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
    /// `--since`: added or changed lines (1-based, inclusive) per shown path.
    changed_lines: Option<HashMap<String, Vec<(usize, usize)>>>,
    /// `--since`: identities of the findings the base's version of each
    /// changed file (by the change's shown path) already had.
    base_identities: Option<HashMap<String, std::collections::HashSet<String>>>,
    history: bool,
    change: Option<Change>,
}

/// A change keyward judges (`--since`, `--staged`): the tree it starts from,
/// the tree it makes, and the ignore comments it adds.
#[derive(Debug, Clone)]
pub struct Change {
    pub base: Tree,
    pub head: Tree,
    pub markers: Vec<AddedMarker>,
    /// Added or changed lines (1-based, inclusive) by shown path.
    pub lines: HashMap<String, Vec<(usize, usize)>>,
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

/// The ignore comments of a file that stand on `ranges` (1-based lines).
fn added_markers(path: &str, bytes: &[u8], ranges: &[(usize, usize)]) -> Vec<AddedMarker> {
    if ranges.is_empty()
        || memchr::memmem::find(bytes, crate::ignore_comment::MARKER.as_bytes()).is_none()
    {
        return Vec::new();
    }
    let text: std::sync::Arc<str> = Arc::from(String::from_utf8_lossy(bytes).as_ref());
    crate::ignore_comment::find_markers(&text)
        .into_iter()
        .filter(|m| ranges.iter().any(|&(a, b)| (a..=b).contains(&(m.line + 1))))
        .map(|marker| AddedMarker {
            path: path.to_string(),
            text: text.clone(),
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
        if let Some(changed) = &self.changed_lines {
            let lines: Vec<Lines<'_>> = out.files.iter().map(|f| Lines::new(&f.text)).collect();
            let keep: Vec<bool> = out
                .findings
                .iter()
                .map(|f| {
                    let (Some(file), Some(l)) = (out.files.get(f.file), lines.get(f.file)) else {
                        return false;
                    };
                    let line = l.position(f.span.start).0;
                    changed
                        .get(&file.path)
                        .is_some_and(|r| r.iter().any(|&(a, b)| (a..=b).contains(&line)))
                })
                .collect();
            drop(lines);
            let mut keep = keep.into_iter();
            out.findings.retain(|_| keep.next().unwrap_or(false));
        }
        if let Some(base) = &self.base_identities {
            let files = &out.files;
            out.findings.retain(|f| {
                f.identity.is_empty()
                    || !files
                        .get(f.file)
                        .and_then(|file| base.get(&file.path))
                        .is_some_and(|ids| ids.contains(&f.identity))
            });
        }
        if self.history {
            out.findings.retain(|f| f.provenance.is_some());
        }
        out.summary.findings = out.active().count() as u64;
    }
}

/// Scans the git content `mode` names, limited to `paths` (pathspecs
/// relative to `opts.cwd`).
pub fn scan(
    mode: &Mode,
    paths: &[PathBuf],
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<(ScanOutput, Post), GitError> {
    let repo = Repo::discover(&opts.cwd)?;
    match mode {
        Mode::Staged { listed } => staged(&repo, *listed, paths, opts, rules, progress),
        Mode::Since { rev, all_lines } => {
            since(&repo, rev, *all_lines, paths, opts, rules, progress)
        }
        Mode::History { range, all_refs } => {
            let out = history::scan(
                &repo,
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
                    changed_lines: None,
                    base_identities: None,
                    history: true,
                    change: None,
                },
            ))
        }
    }
}

/// A file to read from the object database.
struct Wanted {
    blob: String,
    path: String,
}

fn staged(
    repo: &Repo,
    listed: bool,
    paths: &[PathBuf],
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<(ScanOutput, Post), GitError> {
    let mut errors = Vec::new();
    let mut symlinks = 0;
    let mut wanted = Vec::new();
    if listed {
        let mut args: Vec<std::ffi::OsString> = vec![
            "ls-files".into(),
            "-s".into(),
            "-z".into(),
            "--full-name".into(),
            "--".into(),
        ];
        args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
        let entries =
            plumbing::parse_ls_files(&repo.run(args)?).map_err(|detail| GitError::Parse {
                command: "ls-files".into(),
                detail,
            })?;
        let mut conflicted = HashSet::new();
        for e in &entries {
            if e.stage != 0 {
                if conflicted.insert(e.path.clone()) {
                    errors.push(ScanError {
                        kind: crate::finding::ProblemKind::NotScanned,
                        path: repo.display(&e.path),
                        message: "not scanned: unresolved merge conflict in the index".into(),
                    });
                }
            } else if e.mode == "120000" {
                symlinks += 1;
            } else if e.mode.starts_with("100") {
                wanted.push(Wanted {
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
                errors.push(ScanError {
                    kind: crate::finding::ProblemKind::NotScanned,
                    path: crate::walk::display_path(p, &repo.cwd),
                    message: "not scanned: not in the index (untracked or deleted)".into(),
                });
            }
        }
    }
    let pairs = diff_with_lines(repo, &["--cached".to_string()], paths, false)?;
    let mut changed = HashMap::new();
    for (e, lines) in pairs {
        if e.deleted() {
            continue;
        }
        if !listed {
            if e.is_symlink() {
                symlinks += 1;
            } else if e.is_regular_file() {
                wanted.push(Wanted {
                    blob: e.blob.clone(),
                    path: e.path.clone(),
                });
            }
        }
        changed.insert(repo.display(&e.path), lines);
    }
    let mut markers = Vec::new();
    let mut out = read_and_scan(
        repo,
        wanted,
        opts,
        rules,
        progress,
        Some((&changed, &mut markers)),
    )?;
    out.summary.skipped_other += symlinks;
    out.errors.extend(errors);
    out.errors.sort();
    let post = Post {
        changed_lines: None,
        base_identities: None,
        history: false,
        change: Some(Change {
            lines: changed,
            base: Tree::commit(repo, "HEAD")?,
            head: Tree::Index,
            markers,
        }),
    };
    Ok((out, post))
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
    let pairs = diff_with_lines(repo, &[base.clone(), head.clone()], paths, true)?;
    let mut changed = HashMap::new();
    let mut wanted = Vec::new();
    let mut before = Vec::new();
    // The base version's shown path → the change's.
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut symlinks = 0;
    for (e, lines) in pairs {
        if e.deleted() {
            continue;
        }
        if e.is_symlink() {
            symlinks += 1;
        } else if e.is_regular_file() {
            let shown = repo.display(&e.path);
            if !plumbing::is_null_id(&e.src_blob) {
                let old = e.src_path.clone().unwrap_or_else(|| e.path.clone());
                renamed.insert(repo.display(&old), shown.clone());
                before.push(Wanted {
                    blob: e.src_blob.clone(),
                    path: old,
                });
            }
            changed.insert(shown, lines);
            wanted.push(Wanted {
                blob: e.blob,
                path: e.path,
            });
        }
    }
    // What the base's versions of these files already held, by identity: a
    // credential a change only realigned or moved is not the change's. A
    // file git does not pair with its old self (renamed and reformatted
    // past its similarity threshold) is compared with the files the change
    // deletes.
    let base_identities = if all_lines {
        None
    } else {
        const GONE: &str = "\u{0}deleted";
        let added_alone: Vec<String> = wanted
            .iter()
            .map(|w| repo.display(&w.path))
            .filter(|p| !renamed.values().any(|n| n == p))
            .collect();
        if !added_alone.is_empty() {
            let revs = [base.clone(), head.clone()];
            let gone = raw_diff(repo, "D", false, &revs, paths)?;
            for e in gone {
                let shown = repo.display(&e.path);
                // A rename git did pair is already mapped to its new path.
                if !plumbing::is_null_id(&e.src_blob) && !renamed.contains_key(&shown) {
                    renamed.insert(shown, GONE.to_string());
                    before.push(Wanted {
                        blob: e.src_blob,
                        path: e.path,
                    });
                }
            }
        }
        // The credentials the base held where the change's files were, by
        // what they are, whatever rule speaks of them: no IAM, no rules.
        let (blobs, _) = read_blobs(repo, before, opts, None)?;
        let base = crate::scan::extract::blobs(blobs, opts, progress);
        let mut ids: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
        for file in &base.files {
            if let Some(new_path) = renamed.get(&file.path) {
                let held = ids.entry(new_path.clone()).or_default();
                held.extend(file.candidates.iter().map(|c| file.identity(c)));
            }
        }
        if let Some(gone) = ids.remove(GONE) {
            for p in added_alone {
                ids.entry(p).or_default().extend(gone.iter().cloned());
            }
        }
        Some(ids)
    };
    let mut markers = Vec::new();
    let mut out = read_and_scan(
        repo,
        wanted,
        opts,
        rules,
        progress,
        Some((&changed, &mut markers)),
    )?;
    out.summary.skipped_other += symlinks;
    let post = Post {
        changed_lines: (!all_lines).then(|| changed.clone()),
        base_identities,
        history: false,
        change: Some(Change {
            lines: changed,
            base: Tree::Commit {
                id: base,
                name: format!("the merge base of {rev} and HEAD"),
            },
            head: Tree::Commit {
                id: head,
                name: "HEAD".into(),
            },
            markers,
        }),
    };
    Ok((out, post))
}

/// The options every diff here runs with: the patch's files come in the
/// raw list's order only when both runs use the same ones.
fn diff_options(renames: bool, filter: &str) -> [String; 6] {
    [
        if renames {
            "--find-renames"
        } else {
            "--no-renames"
        }
        .to_string(),
        format!("--diff-filter={filter}"),
        "--no-relative".into(),
        "--no-ext-diff".into(),
        "--no-textconv".into(),
        "--no-color".into(),
    ]
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

/// Lines of one file, 1-based and inclusive.
type LineRanges = Vec<(usize, usize)>;

/// A diff's files with their added or changed lines (1-based, inclusive).
/// `revs`: `[base, head]`, or `["--cached"]` for the index against HEAD.
fn diff_with_lines(
    repo: &Repo,
    revs: &[String],
    paths: &[PathBuf],
    renames: bool,
) -> Result<Vec<(plumbing::RawEntry, LineRanges)>, GitError> {
    let options = diff_options(renames, "ACMRT");
    let entries = raw_diff(repo, "ACMRT", renames, revs, paths)?;
    let mut patch_args: Vec<std::ffi::OsString> = vec!["diff".into(), "-U0".into()];
    patch_args.extend(options.iter().map(Into::into));
    patch_args.extend(revs.iter().map(Into::into));
    patch_args.push("--".into());
    patch_args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    let added =
        plumbing::parse_added_lines(&repo.run(patch_args)?).map_err(|detail| GitError::Parse {
            command: "diff -U0".into(),
            detail,
        })?;
    if added.len() != entries.len() {
        return Err(GitError::Parse {
            command: "diff -U0".into(),
            detail: format!(
                "{} files in the patch, {} in the raw diff",
                added.len(),
                entries.len()
            ),
        });
    }
    Ok(entries.into_iter().zip(added).collect())
}

/// Reads the blobs and scans them as one set (so repo-wide facts span them).
/// Lines a change added, by shown path, and where to put the ignore
/// comments found on them.
type AddedLines<'a> = (
    &'a HashMap<String, Vec<(usize, usize)>>,
    &'a mut Vec<AddedMarker>,
);

fn read_and_scan(
    repo: &Repo,
    wanted: Vec<Wanted>,
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
    added: Option<AddedLines<'_>>,
) -> Result<ScanOutput, GitError> {
    let (blobs, unread) = read_blobs(repo, wanted, opts, added)?;
    let mut out = scan_blobs(blobs, opts, rules, progress)?;
    out.summary.skipped_large += unread.too_large;
    out.errors.extend(unread.errors);
    out.errors.sort();
    Ok(out)
}

/// Blobs that could not be read: counted and named, never silent.
#[derive(Default)]
struct Unread {
    too_large: u64,
    errors: Vec<ScanError>,
}

/// Reads the blobs, and with `added` the ignore comments on the lines a
/// change added.
fn read_blobs(
    repo: &Repo,
    wanted: Vec<Wanted>,
    opts: &ScanOptions,
    mut added: Option<AddedLines<'_>>,
) -> Result<(Vec<Blob>, Unread), GitError> {
    let ids: Vec<String> = wanted.iter().map(|w| w.blob.clone()).collect();
    let mut blobs = Vec::with_capacity(wanted.len());
    let mut unread = Unread::default();
    plumbing::cat_blobs(repo, &ids, opts.max_file_size, |i, content| {
        let Some(w) = wanted.get(i) else {
            return false;
        };
        let path = repo.display(&w.path);
        match content {
            plumbing::BlobContent::Bytes(bytes) => {
                if let Some((lines, markers)) = added.as_mut()
                    && let Some(ranges) = lines.get(&path)
                {
                    markers.extend(added_markers(&path, &bytes, ranges));
                }
                blobs.push(Blob { path, bytes });
            }
            plumbing::BlobContent::TooLarge(size) => {
                unread.too_large += 1;
                unread.errors.push(ScanError {
                    kind: crate::finding::ProblemKind::TooLarge,
                    path,
                    message: format!(
                        "skipped: {size} bytes is over --max-file-size ({})",
                        opts.max_file_size
                    ),
                });
            }
            plumbing::BlobContent::Missing => unread.errors.push(ScanError {
                kind: crate::finding::ProblemKind::NotScanned,
                path,
                message: format!("not scanned: object {} is missing", w.blob),
            }),
        }
        true
    })?;
    Ok((blobs, unread))
}

/// Whether the paths are the default (`.`), not files the user listed.
pub fn default_paths(paths: &[PathBuf]) -> bool {
    paths.is_empty() || paths.iter().all(|p| p == Path::new("."))
}
