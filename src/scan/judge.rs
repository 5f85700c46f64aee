//! Candidates + IAM's answers → findings: facts, rules, the per-file cap,
//! related places. Nothing is read and nothing is asked here.

use std::collections::{HashMap, HashSet};

use crate::detect::{self, Candidate, CandidateKind, key_id};
use crate::finding::{Finding, Warning, fingerprint};
use crate::iam::{Enrichment, KeyFacts, UserRef};
use crate::rules::facts::{Fact, Facts};
use crate::rules::{RuleSet, eval};
use crate::scan::extract::{Extracted, FileCandidates};
use crate::scan::{MAX_FINDINGS_PER_RULE_PER_FILE, More, Policy, ScanOptions, ScanOutput};

/// Counts over all the files judged together (the `repo.*` facts).
struct RepoCounts<'a> {
    /// Places that reference each key ID.
    refs: HashMap<&'a str, i64>,
    /// Distinct secrets paired with each key ID.
    secrets: HashMap<&'a str, HashSet<&'a str>>,
    /// Distinct key IDs of each IAM user.
    keys_for_user: HashMap<UserRef, i64>,
}

impl<'a> RepoCounts<'a> {
    fn of(files: &'a [FileCandidates], iam: &Enrichment) -> Self {
        let mut refs: HashMap<&str, i64> = HashMap::new();
        let mut secrets: HashMap<&str, HashSet<&str>> = HashMap::new();
        // What IAM was asked about: placeholders never are.
        let mut asked: HashSet<&str> = HashSet::new();
        for f in files {
            for c in &f.candidates {
                if c.kind == CandidateKind::AccessKeyId && !c.malformed {
                    *refs.entry(c.value.as_str()).or_default() += 1;
                    if !c.placeholder {
                        asked.insert(c.value.as_str());
                    }
                    if let Some(s) = f.secret_of(c) {
                        secrets
                            .entry(c.value.as_str())
                            .or_default()
                            .insert(s.value.as_str());
                    }
                }
            }
        }
        let mut keys_for_user: HashMap<UserRef, i64> = HashMap::new();
        for key in asked {
            if let Some(user) = iam.user_of(key) {
                *keys_for_user.entry(user).or_default() += 1;
            }
        }
        RepoCounts {
            refs,
            secrets,
            keys_for_user,
        }
    }
}

/// Judges what was extracted with IAM's answers: repo-wide aggregates
/// over the files judged together, then facts and rules for every
/// candidate. "The repo" is whatever was extracted together: a tree, a
/// change, or one version of a file in `--history`.
pub(crate) fn judge(
    extracted: Extracted,
    rules: &RuleSet,
    opts: &ScanOptions,
    iam: &crate::iam::Enrichment,
) -> ScanOutput {
    let Extracted {
        files,
        mut errors,
        summary,
        own_reports,
        inventories,
    } = extracted;
    errors.sort();
    let mut judge = Judge {
        rules,
        opts,
        iam,
        repo: RepoCounts::of(&files, iam),
        memo: eval::Memo::default(),
        reported_errors: HashSet::new(),
        wanted_related: HashMap::new(),
        errors,
        summary,
        out: ScanOutput::default(),
    };
    for f in &files {
        judge.file(f);
    }
    let Judge {
        mut out,
        errors,
        mut summary,
        wanted_related,
        ..
    } = judge;
    link_related(&files, &mut out, &wanted_related);
    out.warnings = errors;
    out.own_reports = own_reports;
    out.inventories = inventories;
    out.meta.iam.clone_from(&iam.source_info);
    out.meta.date = opts
        .iam
        .now
        .unwrap_or_else(jiff::Timestamp::now)
        .to_string();
    summary.findings = out.findings.len() as u64;
    out.summary = summary;
    out.policy = opts.policy.clone();
    out
}

