//! The audit as Markdown: the renderer of [`Audit`] for a pull request, a
//! wiki or a terminal.

use super::*;

use crate::report::escape::md::text as cell;

fn code(s: &str) -> String {
    if s == UNKNOWN {
        s.to_string()
    } else {
        crate::report::escape::md::code(s)
    }
}

/// The audit as one Markdown document: a merged report's repositories,
/// findings by severity, rule, environment, account and IAM user, the keys,
/// and the rotation plan. It starts with a marker comment, so a scan skips
/// it as keyward's own report.
pub fn markdown(a: &Audit) -> String {
    let keys = keys(a);
    // The marker lets keyward skip its own report when it scans a tree.
    let mut md = String::from("<!-- generator: keyward -->\n# keyward audit report\n\n");
    if let Some(about) = about(a) {
        let _ = writeln!(md, "{}\n", cell(&about));
    }
    let _ = writeln!(md, "{}\n", headline(a, &keys));
    repositories_markdown(&mut md, a);
    findings_markdown(&mut md, a);
    md.push_str("\n## Keys\n\n");
    if keys.is_empty() {
        md.push_str("No keys referenced.\n");
        return md;
    }
    keys_markdown(&mut md, a, &keys);
    if let Some(plan) = &a.plan {
        md.push('\n');
        md.push_str(&crate::plan::markdown_at(plan, 2));
    }
    md
}

/// The findings counted by severity, rule, environment, account and user.
fn findings_markdown(md: &mut String, a: &Audit) {
    md.push_str("## Findings by severity\n\n| Severity | Findings |\n|---|---:|\n");
    for (s, n) in Severity::ALL.iter().zip(by_severity(&a.findings)) {
        let _ = writeln!(md, "| {} | {n} |", s.as_str());
    }

    md.push_str("\n## Findings by rule\n\n");
    if a.findings.is_empty() {
        md.push_str("No findings.\n");
    } else {
        md.push_str("| Rule | Name | Severity | Findings | Keys |\n|---|---|---|---:|---:|\n");
        for (g, name, sev) in by_rule(a) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                cell(&g.label),
                cell(&name),
                sev.as_str(),
                g.findings,
                g.keys.len()
            );
        }
    }

    let sev_head: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    md.push_str("\n## Findings by environment\n\n");
    let _ = writeln!(
        md,
        "| Environment | Findings | {} |\n|---|---:|{}",
        sev_head.join(" | "),
        "---:|".repeat(sev_head.len())
    );
    for g in by_environment(a) {
        let cols: Vec<String> = g.by_severity.iter().map(usize::to_string).collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            cell(env_label(&g.label)),
            g.findings,
            cols.join(" | ")
        );
    }

    for (title, head, groups) in [
        ("account", "Account", by_account(a)),
        ("IAM user", "IAM user", by_user(a)),
    ] {
        let _ = write!(
            md,
            "\n## Findings by {title}\n\n| {head} | Findings | Keys |\n|---|---:|---:|\n"
        );
        for g in groups {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                code(&g.label),
                g.findings,
                g.keys.len()
            );
        }
    }
}

/// One row per key: its secret (masked), IAM's facts and its places.
fn keys_markdown(md: &mut String, a: &Audit, keys: &[KeyRow]) {
    let blast = keys.iter().any(|k| !k.can.is_empty());
    md.push_str(if blast {
        "| Key ID | Secret | Account | IAM user | Status | Age | Last used | Can | Findings | Places referenced |\n\
         |---|---|---|---|---|---|---|---|---:|---|\n"
    } else {
        "| Key ID | Secret | Account | IAM user | Status | Age | Last used | Findings | Places referenced |\n\
         |---|---|---|---|---|---|---|---:|---|\n"
    });
    for k in keys {
        let secrets: Vec<String> = k.secrets.iter().map(|s| code(s)).collect();
        let can = if blast {
            format!(" {} |", cell(&can_text(k)))
        } else {
            String::new()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |{can} {} | {} |",
            code(or_unknown(&k.key_id)),
            if secrets.is_empty() {
                UNKNOWN.to_string()
            } else {
                secrets.join(", ")
            },
            code(or_unknown(&k.account)),
            code(or_unknown(&k.iam_user)),
            cell(or_unknown(&k.status)),
            cell(&age_text(k.age_days, a.max_key_age_days)),
            cell(&last_used_text(k.last_used, k.last_used_where.as_deref())),
            k.findings,
            cell(&places_text(&k.places)),
        );
    }
}

/// A merged report's per-repository table and cross-repository
/// divergence; nothing for one repository.
fn repositories_markdown(md: &mut String, a: &Audit) {
    if a.repositories.is_empty() {
        return;
    }
    md.push_str(
        "## Repositories\n\n| Repository | Commit | Scanned | Files | Findings | Critical | High | Medium | Low | Info | Keys |\n\
         |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in &a.repositories {
        let [c, h, m, l, i] = r.by_severity;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {c} | {h} | {m} | {l} | {i} | {} |",
            code(&r.name),
            r.commit
                .as_deref()
                .map_or(UNKNOWN.to_string(), |c| code(c.get(..12).unwrap_or(c))),
            cell(r.date.as_deref().unwrap_or(UNKNOWN)),
            r.files_scanned,
            c + h + m + l + i,
            r.keys
        );
    }
    md.push_str("\n## Cross-repository divergence\n\n");
    if a.divergence.is_empty() {
        md.push_str("No IAM user's keys are used differently across the repositories.\n\n");
        return;
    }
    for d in &a.divergence {
        let _ = writeln!(
            md,
            "- IAM user {} (account {}): the newest Active key {} is used in {}; still on an older key:",
            code(&d.user),
            cell(&d.account),
            code(&d.newest),
            d.current
                .iter()
                .map(|r| code(r))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for Behind {
            repository: repo,
            key_id: key,
            places,
        } in &d.behind
        {
            let _ = writeln!(
                md,
                "  - {} uses {} at {}",
                code(repo),
                code(key),
                places
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    md.push('\n');
}
