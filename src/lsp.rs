//! `keyward lsp`: a Language Server over a connection (stdio from the
//! CLI, in memory in tests). Diagnostics on open, change and save, with
//! ranges in UTF-16 as LSP counts them; hover shows the rule's docs; code
//! actions come from `keyward fix`, safe ones preferred.
//!
//! Transport: `lsp-server` (rust-analyzer's scaffold): synchronous, on
//! crossbeam channels keyward already uses, no async runtime in the
//! editor loop. The few messages keyward speaks are typed here with serde
//! instead of pulling in `lsp-types` and its URI type for them.
//!
//! IAM is never called: an `[iam] inventory` named by the configuration is
//! read, so the IAM rules work offline; live IAM is never asked.
//!
//! Rules about the whole repository (a pair whose secrets differ across
//! files, a rotation half done) need its other files: on start the server
//! indexes the workspace in the background (the files that hold a
//! credential, found by a scan of the root as the CLI does it), judges each
//! buffer together with them, and publishes again for the open files a
//! change in another one affects.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::fix::{FixOptions, Safety};
use crate::rules::Severity;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[diagnostic(code(keyward::lsp))]
pub enum LspError {
    #[error("language server protocol: {0}")]
    Protocol(String),
}

/// Why a buffer got no scan: shown as one diagnostic at its top.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    #[error("keyward: cannot use {config}: {source}")]
    Config {
        config: String,
        #[source]
        source: Box<crate::policy::PolicyError>,
    },
    #[error("keyward: the configuration's rules: {0}")]
    Defaults(#[source] Box<crate::policy::PolicyError>),
    #[error("keyward: {0}")]
    Scan(#[from] crate::RunError),
}

/// A position as LSP counts it: 0-based line, UTF-16 code units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// One diagnostic, as published.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnostic {
    pub range: Range,
    pub severity: u8,
    pub code: String,
    pub code_description: Value,
    pub source: &'static str,
    pub message: String,
}

/// An open document.
struct Document {
    path: PathBuf,
    text: String,
    /// The scan of `text`, kept for hover and code actions.
    scanned: Result<crate::ScanOutput, BufferError>,
}

/// Byte offset → LSP position.
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..floor_char(text, offset)];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: u32::try_from(before.matches('\n').count()).unwrap_or(u32::MAX),
        character: u32::try_from(before[line_start..].encode_utf16().count()).unwrap_or(u32::MAX),
    }
}

/// LSP position → byte offset (clamped to the line and the text).
pub fn offset(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let mut units = 0u32;
    for (i, c) in text[start..line_end].char_indices() {
        if units >= pos.character {
            return start + i;
        }
        units += u32::try_from(c.len_utf16()).unwrap_or(2);
    }
    line_end
}

fn floor_char(text: &str, i: usize) -> usize {
    text.floor_char_boundary(i)
}

