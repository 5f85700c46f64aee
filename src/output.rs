//! What a scan hands on: the findings, the files they are in, the problems
//! met and the counts, to the suppression step, the change review, the
//! gate and the reporters. Those read this, not the scanner.

use crate::finding::{Finding, SourceFile, Warning};
use crate::rules::Severity;

/// Policy settings that rules see as `config.*` facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `[policy] allowed-accounts`: empty, every account is allowed (KW005 off).
    pub allowed_accounts: Vec<String>,
    /// `[policy] max-key-age-days`: the rotation limit.
    pub max_key_age_days: i64,
    /// `[policy] max-unused-days`.
    pub max_unused_days: i64,
}

pub use crate::config::{DEFAULT_MAX_KEY_AGE_DAYS, DEFAULT_MAX_UNUSED_DAYS};

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed_accounts: Vec::new(),
            max_key_age_days: DEFAULT_MAX_KEY_AGE_DAYS,
            max_unused_days: DEFAULT_MAX_UNUSED_DAYS,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
/// How much a scan read, skipped and found.
pub struct Summary {
    /// Regular files read.
    pub files_scanned: u64,
    /// Files that passed the keyword prefilter and were parsed.
    pub files_parsed: u64,
    /// Bytes of the files read.
    pub bytes_scanned: u64,
    /// Files taken for binary, not text.
    pub skipped_binary: u64,
    /// Files over `max-file-size`: searched for keys, not parsed.
    pub skipped_large: u64,
    /// FIFOs, sockets and devices: counted, not read.
    pub skipped_other: u64,
    /// Findings reported (not accepted).
    pub findings: u64,
    /// Placeholder credentials left out (see `--include-placeholders`).
    pub placeholders: u64,
    /// Files left out by the configuration's include/exclude globs.
    pub excluded: u64,
    /// Findings counted but not reported one by one (past the cap per rule
    /// and file).
    pub not_shown: u64,
    /// keyward's own reports, skipped.
    pub own_reports: u64,
    /// IAM inventories (`keyward inventory pull`), skipped.
    pub inventories: u64,
    /// Symlinks, not followed: their target text was scanned.
    pub symlinks: u64,
    /// Baselined findings accepted at a new path (their file moved).
    pub baseline_moved: u64,
}

impl Summary {
    /// Adds the counts of one part of a scan. `findings` is left out: it is
    /// set once, from the findings that remain after merging.
    pub(crate) fn add(&mut self, s: &Summary) {
        self.files_scanned += s.files_scanned;
        self.files_parsed += s.files_parsed;
        self.bytes_scanned += s.bytes_scanned;
        self.skipped_binary += s.skipped_binary;
        self.skipped_large += s.skipped_large;
        self.skipped_other += s.skipped_other;
        self.placeholders += s.placeholders;
        self.excluded += s.excluded;
        self.not_shown += s.not_shown;
        self.own_reports += s.own_reports;
        self.inventories += s.inventories;
        self.symlinks += s.symlinks;
    }
}

#[derive(Debug, Clone, Default)]
/// Everything a scan found and met, for the later steps and the reports.
pub struct ScanOutput {
    /// Sorted by path, offset, rule.
    pub findings: Vec<Finding>,
    /// Problems that did not stop the scan.
    pub warnings: Vec<Warning>,
    /// How much was read, skipped and found.
    pub summary: Summary,
    /// The files findings are in: their text, masked before it is shown.
    pub files: Vec<SourceFile>,
    /// The policy the rules ran with (reports show the rotation limit).
    pub policy: Policy,
    /// Findings past the per-file cap, counted by file and rule.
    pub more: Vec<More>,
    /// The gate this run was judged by, once the caller has decided it.
    pub gate: Option<Gate>,
    /// `--verify-pairs`: the keys this run itself used.
    pub signed_with: Option<crate::iam::SignedWith>,
    /// What the run was: when, on what, with which IAM facts.
    pub meta: ScanMeta,
    /// Files skipped as keyward's own reports (see `own_report`):
    /// shown path and first line.
    pub own_reports: Vec<(String, String)>,
    /// Files skipped as IAM inventories (shown paths): their key IDs are
    /// there by design and not judged.
    pub inventories: Vec<String>,
    /// The IAM users whose keys the scan found, with all their keys (for
    /// rotation plans); empty without IAM facts.
    pub iam_users: Vec<crate::iam::IamUser>,
    /// What the human output suggests running next; empty: nothing.
    pub next: Next,
}

