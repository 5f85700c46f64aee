//! keyward: finds AWS access keys and secrets in infrastructure repos and
//! judges them with declarative, IAM-aware rules.
//!
//! The pipeline (see DESIGN.md): walk → prefilter → parse → detect → enrich →
//! rules → suppress → report. The library never prints.

pub mod budget;
pub mod detect;
pub mod finding;
pub mod fix;
pub mod git;
pub mod iam;
pub mod ignore_comment;
pub(crate) mod large;
#[cfg(feature = "cli")]
pub mod lsp;
pub mod named_file;
pub mod own_report;
pub mod parse;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod prefilter;
pub mod problem;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod severity;
pub mod shown;
pub mod source;
pub mod walk;

pub use finding::{Finding, Related, SourceFile, Suppression, SuppressionKind, Warning};
pub use pipeline::{RunError, Scan};
pub use scan::{Blob, Policy, Progress, ScanOptions, ScanOutput, Summary, scan, scan_blobs};
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod report;
pub mod suppress;
