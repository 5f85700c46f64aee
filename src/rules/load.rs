//! Parses and validates rule files. A rule that does not parse, names an
//! unknown fact, or lacks a docs section is an error with a span into the
//! rule file.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use miette::{NamedSource, SourceSpan};
use regex::Regex;
use serde::Deserialize;

use super::condition::{CompileError, Condition};
use super::facts;

pub use crate::severity::Severity;

/// The docs sections every rule must have, in the order they are expected.
pub const DOC_SECTIONS: [&str; 4] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## How to fix",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    name: String,
    severity: Severity,
    summary: String,
    when: String,
    message: RawText,
    help: RawText,
    docs: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    related: Option<RawRelated>,
    #[serde(default, rename = "raised-by")]
    raised_by: Option<RaisedBy>,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    first: Option<String>,
    #[serde(default, rename = "history-help")]
    history_help: Option<String>,
    #[serde(default, rename = "across-repositories")]
    across_repositories: Option<AcrossRepositories>,
    #[serde(default)]
    next: Option<NextStep>,
    #[serde(default)]
    needs: Option<String>,
    #[serde(default)]
    says: BTreeMap<String, String>,
}

/// The command that helps with a rule's findings (`next:`), which the
/// human output points at after its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NextStep {
    /// `keyward fix --diff`: the credential can be moved out of the file.
    Fix,
    /// `keyward plan`: the key needs rotating, in an order per IAM user.
    Plan,
}

/// A rule whose findings a pipeline step raises, not its `when:` (which
/// is then `"false"`): the step knows what facts cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaisedBy {
    /// The suppression step: ignores and allow entries that accept nothing.
    Suppression,
    /// The change review (`--since`, `--staged`): what a change loosens.
    Change,
}

impl RaisedBy {
    /// The word a rule file uses (`raised-by: change`).
    pub fn as_str(self) -> &'static str {
        match self {
            RaisedBy::Suppression => "suppression",
            RaisedBy::Change => "change",
        }
    }
}

/// What a merged organisation report says when it raises the rule for a
/// credential diverging across repositories (`across-repositories:`). Its
/// texts name `{user}`, `{current}` (the repositories on the newest key),
/// `{newest}`, `{behind}` (the others), `{use}` (`uses` for one of them,
/// `use` for more) and, in `older-here`, `{key}` (the older key).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AcrossRepositories {
    /// The divergence's message.
    pub message: String,
    /// Said at each place that uses the newest key.
    pub newest_here: String,
    /// Said at each place still on an older key.
    pub older_here: String,
}

impl AcrossRepositories {
    /// The names the texts may use.
    pub const NAMES: [&'static str; 6] = ["user", "current", "newest", "behind", "use", "key"];
}

/// `related:`: other places a finding points at.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelated {
    keys: String,
    message: String,
}

/// Other places a rule's finding points at: every place in the scan that
/// holds one of the key IDs the fact `keys` names (a key ID, or a list of
/// them), each with `message` rendered from the finding's facts.
#[derive(Debug, Clone)]
pub struct RelatedSpec {
    pub keys: &'static str,
    pub message: String,
}

/// A message or help: one text, or variants chosen by condition (the first
/// whose `when` holds; the last has no `when`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawText {
    One(String),
    Variants(Vec<RawVariant>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    when: Option<String>,
    text: String,
}

/// One variant of a message or help.
#[derive(Clone)]
pub struct Variant {
    pub when: Option<String>,
    pub(crate) condition: Option<Condition>,
    pub text: String,
}

