//! The gate holds against hostile changes, round three (issue 23): files
//! git marks binary, files keyward used to take for binary, oversized,
//! re-encoded and look-alike files. Each reproduction is a test here, run
//! in a real git repository: `main` holds the base, `pr` the change, and
//! the change is judged as the Action judges it (`--since main
//! --policy-from main`) or as the hook does (`--staged --policy-from HEAD`).

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

// Synthetic (scripts/genkey.py).
const KEY: &str = "AKIARZPUZDIKKJZDEGXD";
const SECRET: &str = "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";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// `main` with `base`, then branch `pr` with `change` written over it,
    /// committed.
    fn new(base: &[(&str, &[u8])], change: &[(&str, &[u8])]) -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        write(r.path(), "README.md", "demo\n");
        for (p, t) in base {
            write(r.path(), p, t);
        }
        r.commit("base");
        r.git(&["checkout", "-q", "-b", "pr"]);
        for (p, t) in change {
            write(r.path(), p, t);
        }
        r.commit("change");
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn commit(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    }

    fn run(&self, args: &[&str]) -> Output {
        keyward(self.path(), args)
    }

    /// The Action's judgement of the change: exit code and (rule, path,
    /// line) of each finding.
    fn gate(&self) -> (Option<i32>, Vec<(String, String, u64)>) {
        let out = self.run(&[
            "scan",
            "--since",
            "main",
            "--policy-from",
            "main",
            "--format",
            "json",
        ]);
        judged(&out)
    }
}

fn judged(out: &Output) -> (Option<i32>, Vec<(String, String, u64)>) {
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status.code(),
        stderr(out)
    );
    let doc = json(out);
    let hits = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(rule_path_line)
        .collect();
    (out.status.code(), hits)
}

fn env_file() -> String {
    format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n")
}

/// A name, the change's files, and where its key must be reported.
type Case = (
    &'static str,
    Vec<(&'static str, Vec<u8>)>,
    &'static str,
    u64,
);

fn utf16(text: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn has(hits: &[(String, String, u64)], rule: &str, path: &str, line: u64) -> bool {
    hits.iter()
        .any(|(r, p, l)| r == rule && p == path && *l == line)
}

/// `.gitattributes` used to switch the gate off: for a file git treats as
/// binary the patch has no hunks, and findings were kept only on the
/// patch's lines. Lines are now the decoded texts' own.
#[test]
fn gitattributes_cannot_switch_the_gate_off() {
    let env = env_file();
    let tf = format!(
        "provider \"aws\" {{\n  region     = \"eu-west-1\"\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n"
    );
    let cases: Vec<Case> = vec![
        (
            "-diff",
            vec![
                (".gitattributes", b"*.env -diff\n".to_vec()),
                (".env", env.clone().into_bytes()),
            ],
            ".env",
            1,
        ),
        (
            "binary",
            vec![
                (".gitattributes", b"*.env binary\n".to_vec()),
                (".env", env.clone().into_bytes()),
            ],
            ".env",
            1,
        ),
        (
            "linguist-generated",
            vec![
                (
                    ".gitattributes",
                    b"*.tf -diff linguist-generated=true\n".to_vec(),
                ),
                ("main.tf", tf.clone().into_bytes()),
            ],
            "main.tf",
            3,
        ),
        (
            "a new file under a -diff directory",
            vec![
                (".gitattributes", b"creds/** -diff\n".to_vec()),
                ("creds/prod.env", env.clone().into_bytes()),
            ],
            "creds/prod.env",
            1,
        ),
        (
            "UTF-16 with a byte-order mark",
            vec![("win.env", utf16(&env, true))],
            "win.env",
            1,
        ),
    ];
    for (name, change, path, line) in cases {
        let repo = Repo::new(&[], &to_slices(&change));
        let (code, hits) = repo.gate();
        assert_eq!(code, Some(1), "{name}: {hits:?}");
        assert!(has(&hits, "KW001", path, line), "{name}: {hits:?}");
        assert!(has(&hits, "KW002", path, line + 1), "{name}: {hits:?}");
    }
}

/// The attributes file was already there; the change only edits the
/// marked file. The findings are the change's, and only its new lines'.
#[test]
fn a_marked_file_edited_later_reports_only_what_the_edit_adds() {
    let base_env = format!("AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID={KEY}\n");
    let repo = Repo::new(
        &[
            (".gitattributes", b"*.env -diff\n"),
            (".env", base_env.as_bytes()),
        ],
        &[(
            ".env",
            format!(
                "AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"
            )
            .as_bytes(),
        )],
    );
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(1), "{hits:?}");
    // The secret is new, and the key it now pairs with is a new credential.
    assert!(has(&hits, "KW002", ".env", 3), "{hits:?}");
    assert!(hits.iter().all(|(_, p, _)| p == ".env"), "{hits:?}");
}

/// A change that marks files so reviewers cannot see them is a policy
/// change: KW015 on the line of `.gitattributes` that does it.
#[test]
fn a_gitattributes_line_that_hides_scanned_files_is_kw015() {
    let repo = Repo::new(
        &[(".env", b"AWS_REGION=eu-west-1\n")],
        &[(
            ".gitattributes",
            b"# generated\n*.png binary\n*.env -diff linguist-generated\n".as_slice(),
        )],
    );
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(1), "{hits:?}");
    // `*.png` matches no file of the tree: nothing hidden, nothing said.
    assert_eq!(
        hits,
        [("KW015".to_string(), ".gitattributes".to_string(), 3)],
        "{hits:?}"
    );
    let out = repo.run(&[
        "scan",
        "--since",
        "main",
        "--policy-from",
        "main",
        "--format",
        "concise",
    ]);
    let text = stdout(&out);
    assert!(text.contains("`-diff`"), "{text}");
    assert!(text.contains("`.env`"), "{text}");
}

