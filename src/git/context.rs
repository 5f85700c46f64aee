//! The rest of the repository a commit is judged with (`--staged`): rules
//! about the whole repository (a key whose secret differs in another file)
//! need the files the commit does not touch that hold the same keys. Which
//! key IDs each blob holds is remembered under the git directory
//! (`keyward/key-ids`: blob IDs and key IDs, which are identifiers, never a
//! secret), so a commit reads only blobs not seen before and parses only
//! the files that share a key with it; a commit that holds no key reads
//! nothing more at all. With an inventory, a key's owner's other keys are
//! shared too: a rotation left half done (KW011) is one user's old key in
//! the commit and the new key in a file it does not touch.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::plumbing::{self, Repo};
use super::{BlobToRead, GitError, read_each};
use crate::detect::key_id::is_well_formed;
use crate::iam::{SourceChoice, inventory};
use crate::scan::{Blob, ScanOptions};

/// The index's regular files other than the `staged` blobs that hold one of
/// their key IDs, read from the index.
pub(super) fn of_index(
    repo: &Repo,
    staged: &[Blob],
    opts: &ScanOptions,
) -> Result<Vec<Blob>, GitError> {
    let found: BTreeSet<String> = staged.iter().flat_map(|b| key_ids(&b.bytes)).collect();
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let wanted_keys = with_owners_keys(found, &opts.iam.source);
    let staged_paths: HashSet<&str> = staged.iter().map(|b| b.path.as_str()).collect();
    let is_staged = |path: &str| staged_paths.contains(repo.display(path).as_str());
    // From the top: the whole index, whatever directory the hook runs in.
    let listing = repo.at_top().run(["ls-files", "-s", "-z", "--full-name"])?;
    let cache_path = cache_path(repo);
    let cache_text = cache_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let cache = Cache::parse(&cache_text);
    // Every entry is looked at, few are kept: nothing is allocated for a
    // blob the cache says shares no key.
    let mut indexed = Vec::new();
    let mut unknown = Vec::new();
    let mut sharing = Vec::new();
    for entry in plumbing::ls_files_entries(&listing) {
        let e = entry.map_err(|detail| GitError::Parse {
            command: "ls-files".into(),
            detail,
        })?;
        if e.stage != 0 || !e.mode.starts_with("100") {
            continue;
        }
        indexed.push(e.blob);
        let to = match cache.keys_of(e.blob) {
            None => &mut unknown,
            Some(keys) if keys.iter().any(|k| wanted_keys.contains(*k)) => &mut sharing,
            Some(_) => continue,
        };
        if !is_staged(&e.path) {
            to.push(BlobToRead {
                blob: e.blob.to_string(),
                path: e.path.into_owned(),
            });
        }
    }
    let mut context = Vec::new();
    let mut read_now: HashMap<&str, BTreeSet<String>> = HashMap::new();
    // A blob that cannot be read is the commit's business only where the
    // commit touches it: here it is left out of the context.
    read_each(repo, &unknown, opts, |i, blob| {
        let keys = if blob.large.is_none() {
            key_ids(&blob.bytes)
        } else {
            BTreeSet::new()
        };
        if keys.iter().any(|k| wanted_keys.contains(k)) {
            context.push(Blob {
                context: true,
                ..blob
            });
        }
        if let Some(w) = unknown.get(i) {
            read_now.insert(w.blob.as_str(), keys);
        }
    })?;
    read_each(repo, &sharing, opts, |_, blob| {
        context.push(Blob {
            context: true,
            ..blob
        })
    })?;
    if !read_now.is_empty()
        && let Some(path) = &cache_path
    {
        write_cache(path, &cache, &read_now, &indexed);
    }
    Ok(context)
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

/// The cache as read: `blob-id<TAB>key-id,key-id` per line (nothing after
/// the tab: no key), held as the file's text; anything else is ignored.
struct Cache<'t> {
    lines: HashMap<&'t str, &'t str>,
}

impl<'t> Cache<'t> {
    fn parse(text: &'t str) -> Cache<'t> {
        let lines = text
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .filter(|(blob, _)| !blob.is_empty() && blob.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect();
        Cache { lines }
    }

    /// The key IDs a blob was seen to hold, if it was seen. A line someone
    /// edited into holding anything but key IDs is not believed.
    fn keys_of(&self, blob: &str) -> Option<Vec<&'t str>> {
        let keys: Vec<&str> = self
            .lines
            .get(blob)?
            .split(',')
            .filter(|k| !k.is_empty())
            .collect();
        keys.iter().all(|k| is_well_formed(k)).then_some(keys)
    }

    /// A line as it was read, when it is believed.
    fn raw(&self, blob: &str) -> Option<&'t str> {
        self.keys_of(blob).and(self.lines.get(blob).copied())
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

fn cache_path(repo: &Repo) -> Option<PathBuf> {
    let out = repo.run(["rev-parse", "--absolute-git-dir"]).ok()?;
    let dir = String::from_utf8_lossy(&out).trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir).join("keyward").join("key-ids"))
}

/// Written whole and renamed into place, with a line for each blob the
/// index names (the file stays the size of the index); a cache that cannot
/// be written costs the next commit time, not correctness.
fn write_cache(
    path: &Path,
    old: &Cache<'_>,
    read_now: &HashMap<&str, BTreeSet<String>>,
    indexed: &[&str],
) {
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut lines: Vec<String> = indexed
        .iter()
        .filter_map(|blob| {
            let keys = match read_now.get(blob) {
                Some(keys) => keys
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                None => old.raw(blob)?.to_string(),
            };
            Some(format!("{blob}\t{keys}"))
        })
        .collect();
    lines.sort_unstable();
    lines.dedup();
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
