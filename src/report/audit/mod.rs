//! `keyward report FILE.json`: an audit report over `keyward scan --format
//! json` output, grouped the way the people who own the keys ask about them
//! (by rule, IAM user, account, environment, key), as Markdown or as one
//! self-contained HTML page with inline SVG charts.
//!
//! It reads the JSON rather than scanning again so an audit can be rendered
//! from a report kept as a CI artifact, on a machine without the repo.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::contract::{self, Document};
use serde::Serialize;

use crate::detect::env;
use crate::rules::Severity;

/// The default of `max-key-age-days`, in days. Not a fallback: a document
/// always carries its own limit (`policy.max_key_age_days`), and
/// [`Audit::of`] refuses one without a positive limit.
pub const DEFAULT_MAX_KEY_AGE_DAYS: u64 = crate::output::DEFAULT_MAX_KEY_AGE_DAYS.unsigned_abs();

/// Shown for a value the JSON does not carry (IAM facts without an
/// inventory), so "unknown" never reads as "none".
pub(crate) const UNKNOWN: &str = "—";

/// Paths listed per key before the rest is counted: the table must stay
/// readable for a key pasted into fifty files.
const MAX_PLACES: usize = 5;

pub use super::contract::ReadError as AuditError;

mod json;
mod markdown;
mod merge;

pub use json::{EncodeError, SeverityCounts, json};
pub use markdown::markdown;
use merge::divergence;

/// The parts of the scan output an audit is about. Serialized, it is the
/// report's JSON for scripts (`keyward report --format json`): the
/// repositories, the findings in a scan document's own shape, the
/// divergence across repositories and the plan. No secret is in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Audit {
    /// A report of many repositories: one row each (empty for one).
    pub repositories: Vec<RepoRow>,
    /// The findings and accepted findings as the scan documents hold them
    /// (with `repository` in a merged report): what the JSON lists, so a
    /// tool that reads a scan report reads this one.
    #[serde(flatten)]
    pub scanned: Scanned,
    /// IAM users whose keys the repositories use differently.
    pub divergence: Vec<Divergence>,
    /// The rotation plan the findings and IAM's users make.
    pub plan: Option<crate::plan::Plan>,
    /// The findings not accepted; in a merged report each path reads
    /// `repository:path`.
    #[serde(skip)]
    pub findings: Vec<Entry>,
    /// Findings accepted by an ignore, allow entry or baseline: still
    /// places a key is configured, so still places a rotation must change.
    #[serde(skip)]
    pub accepted: Vec<Entry>,
    /// The rotation limit in days, from `policy.max_key_age_days`; in a
    /// merged report the smallest of the documents'.
    #[serde(skip)]
    pub max_key_age_days: u64,
    /// `keyward 0.1.0`, when the JSON says.
    #[serde(skip)]
    pub tool: Option<String>,
    /// `summary.files_scanned`; summed over a merged report's documents.
    #[serde(skip)]
    pub files_scanned: Option<u64>,
    /// What was scanned, when, and with which IAM facts.
    #[serde(skip)]
    pub scan: Option<ScanInfo>,
}

/// Findings in the scan document's own shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Scanned {
    /// The documents' `findings`.
    pub findings: Vec<contract::Finding>,
    /// The documents' `accepted` findings.
    pub accepted: Vec<contract::Finding>,
}

/// One repository of a merged report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoRow {
    /// Its `scan.repository`, else its file's name; `#2`, `#3` … added
    /// when two names are the same.
    #[serde(rename = "repository")]
    pub name: String,
    /// HEAD's commit hash, when the scan recorded one.
    pub commit: Option<String>,
    /// The scan's day (`2026-11-30`), when the document has a date.
    pub date: Option<String>,
    /// Its `summary.files_scanned`.
    pub files_scanned: u64,
    /// Findings (accepted ones not) per severity, in [`Severity::ALL`]
    /// order (named by severity in the JSON).
    #[serde(rename = "findings", serialize_with = "json::by_severity")]
    pub by_severity: [usize; 5],
    /// Distinct access key IDs it references, accepted findings included.
    pub keys: usize,
}

