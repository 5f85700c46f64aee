//! `--format json`: a [`contract::Document`] made from a scan's output.

use super::contract::{self, Document};
use super::regions;
use crate::output::ScanOutput;

pub fn render(out: &ScanOutput) -> String {
    document(out).to_text()
}

/// The scan's output as the JSON contract describes it.
pub fn document(out: &ScanOutput) -> Document {
    let regions = regions(&out.files, &out.findings);
    let lines: Vec<super::Lines<'_>> = out.files.iter().map(|f| f.lines()).collect();
    let related = |f: &crate::Finding| -> Vec<contract::Related> {
        f.related
            .iter()
            .filter_map(|r| {
                let region = lines.get(r.file)?.region(&r.span);
                Some(contract::Related {
                    path: out.files.get(r.file)?.path.clone(),
                    line: region.line as u64,
                    column: region.column as u64,
                    end_line: region.end_line as u64,
                    end_column: region.end_column as u64,
                    message: r.message.clone(),
                })
            })
            .collect()
    };
    // Lines indexed once per file, only for files a shown finding points
    // at; only the line shown is masked.
    let mut indexes: Vec<Option<crate::shown::LineIndex>> =
        out.files.iter().map(|_| None).collect();
    let mut snippet = |f: &crate::Finding| -> Option<String> {
        let file = out.files.get(f.file)?;
        let index = indexes
            .get_mut(f.file)?
            .get_or_insert_with(|| crate::shown::LineIndex::new(&file.text));
        Some(super::line_window(file, index, f.span.start))
    };
    let mut findings = Vec::new();
    // Accepted findings are listed apart, with how and why, so an audit
    // still sees every place a key is configured.
    let mut accepted = Vec::new();
    for (f, r) in out.findings.iter().zip(regions) {
        let finding = contract::Finding {
            repository: None,
            rule: f.rule.clone(),
            name: f.name.clone(),
            severity: f.severity,
            message: f.message.clone(),
            path: out
                .files
                .get(f.file)
                .map_or_else(String::new, |s| s.path.clone()),
            line: r.line as u64,
            column: r.column as u64,
            end_line: r.end_line as u64,
            end_column: r.end_column as u64,
            key_id: f.key_id.clone(),
            secret: f.secret.clone(),
            account: f.account.clone(),
            context: f.context.clone(),
            fingerprint: f.fingerprint.clone(),
            snippet: snippet(f),
            related: related(f),
            iam: f.iam.as_ref().map(|i| contract::Iam {
                user: i.user.clone(),
                status: i.status.as_str().to_string(),
                age_days: i.age_days,
                last_used_days: i.last_used_days,
                last_used_service: i.last_used_service.clone(),
                last_used_region: i.last_used_region.clone(),
                can: i.can.clone(),
                can_approximate: i.can_approximate,
            }),
            provenance: f.provenance.as_deref().map(provenance),
            suppression: f.suppression.as_ref().map(|s| contract::Suppression {
                kind: s.kind,
                reason: s.reason.clone(),
            }),
        };
        if finding.suppression.is_some() {
            accepted.push(finding);
        } else {
            findings.push(finding);
        }
    }
    let s = &out.summary;
    let counts = out.suppressed_counts();
    let count = |k| counts.get(&k).copied().unwrap_or(0) as u64;
    Document {
        version: contract::VERSION,
        tool: contract::Tool {
            name: "keyward".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        findings,
        accepted,
        iam_users: out
            .iam_users
            .iter()
            .map(|u| contract::IamUser {
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
            })
            .collect(),
        more: out
            .more
            .iter()
            .map(|m| contract::More {
                path: out
                    .files
                    .get(m.file)
                    .map_or_else(String::new, |s| s.path.clone()),
                rule: m.rule.clone(),
                name: m.name.clone(),
                severity: m.severity,
                count: m.count,
            })
            .collect(),
        errors: out
            .warnings
            .iter()
            .map(|e| contract::Problem {
                kind: Some(e.kind),
                path: e.path.clone(),
                message: e.message.clone(),
            })
            .collect(),
        policy: contract::Policy {
            allowed_accounts: out.policy.allowed_accounts.clone(),
            max_key_age_days: out.policy.max_key_age_days,
            max_unused_days: out.policy.max_unused_days,
        },
        scan: contract::Scan {
            date: out.meta.date.clone(),
            repository: out.meta.repository.clone(),
            commit: out.meta.commit.clone(),
            iam: out.meta.iam.as_ref().map(|i| match i {
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
        },
        gate: out.gate.map(|g| contract::Gate {
            fail_on: g.fail_on,
            failing: g.failing,
        }),
        summary: contract::Summary {
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
        },
        verify: out.signed_with.as_ref().map(|v| contract::Verify {
            sent: v.sent.clone(),
            accepted: v.accepted.clone(),
        }),
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
