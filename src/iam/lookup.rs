//! What keyward makes of live IAM answers: the lookup a scan judges by
//! (per key, or by enumerating the account when many keys are asked
//! about), the inventory `keyward inventory pull` writes, the cache of
//! answers, quarantine policies and blast radius. Written once, against
//! [`IamApi`]: the AWS SDK and the in-memory fake give the same result.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::api::{CallError, IamApi, LastUsed, bounded};
use super::cache::{Cache, CacheOptions, Entry as CacheEntry};
use super::inventory::Inventory;
use super::{IamError, IamSource, KeyRecord, KeyStatus, Lookup, UserKey, UserRef};
use crate::detect::key_id;

/// Up to this many in-scope keys are asked about one by one; above it the
/// account is enumerated, which costs about one call per user instead.
pub const PER_KEY_MAX: usize = 50;

/// IAM of the account the API's credentials belong to.
pub struct Live<'a> {
    api: &'a dyn IamApi,
    concurrency: usize,
    cache: Option<CacheOptions>,
    blast_radius: bool,
    now: Timestamp,
}

/// Users' keys as `ListAccessKeys` gave them, warnings, and the users whose
/// keys could not be listed.
type ListedKeys = (
    BTreeMap<UserRef, Vec<UserKey>>,
    Vec<String>,
    BTreeSet<String>,
);

/// Every user's keys, their last use, and the keys whose last use could
/// not be read.
type Enumerated = (
    BTreeMap<UserRef, Vec<UserKey>>,
    LastUsedAnswers,
    Vec<String>,
);

/// Quarantine policies per user, the users checked, and warnings.
type Quarantine = (
    BTreeMap<UserRef, Vec<String>>,
    BTreeSet<UserRef>,
    Vec<String>,
);

impl<'a> Live<'a> {
    /// Asks `api` with at most `concurrency` requests in flight, ages
    /// measured from now.
    pub fn new(api: &'a dyn IamApi, concurrency: usize) -> Self {
        Live {
            api,
            concurrency: concurrency.max(1),
            cache: None,
            blast_radius: false,
            now: Timestamp::now(),
        }
    }

    /// The clock of the run (`--now`): cache ages, an inventory's date.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }

    /// Also asks what each owner of an Active key found may do.
    pub fn with_blast_radius(mut self, yes: bool) -> Self {
        self.blast_radius = yes;
        self
    }

    /// Answers younger than the cache's TTL are taken from disk, and fresh
    /// ones are written back (`--cache-ttl`).
    pub fn with_cache(mut self, cache: Option<CacheOptions>) -> Self {
        self.cache = cache;
        self
    }

    /// Every key of the account with its last use: `keyward inventory pull`.
    pub fn pull(&self) -> Result<Inventory, IamError> {
        let account = self.api.caller_account()?;
        let (user_keys, last_used, failed) = self.enumerate(&account, None)?;
        if let Some(k) = failed.first() {
            return Err(IamError::Service {
                action: "iam:GetAccessKeyLastUsed".into(),
                message: format!("key {k} could not be read"),
            });
        }
        let keys = records(&account, &user_keys, &last_used);
        let owners: Vec<String> = user_keys.keys().map(|u| u.name.clone()).collect();
        let (quarantine, checked, warnings) = self.quarantine(&account, owners)?;
        let all_checked = checked.len() == user_keys.len();
        Ok(Inventory {
            generated_at: self.now,
            quarantine_checked: if all_checked {
                BTreeSet::from([account.clone()])
            } else {
                BTreeSet::new()
            },
            accounts: BTreeSet::from([account]),
            keys,
            quarantine,
            warnings,
        })
    }

