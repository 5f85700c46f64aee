//! Rule selection as ruff does it: `select` replaces the set of rules that
//! run, `extend-select` adds to it, `ignore` takes rules out. A selector is
//! `ALL`, a rule ID (`KW001`), a rule name (`hardcoded-access-key`) or an ID
//! prefix (`KW00`). When a rule matches both an enabling and an ignoring
//! selector, the more specific one decides, and `ignore` wins a tie.
//!
//! The configuration's `[rules] select/extend-select/ignore` apply first,
//! then the command line's (`--select` replaces the configuration's
//! `select`, the others add to theirs).

use super::load::Rule;

/// Which rules run, on top of each rule's own `enabled` (its file and
/// `[rules] KWnnn = "off"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// `--select`: only these rules (IDs, names or ID prefixes); `None`:
    /// every enabled rule, as configured.
    pub select: Option<Vec<String>>,
    /// `--extend-select`: these as well, even if configured off.
    pub extend_select: Vec<String>,
    /// `--ignore`: not these.
    pub ignore: Vec<String>,
}

/// A selector that names no rule: almost always a typo, which would
/// otherwise turn rules off without a word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no rule, rule name or rule ID prefix `{selector}` to {verb}")]
pub struct UnknownSelector {
    pub selector: String,
    pub verb: &'static str,
}

impl Selection {
    /// Nothing selected, extended or ignored: the rules as configured.
    pub fn is_empty(&self) -> bool {
        self.select.is_none() && self.extend_select.is_empty() && self.ignore.is_empty()
    }

    /// This selection with `later` (the command line's) applied over it.
    pub fn then(&self, later: &Selection) -> Selection {
        Selection {
            select: later.select.clone().or_else(|| self.select.clone()),
            extend_select: [&self.extend_select[..], &later.extend_select[..]].concat(),
            ignore: [&self.ignore[..], &later.ignore[..]].concat(),
        }
    }

    /// Turns `rules` on or off.
    pub fn apply(&self, rules: &mut [Rule]) -> Result<(), UnknownSelector> {
        if self.is_empty() {
            return Ok(());
        }
        let enabling: Vec<&String> = self
            .select
            .iter()
            .flatten()
            .chain(&self.extend_select)
            .collect();
        for (selectors, verb) in [
            (enabling.clone(), "select"),
            (self.ignore.iter().collect(), "ignore"),
        ] {
            if let Some(unknown) = selectors.into_iter().find(|s| {
                rules
                    .iter()
                    .all(|r| specificity(s, &r.id, &r.name).is_none())
            }) {
                return Err(UnknownSelector {
                    selector: unknown.clone(),
                    verb,
                });
            }
        }
        for rule in rules.iter_mut() {
            let most = |selectors: &mut dyn Iterator<Item = &String>| {
                selectors
                    .filter_map(|s| specificity(s, &rule.id, &rule.name))
                    .max()
            };
            let on = most(&mut enabling.iter().copied());
            let off = most(&mut self.ignore.iter());
            rule.enabled = match (on, off) {
                (Some(on), Some(off)) => on > off,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => self.select.is_none() && rule.enabled,
            };
        }
        Ok(())
    }
}

/// How specifically `selector` names the rule, or `None` when it does not:
/// `ALL` least, then longer ID prefixes, an exact ID or name most.
fn specificity(selector: &str, id: &str, name: &str) -> Option<usize> {
    let selector = selector.trim();
    if selector.eq_ignore_ascii_case("ALL") {
        return Some(0);
    }
    if selector.eq_ignore_ascii_case(id) || selector == name {
        return Some(usize::MAX);
    }
    let prefix = selector.len() >= 2
        && id.len() > selector.len()
        && id.is_char_boundary(selector.len())
        && id[..selector.len()].eq_ignore_ascii_case(selector);
    prefix.then_some(selector.len())
}

/// Splits a command-line or configuration list: `KW001,KW002` and
/// repeated flags alike.
pub fn split_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| i.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(selection: &Selection) -> Result<Vec<String>, UnknownSelector> {
        let mut set = crate::rules::RuleSet::builtin().expect("built-in rules");
        selection.apply(&mut set.rules)?;
        Ok(set
            .rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| r.id.clone())
            .collect())
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn select_replaces_extend_adds_ignore_removes() {
        let all = enabled(&Selection::default()).expect("no selection");
        assert!(all.len() > 10, "{all:?}");
        let only = Selection {
            select: Some(list(&["KW001", "hardcoded-secret-key"])),
            ..Selection::default()
        };
        assert_eq!(enabled(&only).expect("known"), ["KW001", "KW002"]);
        let more = Selection {
            extend_select: list(&["kw003"]),
            ..only.clone()
        };
        assert_eq!(enabled(&more).expect("known"), ["KW001", "KW002", "KW003"]);
        let fewer = Selection {
            ignore: list(&["KW002"]),
            ..more
        };
        assert_eq!(enabled(&fewer).expect("known"), ["KW001", "KW003"]);
        let without = Selection {
            ignore: list(&["KW001"]),
            ..Selection::default()
        };
        let rest = enabled(&without).expect("known");
        assert_eq!(rest.len(), all.len() - 1);
        assert!(!rest.contains(&"KW001".to_string()));
    }

    #[test]
    fn the_more_specific_selector_wins_and_ignore_wins_a_tie() {
        // A prefix ignored, one rule of it selected by ID: that rule runs.
        let s = Selection {
            select: Some(list(&["ALL"])),
            extend_select: list(&["KW002"]),
            ignore: list(&["KW00"]),
        };
        let on = enabled(&s).expect("known");
        assert!(on.contains(&"KW002".to_string()), "{on:?}");
        assert!(!on.contains(&"KW001".to_string()), "{on:?}");
        assert!(on.contains(&"KW010".to_string()), "{on:?}");
        // Selected and ignored by the same ID: off.
        let tie = Selection {
            select: Some(list(&["KW001", "KW002"])),
            ignore: list(&["KW001"]),
            ..Selection::default()
        };
        assert_eq!(enabled(&tie).expect("known"), ["KW002"]);
    }

    #[test]
    fn a_selector_that_names_no_rule_is_an_error() {
        let typo = Selection {
            ignore: list(&["KW1234"]),
            ..Selection::default()
        };
        let e = enabled(&typo).expect_err("unknown");
        assert_eq!(e.selector, "KW1234");
        assert_eq!(e.verb, "ignore");
        assert!(e.to_string().contains("`KW1234` to ignore"), "{e}");
        let typo = Selection {
            select: Some(list(&["hardcoded-acces-key"])),
            ..Selection::default()
        };
        assert_eq!(enabled(&typo).expect_err("unknown").verb, "select");
    }

    #[test]
    fn the_command_line_comes_after_the_configuration() {
        let config = Selection {
            select: Some(list(&["KW001"])),
            extend_select: list(&["KW003"]),
            ignore: list(&["KW004"]),
        };
        let cli = Selection {
            select: Some(list(&["KW002"])),
            extend_select: Vec::new(),
            ignore: list(&["KW005"]),
        };
        let both = config.then(&cli);
        assert_eq!(both.select, Some(list(&["KW002"])));
        assert_eq!(both.extend_select, list(&["KW003"]));
        assert_eq!(both.ignore, list(&["KW004", "KW005"]));
        assert_eq!(config.then(&Selection::default()), config);
    }

    #[test]
    fn lists_split_on_commas() {
        assert_eq!(
            split_list(&list(&["KW001, KW002", "KW003", ""])),
            ["KW001", "KW002", "KW003"]
        );
    }
}
