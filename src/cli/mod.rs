//! Command-line interface: clap definitions and the runner that maps a
//! command to the library and an exit code. Output goes to the writers it is
//! handed; it never prints on its own.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report::{self, human::Style};
use crate::rules::{RuleSet, Severity, eval};
use crate::scan::{self, DEFAULT_MAX_FILE_SIZE, Policy, Progress, ScanOptions};

/// Exit codes (DESIGN.md): nothing at or above `--fail-on`; findings at or
/// above it; usage, configuration or runtime error.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Find AWS access keys and secrets in infrastructure repos, judged by IAM-aware rules",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories for AWS credentials.
    Scan(ScanArgs),
    /// List the rules.
    Rules {
        /// List the facts rules can use instead.
        #[arg(long)]
        facts: bool,
    },
    /// Show the documentation of one rule (by ID or name).
    Explain { rule: String },
    /// Work with IAM inventories.
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Write every access key of the caller's account (no secrets) for
    /// `keyward scan --inventory`.
    Pull {
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// IAM requests in flight.
        #[arg(long, default_value_t = crate::iam::DEFAULT_CONCURRENCY, value_name = "N", value_parser = parse_concurrency)]
        concurrency: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Never,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files and directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Low)]
    pub fail_on: FailOn,
    /// Also scan files that .gitignore / .ignore exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip (and report) files larger than this many bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_SIZE, value_name = "BYTES")]
    pub max_file_size: u64,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Report AWS documentation examples and filler keys too.
    #[arg(long)]
    pub include_placeholders: bool,
    /// An account whose keys are expected (repeatable); enables KW005.
    #[arg(long = "allowed-account", value_name = "ID", value_parser = parse_account)]
    pub allowed_accounts: Vec<String>,
    /// Colour in human output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Take IAM facts from an inventory file (`keyward inventory pull`).
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    pub inventory: Option<PathBuf>,
    /// Ask IAM about the keys found, with the AWS credential chain.
    #[arg(long)]
    pub live: bool,
    /// Sign sts:GetCallerIdentity with each found key and secret (sends
    /// signatures made with the secret to STS, nothing else).
    #[arg(long)]
    pub verify_pairs: bool,
    /// IAM requests in flight.
    #[arg(long, default_value_t = crate::iam::DEFAULT_CONCURRENCY, value_name = "N", value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Measure key ages from this instant instead of now (reproducible runs).
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub now: Option<jiff::Timestamp>,
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a number from 1 to 256")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a 12-digit AWS account ID"))
    }
}

/// What the terminal around the process looks like; decided in `main`.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdout_is_tty: bool,
    pub no_color: bool,
    pub width: Option<usize>,
}

/// Runs a parsed command. `Err` carries a message for exit code 2.
pub fn run(
    cli: Cli,
    term: Terminal,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let rules = RuleSet::builtin().map_err(|e| miette::Report::new(*e))?;
    match cli.command {
        Command::Scan(args) => run_scan(args, &rules, term, progress, stdout),
        Command::Rules { facts } => {
            let text = if facts {
                list_facts()
            } else {
                list_rules(&rules)
            };
            write_out(stdout, &text)?;
            Ok(EXIT_OK)
        }
        Command::Explain { rule } => {
            let Some(r) = rules.get(&rule) else {
                return Err(miette::miette!(
                    help = "`keyward rules` lists them",
                    "no rule `{rule}`"
                ));
            };
            let text = format!(
                "{} {} ({})\n{}\n\n{}\nWhen: {}\n",
                r.id,
                r.name,
                r.severity.as_str(),
                r.summary,
                r.docs.trim_end(),
                r.when
            );
            write_out(stdout, &text)?;
            Ok(EXIT_OK)
        }
        Command::Inventory {
            command:
                InventoryCommand::Pull {
                    output,
                    concurrency,
                },
        } => {
            let aws =
                crate::iam::live::Aws::connect(concurrency).map_err(|e| miette::miette!("{e}"))?;
            let inventory = crate::iam::live::LiveSource::new(&aws)
                .pull()
                .map_err(|e| miette::miette!("{e}"))?;
            match output {
                Some(path) => crate::iam::inventory::write(&path, &inventory)
                    .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?,
                None => write_out(stdout, &inventory.to_json())?,
            }
            Ok(EXIT_OK)
        }
    }
}

fn run_scan(
    args: ScanArgs,
    rules: &RuleSet,
    term: Terminal,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let cwd = std::env::current_dir()
        .map_err(|e| miette::miette!("cannot read the current directory: {e}"))?;
    let opts = ScanOptions {
        paths: args.paths.clone(),
        no_ignore: args.no_ignore,
        max_file_size: args.max_file_size,
        threads: args.threads,
        include_placeholders: args.include_placeholders,
        policy: Policy {
            allowed_accounts: args.allowed_accounts.clone(),
            ..Policy::default()
        },
        cwd,
        iam: crate::iam::IamOptions {
            source: match (&args.inventory, args.live) {
                (Some(path), _) => crate::iam::SourceChoice::Inventory(path.clone()),
                (None, true) => crate::iam::SourceChoice::Live,
                (None, false) => crate::iam::SourceChoice::None,
            },
            verify_pairs: args.verify_pairs,
            concurrency: args.concurrency,
            now: args.now,
        },
    };
    let out = scan::scan(&opts, rules, progress).map_err(|e| miette::miette!("{e}"))?;
    let to_file = args.output.is_some();
    let text = match args.format {
        OutputFormat::Json => report::json::render(&out),
        OutputFormat::Human => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => term.stdout_is_tty && !term.no_color && !to_file,
            };
            let width = if to_file {
                100
            } else {
                term.width.unwrap_or(100)
            };
            report::human::render(&out, Style { color, width })
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?,
        None => write_out(stdout, &text)?,
    }
    let threshold = args.fail_on.threshold();
    let failing = out
        .findings
        .iter()
        .any(|f| eval::at_least(f.severity, threshold));
    Ok(if failing { EXIT_FINDINGS } else { EXIT_OK })
}

fn write_out(w: &mut dyn Write, text: &str) -> Result<(), miette::Report> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`keyward rules | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(miette::miette!("cannot write output: {e}")),
    }
}

fn list_rules(rules: &RuleSet) -> String {
    let mut text =
        String::from("ID     NAME                          SEVERITY  ENABLED  SUMMARY\n");
    for r in &rules.rules {
        text.push_str(&format!(
            "{:<6} {:<29} {:<9} {:<8} {}\n",
            r.id,
            r.name,
            r.severity.as_str(),
            "yes",
            r.summary
        ));
    }
    text
}

fn list_facts() -> String {
    let mut text = String::new();
    for (name, ty) in crate::rules::facts::FACTS {
        text.push_str(&format!(
            "{name:<28} {}\n",
            format!("{ty:?}").to_lowercase()
        ));
    }
    text
}
