//! `KW015 suppression-added`: what a change does to the policy that judges
//! it. Every way of silencing keyward a change can write (an ignore comment,
//! an `[[allow]]` entry, a rule turned off or lowered, a wider `exclude`, a
//! narrower `include`, a looser gate or limit, new custom rules, new baseline
//! entries) becomes a finding on the line that writes it. Whether KW015 runs
//! and how severe it is comes from the base's configuration only.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use super::{Named, PolicyFile, PolicySet};
use crate::config::{AllowEntry, Config};
use crate::finding::{Finding, Related, SourceFile, Warning, fingerprint};
use crate::git::{Change, Repo};
use crate::output::ScanOutput;
use crate::rules::says::{Said, Saying};
use crate::rules::{Rule, RuleSet, Severity};
use crate::shown::LineIndex;
use crate::suppress::{allow_matches, config_relative, marker_covers};

/// One loosening, before it becomes a finding.
struct Item {
    /// The file as output shows it, and its text in the change.
    path: String,
    text: Arc<str>,
    span: Range<usize>,
    /// What kind of setting (`[[allow]]`, `keyward:ignore`, …): the
    /// finding's context.
    what: String,
    /// What it does, without what it silences: a text of the rule's
    /// `says:`, filled in.
    says: Saying,
    /// Findings of this scan it silences or would silence.
    silenced: Vec<usize>,
    /// The reason the change gives, when it gives one.
    reason: Option<String>,
    /// Instead of the rule's severity: the gate's, for what must fail it.
    severity: Option<Severity>,
}

/// A tree's policy, read before the review needs it: a commit's review is
/// what a pre-commit hook waits for, so HEAD's policy and the index's are
/// read beside the scan, not after it.
pub struct TreePolicy {
    tree: crate::git::Tree,
    policy: PolicySet,
}

impl TreePolicy {
    /// HEAD's policy as `wanted` names it, when it can be read (else the
    /// review reads it again, and says why it cannot).
    pub fn of_head(repo: &Repo, wanted: &Named) -> Option<TreePolicy> {
        let tree = crate::git::Tree::commit(repo, "HEAD").ok()?;
        let policy = PolicySet::from_tree(repo, &tree, wanted).ok()?;
        Some(TreePolicy { tree, policy })
    }

    /// The index's policy (what a commit would hold), as [`of_head`](Self::of_head).
    pub fn of_index(repo: &Repo, wanted: &Named) -> Option<TreePolicy> {
        let tree = crate::git::Tree::Index;
        let policy = PolicySet::from_tree(repo, &tree, wanted).ok()?;
        Some(TreePolicy { tree, policy })
    }
}

/// The policy of `tree` from what was read ahead, else read now.
fn policy_of(
    repo: &Repo,
    tree: &crate::git::Tree,
    wanted: &Named,
    read: &mut Vec<TreePolicy>,
) -> Result<PolicySet, super::PolicyError> {
    match read.iter().position(|r| r.tree == *tree) {
        Some(i) => Ok(read.swap_remove(i).policy),
        None => PolicySet::from_tree(repo, tree, wanted),
    }
}

/// Adds a KW015 finding for every suppression `change` introduces. A policy
/// that cannot be read is said as a warning: a broken base is compared as
/// the defaults, a broken change is itself a finding. Returns the base's
/// `fail-on`, so a change cannot lift the gate that judges it. `read` holds
/// the policies of trees read already (the base's, the change's).
pub fn report(
    out: &mut ScanOutput,
    repo: &Repo,
    change: &Change,
    wanted: &Named,
    blocking: bool,
    mut read: Vec<TreePolicy>,
) -> crate::severity::FailOn {
    let Some(base) = base_policy(out, repo, change, wanted, &mut read) else {
        return Config::default().fail_on;
    };
    let gate = base.config.fail_on;
    let Some(rule) = base.rules.raised_by(crate::rules::load::RaisedBy::Change) else {
        return gate;
    };
    let mut items = suppressions_added(out, repo, change, &base);
    let head = policy_of(repo, &change.head, wanted, &mut read);
    // The inventories the policies name are what they are for, not
    // look-alikes (swapping one is a change of its own, below).
    let named: HashSet<String> = [Some(&base), head.as_ref().ok()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.files.inventory.as_ref())
        .map(|f| repo.display(&f.path))
        .collect();
    items.extend(unjudged(out, change, gate, &named));
    match head {
        Ok(head) => compare(out, repo, &repo.cwd, &base, &head, &mut items),
        Err(e) => unreadable_head(out, repo, change, wanted, &e, &mut items),
    }
    let mut facts = crate::rules::facts::Facts::default();
    facts.bool(crate::fact!("change.blocking"), blocking);
    let help =
        crate::rules::eval::text_for(&rule.helps, &facts, &crate::rules::eval::Memo::default());
    for item in items {
        push_finding(out, rule, &help, item);
    }
    out.findings
        .sort_by(|a, b| (a.file, a.span.start, &a.rule).cmp(&(b.file, b.span.start, &b.rule)));
    out.summary.findings = out.active().count() as u64;
    gate
}

