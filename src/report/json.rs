//! `--format json`: a [`contract::Document`] made from a scan's output.

use super::contract::{self, Document};
use super::regions;
use crate::output::ScanOutput;

pub fn render(out: &ScanOutput) -> String {
    document(out).to_text()
}

/// The scan's output as the JSON contract describes it: the findings
/// (accepted ones apart), then what the scan knew and counted.
pub fn document(out: &ScanOutput) -> Document {
    let (findings, accepted) = Findings::of(out).split();
    Document {
        version: contract::VERSION,
        tool: contract::Tool {
            name: "keyward".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        findings,
        accepted,
        iam_users: out.iam_users.iter().map(iam_user).collect(),
        more: out.more.iter().map(|m| more(out, m)).collect(),
        errors: out.warnings.iter().map(problem).collect(),
        policy: contract::Policy {
            allowed_accounts: out.policy.allowed_accounts.clone(),
            max_key_age_days: out.policy.max_key_age_days,
            max_unused_days: out.policy.max_unused_days,
        },
        scan: scan_meta(&out.meta),
        gate: out.gate.map(|g| contract::Gate {
            fail_on: g.fail_on,
            failing: g.failing,
        }),
        summary: summary(out),
        verify: out.signed_with.as_ref().map(|v| contract::Verify {
            sent: v.sent.clone(),
            accepted: v.accepted.clone(),
        }),
    }
}

/// The findings of a scan as the contract writes them, with the places
/// (lines, columns, snippets) computed once per file.
struct Findings<'o> {
    out: &'o ScanOutput,
    lines: Vec<super::Lines<'o>>,
    // Lines indexed once per file, only for files a shown finding points
    // at; only the line shown is masked.
    indexes: Vec<Option<crate::shown::LineIndex>>,
}

