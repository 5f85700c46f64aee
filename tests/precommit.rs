//! The hooks in `.pre-commit-hooks.yaml`, run by the real `pre-commit`
//! (tests/requirements.txt, installed by scripts/test.sh) through
//! `pre-commit try-repo` in temp git repos. `keyward-system` runs the binary
//! under test from PATH; `keyward-rust` (`language: rust`) would build
//! keyward from source, too slow here, so its entry is checked by
//! `validate-manifest` and against `keyward-system`'s. `keyward`
//! (`language: python`, the wheel) is run through pre-commit by
//! scripts/test-wheel.sh, which builds the wheel first.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{root, run_git, stderr, tool_runs, write};

// Synthetic (scripts/genkey.py --seed 505).
const KEY: &str = "AKIARZPUZDIKEQTRV6SW";
const SECRET: &str = "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";

struct Sandbox {
    repo: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Sandbox {
    /// A repository to run hooks in; `None` when pre-commit is missing
    /// and KEYWARD_QUICK=1 skips (see `tool_runs`).
    fn new() -> Option<Sandbox> {
        if !tool_runs("pre-commit", &["--version"]) {
            return None;
        }
        let s = Sandbox {
            repo: tempfile::tempdir().expect("tempdir"),
            home: tempfile::tempdir().expect("tempdir"),
        };
        s.git(&["init", "-q", "-b", "main"]);
        s.git(&["config", "user.email", "dev@example.com"]);
        s.git(&["config", "user.name", "Dev"]);
        s.git(&["config", "commit.gpgsign", "false"]);
        s.write("README.md", "demo\n");
        s.git(&["add", "README.md"]);
        s.git(&["commit", "-q", "-m", "init"]);
        Some(s)
    }

    fn git(&self, args: &[&str]) {
        run_git(Command::new("git").current_dir(self.repo.path()), args);
    }

    fn write(&self, rel: &str, text: &str) {
        write(self.repo.path(), rel, text);
    }

    fn stage(&self, rel: &str, text: &str) {
        self.write(rel, text);
        self.git(&["add", rel]);
    }

    /// PATH with the keyward under test first.
    fn path_var() -> std::ffi::OsString {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_keyward"));
        let dir = bin.parent().expect("bin dir").to_path_buf();
        let rest = std::env::var_os("PATH").unwrap_or_default();
        std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest)))
            .expect("PATH")
    }

    fn pre_commit(&self, args: &[&str]) -> (Option<i32>, String) {
        let out: Output = Command::new("pre-commit")
            .args(args)
            .current_dir(self.repo.path())
            .env("PATH", Self::path_var())
            .env("PRE_COMMIT_HOME", self.home.path())
            .env("NO_COLOR", "1")
            .env("PRE_COMMIT_COLOR", "never")
            .env_remove("AWS_ACCESS_KEY_ID")
            .output()
            .expect("pre-commit runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        (out.status.code(), text)
    }

    /// The staged files through `keyward-system`, as `git commit` would run it.
    fn try_hook(&self) -> (Option<i32>, String) {
        let repo = root();
        self.pre_commit(&[
            "try-repo",
            repo.to_str().expect("utf-8 path"),
            "keyward-system",
            "--verbose",
        ])
    }
}

#[test]
fn a_planted_key_blocks_the_commit_and_is_shown() {
    let Some(s) = Sandbox::new() else {
        return;
    };
    s.stage(
        "deploy/prod.env",
        &format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
    );
    s.stage("notes.txt", "nothing to see\n");
    let (code, out) = s.try_hook();
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("KW001") && out.contains(KEY), "{out}");
    assert!(out.contains("deploy/prod.env"), "{out}");
    // The secret is shown masked only.
    assert!(out.contains("KW002") && !out.contains(SECRET), "{out}");
    assert!(out.contains("in 2 files scanned"), "{out}");
}

#[test]
fn a_clean_commit_passes_and_says_what_it_scanned() {
    let Some(s) = Sandbox::new() else {
        return;
    };
    s.stage("app/config.yaml", "region: eu-west-1\nreplicas: 2\n");
    // Only in the working tree: not what will be committed.
    s.write("README.md", &format!("demo\nAWS_ACCESS_KEY_ID={KEY}\n"));
    let (code, out) = s.try_hook();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Passed"), "{out}");
    assert!(out.contains("0 findings in 1 file scanned"), "{out}");
}

