//! `keyward plan`: a rotation plan per IAM user, from a scan and what IAM
//! says. Every key the repository holds is exposed, so every such key ends
//! deactivated and deleted; the plan makes room under AWS's limit of two
//! keys per user, creates the replacement straight into a secret store,
//! points every place at the store, verifies the new pair, then retires
//! the exposed keys, in that order, with exact commands. Users AWS has
//! quarantined, and users whose exposed key could make more keys, come
//! first. No secret appears anywhere in a plan.
//!
//! Each step is data (`action`, account, user, key, store, commands):
//! `keyward plan --format json` for scripts, Markdown and HTML rendered
//! from it, and `keyward rotate` carries the same sequence out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::iam::KeyStatus;
use crate::output::ScanOutput;

/// A rotation plan: what to do, user by user, so that every exposed key
/// ends deleted without an outage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Whether the scan had IAM facts; without them every key is ownerless.
    pub iam: bool,
    /// Users with an exposed key, the urgent ones first.
    pub users: Vec<UserPlan>,
    /// Keys no IAM user owns: deleted, of another account, or unknown.
    pub ownerless: Vec<OwnerlessKey>,
}

/// The rotation of one IAM user's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    /// The user's AWS account (12 digits).
    pub account: String,
    /// The IAM user name.
    pub user: String,
    /// Why this user comes first, when it does: AWS quarantined one of its
    /// keys (KW013), or an exposed key of it can make keys or attach
    /// policies (KW014).
    pub urgent: Option<String>,
    /// The key that stays: a new one (`None`, made by the plan) or an
    /// Active key of the user the repository does not hold.
    pub keep: Option<String>,
    /// Why that key stays, in a sentence.
    pub keep_reason: String,
    /// IAM's newest Active key of the user (the divergence of many
    /// repositories is measured against it).
    pub newest_active: Option<String>,
    /// The user's keys the repository references or IAM lists.
    pub keys: Vec<KeyEntry>,
    /// In order, each one action on one key; no secrets.
    pub steps: Vec<Step>,
}

/// One access key of a user, as IAM and the repository know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyEntry {
    /// The access key ID (`AKIA…`), never a secret.
    pub key_id: String,
    /// IAM's status.
    pub status: KeyStatus,
    /// Days since the key was created.
    pub age_days: i64,
    /// `None`: never used, or not known.
    pub last_used_days: Option<i64>,
    /// `s3 in eu-west-1`, when IAM says.
    pub last_used_where: Option<String>,
    /// The key that stays (an Active key outside the repository).
    pub keep: bool,
    /// Written in the repository: it must go.
    pub exposed: bool,
    /// Where the repository references it.
    pub places: Vec<Place>,
}

/// A line of the repository that references a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    /// `repository:path` in a plan of many repositories.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// The `keyward fix` command that rewrites this place, when one does.
    pub fix: Option<String>,
    /// The repository, in a plan of many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

/// What a step does: a fixed vocabulary, so a script can carry a plan out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// `iam:CreateAccessKey`, its secret piped straight into the store.
    CreateKey,
    /// The new pair written to the secret store (and only there).
    StoreSecret,
    /// Every place that references an exposed key reads the store instead.
    UpdateReferences,
    /// `sts:GetCallerIdentity` signed with the pair the store holds.
    Verify,
    /// `iam:UpdateAccessKey … Inactive`: reversible.
    Deactivate,
    /// Watch `iam:GetAccessKeyLastUsed`: nothing may use a deactivated key.
    WaitUnused,
    /// `iam:DeleteAccessKey`: final.
    Delete,
}

impl Action {
    /// The action's name in the JSON plan (`create-key`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CreateKey => "create-key",
            Action::StoreSecret => "store-secret",
            Action::UpdateReferences => "update-references",
            Action::Verify => "verify",
            Action::Deactivate => "deactivate",
            Action::WaitUnused => "wait-unused",
            Action::Delete => "delete",
        }
    }
}

