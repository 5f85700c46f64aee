//! The `keyward` command line: its arguments ([`Cli`], parsed with clap)
//! and the runner ([`run`]) that maps a command to the library and an exit
//! code. Output goes to the writers it is handed; it never prints on its
//! own. The binary's `main` is this and a progress line.

mod fix;
mod inventory;
mod plan;
mod repos;
mod rotate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::Baseline;
use crate::Progress;
use crate::Severity;
use crate::report::rules::Catalog;
use crate::report::{self, human::Style};

// Exit codes (DESIGN.md).
/// Nothing at or above `--fail-on`.
pub const EXIT_OK: u8 = 0;
/// Findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// A usage, configuration or runtime error.
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Find AWS access keys and secrets in infrastructure repos, judged by IAM-aware rules",
    propagate_version = true
)]
/// The command line's arguments: `Cli::parse()` (clap's [`Parser`]).
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Scan files and directories for AWS credentials.
    Scan(Box<ScanArgs>),
    /// Record the current findings as accepted (`scan --baseline FILE`).
    Baseline(BaselineArgs),
    /// List the rules.
    Rules {
        /// List the facts rules can use instead.
        #[arg(long)]
        facts: bool,
        /// `table` for people, `markdown` for docs/rules.md.
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
        /// Configuration file (default: keyward.toml found from here up).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Show the documentation of one rule (by ID or name).
    Explain {
        /// A rule ID (`KW002`) or name (`hardcoded-secret-key`).
        rule: String,
    },
    /// Show or create the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Work with IAM inventories.
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// Render an audit report from `keyward scan --format json` output.
    Report(ReportArgs),
    /// Rewrite the places that hold a credential so each tool reads it from
    /// where it expects one (formatting and comments kept; never history).
    Fix(fix::FixArgs),
    /// A rotation plan per IAM user: the key to keep, every place to
    /// change, and the steps in order with exact commands.
    Plan(plan::PlanArgs),
    /// Carry the rotation plan out against IAM: new key into a secret
    /// store, verified, every place pointed at the store, exposed keys
    /// deactivated then deleted. A dry run unless --apply; journalled, so
    /// an interrupted run resumes.
    Rotate(Box<rotate::RotateArgs>),
    /// Run the language server on standard input and output (for editors).
    Lsp,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// JSON written by `keyward scan --format json` (`-`: standard input);
    /// several merge into one report of many repositories.
    #[arg(required = true, num_args = 1..)]
    pub(crate) inputs: Vec<PathBuf>,
    /// `markdown`, `html` for one self-contained page, or `json` (the
    /// repositories, the cross-repository divergence and the rotation plan).
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub(crate) format: ReportFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// Markdown, for a pull request, a wiki or a ticket.
    Markdown,
    /// One self-contained file: inline CSS and SVG charts, nothing fetched.
    Html,
    /// The merged facts for scripts: repositories, divergence, plan.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the effective configuration, defaults merged.
    Show {
        /// Where to look for keyward.toml (walking up).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Configuration file to show instead of the one found.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Write a commented starter keyward.toml.
    Init {
        /// Where to write it.
        #[arg(default_value = "keyward.toml")]
        path: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RulesFormat {
    Table,
    /// The whole rule documentation (`docs/rules.md`).
    Markdown,
    /// One Markdown table row per rule (the README's table).
    Summary,
}

#[derive(Debug, clap::Args)]
pub(crate) struct BaselineArgs {
    /// Files and directories to scan.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Where to write the baseline [default: `baseline` of the
    /// configuration's `[scan]`, else .keyward-baseline.json].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Configuration file (default: keyward.toml or .keyward.toml found
    /// walking up from the first path).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Also scan files that .gitignore / .ignore exclude.
    #[arg(long)]
    pub(crate) no_ignore: bool,
    /// Also record AWS documentation examples and filler keys.
    #[arg(long)]
    pub(crate) include_placeholders: bool,
    #[command(flatten)]
    pub(crate) iam: IamArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum InventoryCommand {
    /// Write every access key of the caller's account (no secrets) for
    /// `keyward scan --inventory`; with `--accounts`, of many accounts.
    Pull {
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Pull these accounts instead of the caller's: a file with one
        /// 12-digit account ID per line (`#` comments), each reached by
        /// assuming `--role` in it. An account that cannot be reached is a
        /// warning (printed after the summary, so `-o` is needed); the
        /// others are pulled.
        #[arg(long, value_name = "FILE", requires = "output", conflicts_with = "org")]
        accounts: Option<PathBuf>,
        /// Pull every Active account of the caller's AWS organisation
        /// (`organizations:ListAccounts`, from the management or a delegated
        /// administrator account), each through `--role`.
        #[arg(long, requires = "output")]
        org: bool,
        /// The role to assume in each account of `--accounts`.
        #[arg(long, value_name = "NAME", default_value = crate::inventory::DEFAULT_ROLE)]
        role: String,
        /// IAM requests in flight.
        #[arg(long, default_value_t = crate::DEFAULT_CONCURRENCY, value_name = "N", value_parser = parse_concurrency)]
        concurrency: usize,
    },
    /// Merge inventories (of several accounts, or pulled at different
    /// times) into one.
    Merge {
        /// Inventory files, in order: where two hold the same account, the
        /// later file's answer for it wins.
        #[arg(required = true, num_args = 1..)]
        inputs: Vec<PathBuf>,
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `--format` values: the emitters' names, each with its line of help.
fn formats() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        report::emit::EMITTERS
            .iter()
            .map(|e| clap::builder::PossibleValue::new(e.name()).help(e.about())),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOnArg {
    Critical,
    High,
    Medium,
    Low,
    Info,
    Never,
}

impl FailOnArg {
    fn threshold(self) -> crate::severity::FailOn {
        use crate::severity::FailOn;
        match self {
            FailOnArg::Critical => FailOn::At(Severity::Critical),
            FailOnArg::High => FailOn::At(Severity::High),
            FailOnArg::Medium => FailOn::At(Severity::Medium),
            FailOnArg::Low => FailOn::At(Severity::Low),
            FailOnArg::Info => FailOn::At(Severity::Info),
            FailOnArg::Never => FailOn::Never,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// Files and directories to scan.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// How to write the findings.
    #[arg(long, value_parser = formats(), default_value = "human")]
    pub(crate) format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity [default: low,
    /// or `fail-on` of the configuration].
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOnArg>,
    /// Also scan files that .gitignore / .ignore exclude.
    #[arg(long)]
    pub(crate) no_ignore: bool,
    /// Skip (and report) files larger than this many bytes [default: 10 MiB].
    #[arg(long, value_name = "BYTES")]
    pub(crate) max_file_size: Option<u64>,
    /// Configuration file (default: keyward.toml or .keyward.toml found
    /// walking up from the first path).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Report only findings that are not in this baseline [default:
    /// `baseline` of the configuration's `[scan]`].
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Read the configuration, its rules-dir and the baseline from this git
    /// revision instead of the work tree, so a change is judged by the
    /// policy it would replace (the Action passes the pull request's base,
    /// the pre-commit hooks HEAD). The files scanned are still the change's.
    #[arg(long, value_name = "REV")]
    pub(crate) policy_from: Option<String>,
    /// Time budget per file in seconds; a file that takes longer is cut
    /// short with a warning (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub(crate) file_timeout: f64,
    /// Worker threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Report AWS documentation examples and filler keys too.
    #[arg(long)]
    pub(crate) include_placeholders: bool,
    /// The repository's name in the JSON and the reports, for `keyward
    /// report` merging many (default: the git `origin` URL without
    /// credentials, else the work tree's directory name).
    #[arg(long, value_name = "NAME")]
    pub(crate) repository: Option<String>,
    /// Leave out the "next:" lines after the human summary (the command
    /// that helps: `fix --diff`, `plan`, `baseline`).
    #[arg(long)]
    pub(crate) no_hints: bool,
    /// Colour in human output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Scan many repositories: FILE lists one git URL or local path per
    /// line (`-`: standard input). URLs are cloned shallowly; the
    /// repositories are scanned in parallel by their own configurations and
    /// one merged report is written (json, markdown, html; human and
    /// concise print a line per repository). One that cannot be cloned is
    /// reported and the rest go on (exit 2).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["staged", "since", "history", "policy_from", "config", "baseline"], help_heading = "Many repositories")]
    pub(crate) repos: Option<PathBuf>,
    /// Where `--repos` keeps its clones, reused by the next run [default: a
    /// temporary directory, removed afterwards].
    #[arg(
        long,
        value_name = "DIR",
        requires = "repos",
        help_heading = "Many repositories"
    )]
    pub(crate) repos_cache: Option<PathBuf>,
    /// How many repositories `--repos` scans at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4,
        requires = "repos",
        help_heading = "Many repositories"
    )]
    pub(crate) repos_concurrency: usize,
    #[command(flatten)]
    pub(crate) select: SelectArgs,
    #[command(flatten)]
    pub(crate) iam: IamArgs,
    #[command(flatten)]
    pub(crate) git: GitArgs,
}

/// Which rules run, as ruff selects them; after `[rules] select`,
/// `extend-select` and `ignore` of the configuration.
#[derive(Debug, Default, Clone, clap::Args)]
pub(crate) struct SelectArgs {
    /// Run only these rules: IDs, names or ID prefixes, comma-separated
    /// (`KW001,KW01`, `ALL`); replaces the configuration's `select`.
    #[arg(
        long,
        value_name = "RULES",
        value_delimiter = ',',
        help_heading = "Rule selection"
    )]
    pub(crate) select: Option<Vec<String>>,
    /// Run these rules too, on top of `select`.
    #[arg(
        long,
        value_name = "RULES",
        value_delimiter = ',',
        help_heading = "Rule selection"
    )]
    pub(crate) extend_select: Vec<String>,
    /// Do not run these rules; the more specific of a select and an
    /// ignore decides, and ignore wins a tie.
    #[arg(
        long,
        value_name = "RULES",
        value_delimiter = ',',
        help_heading = "Rule selection"
    )]
    pub(crate) ignore: Vec<String>,
}

