//! Organizations: the accounts of the caller's organisation.

use super::{Aws, describe, page_sent};
use crate::iam::IamError;
use crate::iam::api::OrgAccount;

/// `organizations:ListAccounts`, every page.
pub(super) async fn accounts(aws: &Aws) -> Result<Vec<OrgAccount>, IamError> {
    let org = aws_sdk_organizations::Client::new(&aws.config);
    let mut pages = org.list_accounts().into_paginator().send();
    let mut out = Vec::new();
    loop {
        let next = pages.next().await;
        page_sent(&aws.calls, next.is_some());
        match next {
            None => break,
            Some(Ok(page)) => {
                for a in page.accounts() {
                    let Some(id) = a.id() else { continue };
                    let state = a.state().map(|s| s.as_str().to_string());
                    let status = a.status().map(|s| s.as_str().to_string());
                    out.push(OrgAccount {
                        id: id.to_string(),
                        state: state.or(status),
                    });
                }
            }
            Some(Err(e)) => {
                return Err(IamError::Service {
                    action: "organizations:ListAccounts".into(),
                    message: describe(&e),
                });
            }
        }
    }
    Ok(out)
}
