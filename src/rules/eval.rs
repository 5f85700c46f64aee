//! Evaluates compiled rules against a candidate's facts.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use regex::Regex;

use super::facts::{Fact, Facts};
use super::load::{CompileWhen, Rule, RuleError, parse_rule, parse_rule_compiling};
use crate::config::{Config, ConfigError};

/// Why the rules of a configuration cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RuleSetError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rule(Box<RuleError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(Box<ConfigError>),
    #[error("cannot read rules directory {path}: {message}")]
    Dir { path: String, message: String },
}

/// Whether a file in a `rules-dir` is a rule file.
pub fn is_rule_file(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// The enabled rules, in ID order.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

/// A rule whose condition could not be evaluated for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub rule: String,
    pub message: String,
}

/// Parses the built-in rule files, sorted by ID.
fn read_builtin() -> Result<Vec<Rule>, Box<RuleError>> {
    let mut rules = Vec::new();
    for (origin, text) in super::builtin::FILES {
        rules.push(parse_rule_compiling(origin, text, CompileWhen::FirstUse)?);
    }
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(rules)
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{([A-Za-z_]+(?:\.[A-Za-z_]+)*)\}").expect("static regex"));

impl RuleSet {
    /// The built-in rules compiled into the binary. They are read once per
    /// process: every policy a run loads (a commit's review loads three)
    /// gets a copy that shares the compiled conditions.
    pub fn builtin() -> Result<RuleSet, Box<RuleError>> {
        static BUILTIN: LazyLock<Result<Vec<Rule>, Box<RuleError>>> = LazyLock::new(read_builtin);
        match &*BUILTIN {
            Ok(rules) => Ok(RuleSet {
                rules: rules.clone(),
            }),
            // Read again for an error of its own (never, once the test
            // suite has passed).
            Err(_) => read_builtin().map(|rules| RuleSet { rules }),
        }
    }

    /// The built-in rules plus the configuration's own (`rules-dir`), with
    /// its overrides applied. Custom rules are added, never replace.
    pub fn configured(config: &Config) -> Result<RuleSet, RuleSetError> {
        let mut files = Vec::new();
        if let Some(dir) = &config.rules_dir {
            let shown = crate::shown::shown_path(dir);
            let entries = std::fs::read_dir(dir).map_err(|e| RuleSetError::Dir {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            let mut paths: Vec<std::path::PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_rule_file(&p.to_string_lossy()))
                .collect();
            paths.sort();
            for path in paths {
                let origin = crate::shown::shown_path(&path);
                let text = crate::named_file::read_text(&path, crate::named_file::MAX_NAMED_FILE)
                    .map_err(|e| RuleSetError::Dir {
                    path: origin.clone(),
                    message: e.to_string(),
                })?;
                files.push((origin, text));
            }
        }
        RuleSet::configured_with(config, &files)
    }

    /// [`RuleSet::configured`] with the `rules-dir` files already read
    /// (origin, text), in order: from a git revision, say.
    pub fn configured_with(
        config: &Config,
        files: &[(String, String)],
    ) -> Result<RuleSet, RuleSetError> {
        let mut set = RuleSet::builtin().map_err(RuleSetError::Rule)?;
        for (origin, text) in files {
            let rule = parse_rule(origin, text).map_err(RuleSetError::Rule)?;
            if let Some(existing) = set.rules.iter().find(|r| r.id == rule.id) {
                return Err(RuleSetError::Dir {
                    path: origin.clone(),
                    message: format!(
                        "rule ID {} is already taken by {}",
                        rule.id, existing.origin
                    ),
                });
            }
            set.rules.push(rule);
        }
        set.rules.sort_by(|a, b| a.id.cmp(&b.id));
        for (key, over) in &config.rules {
            let Some(rule) = set
                .rules
                .iter_mut()
                .find(|r| r.id.eq_ignore_ascii_case(key) || &r.name == key)
            else {
                return Err(RuleSetError::Config(ConfigError::in_config(
                    config,
                    format!("no rule `{key}` (see `keyward rules`)"),
                    over.span.clone(),
                    "unknown rule",
                )));
            };
            rule.enabled = over.enabled;
            if let Some(sev) = over.severity {
                rule.severity = sev;
            }
        }
        config.selection.apply(&mut set.rules).map_err(|e| {
            RuleSetError::Config(ConfigError::in_config(
                config,
                format!("{e} (see `keyward rules`)"),
                config.spans.selection.clone().unwrap_or_default(),
                "unknown rule",
            ))
        })?;
        Ok(set)
    }

    /// A rule by ID or name, enabled or not.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
    }

    /// The enabled rule a pipeline step raises.
    pub fn raised_by(&self, by: super::load::RaisedBy) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.enabled && r.raised_by == Some(by))
    }

    /// An enabled rule by ID or name.
    pub fn enabled(&self, id: &str) -> Option<&Rule> {
        self.get(id).filter(|r| r.enabled)
    }

    /// Indices of the rules whose `when` holds for these facts.
    pub fn matching(&self, facts: &Facts) -> (Vec<usize>, Vec<EvalError>) {
        self.matching_with(facts, &mut Memo::default())
    }

    /// As [`RuleSet::matching`], remembering answers in `memo` by the facts
    /// each rule reads: a file with 100,000 key IDs costs a handful of CEL
    /// evaluations, not 1.3 million.
    pub fn matching_with(&self, facts: &Facts, memo: &mut Memo) -> (Vec<usize>, Vec<EvalError>) {
        let mut hits = Vec::new();
        let mut errors = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if !rule.enabled {
                continue;
            }
            let read: Vec<&Fact> = rule.reads().iter().filter_map(|n| facts.get(n)).collect();
            let key = memo_key(i, &read);
            let known = memo
                .answers
                .get(&key)
                .and_then(|bucket| {
                    bucket
                        .iter()
                        .find(|(r, v, _)| *r == i && v.iter().eq(read.iter().copied()))
                })
                .map(|(_, _, a)| a.clone());
            let answer = match known {
                Some(a) => a,
                None => {
                    // A root context registers every CEL function, which
                    // costs far more than evaluating a rule: one root, and
                    // a child scope with only the facts this rule reads.
                    let a = match rule.condition.compiled() {
                        Ok(c) => match c.program.execute(&memo.scope(facts, &c.reads)) {
                            Ok(cel::Value::Bool(b)) => Ok(b),
                            Ok(other) => {
                                Err(format!("`when` gave {:?}, not a bool", other.type_of()))
                            }
                            Err(e) => Err(e.to_string()),
                        },
                        Err(e) => Err(format!("`when` {e}")),
                    };
                    memo.answers.entry(key).or_default().push((
                        i,
                        read.iter().map(|f| (*f).clone()).collect(),
                        a.clone(),
                    ));
                    a
                }
            };
            match answer {
                Ok(true) => hits.push(i),
                Ok(false) => {}
                Err(message) => errors.push(EvalError {
                    rule: rule.id.clone(),
                    message,
                }),
            }
        }
        (hits, errors)
    }
}

