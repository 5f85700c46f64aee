//! One user's rotation as a state machine: from the journal's state and
//! IAM's list of the user's keys, the next step, until the user is done,
//! waits for `--finish`, or needs a person. A dry run walks the same steps
//! on a copy of the state and says them.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::{Event, EventKind, RotateError, Rotation, Target, UserEnd, UserState, call_error};
use crate::iam::api::{CallError, PairAnswer, Secret};
use crate::iam::{KeyStatus, UserKey, VerifyResult};

pub(super) struct UserRun<'r, 'a> {
    pub rotation: &'r mut Rotation<'a>,
    pub target: &'r Target,
    pub state: UserState,
    /// The user's keys, as IAM listed them and the run changed them since.
    pub keys: Vec<UserKey>,
    pub now: Timestamp,
    /// Effects so far in the run (for `interrupt_after`).
    pub effects: &'r mut usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    /// Cut short while creating: adopt the key the store holds, or delete
    /// the one nobody holds the secret of.
    Recover,
    /// Created, not known to be stored: adopt it if the store has it,
    /// else delete it (its secret is gone).
    Unstored,
    /// An Inactive key of the repository makes room for the new one.
    DeleteInactive(String),
    /// Two Active exposed keys: the least recently used goes first.
    Disrupt(String, String),
    Create,
    Verify(String),
    References,
    Deactivate(String),
    /// A key the rotation deactivated is Active again: someone needed it.
    Reactivated(String),
    Delete(String),
    Wait(String),
    Stop(String),
    Done,
}

impl UserRun<'_, '_> {
    fn apply(&self) -> bool {
        self.rotation.options.apply
    }

    fn user(&self) -> &str {
        &self.target.user
    }

    fn store_name(&self) -> String {
        self.rotation
            .options
            .store
            .name(&self.target.account, &self.target.user)
    }

    fn say(&self, say: &mut dyn FnMut(&Event), kind: EventKind, text: String) {
        say(&Event {
            account: self.target.account.clone(),
            user: self.target.user.clone(),
            kind,
            text,
        });
    }

    fn step(&self, say: &mut dyn FnMut(&Event), done: String, would: String) {
        let text = if self.apply() { done } else { would };
        self.say(say, EventKind::Step, text);
    }

    fn exposed(&self, id: &str) -> bool {
        self.state.exposed.iter().any(|k| k == id)
    }

    fn key(&self, id: &str) -> Option<&UserKey> {
        self.keys.iter().find(|k| k.access_key_id == id)
    }

    /// A change happened: count it, and stop here if a test asked to.
    fn effect(&mut self) -> Result<(), RotateError> {
        *self.effects += 1;
        match self.rotation.options.interrupt_after {
            Some(n) if *self.effects >= n => Err(RotateError::Interrupted),
            _ => Ok(()),
        }
    }

    fn record(&mut self) -> Result<(), RotateError> {
        if !self.apply() {
            return Ok(());
        }
        self.rotation.journal.record(&self.state)?;
        self.effect()
    }

    fn call<T>(&self, action: &str, r: Result<T, CallError>) -> Result<T, RotateError> {
        r.map_err(|e| call_error(self.user(), action, e))
    }

    pub(super) fn run(mut self, say: &mut dyn FnMut(&Event)) -> Result<UserEnd, RotateError> {
        if self.state.done() {
            return Ok(UserEnd::Done);
        }
        let shown = self
            .rotation
            .options
            .store
            .shown(&self.target.account, &self.target.user);
        if self.state.store.is_empty() {
            self.state.store = shown.clone();
        }
        if self.state.store != shown {
            return Ok(UserEnd::Stopped(format!(
                "this rotation keeps `{}`'s new key in `{}`: run it with `--store {}` (or finish it first)",
                self.user(),
                self.state.store,
                self.state.store
            )));
        }
        if let Err(why) = self.rotation.options.store.check(&self.store_name()) {
            return Ok(UserEnd::Stopped(why));
        }
        if self.state.creating.is_none() && self.state.stored == self.state.new_key.is_some() {
            self.choose_keep();
        }
        self.begin(say);
        // What the repository held is journalled before anything changes:
        // a key deleted by a run cut short is still this user's to finish.
        self.record()?;
        let end = self.steps(say)?;
        if let UserEnd::Stopped(why) = &end {
            self.say(say, EventKind::Stop, why.clone());
        }
        Ok(end)
    }

