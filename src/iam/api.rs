//! The seam between what keyward asks of (and, for rotation, changes in)
//! IAM, STS and Organizations, and how it asks. [`IamApi`] is one call per
//! method; the AWS SDK implements it in [`super::aws`], [`super::fake`]
//! keeps an account in memory for tests and embedders. What keyward makes
//! of the answers (a lookup, an inventory, a rotation) is written once,
//! against the trait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;

use super::{IamError, KeyStatus, UserKey, VerifyResult};
use crate::iam::blast::Blast;

/// How one failed call affects the run.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Stops the run: credentials, permissions, network, throttling.
    #[error(transparent)]
    Fatal(IamError),
    /// `NoSuchEntity`: the user or key is not there.
    #[error("{0}")]
    NotFound(String),
    /// Only this item is affected.
    #[error("{0}")]
    Other(String),
}

/// What `iam:GetAccessKeyLastUsed` says of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUsed {
    /// The key's owner.
    pub user: String,
    pub when: Option<Timestamp>,
    pub service: Option<String>,
    pub region: Option<String>,
}

/// A secret access key in memory: never shown (`Debug` masks it), wiped
/// when dropped, written nowhere but where the caller sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that needs it (a signature, a store).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", crate::detect::mask(&self.0))
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// A key `iam:CreateAccessKey` made: its ID and its secret, which AWS
/// shows this once.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub access_key_id: String,
    pub secret: Secret,
    pub created: Timestamp,
}

/// An account of an organisation, as `organizations:ListAccounts` lists
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE` …; `None` when not said.
    pub state: Option<String>,
}

/// How signing one request with a found pair came out.
#[derive(Debug)]
pub enum PairAnswer {
    /// A definite answer.
    Final(Result<VerifyResult, CallError>),
    /// Worth one more try later: throttling, a 5xx, a timeout.
    Transient(String),
}

/// AWS's quota of access keys per IAM user: a rotation needs a free slot.
pub const KEYS_PER_USER: usize = 2;

/// What keyward asks of AWS, one call per method. Paginated calls read
/// every page. Implementations count each request sent.
///
/// keyward's own implementation is the AWS SDK's (`iam::aws::Aws`, with the
/// `aws` feature); the tests use an in-memory account (`iam::fake::FakeIam`,
/// which records every call). A rotation's first steps, through the trait:
///
/// ```
/// use keyward::iam::fake::FakeIam;
/// use keyward::{IamApi, KeyStatus};
///
/// let created: jiff::Timestamp = "2026-01-10T09:00:00Z".parse()?;
/// let now: jiff::Timestamp = "2026-12-01T00:00:00Z".parse()?;
/// let account = FakeIam::new("123456789012", now);
/// account.user("ci").key(
///     "ci",
///     "AKIARZPUZDIKEQTRV6SW",
///     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
///     KeyStatus::Active,
///     created,
///     None,
/// );
///
/// let iam: &dyn IamApi = &account;
/// let fresh = iam.create_access_key("ci")?;
/// iam.update_access_key("ci", "AKIARZPUZDIKEQTRV6SW", KeyStatus::Inactive)?;
/// let keys = iam.list_access_keys("ci")?;
/// assert_eq!(keys.len(), 2);
/// assert!(keys.iter().any(|k| k.access_key_id == fresh.access_key_id
///     && k.status == KeyStatus::Active));
/// assert!(keys.iter().any(|k| k.access_key_id == "AKIARZPUZDIKEQTRV6SW"
///     && k.status == KeyStatus::Inactive));
/// // Three requests: one create, one update, one page of keys.
/// assert_eq!(iam.calls(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait IamApi: Send + Sync {
    /// Where the calls go, for messages.
    fn endpoint(&self) -> String;

    /// Requests sent so far (each page of a paginated call counts).
    fn calls(&self) -> u64;

    /// Checks the credentials and names their account
    /// (`sts:GetCallerIdentity`).
    fn caller_account(&self) -> Result<String, IamError>;

    /// `iam:ListUsers`, every page: the account's user names.
    fn list_users(&self) -> Result<Vec<String>, CallError>;

    /// `iam:ListAccessKeys` for one user, every page.
    fn list_access_keys(&self, user: &str) -> Result<Vec<UserKey>, CallError>;

    /// `iam:GetAccessKeyLastUsed`.
    fn last_used(&self, key_id: &str) -> Result<LastUsed, CallError>;

    /// `iam:ListAttachedUserPolicies`, every page: the policies' ARNs.
    fn attached_policies(&self, user: &str) -> Result<Vec<String>, CallError>;

    /// What the user may do of the actions keyward asks about (the
    /// privilege-escalation and data-access actions DESIGN.md lists): AWS's policy
    /// simulator, or the policies read and evaluated where it is refused.
    fn blast_radius(&self, user: &str) -> Result<Blast, CallError>;

    /// Signs `sts:GetCallerIdentity` with a key and its secret (and a
    /// session token for temporary credentials).
    fn verify_pair(&self, key_id: &str, secret: &Secret, token: Option<&str>) -> PairAnswer;

    /// `organizations:ListAccounts`, every page.
    fn organization_accounts(&self) -> Result<Vec<OrgAccount>, IamError>;

    /// The same API in another account, through `sts:AssumeRole` of
    /// `role` there.
    fn assume_role(&self, account: &str, role: &str) -> Result<Box<dyn IamApi>, CallError>;

    /// `iam:CreateAccessKey`: a new key for the user (AWS allows two).
    fn create_access_key(&self, user: &str) -> Result<NewKey, CallError>;

    /// `iam:UpdateAccessKey`: Active or Inactive.
    fn update_access_key(
        &self,
        user: &str,
        key_id: &str,
        status: KeyStatus,
    ) -> Result<(), CallError>;

    /// `iam:DeleteAccessKey`.
    fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), CallError>;
}