/// A loaded, validated rule with its compiled condition.
#[derive(Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub severity: Severity,
    pub summary: String,
    pub when: String,
    /// The default message (the last variant's text).
    pub message: String,
    /// The default help.
    pub help: String,
    /// Conditional messages and helps, in order; empty: `message`/`help`.
    pub messages: Vec<Variant>,
    pub helps: Vec<Variant>,
    pub docs: String,
    pub tags: Vec<String>,
    /// Where the rule came from (`rules/KW001-hardcoded-access-key.yaml`).
    pub origin: String,
    pub related: Option<RelatedSpec>,
    /// Raised by a pipeline step rather than by `when:`.
    pub raised_by: Option<RaisedBy>,
    /// What a remediation plan says of a key this rule reports when no IAM
    /// user of the run owns it (`plan:`).
    pub plan: Option<String>,
    /// What a remediation plan says to put the IAM user owning a key this
    /// rule reports first (`first:`; `{user}`, `{policies}` (the quarantine
    /// policies attached) and `{id}` are filled in).
    pub first: Option<String>,
    /// The help of a finding `--history` found that only the history holds
    /// now (`history-help:`): no file change undoes it, every clone has it.
    pub history_help: Option<String>,
    /// A merged organisation report raises this rule too, for the same
    /// credential diverging across repositories, saying this
    /// (`across-repositories:`).
    pub across_repositories: Option<AcrossRepositories>,
    /// What to run next about its findings (`next:`).
    pub next: Option<NextStep>,
    /// What a scan needs for the rule to fire, when its condition alone
    /// does not tell (`needs:`; KW010 fires on two secrets for one key ID
    /// without verification).
    pub needs: Option<String>,
    /// What a `raised-by: change` rule says of each loosening (`says:`,
    /// by [`Said`](super::says::Said) key).
    pub says: BTreeMap<String, String>,
    /// Off through the configuration: listed, never evaluated.
    pub enabled: bool,
    /// `when:`. CEL is pure, so two candidates that agree on the facts
    /// it reads get the same answer: evaluated once, remembered.
    pub(crate) condition: Condition,
}

impl Rule {
    /// Every fact the rule's condition reads.
    pub fn reads(&self) -> &[&'static str] {
        self.condition.reads()
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("severity", &self.severity)
            .field("when", &self.when)
            .finish()
    }
}

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid rule file {origin}: {message}")]
#[diagnostic(code(keyward::rule))]
pub struct RuleError {
    pub origin: String,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{([A-Za-z_]+(?:\.[A-Za-z_]+)*)\}").expect("static regex"));
static RULE_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^KW[0-9]{3}$").expect("static regex"));
static KEBAB: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:-[a-z0-9]+)*$").expect("static regex"));

/// When a rule's conditions are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompileWhen {
    /// While loading: a mistake is an error with a span into the file.
    Loading,
    /// When first evaluated: for the built-in rules, which the test suite
    /// compiles and checks.
    FirstUse,
}

/// Parses one rule file and compiles its conditions. `origin` names it in
/// errors.
pub fn parse_rule(origin: &str, text: &str) -> Result<Rule, Box<RuleError>> {
    parse_rule_compiling(origin, text, CompileWhen::Loading)
}

/// [`parse_rule`], compiling its conditions as `when` says.
pub(crate) fn parse_rule_compiling(
    origin: &str,
    text: &str,
    when: CompileWhen,
) -> Result<Rule, Box<RuleError>> {
    let r = RuleReader { origin, text, when };
    let file: RuleFile = serde_norway::from_str(text).map_err(|e| {
        // An error at the end of the text gets an empty span there: one byte
        // past the end is outside the source the report renders (found by
        // fuzzing).
        let at = e.location().map(|l| {
            let i = l.index().min(text.len());
            (i, usize::from(i < text.len()))
        });
        r.error(e.to_string(), at, "here")
    })?;
    r.check_identity(&file)?;
    let condition = r.condition(&file.when, "when")?;
    let messages = r.variants("message", &file.message)?;
    let helps = r.variants("help", &file.help)?;
    let related = file
        .related
        .as_ref()
        .map(|rel| r.related(rel))
        .transpose()?;
    if let Some((message, span, label)) = says_problem(&file, text) {
        return Err(r.error(message, span, label));
    }
    if let Some(name) = file
        .across_repositories
        .as_ref()
        .and_then(unknown_across_name)
    {
        return Err(r.error(
            format!(
                "`across-repositories` names `{{{name}}}`; its texts may name {}",
                AcrossRepositories::NAMES
                    .map(|n| format!("{{{n}}}"))
                    .join(", ")
            ),
            find_in(text, &format!("{{{name}}}")),
            "unknown name",
        ));
    }
    let default_text = |v: &[Variant]| v.last().map(|v| v.text.clone()).unwrap_or_default();
    Ok(Rule {
        id: file.id,
        name: file.name,
        severity: file.severity,
        summary: file.summary,
        when: file.when,
        message: default_text(&messages),
        help: default_text(&helps),
        messages,
        helps,
        docs: file.docs,
        tags: file.tags,
        origin: origin.to_string(),
        related,
        raised_by: file.raised_by,
        plan: file.plan,
        first: file.first,
        history_help: file.history_help,
        across_repositories: file.across_repositories,
        next: file.next,
        needs: file.needs,
        says: file.says,
        enabled: true,
        condition,
    })
}

