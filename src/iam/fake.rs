//! An account of IAM in memory, behind [`IamApi`]: users, their keys with
//! secrets and last use, attached policies, what each may do. It answers as
//! IAM does (two keys per user, `NoSuchEntity`, a pair that signs only when
//! the key is Active and the secret its own) and records every call, so the
//! logic above the seam (lookups, inventories, rotations) can be tested and
//! embedded without AWS. The integration tests also run against
//! `moto_server`, which is the real protocol.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use jiff::Timestamp;

use super::api::{
    CallError, IamApi, KEYS_PER_USER, LastUsed, NewKey, OrgAccount, PairAnswer, Secret,
    SecretStore, StoreKind, pair_json, pair_of,
};
use super::blast::Blast;
use super::{IamError, KeyStatus, UserKey, VerifyResult};

/// One key of a fake user.
#[derive(Debug, Clone)]
struct Key {
    id: String,
    secret: Secret,
    status: KeyStatus,
    created: Timestamp,
    last_used: Option<(Timestamp, String, String)>,
}

#[derive(Debug, Clone, Default)]
struct User {
    keys: Vec<Key>,
    policies: Vec<String>,
    can: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    users: BTreeMap<String, User>,
    /// Actions answered with AccessDenied.
    denied: BTreeSet<String>,
    /// Writes that fail once the count of writes reaches the number: a
    /// process cut short after that many changes.
    writes_left: Option<usize>,
    made: u32,
}

/// IAM of one account, in memory.
#[derive(Debug)]
pub struct FakeIam {
    account: String,
    now: Timestamp,
    state: Mutex<State>,
    calls: Mutex<Vec<String>>,
}