/// One action on one key of one user, with the commands that carry it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What the step does.
    pub action: Action,
    /// The user's AWS account.
    pub account: String,
    /// The IAM user.
    pub user: String,
    /// The key the step acts on.
    pub key: Option<String>,
    /// The secret store the step writes or reads (`secretsmanager:NAME`).
    pub store: Option<String>,
    /// The step in a sentence, as the Markdown plan shows it.
    pub text: String,
    /// Shell commands, one per line; never a secret.
    pub commands: Vec<String>,
    /// What the step may break, said plainly.
    pub warning: Option<String>,
}

/// A key no IAM user of the scanned accounts owns: nothing to rotate, but
/// the places must still stop using it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerlessKey {
    /// The access key ID.
    pub key_id: String,
    /// The account the key ID decodes to, when it decodes.
    pub account: Option<String>,
    /// What to do about it, and why, in a sentence.
    pub why: String,
    /// Where the repository references it.
    pub places: Vec<Place>,
}

/// The Secrets Manager name a plan stores a user's new key under; `keyward
/// rotate --store` chooses another.
pub fn default_store(user: &str) -> String {
    format!("secretsmanager:keyward/{user}")
}

/// A place the repository references a key, as a plan needs it.
struct Reference<'a> {
    key_id: &'a str,
    rule: &'a str,
    place: Place,
}

/// The plan for a scan. `fix_of` says which `keyward fix` command rewrites
/// the place at (path, line), if any.
/// `rules`: the rules of the run, whose `plan:` texts say why a key no
/// user owns has no rotation.
pub fn plan(
    out: &ScanOutput,
    rules: &crate::rules::RuleSet,
    fix_of: &dyn Fn(&str, usize) -> Option<String>,
) -> Plan {
    let lines: Vec<crate::shown::Lines<'_>> = out.files.iter().map(|f| f.lines()).collect();
    // Every place a key is configured, accepted findings included: a
    // rotation must change those too.
    let references = out.findings.iter().filter_map(|f| {
        let (key_id, file) = (f.key_id.as_deref()?, out.files.get(f.file)?);
        let line = lines.get(f.file).map_or(1, |l| l.position(f.span.start).0);
        Some(Reference {
            key_id,
            rule: &f.rule,
            place: Place {
                path: file.path.clone(),
                line,
                fix: fix_of(&file.path, line),
                repository: None,
            },
        })
    });
    build(
        out.meta.iam.is_some(),
        &out.iam_users,
        references,
        rules,
        true,
    )
}

/// The plan a `keyward scan --format json` document holds: its findings,
/// accepted ones included, and its IAM users. A document does not say
/// which `keyward fix` command applies where.
pub fn of_document(doc: &crate::report::contract::Document) -> Plan {
    of_documents(&[("", doc)])
}

/// One plan for the documents of many repositories (an organisation's):
/// each place is `repository:path`, and each IAM user's keys are counted
/// once however many repositories reference them.
pub fn of_documents(docs: &[(&str, &crate::report::contract::Document)]) -> Plan {
    let references = docs.iter().flat_map(|(repo, doc)| {
        doc.findings
            .iter()
            .chain(&doc.accepted)
            .filter_map(move |f| {
                Some(Reference {
                    key_id: f.key_id.as_deref()?,
                    rule: &f.rule,
                    place: Place {
                        path: if repo.is_empty() {
                            f.path.clone()
                        } else {
                            format!("{repo}:{}", f.path)
                        },
                        line: usize::try_from(f.line).unwrap_or(usize::MAX),
                        fix: None,
                        repository: (!repo.is_empty()).then(|| repo.to_string()),
                    },
                })
            })
    });
    let mut users: Vec<crate::iam::IamUser> = Vec::new();
    for u in docs.iter().flat_map(|(_, d)| &d.iam_users) {
        if users
            .iter()
            .any(|k| k.account == u.account && k.name == u.user)
        {
            continue;
        }
        users.push(crate::iam::IamUser {
            account: u.account.clone(),
            name: u.user.clone(),
            keys: u
                .keys
                .iter()
                .map(|k| crate::iam::IamUserKey {
                    access_key_id: k.key_id.clone(),
                    status: KeyStatus::from_iam(&k.status),
                    age_days: k.age_days,
                    last_used_days: k.last_used_days,
                    last_used_where: k.last_used_where.clone(),
                })
                .collect(),
            newest_active: u.newest_active.clone(),
            tied: u.tied,
            quarantine: u.quarantine.clone(),
            can: u.can.clone(),
        });
    }
    users.sort_by(|a, b| (&a.account, &a.name).cmp(&(&b.account, &b.name)));
    let iam = docs.iter().any(|(_, d)| d.scan.iam.is_some());
    // A document names its rules by ID only: their texts are the built-in
    // rules'.
    let rules = crate::rules::RuleSet::builtin().unwrap_or_default();
    build(iam, &users, references, &rules, false)
}