/// Checks one rule file and says what is wrong where.
struct RuleReader<'a> {
    origin: &'a str,
    text: &'a str,
    when: CompileWhen,
}

impl RuleReader<'_> {
    fn error(&self, message: String, span: Option<(usize, usize)>, label: &str) -> Box<RuleError> {
        Box::new(RuleError {
            origin: self.origin.to_string(),
            message: crate::detect::masked_for_errors(&message),
            src: NamedSource::new(self.origin, crate::detect::masked_for_errors(self.text)),
            span: span.map(|(o, l)| SourceSpan::new(o.into(), l)),
            label: label.to_string(),
        })
    }

    fn field_span(&self, field: &str) -> Option<(usize, usize)> {
        field_span(self.text, field)
    }

    /// The ID, the name, the file's name and the docs' sections.
    fn check_identity(&self, file: &RuleFile) -> Result<(), Box<RuleError>> {
        if !RULE_ID.is_match(&file.id) {
            return Err(self.error(
                format!("rule id `{}` must look like KW001", file.id),
                self.field_span("id"),
                "bad id",
            ));
        }
        if !KEBAB.is_match(&file.name) {
            return Err(self.error(
                format!("rule name `{}` must be kebab-case", file.name),
                self.field_span("name"),
                "not kebab-case",
            ));
        }
        if !origin_matches(self.origin, &file.id, &file.name) {
            return Err(self.error(
                format!(
                    "the file of rule {} must be named {}-{}.yaml",
                    file.id, file.id, file.name
                ),
                self.field_span("id"),
                "does not match the file name",
            ));
        }
        match DOC_SECTIONS.iter().find(|s| !file.docs.contains(*s)) {
            Some(section) => Err(self.error(
                format!("docs lack the section `{section}`"),
                self.field_span("docs"),
                "missing section",
            )),
            None => Ok(()),
        }
    }

    /// A CEL expression, compiled now or on first use (see
    /// [`CompileWhen`]); an unknown fact is an error.
    fn condition(&self, expr: &str, field: &str) -> Result<Condition, Box<RuleError>> {
        if self.when == CompileWhen::FirstUse {
            return Ok(Condition::later(expr));
        }
        Condition::compile_now(expr).map_err(|e| match e {
            CompileError::Syntax(msg) => self.error(
                format!("`{field}` does not compile: {msg}"),
                find_in(self.text, expr).or_else(|| self.field_span(field)),
                "in this expression",
            ),
            CompileError::UnknownFact(name) => self.error(
                format!(
                    "`{field}` names `{name}`, which is not a fact (see `keyward rules --facts`)"
                ),
                find_in(self.text, &name).or_else(|| self.field_span(field)),
                "unknown fact",
            ),
        })
    }

    /// `message` or `help`: one text, or variants each but the last with
    /// a `when`; placeholders name facts.
    fn variants(&self, field: &str, raw: &RawText) -> Result<Vec<Variant>, Box<RuleError>> {
        let variants: Vec<RawVariant> = match raw {
            RawText::One(t) => vec![RawVariant {
                when: None,
                text: t.clone(),
            }],
            RawText::Variants(v) => v
                .iter()
                .map(|v| RawVariant {
                    when: v.when.clone(),
                    text: v.text.clone(),
                })
                .collect(),
        };
        let last = variants.len().saturating_sub(1);
        let mut compiled = Vec::new();
        for (i, v) in variants.into_iter().enumerate() {
            if (i == last) != v.when.is_none() {
                return Err(self.error(
                    format!(
                        "`{field}` variants: each but the last has a `when`, the last has none"
                    ),
                    self.field_span(field),
                    "here",
                ));
            }
            if let Some(name) = unknown_placeholder(&v.text) {
                return Err(self.error(
                    format!("`{field}` names `{{{name}}}`, which is not a fact"),
                    find_in(self.text, &format!("{{{name}}}")),
                    "unknown fact",
                ));
            }
            let condition = match &v.when {
                Some(w) => Some(self.condition(w, field)?),
                None => None,
            };
            compiled.push(Variant {
                when: v.when,
                condition,
                text: v.text,
            });
        }
        Ok(compiled)
    }

    /// `related:`: a text or list fact of key IDs, and a message over facts.
    fn related(&self, r: &RawRelated) -> Result<RelatedSpec, Box<RuleError>> {
        let keys = match facts::type_of(&r.keys) {
            Some(facts::FactType::Str | facts::FactType::List) => {
                facts::known(&r.keys).unwrap_or_default()
            }
            Some(_) => {
                return Err(self.error(
                    format!(
                        "`related.keys` names `{}`, which holds no key IDs (it must be a text or list fact)",
                        r.keys
                    ),
                    find_in(self.text, &r.keys),
                    "not a key ID fact",
                ));
            }
            None => {
                return Err(self.error(
                    format!(
                        "`related.keys` names `{}`, which is not a fact (see `keyward rules --facts`)",
                        r.keys
                    ),
                    find_in(self.text, &r.keys),
                    "unknown fact",
                ));
            }
        };
        if let Some(name) = unknown_placeholder(&r.message) {
            return Err(self.error(
                format!("`related.message` names `{{{name}}}`, which is not a fact"),
                find_in(self.text, &format!("{{{name}}}")),
                "unknown fact",
            ));
        }
        Ok(RelatedSpec {
            keys,
            message: r.message.clone(),
        })
    }
}

