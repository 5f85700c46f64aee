//! The repo walker: parallel, `.gitignore`-aware, hidden files included,
//! `.git/` never, symlinks not followed. One visitor per thread; results are
//! merged and sorted by the caller, so output does not depend on scheduling.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ignore::{WalkBuilder, WalkState};

/// What the walker yields for each entry worth a look.
#[derive(Debug)]
pub enum Entry {
    /// A regular file. `len` is `None` from the walker: the reader takes the
    /// size from reading it (see `source::read_regular`).
    File { path: PathBuf, len: Option<u64> },
    /// A symlink, not followed: its target is what it holds (git stores
    /// it as the link's content), so that text is scanned.
    Symlink { path: PathBuf },
    /// A FIFO, socket or device: counted, not read.
    Skipped,
    /// A directory or entry the walker could not read.
    Error {
        path: Option<PathBuf>,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub no_ignore: bool,
    pub threads: usize,
    pub follow_links: bool,
}

/// Walks `roots` in parallel and calls `visit` for every entry on the
/// walker's threads. `make_visitor` builds one visitor per thread, whose
/// state is handed back through `finish` when the thread is done.
///
/// `.gitignore` rules mean something only in a git work tree, and building
/// their matchers was a sixth of a scan's time on a tree of checked-out
/// sources without `.git`. So when no root is inside a work tree, the walk
/// reads no `.gitignore`; should it meet a repository below a root, it stops,
/// `restart` is called, the states so far are dropped, and it walks again
/// reading them.
pub fn walk<S: Send>(
    roots: &[PathBuf],
    opts: &WalkOptions,
    make_state: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, Entry) + Sync,
    restart: impl Fn(),
) -> Vec<S> {
    if roots.is_empty() {
        return Vec::new();
    }
    let lean = !opts.no_ignore && !roots.iter().any(|r| inside_repository(r));
    let mut states = match walk_once(roots, opts, lean, &make_state, &visit) {
        Some(states) => states,
        None => {
            restart();
            walk_once(roots, opts, false, &make_state, &visit).unwrap_or_default()
        }
    };
    finish_tracked(roots, opts, &make_state, &visit, &mut states);
    states
}

