//! `keyward rotate`: carries a rotation plan out against IAM, one user at
//! a time, without the drift that causes `KeyPairMismatch` outages. For
//! each user with a key in the repository: make room under the two-key
//! limit, create the new key straight into the secret store (its secret
//! goes nowhere else), verify the stored pair with STS, point every place
//! at the store, deactivate the exposed keys, and delete them once nothing
//! used them after deactivation.
//!
//! Dry by default: the same steps are worked out and said, nothing is
//! written. Every completed step is journalled (no secrets), so a run cut
//! short resumes where it stopped and a finished rotation is not done
//! twice. Keys the repository does not hold are never touched; a key of
//! another account is refused; missing permissions stop the run before
//! anything changes.

pub mod journal;
mod preflight;
mod references;
mod store_spec;
mod user;

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use crate::iam::IamError;
use crate::iam::api::{IamApi, SecretStore};
pub use journal::{Journal, JournalError, UserState};
pub use references::{References, Repository};
pub use store_spec::StoreSpec;

/// How a rotation runs.
#[derive(Debug, Clone)]
pub struct RotateOptions {
    pub store: StoreSpec,
    /// Change IAM, the store and the repository; without it, only say what
    /// would be done.
    pub apply: bool,
    /// Delete the keys a rotation deactivated, when IAM shows no use of
    /// them since.
    pub finish: bool,
    /// Delete them on their own once deactivated this many days ago (and
    /// unused since).
    pub delete_after_days: Option<u32>,
    /// Where a user's two keys are both Active and in the repository:
    /// deactivate and delete the least recently used before its
    /// replacement exists.
    pub allow_disruption: bool,
    /// The clock (journal times, `--delete-after`); `None` is now.
    pub now: Option<Timestamp>,
    /// How long a new key may take to sign (IAM is eventually
    /// consistent: seconds, on AWS).
    pub verify_patience: Duration,
    /// Tests: stop as if killed after this many effects (a write to AWS,
    /// a journal record, the repository's rewrite).
    pub interrupt_after: Option<usize>,
}

impl Default for RotateOptions {
    fn default() -> Self {
        RotateOptions {
            store: StoreSpec::default(),
            apply: false,
            finish: false,
            delete_after_days: None,
            allow_disruption: false,
            now: None,
            verify_patience: Duration::from_secs(60),
            interrupt_after: None,
        }
    }
}

/// A user to rotate: the repository holds some of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub account: String,
    pub user: String,
    /// The user's keys the repository references.
    pub exposed: BTreeSet<String>,
    /// Why it goes first (quarantined by AWS, can make keys), if it does.
    pub urgent: Option<String>,
    /// AWS's quarantine policies attached to the user.
    pub quarantine: Vec<String>,
}

/// The users to rotate, in the plan's order (urgent first), then those a
/// journal holds a rotation in progress for that the repository no longer
/// shows (their places were rewritten by an earlier run).
pub fn targets(
    plan: &crate::plan::Plan,
    out: &crate::ScanOutput,
    journal: &Journal,
) -> Vec<Target> {
    let mut list: Vec<Target> = plan
        .users
        .iter()
        .map(|u| Target {
            account: u.account.clone(),
            user: u.user.clone(),
            exposed: u
                .keys
                .iter()
                .filter(|k| k.exposed)
                .map(|k| k.key_id.clone())
                .collect(),
            urgent: u.urgent.clone(),
            quarantine: out
                .iam_users
                .iter()
                .find(|i| i.account == u.account && i.name == u.user)
                .map(|i| i.quarantine.clone())
                .unwrap_or_default(),
        })
        .collect();
    for state in &journal.users {
        if state.done()
            || list
                .iter()
                .any(|t| t.account == state.account && t.user == state.user)
        {
            continue;
        }
        list.push(Target {
            account: state.account.clone(),
            user: state.user.clone(),
            exposed: state.exposed.iter().cloned().collect(),
            urgent: None,
            quarantine: Vec::new(),
        });
    }
    list
}

/// What a rotation says as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub account: String,
    pub user: String,
    pub kind: EventKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A user's rotation begins: what it holds and where the key goes.
    Begin,
    /// A step done (with `--apply`) or to be done (dry run).
    Step,
    /// Worth knowing; changes nothing.
    Note,
    /// A command the user runs (setup of what the rewritten places read).
    Command,
    /// The user's rotation cannot go on without a person: what to do.
    Stop,
}

/// How a user's rotation stands at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEnd {
    /// Every exposed key is deleted.
    Done,
    /// Deactivated; deleted by a later `--finish` (or `--delete-after`).
    Waiting(String),
    /// Cannot go on without a person: what to do, said plainly.
    Stopped(String),
    /// A dry run: the steps were said.
    Planned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOutcome {
    pub account: String,
    pub user: String,
    pub end: UserEnd,
}

/// The run's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub users: Vec<UserOutcome>,
    /// Users and keys of another account than the credentials', and keys
    /// no IAM user owns: never touched, each with why.
    pub refused: Vec<String>,
    /// Requests sent to AWS.
    pub calls: u64,
}