/// The base's policy; one that cannot be read is said as a warning and
/// the defaults stand in (`None` only if even they cannot be built).
fn base_policy(
    out: &mut ScanOutput,
    repo: &Repo,
    change: &Change,
    wanted: &Named,
    read: &mut Vec<TreePolicy>,
) -> Option<PolicySet> {
    match policy_of(repo, &change.base, wanted, read) {
        Ok(p) => Some(p),
        Err(e) => {
            out.warnings.push(Warning {
                kind: crate::finding::ProblemKind::Config,
                path: String::new(),
                message: format!(
                    "cannot read the policy of {}: {}; the change is compared with the default policy",
                    change.base,
                    crate::detect::masked_for_errors(&e.to_string())
                ),
            });
            PolicySet::defaults()
        }
    }
}

/// What the change adds that silences findings in its files: ignore
/// markers (new, or old ones on new lines), attributes that hide a file,
/// `[scan] exclude` entries, and keyward reports it adds.
fn suppressions_added(
    out: &mut ScanOutput,
    repo: &Repo,
    change: &Change,
    base: &PolicySet,
) -> Vec<Item> {
    let mut items = Vec::new();
    // In a file skipped as keyward's own report, an ignore is quoted text
    // (rule docs embedded in SARIF), not a suppression: the report itself
    // is the finding below.
    let own: HashSet<&str> = out.own_reports.iter().map(|(p, _)| p.as_str()).collect();
    for m in change
        .markers
        .iter()
        .filter(|m| !own.contains(m.path.as_str()))
    {
        let mut m = m.clone();
        m.marker.resolve(&base.rules);
        items.push(inline_item(out, &m));
    }
    items.extend(old_markers_on_new_lines(out, change));
    items.extend(hiding_attributes(out, repo, change));
    items.extend(change.excluded.iter().map(|e| Item {
        path: e.path.clone(),
        text: e.text.clone(),
        span: e.span.clone(),
        what: "[scan] exclude".into(),
        says: Saying::new(Said::ExcludedFile).with("what", e.what.clone()),
        silenced: Vec::new(),
        reason: None,
        severity: None,
    }));
    for (path, first_line) in &out.own_reports {
        if change.lines.contains_key(path) {
            items.push(Item {
                path: path.clone(),
                text: Arc::from(first_line.as_str()),
                span: 0..first_line.len(),
                what: "keyward report".into(),
                says: Saying::new(Said::OwnReport),
                silenced: Vec::new(),
                reason: None,
                severity: None,
            });
        }
    }
    items
}

/// A change whose own policy cannot be read: a finding on its
/// configuration file when there is one to point at, else a warning.
fn unreadable_head(
    out: &mut ScanOutput,
    repo: &Repo,
    change: &Change,
    wanted: &Named,
    e: &super::PolicyError,
    items: &mut Vec<Item>,
) {
    match head_config_path(repo, &change.head, wanted) {
        Some((path, text)) => items.push(Item {
            path: repo.display(&path),
            text: Arc::from(text.as_str()),
            span: first_line(&text),
            what: "configuration".into(),
            says: Saying::new(Said::UnreadablePolicy)
                .with("error", crate::detect::masked_for_errors(&e.to_string())),
            silenced: Vec::new(),
            reason: None,
            severity: None,
        }),
        None => out.warnings.push(Warning {
            kind: crate::finding::ProblemKind::Config,
            path: String::new(),
            message: format!(
                "cannot read the policy of {}: {}",
                change.head,
                crate::detect::masked_for_errors(&e.to_string())
            ),
        }),
    }
}

