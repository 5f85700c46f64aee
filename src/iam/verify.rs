//! `--verify-pairs`: signs `sts:GetCallerIdentity` with each found key and
//! secret. Opt-in, because it uses the secret: the secret goes nowhere but
//! the STS endpoint the SDK resolves, and only as a signing key.
//!
//! Each distinct pair is judged once per run. A definite answer (it works,
//! `SignatureDoesNotMatch`, `InvalidClientTokenId`, any other AWS error code)
//! is never asked again. A transient failure (throttling, a 5xx, a timeout)
//! is retried once, and never sooner than [`RETRY_AFTER`] after the failure:
//! AWS remembers a failed signature for a few seconds, so an earlier retry
//! would only be told the same thing.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_sts::config::Credentials;
use aws_sdk_sts::error::SdkError;

use super::live::{Aws, error_code, is_throttling};
use super::{Pair, PairId, Verdicts, VerifyResult, pair_id};

/// The least time between a failed attempt and the retry of the same pair.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Attempts per pair, the first included.
const ATTEMPTS: u32 = 2;

/// How one signed request came out.
enum Attempt {
    Final(Result<VerifyResult, String>),
    Transient(String),
}

/// The verdict for each distinct pair, keyed by key ID and a hash of the
/// secret, with a warning for each pair that could not be judged.
pub fn verify_pairs(aws: &Aws, pairs: &[Pair]) -> (Verdicts, Vec<String>) {
    let mut distinct: HashMap<PairId, Pair> = HashMap::new();
    for p in pairs {
        distinct
            .entry(pair_id(&p.key_id, &p.secret))
            .or_insert_with(|| p.clone());
    }
    let mut results = HashMap::new();
    let mut warnings = Vec::new();
    let items: Vec<_> = distinct.into_iter().collect();
    let calls = aws.call_counter();
    let outcome = aws.block_on(aws.bounded(
        items,
        |(id, pair)| {
            // Each pair signs with its own static credentials. The SDK's own
            // retries are off: they would come back within a second or two.
            let conf = aws_sdk_sts::config::Builder::from(&aws.config)
                .credentials_provider(Credentials::new(
                    pair.key_id.clone(),
                    pair.secret.clone(),
                    pair.token.clone(),
                    None,
                    "keyward-verify-pairs",
                ))
                .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
                .build();
            let sts = aws_sdk_sts::Client::from_conf(conf);
            let key = pair.key_id.clone();
            let calls = calls.clone();
            async move {
                let mut attempt = 1;
                let verdict = loop {
                    calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    match judge(&sts.get_caller_identity().send().await) {
                        Attempt::Final(v) => break v,
                        Attempt::Transient(why) if attempt >= ATTEMPTS => {
                            break Err(format!("{why} (tried {ATTEMPTS} times)"));
                        }
                        Attempt::Transient(_) => {
                            tokio::time::sleep(RETRY_AFTER).await;
                            attempt += 1;
                        }
                    }
                };
                (id, key, verdict)
            }
        },
        |(id, key, verdict)| {
            match verdict {
                Ok(v) => {
                    results.insert(id, v);
                }
                Err(why) => {
                    warnings.push(format!(
                        "could not verify the pair of {key} with sts:GetCallerIdentity: {why}"
                    ));
                    results.insert(id, VerifyResult::Error);
                }
            }
            Ok(())
        },
    ));
    // `each` never fails, so neither does the run; a failed join would have
    // been the runtime's doing.
    if let Err(e) = outcome {
        warnings.push(format!("pair verification stopped: {e}"));
    }
    warnings.sort();
    (results, warnings)
}

fn judge<O, E>(r: &Result<O, SdkError<E>>) -> Attempt
where
    E: aws_sdk_sts::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let e = match r {
        Ok(_) => return Attempt::Final(Ok(VerifyResult::Match)),
        Err(e) => e,
    };
    let describe = || super::live::error_chain(e);
    if matches!(e, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)) {
        return Attempt::Transient(describe());
    }
    let status = e.raw_response().map(|r| r.status().as_u16());
    match error_code(e).as_deref() {
        Some("SignatureDoesNotMatch") => Attempt::Final(Ok(VerifyResult::Mismatch)),
        Some("InvalidClientTokenId") => Attempt::Final(Ok(VerifyResult::UnknownKey)),
        Some(code)
            if is_throttling(code) || matches!(code, "ServiceUnavailable" | "InternalFailure") =>
        {
            Attempt::Transient(code.to_string())
        }
        Some(code) => Attempt::Final(Err(code.to_string())),
        None => match status {
            Some(s) if s == 429 || s >= 500 => Attempt::Transient(format!("HTTP {s}")),
            Some(s) => Attempt::Final(Err(format!("HTTP {s} without an AWS error"))),
            None => Attempt::Final(Err(describe())),
        },
    }
}
