//! One interface for every output format. An emitter turns a finished
//! scan into text; a format that also writes beside its output (the GitHub
//! job summary) says so in `side_output`. Adding a format is one file with
//! an `Emitter` and one line in [`EMITTERS`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use keyward::report::emit::{self, Context};
//! use keyward::report::human::Style;
//! use keyward::{PolicyOptions, PolicySet, Scan};
//!
//! let dir = tempfile::tempdir()?;
//! // A synthetic key ID (it decodes to a documentation account).
//! std::fs::write(dir.path().join(".env"), "AWS_ACCESS_KEY_ID=AKIARZPUZDIKO54ML6LG\n")?;
//! let policy = PolicySet::load(dir.path(), &PolicyOptions::default())?;
//! let out = Scan::new(&policy).cwd(dir.path()).run()?;
//! let ctx = Context {
//!     rules: &policy.rules,
//!     style: Style { color: false, width: 100 },
//!     root: None,
//! };
//! let sarif = emit::by_name("sarif").ok_or("no sarif format")?;
//! let log: serde_json::Value = serde_json::from_str(&sarif.render(&out, &ctx)?)?;
//! assert_eq!(log["runs"][0]["results"][0]["ruleId"], "KW001");
//! // The same findings in the other formats. One that names the commit it
//! // is about (GitLab's) needs a scan of a git work tree with
//! // `Scan::identify(true)`, and says so rather than writing an empty report.
//! for name in emit::names() {
//!     let emitter = emit::by_name(name).ok_or("listed")?;
//!     match emitter.render(&out, &ctx) {
//!         Ok(text) => assert!(text.contains("AKIARZPUZDIKO54ML6LG"), "{name}"),
//!         Err(e) => assert!(emitter.identifies(), "{name}: {e}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use crate::output::ScanOutput;
use crate::rules::RuleSet;

use super::human::Style;

/// What an emitter may need besides the scan.
pub struct Context<'a> {
    /// The rules the scan ran with (SARIF describes them).
    pub rules: &'a RuleSet,
    /// Colour and width, for formats read in a terminal.
    pub style: Style,
    /// The directory the shown paths are relative to (SARIF's
    /// `%SRCROOT%`); `None` leaves it to the reader, as SARIF allows.
    pub root: Option<&'a std::path::Path>,
}

/// Text an emitter adds to a file the environment names (appended: other
/// steps write there too).
pub struct SideOutput {
    /// The environment variable holding the file's path.
    pub env: &'static str,
    /// What the file is, for errors.
    pub what: &'static str,
    /// What to write there.
    pub text: String,
}

/// Why a format could not be written: said, never an empty report.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[diagnostic(code(keyward::report))]
pub enum EmitError {
    /// The findings could not be read as an audit.
    #[error("cannot make the audit report: {0}")]
    Audit(#[from] super::audit::AuditError),
    /// The HTML page could not be rendered.
    #[error(transparent)]
    Html(#[from] super::html::RenderError),
    /// The GitLab report lacks what its schema requires.
    #[error(transparent)]
    Gitlab(#[from] super::gitlab::GitlabError),
}

/// One output format (`--format`): a scan's output rendered as text.
pub trait Emitter: Sync {
    /// The `--format` value.
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// The whole output, or why it cannot be written (never an empty one).
    fn render(&self, out: &ScanOutput, ctx: &Context) -> Result<String, EmitError>;
    /// A second file the format also writes, such as GitHub's step summary.
    fn side_output(&self, _out: &ScanOutput) -> Option<SideOutput> {
        None
    }
    /// Whether the output needs the repository and commit it is about.
    fn identifies(&self) -> bool {
        false
    }
}

struct Human;
struct Concise;
struct Json;
struct Sarif;
struct Github;
struct Gitlab;
struct Markdown;
struct Html;

/// Every format, in `--help` order; the first is the default.
pub static EMITTERS: &[&dyn Emitter] = &[
    &Human, &Concise, &Json, &Sarif, &Github, &Gitlab, &Markdown, &Html,
];

/// The emitter for a `--format` value.
pub fn by_name(name: &str) -> Option<&'static dyn Emitter> {
    EMITTERS.iter().copied().find(|e| e.name() == name)
}

/// The `--format` values.
pub fn names() -> Vec<&'static str> {
    EMITTERS.iter().map(|e| e.name()).collect()
}

impl Emitter for Human {
    fn name(&self) -> &'static str {
        "human"
    }
    fn about(&self) -> &'static str {
        "each credential as a diagnostic with its source snippet"
    }
    fn render(&self, out: &ScanOutput, ctx: &Context) -> Result<String, EmitError> {
        Ok(super::human::render(out, ctx.style))
    }
}

