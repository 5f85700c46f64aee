//! Users and their access keys: list, last use, and the three calls a
//! rotation makes (create, update, delete).

use super::{Aws, classify, page_sent, timestamp};
use crate::iam::api::{CallError, LastUsed, NewKey, Secret};
use crate::iam::{KeyStatus, UserKey};

pub(super) async fn list_users(aws: &Aws) -> Result<Vec<String>, CallError> {
    let endpoint = aws.endpoint();
    let mut users = Vec::new();
    let mut pages = aws.iam.list_users().into_paginator().send();
    loop {
        let next = pages.next().await;
        page_sent(&aws.calls, next.is_some());
        match next {
            None => break,
            Some(Ok(page)) => users.extend(page.users().iter().map(|u| u.user_name().to_string())),
            Some(Err(e)) => return Err(classify("iam:ListUsers", &e, &endpoint)),
        }
    }
    users.sort();
    users.dedup();
    Ok(users)
}

pub(super) async fn list_access_keys(aws: &Aws, user: &str) -> Result<Vec<UserKey>, CallError> {
    let action = "iam:ListAccessKeys";
    let mut pages = aws
        .iam
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .send();
    let mut keys = Vec::new();
    loop {
        let next = pages.next().await;
        page_sent(&aws.calls, next.is_some());
        match next {
            None => break,
            Some(Ok(page)) => {
                for m in page.access_key_metadata() {
                    let (Some(id), Some(status), Some(created)) = (
                        m.access_key_id(),
                        m.status(),
                        m.create_date().and_then(timestamp),
                    ) else {
                        return Err(CallError::Other(
                            "listed a key without ID, status or date".into(),
                        ));
                    };
                    keys.push(UserKey {
                        access_key_id: id.to_string(),
                        status: KeyStatus::from_iam(status.as_str()),
                        created,
                    });
                }
            }
            Some(Err(e)) => return Err(classify(action, &e, &aws.endpoint())),
        }
    }
    Ok(keys)
}

pub(super) async fn last_used(aws: &Aws, key_id: &str) -> Result<LastUsed, CallError> {
    let action = "iam:GetAccessKeyLastUsed";
    aws.count_call();
    let out = aws
        .iam
        .get_access_key_last_used()
        .access_key_id(key_id)
        .send()
        .await
        .map_err(|e| classify(action, &e, &aws.endpoint()))?;
    let Some(user) = out.user_name() else {
        return Err(CallError::Other("named no user".into()));
    };
    let used = out.access_key_last_used();
    // AWS answers `N/A` for service and region of a key never used.
    let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.to_string());
    Ok(LastUsed {
        user: user.to_string(),
        when: used.and_then(|u| u.last_used_date()).and_then(timestamp),
        service: used.and_then(|u| known(u.service_name())),
        region: used.and_then(|u| known(u.region())),
    })
}

pub(super) async fn create(aws: &Aws, user: &str) -> Result<NewKey, CallError> {
    let action = "iam:CreateAccessKey";
    aws.count_call();
    let out = aws
        .iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(|e| classify(action, &e, &aws.endpoint()))?;
    let Some(key) = out.access_key() else {
        return Err(CallError::Other("returned no key".into()));
    };
    Ok(NewKey {
        access_key_id: key.access_key_id().to_string(),
        secret: Secret::new(key.secret_access_key()),
        created: key
            .create_date()
            .and_then(timestamp)
            .unwrap_or_else(jiff::Timestamp::now),
    })
}

pub(super) async fn update(
    aws: &Aws,
    user: &str,
    key_id: &str,
    status: KeyStatus,
) -> Result<(), CallError> {
    let action = "iam:UpdateAccessKey";
    let status = match status {
        KeyStatus::Active => aws_sdk_iam::types::StatusType::Active,
        _ => aws_sdk_iam::types::StatusType::Inactive,
    };
    aws.count_call();
    aws.iam
        .update_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .status(status)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(action, &e, &aws.endpoint()))
}

pub(super) async fn delete(aws: &Aws, user: &str, key_id: &str) -> Result<(), CallError> {
    let action = "iam:DeleteAccessKey";
    aws.count_call();
    aws.iam
        .delete_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| classify(action, &e, &aws.endpoint()))
}
