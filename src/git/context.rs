//! The rest of the repository a commit is judged with (`--staged`): rules
//! about the whole repository (a key whose secret differs in another file)
//! need the files the commit does not touch that hold the same keys. With
//! an inventory, a key's owner's other keys are shared too: a rotation left
//! half done (KW011) is one user's old key in the commit and the new key in
//! a file it does not touch.
//!
//! Which files of HEAD's tree hold which key IDs is remembered under the
//! git directory (`keyward/key-ids`: the tree, and a path, blob ID and key
//! IDs per file that holds one: identifiers, never a secret). A commit then
//! asks git only what changed: the tree against the remembered one when
//! HEAD moved (`diff-tree`), the index against HEAD (`diff-index`), and
//! reads only those blobs and the files that share a key with it; a commit
//! that holds no key reads nothing more at all. Before the first commit
//! the whole index is listed and read, as it is when the file is missing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use super::plumbing::{self, Repo};
use super::{BlobToRead, GitError, read_each};
use crate::detect::key_id::is_well_formed;
use crate::iam::{SourceChoice, inventory};
use crate::scan::{Blob, ScanOptions};

/// The index's regular files other than the `staged` blobs that hold one of
/// their key IDs (or, with an inventory, of their owners'), read from git.
pub(super) fn of_index(
    repo: &Repo,
    head: Option<&plumbing::HeadIds>,
    staged: &[Blob],
    index_changes: Option<&[plumbing::RawEntry]>,
    opts: &ScanOptions,
) -> Result<Vec<Blob>, GitError> {
    let found: BTreeSet<String> = staged.iter().flat_map(|b| key_ids(&b.bytes)).collect();
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let wanted_keys = with_owners_keys(found, &opts.iam.source);
    let staged_paths: HashSet<&str> = staged.iter().map(|b| b.path.as_str()).collect();
    let is_staged = |path: &str| staged_paths.contains(repo.display(path).as_str());
    let view = index_view(&repo.at_top(), head, index_changes, &is_staged, opts)?;
    let sharing: Vec<BlobToRead> = view
        .iter()
        .filter(|(path, entry)| {
            entry.keys.iter().any(|k| wanted_keys.contains(k)) && !is_staged(path)
        })
        .map(|(path, entry)| BlobToRead {
            blob: entry.blob.clone(),
            path: path.clone(),
        })
        .collect();
    let mut context = Vec::new();
    // A blob that cannot be read is the commit's business only where the
    // commit touches it: here it is left out of the context.
    read_each(repo, &sharing, opts, |_, blob| {
        context.push(Blob {
            context: true,
            ..blob
        })
    })?;
    Ok(context)
}

/// A file that holds key IDs: its blob and the key IDs in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    blob: String,
    keys: BTreeSet<String>,
}

/// The index's files that hold a key ID, by path from the top, the
/// commit's own (`is_staged`) left out: HEAD's tree as remembered (brought
/// up to date), with the index's changes against HEAD laid over it.
fn index_view(
    top: &Repo,
    head: Option<&plumbing::HeadIds>,
    index_changes: Option<&[plumbing::RawEntry]>,
    is_staged: &dyn Fn(&str) -> bool,
    opts: &ScanOptions,
) -> Result<BTreeMap<String, Holder>, GitError> {
    let Some(head) = head else {
        // Before the first commit: the index is all there is.
        let listing = top.run(["ls-files", "-s", "-z", "--full-name"])?;
        let changes = plumbing::parse_ls_files(&listing)
            .map_err(|detail| GitError::Parse {
                command: "ls-files".into(),
                detail,
            })?
            .into_iter()
            .filter(|e| e.stage == 0 && e.mode.starts_with("100") && !is_staged(&e.path))
            .map(|e| Change::Now(e.path, e.blob))
            .collect();
        return apply(top, BTreeMap::new(), changes, opts);
    };
    let tree = head.tree.clone();
    let cache_path = head.git_dir.join("keyward").join("key-ids");
    let cached = std::fs::read_to_string(&cache_path)
        .ok()
        .and_then(|text| Cache::parse(&text));
    let holders = match cached {
        Some(c) if c.tree == tree => c.holders,
        other => {
            let (from, changes) = match other {
                Some(c) => match tree_changes(top, &c.tree, &tree) {
                    Ok(changes) => (c.holders, changes),
                    // The remembered tree is gone (history rewritten and
                    // pruned): start over.
                    Err(_) => (BTreeMap::new(), whole_tree(top, &tree)?),
                },
                None => (BTreeMap::new(), whole_tree(top, &tree)?),
            };
            let holders = apply(top, from, changes, opts)?;
            write_cache(&cache_path, &tree, &holders);
            holders
        }
    };
    // The caller's listing of the index's changes when it has one (asked
    // against the same HEAD), else git is asked.
    let changes = match index_changes {
        Some(known) => known.iter().cloned().map(Change::of).collect(),
        None => raw_changes(
            top,
            &[
                "diff-index",
                "--cached",
                "--raw",
                "-z",
                "--no-abbrev",
                "--no-renames",
                &tree,
            ],
        )?,
    }
    .into_iter()
    .map(|change| match change {
        // The commit's own files are in memory already, and not context.
        Change::Now(path, _) if is_staged(&path) => Change::Gone(path),
        change => change,
    })
    .collect();
    apply(top, holders, changes, opts)
}