impl SelectArgs {
    fn selection(&self) -> crate::Selection {
        use crate::rules::select::split_list;
        crate::Selection {
            select: self.select.as_deref().map(split_list),
            extend_select: split_list(&self.extend_select),
            ignore: split_list(&self.ignore),
        }
    }
}

/// What IAM is asked, and the policy the answers are judged by: shared by
/// `scan` and `baseline`, so a baseline accepts IAM findings too.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct IamArgs {
    /// An account whose keys are expected (repeatable); enables KW005.
    #[arg(long = "allowed-account", value_name = "ID", value_parser = parse_account)]
    pub(crate) allowed_accounts: Vec<String>,
    /// Take IAM facts from an inventory file (`keyward inventory pull`);
    /// overrides `[iam] inventory`.
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    pub(crate) inventory: Option<PathBuf>,
    /// No IAM facts, even where `[iam] inventory` names a file.
    #[arg(long, conflicts_with_all = ["inventory", "live"])]
    pub(crate) no_iam: bool,
    /// Ask IAM about the keys found, with the AWS credential chain.
    #[arg(long)]
    pub(crate) live: bool,
    /// Sign sts:GetCallerIdentity with each found key and secret (sends
    /// signatures made with the secret to STS, nothing else). A pair STS
    /// accepts is a use IAM records: later runs read that key as used today
    /// (this run reads IAM first).
    #[arg(long)]
    pub(crate) verify_pairs: bool,
    /// With --live: ask AWS's policy simulator what each exposed Active
    /// key's owner may do (iam:CreateAccessKey, s3:GetObject, …; permissions
    /// boundaries applied), or read its policies where simulation is
    /// refused (approximate). Read calls only. Sets iam.can and KW014.
    #[arg(long, requires = "live")]
    pub(crate) blast_radius: bool,
    /// IAM requests in flight.
    #[arg(long, default_value_t = crate::DEFAULT_CONCURRENCY, value_name = "N", value_parser = parse_concurrency)]
    pub(crate) concurrency: usize,
    /// With --live: keep IAM's answers on disk this long (90s, 15m, 12h,
    /// 7d) and reuse them. Never holds secrets. Default: no cache.
    #[arg(long, value_name = "DURATION", requires = "live", value_parser = parse_ttl)]
    pub(crate) cache_ttl: Option<Duration>,
    /// Where --cache-ttl keeps its files [default: $KEYWARD_CACHE_DIR,
    /// $XDG_CACHE_HOME/keyward or ~/.cache/keyward].
    #[arg(long, value_name = "DIR", requires = "cache_ttl")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Measure key ages from this instant instead of now (reproducible runs).
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub(crate) now: Option<jiff::Timestamp>,
}

