//! STS: a found pair signs `sts:GetCallerIdentity` (`--verify-pairs`, and
//! a rotation's check of the new key), and roles are assumed in other
//! accounts (`inventory pull --accounts`).

use aws_config::SdkConfig;
use aws_sdk_sts::config::Credentials;
use aws_sdk_sts::error::SdkError;

use super::{Aws, describe, error_chain, error_code, is_throttling};
use crate::iam::VerifyResult;
use crate::iam::api::CallError;
use crate::iam::api::{PairAnswer, Secret};

/// Signs one request with the pair's own static credentials. The SDK's
/// retries are off: a failed signature is remembered by AWS for a few
/// seconds, so its quick retries would only be told the same thing.
pub(super) async fn verify_pair(
    aws: &Aws,
    key_id: &str,
    secret: &Secret,
    token: Option<&str>,
) -> PairAnswer {
    let conf = aws_sdk_sts::config::Builder::from(&aws.config)
        .credentials_provider(Credentials::new(
            key_id.to_string(),
            secret.expose().to_string(),
            token.map(str::to_string),
            None,
            "keyward-verify-pairs",
        ))
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    let sts = aws_sdk_sts::Client::from_conf(conf);
    aws.count_call();
    judge(&sts.get_caller_identity().send().await)
}

fn judge<O, E>(r: &Result<O, SdkError<E>>) -> PairAnswer
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let e = match r {
        Ok(_) => return PairAnswer::Final(Ok(VerifyResult::Match)),
        Err(e) => e,
    };
    if matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)) {
        return PairAnswer::Transient(error_chain(e));
    }
    let status = e.raw_response().map(|r| r.status().as_u16());
    match error_code(e).as_deref() {
        Some("SignatureDoesNotMatch") => PairAnswer::Final(Ok(VerifyResult::Mismatch)),
        Some("InvalidClientTokenId") => PairAnswer::Final(Ok(VerifyResult::UnknownKey)),
        Some(code)
            if is_throttling(code) || matches!(code, "ServiceUnavailable" | "InternalFailure") =>
        {
            PairAnswer::Transient(code.to_string())
        }
        Some(code) => PairAnswer::Final(Err(CallError::Other(code.to_string()))),
        None => match status {
            Some(s) if s == 429 || s >= 500 => PairAnswer::Transient(format!("HTTP {s}")),
            Some(s) => PairAnswer::Final(Err(CallError::Other(format!(
                "HTTP {s} without an AWS error"
            )))),
            None => PairAnswer::Final(Err(CallError::Other(error_chain(e)))),
        },
    }
}

/// The SDK configuration of `role` in `account`, through `sts:AssumeRole`
/// with the caller's credentials. `Err` says why, for a warning.
pub(super) async fn assume_role(aws: &Aws, account: &str, role: &str) -> Result<SdkConfig, String> {
    let arn = format!("arn:aws:iam::{account}:role/{role}");
    let sts = aws_sdk_sts::Client::new(&aws.config);
    aws.count_call();
    let out = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("keyward-inventory")
        .send()
        .await
        .map_err(|e| format!("cannot assume {arn}: {}", describe(&e)))?;
    let c = out
        .credentials()
        .ok_or_else(|| format!("sts:AssumeRole for {arn} returned no credentials"))?;
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "keyward-assume-role",
    );
    Ok(aws
        .config
        .to_builder()
        .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(creds))
        .build())
}