/// An IAM user whose newest Active key some repositories use while others
/// still use an older one: the rotation reached some repositories only.
/// Its texts are the divergence rule's (`across-repositories:` in its
/// file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// The rule it is reported as (`KW011`).
    pub rule: String,
    /// That rule's name.
    pub name: String,
    /// What is wrong, in the rule's words.
    pub message: String,
    /// The user's AWS account.
    pub account: String,
    /// The IAM user's name.
    pub user: String,
    /// The user's newest Active key ID.
    #[serde(rename = "newest_active")]
    pub newest: String,
    /// Repositories that use the newest key.
    pub current: Vec<String>,
    /// Where they use it, `repository:path:line`.
    #[serde(skip)]
    pub current_places: Vec<String>,
    /// Repositories still behind: those that do not use the newest key
    /// anywhere.
    pub behind: Vec<Behind>,
    /// Every place that belongs to it, with what the rule says of each.
    pub related: Vec<RelatedPlace>,
}

/// A repository still on an older key of a [`Divergence`]'s user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behind {
    /// The repository.
    pub repository: String,
    /// The older key it uses.
    pub key_id: String,
    /// Where, `repository:path:line`.
    pub places: Vec<String>,
}

/// A place of a [`Divergence`] and what the rule says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelatedPlace {
    /// `repository:path:line`.
    pub place: String,
    /// The newest key is used here, or an older one.
    pub message: String,
}

/// The JSON's `scan` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScanInfo {
    /// The scan's day (`2026-11-30`, the first 10 characters of its RFC
    /// 3339 date); `None` when it has none, and in a merged report.
    pub date: Option<String>,
    /// The scanned repository, when the scan named one; `N repositories`
    /// in a merged report.
    pub repository: Option<String>,
    /// HEAD's commit hash, when the scan recorded one; `None` in a merged
    /// report.
    pub commit: Option<String>,
    /// `inventory inventory.json (generated 2026-11-28)`, `live IAM
    /// (account 123456789012, 2026-11-30)`; `None`: IAM was not asked. In a
    /// merged report, each different source once, with the repositories
    /// that asked it when they differ.
    pub iam: Option<String>,
}

/// One finding as the audit sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The rule's ID (`KW001`).
    pub rule: String,
    /// The rule's name (`hardcoded-access-key`).
    pub name: String,
    /// The finding's severity.
    pub severity: Severity,
    /// The finding's file; `repository:path` in a merged report.
    pub path: String,
    /// 1-based line where the finding starts.
    pub line: u64,
    /// The access key ID; `None` when the finding has none (or an empty
    /// one).
    pub key_id: Option<String>,
    /// Masked in the JSON already; never anything else here.
    pub secret: Option<String>,
    /// The 12-digit account decoded from the key ID, when the JSON has one.
    pub account: Option<String>,
    /// The environment the path names (`prod`, `staging` …), read before
    /// a merged report prefixes the repository. `""` when the path names no
    /// environment.
    pub env: &'static str,
    /// The IAM user who owns the key; `None`: IAM was not asked or did not
    /// know the key.
    pub iam_user: Option<String>,
    /// IAM's status for the key (`Active`, `Inactive` …), when IAM knew it.
    pub iam_status: Option<String>,
    /// Whole days since the key was created, as of the scan's date, when
    /// IAM knew it.
    pub age_days: Option<i64>,
    /// `None`: IAM was not asked or did not know the key.
    pub last_used: Option<LastUse>,
    /// `s3 in eu-west-1`, when IAM says.
    pub last_used_where: Option<String>,
    /// `--blast-radius`: what the owner may do, and whether that was read
    /// from the policies rather than simulated.
    pub can: Vec<String>,
    /// `can` was read from the policies, not simulated.
    pub can_approximate: bool,
    /// What is wrong, as the finding says it.
    pub message: String,
    /// The value's structural path (`provider.aws.access_key`).
    pub context: String,
    /// The masked source line, when the JSON carries one.
    pub snippet: Option<String>,
    /// How an accepted finding was accepted; `None` for one not accepted.
    pub accepted: Option<crate::finding::SuppressionKind>,
}