/// Where the content comes from when it is not the working tree.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct GitArgs {
    /// Scan the staged content of the index (what will be committed), not
    /// the working tree; with PATHs, those files as staged (pre-commit).
    #[arg(long, conflicts_with_all = ["since", "history"])]
    pub(crate) staged: bool,
    /// Scan the files changed between the merge base of REV and HEAD, and
    /// report findings on added or changed lines only.
    #[arg(long, value_name = "REV", conflicts_with = "history")]
    pub(crate) since: Option<String>,
    /// With --since: report every finding in the changed files.
    #[arg(long, requires = "since")]
    pub(crate) all_lines: bool,
    /// Scan every blob of every commit reachable from HEAD, each once.
    #[arg(long)]
    pub(crate) history: bool,
    /// With --history: the commits of a range (`A..B`) instead of HEAD's.
    #[arg(
        long,
        value_name = "A..B",
        requires = "history",
        conflicts_with = "all_refs"
    )]
    pub(crate) history_range: Option<String>,
    /// With --history: the commits reachable from any ref.
    #[arg(long, requires = "history")]
    pub(crate) all_refs: bool,
    /// With --staged: a suppression the commit adds (ignore comment,
    /// `[[allow]]`, rule off, baseline entry…) fails the hook (KW015), as
    /// it fails the pull request's gate. Without it the commit's own
    /// policy applies and the suppression is reported, not failed.
    #[arg(long, requires = "staged")]
    pub(crate) strict_suppressions: bool,
}