fn to_slices<'a>(files: &'a [(&'a str, Vec<u8>)]) -> Vec<(&'a str, &'a [u8])> {
    files.iter().map(|(p, b)| (*p, b.as_slice())).collect()
}

/// Files keyward used to skip as binary: one NUL byte, mostly Latin-1
/// text, UTF-16 without a byte-order mark, and a real binary file with a
/// key in its printable bytes. Found in every mode.
#[test]
fn files_that_look_binary_are_still_searched_in_every_mode() {
    let env = env_file();
    let mut nul = env.clone().into_bytes();
    nul.insert(5, 0);
    let mut latin1 =
        b"# r\xe9gion: \xe9t\xe9 \xe0 Montr\xe9al, \xe7a marche tr\xe8s bien\n".repeat(20);
    latin1.extend_from_slice(env.as_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10".to_vec();
    png.extend_from_slice(format!("\0tEXt\0aws_access_key_id={KEY}\0").as_bytes());
    png.extend_from_slice(&[0x00, 0xff, 0x10, 0x80, 0x00, 0x00]);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("nul.env", nul),
        ("latin1.env", latin1),
        ("utf16.env", utf16(&env, false)),
        ("logo.png", png),
    ];
    let repo = Repo::new(&[], &to_slices(&files));
    let expect = |hits: &[(String, String, u64)], mode: &str| {
        for (path, _) in &files {
            assert!(
                hits.iter().any(|(r, p, _)| r == "KW001" && p == path),
                "{mode}: no KW001 in {path}: {hits:?}"
            );
        }
        for path in ["nul.env", "latin1.env", "utf16.env"] {
            assert!(
                hits.iter().any(|(r, p, _)| r == "KW002" && p == path),
                "{mode}: no KW002 in {path}: {hits:?}"
            );
        }
    };
    let (code, hits) = judged(&repo.run(&["scan", "--format", "json"]));
    assert_eq!(code, Some(1));
    expect(&hits, "scan");
    let (_, hits) = repo.gate();
    expect(&hits, "--since");
    let (_, hits) = judged(&repo.run(&["scan", "--history", "--format", "json"]));
    expect(&hits, "--history");
    // Staged: the same files in a fresh commit.
    repo.git(&["checkout", "-q", "main"]);
    for (p, b) in &files {
        write(repo.path(), p, b);
    }
    repo.git(&["add", "-A"]);
    let (_, hits) = judged(&repo.run(&[
        "scan",
        "--staged",
        "--policy-from",
        "HEAD",
        "--format",
        "json",
    ]));
    expect(&hits, "--staged");
}

/// A `keyward:ignore` in a UTF-16 file is seen by the added-marker check as
/// the scan sees it: the suppression is KW015.
#[test]
fn an_ignore_in_a_utf16_file_is_a_suppression_added() {
    let repo = Repo::new(&[], &[]);
    let text = format!("AWS_ACCESS_KEY_ID={KEY} # keyward:ignore -- test\n");
    write(repo.path(), "win.env", utf16(&text, true));
    repo.git(&["add", "-A"]);
    let (code, hits) = judged(&repo.run(&[
        "scan",
        "--staged",
        "--strict-suppressions",
        "--policy-from",
        "HEAD",
        "--format",
        "json",
    ]));
    assert_eq!(code, Some(1), "{hits:?}");
    assert!(has(&hits, "KW015", "win.env", 1), "{hits:?}");
}

/// An ignore comment inside a Markdown code fence is an example: it
/// silences nothing, and KW015 does not claim it does.
#[test]
fn an_ignore_in_a_markdown_fence_is_not_a_suppression() {
    let repo = Repo::new(
        &[],
        &[(
            "docs/setup.md",
            format!("# Setup\n\n```sh\nexport AWS_ACCESS_KEY_ID={KEY} # keyward:ignore\n```\n")
                .as_bytes(),
        )],
    );
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(1));
    assert!(has(&hits, "KW001", "docs/setup.md", 4), "{hits:?}");
    assert!(
        !hits.iter().any(|(r, _, _)| r == "KW015"),
        "an example is not a suppression: {hits:?}"
    );
}