/// Reads a `keyward scan --format json` document, with its plan.
pub fn parse(json: &str) -> Result<Audit, AuditError> {
    super::audit_of(&Document::parse(json)?)
}

impl Audit {
    /// The audit of one scan document; an error when its
    /// `policy.max_key_age_days` is not a positive integer.
    pub fn of(doc: &Document) -> Result<Audit, AuditError> {
        let max_key_age_days = u64::try_from(doc.policy.max_key_age_days)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                AuditError::Shape(format!(
                    "`policy.max_key_age_days` is not a positive integer: {}",
                    doc.policy.max_key_age_days
                ))
            })?;
        let entries = |list: &[contract::Finding]| list.iter().map(entry).collect::<Vec<_>>();
        let day = |d: &str| d.get(..10).unwrap_or(d).to_string();
        let known = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        let iam = doc.scan.iam.as_ref().map(|i| match i {
            contract::IamSource::Inventory { file, generated_at } => {
                format!("inventory {file} (generated {})", day(generated_at))
            }
            contract::IamSource::Live { accounts, at } => {
                format!("live IAM (account {}, {})", accounts.join(", "), day(at))
            }
        });
        Ok(Audit {
            findings: entries(&doc.findings),
            accepted: entries(&doc.accepted),
            max_key_age_days,
            tool: Some(format!("{} {}", doc.tool.name, doc.tool.version)),
            files_scanned: Some(doc.summary.files_scanned),
            scan: Some(ScanInfo {
                date: Some(day(&doc.scan.date)).filter(|d| !d.is_empty()),
                repository: known(&doc.scan.repository),
                commit: known(&doc.scan.commit),
                iam,
            }),
            plan: None,
            repositories: Vec::new(),
            divergence: Vec::new(),
            scanned: Scanned {
                findings: doc.findings.clone(),
                accepted: doc.accepted.clone(),
            },
        })
    }

    /// The audit with its rotation plan, and for many repositories the
    /// divergence the plan shows. The caller makes the plan (`plan::
    /// of_document`, or `plan::of_documents` named by the audit's
    /// repositories): the audit reads a plan, it does not make one.
    pub fn with_plan(mut self, plan: crate::plan::Plan) -> Audit {
        if !self.repositories.is_empty() {
            self.divergence = divergence(&plan);
        }
        self.plan = Some(plan);
        self
    }
}

/// The audit's view of one finding a document holds (typed already: its
/// shape was checked when the document was read).
fn entry(f: &contract::Finding) -> Entry {
    let severity = f.severity;
    let known = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Entry {
        rule: f.rule.clone(),
        name: f.name.clone(),
        severity,
        env: env::from_path(&f.path),
        line: f.line,
        path: f.path.clone(),
        key_id: known(&f.key_id),
        secret: known(&f.secret),
        account: known(&f.account),
        iam_user: f.iam.as_ref().map(|i| i.user.clone()),
        iam_status: f.iam.as_ref().map(|i| i.status.clone()),
        age_days: f.iam.as_ref().map(|i| i.age_days),
        last_used: f.iam.as_ref().map(|i| LastUse::of(i.last_used_days)),
        last_used_where: f.iam.as_ref().and_then(|i| {
            crate::iam::last_used_where(Some(&i.last_used_service), Some(&i.last_used_region))
        }),
        can: f.iam.as_ref().map(|i| i.can.clone()).unwrap_or_default(),
        can_approximate: f.iam.as_ref().is_some_and(|i| i.can_approximate),
        message: f.message.clone(),
        context: f.context.clone(),
        snippet: known(&f.snippet),
        accepted: f.suppression.as_ref().map(|s| s.kind),
    }
}