/// `fixes_known`: whether each place says which `keyward fix` command
/// rewrites it; otherwise the steps point at `keyward fix --diff`.
fn build<'a>(
    iam: bool,
    iam_users: &[crate::iam::IamUser],
    references: impl Iterator<Item = Reference<'a>>,
    rules: &crate::rules::RuleSet,
    fixes_known: bool,
) -> Plan {
    let mut places: BTreeMap<&str, BTreeSet<Place>> = BTreeMap::new();
    let mut rules_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in references {
        places.entry(r.key_id).or_default().insert(r.place);
        rules_of.entry(r.key_id).or_default().insert(r.rule);
    }
    let mut owned: BTreeSet<&str> = BTreeSet::new();
    let mut users = Vec::new();
    for u in iam_users {
        let keys: Vec<KeyEntry> = u
            .keys
            .iter()
            .map(|k| {
                let places: Vec<Place> = places
                    .get(k.access_key_id.as_str())
                    .map(|p| p.iter().cloned().collect())
                    .unwrap_or_default();
                KeyEntry {
                    key_id: k.access_key_id.clone(),
                    status: k.status,
                    age_days: k.age_days,
                    last_used_days: k.last_used_days,
                    last_used_where: k.last_used_where.clone(),
                    keep: false,
                    exposed: !places.is_empty(),
                    places,
                }
            })
            .collect();
        owned.extend(u.keys.iter().filter_map(|k| {
            places
                .get_key_value(k.access_key_id.as_str())
                .map(|(id, _)| *id)
        }));
        if keys.iter().any(|k| k.exposed) {
            let urgent = urgency(u, &keys, &rules_of, rules);
            users.push(user_plan(u, keys, urgent, fixes_known));
        }
    }
    // AWS caught a key of the user, or an exposed key can make more: first.
    users.sort_by_key(|u| u.urgent.is_none());
    let ownerless = places
        .iter()
        .filter(|(k, _)| !owned.contains(*k))
        .map(|(k, p)| {
            let found = rules_of.get(k).cloned().unwrap_or_default();
            // The first rule, in the rule set's order, that says why.
            let said = rules
                .rules
                .iter()
                .filter(|r| found.contains(r.id.as_str()))
                .find_map(|r| r.plan.as_deref());
            let why = match said {
                _ if !iam => {
                    "no IAM facts in this run (`--inventory` or `--live` tells whose it is)"
                }
                Some(why) => why,
                None => "IAM says nothing of it (a temporary or malformed key, or out of scope)",
            };
            OwnerlessKey {
                key_id: (*k).to_string(),
                account: crate::detect::key_id::account(k),
                why: why.into(),
                places: p.iter().cloned().collect(),
            }
        })
        .collect();
    Plan {
        iam,
        users,
        ownerless,
    }
}

/// How recently a key was used, for choosing the one to give up first:
/// never used is least recent, then the longest ago; a tie goes to the
/// older key, then to the key ID (decided, never guessed).
fn least_recently_used<'k>(keys: &[&'k KeyEntry]) -> Option<&'k KeyEntry> {
    keys.iter()
        .max_by_key(|k| {
            (
                k.last_used_days.unwrap_or(i64::MAX),
                k.age_days,
                std::cmp::Reverse(k.key_id.clone()),
            )
        })
        .copied()
}

