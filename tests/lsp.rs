//! `keyward lsp` driven by a scripted client over stdio: initialize,
//! didOpen a file with a planted key after non-ASCII text, diagnostics
//! with UTF-16 ranges, hover, a code action whose edit removes the key,
//! didChange, and the diagnostics are gone.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

const KEY: &str = "AKIARZPUZDIKJWPUVXKV";
const SECRET: &str = "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";
const KEY2: &str = "AKIARZPUZDIKLKWK3CYE";

struct Client {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Client {
    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn read(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).expect("header");
            assert!(!line.is_empty(), "the server closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).expect("body");
        serde_json::from_slice(&body).expect("json")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.read();
            if msg["id"] == id {
                assert!(msg.get("error").is_none(), "{msg}");
                return msg["result"].clone();
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let msg = self.read();
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                return msg["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }
}

/// `keyward lsp` in `dir`, initialized, with a client on its stdio.
fn server(dir: &std::path::Path) -> (std::process::Child, Client) {
    server_with(dir, json!({}))
}

/// A server for a client with these capabilities.
fn server_with(dir: &std::path::Path, capabilities: Value) -> (std::process::Child, Client) {
    start(dir, Value::Null, capabilities)
}

/// A server whose workspace is `dir`: it indexes it on start.
fn server_rooted(dir: &std::path::Path, capabilities: Value) -> (std::process::Child, Client) {
    start(
        dir,
        json!(format!("file://{}", dir.display())),
        capabilities,
    )
}

fn start(
    dir: &std::path::Path,
    root_uri: Value,
    capabilities: Value,
) -> (std::process::Child, Client) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("lsp")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("keyward lsp");
    let pid = child.id();
    // A hung server fails the test instead of hanging the suite.
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(120));
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let mut c = Client {
        stdin: child.stdin.take().expect("stdin"),
        stdout: BufReader::new(child.stdout.take().expect("stdout")),
        next_id: 0,
    };
    let init = c.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "capabilities": capabilities}),
    );
    assert_eq!(init["capabilities"]["hoverProvider"], true, "{init}");
    c.notify("initialized", json!({}));
    (child, c)
}

#[test]
fn diagnostics_hover_and_a_fix_round_trip() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("main.tf");
    // "é" and "😀" before the key: 2 bytes and 4 bytes in UTF-8, 1 and 2
    // UTF-16 units; LSP columns count UTF-16.
    let text = format!(
        "# clé 😀\nprovider \"aws\" {{\n  region = \"eu-west-1\" # é😀\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n"
    );
    std::fs::write(&path, &text).expect("write");
    let uri = format!("file://{}", path.display());

    let (mut child, mut c) = server(dir.path());

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "terraform", "version": 1, "text": text}}),
    );
    let found = c.diagnostics(&uri);
    let key = found
        .iter()
        .find(|d| d["code"] == "KW001")
        .unwrap_or_else(|| panic!("KW001 in {found:?}"));
    assert_eq!(
        key["range"],
        json!({"start": {"line": 3, "character": 16}, "end": {"line": 3, "character": 36}})
    );
    assert_eq!(key["severity"], 1);
    assert_eq!(key["source"], "keyward");
    assert!(
        key["codeDescription"]["href"]
            .as_str()
            .is_some_and(|h| h.ends_with("#kw001"))
    );
    for d in &found {
        assert!(!d.to_string().contains(SECRET), "a full secret: {d}");
    }
    // A comment line with the same non-ASCII characters: the line-2
    // positions of the other findings are counted the same way.
    let secret = found.iter().find(|d| d["code"] == "KW002").expect("KW002");
    assert_eq!(
        secret["range"]["start"],
        json!({"line": 4, "character": 16})
    );

    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 20}}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(shown.contains("KW001 hardcoded-access-key"), "{hover}");
    assert!(shown.contains("## How to fix"), "the rule's docs: {hover}");

    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": key["range"], "context": {"diagnostics": [key]}}),
    );
    let action = actions
        .as_array()
        .and_then(|a| a.iter().find(|a| a["isPreferred"] == true))
        .unwrap_or_else(|| panic!("a preferred fix in {actions}"));
    assert!(
        !action.to_string().contains(SECRET),
        "a full secret: {action}"
    );
    // Only the changed lines travel: the key's and the secret's.
    let edits = action["edit"]["changes"][&uri].as_array().expect("edits");
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 3, "character": 0})
    );
    assert_eq!(edits[0]["range"]["end"], json!({"line": 5, "character": 0}));
    assert_eq!(edits[0]["newText"], "");
    let fixed = apply(&text, edits);
    assert!(!fixed.contains(KEY) && !fixed.contains(SECRET), "{fixed}");
    assert!(fixed.contains("region = \"eu-west-1\" # é😀"), "{fixed}");

    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    assert_eq!(
        c.diagnostics(&uri),
        Vec::<Value>::new(),
        "the fix leaves nothing"
    );

    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status}");
}

