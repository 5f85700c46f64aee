//! A change cannot silence the gate: every suppression a pull request or a
//! commit adds is a KW015 finding on its line, and `--policy-from` judges
//! the change by the policy it would replace. Real git repos in temp dirs:
//! `main` holds the base, `pr` the change.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

// Synthetic (scripts/genkey.py --seed 7).
const KEY: &str = "AKIARZPUZDIKKJZDEGXD";
const SECRET: &str = "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";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    /// `main` with `base`, then branch `pr` with `change` written over it
    /// (an empty text deletes the file), committed.
    fn new(base: &[(&str, &str)], change: &[(&str, &str)]) -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r.write("README.md", "demo\n");
        for (p, t) in base {
            r.write(p, t);
        }
        r.commit("base");
        r.git(&["checkout", "-q", "-b", "pr"]);
        for (p, t) in change {
            r.write(p, t);
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

    fn write(&self, rel: &str, text: &str) {
        if text.is_empty() {
            let _ = std::fs::remove_file(self.path().join(rel));
        } else {
            write(self.path(), rel, text);
        }
    }

    fn commit(&self, msg: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
    }

    fn run(&self, args: &[&str]) -> Output {
        keyward(self.path(), args)
    }

    /// `scan --since main --format json` plus `extra`: exit code and
    /// (rule, path, line, message) of each finding.
    fn since(&self, extra: &[&str]) -> (Option<i32>, Vec<Hit>) {
        let mut args = vec!["scan", "--since", "main", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        (out.status.code(), hits(&json(&out)))
    }
}

#[derive(Debug, Clone)]
struct Hit {
    rule: String,
    path: String,
    line: u64,
    message: String,
}

fn hits(doc: &serde_json::Value) -> Vec<Hit> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| Hit {
            rule: f["rule"].as_str().unwrap_or("").into(),
            path: f["path"].as_str().unwrap_or("").into(),
            line: f["line"].as_u64().unwrap_or(0),
            message: f["message"].as_str().unwrap_or("").into(),
        })
        .collect()
}

fn kw015(hits: &[Hit]) -> Vec<Hit> {
    hits.iter().filter(|h| h.rule == "KW015").cloned().collect()
}

fn env_file(suffix: &str) -> String {
    format!(
        "AWS_REGION=eu-west-1\nAWS_ACCESS_KEY_ID={KEY}{suffix}\nAWS_SECRET_ACCESS_KEY={SECRET}{suffix}\n"
    )
}