/// The user's sequence: make room, create and store the replacement (or
/// keep the Active key the repository does not hold), point every place at
/// the store, verify, then deactivate, watch and delete every exposed key.
fn user_plan(
    u: &crate::iam::IamUser,
    mut keys: Vec<KeyEntry>,
    urgent: Option<String>,
    fixes_known: bool,
) -> UserPlan {
    let steps = Steps {
        account: &u.account,
        user: &u.name,
        store: default_store(&u.name),
        list: Vec::new(),
        retired: BTreeSet::new(),
    };
    let (kept, keep_reason) = kept_key(&keys);
    let steps = match &kept {
        Some(k) => steps.onto_kept(k, &keys, fixes_known),
        None => steps.make_room(&keys).onto_new(&keys, fixes_known),
    }
    .retire_exposed(&keys);
    for k in &mut keys {
        k.keep = kept.as_deref() == Some(k.key_id.as_str());
    }
    UserPlan {
        account: u.account.clone(),
        user: u.name.clone(),
        urgent,
        keep: kept,
        keep_reason,
        newest_active: u.newest_active.clone(),
        keys,
        steps: steps.list,
    }
}

/// Why a user comes first, when one does: the `first:` of the first rule,
/// in the rule set's order, that reports one of the user's exposed keys
/// (AWS quarantined the user, an exposed key can make more keys).
fn urgency(
    u: &crate::iam::IamUser,
    keys: &[KeyEntry],
    rules_of: &BTreeMap<&str, BTreeSet<&str>>,
    rules: &crate::rules::RuleSet,
) -> Option<String> {
    let found: BTreeSet<&str> = keys
        .iter()
        .filter(|k| k.exposed)
        .filter_map(|k| rules_of.get(k.key_id.as_str()))
        .flatten()
        .copied()
        .collect();
    let (rule, text) = rules
        .rules
        .iter()
        .filter(|r| found.contains(r.id.as_str()))
        .find_map(|r| Some((r, r.first.as_deref()?)))?;
    Some(
        text.replace("{user}", &u.name)
            .replace("{policies}", &u.quarantine.join("`, `"))
            .replace("{id}", &rule.id),
    )
}

/// The key that stays, and why. An Active key outside the repository is
/// what the user runs on now (a rotation half done): it stays, and
/// nothing is created.
fn kept_key(keys: &[KeyEntry]) -> (Option<String>, String) {
    let outside: Vec<&KeyEntry> = keys
        .iter()
        .filter(|k| !k.exposed && k.status == KeyStatus::Active)
        .collect();
    let kept = outside
        .iter()
        .min_by_key(|k| {
            (
                k.age_days,
                k.last_used_days.unwrap_or(i64::MAX),
                k.key_id.clone(),
            )
        })
        .map(|k| k.key_id.clone());
    let reason = match (&kept, outside.len()) {
        (Some(_), 1) => "the user's Active key the repository does not hold".to_string(),
        (Some(_), _) => "the newest of the user's Active keys the repository does not hold (a tie: the least used, then the key ID, decided)".into(),
        (None, _) => "every Active key of the user is in the repository: a new one replaces them".into(),
    };
    (kept, reason)
}

/// One user's steps, in the order they are taken.
struct Steps<'a> {
    account: &'a str,
    user: &'a str,
    /// `secretsmanager:NAME`.
    store: String,
    list: Vec<Step>,
    /// Keys already deleted by an earlier step.
    retired: BTreeSet<String>,
}

