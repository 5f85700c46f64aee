//! `keyward rotate`: scan with live IAM, plan, then carry the plan out
//! (with `--apply`) or say what would be done.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Progress;
use crate::rotate::{
    Event, EventKind, Journal, Outcome, Repository, RotateError, RotateOptions, Rotation,
    StoreSpec, UserEnd,
};

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Files and directories whose keys to rotate.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Where each user's new key goes: `secretsmanager:NAME` (a JSON
    /// object with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or
    /// `ssm:/PREFIX/NAME` (a SecureString holding the same JSON); NAME may
    /// hold {user} and {account}.
    #[arg(
        long,
        value_name = "STORE",
        default_value = "secretsmanager:keyward/{user}"
    )]
    pub store: StoreSpec,
    /// Carry the rotation out. Without it nothing changes: the steps are
    /// said.
    #[arg(long)]
    pub apply: bool,
    /// Delete the keys an earlier run deactivated, where IAM shows no use
    /// since.
    #[arg(long)]
    pub finish: bool,
    /// Delete deactivated keys on a run this many days after
    /// deactivation (unused since), without --finish.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub delete_after: Option<u32>,
    /// Where a user's two keys are both Active and in the repository,
    /// deactivate and delete the least recently used before its
    /// replacement exists (whatever uses it stops working meanwhile).
    #[arg(long)]
    pub allow_disruption: bool,
    /// The journal of the rotation (no secrets) [default:
    /// GIT_DIR/keyward/rotation.json].
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Configuration file (default: keyward.toml found from the first path up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// IAM is always asked live (the AWS credential chain); accepted for
    /// the symmetry with `scan --live`.
    #[arg(long)]
    pub live: bool,
    /// Ask what each exposed key may do first (users whose key can make
    /// keys or attach policies are rotated first).
    #[arg(long)]
    pub blast_radius: bool,
    /// IAM requests in flight while scanning.
    #[arg(long, default_value_t = crate::DEFAULT_CONCURRENCY, value_name = "N", value_parser = super::parse_concurrency)]
    pub concurrency: usize,
    /// How long a new key may take before STS accepts it (seconds).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub verify_patience: u64,
    /// The clock (journal times, --delete-after, key ages).
    #[arg(long, value_name = "RFC3339", hide = true)]
    pub now: Option<jiff::Timestamp>,
    /// Tests: stop as if killed after N effects.
    #[arg(long, value_name = "N", hide = true)]
    pub interrupt_after: Option<usize>,
}

/// Exit 0 when every user is rotated, waits for `--finish`, or was
/// planned; 1 when one needs a person (said why); 2 on errors, missing
/// permissions included (nothing changed).
pub(super) fn run(
    args: &RotateArgs,
    progress: &Progress,
    stdout: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let cwd = super::current_dir()?;
    let first = super::first_path(&args.paths);
    // Every place a key is configured counts, accepted ones included.
    let policy = super::policy(crate::PolicyOptions {
        config: args.config.clone(),
        baseline: crate::BaselineChoice::Ignored,
        start: first.clone(),
        from: None,
        ..Default::default()
    })?;
    let journal_path = match &args.journal {
        Some(p) => p.clone(),
        None => default_journal(&first)?,
    };
    let _lock = lock(&journal_path)?;
    let journal = Journal::open(&journal_path)?;
    let mut journal = if args.apply {
        journal
    } else {
        journal.detached()
    };
    let aws = Arc::new(crate::aws::Aws::connect()?);
    let api: Arc<dyn crate::IamApi> = aws.clone();
    let out = crate::Scan::new(&policy)
        .paths(args.paths.clone())
        .iam(crate::IamOptions {
            source: crate::SourceChoice::Api(crate::ApiHandle(api.clone())),
            verify_pairs: false,
            concurrency: args.concurrency,
            now: args.now,
            cache: None,
            blast_radius: args.blast_radius,
        })
        .progress(progress)
        .run()?;
    let plan = crate::plan::plan(&out, &policy.rules, &|_, _| None);
    let targets = crate::rotate::targets(&plan, &out, &journal);
    let options = RotateOptions {
        store: args.store.clone(),
        apply: args.apply,
        finish: args.finish,
        delete_after_days: args.delete_after,
        allow_disruption: args.allow_disruption,
        now: args.now,
        verify_patience: std::time::Duration::from_secs(args.verify_patience),
        interrupt_after: args.interrupt_after,
    };
    let mut head = String::new();
    if !args.apply {
        head.push_str("keyward rotate: a dry run, nothing changes; `--apply` carries it out\n");
    }
    if targets.is_empty() && plan.ownerless.is_empty() {
        head.push_str("keyward: no IAM user has a key in the repository: nothing to rotate\n");
        super::write_out(stdout, &head)?;
        return Ok(0);
    }
    super::write_out(stdout, &head)?;
    let mut repository = Repository::new(&policy, args.paths.clone(), cwd);
    let secretsmanager;
    let ssm;
    let store: &dyn crate::SecretStore = match args.store.kind {
        crate::iam::api::StoreKind::SecretsManager => {
            secretsmanager = crate::aws::SecretsManager::new(&aws);
            &secretsmanager
        }
        crate::iam::api::StoreKind::Ssm => {
            ssm = crate::aws::Ssm::new(&aws);
            &ssm
        }
    };
    let mut rotation = Rotation {
        api: api.as_ref(),
        store,
        references: &mut repository,
        journal: &mut journal,
        options: &options,
    };
    let mut written: Result<(), miette::Report> = Ok(());
    let mut say = |e: &Event| {
        if written.is_ok() {
            written = super::write_out(stdout, &event_line(e));
        }
    };
    let result = rotation.run(&targets, &plan.ownerless, &mut say);
    written?;
    match result {
        Ok(outcome) => {
            super::write_out(stdout, &summary(&outcome, args.apply, &journal_path))?;
            Ok(if outcome.complete() { 0 } else { 1 })
        }
        Err(RotateError::Interrupted) => {
            super::write_out(
                stdout,
                "keyward: interrupted (--interrupt-after); run again to resume\n",
            )?;
            Ok(3)
        }
        Err(e) => Err(e.into()),
    }
}