/// Remembered rule answers, by rule and the values of the facts it reads.
#[derive(Default)]
pub struct Memo {
    answers: HashMap<u64, Vec<MemoEntry>>,
    /// Made on the first evaluation: a root context registers every CEL
    /// function, and most judged parts (a `--history` blob, a clean file)
    /// evaluate nothing.
    base: std::cell::OnceCell<cel::Context<'static, 'static>>,
}

impl Memo {
    /// A child scope of the root context with only the facts `reads` names.
    fn scope(&self, facts: &Facts, reads: &[&'static str]) -> cel::Context<'_, 'static> {
        let mut ctx = self
            .base
            .get_or_init(cel::Context::default)
            .new_inner_scope();
        for (name, value) in facts.to_cel_only(reads) {
            ctx.add_variable_from_value(name, value);
        }
        ctx
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("answers", &self.answers.len())
            .finish()
    }
}

/// Rule index, the values it read, its answer.
type MemoEntry = (usize, Vec<Fact>, Result<bool, String>);

fn memo_key(rule: usize, read: &[&Fact]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    rule.hash(&mut h);
    for f in read {
        f.hash(&mut h);
    }
    h.finish()
}

/// The message or help of a rule that fired, its variant chosen by the
/// facts: the first variant whose `when` holds (one that cannot be
/// evaluated does not hold), else the last.
pub fn text_for(variants: &[super::load::Variant], facts: &Facts, memo: &Memo) -> String {
    for v in variants {
        let Some(condition) = &v.condition else {
            return render(&v.text, facts);
        };
        let holds = condition.compiled().is_ok_and(|c| {
            matches!(
                c.program.execute(&memo.scope(facts, &c.reads)),
                Ok(cel::Value::Bool(true))
            )
        });
        if holds {
            return render(&v.text, facts);
        }
    }
    variants
        .last()
        .map(|v| render(&v.text, facts))
        .unwrap_or_default()
}

/// Fills `{fact.name}` placeholders from the facts.
pub fn render(template: &str, facts: &Facts) -> String {
    PLACEHOLDER
        .replace_all(template, |cap: &regex::Captures<'_>| {
            facts.get(&cap[1]).map_or_else(
                || cap[0].to_string(),
                |f| crate::shown::code_value(&f.render()),
            )
        })
        .into_owned()
}