/// Judges files one by one, with what the whole scan shares: the repo's
/// counts, IAM's answers, the rules' memo.
struct Judge<'a> {
    rules: &'a RuleSet,
    opts: &'a ScanOptions,
    iam: &'a Enrichment,
    repo: RepoCounts<'a>,
    memo: eval::Memo,
    /// Rule errors said once each.
    reported_errors: HashSet<String>,
    /// Per finding (by fingerprint) of a rule with `related:`: the key IDs
    /// whose places it points at, and what to say there.
    wanted_related: HashMap<String, (Vec<String>, String)>,
    errors: Vec<Warning>,
    summary: crate::output::Summary,
    out: ScanOutput,
}

impl Judge<'_> {
    /// One file's findings, capped per rule, with the file kept for the
    /// reports when it has findings or ignore comments.
    fn file(&mut self, f: &FileCandidates) {
        let mut file_findings = Vec::new();
        // Findings per rule in this file; past the cap only counted.
        let mut per_rule: HashMap<usize, u64> = HashMap::new();
        // Judging a file has the same time budget as reading it.
        let _budget = crate::budget::start(self.opts.file_timeout);
        for (ci, c) in f.candidates.iter().enumerate() {
            if crate::budget::expired() {
                self.errors.push(Warning {
                    kind: crate::finding::ProblemKind::Budget,
                    path: f.path.clone(),
                    message: format!(
                        "judging stopped after --file-timeout: {} of {} candidates judged, findings in this file may be incomplete",
                        ci,
                        f.candidates.len()
                    ),
                });
                break;
            }
            if !self.opts.include_placeholders && c.placeholder {
                self.summary.placeholders += 1;
                continue;
            }
            self.candidate(f, c, &mut per_rule, &mut file_findings);
        }
        if file_findings.is_empty() && f.ignores.is_empty() {
            return;
        }
        let index = self.out.files.len();
        let mut capped: Vec<(usize, u64)> = per_rule
            .into_iter()
            .filter(|&(_, n)| n > MAX_FINDINGS_PER_RULE_PER_FILE)
            .collect();
        capped.sort_unstable();
        for (i, n) in capped {
            let rule = &self.rules.rules[i];
            let more = n - MAX_FINDINGS_PER_RULE_PER_FILE;
            self.summary.not_shown += more;
            self.out.more.push(More {
                file: index,
                rule: rule.id.clone(),
                name: rule.name.clone(),
                severity: rule.severity,
                count: more,
            });
        }
        for finding in &mut file_findings {
            finding.file = index;
        }
        file_findings.sort_by(|a, b| (a.span.start, &a.rule).cmp(&(b.span.start, &b.rule)));
        self.out.findings.extend(file_findings);
        self.out.files.push(f.source_file());
    }

    /// The findings of one candidate: its facts, the rules that hold, and
    /// for rules with `related:` the places to point at.
    fn candidate(
        &mut self,
        f: &FileCandidates,
        c: &Candidate,
        per_rule: &mut HashMap<usize, u64>,
        findings: &mut Vec<Finding>,
    ) {
        let (rules, iam) = (self.rules, self.iam);
        let key = f.key_of(c);
        let secret = f.secret_of(c);
        let mut facts = facts_for(f, c, key, secret, &self.repo, &self.opts.policy);
        let well_formed = key.filter(|k| !k.malformed).map(|k| k.value.as_str());
        iam_facts(
            &mut facts,
            &iam.key_facts(well_formed, secret.map(|s| s.value.as_str())),
        );
        if let Some(user) = well_formed.and_then(|k| iam.user_of(k)) {
            facts.int(
                crate::fact!("repo.keys_for_user"),
                self.repo.keys_for_user.get(&user).copied().unwrap_or(0),
            );
        }
        let (hits, eval_errors) = rules.matching_with(&facts, &mut self.memo);
        for e in eval_errors {
            if self
                .reported_errors
                .insert(format!("{}{}", e.rule, e.message))
            {
                self.errors.push(Warning {
                    kind: crate::finding::ProblemKind::Rule,
                    path: f.path.clone(),
                    message: format!("rule {} could not be evaluated: {}", e.rule, e.message),
                });
            }
        }
        let key_id = key.map(|k| k.value.clone());
        let account = key
            .filter(|k| !k.malformed)
            .and_then(|k| key_id::account(&k.value));
        let fp_secret = secret.map_or("", |s| s.value.as_str());
        for i in hits {
            let n = per_rule.entry(i).or_default();
            *n += 1;
            if *n > MAX_FINDINGS_PER_RULE_PER_FILE {
                continue;
            }
            let rule = &rules.rules[i];
            let print = fingerprint(
                &rule.id,
                &f.path,
                key_id.as_deref().unwrap_or(""),
                fp_secret,
                &c.context,
            );
            if let Some(spec) = &rule.related {
                let keys = match facts.get(spec.keys) {
                    Some(Fact::Str(k)) if !k.is_empty() => vec![k.clone()],
                    Some(Fact::List(l)) => l.clone(),
                    _ => Vec::new(),
                };
                if !keys.is_empty() {
                    self.wanted_related
                        .insert(print.clone(), (keys, eval::render(&spec.message, &facts)));
                }
            }
            findings.push(Finding {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                severity: rule.severity,
                message: eval::text_for(&rule.messages, &facts, &self.memo),
                help: eval::text_for(&rule.helps, &facts, &self.memo),
                file: 0,
                span: c.span.clone(),
                key_id: key_id.clone(),
                secret: secret.map(|s| detect::mask(&s.value)),
                account: account.clone(),
                context: c.context.clone(),
                fingerprint: print,
                identity: f.identity(c),
                suppression: None,
                related: Vec::new(),
                iam: well_formed.and_then(|k| iam.info(k)),
                provenance: None,
            });
        }
    }
}

