//! The fact model: the only thing a rule sees (DESIGN.md, "Key facts").

use std::collections::HashMap;
use std::sync::LazyLock;

use cel::Value as CelValue;

/// The type of one fact, used to validate rule files and to build defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Str,
    Int,
    Bool,
    List,
}

/// Every fact a rule may name. A rule naming anything else fails to load.
pub const FACTS: &[(&str, FactType)] = &[
    ("candidate.kind", FactType::Str),
    ("key.id", FactType::Str),
    ("key.prefix", FactType::Str),
    ("key.kind", FactType::Str),
    ("key.account", FactType::Str),
    ("key.placeholder", FactType::Bool),
    ("key.malformed", FactType::Bool),
    ("secret.present", FactType::Bool),
    ("secret.masked", FactType::Str),
    ("secret.placeholder", FactType::Bool),
    ("session.present", FactType::Bool),
    ("file.path", FactType::Str),
    ("file.format", FactType::Str),
    ("file.env", FactType::Str),
    ("location.context", FactType::Str),
    ("location.name", FactType::Str),
    ("location.encoding", FactType::Str),
    ("iam.known", FactType::Bool),
    ("iam.exists", FactType::Bool),
    ("iam.status", FactType::Str),
    ("iam.user", FactType::Str),
    ("iam.age_days", FactType::Int),
    ("iam.last_used_days", FactType::Int),
    ("iam.never_used", FactType::Bool),
    ("iam.last_used_service", FactType::Str),
    ("iam.last_used_region", FactType::Str),
    ("iam.can", FactType::List),
    ("iam.can_escalate", FactType::Bool),
    ("iam.can_approximate", FactType::Bool),
    ("iam.quarantined", FactType::Bool),
    ("iam.quarantine_policy", FactType::Str),
    ("iam.user_active_keys", FactType::List),
    ("iam.newest_tied", FactType::Bool),
    ("iam.newest_active_key", FactType::Str),
    ("verify.result", FactType::Str),
    ("repo.refs", FactType::Int),
    ("repo.secrets_for_key", FactType::Int),
    ("repo.keys_for_user", FactType::Int),
    ("suppression.kind", FactType::Str),
    ("suppression.names", FactType::Str),
    ("suppression.unknown", FactType::List),
    ("suppression.used", FactType::Bool),
    ("suppression.target", FactType::Str),
    ("change.blocking", FactType::Bool),
    ("config.allowed_accounts", FactType::List),
    ("config.max_key_age_days", FactType::Int),
    ("config.max_unused_days", FactType::Int),
];