impl Outcome {
    /// Every user finished, waits for `--finish`, or was planned.
    pub fn complete(&self) -> bool {
        self.refused.is_empty()
            && self
                .users
                .iter()
                .all(|u| !matches!(u.end, UserEnd::Stopped(_)))
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RotateError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Iam(#[from] IamError),
    #[error(
        "the credentials may not {}: nothing was changed. Grant {} and run again{}",
        actions.iter().cloned().collect::<Vec<_>>().join(", "),
        if actions.len() == 1 { "it" } else { "them" },
        if detail.is_empty() { String::new() } else { format!(" ({})", detail.join("; ")) }
    )]
    Permissions {
        actions: BTreeSet<String>,
        detail: Vec<String>,
    },
    #[error("{user}: {action} failed: {message}")]
    Call {
        user: String,
        action: String,
        message: String,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(#[from] JournalError),
    #[error("interrupted (--interrupt-after): the journal holds where to resume")]
    Interrupted,
}

/// One rotation run: what it talks to and what it keeps.
pub struct Rotation<'a> {
    pub api: &'a dyn IamApi,
    pub store: &'a dyn SecretStore,
    pub references: &'a mut dyn References,
    pub journal: &'a mut Journal,
    pub options: &'a RotateOptions,
}

impl Rotation<'_> {
    /// Rotates every target of the credentials' account, in order; the
    /// others are refused, with their account named. `say` hears every
    /// event as it happens.
    pub fn run(
        &mut self,
        targets: &[Target],
        ownerless: &[crate::plan::OwnerlessKey],
        say: &mut dyn FnMut(&Event),
    ) -> Result<Outcome, RotateError> {
        let caller = self.api.caller_account()?;
        let mut outcome = Outcome::default();
        // A key an earlier run of the rotation deleted is IAM's no more; its
        // places are its user's to rewrite.
        let journalled: BTreeSet<&str> = self
            .journal
            .users
            .iter()
            .flat_map(|u| u.exposed.iter().map(String::as_str))
            .collect();
        for k in ownerless
            .iter()
            .filter(|k| !journalled.contains(k.key_id.as_str()))
        {
            outcome.refused.push(match &k.account {
                Some(a) if *a != caller => format!(
                    "`{}`: a key of account {a}, and the credentials are of account {caller}; rotate it with credentials of {a}, or tell that account's owner",
                    k.key_id
                ),
                _ => format!("`{}`: {}", k.key_id, k.why),
            });
        }
        let (mine, others): (Vec<&Target>, Vec<&Target>) =
            targets.iter().partition(|t| t.account == caller);
        for t in others {
            outcome.refused.push(format!(
                "`{}` of account {}: the credentials are of account {caller}; rotate it with credentials of {}",
                t.user, t.account, t.account
            ));
        }
        let now = self.options.now.unwrap_or_else(Timestamp::now);
        // Each user's keys as IAM lists them now, and its state so far.
        let mut users = Vec::new();
        for t in mine {
            let mut state = self
                .journal
                .user(&t.account, &t.user)
                .cloned()
                .unwrap_or_else(|| UserState {
                    account: t.account.clone(),
                    user: t.user.clone(),
                    store: self.options.store.shown(&t.account, &t.user),
                    ..UserState::default()
                });
            let mut exposed: BTreeSet<String> = state.exposed.iter().cloned().collect();
            exposed.extend(t.exposed.iter().cloned());
            state.exposed = exposed.into_iter().collect();
            let keys = match self.api.list_access_keys(&t.user) {
                Ok(k) => k,
                Err(crate::iam::api::CallError::NotFound(_)) => {
                    outcome.users.push(UserOutcome {
                        account: t.account.clone(),
                        user: t.user.clone(),
                        end: UserEnd::Stopped(format!(
                            "IAM has no user `{}` any more: nothing to rotate",
                            t.user
                        )),
                    });
                    continue;
                }
                Err(e) => return Err(call_error(&t.user, "iam:ListAccessKeys", e)),
            };
            users.push((t, state, keys));
        }
        let mut effects = 0usize;
        let mut check = preflight::Check::default();
        for (t, state, keys) in &users {
            preflight::probe(&*self, t, state, keys, &mut check)?;
        }
        if !check.missing.is_empty() {
            return Err(RotateError::Permissions {
                actions: check.missing,
                detail: check.detail,
            });
        }
        for (t, state, keys) in users {
            let end = user::UserRun {
                rotation: self,
                target: t,
                state,
                keys,
                now,
                effects: &mut effects,
            }
            .run(say)?;
            outcome.users.push(UserOutcome {
                account: t.account.clone(),
                user: t.user.clone(),
                end,
            });
        }
        outcome.calls = self.api.calls();
        Ok(outcome)
    }
}

fn call_error(user: &str, action: &str, e: crate::iam::api::CallError) -> RotateError {
    match e {
        crate::iam::api::CallError::Fatal(IamError::AccessDenied { action, message }) => {
            RotateError::Permissions {
                actions: BTreeSet::from([action]),
                detail: vec![crate::detect::masked_for_errors(&message)],
            }
        }
        crate::iam::api::CallError::Fatal(f) => RotateError::Iam(f),
        other => RotateError::Call {
            user: user.to_string(),
            action: action.to_string(),
            message: crate::detect::masked_for_errors(&other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests;
