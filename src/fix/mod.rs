//! `keyward fix`: rewrites the places that hold a credential, by their
//! exact spans, so each tool reads the credential from where it expects
//! one. Formatting and comments stay; a fix whose result would not parse,
//! or would still hold the credential, is refused and the file is left
//! byte for byte as it was. No fix touches git history.

mod cfn;
pub(crate) mod edit;
mod json;
mod manifest;
mod terraform;
mod yaml_env;

use crate::parse::format::Format;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use edit::Edit;

use crate::finding::{Finding, SourceFile};
use crate::output::ScanOutput;

/// Whether a fix works as soon as it is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Safety {
    /// The configuration works once the credential is supplied the
    /// tool's standard way.
    Safe,
    /// It references something that must be created first (a repository
    /// secret, a Kubernetes Secret): only with `--unsafe`.
    Unsafe,
}

/// One place that holds a credential, as a fixer sees it.
pub(crate) struct Place<'a> {
    /// The whole file.
    pub text: &'a str,
    pub span: Range<usize>,
    pub context: &'a str,
    /// When the run rewrites more than one credential into names a tool
    /// shares (compose's variables, a repository's secrets, one Kubernetes
    /// Secret's keys): what tells this place's apart (`API`, the service).
    pub qualifier: Option<String>,
    /// The secret store a rotation keeps the new key in: the fix reads
    /// from it.
    pub store: Option<&'a FixStore>,
}

impl Place<'_> {
    /// After a rotation, the variable the tool now reads is filled from
    /// the store: said once, with the others.
    pub fn environment(&self, name: &str) -> Vec<Need> {
        match self.store {
            Some(_) => vec![Need::Environment {
                name: name.to_string(),
                part: self.part(),
            }],
            None => Vec::new(),
        }
    }

    /// Which half of a pair the place holds.
    pub fn part(&self) -> Part {
        let value = self.text.get(self.span.clone()).unwrap_or("");
        if crate::detect::key_id::find(value).next().is_some() {
            Part::KeyId
        } else {
            Part::Secret
        }
    }

    /// The Kubernetes Secret and key the place reads: the rotation's
    /// Secret and the store's field, or the shared Secret and the
    /// variable's name.
    pub fn k8s_reference(&self, env_name: &str) -> (String, String) {
        match self.store {
            Some(store) => (store.k8s_secret.clone(), self.part().field().to_string()),
            None => (manifest::K8S_SECRET.to_string(), self.named(env_name)),
        }
    }

    /// The Secrets Manager secret and field a CloudFormation dynamic
    /// reference reads, or why there is none.
    pub fn secrets_manager_reference(&self, env_name: &str) -> Result<(String, String), String> {
        match self.store {
            Some(store) if store.kind == StoreKind::SecretsManager => {
                Ok((store.name.clone(), self.part().field().to_string()))
            }
            Some(store) => Err(format!(
                "CloudFormation cannot read one field of the SSM parameter `{}` (it holds both as JSON): rotate with a `secretsmanager:` store, or pass the value as a NoEcho parameter",
                store.name
            )),
            None => Ok((cfn::SM_SECRET.to_string(), self.named(env_name))),
        }
    }

    /// The name a fix gives the credential here: `base`, or
    /// `QUALIFIER_base` when the run holds more than one credential.
    pub fn named(&self, base: &str) -> String {
        match &self.qualifier {
            Some(q) => format!("{q}_{base}"),
            None => base.to_string(),
        }
    }
}

/// Which half of a pair a place holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// The access key ID.
    KeyId,
    /// The secret access key.
    Secret,
}

impl Part {
    /// The field a store's JSON keeps this half under.
    pub fn field(self) -> &'static str {
        match self {
            Part::KeyId => "AWS_ACCESS_KEY_ID",
            Part::Secret => "AWS_SECRET_ACCESS_KEY",
        }
    }
}

pub use crate::iam::api::StoreKind;

/// Where a rotation put the new key (`keyward rotate --store`): fixes
/// read from it, and the setup commands fill what they need from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixStore {
    /// Secrets Manager or SSM Parameter Store.
    pub kind: StoreKind,
    /// The secret's name, or the parameter's.
    pub name: String,
    /// The Kubernetes Secret a fixed manifest reads, filled from the store.
    pub k8s_secret: String,
}