/// What is wrong in a rule file, where (offset, length), and the label.
type Problem = (String, Option<(usize, usize)>, &'static str);

/// `says:` belongs to a `raised-by: change` rule, which must say every
/// [`Said`](super::says::Said) and nothing else: what is wrong, where, and
/// the label, when something is.
fn says_problem(file: &RuleFile, text: &str) -> Option<Problem> {
    use super::says::Said;
    if file.raised_by != Some(RaisedBy::Change) {
        return (!file.says.is_empty()).then(|| {
            (
                "`says` is for a `raised-by: change` rule only".to_string(),
                field_span(text, "says"),
                "here",
            )
        });
    }
    if let Some(missing) = Said::ALL.iter().find(|s| !file.says.contains_key(s.key())) {
        return Some((
            format!(
                "a `raised-by: change` rule says what each change does: `says` has no `{}`",
                missing.key()
            ),
            field_span(text, "says"),
            "here",
        ));
    }
    let unknown = file
        .says
        .keys()
        .find(|k| !Said::ALL.iter().any(|s| s.key() == k.as_str()))?;
    Some((
        format!("`says` has `{unknown}`, which the change review never says"),
        find_in(text, unknown),
        "unknown",
    ))
}

/// The first `{name}` in a message template that is not a fact.
/// A `{name}` the `across-repositories` texts use that they cannot.
fn unknown_across_name(across: &AcrossRepositories) -> Option<String> {
    [&across.message, &across.newest_here, &across.older_here]
        .into_iter()
        .flat_map(|t| PLACEHOLDER.captures_iter(t).map(|cap| cap[1].to_string()))
        .find(|name| !AcrossRepositories::NAMES.contains(&name.as_str()))
}

fn unknown_placeholder(template: &str) -> Option<String> {
    PLACEHOLDER
        .captures_iter(template)
        .map(|cap| cap[1].to_string())
        .find(|name| !facts::is_known(name))
}

/// A rule file named `KW001-hardcoded-access-key.yaml` must hold KW001.
fn origin_matches(origin: &str, id: &str, name: &str) -> bool {
    let file = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .unwrap_or(file);
    stem == format!("{id}-{name}")
}

fn field_span(text: &str, field: &str) -> Option<(usize, usize)> {
    let pat = format!("{field}:");
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(&pat) {
            return Some((offset, line.trim_end().len().max(1)));
        }
        offset += line.len();
    }
    None
}

