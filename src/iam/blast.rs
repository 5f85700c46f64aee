//! `--blast-radius`: what an exposed key could do. AWS's own evaluator,
//! `iam:SimulatePrincipalPolicy`, is asked about a fixed list of
//! high-impact actions for each owner of an Active key found (it applies
//! permissions boundaries). Where simulation is refused, the user's
//! attached, inline and group policies and its boundary are read and
//! evaluated here, Allow and Deny with wildcards, without conditions: that
//! answer is marked approximate. Only read calls are made.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::live::describe;

/// The high-impact actions asked about, as reported. `organizations:*`
/// stands for the organisation-changing actions in [`ORGANIZATIONS`].
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
fn asked() -> Vec<(&'static str, &'static str)> {
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

/// Asks about one user: the simulator, else the policies. `Err` is a
/// warning (the user's blast radius stays unknown).
pub(crate) async fn of_user(
    iam: aws_sdk_iam::Client,
    user: String,
    calls: Arc<AtomicU64>,
) -> Result<Blast, String> {
    let count = || calls.fetch_add(1, Ordering::Relaxed);
    count();
    let got = iam
        .get_user()
        .user_name(&user)
        .send()
        .await
        .map_err(|e| format!("iam:GetUser for {user}: {}", describe(&e)))?;
    let Some(u) = got.user() else {
        return Err(format!("iam:GetUser for {user} returned no user"));
    };
    let arn = u.arn().to_string();
    let boundary = u
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_string);
    let names: Vec<String> = asked().iter().map(|(n, _)| n.to_string()).collect();
    let mut decided: Vec<(String, bool)> = Vec::new();
    let mut pages = iam
        .simulate_principal_policy()
        .policy_source_arn(&arn)
        .set_action_names(Some(names))
        .into_paginator()
        .send();
    let mut refused = None;
    loop {
        count();
        match pages.next().await {
            None => {
                calls.fetch_sub(1, Ordering::Relaxed);
                break;
            }
            Some(Ok(page)) => decided.extend(page.evaluation_results().iter().map(|r| {
                (
                    r.eval_action_name().to_string(),
                    r.eval_decision().as_str() == "allowed",
                )
            })),
            Some(Err(e)) => {
                refused = Some(describe(&e));
                break;
            }
        }
    }
    if refused.is_none() {
        let allowed = reported(|name| decided.iter().any(|(n, ok)| *ok && n == name));
        return Ok(Blast {
            allowed,
            approximate: false,
        });
    }
    let docs = policies(&iam, &user, &calls).await?;
    let boundary = match boundary {
        Some(arn) => Some(managed_document(&iam, &arn, &calls).await?),
        None => None,
    };
    Ok(Blast {
        allowed: reported(|name| evaluate(&docs, boundary.as_ref(), name)),
        approximate: true,
    })
}

/// The reported actions whose concrete names `allowed` says yes to.
fn reported(allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (name, shown) in asked() {
        if allowed(name) && !out.iter().any(|o| o == shown) {
            out.push(shown.to_string());
        }
    }
    out
}

/// Every identity policy of the user: attached, inline, and its groups'.
async fn policies(
    iam: &aws_sdk_iam::Client,
    user: &str,
    calls: &AtomicU64,
) -> Result<Vec<Value>, String> {
    let count = || calls.fetch_add(1, Ordering::Relaxed);
    let mut docs = Vec::new();
    count();
    let attached = iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| format!("iam:ListAttachedUserPolicies for {user}: {}", describe(&e)))?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            docs.push(managed_document(iam, arn, calls).await?);
        }
    }
    count();
    let inline = iam
        .list_user_policies()
        .user_name(user)
        .send()
        .await
        .map_err(|e| format!("iam:ListUserPolicies for {user}: {}", describe(&e)))?;
    for name in inline.policy_names() {
        count();
        let p = iam
            .get_user_policy()
            .user_name(user)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| format!("iam:GetUserPolicy {name} for {user}: {}", describe(&e)))?;
        docs.push(document(p.policy_document())?);
    }
    count();
    let groups = iam
        .list_groups_for_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| format!("iam:ListGroupsForUser for {user}: {}", describe(&e)))?;
    for g in groups.groups() {
        let group = g.group_name();
        count();
        let attached = iam
            .list_attached_group_policies()
            .group_name(group)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "iam:ListAttachedGroupPolicies for {group}: {}",
                    describe(&e)
                )
            })?;
        for p in attached.attached_policies() {
            if let Some(arn) = p.policy_arn() {
                docs.push(managed_document(iam, arn, calls).await?);
            }
        }
        count();
        let inline = iam
            .list_group_policies()
            .group_name(group)
            .send()
            .await
            .map_err(|e| format!("iam:ListGroupPolicies for {group}: {}", describe(&e)))?;
        for name in inline.policy_names() {
            count();
            let p = iam
                .get_group_policy()
                .group_name(group)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| format!("iam:GetGroupPolicy {name} of {group}: {}", describe(&e)))?;
            docs.push(document(p.policy_document())?);
        }
    }
    Ok(docs)
}

/// A managed policy's default version.
async fn managed_document(
    iam: &aws_sdk_iam::Client,
    arn: &str,
    calls: &AtomicU64,
) -> Result<Value, String> {
    calls.fetch_add(1, Ordering::Relaxed);
    let p = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| format!("iam:GetPolicy {arn}: {}", describe(&e)))?;
    let version = p
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| format!("iam:GetPolicy {arn}: no default version"))?
        .to_string();
    calls.fetch_add(1, Ordering::Relaxed);
    let v = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| format!("iam:GetPolicyVersion {arn}: {}", describe(&e)))?;
    document(
        v.policy_version()
            .and_then(|v| v.document())
            .ok_or_else(|| format!("iam:GetPolicyVersion {arn}: no document"))?,
    )
}

/// A policy document as IAM returns it: URL-encoded JSON.
fn document(text: &str) -> Result<Value, String> {
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
