//! `--blast-radius`: what an exposed key could do. AWS's own evaluator,
//! `iam:SimulatePrincipalPolicy`, is asked about a fixed list of
//! high-impact actions for each owner of an Active key found (it applies
//! permissions boundaries). Where simulation is refused, the user's
//! attached, inline and group policies and its boundary are read and
//! evaluated here, Allow and Deny with wildcards, without conditions: that
//! answer is marked approximate. Only read calls are made.

use serde_json::Value;

/// The high-impact actions asked about, as reported. `organizations:*`
/// stands for the organisation-changing actions in `ORGANIZATIONS`.
pub const ACTIONS: [&str; 13] = [
    "iam:CreateAccessKey",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:PassRole",
    "sts:AssumeRole",
    "s3:GetObject",
    "s3:PutObject",
    "kms:Decrypt",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ec2:RunInstances",
    "lambda:UpdateFunctionCode",
    "organizations:*",
];

/// The simulator wants real action names: these stand for `organizations:*`.
const ORGANIZATIONS: [&str; 3] = [
    "organizations:CreateAccount",
    "organizations:AttachPolicy",
    "organizations:LeaveOrganization",
];

/// Actions that let the key's holder give themselves more: a new key, or
/// any policy.
pub const ESCALATION: [&str; 3] = [
    "iam:CreateAccessKey",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
];

/// What one IAM user may do, of [`ACTIONS`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Blast {
    pub allowed: Vec<String>,
    /// Read from the policies by keyward (conditions not evaluated), not
    /// answered by AWS's simulator.
    pub approximate: bool,
}

impl Blast {
    pub fn can_escalate(&self) -> bool {
        self.allowed
            .iter()
            .any(|a| ESCALATION.contains(&a.as_str()))
    }
}

/// The concrete action names to ask about, and which reported action each
/// stands for.
pub(crate) fn asked() -> Vec<(&'static str, &'static str)> {
    ACTIONS
        .iter()
        .flat_map(|a| {
            if *a == "organizations:*" {
                ORGANIZATIONS.iter().map(|o| (*o, *a)).collect::<Vec<_>>()
            } else {
                vec![(*a, *a)]
            }
        })
        .collect()
}

/// The reported actions whose concrete names `allowed` says yes to.
pub(crate) fn reported(allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, shown) in asked() {
        if allowed(name) && !out.iter().any(|o| o == shown) {
            out.push(shown.to_string());
        }
    }
    out
}

/// A policy document as IAM returns it: URL-encoded JSON.
pub(crate) fn document(text: &str) -> Result<Value, String> {
    let decoded = if text.trim_start().starts_with('{') {
        text.to_string()
    } else {
        percent_decode(text)
    };
    serde_json::from_str(&decoded).map_err(|e| format!("a policy document is not JSON: {e}"))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM's action globs: `*` and `?`, case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

fn covers_action(s: &Value, action: &str) -> bool {
    if s.get("NotAction").is_some() {
        return !strings(s.get("NotAction")).iter().any(|p| glob(p, action));
    }
    strings(s.get("Action")).iter().any(|p| glob(p, action))
}

fn effect(s: &Value) -> &str {
    s.get("Effect").and_then(Value::as_str).unwrap_or("")
}

/// Whether `docs` (within `boundary`, if any) allow `action` on some
/// resource. An Allow counts whatever its resource and condition (the
/// answer errs towards "can"); a Deny counts only on `*` and without a
/// condition.
pub(crate) fn evaluate(docs: &[Value], boundary: Option<&Value>, action: &str) -> bool {
    let allows = |d: &Value| {
        statements(d)
            .iter()
            .any(|s| effect(s) == "Allow" && covers_action(s, action))
    };
    let denies = |d: &Value| {
        statements(d).iter().any(|s| {
            effect(s) == "Deny"
                && covers_action(s, action)
                && strings(s.get("Resource")).contains(&"*")
                && s.get("Condition").is_none()
        })
    };
    docs.iter().any(allows)
        && !docs.iter().any(denies)
        && boundary.is_none_or(|b| allows(b) && !denies(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_and_deny_with_wildcards_and_a_boundary() {
        let admin: Value = serde_json::from_str(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .expect("json");
        let no_iam: Value = serde_json::from_str(
            r#"{"Statement":{"Effect":"Deny","Action":["iam:*"],"Resource":"*"}}"#,
        )
        .expect("json");
        let s3_only: Value = serde_json::from_str(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}]}"#,
        )
        .expect("json");
        let not_iam: Value = serde_json::from_str(
            r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
        )
        .expect("json");
        assert!(evaluate(
            std::slice::from_ref(&admin),
            None,
            "iam:CreateAccessKey"
        ));
        assert!(!evaluate(
            &[admin.clone(), no_iam.clone()],
            None,
            "iam:CreateAccessKey"
        ));
        assert!(evaluate(&[admin.clone(), no_iam], None, "s3:GetObject"));
        assert!(evaluate(
            std::slice::from_ref(&s3_only),
            None,
            "S3:GetObject"
        ));
        assert!(!evaluate(
            std::slice::from_ref(&s3_only),
            None,
            "s3:PutObject"
        ));
        assert!(!evaluate(
            std::slice::from_ref(&not_iam),
            None,
            "iam:PassRole"
        ));
        assert!(evaluate(
            std::slice::from_ref(&not_iam),
            None,
            "ec2:RunInstances"
        ));
        // A boundary caps what the identity policies allow.
        assert!(!evaluate(
            std::slice::from_ref(&admin),
            Some(&s3_only),
            "iam:CreateAccessKey"
        ));
        assert!(evaluate(
            std::slice::from_ref(&admin),
            Some(&s3_only),
            "s3:GetObject"
        ));
        assert!(!evaluate(&[], None, "s3:GetObject"));
    }

    #[test]
    fn documents_arrive_url_encoded() {
        let doc = document("%7B%22Statement%22%3A%5B%5D%7D").expect("decoded");
        assert_eq!(doc, serde_json::json!({"Statement": []}));
    }

    #[test]
    fn organizations_stands_for_its_changing_actions() {
        let shown = reported(|n| n == "organizations:AttachPolicy" || n == "kms:Decrypt");
        assert_eq!(shown, ["kms:Decrypt", "organizations:*"]);
    }
}
