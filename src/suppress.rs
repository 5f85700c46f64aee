//! Accepting findings: inline `keyward:ignore` comments, `[[allow]]` entries
//! of the configuration, and a baseline of fingerprints. Suppressed findings
//! stay in the output (SARIF carries them); an ignore comment that
//! suppresses nothing becomes a `KW000 unused-ignore` finding.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{AllowEntry, Config};
use crate::finding::{Finding, Suppression, SuppressionKind, fingerprint};
pub use crate::ignore_comment::{covering, marker_covers};
use crate::output::ScanOutput;
use crate::rules::RuleSet;
use crate::rules::facts::{Fact, Facts};
use crate::shown::LineIndex;

/// The baseline file: accepted findings by fingerprint, sorted, no secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The file format's version (1).
    pub version: u32,
    /// The accepted findings.
    pub findings: Vec<BaselineEntry>,
}

/// One accepted finding of a [`Baseline`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    /// Its file, as the scan showed it.
    pub path: String,
    /// Its rule's ID.
    pub rule: String,
    /// Where in the file's structure (`aws_access_key`, `env.AWS_…`).
    pub context: String,
    /// Masked (`AKIA…746Y`): the fingerprint carries the identity, and a
    /// full key ID would make the baseline itself a finding.
    pub key: Option<String>,
    /// What a later scan matches it by.
    pub fingerprint: String,
    /// The finding without its path ([`Finding::identity`]): a finding whose
    /// file moved is still this one. Absent in baselines of keyward 0.1.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identity: String,
}

/// Why a baseline cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file cannot be read.
    #[error("cannot read baseline {path}: {source}")]
    Read {
        /// The file, as the user named it.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The parser's message, masked: it may quote a value of the file.
    #[error("baseline {path} is not a keyward baseline: {message}")]
    Parse {
        /// The file, as the user named it.
        path: String,
        /// What is wrong, and where.
        message: String,
    },
}

impl Baseline {
    /// The baseline of a scan's findings about credentials (what `keyward
    /// baseline` writes): every finding not already accepted, by
    /// fingerprint, key IDs masked. An unused ignore is fixed, not accepted.
    pub fn from_output(out: &ScanOutput) -> Baseline {
        let mut findings: Vec<BaselineEntry> = out
            .findings
            .iter()
            // Only findings about a credential: an unused ignore is fixed,
            // not accepted.
            .filter(|f| f.suppression.is_none() && !f.identity.is_empty())
            .map(|f| BaselineEntry {
                path: out
                    .files
                    .get(f.file)
                    .map_or_else(String::new, |s| s.path.clone()),
                rule: f.rule.clone(),
                context: f.context.clone(),
                key: f.key_id.as_deref().map(crate::detect::mask),
                fingerprint: f.fingerprint.clone(),
                identity: f.identity.clone(),
            })
            .collect();
        findings.sort();
        findings.dedup();
        Baseline {
            version: 1,
            findings,
        }
    }

    /// Reads and parses a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = crate::shown::shown_path(path);
        let text = crate::named_file::read_text(path, crate::named_file::MAX_NAMED_FILE).map_err(
            |source| BaselineError::Read {
                path: shown.clone(),
                source,
            },
        )?;
        Baseline::parse(&shown, &text)
    }

    /// Reads baseline text; `shown` names it in errors.
    pub fn parse(shown: &str, text: &str) -> Result<Baseline, BaselineError> {
        serde_json::from_str(text).map_err(|e| BaselineError::Parse {
            path: shown.to_string(),
            message: crate::detect::masked_for_errors(&e.to_string()),
        })
    }

    /// The file's text, pretty-printed, sorted: two baselines of the same
    /// findings are the same bytes.
    pub fn to_json(&self) -> Result<String, crate::report::audit::EncodeError> {
        let mut s = serde_json::to_string_pretty(self)?;
        s.push('\n');
        Ok(s)
    }
}

