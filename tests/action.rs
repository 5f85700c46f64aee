//! The GitHub Action: its scan step (`scripts/action-run.sh`) run locally
//! with the variables a runner sets and the built binary on PATH, the
//! documented workflows linted with actionlint, and action.yml's structure.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn git(dir: &Path, args: &[&str]) -> String {
    run_git(
        Command::new("git")
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir),
        args,
    )
}

/// A git repo whose first commit has no keys (the PR base) and whose second
/// adds `fixtures/demo`, so every finding is on a line the "PR" adds.
struct Repo {
    dir: tempfile::TempDir,
    base: String,
}

impl Repo {
    fn demo() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        git(dir.path(), &["init", "-q", "-b", "main"]);
        std::fs::write(dir.path().join("README.md"), "# infra\n").expect("write");
        // The policy and the IAM inventory are the base's, as in a
        // repository that adopted keyward before this pull request.
        for name in ["keyward.toml", "inventory.json"] {
            std::fs::copy(
                root().join("fixtures/demo").join(name),
                dir.path().join(name),
            )
            .expect("copy");
        }
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "base"]);
        let base = git(dir.path(), &["rev-parse", "HEAD"]);
        copy_tree(&root().join("fixtures/demo"), dir.path());
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", "add demo"]);
        Repo { dir, base }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Findings `keyward scan --format json` reports for `args` here.
    fn json_count(&self, args: &[&str]) -> usize {
        let mut all = vec!["scan"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "json", "--fail-on", "never"]);
        let out = keyward(self.path(), &all);
        json(&out)["findings"]
            .as_array()
            .expect("findings array")
            .len()
    }
}

/// One run of the action's scan step and what the runner would keep.
struct ActionRun {
    out: Output,
    outputs: String,
    summary: String,
}

impl ActionRun {
    fn code(&self) -> Option<i32> {
        self.out.status.code()
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn log(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout(), stderr(&self.out))
    }
    fn output(&self, name: &str) -> Option<String> {
        self.outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    }
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_keyward"))
        .parent()
        .expect("binary has a directory")
        .to_path_buf()
}

/// Runs `scripts/action-run.sh` in `repo` as the runner would on a
/// `pull_request` event whose base is `base`, with `bin` first on PATH.
fn run_action(repo: &Path, base: &str, inputs: &[(&str, &str)], bin: &Path) -> ActionRun {
    run_action_logged(repo, base, inputs, bin, None)
}

/// [`run_action`] with the step's stdout a file, as a runner's log
/// redirection makes it.
fn run_action_logged(
    repo: &Path,
    base: &str,
    inputs: &[(&str, &str)],
    bin: &Path,
    log: Option<&Path>,
) -> ActionRun {
    let runner = tempfile::tempdir().expect("runner dir");
    let event = runner.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({
            "action": "synchronize",
            "number": 7,
            "pull_request": {"number": 7, "base": {"ref": "main", "sha": base}, "head": {"ref": "feature"}},
        })
        .to_string(),
    )
    .expect("write event");
    let outputs = runner.path().join("output");
    let summary = runner.path().join("summary.md");
    std::fs::write(&outputs, "").expect("write");
    std::fs::write(&summary, "").expect("write");
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/action-run.sh"));
    // A test run inside Actions must not see the real job's variables.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("INPUT_") || k.starts_with("GITHUB_") || k.starts_with("RUNNER_") {
            cmd.env_remove(k.as_ref());
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(paths).expect("PATH"))
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", repo)
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("RUNNER_TEMP", runner.path())
        // Where the runner starts a step is not where the script must work.
        .current_dir(runner.path());
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    if let Some(log) = log {
        cmd.stdout(std::fs::File::create(log).expect("log file"));
    }
    let mut out = cmd.output().expect("bash runs");
    if let Some(log) = log {
        out.stdout = std::fs::read(log).expect("log");
    }
    ActionRun {
        outputs: std::fs::read_to_string(&outputs).expect("outputs"),
        summary: std::fs::read_to_string(&summary).expect("summary"),
        out,
    }
}

