//! Live IAM through the AWS SDK and the standard credential chain
//! (environment, profiles, SSO, process credentials, IMDS), honouring
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS`,
//! `AWS_REGION` and `AWS_PROFILE` the way the SDK does.
//!
//! The async runtime lives inside these calls, so callers stay synchronous.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, SdkConfig, meta::region::RegionProviderChain};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::ProvideCredentials;
use jiff::Timestamp;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::cache::{Cache, CacheOptions, Entry as CacheEntry};
use super::inventory::Inventory;
use super::{IamError, IamSource, KeyRecord, Lookup, UserKey, UserRef};
use crate::detect::key_id;

/// Up to this many in-scope keys are asked about one by one; above it the
/// account is enumerated, which costs about one call per user instead.
pub const PER_KEY_MAX: usize = 50;

/// The shared machinery of live calls: a runtime, the SDK configuration and
/// a count of the requests made.
pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub(crate) config: SdkConfig,
    concurrency: usize,
    calls: Arc<AtomicU64>,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aws")
            .field("endpoint", &self.endpoint())
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl Aws {
    /// Loads the SDK configuration. Credentials are resolved later, on first
    /// use, since pair verification does not need any of its own.
    pub fn connect(concurrency: usize) -> Result<Aws, IamError> {
        let rt = runtime()?;
        // IAM and STS answer in us-east-1 whatever the region; without a
        // configured one the SDK would refuse to build a request.
        let region = RegionProviderChain::default_provider().or_else("us-east-1");
        let config = rt.block_on(
            aws_config::defaults(BehaviorVersion::latest())
                .region(region)
                .timeout_config(timeouts())
                .load(),
        );
        Ok(Aws::with_runtime(rt, config, concurrency))
    }

    /// With a configuration built by the caller instead of the environment.
    pub fn from_config(config: SdkConfig, concurrency: usize) -> Result<Aws, IamError> {
        let rt = runtime()?;
        Ok(Aws::with_runtime(rt, config, concurrency))
    }

    fn with_runtime(rt: tokio::runtime::Runtime, config: SdkConfig, concurrency: usize) -> Aws {
        Aws {
            rt,
            config,
            concurrency: concurrency.max(1),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts requests into `counter` (a progress display reads it).
    pub fn counting_into(mut self, counter: Arc<AtomicU64>) -> Self {
        self.calls = counter;
        self
    }

    /// Requests sent so far (each page of a paginated call counts).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub(crate) fn call_counter(&self) -> Arc<AtomicU64> {
        self.calls.clone()
    }

    pub(crate) fn count_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn endpoint(&self) -> String {
        self.config
            .endpoint_url()
            .map_or_else(|| "the default AWS endpoint".to_string(), str::to_string)
    }

    async fn check_credentials(&self) -> Result<(), IamError> {
        if let Some(problem) = profile_problem(&|name: &str| std::env::var(name)) {
            return Err(IamError::NoCredentials(problem));
        }
        let Some(provider) = self.config.credentials_provider() else {
            return Err(IamError::NoCredentials(
                "no credential source is configured".into(),
            ));
        };
        provider
            .provide_credentials()
            .await
            .map(|_| ())
            .map_err(|e| IamError::NoCredentials(credentials_hint(&error_chain(&e))))
    }

    async fn caller_account(&self) -> Result<String, IamError> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        self.count_call();
        let out = sts.get_caller_identity().send().await;
        match out {
            Ok(o) => o
                .account()
                .map(str::to_string)
                .ok_or_else(|| IamError::Service {
                    action: "sts:GetCallerIdentity".into(),
                    message: "the answer names no account".into(),
                }),
            Err(e) => Err(
                match classify("sts:GetCallerIdentity", &e, &self.endpoint()) {
                    Failure::Fatal(f) => f,
                    Failure::NotFound(m) | Failure::Other(m) => IamError::Service {
                        action: "sts:GetCallerIdentity".into(),
                        message: m,
                    },
                },
            ),
        }
    }

    /// Credentials, then the account they belong to.
    /// The account the caller's credentials belong to.
    pub(crate) fn caller(&self) -> Result<String, IamError> {
        self.block_on(self.start())
    }

    async fn start(&self) -> Result<String, IamError> {
        self.check_credentials().await?;
        self.caller_account().await
    }

    /// Runs `f` over `items` with at most `concurrency` in flight and hands
    /// each result to `each` as it comes; an `Err` from `each` stops the
    /// rest (dropping the set cancels them).
    pub(crate) async fn bounded<T, R, Fut>(
        &self,
        items: Vec<T>,
        f: impl Fn(T) -> Fut,
        mut each: impl FnMut(R) -> Result<(), IamError>,
    ) -> Result<(), IamError>
    where
        Fut: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut set = JoinSet::new();
        for item in items {
            let permits = permits.clone();
            let fut = f(item);
            set.spawn(async move {
                // The semaphore is never closed, so this cannot fail.
                let _permit = permits.acquire_owned().await;
                fut.await
            });
        }
        while let Some(joined) = set.join_next().await {
            let r = joined.map_err(|e| IamError::Runtime(e.to_string()))?;
            each(r)?;
        }
        Ok(())
    }
}

/// The messages of an error and its sources, without the SDK's Debug dump
/// and without the repeats its provider layers add.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// What to do about a credential failure, after the SDK's reason.
fn credentials_hint(reason: &str) -> String {
    let hint = if reason.contains("SSO") || reason.contains("sso") {
        "the SSO session is missing or has expired: run `aws sso login` with the same profile"
    } else if reason.contains("no credentials found in chain") {
        return format!(
            "{}; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or scan offline with --inventory FILE",
            tried(reason)
        );
    } else {
        return reason.to_string();
    };
    format!("{reason}; {hint}")
}

/// The SDK's "no credentials found in chain. Attempted: …" list, one line
/// per provider, as one line: `tried environment (…), profile (…), …`.
fn tried(reason: &str) -> String {
    let Some((_, list)) = reason.split_once("Attempted:") else {
        return reason.to_string();
    };
    let mut parts = Vec::new();
    for line in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, detail) = line.split_once(':').unwrap_or((line, ""));
        let detail = detail
            .replace("the credential provider was not enabled", "")
            .trim_matches(|c: char| c == ':' || c.is_whitespace())
            .to_string();
        let name = match name {
            "Environment" => "environment",
            "Profile" => "profile files",
            "WebIdentityToken" => "web identity",
            "EcsContainer" => "ECS container",
            "Ec2InstanceMetadata" => "EC2 instance metadata",
            other => other,
        };
        parts.push(if detail.is_empty() {
            name.to_string()
        } else {
            format!("{name} ({detail})")
        });
    }
    format!("none found; tried {}", parts.join(", "))
}

/// `AWS_PROFILE` names a profile no config file has: the SDK would go on
/// down the chain and fail with an unrelated message (IMDS), so this is
/// said first, with the files read and the profiles they hold.
fn profile_problem(env: &dyn Fn(&str) -> Result<String, std::env::VarError>) -> Option<String> {
    let profile = env("AWS_PROFILE").ok().filter(|p| !p.trim().is_empty())?;
    let home = env("HOME").ok().filter(|h| !h.is_empty());
    let file = |var: &str, name: &str| -> Option<std::path::PathBuf> {
        env(var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| {
                home.as_ref()
                    .map(|h| std::path::Path::new(h).join(".aws").join(name))
            })
    };
    let config = file("AWS_CONFIG_FILE", "config");
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let mut found = std::collections::BTreeSet::new();
    let mut shown = Vec::new();
    for (path, is_config) in [(&config, true), (&credentials, false)] {
        let Some(path) = path else { continue };
        let text = crate::named_file::read_text(path, 16 * 1024 * 1024).ok();
        shown.push(format!(
            "{}{}",
            path.display(),
            if text.is_some() { "" } else { " (missing)" }
        ));
        for line in text.iter().flat_map(|t| t.lines()) {
            let Some(section) = line
                .trim()
                .strip_prefix('[')
                .and_then(|l| l.strip_suffix(']'))
            else {
                continue;
            };
            let section = section.trim();
            let name = if is_config {
                match section.strip_prefix("profile ") {
                    Some(n) => n.trim(),
                    None if section == "default" => "default",
                    None => continue,
                }
            } else {
                section
            };
            found.insert(name.to_string());
        }
    }
    if found.contains(profile.trim()) {
        return None;
    }
    let list = if found.is_empty() {
        "none".to_string()
    } else {
        found.into_iter().collect::<Vec<_>>().join(", ")
    };
    Some(format!(
        "the profile `{profile}` (AWS_PROFILE) is not in the AWS config files {}; profiles there: {list}",
        shown.join(" and ")
    ))
}

/// Seconds one IAM/STS request may take before it is given up
/// (`KEYWARD_IAM_TIMEOUT` overrides; default 30).
const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// The SDK sets no read or operation timeout by default: an endpoint that
/// accepts the connection and never answers would hang the scan forever.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    let secs = std::env::var("KEYWARD_IAM_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    let attempt = std::time::Duration::from_secs(secs);
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(attempt.min(std::time::Duration::from_secs(5)))
        .read_timeout(attempt)
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * 4)
        .build()
}

fn runtime() -> Result<tokio::runtime::Runtime, IamError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| IamError::Runtime(e.to_string()))
}

/// How one failed call affects the run.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Stops the run: credentials, permissions, network, throttling.
    Fatal(IamError),
    /// `NoSuchEntity`.
    NotFound(String),
    /// Only this item is affected.
    Other(String),
}

/// The error code of a failed call. moto answers
/// `<ErrorResponse><Errors><Error>…`, which the SDK's query parser does not
/// read (its code is `None`); real AWS answers `<ErrorResponse><Error>…`.
/// Both carry a `<Code>` element, so the raw body is the fallback.
pub(crate) fn error_code<E: ProvideErrorMetadata>(e: &SdkError<E>) -> Option<String> {
    e.code().map(str::to_string).or_else(|| {
        let body = e.raw_response()?.body().bytes()?;
        xml_element(&String::from_utf8_lossy(body), "Code")
    })
}

pub(crate) fn error_message<E: ProvideErrorMetadata>(e: &SdkError<E>) -> Option<String> {
    e.message().map(str::to_string).or_else(|| {
        let body = e.raw_response()?.body().bytes()?;
        xml_element(&String::from_utf8_lossy(body), "Message")
    })
}

/// A failed call in one line: `Code: message`, the message from the
/// error's sources when AWS gave none, no code when there is none.
pub(crate) fn describe<E>(e: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = error_message(e).unwrap_or_else(|| error_chain(e));
    match error_code(e) {
        Some(code) if !code.is_empty() => format!("{code}: {message}"),
        _ => message,
    }
}

/// The text of the first `<name>` element, trimmed.
pub(crate) fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&close)?;
    let text = body[start..start + len].trim();
    (!text.is_empty()).then(|| text.to_string())
}

pub(crate) fn classify<E>(action: &str, e: &SdkError<E>, endpoint: &str) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return Failure::Fatal(IamError::Network {
                action: action.into(),
                endpoint: endpoint.into(),
                message: error_chain(e),
            });
        }
        SdkError::ConstructionFailure(_) => {
            return Failure::Fatal(IamError::Service {
                action: action.into(),
                message: error_chain(e),
            });
        }
        _ => {}
    }
    let code = error_code(e).unwrap_or_default();
    let message = error_message(e).unwrap_or_else(|| {
        let status = e.raw_response().map(|r| r.status().as_u16());
        match status {
            Some(s) => format!("HTTP {s} without an AWS error"),
            None => error_chain(e),
        }
    });
    let fatal = |f: IamError| Failure::Fatal(f);
    match code.as_str() {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            fatal(IamError::AccessDenied {
                action: action.into(),
                message,
            })
        }
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidAccessKeyId"
        | "UnrecognizedClientException"
        | "IncompleteSignature" => fatal(IamError::BadCredentials {
            action: action.into(),
            code,
            message,
        }),
        c if is_throttling(c) => fatal(IamError::Throttled {
            action: action.into(),
            message,
        }),
        "NoSuchEntity" => Failure::NotFound(message),
        "" => Failure::Other(message),
        _ => Failure::Other(format!("{code}: {message}")),
    }
}

/// AWS's error codes for "slow down", across services.
pub(crate) fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException"
    )
}

fn timestamp(dt: &aws_sdk_iam::primitives::DateTime) -> Option<Timestamp> {
    Timestamp::from_second(dt.secs()).ok()
}

/// What `GetAccessKeyLastUsed` says about one key.
#[derive(Debug, Clone)]
struct LastUsed {
    user: String,
    when: Option<Timestamp>,
    service: Option<String>,
    region: Option<String>,
}

/// IAM of the account the scanning credentials belong to.
pub struct LiveSource<'a> {
    aws: &'a Aws,
    iam: aws_sdk_iam::Client,
    cache: Option<CacheOptions>,
    blast_radius: bool,
}

impl<'a> LiveSource<'a> {
    pub fn new(aws: &'a Aws) -> Self {
        LiveSource {
            aws,
            iam: aws_sdk_iam::Client::new(&aws.config),
            cache: None,
            blast_radius: false,
        }
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
        self.aws.block_on(async {
            let account = self.aws.start().await?;
            let (user_keys, last_used, failed) = self.enumerate(&account, None).await?;
            if let Some(k) = failed.first() {
                return Err(IamError::Service {
                    action: "iam:GetAccessKeyLastUsed".into(),
                    message: format!("key {k} could not be read"),
                });
            }
            let keys = records(&account, &user_keys, &last_used);
            let owners: Vec<String> = user_keys.keys().map(|u| u.name.clone()).collect();
            let (quarantine, checked, warnings) = self.quarantine(&account, owners).await?;
            let all_checked = checked.len() == user_keys.len();
            Ok(Inventory {
                generated_at: Timestamp::now(),
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
        })
    }

    async fn last_used(&self, keys: Vec<String>) -> Result<LastUsedAnswers, IamError> {
        let mut answers = LastUsedAnswers::default();
        let endpoint = self.aws.endpoint();
        let action = "iam:GetAccessKeyLastUsed";
        self.aws
            .bounded(
                keys,
                |key| {
                    let iam = self.iam.clone();
                    self.aws.count_call();
                    async move {
                        let r = iam
                            .get_access_key_last_used()
                            .access_key_id(&key)
                            .send()
                            .await;
                        (key, r)
                    }
                },
                |(key, r)| {
                    match r {
                        Ok(out) => {
                            let Some(user) = out.user_name() else {
                                answers.failed.insert(key.clone());
                                answers
                                    .warnings
                                    .push(format!("{action} for {key} named no user"));
                                return Ok(());
                            };
                            let used = out.access_key_last_used();
                            // AWS answers `N/A` for service and region of a
                            // key that was never used.
                            let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.into());
                            answers.found.insert(
                                key,
                                LastUsed {
                                    user: user.to_string(),
                                    when: used.and_then(|u| u.last_used_date()).and_then(timestamp),
                                    service: used.and_then(|u| known(u.service_name())),
                                    region: used.and_then(|u| known(u.region())),
                                },
                            );
                        }
                        Err(e) => match classify(action, &e, &endpoint) {
                            Failure::Fatal(f) => return Err(f),
                            Failure::NotFound(_) => {
                                answers.missing.insert(key);
                            }
                            Failure::Other(m) => {
                                answers.warnings.push(format!("{action} for {key}: {m}"));
                                answers.failed.insert(key);
                            }
                        },
                    }
                    Ok(())
                },
            )
            .await?;
        Ok(answers)
    }

    /// `ListAccessKeys` for each user, all pages.
    async fn list_keys(
        &self,
        account: &str,
        users: Vec<String>,
    ) -> Result<
        (
            BTreeMap<UserRef, Vec<UserKey>>,
            Vec<String>,
            BTreeSet<String>,
        ),
        IamError,
    > {
        let mut out = BTreeMap::new();
        let mut warnings = Vec::new();
        let mut failed_users = BTreeSet::new();
        let endpoint = self.aws.endpoint();
        let action = "iam:ListAccessKeys";
        let calls = self.aws.calls.clone();
        self.aws
            .bounded(
                users,
                |user| {
                    let iam = self.iam.clone();
                    let calls = calls.clone();
                    async move {
                        let mut pages = iam.list_access_keys().user_name(&user).into_paginator().send();
                        let mut keys = Vec::new();
                        loop {
                            calls.fetch_add(1, Ordering::Relaxed);
                            match pages.next().await {
                                None => {
                                    // The call that found no further page was
                                    // never sent.
                                    calls.fetch_sub(1, Ordering::Relaxed);
                                    break;
                                }
                                Some(Ok(page)) => keys.extend(page.access_key_metadata().to_vec()),
                                Some(Err(e)) => return (user, Err(e)),
                            }
                        }
                        (user, Ok(keys))
                    }
                },
                |(user, r)| {
                    match r {
                        Ok(meta) => {
                            let mut keys = Vec::new();
                            for m in meta {
                                let (Some(id), Some(status), Some(created)) = (
                                    m.access_key_id(),
                                    m.status(),
                                    m.create_date().and_then(timestamp),
                                ) else {
                                    warnings.push(format!(
                                        "{action} for {user} listed a key without ID, status or date"
                                    ));
                                    continue;
                                };
                                keys.push(UserKey {
                                    access_key_id: id.to_string(),
                                    status: super::KeyStatus::from_iam(status.as_str()),
                                    created,
                                });
                            }
                            out.insert(
                                UserRef {
                                    account: account.to_string(),
                                    name: user,
                                },
                                keys,
                            );
                        }
                        Err(e) => match classify(action, &e, &endpoint) {
                            Failure::Fatal(f) => return Err(f),
                            // The user went away between the calls.
                            Failure::NotFound(m) | Failure::Other(m) => {
                                warnings.push(format!("{action} for {user}: {m}"));
                                failed_users.insert(user);
                            }
                        },
                    }
                    Ok(())
                },
            )
            .await?;
        Ok((out, warnings, failed_users))
    }

    /// `ListAttachedUserPolicies` per user (all pages): the AWS quarantine
    /// policies attached to each, the users that could be checked, and
    /// warnings. A denied call is a warning, not a failure: the permission
    /// is new, and every other fact still holds.
    async fn quarantine(
        &self,
        account: &str,
        users: Vec<String>,
    ) -> Result<
        (
            BTreeMap<UserRef, Vec<String>>,
            BTreeSet<UserRef>,
            Vec<String>,
        ),
        IamError,
    > {
        let mut found = BTreeMap::new();
        let mut checked = BTreeSet::new();
        let mut warnings = Vec::new();
        let mut denied = false;
        let endpoint = self.aws.endpoint();
        let action = "iam:ListAttachedUserPolicies";
        let calls = self.aws.calls.clone();
        self.aws
            .bounded(
                users,
                |user| {
                    let iam = self.iam.clone();
                    let calls = calls.clone();
                    async move {
                        let mut pages = iam
                            .list_attached_user_policies()
                            .user_name(&user)
                            .into_paginator()
                            .send();
                        let mut arns = Vec::new();
                        loop {
                            calls.fetch_add(1, Ordering::Relaxed);
                            match pages.next().await {
                                None => {
                                    calls.fetch_sub(1, Ordering::Relaxed);
                                    break;
                                }
                                Some(Ok(page)) => arns.extend(
                                    page.attached_policies()
                                        .iter()
                                        .filter(|p| {
                                            p.policy_name().is_some_and(super::is_quarantine_policy)
                                                || p.policy_arn().is_some_and(super::is_quarantine_policy)
                                        })
                                        .map(|p| {
                                            p.policy_arn()
                                                .or(p.policy_name())
                                                .unwrap_or_default()
                                                .to_string()
                                        }),
                                ),
                                Some(Err(e)) => return (user, Err(e)),
                            }
                        }
                        (user, Ok(arns))
                    }
                },
                |(user, r)| {
                    let owner = UserRef {
                        account: account.to_string(),
                        name: user.clone(),
                    };
                    match r {
                        Ok(arns) => {
                            if !arns.is_empty() {
                                found.insert(owner.clone(), arns);
                            }
                            checked.insert(owner);
                        }
                        Err(e) => match classify(action, &e, &endpoint) {
                            Failure::Fatal(IamError::AccessDenied { .. }) => {
                                if !denied {
                                    denied = true;
                                    warnings.push(format!(
                                        "{action} was denied: whether AWS quarantined a key (KW013) is not known; allow {action} to check"
                                    ));
                                }
                            }
                            Failure::Fatal(f) => return Err(f),
                            Failure::NotFound(m) | Failure::Other(m) => {
                                warnings.push(format!("{action} for {user}: {m}"));
                            }
                        },
                    }
                    Ok(())
                },
            )
            .await?;
        Ok((found, checked, warnings))
    }

    /// `ListUsers` (all pages) → `ListAccessKeys` per user →
    /// `GetAccessKeyLastUsed` for the keys in `last_used_for` (all when
    /// `None`). Returns the users' keys, the last-use answers and the keys
    /// whose last use could not be read.
    async fn enumerate(
        &self,
        account: &str,
        last_used_for: Option<&BTreeSet<String>>,
    ) -> Result<
        (
            BTreeMap<UserRef, Vec<UserKey>>,
            LastUsedAnswers,
            Vec<String>,
        ),
        IamError,
    > {
        let endpoint = self.aws.endpoint();
        let mut users = Vec::new();
        let mut pages = self.iam.list_users().into_paginator().send();
        loop {
            self.aws.count_call();
            match pages.next().await {
                None => {
                    self.aws.calls.fetch_sub(1, Ordering::Relaxed);
                    break;
                }
                Some(Ok(page)) => {
                    users.extend(page.users().iter().map(|u| u.user_name().to_string()))
                }
                Some(Err(e)) => {
                    return Err(match classify("iam:ListUsers", &e, &endpoint) {
                        Failure::Fatal(f) => f,
                        Failure::NotFound(m) | Failure::Other(m) => IamError::Service {
                            action: "iam:ListUsers".into(),
                            message: m,
                        },
                    });
                }
            }
        }
        users.sort();
        users.dedup();
        let (user_keys, warnings, failed_users) = self.list_keys(account, users).await?;
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
        let mut answers = self.last_used(wanted).await?;
        answers.warnings.extend(warnings);
        let failed = answers.failed.iter().cloned().collect();
        Ok((user_keys, answers, failed))
    }

    async fn lookup_async(&self, key_ids: &BTreeSet<String>) -> Result<Lookup, IamError> {
        let account = self.aws.start().await?;
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
        let now = Timestamp::now();
        let mut cache = self.cache.as_ref().map(|o| {
            let (c, warning) = Cache::open(o, &account, &self.aws.endpoint());
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
            self.ask(&account, &ask, &mut lookup).await?;
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
            let owners: BTreeSet<String> = lookup
                .keys
                .values()
                .filter(|r| r.status == super::KeyStatus::Active)
                .map(|r| r.user.clone())
                .collect();
            let calls = self.aws.calls.clone();
            let mut found = BTreeMap::new();
            let mut warnings = Vec::new();
            self.aws
                .bounded(
                    owners.into_iter().collect(),
                    |user| {
                        let iam = self.iam.clone();
                        let calls = calls.clone();
                        async move {
                            let b = super::blast::of_user(iam, user.clone(), calls).await;
                            (user, b)
                        }
                    },
                    |(user, b)| {
                        match b {
                            Ok(b) => {
                                found.insert(
                                    UserRef {
                                        account: account.clone(),
                                        name: user,
                                    },
                                    b,
                                );
                            }
                            Err(w) => {
                                warnings.push(format!("blast radius of {user} not known: {w}"))
                            }
                        }
                        Ok(())
                    },
                )
                .await?;
            lookup.blast = found;
            lookup.warnings.extend(warnings);
        }
        lookup.warnings.sort();
        lookup.sort_user_keys();
        Ok(lookup)
    }

    /// Asks IAM about `in_scope`, one by one or by enumerating the account.
    async fn ask(
        &self,
        account: &str,
        in_scope: &BTreeSet<String>,
        lookup: &mut Lookup,
    ) -> Result<(), IamError> {
        let (user_keys, answers) = if in_scope.len() <= PER_KEY_MAX {
            let answers = self.last_used(in_scope.iter().cloned().collect()).await?;
            let users: BTreeSet<String> = answers.found.values().map(|l| l.user.clone()).collect();
            let (user_keys, warnings, failed_users) =
                self.list_keys(account, users.into_iter().collect()).await?;
            let mut answers = answers;
            answers.warnings.extend(warnings);
            for (k, l) in &answers.found {
                if failed_users.contains(&l.user) {
                    answers.failed.insert(k.clone());
                }
            }
            (user_keys, answers)
        } else {
            let (user_keys, answers, _) = self.enumerate(account, Some(in_scope)).await?;
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
        let (quarantine, checked, warnings) = self
            .quarantine(account, owners.into_iter().collect())
            .await?;
        lookup.quarantine = quarantine;
        lookup.quarantine_checked = checked;
        lookup.warnings.extend(warnings);
        lookup.user_keys = user_keys;
        Ok(())
    }
}

impl IamSource for LiveSource<'_> {
    fn lookup(&self, key_ids: &BTreeSet<String>) -> Result<Lookup, IamError> {
        self.aws.block_on(self.lookup_async(key_ids))
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

    #[test]
    fn a_profile_that_does_not_exist_is_named_with_what_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config");
        let creds = dir.path().join("credentials");
        std::fs::write(
            &config,
            "[default]\nregion = eu-west-1\n[profile prod]\nregion = x\n[sso-session s]\n",
        )
        .expect("write");
        std::fs::write(&creds, "[ci]\naws_access_key_id = x\n").expect("write");
        let env = |profile: &'static str| {
            let config = config.display().to_string();
            let creds = creds.display().to_string();
            move |name: &str| -> Result<String, std::env::VarError> {
                match name {
                    "AWS_PROFILE" => Ok(profile.to_string()),
                    "AWS_CONFIG_FILE" => Ok(config.clone()),
                    "AWS_SHARED_CREDENTIALS_FILE" => Ok(creds.clone()),
                    _ => Err(std::env::VarError::NotPresent),
                }
            }
        };
        let said = profile_problem(&env("nosuch")).expect("a problem");
        assert!(said.contains("`nosuch`"), "{said}");
        assert!(said.contains("profiles there: ci, default, prod"), "{said}");
        assert!(said.contains(&config.display().to_string()), "{said}");
        for ok in ["prod", "ci", "default"] {
            assert_eq!(profile_problem(&env(ok)), None, "{ok}");
        }
    }

    #[test]
    fn an_empty_chain_is_one_line() {
        let sdk = "the credential provider was not enabled: no credentials found in chain. Attempted:\n  Environment: the credential provider was not enabled: environment variable not set\n  Profile: the credential provider was not enabled\n  Ec2InstanceMetadata: the credential provider was not enabled: IMDS disabled";
        let said = credentials_hint(sdk);
        assert!(!said.contains('\n'), "{said}");
        assert!(
            said.starts_with("none found; tried environment (environment variable not set), profile files, EC2 instance metadata (IMDS disabled); set AWS_PROFILE"),
            "{said}"
        );
    }

    #[test]
    fn error_code_from_both_body_shapes() {
        let aws = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
            <Error><Type>Sender</Type><Code>AccessDenied</Code>\
            <Message>User: arn:aws:iam::123456789012:user/x is not authorized</Message></Error>\
            <RequestId>1</RequestId></ErrorResponse>";
        let moto = "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error>\
            <Code>SignatureDoesNotMatch</Code>\n<Message>The request signature we calculated does not match</Message>\
            </Error></Errors><RequestId>2</RequestId></ErrorResponse>";
        assert_eq!(xml_element(aws, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(
            xml_element(moto, "Code").as_deref(),
            Some("SignatureDoesNotMatch")
        );
        assert!(
            xml_element(moto, "Message")
                .expect("message")
                .starts_with("The request signature")
        );
        assert_eq!(xml_element("<html>403 Forbidden</html>", "Code"), None);
        assert_eq!(xml_element("<Code></Code>", "Code"), None);
    }
}