impl FakeIam {
    /// An empty account; `now` is when keys it creates are made.
    pub fn new(account: &str, now: Timestamp) -> FakeIam {
        FakeIam {
            account: account.to_string(),
            now,
            state: Mutex::new(State::default()),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    fn record(&self, call: String) {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(call);
    }

    /// A user with no keys.
    pub fn user(&self, name: &str) -> &Self {
        self.with_state(|s| {
            s.users.entry(name.to_string()).or_default();
        });
        self
    }

    /// A key of `user` with its secret, status, creation and last use
    /// (`(when, service, region)`).
    pub fn key(
        &self,
        user: &str,
        id: &str,
        secret: &str,
        status: KeyStatus,
        created: Timestamp,
        last_used: Option<(Timestamp, &str, &str)>,
    ) -> &Self {
        self.with_state(|s| {
            s.users.entry(user.to_string()).or_default().keys.push(Key {
                id: id.to_string(),
                secret: Secret::new(secret),
                status,
                created,
                last_used: last_used.map(|(t, a, b)| (t, a.to_string(), b.to_string())),
            });
        });
        self
    }

    /// Attaches a managed policy to `user`.
    pub fn attach(&self, user: &str, arn: &str) -> &Self {
        self.with_state(|s| {
            s.users
                .entry(user.to_string())
                .or_default()
                .policies
                .push(arn.to_string());
        });
        self
    }

    /// What `user` may do (its blast radius).
    pub fn can(&self, user: &str, actions: &[&str]) -> &Self {
        self.with_state(|s| {
            s.users.entry(user.to_string()).or_default().can =
                actions.iter().map(|a| (*a).to_string()).collect();
        });
        self
    }

    /// Answers `action` (`iam:CreateAccessKey` …) with AccessDenied.
    pub fn deny(&self, action: &str) -> &Self {
        self.with_state(|s| {
            s.denied.insert(action.to_string());
        });
        self
    }

    /// Lets `n` more writes succeed, then fails every write: a run cut
    /// short. `None` lifts it.
    pub fn writes_left(&self, n: Option<usize>) -> &Self {
        self.with_state(|s| s.writes_left = n);
        self
    }

    /// Every call so far, as `action argument`.
    pub fn calls_made(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The keys of `user` now: ID and status, oldest first.
    pub fn keys_of(&self, user: &str) -> Vec<(String, KeyStatus)> {
        self.with_state(|s| {
            s.users
                .get(user)
                .map(|u| u.keys.iter().map(|k| (k.id.clone(), k.status)).collect())
                .unwrap_or_default()
        })
    }

    /// Records a use of the key now (as a signed request would).
    pub fn use_key(&self, key_id: &str, when: Timestamp) {
        self.with_state(|s| {
            for u in s.users.values_mut() {
                for k in &mut u.keys {
                    if k.id == key_id {
                        k.last_used = Some((when, "sts".into(), "us-east-1".into()));
                    }
                }
            }
        });
    }

    fn denied(&self, action: &str) -> Result<(), CallError> {
        if self.with_state(|s| s.denied.contains(action)) {
            return Err(CallError::Fatal(IamError::AccessDenied {
                action: action.to_string(),
                message: format!("not authorized to perform: {action}"),
            }));
        }
        Ok(())
    }

    /// A write: denied, or refused past `writes_left`.
    fn write(&self, action: &str) -> Result<(), CallError> {
        self.denied(action)?;
        let refused = self.with_state(|s| match &mut s.writes_left {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        });
        if refused {
            return Err(CallError::Fatal(IamError::Network {
                action: action.to_string(),
                endpoint: self.endpoint(),
                message: "connection reset (the fake's cut)".into(),
            }));
        }
        Ok(())
    }

    fn no_user(user: &str) -> CallError {
        CallError::NotFound(format!("The user with name {user} cannot be found."))
    }

    /// A key ID of this account, new each time (AWS's encoding, which
    /// moto also uses, so the ID decodes to the account).
    fn new_key_id(&self, n: u32) -> String {
        const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let account: u64 = self.account.parse().unwrap_or(0);
        let value = account / 2 + 549_755_813_888;
        let bytes = value.to_be_bytes();
        let mut bits: u64 = 0;
        for b in &bytes[3..8] {
            bits = (bits << 8) | u64::from(*b);
        }
        let mut id = String::from("AKIA");
        for i in (0..8).rev() {
            id.push(char::from(B32[((bits >> (i * 5)) & 31) as usize]));
        }
        let c = if account.is_multiple_of(2) {
            B32[(n % 16) as usize]
        } else {
            B32[16 + (n % 16) as usize]
        };
        id.push(char::from(c));
        let mut x = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for _ in 0..7 {
            id.push(char::from(B32[(x % 32) as usize]));
            x /= 32;
        }
        id
    }
}

impl IamApi for FakeIam {
    fn endpoint(&self) -> String {
        "the in-memory IAM".into()
    }

    fn calls(&self) -> u64 {
        self.calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len() as u64
    }

    fn caller_account(&self) -> Result<String, IamError> {
        self.record("sts:GetCallerIdentity".into());
        Ok(self.account.clone())
    }

    fn list_users(&self) -> Result<Vec<String>, CallError> {
        self.record("iam:ListUsers".into());
        self.denied("iam:ListUsers")?;
        Ok(self.with_state(|s| s.users.keys().cloned().collect()))
    }

    fn list_access_keys(&self, user: &str) -> Result<Vec<UserKey>, CallError> {
        self.record(format!("iam:ListAccessKeys {user}"));
        self.denied("iam:ListAccessKeys")?;
        self.with_state(|s| {
            let u = s.users.get(user).ok_or_else(|| Self::no_user(user))?;
            Ok(u.keys
                .iter()
                .map(|k| UserKey {
                    access_key_id: k.id.clone(),
                    status: k.status,
                    created: k.created,
                })
                .collect())
        })
    }

    fn last_used(&self, key_id: &str) -> Result<LastUsed, CallError> {
        self.record(format!("iam:GetAccessKeyLastUsed {key_id}"));
        self.denied("iam:GetAccessKeyLastUsed")?;
        self.with_state(|s| {
            for (name, u) in &s.users {
                if let Some(k) = u.keys.iter().find(|k| k.id == key_id) {
                    return Ok(LastUsed {
                        user: name.clone(),
                        when: k.last_used.as_ref().map(|l| l.0),
                        service: k.last_used.as_ref().map(|l| l.1.clone()),
                        region: k.last_used.as_ref().map(|l| l.2.clone()),
                    });
                }
            }
            Err(CallError::NotFound(format!(
                "The Access Key with id {key_id} cannot be found"
            )))
        })
    }

    fn attached_policies(&self, user: &str) -> Result<Vec<String>, CallError> {
        self.record(format!("iam:ListAttachedUserPolicies {user}"));
        self.denied("iam:ListAttachedUserPolicies")?;
        self.with_state(|s| {
            s.users
                .get(user)
                .map(|u| u.policies.clone())
                .ok_or_else(|| Self::no_user(user))
        })
    }

    fn blast_radius(&self, user: &str) -> Result<Blast, CallError> {
        self.record(format!("iam:SimulatePrincipalPolicy {user}"));
        self.with_state(|s| {
            s.users
                .get(user)
                .map(|u| Blast {
                    allowed: u.can.clone(),
                    approximate: false,
                })
                .ok_or_else(|| Self::no_user(user))
        })
    }

    fn verify_pair(&self, key_id: &str, secret: &Secret, _token: Option<&str>) -> PairAnswer {
        self.record(format!("sts:GetCallerIdentity as {key_id}"));
        let now = self.now;
        let answer = self.with_state(|s| {
            for u in s.users.values_mut() {
                if let Some(k) = u.keys.iter_mut().find(|k| k.id == key_id) {
                    if k.status != KeyStatus::Active {
                        return VerifyResult::UnknownKey;
                    }
                    if k.secret != *secret {
                        return VerifyResult::Mismatch;
                    }
                    k.last_used = Some((now, "sts".into(), "us-east-1".into()));
                    return VerifyResult::Match;
                }
            }
            VerifyResult::UnknownKey
        });
        PairAnswer::Final(Ok(answer))
    }

    fn organization_accounts(&self) -> Result<Vec<OrgAccount>, IamError> {
        self.record("organizations:ListAccounts".into());
        Ok(vec![OrgAccount {
            id: self.account.clone(),
            state: Some("ACTIVE".into()),
        }])
    }

    fn assume_role(&self, account: &str, role: &str) -> Result<Box<dyn IamApi>, CallError> {
        self.record(format!("sts:AssumeRole {account} {role}"));
        Err(CallError::Other(format!(
            "cannot assume arn:aws:iam::{account}:role/{role}: the in-memory IAM has one account"
        )))
    }

    fn create_access_key(&self, user: &str) -> Result<NewKey, CallError> {
        self.record(format!("iam:CreateAccessKey {user}"));
        self.write("iam:CreateAccessKey")?;
        let n = self.with_state(|s| {
            s.made += 1;
            s.made
        });
        let id = self.new_key_id(n);
        // A secret of the right shape, different for each key.
        let secret: String = (0..40)
            .map(|i| {
                let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";
                char::from(a[((n as usize) * 7 + i * 13 + i * i) % 64])
            })
            .collect();
        let now = self.now;
        self.with_state(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| Self::no_user(user))?;
            if u.keys.len() >= KEYS_PER_USER {
                return Err(CallError::Other(format!(
                    "LimitExceeded: Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"
                )));
            }
            u.keys.push(Key {
                id: id.clone(),
                secret: Secret::new(secret.clone()),
                status: KeyStatus::Active,
                created: now,
                last_used: None,
            });
            Ok(NewKey {
                access_key_id: id,
                secret: Secret::new(secret),
                created: now,
            })
        })
    }

    fn update_access_key(
        &self,
        user: &str,
        key_id: &str,
        status: KeyStatus,
    ) -> Result<(), CallError> {
        self.record(format!("iam:UpdateAccessKey {user} {key_id} {status}"));
        self.write("iam:UpdateAccessKey")?;
        self.with_state(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| Self::no_user(user))?;
            let k = u
                .keys
                .iter_mut()
                .find(|k| k.id == key_id)
                .ok_or_else(|| CallError::NotFound(format!("no key {key_id} for {user}")))?;
            k.status = status;
            Ok(())
        })
    }

    fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), CallError> {
        self.record(format!("iam:DeleteAccessKey {user} {key_id}"));
        self.write("iam:DeleteAccessKey")?;
        self.with_state(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| Self::no_user(user))?;
            let before = u.keys.len();
            u.keys.retain(|k| k.id != key_id);
            if u.keys.len() == before {
                return Err(CallError::NotFound(format!("no key {key_id} for {user}")));
            }
            Ok(())
        })
    }
}

