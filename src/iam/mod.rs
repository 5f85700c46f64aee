//! What IAM knows about the keys a scan found: the `iam.*`,
//! `repo.keys_for_user` and `verify.result` facts.
//!
//! This is the only module that talks to the network. Everything goes through
//! [`IamSource`], with a file implementation ([`inventory`]) and a live one
//! ([`lookup::Live`]), so the pipeline above it runs offline in tests and CI.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::detect::key_id;

pub mod api;
#[cfg(feature = "aws")]
pub mod aws;
// Policy evaluation for `--blast-radius`; only the SDK client asks it.
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
pub mod blast;
pub mod cache;
#[cfg(any(test, feature = "internals"))]
pub mod fake;
pub mod inventory;
pub mod lookup;
pub mod org;
pub mod verify;

/// The IAM actions `--live` and `inventory pull` need, named in
/// access-denied errors so an operator can grant them in one go.
pub const REQUIRED_ACTIONS: [&str; 4] = [
    "sts:GetCallerIdentity",
    "iam:ListUsers",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
];

/// Default number of IAM requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// An access key's status, as IAM spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum KeyStatus {
    /// The key signs requests.
    Active,
    /// Turned off; it can be turned on again until it is deleted.
    Inactive,
    /// IAM's third status (the SDK's `StatusType::Expired`): not Active.
    Expired,
    /// A status this keyward does not know (IAM added one): not Active.
    Unknown,
}

impl KeyStatus {
    /// Every status an inventory may hold.
    pub const KNOWN: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Inactive, KeyStatus::Expired];

    /// IAM's spelling (`Active`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
            KeyStatus::Expired => "Expired",
            KeyStatus::Unknown => "Unknown",
        }
    }

    /// IAM's spelling; anything else is `Unknown`.
    pub fn from_iam(s: &str) -> KeyStatus {
        KeyStatus::KNOWN
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(KeyStatus::Unknown)
    }
}

impl std::fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IAM facts of a finding's key, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamInfo {
    /// The IAM user that owns the key.
    pub user: String,
    /// IAM's status of the key.
    pub status: KeyStatus,
    /// Days since the key was created, as of the scan's clock.
    pub age_days: i64,
    /// Days since the key's last use; `None`: never used.
    pub last_used_days: Option<i64>,
    /// The service and region of the last use (`GetAccessKeyLastUsed`);
    /// empty when never used or not known.
    pub last_used_service: String,
    /// See `last_used_service`.
    pub last_used_region: String,
    /// `--blast-radius`: the high-impact actions the owner may perform.
    pub can: Vec<String>,
    /// `can` was read from the policies, not simulated.
    pub can_approximate: bool,
}

/// What IAM says of one key, and of the pair it was found in, as plain
/// data: IAM answers, the judge decides what the rules see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFacts {
    /// The pair's verification (`verify.result`), when a secret was found
    /// with the key.
    pub verify: Option<&'static str>,
    /// Whether the key's account is one IAM was asked about; `None`: no
    /// IAM source, or no key.
    pub known: Option<bool>,
    /// The key, when IAM lists it.
    pub listed: Option<ListedKey>,
}

/// A key IAM lists, with what its owner's keys say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    /// The key's own facts.
    pub info: IamInfo,
    /// `--blast-radius`: the owner can make keys or attach policies.
    pub can_escalate: bool,
    /// The AWS quarantine policy attached to the owner, if any.
    pub quarantine_policy: Option<String>,
    /// The owner's Active keys, the newest first when one is.
    pub active_keys: Vec<String>,
    /// Two Active keys created at the same time, undecided by last use.
    pub newest_tied: bool,
    /// The owner's newest Active key, when one is.
    pub newest_active_key: Option<String>,
}

/// One access key as IAM describes it. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyRecord {
    pub access_key_id: String,
    pub user: String,
    pub status: KeyStatus,
    pub created: Timestamp,
    /// `None`: never used.
    pub last_used: Option<Timestamp>,
    pub last_used_service: Option<String>,
    pub last_used_region: Option<String>,
    pub account: String,
}

impl KeyRecord {
    /// The IAM user the key belongs to.
    pub fn owner(&self) -> UserRef {
        UserRef {
            account: self.account.clone(),
            name: self.user.clone(),
        }
    }
}

/// One of a user's keys, as `ListAccessKeys` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserKey {
    pub access_key_id: String,
    pub status: KeyStatus,
    pub created: Timestamp,
}

/// Which of a user's Active keys is the newest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Newest {
    None,
    Key(String),
    /// Created in the same second and used alike: no newest.
    Tied(Vec<String>),
}

/// An IAM user, qualified by account since user names repeat across
/// accounts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserRef {
    pub account: String,
    pub name: String,
}