impl Steps<'_> {
    fn store_name(&self) -> String {
        self.store.trim_start_matches("secretsmanager:").to_string()
    }

    fn step(&self, action: Action, key: Option<&str>, text: String, commands: Vec<String>) -> Step {
        Step {
            action,
            account: self.account.to_string(),
            user: self.user.to_string(),
            key: key.map(str::to_string),
            store: matches!(
                action,
                Action::StoreSecret | Action::Verify | Action::UpdateReferences
            )
            .then(|| self.store.clone()),
            text,
            commands,
            warning: None,
        }
    }

    fn push(&mut self, action: Action, key: Option<&str>, text: String, commands: Vec<String>) {
        let s = self.step(action, key, text, commands);
        self.list.push(s);
    }

    /// Every place moves to the kept key, through the store.
    fn onto_kept(mut self, k: &str, keys: &[KeyEntry], fixes_known: bool) -> Self {
        let user = self.user;
        self.push(
            Action::UpdateReferences,
            Some(k),
            format!(
                "Point every place that references an exposed key of `{user}` at `{k}`, through your secret store ({}).",
                places_count(keys)
            ),
            reference_commands(keys, fixes_known),
        );
        let verify = verify_command(&self.store_name());
        self.push(
            Action::Verify,
            Some(k),
            format!("Verify that the pair your store holds for `{k}` works."),
            vec![verify],
        );
        self
    }

    /// AWS allows two keys per user: room for the new one first, by an
    /// Inactive key deleted, else the least recently used exposed one.
    fn make_room(mut self, keys: &[KeyEntry]) -> Self {
        if keys.len() < crate::iam::api::KEYS_PER_USER {
            return self;
        }
        let user = self.user;
        let inactive = keys
            .iter()
            .filter(|k| k.status != KeyStatus::Active)
            .min_by_key(|k| (!k.exposed, k.key_id.clone()));
        if let Some(k) = inactive {
            let mut s = self.step(
                Action::Delete,
                Some(&k.key_id),
                format!(
                    "Delete the Inactive key `{}` to make room: AWS allows two keys per user.{}",
                    k.key_id,
                    if k.exposed {
                        ""
                    } else {
                        " It is not in the repository; Inactive, it serves nothing."
                    }
                ),
                vec![delete_command(user, &k.key_id)],
            );
            if !k.exposed {
                s.warning = Some(format!(
                    "`{}` is not in the repository: check that nothing waits to reactivate it",
                    k.key_id
                ));
            }
            self.list.push(s);
            self.retired.insert(k.key_id.clone());
            return self;
        }
        let exposed_active: Vec<&KeyEntry> = keys
            .iter()
            .filter(|k| k.exposed && k.status == KeyStatus::Active)
            .collect();
        let Some(k) = least_recently_used(&exposed_active) else {
            return self;
        };
        let mut s = self.step(
            Action::Deactivate,
            Some(&k.key_id),
            format!(
                "Deactivate `{}`, the least recently used of the two Active keys, to make room: AWS allows two keys per user.",
                k.key_id
            ),
            vec![deactivate_command(user, &k.key_id)],
        );
        s.warning = Some(format!(
            "whatever still uses `{}` ({}) stops working now, before its replacement exists, until its places read the new key",
            k.key_id,
            last_used(k)
        ));
        self.list.push(s);
        self.push(
            Action::Delete,
            Some(&k.key_id),
            format!(
                "Delete `{}` (it is exposed, and the new key needs its slot).",
                k.key_id
            ),
            vec![delete_command(user, &k.key_id)],
        );
        self.retired.insert(k.key_id.clone());
        self
    }

    /// A new key, created straight into the store, and every place moved
    /// to it.
    fn onto_new(mut self, keys: &[KeyEntry], fixes_known: bool) -> Self {
        let user = self.user;
        let store_name = self.store_name();
        self.push(
            Action::CreateKey,
            None,
            format!(
                "Create a new key for `{user}` and put it straight into the secret store `{store_name}`: the pipeline never shows or writes the secret anywhere else."
            ),
            vec![create_command(user, &store_name)],
        );
        self.push(
            Action::StoreSecret,
            None,
            format!(
                "Check that `{store_name}` holds the new pair (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`)."
            ),
            vec![format!("aws secretsmanager describe-secret --secret-id {store_name}")],
        );
        self.push(
            Action::UpdateReferences,
            None,
            format!(
                "Point every place that references a key of `{user}` at the store ({}).",
                places_count(keys)
            ),
            reference_commands(keys, fixes_known),
        );
        self.push(
            Action::Verify,
            None,
            "Verify the new pair: sign a request with what the store holds.".into(),
            vec![verify_command(&store_name)],
        );
        self
    }

    /// Each exposed key not already gone: deactivated, watched, deleted.
    fn retire_exposed(mut self, keys: &[KeyEntry]) -> Self {
        let user = self.user;
        let retired = std::mem::take(&mut self.retired);
        for k in keys
            .iter()
            .filter(|k| k.exposed && !retired.contains(&k.key_id))
        {
            if k.status == KeyStatus::Active {
                self.push(
                    Action::Deactivate,
                    Some(&k.key_id),
                    format!("Deactivate `{}` (reversible).", k.key_id),
                    vec![deactivate_command(user, &k.key_id)],
                );
                self.push(
                    Action::WaitUnused,
                    Some(&k.key_id),
                    format!(
                        "Watch `{}` for a week: if its last use moves, or something breaks, a place still uses it; reactivate it, find the place, and repeat.",
                        k.key_id
                    ),
                    vec![format!(
                        "aws iam get-access-key-last-used --access-key-id {}",
                        k.key_id
                    )],
                );
            }
            self.push(
                Action::Delete,
                Some(&k.key_id),
                format!("Delete `{}`.", k.key_id),
                vec![delete_command(user, &k.key_id)],
            );
        }
        self
    }
}

