//! Kubernetes container `env` values become `valueFrom.secretKeyRef` to a
//! Secret that must exist first (unsafe); a CloudFormation parameter loses
//! its `Default` and gets `NoEcho: true`, so the value is passed at deploy
//! time and never shown; a CloudFormation environment value becomes a
//! Secrets Manager dynamic reference (unsafe); a Helm values entry is
//! emptied, to be supplied at install time.

use std::sync::LazyLock;

use regex::Regex;

use super::edit::{Edit, Line};
use super::{Place, Proposal, Safety, cfn};

/// The Secret a Kubernetes fix points at.
pub const K8S_SECRET: &str = "aws-credentials";

/// `key: value` alone on its line (no block scalar, anchor, flow value),
/// perhaps opening a list item (`- key: value`).
static ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^([ \t]*(?:-[ \t]+)?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*:[ \t]+("[^"\\]*"|'[^']*'|[^\s#'"&*!|>{\[][^#]*?)[ \t]*(?:[ \t]#.*)?$"#,
    )
    .expect("static regex")
});

/// `- name: X` or `name: X` in a list item (`Name:` in CloudFormation).
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^([ \t]*)(-[ \t]+)?(?:name|Name)[ \t]*:[ \t]+["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*$"#)
        .expect("static regex")
});

/// An environment variable's name, as a dynamic reference's JSON key.
static ENV_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("static regex"));

/// The line's key, the column its key starts at, and the value's range in
/// the file, when the line is one `key: value` whose value holds the span.
fn item<'a>(
    line: &Line<'a>,
    place: &Place<'_>,
) -> Option<(&'a str, usize, std::ops::Range<usize>)> {
    let caps = ITEM.captures(line.text)?;
    let indent = caps.get(1)?.as_str().len();
    let value = caps.get(3)?;
    let range = line.start + value.start()..line.start + value.end();
    (range.start <= place.span.start && place.span.end <= range.end)
        .then(|| Some((caps.get(2)?.as_str(), indent, range)))?
}

/// The lines around `line` that belong to the same mapping (same or
/// deeper indentation), as (start, end) line starts; the item's dash
/// line, if any, is included.
fn siblings<'a>(text: &'a str, line: &Line<'a>, indent: usize) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    // A line that opens a list item has no siblings above it.
    let opens_item = line.text.trim_start().starts_with('-');
    let mut at = if opens_item { 0 } else { line.start };
    // Up, to the dash line or the first shallower line.
    while at > 0 {
        let Some(prev) = Line::at(text, at - 1) else {
            break;
        };
        let width = prev.indent().len();
        if prev.text.trim().is_empty() || prev.text.trim_start().starts_with('#') {
            at = prev.start;
            continue;
        }
        if width < indent {
            // `- name: X` opens the item whose keys sit at `indent`.
            if prev.text[width..].starts_with('-') {
                out.push(prev);
            }
            break;
        }
        at = prev.start;
        if width == indent {
            out.push(prev);
        }
    }
    let mut next = line.next;
    while next < text.len() {
        let Some(l) = Line::at(text, next) else {
            break;
        };
        let width = l.indent().len();
        if !l.text.trim().is_empty() && width < indent {
            break;
        }
        let after = l.next;
        if width == indent {
            out.push(l);
        }
        if after <= next {
            break;
        }
        next = after;
    }
    out
}

/// The `name:` (`Name:`) of the list item whose key at `indent` is on
/// `line`.
fn item_name(text: &str, line: &Line<'_>, indent: usize) -> Option<String> {
    siblings(text, line, indent).into_iter().find_map(|l| {
        let caps = NAME.captures(l.text)?;
        let key_at = caps.get(1)?.as_str().len() + caps.get(2).map_or(0, |d| d.as_str().len());
        (key_at == indent).then(|| caps.get(3).map(|m| m.as_str().to_string()))?
    })
}

