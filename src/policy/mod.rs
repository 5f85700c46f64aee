//! The policy a scan is judged by: the configuration, the custom rules of its
//! `rules-dir` and the baseline. It comes from the work tree, or, with
//! `--policy-from REV`, from a git revision a change cannot rewrite. The
//! `added` module compares the policy of a change with its base's (KW015).

pub mod added;
pub(crate) mod attributes;
pub(crate) mod tree;

use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigError};
use crate::git::{GitError, Repo};
use crate::rules::RuleSet;
use crate::rules::eval::RuleSetError;
use crate::suppress::{Baseline, BaselineError};

pub use crate::git::Tree;

/// A configuration, its rules and its baseline, read together.
#[derive(Debug)]
pub struct PolicySet {
    /// The configuration (`keyward.toml`), or the defaults without one.
    pub config: Config,
    /// The built-in rules with the configuration's settings, selection and
    /// the `rules-dir` rules.
    pub rules: RuleSet,
    /// The baseline of accepted findings, when there is one.
    pub baseline: Option<Baseline>,
    /// The files it was read from.
    pub files: PolicyFiles,
    /// Where IAM facts come from unless the caller says: `[iam] inventory`.
    pub iam: crate::iam::SourceChoice,
    /// What was named explicitly, to read a change's policy alike (KW015).
    pub named: Named,
    /// Warnings from reading it, reported with the scan's.
    pub notes: Vec<crate::Warning>,
}

/// The files a policy was read from, as repository paths with their text.
#[derive(Debug, Default, Clone)]
pub struct PolicyFiles {
    /// The configuration file.
    pub config: Option<PolicyFile>,
    /// The baseline file.
    pub baseline: Option<PolicyFile>,
    /// The `rules-dir` directory (repository path) and its rule files.
    pub rules_dir: Option<String>,
    /// The rule files of `rules_dir`.
    pub rules: Vec<PolicyFile>,
    /// The `[iam] inventory` file.
    pub inventory: Option<PolicyFile>,
}

/// One file of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFile {
    /// Path in the repository (`/`-separated).
    pub path: String,
    /// Its text.
    pub text: String,
}

/// Why a policy could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PolicyError {
    /// Reading it from git failed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),
    /// The configuration is invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(Box<ConfigError>),
    /// A rule file is invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rules(#[from] RuleSetError),
    /// `--select`/`--ignore` names no rule.
    #[error(transparent)]
    #[diagnostic(help("`keyward rules` lists every rule's ID and name"))]
    Selection(#[from] crate::rules::select::UnknownSelector),
    /// The baseline cannot be read.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A file named for a policy read from git lies outside the repository.
    #[error("{what} {path} is outside the repository, so it cannot be read from {tree}")]
    #[diagnostic(help("name a file inside the repository, or leave out --policy-from"))]
    Outside {
        /// What the file is (`configuration`, `baseline`, `rules-dir`,
        /// `inventory`).
        what: &'static str,
        /// The path as named.
        path: String,
        /// The tree it was to be read from.
        tree: String,
    },
    /// A policy file in a tree cannot be read.
    #[error("{path} at {tree}: {message}")]
    Unreadable {
        /// Its path in the repository.
        path: String,
        /// The tree.
        tree: String,
        /// What git said.
        message: String,
    },
    /// `--policy-from REV` could not be read.
    #[error("--policy-from {rev}: {source}")]
    #[diagnostic(help("--policy-from reads the policy from git"))]
    PolicyFrom {
        /// The revision named.
        rev: String,
        /// What git said.
        source: GitError,
    },
}

impl From<Box<ConfigError>> for PolicyError {
    fn from(e: Box<ConfigError>) -> Self {
        PolicyError::Config(e)
    }
}

/// Which baseline a policy carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BaselineChoice {
    /// The configuration's `[scan] baseline`. A file it names that does
    /// not exist yet accepts nothing, and says so in a warning.
    #[default]
    Configured,
    /// This file (`--baseline FILE`): it must exist.
    File(PathBuf),
    /// None: every finding is reported (`keyward baseline`, `plan`, the
    /// editor server).
    Ignored,
}

/// How to find the policy a scan is judged by: everything a command may
/// name explicitly; the rest is found the way every command finds it.
#[derive(Debug, Clone, Default)]
pub struct PolicyOptions {
    /// `--config FILE`; otherwise `keyward.toml` (or `.keyward.toml`) is
    /// looked for from `start` up.
    pub config: Option<PathBuf>,
    /// Which baseline applies.
    pub baseline: BaselineChoice,
    /// The first path scanned: where the configuration is looked for.
    pub start: PathBuf,
    /// `--policy-from REV`: read the policy from that revision.
    pub from: Option<String>,
    /// `--select`, `--extend-select`, `--ignore`: applied after the
    /// configuration's own selection.
    pub selection: crate::rules::select::Selection,
}