/// A secret store in memory: what a rotation wrote, and writes that fail
/// on demand.
#[derive(Debug, Default)]
pub struct FakeStore {
    values: Mutex<BTreeMap<String, Secret>>,
    denied: Mutex<bool>,
    writes_denied: Mutex<bool>,
}

impl FakeStore {
    pub fn new() -> FakeStore {
        FakeStore::default()
    }

    /// Every write and read answered with AccessDenied.
    pub fn deny(&self) {
        *self
            .denied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
    }

    /// Writes answered with AccessDenied; reads still work.
    pub fn deny_writes(&self) {
        *self
            .writes_denied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
    }

    /// The key ID stored under `name`.
    pub fn key_id(&self, name: &str) -> Option<String> {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .and_then(|v| pair_of(v.expose()))
            .map(|(k, _)| k)
    }

    fn check(&self, action: &str) -> Result<(), CallError> {
        if *self
            .denied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Err(CallError::Fatal(IamError::AccessDenied {
                action: action.into(),
                message: "not authorized".into(),
            }));
        }
        Ok(())
    }
}

impl SecretStore for FakeStore {
    fn kind(&self) -> StoreKind {
        StoreKind::SecretsManager
    }

    fn put(&self, name: &str, key_id: &str, secret: &Secret) -> Result<(), CallError> {
        self.check("secretsmanager:PutSecretValue")?;
        if *self
            .writes_denied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            return Err(CallError::Fatal(IamError::AccessDenied {
                action: "secretsmanager:PutSecretValue".into(),
                message: "not authorized".into(),
            }));
        }
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_string(), pair_json(key_id, secret));
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<(String, Secret)>, CallError> {
        self.check("secretsmanager:GetSecretValue")?;
        Ok(self
            .values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .and_then(|v| pair_of(v.expose())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn created_keys_decode_to_the_account_and_respect_the_limit() {
        let iam = FakeIam::new("123456789012", ts("2026-12-01T00:00:00Z"));
        iam.user("ci");
        let a = iam.create_access_key("ci").expect("first");
        let b = iam.create_access_key("ci").expect("second");
        assert_ne!(a.access_key_id, b.access_key_id);
        for k in [&a, &b] {
            assert_eq!(
                crate::detect::key_id::account(&k.access_key_id).as_deref(),
                Some("123456789012"),
                "{}",
                k.access_key_id
            );
        }
        assert!(matches!(
            iam.create_access_key("ci"),
            Err(CallError::Other(m)) if m.starts_with("LimitExceeded")
        ));
        assert!(matches!(
            iam.verify_pair(&a.access_key_id, &a.secret, None),
            PairAnswer::Final(Ok(VerifyResult::Match))
        ));
        assert!(matches!(
            iam.verify_pair(&a.access_key_id, &b.secret, None),
            PairAnswer::Final(Ok(VerifyResult::Mismatch))
        ));
        iam.update_access_key("ci", &a.access_key_id, KeyStatus::Inactive)
            .expect("update");
        assert!(matches!(
            iam.verify_pair(&a.access_key_id, &a.secret, None),
            PairAnswer::Final(Ok(VerifyResult::UnknownKey))
        ));
        iam.writes_left(Some(0));
        assert!(matches!(
            iam.delete_access_key("ci", &a.access_key_id),
            Err(CallError::Fatal(_))
        ));
        assert_eq!(iam.keys_of("ci").len(), 2);
    }
}
