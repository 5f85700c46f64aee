//! Terraform and `.tfvars`: the provider and the S3 backend fall back to
//! the standard credential chain when their key attributes are gone; a
//! variable loses its default and becomes `sensitive`; a `.tfvars` line
//! goes, and the value comes from `TF_VAR_…` instead.

use std::sync::LazyLock;

use regex::Regex;

use super::edit::{Edit, Line};
use super::{Place, Proposal, Safety};

/// `name = "value"` alone on its line, with at most a comment after it.
/// Interpolations (`${…}`, `%{…}`) and escapes are left alone: the value
/// is then not just the credential.
static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*"([^"\\$%]*)"[ \t]*(?:(?:#|//).*)?$"#,
    )
    .expect("static regex")
});

static SENSITIVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[ \t]*sensitive[ \t]*=").expect("static regex"));

/// The provider's and the backend's credential attributes.
const CREDENTIAL_ATTRIBUTES: [&str; 3] = ["access_key", "secret_key", "token"];

/// The attribute on the span's line, when the line is exactly one plain
/// attribute whose quoted value holds the span.
fn attribute<'a>(line: &Line<'a>, place: &Place<'_>) -> Option<&'a str> {
    let caps = ATTRIBUTE.captures(line.text)?;
    let value = caps.get(2)?;
    let (start, end) = (line.start + value.start(), line.start + value.end());
    (place.span.start >= start && place.span.end <= end).then(|| caps.get(1).map(|m| m.as_str()))?
}

pub(super) fn terraform(place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let attr = attribute(&line, place);
    match segments.as_slice() {
        ["provider", "aws", name] if CREDENTIAL_ATTRIBUTES.contains(name) => match attr {
            Some(a) if a == *name => Proposal::Fix {
                edits: vec![Edit::delete(line.whole())],
                safety: Safety::Safe,
                next: "the AWS provider now takes credentials from the standard chain \
                           (AWS_PROFILE, environment, SSO, an instance or OIDC role): set one up"
                    .into(),
                needs: place.environment(place.part().field()),
            },
            _ => Proposal::Refuse(not_plain()),
        },
        ["terraform", "backend", "s3", name] if CREDENTIAL_ATTRIBUTES.contains(name) => {
            match attr {
                Some(a) if a == *name => Proposal::Fix {
                    edits: vec![Edit::delete(line.whole())],
                    safety: Safety::Safe,
                    next: "the S3 backend now takes credentials from the standard chain; \
                       or pass them with `terraform init -backend-config=…` from outside the repo"
                        .into(),
                    needs: place.environment(place.part().field()),
                },
                _ => Proposal::Refuse(not_plain()),
            }
        }
        ["variable", var, "default"] => match attr {
            Some("default") => match variable_default(place.text, &line, var) {
                Proposal::Fix {
                    edits,
                    safety,
                    next,
                    ..
                } => Proposal::Fix {
                    edits,
                    safety,
                    next,
                    needs: place.environment(&format!("TF_VAR_{var}")),
                },
                other => other,
            },
            _ => Proposal::Refuse(not_plain()),
        },
        // A local is an expression of the module: nothing outside can set it.
        ["locals", ..] => Proposal::Manual(
            "a local cannot be set from outside: move the value to a `variable` with \
             `sensitive = true` and no default, and pass it as `TF_VAR_…` from your secret store"
                .into(),
        ),
        ["resource" | "data", _, _, ..] if place.store.is_some() => match attr {
            Some(a) if segments.last() == Some(&a) => read_from_store(place, &line),
            _ => Proposal::Refuse(not_plain()),
        },
        ["resource" | "data", _, _, ..] => Proposal::Manual(
            "a resource writes this credential (into a file, user data or a template): pass it \
             in through a sensitive variable or read it from Secrets Manager \
             (`data \"aws_secretsmanager_secret_version\"`), or better, give the machine a role"
                .into(),
        ),
        _ => Proposal::NoFixer,
    }
}

/// After a rotation, a resource's attribute reads the store through a
/// data source added once at the end of the file:
/// `jsondecode(data.aws_secretsmanager_secret_version.keyward_ci.secret_string)["AWS_ACCESS_KEY_ID"]`.
fn read_from_store(place: &Place<'_>, line: &Line<'_>) -> Proposal {
    let Some(store) = place.store else {
        return Proposal::NoFixer;
    };
    let value = place.text.get(place.span.clone()).unwrap_or("");
    // The quoted value must be the credential and nothing else.
    let (Some(open), end) = (place.span.start.checked_sub(1), place.span.end + 1) else {
        return Proposal::Refuse(not_plain());
    };
    if place.text.get(open..end) != Some(&format!("\"{value}\"")[..]) || open < line.start {
        return Proposal::Refuse(not_plain());
    }
    let label = store.k8s_secret.replace('-', "_");
    let field = place.part().field();
    let (expression, block) = match store.kind {
        super::StoreKind::SecretsManager => (
            format!(
                "jsondecode(data.aws_secretsmanager_secret_version.{label}.secret_string)[\"{field}\"]"
            ),
            format!(
                "data \"aws_secretsmanager_secret_version\" \"{label}\" {{\n  secret_id = \"{}\"\n}}\n",
                store.name
            ),
        ),
        super::StoreKind::Ssm => (
            format!("jsondecode(data.aws_ssm_parameter.{label}.value)[\"{field}\"]"),
            format!(
                "data \"aws_ssm_parameter\" \"{label}\" {{\n  name = \"{}\"\n}}\n",
                store.name
            ),
        ),
    };
    let end_of_file = place.text.len();
    let lead = if place.text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    Proposal::Fix {
        edits: vec![
            Edit {
                range: open..end,
                with: expression,
            },
            Edit {
                range: end_of_file..end_of_file,
                with: format!(
                    "{lead}# Written by `keyward rotate`: the credential lives in {}.\n{block}",
                    store.name
                ),
            },
        ],
        safety: Safety::Unsafe,
        next: format!(
            "reads `{field}` of `{}` through a data source added at the end of the file: whoever runs terraform needs read access to it",
            store.name
        ),
        needs: Vec::new(),
    }
}

