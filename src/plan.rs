//! `keyward plan`: a rotation plan per IAM user, from a scan and what IAM
//! says: the key to keep (or "create one"), every place that references
//! another key of the user, and the steps in order with exact commands.
//! No secret appears anywhere in a plan.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::ScanOutput;
use crate::iam::KeyStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Whether the scan had IAM facts; without them every key is ownerless.
    pub iam: bool,
    pub users: Vec<UserPlan>,
    /// Keys no IAM user owns: deleted, of another account, or unknown.
    pub ownerless: Vec<OwnerlessKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    pub account: String,
    pub user: String,
    /// The key to keep; `None`: create one.
    pub keep: Option<String>,
    /// Why that key, or why a new one.
    pub keep_reason: String,
    /// The user's keys the repository references or IAM lists.
    pub keys: Vec<KeyEntry>,
    /// In order, with commands; no secrets.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyEntry {
    pub key_id: String,
    pub status: String,
    pub age_days: i64,
    /// `None`: never used, or not known.
    pub last_used_days: Option<i64>,
    /// `s3 in eu-west-1`, when IAM says.
    pub last_used_where: Option<String>,
    pub keep: bool,
    /// Where the repository references it.
    pub places: Vec<Place>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    /// `repository:path` in a plan of many repositories.
    pub path: String,
    pub line: usize,
    /// The `keyward fix` command that rewrites this place, when one does.
    pub fix: Option<String>,
    /// The repository, in a plan of many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub text: String,
    /// Shell commands, one per line; never a secret.
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerlessKey {
    pub key_id: String,
    pub account: Option<String>,
    pub why: String,
    pub places: Vec<Place>,
}

/// A place the repository references a key, as a plan needs it.
struct Reference<'a> {
    key_id: &'a str,
    rule: &'a str,
    place: Place,
}

/// The plan for a scan. `fix_of` says which `keyward fix` command rewrites
/// the place at (path, line), if any.
pub fn plan(out: &ScanOutput, fix_of: &dyn Fn(&str, usize) -> Option<String>) -> Plan {
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
    build(out.meta.iam.is_some(), &out.iam_users, references, true)
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
        });
    }
    users.sort_by(|a, b| (&a.account, &a.name).cmp(&(&b.account, &b.name)));
    let iam = docs.iter().any(|(_, d)| d.scan.iam.is_some());
    build(iam, &users, references, false)
}