    /// `GetAccessKeyLastUsed` for each key.
    fn last_used(&self, keys: Vec<String>) -> Result<LastUsedAnswers, IamError> {
        let action = "iam:GetAccessKeyLastUsed";
        let mut answers = LastUsedAnswers::default();
        bounded(
            keys,
            self.concurrency,
            |key| {
                let r = self.api.last_used(&key);
                (key, r)
            },
            |(key, r)| {
                match r {
                    Ok(used) => {
                        answers.found.insert(key, used);
                    }
                    Err(CallError::Fatal(f)) => return Err(f),
                    Err(CallError::NotFound(_)) => {
                        answers.missing.insert(key);
                    }
                    Err(CallError::Other(m)) => {
                        answers.warnings.push(format!("{action} for {key}: {m}"));
                        answers.failed.insert(key);
                    }
                }
                Ok(())
            },
        )?;
        Ok(answers)
    }

    /// `ListAccessKeys` for each user.
    fn list_keys(&self, account: &str, users: Vec<String>) -> Result<ListedKeys, IamError> {
        let action = "iam:ListAccessKeys";
        let mut out = BTreeMap::new();
        let mut warnings = Vec::new();
        let mut failed_users = BTreeSet::new();
        bounded(
            users,
            self.concurrency,
            |user| {
                let r = self.api.list_access_keys(&user);
                (user, r)
            },
            |(user, r)| {
                match r {
                    Ok(keys) => {
                        out.insert(
                            UserRef {
                                account: account.to_string(),
                                name: user,
                            },
                            keys,
                        );
                    }
                    Err(CallError::Fatal(f)) => return Err(f),
                    // The user went away between the calls.
                    Err(CallError::NotFound(m) | CallError::Other(m)) => {
                        warnings.push(format!("{action} for {user}: {m}"));
                        failed_users.insert(user);
                    }
                }
                Ok(())
            },
        )?;
        Ok((out, warnings, failed_users))
    }

    /// `ListAttachedUserPolicies` per user: the AWS quarantine policies
    /// attached to each, the users that could be checked, and warnings. A
    /// denied call is a warning, not a failure: the permission is new, and
    /// every other fact still holds.
    fn quarantine(&self, account: &str, users: Vec<String>) -> Result<Quarantine, IamError> {
        let action = "iam:ListAttachedUserPolicies";
        let mut found = BTreeMap::new();
        let mut checked = BTreeSet::new();
        let mut warnings = Vec::new();
        let mut denied = false;
        bounded(
            users,
            self.concurrency,
            |user| {
                let r = self.api.attached_policies(&user);
                (user, r)
            },
            |(user, r)| {
                let owner = UserRef {
                    account: account.to_string(),
                    name: user.clone(),
                };
                match r {
                    Ok(arns) => {
                        let quarantine: Vec<String> = arns
                            .into_iter()
                            .filter(|a| super::is_quarantine_policy(a))
                            .collect();
                        if !quarantine.is_empty() {
                            found.insert(owner.clone(), quarantine);
                        }
                        checked.insert(owner);
                    }
                    Err(CallError::Fatal(IamError::AccessDenied { .. })) => {
                        if !denied {
                            denied = true;
                            warnings.push(format!(
                                "{action} was denied: whether AWS quarantined a key is not known; allow {action} to check"
                            ));
                        }
                    }
                    Err(CallError::Fatal(f)) => return Err(f),
                    Err(CallError::NotFound(m) | CallError::Other(m)) => {
                        warnings.push(format!("{action} for {user}: {m}"));
                    }
                }
                Ok(())
            },
        )?;
        Ok((found, checked, warnings))
    }

    /// `ListUsers` → `ListAccessKeys` per user → `GetAccessKeyLastUsed` for
    /// the keys in `last_used_for` (all when `None`). Returns the users'
    /// keys, the last-use answers and the keys whose last use could not be
    /// read.
    fn enumerate(
        &self,
        account: &str,
        last_used_for: Option<&BTreeSet<String>>,
    ) -> Result<Enumerated, IamError> {
        let users = self.api.list_users().map_err(|e| match e {
            CallError::Fatal(f) => f,
            CallError::NotFound(m) | CallError::Other(m) => IamError::Service {
                action: "iam:ListUsers".into(),
                message: m,
            },
        })?;
        let (user_keys, warnings, failed_users) = self.list_keys(account, users)?;
        if let Some(u) = failed_users.first() {
            return Err(IamError::Service {
                action: "iam:ListAccessKeys".into(),
                message: format!("the keys of user {u} could not be listed"),
            });
        }
        let wanted: Vec<String> = user_keys
            .values()
            .flatten()
            .map(|k| k.access_key_id.clone())
            .filter(|k| last_used_for.is_none_or(|w| w.contains(k)))
            .collect();
        let mut answers = self.last_used(wanted)?;
        answers.warnings.extend(warnings);
        let failed = answers.failed.iter().cloned().collect();
        Ok((user_keys, answers, failed))
    }

