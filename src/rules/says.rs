//! What the change review (`raised-by: change`, KW015) says of each thing
//! a change does to loosen the policy. The texts live in the rule file,
//! under `says:`, one per [`Said`]; the review names which one applies and
//! the values to fill in (`{glob}`, `{rule}` …). The loader refuses a
//! `raised-by: change` rule that lacks one, so the review never falls back
//! to a text of its own.

use std::collections::BTreeMap;

/// Declares [`Said`], every key in [`Said::ALL`] and each key's text in
/// one list, so no key can be left out of the loader's check.
macro_rules! saids {
    ($($(#[$doc:meta])* $variant:ident => $key:literal,)*) => {
        /// One thing the change review can say, by its key under `says:`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Said {
            $($(#[$doc])* $variant,)*
        }

        impl Said {
            /// Every key a `raised-by: change` rule must have under `says:`.
            pub const ALL: &[Said] = &[$(Said::$variant,)*];

            /// The key under `says:`.
            pub fn key(self) -> &'static str {
                match self {
                    $(Said::$variant => $key,)*
                }
            }
        }
    };
}

saids! {
    /// `{rules}`: the rules a new ignore comment names.
    IgnoreComment => "ignore-comment",
    IgnoreCommentAll => "ignore-comment-all",
    /// `{rule}`, `{name}`, `{line}` (1-based) of the ignore comment.
    IgnoreExisting => "ignore-existing",
    /// `{pattern}`, `{attributes}`, `{files}`.
    GitAttributes => "gitattributes",
    /// `{what}`: what was written into the left-out file.
    ExcludedFile => "excluded-file",
    OwnReport => "own-report",
    TooLarge => "too-large",
    Unreadable => "unreadable",
    CutShort => "cut-short",
    InventoryFile => "inventory-file",
    /// `{error}`, masked.
    UnreadablePolicy => "unreadable-policy",
    /// `{file}`.
    RemovedConfiguration => "removed-configuration",
    /// `{target}`, `{scope}` (` (KW001, KW002)` or nothing).
    AllowEntry => "allow-entry",
    /// `{id}`, `{name}`.
    RuleRemoved => "rule-removed",
    /// `{id}`, `{name}`.
    RuleOff => "rule-off",
    /// `{id}`, `{name}`, `{was}`, `{now}`.
    RuleLowered => "rule-lowered",
    /// `{glob}`.
    Exclude => "exclude",
    /// `{globs}`.
    IncludeLimited => "include-limited",
    /// `{globs}`: the ones dropped.
    IncludeNarrowed => "include-narrowed",
    /// `{was}`, `{now}`: bytes.
    MaxFileSize => "max-file-size",
    NoIgnoreOff => "no-ignore-off",
    PlaceholdersOff => "placeholders-off",
    /// `{was}`, `{now}`.
    FailOn => "fail-on",
    /// `{account}`.
    AllowedAccount => "allowed-account",
    /// `{name}`, `{was}`, `{now}`: days.
    LimitRaised => "limit-raised",
    /// `{dir}`.
    RulesDirSet => "rules-dir-set",
    /// `{dir}`, `{files}`.
    RulesDirChanged => "rules-dir-changed",
    /// `{was}`, `{now}`.
    InventoryChanged => "inventory-changed",
    /// `{was}`.
    InventoryRemoved => "inventory-removed",
    /// `{rule}`, `{path}`.
    BaselineEntry => "baseline-entry",
    /// `{rules}`: appended when the loosening silences one finding.
    SilencesOne => "silences-one",
    /// `{count}`, `{rules}`: appended when it silences more.
    SilencesMany => "silences-many",
    /// `{reason}`: appended when the change gives one.
    ReasonGiven => "reason-given",
    /// `{rule}`, `{name}`: a related place, a finding it silences.
    SilencedHere => "silenced-here",
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
        for &said in Said::ALL {
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
