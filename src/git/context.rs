//! The rest of the repository a commit is judged with (`--staged`): rules
//! about the whole repository (a key whose secret differs in another file)
//! need the files the commit does not touch that hold the same keys. Which
//! key IDs each blob holds is remembered under the git directory
//! (`keyward/key-ids`: blob IDs and key IDs, which are identifiers, never a
//! secret), so a commit reads only blobs not seen before and parses only
//! the files that share a key with it; a commit that holds no key reads
//! nothing more at all.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use super::plumbing::{self, Repo};
use super::{BlobToRead, GitError, read_each};
use crate::detect::key_id::is_well_formed;
use crate::scan::{Blob, ScanOptions};

/// The index's regular files other than the `staged` blobs that hold one of
/// their key IDs, read from the index.
pub(super) fn of_index(
    repo: &Repo,
    staged: &[Blob],
    opts: &ScanOptions,
) -> Result<Vec<Blob>, GitError> {
    let wanted_keys: BTreeSet<String> = staged.iter().flat_map(|b| key_ids(&b.bytes)).collect();
    if wanted_keys.is_empty() {
        return Ok(Vec::new());
    }
    let staged_paths: HashSet<&str> = staged.iter().map(|b| b.path.as_str()).collect();
    // From the top: the whole index, whatever directory the hook runs in.
    let listing = repo.at_top().run(["ls-files", "-s", "-z", "--full-name"])?;
    let entries: Vec<BlobToRead> = plumbing::parse_ls_files(&listing)
        .map_err(|detail| GitError::Parse {
            command: "ls-files".into(),
            detail,
        })?
        .into_iter()
        .filter(|e| e.stage == 0 && e.mode.starts_with("100"))
        .filter(|e| !staged_paths.contains(repo.display(&e.path).as_str()))
        .map(|e| BlobToRead {
            blob: e.blob,
            path: e.path,
        })
        .collect();
    let cache_path = cache_path(repo);
    let mut cache = cache_path.as_ref().map(read_cache).unwrap_or_default();
    let unknown: Vec<BlobToRead> = entries
        .iter()
        .filter(|e| !cache.contains_key(&e.blob))
        .map(|e| BlobToRead {
            blob: e.blob.clone(),
            path: e.path.clone(),
        })
        .collect();
    let mut context = Vec::new();
    // A blob that cannot be read is the commit's business only where the
    // commit touches it: here it is left out of the context.
    read_each(repo, &unknown, opts, |i, blob| {
        let keys = if blob.large.is_none() {
            key_ids(&blob.bytes)
        } else {
            BTreeSet::new()
        };
        if keys.iter().any(|k| wanted_keys.contains(k)) {
            context.push(blob);
        }
        if let Some(w) = unknown.get(i) {
            cache.insert(w.blob.clone(), keys);
        }
    })?;
    let just_read: HashSet<&str> = unknown.iter().map(|u| u.blob.as_str()).collect();
    let sharing: Vec<BlobToRead> = entries
        .iter()
        .filter(|e| !just_read.contains(e.blob.as_str()))
        .filter(|e| {
            cache
                .get(&e.blob)
                .is_some_and(|keys| keys.iter().any(|k| wanted_keys.contains(k)))
        })
        .map(|e| BlobToRead {
            blob: e.blob.clone(),
            path: e.path.clone(),
        })
        .collect();
    read_each(repo, &sharing, opts, |_, blob| context.push(blob))?;
    if !unknown.is_empty()
        && let Some(path) = &cache_path
    {
        // Only blobs the index still names: the file stays the size of
        // the index.
        let indexed: HashSet<&str> = entries.iter().map(|e| e.blob.as_str()).collect();
        cache.retain(|blob, _| indexed.contains(blob.as_str()));
        write_cache(path, &cache);
    }
    Ok(context)
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

fn cache_path(repo: &Repo) -> Option<PathBuf> {
    let out = repo.run(["rev-parse", "--absolute-git-dir"]).ok()?;
    let dir = String::from_utf8_lossy(&out).trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir).join("keyward").join("key-ids"))
}

/// `blob-id<TAB>key-id,key-id` per line (nothing after the tab: no key);
/// anything else is ignored.
fn read_cache(path: &PathBuf) -> HashMap<String, BTreeSet<String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let (blob, keys) = line.split_once('\t')?;
            if blob.is_empty() || !blob.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let keys: BTreeSet<String> = keys
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect();
            // A cache someone edited into holding anything but key IDs is
            // not read.
            keys.iter()
                .all(|k| is_well_formed(k))
                .then(|| (blob.to_string(), keys))
        })
        .collect()
}

/// Written whole and renamed into place; a cache that cannot be written
/// costs the next commit time, not correctness.
fn write_cache(path: &PathBuf, cache: &HashMap<String, BTreeSet<String>>) {
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut lines: Vec<String> = cache
        .iter()
        .map(|(blob, keys)| {
            format!(
                "{blob}\t{}",
                keys.iter().cloned().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    lines.sort_unstable();
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
