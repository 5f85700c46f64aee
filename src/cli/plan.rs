//! `keyward plan`: scan with IAM facts, then the rotation plan.

use std::io::Write;
use std::path::PathBuf;

use crate::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Markdown,
    Html,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Files and directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// `markdown` for people and pull requests, `html` for a page styled as
    /// the audit report, `json` for scripts.
    #[arg(long, value_enum, default_value_t = PlanFormat::Markdown)]
    pub format: PlanFormat,
    /// Write the plan to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Configuration file (default: keyward.toml found from the first path up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub iam: super::IamArgs,
}

pub(super) fn run(
    args: &PlanArgs,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let cwd = super::current_dir()?;
    // Every place a key is configured counts, accepted ones included, so
    // no baseline is applied.
    let policy = super::policy(crate::PolicyOptions {
        config: args.config.clone(),
        baseline: crate::BaselineChoice::Ignored,
        start: super::first_path(&args.paths),
        from: None,
        ..Default::default()
    })?;
    let out = crate::Scan::new(&policy)
        .paths(args.paths.clone())
        .allowed_accounts(args.iam.allowed_accounts.clone())
        .iam(super::iam_options(&args.iam, policy.iam.clone())?)
        .progress(progress)
        .run()?;
    let fixes = crate::fix::fixes(
        &out,
        &crate::fix::FixOptions {
            unsafe_fixes: true,
            buffer: false,
            only: None,
            keys: None,
            store: None,
        },
        &cwd,
    );
    let fix_of = |path: &str, line: usize| -> Option<String> {
        let change = fixes
            .fixed
            .iter()
            .find(|n| n.path == path && n.line == line)?;
        let unsafe_flag = if change.unsafe_fix { " --unsafe" } else { "" };
        Some(format!(
            "keyward fix{unsafe_flag} {}",
            crate::shown::printable(path)
        ))
    };
    let plan = crate::plan::plan(&out, &policy.rules, &fix_of);
    let text = match args.format {
        PlanFormat::Markdown => crate::plan::markdown(&plan),
        PlanFormat::Html => crate::report::html::plan(&plan)?,
        PlanFormat::Json => crate::plan::json(&plan),
    };
    match &args.output {
        Some(path) => super::write_file(path, &text)?,
        None => super::write_out(stdout, &text)?,
    }
    Ok(0)
}