impl FixStore {
    /// A shell command that prints the store's JSON pair.
    pub fn read_command(&self) -> String {
        match self.kind {
            StoreKind::SecretsManager => format!(
                "aws secretsmanager get-secret-value --secret-id {} --query SecretString --output text",
                self.name
            ),
            StoreKind::Ssm => format!(
                "aws ssm get-parameter --name {} --with-decryption --query Parameter.Value --output text",
                self.name
            ),
        }
    }
}

/// Something a fix needs to exist before the fixed file works: created
/// once, whatever number of places need it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// A key of a Kubernetes Secret.
    K8sSecretKey {
        /// The Secret's name.
        secret: String,
        /// The key in it.
        key: String,
        /// Which half of the pair it holds.
        part: Part,
    },
    /// A field of the Secrets Manager secret CloudFormation resolves.
    SecretsManagerField {
        /// The secret's name.
        secret: String,
        /// The JSON field in it.
        field: String,
        /// Which half of the pair it holds.
        part: Part,
    },
    /// A repository secret of GitHub Actions.
    GithubSecret {
        /// The secret's name.
        name: String,
        /// Which half of the pair it holds.
        part: Part,
    },
    /// An environment variable of whatever runs the tool (compose,
    /// terraform): only after a rotation, filled from its store.
    Environment {
        /// The variable's name.
        name: String,
        /// Which half of the pair it holds.
        part: Part,
    },
}

pub(crate) enum Proposal {
    Fix {
        edits: Vec<Edit>,
        safety: Safety,
        /// What the user does next, one line.
        next: String,
        /// What must exist first.
        needs: Vec<Need>,
    },
    /// The place is not what the fixer can rewrite for sure.
    Refuse(String),
    /// A file that is meant to hold values (`.env`, AWS credentials):
    /// stop tracking it instead of editing it.
    Untrack,
    /// No fixer for this format or place.
    NoFixer,
    /// No safe rewrite exists here; what to do by hand.
    Manual(String),
}

/// Which fixes to make, and where a rotation put the new key.
#[derive(Debug, Clone, Default)]
pub struct FixOptions {
    /// Apply unsafe fixes too.
    pub unsafe_fixes: bool,
    /// The scanned text is an editor's buffer, not the file on disk: do not
    /// compare them, and make no change to other files (`.gitignore`).
    pub buffer: bool,
    /// Only the places at these spans (an editor's "fix this credential");
    /// `None`: every place.
    pub only: Option<Vec<Range<usize>>>,
    /// Only the places of these key IDs (a rotation's); `None`: every key.
    pub keys: Option<std::collections::BTreeSet<String>>,
    /// The store the fixed places read from (a rotation's).
    pub store: Option<FixStore>,
}

/// A file as it is and as the fixes leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// As output shows it.
    pub path: String,
    /// Where to write it.
    pub file: PathBuf,
    /// Its text now.
    pub before: String,
    /// Its text once fixed.
    pub after: String,
    /// Both with every secret masked, same length: what `--diff` shows.
    pub shown_before: String,
    /// `after`, masked likewise.
    pub shown_after: String,
}

/// A line of the fix summary about one place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    /// The file, as output shows it.
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// What was done, or why not.
    pub text: String,
    /// A fix made (or to be made) only with `--unsafe`.
    pub unsafe_fix: bool,
    /// The fix is to stop tracking the file (it still holds the value on
    /// disk, and in the repository until `git rm --cached`).
    pub untrack: bool,
}

/// What `fix` would do.
#[derive(Debug, Clone, Default)]
pub struct Fixes {
    /// Each file the fixes change.
    pub changes: Vec<Change>,
    /// Places fixed, with what to do next.
    pub fixed: Vec<Note>,
    /// Places an unsafe fix would change, left without `--unsafe`.
    pub unsafe_left: Vec<Note>,
    /// Places a fixer would not touch, and why.
    pub refused: Vec<Note>,
    /// Places no fixer knows.
    pub left: Vec<Note>,
    /// What the fixes made need created first, each once.
    pub needs: std::collections::BTreeSet<Need>,
    /// The store they read from, when a rotation made them.
    pub store: Option<FixStore>,
}

