//! `--store`: where a rotation keeps each user's new key, as a service and
//! a name that may hold `{user}` and `{account}`.

use crate::fix::FixStore;
use crate::iam::api::StoreKind;

/// A store and a name template (`secretsmanager:keyward/{user}`,
/// `ssm:/keyward/{account}/{user}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSpec {
    pub kind: StoreKind,
    template: String,
}

impl Default for StoreSpec {
    fn default() -> Self {
        StoreSpec {
            kind: StoreKind::SecretsManager,
            template: "keyward/{user}".into(),
        }
    }
}

const USAGE: &str = "`--store` is `secretsmanager:NAME` or `ssm:/PREFIX/NAME`; NAME may hold `{user}` and `{account}`";

impl std::str::FromStr for StoreSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, template) = match s.split_once(':') {
            Some(("secretsmanager", t)) => (StoreKind::SecretsManager, t),
            Some(("ssm", t)) => (StoreKind::Ssm, t),
            _ => return Err(format!("`{s}`: {USAGE}")),
        };
        if template.is_empty() {
            return Err(format!("`{s}` names no secret: {USAGE}"));
        }
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            let after = &rest[open..];
            let Some(len) = ["{user}", "{account}"]
                .iter()
                .find(|p| after.starts_with(**p))
                .map(|p| p.len())
            else {
                return Err(format!(
                    "`{s}`: only `{{user}}` and `{{account}}` may stand in braces"
                ));
            };
            rest = &after[len..];
        }
        let spec = StoreSpec {
            kind,
            template: template.to_string(),
        };
        // Any user name IAM allows must fit; the template's own text too.
        spec.check(&spec.name("123456789012", "user"))
            .map_err(|why| format!("`{s}`: {why}"))?;
        if kind == StoreKind::Ssm && template.contains('/') && !template.starts_with('/') {
            return Err(format!(
                "`{s}`: an SSM parameter name with a path starts with `/`"
            ));
        }
        Ok(spec)
    }
}

impl std::fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.template)
    }
}

impl StoreSpec {
    /// The secret's (parameter's) name for one user.
    pub fn name(&self, account: &str, user: &str) -> String {
        self.template
            .replace("{user}", user)
            .replace("{account}", account)
    }

    /// `secretsmanager:NAME` for one user, as messages show it.
    pub fn shown(&self, account: &str, user: &str) -> String {
        format!("{}:{}", self.kind.as_str(), self.name(account, user))
    }

    /// Why `name` cannot name a secret of this store, if it cannot.
    pub fn check(&self, name: &str) -> Result<(), String> {
        let (allowed, what): (fn(char) -> bool, &str) = match self.kind {
            StoreKind::SecretsManager => (
                |c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c),
                "a Secrets Manager name holds letters, digits and /_+=.@-",
            ),
            StoreKind::Ssm => (
                |c| c.is_ascii_alphanumeric() || "/_.-".contains(c),
                "an SSM parameter name holds letters, digits and /_.-",
            ),
        };
        if let Some(c) = name.chars().find(|c| !allowed(*c)) {
            return Err(format!("`{name}` holds `{c}`: {what}"));
        }
        let limit = match self.kind {
            StoreKind::SecretsManager => 512,
            StoreKind::Ssm => 1011,
        };
        if name.len() > limit {
            return Err(format!("`{name}` is longer than {limit} characters"));
        }
        Ok(())
    }

    /// What fixes read, for one user: the store, and the Kubernetes
    /// Secret filled from it.
    pub fn fix_store(&self, account: &str, user: &str) -> FixStore {
        FixStore {
            kind: self.kind,
            name: self.name(account, user),
            k8s_secret: k8s_name(user),
        }
    }
}

/// `keyward-<user>` as a Kubernetes object name: lower case letters,
/// digits and `-`, at most 63 characters, ending alphanumeric.
fn k8s_name(user: &str) -> String {
    let mut name: String = format!("keyward-{user}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(63);
    while name.ends_with('-') {
        name.pop();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_a_service_and_a_name_with_the_user_and_account() {
        let spec: StoreSpec = "secretsmanager:keyward/{account}/{user}".parse().unwrap();
        assert_eq!(spec.name("123456789012", "ci"), "keyward/123456789012/ci");
        assert_eq!(
            spec.shown("123456789012", "ci"),
            "secretsmanager:keyward/123456789012/ci"
        );
        let ssm: StoreSpec = "ssm:/keyward/{user}".parse().unwrap();
        assert_eq!(ssm.kind, StoreKind::Ssm);
        assert_eq!(ssm.name("1", "deploy-bot"), "/keyward/deploy-bot");
    }

    #[test]
    fn a_store_that_cannot_be_is_refused_with_the_reason() {
        for (bad, says) in [
            ("vault:secret/x", "secretsmanager:NAME"),
            ("secretsmanager:", "names no secret"),
            ("secretsmanager:keyward/{team}", "only `{user}`"),
            ("secretsmanager:key ward", "holds ` `"),
            ("ssm:keyward/{user}", "starts with `/`"),
        ] {
            let err = bad.parse::<StoreSpec>().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn a_user_name_ssm_cannot_hold_is_caught() {
        let ssm: StoreSpec = "ssm:/keyward/{user}".parse().unwrap();
        assert!(ssm.check(&ssm.name("1", "ops+ci@corp")).is_err());
        let sm = StoreSpec::default();
        assert!(sm.check(&sm.name("1", "ops+ci@corp")).is_ok());
    }

    #[test]
    fn kubernetes_names_are_dns_labels() {
        assert_eq!(k8s_name("Deploy_Bot@corp"), "keyward-deploy-bot-corp");
        assert!(k8s_name(&"x".repeat(100)).len() <= 63);
    }
}