    fn lookup_keys(&self, key_ids: &BTreeSet<String>) -> Result<Lookup, IamError> {
        let account = self.api.caller_account()?;
        // Keys of other accounts are out of scope; old-format IDs carry no
        // account, so IAM is asked about them too.
        let in_scope: BTreeSet<String> = key_ids
            .iter()
            .filter(|k| key_id::account(k).is_none_or(|a| a == account))
            .cloned()
            .collect();
        let mut lookup = Lookup {
            accounts: BTreeSet::from([account.clone()]),
            ..Lookup::default()
        };
        if in_scope.is_empty() {
            return Ok(lookup);
        }
        let now = self.now;
        let mut cache = self.cache.as_ref().map(|o| {
            let (c, warning) = Cache::open(o, &account, &self.api.endpoint());
            lookup.warnings.extend(warning);
            c
        });
        let mut ask = BTreeSet::new();
        let mut hits = Vec::new();
        for k in &in_scope {
            // An entry from before keyward asked about quarantine is stale.
            match cache
                .as_ref()
                .and_then(|c| c.fresh(k, now))
                .filter(|e| e.record.is_none() || e.quarantine.is_some())
            {
                Some(e) => hits.push((k.clone(), e.clone())),
                None => {
                    ask.insert(k.clone());
                }
            }
        }
        if !ask.is_empty() {
            self.ask(&account, &ask, &mut lookup)?;
        }
        if let Some(cache) = &mut cache {
            remember(cache, &ask, &lookup, now);
            if let Err(w) = cache.save(now) {
                lookup.warnings.push(w);
            }
        }
        // A user's key list fetched in this run is newer than any cached one.
        let fresh_users: BTreeSet<UserRef> = lookup.user_keys.keys().cloned().collect();
        for (k, e) in hits {
            let Some(r) = e.record else { continue };
            let user = r.owner();
            if !fresh_users.contains(&user) {
                let quarantine = e.quarantine.unwrap_or_default();
                if !quarantine.is_empty() {
                    lookup.quarantine.entry(user.clone()).or_insert(quarantine);
                }
                lookup.quarantine_checked.insert(user.clone());
                lookup.user_keys.entry(user).or_insert(e.user_keys);
            }
            lookup.keys.insert(k, r);
        }
        if self.blast_radius {
            self.blast(&account, &mut lookup)?;
        }
        lookup.warnings.sort();
        lookup.sort_user_keys();
        Ok(lookup)
    }

    /// What each owner of an Active key found may do.
    fn blast(&self, account: &str, lookup: &mut Lookup) -> Result<(), IamError> {
        let owners: BTreeSet<String> = lookup
            .keys
            .values()
            .filter(|r| r.status == KeyStatus::Active)
            .map(|r| r.user.clone())
            .collect();
        let mut found = BTreeMap::new();
        let mut warnings = Vec::new();
        bounded(
            owners.into_iter().collect(),
            self.concurrency,
            |user| {
                let b = self.api.blast_radius(&user);
                (user, b)
            },
            |(user, b)| {
                match b {
                    Ok(b) => {
                        found.insert(
                            UserRef {
                                account: account.to_string(),
                                name: user,
                            },
                            b,
                        );
                    }
                    Err(w) => warnings.push(format!("blast radius of {user} not known: {w}")),
                }
                Ok(())
            },
        )?;
        lookup.blast = found;
        lookup.warnings.extend(warnings);
        Ok(())
    }

