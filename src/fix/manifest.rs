//! Kubernetes container `env` values become `valueFrom.secretKeyRef` to a
//! Secret that must exist first (unsafe); a CloudFormation parameter loses
//! its `Default` and gets `NoEcho: true`, so the value is passed at deploy
//! time and never shown.

use std::sync::LazyLock;

use regex::Regex;

use super::edit::{Edit, Line};
use super::{Place, Proposal, Safety};

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

/// `- name: X` or `name: X` in a list item.
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^([ \t]*)(-[ \t]+)?name[ \t]*:[ \t]+["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*$"#)
        .expect("static regex")
});

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
    let name = siblings(place.text, &line, indent)
        .into_iter()
        .find_map(|l| {
            let caps = NAME.captures(l.text)?;
            let key_at = caps.get(1)?.as_str().len() + caps.get(2).map_or(0, |d| d.as_str().len());
            (key_at == indent).then(|| caps.get(3).map(|m| m.as_str().to_string()))?
        });
    let Some(name) = name else {
        return Proposal::Refuse("cannot find the env entry's `name:`: left as it is".into());
    };
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
        format!("{pad}    name: {K8S_SECRET}"),
        format!("{pad}    key: {name}"),
    ]
    .join(nl);
    Proposal::Fix {
        edits: vec![Edit {
            range: line.start..line.start + line.text.len(),
            with,
        }],
        safety: Safety::Unsafe,
        next: format!(
            "create the Secret first: `kubectl create secret generic {K8S_SECRET} --from-literal={name}=\"${name}\"` with the value from your secret store (never from this file)"
        ),
    }
}

pub(super) fn cloudformation(path: &str, place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    let ["Parameters", param, "Default"] = segments.as_slice() else {
        return Proposal::NoFixer;
    };
    if path.ends_with(".json") {
        // Deleting a JSON member can leave a trailing comma; not yet.
        return Proposal::NoFixer;
    }
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
    }
}

fn not_plain() -> String {
    "the value is not a plain scalar on a line of its own: left as it is".into()
}