/// Which service keeps a rotated key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StoreKind {
    /// A Secrets Manager secret.
    SecretsManager,
    /// An SSM Parameter Store SecureString.
    Ssm,
}

impl StoreKind {
    /// The prefix of `--store` (`secretsmanager:`, `ssm:`).
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretsManager => "secretsmanager",
            StoreKind::Ssm => "ssm",
        }
    }
}

/// Where a rotation keeps a new key: a Secrets Manager secret or an SSM
/// SecureString parameter, each holding the JSON object
/// `{"AWS_ACCESS_KEY_ID": …, "AWS_SECRET_ACCESS_KEY": …}`. The only place a
/// new secret is ever written.
pub trait SecretStore: Send + Sync {
    /// Which service it is.
    fn kind(&self) -> StoreKind;

    /// Writes the pair under `name` (a new secret, or a new version).
    fn put(&self, name: &str, key_id: &str, secret: &Secret) -> Result<(), CallError>;

    /// The pair `name` holds, `None` when there is no such secret.
    fn get(&self, name: &str) -> Result<Option<(String, Secret)>, CallError>;
}

/// The JSON a store holds for a pair, and back.
#[cfg(any(feature = "aws", feature = "internals", test))]
pub fn pair_json(key_id: &str, secret: &Secret) -> Secret {
    Secret::new(
        serde_json::json!({
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret.expose(),
        })
        .to_string(),
    )
}

/// The pair in a store's JSON, if it is one.
#[cfg(any(feature = "aws", feature = "internals", test))]
pub fn pair_of(json: &str) -> Option<(String, Secret)> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some((
        v.get("AWS_ACCESS_KEY_ID")?.as_str()?.to_string(),
        Secret::new(v.get("AWS_SECRET_ACCESS_KEY")?.as_str()?),
    ))
}

/// An [`IamApi`] chosen by the caller (`SourceChoice::Api`): compared by
/// identity, shown by endpoint.
#[derive(Clone)]
pub struct ApiHandle(
    /// The client.
    pub Arc<dyn IamApi>,
);

impl PartialEq for ApiHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ApiHandle {}

impl std::fmt::Debug for ApiHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiHandle({})", self.0.endpoint())
    }
}

/// Runs `call` over `items` on at most `concurrency` threads and hands each
/// answer to `each` on the calling thread, as it comes. An `Err` from
/// `each` stops the rest: no new call starts (those in flight finish) and
/// the error is returned.
pub fn bounded<T, R>(
    items: Vec<T>,
    concurrency: usize,
    call: impl Fn(T) -> R + Sync,
    mut each: impl FnMut(R) -> Result<(), IamError>,
) -> Result<(), IamError>
where
    T: Send,
    R: Send,
{
    if items.is_empty() {
        return Ok(());
    }
    let workers = concurrency.clamp(1, items.len());
    let stop = AtomicBool::new(false);
    let (todo_tx, todo_rx) = crossbeam_channel::unbounded::<T>();
    for item in items {
        // The receiver lives until the scope ends.
        let _ = todo_tx.send(item);
    }
    drop(todo_tx);
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<R>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let todo = todo_rx.clone();
            let done = done_tx.clone();
            let call = &call;
            let stop = &stop;
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(item) = todo.recv() else { break };
                    if done.send(call(item)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut result = Ok(());
        for r in done_rx.iter() {
            if result.is_ok()
                && let Err(e) = each(r)
            {
                stop.store(true, Ordering::Relaxed);
                result = Err(e);
            }
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_hands_every_answer_over_and_stops_on_an_error() {
        let mut seen = Vec::new();
        bounded(
            (0..100).collect(),
            4,
            |i| i * 2,
            |r| {
                seen.push(r);
                Ok(())
            },
        )
        .expect("no error");
        seen.sort_unstable();
        assert_eq!(seen, (0..100).map(|i| i * 2).collect::<Vec<_>>());
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let r = bounded(
            (0..10_000).collect::<Vec<u32>>(),
            2,
            |i| {
                calls.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(1));
                i
            },
            |_| Err(IamError::Runtime("stop".into())),
        );
        assert!(r.is_err());
        // Only the calls in flight when the error came finish.
        assert!(calls.load(Ordering::Relaxed) < 100, "{calls:?}");
    }

    #[test]
    fn a_secret_is_not_shown() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_eq!(format!("{s:?}"), "Secret(wJal…EKEY)");
    }
}