/// `<git dir>/keyward/rotation.json`: outside the work tree, where no scan
/// reads it and no commit takes it.
fn default_journal(first: &Path) -> Result<PathBuf, miette::Report> {
    let dir = if first.is_dir() {
        first.to_path_buf()
    } else {
        first
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--absolute-git-dir"])
        .current_dir(&dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .ok_or_else(|| {
            miette::miette!(
                "{} is not in a git repository: name the rotation journal with --journal FILE, outside what you scan",
                crate::shown::shown_path(&dir)
            )
        })?;
    let git_dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(git_dir).join("keyward").join("rotation.json"))
}

/// One rotation at a time per journal: a lock the system releases when
/// the process ends, however it ends.
fn lock(journal: &Path) -> Result<std::fs::File, miette::Report> {
    if let Some(dir) = journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| miette::miette!("cannot create {}: {e}", crate::shown::shown_path(dir)))?;
    }
    let path = journal.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| miette::miette!("cannot open {}: {e}", crate::shown::shown_path(&path)))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(miette::miette!(
            "another `keyward rotate` is running with the journal {}: wait for it",
            crate::shown::shown_path(journal)
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(miette::miette!(
            "cannot lock {}: {e}",
            crate::shown::shown_path(&path)
        )),
    }
}

fn event_line(e: &Event) -> String {
    let text = crate::shown::printable(&e.text);
    match e.kind {
        EventKind::Begin => format!(
            "\n{} ({}): {text}\n",
            crate::shown::printable(&e.user),
            e.account
        ),
        EventKind::Step => format!("  - {text}\n"),
        EventKind::Note => format!("    {text}\n"),
        EventKind::Command => format!("    $ {text}\n"),
        EventKind::Stop => {
            let text = crate::shown::printable_keeping_breaks(&e.text);
            let mut lines = text.lines();
            let mut s = format!("  stopped: {}\n", lines.next().unwrap_or(""));
            for l in lines {
                s.push_str(&format!("    {l}\n"));
            }
            s
        }
    }
}

fn summary(outcome: &Outcome, apply: bool, journal: &Path) -> String {
    let mut s = String::new();
    let (mut done, mut waiting, mut stopped, mut planned) = (0, 0, 0, 0);
    let mut names = Vec::new();
    for u in &outcome.users {
        match &u.end {
            UserEnd::Done => done += 1,
            UserEnd::Waiting(_) => waiting += 1,
            UserEnd::Planned => planned += 1,
            UserEnd::Stopped(_) => {
                stopped += 1;
                names.push(crate::shown::printable(&u.user).into_owned());
            }
        }
    }
    for r in &outcome.refused {
        s.push_str(&format!(
            "\nkeyward: not rotated: {}\n",
            crate::shown::printable(r)
        ));
    }
    let users = outcome.users.len();
    let mut parts = Vec::new();
    if apply {
        parts.push(format!("{done} rotated"));
        if waiting > 0 {
            parts.push(format!("{waiting} waiting for --finish"));
        }
    } else {
        parts.push(format!("{planned} to rotate"));
    }
    if stopped > 0 {
        parts.push(format!("{stopped} stopped ({})", names.join(", ")));
    }
    if !outcome.refused.is_empty() {
        parts.push(format!(
            "{} key{} not rotated",
            outcome.refused.len(),
            crate::shown::s(outcome.refused.len())
        ));
    }
    s.push_str(&format!(
        "\nkeyward: {users} user{}: {}; {} AWS request{}{}\n",
        crate::shown::s(users),
        parts.join(", "),
        outcome.calls,
        crate::shown::s(outcome.calls),
        if apply {
            format!("; journal {}", crate::shown::shown_path(journal))
        } else {
            String::new()
        }
    ));
    s
}