/// Files the change adds or grows that keyward could not judge whole: too
/// large to parse (only searched for keys), unreadable, stopped by the time
/// budget, or skipped as an IAM inventory. At the gate's severity: a file
/// nobody could read must not pass for one that holds nothing.
fn unjudged(
    out: &ScanOutput,
    change: &Change,
    gate: crate::severity::FailOn,
    named_inventories: &HashSet<String>,
) -> Vec<Item> {
    use crate::finding::ProblemKind;
    let mut why: std::collections::BTreeMap<&str, Said> = std::collections::BTreeMap::new();
    for e in &out.warnings {
        let reason = match e.kind {
            ProblemKind::TooLarge => Said::TooLarge,
            ProblemKind::Read | ProblemKind::NotScanned => Said::Unreadable,
            ProblemKind::Budget => Said::CutShort,
            _ => continue,
        };
        if change.grown.contains(&e.path) {
            why.entry(e.path.as_str()).or_insert(reason);
        }
    }
    for path in &out.inventories {
        if change.grown.contains(path) && !named_inventories.contains(path) {
            why.entry(path.as_str()).or_insert(Said::InventoryFile);
        }
    }
    why.into_iter()
        .map(|(path, reason)| Item {
            path: path.to_string(),
            text: Arc::from(""),
            span: 0..0,
            what: "unjudged file".into(),
            says: Saying::new(reason),
            silenced: Vec::new(),
            reason: None,
            severity: gate.least(),
        })
        .collect()
}

/// `.gitattributes` lines the change writes that hide files of its tree
/// from reviewers (`-diff`, `binary`, `linguist-generated` …).
fn hiding_attributes(out: &mut ScanOutput, repo: &Repo, change: &Change) -> Vec<Item> {
    let hiding: Vec<_> = change
        .attributes
        .iter()
        .filter_map(|file| {
            let lines = change.lines.get(&file.path)?;
            let found = super::attributes::hiding_lines(&file.text, lines);
            (!found.is_empty()).then_some((file, found))
        })
        .collect();
    if hiding.is_empty() {
        return Vec::new();
    }
    let paths = match super::tree::all_paths(&repo.at_top(), &change.head) {
        Ok(p) => p,
        Err(e) => {
            out.warnings.push(Warning {
                kind: crate::finding::ProblemKind::NotScanned,
                path: String::new(),
                message: format!(
                    "cannot list the files of {} to judge its `.gitattributes`: {e}",
                    change.head
                ),
            });
            Vec::new()
        }
    };
    let mut items = Vec::new();
    for (file, found) in hiding {
        for h in found {
            let Some(m) = super::attributes::matcher(&file.dir, &h.pattern) else {
                continue;
            };
            let matched: Vec<&String> = paths
                .iter()
                .filter(|p| m.is_match(p.as_str()) && !p.ends_with(".gitattributes"))
                .collect();
            let Some(first) = matched.first() else {
                continue;
            };
            let attrs = h
                .attributes
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let count = match matched.len() {
                1 => format!("`{}`", repo.display(first)),
                n => format!("{n} files, `{}` among them", repo.display(first)),
            };
            items.push(Item {
                path: file.path.clone(),
                text: file.text.clone(),
                span: h.span.clone(),
                what: ".gitattributes".into(),
                says: Saying::new(Said::GitAttributes)
                    .with("pattern", h.pattern.clone())
                    .with("attributes", attrs)
                    .with("files", count),
                silenced: Vec::new(),
                reason: None,
                severity: None,
            });
        }
    }
    items
}

/// The stricter of two gates: the lower threshold; `None` (never) is the
/// loosest.
impl PolicySet {
    /// The built-in policy: no configuration file.
    pub fn defaults() -> Option<PolicySet> {
        let config = Config::default();
        let rules = RuleSet::configured_with(&config, &[]).ok()?;
        Some(PolicySet {
            config,
            rules,
            baseline: None,
            files: super::PolicyFiles::default(),
            iam: crate::iam::SourceChoice::None,
            named: super::Named::default(),
            notes: Vec::new(),
        })
    }
}

/// The change's configuration file and text, found the way
/// [`PolicySet::from_tree`] finds it, for pointing at it when it is broken.
fn head_config_path(
    repo: &Repo,
    tree: &crate::git::Tree,
    wanted: &Named,
) -> Option<(String, String)> {
    let top = repo.at_top();
    let path = match &wanted.config {
        Some(p) => repo.repo_path(p)?,
        None => super::discover(&top, tree, &super::start_dir(repo, &wanted.start)).ok()??,
    };
    let text = super::tree::read(&top, tree, &path).ok()??;
    Some((path, text))
}