/// The commands that help with a run's findings, from their rules'
/// `next:` (and the baseline, for a first full scan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Next {
    /// Findings about a credential written in a file (`next: fix`).
    pub fix: u64,
    /// Distinct keys whose findings call for a rotation (`next: plan`).
    pub plan: u64,
    /// A full scan with credential findings and no baseline: a team
    /// adopting keyward can accept today's and fail only on new ones.
    pub baseline: bool,
}

impl Next {
    /// From the active findings of `out`, by their rules' `next:`.
    pub fn of(
        out: &ScanOutput,
        rules: &crate::rules::RuleSet,
        full_scan: bool,
        baseline: bool,
    ) -> Next {
        use crate::rules::load::NextStep;
        let mut next = Next::default();
        let mut keys = std::collections::HashSet::new();
        for f in out.active() {
            match rules.get(&f.rule).and_then(|r| r.next) {
                Some(NextStep::Fix) => next.fix += 1,
                Some(NextStep::Plan) => {
                    if let Some(k) = &f.key_id {
                        keys.insert(k.as_str());
                    }
                }
                None => {}
            }
        }
        next.plan = keys.len() as u64;
        next.baseline = (next.fix > 0 || next.plan > 0) && full_scan && !baseline;
        next
    }
}

/// What a report needs to say what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanMeta {
    /// When the scan ran (or the `--now` it was pinned to), RFC 3339.
    pub date: String,
    /// The repository (its `origin` URL without credentials, else its
    /// directory name) and commit, when the scan ran in a git work tree.
    pub repository: Option<String>,
    /// The commit scanned, in full.
    pub commit: Option<String>,
    /// Where the IAM facts came from.
    pub iam: Option<crate::iam::IamSourceInfo>,
}

/// The exit-code gate: its threshold (`None`: never fails) and how many
/// findings, counted ones past the per-file cap included, are at or above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// The threshold.
    pub fail_on: crate::severity::FailOn,
    /// Findings at or above it.
    pub failing: u64,
}

impl Gate {
    /// Judges `out` by `fail_on`.
    pub fn judge(out: &ScanOutput, fail_on: crate::severity::FailOn) -> Gate {
        let shown = out.active().filter(|f| fail_on.fails(f.severity)).count() as u64;
        let more: u64 = out
            .more
            .iter()
            .filter(|m| fail_on.fails(m.severity))
            .map(|m| m.count)
            .sum();
        Gate {
            fail_on,
            failing: shown + more,
        }
    }
}

impl ScanOutput {
    /// Masks every suspect token (first four and last four characters) in the text
    /// of findings and warnings: messages may quote configuration values, a
    /// reason, a name from a file. The library's output boundary; reports
    /// mask their whole text once more when written.
    pub fn redact(&mut self) {
        let mask = |s: &mut String| {
            if let std::borrow::Cow::Owned(m) = crate::detect::redacted(s) {
                *s = m;
            }
        };
        for f in &mut self.findings {
            mask(&mut f.message);
            mask(&mut f.help);
            mask(&mut f.context);
            if let Some(s) = &mut f.suppression {
                mask(&mut s.reason);
            }
            for r in &mut f.related {
                mask(&mut r.message);
            }
        }
        for e in &mut self.warnings {
            mask(&mut e.message);
            mask(&mut e.path);
        }
        for (_, first_line) in &mut self.own_reports {
            mask(first_line);
        }
    }

    /// Findings not accepted by an ignore, allow entry or baseline.
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }

    /// Findings of `severity`, accepted ones left out.
    pub fn count(&self, severity: Severity) -> usize {
        self.active().filter(|f| f.severity == severity).count()
    }

    /// Counts of suppressed findings by how they were accepted.
    pub fn suppressed_counts(
        &self,
    ) -> std::collections::BTreeMap<crate::finding::SuppressionKind, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for f in &self.findings {
            if let Some(s) = &f.suppression {
                *counts.entry(s.kind).or_default() += 1;
            }
        }
        counts
    }
}

/// Past this many findings of one rule in one file, the rest are counted
/// ("N more like this"), not reported one by one: a file of 100,000 key IDs
/// is one problem, and each finding costs memory and a reader's time.
pub const MAX_FINDINGS_PER_RULE_PER_FILE: u64 = 1000;

/// The findings of one rule in one file past the first thousand, counted
/// instead of reported one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct More {
    /// Index into [`ScanOutput::files`].
    pub file: usize,
    /// The rule's ID.
    pub rule: String,
    /// The rule's name.
    pub name: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Findings past the cap.
    pub count: u64,
}