fn has_since() -> bool {
    let out = keyward(&root(), &["scan", "--help"]);
    stdout(&out).contains("--since")
}

#[test]
fn pull_request_run_writes_outputs_summary_annotations_and_sarif_and_fails_the_gate() {
    let repo = Repo::demo();
    let expected = repo.json_count(&["."]);
    assert!(expected > 0, "the demo has findings");

    let run = run_action(repo.path(), &repo.base, &[], &bin_dir());
    assert_eq!(run.code(), Some(1), "findings fail the gate\n{}", run.log());
    assert_eq!(
        run.output("findings"),
        Some(expected.to_string()),
        "{}",
        run.outputs
    );
    assert_eq!(
        run.output("sarif-file").as_deref(),
        Some("keyward.sarif"),
        "{}",
        run.outputs
    );

    let sarif_text = std::fs::read_to_string(repo.path().join("keyward.sarif")).expect("SARIF");
    let sarif: serde_json::Value = serde_json::from_str(&sarif_text).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let unsuppressed = results
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .count();
    assert_eq!(unsuppressed, expected, "SARIF and JSON agree");

    assert!(run.summary.starts_with("## keyward\n"), "{}", run.summary);
    assert!(
        run.summary.contains("| Severity | Findings |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| Severity | Rule | Location | Message |"),
        "{}",
        run.summary
    );
    let text = run.stdout();
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=") && l.contains("title=KW002")),
        "{text}"
    );
}

#[test]
fn fail_on_never_passes_with_the_same_outputs() {
    let repo = Repo::demo();
    let expected = repo.json_count(&["."]);
    let run = run_action(
        repo.path(),
        &repo.base,
        &[("INPUT_FAIL_ON", "never")],
        &bin_dir(),
    );
    assert_eq!(run.code(), Some(0), "{}", run.log());
    assert_eq!(run.output("findings"), Some(expected.to_string()));
    assert!(repo.path().join("keyward.sarif").is_file());
}

// Synthetic (scripts/genkey.py --seed 7).
const PR_KEY: &str = "AKIARZPUZDIKKJZDEGXD";
const PR_SECRET: &str = "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";

/// A pull request that adds a key and, in the same change, a keyward.toml
/// that turns the rules finding it off: the Action judges it by the base's
/// policy, and annotates the loosening on the line that writes it.
#[test]
fn a_pull_request_is_judged_by_the_base_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "# infra\n").expect("write");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "base"]);
    let base = git(repo, &["rev-parse", "HEAD"]);
    std::fs::write(
        repo.join("a.env"),
        format!("AWS_ACCESS_KEY_ID={PR_KEY}\nAWS_SECRET_ACCESS_KEY={PR_SECRET}\n"),
    )
    .expect("write");
    std::fs::write(
        repo.join("keyward.toml"),
        "[rules]\nKW001 = \"off\"\nKW002 = \"off\"\n",
    )
    .expect("write");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "add a key, turn keyward off"]);

    let run = run_action(repo, &base, &[], &bin_dir());
    assert_eq!(run.code(), Some(1), "{}", run.log());
    let text = run.stdout();
    assert!(text.contains(&format!("--policy-from {base}")), "{text}");
    for (file, line, title) in [
        ("a.env", 1, "KW001"),
        ("a.env", 2, "KW002"),
        ("keyward.toml", 2, "KW015"),
        ("keyward.toml", 3, "KW015"),
    ] {
        assert!(
            text.lines().any(
                |l| l.starts_with(&format!("::error file={file},line={line},"))
                    && l.contains(&format!("title={title}"))
            ),
            "{file}:{line} {title}\n{text}"
        );
    }
    assert!(!text.contains(PR_SECRET), "{text}");

    // Opting out: the pull request's own policy runs, and still fails on
    // the suppressions it adds.
    let run = run_action(repo, &base, &[("INPUT_POLICY_FROM", "none")], &bin_dir());
    assert_eq!(run.code(), Some(1), "{}", run.log());
    let text = run.stdout();
    assert!(!text.contains("--policy-from"), "{text}");
    assert!(!text.contains("title=KW002"), "{text}");
    assert!(text.contains("title=KW015"), "{text}");
}

