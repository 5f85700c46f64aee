//! Policies: the ones attached to a user (AWS's quarantine policy among
//! them), and what a user may do (`--blast-radius`: AWS's simulator, else
//! the user's policies read for [`crate::iam::blast`] to evaluate).

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::{Aws, classify, describe, page_sent};
use crate::iam::api::CallError;
use crate::iam::blast::{Blast, asked, document, evaluate, reported};

/// `iam:ListAttachedUserPolicies`, every page: each policy's ARN (its name
/// when AWS gives no ARN).
pub(super) async fn attached(aws: &Aws, user: &str) -> Result<Vec<String>, CallError> {
    let action = "iam:ListAttachedUserPolicies";
    let mut pages = aws
        .iam
        .list_attached_user_policies()
        .user_name(user)
        .into_paginator()
        .send();
    let mut arns = Vec::new();
    loop {
        let next = pages.next().await;
        page_sent(&aws.calls, next.is_some());
        match next {
            None => break,
            Some(Ok(page)) => arns.extend(page.attached_policies().iter().map(|p| {
                p.policy_arn()
                    .or(p.policy_name())
                    .unwrap_or_default()
                    .to_string()
            })),
            Some(Err(e)) => return Err(classify(action, &e, &aws.endpoint())),
        }
    }
    Ok(arns)
}

/// Asks about one user: the simulator, else the policies. `Err` is a
/// warning (the user's blast radius stays unknown).
pub(super) async fn blast_radius(aws: &Aws, user: &str) -> Result<Blast, String> {
    let iam = &aws.iam;
    let calls = &*aws.calls;
    let count = || calls.fetch_add(1, Ordering::Relaxed);
    count();
    let got = iam
        .get_user()
        .user_name(user)
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
    let docs = policies(iam, user, calls).await?;
    let boundary = match boundary {
        Some(arn) => Some(managed_document(iam, &arn, calls).await?),
        None => None,
    };
    Ok(Blast {
        allowed: reported(|name| evaluate(&docs, boundary.as_ref(), name)),
        approximate: true,
    })
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