pub(super) fn tfvars(place: &Place<'_>) -> Proposal {
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    match attribute(&line, place) {
        Some(name) if name == place.context => Proposal::Fix {
            edits: vec![Edit::delete(line.whole())],
            safety: Safety::Safe,
            next: format!(
                "pass `{name}` as `TF_VAR_{name}` from your secret store when terraform runs"
            ),
            needs: place.environment(&format!("TF_VAR_{name}")),
        },
        Some(_) | None if place.context.contains(['.', '[']) => Proposal::Refuse(
            "the value sits inside a map or object: take it out by hand and pass it as `TF_VAR_…`"
                .into(),
        ),
        _ => Proposal::Refuse(not_plain()),
    }
}

fn not_plain() -> String {
    "the value is not a plain quoted string on a line of its own (an expression, heredoc or \
     one-line block): left as it is"
        .into()
}

/// `default = "AKIA…"` in `variable "name" { … }`: the default goes and
/// the variable becomes `sensitive` (unless it already is), so Terraform
/// asks for the value and keeps it out of plans and logs.
fn variable_default(text: &str, default: &Line<'_>, var: &str) -> Proposal {
    let Some(block) = block_of(text, default.start, var) else {
        return Proposal::Refuse(format!(
            "cannot find where `variable \"{var}\"` starts and ends: left as it is"
        ));
    };
    let body = &text[block];
    let sensitive = body.lines().any(|l| SENSITIVE.is_match(l));
    let edit = if sensitive {
        Edit::delete(default.whole())
    } else {
        // `default     =` becomes `sensitive   =`: the `=` stays in the
        // column `terraform fmt` aligned it to.
        let width = default
            .text
            .find('=')
            .map_or(0, |eq| eq - default.indent().len());
        let name = format!("{:<w$}", "sensitive", w = width.max("sensitive ".len()));
        Edit {
            range: default.start..default.start + default.text.len(),
            with: format!("{}{name}= true", default.indent()),
        }
    };
    Proposal::Fix {
        edits: vec![edit],
        safety: Safety::Safe,
        next: format!(
            "`var.{var}` has no default now: pass it as `TF_VAR_{var}` from your secret store"
        ),
        needs: Vec::new(),
    }
}

/// The byte range of the `variable "var" { … }` block around `offset`,
/// found by its header line above and its braces (strings and comments
/// skipped).
fn block_of(text: &str, offset: usize, var: &str) -> Option<std::ops::Range<usize>> {
    let header = Regex::new(&format!(
        r#"(?m)^\x{{feff}}?[ \t]*variable[ \t]+"{}"[ \t]*\{{"#,
        regex::escape(var)
    ))
    .ok()?;
    let start = header
        .find_iter(text.get(..offset)?)
        .last()
        .map(|m| m.start())?;
    let bytes = text.as_bytes();
    let open = start + text.get(start..)?.find('{')?;
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (i > offset).then_some(start..i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `name = "value"` (perhaps with a comma) as an item of the object.
static INPUT_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*"([^"\\$%]*)"[ \t]*,?[ \t]*(?:(?:#|//).*)?$"#,
    )
    .expect("static regex")
});

/// `name = "AKIA…"` in Terragrunt's `inputs = { … }`: the line goes, and
/// the module reads `TF_VAR_name` from the environment instead, as it does
/// for any input Terragrunt does not pass.
pub(super) fn terragrunt_inputs(place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    let ["inputs", name] = segments.as_slice() else {
        return Proposal::NoFixer;
    };
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let plain = INPUT_ITEM.captures(line.text).and_then(|c| {
        let value = c.get(2)?;
        let range = line.start + value.start()..line.start + value.end();
        (c.get(1)?.as_str() == *name
            && range.start <= place.span.start
            && place.span.end <= range.end)
            .then_some(())
    });
    match plain {
        Some(()) => Proposal::Fix {
            edits: vec![Edit::delete(line.whole())],
            safety: Safety::Safe,
            next: format!(
                "terragrunt no longer passes `{name}`: set `TF_VAR_{name}` from your secret store when terragrunt runs"
            ),
            needs: place.environment(&format!("TF_VAR_{name}")),
        },
        None => Proposal::Refuse(not_plain()),
    }
}
