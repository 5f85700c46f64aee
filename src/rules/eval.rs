//! Evaluates compiled rules against a candidate's facts.

use std::sync::LazyLock;

use regex::Regex;

use super::facts::Facts;
use super::load::{Rule, RuleError, Severity, parse_rule};

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

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{([A-Za-z_]+(?:\.[A-Za-z_]+)*)\}").expect("static regex"));

impl RuleSet {
    /// The built-in rules compiled into the binary.
    pub fn builtin() -> Result<RuleSet, Box<RuleError>> {
        let mut rules = Vec::new();
        for (origin, text) in super::builtin::FILES {
            rules.push(parse_rule(origin, text)?);
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(RuleSet { rules })
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id) || r.name == id)
    }

    /// Indices of the rules whose `when` holds for these facts.
    pub fn matching(&self, facts: &Facts) -> (Vec<usize>, Vec<EvalError>) {
        let mut ctx = cel::Context::default();
        for (name, value) in facts.to_cel() {
            ctx.add_variable_from_value(name, value);
        }
        let mut hits = Vec::new();
        let mut errors = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match rule.program.execute(&ctx) {
                Ok(cel::Value::Bool(true)) => hits.push(i),
                Ok(cel::Value::Bool(false)) => {}
                Ok(other) => errors.push(EvalError {
                    rule: rule.id.clone(),
                    message: format!("`when` gave {:?}, not a bool", other.type_of()),
                }),
                Err(e) => errors.push(EvalError {
                    rule: rule.id.clone(),
                    message: e.to_string(),
                }),
            }
        }
        (hits, errors)
    }
}

/// Fills `{fact.name}` placeholders from the facts.
pub fn render(template: &str, facts: &Facts) -> String {
    PLACEHOLDER
        .replace_all(template, |cap: &regex::Captures<'_>| {
            facts
                .get(&cap[1])
                .map_or_else(|| cap[0].to_string(), |f| f.render())
        })
        .into_owned()
}

/// Whether `severity` reaches the `--fail-on` threshold (`None` = never).
pub fn at_least(severity: Severity, threshold: Option<Severity>) -> bool {
    threshold.is_some_and(|t| severity >= t)
}
