//! The rules as documents: what `keyward rules`, `keyward explain` and
//! `keyward config init` write, rendered from the rule files a policy holds.

use crate::PolicySet;
use crate::rules::{Rule, RuleSet, docs, facts};

/// How [`catalog`] lists the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    /// A terminal table: ID, name, severity, enabled, what a rule needs to
    /// fire, summary.
    Table,
    /// The whole `docs/rules.md`: every rule's documentation.
    Markdown,
    /// The README's table, one row per rule with a link to its section.
    Summary,
    /// The facts a rule's condition can read, with their types and
    /// meanings.
    Facts,
}

/// The policy's rules (or the facts they read) as `format` lists them.
pub fn catalog(policy: &PolicySet, format: Catalog) -> String {
    match format {
        Catalog::Table => table(&policy.rules),
        Catalog::Markdown => docs::markdown(&policy.rules),
        Catalog::Summary => docs::summary_table(&policy.rules),
        Catalog::Facts => fact_table(),
    }
}

/// One rule's documentation for a terminal, by ID or name; `None` when the
/// policy has no such rule.
pub fn explain(policy: &PolicySet, rule: &str) -> Option<String> {
    policy.rules.get(rule).map(docs::terminal)
}

/// The commented starter `keyward.toml`, naming the built-in rules each
/// setting drives.
pub fn starter_config() -> Result<String, crate::PolicyError> {
    let rules = RuleSet::builtin()
        .map_err(|e| crate::PolicyError::Rules(crate::rules::eval::RuleSetError::Rule(e)))?;
    Ok(crate::rules::starter::starter(&rules))
}

fn table(rules: &RuleSet) -> String {
    // As wide as the longest, so a rule's own `needs:` text keeps the table.
    let width = rules
        .rules
        .iter()
        .map(|r| docs::needs(r).chars().count())
        .max()
        .unwrap_or(0)
        .max("NEEDS".len());
    let mut text = format!(
        "ID     NAME                          SEVERITY  ENABLED  {:<width$} SUMMARY\n",
        "NEEDS"
    );
    for r in &rules.rules {
        text.push_str(&row(r, width));
    }
    text
}

fn row(r: &Rule, width: usize) -> String {
    format!(
        "{:<6} {:<29} {:<9} {:<8} {:<width$} {}\n",
        r.id,
        r.name,
        r.severity.as_str(),
        if r.enabled { "yes" } else { "no" },
        docs::needs(r),
        r.summary
    )
}

fn fact_table() -> String {
    let mut text = String::from("FACT                         TYPE  MEANING\n");
    for (name, ty) in facts::FACTS {
        text.push_str(&format!(
            "{name:<28} {:<5} {}\n",
            format!("{ty:?}").to_lowercase(),
            facts::describe(name)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> PolicySet {
        PolicySet::defaults().expect("the built-in policy")
    }

    #[test]
    fn the_table_has_a_row_per_rule_in_aligned_columns() {
        let policy = builtin();
        let text = catalog(&policy, Catalog::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), policy.rules.rules.len() + 1);
        let summary_at = lines[0].find("SUMMARY").expect("a SUMMARY column");
        for (line, rule) in lines[1..].iter().zip(&policy.rules.rules) {
            assert!(line.starts_with(&rule.id), "{line}");
            assert_eq!(
                line.get(summary_at..),
                Some(rule.summary.as_str()),
                "{line}"
            );
        }
    }

    #[test]
    fn facts_list_every_fact_once() {
        let text = catalog(&builtin(), Catalog::Facts);
        assert_eq!(text.lines().count(), facts::FACTS.len() + 1);
        let line = text
            .lines()
            .find(|l| l.starts_with("key.account "))
            .expect("key.account");
        assert!(line.contains(" str "), "{line}");
    }

    #[test]
    fn explain_knows_rules_by_id_and_nothing_else() {
        let policy = builtin();
        let text = explain(&policy, "KW001").expect("KW001");
        assert!(text.starts_with("KW001 "), "{text}");
        assert_eq!(explain(&policy, "KW999"), None);
    }

    #[test]
    fn the_starter_configuration_is_one_keyward_reads() {
        let text = starter_config().expect("starter");
        crate::config::parse("keyward.toml", &text, std::path::Path::new("/repo"))
            .expect("a configuration keyward accepts");
    }
}
