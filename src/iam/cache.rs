//! `--cache-ttl`: live IAM answers kept on disk for a while, so a developer's
//! loop or a pre-commit hook does not ask IAM the same thing on every run.
//!
//! Off unless asked for. It holds what an inventory holds (key IDs, owners,
//! status, dates) and never a secret nor anything derived from one: pair
//! verification results are not cached. The caller's identity is not cached
//! either, so a run with expired credentials still fails instead of passing
//! on old answers. One file per account and endpoint, written atomically,
//! readable by its owner only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{KeyRecord, UserKey};

const VERSION: u32 = 1;

/// Where the cache lives and how long an answer stays good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheOptions {
    /// The directory the answers are kept in (created private to the user).
    pub dir: PathBuf,
    /// How long an answer stays good.
    pub ttl: Duration,
}

impl CacheOptions {
    /// `$KEYWARD_CACHE_DIR`, else `$XDG_CACHE_HOME/keyward`, else
    /// `~/.cache/keyward`.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(d) = var("KEYWARD_CACHE_DIR") {
            return Some(PathBuf::from(d));
        }
        if let Some(d) = var("XDG_CACHE_HOME") {
            return Some(PathBuf::from(d).join("keyward"));
        }
        var("HOME").map(|h| PathBuf::from(h).join(".cache").join("keyward"))
    }
}

/// What IAM said about one key, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fetched: Timestamp,
    /// `None`: IAM has no such key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<KeyRecord>,
    /// The owner's keys at that time, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_keys: Vec<UserKey>,
    /// The AWS quarantine policies attached to the owner; `None` in an
    /// entry written before keyward asked, which is then asked again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    version: u32,
    account: String,
    endpoint: String,
    keys: BTreeMap<String, Entry>,
}

/// The answers cached for one account at one endpoint.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    ttl: Duration,
    account: String,
    endpoint: String,
    entries: BTreeMap<String, Entry>,
}

impl Cache {
    /// Reads the cache of `account` at `endpoint`. A missing file is an
    /// empty cache; an unreadable or foreign one is ignored with a warning.
    pub fn open(opts: &CacheOptions, account: &str, endpoint: &str) -> (Cache, Option<String>) {
        let path = opts.dir.join(file_name(account, endpoint));
        let mut cache = Cache {
            path,
            ttl: opts.ttl,
            account: account.to_string(),
            endpoint: endpoint.to_string(),
            entries: BTreeMap::new(),
        };
        let text = match std::fs::read_to_string(&cache.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (cache, None),
            Err(e) => return cache.ignored(&e.to_string()),
        };
        let file: FileV1 = match serde_json::from_str(&text) {
            Ok(f) => f,
            Err(e) => return cache.ignored(&e.to_string()),
        };
        if file.version != VERSION {
            return cache.ignored(&format!("version {} is not {VERSION}", file.version));
        }
        if file.account != account || file.endpoint != endpoint {
            return cache.ignored("it belongs to another account or endpoint");
        }
        cache.entries = file.keys;
        (cache, None)
    }

    fn ignored(self, why: &str) -> (Cache, Option<String>) {
        let warning = format!(
            "ignoring the IAM cache {}: {why}; it will be rewritten",
            self.path.display()
        );
        (self, Some(warning))
    }

    /// The cached answer about `key`, if it is younger than the TTL. An
    /// answer dated in the future (a clock moved back) is not trusted.
    pub fn fresh(&self, key: &str, now: Timestamp) -> Option<&Entry> {
        let e = self.entries.get(key)?;
        younger_than(self.ttl, e.fetched, now).then_some(e)
    }

    pub fn remember(&mut self, key: &str, entry: Entry) {
        self.entries.insert(key.to_string(), entry);
    }

    /// Writes the cache, dropping what has expired.
    pub fn save(&mut self, now: Timestamp) -> Result<(), String> {
        let ttl = self.ttl;
        self.entries
            .retain(|_, e| younger_than(ttl, e.fetched, now));
        let file = FileV1 {
            version: VERSION,
            account: self.account.clone(),
            endpoint: self.endpoint.clone(),
            keys: self.entries.clone(),
        };
        let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
        write_private(&self.path, text.as_bytes())
            .map_err(|e| format!("cannot write the IAM cache {}: {e}", self.path.display()))
    }
}

fn younger_than(ttl: Duration, fetched: Timestamp, now: Timestamp) -> bool {
    let age = now.duration_since(fetched);
    !age.is_negative() && age.unsigned_abs() < ttl
}