fn first_line(text: &str) -> Range<usize> {
    0..text.find('\n').unwrap_or(text.len())
}

fn inline_item(out: &ScanOutput, m: &crate::git::AddedMarker) -> Item {
    let silenced = out
        .findings
        .iter()
        .enumerate()
        // Findings about a credential, not about settings.
        .filter(|(_, f)| !f.identity.is_empty())
        .filter(|(_, f)| {
            let Some(file) = out.files.get(f.file).filter(|s| s.path == m.path) else {
                return false;
            };
            let line = LineIndex::new(&m.text).line_of(f.span.start);
            // The ignore that takes the finding, as the suppression step
            // decides it: this one, or one on the finding's own line.
            marker_covers(&m.marker, line, &f.rule)
                && crate::suppress::covering(&file.ignores, line, &f.rule)
                    .is_none_or(|(_, c)| c.line == m.marker.line)
        })
        .map(|(i, _)| i)
        .collect();
    let says = if m.marker.rules.is_empty() && m.marker.unknown.is_empty() {
        Saying::new(Said::IgnoreCommentAll)
    } else {
        let names = m.marker.rules.iter().chain(&m.marker.unknown);
        Saying::new(Said::IgnoreComment)
            .with("rules", names.cloned().collect::<Vec<_>>().join(", "))
    };
    Item {
        path: m.path.clone(),
        text: m.text.clone(),
        span: m.marker.span.clone(),
        what: "keyward:ignore".into(),
        says,
        silenced,
        reason: (!m.marker.reason.is_empty()).then(|| m.marker.reason.clone()),
        severity: None,
    }
}

/// Findings on lines the change adds that an ignore comment the change did
/// not touch silences: a comment left above an empty line accepts whatever
/// a later change writes there.
fn old_markers_on_new_lines(out: &ScanOutput, change: &Change) -> Vec<Item> {
    let mut items = Vec::new();
    for f in &out.findings {
        let Some(s) = &f.suppression else { continue };
        if s.kind != crate::finding::SuppressionKind::Inline {
            continue;
        }
        let Some(file) = out.files.get(f.file) else {
            continue;
        };
        let Some(ranges) = change.lines.get(&file.path) else {
            continue;
        };
        let index = LineIndex::new(&file.text);
        let line = index.line_of(f.span.start);
        if !ranges.iter().any(|&(a, b)| (a..=b).contains(&(line + 1))) {
            continue;
        }
        let Some(marker) = file
            .ignores
            .iter()
            .find(|m| marker_covers(m, line, &f.rule))
        else {
            continue;
        };
        let touched = change
            .markers
            .iter()
            .any(|m| m.path == file.path && m.marker.line == marker.line);
        if touched {
            continue;
        }
        items.push(Item {
            path: file.path.clone(),
            text: file.text.clone(),
            span: f.span.clone(),
            what: "keyward:ignore".into(),
            says: Saying::new(Said::IgnoreExisting)
                .with("rule", f.rule.clone())
                .with("name", f.name.clone())
                .with("line", (marker.line + 1).to_string()),
            silenced: Vec::new(),
            reason: (!marker.reason.is_empty()).then(|| marker.reason.clone()),
            severity: None,
        });
    }
    items
}

/// Everything `head` loosens compared with `base`.
fn compare(
    out: &ScanOutput,
    repo: &Repo,
    cwd: &Path,
    base: &PolicySet,
    head: &PolicySet,
    items: &mut Vec<Item>,
) {
    let c = Comparison {
        out,
        repo,
        cwd,
        base,
        head,
        scanned: (0..out.findings.len())
            .filter(|&i| !out.findings[i].identity.is_empty())
            .collect(),
    };
    c.removed_configuration(items);
    c.allow_entries(items);
    c.lowered_rules(items);
    c.excludes(items);
    c.narrower_include(items);
    c.narrower_reading(items);
    c.looser_gate(items);
    c.allowed_accounts(items);
    c.longer_limits(items);
    c.custom_rules(items);
    c.other_inventory(items);
    c.baseline_entries(items);
}

/// A change's policy (`head`) against its base's, and the findings of the
/// change's scan that each loosening silences.
struct Comparison<'a> {
    out: &'a ScanOutput,
    repo: &'a Repo,
    cwd: &'a Path,
    base: &'a PolicySet,
    head: &'a PolicySet,
    /// The findings about a credential (not KW000, KW015).
    scanned: Vec<usize>,
}