fn find_in(text: &str, needle: &str) -> Option<(usize, usize)> {
    text.find(needle).map(|i| (i, needle.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"id: KW900
name: test-rule
severity: high
summary: Test
when: candidate.kind == "access-key-id" && !key.malformed
message: "key `{key.id}` found"
help: "remove it"
docs: |
  ## What it does
  x
  ## Why is this bad?
  x
  ## Example
  x
  ## How to fix
  x
"#;

    #[test]
    fn loads_a_valid_rule() {
        let r = parse_rule("rules/KW900-test-rule.yaml", GOOD).expect("valid");
        assert_eq!(r.id, "KW900");
        assert_eq!(r.severity, Severity::High);
    }

    #[test]
    fn related_names_a_key_id_fact_and_known_facts() {
        let with = |keys: &str, message: &str| {
            GOOD.replace(
                "docs: |",
                &format!("related:\n  keys: {keys}\n  message: \"{message}\"\ndocs: |"),
            )
        };
        let r = parse_rule(
            "rules/KW900-test-rule.yaml",
            &with("iam.user_active_keys", "also `{key.id}`"),
        )
        .expect("valid");
        let spec = r.related.expect("related");
        assert_eq!(spec.keys, "iam.user_active_keys");
        assert_eq!(spec.message, "also `{key.id}`");
        let e = parse_rule("rules/KW900-test-rule.yaml", &with("key.bogus", "x"))
            .expect_err("unknown fact");
        assert!(e.message.contains("not a fact"), "{}", e.message);
        let e = parse_rule("rules/KW900-test-rule.yaml", &with("repo.refs", "x"))
            .expect_err("an int holds no key IDs");
        assert!(e.message.contains("holds no key IDs"), "{}", e.message);
        let e = parse_rule("rules/KW900-test-rule.yaml", &with("key.id", "{key.nope}"))
            .expect_err("unknown placeholder");
        assert!(e.message.contains("related.message"), "{}", e.message);
    }

    #[test]
    fn across_repositories_texts_name_only_what_a_divergence_has() {
        let with = |message: &str| {
            format!(
                "{GOOD}across-repositories:\n  message: \"{message}\"\n  newest-here: \"`{{newest}}` here\"\n  older-here: \"`{{key}}` still here\"\n"
            )
        };
        let r = parse_rule(
            "rules/KW900-test-rule.yaml",
            &with("`{user}`: {behind} {use} old keys"),
        )
        .expect("valid");
        let says = r.across_repositories.expect("texts");
        assert_eq!(says.older_here, "`{key}` still here");
        let e = parse_rule("rules/KW900-test-rule.yaml", &with("`{iam.user}` diverges"))
            .expect_err("a fact is not a divergence's name");
        assert!(e.message.contains("`{iam.user}`"), "{}", e.message);
        assert!(e.message.contains("{behind}"), "{}", e.message);
        assert!(e.span.is_some());
    }

    #[test]
    fn rejects_unknown_fact_with_span() {
        let bad = GOOD.replace("!key.malformed", "!key.bogus");
        let e = parse_rule("rules/KW900-test-rule.yaml", &bad).expect_err("unknown fact");
        assert!(e.message.contains("key.bogus"), "{}", e.message);
        let span = e.span.expect("span");
        assert_eq!(&bad[span.offset()..span.offset() + span.len()], "key.bogus");
    }

    #[test]
    fn rejects_unknown_root_and_bare_group() {
        let bad = GOOD.replace("!key.malformed", "nope");
        let e = parse_rule("rules/KW900-test-rule.yaml", &bad).expect_err("unknown");
        assert!(e.message.contains("`nope`"), "{}", e.message);
        let bad = GOOD.replace("!key.malformed", "size(key) > 0");
        assert!(parse_rule("rules/KW900-test-rule.yaml", &bad).is_err());
    }

    #[test]
    fn comprehension_variables_are_not_facts() {
        let ok = GOOD.replace(
            "!key.malformed",
            "config.allowed_accounts.exists(a, a == key.account)",
        );
        parse_rule("rules/KW900-test-rule.yaml", &ok).expect("comprehension var is bound");
    }

    #[test]
    fn rejects_syntax_errors_missing_docs_and_bad_names() {
        let bad = GOOD.replace("&& !key.malformed", "&& (");
        let e = parse_rule("rules/KW900-test-rule.yaml", &bad).expect_err("syntax");
        assert!(e.message.contains("does not compile"), "{}", e.message);
        let bad = GOOD.replace("## Example", "## Sample");
        let e = parse_rule("rules/KW900-test-rule.yaml", &bad).expect_err("docs");
        assert!(e.message.contains("## Example"));
        let e = parse_rule("rules/KW901-other.yaml", GOOD).expect_err("file name");
        assert!(e.message.contains("KW900-test-rule.yaml"));
        let bad = GOOD.replace("{key.id}", "{key.nope}");
        assert!(parse_rule("rules/KW900-test-rule.yaml", &bad).is_err());
        let bad = GOOD.replace("severity: high", "severity: urgent");
        assert!(parse_rule("rules/KW900-test-rule.yaml", &bad).is_err());
        let bad = format!("{GOOD}extra: 1\n");
        assert!(parse_rule("rules/KW900-test-rule.yaml", &bad).is_err());
    }
}