fn severity(s: Severity) -> u8 {
    match s {
        Severity::Critical | Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

/// A `file://` URI's path; other schemes are not files keyward can judge.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// What the server keeps between messages: the policy of each
/// configuration it has met (rules parsed and compiled once, read again
/// when the file changes) and the open documents.
#[derive(Default)]
pub struct Session {
    policies: HashMap<PathBuf, CachedPolicy>,
    docs: HashMap<String, Document>,
    /// Per open document's path.
    pieces: HashMap<PathBuf, crate::scan::PieceCacheHandle>,
    /// The client applies `documentChanges` with file creation: a fix may
    /// then create a file (a `.gitignore`).
    creates_files: bool,
    /// The workspace's files that hold a credential, judged with every
    /// buffer; `None` until the index is built (or without a workspace).
    index: Option<BTreeSet<PathBuf>>,
}

struct CachedPolicy {
    modified: Option<std::time::SystemTime>,
    policy: crate::policy::PolicySet,
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// The policy `path` finds (`keyward.toml` upward from the file, as on
    /// the command line), loaded once per configuration and change.
    fn policy_for(&mut self, path: &Path) -> Result<&crate::policy::PolicySet, BufferError> {
        use std::collections::hash_map::Entry;
        let found = crate::config::discover(path);
        let modified = found
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .and_then(|m| m.modified().ok());
        // The defaults are cached under the empty path.
        let entry = match self.policies.entry(found.clone().unwrap_or_default()) {
            Entry::Occupied(cached) if cached.get().modified == modified => {
                return Ok(&cached.into_mut().policy);
            }
            entry => entry,
        };
        // The inventory's path is read as the policy names it: relative
        // to where the server runs, which is not the file's directory.
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let policy = crate::policy::PolicySet::load(
            &cwd,
            &crate::policy::PolicyOptions {
                config: found.clone(),
                baseline: crate::policy::BaselineChoice::Ignored,
                start: path.to_path_buf(),
                from: None,
                ..Default::default()
            },
        )
        .map_err(|e| match &found {
            Some(p) => BufferError::Config {
                config: crate::shown::shown_path(p),
                source: Box::new(e),
            },
            None => BufferError::Defaults(Box::new(e)),
        })?;
        let cached = CachedPolicy { modified, policy };
        Ok(&match entry {
            Entry::Occupied(mut old) => {
                old.insert(cached);
                old.into_mut()
            }
            Entry::Vacant(place) => place.insert(cached),
        }
        .policy)
    }

    /// The scan of one buffer under its policy. The HCL pieces of the
    /// document's last version are reused where the change left them alone.
    fn scan(&mut self, path: &Path, text: &str) -> Result<crate::ScanOutput, BufferError> {
        let pieces = self.pieces.entry(path.to_path_buf()).or_default().clone();
        if let Ok(mut cache) = pieces.lock() {
            cache.next_parse();
        }
        let context = self.context_for(path);
        self.scan_with(path, text, pieces, context)
    }

    /// The indexed files other than `path`, as the editor holds them when
    /// open, else as on disk.
    fn context_for(&self, path: &Path) -> Vec<crate::Blob> {
        let Some(index) = &self.index else {
            return Vec::new();
        };
        index
            .iter()
            .filter(|p| p.as_path() != path)
            .filter_map(|p| {
                let bytes = match self.docs.values().find(|d| d.path == *p) {
                    Some(doc) => doc.text.as_bytes().to_vec(),
                    None => std::fs::read(p).ok()?,
                };
                Some(crate::Blob::new(p.to_string_lossy(), bytes))
            })
            .collect()
    }

    /// The workspace's index, once built: the open documents' own state
    /// (what the editor holds) wins over the disk's.
    pub fn set_index(&mut self, mut index: BTreeSet<PathBuf>) {
        for doc in self.docs.values() {
            follow(&mut index, &doc.path, &doc.scanned);
        }
        self.index = Some(index);
    }

    /// A buffer's scan, and the part of it about each file: the buffer's
    /// own, and the other open documents' (their diagnostics may change
    /// with this buffer).
    fn judge(&mut self, path: &Path, text: &str) -> Judged {
        let full = self.scan(path, text);
        let shown = path.to_string_lossy().into_owned();
        let (own, others) = match full {
            Ok(out) => {
                let others = self
                    .docs
                    .iter()
                    .filter(|(_, d)| d.path != path)
                    .filter(|(_, d)| self.index.as_ref().is_some_and(|i| i.contains(&d.path)))
                    .map(|(uri, d)| (uri.clone(), only_file(&out, &d.path.to_string_lossy())))
                    .collect();
                (Ok(only_file(&out, &shown)), others)
            }
            Err(e) => (Err(e), Vec::new()),
        };
        if let Some(index) = &mut self.index {
            follow(index, path, &own);
        }
        Judged { own, others }
    }

    fn scan_with(
        &mut self,
        path: &Path,
        text: &str,
        pieces: crate::scan::PieceCacheHandle,
        context: Vec<crate::Blob>,
    ) -> Result<crate::ScanOutput, BufferError> {
        let policy = self.policy_for(path)?;
        // An inventory named by the configuration is read; nothing else is.
        let source = match &policy.iam {
            s @ (crate::iam::SourceChoice::Inventory(_)
            | crate::iam::SourceChoice::InventoryText { .. }) => s.clone(),
            _ => crate::iam::SourceChoice::None,
        };
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let scan = crate::Scan::new(policy)
            .cwd(dir)
            .buffer(path.to_string_lossy(), text)
            .context(context)
            .piece_cache(pieces)
            .threads(1)
            .iam(crate::iam::IamOptions {
                source,
                ..crate::iam::IamOptions::default()
            });
        Ok(scan.run()?)
    }

    /// HCL pieces the session took from its cache instead of parsing, over
    /// every document: what the benchmark and the tests check.
    #[cfg(any(test, feature = "internals"))]
    pub fn pieces_reused(&self) -> u64 {
        self.pieces
            .values()
            .filter_map(|c| c.lock().ok().map(|c| c.hits))
            .sum()
    }

    /// The diagnostics for one buffer. A configuration keyward cannot use
    /// is one diagnostic at the top of the file, never silence.
    #[cfg(any(test, feature = "internals"))]
    pub fn diagnostics(&mut self, path: &Path, text: &str) -> Vec<Diagnostic> {
        diagnostics_of(&self.judge(path, text).own, text)
    }
}

/// The index follows what the editor holds: a file whose scan has a
/// finding or an ignore comment is judged with the others from here on,
/// one that has neither (or no scan) is not.
fn follow(
    index: &mut BTreeSet<PathBuf>,
    path: &Path,
    scanned: &Result<crate::ScanOutput, BufferError>,
) {
    match scanned {
        Ok(out) if !out.files.is_empty() => index.insert(path.to_path_buf()),
        _ => index.remove(path),
    };
}

/// A buffer's scan: its own part, and the other open documents' parts by
/// URI.
struct Judged {
    own: Result<crate::ScanOutput, BufferError>,
    others: Vec<(String, crate::ScanOutput)>,
}

/// The part of `out` about the file shown as `path`: its findings (their
/// related places in other files left out), its warnings and warnings of
/// no file, with the file as the only one.
fn only_file(out: &crate::ScanOutput, path: &str) -> crate::ScanOutput {
    let index = out.files.iter().position(|f| f.path == path);
    let mine = |file: usize| Some(file) == index;
    let findings = out
        .findings
        .iter()
        .filter(|f| mine(f.file))
        .map(|f| {
            let mut f = f.clone();
            f.file = 0;
            f.related.retain(|r| mine(r.file));
            for r in &mut f.related {
                r.file = 0;
            }
            f
        })
        .collect();
    crate::ScanOutput {
        findings,
        warnings: out
            .warnings
            .iter()
            .filter(|w| w.path == path || w.path.is_empty() || w.path == "(aws)")
            .cloned()
            .collect(),
        files: index
            .and_then(|i| out.files.get(i))
            .cloned()
            .into_iter()
            .collect(),
        more: out
            .more
            .iter()
            .filter(|m| mine(m.file))
            .map(|m| crate::output::More {
                file: 0,
                ..m.clone()
            })
            .collect(),
        ..out.clone()
    }
}

/// The workspace's files that hold a credential or an ignore comment: a
/// scan of `root` under the policy found there, as `keyward scan` would
/// do it (ignore files, `[scan]` globs), with no IAM asked. Why there is
/// none (a broken configuration, an unreadable root) is the caller's to
/// say: without it each buffer is judged alone.
pub fn index_workspace(root: &Path) -> Result<BTreeSet<PathBuf>, BufferError> {
    let opts = crate::policy::PolicyOptions {
        baseline: crate::policy::BaselineChoice::Ignored,
        start: root.to_path_buf(),
        ..Default::default()
    };
    let policy = crate::policy::PolicySet::load(root, &opts).map_err(|e| BufferError::Config {
        config: "the workspace's configuration".into(),
        source: Box::new(e),
    })?;
    let scan = crate::Scan::new(&policy)
        .cwd(root)
        .paths([root])
        .iam(crate::iam::IamOptions::default());
    let out = scan.run()?;
    Ok(out.files.iter().map(|f| root.join(&f.path)).collect())
}

/// The diagnostics for one buffer, in a session of its own.
#[cfg(any(test, feature = "internals"))]
pub fn diagnostics(path: &Path, text: &str) -> Vec<Diagnostic> {
    Session::new().diagnostics(path, text)
}

fn diagnostics_of(scanned: &Result<crate::ScanOutput, BufferError>, text: &str) -> Vec<Diagnostic> {
    let zero = Position {
        line: 0,
        character: 0,
    };
    let out = match scanned {
        Ok(out) => out,
        Err(e) => {
            let code = match e {
                BufferError::Config { .. } | BufferError::Defaults(_) => "config",
                BufferError::Scan(_) => "scan",
            };
            return vec![Diagnostic {
                range: Range {
                    start: zero,
                    end: zero,
                },
                severity: 2,
                code: code.into(),
                code_description: Value::Null,
                source: "keyward",
                message: crate::detect::masked_for_errors(&e.to_string()),
            }];
        }
    };
    let mut found: Vec<Diagnostic> = out
        .warnings
        .iter()
        .map(|e| Diagnostic {
            range: Range {
                start: zero,
                end: zero,
            },
            severity: 3,
            code: e.kind.as_str().into(),
            code_description: Value::Null,
            source: "keyward",
            message: e.message.clone(),
        })
        .collect();
    found.extend(out.active().map(|f| Diagnostic {
        range: Range {
            start: position(text, f.span.start),
            end: position(text, f.span.end),
        },
        severity: severity(f.severity),
        code: f.rule.clone(),
        code_description: json!({"href": rule_docs_url(&f.rule)}),
        source: "keyward",
        message: f.message.clone(),
    }));
    found
}

/// Runs the server until the client asks it to exit.
pub fn serve(connection: &Connection) -> Result<(), LspError> {
    let capabilities = json!({
        // Full text on every change: keyward scans whole files anyway.
        "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": false}},
        "hoverProvider": true,
        "codeActionProvider": {"codeActionKinds": ["quickfix"]},
    });
    let client = connection
        .initialize(capabilities)
        .map_err(|e| LspError::Protocol(e.to_string()))?;
    let mut session = Session::new();
    let edits = &client["capabilities"]["workspace"]["workspaceEdit"];
    session.creates_files = edits["documentChanges"] == true
        && edits["resourceOperations"]
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o == "create"));
    // The workspace is indexed on a thread of its own: the editor gets
    // each buffer's diagnostics at once, and again with the repository's
    // other files when the index is ready.
    // Files changed outside the editor keep the index current, where the
    // client can watch them for the server.
    if client["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true {
        let watch = Request::new(
            lsp_server::RequestId::from("keyward-watch".to_string()),
            "client/registerCapability".into(),
            json!({"registrations": [{
                "id": "keyward-files",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": {"watchers": [{"globPattern": "**/*"}]},
            }]}),
        );
        send(connection, Message::Request(watch))?;
    }
    let mut indexed = match workspace_root(&client) {
        Some(root) => {
            let (tx, rx) = crossbeam_channel::bounded(1);
            std::thread::spawn(move || {
                let _ = tx.send(index_workspace(&root));
            });
            rx
        }
        None => crossbeam_channel::never(),
    };
    loop {
        crossbeam_channel::select! {
            recv(connection.receiver) -> msg => {
                let Ok(msg) = msg else { return Ok(()) };
                if handle(connection, &mut session, msg)? {
                    return Ok(());
                }
            }
            recv(indexed) -> index => {
                indexed = crossbeam_channel::never();
                match index {
                    Ok(Ok(index)) => {
                        session.set_index(index);
                        refresh_open(connection, &mut session)?;
                    }
                    Ok(Err(why)) => show_warning(
                        connection,
                        &format!("{why}; without the workspace index each file is judged alone"),
                    )?,
                    // The indexing thread stopped without an answer.
                    Err(_) => show_warning(
                        connection,
                        "keyward: the workspace could not be indexed; each file is judged alone",
                    )?,
                }
            }
        }
    }
}

/// The workspace's root directory, from `rootUri` or the first workspace
/// folder.
fn workspace_root(client: &Value) -> Option<PathBuf> {
    client["rootUri"]
        .as_str()
        .or_else(|| client["workspaceFolders"][0]["uri"].as_str())
        .and_then(uri_to_path)
        .filter(|p| p.is_dir())
}

/// One message; `true` when the client asked the server to exit.
fn handle(connection: &Connection, session: &mut Session, msg: Message) -> Result<bool, LspError> {
    match msg {
        Message::Request(req) => {
            if connection
                .handle_shutdown(&req)
                .map_err(|e| LspError::Protocol(e.to_string()))?
            {
                return Ok(true);
            }
            let result = match req.method.as_str() {
                "textDocument/hover" => hover(session, &req),
                "textDocument/codeAction" => code_actions(session, &req),
                _ => {
                    let resp = Response::new_err(
                        req.id,
                        lsp_server::ErrorCode::MethodNotFound as i32,
                        format!("keyward does not answer {}", req.method),
                    );
                    send(connection, Message::Response(resp))?;
                    return Ok(false);
                }
            };
            send(
                connection,
                Message::Response(Response::new_ok(req.id, result)),
            )?;
        }
        Message::Notification(n) => notification(connection, session, &n)?,
        Message::Response(_) => {}
    }
    Ok(false)
}

fn send(connection: &Connection, msg: Message) -> Result<(), LspError> {
    connection
        .sender
        .send(msg)
        .map_err(|e| LspError::Protocol(e.to_string()))
}

fn notification(
    connection: &Connection,
    session: &mut Session,
    n: &Notification,
) -> Result<(), LspError> {
    if n.method == "workspace/didChangeWatchedFiles" {
        return watched_files_changed(connection, session, &n.params);
    }
    let uri = n.params["textDocument"]["uri"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let text = match n.method.as_str() {
        "textDocument/didOpen" => n.params["textDocument"]["text"]
            .as_str()
            .map(str::to_string),
        // Full sync: the last change holds the whole text.
        "textDocument/didChange" => n.params["contentChanges"]
            .as_array()
            .and_then(|c| c.last())
            .and_then(|c| c["text"].as_str())
            .map(str::to_string),
        "textDocument/didSave" => session.docs.get(&uri).map(|d| d.text.clone()),
        "textDocument/didClose" => {
            if let Some(doc) = session.docs.remove(&uri) {
                session.pieces.remove(&doc.path);
            }
            return publish(connection, &uri, &[]);
        }
        _ => return Ok(()),
    };
    let (Some(text), Some(path)) = (text, uri_to_path(&uri)) else {
        return Ok(());
    };
    refresh(connection, session, uri, path, text)
}

/// Files changed outside the editor (a checkout, another tool): the index
/// follows the disk for files not open, and every open document is judged
/// again with it.
fn watched_files_changed(
    connection: &Connection,
    session: &mut Session,
    params: &Value,
) -> Result<(), LspError> {
    let Some(index) = &mut session.index else {
        return Ok(());
    };
    let open: BTreeSet<&PathBuf> = session.docs.values().map(|d| &d.path).collect();
    let mut changed = false;
    for change in params["changes"].as_array().into_iter().flatten() {
        let Some(path) = change["uri"].as_str().and_then(uri_to_path) else {
            continue;
        };
        if open.contains(&path) {
            continue;
        }
        // 3: deleted. Otherwise what the file holds now decides; a file
        // the prefilter passes may hold a credential, which is all the
        // index needs to know.
        let holds = change["type"] != 3
            && std::fs::read(&path).is_ok_and(|b| crate::prefilter::may_contain_credentials(&b));
        // A file in the index, changed or gone, or one that holds a
        // credential now: the open documents' judgement may change.
        changed |= holds || index.contains(&path);
        if holds {
            index.insert(path);
        } else {
            index.remove(&path);
        }
    }
    if !changed {
        return Ok(());
    }
    refresh_open(connection, session)
}

/// Judges every open document again (the index changed under them).
fn refresh_open(connection: &Connection, session: &mut Session) -> Result<(), LspError> {
    let open: Vec<(String, PathBuf, String)> = session
        .docs
        .iter()
        .map(|(uri, d)| (uri.clone(), d.path.clone(), d.text.clone()))
        .collect();
    for (uri, path, text) in open {
        refresh(connection, session, uri, path, text)?;
    }
    Ok(())
}

/// Judges a document's text, publishes its diagnostics, and those of the
/// other open documents the judgement covers (a change here can raise or
/// clear a finding there).
fn refresh(
    connection: &Connection,
    session: &mut Session,
    uri: String,
    path: PathBuf,
    text: String,
) -> Result<(), LspError> {
    let judged = session.judge(&path, &text);
    let found = diagnostics_of(&judged.own, &text);
    session.docs.insert(
        uri.clone(),
        Document {
            path,
            text,
            scanned: judged.own,
        },
    );
    publish(connection, &uri, &found)?;
    for (other, out) in judged.others {
        let Some(doc) = session.docs.get_mut(&other) else {
            continue;
        };
        let scanned = Ok(out);
        let found = diagnostics_of(&scanned, &doc.text);
        doc.scanned = scanned;
        publish(connection, &other, &found)?;
    }
    Ok(())
}

/// A warning the editor shows once (`window/showMessage`).
fn show_warning(connection: &Connection, message: &str) -> Result<(), LspError> {
    send(
        connection,
        Message::Notification(Notification::new(
            "window/showMessage".into(),
            json!({"type": 2, "message": crate::detect::redacted(message)}),
        )),
    )
}

fn publish(connection: &Connection, uri: &str, found: &[Diagnostic]) -> Result<(), LspError> {
    send(
        connection,
        Message::Notification(Notification::new(
            "textDocument/publishDiagnostics".into(),
            json!({"uri": uri, "diagnostics": found}),
        )),
    )
}

fn hover(session: &mut Session, req: &Request) -> Value {
    let uri = req.params["textDocument"]["uri"].as_str().unwrap_or("");
    let Some(doc) = session.docs.get(uri) else {
        return Value::Null;
    };
    let Ok(pos) = serde_json::from_value::<Position>(req.params["position"].clone()) else {
        return Value::Null;
    };
    let Ok(out) = &doc.scanned else {
        return Value::Null;
    };
    let at = offset(&doc.text, pos);
    let here: Vec<crate::Finding> = out
        .active()
        .filter(|f| f.span.start <= at && at <= f.span.end)
        .cloned()
        .collect();
    let path = doc.path.clone();
    let Ok(policy) = session.policy_for(&path) else {
        return Value::Null;
    };
    let rules = &policy.rules;
    // IAM's facts once per key, under its first finding.
    let mut told = std::collections::HashSet::new();
    let texts: Vec<String> = here
        .iter()
        .filter_map(|f| {
            let rule = rules.get(&f.rule)?;
            let iam = match (&f.iam, &f.key_id) {
                (Some(iam), Some(key)) if told.insert(key.clone()) => iam_facts(iam),
                (Some(iam), None) => iam_facts(iam),
                _ => String::new(),
            };
            Some(format!(
                "**{} {}** ({})\n\n{}\n\n{}{}",
                rule.id,
                rule.name,
                f.severity.as_str(),
                f.message,
                iam,
                rule.docs
            ))
        })
        .collect();
    if texts.is_empty() {
        return Value::Null;
    }
    json!({"contents": {"kind": "markdown", "value": texts.join("\n\n---\n\n")}})
}

/// What IAM said of the key, for a hover: owner, status, age, last use,
/// and what the owner may do (`--blast-radius` facts from an inventory).
fn iam_facts(iam: &crate::iam::IamInfo) -> String {
    let used = match iam.last_used_days {
        None => "never used".to_string(),
        Some(d) => {
            let place = [
                iam.last_used_service.as_str(),
                iam.last_used_region.as_str(),
            ]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" in ");
            let place = if place.is_empty() {
                String::new()
            } else {
                format!(", {place}")
            };
            format!("last used {d} day{} ago{place}", crate::shown::s(d))
        }
    };
    let mut text = format!(
        "IAM: user `{}` · {} · {} day{} old · {used}\n\n",
        iam.user,
        iam.status,
        iam.age_days,
        crate::shown::s(iam.age_days)
    );
    if !iam.can.is_empty() {
        text.push_str(&format!(
            "Blast radius{}: the owner may {}\n\n",
            if iam.can_approximate {
                " (read from the policies)"
            } else {
                ""
            },
            iam.can
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text
}

/// The edits that turn `before` into `after`, one per run of changed
/// lines: the client gets only what changes, never the rest of the file
/// (which may hold a credential no fix touched).
fn text_edits(before: &str, after: &str) -> Vec<Value> {
    let diff = similar::TextDiff::from_lines(before, after);
    let old_starts = line_starts(before);
    let new_lines: Vec<&str> = after.split_inclusive('\n').collect();
    let mut edits = Vec::new();
    for op in diff.ops() {
        if matches!(op, similar::DiffOp::Equal { .. }) {
            continue;
        }
        let (old, new) = (op.old_range(), op.new_range());
        let start = old_starts.get(old.start).copied().unwrap_or(before.len());
        let end = old_starts.get(old.end).copied().unwrap_or(before.len());
        let text: String = new_lines.get(new).map(|l| l.concat()).unwrap_or_default();
        edits.push(json!({
            "range": {"start": position(before, start), "end": position(before, end)},
            "newText": text,
        }));
    }
    edits
}

/// A workspace edit for a fix's changes: the buffer and any other file it
/// touches (a `.gitignore`). Files that do not exist yet are created, which
/// needs `documentChanges`; without it such a fix is not offered (`None`).
fn workspace_edit(
    session: &Session,
    doc_uri: &str,
    doc_path: &Path,
    changes: &[crate::fix::Change],
) -> Option<Value> {
    let mut document_changes = Vec::new();
    let mut by_uri = serde_json::Map::new();
    let mut creates = false;
    for change in changes {
        let uri = if change.file == doc_path {
            doc_uri.to_string()
        } else {
            path_to_uri(&change.file)
        };
        let edits = text_edits(&change.before, &change.after);
        if uri != doc_uri && !change.file.exists() {
            creates = true;
            document_changes
                .push(json!({"kind": "create", "uri": uri, "options": {"ignoreIfExists": true}}));
        }
        document_changes.push(json!({
            "textDocument": {"uri": uri, "version": null},
            "edits": edits.clone(),
        }));
        by_uri.insert(uri, Value::Array(edits));
    }
    match (creates, session.creates_files) {
        (true, false) => None,
        (true, true) => Some(json!({"documentChanges": document_changes})),
        (false, _) => Some(json!({"changes": by_uri})),
    }
}

/// `file://` and the path, percent-encoding what a URI cannot hold.
fn path_to_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// "Ignore on this line": a `keyward:ignore` comment above the finding,
/// indented as its line, naming its rule, with a reason to fill in. `None`
/// where the format has no comments (JSON).
fn ignore_edit(
    text: &str,
    format: crate::parse::format::Format,
    path: &Path,
    f: &crate::Finding,
) -> Option<Value> {
    use crate::parse::format::Format;
    let (open, close) = match format {
        Format::Json => return None,
        _ => comment_syntax(path),
    };
    let start = text[..f.span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent: String = text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let at = position(text, start);
    Some(json!([{
        "range": {"start": at, "end": at},
        "newText": format!("{indent}{open} keyward:ignore {} -- {IGNORE_REASON}{close}\n", f.rule),
    }]))
}

/// What "ignore on this line" writes as the reason, for the user to replace.
const IGNORE_REASON: &str = "TODO: why this is accepted";

/// The line comment of a file by its name: `//` in C-like sources, an HTML
/// comment in Markdown, `#` elsewhere (HCL, YAML, .env, INI, shell, Python).
fn comment_syntax(path: &Path) -> (&'static str, &'static str) {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "js" | "mjs" | "cjs" | "ts" | "tsx" | "jsx" | "go" | "java" | "kt" | "kts" | "scala"
        | "c" | "h" | "cc" | "cpp" | "hpp" | "cs" | "rs" | "swift" | "php" | "groovy"
        | "gradle" | "dart" => ("//", ""),
        "md" | "markdown" | "mdx" | "html" | "xml" => ("<!--", " -->"),
        _ => ("#", ""),
    }
}

/// Byte offsets where each line starts, and one past the last line.
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if starts.last() != Some(&text.len()) {
        starts.push(text.len());
    }
    starts
}

/// The editor's actions under a range: the fix of the credential there
/// (safe, then unsafe), the fix of every credential in the file where it
/// does more, and "ignore on this line" for each rule there.
fn code_actions(session: &Session, req: &Request) -> Value {
    let uri = req.params["textDocument"]["uri"].as_str().unwrap_or("");
    let Some(doc) = session.docs.get(uri) else {
        return json!([]);
    };
    let Ok(out) = &doc.scanned else {
        return json!([]);
    };
    let range = serde_json::from_value::<Range>(req.params["range"].clone())
        .ok()
        .map(|r| offset(&doc.text, r.start)..offset(&doc.text, r.end));
    let here: Vec<&crate::Finding> = match &range {
        Some(r) => out
            .active()
            .filter(|f| f.span.start <= r.end && r.start <= f.span.end)
            .collect(),
        None => Vec::new(),
    };
    let ask = Asked {
        session,
        req,
        uri,
        doc,
        out,
    };
    let mut actions = Vec::new();
    if let Some(this) = credential_places(out, &here) {
        ask.fix_actions(Some(this), "this credential", &mut actions);
    }
    ask.fix_actions(None, "every credential in the file", &mut actions);
    ask.ignore_actions(&here, &mut actions);
    Value::Array(actions)
}

/// The credential under the range: the places of every finding about the
/// keys there (a key and its secret are one credential), or the places
/// there when they name no key; `None` when nothing is there.
fn credential_places(
    out: &crate::ScanOutput,
    here: &[&crate::Finding],
) -> Option<Vec<std::ops::Range<usize>>> {
    let keys: Vec<&str> = here.iter().filter_map(|f| f.key_id.as_deref()).collect();
    let mut this: Vec<std::ops::Range<usize>> = out
        .active()
        .filter(|f| {
            here.iter().any(|h| h.span == f.span)
                || f.key_id.as_deref().is_some_and(|k| keys.contains(&k))
        })
        .map(|f| f.span.clone())
        .collect();
    this.sort_by_key(|s| (s.start, s.end));
    this.dedup();
    (!this.is_empty()).then_some(this)
}

/// What a code action request is about.
struct Asked<'a> {
    session: &'a Session,
    req: &'a Request,
    uri: &'a str,
    doc: &'a Document,
    out: &'a crate::ScanOutput,
}

impl Asked<'_> {
    /// The fixes of `only` (or the whole file): the safe ones alone,
    /// preferred for one credential, then with the unsafe ones where that
    /// does more; a fix equal to one already offered is not offered again.
    fn fix_actions(
        &self,
        only: Option<Vec<std::ops::Range<usize>>>,
        scope: &str,
        actions: &mut Vec<Value>,
    ) {
        let one = only.is_some();
        let cwd = self.doc.path.parent().unwrap_or(Path::new("/"));
        for unsafe_fixes in [false, true] {
            let fixes = crate::fix::fixes(
                self.out,
                &FixOptions {
                    unsafe_fixes,
                    buffer: true,
                    only: only.clone(),
                    keys: None,
                    store: None,
                },
                cwd,
            );
            if fixes.changes.is_empty() {
                continue;
            }
            let Some(edit) = workspace_edit(self.session, self.uri, &self.doc.path, &fixes.changes)
            else {
                continue;
            };
            if actions.iter().any(|a: &Value| a["edit"] == edit) {
                continue;
            }
            let any_unsafe = fixes.fixed.iter().any(|n| n.unsafe_fix);
            if unsafe_fixes && !any_unsafe {
                continue;
            }
            let safety = if any_unsafe {
                Safety::Unsafe
            } else {
                Safety::Safe
            };
            let next: Vec<&str> = fixes.fixed.iter().map(|n| n.text.as_str()).collect();
            actions.push(json!({
                "title": self.fix_title(&fixes.fixed, scope, safety),
                "kind": "quickfix",
                "isPreferred": safety == Safety::Safe && one,
                "diagnostics": if one { self.req.params["context"]["diagnostics"].clone() } else { json!([]) },
                "edit": edit,
                // What to do next, for clients that show it.
                "data": {"next": next},
            }));
        }
    }

    fn fix_title(&self, fixed: &[crate::fix::Note], scope: &str, safety: Safety) -> String {
        let n = fixed.len();
        if !fixed.is_empty() && fixed.iter().all(|n| n.untrack) {
            let name = self
                .doc
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            return format!("keyward: add {name} to .gitignore (then `git rm --cached {name}`)");
        }
        format!(
            "keyward: fix {scope} ({n} place{}){}",
            crate::shown::s(n),
            if safety == Safety::Unsafe {
                ", unsafe: needs a secret created first"
            } else {
                ""
            }
        )
    }

    /// Ignore on this line, one per rule there. (The rule's documentation
    /// is the diagnostic's `codeDescription` link.)
    fn ignore_actions(&self, here: &[&crate::Finding], actions: &mut Vec<Value>) {
        let format = self.out.files.first().map(|f| f.format);
        let mut seen = std::collections::HashSet::new();
        for f in here {
            if !seen.insert(f.rule.clone()) {
                continue;
            }
            let diagnostics: Vec<Value> = self.req.params["context"]["diagnostics"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter(|d| d["code"] == f.rule.as_str())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            let Some(edits) =
                format.and_then(|fmt| ignore_edit(&self.doc.text, fmt, &self.doc.path, f))
            else {
                continue;
            };
            let mut changes = serde_json::Map::new();
            changes.insert(self.uri.to_string(), edits);
            actions.push(json!({
                "title": format!("keyward: ignore {} {} on this line (give a reason)", f.rule, f.name),
                "kind": "quickfix",
                "diagnostics": diagnostics,
                "edit": {"changes": changes},
            }));
        }
    }
}

/// Where a rule's documentation is published.
fn rule_docs_url(rule: &str) -> String {
    format!(
        "{}#{}",
        crate::report::sarif::RULES_DOC,
        rule.to_lowercase()
    )
}