/// What a fact means, for `keyward rules --facts`.
pub fn describe(name: &str) -> &'static str {
    match name {
        "candidate.kind" => "what was found here: access-key-id, secret-access-key, session-token",
        "key.id" => "the access key ID as written",
        "key.prefix" => "its 4-letter prefix (AKIA, ASIA, ABIA, ACCA)",
        "key.kind" => "long-term (AKIA), temporary (ASIA), bearer (ABIA), context (ACCA)",
        "key.account" => "the 12-digit account decoded from the key ID, else empty",
        "key.placeholder" => "an AWS documentation example or a filler (XXXX…, EXAMPLE)",
        "key.malformed" => "under a key-ID name but not a valid key ID (a typo)",
        "secret.present" => "a secret access key is paired with this key ID",
        "secret.masked" => "the paired secret, masked (first 4 + last 4)",
        "secret.placeholder" => "the secret is AWS's example or a filler",
        "session.present" => "a session token is paired with this (temporary) key",
        "file.path" => "the file's path as output shows it",
        "file.format" => {
            "terraform, tfvars, kubernetes, github-actions, compose, cloudformation, helm, dotenv, ini, json, yaml, text…"
        }
        "file.env" => "environment from the path: prod, staging, dev… or empty",
        "location.context" => "structural path of the value (provider.aws.access_key)",
        "location.name" => "the last name of that path",
        "location.encoding" => "plain or base64",
        "iam.known" => "the IAM source covers the key's account [needs --inventory or --live]",
        "iam.exists" => "IAM has the key [needs --inventory or --live]",
        "iam.status" => "Active or Inactive [needs --inventory or --live]",
        "iam.user" => "the IAM user owning the key [needs --inventory or --live]",
        "iam.age_days" => "days since the key was created [needs --inventory or --live]",
        "iam.last_used_days" => {
            "days since its last use, -1 if never (see iam.never_used) [needs --inventory or --live]"
        }
        "iam.never_used" => "IAM has no record of the key's use [needs --inventory or --live]",
        "iam.last_used_service" => {
            "the service of its last use (s3, sts, …), empty if never or not known [needs --inventory or --live]"
        }
        "iam.last_used_region" => {
            "the region of its last use, empty if never or not known [needs --inventory or --live]"
        }
        "iam.can" => {
            "the high-impact actions the key's owner may perform (iam:CreateAccessKey, s3:GetObject, …) [needs --live --blast-radius]"
        }
        "iam.can_escalate" => {
            "the owner may create access keys or attach or put user policies: give itself more [needs --live --blast-radius]"
        }
        "iam.can_approximate" => {
            "iam.can was read from the policies by keyward (simulation refused; conditions not evaluated) [needs --live --blast-radius]"
        }
        "iam.quarantined" => {
            "AWS attached a quarantine policy (AWSCompromisedKeyQuarantine…) to the key's owner: it found a key of theirs exposed [needs --inventory or --live]"
        }
        "iam.quarantine_policy" => {
            "the ARN of that policy, empty when there is none [needs --inventory or --live]"
        }
        "iam.user_active_keys" => {
            "the owner's Active key IDs, newest first [needs --inventory or --live]"
        }
        "iam.newest_tied" => {
            "the owner's newest Active keys were created in the same second and used alike [needs --inventory or --live]"
        }
        "iam.newest_active_key" => {
            "the owner's newest Active key ID; empty when there is none or it is a tie [needs --inventory or --live]"
        }
        "verify.result" => {
            "match, mismatch, unknown-key, unchecked or error [needs --verify-pairs]"
        }
        "repo.refs" => {
            "places in the scan that reference this key ID (--history: in this version of the file)"
        }
        "repo.secrets_for_key" => {
            "distinct secrets paired with this key ID in the scan (--history: in this version of the file)"
        }
        "repo.keys_for_user" => {
            "distinct key IDs of the same IAM user in the scan (--history: in this version of the file) [needs --inventory or --live]"
        }
        "suppression.kind" => {
            "only for `raised-by: suppression` rules: what accepts nothing, `ignore` (a keyward:ignore comment) or `allow` (an [[allow]] entry)"
        }
        "suppression.names" => {
            "only for `raised-by: suppression` rules: the rules an ignore comment names, or `any rule`"
        }
        "suppression.unknown" => {
            "only for `raised-by: suppression` rules: the names in an ignore comment that are no rule"
        }
        "suppression.used" => {
            "only for `raised-by: suppression` rules: the ignore comment suppressed some finding"
        }
        "suppression.target" => {
            "only for `raised-by: suppression` rules: what an [[allow]] entry names, with its rules"
        }
        "change.blocking" => {
            "only for `raised-by: change` rules: the suppression fails this run (false for a commit, `--staged` without `--strict-suppressions`: the pull request's gate asks the reviewer)"
        }
        "config.allowed_accounts" => "[policy] allowed-accounts",
        "config.max_key_age_days" => "[policy] max-key-age-days",
        "config.max_unused_days" => "[policy] max-unused-days",
        _ => "",
    }
}

/// The type of a fact, when it is one.
pub fn type_of(name: &str) -> Option<FactType> {
    FACTS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn is_known(name: &str) -> bool {
    is_fact(name)
}

/// The table's own name for `name`, when it is a fact.
pub fn known(name: &str) -> Option<&'static str> {
    FACTS.iter().map(|(n, _)| *n).find(|n| *n == name)
}

#[cfg(test)]
pub fn is_known_root(root: &str) -> bool {
    FACTS.iter().any(|(n, _)| n.split('.').next() == Some(root))
}

/// One fact's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fact {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Fact {
    /// How the fact reads inside a rule's message.
    pub fn render(&self) -> String {
        match self {
            Fact::Str(s) => s.clone(),
            Fact::Int(i) => i.to_string(),
            Fact::Bool(b) => b.to_string(),
            Fact::List(l) => l.join(", "),
        }
    }

    fn to_cel(&self) -> CelValue {
        match self {
            Fact::Str(s) => CelValue::from(s.as_str()),
            Fact::Int(i) => CelValue::Int(*i),
            Fact::Bool(b) => CelValue::Bool(*b),
            Fact::List(l) => CelValue::from(
                l.iter()
                    .map(|s| CelValue::from(s.as_str()))
                    .collect::<Vec<_>>(),
            ),
        }
    }

    fn default_of(t: FactType) -> Fact {
        match t {
            FactType::Str => Fact::Str(String::new()),
            FactType::Int => Fact::Int(-1),
            FactType::Bool => Fact::Bool(false),
            FactType::List => Fact::List(Vec::new()),
        }
    }
}

/// The facts of one candidate. Every fact in [`FACTS`] has a value: unset
/// ones take a neutral default (`""`, `-1`, `false`, `[]`), so a rule never
/// fails on a missing fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// In [`FACTS`] order: a candidate's facts are set by index, with no
    /// map built per candidate.
    values: Vec<Fact>,
}