pub(super) fn kubernetes(place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    let [.., container, env, "value"] = segments.as_slice() else {
        return Proposal::NoFixer;
    };
    if !(container.starts_with("containers[") || container.starts_with("initContainers["))
        || !env.starts_with("env[")
    {
        return Proposal::NoFixer;
    }
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let Some(("value", indent, value)) = item(&line, place) else {
        return Proposal::Refuse(not_plain());
    };
    // A comment after the value stays, on the line that replaces it.
    let comment = line.text[value.end - line.start..].trim_end();
    let Some(env_name) = item_name(place.text, &line, indent) else {
        return Proposal::Refuse("cannot find the env entry's `name:`: left as it is".into());
    };
    let (secret, key) = place.k8s_reference(&env_name);
    // `- value: X` keeps its dash; the lines below line up with the key.
    let first = &line.text[..indent];
    let pad = " ".repeat(indent);
    let nl = if line.newline.is_empty() {
        super::edit::newline_of(place.text)
    } else {
        line.newline
    };
    let with = [
        format!("{first}valueFrom:{comment}"),
        format!("{pad}  secretKeyRef:"),
        format!("{pad}    name: {secret}"),
        format!("{pad}    key: {key}"),
    ]
    .join(nl);
    Proposal::Fix {
        edits: vec![Edit {
            range: line.start..line.start + line.text.len(),
            with,
        }],
        safety: Safety::Unsafe,
        next: format!(
            "reads key `{key}` of the Secret `{secret}`: create it first (the setup command below, values from {}, never from this file)",
            place.store.map_or_else(
                || "your secret store".to_string(),
                |s| format!("`{}`", s.name)
            )
        ),
        needs: vec![super::Need::K8sSecretKey {
            secret,
            key,
            part: place.part(),
        }],
    }
}

pub(super) fn cloudformation(place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    if let Some(name) = cfn::environment_name(&segments) {
        return cloudformation_environment(place, name);
    }
    let ["Parameters", param, "Default"] = segments.as_slice() else {
        return Proposal::NoFixer;
    };
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let Some(("Default", indent, _)) = item(&line, place) else {
        return Proposal::Refuse(not_plain());
    };
    let no_echo = siblings(place.text, &line, indent)
        .iter()
        .any(|l| l.text.trim_start().starts_with("NoEcho:"));
    let edit = if no_echo {
        Edit::delete(line.whole())
    } else {
        Edit {
            range: line.start..line.start + line.text.len(),
            with: format!("{}NoEcho: true", &line.text[..indent]),
        }
    };
    Proposal::Fix {
        edits: vec![edit],
        safety: Safety::Safe,
        next: format!(
            "parameter `{param}` has no default now: pass it at deploy time (`--parameter-overrides {param}=…` from your secret store), or better, read it from Secrets Manager with a dynamic reference"
        ),
        needs: Vec::new(),
    }
}

/// `Value: AKIA…` of `- Name: X` (ECS) or `X: AKIA…` under
/// `Variables:` (Lambda) becomes a Secrets Manager dynamic reference: the
/// secret must exist first, so the fix is unsafe.
fn cloudformation_environment(place: &Place<'_>, name: Option<&str>) -> Proposal {
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let Some((key, indent, value)) = item(&line, place) else {
        return Proposal::Refuse(not_plain());
    };
    let name = match name {
        Some(n) if n == key => n.to_string(),
        Some(_) => return Proposal::Refuse(not_plain()),
        None if key == "Value" => match item_name(place.text, &line, indent) {
            Some(n) => n,
            None => {
                return Proposal::Refuse(
                    "cannot find the environment entry's `Name:`: left as it is".into(),
                );
            }
        },
        None => return Proposal::Refuse(not_plain()),
    };
    if !ENV_NAME.is_match(&name) {
        return Proposal::Refuse(format!(
            "`{name}` cannot name a key of the secret: left as it is"
        ));
    }
    cfn::dynamic_reference_fix(place, &name, value)
}

/// A Helm values file is meant to be overridden at install time: the
/// entry's value becomes `""` and the chart gets it from a values file
/// or `--set` outside the repository.
pub(super) fn helm_values(path: &str, place: &Place<'_>) -> Proposal {
    let file = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !(file.starts_with("values") && (file.ends_with(".yaml") || file.ends_with(".yml"))) {
        return Proposal::NoFixer;
    }
    let last = place.context.rsplit('.').next().unwrap_or("");
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let Some((key, _, value)) = item(&line, place) else {
        return Proposal::Refuse(not_plain());
    };
    if key != last {
        return Proposal::Refuse(not_plain());
    }
    Proposal::Fix {
        edits: vec![Edit {
            range: value,
            with: "\"\"".into(),
        }],
        safety: Safety::Safe,
        next: format!(
            "`{}` is empty now: supply it at install time from outside the repository (`helm upgrade … -f` an untracked values file, or your secret store's Helm plugin), or give the pod a role (IRSA) instead",
            place.context
        ),
        needs: Vec::new(),
    }
}

fn not_plain() -> String {
    "the value is not a plain scalar on a line of its own: left as it is".into()
}