    fn steps(&mut self, say: &mut dyn FnMut(&Event)) -> Result<UserEnd, RotateError> {
        loop {
            let next = self.next()?;
            match next {
                Next::Done => {
                    self.end_notes(say);
                    return Ok(if self.apply() {
                        UserEnd::Done
                    } else {
                        UserEnd::Planned
                    });
                }
                Next::Wait(why) => {
                    self.say(say, EventKind::Note, why.clone());
                    return Ok(if self.apply() {
                        UserEnd::Waiting(why)
                    } else {
                        UserEnd::Planned
                    });
                }
                Next::Stop(why) => return Ok(UserEnd::Stopped(why)),
                other => {
                    if let Some(stop) = self.perform(other, say)? {
                        return Ok(UserEnd::Stopped(stop));
                    }
                }
            }
        }
    }

    /// An Active key the repository does not hold is what the user runs
    /// on now (a rotation half done by hand): it stays, nothing is
    /// created. The newest, when there are two.
    fn choose_keep(&mut self) {
        if self.state.keep.is_some() || self.state.new_key.is_some() {
            return;
        }
        self.state.keep = self
            .keys
            .iter()
            .filter(|k| k.status == KeyStatus::Active && !self.exposed(&k.access_key_id))
            .max_by_key(|k| (k.created, std::cmp::Reverse(k.access_key_id.clone())))
            .map(|k| k.access_key_id.clone());
    }