impl GitArgs {
    /// A commit (`--staged`) without `--strict-suppressions`: its own
    /// suppressions apply and KW015 reports them without failing.
    fn lenient_suppressions(&self) -> bool {
        self.staged && !self.strict_suppressions
    }

    /// The scan of the git view these flags ask for (none: the work tree).
    fn view<'a>(&self, scan: crate::Scan<'a>, paths: &[PathBuf]) -> crate::Scan<'a> {
        if self.staged {
            scan.staged(!default_paths(paths))
        } else if let Some(rev) = &self.since {
            scan.since(rev.clone(), self.all_lines)
        } else if self.history {
            scan.history(self.history_range.clone(), self.all_refs)
        } else {
            scan
        }
    }
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a number from 1 to 256")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Parses `90`, `90s`, `15m`, `12h` or `7d`.
fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 90s, 15m, 12h or 7d"))?;
    let secs = match unit {
        "" | "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3_600),
        "d" => n.checked_mul(86_400),
        _ => return Err(format!("unknown unit `{unit}` (use s, m, h or d)")),
    };
    secs.map(Duration::from_secs)
        .ok_or_else(|| format!("`{s}` is too long"))
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
    /// Standard output is a terminal: colour and a terminal's layout.
    pub stdout_is_tty: bool,
    /// `NO_COLOR` is set.
    pub no_color: bool,
    /// Columns to lay out for; `None` asks the terminal.
    pub width: Option<usize>,
}

