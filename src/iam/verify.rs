//! `--verify-pairs`: signs `sts:GetCallerIdentity` with each found key and
//! secret. Opt-in, because it uses the secret: the secret goes nowhere but
//! the STS endpoint the SDK resolves, and only as a signing key.

use std::collections::HashMap;

use aws_sdk_sts::config::Credentials;

use super::live::{Aws, error_code};
use super::{Pair, PairId, Verdicts, VerifyResult, pair_id};

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
    let outcome = aws.block_on(aws.bounded(
        items,
        |(id, pair)| {
            aws.count_call();
            // Each pair signs with its own static credentials; retries stay
            // the SDK's, which never repeat a rejected signature.
            let conf = aws_sdk_sts::config::Builder::from(&aws.config)
                .credentials_provider(Credentials::new(
                    pair.key_id.clone(),
                    pair.secret.clone(),
                    pair.token.clone(),
                    None,
                    "keyward-verify-pairs",
                ))
                .build();
            let sts = aws_sdk_sts::Client::from_conf(conf);
            let key = pair.key_id.clone();
            async move {
                let r = sts.get_caller_identity().send().await;
                let verdict = match &r {
                    Ok(_) => Ok(VerifyResult::Match),
                    Err(e) => match error_code(e).as_deref() {
                        Some("SignatureDoesNotMatch") => Ok(VerifyResult::Mismatch),
                        Some("InvalidClientTokenId") => Ok(VerifyResult::UnknownKey),
                        Some(code) => Err(code.to_string()),
                        None => Err(aws_sdk_sts::error::DisplayErrorContext(e).to_string()),
                    },
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
