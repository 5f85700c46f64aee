//! The release path of the GitHub Action: `scripts/package.sh` packs a
//! binary, and the action's own install step (the `version` input), run here
//! as written in action.yml, verifies and unpacks it. Only `gh release
//! download` is replaced, by a script that copies from a local folder:
//! tests never reach the internet.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::root;

fn action_steps() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let doc: serde_json::Value = serde_norway::from_str(&text).expect("action.yml is YAML");
    doc["runs"]["steps"].as_array().expect("steps").clone()
}

fn install_step() -> String {
    action_steps()
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Install keyward ${{"))
        })
        .and_then(|s| s["run"].as_str())
        .expect("the version install step")
        .to_string()
}

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

#[test]
fn the_action_installs_what_the_release_packs() {
    let t = tempfile::tempdir().expect("tempdir");
    let assets = t.path().join("assets");
    package(&assets, "v0.1.0", "x86_64-unknown-linux-gnu");
    // `gh release download TAG --repo R --dir D --pattern P`, from `assets`.
    let bin = t.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::write(
        bin.join("gh"),
        "#!/bin/sh\necho \"$@\" > \"$GH_LOG\"\n[ \"$1 $2\" = \"release download\" ] || exit 9\n\
         while [ $# -gt 0 ]; do case $1 in --dir) dir=$2; shift;; --pattern) pat=$2; shift;; esac; shift; done\n\
         cp \"$ASSETS\"/$pat \"$dir\"/\n",
    )
    .expect("gh");
    let mut perms = std::fs::metadata(bin.join("gh"))
        .expect("meta")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(bin.join("gh"), perms).expect("chmod");

    let runner_temp = t.path().join("runner-temp");
    std::fs::create_dir_all(&runner_temp).expect("mkdir");
    let github_path = t.path().join("github-path");
    let run = |assets: &Path| {
        Command::new("bash")
            .args(["-e", "-c", &install_step()])
            .current_dir(t.path())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("ASSETS", assets)
            .env("GH_LOG", t.path().join("gh.log"))
            .env("KEYWARD_VERSION", "0.1.0")
            .env("KEYWARD_REPO", "keyward/keyward")
            .env("GH_TOKEN", "not-used")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_PATH", &github_path)
            .output()
            .expect("bash runs")
    };
    let o = run(&assets);
    assert!(
        o.status.success(),
        "install step: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let log = std::fs::read_to_string(t.path().join("gh.log")).expect("gh was called");
    assert!(
        log.starts_with("release download v0.1.0 --repo keyward/keyward"),
        "{log}"
    );
    let dir = std::fs::read_to_string(&github_path).expect("GITHUB_PATH written");
    let installed = Path::new(dir.trim()).join("keyward");
    let v = Command::new(&installed)
        .arg("--version")
        .output()
        .expect("the installed keyward runs");
    assert!(
        String::from_utf8_lossy(&v.stdout).contains(env!("CARGO_PKG_VERSION")),
        "{v:?}"
    );

    // A tampered archive fails the checksum and installs nothing.
    let bad = t.path().join("bad");
    package(&bad, "0.1.0", "x86_64-unknown-linux-gnu");
    let archive = bad.join("keyward-0.1.0-x86_64-unknown-linux-gnu.tar.gz");
    let mut bytes = std::fs::read(&archive).expect("archive");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&archive, bytes).expect("tamper");
    std::fs::remove_dir_all(&runner_temp).expect("clean");
    std::fs::create_dir_all(&runner_temp).expect("mkdir");
    std::fs::remove_file(&github_path).expect("clean");
    let o = run(&bad);
    assert!(!o.status.success(), "a bad checksum must fail the step");
    assert!(!github_path.exists(), "nothing was put on PATH");
}

#[test]
fn the_release_builds_every_target_the_action_downloads() {
    let step = install_step();
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
    let built: BTreeSet<String> = doc["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .filter_map(|e| e["target"].as_str().map(str::to_string))
        .collect();
    assert_eq!(built, wanted);
    assert!(step.contains("keyward-${KEYWARD_VERSION#v}-$target.tar.gz"));
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
