//! The audit as JSON for scripts: typed views of [`Audit`], serialized.

use super::*;

/// The report's facts for scripts: the repositories (merged reports), the
/// findings as a scan report lists them, the cross-repository divergence
/// and the rotation plan. No secret is in it.
pub fn json(a: &Audit) -> Result<String, EncodeError> {
    // The rule a divergence across repositories is reported as.
    let rules = crate::rules::RuleSet::builtin().unwrap_or_default();
    let across = rules
        .rules
        .iter()
        .find_map(|r| Some((r, r.across_repositories.as_ref()?)));
    let report = ReportJson {
        repositories: a.repositories.iter().map(RepoJson::of).collect(),
        findings: &a.scanned.findings,
        accepted: &a.scanned.accepted,
        divergence: a
            .divergence
            .iter()
            .filter_map(|d| across.map(|(rule, says)| DivergenceJson::of(d, rule, says)))
            .collect(),
        plan: a.plan.as_ref(),
    };
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    Ok(text)
}

/// A report that could not be written as JSON (never expected: it is plain
/// strings and numbers); said rather than written empty.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("could not encode the JSON report: {0}")]
#[diagnostic(code(keyward::report))]
pub struct EncodeError(#[from] serde_json::Error);

/// `--format json` of a merged (or single) audit report.
#[derive(Serialize)]
struct ReportJson<'a> {
    repositories: Vec<RepoJson<'a>>,
    findings: &'a [contract::Finding],
    accepted: &'a [contract::Finding],
    divergence: Vec<DivergenceJson<'a>>,
    plan: Option<&'a crate::plan::Plan>,
}

#[derive(Serialize)]
struct RepoJson<'a> {
    repository: &'a str,
    commit: Option<&'a str>,
    date: Option<&'a str>,
    files_scanned: u64,
    findings: SeverityCounts,
    keys: usize,
}

impl<'a> RepoJson<'a> {
    fn of(r: &'a RepoRow) -> RepoJson<'a> {
        RepoJson {
            repository: &r.name,
            commit: r.commit.as_deref(),
            date: r.date.as_deref(),
            files_scanned: r.files_scanned,
            findings: SeverityCounts::of(r.by_severity),
            keys: r.keys,
        }
    }
}

/// Findings per severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Findings of severity `critical`.
    pub critical: usize,
    /// Findings of severity `high`.
    pub high: usize,
    /// Findings of severity `medium`.
    pub medium: usize,
    /// Findings of severity `low`.
    pub low: usize,
    /// Findings of severity `info`.
    pub info: usize,
}

impl SeverityCounts {
    /// From counts in [`Severity::ALL`] order.
    pub fn of([critical, high, medium, low, info]: [usize; 5]) -> SeverityCounts {
        SeverityCounts {
            critical,
            high,
            medium,
            low,
            info,
        }
    }
}

/// A divergence in a finding's shape: what is wrong, and the places that
/// belong to it in each repository.
#[derive(Serialize)]
struct DivergenceJson<'a> {
    rule: &'a str,
    name: &'a str,
    message: String,
    account: &'a str,
    user: &'a str,
    newest_active: &'a str,
    current: &'a [String],
    behind: Vec<BehindJson<'a>>,
    related: Vec<RelatedJson>,
}

#[derive(Serialize)]
struct BehindJson<'a> {
    repository: &'a str,
    key_id: &'a str,
    places: &'a [String],
}

#[derive(Serialize)]
struct RelatedJson {
    place: String,
    message: String,
}

impl<'a> DivergenceJson<'a> {
    /// The divergence as `rule` reports it, in the texts its
    /// `across-repositories:` gives.
    fn of(
        d: &'a Divergence,
        rule: &'a crate::rules::Rule,
        says: &crate::rules::load::AcrossRepositories,
    ) -> DivergenceJson<'a> {
        use crate::rules::says::fill;
        let behind: Vec<&str> = d.behind.iter().map(|(r, _, _)| r.as_str()).collect();
        let uses = if d.behind.len() == 1 { "uses" } else { "use" };
        let values = [
            ("user", d.user.clone()),
            ("current", d.current.join(", ")),
            ("newest", d.newest.clone()),
            ("behind", behind.join(", ")),
            ("use", uses.to_string()),
        ];
        let message = fill(&says.message, &values);
        let newest_here = fill(&says.newest_here, &values);
        let mut related: Vec<RelatedJson> = d
            .current_places
            .iter()
            .map(|p| RelatedJson {
                place: p.clone(),
                message: newest_here.clone(),
            })
            .collect();
        for (_, key, places) in &d.behind {
            let mut with_key = values.to_vec();
            with_key.push(("key", key.clone()));
            let older_here = fill(&says.older_here, &with_key);
            related.extend(places.iter().map(|p| RelatedJson {
                place: p.clone(),
                message: older_here.clone(),
            }));
        }
        DivergenceJson {
            rule: &rule.id,
            name: &rule.name,
            message,
            account: &d.account,
            user: &d.user,
            newest_active: &d.newest,
            current: &d.current,
            behind: d
                .behind
                .iter()
                .map(|(repository, key_id, places)| BehindJson {
                    repository,
                    key_id,
                    places,
                })
                .collect(),
            related,
        }
    }
}
