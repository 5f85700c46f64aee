//! keyward finds AWS access keys and secrets in infrastructure repositories
//! (Terraform, YAML, `.env`, credential files, any text) and judges them
//! with declarative, IAM-aware rules.
//!
//! The library is what the `keyward` command runs: a [`Scan`] judged by a
//! [`PolicySet`] gives a [`ScanOutput`] of [`Finding`]s, which the
//! [`report`] emitters write in every output format. It never prints.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use keyward::{PolicyOptions, PolicySet, Scan};
//!
//! let cwd = std::env::current_dir()?;
//! // keyward.toml (if any), its rules, its baseline and its inventory.
//! let policy = PolicySet::load(&cwd, &PolicyOptions::default())?;
//! let output = Scan::new(&policy).paths(["infra"]).run()?;
//! for finding in output.active() {
//!     let file = &output.files[finding.file];
//!     println!("{}: {} {}", file.path, finding.rule, finding.message);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The pipeline (see DESIGN.md): walk → prefilter → parse → detect →
//! enrich → rules → suppress → report.
//!
//! What IAM is asked, and what a rotation changes, goes through one seam,
//! [`IamApi`] (with [`SecretStore`] for where a new key is kept): the AWS
//! SDK implements it behind the `aws` feature (`aws::Aws`), and a
//! recording fake in the tests. A scan is told where its IAM facts come
//! from with [`IamOptions`]; [`inventory`] reads, writes, merges and pulls
//! the inventory files that let CI judge keys without credentials.
//!
//! # Features
//! - `aws` (default): live IAM, STS, Organizations and the secret stores
//!   through the AWS SDK. Without it IAM facts come from an inventory file.
//! - `cli` (default): the command-line tool and the editor server (clap,
//!   lsp-server).
//! - `internals`: keyward's own tests, benchmarks and fuzz targets reach
//!   the parsers, the detector, the rules and IAM with it. Not a stable
//!   API; without it those modules are private.

// The documented API.
#[cfg(feature = "aws")]
pub mod aws;
pub mod fix;
pub mod inventory;
pub mod plan;
pub mod report;

pub use finding::{Finding, Related, SourceFile, Suppression, SuppressionKind, Warning};
pub use iam::api::{ApiHandle, IamApi, SecretStore};
pub use iam::cache::CacheOptions;
pub use iam::{DEFAULT_CONCURRENCY, IamInfo, IamOptions, KeyStatus, SourceChoice};
pub use iam::{IamUser, IamUserKey, SignedWith};
pub use output::{Gate, More, Next, ScanMeta};
pub use pipeline::{RunError, Scan};
pub use policy::{BaselineChoice, Named, PolicyError, PolicyOptions, PolicySet};
pub use rules::select::Selection;
pub use scan::{Blob, Policy, Progress, ScanOutput, Summary};
pub use suppress::{Baseline, BaselineEntry, BaselineError};
// The scanner below `Scan` (no suppressions, no gate): for keyward's own
// tests.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub use scan::{ScanOptions, scan, scan_blobs};
pub use severity::{FailOn, Severity};

// The command line, for the `keyward` binary.
#[cfg(feature = "cli")]
pub mod cli;

// What keyward's tests, benchmarks and fuzz targets reach with the
// `internals` feature (the crate's dev-dependency on itself turns it on);
// without it these modules are private.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod config;
#[cfg(not(feature = "internals"))]
pub(crate) mod config;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod detect;
#[cfg(not(feature = "internals"))]
pub(crate) mod detect;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod iam;
#[cfg(not(feature = "internals"))]
pub(crate) mod iam;
#[cfg(feature = "cli")]
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod lsp;
#[cfg(feature = "cli")]
#[cfg(not(feature = "internals"))]
pub(crate) mod lsp;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod parse;
#[cfg(not(feature = "internals"))]
pub(crate) mod parse;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod prefilter;
#[cfg(not(feature = "internals"))]
pub(crate) mod prefilter;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod rules;
#[cfg(not(feature = "internals"))]
pub(crate) mod rules;

/// `text` with every run a secret access key could hide in masked (the
/// first four and last four characters kept), borrowed when there is
/// nothing to mask: the last step of every string keyward writes, reports,
/// messages and errors alike. An embedder writing its own output from a
/// scan does the same.
pub fn redacted(text: &str) -> std::borrow::Cow<'_, str> {
    detect::redacted(text)
}

// The crate's own.
pub(crate) use rules::facts::fact;
pub(crate) mod budget;
pub(crate) mod finding;
pub(crate) mod git;
pub(crate) mod ignore_comment;
pub(crate) mod large;
pub(crate) mod named_file;
pub(crate) mod output;
pub(crate) mod own_report;
pub(crate) mod pipeline;
pub(crate) mod policy;
pub(crate) mod problem;
#[cfg(feature = "cli")]
pub(crate) mod rotate;
pub(crate) mod scan;
pub(crate) mod severity;
pub(crate) mod shown;
pub(crate) mod source;
pub(crate) mod suppress;
pub(crate) mod walk;
