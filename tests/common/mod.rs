#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the keyward binary in `dir` with colour off.
pub fn keyward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .expect("keyward runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            stdout(o),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// One row of `fixtures/expected/*.tsv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub path: String,
    pub line: u64,
    pub column: u64,
    pub kind: String,
    pub value: String,
}

pub fn expected(tree: &str) -> Vec<Expected> {
    let text = std::fs::read_to_string(root().join(format!("fixtures/expected/{tree}.tsv")))
        .expect("expected file");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "bad row {l}");
            Expected {
                path: f[0].into(),
                line: f[1].parse().expect("line"),
                column: f[2].parse().expect("column"),
                kind: f[3].into(),
                value: f[4].into(),
            }
        })
        .collect()
}