impl Emitter for Concise {
    fn name(&self) -> &'static str {
        "concise"
    }
    fn about(&self) -> &'static str {
        "one line per finding: path:line:col: RULE [severity] message"
    }
    fn render(&self, out: &ScanOutput, _ctx: &Context) -> Result<String, EmitError> {
        Ok(super::concise::render(out))
    }
}

impl Emitter for Json {
    fn name(&self) -> &'static str {
        "json"
    }
    fn about(&self) -> &'static str {
        "the JSON contract (DESIGN.md), what `keyward report` reads"
    }
    fn render(&self, out: &ScanOutput, _ctx: &Context) -> Result<String, EmitError> {
        Ok(super::json::render(out))
    }
    fn identifies(&self) -> bool {
        true
    }
}

impl Emitter for Sarif {
    fn name(&self) -> &'static str {
        "sarif"
    }
    fn about(&self) -> &'static str {
        "SARIF 2.1.0, for code scanning"
    }
    fn render(&self, out: &ScanOutput, ctx: &Context) -> Result<String, EmitError> {
        Ok(super::sarif::render(out, ctx.rules, ctx.root))
    }
}

impl Emitter for Github {
    fn name(&self) -> &'static str {
        "github"
    }
    fn about(&self) -> &'static str {
        "workflow annotations, and the job summary in GITHUB_STEP_SUMMARY"
    }
    fn render(&self, out: &ScanOutput, _ctx: &Context) -> Result<String, EmitError> {
        Ok(super::github::render(out))
    }
    fn side_output(&self, out: &ScanOutput) -> Option<SideOutput> {
        Some(SideOutput {
            env: "GITHUB_STEP_SUMMARY",
            what: "the job summary",
            text: super::github::step_summary(out),
        })
    }
}

impl Emitter for Gitlab {
    fn name(&self) -> &'static str {
        "gitlab"
    }
    fn about(&self) -> &'static str {
        "GitLab's secret detection report (the secret_detection artifact)"
    }
    fn render(&self, out: &ScanOutput, _ctx: &Context) -> Result<String, EmitError> {
        Ok(super::gitlab::render(out)?)
    }
    fn identifies(&self) -> bool {
        true
    }
}

/// The audit report of one scan, through the JSON contract it reads.
fn audit(out: &ScanOutput) -> Result<super::audit::Audit, EmitError> {
    Ok(super::audit_of(&super::json::document(out))?)
}

impl Emitter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }
    fn about(&self) -> &'static str {
        "the audit report, as Markdown"
    }
    fn render(&self, out: &ScanOutput, _ctx: &Context) -> Result<String, EmitError> {
        Ok(super::audit::markdown(&audit(out)?))
    }
    fn identifies(&self) -> bool {
        true
    }
}

impl Emitter for Html {
    fn name(&self) -> &'static str {
        "html"
    }
    fn about(&self) -> &'static str {
        "the audit report, one self-contained HTML file"
    }
    fn render(&self, out: &ScanOutput, _ctx: &Context) -> Result<String, EmitError> {
        Ok(super::html::audit(&audit(out)?)?)
    }
    fn identifies(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let names = names();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for n in names {
            assert_eq!(by_name(n).map(|e| e.name()), Some(n));
        }
        assert!(by_name("xml").is_none());
    }

    #[test]
    fn every_format_renders_an_empty_scan() {
        let rules = RuleSet::builtin().expect("rules");
        let ctx = Context {
            rules: &rules,
            style: Style {
                color: false,
                width: 80,
            },
            root: None,
        };
        let out = ScanOutput::default();
        for e in EMITTERS {
            let text = e.render(&out, &ctx).expect("renders");
            assert!(!text.is_empty(), "{}", e.name());
        }
    }
}