/// One parallel walk. `lean`: read no git ignore files, and give up (None)
/// on meeting a repository.
fn walk_once<S: Send>(
    roots: &[PathBuf],
    opts: &WalkOptions,
    lean: bool,
    make_state: &(impl Fn() -> S + Sync),
    visit: &(impl Fn(&mut S, Entry) + Sync),
) -> Option<Vec<S>> {
    let (first, rest) = roots.split_first()?;
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    let git = !opts.no_ignore && !lean;
    // The entry filter must own what it touches.
    let met_repo = std::sync::Arc::new(AtomicBool::new(false));
    let seen = met_repo.clone();
    builder
        .hidden(false)
        .follow_links(opts.follow_links)
        // As ripgrep: `.gitignore` means something only in a git work tree.
        // `.ignore` applies everywhere.
        .require_git(true)
        .git_ignore(git)
        .git_exclude(git)
        .git_global(git)
        .ignore(!opts.no_ignore)
        .parents(!opts.no_ignore)
        .threads(opts.threads)
        .filter_entry(move |e| {
            let name = e.file_name();
            if lean && (name == ".git" || name == ".jj") && e.depth() > 0 {
                seen.store(true, Ordering::Relaxed);
            }
            name != ".git"
        });
    let finished: Mutex<Vec<S>> = Mutex::new(Vec::new());
    {
        let finished = &finished;
        let met = &*met_repo;
        builder.build_parallel().run(|| {
            let mut guard = StateGuard {
                state: Some(make_state()),
                sink: finished,
            };
            Box::new(move |result| {
                if met.load(Ordering::Relaxed) {
                    return WalkState::Quit;
                }
                let Some(state) = guard.state.as_mut() else {
                    return WalkState::Quit;
                };
                let entry = match result {
                    Ok(dent) => {
                        let path = dent.path().to_path_buf();
                        match dent.file_type() {
                            // No stat here: the reader learns the size from
                            // the open handle, one path lookup instead of two.
                            Some(ft) if ft.is_file() => Entry::File { path, len: None },
                            Some(ft) if ft.is_dir() => return WalkState::Continue,
                            Some(ft) if ft.is_symlink() => Entry::Symlink { path },
                            Some(_) => Entry::Skipped,
                            None => return WalkState::Continue,
                        }
                    }
                    Err(err) => Entry::Error {
                        path: error_path(&err),
                        message: error_message(&err),
                    },
                };
                visit(state, entry);
                WalkState::Continue
            })
        });
    }
    if met_repo.load(Ordering::Relaxed) {
        return None;
    }
    Some(finished.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// Adds what git tracks although ignored, after the walk.
fn finish_tracked<S>(
    roots: &[PathBuf],
    opts: &WalkOptions,
    make_state: &impl Fn() -> S,
    visit: &impl Fn(&mut S, Entry),
    states: &mut Vec<S>,
) {
    if !opts.no_ignore {
        // What git tracks is in every clone, ignored or not: a `.env`
        // committed and then added to `.gitignore` is the classic leak.
        let tracked: Vec<PathBuf> = roots
            .iter()
            .filter(|r| r.is_dir())
            .flat_map(|r| tracked_but_ignored(r))
            .collect();
        if !tracked.is_empty() {
            let mut state = make_state();
            for path in tracked {
                let entry = match std::fs::symlink_metadata(&path) {
                    Ok(m) if m.is_file() => Entry::File { path, len: None },
                    Ok(m) if m.file_type().is_symlink() => Entry::Symlink { path },
                    // Deleted in the work tree, or a submodule: nothing to read.
                    _ => continue,
                };
                visit(&mut state, entry);
            }
            states.push(state);
        }
    }
}

/// Files under `root` that git tracks although a `.gitignore`, the repo's
/// `info/exclude` or the global excludes match them. Empty outside a work
/// tree or without git. Paths start with `root`.
pub fn tracked_but_ignored(root: &Path) -> Vec<PathBuf> {
    if !inside_work_tree(root) {
        return Vec::new();
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.quotePath=false",
            "ls-files",
            "-z",
            "--cached",
            "--ignored",
            "--exclude-standard",
            "--",
            ".",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    let Ok(out) = out else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = out
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| root.join(path_from_bytes(p)))
        .collect();
    paths.dedup();
    paths
}

#[cfg(unix)]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(b))
}

#[cfg(not(unix))]
fn path_from_bytes(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// A `.git` (directory or file, as in worktrees and submodules) in `dir` or
/// above: only then is git worth starting.
fn inside_work_tree(dir: &Path) -> bool {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    abs.ancestors().any(|d| d.join(".git").exists())
}

/// A `.git` or `.jj` in `dir` or above: the ignore crate then reads
/// `.gitignore` files.
fn inside_repository(dir: &Path) -> bool {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    abs.ancestors()
        .any(|d| d.join(".git").exists() || d.join(".jj").exists())
}

/// Hands a thread's state back when the walker drops its visitor.
struct StateGuard<'a, S> {
    state: Option<S>,
    sink: &'a Mutex<Vec<S>>,
}

impl<S> Drop for StateGuard<'_, S> {
    fn drop(&mut self) {
        if let Some(s) = self.state.take() {
            let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
            sink.push(s);
        }
    }
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            error_message(err)
        }
        ignore::Error::Loop { ancestor, .. } => {
            format!("symlink loop back to {}", ancestor.display())
        }
        other => other.to_string(),
    }
}

/// `path` as shown in output: relative to `cwd` when below it, `/`-separated,
/// without a leading `./`.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let rel = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    // One string, grown part by part: this runs for every file shown.
    let mut joined = String::with_capacity(rel.as_os_str().len());
    for c in rel.components() {
        match c {
            std::path::Component::CurDir => {}
            other => {
                if !joined.is_empty() && !joined.ends_with('/') {
                    joined.push('/');
                }
                joined.push_str(&other.as_os_str().to_string_lossy());
            }
        }
    }
    if rel.is_absolute() && !joined.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths() {
        let cwd = Path::new("/repo");
        assert_eq!(display_path(Path::new("./a/b.tf"), cwd), "a/b.tf");
        assert_eq!(display_path(Path::new("/repo/a/b.tf"), cwd), "a/b.tf");
        assert_eq!(display_path(Path::new("/other/b.tf"), cwd), "/other/b.tf");
        assert_eq!(display_path(Path::new("a.tf"), cwd), "a.tf");
    }
}