/// The endpoint is hashed into the name so a test endpoint's answers never
/// stand in for AWS's.
fn file_name(account: &str, endpoint: &str) -> String {
    let digest = Sha256::digest(endpoint.as_bytes());
    let short = crate::finding::hex(&digest[..8]);
    let account: String = account
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("iam-{account}-{short}.json")
}

/// Temp file then rename, so a reader never sees half a file; owner-only
/// permissions, since key IDs and user names are inventory data.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("cache"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn record(id: &str) -> KeyRecord {
        KeyRecord {
            access_key_id: id.into(),
            user: "deploy-bot".into(),
            status: crate::iam::KeyStatus::Active,
            created: ts("2026-01-01T00:00:00Z"),
            last_used: None,
            last_used_service: None,
            last_used_region: None,
            account: "123456789012".into(),
        }
    }

    fn opts(dir: &Path, secs: u64) -> CacheOptions {
        CacheOptions {
            dir: dir.to_path_buf(),
            ttl: Duration::from_secs(secs),
        }
    }

    const KEY: &str = "AKIARZPUZDIKHSK3JF5N";

    fn found(at: Timestamp) -> Entry {
        Entry {
            fetched: at,
            record: Some(record(KEY)),
            user_keys: vec![],
            quarantine: Some(vec![
                "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3".into(),
            ]),
        }
    }
    const GONE: &str = "AKIARZPUZDIKJRDLMSVO";

    #[test]
    fn answers_round_trip_and_expire() {
        let d = tempfile::tempdir().expect("tempdir");
        let now = ts("2026-11-28T12:00:00Z");
        let (mut c, w) = Cache::open(&opts(d.path(), 3600), "123456789012", "http://x");
        assert!(w.is_none());
        c.remember(KEY, found(now));
        c.remember(
            GONE,
            Entry {
                fetched: ts("2026-11-28T10:00:00Z"),
                record: None,
                user_keys: vec![],
                quarantine: None,
            },
        );
        c.save(now).expect("save");
        let (c, w) = Cache::open(&opts(d.path(), 3600), "123456789012", "http://x");
        assert!(w.is_none(), "{w:?}");
        let later = ts("2026-11-28T12:59:00Z");
        assert_eq!(
            c.fresh(KEY, later).and_then(|e| e.record.clone()),
            Some(record(KEY))
        );
        // The owner's quarantine policies come back with the key.
        assert_eq!(
            c.fresh(KEY, later).and_then(|e| e.quarantine.clone()),
            Some(vec![
                "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3".to_string()
            ])
        );
        assert!(
            c.fresh(KEY, ts("2026-11-28T13:00:01Z")).is_none(),
            "expired"
        );
        assert!(c.fresh(KEY, ts("2026-11-28T11:00:00Z")).is_none(), "future");
        // Two hours old when saved: pruned.
        assert!(c.fresh(GONE, now).is_none());
        assert!(
            !std::fs::read_to_string(&c.path)
                .expect("read")
                .contains(GONE)
        );
    }

    #[test]
    fn another_endpoint_or_account_has_its_own_file() {
        let d = tempfile::tempdir().expect("tempdir");
        let now = Timestamp::now();
        let (mut c, _) = Cache::open(&opts(d.path(), 3600), "123456789012", "http://a");
        c.remember(KEY, found(now));
        c.save(now).expect("save");
        let (c, _) = Cache::open(&opts(d.path(), 3600), "123456789012", "http://b");
        assert!(c.fresh(KEY, now).is_none());
        let (c, _) = Cache::open(&opts(d.path(), 3600), "999988887777", "http://a");
        assert!(c.fresh(KEY, now).is_none());
    }

    #[test]
    fn a_broken_file_is_ignored_with_a_warning() {
        let d = tempfile::tempdir().expect("tempdir");
        let (c, _) = Cache::open(&opts(d.path(), 60), "123456789012", "http://x");
        std::fs::write(&c.path, "{not json").expect("write");
        let (c, w) = Cache::open(&opts(d.path(), 60), "123456789012", "http://x");
        assert!(w.expect("warning").contains("ignoring the IAM cache"));
        assert!(c.fresh(KEY, Timestamp::now()).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let sub = d.path().join("cache");
        let (mut c, _) = Cache::open(&opts(&sub, 60), "123456789012", "http://x");
        c.save(Timestamp::now()).expect("save");
        let mode = std::fs::metadata(&c.path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = std::fs::metadata(&sub).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
