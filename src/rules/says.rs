//! What the change review (`raised-by: change`, KW015) says of each thing
//! a change does to loosen the policy. The texts live in the rule file,
//! under `says:`, one per [`Said`]; the review names which one applies and
//! the values to fill in (`{glob}`, `{rule}` …). The loader refuses a
//! `raised-by: change` rule that lacks one, so the review never falls back
//! to a text of its own.

use std::collections::BTreeMap;

/// One thing the change review can say, by its key under `says:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Said {
    /// `{rules}`: the rules a new ignore comment names.
    IgnoreComment,
    IgnoreCommentAll,
    /// `{rule}`, `{name}`, `{line}` (1-based) of the ignore comment.
    IgnoreExisting,
    /// `{pattern}`, `{attributes}`, `{files}`.
    GitAttributes,
    /// `{what}`: what was written into the left-out file.
    ExcludedFile,
    OwnReport,
    TooLarge,
    Unreadable,
    CutShort,
    InventoryFile,
    /// `{error}`, masked.
    UnreadablePolicy,
    /// `{file}`.
    RemovedConfiguration,
    /// `{target}`, `{scope}` (` (KW001, KW002)` or nothing).
    AllowEntry,
    /// `{id}`, `{name}`.
    RuleRemoved,
    /// `{id}`, `{name}`.
    RuleOff,
    /// `{id}`, `{name}`, `{was}`, `{now}`.
    RuleLowered,
    /// `{glob}`.
    Exclude,
    /// `{globs}`.
    IncludeLimited,
    /// `{globs}`: the ones dropped.
    IncludeNarrowed,
    /// `{was}`, `{now}`: bytes.
    MaxFileSize,
    NoIgnoreOff,
    PlaceholdersOff,
    /// `{was}`, `{now}`.
    FailOn,
    /// `{account}`.
    AllowedAccount,
    /// `{name}`, `{was}`, `{now}`: days.
    LimitRaised,
    /// `{dir}`.
    RulesDirSet,
    /// `{dir}`, `{files}`.
    RulesDirChanged,
    /// `{was}`, `{now}`.
    InventoryChanged,
    /// `{was}`.
    InventoryRemoved,
    /// `{rule}`, `{path}`.
    BaselineEntry,
    /// `{rules}`: appended when the loosening silences one finding.
    SilencesOne,
    /// `{count}`, `{rules}`: appended when it silences more.
    SilencesMany,
    /// `{reason}`: appended when the change gives one.
    ReasonGiven,
    /// `{rule}`, `{name}`: a related place, a finding it silences.
    SilencedHere,
}

impl Said {
    /// Every key a `raised-by: change` rule must have under `says:`.
    pub const ALL: [Said; 34] = [
        Said::IgnoreComment,
        Said::IgnoreCommentAll,
        Said::IgnoreExisting,
        Said::GitAttributes,
        Said::ExcludedFile,
        Said::OwnReport,
        Said::TooLarge,
        Said::Unreadable,
        Said::CutShort,
        Said::InventoryFile,
        Said::UnreadablePolicy,
        Said::RemovedConfiguration,
        Said::AllowEntry,
        Said::RuleRemoved,
        Said::RuleOff,
        Said::RuleLowered,
        Said::Exclude,
        Said::IncludeLimited,
        Said::IncludeNarrowed,
        Said::MaxFileSize,
        Said::NoIgnoreOff,
        Said::PlaceholdersOff,
        Said::FailOn,
        Said::AllowedAccount,
        Said::LimitRaised,
        Said::RulesDirSet,
        Said::RulesDirChanged,
        Said::InventoryChanged,
        Said::InventoryRemoved,
        Said::BaselineEntry,
        Said::SilencesOne,
        Said::SilencesMany,
        Said::ReasonGiven,
        Said::SilencedHere,
    ];