/// Findings counted under one label (a rule, a user, an account …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// The rule, environment, account or user; `—` for findings without
    /// one.
    pub label: String,
    /// How many findings fall under it (accepted ones are not counted).
    pub findings: usize,
    /// In [`Severity::ALL`] order.
    pub by_severity: [usize; 5],
    /// The distinct access key IDs of those findings.
    pub keys: BTreeSet<String>,
}

impl Group {
    /// Counts `e` under this label: once, by its severity, with its key.
    fn add(&mut self, e: &Entry) {
        self.findings += 1;
        if let Some(n) = self.by_severity.get_mut(severity_index(e.severity)) {
            *n += 1;
        }
        if let Some(k) = &e.key_id {
            self.keys.insert(k.clone());
        }
    }
}

pub(crate) fn severity_index(s: Severity) -> usize {
    Severity::ALL.iter().position(|v| *v == s).unwrap_or(0)
}

/// How many of `entries` have each severity, in [`Severity::ALL`] order.
pub fn by_severity(entries: &[Entry]) -> [usize; 5] {
    let mut counts = [0usize; 5];
    for e in entries {
        if let Some(n) = counts.get_mut(severity_index(e.severity)) {
            *n += 1;
        }
    }
    counts
}

/// Groups in descending size, then by label; findings without a value fall
/// under [`UNKNOWN`], listed last.
fn group_by(a: &Audit, label: impl Fn(&Entry) -> Option<String>) -> Vec<Group> {
    let mut groups: BTreeMap<Option<String>, Group> = BTreeMap::new();
    for e in &a.findings {
        let l = label(e);
        groups
            .entry(l.clone())
            .or_insert_with(|| Group {
                label: l.unwrap_or_else(|| UNKNOWN.to_string()),
                ..Group::default()
            })
            .add(e);
    }
    let mut out: Vec<(bool, Group)> = groups.into_iter().map(|(k, g)| (k.is_none(), g)).collect();
    out.sort_by(|(an, a), (bn, b)| {
        an.cmp(bn)
            .then(b.findings.cmp(&a.findings))
            .then(a.label.cmp(&b.label))
    });
    out.into_iter().map(|(_, g)| g).collect()
}

/// The findings (accepted ones not) by the environment their path names
/// (`prod`, `staging` …): largest first, those naming none last, as `—`.
pub fn by_environment(a: &Audit) -> Vec<Group> {
    group_by(a, |e| (!e.env.is_empty()).then(|| e.env.to_string()))
}

/// The findings (accepted ones not) by their key's AWS account: largest
/// first, those without one last, as `—`.
pub fn by_account(a: &Audit) -> Vec<Group> {
    group_by(a, |e| e.account.clone())
}

/// The findings (accepted ones not) by their key's IAM user: largest
/// first, those whose owner IAM did not say last, as `—`.
pub fn by_user(a: &Audit) -> Vec<Group> {
    group_by(a, |e| e.iam_user.clone())
}

/// One row per rule, by rule ID.
pub fn by_rule(a: &Audit) -> Vec<(Group, String, Severity)> {
    let mut rules: BTreeMap<&str, (Group, String, Severity)> = BTreeMap::new();
    for e in &a.findings {
        let (g, _, _) = rules.entry(&e.rule).or_insert_with(|| {
            (
                Group {
                    label: e.rule.clone(),
                    ..Group::default()
                },
                e.name.clone(),
                e.severity,
            )
        });
        g.add(e);
    }
    rules.into_values().collect()
}

