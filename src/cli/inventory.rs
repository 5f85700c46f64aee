//! `keyward inventory pull` and `keyward inventory merge`.

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_OK, InventoryCommand, counted, write_out};
use crate::Progress;
use crate::inventory::{self, Inventory, PullScope};

pub(super) fn run(
    command: InventoryCommand,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    match command {
        InventoryCommand::Pull {
            output,
            concurrency,
            accounts,
            org,
            role,
        } => pull(output, concurrency, accounts, org, &role, progress, stdout),
        InventoryCommand::Merge { inputs, output } => merge(&inputs, output, stdout),
    }
}

/// Every access key of the caller's account, the listed accounts or the
/// organisation, written as an inventory (no secrets).
fn pull(
    output: Option<PathBuf>,
    concurrency: usize,
    accounts: Option<PathBuf>,
    org: bool,
    role: &str,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let started = std::time::Instant::now();
    let scope = match &accounts {
        Some(file) => {
            let shown = crate::shown::shown_path(file);
            let text = crate::named_file::read_text(file, crate::named_file::MAX_NAMED_FILE)
                .map_err(|e| miette::miette!("cannot read {shown}: {e}"))?;
            PullScope::Accounts(
                inventory::parse_accounts(&text).map_err(|e| miette::miette!("{shown}: {e}"))?,
            )
        }
        None if org => PullScope::Organization,
        None => PullScope::Caller,
    };
    let aws = crate::aws::Aws::connect()?.counting_into(progress.iam_requests.clone());
    let inventory = inventory::pull(&aws, &scope, role, concurrency, jiff::Timestamp::now())?;
    match output {
        Some(path) => {
            inventory::write(&path, &inventory).map_err(|e| {
                miette::miette!("cannot write {}: {e}", crate::shown::shown_path(&path))
            })?;
            let users: std::collections::BTreeSet<_> = inventory
                .keys
                .iter()
                .map(|k| (&k.account, &k.user))
                .collect();
            write_out(
                stdout,
                &format!(
                    "keyward: wrote {}: {}, {}, {}; {} in {:.1} s\n",
                    crate::shown::shown_path(&path),
                    counted(inventory.accounts.len(), "account"),
                    counted(users.len(), "user"),
                    counted(inventory.keys.len(), "key"),
                    counted(
                        progress
                            .iam_requests
                            .load(std::sync::atomic::Ordering::Relaxed)
                            as usize,
                        "request"
                    ),
                    started.elapsed().as_secs_f64()
                ),
            )?;
            let quarantined: usize = inventory
                .quarantine
                .values()
                .filter(|p| !p.is_empty())
                .count();
            if quarantined > 0 {
                write_out(
                    stdout,
                    &format!(
                        "keyward: {} with an AWS quarantine policy attached\n",
                        counted(quarantined, "user")
                    ),
                )?;
            }
            for w in &inventory.warnings {
                write_out(
                    stdout,
                    &format!("warning: {}\n", crate::shown::printable(w)),
                )?;
            }
        }
        None => write_out(stdout, &inventory.to_json())?,
    }
    Ok(EXIT_OK)
}

/// Inventories of several accounts or times, as one.
fn merge(
    inputs: &[PathBuf],
    output: Option<PathBuf>,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let mut parts = Vec::new();
    for input in inputs {
        parts.push(inventory::read(input)?);
    }
    let (merged, replaced) = Inventory::merge(parts);
    match &output {
        Some(path) => {
            // Atomically, as `pull` does: the output may be one of the inputs.
            inventory::write(path, &merged).map_err(|e| {
                miette::miette!("cannot write {}: {e}", crate::shown::shown_path(path))
            })?;
            let mut line = format!(
                "keyward: wrote {}: {}, {} from {} files",
                crate::shown::shown_path(path),
                counted(merged.accounts.len(), "account"),
                counted(merged.keys.len(), "key"),
                inputs.len()
            );
            if !replaced.is_empty() {
                line.push_str(&format!(
                    "; in two files, taken from the later: {}",
                    replaced.join(", ")
                ));
            }
            line.push('\n');
            write_out(stdout, &line)?;
        }
        None => write_out(stdout, &merged.to_json())?,
    }
    Ok(EXIT_OK)
}