impl PolicySet {
    /// The policy of a scan run in `cwd`: the one entry point every command
    /// and the editor server use, so a configuration, its rules, its
    /// baseline and its inventory mean the same everywhere.
    pub fn load(cwd: &Path, opts: &PolicyOptions) -> Result<PolicySet, PolicyError> {
        let start = if opts.start.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            opts.start.clone()
        };
        let wanted = Named {
            config: opts.config.clone(),
            baseline: match &opts.baseline {
                BaselineChoice::File(p) => Some(p.clone()),
                _ => None,
            },
            start: start.clone(),
        };
        if let Some(rev) = &opts.from {
            let at = |source| PolicyError::PolicyFrom {
                rev: rev.clone(),
                source,
            };
            let repo = Repo::discover(cwd).map_err(at)?;
            let tree = Tree::commit(&repo, rev).map_err(at)?;
            let mut policy = PolicySet::from_tree(&repo, &tree, &wanted)?;
            if opts.baseline == BaselineChoice::Ignored {
                policy.baseline = None;
            }
            opts.selection.apply(&mut policy.rules.rules)?;
            return Ok(policy);
        }
        let found = match &opts.config {
            Some(p) => Some(within(cwd, p)),
            None => config::discover(&within(cwd, &start)),
        };
        let config = match found {
            Some(p) => config::load(&p)?,
            None => Config::default(),
        };
        let mut rules = RuleSet::configured(&config)?;
        opts.selection.apply(&mut rules.rules)?;
        let mut notes = Vec::new();
        let baseline = match (&opts.baseline, &config.baseline) {
            (BaselineChoice::Ignored, _) | (BaselineChoice::Configured, None) => None,
            (BaselineChoice::File(p), _) => Some(Baseline::load(&within(cwd, p))?),
            (BaselineChoice::Configured, Some(p)) if !p.exists() => {
                notes.push(crate::Warning {
                    kind: crate::finding::ProblemKind::Config,
                    path: crate::walk::display_path(p, cwd),
                    message: "the baseline `[scan] baseline` names does not exist; nothing is accepted by baseline (make it with `keyward baseline`)".into(),
                });
                None
            }
            (BaselineChoice::Configured, Some(p)) => Some(Baseline::load(p)?),
        };
        let mut policy = PolicySet::from_work_tree(config, rules, baseline, wanted, cwd);
        policy.notes = notes;
        Ok(policy)
    }
}