/// A credential the repo references: an access key ID, or a secret found
/// without one (so a lone secret is not lost from the table).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRow {
    /// The access key ID; `None` for a secret found without one.
    pub key_id: Option<String>,
    /// The masked secrets found with it, distinct.
    pub secrets: BTreeSet<String>,
    /// The account decoded from the key ID, when a finding has it.
    pub account: Option<String>,
    /// The owner, when IAM knew the key.
    pub iam_user: Option<String>,
    /// IAM's status for the key, when IAM knew it.
    pub status: Option<String>,
    /// Whole days since the key was created, when IAM knew it.
    pub age_days: Option<i64>,
    /// `None`: IAM was not asked or did not know the key.
    pub last_used: Option<LastUse>,
    /// `s3 in eu-west-1`, when IAM says.
    pub last_used_where: Option<String>,
    /// What the owner may do (`--blast-radius`); `can_approximate` marks
    /// an answer read from the policies.
    pub can: Vec<String>,
    /// `can` was read from the policies, not simulated.
    pub can_approximate: bool,
    /// Distinct files. One that only accepted findings name reads
    /// `path (accepted: inline)`.
    pub places: BTreeSet<String>,
    /// How many findings are on it, accepted ones not counted.
    pub findings: usize,
    /// The most severe of its findings (for a credential only accepted
    /// findings name, the first one's severity).
    pub worst: Severity,
}