impl Comparison<'_> {
    /// The scanned findings `pred` picks.
    fn silenced(&self, pred: impl Fn(&Finding) -> bool) -> Vec<usize> {
        self.scanned
            .iter()
            .copied()
            .filter(|&i| self.out.findings.get(i).is_some_and(&pred))
            .collect()
    }

    /// A finding's path relative to the change's configuration (what its
    /// globs mean), and as shown.
    fn rel(&self, f: &Finding) -> (std::path::PathBuf, String) {
        let shown = self
            .out
            .files
            .get(f.file)
            .map_or_else(String::new, |s| s.path.clone());
        (
            config_relative(&shown, self.cwd, &self.head.config.root),
            shown,
        )
    }

    fn config_file(&self) -> Option<&PolicyFile> {
        self.head.files.config.as_ref()
    }

    /// The span, else the configuration's first line.
    fn or_first_line(&self, span: &Option<Range<usize>>) -> Option<Range<usize>> {
        span.clone()
            .or_else(|| self.config_file().map(|f| first_line(&f.text)))
    }

    /// An item on the change's configuration file (none without one).
    fn in_config(
        &self,
        span: Range<usize>,
        what: &str,
        says: Saying,
        silenced: Vec<usize>,
    ) -> Option<Item> {
        self.config_file().map(|file| Item {
            path: self.repo.display(&file.path),
            text: Arc::from(file.text.as_str()),
            span,
            what: what.to_string(),
            says,
            silenced,
            reason: None,
            severity: None,
        })
    }

    /// Without a configuration the defaults judge: fewer accounts allowed
    /// is stricter, but a base's larger size limit, its `no-ignore`, its
    /// custom rules and its inventory all go. Said once, on the file it
    /// removes.
    fn removed_configuration(&self, items: &mut Vec<Item>) {
        if let (Some(was), None) = (self.base.files.config.as_ref(), self.config_file()) {
            items.push(Item {
                path: self.repo.display(&was.path),
                text: Arc::from(""),
                span: 0..0,
                what: "configuration".into(),
                says: Saying::new(Said::RemovedConfiguration).with("file", was.path.clone()),
                silenced: Vec::new(),
                reason: None,
                severity: None,
            });
        }
    }

    fn allow_entries(&self, items: &mut Vec<Item>) {
        for entry in &self.head.config.allow {
            if self.base.config.allow.iter().any(|b| covers(b, entry)) {
                continue;
            }
            let silenced = self.silenced(|f| {
                let (r, shown) = self.rel(f);
                allow_matches(entry, f, &r, &shown)
            });
            let scope = if entry.rules.is_empty() {
                String::new()
            } else {
                format!(" ({})", entry.rules.join(", "))
            };
            if let Some(mut item) = self.in_config(
                entry.span.clone(),
                "[[allow]]",
                Saying::new(Said::AllowEntry)
                    .with("target", entry.target.to_string())
                    .with("scope", scope),
                silenced,
            ) {
                item.reason = Some(entry.reason.clone());
                items.push(item);
            }
        }
    }

    fn lowered_rules(&self, items: &mut Vec<Item>) {
        let hc = &self.head.config;
        for (rule, change) in lowered(&self.base.rules, &self.head.rules) {
            let span = hc
                .rules
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&rule.id) || **k == rule.name)
                .map(|(_, o)| o.span.clone())
                .or_else(|| hc.spans.selection.clone())
                .or_else(|| self.or_first_line(&hc.spans.rules_dir));
            let Some(span) = span else { continue };
            let silenced = self.silenced(|f| f.rule == rule.id);
            items.extend(self.in_config(span, "[rules]", change, silenced));
        }
    }

    fn excludes(&self, items: &mut Vec<Item>) {
        let hc = &self.head.config;
        for (glob, span) in hc.exclude.iter().zip(&hc.spans.exclude) {
            if self.base.config.exclude.contains(glob) {
                continue;
            }
            let matcher = globset::Glob::new(glob).map(|g| g.compile_matcher()).ok();
            let silenced = self.silenced(|f| {
                let (r, shown) = self.rel(f);
                matcher
                    .as_ref()
                    .is_some_and(|m| m.is_match(&r) || m.is_match(&shown))
            });
            items.extend(self.in_config(
                span.clone(),
                "[scan] exclude",
                Saying::new(Said::Exclude).with("glob", glob.clone()),
                silenced,
            ));
        }
    }

    fn narrower_include(&self, items: &mut Vec<Item>) {
        let (hc, bc) = (&self.head.config, &self.base.config);
        let Some(set) = &hc.include_set else { return };
        let removed: Vec<&String> = bc
            .include
            .iter()
            .filter(|g| !hc.include.contains(g))
            .collect();
        let narrower = bc.include.is_empty() || !removed.is_empty();
        let Some(span) = hc.spans.include.first().filter(|_| narrower) else {
            return;
        };
        let silenced = self.silenced(|f| {
            let (r, shown) = self.rel(f);
            !set.is_match(&r) && !set.is_match(&shown)
        });
        let message = if bc.include.is_empty() {
            Saying::new(Said::IncludeLimited).with("globs", hc.include.join(", "))
        } else {
            let dropped: Vec<String> = removed.iter().map(|g| format!("`{g}`")).collect();
            Saying::new(Said::IncludeNarrowed).with("globs", dropped.join(", "))
        };
        items.extend(self.in_config(span.clone(), "[scan] include", message, silenced));
    }

    /// What narrows what is read: a smaller size limit (larger files are
    /// then only searched for keys), ignore files honoured again, or
    /// placeholders no longer reported.
    fn narrower_reading(&self, items: &mut Vec<Item>) {
        let (hc, bc) = (&self.head.config, &self.base.config);
        if hc.max_file_size < bc.max_file_size
            && let Some(span) = self.or_first_line(&hc.spans.max_file_size)
        {
            items.extend(
                self.in_config(
                    span,
                    "[scan] max-file-size",
                    Saying::new(Said::MaxFileSize)
                        .with("was", bc.max_file_size.to_string())
                        .with("now", hc.max_file_size.to_string()),
                    Vec::new(),
                ),
            );
        }
        for (said, b, h, span) in [
            (
                Said::NoIgnoreOff,
                bc.no_ignore,
                hc.no_ignore,
                &hc.spans.no_ignore,
            ),
            (
                Said::PlaceholdersOff,
                bc.include_placeholders,
                hc.include_placeholders,
                &hc.spans.include_placeholders,
            ),
        ] {
            if b && !h
                && let Some(span) = self.or_first_line(span)
            {
                items.extend(self.in_config(span, "[scan]", Saying::new(said), Vec::new()));
            }
        }
    }

    fn looser_gate(&self, items: &mut Vec<Item>) {
        let (hc, bc) = (&self.head.config, &self.base.config);
        if !hc.fail_on.looser_than(bc.fail_on) {
            return;
        }
        let Some(span) = hc.spans.fail_on.clone() else {
            return;
        };
        let silenced =
            self.silenced(|f| bc.fail_on.fails(f.severity) && !hc.fail_on.fails(f.severity));
        items.extend(
            self.in_config(
                span,
                "[policy] fail-on",
                Saying::new(Said::FailOn)
                    .with("was", bc.fail_on.as_str())
                    .with("now", hc.fail_on.as_str()),
                silenced,
            ),
        );
    }

    /// With no allowed accounts KW005 is off; the first account turns it on.
    fn allowed_accounts(&self, items: &mut Vec<Item>) {
        let (hc, bc) = (&self.head.config, &self.base.config);
        if bc.allowed_accounts.is_empty() {
            return;
        }
        for (acct, span) in hc.allowed_accounts.iter().zip(&hc.spans.allowed_accounts) {
            if bc.allowed_accounts.contains(acct) {
                continue;
            }
            let silenced = self.silenced(|f| f.account.as_deref() == Some(acct.as_str()));
            items.extend(self.in_config(
                span.clone(),
                "[policy] allowed-accounts",
                Saying::new(Said::AllowedAccount).with("account", acct.clone()),
                silenced,
            ));
        }
    }

    /// What a longer limit silences: the findings of every rule that reads it.
    fn longer_limits(&self, items: &mut Vec<Item>) {
        let (hc, bc) = (&self.head.config, &self.base.config);
        for (name, fact, b, h, span) in [
            (
                "max-key-age-days",
                "config.max_key_age_days",
                bc.max_key_age_days,
                hc.max_key_age_days,
                &hc.spans.max_key_age_days,
            ),
            (
                "max-unused-days",
                "config.max_unused_days",
                bc.max_unused_days,
                hc.max_unused_days,
                &hc.spans.max_unused_days,
            ),
        ] {
            let Some(span) = span.clone().filter(|_| h > b) else {
                continue;
            };
            let readers: Vec<&str> = self
                .head
                .rules
                .rules
                .iter()
                .filter(|r| r.reads().contains(&fact))
                .map(|r| r.id.as_str())
                .collect();
            let silenced = self.silenced(|f| readers.contains(&f.rule.as_str()));
            items.extend(
                self.in_config(
                    span,
                    "[policy]",
                    Saying::new(Said::LimitRaised)
                        .with("name", name)
                        .with("was", b.to_string())
                        .with("now", h.to_string()),
                    silenced,
                ),
            );
        }
    }

    fn custom_rules(&self, items: &mut Vec<Item>) {
        let (base, head) = (self.base, self.head);
        let (Some(dir), Some(span)) = (&head.files.rules_dir, head.config.spans.rules_dir.clone())
        else {
            return;
        };
        let message = if base.files.rules_dir.as_ref() != Some(dir) {
            Some(Saying::new(Said::RulesDirSet).with("dir", dir.clone()))
        } else {
            let changed = changed_files(&base.files.rules, &head.files.rules);
            (!changed.is_empty()).then(|| {
                Saying::new(Said::RulesDirChanged)
                    .with("dir", dir.clone())
                    .with("files", changed.join(", "))
            })
        };
        if let Some(message) = message {
            items.extend(self.in_config(span, "[rules] rules-dir", message, Vec::new()));
        }
    }

    /// Another inventory, or none, can make a key look rotated or fresh,
    /// or turn the IAM rules off; a first inventory only adds findings.
    fn other_inventory(&self, items: &mut Vec<Item>) {
        let Some(was) = &self.base.files.inventory else {
            return;
        };
        let now = self.head.files.inventory.as_ref().map(|f| &f.path);
        if now == Some(&was.path) {
            return;
        }
        let Some(span) = self.or_first_line(&self.head.config.spans.inventory) else {
            return;
        };
        let message = match now {
            Some(p) => Saying::new(Said::InventoryChanged)
                .with("was", was.path.clone())
                .with("now", p.clone()),
            None => Saying::new(Said::InventoryRemoved).with("was", was.path.clone()),
        };
        items.extend(self.in_config(span, "[iam] inventory", message, Vec::new()));
    }

    fn baseline_entries(&self, items: &mut Vec<Item>) {
        let (Some(hb), Some(file)) = (&self.head.baseline, &self.head.files.baseline) else {
            return;
        };
        let known: HashSet<&str> = self
            .base
            .baseline
            .as_ref()
            .map(|b| b.findings.iter().map(|e| e.fingerprint.as_str()).collect())
            .unwrap_or_default();
        let text: Arc<str> = Arc::from(file.text.as_str());
        for entry in hb
            .findings
            .iter()
            .filter(|e| !known.contains(e.fingerprint.as_str()))
        {
            let Some(at) = file.text.find(&entry.fingerprint) else {
                continue;
            };
            let silenced = self.silenced(|f| f.fingerprint == entry.fingerprint);
            items.push(Item {
                path: self.repo.display(&file.path),
                text: text.clone(),
                span: at..at + entry.fingerprint.len(),
                what: "baseline".into(),
                says: Saying::new(Said::BaselineEntry)
                    .with("rule", entry.rule.clone())
                    .with("path", crate::shown::printable(&entry.path)),
                silenced,
                reason: None,
                severity: None,
            });
        }
    }
}