    /// Asks IAM about `in_scope`, one by one or by enumerating the account.
    fn ask(
        &self,
        account: &str,
        in_scope: &BTreeSet<String>,
        lookup: &mut Lookup,
    ) -> Result<(), IamError> {
        let (user_keys, answers) = if in_scope.len() <= PER_KEY_MAX {
            let mut answers = self.last_used(in_scope.iter().cloned().collect())?;
            let users: BTreeSet<String> = answers.found.values().map(|l| l.user.clone()).collect();
            let (user_keys, warnings, failed_users) =
                self.list_keys(account, users.into_iter().collect())?;
            answers.warnings.extend(warnings);
            let failed: Vec<String> = answers
                .found
                .iter()
                .filter(|(_, l)| failed_users.contains(&l.user))
                .map(|(k, _)| k.clone())
                .collect();
            answers.failed.extend(failed);
            (user_keys, answers)
        } else {
            let (user_keys, answers, _) = self.enumerate(account, Some(in_scope))?;
            (user_keys, answers)
        };
        for r in records(account, &user_keys, &answers) {
            if in_scope.contains(&r.access_key_id) && !answers.failed.contains(&r.access_key_id) {
                lookup.keys.insert(r.access_key_id.clone(), r);
            }
        }
        // Asked about, answered by GetAccessKeyLastUsed, but missing from its
        // user's list: deleted in between. Unknown rather than wrong.
        for k in answers.found.keys() {
            if !lookup.keys.contains_key(k) && !answers.failed.contains(k) {
                lookup.failed.insert(k.clone());
                lookup
                    .warnings
                    .push(format!("key {k} was not in its user's key list"));
            }
        }
        lookup.failed.extend(answers.failed);
        lookup.warnings.extend(answers.warnings);
        // Only the owners of keys found: enumerating lists every user.
        let owners: BTreeSet<String> = lookup.keys.values().map(|r| r.user.clone()).collect();
        let (quarantine, checked, warnings) =
            self.quarantine(account, owners.into_iter().collect())?;
        lookup.quarantine = quarantine;
        lookup.quarantine_checked = checked;
        lookup.warnings.extend(warnings);
        lookup.user_keys = user_keys;
        Ok(())
    }
}

impl IamSource for Live<'_> {
    fn lookup(&self, key_ids: &BTreeSet<String>) -> Result<Lookup, IamError> {
        self.lookup_keys(key_ids)
    }
}

/// Puts what this run learnt about `asked` into the cache. Failed lookups
/// are not remembered: they are asked again next time.
fn remember(cache: &mut Cache, asked: &BTreeSet<String>, lookup: &Lookup, now: Timestamp) {
    for k in asked {
        if lookup.failed.contains(k) {
            continue;
        }
        let entry = match lookup.keys.get(k) {
            Some(r) => CacheEntry {
                fetched: now,
                record: Some(r.clone()),
                user_keys: lookup
                    .user_keys
                    .get(&r.owner())
                    .cloned()
                    .unwrap_or_default(),
                quarantine: lookup.quarantine_checked.contains(&r.owner()).then(|| {
                    lookup
                        .quarantine
                        .get(&r.owner())
                        .cloned()
                        .unwrap_or_default()
                }),
            },
            None => CacheEntry {
                fetched: now,
                record: None,
                user_keys: Vec::new(),
                quarantine: Some(Vec::new()),
            },
        };
        cache.remember(k, entry);
    }
}

#[derive(Debug, Default)]
struct LastUsedAnswers {
    found: BTreeMap<String, LastUsed>,
    missing: BTreeSet<String>,
    failed: BTreeSet<String>,
    warnings: Vec<String>,
}

