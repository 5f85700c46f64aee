//! One invariant instead of a list: take text of many shapes, insert
//! synthetic credentials at random places (values, names, URL userinfo,
//! `KEY:SECRET`, inside long lines), scan it in every format, and check
//! - every inserted key ID is reported, or counted as a placeholder;
//! - no output contains a full inserted secret;
//! - nothing panics, and memory stays within the hostile-input bound.
//!
//! Deterministic (seeded) so a failure reproduces; `KEYWARD_INVARIANT_CASES`
//! runs more cases (the fuzz setup runs it for longer, see fuzz/README.md).

mod common;

use std::collections::BTreeSet;
use std::process::Command;

/// xorshift64*: no dependency, same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A new-format key ID of account 123456789012 with a random tail: the
/// prefix part is fixed (it encodes the account), the rest is random.
fn key_id(rng: &mut Rng) -> String {
    let mut id = String::from("AKIARZPUZDIK");
    for _ in 0..8 {
        id.push(char::from(BASE32[rng.below(32)]));
    }
    id
}

/// A random secret with every character class, as real ones have.
fn secret(rng: &mut Rng) -> String {
    loop {
        let s: String = (0..40)
            .map(|_| char::from(SECRET_CHARS[rng.below(64)]))
            .collect();
        let has = |f: fn(char) -> bool| s.chars().any(f);
        if has(|c| c.is_ascii_uppercase())
            && has(|c| c.is_ascii_lowercase())
            && has(|c| c.is_ascii_digit())
        {
            return s;
        }
    }
}

/// One line holding a key (and maybe its secret) in one of the shapes
/// people write, for a file of format `ext`.
fn planted_line(rng: &mut Rng, ext: &str, k: &str, s: &str) -> String {
    let shapes: &[&str] = match ext {
        "tf" => &[
            "  access_key = \"{K}\"\n  secret_key = \"{S}\"\n",
            "  {K} = \"{S}\"\n",
            "  # {K}\n",
        ],
        "yaml" => &[
            "aws_access_key_id: {K}\naws_secret_access_key: {S}\n",
            "{K}: {S}\n",
            "url: https://{K}:{S}@host/x\n",
        ],
        "json" => &[
            "{\"AccessKeyId\": \"{K}\", \"SecretAccessKey\": \"{S}\"}\n",
            "{\"{K}\": \"{S}\"}\n",
        ],
        "env" => &[
            "AWS_ACCESS_KEY_ID={K}\nAWS_SECRET_ACCESS_KEY={S}\n",
            "{K}={S}\n",
            "export AWS_ACCESS_KEY_ID=\"{K}\"\n",
        ],
        _ => &[
            "curl --user {K}:{S} https://x/\n",
            "https://{K}:{S}@host/\n",
            "aws_access_key_id = {K}\naws_secret_access_key = {S}\n",
            "{PAD} aws_access_key_id={K} aws_secret_access_key={S}\n",
        ],
    };
    let pad = "x".repeat(rng.below(3) * 30_000);
    rng.pick(shapes)
        .replace("{K}", k)
        .replace("{S}", s)
        .replace("{PAD}", &pad)
}

/// Filler lines of the file's format, some with unicode and odd bytes.
fn filler(rng: &mut Rng, ext: &str) -> String {
    let lines: &[&str] = match ext {
        "tf" => &["# note: café\n", "locals {\n  a = \"b\"\n}\n", "\n"],
        "yaml" => &["name: x\n", "# ünïcode\n", "list:\n  - a\n", "---\n"],
        "json" => &["{\"a\": [1, 2, {\"b\": null}]}\n"],
        "env" => &["REGION=eu-west-1\n", "# comment\n", "\n"],
        _ => &["plain text, émoji 🙂\n", "\t\ttabs\r\n", "a=b c=d\n", "\n"],
    };
    rng.pick(lines).to_string()
}

/// Where each inserted key sits: the file and a full key/secret.
struct Case {
    dir: tempfile::TempDir,
    keys: BTreeSet<(String, String)>,
    secrets: Vec<String>,
}