/// Applies LSP text edits (sorted, not overlapping) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    use keyward::lsp::{Position, offset};
    let at = |p: &Value| {
        let p: Position = serde_json::from_value(p.clone()).expect("position");
        offset(text, p)
    };
    let mut out = String::new();
    let mut last = 0;
    for e in edits {
        let (start, end) = (at(&e["range"]["start"]), at(&e["range"]["end"]));
        out.push_str(&text[last..start]);
        out.push_str(e["newText"].as_str().expect("text"));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[test]
fn positions_count_utf16_units() {
    use keyward::lsp::{Position, offset, position};
    let pos = |line, character| Position { line, character };
    let text = "a😀b\né=AKIA\n";
    let at = text.find("AKIA").expect("key");
    assert_eq!(position(text, at), pos(1, 2));
    assert_eq!(offset(text, pos(1, 2)), at);
    let b = text.find('b').expect("b");
    assert_eq!(position(text, b), pos(0, 3));
    assert_eq!(offset(text, pos(0, 3)), b);
    // Past the end of a line: its end.
    assert_eq!(offset(text, pos(0, 99)), text.find('\n').expect("nl"));
}

/// A broken configuration is a diagnostic, not silence.
#[test]
fn a_broken_configuration_is_said() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("keyward.toml"),
        "[policy]\nfail-on = \"sometimes\"\n",
    )
    .expect("write");
    let path = dir.path().join("main.tf");
    let found = keyward::lsp::diagnostics(&path, &format!("access_key = \"{KEY}\"\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].code, "config");
    assert!(
        found[0].message.contains("keyward.toml"),
        "{}",
        found[0].message
    );
}

/// A large Terraform file edited as an editor does: the session reuses the
/// parses of the blocks a change left alone, and its diagnostics are
/// exactly a fresh session's, even when the change moves every line below.
#[test]
fn a_change_reparses_only_what_it_touched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("main.tf");
    let mut text = String::new();
    for i in 0..1200 {
        text.push_str(&format!(
            "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"acme-{i}\"\n}}\n"
        ));
        if i % 300 == 150 {
            text.push_str(&format!(
                "provider \"aws\" {{\n  alias      = \"p{i}\"\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n"
            ));
        }
    }
    let mut session = keyward::lsp::Session::new();
    let first = session.diagnostics(&path, &text);
    assert!(first.len() >= 8, "{first:#?}");
    assert_eq!(session.pieces_reused(), 0);
    let edits = [
        // One line of one block.
        text.replacen("\"acme-700\"", "\"acme-700-renamed\"", 1),
        // A line added at the top: every span below moves.
        format!("# a note\n{text}"),
        // A key removed.
        text.replacen(&format!("  secret_key = \"{SECRET}\"\n"), "", 1),
    ];
    for (i, changed) in edits.iter().enumerate() {
        let reused = session.pieces_reused();
        let found = session.diagnostics(&path, changed);
        assert_eq!(
            found,
            keyward::lsp::diagnostics(&path, changed),
            "edit {i}: as a fresh session sees it"
        );
        assert!(
            session.pieces_reused() > reused,
            "edit {i}: no piece reused"
        );
    }
}

