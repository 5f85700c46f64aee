//! One audit of many repositories' scan documents: places read
//! `repository:path`, and the users whose rotation reached some of them only.

use super::*;

impl Audit {
    /// One report for the scan documents of many repositories, each named
    /// by its `scan.repository` (else `fallback`, its file's name): places
    /// read `repository:path` ([`Audit::with_plan`] adds the plan and the
    /// divergence across them).
    pub fn merge(docs: &[(String, Document)]) -> Result<Audit, AuditError> {
        let mut names: Vec<String> = Vec::new();
        for (fallback, doc) in docs {
            let base = doc
                .scan
                .repository
                .clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| fallback.clone());
            let mut name = base.clone();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{base}#{n}");
                n += 1;
            }
            names.push(name);
        }
        let mut merged: Option<Audit> = None;
        let mut rows = Vec::new();
        // Each IAM source, with the repositories whose scan asked it.
        let mut sources: Vec<(String, Vec<String>)> = Vec::new();
        for (name, (_, doc)) in names.iter().zip(docs) {
            let mut one = Audit::of(doc)?;
            if let Some(iam) = one.scan.as_ref().and_then(|s| s.iam.clone()) {
                match sources.iter_mut().find(|(s, _)| *s == iam) {
                    Some((_, repos)) => repos.push(name.clone()),
                    None => sources.push((iam, vec![name.clone()])),
                }
            }
            for e in one.findings.iter_mut().chain(one.accepted.iter_mut()) {
                e.path = format!("{name}:{}", e.path);
            }
            for f in one
                .scanned
                .findings
                .iter_mut()
                .chain(one.scanned.accepted.iter_mut())
            {
                f.repository = Some(name.clone());
            }
            let by_severity = by_severity(&one.findings);
            rows.push(RepoRow {
                name: name.clone(),
                commit: one.scan.as_ref().and_then(|s| s.commit.clone()),
                date: one.scan.as_ref().and_then(|s| s.date.clone()),
                files_scanned: one.files_scanned.unwrap_or(0),
                by_severity,
                keys: keys(&one).iter().filter(|k| k.key_id.is_some()).count(),
            });
            merged = Some(match merged {
                None => one,
                Some(mut all) => {
                    all.findings.extend(one.findings);
                    all.accepted.extend(one.accepted);
                    all.scanned.findings.extend(one.scanned.findings);
                    all.scanned.accepted.extend(one.scanned.accepted);
                    all.files_scanned =
                        Some(all.files_scanned.unwrap_or(0) + one.files_scanned.unwrap_or(0));
                    all.max_key_age_days = all.max_key_age_days.min(one.max_key_age_days);
                    all
                }
            });
        }
        let mut all = merged.ok_or_else(|| AuditError::Shape("no report to merge".into()))?;
        all.scan = Some(ScanInfo {
            date: None,
            repository: Some(format!("{} repositories", names.len())),
            commit: None,
            iam: merged_iam(sources, names.len()),
        });
        all.repositories = rows;
        Ok(all)
    }
}

/// The IAM line of a merged report: the one source every repository
/// asked, or each source with the repositories that asked it (and how
/// many asked none).
pub(super) fn merged_iam(
    sources: Vec<(String, Vec<String>)>,
    repositories: usize,
) -> Option<String> {
    let asked: usize = sources.iter().map(|(_, r)| r.len()).sum();
    if sources.len() == 1 && asked == repositories {
        return sources.into_iter().next().map(|(s, _)| s);
    }
    let mut parts: Vec<String> = sources
        .into_iter()
        .map(|(source, repos)| format!("{source} for {}", repos.join(", ")))
        .collect();
    if parts.is_empty() {
        return None;
    }
    if asked < repositories {
        let none = repositories - asked;
        parts.push(format!(
            "not asked for {none} {}",
            if none == 1 {
                "repository"
            } else {
                "repositories"
            }
        ));
    }
    Some(parts.join("; "))
}

/// The users whose newest Active key some repositories use while others
/// still reference an older key.
pub(super) fn divergence(plan: &crate::plan::Plan) -> Vec<Divergence> {
    // The rule a divergence across repositories is reported as, and its
    // texts. Without one (no built-in rule says so) nothing is reported.
    let rules = crate::rules::RuleSet::builtin().unwrap_or_default();
    let Some((rule, says)) = rules
        .rules
        .iter()
        .find_map(|r| Some((r, r.across_repositories.as_ref()?)))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for u in &plan.users {
        let Some(newest) = &u.newest_active else {
            continue;
        };
        let mut current: BTreeSet<String> = BTreeSet::new();
        let mut current_places: Vec<String> = Vec::new();
        let mut behind: Vec<Behind> = Vec::new();
        for k in &u.keys {
            for p in &k.places {
                let Some(repo) = &p.repository else { continue };
                let place = format!("{}:{}", p.path, p.line);
                if &k.key_id == newest {
                    current.insert(repo.clone());
                    current_places.push(place);
                    continue;
                }
                match behind
                    .iter_mut()
                    .find(|b| &b.repository == repo && b.key_id == k.key_id)
                {
                    Some(b) => b.places.push(place),
                    None => behind.push(Behind {
                        repository: repo.clone(),
                        key_id: k.key_id.clone(),
                        places: vec![place],
                    }),
                }
            }
        }
        behind.retain(|b| !current.contains(&b.repository));
        if !current.is_empty() && !behind.is_empty() {
            let mut d = Divergence {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                message: String::new(),
                account: u.account.clone(),
                user: u.user.clone(),
                newest: newest.clone(),
                current: current.into_iter().collect(),
                current_places,
                behind,
                related: Vec::new(),
            };
            told(&mut d, says);
            out.push(d);
        }
    }
    out
}

/// The divergence's message and its places' texts, as the rule's
/// `across-repositories:` words them.
fn told(d: &mut Divergence, says: &crate::rules::load::AcrossRepositories) {
    use crate::rules::says::fill;
    let behind: Vec<&str> = d.behind.iter().map(|b| b.repository.as_str()).collect();
    let uses = if d.behind.len() == 1 { "uses" } else { "use" };
    let values = [
        ("user", d.user.clone()),
        ("current", d.current.join(", ")),
        ("newest", d.newest.clone()),
        ("behind", behind.join(", ")),
        ("use", uses.to_string()),
    ];
    d.message = fill(&says.message, &values);
    let newest_here = fill(&says.newest_here, &values);
    d.related = d
        .current_places
        .iter()
        .map(|p| RelatedPlace {
            place: p.clone(),
            message: newest_here.clone(),
        })
        .collect();
    for b in &d.behind {
        let mut with_key = values.to_vec();
        with_key.push(("key", b.key_id.clone()));
        let older_here = fill(&says.older_here, &with_key);
        d.related.extend(b.places.iter().map(|p| RelatedPlace {
            place: p.clone(),
            message: older_here.clone(),
        }));
    }
}