/// What a source answered for a set of key IDs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// Accounts the source speaks for. A key of another account is out of
    /// scope (`iam.known = false`), not deleted.
    pub accounts: BTreeSet<String>,
    /// Complete records of the keys asked for (and, from an inventory or an
    /// enumeration, of every key seen).
    pub keys: BTreeMap<String, KeyRecord>,
    /// Every key of each user met, newest first.
    pub user_keys: BTreeMap<UserRef, Vec<UserKey>>,
    /// Keys whose lookup failed: their facts stay unknown.
    pub failed: BTreeSet<String>,
    /// Per-key problems that did not stop the lookup.
    pub warnings: Vec<String>,
    /// The AWS quarantine policies (`AWSCompromisedKeyQuarantine*`) attached
    /// to each key owner that has one, by ARN: AWS found a key of the user
    /// exposed in public and restricted it.
    pub quarantine: BTreeMap<UserRef, Vec<String>>,
    /// Users whose attached policies were read (live) or recorded (an
    /// inventory that lists them): for others quarantine is not known.
    pub quarantine_checked: BTreeSet<UserRef>,
    /// `--blast-radius`: what each owner of an Active key found may do.
    pub blast: BTreeMap<UserRef, blast::Blast>,
}

/// Whether a policy is one AWS attaches to a user whose key it found
/// exposed: an AWS-managed `AWSCompromisedKeyQuarantine`, `…V2`, `…V3`, by
/// its ARN (`arn:aws:iam::aws:policy/…`, in any partition). A customer's
/// policy of that name (`arn:aws:iam::123456789012:policy/…`) is not AWS's
/// word, and a bare name says nothing of whose it is.
pub fn is_quarantine_policy(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some("aws"), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && resource
            .strip_prefix("policy/")
            .is_some_and(|name| name.starts_with("AWSCompromisedKeyQuarantine"))
}

impl Lookup {
    /// A lookup from complete records; `user_keys` is derived from them.
    pub fn from_records(accounts: BTreeSet<String>, records: Vec<KeyRecord>) -> Lookup {
        let mut lookup = Lookup {
            accounts,
            ..Lookup::default()
        };
        for r in records {
            lookup
                .user_keys
                .entry(r.owner())
                .or_default()
                .push(UserKey {
                    access_key_id: r.access_key_id.clone(),
                    status: r.status,
                    created: r.created,
                });
            lookup.keys.insert(r.access_key_id.clone(), r);
        }
        lookup.sort_user_keys();
        lookup
    }

    /// Newest first; ties broken by key ID so the order is stable.
    pub(crate) fn sort_user_keys(&mut self) {
        for keys in self.user_keys.values_mut() {
            keys.sort_by(|a, b| {
                b.created
                    .cmp(&a.created)
                    .then_with(|| a.access_key_id.cmp(&b.access_key_id))
            });
            keys.dedup_by(|a, b| a.access_key_id == b.access_key_id);
        }
    }

    /// The user's newest Active key. Keys created in the same second are a
    /// tie, broken by the most recent use when that differs, else `Tied`.
    pub fn newest_active(&self, user: &UserRef) -> Newest {
        let active: Vec<&UserKey> = self
            .user_keys
            .get(user)
            .map(|keys| {
                keys.iter()
                    .filter(|k| k.status == KeyStatus::Active)
                    .collect()
            })
            .unwrap_or_default();
        let Some(first) = active.first() else {
            return Newest::None;
        };
        let second = |k: &UserKey| k.created.as_second();
        let top: Vec<&UserKey> = active
            .iter()
            .copied()
            .filter(|k| second(k) == second(first))
            .collect();
        if top.len() == 1 {
            return Newest::Key(first.access_key_id.clone());
        }
        let used = |k: &UserKey| self.keys.get(&k.access_key_id).and_then(|r| r.last_used);
        let latest = top.iter().filter_map(|k| used(k)).max();
        let most_recent: Vec<&&UserKey> = top
            .iter()
            .filter(|k| latest.is_some() && used(k) == latest)
            .collect();
        match most_recent.as_slice() {
            [only] => Newest::Key(only.access_key_id.clone()),
            _ => Newest::Tied(top.iter().map(|k| k.access_key_id.clone()).collect()),
        }
    }

    #[cfg(any(test, feature = "internals"))]
    fn user_of(&self, key: &str) -> Option<UserRef> {
        self.keys.get(key).map(KeyRecord::owner)
    }

    /// Whether the source can speak about this key at all.
    fn in_scope(&self, key: &str) -> bool {
        if self.failed.contains(key) {
            return false;
        }
        if self.keys.contains_key(key) {
            return true;
        }
        key_id::account(key).is_some_and(|a| self.accounts.contains(&a))
    }
}

