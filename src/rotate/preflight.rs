//! Before anything changes: may the credentials do what the rotation will
//! do? Each write is tried in a form that changes nothing (a key set to
//! the status it has, a key that does not exist deleted, a key created
//! for a user at AWS's limit), and the store is read. What is refused is
//! named, and the run stops with nothing changed.

use std::collections::BTreeSet;

use super::{RotateError, Rotation, Target, UserState};
use crate::iam::api::CallError;
use crate::iam::{IamError, UserKey};

/// AWS's documentation key: no account holds it, so deleting it can only
/// answer `NoSuchEntity` (allowed) or `AccessDenied`.
const NO_SUCH_KEY: &str = "AKIAIOSFODNN7EXAMPLE";

#[derive(Debug, Default)]
pub(super) struct Check {
    pub missing: BTreeSet<String>,
    pub detail: Vec<String>,
}

impl Check {
    /// Notes a refusal; other answers mean the call was allowed.
    fn note(&mut self, user: &str, result: Result<(), CallError>) -> Result<(), RotateError> {
        match result {
            Ok(()) | Err(CallError::NotFound(_) | CallError::Other(_)) => Ok(()),
            Err(CallError::Fatal(IamError::AccessDenied { action, message })) => {
                self.detail.push(format!(
                    "{action} for `{user}`: {}",
                    crate::detect::masked_for_errors(&message)
                ));
                self.missing.insert(action);
                Ok(())
            }
            Err(CallError::Fatal(e)) => Err(RotateError::Iam(e)),
        }
    }
}

pub(super) fn probe(
    rotation: &Rotation<'_>,
    target: &Target,
    state: &UserState,
    keys: &[UserKey],
    check: &mut Check,
) -> Result<(), RotateError> {
    if state.done() {
        return Ok(());
    }
    let user = target.user.as_str();
    let name = rotation.options.store.name(&target.account, user);
    if rotation.options.store.check(&name).is_ok() {
        check.note(user, rotation.store.get(&name).map(|_| ()))?;
    }
    let exposed = |k: &&UserKey| state.exposed.contains(&k.access_key_id);
    if let Some(k) = keys.iter().find(exposed) {
        check.note(
            user,
            rotation
                .api
                .update_access_key(user, &k.access_key_id, k.status),
        )?;
    }
    check.note(user, rotation.api.delete_access_key(user, NO_SUCH_KEY))?;
    let replacement = state.new_key.is_some()
        || state.keep.is_some()
        || keys
            .iter()
            .any(|k| k.status == crate::iam::KeyStatus::Active && !exposed(&k));
    if !replacement && keys.len() >= crate::iam::api::KEYS_PER_USER {
        match rotation.api.create_access_key(user) {
            // Allowed, and at the limit, as expected: nothing was made.
            Err(CallError::Other(m)) if m.starts_with("LimitExceeded") => {}
            Err(e) => check.note(user, Err(e))?,
            // Not at the limit after all: the key is ours, and nobody
            // holds its secret.
            Ok(made) => {
                check.note(
                    user,
                    rotation.api.delete_access_key(user, &made.access_key_id),
                )?;
            }
        }
    }
    Ok(())
}