/// `fixes_known`: whether each place says which `keyward fix` command
/// rewrites it; otherwise the steps point at `keyward fix --diff`.
fn build<'a>(
    iam: bool,
    iam_users: &[crate::iam::IamUser],
    references: impl Iterator<Item = Reference<'a>>,
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
            .map(|k| KeyEntry {
                key_id: k.access_key_id.clone(),
                status: k.status.as_str().to_string(),
                age_days: k.age_days,
                last_used_days: k.last_used_days,
                last_used_where: k.last_used_where.clone(),
                keep: u.newest_active.as_deref() == Some(k.access_key_id.as_str()),
                places: places
                    .get(k.access_key_id.as_str())
                    .map(|p| p.iter().cloned().collect())
                    .unwrap_or_default(),
            })
            .collect();
        owned.extend(u.keys.iter().filter_map(|k| {
            places
                .get_key_value(k.access_key_id.as_str())
                .map(|(id, _)| *id)
        }));
        users.push(user_plan(u, keys, fixes_known));
    }
    let ownerless = places
        .iter()
        .filter(|(k, _)| !owned.contains(*k))
        .map(|(k, p)| {
            let rules = rules_of.get(k).cloned().unwrap_or_default();
            let why = if !iam {
                "no IAM facts in this run (`--inventory` or `--live` tells whose it is)"
            } else if rules.contains("KW005") {
                "a key of another account: tell that account's owner to deactivate it"
            } else if rules.contains("KW007") {
                "IAM does not know it (deleted, or never of these accounts): remove the references"
            } else {
                "IAM says nothing of it (a temporary or malformed key, or out of scope)"
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

fn user_plan(u: &crate::iam::IamUser, keys: Vec<KeyEntry>, fixes_known: bool) -> UserPlan {
    let user = &u.name;
    let (keep, keep_reason) = match &u.newest_active {
        Some(k) => (Some(k.clone()), "the user's newest Active key".to_string()),
        None if u.tied => (
            None,
            "the user's Active keys were created in the same second and used alike: there is no newest, so make one".into(),
        ),
        None => (None, "the user has no Active key".into()),
    };
    let mut steps = Vec::new();
    match &keep {
        Some(k) => {
            let mut text = format!("Keep `{k}` ({keep_reason}).");
            if keys.iter().any(|e| e.keep && !e.places.is_empty()) {
                text.push_str(
                    " It is written in this repository too: once every place reads it from a secret store, rotate it as well (run this plan again after creating a new key).",
                );
            }
            steps.push(Step {
                text,
                commands: Vec::new(),
            });
        }
        None => steps.push(Step {
            text: format!(
                "Create a new key ({keep_reason}) and put its secret straight into your secret store, never into the repository."
            ),
            commands: vec![format!("aws iam create-access-key --user-name {user}")],
        }),
    }
    let others: Vec<&KeyEntry> = keys.iter().filter(|k| !k.keep).collect();
    let stale_places: Vec<&Place> = others.iter().flat_map(|k| k.places.iter()).collect();
    if !stale_places.is_empty() {
        let mut commands: Vec<String> = stale_places.iter().filter_map(|p| p.fix.clone()).collect();
        if !fixes_known {
            // What keyward can rewrite of these, shown before it writes; in
            // each repository's own checkout.
            let mut by_repo: BTreeMap<Option<&str>, BTreeSet<String>> = BTreeMap::new();
            for p in &stale_places {
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
        steps.push(Step {
            text: format!(
                "Point every place that references another key of `{user}` at the kept key through your secret store ({} place{}, listed in the table above).",
                stale_places.len(),
                if stale_places.len() == 1 { "" } else { "s" }
            ),
            commands,
        });
    }
    let active: Vec<&&KeyEntry> = others
        .iter()
        .filter(|k| k.status == KeyStatus::Active.as_str())
        .collect();
    if !active.is_empty() {
        steps.push(Step {
            text: "Deactivate the other Active keys (reversible).".into(),
            commands: active
                .iter()
                .map(|k| {
                    format!(
                        "aws iam update-access-key --user-name {user} --access-key-id {} --status Inactive",
                        k.key_id
                    )
                })
                .collect(),
        });
        steps.push(Step {
            text: "Wait a week and watch: if a deactivated key's last use moves or something breaks, something still uses it; reactivate it, find the place, and repeat.".into(),
            commands: active
                .iter()
                .map(|k| format!("aws iam get-access-key-last-used --access-key-id {}", k.key_id))
                .collect(),
        });
    }
    if !others.is_empty() {
        steps.push(Step {
            text: "Delete the old keys.".into(),
            commands: others
                .iter()
                .map(|k| {
                    format!(
                        "aws iam delete-access-key --user-name {user} --access-key-id {}",
                        k.key_id
                    )
                })
                .collect(),
        });
    }
    UserPlan {
        account: u.account.clone(),
        user: user.clone(),
        keep,
        keep_reason,
        keys,
        steps,
    }
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
        md.push_str(&format!(
            "Keep: {}\n\n",
            match &u.keep {
                Some(k) => format!("{} ({})", md::code(k), md::message(&u.keep_reason)),
                None => format!("create one ({})", md::message(&u.keep_reason)),
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
                if k.keep { " (keep)" } else { "" },
                md::text(&k.status),
                k.age_days,
                md::text(&last_used(k)),
                places
            ));
        }
        md.push_str("\nSteps:\n\n");
        for (i, s) in u.steps.iter().enumerate() {
            md.push_str(&format!("{}. {}\n", i + 1, md::message(&s.text)));
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

/// The plan as a section of an HTML page (the audit report, or the page
/// [`html`] makes), with `h` headings of `level` and below.
pub fn html_section(plan: &Plan, level: usize) -> String {
    use crate::report::escape::html::{message, text as escape};
    use std::fmt::Write;
    let (h1, h2) = (level.clamp(1, 5), level.clamp(1, 5) + 1);
    let mut h =
        format!("<section class=\"plan\" id=\"rotation-plan\">\n<h{h1}>Rotation plan</h{h1}>\n");
    if !plan.iam {
        h.push_str("<p class=\"empty\">No IAM facts in this run: run <code>keyward plan --inventory FILE</code> or <code>--live</code> to know whose keys these are.</p>\n");
    }
    if plan.users.is_empty() && plan.ownerless.is_empty() {
        h.push_str("<p class=\"empty\">No keys found.</p>\n</section>\n");
        return h;
    }
    let places_html = |places: &[Place]| -> String {
        if places.is_empty() {
            return "—".into();
        }
        by_file(places)
            .iter()
            .map(|(path, lines)| format!("<code>{}:{lines}</code>", escape(path)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for u in &plan.users {
        let _ = writeln!(
            h,
            "<h{h2}>IAM user <code>{}</code> (account {})</h{h2}>",
            escape(&u.user),
            escape(&u.account)
        );
        let _ = writeln!(
            h,
            "<p>Keep: {}</p>",
            match &u.keep {
                Some(k) => format!("<code>{}</code> ({})", escape(k), message(&u.keep_reason)),
                None => format!("<strong>create one</strong> ({})", message(&u.keep_reason)),
            }
        );
        h.push_str("<table>\n<thead><tr><th>Key</th><th>Status</th><th>Age</th><th>Last used</th><th>Places in the repository</th></tr></thead>\n<tbody>\n");
        for k in &u.keys {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code>{}</td><td>{}</td><td class=\"n\">{} days</td><td>{}</td><td class=\"wrap\">{}</td></tr>",
                escape(&k.key_id),
                if k.keep {
                    " <strong>(keep)</strong>"
                } else {
                    ""
                },
                escape(&k.status),
                k.age_days,
                escape(&last_used(k)),
                places_html(&k.places)
            );
        }
        h.push_str("</tbody>\n</table>\n<ol class=\"steps\">\n");
        for s in &u.steps {
            let _ = write!(h, "<li>{}", message(&s.text));
            if !s.commands.is_empty() {
                let _ = write!(
                    h,
                    "<pre class=\"snip\">{}</pre>",
                    escape(&s.commands.join("\n"))
                );
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ol>\n");
    }
    if !plan.ownerless.is_empty() {
        let _ = writeln!(h, "<h{h2}>Keys no IAM user owns</h{h2}>");
        h.push_str("<table>\n<thead><tr><th>Key</th><th>What to do</th><th>Places in the repository</th></tr></thead>\n<tbody>\n");
        for k in &plan.ownerless {
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td class=\"wrap\">{}</td><td class=\"wrap\">{}</td></tr>",
                escape(&k.key_id),
                message(&k.why),
                places_html(&k.places)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
    h
}

/// The plan as an HTML page of its own, styled as the audit report.
pub fn html(plan: &Plan) -> String {
    crate::report::audit::page("keyward rotation plan", &html_section(plan, 1))
}

/// `3 days ago (s3 in eu-west-1)`, or `never`.
fn last_used(k: &KeyEntry) -> String {
    let Some(d) = k.last_used_days else {
        return "never".into();
    };
    let ago = format!("{d} day{} ago", if d == 1 { "" } else { "s" });
    match &k.last_used_where {
        Some(w) => format!("{ago} ({w})"),
        None => ago,
    }
}

/// Places grouped by file: (path, `3,4`), in order.
fn by_file(places: &[Place]) -> Vec<(&str, String)> {
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
