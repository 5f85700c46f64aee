//! The repository half of a rotation: every place that references a
//! user's exposed keys is rewritten (by `keyward fix`'s fixers, by span)
//! to read the rotation's store, and what still holds a key afterwards is
//! said, so no key is deactivated while a place still depends on it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::fix::{FixOptions, FixStore, Note};
use crate::policy::PolicySet;

/// What rewriting one user's places did, or would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewrite {
    /// The files changed (or to be changed), as shown paths.
    pub changed: Vec<String>,
    /// Places rewritten, with what to do next.
    pub fixed: Vec<Note>,
    /// Places that still hold one of the keys (no fixer, refused, an
    /// accepted finding, a file to stop tracking): each must be changed by
    /// hand before the keys can be deactivated.
    pub left: Vec<Note>,
    /// What the rewritten places need created, filled from the store.
    pub setup: Vec<String>,
}

/// Why a rotation's references could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// Reading the repository again failed.
    #[error(transparent)]
    Scan(#[from] crate::RunError),
    /// A fixed file could not be written.
    #[error("cannot write a fixed file: {0}")]
    Write(#[source] std::io::Error),
}

/// Rewrites a rotation's references; the repository on disk, or anything
/// a test or an embedder puts there.
pub trait References {
    /// Points every place of `keys` at `store`. With `apply`, the files
    /// are written and the repository read again for what is left.
    fn rewrite(
        &mut self,
        keys: &BTreeSet<String>,
        store: &FixStore,
        apply: bool,
    ) -> Result<Rewrite, RewriteError>;
}

/// The repository on disk, scanned again (without IAM) for each user: an
/// earlier user's rewrite may have changed the same file.
pub struct Repository<'p> {
    policy: &'p PolicySet,
    paths: Vec<PathBuf>,
    cwd: PathBuf,
}

impl<'p> Repository<'p> {
    pub fn new(policy: &'p PolicySet, paths: Vec<PathBuf>, cwd: PathBuf) -> Repository<'p> {
        Repository { policy, paths, cwd }
    }

    fn scan(&self) -> Result<crate::ScanOutput, RewriteError> {
        Ok(crate::Scan::new(self.policy)
            .paths(self.paths.clone())
            .cwd(self.cwd.clone())
            .run()?)
    }
}

/// Every place of `out` that holds one of `keys`, accepted findings
/// included, one note per line.
fn holding(out: &crate::ScanOutput, keys: &BTreeSet<String>, why: &str) -> Vec<Note> {
    let mut notes: Vec<Note> = out
        .findings
        .iter()
        .filter(|f| f.key_id.as_ref().is_some_and(|k| keys.contains(k)))
        .filter_map(|f| {
            let file = out.files.get(f.file)?;
            Some(Note {
                path: file.path.clone(),
                line: file.lines().position(f.span.start).0,
                text: match &f.suppression {
                    Some(s) => format!("{why} (accepted: {})", s.reason),
                    None => why.to_string(),
                },
                unsafe_fix: false,
                untrack: false,
            })
        })
        .collect();
    notes.sort();
    notes.dedup_by(|a, b| a.path == b.path && a.line == b.line);
    notes
}

impl References for Repository<'_> {
    fn rewrite(
        &mut self,
        keys: &BTreeSet<String>,
        store: &FixStore,
        apply: bool,
    ) -> Result<Rewrite, RewriteError> {
        let out = self.scan()?;
        let fixes = crate::fix::fixes(
            &out,
            &FixOptions {
                unsafe_fixes: true,
                buffer: false,
                only: None,
                keys: Some(keys.clone()),
                store: Some(store.clone()),
            },
            &self.cwd,
        );
        let mut rewrite = Rewrite {
            changed: fixes.changes.iter().map(|c| c.path.clone()).collect(),
            fixed: fixes.fixed.clone(),
            left: Vec::new(),
            setup: fixes.setup(),
        };
        if apply {
            crate::fix::write(&fixes).map_err(RewriteError::Write)?;
            let after = self.scan()?;
            let advice: Vec<&Note> = fixes
                .fixed
                .iter()
                .chain(&fixes.refused)
                .chain(&fixes.left)
                .chain(&fixes.unsafe_left)
                .collect();
            rewrite.left = holding(&after, keys, "still holds the key")
                .into_iter()
                .map(|mut n| {
                    // What the fix said of the place is the most useful
                    // word on it (`git rm --cached`, why it was refused).
                    if let Some(said) = advice.iter().find(|a| a.path == n.path && a.line == n.line)
                    {
                        n.text = said.text.clone();
                    }
                    n
                })
                .collect();
        } else {
            let fixed: BTreeSet<(&str, usize)> = fixes
                .fixed
                .iter()
                .map(|n| (n.path.as_str(), n.line))
                .collect();
            // A file to stop tracking still holds the key until `git rm
            // --cached`: counted as left, as the run after the fix finds.
            let mut left: Vec<Note> = fixes
                .refused
                .iter()
                .chain(&fixes.left)
                .chain(&fixes.unsafe_left)
                .chain(fixes.fixed.iter().filter(|n| n.untrack))
                .cloned()
                .collect();
            let accepted: Vec<Note> = holding(&out, keys, "an accepted finding: no fix touches it")
                .into_iter()
                .filter(|n| {
                    !fixed.contains(&(n.path.as_str(), n.line))
                        && !left.iter().any(|l| l.path == n.path && l.line == n.line)
                })
                .collect();
            left.extend(accepted);
            left.sort();
            rewrite.left = left;
        }
        Ok(rewrite)
    }
}
