//! Live AWS through the SDK (the `aws` feature): [`Aws`] is the
//! [`IamApi`](crate::IamApi) that asks IAM, STS and Organizations, and the
//! two [`SecretStore`](crate::SecretStore)s a rotation writes to.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use keyward::aws::Aws;
//! use keyward::inventory::{self, PullScope};
//!
//! // The caller's account, with the environment's credentials.
//! let aws = Aws::connect()?;
//! let pulled = inventory::pull(&aws, &PullScope::Caller, inventory::DEFAULT_ROLE, 8, jiff::Timestamp::now())?;
//! inventory::write("inventory.json".as_ref(), &pulled)?;
//! println!("{} keys, {} requests", pulled.keys.len(), aws.calls());
//! # Ok(())
//! # }
//! ```

pub use crate::iam::aws::{Aws, SecretsManager, Ssm};
