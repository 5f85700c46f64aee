//! Many accounts: `keyward inventory pull --accounts FILE [--role NAME]`
//! assumes a role in each account, pulls its keys (a few accounts at a
//! time) and writes one inventory. An account that cannot be reached is a
//! warning naming it and the reason; the others are still pulled.

use jiff::Timestamp;

use super::IamError;
use super::api::IamApi;
use super::inventory::Inventory;
use super::lookup::Live;

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
pub fn organization_accounts(api: &dyn IamApi) -> Result<(Vec<String>, Vec<String>), IamError> {
    let mut ids = Vec::new();
    let mut warnings = Vec::new();
    for a in api.organization_accounts()? {
        match a.state.as_deref() {
            None | Some("ACTIVE") => ids.push(a.id),
            Some(state) => warnings.push(format!("account {}: left out, it is {state}", a.id)),
        }
    }
    ids.sort();
    ids.dedup();
    Ok((ids, warnings))
}

/// Pulls every account in `accounts` through `role`, with the caller's
/// credentials in `api` used only to assume it (the caller's own account
/// is pulled with them directly: the role is for member accounts). Returns
/// one inventory (with a warning per account that could not be pulled).
pub fn pull(
    api: &dyn IamApi,
    accounts: &[String],
    role: &str,
    concurrency: usize,
    now: Timestamp,
) -> Result<Inventory, IamError> {
    let mut parts = Vec::new();
    let mut warnings = Vec::new();
    let mut assumed: Vec<(String, Box<dyn IamApi>)> = Vec::new();
    let caller = api.caller_account()?;
    let pull_one = |api: &dyn IamApi| Live::new(api, concurrency).at(now).pull();
    for account in accounts {
        if *account == caller {
            match pull_one(api) {
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
        match api.assume_role(account, role) {
            Ok(other) => assumed.push((account.clone(), other)),
            Err(why) => warnings.push(format!("account {account}: {why}")),
        }
    }
    // A few accounts are pulled side by side.
    for chunk in assumed.chunks(ACCOUNTS_AT_ONCE) {
        let results: Vec<(String, Result<Inventory, IamError>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(account, other)| {
                    let pull_one = &pull_one;
                    scope.spawn(move || (account.clone(), pull_one(other.as_ref())))
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