/// A source of IAM knowledge.
pub trait IamSource {
    /// Looks up these key IDs. `Err` is for failures that make the whole
    /// answer untrustworthy (credentials, permissions, network); a single
    /// key's failure goes into [`Lookup::failed`] and a warning.
    fn lookup(&self, key_ids: &BTreeSet<String>) -> Result<Lookup, IamError>;
}

/// Why IAM could not be asked.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[diagnostic(code(keyward::iam))]
pub enum IamError {
    /// An inventory file cannot be read.
    #[error("cannot read inventory {path}: {message}")]
    InventoryRead {
        /// The file, as the user named it.
        path: String,
        /// Why.
        message: String,
    },
    /// An inventory file is not one keyward can read.
    #[error("invalid inventory {path}: {message}")]
    InventoryFormat {
        /// The file, as the user named it.
        path: String,
        /// What is wrong, and where.
        message: String,
    },
    /// The SDK found no credentials, or none it could use.
    #[error("no usable AWS credentials: {0}")]
    NoCredentials(String),
    /// The credentials may not call an action keyward needs.
    #[error(
        "access denied: the scanning credentials may not call {action} ({message}); keyward needs {}",
        REQUIRED_ACTIONS.join(", ")
    )]
    #[diagnostic(help(
        "grant these actions to the scanning role, or scan with an inventory pulled by someone who may (`keyward inventory pull`)"
    ))]
    AccessDenied {
        /// The IAM action refused.
        action: String,
        /// AWS's words.
        message: String,
    },
    /// AWS rejected the credentials themselves (expired, invalid).
    #[error("the AWS credentials were rejected by {action}: {code}: {message}")]
    BadCredentials {
        /// The action that was called.
        action: String,
        /// AWS's error code.
        code: String,
        /// AWS's words.
        message: String,
    },
    /// The endpoint could not be reached.
    #[error("cannot reach AWS ({endpoint}) for {action}: {message}")]
    Network {
        /// The action that was called.
        action: String,
        /// Where it was sent.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// AWS throttled an action past every retry.
    #[error("AWS kept throttling {action} after retries: {message}")]
    Throttled {
        /// The action that was called.
        action: String,
        /// AWS's words.
        message: String,
    },
    /// Any other failure of an action.
    #[error("{action} failed: {message}")]
    Service {
        /// The action that was called.
        action: String,
        /// AWS's words.
        message: String,
    },
    /// The async runtime for the SDK's calls could not start.
    #[error("cannot start the runtime for AWS calls: {0}")]
    Runtime(String),
    /// Live IAM was asked of a build without the `aws` feature.
    #[error(
        "this keyward was built without AWS support (the `aws` feature): use an inventory file, or build with `--features aws`"
    )]
    #[diagnostic(help("read IAM facts from an inventory file instead (`[iam] inventory`)"))]
    NoAws,
}

/// The AWS SDK client, for live runs.
#[cfg(feature = "aws")]
fn default_api() -> Result<std::sync::Arc<dyn api::IamApi>, IamError> {
    Ok(std::sync::Arc::new(aws::Aws::connect()?))
}

#[cfg(not(feature = "aws"))]
fn default_api() -> Result<std::sync::Arc<dyn api::IamApi>, IamError> {
    Err(IamError::NoAws)
}

/// The result of signing `sts:GetCallerIdentity` with a found pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyResult {
    /// The pair works.
    Match,
    /// `SignatureDoesNotMatch`: the key exists, the secret is not its own.
    Mismatch,
    /// `InvalidClientTokenId`: no such key (deleted, or another partition).
    UnknownKey,
    /// Anything else: a proxy, a timeout, throttling. Never "not a secret".
    Error,
}

impl VerifyResult {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyResult::Match => "match",
            VerifyResult::Mismatch => "mismatch",
            VerifyResult::UnknownKey => "unknown-key",
            VerifyResult::Error => "error",
        }
    }
}

/// A key ID with a secret found beside it. Holds the secret only in memory,
/// for the one request that verifies it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("key_id", &self.key_id)
            .field("secret", &crate::detect::mask(&self.secret))
            .field("token", &self.token.as_deref().map(crate::detect::mask))
            .finish()
    }
}

/// A pair's identity: key ID and SHA-256 of the secret.
pub type PairId = (String, [u8; 32]);

/// Verification verdicts by pair.
pub type Verdicts = HashMap<PairId, VerifyResult>;

/// Pairs are remembered by a hash of the secret, so results can be kept
/// and passed around without the secret itself.
pub(crate) fn pair_id(key_id: &str, secret: &str) -> PairId {
    (key_id.to_string(), Sha256::digest(secret.as_bytes()).into())
}