/// Whether base entry `b` already accepted everything `h` accepts: the
/// same target, or one with fewer conditions, and no fewer rules.
fn covers(b: &AllowEntry, h: &AllowEntry) -> bool {
    let (bt, ht) = (&b.target, &h.target);
    let cond = |x: Option<&String>, y: Option<&String>| x.is_none() || x == y;
    let target = cond(bt.key_id.as_ref(), ht.key_id.as_ref())
        && cond(
            bt.path.as_ref().map(|p| &p.glob),
            ht.path.as_ref().map(|p| &p.glob),
        )
        && cond(bt.fingerprint.as_ref(), ht.fingerprint.as_ref());
    target
        && (b.rules.is_empty()
            || (!h.rules.is_empty() && h.rules.iter().all(|r| b.rules.contains(r))))
}

/// Rules enabled in `base` that `head` removes, turns off or makes less
/// severe, with what happened to each.
fn lowered<'a>(base: &'a RuleSet, head: &RuleSet) -> Vec<(&'a Rule, Saying)> {
    let mut out = Vec::new();
    for b in base.rules.iter().filter(|r| r.enabled) {
        let said = match head.get(&b.id) {
            None => Saying::new(Said::RuleRemoved),
            Some(h) if !h.enabled => Saying::new(Said::RuleOff),
            Some(h) if h.severity < b.severity => Saying::new(Said::RuleLowered)
                .with("was", b.severity.as_str())
                .with("now", h.severity.as_str()),
            Some(_) => continue,
        };
        out.push((
            b,
            said.with("id", b.id.clone()).with("name", b.name.clone()),
        ));
    }
    out
}