impl Default for Facts {
    fn default() -> Self {
        let values = FACTS.iter().map(|(_, t)| Fact::default_of(*t)).collect();
        Facts { values }
    }
}

/// Where each fact stands in [`FACTS`], for the lookups by name (rule
/// messages, CEL variables a rule reads).
static INDEX: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    FACTS
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (*n, i))
        .collect()
});

/// A fact's name, checked against [`FACTS`] when the program is compiled:
/// made only by [`fact!`](crate::fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name(usize);

impl Name {
    /// For [`fact!`](crate::fact), which calls it in a constant, so an
    /// unknown name fails the build.
    #[doc(hidden)]
    pub const fn checked(name: &'static str) -> Name {
        match index_of(name) {
            Some(i) => Name(i),
            None => panic!("not a fact: add it to the table in rules/facts.rs"),
        }
    }

    pub fn as_str(self) -> &'static str {
        FACTS.get(self.0).map_or("", |(n, _)| n)
    }
}

/// Whether `name` is in [`FACTS`], in a form the compiler can evaluate.
pub const fn is_fact(name: &str) -> bool {
    index_of(name).is_some()
}

/// Where `name` stands in [`FACTS`], in a form the compiler can evaluate.
const fn index_of(name: &str) -> Option<usize> {
    let mut i = 0;
    while i < FACTS.len() {
        let (n, _) = FACTS[i];
        if n.len() == name.len() {
            let (a, b) = (n.as_bytes(), name.as_bytes());
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// A fact's [`Name`], checked at compile time: `fact!("key.id")`; a name
/// not in [`FACTS`] does not compile (`Name::checked` panics in a const).
macro_rules! fact {
    ($name:literal) => {{
        const NAME: $crate::rules::facts::Name = $crate::rules::facts::Name::checked($name);
        NAME
    }};
}
pub(crate) use fact;

impl Facts {
    /// Sets a fact; its name was checked when the program was compiled.
    pub fn set(&mut self, name: Name, fact: Fact) {
        if let Some(slot) = self.values.get_mut(name.0) {
            *slot = fact;
        }
    }

    pub fn str(&mut self, name: Name, v: impl Into<String>) {
        self.set(name, Fact::Str(v.into()));
    }

    pub fn int(&mut self, name: Name, v: i64) {
        self.set(name, Fact::Int(v));
    }

    pub fn bool(&mut self, name: Name, v: bool) {
        self.set(name, Fact::Bool(v));
    }

    pub fn get(&self, name: &str) -> Option<&Fact> {
        self.values.get(*INDEX.get(name)?)
    }

    /// The facts grouped by their first segment, as CEL map variables.
    pub fn to_cel(&self) -> Vec<(String, CelValue)> {
        self.roots(FACTS.iter().map(|(n, _)| *n).zip(&self.values))
    }

    /// As [`Facts::to_cel`], for the named facts only.
    pub fn to_cel_only(&self, names: &[&'static str]) -> Vec<(String, CelValue)> {
        self.roots(names.iter().filter_map(|n| Some((*n, self.get(n)?))))
    }

    fn roots<'f>(
        &self,
        facts: impl Iterator<Item = (&'static str, &'f Fact)>,
    ) -> Vec<(String, CelValue)> {
        let mut roots: HashMap<&str, HashMap<String, CelValue>> = HashMap::new();
        for (name, fact) in facts {
            if let Some((root, field)) = name.split_once('.') {
                roots
                    .entry(root)
                    .or_default()
                    .insert(field.to_string(), fact.to_cel());
            }
        }
        roots
            .into_iter()
            .map(|(root, fields)| (root.to_string(), CelValue::from(fields)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fact_name_is_checked() {
        assert_eq!(fact!("key.id").as_str(), "key.id");
        // What `fact!` evaluates in a const, so there a bogus name does
        // not compile.
        assert!(std::panic::catch_unwind(|| Name::checked("key.bogus")).is_err());
    }

    #[test]
    fn every_fact_is_described() {
        for (name, _) in FACTS {
            assert!(!describe(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn every_fact_has_a_default() {
        let f = Facts::default();
        for (n, _) in FACTS {
            assert!(f.get(n).is_some(), "{n}");
        }
        assert_eq!(f.get("iam.age_days"), Some(&Fact::Int(-1)));
        assert!(is_known_root("iam"));
        assert!(!is_known_root("nope"));
    }

    #[test]
    fn renders_facts_for_messages() {
        assert_eq!(Fact::List(vec!["a".into(), "b".into()]).render(), "a, b");
        assert_eq!(Fact::Int(3).render(), "3");
    }
}
