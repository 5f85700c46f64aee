//! The rest of the repository a commit is judged with (`--staged`): rules
//! about the whole repository (a key whose secret differs in another file,
//! a rotation half done) need the files the commit does not touch. Those
//! are the index's files that may hold a credential; which blobs may is
//! remembered under the git directory (`keyward/credential-blobs`: blob IDs
//! and a yes or no, never content), so after the first commit only blobs
//! not seen before are read.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::plumbing::{self, Repo};
use super::{BlobToRead, GitError, read_each};
use crate::scan::{Blob, ScanOptions};

/// The index's regular files other than `staged` (shown paths) that may
/// hold a credential, read from the index.
pub(super) fn of_index(
    repo: &Repo,
    staged: &HashSet<String>,
    opts: &ScanOptions,
) -> Result<Vec<Blob>, GitError> {
    // From the top: the whole index, whatever directory the hook runs in.
    let listing = repo.at_top().run(["ls-files", "-s", "-z", "--full-name"])?;
    let entries = plumbing::parse_ls_files(&listing).map_err(|detail| GitError::Parse {
        command: "ls-files".into(),
        detail,
    })?;
    let indexed: HashSet<String> = entries.iter().map(|e| e.blob.clone()).collect();
    let cache_path = cache_path(repo);
    let mut cache = cache_path.as_ref().map(read_cache).unwrap_or_default();
    let wanted: Vec<BlobToRead> = entries
        .into_iter()
        .filter(|e| e.stage == 0 && e.mode.starts_with("100"))
        .filter(|e| !staged.contains(&repo.display(&e.path)))
        .filter(|e| cache.get(&e.blob).copied().unwrap_or(true))
        .map(|e| BlobToRead {
            blob: e.blob,
            path: e.path,
        })
        .collect();
    let mut context = Vec::new();
    let mut learned = false;
    // A blob that cannot be read is the commit's business only where the
    // commit touches it: here it is left out of the context.
    read_each(repo, &wanted, opts, |i, blob| {
        let holds = blob.large.is_none() && crate::prefilter::may_contain_credentials(&blob.bytes);
        if let Some(w) = wanted.get(i)
            && cache.insert(w.blob.clone(), holds) != Some(holds)
        {
            learned = true;
        }
        if holds {
            context.push(blob);
        }
    })?;
    if learned && let Some(path) = &cache_path {
        // Only blobs the index still names: the file stays the size of
        // the index.
        cache.retain(|blob, _| indexed.contains(blob));
        write_cache(path, &cache);
    }
    Ok(context)
}

fn cache_path(repo: &Repo) -> Option<PathBuf> {
    let out = repo.run(["rev-parse", "--absolute-git-dir"]).ok()?;
    let dir = String::from_utf8_lossy(&out).trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir).join("keyward").join("credential-blobs"))
}

/// `blob-id 1` or `blob-id 0` per line; anything else is ignored.
fn read_cache(path: &PathBuf) -> HashMap<String, bool> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let (blob, holds) = line.split_once(' ')?;
            let holds = match holds {
                "1" => true,
                "0" => false,
                _ => return None,
            };
            blob.bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| (blob.to_string(), holds))
        })
        .collect()
}

/// Written whole and renamed into place; a cache that cannot be written
/// costs the next commit time, not correctness.
fn write_cache(path: &PathBuf, cache: &HashMap<String, bool>) {
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut lines: Vec<String> = cache
        .iter()
        .map(|(blob, holds)| format!("{blob} {}", u8::from(*holds)))
        .collect();
    lines.sort_unstable();
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}
