//! `--live` without usable credentials stops with exit 2 and says what to do,
//! before any request is sent (the endpoint is a closed loopback port).

use std::path::Path;
use std::process::{Command, Output};

fn live_scan(home: &Path, repo: &Path, profile: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyward"));
    cmd.env_clear()
        .args(["scan", ".", "--live"])
        .current_dir(repo)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("NO_COLOR", "1");
    if let Some(p) = profile {
        cmd.env("AWS_PROFILE", p);
    }
    cmd.output().expect("keyward runs")
}

fn flat(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    // scripts/genkey.py --seed 505
    std::fs::write(
        t.path().join("app.env"),
        "AWS_ACCESS_KEY_ID=AKIARZPUZDIKEQTRV6SW\n",
    )
    .expect("write");
    t
}

#[test]
fn no_credentials_at_all_says_how_to_provide_them() {
    let home = tempfile::tempdir().expect("home");
    let r = repo();
    let o = live_scan(home.path(), r.path(), None);
    let err = flat(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(err.contains("--inventory"), "{err}");
    assert!(!err.contains("ProviderAttempt"), "no SDK Debug dump: {err}");
}

/// An SSO profile whose cached token expired (or was never fetched).
#[test]
fn an_expired_sso_session_says_to_log_in_again() {
    let home = tempfile::tempdir().expect("home");
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(aws.join("sso/cache")).expect("mkdir");
    std::fs::write(
        aws.join("config"),
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n\
         sso_role_name = ReadOnly\nregion = us-east-1\n\n[sso-session corp]\n\
         sso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .expect("config");
    let r = repo();
    let never = live_scan(home.path(), r.path(), Some("dev"));
    // The SDK names its token cache file by the SHA-1 of the session name.
    std::fs::write(
        aws.join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json"),
        r#"{"accessToken":"expired-token-for-tests","expiresAt":"2020-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#,
    )
    .expect("token cache");
    let expired = live_scan(home.path(), r.path(), Some("dev"));
    for o in [&never, &expired] {
        let err = flat(o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("no usable AWS credentials"), "{err}");
        assert!(err.contains("aws sso login"), "{err}");
        assert!(!err.contains("ProviderError"), "no SDK Debug dump: {err}");
    }
    assert!(flat(&expired).contains("expired"), "{}", flat(&expired));
}