/// Gives each finding of a rule with `related:` the places that hold the
/// key IDs its facts named.
fn link_related(
    files: &[FileCandidates],
    out: &mut ScanOutput,
    wanted: &HashMap<String, (Vec<String>, String)>,
) {
    if wanted.is_empty() {
        return;
    }
    for i in 0..out.findings.len() {
        let Some((keys, message)) = wanted.get(&out.findings[i].fingerprint) else {
            continue;
        };
        let mut related = Vec::new();
        for f in files {
            for c in &f.candidates {
                if c.kind != CandidateKind::AccessKeyId || !keys.contains(&c.value) {
                    continue;
                }
                let here = &out.findings[i];
                if out.files.get(here.file).is_some_and(|s| s.path == f.path) && here.span == c.span
                {
                    continue;
                }
                // A place without findings of its own still has to be
                // shown, so its file joins the output.
                let file = match out.files.iter().position(|s| s.path == f.path) {
                    Some(index) => index,
                    None => {
                        out.files.push(f.source_file());
                        out.files.len() - 1
                    }
                };
                related.push(crate::finding::Related {
                    file,
                    span: c.span.clone(),
                    message: message.clone(),
                });
            }
        }
        out.findings[i].related = related;
    }
}

/// IAM's answer about a candidate's key, as the rules' `iam.*` and
/// `verify.*` facts. CEL has no absent value: what IAM does not say keeps
/// the fact's neutral default.
pub(crate) fn iam_facts(facts: &mut Facts, k: &KeyFacts) {
    if let Some(result) = k.verify {
        facts.str(crate::fact!("verify.result"), result);
    }
    if let Some(known) = k.known {
        facts.bool(crate::fact!("iam.known"), known);
    }
    let Some(listed) = &k.listed else {
        return;
    };
    let info = &listed.info;
    facts.bool(crate::fact!("iam.exists"), true);
    facts.str(crate::fact!("iam.status"), info.status.as_str());
    facts.str(crate::fact!("iam.user"), info.user.clone());
    facts.int(crate::fact!("iam.age_days"), info.age_days);
    // Never used is -1 here, and `iam.never_used` says it plainly.
    facts.int(
        crate::fact!("iam.last_used_days"),
        info.last_used_days.unwrap_or(-1),
    );
    facts.bool(
        crate::fact!("iam.never_used"),
        info.last_used_days.is_none(),
    );
    facts.str(
        crate::fact!("iam.last_used_service"),
        info.last_used_service.clone(),
    );
    facts.str(
        crate::fact!("iam.last_used_region"),
        info.last_used_region.clone(),
    );
    facts.set(crate::fact!("iam.can"), Fact::List(info.can.clone()));
    facts.bool(crate::fact!("iam.can_escalate"), listed.can_escalate);
    facts.bool(crate::fact!("iam.can_approximate"), info.can_approximate);
    facts.bool(
        crate::fact!("iam.quarantined"),
        listed.quarantine_policy.is_some(),
    );
    facts.str(
        crate::fact!("iam.quarantine_policy"),
        listed.quarantine_policy.clone().unwrap_or_default(),
    );
    facts.bool(crate::fact!("iam.newest_tied"), listed.newest_tied);
    facts.str(
        crate::fact!("iam.newest_active_key"),
        listed.newest_active_key.clone().unwrap_or_default(),
    );
    facts.set(
        crate::fact!("iam.user_active_keys"),
        Fact::List(listed.active_keys.clone()),
    );
}

