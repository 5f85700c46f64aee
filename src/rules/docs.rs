//! Rule documentation: `docs/rules.md` (generated, checked by a test) and
//! `keyward explain` for a terminal.

use super::{Rule, RuleSet};

/// The whole `docs/rules.md`.
pub fn markdown(rules: &RuleSet) -> String {
    let mut out = String::from(
        "<!-- Generated from rules/*.yaml by `keyward rules --format markdown`; do not edit. -->\n# Rules\n\n| ID | name | severity | summary |\n|---|---|---|---|\n",
    );
    for r in &rules.rules {
        out.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} |\n",
            r.id,
            r.id.to_ascii_lowercase(),
            r.name,
            r.severity.as_str(),
            r.summary
        ));
    }
    for r in &rules.rules {
        out.push_str(&format!(
            "\n## {}\n\n**{}** · severity `{}` · [`{}`](../{})\n\n{}\n\nCondition: `{}`\n\n",
            r.id,
            r.name,
            r.severity.as_str(),
            r.origin.rsplit('/').next().unwrap_or(&r.origin),
            r.origin,
            r.summary,
            r.when.trim()
        ));
        // Rule docs use `##` sections; nest them under the rule's heading.
        for line in r.docs.trim_end().lines() {
            if let Some(rest) = line.strip_prefix("## ") {
                out.push_str(&format!("### {rest}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// What a rule needs beyond a plain scan to ever fire.
pub fn needs(r: &Rule) -> &str {
    if let Some(needs) = &r.needs {
        return needs;
    }
    if r.raised_by == Some(super::load::RaisedBy::Change) {
        return "--since or --staged";
    }
    let reads = |prefix: &str| r.reads().iter().any(|f| f.starts_with(prefix));
    if reads("verify.") {
        "--verify-pairs"
    } else if reads("iam.can") {
        "--live --blast-radius"
    } else if reads("iam.") || reads("repo.keys_for_user") {
        "--inventory or --live"
    } else if reads("config.allowed_accounts") {
        "--allowed-account"
    } else {
        "-"
    }
}

/// The README's rule table: one row per rule, what it needs to fire, and
/// a link to its documentation (`keyward rules --format summary`).
pub fn summary_table(rules: &RuleSet) -> String {
    let mut out = String::from("| ID | name | severity | needs | what |\n|---|---|---|---|---|\n");
    for r in &rules.rules {
        out.push_str(&format!(
            "| [{}](docs/rules.md#{}) | {} | {} | {} | {} |\n",
            r.id,
            r.id.to_ascii_lowercase(),
            r.name,
            r.severity.as_str(),
            needs(r),
            crate::report::escape::md::text(&r.summary)
        ));
    }
    out
}

/// One rule for a terminal: headings underlined, code indented.
pub fn terminal(r: &Rule) -> String {
    let title = format!("{} {} ({})", r.id, r.name, r.severity.as_str());
    let mut out = format!(
        "{title}\n{}\n{}\n",
        "=".repeat(title.chars().count()),
        r.summary
    );
    let mut in_code = false;
    for line in r.docs.trim_end().lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&format!("    {line}\n"));
        } else if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("\n{h}\n{}\n", "-".repeat(h.chars().count())));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&format!("\nCondition: {}\n", r.when.trim()));
    out
}