impl Fixes {
    /// Whether any credential stays where it was.
    pub fn remaining(&self) -> usize {
        self.unsafe_left.len() + self.refused.len() + self.left.len()
    }

    /// The commands that create what the fixes need, one per thing to
    /// create (every key of a Kubernetes Secret in one `kubectl`, every
    /// field of a Secrets Manager secret in one `create-secret`). Values
    /// come from the environment, or, after a rotation, straight from its
    /// store through a pipe: none is ever written here or on a command
    /// line.
    pub fn setup(&self) -> Vec<String> {
        let mut k8s: BTreeMap<&str, Vec<(&str, Part)>> = BTreeMap::new();
        let mut fields: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut github = Vec::new();
        let mut environment = Vec::new();
        for n in &self.needs {
            match n {
                Need::K8sSecretKey { secret, key, part } => {
                    k8s.entry(secret).or_default().push((key, *part));
                }
                Need::SecretsManagerField { secret, field, .. } => {
                    fields.entry(secret).or_default().push(field);
                }
                Need::GithubSecret { name, part } => github.push((name.as_str(), *part)),
                Need::Environment { name, part } => environment.push((name.as_str(), *part)),
            }
        }
        let mut out = Vec::new();
        for (secret, list) in fields {
            // The rotation's store is the secret: nothing to create.
            if self.store.as_ref().is_some_and(|s| s.name == secret) {
                continue;
            }
            let json: Vec<String> = list
                .iter()
                .map(|f| format!("\\\"{f}\\\": \\\"${f}\\\""))
                .collect();
            out.push(format!(
                "aws secretsmanager create-secret --name {secret} --secret-string \"{{{}}}\"",
                json.join(", ")
            ));
        }
        for (secret, keys) in k8s {
            out.push(match &self.store {
                Some(store) => {
                    let jq: Vec<String> = keys
                        .iter()
                        .map(|(k, part)| format!("\"{k}=\\(.{})\"", part.field()))
                        .collect();
                    format!(
                        "kubectl create secret generic {secret} --from-env-file=<({} | jq -r '{}')",
                        store.read_command(),
                        jq.join(", ")
                    )
                }
                None => {
                    let literals: Vec<String> = keys
                        .iter()
                        .map(|(k, _)| format!("--from-literal={k}=\"${k}\""))
                        .collect();
                    format!(
                        "kubectl create secret generic {secret} {}",
                        literals.join(" ")
                    )
                }
            });
        }
        if let (Some(store), false) = (&self.store, environment.is_empty()) {
            let exports: Vec<String> = environment
                .iter()
                .map(|(name, part)| format!("\"export {name}=\\(.{} | @sh)\"", part.field()))
                .collect();
            out.push(format!(
                "eval \"$({} | jq -r '{}')\"",
                store.read_command(),
                exports.join(", ")
            ));
        }
        for (name, part) in github {
            out.push(match &self.store {
                Some(store) => format!(
                    "{} | jq -r .{} | gh secret set {name}",
                    store.read_command(),
                    part.field()
                ),
                None => format!("gh secret set {name}"),
            });
        }
        out
    }
}

/// The fixes for the credentials of a scan's active findings. `cwd` is
/// where the scan's shown paths are relative to.
pub fn fixes(out: &ScanOutput, opts: &FixOptions, cwd: &Path) -> Fixes {
    let places = Places::of(out, opts);
    let mut fixer = Fixer {
        opts,
        cwd,
        qualifiers: qualifiers(out, &places.all, &places.credential),
        result: Fixes {
            store: opts.store.clone(),
            ..Fixes::default()
        },
        ignores: BTreeMap::new(),
        listed: BTreeMap::new(),
    };
    for (index, spans) in &places.wanted {
        if let Some(file) = out.files.get(*index) {
            fixer.file(*index, file, spans);
        }
    }
    fixer.finish()
}

