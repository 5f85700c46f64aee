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

use super::api::{IamApi, PairAnswer, Secret, bounded};
use super::{Pair, PairId, Verdicts, VerifyResult, pair_id};

/// The least time between a failed attempt and the retry of the same pair.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Attempts per pair, the first included.
const ATTEMPTS: u32 = 2;

/// The verdict for each distinct pair, keyed by key ID and a hash of the
/// secret, with a warning for each pair that could not be judged.
pub fn verify_pairs(
    api: &dyn IamApi,
    pairs: &[Pair],
    concurrency: usize,
) -> (Verdicts, Vec<String>) {
    let mut distinct: HashMap<PairId, Pair> = HashMap::new();
    for p in pairs {
        distinct
            .entry(pair_id(&p.key_id, &p.secret))
            .or_insert_with(|| p.clone());
    }
    let mut results = HashMap::new();
    let mut warnings = Vec::new();
    let items: Vec<_> = distinct.into_iter().collect();
    let outcome = bounded(
        items,
        concurrency,
        |(id, pair)| {
            let secret = Secret::new(pair.secret.clone());
            let mut attempt = 1;
            let verdict = loop {
                match api.verify_pair(&pair.key_id, &secret, pair.token.as_deref()) {
                    PairAnswer::Final(v) => break v.map_err(|e| e.to_string()),
                    PairAnswer::Transient(why) if attempt >= ATTEMPTS => {
                        break Err(format!("{why} (tried {ATTEMPTS} times)"));
                    }
                    PairAnswer::Transient(_) => {
                        std::thread::sleep(RETRY_AFTER);
                        attempt += 1;
                    }
                }
            };
            (id, pair.key_id, verdict)
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
    );
    // `each` never fails, so neither does the run.
    if let Err(e) = outcome {
        warnings.push(format!("pair verification stopped: {e}"));
    }
    warnings.sort();
    (results, warnings)
}