fn make_case(rng: &mut Rng) -> Case {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut keys = BTreeSet::new();
    let mut secrets = Vec::new();
    for f in 0..(1 + rng.below(4)) {
        let ext = rng.pick(&["tf", "yaml", "json", "env", "txt"]);
        let name = match ext {
            "env" => format!("f{f}.env"),
            other => format!("f{f}.{other}"),
        };
        let mut text = String::new();
        // A block of its own for each key, so a secret cannot pair with a
        // neighbour's key ID instead: that is pairing's business, tested
        // elsewhere, and not what this invariant is about.
        for _ in 0..(1 + rng.below(3)) {
            for _ in 0..rng.below(4) {
                text.push_str(&filler(rng, ext));
            }
            let (k, s) = (key_id(rng), secret(rng));
            let block = planted_line(rng, ext, &k, &s);
            if ext == "json" {
                // One JSON document per file: the last planted object wins.
                text = block;
            } else {
                text.push_str(&block);
                text.push('\n');
            }
            keys.insert((name.clone(), k));
            secrets.push(s);
        }
        if ext == "json" {
            // Only the last key is in the file.
            let last = keys
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, k)| k.clone())
                .filter(|k| text.contains(k.as_str()))
                .collect::<Vec<_>>();
            keys.retain(|(n, k)| *n != name || last.contains(k));
        }
        common::write(dir.path(), &name, text);
    }
    Case { dir, keys, secrets }
}

/// Runs keyward under a python3 parent that appends the child's peak RSS
/// (`getrusage(RUSAGE_CHILDREN)`, KiB) to stderr as `MAXRSS n`.
fn scan(case: &Case, format: &str) -> (Option<i32>, String, String) {
    const WRAP: &str = "import resource, subprocess, sys\n\
        p = subprocess.run(sys.argv[1:])\n\
        sys.stderr.write('MAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
        sys.exit(p.returncode)\n";
    let out = Command::new("python3")
        .args(["-c", WRAP, env!("CARGO_BIN_EXE_keyward")])
        .args(["scan", ".", "--format", format, "--color", "never"])
        .current_dir(case.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("keyward runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_inserted_key_is_reported_and_no_secret_is_printed() {
    let cases: usize = std::env::var("KEYWARD_INVARIANT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    for n in 0..cases {
        let case = make_case(&mut rng);
        let (code, json_out, err) = scan(&case, "json");
        assert!(!err.contains("panicked"), "case {n}: {err}");
        assert_eq!(code, Some(1), "case {n}: {err}");
        let doc: serde_json::Value = serde_json::from_str(&json_out).expect("JSON");
        let reported: BTreeSet<(String, String)> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| {
                Some((
                    f["path"].as_str()?.to_string(),
                    f["key_id"].as_str()?.to_string(),
                ))
            })
            .collect();
        let placeholders = doc["summary"]["placeholders"].as_u64().unwrap_or(0);
        let missing: Vec<_> = case.keys.difference(&reported).collect();
        assert!(
            missing.len() as u64 <= placeholders,
            "case {n}: not reported and not counted: {missing:?}"
        );
        for format in ["json", "human", "sarif", "github"] {
            let (code, out, err) = if format == "json" {
                (code, json_out.clone(), err.clone())
            } else {
                scan(&case, format)
            };
            assert!(!err.contains("panicked"), "case {n} {format}: {err}");
            let peak_kib: u64 = err
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("MAXRSS "))
                .and_then(|v| v.trim().parse().ok())
                .expect("peak RSS");
            // Files here are under 1 MB: the bound is 150 MiB plus twice that.
            assert!(peak_kib < 152 * 1024, "case {n} {format}: {peak_kib} KiB");
            assert!(matches!(code, Some(0 | 1)), "case {n} {format}: {err}");
            for s in &case.secrets {
                assert!(
                    !out.contains(s.as_str()) && !err.contains(s.as_str()),
                    "case {n} {format}: a full secret in the output"
                );
            }
        }
    }
}