/// The places of a scan's active credential findings, by file index.
struct Places<'a> {
    /// The ones to fix now (`--only`, `--keys`).
    wanted: BTreeMap<usize, Vec<(Range<usize>, &'a str)>>,
    /// Every place, fixed now or not: names given now must not collide
    /// with names a later fix (another user's rotation) gives the others.
    all: BTreeMap<usize, Vec<(Range<usize>, &'a str)>>,
    /// The credential each place holds (its key ID, else its secret's
    /// fingerprint): names must never map two of them to one reference.
    credential: BTreeMap<(usize, usize), String>,
}

impl<'a> Places<'a> {
    fn of(out: &'a ScanOutput, opts: &FixOptions) -> Places<'a> {
        let mut places = Places {
            wanted: BTreeMap::new(),
            all: BTreeMap::new(),
            credential: BTreeMap::new(),
        };
        let add = |map: &mut BTreeMap<usize, Vec<(Range<usize>, &'a str)>>, f: &'a Finding| {
            let list = map.entry(f.file).or_default();
            if !list.iter().any(|(s, _)| *s == f.span) {
                list.push((f.span.clone(), f.context.as_str()));
            }
        };
        for f in out.active().filter(|f| !f.identity.is_empty()) {
            add(&mut places.all, f);
            places.credential.insert(
                (f.file, f.span.start),
                f.key_id.clone().unwrap_or_else(|| f.fingerprint.clone()),
            );
            let outside_only = opts
                .only
                .as_ref()
                .is_some_and(|only| !only.contains(&f.span));
            let other_key = opts
                .keys
                .as_ref()
                .is_some_and(|keys| !f.key_id.as_ref().is_some_and(|k| keys.contains(k)));
            if !outside_only && !other_key {
                add(&mut places.wanted, f);
            }
        }
        places
    }
}

/// Fixes file by file, and the `.gitignore` entries they add.
struct Fixer<'a> {
    opts: &'a FixOptions,
    cwd: &'a Path,
    qualifiers: BTreeMap<(usize, usize), String>,
    result: Fixes,
    /// `.gitignore` files to extend, with the entries they gain.
    ignores: BTreeMap<PathBuf, Vec<String>>,
    /// Each `.gitignore`'s entries, read once.
    listed: BTreeMap<PathBuf, HashSet<String>>,
}

impl Fixer<'_> {
    /// Proposes a fix for each place of one file and, when the edited
    /// text checks out, keeps the change.
    fn file(&mut self, index: usize, file: &SourceFile, spans: &[(Range<usize>, &str)]) {
        let disk = self.cwd.join(&file.path);
        let note = |span: &Range<usize>, text: String| note_at(file, span, text);
        // Only text keyward can write back unchanged: the file as it is on
        // disk now, in UTF-8.
        if !self.opts.buffer && std::fs::read(&disk).ok().as_deref() != Some(file.text.as_bytes()) {
            for (span, _) in spans {
                self.result.refused.push(note(
                    span,
                    "the file changed since the scan, or is not UTF-8: left as it is".into(),
                ));
            }
            return;
        }
        let mut edits = Vec::new();
        let mut fixed = Vec::new();
        for (span, context) in spans {
            let place = Place {
                text: &file.text,
                span: span.clone(),
                context,
                qualifier: self.qualifiers.get(&(index, span.start)).cloned(),
                store: self.opts.store.as_ref(),
            };
            match propose(file.format, &file.path, &place) {
                Proposal::Fix {
                    edits: e,
                    safety,
                    next,
                    needs,
                } => {
                    // What it needs is said either way: it is what
                    // `--unsafe` asks of the user.
                    self.result.needs.extend(needs);
                    if safety == Safety::Unsafe && !self.opts.unsafe_fixes {
                        self.result
                            .unsafe_left
                            .push(note(span, format!("needs --unsafe: {next}")));
                    } else {
                        edits.extend(e);
                        fixed.push((span.clone(), next, safety));
                    }
                }
                Proposal::Refuse(why) => self.result.refused.push(note(span, why)),
                Proposal::Untrack => self.untrack(file, &disk, span),
                Proposal::NoFixer => self.result.left.push(note(
                    span,
                    format!(
                        "no automatic fix for this place in a {} file",
                        file.format.as_str()
                    ),
                )),
                Proposal::Manual(what) => self.result.left.push(note(span, what)),
            }
        }
        if !edits.is_empty() {
            self.keep_checked(file, disk, &edits, &fixed);
        }
    }

    /// A file that should not be in the repository at all (`.env`,
    /// credentials): its directory's `.gitignore` gains it.
    fn untrack(&mut self, file: &SourceFile, disk: &Path, span: &Range<usize>) {
        let Some(name) = Path::new(&file.path).file_name() else {
            return;
        };
        let dir = disk.parent().unwrap_or(Path::new("."));
        let entry = format!("/{}", name.to_string_lossy());
        let gitignore = dir.join(".gitignore");
        let present = self.listed.entry(gitignore.clone()).or_insert_with(|| {
            std::fs::read_to_string(&gitignore)
                .unwrap_or_default()
                .lines()
                .map(|l| l.trim().to_string())
                .collect()
        });
        if present.contains(&entry) {
            self.result.left.push(note_at(
                file,
                span,
                format!(
                    "in .gitignore already: `git rm --cached {}` stops tracking it",
                    file.path
                ),
            ));
            return;
        }
        let list = self.ignores.entry(gitignore).or_default();
        if !list.contains(&entry) {
            list.push(entry);
        }
        self.result.fixed.push(Note {
            untrack: true,
            ..note_at(
                file,
                span,
                format!(
                    "stop tracking it: `git rm --cached {}` (it stays on disk, now in .gitignore)",
                    file.path
                ),
            )
        });
    }

    /// The file with `edits` applied, kept when it still parses and no
    /// longer holds the fixed credentials; refused otherwise.
    fn keep_checked(
        &mut self,
        file: &SourceFile,
        disk: PathBuf,
        edits: &[Edit],
        fixed: &[(Range<usize>, String, Safety)],
    ) {
        let after = match checked(&file.path, &file.text, edits, &spans_of(fixed)) {
            Ok(after) => after,
            Err(why) => {
                for (span, _, _) in fixed {
                    self.result.refused.push(note_at(file, span, why.clone()));
                }
                return;
            }
        };
        let result = &mut self.result;
        result
            .fixed
            .extend(fixed.iter().map(|(s, next, safety)| Note {
                unsafe_fix: *safety == Safety::Unsafe,
                ..note_at(file, s, next.clone())
            }));
        let noted: HashSet<usize> = result
            .left
            .iter()
            .chain(&result.refused)
            .chain(&result.unsafe_left)
            .filter(|n| n.path == file.path)
            .map(|n| n.line)
            .collect();
        result.left.extend(
            still_there(&file.path, &after)
                .into_iter()
                .filter(|n| !noted.contains(&n.line)),
        );
        // Masking keeps every length, so the same edits apply.
        let shown_before = file.masked_text();
        let shown_after = edit::apply(&shown_before, edits).unwrap_or_else(|| shown_before.clone());
        result.changes.push(Change {
            path: file.path.clone(),
            file: disk,
            before: file.text.to_string(),
            after,
            shown_before,
            shown_after,
        });
    }

    /// The fixes, with the `.gitignore` changes last and the notes sorted.
    fn finish(mut self) -> Fixes {
        for (gitignore, entries) in std::mem::take(&mut self.ignores) {
            if let Some(change) = gitignore_change(self.cwd, gitignore, &entries) {
                self.result.changes.push(change);
            }
        }
        let mut result = self.result;
        result.fixed.sort();
        result.refused.sort();
        result.left.sort();
        result.unsafe_left.sort();
        result
    }
}

/// A note on the line of `span` in `file`.
fn note_at(file: &SourceFile, span: &Range<usize>, text: String) -> Note {
    Note {
        path: file.path.clone(),
        line: edit::Line::at(&file.text, span.start).map_or(1, |l| l.number(&file.text)),
        text,
        unsafe_fix: false,
        untrack: false,
    }
}

/// `gitignore` with `entries` it does not hold yet, in its own newlines;
/// `None` when it holds them all.
fn gitignore_change(cwd: &Path, gitignore: PathBuf, entries: &[String]) -> Option<Change> {
    let before = std::fs::read_to_string(&gitignore).unwrap_or_default();
    let present: HashSet<&str> = before.lines().map(str::trim).collect();
    let mut after = before.clone();
    let nl = edit::newline_of(&before);
    for entry in entries {
        if present.contains(entry.as_str()) {
            continue;
        }
        if !after.is_empty() && !after.ends_with('\n') {
            after.push_str(nl);
        }
        after.push_str(entry);
        after.push_str(nl);
    }
    if after == before {
        return None;
    }
    let path = gitignore
        .strip_prefix(cwd)
        .map_or_else(|_| gitignore.clone(), Path::to_path_buf);
    Some(Change {
        path: crate::shown::shown_path(&path),
        file: gitignore,
        shown_before: before.clone(),
        shown_after: after.clone(),
        before,
        after,
    })
}

/// What the fixed text still holds: every credential a new scan of it
/// finds (another key the fixes did not reach, a part of a pair), as a
/// place left without an automatic fix, never as clean.
fn still_there(path: &str, after: &str) -> Vec<Note> {
    let all = |_: &str| true;
    let (values, _, _) = crate::parse::values(Path::new(path), after, &all, None);
    crate::detect::detect(after, &values)
        .into_iter()
        .filter(|c| !c.placeholder)
        .map(|c| {
            let what = match c.kind {
                crate::detect::CandidateKind::AccessKeyId => format!("access key ID `{}`", c.value),
                _ => format!("`{}`", crate::detect::mask(&c.value)),
            };
            Note {
                path: path.to_string(),
                line: edit::Line::at(after, c.span.start).map_or(1, |l| l.number(after)),
                text: format!("still holds {what} after the fixes: no automatic fix for it"),
                unsafe_fix: false,
                untrack: false,
            }
        })
        .collect()
}

/// A place (file index, span start), what holds it, and its credential.
type Named<'a> = ((usize, usize), String, &'a String);