/// Marks accepted findings and reports unused ignores, and, when the scan
/// covered the configuration's whole tree (`whole_tree`), `[[allow]]`
/// entries that accepted nothing.
pub fn apply(
    out: &mut ScanOutput,
    config: &Config,
    baseline: Option<&Baseline>,
    rules: &RuleSet,
    cwd: &Path,
    whole_tree: bool,
) {
    for file in &mut out.files {
        for m in &mut file.ignores {
            m.resolve(rules);
        }
    }
    let used = accept(out, config, baseline, cwd);
    let Some(rule) = rules.raised_by(crate::rules::load::RaisedBy::Suppression) else {
        out.summary.findings = out.active().count() as u64;
        return;
    };
    // One CEL context for every message chosen here.
    let memo = crate::rules::eval::Memo::default();
    let (mut unused, more) = unused_ignores(out, rules, rule, &used.ignores, &memo);
    for m in more {
        out.summary.not_shown += m.count;
        out.more.push(m);
    }
    if whole_tree {
        // An entry for rules that did not run is not known to be unused.
        let allows_used: Vec<bool> = used
            .allows
            .iter()
            .zip(&config.allow)
            .map(|(used, e)| *used || all_off(rules, &e.rules))
            .collect();
        unused_allows(out, config, &allows_used, rule, cwd, &memo, &mut unused);
    }
    out.findings.extend(unused);
    out.findings
        .sort_by(|a, b| (a.file, a.span.start, &a.rule).cmp(&(b.file, b.span.start, &b.rule)));
    out.summary.findings = out.active().count() as u64;
}

/// Which ignore comments (file, marker) and `[[allow]]` entries accepted a
/// finding.
struct Used {
    ignores: HashSet<(usize, usize)>,
    allows: Vec<bool>,
}

/// Marks each finding an ignore comment, an allow entry or the baseline
/// accepts, in that order, and counts baselined findings found moved.
fn accept(out: &mut ScanOutput, config: &Config, baseline: Option<&Baseline>, cwd: &Path) -> Used {
    let mut used = Used {
        ignores: HashSet::new(),
        allows: vec![false; config.allow.len()],
    };
    // The configuration names the keys its entries accept: those key IDs in
    // it are not leaks.
    let config_shown = config
        .path
        .as_ref()
        .map(|p| crate::walk::display_path(p, cwd));
    let allowed_ids: HashSet<&str> = config
        .allow
        .iter()
        .filter_map(|a| a.target.key_id.as_deref())
        .collect();
    let baseline_prints: HashSet<&str> = baseline
        .map(|b| b.findings.iter().map(|e| e.fingerprint.as_str()).collect())
        .unwrap_or_default();
    let mut orphans = baseline_orphans(out, baseline);
    let mut moved = 0u64;
    let line_indexes: Vec<LineIndex> = out.files.iter().map(|f| LineIndex::new(&f.text)).collect();
    for finding in &mut out.findings {
        let Some(file) = out.files.get(finding.file) else {
            continue;
        };
        let line = line_indexes
            .get(finding.file)
            .map_or(0, |l| l.line_of(finding.span.start));
        if let Some((i, m)) = covering(&file.ignores, line, &finding.rule) {
            used.ignores.insert((finding.file, i));
            finding.suppression = Some(Suppression {
                kind: SuppressionKind::Inline,
                reason: if m.reason.is_empty() {
                    "keyward:ignore".into()
                } else {
                    m.reason.clone()
                },
            });
            continue;
        }
        if config_shown.as_deref() == Some(file.path.as_str())
            && finding.secret.is_none()
            && finding
                .key_id
                .as_deref()
                .is_some_and(|k| allowed_ids.contains(k))
        {
            finding.suppression = Some(Suppression {
                kind: SuppressionKind::Allow,
                reason: "the key ID of an [[allow]] entry".into(),
            });
            continue;
        }
        let rel = config_relative(&file.path, cwd, &config.root);
        let allow = config
            .allow
            .iter()
            .enumerate()
            .find(|(_, a)| allow_matches(a, finding, &rel, &file.path));
        if let Some((ai, a)) = allow {
            if let Some(u) = used.allows.get_mut(ai) {
                *u = true;
            }
            finding.suppression = Some(Suppression {
                kind: SuppressionKind::Allow,
                reason: a.reason.clone(),
            });
            continue;
        }
        if baseline_prints.contains(finding.fingerprint.as_str()) {
            finding.suppression = Some(Suppression {
                kind: SuppressionKind::Baseline,
                reason: "in the baseline".into(),
            });
        } else if !finding.identity.is_empty()
            && let Some(paths) = orphans.get_mut(&(finding.rule.clone(), finding.identity.clone()))
            && let Some(from) = paths.pop()
        {
            moved += 1;
            finding.suppression = Some(Suppression {
                kind: SuppressionKind::Baseline,
                reason: format!(
                    "in the baseline (moved from {})",
                    crate::shown::printable(&from)
                ),
            });
        }
    }
    out.summary.baseline_moved = moved;
    used
}