/// Padding a file past `max-file-size` no longer hides it: it is streamed
/// for keys in every mode, and in a change it is also a finding of its own
/// (KW015, at the gate's severity) because nobody judged it whole.
#[test]
fn a_file_padded_past_the_size_limit_is_searched_and_flagged() {
    let config = b"[scan]\nmax-file-size = 4096\n".as_slice();
    let mut padded = "# filler\n".repeat(1000).into_bytes();
    padded.extend_from_slice(env_file().as_bytes());
    let repo = Repo::new(
        &[("keyward.toml", config)],
        &[("big.env", padded.as_slice())],
    );
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(1), "{hits:?}");
    assert!(has(&hits, "KW001", "big.env", 1001), "{hits:?}");
    assert!(has(&hits, "KW002", "big.env", 1002), "{hits:?}");
    // On the file's first place keyward shows (its first window here).
    assert!(
        hits.iter().any(|(r, p, _)| r == "KW015" && p == "big.env"),
        "{hits:?}"
    );
    let out = repo.run(&[
        "scan",
        "--since",
        "main",
        "--policy-from",
        "main",
        "--format",
        "concise",
    ]);
    assert!(
        stdout(&out).contains("too large to parse"),
        "{}",
        stdout(&out)
    );
    // A plain scan and the history find the key too.
    let (_, hits) = judged(&repo.run(&["scan", "--format", "json"]));
    assert!(has(&hits, "KW001", "big.env", 1001), "{hits:?}");
    let (_, hits) = judged(&repo.run(&["scan", "--history", "--format", "json"]));
    assert!(has(&hits, "KW001", "big.env", 1001), "{hits:?}");
}

/// A JSON file shaped like an IAM inventory is skipped (its key IDs are
/// there by design), so a change that adds one is a finding: otherwise it
/// is a place to hide a key.
#[test]
fn an_inventory_look_alike_added_by_a_change_is_flagged() {
    let inventory = format!(
        "{{\"version\": 1, \"generated_at\": \"2026-11-28T12:00:00Z\", \"accounts\": [{{\"account\": \"123456789012\", \"keys\": [{{\"access_key_id\": \"{KEY}\", \"user\": \"ci\", \"status\": \"Active\", \"created\": \"2025-01-01T00:00:00Z\"}}]}}]}}\n"
    );
    let repo = Repo::new(&[], &[("config/keys.json", inventory.as_bytes())]);
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(1), "{hits:?}");
    assert_eq!(
        hits,
        [("KW015".to_string(), "config/keys.json".to_string(), 1)],
        "{hits:?}"
    );
}