/// A pull request that marks its `.env` `-diff` in `.gitattributes` (git's
/// patch for it is then empty) still fails the Action's gate.
#[test]
fn gitattributes_cannot_switch_the_action_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "# infra\n").expect("write");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "base"]);
    let base = git(repo, &["rev-parse", "HEAD"]);
    std::fs::write(repo.join(".gitattributes"), "*.env -diff\n").expect("write");
    std::fs::write(
        repo.join(".env"),
        format!("AWS_ACCESS_KEY_ID={PR_KEY}\nAWS_SECRET_ACCESS_KEY={PR_SECRET}\n"),
    )
    .expect("write");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "add a key git will not show"]);
    let run = run_action(repo, &base, &[], &bin_dir());
    assert_eq!(run.code(), Some(1), "{}", run.log());
    let text = run.stdout();
    for (file, line, title) in [(".env", 1, "KW001"), (".env", 2, "KW002")] {
        assert!(
            text.lines().any(
                |l| l.starts_with(&format!("::error file={file},line={line},"))
                    && l.contains(&format!("title={title}"))
            ),
            "{file}:{line} {title}\n{text}"
        );
    }
    assert!(
        text.lines()
            .any(|l| l.contains("file=.gitattributes,line=1,") && l.contains("title=KW015")),
        "{text}"
    );
}

/// Without the input, the gate is the repository's `fail-on`; the closing
/// message counts the findings at or above it, not all findings.
#[test]
fn the_gate_is_the_configurations_and_its_message_counts_what_fails() {
    let repo = Repo::demo();
    // keyward.toml on the base, so the pull request does not add it.
    std::fs::write(
        repo.path().join("keyward.toml"),
        "[policy]\nfail-on = \"high\"\n",
    )
    .expect("write");
    git(repo.path(), &["add", "keyward.toml"]);
    git(repo.path(), &["commit", "-q", "-m", "gate at high"]);
    let doc = {
        let out = keyward(
            repo.path(),
            &["scan", ".", "--format", "json", "--fail-on", "never"],
        );
        json(&out)
    };
    let by_severity = |sev: &[&str]| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| sev.contains(&f["severity"].as_str().unwrap_or("")))
            .count()
    };
    let total = by_severity(&["critical", "high", "medium", "low", "info"]);
    let high_up = by_severity(&["critical", "high"]);
    assert!(high_up > 0 && high_up < total, "{high_up} of {total}");

    let run = run_action(
        repo.path(),
        &repo.base,
        &[("INPUT_SINCE", "none"), ("INPUT_POLICY_FROM", "none")],
        &bin_dir(),
    );
    assert_eq!(run.code(), Some(1), "{}", run.log());
    assert!(!run.stdout().contains("--fail-on"), "{}", run.log());
    assert!(
        run.stdout().contains(&format!(
            "keyward: {high_up} finding(s) at or above fail-on high"
        )),
        "{}",
        run.log()
    );

    // Only medium and below: the repository's gate passes, as it does
    // locally; the input still overrides.
    std::fs::write(
        repo.path().join("keyward.toml"),
        "[policy]\nfail-on = \"high\"\n[rules]\nKW001 = \"medium\"\nKW002 = \"medium\"\nKW005 = \"medium\"\nKW010 = \"medium\"\nKW011 = \"medium\"\n",
    )
    .expect("write");
    let inputs = [("INPUT_SINCE", "none"), ("INPUT_POLICY_FROM", "none")];
    let local = keyward(repo.path(), &["scan", ".", "--format", "json"]);
    let run = run_action(repo.path(), &repo.base, &inputs, &bin_dir());
    assert_eq!(run.code(), local.status.code(), "{}", run.log());
    assert_eq!(run.code(), Some(0), "{}", run.log());
    let mut strict = inputs.to_vec();
    strict.push(("INPUT_FAIL_ON", "low"));
    let run = run_action(repo.path(), &repo.base, &strict, &bin_dir());
    assert_eq!(run.code(), Some(1), "{}", run.log());
}

