//! Many accounts: `keyward inventory pull --accounts FILE [--role NAME]`
//! assumes a role in each account, pulls its keys (a few accounts at a
//! time) and writes one inventory. An account that cannot be reached is a
//! warning naming it and the reason; the others are still pulled.

use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};

use super::IamError;
use super::inventory::Inventory;
use super::live::{Aws, LiveSource, describe};

/// The role AWS Organizations creates in each member account.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";

/// Accounts pulled at once; each runs its own bounded IAM requests.
const ACCOUNTS_AT_ONCE: usize = 4;

/// The account IDs of an accounts file: one per line, `#` comments and
/// blank lines ignored, anything else after the ID ignored (a name).
pub fn parse_accounts(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some(id) = line.split_whitespace().next() else {
            continue;
        };
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "line {}: `{id}` is not a 12-digit AWS account ID",
                i + 1
            ));
        }
        if !out.iter().any(|a| a == id) {
            out.push(id.to_string());
        }
    }
    if out.is_empty() {
        return Err("no account IDs".into());
    }
    Ok(out)
}

/// The organisation's Active accounts (`organizations:ListAccounts`, every
/// page), and a warning for each account left out because it is not
/// Active.
pub fn organization_accounts(base: &Aws) -> Result<(Vec<String>, Vec<String>), IamError> {
    let org = aws_sdk_organizations::Client::new(&base.config);
    let mut pages = org.list_accounts().into_paginator().send();
    let mut ids = Vec::new();
    let mut warnings = Vec::new();
    loop {
        let next = base.block_on(pages.next());
        if next.is_some() {
            base.count_call();
        }
        match next {
            None => break,
            Some(Ok(page)) => {
                for a in page.accounts() {
                    let Some(id) = a.id() else { continue };
                    let state = a.state().map(|s| s.as_str().to_string());
                    let status = a.status().map(|s| s.as_str().to_string());
                    let active = match (&state, &status) {
                        (Some(s), _) => s == "ACTIVE",
                        (None, Some(s)) => s == "ACTIVE",
                        (None, None) => true,
                    };
                    if active {
                        ids.push(id.to_string());
                    } else {
                        warnings.push(format!(
                            "account {id}: left out, it is {}",
                            state.or(status).unwrap_or_default()
                        ));
                    }
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
    ids.sort();
    ids.dedup();
    Ok((ids, warnings))
}

/// Pulls every account in `accounts` through `role`, with the caller's
/// credentials in `base` used only to assume it (the caller's own account
/// is pulled with them directly: the role is for member accounts). Returns
/// one inventory (with a warning per account that could not be pulled).
pub fn pull(
    base: &Aws,
    accounts: &[String],
    role: &str,
    concurrency: usize,
) -> Result<Inventory, IamError> {
    let sts = aws_sdk_sts::Client::new(&base.config);
    let mut parts = Vec::new();
    let mut warnings = Vec::new();
    let mut assumed = Vec::new();
    let caller = base.caller()?;
    for account in accounts {
        if *account == caller {
            match LiveSource::new(base).pull() {
                Ok(inv) => {
                    warnings.extend(
                        inv.warnings
                            .iter()
                            .map(|w| format!("account {account}: {w}")),
                    );
                    parts.push(inv);
                }
                Err(e) => warnings.push(format!("account {account}: {e}")),
            }
            continue;
        }
        let arn = format!("arn:aws:iam::{account}:role/{role}");
        base.count_call();
        let answer = base.block_on(
            sts.assume_role()
                .role_arn(&arn)
                .role_session_name("keyward-inventory")
                .send(),
        );
        match answer {
            Ok(out) => match out.credentials() {
                Some(c) => assumed.push((
                    account.clone(),
                    Credentials::new(
                        c.access_key_id(),
                        c.secret_access_key(),
                        Some(c.session_token().to_string()),
                        None,
                        "keyward-assume-role",
                    ),
                )),
                None => warnings.push(format!(
                    "account {account}: sts:AssumeRole for {arn} returned no credentials"
                )),
            },
            Err(e) => warnings.push(format!(
                "account {account}: cannot assume {arn}: {}",
                describe(&e)
            )),
        }
    }
    // Each account's pull has its own runtime; a few run side by side.
    for chunk in assumed.chunks(ACCOUNTS_AT_ONCE) {
        let results: Vec<(String, Result<Inventory, IamError>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(account, creds)| {
                    let config = base
                        .config
                        .to_builder()
                        .credentials_provider(SharedCredentialsProvider::new(creds.clone()))
                        .build();
                    let counter = base.call_counter();
                    let account = account.clone();
                    scope.spawn(move || {
                        let pulled = Aws::from_config(config, concurrency)
                            .map(|aws| aws.counting_into(counter))
                            .and_then(|aws| LiveSource::new(&aws).pull());
                        (account, pulled)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for (account, pulled) in results {
            match pulled {
                Ok(inv) if inv.accounts.contains(&account) => {
                    warnings.extend(
                        inv.warnings
                            .iter()
                            .map(|w| format!("account {account}: {w}")),
                    );
                    parts.push(inv);
                }
                Ok(inv) => warnings.push(format!(
                    "account {account}: the role answered for account {} instead: left out",
                    inv.accounts.iter().cloned().collect::<Vec<_>>().join(", ")
                )),
                Err(e) => warnings.push(format!("account {account}: {e}")),
            }
        }
    }
    if parts.is_empty() {
        return Err(IamError::Service {
            action: "sts:AssumeRole".into(),
            message: format!("no account could be pulled: {}", warnings.join("; ")),
        });
    }
    let (mut merged, _) = Inventory::merge(parts);
    merged.warnings = warnings;
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::parse_accounts;

    #[test]
    fn an_accounts_file_lists_ids_with_comments_and_names() {
        assert_eq!(
            parse_accounts("# prod\n111122223333 prod\n\n444455556666 # staging\n111122223333\n"),
            Ok(vec!["111122223333".to_string(), "444455556666".to_string()])
        );
        assert_eq!(
            parse_accounts("1111222233\n"),
            Err("line 1: `1111222233` is not a 12-digit AWS account ID".to_string())
        );
        assert!(parse_accounts("# nothing\n").is_err());
    }
}