/// One row per credential the findings name, accepted ones included: key
/// IDs first, then secrets found without one, each in sorted order. The
/// first finding that knows an IAM fact speaks for the key.
pub fn keys(a: &Audit) -> Vec<KeyRow> {
    // Key IDs sort before lone secrets; the enum order does it.
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Id<'a> {
        Key(&'a str),
        Secret(&'a str),
    }
    let mut rows: BTreeMap<Id<'_>, KeyRow> = BTreeMap::new();
    for e in a.findings.iter().chain(&a.accepted) {
        let id = match (&e.key_id, &e.secret) {
            (Some(k), _) => Id::Key(k),
            (None, Some(s)) => Id::Secret(s),
            (None, None) => continue,
        };
        let row = rows.entry(id).or_insert_with(|| KeyRow {
            key_id: e.key_id.clone(),
            secrets: BTreeSet::new(),
            account: None,
            iam_user: None,
            status: None,
            age_days: None,
            last_used: None,
            last_used_where: None,
            can: Vec::new(),
            can_approximate: false,
            places: BTreeSet::new(),
            findings: 0,
            worst: e.severity,
        });
        if let Some(s) = &e.secret {
            row.secrets.insert(s.clone());
        }
        // The first finding that knows a fact speaks for the key: every
        // finding on the same key ID carries the same IAM facts.
        row.account = row.account.take().or_else(|| e.account.clone());
        row.iam_user = row.iam_user.take().or_else(|| e.iam_user.clone());
        row.status = row.status.take().or_else(|| e.iam_status.clone());
        row.age_days = row.age_days.or(e.age_days);
        row.last_used = row.last_used.or(e.last_used);
        row.last_used_where = row
            .last_used_where
            .take()
            .or_else(|| e.last_used_where.clone());
        if row.can.is_empty() && !e.can.is_empty() {
            row.can.clone_from(&e.can);
            row.can_approximate = e.can_approximate;
        }
        match &e.accepted {
            None => {
                row.places.insert(e.path.clone());
                row.findings += 1;
                row.worst = row.worst.max(e.severity);
            }
            Some(kind) => {
                if !row.places.contains(&e.path) {
                    row.places
                        .insert(format!("{} (accepted: {})", e.path, kind.as_str()));
                }
            }
        }
    }
    rows.into_values().collect()
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the report is about: `Scanned 2026-11-30 · org/repo at abc1234 ·
/// keyward 0.1.0 · IAM: inventory … (generated …)`. Ages in the report
/// are as of the scan date.
pub(crate) fn about(a: &Audit) -> Option<String> {
    let s = a.scan.as_ref()?;
    let mut parts = Vec::new();
    if let Some(d) = &s.date {
        parts.push(format!("Scanned {d} (ages are as of this date)"));
    }
    match (&s.repository, &s.commit) {
        (Some(r), Some(c)) => parts.push(format!("{r} at {}", c.get(..12).unwrap_or(c))),
        (Some(r), None) => parts.push(r.clone()),
        (None, Some(c)) => parts.push(format!("commit {}", c.get(..12).unwrap_or(c))),
        (None, None) => {}
    }
    if let Some(t) = &a.tool {
        parts.push(t.clone());
    }
    parts.push(format!(
        "IAM: {}",
        s.iam
            .as_deref()
            .unwrap_or("none (no --inventory or --live)")
    ));
    Some(parts.join(" · "))
}

pub(crate) fn headline(a: &Audit, keys: &[KeyRow]) -> String {
    let mut parts = vec![
        count(a.findings.len(), "finding", "findings"),
        count(
            keys.iter().filter(|k| k.key_id.is_some()).count(),
            "access key",
            "access keys",
        ),
    ];
    if let Some(n) = a.files_scanned {
        parts.push(count(n as usize, "file scanned", "files scanned"));
    }
    parts.push(format!("rotation limit {} days", a.max_key_age_days));
    parts.join(" · ")
}

pub(crate) fn age_text(age: Option<i64>, limit: u64) -> String {
    match age {
        None => UNKNOWN.into(),
        Some(d) if d > 0 && d as u64 > limit => format!("{d} days (over {limit})"),
        Some(1) => "1 day".into(),
        Some(d) => format!("{d} days"),
    }
}

/// When IAM says a key was last used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastUse {
    /// IAM has no record of a use.
    Never,
    /// Whole days before the scan's date; 0 is the same day.
    DaysAgo(i64),
}

impl LastUse {
    /// From IAM's days since last use (`None`: never).
    pub fn of(days: Option<i64>) -> LastUse {
        days.map_or(LastUse::Never, LastUse::DaysAgo)
    }
}

/// `3 days ago (s3 in eu-west-1)`, `never`, `—` when not known.
pub(crate) fn last_used_text(used: Option<LastUse>, at: Option<&str>) -> String {
    let text = match used {
        None => return UNKNOWN.into(),
        Some(LastUse::Never) => return "never".into(),
        Some(LastUse::DaysAgo(0)) => "today".to_string(),
        Some(LastUse::DaysAgo(1)) => "1 day ago".to_string(),
        Some(LastUse::DaysAgo(d)) => format!("{d} days ago"),
    };
    match at {
        Some(w) => format!("{text} ({w})"),
        None => text,
    }
}

/// `iam:CreateAccessKey, s3:GetObject`, `nothing asked about`, or `not
/// asked` for a key whose owner was not looked at.
pub(crate) fn can_text(k: &KeyRow) -> String {
    if k.can.is_empty() {
        return "—".into();
    }
    let mut s = k.can.join(", ");
    if k.can_approximate {
        s.push_str(" (from its policies)");
    }
    s
}

pub(crate) fn places_text(places: &BTreeSet<String>) -> String {
    let mut shown: Vec<&str> = places.iter().take(MAX_PLACES).map(String::as_str).collect();
    let more = places.len().saturating_sub(MAX_PLACES);
    let more = (more > 0).then(|| format!("+{more} more"));
    if let Some(m) = &more {
        shown.push(m);
    }
    shown.join(", ")
}

fn or_unknown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or(UNKNOWN)
}

pub(crate) fn env_label(label: &str) -> &str {
    if label == UNKNOWN { "(none)" } else { label }
}

#[cfg(test)]
mod tests {
    use super::merge::merged_iam;
    use super::*;