/// Where IAM answers come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SourceChoice {
    /// No IAM facts: `iam.known` is false everywhere.
    #[default]
    None,
    /// An inventory file (`keyward inventory pull`).
    Inventory(PathBuf),
    /// An inventory read elsewhere (a git tree, for `--policy-from`):
    /// `origin` names it.
    InventoryText {
        /// Where it was read, for messages.
        origin: String,
        /// The inventory file's text.
        text: String,
    },
    /// The AWS credential chain.
    Live,
    /// An [`api::IamApi`] the caller made (an embedder's client, the
    /// in-memory fake): asked like live IAM.
    Api(api::ApiHandle),
}

/// How a scan asks IAM ([`crate::Scan::iam`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamOptions {
    /// Where the answers come from.
    pub source: SourceChoice,
    /// Check each found pair with one signed STS call (`--verify-pairs`):
    /// the only time a found secret leaves the machine, so only when asked.
    pub verify_pairs: bool,
    /// IAM requests in flight at once.
    pub concurrency: usize,
    /// The clock ages are measured against; `None` is the current time.
    pub now: Option<Timestamp>,
    /// Keep live answers on disk for a while (`--cache-ttl`).
    pub cache: Option<cache::CacheOptions>,
    /// Ask what each exposed Active key could do (`--blast-radius`).
    pub blast_radius: bool,
}

impl Default for IamOptions {
    fn default() -> Self {
        IamOptions {
            source: SourceChoice::None,
            verify_pairs: false,
            concurrency: DEFAULT_CONCURRENCY,
            now: None,
            cache: None,
            blast_radius: false,
        }
    }
}

/// What the scan found that IAM is asked about.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// Well-formed key IDs, placeholders excluded.
    pub keys: BTreeSet<String>,
    /// Distinct found pairs, for `--verify-pairs`.
    pub pairs: Vec<Pair>,
}

impl Wanted {
    /// Everything several scans found, each pair once.
    pub fn union<'a>(parts: impl IntoIterator<Item = &'a Wanted>) -> Wanted {
        let mut all = Wanted::default();
        let mut seen = std::collections::HashSet::new();
        for w in parts {
            all.keys.extend(w.keys.iter().cloned());
            for p in &w.pairs {
                if seen.insert(p) {
                    all.pairs.push(p.clone());
                }
            }
        }
        all
    }
}

/// What IAM says of one user whose keys a scan referenced, for rotation
/// plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUser {
    /// The user's AWS account.
    pub account: String,
    /// The IAM user's name.
    pub name: String,
    /// Every key of the user IAM listed, newest first.
    pub keys: Vec<IamUserKey>,
    /// The newest Active key; `None` when there is none or it is a tie.
    pub newest_active: Option<String>,
    /// Two Active keys created in the same second and used alike.
    pub tied: bool,
    /// AWS's quarantine policies attached to the user (it found one of the
    /// user's keys exposed).
    pub quarantine: Vec<String>,
    /// `--blast-radius`: what the user may do.
    pub can: Vec<String>,
}

/// One key of an [`IamUser`], as IAM lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamUserKey {
    /// The access key ID.
    pub access_key_id: String,
    /// Active or Inactive.
    pub status: KeyStatus,
    /// Whole days since it was created.
    pub age_days: i64,
    /// `None`: never used, or not known.
    pub last_used_days: Option<i64>,
    /// `s3 in eu-west-1`: where the last use was, when IAM says.
    pub last_used_where: Option<String>,
}

/// `s3 in eu-west-1` from IAM's last-used service and region (`N/A` and
/// empty mean not known).
pub fn last_used_where(service: Option<&str>, region: Option<&str>) -> Option<String> {
    fn known(s: Option<&str>) -> Option<&str> {
        s.filter(|s| !s.is_empty() && *s != "N/A")
    }
    match (known(service), known(region)) {
        (Some(s), Some(r)) => Some(format!("{s} in {r}")),
        (Some(s), None) => Some(s.to_string()),
        _ => None,
    }
}

/// Where a run's IAM facts came from, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamSourceInfo {
    Inventory { file: String, generated_at: String },
    Live { accounts: Vec<String>, at: String },
}

/// What `--verify-pairs` sent in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedWith {
    /// Key IDs a signed `sts:GetCallerIdentity` reached STS with.
    pub sent: Vec<String>,
    /// Those STS accepted: IAM records them as used now.
    pub accepted: Vec<String>,
}

/// IAM's answers, ready to be turned into facts.
#[derive(Debug)]
pub struct Enrichment {
    lookup: Option<Lookup>,
    now: Timestamp,
    verified: Verdicts,
    /// Problems to show beside the findings.
    pub warnings: Vec<String>,
    /// Where the IAM facts came from, when any were asked for.
    pub source_info: Option<IamSourceInfo>,
}

impl Default for Enrichment {
    fn default() -> Self {
        Enrichment::new(None, Timestamp::UNIX_EPOCH)
    }
}