/// What tells each place's generated names apart, where a tool's names are
/// shared and the run holds more than one credential: the compose service,
/// the workflow job, the CloudFormation resource, the manifest's file. A
/// qualifier two credentials would still share gets a number.
fn qualifiers(
    out: &ScanOutput,
    places: &BTreeMap<usize, Vec<(Range<usize>, &str)>>,
    credential: &BTreeMap<(usize, usize), String>,
) -> BTreeMap<(usize, usize), String> {
    // Per family of shared names: its places, with owner and credential.
    let mut families: BTreeMap<&str, Vec<Named<'_>>> = BTreeMap::new();
    for (&file_index, list) in places {
        let Some(file) = out.files.get(file_index) else {
            continue;
        };
        let family = match file.format {
            Format::Compose => "compose",
            Format::GithubActions => "github",
            Format::Kubernetes | Format::Helm => "kubernetes",
            Format::CloudFormation => "cloudformation",
            _ => continue,
        };
        for (span, context) in list {
            let Some(cred) = credential.get(&(file_index, span.start)) else {
                continue;
            };
            let owner = owner_of(family, context, &file.path);
            families
                .entry(family)
                .or_default()
                .push(((file_index, span.start), owner, cred));
        }
    }
    let mut out = BTreeMap::new();
    for list in families.values() {
        let distinct: HashSet<&String> = list.iter().map(|(_, _, c)| *c).collect();
        if distinct.len() < 2 {
            continue;
        }
        // owner → the credentials seen under it, in order.
        let mut taken: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for (at, owner, cred) in list {
            let creds = taken.entry(owner.as_str()).or_default();
            let n = match creds.iter().position(|c| c == cred) {
                Some(i) => i,
                None => {
                    creds.push(cred);
                    creds.len() - 1
                }
            };
            let q = if n == 0 {
                owner.clone()
            } else {
                format!("{owner}_{}", n + 1)
            };
            out.insert(*at, q);
        }
    }
    out
}