/// The log as a file (`action-run.sh > log.txt`): whole lines, in order,
/// the header first; nothing reopened or truncated.
#[test]
fn the_log_survives_stdout_being_a_file() {
    let repo = Repo::demo();
    let expected = repo.json_count(&["."]);
    let logdir = tempfile::tempdir().expect("temp dir");
    let log = logdir.path().join("log.txt");
    let run = run_action_logged(repo.path(), &repo.base, &[], &bin_dir(), Some(&log));
    assert_eq!(run.code(), Some(1), "{}", run.log());
    let text = std::fs::read_to_string(&log).expect("log");
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    assert!(header.starts_with("keyward scan . --since "), "{text}");
    let annotations = text
        .lines()
        .filter(|l| {
            l.starts_with("::error ") || l.starts_with("::warning ") || l.starts_with("::notice ")
        })
        .count();
    // Past GitHub's per-step limits the log says how many it left out.
    let left_out: usize = text
        .lines()
        .filter(|l| l.contains("annotations not shown"))
        .find_map(|l| {
            l.strip_prefix("keyward: ")?
                .split_once(" of ")
                .map(|(n, _)| n.to_string())
        })
        .map_or(0, |n| n.parse().expect("a count"));
    assert!(annotations <= 30, "{annotations} annotations: {text}");
    assert_eq!(annotations + left_out, expected, "{text}");
    for l in text.lines() {
        assert!(
            l.starts_with("::") || l.starts_with("keyward"),
            "a broken line: {l:?}\n{text}"
        );
    }
}

#[test]
fn a_second_run_does_not_scan_the_first_runs_sarif() {
    let repo = Repo::demo();
    let inputs = [("INPUT_FAIL_ON", "never")];
    let first = run_action(repo.path(), &repo.base, &inputs, &bin_dir());
    let second = run_action(repo.path(), &repo.base, &inputs, &bin_dir());
    assert!(first.output("findings").is_some(), "{}", first.log());
    assert_eq!(first.output("findings"), second.output("findings"));
}

#[test]
fn summary_and_annotations_can_be_turned_off() {
    let repo = Repo::demo();
    let quiet = run_action(
        repo.path(),
        &repo.base,
        &[("INPUT_SUMMARY", "false")],
        &bin_dir(),
    );
    assert_eq!(quiet.code(), Some(1), "{}", quiet.log());
    assert_eq!(quiet.summary, "", "summary: false leaves it alone");
    assert!(quiet.stdout().contains("::error file="), "{}", quiet.log());

    let no_notes = run_action(
        repo.path(),
        &repo.base,
        &[("INPUT_ANNOTATIONS", "false")],
        &bin_dir(),
    );
    assert_eq!(no_notes.code(), Some(1), "{}", no_notes.log());
    assert!(
        !no_notes.stdout().contains("::error file="),
        "{}",
        no_notes.log()
    );
    assert!(no_notes.summary.starts_with("## keyward\n"));
}

#[test]
fn a_scan_that_cannot_run_exits_2_without_outputs() {
    let repo = Repo::demo();
    let run = run_action(
        repo.path(),
        &repo.base,
        &[("INPUT_FAIL_ON", "sometimes")],
        &bin_dir(),
    );
    assert_eq!(run.code(), Some(2), "{}", run.log());
    assert!(
        run.stdout()
            .contains("::error title=keyward action::keyward failed (exit 2)")
    );
    assert_eq!(run.outputs, "");
}