/// Runs a parsed command and returns its exit code. Reports go to
/// `stdout` (or the files the command names), warnings that are not part
/// of a report to `stderr`, both masked. `Err` carries a message for exit
/// code 2 ([`EXIT_ERROR`]); print it through [`crate::redacted`], like
/// every other output.
pub fn run(
    cli: Cli,
    term: Terminal,
    progress: &Progress,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, miette::Report> {
    match cli.command {
        Command::Scan(args) => {
            if let Some(list) = &args.repos {
                return repos::run(&args, list, stdout, stderr);
            }
            let policy = load_policy(&args)?;
            run_scan(*args, policy, term, progress, stdout)
        }
        Command::Baseline(args) => run_baseline(&args, progress, stdout),
        Command::Rules {
            facts,
            format,
            config,
        } => run_rules(facts, format, config, stdout),
        Command::Explain { rule } => run_explain(&rule, stdout),
        Command::Config(ConfigCommand::Show { path, config }) => config_show(path, config, stdout),
        Command::Config(ConfigCommand::Init { path, force }) => config_init(&path, force, stdout),
        Command::Report(args) => run_report(&args, stdout),
        Command::Fix(args) => fix::run(&args, progress, stdout),
        Command::Plan(args) => plan::run(&args, progress, stdout),
        Command::Rotate(args) => rotate::run(&args, progress, stdout),
        Command::Lsp => run_lsp(),
        Command::Inventory { command } => inventory::run(command, progress, stdout),
    }
}

/// `keyward baseline`: today's findings, written for later scans to accept.
fn run_baseline(
    args: &BaselineArgs,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let cwd = current_dir()?;
    // Today's findings, before any baseline accepts them.
    let policy = policy(crate::PolicyOptions {
        config: args.config.clone(),
        baseline: crate::BaselineChoice::Ignored,
        start: first_path(&args.paths),
        from: None,
        ..Default::default()
    })?;
    let configured_path = policy.config.baseline.clone();
    let output = args
        .output
        .clone()
        .or_else(|| configured_path.clone())
        .unwrap_or_else(|| PathBuf::from(".keyward-baseline.json"));
    // A baseline no configuration names is used by nothing yet.
    let configured = configured_path.as_deref().is_some_and(|b| {
        b == output || std::fs::canonicalize(b).ok() == std::fs::canonicalize(&output).ok()
    });
    let iam = iam_options(&args.iam, policy.iam.clone())?;
    let out = crate::Scan::new(&policy)
        .paths(args.paths.clone())
        .no_ignore(args.no_ignore)
        .include_placeholders(args.include_placeholders)
        .allowed_accounts(args.iam.allowed_accounts.clone())
        .iam(iam)
        .progress(progress)
        .run()?;
    let baseline = Baseline::from_output(&out);
    // Entries are matched by fingerprint: a masked path (a file
    // named like a secret) costs nothing.
    write_file(&output, &baseline.to_json()?)?;
    let n = baseline.findings.len();
    write_out(
        stdout,
        &format!(
            "keyward: wrote {n} finding{} to {}\n",
            crate::shown::s(n),
            crate::walk::display_path(&output, &cwd)
        ),
    )?;
    if !configured {
        let shown = crate::walk::display_path(&output, &cwd);
        write_out(
            stdout,
            &format!(
                "keyward: scans use it with `--baseline {shown}`; to share it with the \
                 hook and the Action, add `baseline = \"{shown}\"` under `[scan]` in \
                 keyward.toml\n"
            ),
        )?;
    }
    Ok(EXIT_OK)
}

/// `keyward rules`: the rules (or, with `--facts`, the facts they read).
fn run_rules(
    facts: bool,
    format: RulesFormat,
    config: Option<PathBuf>,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let policy = policy(crate::PolicyOptions {
        config,
        baseline: crate::BaselineChoice::Ignored,
        ..Default::default()
    })?;
    let catalog = match (facts, format) {
        (true, _) => Catalog::Facts,
        (false, RulesFormat::Table) => Catalog::Table,
        (false, RulesFormat::Markdown) => Catalog::Markdown,
        (false, RulesFormat::Summary) => Catalog::Summary,
    };
    write_out(stdout, &report::rules::catalog(&policy, catalog))?;
    Ok(EXIT_OK)
}

/// `keyward explain RULE`: one rule's documentation.
fn run_explain(rule: &str, stdout: &mut dyn Write) -> Result<u8, miette::Report> {
    let policy = policy(crate::PolicyOptions {
        baseline: crate::BaselineChoice::Ignored,
        ..Default::default()
    })?;
    let Some(text) = report::rules::explain(&policy, rule) else {
        return Err(miette::miette!(
            help = "`keyward rules` lists them",
            "no rule `{rule}`"
        ));
    };
    write_out(stdout, &text)?;
    Ok(EXIT_OK)
}

/// `keyward config show`: the configuration in effect, defaults included.
fn config_show(
    path: PathBuf,
    config: Option<PathBuf>,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let policy = policy(crate::PolicyOptions {
        config,
        baseline: crate::BaselineChoice::Ignored,
        start: path,
        from: None,
        ..Default::default()
    })?;
    write_out(stdout, &policy.config.show())?;
    Ok(EXIT_OK)
}

/// `keyward config init`: the starter configuration.
fn config_init(path: &Path, force: bool, stdout: &mut dyn Write) -> Result<u8, miette::Report> {
    if path.exists() && !force {
        return Err(miette::miette!(
            help = "pass --force to overwrite it",
            "{} already exists",
            crate::shown::shown_path(path)
        ));
    }
    std::fs::write(path, report::rules::starter_config()?)
        .map_err(|e| miette::miette!("cannot write {}: {e}", crate::shown::shown_path(path)))?;
    write_out(
        stdout,
        &format!("keyward: wrote {}\n", crate::shown::shown_path(path)),
    )?;
    Ok(EXIT_OK)
}

/// `keyward lsp`: the editor server on standard input and output.
fn run_lsp() -> Result<u8, miette::Report> {
    let (connection, io) = lsp_server::Connection::stdio();
    crate::lsp::serve(&connection)?;
    drop(connection);
    io.join()
        .map_err(|e| miette::miette!("language server input/output: {e}"))?;
    Ok(EXIT_OK)
}

/// `3 accounts`, `1 key`.
fn counted(count: usize, one: &str) -> String {
    format!("{count} {one}{}", crate::shown::s(count))
}

fn run_report(args: &ReportArgs, stdout: &mut dyn Write) -> Result<u8, miette::Report> {
    use report::audit;
    let mut docs = Vec::new();
    for input in &args.inputs {
        let name = crate::shown::shown_path(input);
        let text = if input.as_os_str() == "-" {
            crate::named_file::read_capped(std::io::stdin(), crate::named_file::MAX_NAMED_FILE)
        } else {
            crate::named_file::read_text(input, crate::named_file::MAX_NAMED_FILE)
        }
        .map_err(|e| miette::miette!("cannot read {name}: {e}"))?;
        let doc = report::contract::Document::parse(&text).map_err(|e| {
            miette::miette!(
                help = "make it with `keyward scan --format json -o FILE`",
                "cannot read {name}: {e}"
            )
        })?;
        // Named by its file when the scan did not name its repository.
        let fallback = input
            .file_stem()
            .map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
        docs.push((fallback, doc, name));
    }
    let audit = match docs.as_slice() {
        [(_, doc, name)] => {
            report::audit_of(doc).map_err(|e| miette::miette!("cannot read {name}: {e}"))?
        }
        _ => report::audit_of_many(
            &docs
                .iter()
                .map(|(f, d, _)| (f.clone(), d.clone()))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| miette::miette!("cannot merge the reports: {e}"))?,
    };
    let rendered = match args.format {
        ReportFormat::Markdown => audit::markdown(&audit),
        ReportFormat::Html => crate::report::html::audit(&audit)?,
        ReportFormat::Json => audit::json(&audit)?,
    };
    match &args.output {
        Some(path) => write_file(path, &rendered)?,
        None => write_out(stdout, &rendered)?,
    }
    Ok(EXIT_OK)
}

fn current_dir() -> Result<PathBuf, miette::Report> {
    std::env::current_dir().map_err(|e| miette::miette!("cannot read the current directory: {e}"))
}

/// The configuration, rules, baseline and inventory of a scan: from
/// `--policy-from REV` when given, else from the work tree.
fn load_policy(args: &ScanArgs) -> Result<crate::PolicySet, miette::Report> {
    policy(crate::PolicyOptions {
        config: args.config.clone(),
        baseline: match &args.baseline {
            Some(p) => crate::BaselineChoice::File(p.clone()),
            None => crate::BaselineChoice::Configured,
        },
        start: first_path(&args.paths),
        // A commit's own suppressions are honoured (and reported as KW015,
        // which the pull request's gate enforces): the work tree's policy.
        from: if args.git.lenient_suppressions() {
            None
        } else {
            args.policy_from.clone()
        },
        selection: args.select.selection(),
    })
}

/// [`crate::PolicySet::load`] from the current directory.
pub(super) fn policy(opts: crate::PolicyOptions) -> Result<crate::PolicySet, miette::Report> {
    crate::PolicySet::load(&current_dir()?, &opts).map_err(miette::Report::new)
}

/// Where the configuration is looked for: the first path named.
pub(super) fn first_path(paths: &[PathBuf]) -> PathBuf {
    paths.first().cloned().unwrap_or_else(|| PathBuf::from("."))
}

/// IAM options from the flags; `default` when they name no source.
fn iam_options(
    iam: &IamArgs,
    default: crate::SourceChoice,
) -> Result<crate::IamOptions, miette::Report> {
    Ok(crate::IamOptions {
        source: match (&iam.inventory, iam.live, iam.no_iam) {
            (_, _, true) => crate::SourceChoice::None,
            (Some(path), _, _) => crate::SourceChoice::Inventory(path.clone()),
            (None, true, _) => crate::SourceChoice::Live,
            (None, false, false) => default,
        },
        verify_pairs: iam.verify_pairs,
        blast_radius: iam.blast_radius,
        concurrency: iam.concurrency,
        now: iam.now,
        cache: match iam.cache_ttl {
            None => None,
            Some(ttl) => Some(crate::CacheOptions {
                dir: iam
                    .cache_dir
                    .clone()
                    .or_else(crate::CacheOptions::default_dir)
                    .ok_or_else(|| {
                        miette::miette!(
                            "--cache-ttl needs a cache directory: set --cache-dir, KEYWARD_CACHE_DIR or HOME"
                        )
                    })?,
                ttl,
            }),
        },
    })
}

/// The most worker threads `--threads` gets.
pub(crate) const MAX_THREADS: usize = 256;

fn run_scan(
    args: ScanArgs,
    policy: crate::PolicySet,
    term: Terminal,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    // Thousands of threads only cost start-up and memory; past the cap the
    // scan is not faster on any machine keyward runs on.
    let threads_note = (args.threads > MAX_THREADS).then(|| crate::Warning {
        kind: crate::finding::ProblemKind::Config,
        path: String::new(),
        message: format!(
            "--threads {} is more than {MAX_THREADS}; using {MAX_THREADS}",
            args.threads
        ),
    });
    let emitter = report::emit::by_name(&args.format)
        .ok_or_else(|| miette::miette!("unknown format `{}`", args.format))?;
    let scan = crate::Scan::new(&policy).paths(args.paths.clone());
    let mut scan = args
        .git
        .view(scan, &args.paths)
        .suppressions_fail(!args.git.lenient_suppressions())
        .threads(args.threads.min(MAX_THREADS))
        .file_timeout(
            (args.file_timeout > 0.0)
                .then(|| Duration::try_from_secs_f64(args.file_timeout).ok())
                .flatten(),
        )
        .max_file_size(args.max_file_size)
        .no_ignore(args.no_ignore)
        .include_placeholders(args.include_placeholders)
        .allowed_accounts(args.iam.allowed_accounts.clone())
        .iam(iam_options(&args.iam, policy.iam.clone())?)
        .notes(threads_note.into_iter().collect())
        // Reports say what they are about; the human formats do not need
        // it, and a pre-commit run should not pay two git calls for it.
        .identify(emitter.identifies())
        .repository(args.repository.clone())
        .progress(progress);
    if let Some(f) = args.fail_on {
        scan = scan.fail_on(f.threshold());
    }
    let mut out = scan.run()?;
    if args.no_hints {
        out.next = crate::scan::Next::default();
    }
    let failing = out.gate.map_or(0, |g| g.failing);
    let to_file = args.output.is_some();
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
    let cwd = std::env::current_dir().ok();
    let ctx = report::emit::Context {
        rules: &policy.rules,
        style: Style { color, width },
        root: cwd.as_deref(),
    };
    let text = emitter.render(&out, &ctx)?;
    match &args.output {
        Some(path) => write_file(path, &text)?,
        None => write_out(stdout, &text)?,
    }
    if let Some(side) = emitter.side_output(&out) {
        append_side_output(&side)?;
    }
    Ok(if failing > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

/// The file a format writes beside its output (the job summary) is named
/// by the environment; other steps write to the same file, so it is
/// appended to, never truncated.
fn append_side_output(side: &report::emit::SideOutput) -> Result<(), miette::Report> {
    let Some(path) = std::env::var_os(side.env).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(crate::redacted(&side.text).as_bytes()))
        .map_err(|e| {
            miette::miette!(
                "cannot append {} to {} ({}): {e}",
                side.what,
                crate::shown::shown_path(&path),
                side.env
            )
        })
}

/// Writes what keyward prints, every suspect token masked: the one last
/// step every report, listing and message to stdout passes.
pub(crate) fn write_out(w: &mut dyn Write, text: &str) -> Result<(), miette::Report> {
    let text = crate::redacted(text);
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`keyward rules | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(miette::miette!("cannot write output: {e}")),
    }
}

/// Writes a report to the file `--output` names, masked as [`write_out`]
/// masks what goes to stdout.
pub(crate) fn write_file(path: &std::path::Path, text: &str) -> Result<(), miette::Report> {
    std::fs::write(path, crate::redacted(text).as_bytes())
        .map_err(|e| miette::miette!("cannot write {}: {e}", crate::shown::shown_path(path)))
}

/// Whether the paths are the default (`.`), not files the user listed.
fn default_paths(paths: &[PathBuf]) -> bool {
    paths.is_empty() || paths.iter().all(|p| p == Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_syntax() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_ttl("1w").is_err());
        assert!(parse_ttl("h").is_err());
        assert!(parse_ttl("-5m").is_err());
        assert!(parse_ttl("99999999999999999999d").is_err());
    }
}
