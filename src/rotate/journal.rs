//! The rotation journal: what each user's rotation has done, written after
//! every step (atomically: a new file renamed over the old), so a run cut
//! short resumes where it stopped and a finished rotation is not done
//! twice. It holds key IDs, store names and times, never a secret; it lives
//! outside the repository by default (under `.git/`), where no scan reads
//! it and no commit takes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One user's rotation so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    pub account: String,
    pub user: String,
    /// Where the new key goes (`secretsmanager:NAME`, `ssm:NAME`).
    pub store: String,
    /// The keys the repository held when the rotation began.
    pub exposed: Vec<String>,
    /// The key that stays when the user had one outside the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<String>,
    /// Keys deleted to make room under the two-key limit.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub made_room: BTreeSet<String>,
    /// The user's keys just before `iam:CreateAccessKey`, set before the
    /// call: a run cut short between the call and its record left a key
    /// nobody holds the secret of, and it is the one not listed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creating: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_key: Option<String>,
    /// The new key's pair is in the store.
    #[serde(default)]
    pub stored: bool,
    /// The pair the store holds signed a request.
    #[serde(default)]
    pub verified: bool,
    /// The places rewritten to read the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<usize>,
    /// Exposed keys deactivated by the rotation, and when.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deactivated: BTreeMap<String, Timestamp>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub deleted: BTreeSet<String>,
}

impl UserState {
    /// Every exposed key deleted: nothing left to do.
    pub fn done(&self) -> bool {
        self.exposed.iter().all(|k| self.deleted.contains(k))
            && (self.keep.is_some() || self.verified)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub users: Vec<UserState>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[diagnostic(code(keyward::journal))]
pub enum JournalError {
    #[error("cannot read the rotation journal {path}: {message}")]
    Read { path: String, message: String },
    #[error("cannot write the rotation journal {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    /// Never expected (the journal is plain strings and numbers), but a
    /// journal that cannot be encoded must stop the rotation rather than
    /// overwrite the resumable state with nothing.
    #[error("cannot encode the rotation journal {path}: {source}")]
    Encode {
        path: String,
        source: serde_json::Error,
    },
}

impl Journal {
    /// The journal at `path`, or an empty one that will be written there.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let shown = crate::shown::shown_path(path);
        let mut journal = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| JournalError::Read {
                path: shown.clone(),
                message: crate::detect::masked_for_errors(&e.to_string()),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Journal {
                version: 1,
                ..Journal::default()
            },
            Err(e) => {
                return Err(JournalError::Read {
                    path: shown,
                    message: e.to_string(),
                });
            }
        };
        if journal.version != 1 {
            return Err(JournalError::Read {
                path: shown,
                message: format!("version {} is not one keyward writes", journal.version),
            });
        }
        journal.path = Some(path.to_path_buf());
        Ok(journal)
    }

    /// The same journal, no longer written anywhere (a dry run reads a
    /// rotation in progress and changes nothing).
    pub fn detached(&self) -> Journal {
        Journal {
            path: None,
            ..self.clone()
        }
    }

    /// A journal kept in memory only.
    #[cfg(test)]
    pub fn in_memory() -> Journal {
        Journal {
            version: 1,
            ..Journal::default()
        }
    }

    pub fn user(&self, account: &str, user: &str) -> Option<&UserState> {
        self.users
            .iter()
            .find(|u| u.account == account && u.user == user)
    }

    /// Records `state` (replacing the user's) and writes the journal.
    pub fn record(&mut self, state: &UserState) -> Result<(), JournalError> {
        match self
            .users
            .iter_mut()
            .find(|u| u.account == state.account && u.user == state.user)
        {
            Some(u) => *u = state.clone(),
            None => self.users.push(state.clone()),
        }
        self.save()
    }

    fn save(&self) -> Result<(), JournalError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let err = |source| JournalError::Write {
            path: crate::shown::shown_path(path),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut text =
            serde_json::to_string_pretty(self).map_err(|source| JournalError::Encode {
                path: crate::shown::shown_path(path),
                source,
            })?;
        let tmp = path.with_extension("json.tmp");
        text.push('\n');
        std::fs::write(&tmp, text).map_err(err)?;
        std::fs::rename(&tmp, path).map_err(err)
    }
}