/// Two credentials in one file: the preferred action at one fixes that
/// credential (its key and its secret) and leaves the other; a second
/// action fixes every credential in the file.
#[test]
fn a_code_action_fixes_the_credential_under_the_cursor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("main.tf");
    let text = format!(
        "provider \"aws\" {{\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n\nprovider \"aws\" {{\n  alias      = \"backup\"\n  access_key = \"{KEY2}\"\n}}\n"
    );
    std::fs::write(&path, &text).expect("write");
    let uri = format!("file://{}", path.display());
    let (mut child, mut c) = server(dir.path());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "terraform", "version": 1, "text": text}}),
    );
    let found = c.diagnostics(&uri);
    let first = found
        .iter()
        .find(|d| d["code"] == "KW001" && d["range"]["start"]["line"] == 1)
        .unwrap_or_else(|| panic!("KW001 on line 2 in {found:?}"));
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": first["range"], "context": {"diagnostics": [first]}}),
    );
    let list = actions.as_array().expect("actions");
    let preferred: Vec<&Value> = list.iter().filter(|a| a["isPreferred"] == true).collect();
    assert_eq!(preferred.len(), 1, "{actions}");
    assert!(
        preferred[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("this credential (2 places)")),
        "{actions}"
    );
    let fixed = apply(
        &text,
        preferred[0]["edit"]["changes"][&uri]
            .as_array()
            .expect("edits"),
    );
    assert!(!fixed.contains(KEY) && !fixed.contains(SECRET), "{fixed}");
    assert!(fixed.contains(KEY2), "the other credential stays: {fixed}");
    let all = list
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.contains("every credential in the file (3 places)"))
        })
        .unwrap_or_else(|| panic!("a fix-all action in {actions}"));
    let fixed = apply(
        &text,
        all["edit"]["changes"][&uri].as_array().expect("edits"),
    );
    assert!(!fixed.contains(KEY) && !fixed.contains(KEY2), "{fixed}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());
}