/// Without `--policy-from` (the Action's `policy-from: none`) the change's
/// own configuration judges it, so every setting that narrows what is read
/// is KW015 on its line.
#[test]
fn settings_that_narrow_the_scan_are_kw015_without_policy_from() {
    let cases: Vec<(&str, &str, &str, u64, &str)> = vec![
        (
            "max-file-size",
            "[scan]\nno-ignore = true\n",
            "[scan]\nno-ignore = true\nmax-file-size = 10\n",
            3,
            "lowers `max-file-size`",
        ),
        (
            "no-ignore",
            "[scan]\nno-ignore = true\n",
            "[scan]\nno-ignore = false\n",
            2,
            "turns `no-ignore` off",
        ),
        (
            "include-placeholders",
            "[scan]\ninclude-placeholders = true\n",
            "[scan]\n",
            1,
            "turns `include-placeholders` off",
        ),
    ];
    for (name, base, change, line, says) in cases {
        let repo = Repo::new(
            &[("keyward.toml", base.as_bytes())],
            &[
                ("keyward.toml", change.as_bytes()),
                ("app.env", env_file().as_bytes()),
            ],
        );
        let out = repo.run(&["scan", "--since", "main", "--format", "json"]);
        let (code, hits) = judged(&out);
        assert_eq!(code, Some(1), "{name}: {hits:?}");
        assert!(
            has(&hits, "KW015", "keyward.toml", line),
            "{name}: {hits:?}"
        );
        assert!(stdout(&out).contains(says), "{name}: {}", stdout(&out));
    }
    // Deleting the configuration is a policy change too.
    let repo = Repo::new(
        &[(
            "keyward.toml",
            b"[scan]\nmax-file-size = 100000000\n".as_slice(),
        )],
        &[],
    );
    std::fs::remove_file(repo.path().join("keyward.toml")).expect("rm");
    repo.commit("no config");
    let out = repo.run(&["scan", "--since", "main", "--format", "json"]);
    let (code, hits) = judged(&out);
    assert_eq!(code, Some(1), "{hits:?}");
    assert!(has(&hits, "KW015", "keyward.toml", 1), "{hits:?}");
}

/// The exclude the docs used to recommend for an inventory (`.keyward/**`)
/// cannot hide a key a change writes there.
#[test]
fn an_excluded_path_does_not_hide_a_key_a_change_adds() {
    let config = b"[scan]\nexclude = [\".keyward/**\"]\n".as_slice();
    let repo = Repo::new(
        &[("keyward.toml", config)],
        &[(".keyward/prod.env", env_file().as_bytes())],
    );
    for policy_from in [true, false] {
        let mut args = vec!["scan", "--since", "main", "--format", "json"];
        if policy_from {
            args.extend(["--policy-from", "main"]);
        }
        let (code, hits) = judged(&repo.run(&args));
        assert_eq!(code, Some(1), "{hits:?}");
        assert!(has(&hits, "KW015", ".keyward/prod.env", 1), "{hits:?}");
        assert!(has(&hits, "KW015", ".keyward/prod.env", 2), "{hits:?}");
    }
    // A file the base already held, only touched, is not the change's.
    let repo = Repo::new(
        &[
            ("keyward.toml", config),
            (".keyward/prod.env", env_file().as_bytes()),
        ],
        &[(
            ".keyward/prod.env",
            format!("# touched\n{}", env_file()).as_bytes(),
        )],
    );
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(0), "{hits:?}");
}

