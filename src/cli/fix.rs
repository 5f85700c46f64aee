//! `keyward fix`: scan, rewrite, say what to do next.

use std::io::Write;
use std::path::PathBuf;

use crate::Progress;
use crate::fix::{FixOptions, Fixes};

#[derive(Debug, clap::Args)]
pub struct FixArgs {
    /// Files and directories to fix.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Print the changes as a unified diff (secrets masked) and change
    /// nothing.
    #[arg(long)]
    pub diff: bool,
    /// Also apply fixes that reference something you must create first
    /// (a repository secret, a Kubernetes Secret).
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,
    /// Fix only the findings of these rules (ID or name; repeatable).
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Configuration file (default: keyward.toml found from the first path up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Exit 0 when no credential is left where it was, 1 when some is (ruff's
/// convention), 2 on errors.
pub(super) fn run(
    args: &FixArgs,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let cwd = super::current_dir()?;
    // Accepted findings (ignores, allow entries, the baseline) stay as they
    // are; IAM is not asked: a fix is about where a credential is written.
    let mut policy = super::policy(crate::PolicyOptions {
        config: args.config.clone(),
        baseline: crate::BaselineChoice::Configured,
        start: super::first_path(&args.paths),
        from: None,
        ..Default::default()
    })?;
    if !args.rules.is_empty() {
        for wanted in &args.rules {
            if policy.rules.get(wanted).is_none() {
                return Err(miette::miette!("no rule `{wanted}` (see `keyward rules`)"));
            }
        }
        for r in &mut policy.rules.rules {
            r.enabled &= args.rules.iter().any(|w| w == &r.id || w == &r.name);
        }
    }
    let out = crate::Scan::new(&policy)
        .paths(args.paths.clone())
        .iam(crate::IamOptions {
            source: crate::SourceChoice::None,
            ..crate::IamOptions::default()
        })
        .progress(progress)
        .run()?;
    let fixes = crate::fix::fixes(
        &out,
        &FixOptions {
            unsafe_fixes: args.unsafe_fixes,
            buffer: false,
            only: None,
            keys: None,
            store: None,
        },
        &cwd,
    );
    let mut text = String::new();
    if args.diff {
        text.push_str(&crate::fix::diff(&fixes));
    } else {
        crate::fix::write(&fixes).map_err(|e| miette::miette!("cannot write a fix: {e}"))?;
    }
    text.push_str(&summary(&fixes, args.diff));
    super::write_out(stdout, &text)?;
    Ok(if fixes.remaining() > 0 { 1 } else { 0 })
}

fn summary(fixes: &Fixes, diff: bool) -> String {
    let mut s = String::new();
    let verb = if diff { "would fix" } else { "fixed" };
    for (what, list) in [
        (None, &fixes.fixed),
        (Some("needs --unsafe"), &fixes.unsafe_left),
        (Some("refused"), &fixes.refused),
        (Some("left"), &fixes.left),
    ] {
        // One line per file and advice, with every line it is about.
        let mut i = 0;
        while i < list.len() {
            let n = &list[i];
            let mut lines = vec![n.line.to_string()];
            let mut j = i + 1;
            while j < list.len() && list[j].path == n.path && list[j].text == n.text {
                lines.push(list[j].line.to_string());
                j += 1;
            }
            let text = match what {
                Some(w) if !n.text.starts_with(w) => format!("{w}: {}", n.text),
                _ => n.text.clone(),
            };
            s.push_str(&format!(
                "{}:{}: {}\n",
                crate::shown::printable(&n.path),
                lines.join(","),
                crate::shown::printable(&text)
            ));
            i = j;
        }
    }
    s.push_str(&format!(
        "keyward: {verb} {} place{} in {} file{}; {} need --unsafe, {} refused, {} left without an automatic fix\n",
        fixes.fixed.len(),
        crate::shown::s(fixes.fixed.len()),
        fixes.changes.len(),
        crate::shown::s(fixes.changes.len()),
        fixes.unsafe_left.len(),
        fixes.refused.len(),
        fixes.left.len(),
    ));
    let setup = fixes.setup();
    if !setup.is_empty() {
        s.push_str(&format!(
            "keyward: the {} files read {} that must exist first; create {} once, with the values from your secret store in the environment (never from these files):\n",
            if diff { "fixed" } else { "rewritten" },
            if setup.len() == 1 { "a secret" } else { "secrets" },
            if setup.len() == 1 { "it" } else { "each" },
        ));
        for c in &setup {
            s.push_str(&format!("  {}\n", crate::shown::printable(c)));
        }
    }
    if !fixes.fixed.is_empty() {
        s.push_str(
            "keyward: a fix never removes a key from git history: rotate every key it moved\n",
        );
    }
    s
}