/// Complete records: keys listed for a user whose last use is known.
fn records(
    account: &str,
    user_keys: &BTreeMap<UserRef, Vec<UserKey>>,
    answers: &LastUsedAnswers,
) -> Vec<KeyRecord> {
    let mut out = Vec::new();
    for (user, keys) in user_keys {
        for k in keys {
            let Some(used) = answers.found.get(&k.access_key_id) else {
                continue;
            };
            out.push(KeyRecord {
                access_key_id: k.access_key_id.clone(),
                user: user.name.clone(),
                status: k.status,
                created: k.created,
                last_used: used.when,
                last_used_service: used.service.clone(),
                last_used_region: used.region.clone(),
                account: account.to_string(),
            });
        }
    }
    out.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::blast::Blast;
    use crate::iam::fake::FakeIam;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    const NOW: &str = "2026-12-01T00:00:00Z";

    /// Two users, one quarantined; keys with and without use.
    fn account() -> FakeIam {
        let iam = FakeIam::new("123456789012", ts(NOW));
        iam.key(
            "ci",
            "AKIARZPUZDIKEEQH746Y",
            "s1",
            KeyStatus::Active,
            ts("2026-01-01T00:00:00Z"),
            Some((ts("2026-11-30T00:00:00Z"), "s3", "eu-west-1")),
        )
        .key(
            "ci",
            "AKIARZPUZDIKKJZDEGXD",
            "s2",
            KeyStatus::Inactive,
            ts("2025-01-01T00:00:00Z"),
            None,
        )
        .key(
            "ops",
            "AKIARZPUZDIKBKJDPPTT",
            "s3",
            KeyStatus::Active,
            ts("2026-06-01T00:00:00Z"),
            None,
        )
        .attach(
            "ops",
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
        )
        .attach("ci", "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .can("ci", &["s3:GetObject", "iam:CreateAccessKey"]);
        iam
    }

    #[test]
    fn a_lookup_through_the_seam_asks_key_by_key() {
        let iam = account();
        let wanted = BTreeSet::from(["AKIARZPUZDIKEEQH746Y".to_string()]);
        let l = Live::new(&iam, 4)
            .with_blast_radius(true)
            .lookup(&wanted)
            .expect("lookup");
        let r = l.keys.get("AKIARZPUZDIKEEQH746Y").expect("known");
        assert_eq!(r.user, "ci");
        assert_eq!(r.last_used_service.as_deref(), Some("s3"));
        // The owner's keys, newest first, and what the owner may do.
        let owner = r.owner();
        assert_eq!(l.user_keys.get(&owner).map(Vec::len), Some(2));
        assert!(l.blast.get(&owner).is_some_and(Blast::can_escalate));
        assert!(l.quarantine.is_empty());
        // Per key: last use, the owner's keys, its policies, its blast.
        let calls = iam.calls_made();
        assert!(!calls.iter().any(|c| c == "iam:ListUsers"), "{calls:?}");
        assert!(
            calls.contains(&"iam:ListAccessKeys ci".to_string()),
            "{calls:?}"
        );
    }

    #[test]
    fn many_keys_enumerate_the_account_and_a_denied_policy_call_is_a_warning() {
        let iam = account();
        iam.deny("iam:ListAttachedUserPolicies");
        let mut wanted: BTreeSet<String> = (0..=PER_KEY_MAX)
            .map(|i| format!("AKIARZPUZDIK{i:0>8}"))
            .collect();
        wanted.insert("AKIARZPUZDIKBKJDPPTT".into());
        let l = Live::new(&iam, 4).lookup(&wanted).expect("lookup");
        assert!(iam.calls_made().iter().any(|c| c == "iam:ListUsers"));
        assert_eq!(l.keys.len(), 1);
        assert!(l.quarantine_checked.is_empty());
        assert!(
            l.warnings.iter().any(|w| w.contains("was denied")),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn a_pulled_inventory_is_dated_by_the_runs_clock() {
        let iam = account();
        let inv = Live::new(&iam, 2).at(ts(NOW)).pull().expect("pull");
        assert_eq!(inv.generated_at, ts(NOW));
        assert_eq!(inv.keys.len(), 3);
        assert_eq!(inv.quarantine.values().map(Vec::len).sum::<usize>(), 1);
    }
}
