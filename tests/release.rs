//! The release path: `scripts/package.sh` packs a binary, and the action's
//! install step (`scripts/action-install.sh`, which action.yml runs) picks,
//! verifies and unpacks it, or says to build the source. Only `gh` is
//! replaced, by a script that copies from a local folder: tests never reach
//! the internet. cargo binstall's metadata is checked against the same
//! archive.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::root;

fn package(out: &Path, version: &str, target: &str) {
    let o = Command::new("bash")
        .arg(root().join("scripts/package.sh"))
        .args([env!("CARGO_BIN_EXE_keyward"), version])
        .arg(target)
        .arg(out)
        .output()
        .expect("bash runs");
    assert!(
        o.status.success(),
        "package.sh: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A runner for `scripts/action-install.sh` (the action's install step):
/// `gh` is a script that serves `gh release download` from `assets` and
/// `gh api .../commits/vX` from `TAG_SHA`, and logs every call.
struct Runner {
    t: tempfile::TempDir,
}

struct Install {
    status: std::process::ExitStatus,
    log: String,
    /// `installed=` as the step wrote it to GITHUB_OUTPUT.
    installed: Option<String>,
    /// The directory the step put on PATH, if any.
    path: Option<std::path::PathBuf>,
}

impl Runner {
    fn new() -> Runner {
        let t = tempfile::tempdir().expect("tempdir");
        let bin = t.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::fs::write(
            bin.join("gh"),
            "#!/bin/sh\necho \"$@\" >> \"$GH_LOG\"\n\
             if [ \"$1\" = api ]; then echo \"$TAG_SHA\"; exit 0; fi\n\
             [ \"$1 $2\" = \"release download\" ] || exit 9\n\
             while [ $# -gt 0 ]; do case $1 in --dir) dir=$2; shift;; --pattern) pat=$2; shift;; esac; shift; done\n\
             ls \"$ASSETS\"/$pat >/dev/null 2>&1 || { echo 'no assets match' >&2; exit 1; }\n\
             cp \"$ASSETS\"/$pat \"$dir\"/\n",
        )
        .expect("gh");
        let mut perms = std::fs::metadata(bin.join("gh"))
            .expect("meta")
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(bin.join("gh"), perms).expect("chmod");
        Runner { t }
    }

    /// One run of the step in a fresh runner directory, with `env` on top.
    fn install(&self, assets: &Path, env: &[(&str, &str)]) -> Install {
        let run = tempfile::tempdir_in(self.t.path()).expect("tempdir");
        let temp = run.path().join("runner-temp");
        std::fs::create_dir_all(&temp).expect("mkdir");
        let (github_path, output, log) = (
            run.path().join("github-path"),
            run.path().join("github-output"),
            run.path().join("gh.log"),
        );
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/action-install.sh"))
            .current_dir(run.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.t.path().join("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("ASSETS", assets)
            .env("GH_LOG", &log)
            .env("TAG_SHA", "0".repeat(40))
            .env("KEYWARD_VERSION", "")
            .env("KEYWARD_REPO", "keyward/keyward")
            .env("ACTION_REF", format!("v{}", env!("CARGO_PKG_VERSION")))
            .env("GH_TOKEN", "not-used")
            .env("GITHUB_ACTION_PATH", root())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", &temp)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_OUTPUT", &output);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.output().expect("bash runs");
        let outputs = std::fs::read_to_string(&output).unwrap_or_default();
        let installed = outputs
            .lines()
            .find_map(|l| l.strip_prefix("installed="))
            .map(str::to_string);
        let path = std::fs::read_to_string(&github_path)
            .ok()
            .map(|p| std::path::PathBuf::from(p.trim()));
        // Kept so the installed binary can be run after this returns.
        let _ = run.keep();
        Install {
            status: o.status,
            log: format!(
                "{}{}\ngh: {}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
            installed,
            path,
        }
    }

    fn assets(&self, version: &str) -> std::path::PathBuf {
        let dir = self.t.path().join(format!("assets-{version}"));
        package(&dir, version, "x86_64-unknown-linux-gnu");
        dir
    }
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn installed_version(i: &Install) -> String {
    let bin = i
        .path
        .as_ref()
        .expect("a directory on PATH")
        .join("keyward");
    let v = Command::new(&bin)
        .arg("--version")
        .output()
        .expect("the installed keyward runs");
    String::from_utf8_lossy(&v.stdout).trim().to_string()
}

#[test]
fn at_a_release_tag_the_action_downloads_its_own_version() {
    let r = Runner::new();
    let assets = r.assets(VERSION);
    for ref_ in [format!("v{VERSION}"), "v0".to_string(), "v0.1".to_string()] {
        let i = r.install(&assets, &[("ACTION_REF", &ref_)]);
        assert!(i.status.success(), "{ref_}: {}", i.log);
        assert_eq!(i.installed.as_deref(), Some("true"), "{ref_}: {}", i.log);
        assert!(
            i.log.contains(&format!(
                "gh: release download v{VERSION} --repo keyward/keyward"
            )),
            "{}",
            i.log
        );
        assert_eq!(installed_version(&i), format!("keyward {VERSION}"));
    }
    // Pinned to a commit: downloaded when that commit is the release's tag.
    let sha = "3".repeat(40);
    let i = r.install(&assets, &[("ACTION_REF", &sha), ("TAG_SHA", &sha)]);
    assert_eq!(i.installed.as_deref(), Some("true"), "{}", i.log);
    assert!(
        i.log
            .contains(&format!("api repos/keyward/keyward/commits/v{VERSION}")),
        "{}",
        i.log
    );
}

#[test]
fn away_from_a_release_the_action_builds_its_source() {
    let r = Runner::new();
    let assets = r.assets(VERSION);
    for (env, why) in [
        (
            vec![("ACTION_REF", "main")],
            "runs at main, not at a release",
        ),
        (vec![("ACTION_REF", "")], "runs at a local path"),
        (
            vec![("ACTION_REF", &*"4".repeat(40))],
            "which is not release",
        ),
        (vec![("KEYWARD_VERSION", "source")], "version: source"),
        // A release with no archive for this runner.
        (
            vec![("RUNNER_OS", "Windows")],
            "no released keyward for Windows",
        ),
    ] {
        let i = r.install(&assets, &env);
        assert!(i.status.success(), "{env:?}: {}", i.log);
        assert_eq!(i.installed.as_deref(), Some("false"), "{env:?}: {}", i.log);
        assert!(i.log.contains(why), "{env:?}: {}", i.log);
        assert!(i.log.contains("building the action's source"), "{}", i.log);
        assert!(!i.log.contains("release download"), "{}", i.log);
        assert!(i.path.is_none(), "nothing was put on PATH");
    }
    // The release exists but has no archive (not built yet): built too.
    let empty = r.t.path().join("no-assets");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let i = r.install(&empty, &[]);
    assert!(i.status.success(), "{}", i.log);
    assert_eq!(i.installed.as_deref(), Some("false"), "{}", i.log);
    assert!(i.log.contains("::notice::release v"), "{}", i.log);
}

#[test]
fn an_asked_for_version_is_downloaded_or_the_step_fails() {
    let r = Runner::new();
    let assets = r.assets("0.0.9");
    // At a branch, an explicit version is still what runs.
    let i = r.install(
        &assets,
        &[("KEYWARD_VERSION", "v0.0.9"), ("ACTION_REF", "main")],
    );
    assert!(i.status.success(), "{}", i.log);
    assert_eq!(i.installed.as_deref(), Some("true"));
    assert!(i.log.contains("gh: release download v0.0.9"), "{}", i.log);
    // Missing: an error, not a quiet build of some other version.
    let i = r.install(&assets, &[("KEYWARD_VERSION", "0.0.8")]);
    assert_eq!(i.status.code(), Some(2), "{}", i.log);
    assert!(i.log.contains("::error::release v0.0.8"), "{}", i.log);
    assert!(i.installed.is_none() && i.path.is_none(), "{}", i.log);
    let i = r.install(
        &assets,
        &[("KEYWARD_VERSION", "0.0.9"), ("RUNNER_ARCH", "ARM")],
    );
    assert_eq!(i.status.code(), Some(2), "{}", i.log);
}

#[test]
fn a_tampered_archive_fails_the_step_and_installs_nothing() {
    let r = Runner::new();
    let bad = r.assets(VERSION);
    let archive = bad.join(format!("keyward-{VERSION}-x86_64-unknown-linux-gnu.tar.gz"));
    let mut bytes = std::fs::read(&archive).expect("archive");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&archive, bytes).expect("tamper");
    // Explicit or by default: a bad checksum is never a reason to build.
    for env in [vec![], vec![("KEYWARD_VERSION", VERSION)]] {
        let i = r.install(&bad, &env);
        assert!(!i.status.success(), "a bad checksum must fail the step");
        assert!(i.path.is_none(), "nothing was put on PATH");
        assert_ne!(i.installed.as_deref(), Some("false"), "{}", i.log);
    }
}

/// `cargo binstall keyward` finds the archive the release publishes: the
/// metadata's URL, filled in as binstall does, names the file
/// scripts/package.sh writes, and `bin-dir` is where the binary is in it.
#[test]
fn cargo_binstall_metadata_names_the_released_archive() {
    let manifest: toml::Table = std::fs::read_to_string(root().join("Cargo.toml"))
        .expect("Cargo.toml")
        .parse()
        .expect("TOML");
    let crate_ = &manifest["package"];
    let binstall = &crate_["metadata"]["binstall"];
    let target = "x86_64-unknown-linux-gnu";
    let fill = |template: &str| {
        template
            .replace(
                "{ repo }",
                crate_["repository"].as_str().expect("repository"),
            )
            .replace("{ name }", "keyward")
            .replace("{ version }", VERSION)
            .replace("{ target }", target)
            .replace("{ bin }", "keyward")
            .replace("{ binary-ext }", "")
    };
    let url = fill(binstall["pkg-url"].as_str().expect("pkg-url"));
    assert!(
        !url.contains('{'),
        "every placeholder is one binstall fills: {url}"
    );
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
    let t = tempfile::tempdir().expect("tempdir");
    package(t.path(), VERSION, target);
    let file = format!("keyward-{VERSION}-{target}.tar.gz");
    assert!(t.path().join(&file).exists());
    assert_eq!(
        url,
        format!("https://github.com/keyward/keyward/releases/download/v{VERSION}/{file}")
    );
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(t.path().join(&file))
        .output()
        .expect("tar runs");
    let names = String::from_utf8_lossy(&listing.stdout);
    let bin = fill(binstall["bin-dir"].as_str().expect("bin-dir"));
    assert!(names.lines().any(|n| n == bin), "{bin} in {names}");
}

#[test]
fn the_release_builds_every_target_the_action_downloads() {
    let step = std::fs::read_to_string(root().join("scripts/action-install.sh")).expect("script");
    let wanted: BTreeSet<String> = step
        .lines()
        .filter_map(|l| l.split("target=").nth(1))
        .map(|t| {
            t.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches(';')
                .to_string()
        })
        .collect();
    assert_eq!(wanted.len(), 4, "{step}");
    let text =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release.yml");
    let doc: serde_json::Value = serde_norway::from_str(&text).expect("YAML");
    let targets = |job: &str| -> BTreeSet<String> {
        doc["jobs"][job]["strategy"]["matrix"]["include"]
            .as_array()
            .unwrap_or_else(|| panic!("{job}'s matrix"))
            .iter()
            .filter_map(|e| e["target"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(targets("build"), wanted);
    // The wheels the `keyward` pre-commit hook installs: the same targets,
    // and Linux's also as static (musl) binaries; the container image holds
    // those static binaries.
    let statics: BTreeSet<String> = wanted
        .iter()
        .filter(|t| t.ends_with("-linux-gnu"))
        .map(|t| t.replace("-linux-gnu", "-linux-musl"))
        .collect();
    assert_eq!(statics.len(), 2, "{wanted:?}");
    let wheels = targets("wheels");
    assert_eq!(wheels, wanted.union(&statics).cloned().collect());
    assert_eq!(targets("image"), statics);
    assert!(step.contains(r#"archive="keyward-$requested-$target.tar.gz""#));
    let lint = Command::new("actionlint")
        .args(["-no-color", ".github/workflows/release.yml"])
        .current_dir(root())
        .output()
        .expect("actionlint runs (tests/requirements.txt)");
    assert!(
        lint.status.success(),
        "actionlint: {}",
        String::from_utf8_lossy(&lint.stdout)
    );
}