impl Enrichment {
    pub fn new(lookup: Option<Lookup>, now: Timestamp) -> Self {
        let warnings = lookup
            .as_ref()
            .map(|l| l.warnings.clone())
            .unwrap_or_default();
        Enrichment {
            lookup,
            now,
            verified: HashMap::new(),
            warnings,
            source_info: None,
        }
    }

    /// The IAM user that owns `key`, when IAM knows the key and it is in
    /// scope.
    pub fn user_of(&self, key: &str) -> Option<UserRef> {
        let lookup = self.lookup.as_ref()?;
        lookup
            .keys
            .get(key)
            .filter(|_| lookup.in_scope(key))
            .map(KeyRecord::owner)
    }

    pub fn with_verified(mut self, results: Verdicts) -> Self {
        self.verified = results;
        self
    }

    /// `--verify-pairs`: the key IDs this run signed a request with, and
    /// those STS accepted. An accepted request is a use IAM records: the
    /// next run reads those keys as used today.
    pub fn signed_with(&self) -> SignedWith {
        let mut sent: Vec<String> = self
            .verified
            .iter()
            .filter(|(_, r)| **r != VerifyResult::Error)
            .map(|((k, _), _)| k.clone())
            .collect();
        let mut accepted: Vec<String> = self
            .verified
            .iter()
            .filter(|(_, r)| **r == VerifyResult::Match)
            .map(|((k, _), _)| k.clone())
            .collect();
        sent.sort();
        sent.dedup();
        accepted.sort();
        accepted.dedup();
        SignedWith { sent, accepted }
    }

    /// The IAM and verification facts of a candidate with this key and
    /// secret.
    /// What IAM says of `key`, for reports: when the source covers its
    /// account and has it.
    pub fn info(&self, key: &str) -> Option<IamInfo> {
        let lookup = self.lookup.as_ref()?;
        let r = lookup.keys.get(key).filter(|_| lookup.in_scope(key))?;
        Some(self.info_of(r))
    }

    /// A record's ages measured against this enrichment's clock.
    fn info_of(&self, r: &KeyRecord) -> IamInfo {
        let blast = self.lookup.as_ref().and_then(|l| l.blast.get(&r.owner()));
        IamInfo {
            user: r.user.clone(),
            status: r.status,
            age_days: days_between(r.created, self.now),
            last_used_days: r.last_used.map(|t| days_between(t, self.now)),
            last_used_service: r.last_used_service.clone().unwrap_or_default(),
            last_used_region: r.last_used_region.clone().unwrap_or_default(),
            can: blast.map(|b| b.allowed.clone()).unwrap_or_default(),
            can_approximate: blast.is_some_and(|b| b.approximate),
        }
    }