fn places_count(keys: &[KeyEntry]) -> String {
    let n: usize = keys.iter().map(|k| k.places.len()).sum();
    format!("{n} place{}, listed in the table above", crate::shown::s(n))
}

fn delete_command(user: &str, key: &str) -> String {
    format!("aws iam delete-access-key --user-name {user} --access-key-id {key}")
}

fn deactivate_command(user: &str, key: &str) -> String {
    format!("aws iam update-access-key --user-name {user} --access-key-id {key} --status Inactive")
}

/// `iam:CreateAccessKey` piped into Secrets Manager: the secret passes
/// from one process to the other, never onto a screen or into a file.
fn create_command(user: &str, store: &str) -> String {
    format!(
        "aws iam create-access-key --user-name {user} --query '{{AWS_ACCESS_KEY_ID: AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: AccessKey.SecretAccessKey}}' --output json | aws secretsmanager create-secret --name {store} --secret-string file:///dev/stdin"
    )
}

/// `sts:GetCallerIdentity` with the pair the store holds, in the
/// environment of that one command only.
fn verify_command(store: &str) -> String {
    format!(
        "env $(aws secretsmanager get-secret-value --secret-id {store} --query SecretString --output text | jq -r 'to_entries[] | \"\\(.key)=\\(.value)\"') aws sts get-caller-identity"
    )
}

/// The `keyward fix` commands that rewrite the exposed keys' places.
fn reference_commands(keys: &[KeyEntry], fixes_known: bool) -> Vec<String> {
    let stale: Vec<&Place> = keys
        .iter()
        .filter(|k| k.exposed)
        .flat_map(|k| k.places.iter())
        .collect();
    let mut commands: Vec<String> = stale.iter().filter_map(|p| p.fix.clone()).collect();
    if !fixes_known {
        // What keyward can rewrite of these, shown before it writes; in
        // each repository's own checkout.
        let mut by_repo: BTreeMap<Option<&str>, BTreeSet<String>> = BTreeMap::new();
        for p in &stale {
            let path = match &p.repository {
                Some(r) => p.path.strip_prefix(&format!("{r}:")).unwrap_or(&p.path),
                None => &p.path,
            };
            by_repo
                .entry(p.repository.as_deref())
                .or_default()
                .insert(crate::shown::printable(path).into_owned());
        }
        for (repo, paths) in by_repo {
            let paths: Vec<String> = paths.into_iter().collect();
            let command = format!("keyward fix --diff {}", paths.join(" "));
            commands.push(match repo {
                Some(r) => format!("{command}  # in {}", crate::shown::printable(r)),
                None => command,
            });
        }
    }
    commands.sort();
    commands.dedup();
    commands
}

/// The plan as a Markdown document.
pub fn markdown(plan: &Plan) -> String {
    markdown_at(plan, 1)
}