/// What the caller names explicitly; everything else is found in the tree.
#[derive(Debug, Default, Clone)]
pub struct Named {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--baseline FILE`.
    pub baseline: Option<PathBuf>,
    /// The first scanned path: where the configuration is looked for.
    pub start: PathBuf,
}

impl PolicySet {
    /// A policy read from the work tree. Its inventory path is shown (and
    /// read) relative to `cwd`.
    pub fn from_work_tree(
        config: Config,
        rules: RuleSet,
        baseline: Option<Baseline>,
        wanted: Named,
        cwd: &Path,
    ) -> PolicySet {
        let iam = config
            .inventory
            .as_deref()
            .map_or(crate::iam::SourceChoice::None, |p| {
                crate::iam::SourceChoice::Inventory(PathBuf::from(crate::walk::display_path(
                    p, cwd,
                )))
            });
        PolicySet {
            config,
            rules,
            baseline,
            files: PolicyFiles::default(),
            iam,
            named: wanted,
            notes: Vec::new(),
        }
    }

    /// The work tree's policy with every finding reported: no baseline and
    /// nothing asked of a change (what `baseline`, `plan` and the editor
    /// server scan with).
    pub fn unfiltered(config: Config, rules: RuleSet, cwd: &Path) -> PolicySet {
        PolicySet::from_work_tree(config, rules, None, Named::default(), cwd)
    }

    /// The policy as a git tree holds it. `keyward.toml` is looked for as
    /// in the work tree (from the scanned path up to the repository's top);
    /// a tree without one gives the defaults.
    pub fn from_tree(repo: &Repo, tree: &Tree, wanted: &Named) -> Result<PolicySet, PolicyError> {
        let top = repo.at_top();
        let mut files = PolicyFiles::default();
        let config = tree_config(repo, &top, tree, wanted, &mut files)?;
        let mut rule_files = Vec::new();
        if let Some(dir) = &config.rules_dir {
            let dir = in_repo(repo, dir, "rules-dir", tree)?;
            for (path, text) in tree::read_dir(&top, tree, &dir)? {
                if crate::rules::eval::is_rule_file(&path) {
                    rule_files.push((format!("{path} at {tree}"), text.clone()));
                    files.rules.push(PolicyFile { path, text });
                }
            }
            files.rules_dir = Some(dir);
        }
        let rules = RuleSet::configured_with(&config, &rule_files)?;
        let baseline = tree_baseline(repo, &top, tree, wanted, &config, &mut files)?;
        if let Some(p) = &config.inventory {
            let path = in_repo(repo, p, "inventory", tree)?;
            match tree::read(&top, tree, &path)? {
                Some(text) => files.inventory = Some(PolicyFile { path, text }),
                None => {
                    return Err(PolicyError::Unreadable {
                        path,
                        tree: tree.to_string(),
                        message: "the inventory `[iam] inventory` names is not there".into(),
                    });
                }
            }
        }
        // The inventory is read from the same revision as the policy: a
        // change cannot make its keys look rotated.
        let iam = match &files.inventory {
            Some(f) => crate::iam::SourceChoice::InventoryText {
                origin: format!("{} at {tree}", f.path),
                text: f.text.clone(),
            },
            None => crate::iam::SourceChoice::None,
        };
        Ok(PolicySet {
            config,
            rules,
            baseline,
            files,
            iam,
            named: wanted.clone(),
            notes: Vec::new(),
        })
    }
}

/// The configuration of `tree`: the one `wanted` names (which must be
/// there), else the one discovered from its start directory, else the
/// defaults. Its file goes into `files`.
fn tree_config(
    repo: &Repo,
    top: &Repo,
    tree: &Tree,
    wanted: &Named,
    files: &mut PolicyFiles,
) -> Result<Config, PolicyError> {
    let (config_path, found) = match &wanted.config {
        Some(p) => (
            Some(repo.repo_path(p).ok_or_else(|| PolicyError::Outside {
                what: "configuration",
                path: crate::shown::shown_path(p),
                tree: tree.to_string(),
            })?),
            None,
        ),
        None => match discover_entry(top, tree, &start_dir(repo, &wanted.start))? {
            Some(e) => (Some(e.path.clone()), Some(e)),
            None => (None, None),
        },
    };
    let Some(path) = config_path else {
        return Ok(Config::default());
    };
    let text = match found {
        Some(e) => tree::text(top, tree, e)?,
        None => tree::read(top, tree, &path)?,
    };
    let Some(text) = text else {
        if wanted.config.is_some() {
            return Err(PolicyError::Unreadable {
                path,
                tree: tree.to_string(),
                message: "no such file".into(),
            });
        }
        return Ok(Config::default());
    };
    let root = repo.toplevel.join(parent(&path));
    let origin = format!("{path} at {tree}");
    let mut config =
        config::parse_within(&origin, &text, &root, &repo.toplevel).map_err(PolicyError::Config)?;
    config.path = Some(repo.toplevel.join(&path));
    files.config = Some(PolicyFile { path, text });
    Ok(config)
}

/// The baseline `wanted` or the configuration names, as `tree` holds it:
/// one not there yet at that revision accepted nothing.
fn tree_baseline(
    repo: &Repo,
    top: &Repo,
    tree: &Tree,
    wanted: &Named,
    config: &Config,
    files: &mut PolicyFiles,
) -> Result<Option<Baseline>, PolicyError> {
    let path = match (&wanted.baseline, &config.baseline) {
        (Some(p), _) => in_repo(repo, &repo.cwd.join(p), "baseline", tree)?,
        (None, Some(p)) => in_repo(repo, p, "baseline", tree)?,
        (None, None) => return Ok(None),
    };
    match tree::read(top, tree, &path)? {
        None => Ok(Some(Baseline::default())),
        Some(text) => {
            let b = Baseline::parse(&format!("{path} at {tree}"), &text)?;
            files.baseline = Some(PolicyFile { path, text });
            Ok(Some(b))
        }
    }
}

/// `path` as seen from `cwd`: as given when `cwd` is the process's own
/// directory (so messages show what the user typed), else joined to it.
fn within(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() || std::env::current_dir().is_ok_and(|d| d == cwd) {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// The directory configuration discovery starts from, in the repository.
pub(super) fn start_dir(repo: &Repo, start: &Path) -> String {
    let abs = repo.cwd.join(start);
    let dir = if abs.is_file() {
        abs.parent().map_or(abs.clone(), Path::to_path_buf)
    } else {
        abs
    };
    repo.repo_path(&dir).unwrap_or_default()
}

/// The deepest `keyward.toml`/`.keyward.toml` from `dir` up to the top.
pub(super) fn discover(top: &Repo, tree: &Tree, dir: &str) -> Result<Option<String>, PolicyError> {
    Ok(discover_entry(top, tree, dir)?.map(|e| e.path))
}

/// As [`discover`], with the file's blob, so reading it lists nothing again.
fn discover_entry(top: &Repo, tree: &Tree, dir: &str) -> Result<Option<tree::Entry>, PolicyError> {
    let mut candidates = Vec::new();
    let mut d = dir.trim_matches('/').to_string();
    loop {
        for name in config::FILE_NAMES {
            candidates.push(if d.is_empty() {
                name.to_string()
            } else {
                format!("{d}/{name}")
            });
        }
        if d.is_empty() {
            break;
        }
        d = parent(&d).to_string();
    }
    tree::first_of(top, tree, &candidates)
}

/// `a/b/c` → `a/b`; `c` → ``.
fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// An absolute path as a repository path, or `Outside`.
fn in_repo(
    repo: &Repo,
    path: &Path,
    what: &'static str,
    tree: &Tree,
) -> Result<String, PolicyError> {
    repo.repo_path(path).ok_or_else(|| PolicyError::Outside {
        what,
        path: crate::shown::shown_path(path),
        tree: tree.to_string(),
    })
}
