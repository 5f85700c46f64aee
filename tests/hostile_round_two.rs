//! Hostile input, round two: each reproduction of the adversarial pass is a
//! test here. Every run has a wall-clock deadline, and peak memory is read
//! with `getrusage(RUSAGE_CHILDREN)` from a parent process (python3), so a
//! blow-up fails the test instead of the machine.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::write;

const KEY: &str = "AKIARZPUZDIKBKJDPPTT";
// Not the secret of any rule's documentation, which SARIF embeds.
const SECRET: &str = "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";
const DEADLINE: Duration = Duration::from_secs(90);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    peak_mib: u64,
    wall: Duration,
}

/// Runs keyward in `dir` under a python3 parent that reports the child's
/// peak RSS (ru_maxrss, KiB on Linux) on its stderr's last line.
fn run(dir: &Path, args: &[&str]) -> Run {
    const WRAP: &str = "import resource, subprocess, sys\n\
        p = subprocess.run(sys.argv[1:])\n\
        sys.stderr.write('\\nMAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
        sys.exit(p.returncode)\n";
    let start = Instant::now();
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(WRAP)
        .arg(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let out_reader = {
        let mut o = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = std::io::Read::read_to_end(&mut o, &mut s);
            s
        })
    };
    let err_reader = {
        let mut e = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = std::io::Read::read_to_end(&mut e, &mut s);
            s
        })
    };
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("keyward {args:?} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    let peak_kib = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("MAXRSS "))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .expect("peak RSS reported");
    Run {
        code: status.code(),
        stdout,
        stderr,
        peak_mib: peak_kib / 1024,
        wall,
    }
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    fn clean(&self) {
        assert!(
            matches!(self.code, Some(0 | 1)),
            "exit {:?}: {}",
            self.code,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn rules_at(doc: &serde_json::Value) -> Vec<(String, String, u64)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(common::rule_path_line)
        .collect()
}

#[test]
fn a_finding_past_column_65535_renders_as_a_window() {
    let t = tmp();
    write(
        t.path(),
        "w/a.txt",
        format!("{} aws_access_key_id={KEY}\n", "x".repeat(65_600)),
    );
    let r = run(t.path(), &["scan", "--color", "never", "w"]);
    r.clean();
    assert_eq!(r.code, Some(1));
    // The file's own column, in characters, and a cut line with an ellipsis.
    assert!(r.stdout.contains("w/a.txt:1:65620"), "{}", r.stdout);
    let shown = r
        .stdout
        .lines()
        .find(|l| l.contains(KEY) && l.contains('│'))
        .expect("snippet line");
    assert!(shown.contains('…'), "{shown}");
    assert!(shown.chars().count() < 300, "{} characters", shown.len());
}

#[test]
fn many_findings_in_one_file_are_capped_and_cheap() {
    let t = tmp();
    let n: u64 = 40_000;
    // Distinct well-formed key IDs, one per line (840 KB).
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut text = String::new();
    for i in 0..n {
        let mut id = String::from("AKIARZPUZDIK");
        let mut x = i * 2_654_435_761 + 97;
        for _ in 0..8 {
            id.push(char::from(alphabet[(x % 32) as usize]));
            x /= 32;
        }
        text.push_str(&id);
        text.push('\n');
    }
    write(t.path(), "keys.txt", &text);
    for format in ["human", "json", "sarif", "github"] {
        let r = run(t.path(), &["scan", "--format", format, "--color", "never"]);
        r.clean();
        assert_eq!(r.code, Some(1), "{format}");
        assert!(r.peak_mib < 150, "{format}: peak {} MiB", r.peak_mib);
        assert!(
            r.stdout.len() < 4 << 20,
            "{format}: {} bytes of output",
            r.stdout.len()
        );
        if format == "json" {
            let doc = r.json();
            let shown = doc["findings"].as_array().expect("findings").len() as u64;
            let more = &doc["more"][0];
            assert_eq!(shown, 1000);
            assert_eq!(more["rule"], "KW001");
            assert_eq!(more["path"], "keys.txt");
            let placeholders = doc["summary"]["placeholders"].as_u64().unwrap_or(0);
            assert_eq!(
                shown + more["count"].as_u64().unwrap_or(0) + placeholders,
                n
            );
            assert_eq!(doc["summary"]["not_shown"], more["count"]);
        }
        if format == "human" {
            assert!(r.stdout.contains("more not shown"), "{}", tail(&r.stdout));
        }
    }
}

fn tail(s: &str) -> &str {
    let at = s.len().saturating_sub(2000);
    let mut at = at;
    while !s.is_char_boundary(at) {
        at += 1;
    }
    &s[at..]
}

#[test]
fn peak_memory_stays_within_150_mib_plus_twice_the_file() {
    let t = tmp();
    let d = t.path();
    let big = "a".repeat(9_000_000);
    write(
        d,
        "hcl/big.tf",
        format!("locals {{\n  s = \"{big}\"\n  access_key = \"{KEY}\"\n}}\n"),
    );
    write(
        d,
        "heredoc/big.tf",
        format!(
            "locals {{\n  s = <<EOT\n{}\nEOT\n  access_key = \"{KEY}\"\n}}\n",
            "b c\n".repeat(500_000)
        ),
    );
    let attrs: String = (0..100_000)
        .map(|i| format!("  a{i} = \"v{i}\"\n"))
        .collect();
    write(
        d,
        "attrs/one.tf",
        format!("locals {{\n{attrs}  access_key = \"{KEY}\"\n}}\n"),
    );
    write(
        d,
        "yaml/big.yaml",
        format!("a: \"{big}\"\naccess_key: {KEY}\n"),
    );
    write(
        d,
        "json/big.json",
        format!("{{\"s\": \"{big}\", \"access_key\": \"{KEY}\"}}"),
    );
    for dir in ["hcl", "heredoc", "attrs", "yaml", "json"] {
        let size: u64 = std::fs::read_dir(d.join(dir))
            .expect("dir")
            .map(|e| e.expect("entry").metadata().expect("meta").len())
            .sum();
        let r = run(d, &["scan", "--format", "json", dir]);
        r.clean();
        let doc = r.json();
        assert_eq!(
            rules_at(&doc).iter().filter(|f| f.0 == "KW001").count(),
            1,
            "{dir}: {}",
            r.stdout
        );
        let bound = 150 + 2 * size / (1 << 20);
        assert!(
            r.peak_mib <= bound,
            "{dir}: peak {} MiB over {bound} MiB",
            r.peak_mib
        );
    }
}

#[test]
fn special_files_named_on_the_command_line_are_refused_quickly() {
    let t = tmp();
    write(t.path(), "a.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    for args in [
        &["scan", "--baseline", "/dev/zero", "."][..],
        &["scan", "--config", "/dev/zero", "."],
        &["scan", "--inventory", "/dev/zero", "."],
        &["report", "/dev/zero"],
    ] {
        let r = run(t.path(), args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(r.peak_mib < 100, "{args:?}: peak {} MiB", r.peak_mib);
        assert!(r.wall < Duration::from_secs(10), "{args:?}: {:?}", r.wall);
        assert!(
            r.stderr.contains("/dev/zero"),
            "{args:?}: names the file: {}",
            r.stderr
        );
    }
}

#[test]
fn threads_are_clamped() {
    let t = tmp();
    write(t.path(), "a.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
    let r = run(
        t.path(),
        &["scan", "--threads", "10000", "--format", "json"],
    );
    r.clean();
    assert!(r.wall < Duration::from_secs(20), "{:?}", r.wall);
    assert_eq!(rules_at(&r.json()).len(), 1);
    assert!(
        r.stdout.contains("--threads 10000 is more than 256"),
        "a note: {}",
        r.stdout
    );
}

#[test]
fn no_format_prints_a_secret_detection_did_not_understand() {
    let t = tmp();
    write(
        t.path(),
        "padded/credentials",
        format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}=\n"),
    );
    write(
        t.path(),
        "prefixed/credentials",
        format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = x{SECRET}\n"),
    );
    for format in ["human", "json", "sarif", "github"] {
        let r = run(t.path(), &["scan", "--format", format, "--color", "never"]);
        r.clean();
        assert!(!r.stdout.contains(SECRET), "{format} printed the secret");
        assert!(!r.stderr.contains(SECRET), "{format} printed the secret");
    }
    // The padded form is the secret with a stray `=`: found and paired.
    let doc = run(t.path(), &["scan", "--format", "json", "padded"]).json();
    let secret = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW002")
        .expect("KW002 for the padded secret");
    assert_eq!(secret["key_id"], KEY);
}

#[test]
fn file_names_cannot_inject_workflow_commands_or_escapes() {
    let t = tmp();
    let evil = "evil\n::error file=pwn.tf,line=1::INJECTED.txt";
    let esc = "esc\x1b[2J\x1b[31m.txt";
    write(t.path(), evil, format!("aws_access_key_id={KEY}\n"));
    write(t.path(), esc, format!("aws_access_key_id={KEY}\n"));
    for format in ["human", "github", "json"] {
        let r = run(t.path(), &["scan", "--format", format, "--color", "never"]);
        r.clean();
        for line in r.stdout.lines() {
            assert!(
                !line.starts_with("::error file=pwn"),
                "{format}: injected line {line:?}"
            );
        }
        assert!(!r.stdout.contains('\x1b'), "{format}: raw ESC in output");
        assert!(!r.stderr.contains('\x1b'), "{format}: raw ESC on stderr");
    }
    // Error messages name files the same way.
    for flag in ["--baseline", "--config", "--inventory"] {
        let r = run(
            t.path(),
            &["scan", flag, "missing\x1b[31m\n::error::x.json", "."],
        );
        assert_eq!(r.code, Some(2), "{flag}: {}", r.stderr);
        assert!(!r.stderr.contains('\x1b'), "{flag}: raw ESC: {}", r.stderr);
        assert!(
            !r.stderr
                .lines()
                .any(|l| l.trim_start().starts_with("::error")),
            "{flag}: {}",
            r.stderr
        );
    }
}

#[test]
fn key_ids_used_as_names_are_found_and_paired() {
    let t = tmp();
    let d = t.path();
    write(
        d,
        "curl.sh",
        format!("curl --user {KEY}:{SECRET} https://x/\n"),
    );
    write(d, "name.yaml", format!("{KEY}: {SECRET}\n"));
    write(d, "name.json", format!("{{\"{KEY}\": \"{SECRET}\"}}"));
    write(
        d,
        "object.tf",
        format!("locals {{\n  x = {{\n    {KEY} = \"{SECRET}\"\n  }}\n}}\n"),
    );
    write(d, "name.env", format!("{KEY}={SECRET}\n"));
    write(d, "url.txt", format!("https://{KEY}:{SECRET}@host/\n"));
    let doc = run(d, &["scan", "--format", "json"]).json();
    let found = rules_at(&doc);
    for file in [
        "curl.sh",
        "name.yaml",
        "name.json",
        "object.tf",
        "name.env",
        "url.txt",
    ] {
        for rule in ["KW001", "KW002"] {
            assert!(
                found.iter().any(|f| f.0 == rule && f.1 == file),
                "{rule} in {file}: {found:?}"
            );
        }
    }
    write(d, "section/a.ini", format!("[{KEY}]\nregion = eu-west-1\n"));
    let doc = run(d, &["scan", "--format", "json", "section"]).json();
    assert_eq!(
        rules_at(&doc),
        [("KW001".into(), "section/a.ini".into(), 1)]
    );
}

#[test]
fn an_unquoted_key_id_in_hcl_is_reported() {
    let t = tmp();
    write(
        t.path(),
        "main.tf",
        format!("provider \"aws\" {{\n  access_key = {KEY}\n}}\n"),
    );
    let doc = run(t.path(), &["scan", "--format", "json"]).json();
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "KW001");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 16);
}

#[test]
fn declared_base64_is_searched_as_bytes_one_level_deep() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let t = tmp();
    let d = t.path();
    let creds = format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n");
    write(
        d,
        "binary.yaml",
        format!("creds: !!binary {}\n", b64(creds.as_bytes())),
    );
    let mut binary = vec![0xff, 0xfe, 0x00];
    binary.extend_from_slice(KEY.as_bytes());
    binary.push(0);
    let secret = |name: &str, value: String| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ndata:\n  blob: {value}\n")
    };
    write(d, "k8s/binary.yaml", secret("a", b64(&binary)));
    write(
        d,
        "k8s/double.yaml",
        secret("b", b64(b64(creds.as_bytes()).as_bytes())),
    );
    let doc = run(d, &["scan", "--format", "json"]).json();
    let found = rules_at(&doc);
    for file in ["binary.yaml", "k8s/binary.yaml", "k8s/double.yaml"] {
        assert!(
            found.iter().any(|f| f.0 == "KW001" && f.1 == file),
            "KW001 in {file}: {found:?}"
        );
    }
    for file in ["binary.yaml", "k8s/double.yaml"] {
        assert!(
            found.iter().any(|f| f.0 == "KW002" && f.1 == file),
            "KW002 in {file}: {found:?}"
        );
    }
}

#[test]
fn carriage_returns_alone_end_lines() {
    let t = tmp();
    write(
        t.path(),
        "mac.env",
        format!("# old Mac line ends\rREGION=x\rAWS_ACCESS_KEY_ID={KEY}\r"),
    );
    let doc = run(t.path(), &["scan", "--format", "json"]).json();
    let f = &doc["findings"][0];
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(3), Some(19))
    );
    let human = run(t.path(), &["scan", "--color", "never"]);
    assert!(human.stdout.contains("mac.env:3:19"), "{}", human.stdout);
}