/// With `--since` in the binary, a pull request is judged on what it adds;
/// without it (parts 1-4 of issue 5 not merged yet, or an old `version`), the
/// defaulted base falls back to a full scan with a warning.
#[test]
fn since_defaults_to_the_pull_request_base() {
    let repo = Repo::demo();
    let demo_commit = git(repo.path(), &["rev-parse", "HEAD"]);
    std::fs::create_dir_all(repo.path().join("app")).expect("mkdir");
    std::fs::copy(
        repo.path().join(".env.staging"),
        repo.path().join("app/.env.production"),
    )
    .expect("copy");
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "add a key"]);
    let all = repo.json_count(&["."]);
    let added = repo.json_count(&["app/.env.production"]);
    assert!(added > 0 && added < all, "{added} of {all}");

    let run = run_action(
        repo.path(),
        &demo_commit,
        &[("INPUT_FAIL_ON", "never")],
        &bin_dir(),
    );
    assert_eq!(run.code(), Some(0), "{}", run.log());
    if has_since() {
        assert!(
            run.stdout().contains(&format!("--since {demo_commit}")),
            "{}",
            run.log()
        );
        assert_eq!(
            run.output("findings"),
            Some(added.to_string()),
            "{}",
            run.log()
        );
    } else {
        eprintln!("keyward has no --since yet: checking the full-scan fallback");
        assert!(
            run.stdout()
                .contains("::warning title=keyward action::this keyward has no --since"),
            "{}",
            run.log()
        );
        assert_eq!(
            run.output("findings"),
            Some(all.to_string()),
            "{}",
            run.log()
        );
    }
}

/// A stand-in keyward that records its arguments, so the pass-through of
/// every input is checked whatever the real binary supports today.
fn stub_keyward(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = r#"#!/usr/bin/env bash
if [[ "$*" == "scan --help" ]]; then echo "  --since <REV>"; echo "  --policy-from <REV>"; exit 0; fi
printf '%s\n' "$@" >> "$STUB_LOG"
echo "--" >> "$STUB_LOG"
out=""; prev=""
for a in "$@"; do [[ "$prev" == "-o" ]] && out="$a"; prev="$a"; done
[[ -n "$out" ]] && echo '{"version":"2.1.0","findings":[{"rule":"KW001"}]}' > "$out"
exit 0
"#;
    let path = bin.join("keyward");
    std::fs::write(&path, script).expect("write stub");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("chmod");
    assert!(status.success());
    bin
}

#[test]
fn inputs_are_passed_through_to_every_scan() {
    let repo = Repo::demo();
    let stub = tempfile::tempdir().expect("temp dir");
    let bin = stub_keyward(stub.path());
    let log = stub.path().join("args.log");
    let run = run_action(
        repo.path(),
        &repo.base,
        &[
            ("STUB_LOG", log.to_str().expect("utf-8 path")),
            ("INPUT_PATH", "sub dir"),
            ("INPUT_FAIL_ON", "high"),
            ("INPUT_SINCE", repo.base.as_str()),
            ("INPUT_INVENTORY", "iam inventory.json"),
            ("INPUT_LIVE", "true"),
            ("INPUT_SARIF_FILE", "reports/kw.sarif"),
            (
                "INPUT_ARGS",
                "--allowed-account 123456789012 --baseline 'base line.json' $HOME",
            ),
        ],
        &bin,
    );
    assert_eq!(run.code(), Some(0), "{}", run.log());
    assert_eq!(run.output("findings").as_deref(), Some("1"));
    assert_eq!(
        run.output("sarif-file").as_deref(),
        Some("reports/kw.sarif")
    );
    assert!(repo.path().join("reports/kw.sarif").is_file());
    let text = std::fs::read_to_string(&log).expect("stub log");
    let calls: Vec<&str> = text.split("--\n").filter(|c| !c.is_empty()).collect();
    assert_eq!(calls.len(), 3, "SARIF, annotations, JSON:\n{text}");
    let common = format!(
        "scan\nsub dir\n--fail-on\nhigh\n--since\n{}\n--policy-from\n{}\n--inventory\niam inventory.json\n--live\n\
         --allowed-account\n123456789012\n--baseline\nbase line.json\n$HOME\n--format\n",
        repo.base, repo.base
    );
    for call in &calls {
        assert!(call.starts_with(&common), "{call}");
    }
    let formats: BTreeSet<&str> = calls
        .iter()
        .filter_map(|c| c.lines().skip_while(|l| *l != "--format").nth(1))
        .collect();
    assert_eq!(formats, BTreeSet::from(["github", "json", "sarif"]));

    // `none` turns the PR-base defaults off.
    std::fs::remove_file(&log).expect("rm");
    let run = run_action(
        repo.path(),
        &repo.base,
        &[
            ("STUB_LOG", log.to_str().expect("utf-8 path")),
            ("INPUT_SINCE", "none"),
            ("INPUT_POLICY_FROM", "none"),
        ],
        &bin,
    );
    assert_eq!(run.code(), Some(0), "{}", run.log());
    let text = std::fs::read_to_string(&log).expect("stub log");
    assert!(!text.contains("--since"), "{text}");
    assert!(!text.contains("--policy-from"), "{text}");
    assert!(text.starts_with("scan\n.\n--format\n"), "{text}");
}

