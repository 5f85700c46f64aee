//! IAM, STS and Organizations through the AWS SDK and the standard
//! credential chain (environment, profiles, SSO, process credentials, IMDS),
//! honouring `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_IAM`,
//! `AWS_ENDPOINT_URL_STS`, `AWS_REGION` and `AWS_PROFILE` the way the SDK
//! does: the [`IamApi`] keyward uses, split by job (`keys`, `policies`,
//! `sts`, `org`).
//!
//! The async runtime lives inside each call, so callers stay synchronous.

mod keys;
mod org;
mod policies;
mod store;
mod sts;

pub use store::{SecretsManager, Ssm};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, SdkConfig, meta::region::RegionProviderChain};
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::ProvideCredentials;
use jiff::Timestamp;

use super::api::{CallError, IamApi, LastUsed, NewKey, OrgAccount, PairAnswer, Secret};
use super::blast::Blast;
use super::{IamError, KeyStatus, UserKey};

/// The shared machinery of live calls: a runtime, the SDK configuration and
/// a count of the requests made.
pub struct Aws {
    rt: tokio::runtime::Runtime,
    pub(crate) config: SdkConfig,
    /// The IAM client, built once.
    iam: aws_sdk_iam::Client,
    calls: Arc<AtomicU64>,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aws")
            .field("endpoint", &self.endpoint())
            .finish()
    }
}

impl Aws {
    /// Loads the SDK configuration. Credentials are resolved later, on first
    /// use, since pair verification does not need any of its own.
    pub fn connect() -> Result<Aws, IamError> {
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
        Ok(Aws::with_runtime(rt, config))
    }

    /// With a configuration built by the caller instead of the environment.
    pub fn from_config(config: SdkConfig) -> Result<Aws, IamError> {
        let rt = runtime()?;
        Ok(Aws::with_runtime(rt, config))
    }

    fn with_runtime(rt: tokio::runtime::Runtime, config: SdkConfig) -> Aws {
        Aws {
            rt,
            iam: aws_sdk_iam::Client::new(&config),
            config,
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

    async fn account_of_caller(&self) -> Result<String, IamError> {
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
                    CallError::Fatal(f) => f,
                    CallError::NotFound(m) | CallError::Other(m) => IamError::Service {
                        action: "sts:GetCallerIdentity".into(),
                        message: m,
                    },
                },
            ),
        }
    }

    /// Credentials, then the account they belong to.
    async fn start(&self) -> Result<String, IamError> {
        self.check_credentials().await?;
        self.account_of_caller().await
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

pub(crate) fn classify<E>(action: &str, e: &SdkError<E>, endpoint: &str) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            return CallError::Fatal(IamError::Network {
                action: action.into(),
                endpoint: endpoint.into(),
                message: error_chain(e),
            });
        }
        SdkError::ConstructionFailure(_) => {
            return CallError::Fatal(IamError::Service {
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
    let fatal = CallError::Fatal;
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
        "NoSuchEntity" => CallError::NotFound(message),
        "" => CallError::Other(message),
        _ => CallError::Other(format!("{code}: {message}")),
    }
}

/// AWS's error codes for "slow down", across services.
pub(crate) fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException"
    )
}

pub(crate) fn timestamp(dt: &aws_sdk_iam::primitives::DateTime) -> Option<Timestamp> {
    Timestamp::from_second(dt.secs()).ok()
}

/// Paginated calls count a request per page; the paginator's last `None`
/// was never sent.
pub(crate) fn page_sent(calls: &AtomicU64, more: bool) {
    if more {
        calls.fetch_add(1, Ordering::Relaxed);
    }
}

impl IamApi for Aws {
    fn endpoint(&self) -> String {
        Aws::endpoint(self)
    }

    fn calls(&self) -> u64 {
        Aws::calls(self)
    }

    fn caller_account(&self) -> Result<String, IamError> {
        self.block_on(self.start())
    }

    fn list_users(&self) -> Result<Vec<String>, CallError> {
        self.block_on(keys::list_users(self))
    }

    fn list_access_keys(&self, user: &str) -> Result<Vec<UserKey>, CallError> {
        self.block_on(keys::list_access_keys(self, user))
    }

    fn last_used(&self, key_id: &str) -> Result<LastUsed, CallError> {
        self.block_on(keys::last_used(self, key_id))
    }

    fn attached_policies(&self, user: &str) -> Result<Vec<String>, CallError> {
        self.block_on(policies::attached(self, user))
    }

    fn blast_radius(&self, user: &str) -> Result<Blast, CallError> {
        self.block_on(policies::blast_radius(self, user))
            .map_err(CallError::Other)
    }

    fn verify_pair(&self, key_id: &str, secret: &Secret, token: Option<&str>) -> PairAnswer {
        self.block_on(sts::verify_pair(self, key_id, secret, token))
    }

    fn organization_accounts(&self) -> Result<Vec<OrgAccount>, IamError> {
        self.block_on(org::accounts(self))
    }

    fn assume_role(&self, account: &str, role: &str) -> Result<Box<dyn IamApi>, CallError> {
        let config = self
            .block_on(sts::assume_role(self, account, role))
            .map_err(CallError::Other)?;
        let aws = Aws::from_config(config)
            .map_err(|e| CallError::Other(e.to_string()))?
            .counting_into(self.call_counter());
        Ok(Box::new(aws))
    }

    fn create_access_key(&self, user: &str) -> Result<NewKey, CallError> {
        self.block_on(keys::create(self, user))
    }

    fn update_access_key(
        &self,
        user: &str,
        key_id: &str,
        status: KeyStatus,
    ) -> Result<(), CallError> {
        self.block_on(keys::update(self, user, key_id, status))
    }

    fn delete_access_key(&self, user: &str, key_id: &str) -> Result<(), CallError> {
        self.block_on(keys::delete(self, user, key_id))
    }
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