/// Hostile names and inventory fields in every Markdown and HTML output: a
/// YAML key with backticks, a file named like an HTML tag, an IAM user and
/// a last-used service from an inventory. Nothing becomes a link, an image
/// or markup.
#[test]
fn hostile_names_stay_text_in_markdown_and_html() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let evil_key = "x` [click](https://evil.example/a) ![p](https://evil.example/p.png) `y";
    write(
        d,
        "values.yaml",
        format!("creds:\n  \"{evil_key}\": {KEY}\n"),
    );
    write(
        d,
        "<img src=x onerror=alert(1)>.env",
        format!("AWS_ACCESS_KEY_ID={KEY}\n"),
    );
    write(
        d,
        "inv.json",
        format!(
            "{{\"version\": 1, \"generated_at\": \"2026-11-28T12:00:00Z\", \"accounts\": [{{\"account\": \"123456789012\", \"keys\": [{{\"access_key_id\": \"{KEY}\", \"user\": \"<b>u</b>\", \"status\": \"Active\", \"created\": \"2025-01-01T00:00:00Z\", \"last_used\": \"2026-11-27T00:00:00Z\", \"last_used_service\": \"![s](https://evil.example/s.png)\", \"last_used_region\": \"<i>r</i>\"}}]}}]}}\n"
        ),
    );
    let summary = d.join("summary.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args([
            "scan",
            ".",
            "--inventory",
            "inv.json",
            "--now",
            "2026-11-28T12:00:00Z",
            "--format",
            "github",
        ])
        .current_dir(d)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let step = std::fs::read_to_string(&summary).expect("summary written");
    let md = stdout(&keyward(
        d,
        &[
            "scan",
            ".",
            "--inventory",
            "inv.json",
            "--now",
            "2026-11-28T12:00:00Z",
            "--format",
            "markdown",
        ],
    ));
    let html = stdout(&keyward(
        d,
        &[
            "scan",
            ".",
            "--inventory",
            "inv.json",
            "--now",
            "2026-11-28T12:00:00Z",
            "--format",
            "html",
        ],
    ));
    // Rendered as GitHub renders Markdown (CommonMark with tables): the
    // names are there, as text.
    for (name, text) in [("step summary", &step), ("markdown", &md)] {
        let mut options = pulldown_cmark::Options::empty();
        options.insert(pulldown_cmark::Options::ENABLE_TABLES);
        let mut rendered = String::new();
        pulldown_cmark::html::push_html(
            &mut rendered,
            pulldown_cmark::Parser::new_ext(text, options),
        );
        assert!(
            rendered.contains("evil.example"),
            "{name} lost the name: {rendered}"
        );
        for live in ["<a ", "<img", "<b>", "<i>"] {
            assert!(
                !rendered.contains(live),
                "{name} renders live `{live}`:\n{rendered}"
            );
        }
        // The key name is one code span, whole, in its cell (the audit
        // lists places, not messages).
        assert!(
            name == "markdown" || rendered.contains(
                "<code>creds.x\u{2cb} [click](https://evil.example/a) ![p](https://evil.example/p.png) \u{2cb}y</code>"
            ),
            "{name}: {rendered}"
        );
        assert!(
            rendered.contains("&lt;img src=x onerror=alert(1)&gt;.env"),
            "{name}: {rendered}"
        );
        assert!(
            name != "markdown" || rendered.contains("<code>&lt;b&gt;u&lt;/b&gt;</code>"),
            "{name}: {rendered}"
        );
    }
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    for live in ["<img", "<b>u", "<i>r"] {
        assert!(!html.contains(live), "html has live `{live}`");
    }
}

/// A key ID written with string escapes is decoded the same way by every
/// parser, and the prefilter lets the file through to be parsed.
#[test]
fn escaped_key_ids_are_found_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let tail = &KEY[1..];
    let cases: Vec<(&str, String, u64)> = vec![
        ("x.yaml", format!("a: \"\\x41{tail}\"\n"), 1),
        ("u.yaml", format!("a: \"\\u0041{tail}\"\n"), 1),
        ("big_u.yaml", format!("a: \"\\U00000041{tail}\"\n"), 1),
        (
            "folded.yaml",
            format!("a: \"{}\\\n   {}\"\n", &KEY[..8], &KEY[8..]),
            1,
        ),
        (
            "u.tf",
            format!("locals {{\n  k = \"\\u0041{tail}\"\n}}\n"),
            2,
        ),
        (
            "big_u.tf",
            format!("locals {{\n  k = \"\\U00000041{tail}\"\n}}\n"),
            2,
        ),
        ("u.json", format!("{{\"k\": \"\\u0041{tail}\"}}\n"), 1),
    ];
    for (name, text, _) in &cases {
        write(d, name, text);
    }
    let (_, hits) = judged(&keyward(d, &["scan", ".", "--format", "json"]));
    for (name, _, line) in &cases {
        assert!(has(&hits, "KW001", name, *line), "{name}: {hits:?}");
    }
}

/// A symlink is not followed, but its target text is what git stores for
/// it, so that text is scanned: in a walk and in a change.
#[test]
fn a_symlink_whose_target_is_a_key_is_scanned() {
    let repo = Repo::new(&[], &[]);
    std::os::unix::fs::symlink(KEY, repo.path().join("link.env")).expect("symlink");
    repo.commit("link");
    let (_, hits) = judged(&repo.run(&["scan", ".", "--format", "json"]));
    assert!(has(&hits, "KW001", "link.env", 1), "{hits:?}");
    let (code, hits) = repo.gate();
    assert_eq!(code, Some(1), "{hits:?}");
    assert!(has(&hits, "KW001", "link.env", 1), "{hits:?}");
    let (_, hits) = judged(&repo.run(&["scan", "--history", "--format", "json"]));
    assert!(has(&hits, "KW001", "link.env", 1), "{hits:?}");
}