/// The part of a place's context (or its file's name) that names what
/// holds it, as an upper-case identifier.
fn owner_of(family: &str, context: &str, path: &str) -> String {
    let segments: Vec<&str> = context.split('.').collect();
    let owner = match (family, segments.as_slice()) {
        ("compose", ["services", svc, ..]) => (*svc).to_string(),
        ("github", ["jobs", job, ..]) => (*job).to_string(),
        ("cloudformation", ["Resources", res, ..]) => (*res).to_string(),
        _ => Path::new(path)
            .file_stem()
            .map_or_else(|| "APP".to_string(), |s| s.to_string_lossy().into_owned()),
    };
    let mut id: String = owner
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if id.starts_with(|c: char| c.is_ascii_digit()) || id.is_empty() {
        id.insert(0, 'X');
    }
    id
}

fn spans_of(fixed: &[(Range<usize>, String, Safety)]) -> Vec<Range<usize>> {
    fixed.iter().map(|(s, _, _)| s.clone()).collect()
}

fn propose(format: Format, path: &str, place: &Place<'_>) -> Proposal {
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match format {
        Format::Terraform => terraform::terraform(place),
        Format::Tfvars => terraform::tfvars(place),
        Format::Compose => yaml_env::compose(place),
        Format::GithubActions => yaml_env::github_actions(place),
        // A Secret manifest holds values, like a `.env` file: it stays out
        // of the repository and is created from the secret store.
        Format::Kubernetes
            if place.context.starts_with("data.") || place.context.starts_with("stringData.") =>
        {
            Proposal::Untrack
        }
        Format::Kubernetes => manifest::kubernetes(place),
        Format::CloudFormation => {
            let segments: Vec<&str> = place.context.split('.').collect();
            match (path.ends_with(".json"), cfn::environment_name(&segments)) {
                (true, Some(name)) => json::cloudformation_environment(place, name),
                (true, None) => match segments.as_slice() {
                    ["Parameters", param, "Default"] => json::cloudformation_default(place, param),
                    _ => Proposal::NoFixer,
                },
                (false, _) => manifest::cloudformation(place),
            }
        }
        Format::Helm => manifest::helm_values(path, place),
        Format::Terragrunt => terraform::terragrunt_inputs(place),
        Format::Dotenv => Proposal::Untrack,
        Format::Ini if name == "credentials" => Proposal::Untrack,
        _ => Proposal::NoFixer,
    }
}

