//! IAM inventory files (DESIGN.md, "Inventory file"): what `keyward
//! inventory pull` writes from IAM and `keyward scan --inventory` reads, so
//! CI can judge keys without AWS credentials. An inventory never holds a
//! secret.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use keyward::inventory::{self, Inventory};
//!
//! // Two pulls (say, two organisations) as one file: an account comes whole
//! // from the last inventory that covers it.
//! let parts = vec![
//!     inventory::read("prod.json".as_ref())?,
//!     inventory::read("sandbox.json".as_ref())?,
//! ];
//! let (merged, covered_twice) = Inventory::merge(parts);
//! inventory::write("all.json".as_ref(), &merged)?;
//! println!("{} accounts, {} covered twice", merged.accounts.len(), covered_twice.len());
//! # Ok(())
//! # }
//! ```

pub use crate::iam::inventory::{Inventory, read, write};
pub use crate::iam::org::{DEFAULT_ROLE, parse_accounts};
pub use crate::iam::{IamError, PullScope, pull_inventory as pull};
