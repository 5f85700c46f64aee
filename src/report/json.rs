//! `--format json`: the contract in DESIGN.md ("JSON output").

use serde_json::{Value, json};

use super::regions;
use crate::ScanOutput;

pub fn render(out: &ScanOutput) -> String {
    let regions = regions(&out.files, &out.findings);
    let lines: Vec<super::Lines<'_>> = out
        .files
        .iter()
        .map(|f| super::Lines::new(&f.text))
        .collect();
    let related = |f: &crate::Finding| -> Vec<Value> {
        f.related
            .iter()
            .filter_map(|r| {
                let region = lines.get(r.file)?.region(&r.span);
                Some(json!({
                    "path": out.files.get(r.file)?.path,
                    "line": region.line,
                    "column": region.column,
                    "end_line": region.end_line,
                    "end_column": region.end_column,
                    "message": r.message,
                }))
            })
            .collect()
    };
    // Masked once per file, only for files a shown finding points at.
    let mut masked: Vec<Option<(String, crate::detect::pair::LineIndex)>> =
        out.files.iter().map(|_| None).collect();
    let mut snippet = |f: &crate::Finding| -> Option<String> {
        let slot = masked.get_mut(f.file)?;
        if slot.is_none() {
            let text = out.files.get(f.file)?.masked_text();
            let index = crate::detect::pair::LineIndex::new(&text);
            *slot = Some((text, index));
        }
        let (text, index) = slot.as_ref()?;
        Some(super::line_window(text, index, f.span.start))
    };
    let mut accepted = Vec::new();
    let findings: Vec<Value> = out
        .findings
        .iter()
        .zip(regions)
        .filter_map(|(f, r)| {
            let mut v = json!({
                "rule": f.rule,
                "name": f.name,
                "severity": f.severity.as_str(),
                "message": f.message,
                "path": out.files.get(f.file).map_or("", |s| s.path.as_str()),
                "line": r.line,
                "column": r.column,
                "end_line": r.end_line,
                "end_column": r.end_column,
                "key_id": f.key_id,
                "secret": f.secret,
                "account": f.account,
                "context": f.context,
                "fingerprint": f.fingerprint,
                "snippet": snippet(f),
                "related": related(f),
                "iam": f.iam.as_ref().map(|i| json!({
                    "user": i.user,
                    "status": i.status,
                    "age_days": i.age_days,
                    "last_used_days": i.last_used_days,
                })),
            });
            // An extension of the contract, present only for `--history`.
            if let (Some(p), Some(obj)) = (&f.provenance, v.as_object_mut()) {
                obj.insert("provenance".into(), provenance(p));
            }
            match &f.suppression {
                None => Some(v),
                // Accepted findings are listed apart, with how and why, so
                // an audit still sees every place a key is configured.
                Some(s) => {
                    if let Some(obj) = v.as_object_mut() {
                        obj.insert(
                            "suppression".into(),
                            json!({"kind": s.kind.as_str(), "reason": s.reason}),
                        );
                    }
                    accepted.push(v);
                    None
                }
            }
        })
        .collect();
    let errors: Vec<Value> = out
        .errors
        .iter()
        .map(|e| json!({"path": e.path, "message": e.message}))
        .collect();
    let s = &out.summary;
    let counts = crate::suppress::suppressed_counts(out);
    let suppressed: serde_json::Map<String, Value> = [
        crate::SuppressionKind::Inline,
        crate::SuppressionKind::Baseline,
        crate::SuppressionKind::Allow,
    ]
    .into_iter()
    .map(|k| {
        (
            k.as_str().to_string(),
            json!(counts.get(&k).copied().unwrap_or(0)),
        )
    })
    .collect();
    let more: Vec<Value> = out
        .more
        .iter()
        .map(|m| {
            json!({
                "path": out.files.get(m.file).map_or("", |s| s.path.as_str()),
                "rule": m.rule,
                "name": m.name,
                "severity": m.severity.as_str(),
                "count": m.count,
            })
        })
        .collect();
    let mut doc = json!({
        "version": 1,
        "tool": {"name": "keyward", "version": env!("CARGO_PKG_VERSION")},
        "findings": findings,
        "accepted": accepted,
        "more": more,
        "errors": errors,
        "policy": {
            "allowed_accounts": out.policy.allowed_accounts,
            "max_key_age_days": out.policy.max_key_age_days,
            "max_unused_days": out.policy.max_unused_days,
        },
        "scan": {
            "date": out.meta.date,
            "repository": out.meta.repository,
            "commit": out.meta.commit,
            "iam": out.meta.iam.as_ref().map(|i| match i {
                crate::iam::IamSourceInfo::Inventory { file, generated_at } => json!({
                    "source": "inventory", "file": file, "generated_at": generated_at,
                }),
                crate::iam::IamSourceInfo::Live { accounts, at } => json!({
                    "source": "live", "accounts": accounts, "at": at,
                }),
            }),
        },
        "gate": out.gate.map(|g| json!({
            "fail_on": g.fail_on.map_or("never", crate::rules::Severity::as_str),
            "failing": g.failing,
        })),
        "summary": {
            "files_scanned": s.files_scanned,
            "files_parsed": s.files_parsed,
            "findings": s.findings,
            "bytes_scanned": s.bytes_scanned,
            "skipped_binary": s.skipped_binary,
            "skipped_large": s.skipped_large,
            "skipped_other": s.skipped_other,
            "placeholders": s.placeholders,
            "excluded": s.excluded,
            "not_shown": s.not_shown,
            "own_reports": s.own_reports,
            "inventories": s.inventories,
            "baseline_moved": s.baseline_moved,
            "suppressed": suppressed,
        },
    });
    // Only with --verify-pairs: the keys this run itself used.
    if let (Some(v), Some(obj)) = (&out.signed_with, doc.as_object_mut()) {
        obj.insert(
            "verify".into(),
            json!({"sent": v.sent, "accepted": v.accepted}),
        );
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

pub(crate) fn provenance(p: &crate::finding::Provenance) -> Value {
    let commit = |c: &crate::finding::CommitRef| {
        json!({
            "commit": c.commit,
            "author": c.author,
            "email": c.email,
            "date": c.date,
            "path": c.path,
        })
    };
    json!({
        "first": commit(&p.first),
        "last": commit(&p.last),
        "commits": p.commits,
        "at_head": p.at_head,
        "removed_in": p.removed_in.as_ref().map(commit),
    })
}
