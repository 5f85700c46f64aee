//! The inventory file (DESIGN.md, "Inventory file"): what `keyward
//! inventory pull` writes and `keyward scan --inventory` reads, so CI can
//! judge keys without AWS credentials. It never holds a secret.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{IamError, IamSource, KeyRecord, Lookup, UserRef};
use crate::detect::key_id;

pub const VERSION: u32 = 1;

/// An IAM snapshot of one or more accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// When it was pulled (for a merged one, its oldest part's pull).
    pub generated_at: Timestamp,
    /// Accounts covered, including those without keys.
    pub accounts: BTreeSet<String>,
    /// Every access key of those accounts, with its user, status, creation
    /// and last use.
    pub keys: Vec<KeyRecord>,
    /// AWS quarantine policies attached to users, by ARN (users without
    /// one are absent).
    pub quarantine: BTreeMap<UserRef, Vec<String>>,
    /// Accounts whose users' attached policies were read: for those, a
    /// user absent from `quarantine` is known not to be quarantined.
    pub quarantine_checked: BTreeSet<String>,
    /// Problems met while pulling that did not stop it.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileV1 {
    version: u32,
    generated_at: Timestamp,
    accounts: Vec<AccountV1>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountV1 {
    account: String,
    keys: Vec<KeyV1>,
    /// Whether the users' attached policies were read (version 1 files
    /// written before keyward asked have neither this nor `users`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    quarantine_checked: bool,
    /// Users with an AWS quarantine policy attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<UserV1>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserV1 {
    user: String,
    quarantine_policies: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyV1 {
    access_key_id: String,
    user: String,
    status: String,
    created: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used_service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used_region: Option<String>,
}

impl Inventory {
    /// Parses and validates an inventory. `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Inventory, IamError> {
        let bad = |message: String| IamError::InventoryFormat {
            path: origin.to_string(),
            message,
        };
        // Look at the version first, so a future format gets a clear message
        // rather than a complaint about a field this version does not know.
        let raw: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        supported(&raw).map_err(bad)?;
        let file: FileV1 = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let mut accounts = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut keys = Vec::new();
        let mut quarantine = BTreeMap::new();
        let mut quarantine_checked = BTreeSet::new();
        for a in file.accounts {
            if a.quarantine_checked {
                quarantine_checked.insert(a.account.clone());
            }
            quarantine.extend(quarantined_users(&a).map_err(bad)?);
            if a.account.len() != 12 || !a.account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(format!(
                    "account `{}` is not a 12-digit AWS account ID",
                    a.account
                )));
            }
            if !accounts.insert(a.account.clone()) {
                return Err(bad(format!("account {} is listed twice", a.account)));
            }
            for k in a.keys {
                let key = key_record(k, &a.account).map_err(bad)?;
                if !seen.insert(key.access_key_id.clone()) {
                    return Err(bad(format!("key {} is listed twice", key.access_key_id)));
                }
                keys.push(key);
            }
        }
        Ok(Inventory {
            generated_at: file.generated_at,
            accounts,
            keys,
            quarantine,
            quarantine_checked,
            warnings: Vec::new(),
        })
    }

    /// One inventory of several. Each account comes whole from the last
    /// inventory that covers it (a later pull replaces an earlier one; keys
    /// are never mixed across pulls). `generated_at` is the oldest of the
    /// parts it took an account from: the merged answer is as old as its
    /// oldest piece. Also returns
    /// the accounts that more than one part covered.
    pub fn merge(parts: Vec<Inventory>) -> (Inventory, Vec<String>) {
        let mut owner: BTreeMap<String, usize> = BTreeMap::new();
        let mut replaced = BTreeSet::new();
        for (i, p) in parts.iter().enumerate() {
            for a in &p.accounts {
                if owner.insert(a.clone(), i).is_some() {
                    replaced.insert(a.clone());
                }
            }
        }
        // Only the parts that gave an account count.
        let generated_at = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| owner.values().any(|o| o == i))
            .map(|(_, p)| p.generated_at)
            .min()
            .unwrap_or_else(Timestamp::now);
        let mut merged = Inventory {
            generated_at,
            accounts: owner.keys().cloned().collect(),
            keys: Vec::new(),
            quarantine: BTreeMap::new(),
            quarantine_checked: BTreeSet::new(),
            warnings: Vec::new(),
        };
        for (i, p) in parts.into_iter().enumerate() {
            let mine = |account: &str| owner.get(account) == Some(&i);
            merged
                .keys
                .extend(p.keys.into_iter().filter(|k| mine(&k.account)));
            merged
                .quarantine
                .extend(p.quarantine.into_iter().filter(|(u, _)| mine(&u.account)));
            merged
                .quarantine_checked
                .extend(p.quarantine_checked.into_iter().filter(|a| mine(a)));
        }
        merged
            .keys
            .sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
        (merged, replaced.into_iter().collect())
    }

    /// The file text: accounts and keys sorted, so two pulls of the same
    /// state differ only in `generated_at`.
    pub fn to_json(&self) -> String {
        let mut by_account: BTreeMap<&str, Vec<&KeyRecord>> = self
            .accounts
            .iter()
            .map(|a| (a.as_str(), Vec::new()))
            .collect();
        for k in &self.keys {
            by_account.entry(k.account.as_str()).or_default().push(k);
        }
        let accounts = by_account
            .into_iter()
            .map(|(account, mut keys)| {
                keys.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
                AccountV1 {
                    quarantine_checked: self.quarantine_checked.contains(account),
                    users: self
                        .quarantine
                        .iter()
                        .filter(|(u, p)| u.account == account && !p.is_empty())
                        .map(|(u, p)| UserV1 {
                            user: u.name.clone(),
                            quarantine_policies: p.clone(),
                        })
                        .collect(),
                    account: account.to_string(),
                    keys: keys
                        .into_iter()
                        .map(|k| KeyV1 {
                            access_key_id: k.access_key_id.clone(),
                            user: k.user.clone(),
                            status: k.status.as_str().to_string(),
                            created: k.created,
                            last_used: k.last_used,
                            last_used_service: k.last_used_service.clone(),
                            last_used_region: k.last_used_region.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        let file = FileV1 {
            version: VERSION,
            generated_at: self.generated_at,
            accounts,
        };
        // Serializing plain strings and timestamps cannot fail.
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Everything the inventory knows, whatever was asked.
    pub fn lookup(&self, _key_ids: &BTreeSet<String>) -> Lookup {
        let mut lookup = Lookup::from_records(self.accounts.clone(), self.keys.clone());
        lookup.quarantine = self.quarantine.clone();
        lookup.quarantine_checked = lookup
            .user_keys
            .keys()
            .filter(|u| self.quarantine_checked.contains(&u.account))
            .cloned()
            .collect();
        lookup
    }
}

/// Whether this keyward reads the file's version.
fn supported(raw: &serde_json::Value) -> Result<(), String> {
    match raw.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(VERSION) => Ok(()),
        Some(v) => Err(format!(
            "version {v} is not supported (this keyward reads version {VERSION})"
        )),
        None => Err("`version` is missing or not a number".into()),
    }
}

/// The account's users with AWS quarantine policies, checked to be AWS's.
fn quarantined_users(a: &AccountV1) -> Result<Vec<(UserRef, Vec<String>)>, String> {
    let mut out = Vec::new();
    for u in &a.users {
        if u.user.is_empty() {
            return Err(format!("a user of account {} has no name", a.account));
        }
        if let Some(p) = u
            .quarantine_policies
            .iter()
            .find(|p| !super::is_quarantine_policy(p))
        {
            return Err(format!(
                "user {} lists `{p}` as a quarantine policy; expected AWS's own arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine…",
                u.user
            ));
        }
        let user = UserRef {
            account: a.account.clone(),
            name: u.user.clone(),
        };
        out.push((user, u.quarantine_policies.clone()));
    }
    Ok(out)
}

/// A key of `account`, checked: a well-formed ID of that account, a status
/// IAM uses, a user.
fn key_record(k: KeyV1, account: &str) -> Result<KeyRecord, String> {
    let id = &k.access_key_id;
    if key_id::find(id).next() != Some(0..id.len()) {
        return Err(format!("`{id}` is not an access key ID"));
    }
    if let Some(decoded) = key_id::account(id)
        && decoded != account
    {
        return Err(format!(
            "key {id} belongs to account {decoded} but is listed under {account}"
        ));
    }
    let status = super::KeyStatus::from_iam(&k.status);
    if status == super::KeyStatus::Unknown {
        let known: Vec<&str> = super::KeyStatus::KNOWN.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "key {id} has status `{}`; expected one of {}",
            k.status,
            known.join(", ")
        ));
    }
    if k.user.is_empty() {
        return Err(format!("key {id} has no user"));
    }
    Ok(KeyRecord {
        access_key_id: k.access_key_id,
        user: k.user,
        status,
        created: k.created,
        last_used: k.last_used,
        last_used_service: k.last_used_service,
        last_used_region: k.last_used_region,
        account: account.to_string(),
    })
}

impl IamSource for Inventory {
    fn lookup(&self, key_ids: &BTreeSet<String>) -> Result<Lookup, IamError> {
        Ok(Inventory::lookup(self, key_ids))
    }
}

/// Reads and validates an inventory file.
pub fn read(path: &Path) -> Result<Inventory, IamError> {
    let shown = crate::shown::shown_path(path);
    let text =
        crate::named_file::read_text(path, crate::named_file::MAX_NAMED_FILE).map_err(|e| {
            IamError::InventoryRead {
                path: shown.clone(),
                message: e.to_string(),
            }
        })?;
    Inventory::parse(&shown, &text)
}

/// Writes an inventory file through a temporary file in the same directory,
/// so a reader never sees half a file.
pub fn write(path: &Path, inventory: &Inventory) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map_or_else(|| "inventory".into(), |n| n.to_string_lossy()),
        std::process::id()
    ));
    std::fs::write(&tmp, inventory.to_json())?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"version": 1, "generated_at": "2026-11-28T12:00:00Z",
 "accounts": [{"account": "123456789012", "keys": [
   {"access_key_id": "AKIARZPUZDIKHSK3JF5N", "user": "deploy-bot", "status": "Active",
    "created": "2025-01-01T00:00:00Z", "last_used": "2026-11-20T00:00:00Z",
    "last_used_service": "s3", "last_used_region": "us-east-1"},
   {"access_key_id": "AKIARZPUZDIKN2ZTHJCF", "user": "deploy-bot", "status": "Inactive",
    "created": "2024-01-01T00:00:00Z"}]}]}"#;

    #[test]
    fn reads_the_documented_format() {
        let inv = Inventory::parse("inv.json", SAMPLE).expect("valid");
        assert_eq!(inv.keys.len(), 2);
        assert_eq!(inv.keys[0].user, "deploy-bot");
        assert_eq!(inv.keys[0].account, "123456789012");
        assert_eq!(inv.keys[1].last_used, None);
        let l = inv.lookup(&BTreeSet::new());
        assert!(l.accounts.contains("123456789012"));
        let user_keys: Vec<_> = l.user_keys.values().next().expect("user").iter().collect();
        assert_eq!(user_keys[0].access_key_id, "AKIARZPUZDIKHSK3JF5N");
    }

    #[test]
    fn round_trips_sorted_and_stable() {
        let inv = Inventory::parse("inv.json", SAMPLE).expect("valid");
        let text = inv.to_json();
        let again = Inventory::parse("out.json", &text).expect("reads its own output");
        assert_eq!(again.to_json(), text);
        let first = text.find("AKIARZPUZDIKHSK3JF5N").expect("key");
        let second = text.find("AKIARZPUZDIKN2ZTHJCF").expect("key");
        assert!(first < second, "keys sorted by ID:\n{text}");
        assert!(text.contains("\"generated_at\": \"2026-11-28T12:00:00Z\""));
        assert!(!text.contains("\"last_used\": null"));
    }

    #[test]
    fn clear_errors() {
        let cases = [
            ("{", "EOF"),
            (
                r#"{"version": 2, "generated_at": "x", "accounts": []}"#,
                "version 2",
            ),
            (r#"{"generated_at": "x", "accounts": []}"#, "`version`"),
            (&SAMPLE.replace("123456789012", "12345"), "12-digit"),
            (&SAMPLE.replace("\"Inactive\"", "\"Gone\""), "status `Gone`"),
            (
                &SAMPLE.replace("AKIARZPUZDIKN2ZTHJCF", "AKIA123"),
                "not an access key ID",
            ),
            (
                &SAMPLE.replace("AKIARZPUZDIKN2ZTHJCF", "AKIARZPUZDIKHSK3JF5N"),
                "twice",
            ),
            (
                &SAMPLE.replace("AKIARZPUZDIKN2ZTHJCF", "AKIA6RU73QDQ52ZTHJCF"),
                "belongs to account 999988887777",
            ),
            (
                &SAMPLE.replace(
                    "\"user\": \"deploy-bot\", \"status\": \"Active\"",
                    "\"user\": \"deploy-bot\", \"status\": \"Active\", \"secret\": \"x\"",
                ),
                "unknown field `secret`",
            ),
            (&SAMPLE.replace("2025-01-01T00:00:00Z", "yesterday"), "line"),
        ];
        for (text, needle) in cases {
            let e = Inventory::parse("inv.json", text).expect_err(needle);
            let msg = e.to_string();
            assert!(msg.starts_with("invalid inventory inv.json: "), "{msg}");
            assert!(msg.contains(needle), "{needle}: {msg}");
        }
    }

    #[test]
    fn write_then_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("inventory.json");
        let inv = Inventory::parse("inv.json", SAMPLE).expect("valid");
        write(&path, &inv).expect("write");
        assert_eq!(read(&path).expect("read"), inv);
        let e = read(&dir.path().join("missing.json")).expect_err("missing");
        assert!(e.to_string().starts_with("cannot read inventory"), "{e}");
    }
}
