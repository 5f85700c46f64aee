//! The commented configuration `keyward config init` writes. Its comments
//! name the rules each setting drives, filled from the rule files.

/// The commented starter file `keyward config init` writes, naming the
/// rules each setting drives as `rules` has them (`{reads FACT}`: the
/// rules whose condition reads the fact; `{raised-by STEP}`: the rule that
/// pipeline step raises), so the file cannot name a rule that changed.
pub fn starter(rules: &super::RuleSet) -> String {
    // What each placeholder names: `{reads FACT}` the rules whose condition
    // reads it, `{raised-by STEP}` the rules that step raises.
    let mut named: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for rule in &rules.rules {
        let read = rule.reads().iter().map(|fact| format!("reads {fact}"));
        let raised = rule
            .raised_by
            .map(|by| format!("raised-by {}", by.as_str()));
        for placeholder in read.chain(raised) {
            named
                .entry(placeholder)
                .or_default()
                .push(format!("{} {}", rule.id, rule.name));
        }
    }
    let values: Vec<(&str, String)> = named
        .iter()
        .map(|(placeholder, ids)| (placeholder.as_str(), ids.join(", ")))
        .collect();
    super::says::fill(STARTER_TEMPLATE, &values)
}

const STARTER_TEMPLATE: &str = include_str!("starter.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_file_parses() {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules");
        let text = starter(&rules);
        let c = crate::config::parse("keyward.toml", &text, std::path::Path::new("/repo"))
            .expect("starter is valid");
        assert_eq!(c.max_key_age_days, 90);
        assert_eq!(
            c.fail_on,
            crate::severity::FailOn::At(crate::severity::Severity::Low)
        );
        assert!(
            !text.contains("{reads") && !text.contains("{raised-by"),
            "a placeholder was left: {text}"
        );
        // Each setting names the rules it drives, from the rule files.
        for (setting, fact) in [
            ("max-key-age-days = 90", "config.max_key_age_days"),
            ("max-unused-days = 90", "config.max_unused_days"),
            ("allowed-accounts = []", "config.allowed_accounts"),
        ] {
            let before = &text[..text.find(setting).expect(setting)];
            let comment = &before[before.rfind("\n\n").unwrap_or(0)..];
            let readers: Vec<_> = rules
                .rules
                .iter()
                .filter(|r| r.reads().contains(&fact))
                .collect();
            assert!(!readers.is_empty(), "no rule reads {fact}");
            for r in readers {
                assert!(
                    comment.contains(&format!("{} {}", r.id, r.name)),
                    "{comment}"
                );
            }
        }
        // Every rule the file names exists, with that ID.
        for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            if word.len() == 5 && word.starts_with("KW") {
                assert!(rules.get(word).is_some(), "{word} is no rule");
            }
        }
        assert!(text.contains("(KW000 unused-ignore)"), "{text}");
    }
}
