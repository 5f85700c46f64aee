//! The rule files shipped in `rules/`, compiled into the binary.

/// `(origin, text)` of every built-in rule. A test checks this list against
/// the `rules/` directory, so a new file cannot be forgotten here.
pub const FILES: &[(&str, &str)] = &[
    (
        "rules/KW000-unused-ignore.yaml",
        include_str!("../../rules/KW000-unused-ignore.yaml"),
    ),
    (
        "rules/KW001-hardcoded-access-key.yaml",
        include_str!("../../rules/KW001-hardcoded-access-key.yaml"),
    ),
    (
        "rules/KW002-hardcoded-secret-key.yaml",
        include_str!("../../rules/KW002-hardcoded-secret-key.yaml"),
    ),
    (
        "rules/KW003-temporary-credentials.yaml",
        include_str!("../../rules/KW003-temporary-credentials.yaml"),
    ),
    (
        "rules/KW004-malformed-key-id.yaml",
        include_str!("../../rules/KW004-malformed-key-id.yaml"),
    ),
    (
        "rules/KW005-foreign-account-key.yaml",
        include_str!("../../rules/KW005-foreign-account-key.yaml"),
    ),
    (
        "rules/KW006-inactive-key-referenced.yaml",
        include_str!("../../rules/KW006-inactive-key-referenced.yaml"),
    ),
    (
        "rules/KW007-unknown-key.yaml",
        include_str!("../../rules/KW007-unknown-key.yaml"),
    ),
    (
        "rules/KW008-stale-key.yaml",
        include_str!("../../rules/KW008-stale-key.yaml"),
    ),
    (
        "rules/KW009-unused-key.yaml",
        include_str!("../../rules/KW009-unused-key.yaml"),
    ),
    (
        "rules/KW010-key-pair-mismatch.yaml",
        include_str!("../../rules/KW010-key-pair-mismatch.yaml"),
    ),
    (
        "rules/KW011-divergent-credential.yaml",
        include_str!("../../rules/KW011-divergent-credential.yaml"),
    ),
    (
        "rules/KW012-live-credential-exposed.yaml",
        include_str!("../../rules/KW012-live-credential-exposed.yaml"),
    ),
    (
        "rules/KW013-aws-quarantined-key.yaml",
        include_str!("../../rules/KW013-aws-quarantined-key.yaml"),
    ),
    (
        "rules/KW014-privileged-key-exposed.yaml",
        include_str!("../../rules/KW014-privileged-key-exposed.yaml"),
    ),
    (
        "rules/KW015-suppression-added.yaml",
        include_str!("../../rules/KW015-suppression-added.yaml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::FILES;
    use crate::rules::load::parse_rule;

    /// A scan compiles the built-in rules' conditions on first use and
    /// cannot report a mistake in them with a span: here they are compiled
    /// and checked as a `rules-dir` file is when it loads.
    #[test]
    fn every_built_in_rule_compiles_and_reads_only_facts() {
        for (origin, text) in FILES {
            let rule =
                parse_rule(origin, text).unwrap_or_else(|e| panic!("{origin}: {e}: {}", e.message));
            let lazy = crate::rules::RuleSet::builtin().expect("built-in rules");
            let same = lazy.get(&rule.id).expect("listed");
            assert_eq!(same.reads(), rule.reads(), "{origin}");
        }
    }

    #[test]
    fn a_condition_compiled_on_first_use_still_names_its_mistake() {
        let text = "id: KW900\nname: test-rule\nseverity: high\nsummary: Test\n\
                    when: key.bogus\nmessage: m\nhelp: h\ndocs: |\n  ## What it does\n  x\n\
                    \x20 ## Why is this bad?\n  x\n  ## Example\n  x\n  ## How to fix\n  x\n";
        let origin = "rules/KW900-test-rule.yaml";
        assert!(parse_rule(origin, text).is_err(), "refused while loading");
        let rule = crate::rules::load::parse_rule_compiling(
            origin,
            text,
            crate::rules::load::CompileWhen::FirstUse,
        )
        .expect("not compiled while loading");
        assert!(rule.reads().is_empty());
        let set = crate::rules::RuleSet { rules: vec![rule] };
        let (hits, errors) = set.matching(&crate::rules::facts::Facts::default());
        assert!(hits.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .contains("`key.bogus`, which is not a fact"),
            "{}",
            errors[0].message
        );
    }
}