    /// The key under `says:`.
    pub fn key(self) -> &'static str {
        match self {
            Said::IgnoreComment => "ignore-comment",
            Said::IgnoreCommentAll => "ignore-comment-all",
            Said::IgnoreExisting => "ignore-existing",
            Said::GitAttributes => "gitattributes",
            Said::ExcludedFile => "excluded-file",
            Said::OwnReport => "own-report",
            Said::TooLarge => "too-large",
            Said::Unreadable => "unreadable",
            Said::CutShort => "cut-short",
            Said::InventoryFile => "inventory-file",
            Said::UnreadablePolicy => "unreadable-policy",
            Said::RemovedConfiguration => "removed-configuration",
            Said::AllowEntry => "allow-entry",
            Said::RuleRemoved => "rule-removed",
            Said::RuleOff => "rule-off",
            Said::RuleLowered => "rule-lowered",
            Said::Exclude => "exclude",
            Said::IncludeLimited => "include-limited",
            Said::IncludeNarrowed => "include-narrowed",
            Said::MaxFileSize => "max-file-size",
            Said::NoIgnoreOff => "no-ignore-off",
            Said::PlaceholdersOff => "placeholders-off",
            Said::FailOn => "fail-on",
            Said::AllowedAccount => "allowed-account",
            Said::LimitRaised => "limit-raised",
            Said::RulesDirSet => "rules-dir-set",
            Said::RulesDirChanged => "rules-dir-changed",
            Said::InventoryChanged => "inventory-changed",
            Said::InventoryRemoved => "inventory-removed",
            Said::BaselineEntry => "baseline-entry",
            Said::SilencesOne => "silences-one",
            Said::SilencesMany => "silences-many",
            Said::ReasonGiven => "reason-given",
            Said::SilencedHere => "silenced-here",
        }
    }
}

/// A [`Said`] with the values its text is filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saying {
    pub said: Said,
    pub values: Vec<(&'static str, String)>,
}

impl Saying {
    /// What `said` says, with no values yet.
    pub fn new(said: Said) -> Saying {
        Saying {
            said,
            values: Vec::new(),
        }
    }

    /// Fills `{name}` with `value`.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Saying {
        self.values.push((name, value.into()));
        self
    }

    /// The text of `says` for it, filled in. A rule without the text (the
    /// loader refuses one) gives the key, so nothing is silently empty.
    pub fn render(&self, says: &BTreeMap<String, String>) -> String {
        match says.get(self.said.key()) {
            Some(template) => fill(template, &self.values),
            None => self.said.key().to_string(),
        }
    }
}

/// `template` with each `{name}` of `values` replaced, in one pass: a value
/// that itself holds `{…}` is not filled again.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_named_values_once() {
        let v = [
            ("glob", "{rule}".to_string()),
            ("rule", "KW001".to_string()),
        ];
        assert_eq!(
            fill("excludes `{glob}` ({rule})", &v),
            "excludes `{rule}` (KW001)"
        );
        assert_eq!(fill("{unknown} {", &v), "{unknown} {");
    }

    #[test]
    fn keys_are_distinct() {
        let keys: std::collections::BTreeSet<&str> = Said::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(keys.len(), Said::ALL.len());
    }

    #[test]
    fn the_builtin_change_rule_says_everything_and_the_loader_insists() {
        let rules = crate::rules::RuleSet::builtin().expect("built-in rules");
        let rule = rules
            .raised_by(crate::rules::load::RaisedBy::Change)
            .expect("a change rule");
        for said in Said::ALL {
            let text = Saying::new(said).render(&rule.says);
            assert_ne!(text, said.key(), "{} has no text", said.key());
        }
        let origin = rule
            .origin
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let file = crate::rules::builtin::FILES
            .iter()
            .find(|(name, _)| name.ends_with(&origin))
            .map(|(_, text)| *text)
            .expect("the rule file");
        let without = file.replace("  exclude: ", "  nothing: ");
        let e = crate::rules::load::parse_rule(&origin, &without).expect_err("one missing");
        assert!(e.to_string().contains("`says` has no `exclude`"), "{e}");
    }
}