/// What happened to a path: it holds this blob now, or it is gone (or not
/// a regular file any more).
enum Change {
    Now(String, String),
    Gone(String),
}

impl Change {
    fn of(e: plumbing::RawEntry) -> Change {
        if e.status == b'D' || !e.is_regular_file() || plumbing::is_null_id(&e.blob) {
            Change::Gone(e.path)
        } else {
            Change::Now(e.path, e.blob)
        }
    }
}

/// `holders` with `changes` applied: the new blobs are read for their key
/// IDs (a blob that cannot be read holds none here).
fn apply(
    top: &Repo,
    mut holders: BTreeMap<String, Holder>,
    changes: Vec<Change>,
    opts: &ScanOptions,
) -> Result<BTreeMap<String, Holder>, GitError> {
    let mut to_read = Vec::new();
    for change in changes {
        match change {
            Change::Gone(path) => {
                holders.remove(&path);
            }
            Change::Now(path, blob) => {
                holders.remove(&path);
                to_read.push(BlobToRead { blob, path });
            }
        }
    }
    let mut read = Vec::new();
    read_each(top, &to_read, opts, |i, blob| {
        if blob.large.is_none()
            && let Some(w) = to_read.get(i)
        {
            let keys = key_ids(&blob.bytes);
            if !keys.is_empty() {
                read.push((w.path.clone(), w.blob.clone(), keys));
            }
        }
    })?;
    for (path, blob, keys) in read {
        holders.insert(path, Holder { blob, keys });
    }
    Ok(holders)
}

/// Every regular file of `tree`, as changes from nothing.
fn whole_tree(top: &Repo, tree: &str) -> Result<Vec<Change>, GitError> {
    let listing = top.run(["ls-tree", "-r", "-z", "--full-tree", tree])?;
    Ok(plumbing::ls_tree_blobs(&listing)
        .filter(|b| b.mode.starts_with("100"))
        .map(|b| Change::Now(b.path.into_owned(), b.blob.to_string()))
        .collect())
}

/// What changed from one tree to another.
fn tree_changes(top: &Repo, from: &str, to: &str) -> Result<Vec<Change>, GitError> {
    raw_changes(
        top,
        &[
            "diff-tree",
            "-r",
            "-z",
            "--raw",
            "--no-abbrev",
            "--no-renames",
            from,
            to,
        ],
    )
}

/// The changes a raw diff command (`args`, run at the top) lists.
fn raw_changes(top: &Repo, args: &[&str]) -> Result<Vec<Change>, GitError> {
    let raw = top.run(args)?;
    Ok(plumbing::parse_raw_diff(&raw)
        .map_err(|detail| GitError::Parse {
            command: args.first().copied().unwrap_or_default().into(),
            detail,
        })?
        .into_iter()
        .map(Change::of)
        .collect())
}

/// `keys` and, when the IAM source is an inventory, every other key of
/// their owners. Live IAM is not asked here: the scan asks it once, later,
/// and a commit should not wait on the network twice.
fn with_owners_keys(keys: BTreeSet<String>, source: &SourceChoice) -> BTreeSet<String> {
    let inventory = match source {
        SourceChoice::Inventory(path) => inventory::read(path).ok(),
        SourceChoice::InventoryText { origin, text } => {
            inventory::Inventory::parse(origin, text).ok()
        }
        _ => None,
    };
    // An inventory that cannot be read is the scan's to report.
    let Some(inventory) = inventory else {
        return keys;
    };
    let lookup = inventory.lookup(&keys);
    let owners: BTreeSet<_> = keys
        .iter()
        .filter_map(|k| lookup.keys.get(k))
        .map(|record| record.owner())
        .collect();
    let mut all = keys;
    for owner in &owners {
        if let Some(user_keys) = lookup.user_keys.get(owner) {
            all.extend(user_keys.iter().map(|k| k.access_key_id.clone()));
        }
    }
    all
}