    /// What IAM says of `key` and of its pair with `secret`, as plain data
    /// (the judge turns it into the rules' `iam.*` and `verify.*` facts).
    pub fn key_facts(&self, key: Option<&str>, secret: Option<&str>) -> KeyFacts {
        let mut out = KeyFacts::default();
        if let (Some(k), Some(s)) = (key, secret) {
            out.verify = Some(
                self.verified
                    .get(&pair_id(k, s))
                    .map_or("unchecked", |r| r.as_str()),
            );
        }
        let (Some(key), Some(lookup)) = (key, &self.lookup) else {
            return out;
        };
        let known = lookup.in_scope(key);
        out.known = Some(known);
        let Some(r) = lookup.keys.get(key).filter(|_| known) else {
            return out;
        };
        let user = r.owner();
        let mut active: Vec<String> = lookup
            .user_keys
            .get(&user)
            .map(|keys| {
                keys.iter()
                    .filter(|k| k.status == KeyStatus::Active)
                    .map(|k| k.access_key_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        let newest = lookup.newest_active(&user);
        // A tie on creation that last use broke: the decided key leads.
        if let Newest::Key(k) = &newest
            && let Some(i) = active.iter().position(|a| a == k)
        {
            let k = active.remove(i);
            active.insert(0, k);
        }
        out.listed = Some(ListedKey {
            info: self.info_of(r),
            can_escalate: lookup.blast.get(&user).is_some_and(|b| b.can_escalate()),
            quarantine_policy: lookup
                .quarantine
                .get(&user)
                .and_then(|p| p.first())
                .cloned(),
            active_keys: active,
            newest_tied: matches!(newest, Newest::Tied(_)),
            newest_active_key: match newest {
                Newest::Key(k) => Some(k),
                Newest::None | Newest::Tied(_) => None,
            },
        });
        out
    }

    /// The owners of `keys` that IAM knows, each once, with all their keys.
    pub fn users_of<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<IamUser> {
        let Some(lookup) = &self.lookup else {
            return Vec::new();
        };
        let owners: BTreeSet<UserRef> = keys.into_iter().filter_map(|k| self.user_of(k)).collect();
        owners
            .into_iter()
            .map(|user| {
                let newest = lookup.newest_active(&user);
                let keys = lookup
                    .user_keys
                    .get(&user)
                    .map(|keys| {
                        keys.iter()
                            .map(|k| IamUserKey {
                                access_key_id: k.access_key_id.clone(),
                                status: k.status,
                                age_days: days_between(k.created, self.now),
                                last_used_days: lookup
                                    .keys
                                    .get(&k.access_key_id)
                                    .and_then(|r| r.last_used)
                                    .map(|t| days_between(t, self.now)),
                                last_used_where: lookup.keys.get(&k.access_key_id).and_then(|r| {
                                    last_used_where(
                                        r.last_used_service.as_deref(),
                                        r.last_used_region.as_deref(),
                                    )
                                }),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                IamUser {
                    quarantine: lookup.quarantine.get(&user).cloned().unwrap_or_default(),
                    can: lookup
                        .blast
                        .get(&user)
                        .map(|b| b.allowed.clone())
                        .unwrap_or_default(),
                    account: user.account,
                    name: user.name,
                    keys,
                    newest_active: match &newest {
                        Newest::Key(k) => Some(k.clone()),
                        Newest::None | Newest::Tied(_) => None,
                    },
                    tied: matches!(newest, Newest::Tied(_)),
                }
            })
            .collect()
    }

    /// The newest Active key of the owner of `key`, if IAM knows one and
    /// it is not a tie (the fact `iam.newest_active_key`).
    #[cfg(any(test, feature = "internals"))]
    pub fn newest_active_key(&self, key: &str) -> Option<String> {
        let lookup = self.lookup.as_ref()?;
        match lookup.newest_active(&lookup.user_of(key)?) {
            Newest::Key(k) => Some(k),
            Newest::None | Newest::Tied(_) => None,
        }
    }
}

/// Whole days from `from` to `to`; 0 when `from` lies in the future (clock
/// skew between IAM and this machine).
fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.duration_since(from).as_secs() / 86_400).max(0)
}

/// Which accounts `keyward inventory pull` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullScope {
    /// The account of the caller's credentials.
    Caller,
    /// These accounts, each through a role assumed there (the caller's own
    /// with its own credentials).
    Accounts(Vec<String>),
    /// Every Active account of the caller's organisation, each through the
    /// role.
    Organization,
}

/// Every key of the accounts `scope` names, with their last use and the
/// users' quarantine policies: the inventory `keyward inventory pull`
/// writes. An account that cannot be reached is a warning in it.
pub fn pull_inventory(
    api: &dyn api::IamApi,
    scope: &PullScope,
    role: &str,
    concurrency: usize,
    now: Timestamp,
) -> Result<inventory::Inventory, IamError> {
    match scope {
        PullScope::Caller => lookup::Live::new(api, concurrency).at(now).pull(),
        PullScope::Accounts(ids) => org::pull(api, ids, role, concurrency, now),
        PullScope::Organization => {
            let (ids, left_out) = org::organization_accounts(api)?;
            let mut inv = org::pull(api, &ids, role, concurrency, now)?;
            inv.warnings.splice(0..0, left_out);
            Ok(inv)
        }
    }
}

/// Asks the chosen source about the keys found, and verifies the pairs when
/// asked to.
pub fn enrich(wanted: &Wanted, opts: &IamOptions) -> Result<Enrichment, IamError> {
    let now = opts.now.unwrap_or_else(Timestamp::now);
    let asks_aws = matches!(opts.source, SourceChoice::Live | SourceChoice::Api(_));
    let api: Option<std::sync::Arc<dyn api::IamApi>> = if (asks_aws || opts.verify_pairs)
        && !(wanted.keys.is_empty() && wanted.pairs.is_empty())
    {
        Some(match &opts.source {
            SourceChoice::Api(handle) => handle.0.clone(),
            _ => default_api()?,
        })
    } else {
        None
    };
    let mut source_info = None;
    let lookup = match (&opts.source, &api) {
        (SourceChoice::None, _) => None,
        (SourceChoice::Inventory(path), _) => {
            let inv = inventory::read(path)?;
            source_info = Some(IamSourceInfo::Inventory {
                file: crate::shown::shown_path(path),
                generated_at: inv.generated_at.to_string(),
            });
            Some(inv.lookup(&wanted.keys))
        }
        (SourceChoice::InventoryText { origin, text }, _) => {
            let inv = inventory::Inventory::parse(origin, text)?;
            source_info = Some(IamSourceInfo::Inventory {
                file: origin.clone(),
                generated_at: inv.generated_at.to_string(),
            });
            Some(inv.lookup(&wanted.keys))
        }
        (SourceChoice::Live | SourceChoice::Api(_), Some(api)) => {
            let l = lookup::Live::new(api.as_ref(), opts.concurrency)
                .at(now)
                .with_cache(opts.cache.clone())
                .with_blast_radius(opts.blast_radius)
                .lookup(&wanted.keys)?;
            source_info = Some(IamSourceInfo::Live {
                accounts: l.accounts.iter().cloned().collect(),
                at: now.to_string(),
            });
            Some(l)
        }
        // Nothing was found, so there was nothing to ask.
        (SourceChoice::Live | SourceChoice::Api(_), None) => None,
    };
    let mut enrichment = Enrichment::new(lookup, now);
    enrichment.source_info = source_info;
    if opts.verify_pairs
        && let Some(api) = &api
    {
        let (results, warnings) =
            verify::verify_pairs(api.as_ref(), &wanted.pairs, opts.concurrency);
        enrichment = enrichment.with_verified(results);
        enrichment.warnings.extend(warnings);
    }
    Ok(enrichment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::facts::{Fact, Facts};

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    // tests/python/synthetic_key.py 123456789012 16 406 (and 999988887777).
    const OLD: &str = "AKIARZPUZDIKN2ZTHJCF";
    const NEW: &str = "AKIARZPUZDIKHSK3JF5N";
    const GONE: &str = "AKIARZPUZDIKJRDLMSVO";
    const FOREIGN: &str = "AKIA6RU73QDQ52ZTHJCF";

    fn record(id: &str, status: &str, created: &str, last_used: Option<&str>) -> KeyRecord {
        KeyRecord {
            access_key_id: id.into(),
            user: "deploy-bot".into(),
            status: KeyStatus::from_iam(status),
            created: ts(created),
            last_used: last_used.map(ts),
            last_used_service: None,
            last_used_region: None,
            account: "123456789012".into(),
        }
    }

    fn sample() -> Lookup {
        Lookup::from_records(
            BTreeSet::from(["123456789012".to_string()]),
            vec![
                record(OLD, "Inactive", "2025-01-01T00:00:00Z", None),
                record(
                    NEW,
                    "Active",
                    "2026-06-01T00:00:00Z",
                    Some("2026-11-20T00:00:00Z"),
                ),
            ],
        )
    }

    fn facts_of(e: &Enrichment, key: &str) -> Facts {
        let mut f = Facts::default();
        crate::scan::judge::iam_facts(&mut f, &e.key_facts(Some(key), None));
        f
    }

    #[test]
    fn test_keys_decode_to_the_test_account() {
        for k in [OLD, NEW, GONE] {
            assert_eq!(key_id::account(k).as_deref(), Some("123456789012"), "{k}");
        }
        assert_ne!(key_id::account(FOREIGN).as_deref(), Some("123456789012"));
    }

    #[test]
    fn facts_from_a_lookup() {
        let e = Enrichment::new(Some(sample()), ts("2026-11-28T12:00:00Z"));
        let f = facts_of(&e, NEW);
        assert_eq!(f.get("iam.known"), Some(&Fact::Bool(true)));
        assert_eq!(f.get("iam.exists"), Some(&Fact::Bool(true)));
        assert_eq!(f.get("iam.status"), Some(&Fact::Str("Active".into())));
        assert_eq!(f.get("iam.user"), Some(&Fact::Str("deploy-bot".into())));
        assert_eq!(f.get("iam.age_days"), Some(&Fact::Int(180)));
        assert_eq!(f.get("iam.last_used_days"), Some(&Fact::Int(8)));
        assert_eq!(f.get("iam.never_used"), Some(&Fact::Bool(false)));
        assert_eq!(
            f.get("iam.user_active_keys"),
            Some(&Fact::List(vec![NEW.into()]))
        );
        // The judge counts the repo's keys of each user by this owner.
        assert_eq!(e.user_of(NEW), e.user_of(OLD));
        assert_eq!(e.user_of(NEW).map(|u| u.name), Some("deploy-bot".into()));
        assert_eq!(e.user_of(GONE), None);
        let f = facts_of(&e, OLD);
        assert_eq!(f.get("iam.last_used_days"), Some(&Fact::Int(-1)));
        assert_eq!(f.get("iam.never_used"), Some(&Fact::Bool(true)));
        assert_eq!(f.get("iam.status"), Some(&Fact::Str("Inactive".into())));
        let f = facts_of(&e, GONE);
        assert_eq!(f.get("iam.known"), Some(&Fact::Bool(true)));
        assert_eq!(f.get("iam.exists"), Some(&Fact::Bool(false)));
        let f = facts_of(&e, FOREIGN);
        assert_eq!(f.get("iam.known"), Some(&Fact::Bool(false)));
        assert_eq!(
            facts_of(&e, OLD).get("iam.newest_active_key"),
            Some(&Fact::Str(NEW.into()))
        );
    }

    /// Two Active keys created in the same second: last use decides when it
    /// differs, else there is no newest.
    #[test]
    fn a_tie_on_creation_is_broken_by_use_or_said() {
        let lookup = |old_used: Option<&str>, new_used: Option<&str>| {
            Lookup::from_records(
                BTreeSet::from(["123456789012".to_string()]),
                vec![
                    record(OLD, "Active", "2026-06-01T00:00:00Z", old_used),
                    record(NEW, "Active", "2026-06-01T00:00:00.5Z", new_used),
                ],
            )
        };
        let user = UserRef {
            account: "123456789012".into(),
            name: "deploy-bot".into(),
        };
        assert_eq!(
            lookup(None, None).newest_active(&user),
            Newest::Tied(vec![NEW.into(), OLD.into()])
        );
        let same = Some("2026-11-01T00:00:00Z");
        assert!(matches!(
            lookup(same, same).newest_active(&user),
            Newest::Tied(_)
        ));
        let l = lookup(Some("2026-11-20T00:00:00Z"), Some("2026-11-01T00:00:00Z"));
        assert_eq!(l.newest_active(&user), Newest::Key(OLD.into()));
        // The decided key leads the facts, and the tie fact is off.
        let e = Enrichment::new(Some(l), ts("2026-11-28T12:00:00Z"));
        let f = facts_of(&e, NEW);
        assert_eq!(
            f.get("iam.user_active_keys"),
            Some(&Fact::List(vec![OLD.into(), NEW.into()]))
        );
        assert_eq!(f.get("iam.newest_tied"), Some(&Fact::Bool(false)));
        let e = Enrichment::new(Some(lookup(None, None)), ts("2026-11-28T12:00:00Z"));
        assert_eq!(
            facts_of(&e, NEW).get("iam.newest_tied"),
            Some(&Fact::Bool(true))
        );
        assert_eq!(
            facts_of(&e, NEW).get("iam.newest_active_key"),
            Some(&Fact::Str(String::new()))
        );
    }

    #[test]
    fn failed_keys_stay_unknown() {
        let mut l = sample();
        l.failed.insert(GONE.into());
        let e = Enrichment::new(Some(l), ts("2026-11-28T12:00:00Z"));
        let f = facts_of(&e, GONE);
        assert_eq!(f.get("iam.known"), Some(&Fact::Bool(false)));
        assert_eq!(f.get("iam.exists"), Some(&Fact::Bool(false)));
    }

    #[test]
    fn without_a_source_nothing_is_known() {
        let e = Enrichment::default();
        let f = facts_of(&e, NEW);
        assert_eq!(f.get("iam.known"), Some(&Fact::Bool(false)));
        let mut f = Facts::default();
        crate::scan::judge::iam_facts(&mut f, &e.key_facts(Some(NEW), Some("secret")));
        assert_eq!(f.get("verify.result"), Some(&Fact::Str("unchecked".into())));
    }

    #[test]
    fn verified_pairs_are_found_by_secret_hash() {
        let mut results = HashMap::new();
        results.insert(pair_id(NEW, "s1"), VerifyResult::Mismatch);
        let e = Enrichment::default().with_verified(results);
        let mut f = Facts::default();
        crate::scan::judge::iam_facts(&mut f, &e.key_facts(Some(NEW), Some("s1")));
        assert_eq!(f.get("verify.result"), Some(&Fact::Str("mismatch".into())));
        let mut f = Facts::default();
        crate::scan::judge::iam_facts(&mut f, &e.key_facts(Some(NEW), Some("s2")));
        assert_eq!(f.get("verify.result"), Some(&Fact::Str("unchecked".into())));
    }

    #[test]
    fn ages_never_go_negative() {
        assert_eq!(
            days_between(ts("2027-01-01T00:00:00Z"), ts("2026-01-01T00:00:00Z")),
            0
        );
        assert_eq!(
            days_between(ts("2026-01-01T00:00:00Z"), ts("2026-01-02T23:59:59Z")),
            1
        );
    }

    #[test]
    fn only_aws_managed_quarantine_policies_count() {
        for yes in [
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine",
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3",
            "arn:aws-cn:iam::aws:policy/AWSCompromisedKeyQuarantineV2",
        ] {
            assert!(is_quarantine_policy(yes), "{yes}");
        }
        for no in [
            "arn:aws:iam::123456789012:policy/AWSCompromisedKeyQuarantineV2",
            "AWSCompromisedKeyQuarantineV2",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/service-role/AWSCompromisedKeyQuarantine",
        ] {
            assert!(!is_quarantine_policy(no), "{no}");
        }
    }

    #[test]
    fn pair_debug_hides_the_secret() {
        let p = Pair {
            key_id: NEW.into(),
            secret: "Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK".into(),
            token: None,
        };
        let shown = format!("{p:?}");
        assert!(!shown.contains("Am/dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK"));
        assert!(shown.contains("Am/d…2yMK"));
    }
}