/// Whether `head`'s gate lets through something `base`'s stops.
/// Rule files added, changed or removed.
fn changed_files(base: &[PolicyFile], head: &[PolicyFile]) -> Vec<String> {
    let mut out: Vec<String> = head
        .iter()
        .filter(|h| !base.contains(h))
        .map(|h| h.path.clone())
        .chain(
            base.iter()
                .filter(|b| !head.iter().any(|h| h.path == b.path))
                .map(|b| b.path.clone()),
        )
        .collect();
    out.sort();
    out.dedup();
    out
}

fn push_finding(out: &mut ScanOutput, rule: &Rule, help: &str, item: Item) {
    let file = match out.files.iter().position(|f| f.path == item.path) {
        // A file first named with no text (one that could not be read) gets
        // the text of a later item about it: spans at 0..0 stay valid.
        Some(i) => {
            if let Some(f) = out.files.get_mut(i)
                && f.text.is_empty()
                && f.excerpt.is_none()
            {
                f.text = item.text.clone();
            }
            i
        }
        None => {
            out.files.push(SourceFile {
                path: item.path.clone(),
                format: crate::parse::format::Format::from_path(Path::new(&item.path)),
                text: item.text.clone(),
                secret_spans: Vec::new(),
                ignores: Vec::new(),
                excerpt: None,
            });
            out.files.len() - 1
        }
    };
    let mut rules: Vec<&str> = item
        .silenced
        .iter()
        .filter_map(|&i| out.findings.get(i))
        .map(|f| f.rule.as_str())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    let says = |s: Saying| s.render(&rule.says);
    let silences = match item.silenced.len() {
        0 => String::new(),
        1 => says(Saying::new(Said::SilencesOne).with("rules", rules.join(", "))),
        n => says(
            Saying::new(Said::SilencesMany)
                .with("count", n.to_string())
                .with("rules", rules.join(", ")),
        ),
    };
    let reason = item.reason.as_ref().map_or_else(String::new, |r| {
        says(Saying::new(Said::ReasonGiven).with("reason", r.clone()))
    });
    let message = says(item.says.clone());
    let related: Vec<Related> = item
        .silenced
        .iter()
        .filter_map(|&i| out.findings.get(i))
        .map(|f| Related {
            file: f.file,
            span: f.span.clone(),
            message: says(
                Saying::new(Said::SilencedHere)
                    .with("rule", f.rule.clone())
                    .with("name", f.name.clone()),
            ),
        })
        .collect();
    let line_text = item
        .text
        .get(item.span.clone())
        .unwrap_or_default()
        .to_string();
    out.findings.push(Finding {
        rule: rule.id.clone(),
        name: rule.name.clone(),
        severity: item.severity.unwrap_or(rule.severity),
        message: format!("{message}{silences}{reason}"),
        help: help.to_string(),
        file,
        span: item.span,
        key_id: None,
        secret: None,
        account: None,
        context: item.what.clone(),
        fingerprint: fingerprint(
            &rule.id,
            &item.path,
            "",
            "",
            &format!("{}\u{0}{message}\u{0}{line_text}", item.what),
        ),
        identity: String::new(),
        suppression: None,
        related,
        iam: None,
        provenance: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(text: &str) -> AllowEntry {
        let c = crate::config::parse("k.toml", text, Path::new("/r")).expect("valid");
        c.allow.into_iter().next().expect("one entry")
    }

    #[test]
    fn an_allow_is_covered_by_the_same_or_a_wider_entry_only() {
        let all = allow("[[allow]]\npath = \"docs/**\"\nreason = \"r\"\n");
        let one = allow("[[allow]]\npath = \"docs/**\"\nrules = [\"KW001\"]\nreason = \"r\"\n");
        let other = allow("[[allow]]\npath = \"**\"\nrules = [\"KW001\"]\nreason = \"r\"\n");
        assert!(covers(&all, &one));
        assert!(covers(&one, &one));
        assert!(!covers(&one, &all), "dropping `rules` widens the entry");
        assert!(!covers(&one, &other), "another glob is another entry");
    }
}