/// The remembered files of a tree that hold key IDs, as the cache file
/// holds them: `keyward key-ids 2`, `tree <id>`, then `<path>\t<blob>\t<key-id>,…`
/// per file. A file that is not exactly this (an older format, an edit
/// that put anything but key IDs in it) is not believed, and rebuilt.
struct Cache {
    tree: String,
    holders: BTreeMap<String, Holder>,
}

const CACHE_HEADER: &str = "keyward key-ids 2";

impl Cache {
    fn parse(text: &str) -> Option<Cache> {
        let mut lines = text.lines();
        if lines.next()? != CACHE_HEADER {
            return None;
        }
        let tree = lines.next()?.strip_prefix("tree ")?.to_string();
        if tree.is_empty() || !tree.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut holders = BTreeMap::new();
        for line in lines {
            let mut fields = line.split('\t');
            let (Some(path), Some(blob), Some(keys), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return None;
            };
            let keys: BTreeSet<String> = keys.split(',').map(str::to_string).collect();
            let believed = !path.is_empty()
                && !blob.is_empty()
                && blob.bytes().all(|b| b.is_ascii_hexdigit())
                && keys.iter().all(|k| is_well_formed(k));
            if !believed {
                return None;
            }
            holders.insert(
                path.to_string(),
                Holder {
                    blob: blob.to_string(),
                    keys,
                },
            );
        }
        Some(Cache { tree, holders })
    }

    fn text(tree: &str, holders: &BTreeMap<String, Holder>) -> Option<String> {
        let mut text = format!("{CACHE_HEADER}\ntree {tree}\n");
        for (path, h) in holders {
            // A path the line format cannot hold: no cache, every commit
            // lists what it needs instead.
            if path.contains(['\t', '\n', '\r']) {
                return None;
            }
            let keys: Vec<&str> = h.keys.iter().map(String::as_str).collect();
            text.push_str(&format!("{path}\t{}\t{}\n", h.blob, keys.join(",")));
        }
        Some(text)
    }
}

/// The access key IDs written plainly in `bytes`: well-formed
/// ([`is_well_formed`]) and standing alone.
fn key_ids(bytes: &[u8]) -> BTreeSet<String> {
    let word = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphanumeric);
    memchr::memchr_iter(b'A', bytes)
        .filter(|&at| !at.checked_sub(1).is_some_and(word) && !word(at + 20))
        .filter_map(|at| std::str::from_utf8(bytes.get(at..at + 20)?).ok())
        .filter(|id| is_well_formed(id))
        .map(str::to_string)
        .collect()
}

/// Written whole and renamed into place; a cache that cannot be written
/// costs the next commit time, not correctness.
fn write_cache(path: &Path, tree: &str, holders: &BTreeMap<String, Holder>) {
    let Some(dir) = path.parent() else {
        return;
    };
    let Some(text) = Cache::text(tree, holders) else {
        let _ = std::fs::remove_file(path);
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(blob: &str, keys: &[&str]) -> Holder {
        Holder {
            blob: blob.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn the_cache_reads_what_it_writes_and_nothing_else() {
        let mut holders = BTreeMap::new();
        holders.insert(
            "deploy/prod.env".to_string(),
            holder("0123abcd", &["AKIARZPUZDIKI3GNM364"]),
        );
        holders.insert(
            "a b/c.tf".to_string(),
            holder("89ef", &["AKIARZPUZDIKI3GNM364", "ASIARZPUZDIKIO54DGO7"]),
        );
        let text = Cache::text("feed", &holders).expect("writable");
        let back = Cache::parse(&text).expect("parses");
        assert_eq!(back.tree, "feed");
        assert_eq!(back.holders, holders);
        // Not believed: the old format, a secret-looking value, a bad tree.
        assert!(Cache::parse("0123abcd\tAKIARZPUZDIKI3GNM364\n").is_none());
        let edited = text.replace("AKIARZPUZDIKI3GNM364", "wJalrXUtnFEMI/K7MDENG");
        assert!(Cache::parse(&edited).is_none());
        assert!(Cache::parse(&text.replace("tree feed", "tree zz")).is_none());
        // A path the format cannot hold: no cache at all.
        let mut odd = holders.clone();
        odd.insert("new\nline".into(), holder("01", &["AKIARZPUZDIKI3GNM364"]));
        assert!(Cache::text("feed", &odd).is_none());
    }

    #[test]
    fn key_ids_stand_alone() {
        let text = b"a=AKIARZPUZDIKI3GNM364\nXAKIARZPUZDIKI3GNM364\nAKIARZPUZDIKI3GNM3645\nASIARZPUZDIKIO54DGO7 AKIA1234";
        let found = key_ids(text);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["AKIARZPUZDIKI3GNM364", "ASIARZPUZDIKIO54DGO7"]
        );
    }
}