fn facts_for(
    f: &FileCandidates,
    c: &Candidate,
    key: Option<&Candidate>,
    secret: Option<&Candidate>,
    repo: &RepoCounts<'_>,
    policy: &Policy,
) -> Facts {
    let mut facts = Facts::default();
    facts.str(crate::fact!("candidate.kind"), c.kind.as_str());
    if let Some(k) = key {
        facts.str(crate::fact!("key.id"), k.value.clone());
        facts.str(crate::fact!("key.prefix"), k.value.get(..4).unwrap_or(""));
        facts.str(crate::fact!("key.kind"), key_id::kind(&k.value));
        if !k.malformed {
            facts.str(
                crate::fact!("key.account"),
                key_id::account(&k.value).unwrap_or_default(),
            );
        }
        facts.bool(crate::fact!("key.placeholder"), k.placeholder);
        facts.bool(crate::fact!("key.malformed"), k.malformed);
        facts.int(
            crate::fact!("repo.refs"),
            repo.refs.get(k.value.as_str()).copied().unwrap_or(0),
        );
        facts.int(
            crate::fact!("repo.secrets_for_key"),
            repo.secrets
                .get(k.value.as_str())
                .map_or(0, |s| s.len() as i64),
        );
        facts.bool(crate::fact!("session.present"), k.token.is_some());
    }
    if let Some(s) = secret {
        facts.bool(crate::fact!("secret.present"), true);
        facts.str(crate::fact!("secret.masked"), detect::mask(&s.value));
        facts.bool(crate::fact!("secret.placeholder"), s.placeholder);
    }
    facts.str(crate::fact!("file.path"), f.path.clone());
    facts.str(crate::fact!("file.format"), f.format.as_str());
    facts.str(crate::fact!("file.env"), detect::env::from_path(&f.path));
    facts.str(crate::fact!("location.context"), c.context.clone());
    facts.str(crate::fact!("location.name"), c.name.clone());
    facts.str(crate::fact!("location.encoding"), c.encoding.as_str());
    facts.str(crate::fact!("verify.result"), "unchecked");
    facts.set(
        crate::fact!("config.allowed_accounts"),
        Fact::List(policy.allowed_accounts.clone()),
    );
    facts.int(
        crate::fact!("config.max_key_age_days"),
        policy.max_key_age_days,
    );
    facts.int(
        crate::fact!("config.max_unused_days"),
        policy.max_unused_days,
    );
    facts
}
