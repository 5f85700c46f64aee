//! No secret leaves keyward in full (issue 23, item 6). Secret-shaped
//! tokens drawn at random are written into every place a change author
//! controls (configuration values and names, an ignore comment's reason,
//! file names, YAML keys, an inventory, a baseline) and every format and
//! error path is run over them: the token must not appear in stdout,
//! stderr, an `--output` file or the job summary.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const KEY: &str = "AKIARZPUZDIKKJZDEGXD";

/// A small deterministic generator: the same tokens on every run, many
/// shapes across seeds.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A 40-character secret access key: base64 characters with both
    /// cases and a digit, and `/` or `+` in some.
    fn secret(&mut self) -> String {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        loop {
            let slash = self.next() % 3;
            let s: String = (0..40)
                .map(|i| {
                    let r = self.next();
                    if slash > 0 && i % 13 == 7 {
                        if slash == 1 { '/' } else { '+' }
                    } else {
                        ALNUM[(r % ALNUM.len() as u64) as usize] as char
                    }
                })
                .collect();
            let classes = [
                s.bytes().any(|b| b.is_ascii_uppercase()),
                s.bytes().any(|b| b.is_ascii_lowercase()),
                s.bytes().any(|b| b.is_ascii_digit()),
            ];
            if classes.iter().all(|&c| c) {
                return s;
            }
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    git_in(dir, args);
}

/// Every output of one run: stdout, stderr, the `-o` file, the summary.
fn outputs(dir: &Path, args: &[&str]) -> String {
    let summary = dir.join("summary.md");
    let _ = std::fs::remove_file(&summary);
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("keyward runs");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    all.push_str(&std::fs::read_to_string(&summary).unwrap_or_default());
    all.push_str(&std::fs::read_to_string(dir.join("out.report")).unwrap_or_default());
    let _ = std::fs::remove_file(dir.join("out.report"));
    all
}

fn assert_hidden(secret: &str, what: &str, text: &str) {
    assert!(
        !text.contains(secret),
        "{what} prints the secret {secret} in full:\n{text}"
    );
    // In pieces too: a line wrapped inside the secret (terminal renderers
    // break at `/`) prints all of it, and the mask keeps only 4 + 4.
    let chars: Vec<char> = secret.chars().collect();
    for piece in chars.windows(10) {
        let piece: String = piece.iter().collect();
        assert!(
            !text.contains(&piece),
            "{what} prints `{piece}` of the secret {secret}:\n{text}"
        );
    }
}

/// A repository whose change puts `secret` everywhere a change can.
fn hostile_repo(secret: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    git(d, &["config", "commit.gpgsign", "false"]);
    write(d, "README.md", "demo\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    git(d, &["checkout", "-q", "-b", "pr"]);
    write(
        d,
        "keyward.toml",
        format!(
            "[[allow]]\nfingerprint = \"{secret}\"\nreason = \"ok {secret}\"\n\n[[allow]]\npath = \"{secret}/**\"\nreason = \"see {secret}\"\n"
        ),
    );
    write(
        d,
        "app.env",
        format!(
            "AWS_ACCESS_KEY_ID={KEY} # keyward:ignore -- reviewed {secret}\nAWS_SECRET_ACCESS_KEY={secret}\nDB_PASSWORD={}\n",
            &secret[..20]
        ),
    );
    write(
        d,
        "values.yaml",
        format!("creds:\n  \"`{secret}`\": {KEY}\n  aws_secret_access_key: {secret}\n"),
    );
    write(
        d,
        &format!("{secret}.env"),
        format!("AWS_ACCESS_KEY_ID={KEY}\n"),
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "change"]);
    dir
}

#[test]
fn no_format_and_no_mode_prints_a_secret() {
    let mut draw = Draw(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3 {
        let secret = draw.secret();
        let repo = hostile_repo(&secret);
        let d = repo.path();
        for format in [
            "human", "concise", "json", "sarif", "github", "gitlab", "markdown", "html",
        ] {
            for mode in [
                vec!["scan", "."],
                vec!["scan", "--since", "main"],
                vec!["scan", "--since", "main", "--policy-from", "main"],
                vec!["scan", "--history"],
            ] {
                let mut args = mode.clone();
                args.extend(["--format", format, "-o", "out.report"]);
                let text = outputs(d, &args);
                assert_hidden(&secret, &format!("{args:?}"), &text);
                // The runs are about the secret: its masked form is there.
                if format == "json" && mode.len() == 2 {
                    let masked = format!("{}…{}", &secret[..4], &secret[36..]);
                    assert!(text.contains(&masked), "{args:?}: no {masked} in {text}");
                }
            }
        }
        for args in [
            vec!["baseline", "-o", "out.report"],
            vec!["fix", "--diff"],
            vec!["fix", "--diff", "--unsafe"],
            vec!["plan"],
            vec!["config", "show"],
        ] {
            let text = outputs(d, &args);
            assert_hidden(&secret, &format!("{args:?}"), &text);
        }
    }
}

/// Configuration, inventory and baseline files that keyward refuses quote
/// the offending value in their errors: masked.
#[test]
fn errors_about_bad_files_do_not_print_a_secret() {
    let mut draw = Draw(0xD1B5_4A32_D192_ED03);
    for _ in 0..3 {
        let secret = draw.secret();
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        write(d, "app.env", format!("AWS_ACCESS_KEY_ID={KEY}\n"));
        let configs = [
            format!("[[allow]]\nkey-id = \"{secret}\"\nreason = \"x\"\n"),
            format!("[rules]\n\"{secret}\" = \"off\"\n"),
            format!("[scan]\nexclude = [\"{secret}[\"]\n"),
            format!("[policy]\nfail-on = \"{secret}\"\n"),
            format!("[policy]\nallowed-accounts = [\"{secret}\"]\n"),
            format!("[{secret}]\n"),
        ];
        for config in &configs {
            write(d, "keyward.toml", config);
            for format in ["human", "json"] {
                let text = outputs(d, &["scan", ".", "--format", format]);
                assert_hidden(&secret, &format!("config {config:?}"), &text);
            }
        }
        // A secret with `/` in an error line long enough to wrap (the
        // configuration named by its absolute path): a renderer that wraps
        // at `/` splits it into runs too short for the mask.
        let slashed: String = secret
            .chars()
            .enumerate()
            .map(|(i, c)| if i % 13 == 7 { '/' } else { c })
            .collect();
        write(
            d,
            "keyward.toml",
            format!("[policy]\nallowed-accounts = [\"{slashed}\"]\n"),
        );
        let abs = d.to_str().expect("a UTF-8 temporary path");
        let text = outputs(d, &["scan", abs]);
        assert_hidden(&slashed, "a long error line", &text);
        std::fs::remove_file(d.join("keyward.toml")).expect("rm");
        write(
            d,
            "inv.json",
            format!(
                "{{\"version\": 1, \"generated_at\": \"2026-11-28T12:00:00Z\", \"accounts\": [{{\"account\": \"123456789012\", \"keys\": [{{\"access_key_id\": \"{secret}\", \"user\": \"u\", \"status\": \"Active\", \"created\": \"2025-01-01T00:00:00Z\"}}]}}]}}\n"
            ),
        );
        let text = outputs(d, &["scan", "app.env", "--inventory", "inv.json"]);
        assert_hidden(&secret, "inventory", &text);
        write(
            d,
            "base.json",
            format!(
                "{{\"version\": 1, \"findings\": [{{\"path\": \"{secret}\", \"rule\": 1}}]}}\n"
            ),
        );
        let text = outputs(d, &["scan", ".", "--baseline", "base.json"]);
        assert_hidden(&secret, "baseline", &text);
        let text = outputs(d, &["report", "base.json"]);
        assert_hidden(&secret, "report of a bad file", &text);
    }
}
