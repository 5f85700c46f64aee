//! Reading policy files from a git tree: a commit, or the index.

use super::PolicyError;
use crate::git::plumbing::{self, BlobContent};
use crate::git::{Repo, Tree};

/// A regular file of a tree: repository path and blob ID.
pub(super) struct Entry {
    pub(super) path: String,
    blob: String,
}

/// The regular files among `paths` (or, for a `dir/` path, in that
/// directory, not below it). `top` runs at the repository's top.
fn list(top: &Repo, tree: &Tree, paths: &[String]) -> Result<Vec<Entry>, PolicyError> {
    let mut out = Vec::new();
    match tree {
        Tree::Empty => {}
        Tree::Commit { id, .. } => {
            let mut args = vec!["ls-tree".to_string(), "-z".into(), "--full-tree".into()];
            args.push(id.clone());
            args.push("--".into());
            args.extend(paths.iter().cloned());
            let listing = top.run(args)?;
            out.extend(
                plumbing::ls_tree_blobs(&listing)
                    .filter(|b| b.mode.starts_with("100"))
                    .map(|b| Entry {
                        path: b.path.into_owned(),
                        blob: b.blob.to_string(),
                    }),
            );
        }
        Tree::Index => {
            let mut args = vec!["ls-files".to_string(), "-s".into(), "-z".into()];
            args.push("--".into());
            args.extend(paths.iter().cloned());
            let entries = plumbing::parse_ls_files(&top.run(args)?).map_err(|detail| {
                crate::git::GitError::Parse {
                    command: "ls-files -s".into(),
                    detail,
                }
            })?;
            for e in entries {
                // `ls-files dir/` lists the whole subtree; only the
                // directory's own files are wanted, as `ls-tree` gives.
                let direct = paths.iter().any(|p| {
                    *p == e.path
                        || p.strip_suffix('/').is_some_and(|d| {
                            e.path
                                .strip_prefix(&format!("{d}/"))
                                .is_some_and(|rest| !rest.contains('/'))
                        })
                });
                if e.stage == 0 && e.mode.starts_with("100") && direct {
                    out.push(Entry {
                        path: e.path,
                        blob: e.blob,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The first of `candidates` that is a regular file in the tree.
pub(super) fn first_of(
    top: &Repo,
    tree: &Tree,
    candidates: &[String],
) -> Result<Option<Entry>, PolicyError> {
    let mut present = list(top, tree, candidates)?;
    Ok(candidates.iter().find_map(|c| {
        let i = present.iter().position(|e| e.path == *c)?;
        Some(present.swap_remove(i))
    }))
}

/// The text of a file [`first_of`] found: no second listing.
pub(super) fn text(top: &Repo, tree: &Tree, entry: Entry) -> Result<Option<String>, PolicyError> {
    Ok(blobs(top, tree, vec![entry])?.pop().map(|(_, text)| text))
}

/// The text of one file, `None` when the tree has no such regular file.
pub(super) fn read(top: &Repo, tree: &Tree, path: &str) -> Result<Option<String>, PolicyError> {
    let entries = list(top, tree, &[path.to_string()])?;
    let Some(entry) = entries.into_iter().find(|e| e.path == path) else {
        return Ok(None);
    };
    let mut texts = blobs(top, tree, vec![entry])?;
    Ok(texts.pop().map(|(_, text)| text))
}

/// The files directly in `dir`, by path, with their text.
pub(super) fn read_dir(
    top: &Repo,
    tree: &Tree,
    dir: &str,
) -> Result<Vec<(String, String)>, PolicyError> {
    let dir = dir.trim_end_matches('/');
    let mut entries = list(top, tree, &[format!("{dir}/")])?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    blobs(top, tree, entries)
}

fn blobs(
    top: &Repo,
    tree: &Tree,
    entries: Vec<Entry>,
) -> Result<Vec<(String, String)>, PolicyError> {
    let ids: Vec<String> = entries.iter().map(|e| e.blob.clone()).collect();
    let mut out = Vec::new();
    let mut failure = None;
    plumbing::cat_blobs(
        top,
        &ids,
        crate::named_file::MAX_NAMED_FILE,
        |i, content| {
            let Some(e) = entries.get(i) else {
                return false;
            };
            match content {
                BlobContent::Bytes(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => out.push((e.path.clone(), text)),
                    Err(_) => {
                        failure = Some((e.path.clone(), "not UTF-8 text".to_string()));
                        return false;
                    }
                },
                BlobContent::TooLarge { size, .. } => {
                    failure = Some((e.path.clone(), format!("{size} bytes is too large")));
                    return false;
                }
                BlobContent::Missing => {
                    failure = Some((e.path.clone(), format!("object {} is missing", e.blob)));
                    return false;
                }
            }
            true
        },
    )?;
    match failure {
        Some((path, message)) => Err(PolicyError::Unreadable {
            path,
            tree: tree.to_string(),
            message,
        }),
        None => Ok(out),
    }
}

/// Every file path of a tree (repository-relative), for matching patterns
/// against what a tree holds. `top` runs at the repository's top.
pub fn all_paths(top: &Repo, tree: &Tree) -> Result<Vec<String>, PolicyError> {
    let args: Vec<String> = match tree {
        Tree::Empty => return Ok(Vec::new()),
        Tree::Commit { id, .. } => vec![
            "ls-tree".into(),
            "-r".into(),
            "-z".into(),
            "--name-only".into(),
            "--full-tree".into(),
            id.clone(),
        ],
        Tree::Index => vec!["ls-files".into(), "-z".into(), "--full-name".into()],
    };
    Ok(top
        .run(args)?
        .split(|&b| b == 0)
        .filter(|r| !r.is_empty())
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect())
}
