//! CloudFormation templates in JSON: the same fixes as in YAML, on the
//! JSON members around the span. A member is rewritten in place where
//! that keeps the commas right, and deleted with its comma otherwise.

use std::ops::Range;

use regex::Regex;

use super::edit::{Edit, Line};
use super::{Place, Proposal, Safety, cfn};

/// The innermost `{ … }` holding `offset`, strings skipped.
fn enclosing_object(text: &str, offset: usize) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut open: Vec<usize> = Vec::new();
    let mut target: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        if i >= offset && target.is_none() {
            target = Some((*open.last()?, open.len()));
        }
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' => open.push(i),
            b'}' => {
                if let Some((start, depth)) = target
                    && open.len() == depth
                {
                    return Some(start..i + 1);
                }
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The member `"key": "value"` of `object` whose plain string value (no
/// escapes) holds `span`: the member's range and the value's, quotes
/// included.
fn member(
    text: &str,
    object: &Range<usize>,
    key: &str,
    span: &Range<usize>,
) -> Option<(Range<usize>, Range<usize>)> {
    let re = Regex::new(&format!(r#""{}"\s*:\s*("[^"\\]*")"#, regex::escape(key))).ok()?;
    let body = text.get(object.clone())?;
    re.captures_iter(body).find_map(|c| {
        let whole = c.get(0)?;
        let value = c.get(1)?;
        let value = object.start + value.start()..object.start + value.end();
        (value.start < span.start && span.end < value.end).then(|| {
            (
                object.start + whole.start()..object.start + whole.end(),
                value,
            )
        })
    })
}

/// The edit that deletes `member` and one comma beside it, whole lines
/// where the member has its line to itself.
fn delete_member(text: &str, member: Range<usize>) -> Option<Edit> {
    let after = text.get(member.end..)?;
    let trailing = after.len() - after.trim_start_matches([' ', '\t']).len();
    let comma_after = after[trailing..].starts_with(',');
    let line = Line::at(text, member.start)?;
    let before_on_line = text.get(line.start..member.start)?;
    let end_on_line = member.end + trailing + usize::from(comma_after);
    let rest_on_line = text.get(end_on_line..line.start + line.text.len())?;
    let alone = before_on_line.trim().is_empty() && rest_on_line.trim().is_empty();
    if comma_after {
        if alone {
            return Some(Edit::delete(line.whole()));
        }
        let spaces = text.get(end_on_line..)?;
        let spaces = spaces.len() - spaces.trim_start_matches([' ', '\t']).len();
        return Some(Edit::delete(member.start..end_on_line + spaces));
    }
    // The last member: the comma before it goes.
    let head = text.get(..member.start)?;
    let comma = head.trim_end().len().checked_sub(1)?;
    if text.as_bytes().get(comma) != Some(&b',') {
        // The only member.
        return Some(Edit::delete(if alone { line.whole() } else { member }));
    }
    // Where the member had its line, the line break before it goes with
    // the comma, and the closing brace's line stays.
    let end = if alone {
        line.start + line.text.len()
    } else {
        member.end
    };
    Some(Edit::delete(comma..end))
}

/// `"Default": "AKIA…"` of a parameter becomes `"NoEcho": true`, or goes
/// where the parameter has `NoEcho` already.
pub(super) fn cloudformation_default(place: &Place<'_>, param: &str) -> Proposal {
    let Some(object) = enclosing_object(place.text, place.span.start) else {
        return Proposal::Refuse(not_plain());
    };
    let Some((whole, _)) = member(place.text, &object, "Default", &place.span) else {
        return Proposal::Refuse(not_plain());
    };
    let no_echo = Regex::new(r#""NoEcho"\s*:"#)
        .ok()
        .is_some_and(|re| re.is_match(&place.text[object.clone()]));
    let edit = if no_echo {
        match delete_member(place.text, whole) {
            Some(e) => e,
            None => return Proposal::Refuse(not_plain()),
        }
    } else {
        Edit {
            range: whole,
            with: r#""NoEcho": true"#.into(),
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

/// `{"Name": "X", "Value": "AKIA…"}` (ECS) or `"X": "AKIA…"` under
/// `Variables` (Lambda): the value becomes a Secrets Manager dynamic
/// reference, unsafe because the secret must exist first.
pub(super) fn cloudformation_environment(place: &Place<'_>, name: Option<&str>) -> Proposal {
    let Some(object) = enclosing_object(place.text, place.span.start) else {
        return Proposal::Refuse(not_plain());
    };
    // ECS: `{"Name": "X", "Value": "AKIA…"}`, the value under `Value`.
    // Lambda: `"X": "AKIA…"` under `Variables`, the value under its name.
    let (name, key) = match name {
        Some(n) => (n.to_string(), n),
        None => {
            let found = Regex::new(r#""Name"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)""#)
                .ok()
                .and_then(|re| {
                    re.captures(&place.text[object.clone()])
                        .and_then(|c| c.get(1))
                        .map(|m| m.as_str().to_string())
                });
            match found {
                Some(n) => (n, "Value"),
                None => {
                    return Proposal::Refuse(
                        "cannot find the environment entry's `Name`: left as it is".into(),
                    );
                }
            }
        }
    };
    let Some((_, value)) = member(place.text, &object, key, &place.span) else {
        return Proposal::Refuse(not_plain());
    };
    cfn::dynamic_reference_fix(place, &name, value)
}

fn not_plain() -> String {
    "the value is not a plain JSON string in the member keyward expects: left as it is".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deleted(text: &str, key: &str) -> String {
        let at = text.find(key).expect("key");
        let end = at + text[at..].find("\"x\"").expect("value") + 3;
        let edit = delete_member(text, at - 1..end).expect("edit");
        super::super::edit::apply(text, &[edit]).expect("apply")
    }

    #[test]
    fn a_deleted_member_takes_one_comma_with_it() {
        assert_eq!(deleted("{\"a\": 1, \"b\": \"x\"}", "b\""), "{\"a\": 1}");
        assert_eq!(deleted("{\"b\": \"x\", \"a\": 1}", "b\""), "{\"a\": 1}");
        assert_eq!(deleted("{\"b\": \"x\"}", "b\""), "{}");
        assert_eq!(
            deleted("{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n", "b\""),
            "{\n  \"a\": 1\n}\n"
        );
        assert_eq!(
            deleted("{\n  \"b\": \"x\",\n  \"a\": 1\n}\n", "b\""),
            "{\n  \"a\": 1\n}\n"
        );
    }

    #[test]
    fn the_enclosing_object_skips_braces_in_strings() {
        let text = r#"{"a": {"b": "}{", "c": "here"}, "d": 1}"#;
        let at = text.find("here").expect("here");
        let object = enclosing_object(text, at).expect("object");
        assert_eq!(&text[object], r#"{"b": "}{", "c": "here"}"#);
    }
}
