//! What the CloudFormation fixes share between YAML and JSON templates:
//! where an environment value names its variable, and the Secrets Manager
//! dynamic reference it becomes.

use super::edit::Edit;
use super::{Place, Proposal, Safety};

/// The Secrets Manager secret a CloudFormation fix resolves when no
/// rotation store names one.
pub(crate) const SM_SECRET: &str = "aws-credentials";

/// Where a CloudFormation environment value names its variable: a
/// container's `Environment[i].Value` (ECS; the name is the item's
/// `Name`, `None` here) or `Environment.Variables.NAME` (Lambda).
pub(super) fn environment_name<'a>(segments: &[&'a str]) -> Option<Option<&'a str>> {
    match segments {
        ["Resources", _, "Properties", .., env, "Value"] if env.starts_with("Environment[") => {
            Some(None)
        }
        [
            "Resources",
            _,
            "Properties",
            "Environment",
            "Variables",
            name,
        ] => Some(Some(name)),
        _ => None,
    }
}

/// The value at `value` becomes a dynamic reference to one field of a
/// Secrets Manager secret (the rotation's store, or the shared secret):
/// the secret must exist first, so the fix is unsafe.
pub(super) fn dynamic_reference_fix(
    place: &Place<'_>,
    env_name: &str,
    value: std::ops::Range<usize>,
) -> Proposal {
    let (secret, field) = match place.secrets_manager_reference(env_name) {
        Ok(r) => r,
        Err(why) => return Proposal::Refuse(why),
    };
    let exists = if place.store.is_some() {
        "it exists (the rotation stored the key there; "
    } else {
        "create it first (the setup command below; "
    };
    Proposal::Fix {
        edits: vec![Edit {
            range: value,
            with: format!("\"{{{{resolve:secretsmanager:{secret}:SecretString:{field}}}}}\""),
        }],
        safety: Safety::Unsafe,
        next: format!(
            "resolves field `{field}` of the Secrets Manager secret `{secret}` at deploy time: {exists}ECS `Secrets:` would also keep it out of the task definition)"
        ),
        needs: vec![super::Need::SecretsManagerField {
            secret,
            field,
            part: place.part(),
        }],
    }
}