    fn begin(&self, say: &mut dyn FnMut(&Event)) {
        let present: Vec<&str> = self
            .state
            .exposed
            .iter()
            .filter(|k| self.key(k).is_some())
            .map(String::as_str)
            .collect();
        let replacement = match (&self.state.new_key, &self.state.keep) {
            (Some(k), _) => format!("its new key `{k}` is in `{}`", self.state.store),
            (None, Some(k)) => format!(
                "it keeps `{k}`, an Active key the repository does not hold, read from `{}`",
                self.state.store
            ),
            (None, None) => format!("a new key goes to `{}`", self.state.store),
        };
        self.say(
            say,
            EventKind::Begin,
            format!(
                "{} exposed key{} in IAM ({}); {replacement}",
                present.len(),
                crate::shown::s(present.len()),
                present
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        );
        if let Some(why) = &self.target.urgent {
            self.say(say, EventKind::Note, format!("first: {why}"));
        }
    }

    fn end_notes(&self, say: &mut dyn FnMut(&Event)) {
        // Asked again: the run that ends a rotation may not be the one that
        // saw the user in the repository.
        let quarantine: Vec<String> = match self.rotation.api.attached_policies(self.user()) {
            Ok(list) => list
                .into_iter()
                .filter(|a| crate::iam::is_quarantine_policy(a))
                .collect(),
            Err(_) => self.target.quarantine.clone(),
        };
        for arn in &quarantine {
            self.say(
                say,
                EventKind::Note,
                format!(
                    "AWS's quarantine policy is still attached and limits every key of `{}`, the new one too; with the exposed keys gone, detach it: aws iam detach-user-policy --user-name {} --policy-arn {arn}",
                    self.user(),
                    self.user()
                ),
            );
        }
    }

    fn next(&mut self) -> Result<Next, RotateError> {
        if self.state.creating.is_some() {
            return Ok(Next::Recover);
        }
        if self.state.new_key.is_some() && !self.state.stored {
            return Ok(Next::Unstored);
        }
        // After a recovery: the keys left are the user's own.
        self.choose_keep();
        let replacement = self.state.new_key.clone().or(self.state.keep.clone());
        let Some(replacement) = replacement else {
            return self.make_room();
        };
        if self
            .key(&replacement)
            .is_none_or(|k| k.status != KeyStatus::Active)
        {
            return Ok(Next::Stop(format!(
                "`{replacement}`, the key that replaces the exposed ones, is no longer Active in IAM: nothing more is done for `{}`; see `aws iam list-access-keys --user-name {}`",
                self.user(),
                self.user()
            )));
        }
        if !self.state.verified {
            return Ok(Next::Verify(replacement));
        }
        if self.state.references.is_none() {
            return Ok(Next::References);
        }
        let exposed: Vec<UserKey> = self
            .keys
            .iter()
            .filter(|k| self.exposed(&k.access_key_id))
            .cloned()
            .collect();
        if let Some(k) = exposed.iter().find(|k| k.status == KeyStatus::Active) {
            return Ok(if self.state.deactivated.contains_key(&k.access_key_id) {
                Next::Reactivated(k.access_key_id.clone())
            } else {
                Next::Deactivate(k.access_key_id.clone())
            });
        }
        // Inactive before the rotation began: nothing can use them.
        if let Some(k) = exposed
            .iter()
            .find(|k| !self.state.deactivated.contains_key(&k.access_key_id))
        {
            return Ok(Next::Delete(k.access_key_id.clone()));
        }
        let options = self.rotation.options;
        for k in &exposed {
            let Some(since) = self.state.deactivated.get(&k.access_key_id) else {
                continue;
            };
            let waited = self.now.duration_since(*since);
            let due = options
                .delete_after_days
                .is_some_and(|d| waited >= jiff::SignedDuration::from_hours(24 * i64::from(d)));
            if options.finish || due {
                return Ok(Next::Delete(k.access_key_id.clone()));
            }
            return Ok(Next::Wait(format!(
                "`{}` is Inactive since {}: once nothing broke, `keyward rotate --apply --finish` deletes it (IAM must show no use after deactivation){}",
                k.access_key_id,
                since.strftime("%Y-%m-%d %H:%M UTC"),
                match options.delete_after_days {
                    Some(d) => format!(", or a run {d} days after deactivation"),
                    None => String::new(),
                }
            )));
        }
        Ok(Next::Done)
    }

    /// No replacement yet: room for one under the two-key limit, then it.
    fn make_room(&self) -> Result<Next, RotateError> {
        if self.keys.len() < crate::iam::api::KEYS_PER_USER {
            return Ok(Next::Create);
        }
        let user = self.user();
        if let Some(k) = self
            .keys
            .iter()
            .find(|k| k.status != KeyStatus::Active && self.exposed(&k.access_key_id))
        {
            return Ok(Next::DeleteInactive(k.access_key_id.clone()));
        }
        let outside = self
            .keys
            .iter()
            .find(|k| k.status != KeyStatus::Active && !self.exposed(&k.access_key_id))
            .map(|k| k.access_key_id.clone());
        if let Some(k) = &outside
            && !self.rotation.options.allow_disruption
        {
            return Ok(Next::Stop(format!(
                "`{user}` has two keys and AWS allows no third: `{k}` is Inactive and not in the repository, and keyward never touches a key the repository does not hold. If nothing waits to reactivate it, delete it (aws iam delete-access-key --user-name {user} --access-key-id {k}) and run again; or `--allow-disruption` deletes the exposed key first, before its replacement exists"
            )));
        }
        // The exposed Active keys (an Active key outside would be kept).
        let mut uses = Vec::new();
        for k in self
            .keys
            .iter()
            .filter(|k| k.status == KeyStatus::Active && self.exposed(&k.access_key_id))
        {
            let last = self.call(
                "iam:GetAccessKeyLastUsed",
                self.rotation.api.last_used(&k.access_key_id),
            )?;
            uses.push((last.when, k.created, k.access_key_id.clone(), last.service));
        }
        // Never used sorts first: `None` is less than any time.
        uses.sort();
        let Some((when, _, lru, service)) = uses.into_iter().next() else {
            return Ok(Next::Stop(format!(
                "`{user}` has two keys and AWS allows no third, and neither is one keyward may remove: see `aws iam list-access-keys --user-name {user}`"
            )));
        };
        let last = match when {
            Some(t) => format!(
                "last used {}{}",
                t.strftime("%Y-%m-%d"),
                service.map(|s| format!(" by {s}")).unwrap_or_default()
            ),
            None => "never used".to_string(),
        };
        if !self.rotation.options.allow_disruption {
            return Ok(Next::Stop(format!(
                "`{user}`'s two keys are both Active and in the repository, and AWS allows no third: one must go before its replacement exists. `--allow-disruption` deactivates and deletes the least recently used, `{lru}` ({last}); whatever still uses it stops working until its places read the new key"
            )));
        }
        Ok(Next::Disrupt(lru, last))
    }

    /// Does one step (or, dry, says it and changes the copy). `Some` is a
    /// stop, with what a person must do.
    fn perform(
        &mut self,
        next: Next,
        say: &mut dyn FnMut(&Event),
    ) -> Result<Option<String>, RotateError> {
        let user = self.user().to_string();
        let store = self.state.store.clone();
        match next {
            Next::Recover => self.recover(say)?,
            Next::Unstored => self.unstored(say)?,
            Next::DeleteInactive(k) => {
                self.step(
                    say,
                    format!("deleted `{k}` (Inactive, exposed) to make room for the new key"),
                    format!("delete `{k}` (Inactive, exposed) to make room for the new key"),
                );
                self.delete(&k)?;
            }
            Next::Disrupt(k, last) => {
                self.step(
                    say,
                    format!("deactivated and deleted `{k}` ({last}) to make room: whatever still used it has stopped working"),
                    format!("deactivate and delete `{k}` ({last}) to make room: whatever still uses it stops working until its places read the new key"),
                );
                if self.apply() {
                    self.call(
                        "iam:UpdateAccessKey",
                        self.rotation
                            .api
                            .update_access_key(&user, &k, KeyStatus::Inactive),
                    )?;
                    self.effect()?;
                }
                self.delete(&k)?;
            }
            Next::Create => self.create(say)?,
            Next::Verify(k) => return self.verify(&k, say),
            Next::References => return self.references(say),
            Next::Deactivate(k) => {
                self.step(
                    say,
                    format!("deactivated `{k}` (undo: aws iam update-access-key --user-name {user} --access-key-id {k} --status Active)"),
                    format!("deactivate `{k}` (reversible)"),
                );
                if self.apply() {
                    self.call(
                        "iam:UpdateAccessKey",
                        self.rotation
                            .api
                            .update_access_key(&user, &k, KeyStatus::Inactive),
                    )?;
                    self.effect()?;
                }
                self.state.deactivated.insert(k.clone(), self.now);
                self.set_status(&k, KeyStatus::Inactive);
                self.record()?;
            }
            Next::Reactivated(k) => {
                let since = self.state.deactivated.remove(&k);
                self.record()?;
                return Ok(Some(format!(
                    "`{k}` is Active again since the rotation deactivated it{}: a place still needs it. Point that place at `{store}`, then run `keyward rotate --apply` again: it deactivates `{k}` anew",
                    since
                        .map(|t| format!(" ({})", t.strftime("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default()
                )));
            }
            Next::Delete(k) => {
                if let Some(since) = self.state.deactivated.get(&k).copied() {
                    let last =
                        self.call("iam:GetAccessKeyLastUsed", self.rotation.api.last_used(&k))?;
                    if let Some(used) = last.when.filter(|w| *w > since) {
                        return Ok(Some(format!(
                            "`{k}` was used at {} after it was deactivated at {}: something still holds it. It stays Inactive; find what uses it ({}) before deleting it",
                            used.strftime("%Y-%m-%d %H:%M UTC"),
                            since.strftime("%Y-%m-%d %H:%M UTC"),
                            last.service.as_deref().unwrap_or("service not known")
                        )));
                    }
                }
                self.step(say, format!("deleted `{k}`"), format!("delete `{k}`"));
                self.delete(&k)?;
            }
            Next::Wait(_) | Next::Stop(_) | Next::Done => {}
        }
        Ok(None)
    }

    fn set_status(&mut self, key: &str, status: KeyStatus) {
        if let Some(k) = self.keys.iter_mut().find(|k| k.access_key_id == key) {
            k.status = status;
        }
    }

    /// `iam:DeleteAccessKey` (a key already gone is deleted), recorded.
    fn delete(&mut self, key: &str) -> Result<(), RotateError> {
        if self.apply() {
            match self.rotation.api.delete_access_key(self.user(), key) {
                Ok(()) | Err(CallError::NotFound(_)) => {}
                Err(e) => return Err(call_error(self.user(), "iam:DeleteAccessKey", e)),
            }
            self.effect()?;
        }
        self.keys.retain(|k| k.access_key_id != key);
        if self.exposed(key) {
            self.state.deleted.insert(key.to_string());
        } else {
            self.state.made_room.insert(key.to_string());
        }
        self.record()
    }

    fn create(&mut self, say: &mut dyn FnMut(&Event)) -> Result<(), RotateError> {
        let store = self.state.store.clone();
        if !self.apply() {
            self.step(
                say,
                String::new(),
                format!("create a new key and put it straight into `{store}` (its secret goes nowhere else)"),
            );
            self.state.new_key = Some("the new key".into());
            self.state.stored = true;
            self.keys.push(UserKey {
                access_key_id: "the new key".into(),
                status: KeyStatus::Active,
                created: self.now,
            });
            return Ok(());
        }
        self.state.creating = Some(self.keys.iter().map(|k| k.access_key_id.clone()).collect());
        self.record()?;
        let made = match self.rotation.api.create_access_key(self.user()) {
            Ok(m) => m,
            Err(e) => {
                // No key was made: nothing to recover.
                self.state.creating = None;
                self.rotation.journal.record(&self.state)?;
                return Err(call_error(self.user(), "iam:CreateAccessKey", e));
            }
        };
        self.effect()?;
        let id = made.access_key_id.clone();
        self.keys.push(UserKey {
            access_key_id: id.clone(),
            status: KeyStatus::Active,
            created: made.created,
        });
        self.state.creating = None;
        self.state.new_key = Some(id.clone());
        self.state.stored = false;
        self.record()?;
        let name = self.store_name();
        let put = self.rotation.store.put(&name, &id, &made.secret);
        // The secret leaves memory here, stored or not.
        drop(made);
        if let Err(e) = put {
            // Nobody can ever hold the new key's secret: it goes.
            self.delete_unusable(&id)?;
            return Err(call_error(
                self.user(),
                &format!("{}: writing `{name}`", self.rotation.store.kind().as_str()),
                e,
            ));
        }
        self.effect()?;
        self.state.stored = true;
        self.record()?;
        self.step(
            say,
            format!("created `{id}` and put it into `{store}` (its secret went nowhere else)"),
            String::new(),
        );
        Ok(())
    }

    /// Deletes a key this rotation made whose secret is lost.
    fn delete_unusable(&mut self, id: &str) -> Result<(), RotateError> {
        match self.rotation.api.delete_access_key(self.user(), id) {
            Ok(()) | Err(CallError::NotFound(_)) => {}
            Err(e) => return Err(call_error(self.user(), "iam:DeleteAccessKey", e)),
        }
        self.effect()?;
        self.keys.retain(|k| k.access_key_id != id);
        if self.state.new_key.as_deref() == Some(id) {
            self.state.new_key = None;
            self.state.stored = false;
        }
        self.record()
    }

    /// The store's pair, when it is one.
    fn stored_key(&self) -> Result<Option<String>, RotateError> {
        let name = self.store_name();
        let got = self.call(
            &format!("{}: reading `{name}`", self.rotation.store.kind().as_str()),
            self.rotation.store.get(&name),
        )?;
        Ok(got.map(|(id, _)| id))
    }

    fn recover(&mut self, say: &mut dyn FnMut(&Event)) -> Result<(), RotateError> {
        let before = self.state.creating.clone().unwrap_or_default();
        let stored = self.stored_key()?;
        let made: Vec<String> = self
            .keys
            .iter()
            .map(|k| k.access_key_id.clone())
            .filter(|k| !before.contains(k) && !self.exposed(k))
            .collect();
        match stored.filter(|id| made.contains(id)) {
            Some(id) => {
                self.say(
                    say,
                    EventKind::Note,
                    format!("the last run created `{id}` and stored it before it stopped: it is the new key"),
                );
                self.state.new_key = Some(id);
                self.state.stored = true;
            }
            None => {
                for id in made {
                    self.say(
                        say,
                        EventKind::Step,
                        format!("deleted `{id}`: the last run created it and stopped before storing it, so nobody holds its secret"),
                    );
                    self.delete_unusable(&id)?;
                }
            }
        }
        self.state.creating = None;
        self.record()
    }

    fn unstored(&mut self, say: &mut dyn FnMut(&Event)) -> Result<(), RotateError> {
        let Some(id) = self.state.new_key.clone() else {
            return Ok(());
        };
        if self.stored_key()?.as_deref() == Some(id.as_str()) {
            self.state.stored = true;
            return self.record();
        }
        self.say(
            say,
            EventKind::Step,
            format!("deleted `{id}`: the last run created it and stopped before storing it, so nobody holds its secret"),
        );
        self.delete_unusable(&id)
    }

    fn verify(
        &mut self,
        key: &str,
        say: &mut dyn FnMut(&Event),
    ) -> Result<Option<String>, RotateError> {
        let store = self.state.store.clone();
        let kept = self.state.new_key.is_none();
        if !self.apply() {
            return self.verify_dry(key, kept, say);
        }
        let name = self.store_name();
        let got = self.call(
            &format!("{}: reading `{name}`", self.rotation.store.kind().as_str()),
            self.rotation.store.get(&name),
        )?;
        let secret = match got {
            Some((id, secret)) if id == key => secret,
            other => {
                let holds = other
                    .map(|(id, _)| format!(" (it holds `{id}`)"))
                    .unwrap_or_default();
                if kept {
                    return Ok(Some(format!(
                        "`{store}` does not hold `{key}`'s pair{holds}: put it there (keyward never sees that secret), then run again"
                    )));
                }
                return Err(RotateError::Call {
                    user: self.user().to_string(),
                    action: "verify".into(),
                    message: format!(
                        "`{store}` should hold `{key}`{holds}: the store changed under the rotation"
                    ),
                });
            }
        };
        let why = self.does_not_sign(key, &secret);
        drop(secret);
        if let Some(why) = why {
            let why = crate::detect::masked_for_errors(&why);
            if kept {
                return Ok(Some(format!(
                    "the pair `{store}` holds for `{key}` does not sign: {why}. Put the right secret there, then run again"
                )));
            }
            return Err(RotateError::Call {
                user: self.user().to_string(),
                action: "sts:GetCallerIdentity with the new key".into(),
                message: format!("{why}; nothing exposed was deactivated, run again to retry"),
            });
        }
        self.state.verified = true;
        self.record()?;
        self.step(
            say,
            format!("verified `{key}`: the pair `{store}` holds signs sts:GetCallerIdentity"),
            String::new(),
        );
        Ok(None)
    }

    /// A dry run's verify step: said, not done. A kept key's store must
    /// already hold its pair.
    fn verify_dry(
        &mut self,
        key: &str,
        kept: bool,
        say: &mut dyn FnMut(&Event),
    ) -> Result<Option<String>, RotateError> {
        let store = self.state.store.clone();
        if kept {
            let holds = self.stored_key()?;
            if holds.as_deref() != Some(key) {
                return Ok(Some(format!(
                    "`{store}` does not hold `{key}`'s pair{}: put it there (keyward never sees that secret), then run again",
                    holds
                        .map(|h| format!(" (it holds `{h}`)"))
                        .unwrap_or_default()
                )));
            }
        }
        self.step(
            say,
            String::new(),
            format!(
                "verify {}: sign sts:GetCallerIdentity with the pair `{store}` holds",
                if kept {
                    format!("`{key}`")
                } else {
                    "the new key".into()
                }
            ),
        );
        self.state.verified = true;
        Ok(None)
    }

    /// Why `key` and `secret` do not sign a request, `None` when they do.
    /// IAM is eventually consistent: a new key may not sign for a few
    /// seconds, so an unknown key and a transient failure are asked again
    /// until the rotation's patience runs out.
    fn does_not_sign(&self, key: &str, secret: &Secret) -> Option<String> {
        let deadline = Instant::now() + self.rotation.options.verify_patience;
        let mut wait = Duration::from_millis(500);
        loop {
            let answer = self.rotation.api.verify_pair(key, secret, None);
            let retry = match answer {
                PairAnswer::Final(Ok(VerifyResult::Match)) => return None,
                PairAnswer::Final(Ok(VerifyResult::UnknownKey)) => {
                    "STS does not know the key yet".to_string()
                }
                PairAnswer::Transient(m) => m,
                PairAnswer::Final(Ok(VerifyResult::Mismatch)) => {
                    return Some("the secret the store holds does not pair with the key (SignatureDoesNotMatch)".to_string());
                }
                PairAnswer::Final(Ok(VerifyResult::Error)) => {
                    return Some("STS answered neither yes nor no".to_string());
                }
                PairAnswer::Final(Err(m)) => return Some(m.to_string()),
            };
            if Instant::now() + wait > deadline {
                return Some(retry);
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(8));
        }
    }

    fn references(&mut self, say: &mut dyn FnMut(&Event)) -> Result<Option<String>, RotateError> {
        let keys = self.state.exposed.iter().cloned().collect();
        let store = self
            .rotation
            .options
            .store
            .fix_store(&self.target.account, &self.target.user);
        let apply = self.apply();
        let rewrite = self
            .rotation
            .references
            .rewrite(&keys, &store, apply)
            .map_err(|e| RotateError::Call {
                user: self.user().to_string(),
                action: "rewriting the repository".into(),
                message: e.to_string(),
            })?;
        if apply && !rewrite.changed.is_empty() {
            self.effect()?;
        }
        let places = rewrite.fixed.len();
        let files = rewrite.changed.len();
        if places > 0 || files > 0 {
            self.step(
                say,
                format!(
                    "rewrote {places} place{} in {files} file{} to read `{}`",
                    crate::shown::s(places),
                    crate::shown::s(files),
                    self.state.store
                ),
                format!(
                    "rewrite {places} place{} in {files} file{} to read `{}`",
                    crate::shown::s(places),
                    crate::shown::s(files),
                    self.state.store
                ),
            );
        }
        for n in &rewrite.fixed {
            self.say(
                say,
                EventKind::Note,
                format!("{}:{}: {}", n.path, n.line, n.text),
            );
        }
        for command in &rewrite.setup {
            self.say(say, EventKind::Command, command.clone());
        }
        if !rewrite.left.is_empty() {
            let list: Vec<String> = rewrite
                .left
                .iter()
                .map(|n| format!("{}:{}: {}", n.path, n.line, n.text))
                .collect();
            return Ok(Some(format!(
                "{} place{} still hold{} an exposed key of `{}`, so none is deactivated: change {} by hand (or remove the key), then run again:\n{}",
                rewrite.left.len(),
                crate::shown::s(rewrite.left.len()),
                crate::shown::verb_s(rewrite.left.len()),
                self.user(),
                if rewrite.left.len() == 1 {
                    "it"
                } else {
                    "them"
                },
                list.join("\n")
            )));
        }
        self.state.references = Some(places);
        self.record()?;
        Ok(None)
    }
}