/// The plan as Markdown whose title is a heading of `level` (1: a
/// document of its own; 2: a section of the audit report).
pub fn markdown_at(plan: &Plan, level: usize) -> String {
    let h1 = "#".repeat(level.max(1));
    let h2 = "#".repeat(level.max(1) + 1);
    use crate::report::escape::md;
    let mut md = format!("{h1} Rotation plan\n\n");
    if !plan.iam {
        md.push_str("No IAM facts in this run: run `keyward plan --inventory FILE` or `--live` to know whose keys these are.\n\n");
    }
    if plan.users.is_empty() && plan.ownerless.is_empty() {
        md.push_str("No keys found.\n");
        return md;
    }
    for u in &plan.users {
        md.push_str(&format!(
            "{h2} IAM user {} (account {})\n\n",
            md::code(&u.user),
            md::text(&u.account)
        ));
        if let Some(why) = &u.urgent {
            md.push_str(&format!("**First:** {}.\n\n", md::message(why)));
        }
        md.push_str(&format!(
            "Keeps: {}\n\n",
            match &u.keep {
                Some(k) => format!("{} ({})", md::code(k), md::message(&u.keep_reason)),
                None => format!("a new key ({})", md::message(&u.keep_reason)),
            }
        ));
        md.push_str("| Key | Status | Age | Last used | Places in the repository |\n|---|---|---|---|---|\n");
        for k in &u.keys {
            let places = if k.places.is_empty() {
                "—".to_string()
            } else {
                by_file(&k.places)
                    .iter()
                    .map(|(path, lines)| format!("{}:{}", md::code(path), lines))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            md.push_str(&format!(
                "| {}{} | {} | {} days | {} | {} |\n",
                md::code(&k.key_id),
                if k.keep {
                    " (keep)"
                } else if k.exposed {
                    " (exposed)"
                } else {
                    ""
                },
                md::text(k.status.as_str()),
                k.age_days,
                md::text(&last_used(k)),
                places
            ));
        }
        md.push_str("\nSteps:\n\n");
        for (i, s) in u.steps.iter().enumerate() {
            md.push_str(&format!(
                "{}. {} {}\n",
                i + 1,
                md::code(s.action.as_str()),
                md::message(&s.text)
            ));
            if let Some(w) = &s.warning {
                md.push_str(&format!("   **Careful:** {}.\n", md::message(w)));
            }
            if !s.commands.is_empty() {
                md.push_str(&md::fenced("sh", &s.commands, "   "));
            }
        }
        md.push('\n');
    }
    if !plan.ownerless.is_empty() {
        md.push_str(&format!("{h2} Keys no IAM user owns\n\n"));
        for k in &plan.ownerless {
            md.push_str(&format!(
                "- {}: {}\n",
                md::code(&k.key_id),
                md::message(&k.why)
            ));
            for (path, lines) in by_file(&k.places) {
                md.push_str(&format!("  - {}:{lines}", md::code(path)));
                if let Some(fix) = k
                    .places
                    .iter()
                    .find(|p| p.path == path)
                    .and_then(|p| p.fix.as_ref())
                {
                    md.push_str(&format!(" ({})", md::code(fix)));
                }
                md.push('\n');
            }
        }
    }
    md
}

/// `3 days ago (s3 in eu-west-1)`, or `never`.
pub(crate) fn last_used(k: &KeyEntry) -> String {
    let Some(d) = k.last_used_days else {
        return "never".into();
    };
    let ago = format!("{d} day{} ago", crate::shown::s(d));
    match &k.last_used_where {
        Some(w) => format!("{ago} ({w})"),
        None => ago,
    }
}

/// Places grouped by file: (path, `3,4`), in order.
pub(crate) fn by_file(places: &[Place]) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for p in places {
        match out.last_mut() {
            Some((path, lines)) if *path == p.path => lines.push_str(&format!(",{}", p.line)),
            _ => out.push((&p.path, p.line.to_string())),
        }
    }
    out
}

/// The plan as JSON.
pub fn json(plan: &Plan) -> String {
    let mut text = serde_json::to_string_pretty(plan).unwrap_or_default();
    text.push('\n');
    text
}