/// Baseline entries no finding of this scan matches where they were, by
/// rule and identity: a finding with the same rule and identity elsewhere
/// was moved there.
fn baseline_orphans(
    out: &ScanOutput,
    baseline: Option<&Baseline>,
) -> std::collections::HashMap<(String, String), Vec<String>> {
    let current: HashSet<&str> = out
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let mut orphans: std::collections::HashMap<(String, String), Vec<String>> =
        std::collections::HashMap::new();
    for e in baseline.map_or(&[][..], |b| b.findings.as_slice()) {
        if !e.identity.is_empty() && !current.contains(e.fingerprint.as_str()) {
            orphans
                .entry((e.rule.clone(), e.identity.clone()))
                .or_default()
                .push(e.path.clone());
        }
    }
    orphans
}

/// KW000 for each ignore comment that accepted nothing (or names a rule
/// that does not exist), and the count past the per-file cap.
fn unused_ignores(
    out: &ScanOutput,
    rules: &RuleSet,
    rule: &crate::rules::Rule,
    used: &HashSet<(usize, usize)>,
    memo: &crate::rules::eval::Memo,
) -> (Vec<Finding>, Vec<crate::output::More>) {
    let mut unused = Vec::new();
    let cap = crate::output::MAX_FINDINGS_PER_RULE_PER_FILE;
    let mut more = Vec::new();
    for (fi, file) in out.files.iter().enumerate() {
        // As for every rule: past the cap, counted, not reported one by one.
        let mut in_file = 0u64;
        for (mi, m) in file.ignores.iter().enumerate() {
            let was_used = used.contains(&(fi, mi));
            if was_used && m.unknown.is_empty() {
                continue;
            }
            // The rules it names did not run (`--ignore`, `select`): whether
            // it is still needed cannot be told from this scan.
            if !was_used && m.unknown.is_empty() && all_off(rules, &m.rules) {
                continue;
            }
            in_file += 1;
            if in_file > cap {
                continue;
            }
            let names = match (m.rules.is_empty(), m.unknown.is_empty()) {
                (true, true) => "any rule".to_string(),
                _ => m
                    .rules
                    .iter()
                    .chain(&m.unknown)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let mut facts = Facts::default();
            facts.str(crate::fact!("file.path"), file.path.clone());
            facts.str(crate::fact!("suppression.kind"), "ignore");
            facts.str(crate::fact!("suppression.names"), names.clone());
            facts.set(
                crate::fact!("suppression.unknown"),
                Fact::List(m.unknown.clone()),
            );
            facts.bool(crate::fact!("suppression.used"), was_used);
            let (message, help) = rule_texts(rule, &facts, memo);
            unused.push(Finding {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                severity: rule.severity,
                message,
                help,
                file: fi,
                span: m.span.clone(),
                key_id: None,
                secret: None,
                account: None,
                context: String::new(),
                fingerprint: fingerprint(&rule.id, &file.path, "", "", &names),
                identity: String::new(),
                suppression: None,
                related: Vec::new(),
                iam: None,
                provenance: None,
            });
        }
        if in_file > cap {
            more.push(crate::output::More {
                file: fi,
                rule: rule.id.clone(),
                name: rule.name.clone(),
                severity: rule.severity,
                count: in_file - cap,
            });
        }
    }
    (unused, more)
}

/// The rule file's message and help for these facts.
fn rule_texts(
    rule: &crate::rules::Rule,
    facts: &Facts,
    memo: &crate::rules::eval::Memo,
) -> (String, String) {
    (
        crate::rules::eval::text_for(&rule.messages, facts, memo),
        crate::rules::eval::text_for(&rule.helps, facts, memo),
    )
}

/// Whether `names` names rules and none of them ran.
fn all_off(rules: &RuleSet, names: &[String]) -> bool {
    !names.is_empty()
        && names
            .iter()
            .all(|n| rules.get(n).is_some_and(|r| !r.enabled))
}

/// `[[allow]]` entries that accepted nothing, as KW000 on the entry.
fn unused_allows(
    out: &mut ScanOutput,
    config: &Config,
    used: &[bool],
    rule: &crate::rules::Rule,
    cwd: &Path,
    memo: &crate::rules::eval::Memo,
    findings: &mut Vec<Finding>,
) {
    let (Some(path), Some(src)) = (&config.path, &config.source) else {
        return;
    };
    let mut file_index = None;
    for (entry, _) in config.allow.iter().zip(used).filter(|(_, u)| !**u) {
        let fi = *file_index.get_or_insert_with(|| {
            let shown = crate::walk::display_path(path, cwd);
            out.files
                .iter()
                .position(|f| f.path == shown)
                .unwrap_or_else(|| {
                    out.files.push(crate::finding::SourceFile {
                        path: shown,
                        format: crate::parse::format::Format::Toml,
                        text: std::sync::Arc::from(src.inner().as_str()),
                        secret_spans: Vec::new(),
                        ignores: Vec::new(),
                        excerpt: None,
                    });
                    out.files.len() - 1
                })
        });
        let shown = out.files.get(fi).map_or("", |f| f.path.as_str());
        let scope = if entry.rules.is_empty() {
            String::new()
        } else {
            format!(" ({})", entry.rules.join(", "))
        };
        let mut facts = Facts::default();
        facts.str(crate::fact!("file.path"), shown);
        facts.str(crate::fact!("suppression.kind"), "allow");
        facts.str(
            crate::fact!("suppression.target"),
            format!("{}{scope}", entry.target),
        );
        let (message, help) = rule_texts(rule, &facts, memo);
        findings.push(Finding {
            rule: rule.id.clone(),
            name: rule.name.clone(),
            severity: rule.severity,
            message,
            help,
            file: fi,
            span: entry.span.clone(),
            key_id: None,
            secret: None,
            account: None,
            context: "[[allow]]".into(),
            fingerprint: fingerprint(
                &rule.id,
                shown,
                "",
                "",
                &format!("allow:{}{scope}", entry.target),
            ),
            identity: String::new(),
            suppression: None,
            related: Vec::new(),
            iam: None,
            provenance: None,
        });
    }
}

/// Whether an `[[allow]]` entry accepts a finding; `rel` is the finding's
/// path relative to the configuration, `shown` as output shows it.
pub fn allow_matches(a: &AllowEntry, finding: &Finding, rel: &Path, shown: &str) -> bool {
    let t = &a.target;
    (a.rules.is_empty() || a.rules.iter().any(|r| r == &finding.rule))
        && t.key_id
            .as_ref()
            .is_none_or(|k| finding.key_id.as_deref() == Some(k.as_str()))
        && t.path
            .as_ref()
            .is_none_or(|p| p.matcher.is_match(rel) || p.matcher.is_match(shown))
        && t.fingerprint
            .as_ref()
            .is_none_or(|fp| fp == &finding.fingerprint)
}

/// A displayed path (relative to `cwd`) made relative to the config root.
pub fn config_relative(display: &str, cwd: &Path, root: &Path) -> std::path::PathBuf {
    let abs = cwd.join(display);
    let root_abs = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    abs.strip_prefix(&root_abs)
        .map_or_else(|_| Path::new(display).to_path_buf(), Path::to_path_buf)
}
