//! Environment entries in YAML: docker-compose reads `${NAME}` from the
//! shell or an untracked `.env`; a GitHub Actions workflow reads
//! `${{ secrets.NAME }}`, which must exist first (an unsafe fix).

use std::sync::LazyLock;

use regex::Regex;

use super::edit::{Edit, Line};
use super::{Place, Proposal, Safety};

/// `NAME: value` alone on its line: a plain or quoted scalar without
/// escapes, with at most a comment after it.
static MAP_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*:[ \t]+("[^"\\]*"|'[^']*'|[^\s#'"&*!|>{\[][^#]*?)[ \t]*(?:[ \t]#.*)?$"#,
    )
    .expect("static regex")
});

/// `- NAME=value` in a list of environment entries, plain or with the
/// whole item quoted (`- "NAME=value"`).
static LIST_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*-[ \t]+(?:([A-Za-z_][A-Za-z0-9_]*)=([^\s#'"]\S*)|"([A-Za-z_][A-Za-z0-9_]*)=([^\s"\\]+)"|'([A-Za-z_][A-Za-z0-9_]*)=([^\s']+)')[ \t]*(?:[ \t]#.*)?$"#,
    )
    .expect("static regex")
});

static ENV_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("static regex"));

/// The value's byte range in the file, when the span's line is one map
/// item named `name` whose value holds the span.
fn map_value(line: &Line<'_>, place: &Place<'_>, name: &str) -> Option<std::ops::Range<usize>> {
    let caps = MAP_ITEM.captures(line.text)?;
    let key = caps.get(1)?.as_str();
    let value = caps.get(2)?;
    let range = line.start + value.start()..line.start + value.end();
    (key == name && range.start <= place.span.start && place.span.end <= range.end).then_some(range)
}

pub(super) fn compose(place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let next = |name: &str| {
        format!(
            "docker compose now reads `{name}` from the shell or from an untracked `.env` beside the compose file"
        )
    };
    match segments.as_slice() {
        ["services", _, "environment", name] => {
            if !ENV_NAME.is_match(name) {
                return Proposal::Refuse(format!(
                    "`{name}` cannot be written as `${{…}}`: left as it is"
                ));
            }
            match map_value(&line, place, name) {
                Some(range) => Proposal::Fix {
                    edits: vec![Edit {
                        range,
                        with: format!("${{{}}}", place.named(name)),
                    }],
                    safety: Safety::Safe,
                    next: next(&place.named(name)),
                    needs: place.environment(&place.named(name)),
                },
                None => Proposal::Refuse(not_plain()),
            }
        }
        // The parser names a `NAME=value` item by its variable.
        ["services", _, list, ..] if list.starts_with("environment[") => {
            let Some(caps) = LIST_ITEM.captures(line.text) else {
                return Proposal::Refuse(not_plain());
            };
            // Whichever of the three forms matched.
            let pair = [(1, 2), (3, 4), (5, 6)]
                .into_iter()
                .find_map(|(n, v)| Some((caps.get(n)?, caps.get(v)?)));
            let Some((name, value)) = pair else {
                return Proposal::Refuse(not_plain());
            };
            let range = line.start + value.start()..line.start + value.end();
            if !(range.start <= place.span.start && place.span.end <= range.end) {
                return Proposal::Refuse(not_plain());
            }
            let variable = place.named(name.as_str());
            Proposal::Fix {
                edits: vec![Edit {
                    range,
                    with: format!("${{{variable}}}"),
                }],
                safety: Safety::Safe,
                next: next(&variable),
                needs: place.environment(&variable),
            }
        }
        _ => Proposal::NoFixer,
    }
}

pub(super) fn github_actions(place: &Place<'_>) -> Proposal {
    let segments: Vec<&str> = place.context.split('.').collect();
    let Some(line) = Line::at(place.text, place.span.start) else {
        return Proposal::NoFixer;
    };
    let [.., section, name] = segments.as_slice() else {
        return Proposal::NoFixer;
    };
    if !matches!(*section, "env" | "with") {
        return Proposal::NoFixer;
    }
    let Some(range) = map_value(&line, place, name) else {
        return Proposal::Refuse(not_plain());
    };
    let secret = place.named(&secret_name(name));
    Proposal::Fix {
        edits: vec![Edit {
            range,
            with: format!("${{{{ secrets.{secret} }}}}"),
        }],
        safety: Safety::Unsafe,
        next: format!(
            "reads the repository secret `{secret}`: create it first (`gh secret set {secret}` reads the value from stdin)"
        ),
        needs: vec![super::Need::GithubSecret {
            name: secret,
            part: place.part(),
        }],
    }
}

/// A GitHub secret name for an env var or input name: letters, digits
/// and `_`, upper case, not starting with a digit or `GITHUB_`.
fn secret_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.starts_with("GITHUB_") {
        s.insert_str(0, "AWS_");
    }
    s
}

fn not_plain() -> String {
    "the value is not a plain scalar on a line of its own (a block, an anchor, a flow \
     collection, an escape): left as it is"
        .into()
}

#[cfg(test)]
mod tests {
    use super::secret_name;

    #[test]
    fn secret_names_follow_github_rules() {
        assert_eq!(secret_name("aws-access-key-id"), "AWS_ACCESS_KEY_ID");
        assert_eq!(
            secret_name("AWS_SECRET_ACCESS_KEY"),
            "AWS_SECRET_ACCESS_KEY"
        );
        assert_eq!(secret_name("github_key"), "AWS_GITHUB_KEY");
        assert_eq!(secret_name("1key"), "AWS_1KEY");
    }
}