// ------------------------------------------------------------ action.yml

fn workflows() -> Vec<(String, String)> {
    let dir = root().join("tests/workflows");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("tests/workflows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn documented_workflows_pass_actionlint() {
    let files = workflows();
    assert_eq!(
        files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "offline-inventory.yml",
            "org-audit-caller.yml",
            "org-audit.yml",
            "pr-check.yml",
            "scheduled-audit.yml"
        ]
    );
    if !tool_runs("actionlint", &["-version"]) {
        return;
    }
    let out = Command::new("actionlint")
        .arg("-no-color")
        .args(files.iter().map(|(n, _)| n))
        .current_dir(root().join("tests/workflows"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "actionlint is needed to lint the documented workflows and could not run ({e}); \
                 `pip install -r tests/requirements.txt` installs it"
            )
        });
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
}

/// The organisation audit's last job, run as the runner would: its merge
/// step's script over the scan reports of 3 generated repositories (as the
/// matrix jobs upload them), with keyward on `PATH`.
#[test]
fn the_org_audit_merges_the_scans_of_three_repositories() {
    let text = std::fs::read_to_string(root().join("tests/workflows/org-audit.yml"))
        .expect("org-audit.yml");
    let doc: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    let steps = doc["jobs"]["report"]["steps"]
        .as_sequence()
        .expect("report steps");
    let script = steps
        .iter()
        .find(|s| s["name"].as_str() == Some("Merge the reports"))
        .and_then(|s| s["run"].as_str())
        .expect("the merge step");
    let t = tempfile::tempdir().expect("temp dir");
    let inventory = root().join("fixtures/demo/inventory.json");
    for (i, (name, file, text)) in [
        (
            "acme/infra",
            "prod.tfvars",
            "app_access_key_id = \"AKIARZPUZDIKLGATVSKW\"\n",
        ),
        (
            "acme/app",
            ".env",
            "AWS_ACCESS_KEY_ID=AKIARZPUZDIKONEHY5VH\n",
        ),
        (
            "acme/tools",
            "ci.env",
            "AWS_ACCESS_KEY_ID=AKIARZPUZDIKAMOZVAIB\n",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let repo = t.path().join(format!("checkout-{i}"));
        write(&repo, file, text);
        let out_dir = t.path().join(format!("reports/keyward-scan-{i}"));
        std::fs::create_dir_all(&out_dir).expect("dir");
        let out = keyward(
            &repo,
            &[
                "scan",
                ".",
                "--inventory",
                inventory.to_str().expect("utf-8"),
                "--repository",
                name,
                "--fail-on",
                "never",
                "--format",
                "json",
                "-o",
                out_dir.join("keyward.json").to_str().expect("utf-8"),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_keyward"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let summary = t.path().join("summary.md");
    let out = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(t.path())
        .env("PATH", path)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", stderr(&out));
    let merged: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(t.path().join("keyward-org-audit.json")).expect("json"),
    )
    .expect("merged json");
    assert_eq!(
        merged["repositories"].as_array().map(Vec::len),
        Some(3),
        "{merged}"
    );
    assert_eq!(merged["divergence"][0]["user"], "acme-api", "{merged}");
    let html = std::fs::read_to_string(t.path().join("keyward-org-audit.html")).expect("html");
    assert!(html.contains("<h2>Cross-repository divergence</h2>"));
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(md.contains("## Repositories"), "{md}");

    // No report at all is an error, not an empty audit.
    let empty = tempfile::tempdir().expect("temp dir");
    let out = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(empty.path())
        .output()
        .expect("bash");
    assert!(!out.status.success());
    assert!(stdout(&out).contains("::error::no repository was scanned"));
}

#[test]
fn the_doc_shows_each_workflow_verbatim() {
    let doc = std::fs::read_to_string(root().join("docs/github-action.md")).expect("doc");
    for (name, text) in workflows() {
        assert!(
            doc.contains(&format!("```yaml\n{text}```\n")),
            "docs/github-action.md does not show tests/workflows/{name} as it is"
        );
    }
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(readme.contains("## GitHub Action"));
    assert!(readme.contains("(docs/github-action.md)"));
}

#[test]
fn action_yml_is_a_composite_action_whose_references_exist() {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let doc: serde_norway::Value = serde_norway::from_str(&text).expect("action.yml is YAML");
    for key in ["name", "description"] {
        assert!(doc[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));

    let inputs = doc["inputs"].as_mapping().expect("inputs");
    let names: BTreeSet<&str> = inputs.keys().filter_map(|k| k.as_str()).collect();
    let wanted = [
        ("path", Some(".")),
        ("args", Some("")),
        ("fail-on", Some("")),
        ("since", Some("")),
        ("policy-from", Some("")),
        ("inventory", Some("")),
        ("live", Some("false")),
        ("sarif-file", Some("keyward.sarif")),
        ("annotations", Some("true")),
        ("summary", Some("true")),
        ("version", Some("")),
    ];
    assert_eq!(names, wanted.iter().map(|(n, _)| *n).collect());
    for (name, default) in wanted {
        let input = &doc["inputs"][name];
        assert!(input["description"].as_str().is_some(), "{name}");
        assert_eq!(input["default"].as_str(), default, "{name}");
    }
    let outputs = doc["outputs"].as_mapping().expect("outputs");
    assert_eq!(outputs.len(), 2);
    for name in ["findings", "sarif-file"] {
        assert_eq!(
            doc["outputs"][name]["value"].as_str(),
            Some(format!("${{{{ steps.scan.outputs.{name} }}}}").as_str())
        );
    }

    let steps = doc["runs"]["steps"].as_sequence().expect("steps");
    for step in steps {
        if step.get("run").is_some() {
            assert!(
                step["shell"].as_str().is_some(),
                "composite run steps need a shell: {step:?}"
            );
        }
    }
    let scan = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("scan"))
        .expect("a step with id scan");
    assert!(
        scan["run"]
            .as_str()
            .is_some_and(|r| r.contains("scripts/action-run.sh"))
    );

    // Every `inputs.X` the file uses is declared.
    let used = regex::Regex::new(r"\binputs\.([A-Za-z0-9_-]+)").expect("regex");
    let refs: BTreeSet<&str> = used
        .captures_iter(&text)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .collect();
    assert!(refs.len() >= 9, "{refs:?}");
    for r in &refs {
        assert!(names.contains(r), "action.yml uses undeclared input `{r}`");
    }

    // Every INPUT_* the script reads is set by the scan step, from its input.
    let script = std::fs::read_to_string(root().join("scripts/action-run.sh")).expect("script");
    let read = regex::Regex::new(r"\$\{(INPUT_[A-Z_]+)").expect("regex");
    let env = scan["env"].as_mapping().expect("scan step env");
    let mut seen = 0;
    for c in read.captures_iter(&script) {
        let var = c.get(1).expect("group").as_str();
        let input = var["INPUT_".len()..].to_lowercase().replace('_', "-");
        let value = scan["env"][var]
            .as_str()
            .unwrap_or_else(|| panic!("the scan step does not set {var}: {env:?}"));
        assert_eq!(value, format!("${{{{ inputs.{input} }}}}"));
        seen += 1;
    }
    assert!(seen >= 9, "{seen} INPUT_ variables read");
}
