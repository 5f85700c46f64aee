//! Hostile input: whatever a repository contains, the scan completes with
//! findings or a warning. Never a panic, a hang or unbounded memory.
//!
//! Every test runs the built binary under a wall-clock guard: a hang fails
//! the test (and the child is killed) instead of blocking CI.

mod common;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::write;

const KEY: &str = "AKIARZPUZDIKEEQH746Y";
const KEY2: &str = "AKIARZPUZDIKJHJXJQI5";
const SECRET: &str = "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";
const DEADLINE: Duration = Duration::from_secs(60);

struct Run {
    code: Option<i32>,
    doc: serde_json::Value,
    stderr: String,
    /// Peak resident memory seen while polling, in KiB (0 when unknown).
    peak_kib: u64,
}

impl Run {
    fn findings(&self) -> Vec<(String, u64, u64, String)> {
        self.doc["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        (
                            f["path"].as_str().unwrap_or("").to_string(),
                            f["line"].as_u64().unwrap_or(0),
                            f["column"].as_u64().unwrap_or(0),
                            f["key_id"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn errors(&self) -> String {
        self.doc["errors"].to_string()
    }

    /// A clean finish: exit 0 or 1, JSON on stdout, no panic message.
    fn completed(&self) {
        assert!(
            matches!(self.code, Some(0 | 1)),
            "exit {:?}; stderr: {}",
            self.code,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(self.doc["summary"].is_object(), "no JSON report");
    }
}

fn vm_hwm_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Runs `prefix… keyward scan --format json ARGS` in `dir` under the guard.
fn scan_with(prefix: &[&str], bin: &Path, dir: &Path, args: &[&str]) -> Run {
    let out_path = dir.join(format!(
        ".hostile-out-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let out_file = fs::File::create(&out_path).expect("output file");
    let (program, pre) = match prefix.split_first() {
        Some((p, rest)) => (PathBuf::from(p), rest.to_vec()),
        None => (bin.to_path_buf(), Vec::new()),
    };
    let mut cmd = Command::new(program);
    cmd.args(&pre);
    if !prefix.is_empty() {
        cmd.arg(bin);
    }
    let mut child = cmd
        .args(["scan", "--format", "json", "--fail-on", "low"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_file))
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyward starts");
    let start = Instant::now();
    let mut peak = 0;
    let status = loop {
        peak = peak.max(vm_hwm_kib(child.id()));
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None if start.elapsed() > DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("keyward {args:?} still running after {DEADLINE:?}: killed");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    let stdout = fs::read(&out_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    let doc = serde_json::from_slice(&stdout).unwrap_or(serde_json::Value::Null);
    Run {
        code: status.code(),
        doc,
        stderr,
        peak_kib: peak,
    }
}

fn scan(dir: &Path, args: &[&str]) -> Run {
    scan_with(&[], Path::new(env!("CARGO_BIN_EXE_keyward")), dir, args)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn yaml_alias_bomb_is_not_expanded() {
    let t = tmp();
    // Nine levels of ten aliases each: a billion "lol"s if expanded.
    let mut y = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for w in names.windows(2) {
        let items = vec![format!("*{}", w[0]); 10].join(",");
        y.push_str(&format!("{}: &{} [{items}]\n", w[1], w[1]));
    }
    y.push_str(&format!("aws_access_key_id: {KEY}\n"));
    write(t.path(), "bomb.yaml", &y);
    let run = scan(t.path(), &[]);
    run.completed();
    assert_eq!(run.findings(), [("bomb.yaml".into(), 11, 20, KEY.into())]);
    assert!(run.peak_kib < 256 * 1024, "peak RSS {} KiB", run.peak_kib);
}

#[test]
fn ten_thousand_levels_of_nesting() {
    let t = tmp();
    let d = t.path();
    let n = 10_000;
    // Flow and block YAML, JSON, HCL: each nested 10,000 deep, each with a
    // key at the end that the scan must still report (by the text fallback).
    write(
        d,
        "flow.yaml",
        format!("{}{}\nkey: {KEY}\n", "[".repeat(n), "]".repeat(n)),
    );
    // Compact block sequences: `- - - x` nests without quadratic indentation.
    let block = format!("{}x\naws_access_key_id: {KEY}\n", "- ".repeat(n));
    write(d, "block.yaml", block);
    write(
        d,
        "deep.json",
        format!("{}\"{KEY}\"{}", "{\"a\": [".repeat(n), "]}".repeat(n)),
    );
    write(
        d,
        "deep.tf",
        format!(
            "locals {{\n  x = {}1{}\n}}\nvariable \"k\" {{\n  default = \"{KEY}\"\n}}\n",
            "{ b = ".repeat(n),
            " }".repeat(n)
        ),
    );
    write(
        d,
        "parens.tf",
        format!(
            "locals {{\n  x = {}1{}\n  k = \"{KEY}\"\n}}\n",
            "(".repeat(n),
            ")".repeat(n)
        ),
    );
    let run = scan(d, &[]);
    run.completed();
    let files: Vec<String> = run.findings().into_iter().map(|f| f.0).collect();
    assert_eq!(
        files,
        [
            "block.yaml",
            "deep.json",
            "deep.tf",
            "flow.yaml",
            "parens.tf"
        ],
        "{}",
        run.errors()
    );
}

/// 100 MB on one line, a key at its very end.
fn hundred_mb_line(dir: &Path) -> (PathBuf, u64) {
    let p = dir.join("minified.js");
    let mut f = std::io::BufWriter::new(fs::File::create(&p).expect("create"));
    let chunk = "var a=b+c;".repeat(100_000);
    for _ in 0..100 {
        f.write_all(chunk.as_bytes()).expect("write");
    }
    let prefix = chunk.len() as u64 * 100;
    write!(f, "var k=\"{KEY}\";").expect("write");
    f.flush().expect("flush");
    (p, prefix + 8)
}

#[test]
fn hundred_megabyte_single_line() {
    let t = tmp();
    let (_, column) = hundred_mb_line(t.path());
    // Over the default --max-file-size: not parsed, said so, and streamed
    // for keys: the key at the end is still found where it is.
    let run = scan(t.path(), &[]);
    run.completed();
    assert_eq!(run.doc["summary"]["skipped_large"], 1);
    assert!(run.errors().contains("max-file-size"), "{}", run.errors());
    assert_eq!(
        run.findings(),
        [("minified.js".into(), 1, column, KEY.into())],
        "{}",
        run.errors()
    );
    assert!(
        run.peak_kib < 64 * 1024,
        "peak RSS {} KiB streaming a 100 MB file",
        run.peak_kib
    );
    // Allowed in: scanned, and the key at the end is found where it is.
    let run = scan(t.path(), &["--max-file-size", "200000000"]);
    run.completed();
    assert_eq!(
        run.findings(),
        [("minified.js".into(), 1, column, KEY.into())],
        "{}",
        run.errors()
    );
    assert!(
        run.peak_kib < 1024 * 1024,
        "peak RSS {} KiB for a 100 MB file",
        run.peak_kib
    );
}

#[test]
fn a_file_of_nul_bytes_is_binary() {
    let t = tmp();
    write(t.path(), "zeros.tf", vec![0u8; 1 << 20]);
    write(t.path(), "ok.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    let run = scan(t.path(), &[]);
    run.completed();
    assert_eq!(run.doc["summary"]["skipped_binary"], 1);
    assert_eq!(run.findings(), [("ok.env".into(), 1, 19, KEY.into())]);
}

#[test]
fn invalid_utf8_in_the_middle_of_a_tf() {
    let t = tmp();
    let mut tf = b"locals {\n  a = \"caf\xe9 \xc3\x28 \xff\"\n".to_vec();
    tf.extend_from_slice(format!("  k = \"{KEY}\"\n}}\n").as_bytes());
    write(t.path(), "main.tf", tf);
    let run = scan(t.path(), &[]);
    run.completed();
    assert_eq!(run.findings(), [("main.tf".into(), 3, 8, KEY.into())]);
    assert!(run.errors().contains("invalid UTF-8"), "{}", run.errors());
}

#[test]
fn utf8_bom_keeps_lines_and_columns() {
    let t = tmp();
    let d = t.path();
    let bom = "\u{feff}";
    write(
        d,
        "a.env",
        format!("{bom}# creds\nAWS_ACCESS_KEY_ID={KEY}\n"),
    );
    write(
        d,
        "b.tf",
        format!("{bom}# creds\nvariable \"k\" {{ default = \"{KEY}\" }}\n"),
    );
    write(
        d,
        "c.yaml",
        format!("{bom}# creds\naws_access_key_id: {KEY}\n"),
    );
    write(
        d,
        "d.json",
        format!("{bom}{{\n  \"aws_access_key_id\": \"{KEY}\"}}\n"),
    );
    let run = scan(d, &[]);
    run.completed();
    assert_eq!(
        run.findings(),
        [
            ("a.env".into(), 2, 19, KEY.into()),
            ("b.tf".into(), 2, 27, KEY.into()),
            ("c.yaml".into(), 2, 20, KEY.into()),
            ("d.json".into(), 2, 25, KEY.into()),
        ],
        "{}",
        run.errors()
    );
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut b = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        b.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    b
}

#[test]
fn utf16_le_and_be_are_decoded() {
    let t = tmp();
    let d = t.path();
    let text = format!("# région\r\nAWS_ACCESS_KEY_ID={KEY}\r\nAWS_SECRET_ACCESS_KEY={SECRET}\r\n");
    write(d, "le.env", utf16(&text, false));
    write(d, "be.env", utf16(&text, true));
    let run = scan(d, &[]);
    run.completed();
    let found = run.findings();
    for f in ["be.env", "le.env"] {
        assert!(
            found.contains(&(f.into(), 2, 19, KEY.into())),
            "{f}: {found:?}"
        );
        // The secret pairs with the key in a decoded file too.
        assert!(
            found.contains(&(f.into(), 3, 23, KEY.into())),
            "{f}: {found:?}"
        );
    }
}

#[test]
fn crlf_line_endings_keep_spans() {
    let t = tmp();
    let d = t.path();
    write(
        d,
        "main.tf",
        format!(
            "provider \"aws\" {{\r\n  region = \"eu-west-1\"\r\n  access_key = \"{KEY}\"\r\n}}\r\n"
        ),
    );
    write(
        d,
        "ci.yml",
        format!("env:\r\n  LOG: info\r\n  AWS_ACCESS_KEY_ID: {KEY}\r\n"),
    );
    let run = scan(d, &[]);
    run.completed();
    assert_eq!(
        run.findings(),
        [
            ("ci.yml".into(), 3, 22, KEY.into()),
            ("main.tf".into(), 3, 17, KEY.into()),
        ]
    );
    for f in run.doc["findings"].as_array().expect("findings") {
        assert_eq!(f["end_line"], f["line"]);
        assert_eq!(
            f["end_column"].as_u64(),
            f["column"].as_u64().map(|c| c + 20)
        );
    }
}

#[test]
fn non_utf8_file_names() {
    use std::os::unix::ffi::OsStrExt;
    let t = tmp();
    let name = std::ffi::OsStr::from_bytes(b"creds-\xff\xfe.env");
    fs::write(t.path().join(name), format!("AWS_ACCESS_KEY_ID={KEY}\n")).expect("write");
    let dir = std::ffi::OsStr::from_bytes(b"dir-\x80");
    write(
        &t.path().join(dir),
        "x.env",
        format!("AWS_ACCESS_KEY_ID={KEY2}\n"),
    );
    let run = scan(t.path(), &[]);
    run.completed();
    let found = run.findings();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.0.starts_with("creds-") && f.3 == KEY)
    );
    assert!(found.iter().any(|f| f.0.starts_with("dir-") && f.3 == KEY2));
}

#[test]
fn symlink_loops() {
    let t = tmp();
    let d = t.path();
    write(d, "a/keys.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    std::os::unix::fs::symlink("..", d.join("a/up")).expect("symlink");
    std::os::unix::fs::symlink("self", d.join("self")).expect("symlink");
    std::os::unix::fs::symlink("b", d.join("c")).expect("symlink");
    std::os::unix::fs::symlink("c", d.join("b")).expect("symlink");
    let run = scan(d, &[]);
    run.completed();
    assert_eq!(run.findings(), [("a/keys.env".into(), 1, 19, KEY.into())]);
    // Not followed: only their target text is read.
    assert_eq!(run.doc["summary"]["symlinks"], 4);
    // Named explicitly, a looping link is a warning, not a hang.
    let run = scan(d, &["self", "a"]);
    run.completed();
    assert_eq!(run.findings(), [("a/keys.env".into(), 1, 19, KEY.into())]);
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn a_fifo_does_not_block_the_scan() {
    let t = tmp();
    let d = t.path();
    mkfifo(&d.join("pipe.env"));
    write(d, "ok.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    let run = scan(d, &[]);
    run.completed();
    assert_eq!(run.findings(), [("ok.env".into(), 1, 19, KEY.into())]);
    assert_eq!(run.doc["summary"]["skipped_other"], 1);
    // Named on the command line, it is still not opened for a blocking read.
    let run = scan(d, &["pipe.env", "ok.env"]);
    run.completed();
    assert_eq!(run.findings(), [("ok.env".into(), 1, 19, KEY.into())]);
}

#[test]
fn a_path_that_vanishes_before_it_is_read() {
    let t = tmp();
    let d = t.path();
    // A dangling link named explicitly: the walker hands it over, the file
    // behind it is gone.
    std::os::unix::fs::symlink("gone.tf", d.join("link.tf")).expect("symlink");
    write(d, "ok.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    let run = scan(d, &["link.tf", "ok.env"]);
    run.completed();
    assert_eq!(run.findings(), [("ok.env".into(), 1, 19, KEY.into())]);
}

#[test]
fn files_removed_during_the_scan() {
    // Racy by nature: whatever the interleaving, the scan must finish
    // cleanly and report what it could read.
    let t = tmp();
    let d = t.path();
    for i in 0..3000 {
        write(
            d,
            &format!("f/{}/x{i}.env", i % 50),
            format!("AWS_ACCESS_KEY_ID={KEY}\n"),
        );
    }
    write(d, "kept/keys.env", format!("AWS_ACCESS_KEY_ID={KEY2}\n"));
    let victim = d.join("f");
    let remover = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        let _ = fs::remove_dir_all(victim);
    });
    let run = scan(d, &[]);
    remover.join().expect("remover");
    run.completed();
    let found = run.findings();
    assert!(found.iter().any(|f| f.0 == "kept/keys.env" && f.3 == KEY2));
    assert!(found.len() <= 3001);
}

/// Runs as `nobody` where the system offers a way; `None` when it does not.
fn as_nobody() -> Option<Vec<&'static str>> {
    let works = |cmd: &[&str]| {
        Command::new(cmd[0])
            .args(&cmd[1..])
            .arg("true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let setpriv = vec![
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    if works(&setpriv) {
        return Some(setpriv);
    }
    let runuser = vec!["runuser", "-u", "nobody", "--"];
    works(&runuser).then_some(runuser)
}

#[test]
fn a_directory_without_read_permission() {
    use std::os::unix::fs::PermissionsExt;
    let t = tmp();
    let d = t.path();
    write(d, "ok.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    write(d, "locked/keys.env", format!("AWS_ACCESS_KEY_ID={KEY2}\n"));
    write(d, "unreadable.env", format!("AWS_ACCESS_KEY_ID={KEY2}\n"));
    // The binary is copied next to the tree so `nobody` can run it whatever
    // the permissions of the build directory.
    let bin = d.join("keyward-bin");
    fs::copy(env!("CARGO_BIN_EXE_keyward"), &bin).expect("copy binary");
    for (p, mode) in [
        (d.to_path_buf(), 0o755),
        (bin.clone(), 0o755),
        (d.join("ok.env"), 0o644),
        (d.join("locked"), 0o000),
        (d.join("unreadable.env"), 0o000),
    ] {
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let prefix = if is_root {
        as_nobody()
    } else {
        Some(Vec::new())
    };
    let Some(prefix) = prefix else {
        // Root reads everything; without a way to drop privileges the
        // permission check cannot be exercised here.
        eprintln!("skipped: running as root without setpriv or runuser");
        return;
    };
    let run = scan_with(&prefix, &bin, d, &["ok.env", "locked", "unreadable.env"]);
    // Restore, so the temp dir can be removed.
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o755)).expect("chmod");
    run.completed();
    assert_eq!(run.findings(), [("ok.env".into(), 1, 19, KEY.into())]);
    let errors = run.errors();
    assert!(errors.contains("locked"), "{errors}");
    assert!(errors.contains("unreadable.env"), "{errors}");
    assert!(
        errors.to_lowercase().contains("permission denied"),
        "{errors}"
    );
}

#[test]
fn file_timeout_cuts_a_slow_file_short() {
    let t = tmp();
    let d = t.path();
    let mut y = format!("aws_access_key_id: {KEY}\n");
    for i in 0..200_000 {
        y.push_str(&format!("k{i}: [a, b, {{c: d}}]\n"));
    }
    write(d, "big.yaml", y);
    write(d, "ok.env", format!("AWS_ACCESS_KEY_ID={KEY2}\n"));
    let run = scan(d, &["--file-timeout", "0.001"]);
    run.completed();
    assert!(
        run.errors().contains("stopped after --file-timeout"),
        "{}",
        run.errors()
    );
    assert!(
        run.findings()
            .contains(&("ok.env".into(), 1, 19, KEY2.into()))
    );
    // The default budget is ample for the same file.
    let run = scan(d, &[]);
    run.completed();
    assert!(!run.errors().contains("file-timeout"), "{}", run.errors());
    assert!(
        run.findings()
            .contains(&("big.yaml".into(), 1, 20, KEY.into()))
    );
}

#[test]
fn threads_do_not_change_the_output_on_a_generated_tree() {
    let t = tmp();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("python3")
        .arg(root.join("bench/gen_tree.py"))
        .arg(t.path())
        .args(["--files", "1200", "--planted", "120", "--seed", "11"])
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs the generator");
    assert!(status.success());
    // The date is pinned: it is the one thing two runs may differ in.
    let now = ["--now", "2026-11-28T12:00:00Z"];
    let one = scan(t.path(), &["--threads", "1", now[0], now[1]]);
    let many = scan(t.path(), &["--threads", "8", now[0], now[1]]);
    one.completed();
    assert_eq!(one.doc, many.doc);
    // Every planted key is in the output at its line.
    let planted = fs::read_to_string(t.path().join(".planted")).expect(".planted");
    let found = one.findings();
    for row in planted.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        let line: u64 = f[2].parse().expect("line");
        assert!(
            found
                .iter()
                .any(|x| x.0 == f[1] && x.1 == line && x.3 == f[3]),
            "planted {row} not found"
        );
    }
}

/// Inputs on which a fuzz target failed, kept so the fix stays fixed: every
/// file under `tests/fuzz-regressions/<target>/` is replayed through the
/// same entry point and check.
#[test]
fn fuzz_regressions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut replayed = 0;
    for entry in fs::read_dir(dir.join("rule")).expect("rule regressions") {
        let path = entry.expect("entry").path();
        let text = String::from_utf8(fs::read(&path).expect("read")).expect("utf-8");
        if let Err(e) = keyward::rules::load::parse_rule("KW900-fuzzed.yaml", &text)
            && let Some(span) = e.span
        {
            assert!(
                span.offset() + span.len() <= text.len(),
                "{}: span {span:?} outside {} bytes",
                path.display(),
                text.len()
            );
        }
        replayed += 1;
    }
    assert!(replayed > 0);
}