#[test]
fn ignored_and_placeholder_keys_pass() {
    let Some(s) = Sandbox::new() else {
        return;
    };
    // An ignore comment is accepted once it has landed (a new one is KW015,
    // see below): commit it, then change another line of the file.
    s.stage(
        "ci/test.env",
        &format!("# keyward:ignore -- throwaway key of the CI sandbox\nAWS_ACCESS_KEY_ID={KEY}\n"),
    );
    s.git(&["commit", "-q", "-m", "reviewed ignore"]);
    s.stage(
        "ci/test.env",
        &format!(
            "# keyward:ignore -- throwaway key of the CI sandbox\nAWS_ACCESS_KEY_ID={KEY}\nAWS_REGION=eu-west-1\n"
        ),
    );
    s.stage(
        "docs/example.tf",
        "provider \"aws\" {\n  access_key = \"AKIAIOSFODNN7EXAMPLE\"\n  secret_key = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n}\n",
    );
    let (code, out) = s.try_hook();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Passed"), "{out}");
    assert!(out.contains("in 2 files scanned"), "{out}");
    assert!(out.contains("1 suppressed"), "{out}");
    assert!(out.contains("placeholders ignored"), "{out}");
}

#[test]
fn the_manifest_is_valid_and_every_hook_scans_the_index() {
    let Some(s) = Sandbox::new() else {
        return;
    };
    let manifest = root().join(".pre-commit-hooks.yaml");
    let (code, out) = s.pre_commit(&["validate-manifest", manifest.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(0), "{out}");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    let hooks: Vec<serde_json::Value> = serde_norway::from_str(&text).expect("yaml");
    let hook = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("no hook {id}"))
            .clone()
    };
    let (python, rust, system) = (
        hook("keyward"),
        hook("keyward-rust"),
        hook("keyward-system"),
    );
    assert_eq!(python["language"], "python");
    assert_eq!(rust["language"], "rust");
    assert_eq!(system["language"], "system");
    for h in [&python, &rust, &system] {
        assert_eq!(h["entry"], "keyward scan --staged --policy-from HEAD");
        assert_eq!(h["pass_filenames"], true);
        assert_eq!(h["require_serial"], true);
        assert_eq!(h["types"], serde_json::json!(["text"]));
    }
}

/// The README's `.pre-commit-config.yaml` (with `--fail-on` in `args`) is
/// one pre-commit accepts.
#[test]
fn the_readme_config_is_valid() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let start = readme
        .find("```yaml\n# .pre-commit-config.yaml")
        .expect("README shows a .pre-commit-config.yaml");
    let body = &readme[start + "```yaml\n".len()..];
    let config = &body[..body.find("```").expect("closing fence")];
    assert!(config.contains("--fail-on"), "{config}");
    let Some(s) = Sandbox::new() else {
        return;
    };
    let path: &Path = &s.repo.path().join(".pre-commit-config.yaml");
    std::fs::write(path, config).expect("write");
    let (code, out) = s.pre_commit(&["validate-config", ".pre-commit-config.yaml"]);
    assert_eq!(code, Some(0), "{out}");
}

/// A commit's own ignore comment is reported (KW015) and the commit goes
/// through: the pull request's gate is where a reviewer accepts it.
#[test]
fn a_new_ignore_comment_is_reported_and_the_commit_goes_through() {
    let Some(s) = Sandbox::new() else {
        return;
    };
    s.stage(
        "deploy/prod.env",
        &format!(
            "AWS_ACCESS_KEY_ID={KEY} # keyward:ignore\nAWS_SECRET_ACCESS_KEY={SECRET} # keyward:ignore -- only a test\n"
        ),
    );
    let (code, out) = s.try_hook();
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("KW015 suppression-added"), "{out}");
    assert!(out.contains("adds a `keyward:ignore` comment"), "{out}");
    assert!(out.contains("the pull request's gate will"), "{out}");
    assert!(out.contains("--strict-suppressions"), "{out}");
    assert!(out.contains("reason given: only a test"), "{out}");
    // Each line's own ignore is the one used: none is called unused.
    assert!(!out.contains("KW000"), "{out}");
    assert!(!out.contains(SECRET), "{out}");
}

/// A commit that turns rules off is told so (KW015) and, the suppression
/// being its own, goes through; once the policy change has landed it is
/// HEAD's policy and nothing is said.
#[test]
fn a_commit_that_turns_rules_off_is_told_so() {
    let Some(s) = Sandbox::new() else {
        return;
    };
    s.stage(
        "keyward.toml",
        "[rules]\nKW001 = \"off\"\nKW002 = \"off\"\n",
    );
    s.stage(
        "deploy/prod.env",
        &format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
    );
    let (code, out) = s.try_hook();
    assert_eq!(code, Some(0), "{out}");
    // Reported as the rule turned off, not as a finding of it.
    assert!(
        !out.lines()
            .any(|l| l.trim() == "KW001 hardcoded-access-key"),
        "{out}"
    );
    assert!(out.contains("turns off rule KW001"), "{out}");
    assert!(out.contains("turns off rule KW002"), "{out}");
    assert!(out.contains("the pull request's gate will"), "{out}");

    // Once the policy change has landed on its own, it is HEAD's policy.
    s.git(&["reset", "-q"]);
    s.git(&["add", "keyward.toml"]);
    s.git(&["commit", "-q", "-m", "policy"]);
    s.git(&["add", "deploy/prod.env"]);
    let (code, out) = s.try_hook();
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("KW015"), "{out}");
}