impl<'o> Findings<'o> {
    fn of(out: &'o ScanOutput) -> Findings<'o> {
        Findings {
            out,
            lines: out.files.iter().map(|f| f.lines()).collect(),
            indexes: out.files.iter().map(|_| None).collect(),
        }
    }

    /// The findings that stand, and the accepted ones: listed apart, with
    /// how and why, so an audit still sees every place a key is configured.
    fn split(mut self) -> (Vec<contract::Finding>, Vec<contract::Finding>) {
        let out = self.out;
        let (mut findings, mut accepted) = (Vec::new(), Vec::new());
        for (f, r) in out.findings.iter().zip(regions(&out.files, &out.findings)) {
            let finding = self.finding(f, r);
            if finding.suppression.is_some() {
                accepted.push(finding);
            } else {
                findings.push(finding);
            }
        }
        (findings, accepted)
    }

    fn finding(&mut self, f: &crate::Finding, r: super::Region) -> contract::Finding {
        contract::Finding {
            repository: None,
            rule: f.rule.clone(),
            name: f.name.clone(),
            severity: f.severity,
            message: f.message.clone(),
            path: self.path(f.file),
            line: r.line as u64,
            column: r.column as u64,
            end_line: r.end_line as u64,
            end_column: r.end_column as u64,
            key_id: f.key_id.clone(),
            secret: f.secret.clone(),
            account: f.account.clone(),
            context: f.context.clone(),
            fingerprint: f.fingerprint.clone(),
            snippet: self.snippet(f),
            related: self.related(f),
            iam: f.iam.as_ref().map(iam),
            provenance: f.provenance.as_deref().map(provenance),
            suppression: f.suppression.as_ref().map(|s| contract::Suppression {
                kind: s.kind,
                reason: s.reason.clone(),
            }),
        }
    }

    fn path(&self, file: usize) -> String {
        self.out
            .files
            .get(file)
            .map_or_else(String::new, |s| s.path.clone())
    }

    fn snippet(&mut self, f: &crate::Finding) -> Option<String> {
        let file = self.out.files.get(f.file)?;
        let index = self
            .indexes
            .get_mut(f.file)?
            .get_or_insert_with(|| crate::shown::LineIndex::new(&file.text));
        Some(super::line_window(file, index, f.span.start))
    }

    fn related(&self, f: &crate::Finding) -> Vec<contract::Related> {
        f.related
            .iter()
            .filter_map(|r| {
                let region = self.lines.get(r.file)?.region(&r.span);
                Some(contract::Related {
                    path: self.out.files.get(r.file)?.path.clone(),
                    line: region.line as u64,
                    column: region.column as u64,
                    end_line: region.end_line as u64,
                    end_column: region.end_column as u64,
                    message: r.message.clone(),
                })
            })
            .collect()
    }
}

fn iam(i: &crate::iam::IamInfo) -> contract::Iam {
    contract::Iam {
        user: i.user.clone(),
        status: i.status.as_str().to_string(),
        age_days: i.age_days,
        last_used_days: i.last_used_days,
        last_used_service: i.last_used_service.clone(),
        last_used_region: i.last_used_region.clone(),
        can: i.can.clone(),
        can_approximate: i.can_approximate,
    }
}

fn iam_user(u: &crate::iam::IamUser) -> contract::IamUser {
    contract::IamUser {
        account: u.account.clone(),
        user: u.name.clone(),
        newest_active: u.newest_active.clone(),
        tied: u.tied,
        quarantine: u.quarantine.clone(),
        can: u.can.clone(),
        keys: u
            .keys
            .iter()
            .map(|k| contract::IamUserKey {
                key_id: k.access_key_id.clone(),
                status: k.status.as_str().to_string(),
                age_days: k.age_days,
                last_used_days: k.last_used_days,
                last_used_where: k.last_used_where.clone(),
            })
            .collect(),
    }
}

fn more(out: &ScanOutput, m: &crate::output::More) -> contract::More {
    contract::More {
        path: out
            .files
            .get(m.file)
            .map_or_else(String::new, |s| s.path.clone()),
        rule: m.rule.clone(),
        name: m.name.clone(),
        severity: m.severity,
        count: m.count,
    }
}

fn problem(e: &crate::Warning) -> contract::Problem {
    contract::Problem {
        kind: Some(e.kind),
        path: e.path.clone(),
        message: e.message.clone(),
    }
}

fn scan_meta(meta: &crate::output::ScanMeta) -> contract::Scan {
    contract::Scan {
        date: meta.date.clone(),
        repository: meta.repository.clone(),
        commit: meta.commit.clone(),
        iam: meta.iam.as_ref().map(|i| match i {
            crate::iam::IamSourceInfo::Inventory { file, generated_at } => {
                contract::IamSource::Inventory {
                    file: file.clone(),
                    generated_at: generated_at.clone(),
                }
            }
            crate::iam::IamSourceInfo::Live { accounts, at } => contract::IamSource::Live {
                accounts: accounts.clone(),
                at: at.clone(),
            },
        }),
    }
}

fn summary(out: &ScanOutput) -> contract::Summary {
    let s = &out.summary;
    let counts = out.suppressed_counts();
    let count = |k| counts.get(&k).copied().unwrap_or(0) as u64;
    contract::Summary {
        files_scanned: s.files_scanned,
        files_parsed: s.files_parsed,
        findings: s.findings,
        bytes_scanned: s.bytes_scanned,
        skipped_binary: s.skipped_binary,
        skipped_large: s.skipped_large,
        skipped_other: s.skipped_other,
        placeholders: s.placeholders,
        excluded: s.excluded,
        not_shown: s.not_shown,
        own_reports: s.own_reports,
        inventories: s.inventories,
        symlinks: s.symlinks,
        baseline_moved: s.baseline_moved,
        suppressed: contract::Suppressed {
            inline: count(crate::SuppressionKind::Inline),
            baseline: count(crate::SuppressionKind::Baseline),
            allow: count(crate::SuppressionKind::Allow),
        },
    }
}

pub(crate) fn provenance(p: &crate::finding::Provenance) -> contract::Provenance {
    let commit = |c: &crate::finding::CommitRef| contract::CommitRef {
        commit: c.commit.clone(),
        author: c.author.clone(),
        email: c.email.clone(),
        date: c.date.clone(),
        path: c.path.clone(),
    };
    contract::Provenance {
        first: commit(&p.first),
        last: commit(&p.last),
        commits: p.commits,
        at_head: p.at_head.clone(),
        removed_in: p.removed_in.as_ref().map(commit),
    }
}