/// 250,000 ignore comments that silence nothing are capped like any rule's
/// findings: the first thousand reported, the rest counted.
#[test]
fn unused_ignores_are_capped_per_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "many.sh",
        "echo x # keyward:ignore\n".repeat(250_000),
    );
    let out = keyward(dir.path(), &["scan", ".", "--format", "json"]);
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1000);
    assert!(findings.iter().all(|f| f["rule"] == "KW000"));
    assert_eq!(doc["summary"]["not_shown"], 249_000, "{}", doc["summary"]);
    assert_eq!(doc["more"][0]["count"], 249_000);
    assert!(out.stdout.len() < 4 << 20, "{} bytes", out.stdout.len());
}

/// Values under secret-ish names that are not AWS credentials are masked
/// in snippets too.
#[test]
fn snippets_mask_passwords_and_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b";
    write(
        dir.path(),
        "app.env",
        format!("AWS_ACCESS_KEY_ID={KEY} DB_PASSWORD=hunter2hunter2 API_TOKEN={hex}\n"),
    );
    let out = keyward(dir.path(), &["scan", ".", "--format", "json"]);
    let text = stdout(&out);
    assert!(text.contains(KEY), "{text}");
    assert!(!text.contains("hunter2hunter2"), "{text}");
    assert!(!text.contains(hex), "{text}");
    let human = stdout(&keyward(dir.path(), &["scan", "."]));
    assert!(!human.contains("hunter2hunter2"), "{human}");
    assert!(!human.contains(hex), "{human}");
}

/// Work per file grows linearly (or n log n) with its credentials: four
/// times the key/secret pairs take about four times as long, not sixteen
/// (pairing used to compare every secret with every key of its block: 80k
/// pairs took 53 s). A growth order, not a speed target: the factor
/// allowed is twice what n log n needs, a quarter of what n² takes.
#[test]
fn time_per_file_grows_linearly_with_its_pairs() {
    fn env_of(pairs: usize) -> String {
        let mut s = String::with_capacity(pairs * 110);
        let b32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for i in 0..pairs {
            let key: String = (0..16).map(|_| b32[next(32)] as char).collect();
            let secret: String = (0..40).map(|_| b64[next(62)] as char).collect();
            s.push_str(&format!(
                "AWS_ACCESS_KEY_ID_{i}=AKIA{key}\nAWS_SECRET_ACCESS_KEY_{i}={secret}\n"
            ));
        }
        s
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let time = |pairs: usize| {
        write(dir.path(), "pairs.env", env_of(pairs));
        (0..2)
            .map(|_| {
                let start = std::time::Instant::now();
                let out = keyward(
                    dir.path(),
                    &[
                        "scan",
                        "pairs.env",
                        "--format",
                        "concise",
                        "--max-file-size",
                        "100000000",
                    ],
                );
                assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
                start.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let small = time(5_000);
    let large = time(20_000);
    assert!(
        large < small * 8.0,
        "5,000 pairs {small:.2} s, 20,000 pairs {large:.2} s: superlinear"
    );
}

/// `[rules] ignore`/`select` in a change's configuration cannot switch the
/// gate off: with `--policy-from` the base's rules run, and the change is
/// KW015 on the selection's line either way.
#[test]
fn a_rule_selection_a_change_adds_is_kw015() {
    for config in [
        "[rules]\nignore = [\"KW00\"]\n",
        "[rules]\nselect = [\"KW015\"]\n",
    ] {
        let repo = Repo::new(
            &[],
            &[
                ("keyward.toml", config.as_bytes()),
                ("app.env", env_file().as_bytes()),
            ],
        );
        let (code, hits) = repo.gate();
        assert_eq!(code, Some(1), "{config}: {hits:?}");
        assert!(has(&hits, "KW001", "app.env", 1), "{config}: {hits:?}");
        assert!(has(&hits, "KW002", "app.env", 2), "{config}: {hits:?}");
        assert!(has(&hits, "KW015", "keyward.toml", 2), "{config}: {hits:?}");
        let out = repo.run(&["scan", "--since", "main", "--format", "json"]);
        let (code, hits) = judged(&out);
        assert_eq!(code, Some(1), "{config}: {hits:?}");
        assert!(has(&hits, "KW015", "keyward.toml", 2), "{config}: {hits:?}");
        assert!(
            stdout(&out).contains("turns off rule KW001"),
            "{}",
            stdout(&out)
        );
    }
}