/// IAM is never called from the editor, but an inventory the configuration
/// names is read: an Inactive key is KW006 offline, as on the command line.
#[test]
fn a_configured_inventory_gives_the_iam_rules_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = common::root().join("fixtures/rules/KW006-inactive-key-referenced");
    std::fs::copy(
        fixture.join("inventory.json"),
        dir.path().join("inventory.json"),
    )
    .expect("inventory");
    std::fs::write(
        dir.path().join("keyward.toml"),
        "[iam]\ninventory = \"inventory.json\"\n",
    )
    .expect("config");
    let text = std::fs::read_to_string(fixture.join("fail/.env.staging")).expect("fixture");
    let path = dir.path().join(".env.staging");
    let found = keyward::lsp::diagnostics(&path, &text);
    let codes: Vec<&str> = found.iter().map(|d| d.code.as_str()).collect();
    assert!(codes.contains(&"KW006"), "{found:#?}");
    // The hover says what IAM knows of the key.
    std::fs::write(&path, &text).expect("write");
    let uri = format!("file://{}", path.display());
    let (mut child, mut c) = server(dir.path());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "dotenv", "version": 1, "text": text}}),
    );
    let published = c.diagnostics(&uri);
    let inactive = published
        .iter()
        .find(|d| d["code"] == "KW006")
        .unwrap_or_else(|| panic!("KW006 in {published:?}"));
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": inactive["range"]["start"]}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(shown.contains("IAM: user `"), "{hover}");
    assert!(shown.contains("· Inactive ·"), "{hover}");
    assert!(shown.contains("days old"), "{hover}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());
    // Without the configuration, no IAM facts: no KW006.
    let bare = tempfile::tempdir().expect("temp dir");
    let found = keyward::lsp::diagnostics(&bare.path().join(".env.staging"), &text);
    assert!(found.iter().all(|d| d.code != "KW006"), "{found:#?}");
}

/// A key in a `.env`: the fix is another file (`.gitignore`, created with
/// `documentChanges` when the client can), and every diagnostic can be
/// ignored on its line with a reason to fill in.
#[test]
fn every_diagnostic_has_an_action_even_in_a_dotenv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prod.env");
    let text = format!("  AWS_ACCESS_KEY_ID={KEY}\n");
    std::fs::write(&path, &text).expect("write");
    let uri = format!("file://{}", path.display());
    let caps = json!({"workspace": {"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]}}});
    let (mut child, mut c) = server_with(dir.path(), caps);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "dotenv", "version": 1, "text": text}}),
    );
    let found = c.diagnostics(&uri);
    let key = found
        .iter()
        .find(|d| d["code"] == "KW001")
        .unwrap_or_else(|| panic!("KW001 in {found:?}"));
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": key["range"], "context": {"diagnostics": [key]}}),
    );
    let list = actions.as_array().expect("actions");
    let untrack = list
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.contains("add prod.env to .gitignore"))
        })
        .unwrap_or_else(|| panic!("a .gitignore action in {actions}"));
    let changes = untrack["edit"]["documentChanges"]
        .as_array()
        .expect("documentChanges");
    let gitignore = format!("file://{}", dir.path().join(".gitignore").display());
    assert_eq!(changes[0]["kind"], "create", "{untrack}");
    assert_eq!(changes[0]["uri"], gitignore.as_str(), "{untrack}");
    assert_eq!(changes[1]["textDocument"]["uri"], gitignore.as_str());
    assert_eq!(
        changes[1]["edits"][0]["newText"], "/prod.env\n",
        "{untrack}"
    );
    let ignore = list
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.contains("ignore KW001 hardcoded-access-key on this line"))
        })
        .unwrap_or_else(|| panic!("an ignore action in {actions}"));
    let edits = ignore["edit"]["changes"][&uri].as_array().expect("edits");
    let ignored = apply(&text, edits);
    assert_eq!(
        ignored,
        format!(
            "  # keyward:ignore KW001 -- TODO: why this is accepted\n  AWS_ACCESS_KEY_ID={KEY}\n"
        )
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": ignored}]}),
    );
    let after = c.diagnostics(&uri);
    assert!(after.iter().all(|d| d["code"] != "KW001"), "{after:?}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());

    // A client that cannot create files is not offered the .gitignore it
    // would fail to write; the ignore action stays.
    let (mut child, mut c) = server(dir.path());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "dotenv", "version": 1, "text": text}}),
    );
    let found = c.diagnostics(&uri);
    let key = found.iter().find(|d| d["code"] == "KW001").expect("KW001");
    let actions = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": key["range"], "context": {"diagnostics": [key]}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert!(
        !titles.iter().any(|t| t.contains(".gitignore")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("on this line")),
        "{titles:?}"
    );
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());
}

/// A workspace holding one key ID with a different secret in each of two
/// files (`.env.staging`, `deploy/aws/credentials`): KW010.
fn mismatched_pair() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = common::root().join("fixtures/rules/KW010-key-pair-mismatch/fail");
    std::fs::create_dir_all(dir.path().join("deploy/aws")).expect("dirs");
    for f in [".env.staging", "deploy/aws/credentials"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).expect("fixture");
    }
    dir
}

/// Rules about the whole repository in the editor: a key whose secret
/// differs in another file (KW010) shows in the open file once the server
/// has indexed the workspace, in the other file when it opens, and a change
/// to that other file clears it in the first one, which is published again.
/// A workspace that cannot be indexed (its configuration is broken) is
/// said once, as a warning the editor shows, not dropped in silence.
#[test]
fn a_workspace_that_cannot_be_indexed_is_said() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("keyward.toml"),
        "[policy]\nmax-key-age-days = \"soon\"\n",
    )
    .expect("config");
    let (mut child, mut c) = server_rooted(dir.path(), json!({}));
    let shown = loop {
        let msg = c.read();
        if msg["method"] == "window/showMessage" {
            break msg;
        }
    };
    assert_eq!(shown["params"]["type"], 2, "{shown}");
    let text = shown["params"]["message"].as_str().expect("message");
    assert!(text.contains("keyward.toml"), "{text}");
    assert!(text.contains("each file is judged alone"), "{text}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());
}

#[test]
fn the_open_file_is_judged_with_the_rest_of_the_workspace() {
    let dir = mismatched_pair();
    let env_path = dir.path().join(".env.staging");
    let env_text = std::fs::read_to_string(&env_path).expect("env");
    let creds_path = dir.path().join("deploy/aws/credentials");
    let creds_text = std::fs::read_to_string(&creds_path).expect("credentials");
    // Judged alone, the buffer has one secret for its key: no KW010.
    let alone = keyward::lsp::diagnostics(&env_path, &env_text);
    assert!(alone.iter().all(|d| d.code != "KW010"), "{alone:#?}");

    let (mut child, mut c) = server_rooted(dir.path(), json!({}));
    let env_uri = format!("file://{}", env_path.display());
    let creds_uri = format!("file://{}", creds_path.display());
    let codes = |d: &[Value]| -> Vec<String> {
        d.iter()
            .filter_map(|d| d["code"].as_str().map(str::to_string))
            .collect()
    };
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": env_uri, "languageId": "dotenv", "version": 1, "text": env_text}}),
    );
    // Published at once, then again with the workspace once it is indexed.
    let mut published = c.diagnostics(&env_uri);
    while !codes(&published).contains(&"KW010".to_string()) {
        published = c.diagnostics(&env_uri);
    }
    let mismatch = published
        .iter()
        .find(|d| d["code"] == "KW010")
        .expect("KW010");
    assert_eq!(mismatch["range"]["start"]["line"], 1, "{mismatch}");

    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": creds_uri, "languageId": "ini", "version": 1, "text": creds_text}}),
    );
    let creds = c.diagnostics(&creds_uri);
    assert!(codes(&creds).contains(&"KW010".to_string()), "{creds:#?}");
    // The first file is published again with it: still a mismatch.
    let env_again = c.diagnostics(&env_uri);
    assert!(
        codes(&env_again).contains(&"KW010".to_string()),
        "{env_again:#?}"
    );

    // The other file now holds the same secret: the pair agrees, and the
    // first file's diagnostics are published again, without KW010.
    let old_secret = creds_text
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .expect("a secret");
    let env_secret = env_text
        .lines()
        .find_map(|l| l.strip_prefix("AWS_SECRET_ACCESS_KEY="))
        .expect("a secret");
    let agreed = creds_text.replace(old_secret, env_secret);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": creds_uri, "version": 2}, "contentChanges": [{"text": agreed}]}),
    );
    let creds = c.diagnostics(&creds_uri);
    assert!(!codes(&creds).contains(&"KW010".to_string()), "{creds:#?}");
    let again = c.diagnostics(&env_uri);
    assert!(!codes(&again).contains(&"KW010".to_string()), "{again:#?}");
    assert!(
        codes(&again).iter().any(|c| c.starts_with("KW")),
        "the key is still reported: {again:#?}"
    );
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());
}

/// KW011, a rotation half done across files, in the editor: with the
/// workspace indexed and an inventory configured, the open `.env` that
/// still holds the older key is told so; judged alone it is not.
#[test]
fn a_half_done_rotation_shows_in_the_editor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = common::root().join("fixtures/rules/KW011-divergent-credential");
    std::fs::create_dir_all(dir.path().join("terraform/envs/prod")).expect("dirs");
    for (from, to) in [
        ("inventory.json", "inventory.json"),
        ("fail/.env.staging", ".env.staging"),
        (
            "fail/terraform/envs/prod/providers.tf",
            "terraform/envs/prod/providers.tf",
        ),
    ] {
        std::fs::copy(fixture.join(from), dir.path().join(to)).expect("fixture");
    }
    std::fs::write(
        dir.path().join("keyward.toml"),
        "[iam]\ninventory = \"inventory.json\"\n",
    )
    .expect("config");
    let path = dir.path().join(".env.staging");
    let text = std::fs::read_to_string(&path).expect("env");
    let codes = |found: &[keyward::lsp::Diagnostic]| -> Vec<String> {
        found.iter().map(|d| d.code.clone()).collect()
    };
    let alone = keyward::lsp::diagnostics(&path, &text);
    let mut session = keyward::lsp::Session::new();
    let index = keyward::lsp::index_workspace(dir.path()).expect("index");
    assert_eq!(index.len(), 2, "{index:?}");
    session.set_index(index);
    let together = session.diagnostics(&path, &text);
    let (alone, together) = (codes(&alone), codes(&together));
    assert!(!alone.contains(&"KW011".to_string()), "{alone:?}");
    assert!(together.contains(&"KW011".to_string()), "{together:?}");
}

/// A file changed outside the editor (not open) and said by the client's
/// file watcher, which the server asked for: the open file is judged
/// again with what the disk holds now.
#[test]
fn a_file_changed_on_disk_is_judged_with_the_open_one() {
    let dir = mismatched_pair();
    let env_path = dir.path().join(".env.staging");
    let env_text = std::fs::read_to_string(&env_path).expect("env");
    let creds_path = dir.path().join("deploy/aws/credentials");
    let watching = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let (mut child, mut c) = server_rooted(dir.path(), watching);
    let registration = c.read();
    assert_eq!(
        registration["method"], "client/registerCapability",
        "{registration}"
    );
    assert_eq!(
        registration["params"]["registrations"][0]["method"],
        "workspace/didChangeWatchedFiles"
    );
    let env_uri = format!("file://{}", env_path.display());
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": env_uri, "languageId": "dotenv", "version": 1, "text": env_text}}),
    );
    let has_mismatch = |d: &[Value]| d.iter().any(|d| d["code"] == "KW010");
    while !has_mismatch(&c.diagnostics(&env_uri)) {}
    // Another tool deletes the other file: the pair is one secret again.
    std::fs::remove_file(&creds_path).expect("delete");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": format!("file://{}", creds_path.display()), "type": 3}]}),
    );
    let after = c.diagnostics(&env_uri);
    assert!(!has_mismatch(&after), "{after:#?}");
    assert!(after.iter().any(|d| d["code"] == "KW002"), "{after:#?}");
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    assert!(child.wait().expect("exit").success());
}