    #[test]
    fn a_merged_report_names_every_iam_source() {
        let inv = "inventory inventory.json (generated 2026-11-28)".to_string();
        let live = "live IAM (account 123456789012, 2026-11-30)".to_string();
        assert_eq!(
            merged_iam(vec![(inv.clone(), vec!["a".into(), "b".into()])], 2),
            Some(inv.clone())
        );
        assert_eq!(
            merged_iam(
                vec![
                    (inv.clone(), vec!["a".into()]),
                    (live.clone(), vec!["b".into()])
                ],
                3
            ),
            Some(format!(
                "{inv} for a; {live} for b; not asked for 1 repository"
            ))
        );
        assert_eq!(
            merged_iam(vec![(inv.clone(), vec!["a".into()])], 3),
            Some(format!("{inv} for a; not asked for 2 repositories"))
        );
        assert_eq!(merged_iam(Vec::new(), 2), None);
    }
    use crate::report::html::audit as html;

    /// A whole document as keyward writes it, around findings given by
    /// their interesting fields only (the rest take plain values).
    fn doc(findings: &str) -> String {
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&format!("[{findings}]")).expect("test findings");
        let findings: Vec<serde_json::Value> = list
            .into_iter()
            .map(|given| {
                let mut f = serde_json::json!({
                    "account": null, "column": 1, "context": "", "end_column": 1,
                    "end_line": 1, "fingerprint": "", "iam": null, "key_id": null,
                    "line": 1, "message": "", "name": "", "path": "", "related": [],
                    "rule": "", "secret": null, "severity": "high", "snippet": null,
                });
                for (k, v) in given.as_object().expect("an object") {
                    f[k] = v.clone();
                }
                f
            })
            .collect();
        serde_json::json!({
            "version": 1,
            "tool": {"name": "keyward", "version": "0.1.0"},
            "findings": findings, "accepted": [], "more": [], "errors": [], "gate": null,
            "policy": {"allowed_accounts": [], "max_key_age_days": 90, "max_unused_days": 90},
            "scan": {"date": "2026-11-28T12:00:00Z", "repository": null, "commit": null, "iam": null},
            "summary": contract::Summary::default(),
        })
        .to_string()
    }

    const F: &str = r#"{"rule":"KW001","name":"hardcoded-access-key","severity":"high","path":"envs/prod/main.tf","line":3,"key_id":"AKIAEXAMPLEKEY000001","secret":"wJal…EKEY","account":"123456789012"}"#;

    #[test]
    fn iam_facts_absent_read_as_unknown_and_present_as_given() {
        let a = parse(&doc(F)).expect("parses");
        let e = &a.findings[0];
        assert_eq!((e.iam_user.as_deref(), e.age_days), (None, None));
        assert_eq!(e.env, "prod");
        assert_eq!(a.max_key_age_days, DEFAULT_MAX_KEY_AGE_DAYS);
        let md = markdown(&a);
        assert!(md.contains("| `AKIAEXAMPLEKEY000001` | `wJal…EKEY` | `123456789012` | — | — | — | — | 1 | envs/prod/main.tf |"), "{md}");

        let with = F.replace(
            r#""line":3"#,
            r#""line":3,"iam":{"user":"deploy-bot","status":"Inactive","age_days":120,"last_used_days":-1}"#,
        );
        let a = parse(&doc(&with)).expect("parses");
        let md = markdown(&a);
        assert!(
            md.contains("| `deploy-bot` | Inactive | 120 days (over 90) | never |"),
            "{md}"
        );
        assert!(md.contains("| `deploy-bot` | 1 | 1 |"), "{md}");
    }

    #[test]
    fn shapes_keyward_never_wrote_are_not_read() {
        // Flat IAM fields and a `config` scope were never in the contract.
        let flat = F.replace(r#""line":3"#, r#""line":3,"iam_user":"ci","age_days":5"#);
        let text = doc(&flat).replacen('{', r#"{"config":{"max_key_age_days":30},"#, 1);
        let a = parse(&text).expect("unknown keys are extensions");
        assert_eq!(a.findings[0].iam_user, None);
        assert_eq!(a.findings[0].age_days, None);
        assert_eq!(a.max_key_age_days, DEFAULT_MAX_KEY_AGE_DAYS);
        // A partial `iam` object is not what keyward writes.
        let partial = F.replace(r#""line":3"#, r#""line":3,"iam":{"user":"ci"}"#);
        assert!(matches!(parse(&doc(&partial)), Err(AuditError::Shape(_))));
    }

    #[test]
    fn rotation_limit_is_read_from_the_policy() {
        let text = doc(F).replace(r#""max_key_age_days":90"#, r#""max_key_age_days":30"#);
        assert_eq!(parse(&text).expect("parses").max_key_age_days, 30);
        let bad = doc(F).replace(r#""max_key_age_days":90"#, r#""max_key_age_days":0"#);
        let e = parse(&bad).expect_err("zero");
        assert!(e.to_string().contains("max_key_age_days"), "{e}");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"version":1}"#,
            r#"{"version":"1"}"#,
            r#"{"version":1,"findings":{}}"#,
            &doc("").replace(r#""findings":[]"#, r#""findings":[1]"#),
            &doc(r#"{"rule":"KW001","severity":"dire"}"#),
            &doc(r#"{"rule":"KW001","line":-3}"#),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&doc(r#"{"rule":"KW001"}"#)).is_ok());
        let no_path = doc(r#"{"rule":"KW001"}"#).replace(r#""path":"","#, "");
        let e = parse(&no_path).expect_err("no path");
        assert!(
            e.to_string().starts_with(
                "not the output of `keyward scan --format json`: missing field `path`"
            ),
            "{e}"
        );
        let e = parse(r#"{"version":2,"findings":[]}"#).expect_err("version 2");
        assert_eq!(
            e.to_string(),
            "not the output of `keyward scan --format json`: version 2; this keyward reads version 1"
        );
    }

    #[test]
    fn one_day_is_singular_and_findings_are_listed_by_file() {
        assert_eq!(last_used_text(Some(LastUse::DaysAgo(1)), None), "1 day ago");
        assert_eq!(
            last_used_text(Some(LastUse::DaysAgo(2)), None),
            "2 days ago"
        );
        assert_eq!(
            last_used_text(Some(LastUse::DaysAgo(2)), Some("s3 in eu-west-1")),
            "2 days ago (s3 in eu-west-1)"
        );
        assert_eq!(last_used_text(Some(LastUse::Never), Some("s3")), "never");
        assert_eq!(age_text(Some(1), 90), "1 day");
        let h = html(&parse(&doc(F)).expect("parses")).expect("renders");
        assert!(h.contains("All findings, by file"), "{h}");
        assert!(h.contains("<h3><code>envs/prod/main.tf</code>"), "{h}");
    }

    #[test]
    fn html_escapes_every_text() {
        let evil = F.replace("envs/prod/main.tf", "<script>alert('x')</script>&.tf");
        let h = html(&parse(&doc(&evil)).expect("parses")).expect("renders");
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;.tf"));
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        let pipe = F.replace("envs/prod/main.tf", r"a|b\nc.tf");
        let md = markdown(&parse(&doc(&pipe)).expect("parses"));
        assert!(md.contains("a\\|b c.tf"), "{md}");
    }

    #[test]
    fn no_ages_say_so_instead_of_an_empty_chart() {
        let h = html(&parse(&doc(F)).expect("parses")).expect("renders");
        assert!(h.contains("No key ages are known"));
        assert_eq!(
            h.matches("<svg").count(),
            2,
            "severity and environment only"
        );
    }

    #[test]
    fn keys_group_lone_secrets_and_divergent_secrets() {
        let two = format!(
            "{F},{},{}",
            F.replace("wJal…EKEY", "xW4D…5AYF")
                .replace("main.tf", "other.tf"),
            r#"{"rule":"KW002","severity":"critical","path":"v.tf","secret":"vnsp…qCtw"}"#
        );
        let rows = keys(&parse(&doc(&two)).expect("parses"));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].secrets.len(), 2);
        assert_eq!(rows[0].places.len(), 2);
        assert_eq!(rows[1].key_id, None);
        assert_eq!(rows[1].worst, Severity::Critical);
    }
}