/// A name, the change's files, and where the KW015 must be (path, line,
/// part of the message).
type Case = (
    &'static str,
    Vec<(&'static str, String)>,
    &'static str,
    u64,
    &'static str,
);

/// One suppression of each kind, added by the change on top of a base that
/// has none: a KW015 on the line that writes it, and the gate fails.
#[test]
fn each_kind_of_suppression_added_is_a_finding_on_its_line() {
    let keys = env_file("");
    let cases: Vec<Case> = vec![
        (
            "inline ignore",
            vec![("a.env", env_file(" # keyward:ignore -- test key"))],
            "a.env",
            2,
            "adds a `keyward:ignore` comment",
        ),
        (
            "allow entry",
            vec![
                ("a.env", keys.clone()),
                (
                    "keyward.toml",
                    "[scan]\n\n[[allow]]\npath = \"*.env\"\nreason = \"dev only\"\n".into(),
                ),
            ],
            "keyward.toml",
            3,
            "adds an `[[allow]]` entry for path `*.env`",
        ),
        (
            "rule off",
            vec![
                ("a.env", keys.clone()),
                ("keyward.toml", "[rules]\nKW002 = \"off\"\n".into()),
            ],
            "keyward.toml",
            2,
            "turns off rule KW002",
        ),
        (
            "severity lowered",
            vec![
                ("a.env", keys.clone()),
                ("keyward.toml", "[rules]\nKW002 = \"info\"\n".into()),
            ],
            "keyward.toml",
            2,
            "lowers the severity of rule KW002 hardcoded-secret-key from critical to info",
        ),
        (
            "wider exclude",
            vec![
                ("a.env", keys.clone()),
                ("keyward.toml", "[scan]\nexclude = [\"**\"]\n".into()),
            ],
            "keyward.toml",
            2,
            "excludes `**` from scanning",
        ),
        (
            "narrower include",
            vec![
                ("a.env", keys.clone()),
                ("keyward.toml", "[scan]\ninclude = [\"src/**\"]\n".into()),
            ],
            "keyward.toml",
            2,
            "limits scanning to `[scan] include`",
        ),
        (
            "looser gate",
            vec![
                ("a.env", keys.clone()),
                ("keyward.toml", "[policy]\nfail-on = \"never\"\n".into()),
            ],
            "keyward.toml",
            2,
            "raises `fail-on` from low to never",
        ),
        (
            "new rules-dir",
            vec![
                ("a.env", keys.clone()),
                ("keyward.toml", "[rules]\nrules-dir = \"policy\"\n".into()),
                ("policy/README.md", "nothing here\n".into()),
            ],
            "keyward.toml",
            2,
            "sets `rules-dir` to `policy`",
        ),
    ];
    for (name, change, path, line, message) in cases {
        let change: Vec<(&str, &str)> = change.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let repo = Repo::new(&[], &change);
        for extra in [&[][..], &["--policy-from", "main"][..]] {
            let (code, hits) = repo.since(extra);
            let added = kw015(&hits);
            assert!(
                added
                    .iter()
                    .any(|h| h.path == path && h.line == line && h.message.contains(message)),
                "{name} {extra:?}: {added:#?}"
            );
            assert_eq!(code, Some(1), "{name} {extra:?}: the gate fails");
        }
    }
}

/// The same suppressions already in the base are the base's policy: no
/// KW015, and they keep working.
#[test]
fn suppressions_already_in_the_base_are_not_reported() {
    let config = "[rules]\nKW002 = \"off\"\nKW004 = \"low\"\n[scan]\nexclude = [\"vendor/**\"]\n\
                  [[allow]]\nkey-id = \"AKIARZPUZDIKKJZDEGXD\"\nreason = \"canary\"\n";
    let repo = Repo::new(
        &[
            ("keyward.toml", config),
            ("old.env", &env_file(" # keyward:ignore")),
        ],
        &[
            // Touch the config without loosening anything, and move an
            // existing ignore comment's file around it.
            ("keyward.toml", &format!("# reviewed\n{config}")),
            (
                "old.env",
                &format!("# header\n{}", env_file(" # keyward:ignore")),
            ),
        ],
    );
    for extra in [&[][..], &["--policy-from", "main"][..]] {
        let (code, hits) = repo.since(extra);
        assert!(kw015(&hits).is_empty(), "{extra:?}: {hits:#?}");
        assert_eq!(code, Some(0), "{extra:?}: {hits:#?}");
    }
}

/// The first attempt of the issue: a pull request adds keys and turns the
/// rules that find them off. With the base's policy, both rules still fire.
#[test]
fn policy_from_the_base_keeps_rules_a_change_turns_off() {
    let repo = Repo::new(
        &[("a.env", "AWS_REGION=eu-west-1\n")],
        &[
            ("a.env", &env_file("")),
            (
                "keyward.toml",
                "[rules]\nKW001 = \"off\"\nKW002 = \"off\"\n",
            ),
        ],
    );
    let (code, hits) = repo.since(&["--policy-from", "main"]);
    assert_eq!(code, Some(1));
    let rules: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
    assert!(
        rules.contains(&"KW001") && rules.contains(&"KW002"),
        "{hits:#?}"
    );
    let added = kw015(&hits);
    assert_eq!(added.len(), 2, "{added:#?}");
    assert!(
        added[0].message.contains("silences 1 finding (KW001)"),
        "{added:#?}"
    );
    // Without --policy-from the change's policy runs, and KW015 still fails it.
    let (code, hits) = repo.since(&[]);
    assert_eq!(code, Some(1));
    assert!(!hits.iter().any(|h| h.rule == "KW002"), "{hits:#?}");
    assert_eq!(kw015(&hits).len(), 2, "{hits:#?}");
}

/// KW015's own switch is the base's: a change cannot turn it off, a base can.
#[test]
fn only_the_base_can_turn_kw015_off() {
    let repo = Repo::new(
        &[],
        &[
            ("a.env", &env_file(" # keyward:ignore")),
            ("keyward.toml", "[rules]\nKW015 = \"off\"\n"),
        ],
    );
    let (code, hits) = repo.since(&[]);
    assert_eq!(code, Some(1));
    let added = kw015(&hits);
    assert!(
        added
            .iter()
            .any(|h| h.message.contains("turns off rule KW015")),
        "{added:#?}"
    );
    assert!(added.iter().any(|h| h.path == "a.env"), "{added:#?}");

    let repo = Repo::new(
        &[("keyward.toml", "[rules]\nKW015 = \"off\"\n")],
        &[("a.env", &env_file(" # keyward:ignore"))],
    );
    let (code, hits) = repo.since(&[]);
    assert!(kw015(&hits).is_empty(), "{hits:#?}");
    assert_eq!(code, Some(0), "{hits:#?}");

    // And its severity, like any rule's.
    let repo = Repo::new(
        &[("keyward.toml", "[rules]\nKW015 = \"critical\"\n")],
        &[("a.env", &env_file(" # keyward:ignore"))],
    );
    let out = repo.run(&["scan", "--since", "main", "--format", "json"]);
    let doc = json(&out);
    let sev: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW015")
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert_eq!(sev, ["critical", "critical"]);
}

/// A widened allow entry (its `rules` dropped) is new; the same entry is not.
#[test]
fn a_widened_allow_entry_is_reported() {
    let narrow = "[[allow]]\npath = \"*.env\"\nrules = [\"KW001\"]\nreason = \"ids are public\"\n";
    let wide = "[[allow]]\npath = \"*.env\"\nreason = \"ids are public\"\n";
    let repo = Repo::new(
        &[("keyward.toml", narrow)],
        &[("keyward.toml", wide), ("a.env", &env_file(""))],
    );
    let (code, hits) = repo.since(&["--policy-from", "main"]);
    assert_eq!(code, Some(1));
    let added = kw015(&hits);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!((added[0].path.as_str(), added[0].line), ("keyward.toml", 1));
    assert!(
        added[0]
            .message
            .contains("silences 2 findings (KW001, KW002)"),
        "{added:#?}"
    );
    assert!(
        added[0].message.contains("reason given: ids are public"),
        "{added:#?}"
    );
    // The base's narrow entry still accepts KW001; KW002 is reported.
    let rules: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
    assert!(
        rules.contains(&"KW002") && !rules.contains(&"KW001"),
        "{hits:#?}"
    );
}

/// A regenerated baseline that accepts the change's own key: each new entry
/// is a KW015 on its line of the baseline, and with the base's (empty)
/// baseline the key is still reported.
#[test]
fn new_baseline_entries_are_reported() {
    let repo = Repo::new(
        &[(
            "keyward.toml",
            "[scan]\nbaseline = \"keyward-baseline.json\"\n",
        )],
        &[],
    );
    repo.write("a.env", &env_file(""));
    let out = repo.run(&["baseline"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(repo.path().join("keyward-baseline.json").is_file());
    // Named relative to where keyward runs, as every other path.
    assert_eq!(
        stdout(&out),
        "keyward: wrote 2 findings to keyward-baseline.json\n"
    );
    repo.commit("add a key and accept it");
    let (code, hits) = repo.since(&["--policy-from", "main"]);
    assert_eq!(code, Some(1));
    let added = kw015(&hits);
    assert_eq!(added.len(), 2, "{added:#?}");
    assert!(
        added.iter().all(|h| h.path == "keyward-baseline.json"),
        "{added:#?}"
    );
    assert!(
        added
            .iter()
            .any(|h| h.message.contains("adds KW001 at a.env to the baseline"))
    );
    assert!(hits.iter().any(|h| h.rule == "KW001"), "{hits:#?}");
    // The change's own baseline would accept both: without --policy-from
    // only KW015 is left.
    let (_, hits) = repo.since(&[]);
    assert!(hits.iter().all(|h| h.rule == "KW015"), "{hits:#?}");
    let lines: Vec<u64> = kw015(&hits).iter().map(|h| h.line).collect();
    let text = std::fs::read_to_string(repo.path().join("keyward-baseline.json")).expect("read");
    for line in lines {
        let shown = text.lines().nth(line as usize - 1).unwrap_or("");
        assert!(shown.contains("\"fingerprint\""), "line {line}: {shown}");
    }
}

/// The staged index against HEAD: what `--staged` (pre-commit) sees.
#[test]
fn staged_changes_are_compared_with_head() {
    let repo = Repo::new(&[], &[]);
    repo.write("a.env", &env_file(" # keyward:ignore"));
    repo.write(
        "keyward.toml",
        "[[allow]]\nkey-id = \"AKIARZPUZDIKKJZDEGXD\"\nreason = \"mine\"\n",
    );
    repo.git(&["add", "-A"]);
    let out = repo.run(&[
        "scan",
        "--staged",
        "--strict-suppressions",
        "--policy-from",
        "HEAD",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let added = kw015(&hits(&json(&out)));
    assert!(
        added.iter().any(|h| h.path == "a.env" && h.line == 2),
        "{added:#?}"
    );
    assert!(
        added
            .iter()
            .any(|h| h.path == "keyward.toml" && h.line == 1),
        "{added:#?}"
    );
    // Listed paths (what pre-commit passes) see the same.
    let out = repo.run(&[
        "scan",
        "--staged",
        "--policy-from",
        "HEAD",
        "--format",
        "json",
        "a.env",
    ]);
    let added = kw015(&hits(&json(&out)));
    assert!(
        added.iter().any(|h| h.path == "a.env" && h.line == 2),
        "{added:#?}"
    );
}

/// The first commit of a repository: no HEAD, so the defaults judge it.
#[test]
fn a_repository_without_commits_uses_the_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    git_in(dir.path(), &["init", "-q", "-b", "main"]);
    write(dir.path(), "keyward.toml", "[rules]\nKW001 = \"off\"\n");
    write(dir.path(), "a.env", env_file(""));
    git_in(dir.path(), &["add", "-A"]);
    let out = keyward(
        dir.path(),
        &[
            "scan",
            "--staged",
            "--strict-suppressions",
            "--policy-from",
            "HEAD",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let hits = hits(&json(&out));
    assert!(hits.iter().any(|h| h.rule == "KW001"), "{hits:#?}");
    assert!(
        kw015(&hits)
            .iter()
            .any(|h| h.message.contains("turns off rule KW001"))
    );
}

/// The annotations a reviewer sees: the KW015 on the line that adds the
/// suppression, as a workflow command.
#[test]
fn annotations_point_at_the_line_that_adds_the_suppression() {
    let repo = Repo::new(&[], &[("a.env", &env_file(" # keyward:ignore"))]);
    let out = repo.run(&[
        "scan",
        "--since",
        "main",
        "--policy-from",
        "main",
        "--format",
        "github",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=a.env,line=2,")
                && l.contains("title=KW015 suppression-added::adds a `keyward:ignore` comment")),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
}

/// A shallow clone as actions/checkout makes it: with the whole history the
/// scan works; with depth 1 the base is missing and the error says why.
#[test]
fn shallow_clones_work_or_say_what_is_missing() {
    let repo = Repo::new(&[], &[("a.env", &env_file(" # keyward:ignore"))]);
    let url = format!("file://{}", repo.path().display());
    let full = tempfile::tempdir().expect("tempdir");
    git_in(
        full.path(),
        &["clone", "-q", "--no-local", "-b", "pr", &url, "c"],
    );
    let clone = full.path().join("c");
    let out = keyward(
        &clone,
        &[
            "scan",
            "--since",
            "origin/main",
            "--policy-from",
            "origin/main",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // One per ignore comment: the key's line and the secret's.
    assert_eq!(kw015(&hits(&json(&out))).len(), 2);

    let shallow = tempfile::tempdir().expect("tempdir");
    git_in(
        shallow.path(),
        &["clone", "-q", "--depth", "1", "-b", "pr", &url, "c"],
    );
    let clone = shallow.path().join("c");
    let base = repo.git(&["rev-parse", "main"]);
    for args in [
        vec!["scan", "--since", base.as_str()],
        vec!["scan", "--policy-from", base.as_str()],
    ] {
        let out = keyward(&clone, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("shallow") && err.contains("fetch-depth: 0"),
            "{args:?}: {err}"
        );
    }
    // The base fetched alone (depth 1 of each): no merge base in the clone.
    git_in(&clone, &["fetch", "-q", "--depth", "1", "origin", "main"]);
    let out = keyward(&clone, &["scan", "--since", "FETCH_HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("no common ancestor") && err.contains("shallow"),
        "{err}"
    );
}

/// An ignore comment already in the base, left above a line the change
/// writes: what the change puts there is silenced by it, so that is
/// reported too, on the new line.
#[test]
fn an_old_ignore_comment_silencing_a_new_line_is_reported() {
    let repo = Repo::new(
        &[(
            "a.env",
            "# keyward:ignore -- placeholder below\nAWS_ACCESS_KEY_ID=\n",
        )],
        &[(
            "a.env",
            &format!("# keyward:ignore -- placeholder below\nAWS_ACCESS_KEY_ID={KEY}\n"),
        )],
    );
    let (code, hits) = repo.since(&["--policy-from", "main"]);
    assert_eq!(code, Some(1), "{hits:#?}");
    let added = kw015(&hits);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!(added[0].line, 2);
    assert!(
        added[0]
            .message
            .contains("silenced by the existing `keyward:ignore` on line 1"),
        "{added:#?}"
    );
}

/// Paths in the configuration resolve inside the repository: `..` out of
/// it, absolute paths and symlinks that leave it are refused, in the work
/// tree and at a revision.
#[test]
fn config_paths_stay_in_the_repository() {
    let outside = tempfile::tempdir().expect("tempdir");
    write(outside.path(), "rules/KW100-mine.yaml", "id: KW100\n");
    for (config, why) in [
        (
            "[rules]\nrules-dir = \"../../rules\"\n",
            "`..` leads out of the repository",
        ),
        ("[scan]\nbaseline = \"/etc/passwd\"\n", "an absolute path"),
        (
            "[scan]\nbaseline = \"../b.json\"\n",
            "`..` leads out of the repository",
        ),
    ] {
        let repo = Repo::new(&[("keyward.toml", config)], &[]);
        for args in [
            &["scan", "."][..],
            &["scan", ".", "--policy-from", "main"][..],
        ] {
            let out = repo.run(args);
            assert_eq!(out.status.code(), Some(2), "{config} {args:?}");
            let err = stderr(&out);
            assert!(
                err.contains("is refused") && err.contains(why),
                "{config} {args:?}: {err}"
            );
        }
    }
    // A symlink in the work tree that leads out.
    let repo = Repo::new(
        &[("keyward.toml", "[rules]\nrules-dir = \"policy\"\n")],
        &[],
    );
    std::os::unix::fs::symlink(outside.path().join("rules"), repo.path().join("policy"))
        .expect("symlink");
    let out = repo.run(&["scan", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a symlink leads out of the repository"),
        "{}",
        stderr(&out)
    );

    // `..` that stays inside (a config in a subdirectory) is fine.
    let repo = Repo::new(
        &[
            (
                "infra/keyward.toml",
                "[scan]\nbaseline = \"../keyward-baseline.json\"\n",
            ),
            (
                "keyward-baseline.json",
                "{\"version\": 1, \"findings\": []}\n",
            ),
        ],
        &[],
    );
    let out = keyward(&repo.path().join("infra"), &["scan", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = keyward(
        &repo.path().join("infra"),
        &["scan", ".", "--policy-from", "main"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Errors about a file keyward cannot parse show the offending token, and
/// mask anything that looks like a secret, in the message and the snippet.
#[test]
fn parse_errors_do_not_echo_secrets() {
    let repo = Repo::new(&[], &[]);
    repo.write("creds.env", &format!("aws_secret_access_key = {SECRET}\n"));
    repo.write("bad.toml", &format!("[scan]\nexclude = \"{SECRET}\"\n"));
    repo.write(
        "bad-baseline.json",
        &format!("{{\"version\": \"{SECRET}\"}}\n"),
    );
    for args in [
        &["scan", ".", "--config", "creds.env"][..],
        &["scan", ".", "--config", "bad.toml"][..],
        &["scan", ".", "--baseline", "bad-baseline.json"][..],
    ] {
        let out = repo.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!text.contains(SECRET), "{args:?}: {text}");
        assert!(
            text.contains("Bel3") || text.contains("invalid"),
            "{args:?}: {text}"
        );
    }
}

/// A change whose keyward.toml cannot be read: with the base's policy the
/// scan runs, and the broken file is a KW015 (it would fail every scan that
/// reads it); without it, the scan stops with the configuration error.
#[test]
fn a_broken_configuration_in_the_change() {
    let repo = Repo::new(
        &[("keyward.toml", "[rules]\nKW004 = \"low\"\n")],
        &[
            ("keyward.toml", "[rules\nKW001 = \"off\"\n"),
            ("a.env", &env_file("")),
        ],
    );
    let (code, hits) = repo.since(&["--policy-from", "main"]);
    assert_eq!(code, Some(1));
    assert!(hits.iter().any(|h| h.rule == "KW001"), "{hits:#?}");
    let added = kw015(&hits);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!((added[0].path.as_str(), added[0].line), ("keyward.toml", 1));
    assert!(added[0].message.contains("cannot read"), "{added:#?}");
    let out = repo.run(&["scan", "--since", "main"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid configuration"),
        "{}",
        stderr(&out)
    );
}

/// `[iam] inventory` feeds the IAM rules. A change that points it at
/// another file (one that calls the key Active and fresh) is KW015, and
/// with `--policy-from` the base's inventory judges the change's keys.
#[test]
fn a_change_cannot_swap_the_inventory() {
    let inventory = |status: &str, created: &str| {
        format!(
            r#"{{"version": 1, "generated_at": "2026-11-29T00:00:00Z", "accounts": [{{"account": "123456789012", "keys": [
  {{"access_key_id": "{KEY}", "user": "deploy-bot", "status": "{status}", "created": "{created}", "last_used": "2026-11-28T00:00:00Z"}}]}}]}}
"#
        )
    };
    let config = |file: &str| format!("[iam]\ninventory = \"{file}\"\n");
    let repo = Repo::new(
        &[
            ("a.env", &env_file("")),
            ("keyward.toml", &config("iam.json")),
            ("iam.json", &inventory("Inactive", "2024-01-01T00:00:00Z")),
        ],
        &[
            ("b.env", &env_file("")),
            ("keyward.toml", &config("iam-fresh.json")),
            (
                "iam-fresh.json",
                &inventory("Active", "2026-11-01T00:00:00Z"),
            ),
        ],
    );
    let now = ["--now", "2026-11-30T00:00:00Z"];
    // The base's own scan, through the config: the key is Inactive.
    repo.git(&["checkout", "-q", "main"]);
    let (_, hits) = repo.since(&now);
    assert!(hits.is_empty(), "nothing changed against itself: {hits:#?}");
    let out = repo.run(&["scan", ".", "--format", "json", "--now", now[1]]);
    let rules: Vec<String> = hits_of(&out).into_iter().map(|h| h.rule).collect();
    assert!(rules.iter().any(|r| r == "KW006"), "{rules:?}");
    assert!(
        rules.iter().all(|r| r != "KW015"),
        "an inventory is not a report the change adds: {rules:?}"
    );
    repo.git(&["checkout", "-q", "pr"]);

    // The change's inventory says Active and fresh; KW015 names the swap.
    let mut args = now.to_vec();
    let (code, hits) = repo.since(&args);
    assert_eq!(code, Some(1));
    assert!(!hits.iter().any(|h| h.rule == "KW006"), "{hits:#?}");
    let added = kw015(&hits);
    assert_eq!(added.len(), 1, "{added:#?}");
    assert_eq!((added[0].path.as_str(), added[0].line), ("keyward.toml", 2));
    assert!(
        added[0]
            .message
            .contains("changes `[iam] inventory` from `iam.json` to `iam-fresh.json`"),
        "{added:#?}"
    );
    // Judged by the base's policy, the base's inventory answers.
    args.extend(["--policy-from", "main"]);
    let (_, hits) = repo.since(&args);
    assert!(hits.iter().any(|h| h.rule == "KW006"), "{hits:#?}");
    // --no-iam turns it off for one run.
    let (_, hits) = repo.since(&["--no-iam", "--policy-from", "main", "--now", now[1]]);
    assert!(hits.iter().any(|h| h.rule == "KW001"), "{hits:#?}");
    assert!(
        !hits
            .iter()
            .any(|h| ["KW006", "KW007", "KW008", "KW009"].contains(&h.rule.as_str())),
        "{hits:#?}"
    );
}

fn hits_of(out: &Output) -> Vec<Hit> {
    hits(&json(out))
}

/// A commit (`--staged`) without `--strict-suppressions`: the suppressions
/// it adds apply, KW015 reports each with a help that says what happens
/// next, and the gate counts the rest only; strict, the hook fails.
#[test]
fn a_commit_reports_its_suppressions_without_failing() {
    let repo = Repo::new(&[], &[]);
    repo.write("a.env", &env_file(" # keyward:ignore -- a sandbox key"));
    repo.write("b.env", &env_file(""));
    repo.write(
        "keyward.toml",
        "[[allow]]\npath = \"b.env\"\nreason = \"mine\"\n",
    );
    repo.git(&["add", "-A"]);
    let args = [
        "scan",
        "--staged",
        "--policy-from",
        "HEAD",
        "--format",
        "json",
    ];
    let out = repo.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["gate"]["failing"], 0, "{doc}");
    let found = hits(&doc);
    assert!(found.iter().all(|h| h.rule == "KW015"), "{found:#?}");
    let added = kw015(&found);
    assert!(added.iter().any(|h| h.path == "a.env"), "{added:#?}");
    assert!(added.iter().any(|h| h.path == "keyward.toml"), "{added:#?}");
    let shown = stdout(&repo.run(&["scan", "--staged", "--policy-from", "HEAD"]));
    assert!(
        shown.contains("the pull request's gate") && shown.contains("--strict-suppressions"),
        "{shown}"
    );
    // A key the commit adds without a suppression still fails it.
    repo.write("c.env", &env_file(""));
    repo.git(&["add", "-A"]);
    let out = repo.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = hits(&json(&out));
    assert!(
        found.iter().any(|h| h.rule == "KW001" && h.path == "c.env"),
        "{found:#?}"
    );
    // Strict: as the pull request's gate judges it.
    repo.git(&["rm", "-q", "--cached", "c.env"]);
    let mut strict = args.to_vec();
    strict.push("--strict-suppressions");
    let out = repo.run(&strict);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = hits(&json(&out));
    assert!(
        found.iter().any(|h| h.rule == "KW001" && h.path == "b.env"),
        "{found:#?}"
    );
}

/// Two lines, each with its own trailing ignore: each KW015 names what its
/// own ignore silences, as the suppression step decided it (the key's
/// comment does not also claim the secret on the line below).
#[test]
fn each_ignore_silences_its_own_lines_finding() {
    let repo = Repo::new(&[], &[]);
    repo.write(
        "a.env",
        &format!("AWS_ACCESS_KEY_ID={KEY} # keyward:ignore\nAWS_SECRET_ACCESS_KEY={SECRET} # keyward:ignore\n"),
    );
    repo.git(&["add", "-A"]);
    let out = repo.run(&[
        "scan",
        "--staged",
        "--strict-suppressions",
        "--policy-from",
        "HEAD",
        "--format",
        "json",
    ]);
    let added = kw015(&hits(&json(&out)));
    let on = |line: u64| {
        added
            .iter()
            .find(|h| h.path == "a.env" && h.line == line)
            .map(|h| h.message.clone())
            .unwrap_or_else(|| panic!("KW015 on line {line}: {added:#?}"))
    };
    assert!(on(1).contains("silences 1 finding (KW001)"), "{}", on(1));
    assert!(on(2).contains("silences 1 finding (KW002)"), "{}", on(2));
    assert!(!hits(&json(&out)).iter().any(|h| h.rule == "KW000"));
}