/// The fixed text, when it still parses as its format (if it did before)
/// and none of the credentials at `fixed` is left in it.
fn checked(
    path: &str,
    before: &str,
    edits: &[Edit],
    fixed: &[Range<usize>],
) -> Result<String, String> {
    let after =
        edit::apply(before, edits).ok_or_else(|| "two fixes overlap: left as it is".to_string())?;
    let all = |_: &str| true;
    let (old_values, format, old_warning) =
        crate::parse::values(Path::new(path), before, &all, None);
    let (new_values, _, new_warning) = crate::parse::values(Path::new(path), &after, &all, None);
    if old_warning.is_none() && new_warning.is_some() {
        return Err(format!(
            "the fixed file would not parse as {}: left as it is",
            format.as_str()
        ));
    }
    let gone: HashSet<String> = crate::detect::detect(before, &old_values)
        .into_iter()
        .filter(|c| {
            fixed
                .iter()
                .any(|s| s.start <= c.span.start && c.span.end <= s.end)
        })
        .map(|c| c.value)
        .collect();
    let still = crate::detect::detect(&after, &new_values)
        .iter()
        .any(|c| gone.contains(&c.value));
    if still {
        return Err("the credential would still be in the file: left as it is".into());
    }
    Ok(after)
}

/// Writes every change.
pub fn write(fixes: &Fixes) -> std::io::Result<()> {
    for c in &fixes.changes {
        std::fs::write(&c.file, &c.after)?;
    }
    Ok(())
}

/// The changes as a unified diff (`a/PATH`, `b/PATH`) for review, with
/// every secret masked: a diff that `git apply` could use would have to
/// print the secrets it removes. `keyward fix` itself writes the files.
pub fn diff(fixes: &Fixes) -> String {
    let mut out = String::new();
    for c in &fixes.changes {
        let diff = similar::TextDiff::from_lines(&c.shown_before, &c.shown_after);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(
                &if c.before.is_empty() {
                    "/dev/null".to_string()
                } else {
                    format!("a/{}", c.path)
                },
                &format!("b/{}", c.path),
            )
            .to_string();
        out.push_str(&text);
    }
    out
}
