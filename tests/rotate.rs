//! Rotations against a real IAM, STS and secret store (`moto_server`): the
//! plan's JSON carried out step by step with boto3, and `keyward rotate`
//! (dry run, `--apply`, interruptions and resumes, refusals).

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_iam::config::{Credentials, Region};
use common::moto::*;
use common::{stderr, stdout};

/// Users of the scenario, and where the repository holds their keys:
/// - `solo`: one key, in `app/.env`;
/// - `twin`: two Active keys, both in `docker-compose.yml` (services api and
///   worker), and AWS's quarantine policy attached (urgent);
/// - `spare`: an Active key in `infra/prod.tfvars`, and an Inactive key the
///   repository does not hold (the user is at the two-key limit);
/// - `current`: an Inactive key in `ci/old.env`, and an Active key the
///   repository does not hold, its pair already in the store;
/// - `bystander`: a key the repository does not hold.
struct Scenario {
    moto: Moto,
    admin: Key,
    keys: BTreeMap<&'static str, Key>,
    repo: tempfile::TempDir,
}

const ACCOUNT: &str = "123456789012";

fn scenario() -> Option<Scenario> {
    if !common::tool_runs("python3", &["-c", "import moto.server, boto3"]) {
        return None;
    }
    let moto = Moto::start();
    let url = moto.url();
    let (admin, keys) = runtime().block_on(async {
        let iam = setup_client(&url);
        let admin = admin_user(&iam).await;
        let mut keys = BTreeMap::new();
        for user in ["solo", "twin", "spare", "current", "bystander"] {
            create_user(&iam, user).await;
        }
        keys.insert("solo", create_key(&iam, "solo").await);
        keys.insert("twin_a", create_key(&iam, "twin").await);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        keys.insert("twin_b", create_key(&iam, "twin").await);
        iam.attach_user_policy()
            .user_name("twin")
            .policy_arn("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
            .send()
            .await
            .expect("quarantine");
        let spare_old = create_key(&iam, "spare").await;
        deactivate(&iam, "spare", &spare_old.id).await;
        keys.insert("spare_old", spare_old);
        keys.insert("spare", create_key(&iam, "spare").await);
        let current_old = create_key(&iam, "current").await;
        deactivate(&iam, "current", &current_old.id).await;
        keys.insert("current_old", current_old);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        keys.insert("current_new", create_key(&iam, "current").await);
        keys.insert("bystander", create_key(&iam, "bystander").await);
        (admin, keys)
    });
    let s = Scenario {
        moto,
        admin,
        keys,
        repo: tempfile::tempdir().expect("repo"),
    };
    // The current user's pair is where a team keeps it: in the store.
    s.block(async {
        s.secrets()
            .create_secret()
            .name("keyward/current")
            .secret_string(pair_json(&s.keys["current_new"]))
            .send()
            .await
            .expect("store the current pair");
    });
    s.moto.enable_auth();
    let k = |n: &str| s.keys[n].clone();
    common::write(
        s.repo.path(),
        "app/.env",
        format!(
            "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
            k("solo").id,
            k("solo").secret
        ),
    );
    common::write(
        s.repo.path(),
        "docker-compose.yml",
        format!(
            "services:\n  api:\n    image: acme/api\n    environment:\n      AWS_ACCESS_KEY_ID: {}\n      AWS_SECRET_ACCESS_KEY: {}\n  worker:\n    image: acme/worker\n    environment:\n      AWS_ACCESS_KEY_ID: {}\n      AWS_SECRET_ACCESS_KEY: {}\n",
            k("twin_a").id,
            k("twin_a").secret,
            k("twin_b").id,
            k("twin_b").secret
        ),
    );
    common::write(
        s.repo.path(),
        "infra/prod.tfvars",
        format!(
            "region         = \"us-east-1\"\naws_access_key = \"{}\"\naws_secret_key = \"{}\"\n",
            k("spare").id,
            k("spare").secret
        ),
    );
    common::write(
        s.repo.path(),
        "ci/old.env",
        format!("AWS_ACCESS_KEY_ID={}\n", k("current_old").id),
    );
    common::git_in(s.repo.path(), &["init", "-q"]);
    common::git_in(s.repo.path(), &["add", "-A"]);
    common::git_in(s.repo.path(), &["commit", "-qm", "keys everywhere"]);
    Some(s)
}

async fn deactivate(iam: &aws_sdk_iam::Client, user: &str, key: &str) {
    iam.update_access_key()
        .user_name(user)
        .access_key_id(key)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .expect("deactivate");
}

fn pair_json(k: &Key) -> String {
    format!(
        "{{\"AWS_ACCESS_KEY_ID\": \"{}\", \"AWS_SECRET_ACCESS_KEY\": \"{}\"}}",
        k.id, k.secret
    )
}

impl Scenario {
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        runtime().block_on(f)
    }

    fn config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.moto.url())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
                Credentials::new(&self.admin.id, &self.admin.secret, None, None, "test"),
            ))
            .build()
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config())
    }

    fn secrets(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.config())
    }

    /// The user's keys now: (ID, status), oldest first.
    fn keys_of(&self, user: &str) -> Vec<(String, String)> {
        self.block(async {
            let out = self
                .iam()
                .list_access_keys()
                .user_name(user)
                .send()
                .await
                .expect("list keys");
            let mut keys: Vec<_> = out
                .access_key_metadata()
                .iter()
                .map(|m| {
                    (
                        m.create_date().map(|d| d.secs()).unwrap_or(0),
                        m.access_key_id().unwrap_or("").to_string(),
                        m.status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect();
            keys.sort();
            keys.into_iter().map(|(_, id, st)| (id, st)).collect()
        })
    }

    /// The pair a Secrets Manager secret holds (key ID, secret), if any.
    fn stored(&self, name: &str) -> Option<(String, String)> {
        self.block(async {
            let out = self
                .secrets()
                .get_secret_value()
                .secret_id(name)
                .send()
                .await
                .ok()?;
            let v: serde_json::Value = serde_json::from_str(out.secret_string()?).ok()?;
            Some((
                v["AWS_ACCESS_KEY_ID"].as_str()?.to_string(),
                v["AWS_SECRET_ACCESS_KEY"].as_str()?.to_string(),
            ))
        })
    }

    fn keyward(&self, args: &[&str]) -> Output {
        keyward_env(self.repo.path(), &self.admin, &self.moto.url(), args)
    }

    /// A python3 script of `tests/python` with the admin's credentials and
    /// the moto endpoint.
    fn python(&self, script: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new("python3");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.arg(common::root().join("tests/python").join(script))
            .args(args)
            .current_dir(self.repo.path())
            .env("AWS_ENDPOINT_URL", self.moto.url())
            .env("AWS_ACCESS_KEY_ID", &self.admin.id)
            .env("AWS_SECRET_ACCESS_KEY", &self.admin.secret)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .expect("python3 runs")
    }
}

/// `keyward plan --live --format json` carried out by a script, step by
/// step, in order: every exposed key ends deleted, the two-key limit is
/// never hit, the urgent user comes first, the key the repository does not
/// hold stays, and nobody else is touched.
#[test]
fn the_plans_json_steps_carried_out_in_order_leave_no_exposed_key() {
    let Some(s) = scenario() else { return };
    let out = s.keyward(&["plan", "--live", "--format", "json", "-o", "plan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan_path = s.repo.path().join("plan.json");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).expect("plan")).expect("json");
    let users: Vec<&str> = plan["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["user"].as_str())
        .collect();
    assert_eq!(users.first(), Some(&"twin"), "urgent first: {users:?}");
    assert!(!users.contains(&"bystander"), "{users:?}");
    for u in plan["users"].as_array().expect("users") {
        for step in u["steps"].as_array().expect("steps") {
            assert_eq!(step["account"], ACCOUNT, "{step}");
            let command = step["commands"].to_string();
            for k in s.keys.values() {
                assert!(!command.contains(&k.secret), "a secret in a step: {step}");
            }
        }
    }
    let run = s.python("run_plan.py", &[plan_path.to_str().expect("path")]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&run),
        stderr(&run)
    );
    let id = |n: &str| s.keys[n].id.clone();
    for (user, gone) in [
        ("solo", vec!["solo"]),
        ("twin", vec!["twin_a", "twin_b"]),
        ("spare", vec!["spare", "spare_old"]),
    ] {
        let now = s.keys_of(user);
        for g in &gone {
            assert!(
                !now.iter().any(|(k, _)| *k == id(g)),
                "{user}: {g} still there: {now:?}"
            );
        }
        let stored = s.stored(&format!("keyward/{user}")).expect("stored");
        assert_eq!(now, [(stored.0.clone(), "Active".to_string())], "{user}");
    }
    // The key the repository does not hold stays; nothing was created.
    assert_eq!(
        s.keys_of("current"),
        [(id("current_new"), "Active".to_string())]
    );
    assert_eq!(
        s.keys_of("bystander"),
        [(id("bystander"), "Active".to_string())]
    );
}

impl Scenario {
    /// Every key of every user: (user, key, status).
    fn all_keys(&self) -> Vec<(String, String, String)> {
        ["solo", "twin", "spare", "current", "bystander"]
            .iter()
            .flat_map(|u| {
                self.keys_of(u)
                    .into_iter()
                    .map(|(k, st)| (u.to_string(), k, st))
            })
            .collect()
    }

    /// The work tree's files (not `.git`), path and text.
    fn files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut todo = vec![self.repo.path().to_path_buf()];
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir).expect("dir").flatten() {
                let p = e.path();
                if p.file_name().is_some_and(|n| n == ".git") {
                    continue;
                }
                if p.is_dir() {
                    todo.push(p);
                } else {
                    let rel = p.strip_prefix(self.repo.path()).expect("rel");
                    out.insert(
                        rel.to_string_lossy().into_owned(),
                        std::fs::read_to_string(&p).unwrap_or_default(),
                    );
                }
            }
        }
        out
    }

    fn journal(&self) -> Option<String> {
        std::fs::read_to_string(self.repo.path().join(".git/keyward/rotation.json")).ok()
    }

    /// Signs sts:GetCallerIdentity with a pair: the ARN it answers.
    fn whoami(&self, id: &str, secret: &str) -> Option<String> {
        self.block(async {
            let conf = aws_sdk_sts::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(self.moto.url())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new(id, secret, None, None, "test"))
                .build();
            let out = aws_sdk_sts::Client::from_conf(conf)
                .get_caller_identity()
                .send()
                .await
                .ok()?;
            out.arn().map(str::to_string)
        })
    }

    /// No secret of the scenario, and none of the store, in `text`.
    fn assert_no_secret(&self, what: &str, text: &str) {
        for k in self.keys.values() {
            assert!(
                !text.contains(&k.secret),
                "{what} holds the secret of {}",
                k.id
            );
        }
        for user in ["solo", "twin", "spare", "current"] {
            if let Some((_, secret)) = self.stored(&format!("keyward/{user}")) {
                assert!(!text.contains(&secret), "{what} holds {user}'s new secret");
            }
        }
    }
}

/// The dry run says each user's steps and changes nothing: IAM, the store,
/// the repository and the journal are as they were.
#[test]
fn rotate_without_apply_changes_nothing() {
    let Some(s) = scenario() else { return };
    let keys = s.all_keys();
    let files = s.files();
    let out = s.keyward(&["rotate", "--live"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(text.starts_with("keyward rotate: a dry run"), "{text}");
    // The quarantined user first; each user's way said.
    let first = text.find("\ntwin (").expect("twin");
    for user in ["solo", "spare", "current"] {
        assert!(
            text.find(&format!("\n{user} (")).expect(user) > first,
            "{text}"
        );
    }
    assert!(
        text.contains("create a new key and put it straight into `secretsmanager:keyward/solo`"),
        "{text}"
    );
    assert!(text.contains("--allow-disruption"), "{text}");
    assert!(
        text.contains("never touches a key the repository does not hold"),
        "{text}"
    );
    assert!(!text.contains("bystander"), "{text}");
    assert_eq!(s.all_keys(), keys);
    assert_eq!(s.files(), files);
    assert_eq!(s.stored("keyward/solo"), None);
    assert_eq!(s.journal(), None);
    s.assert_no_secret("the dry run's output", &format!("{text}{}", stderr(&out)));
}

/// `--apply` carries it out: the urgent user first, its least recently used
/// key making room, every new key only in the store and verified, every
/// place rewritten to read it; places no fix may rewrite stop their user
/// until a person acts; `--finish` deletes what was deactivated; the key
/// the repository does not hold, and the bystander, are never touched; a
/// further run changes nothing. No secret anywhere but the store.
#[test]
fn rotate_apply_carries_the_plan_out_and_a_second_run_is_a_no_op() {
    let Some(s) = scenario() else { return };
    let id = |n: &str| s.keys[n].id.clone();
    let first = s.keyward(&["rotate", "--apply", "--allow-disruption"]);
    let text = stdout(&first);
    // `.env` files are to stop tracking: their users wait for `git rm`.
    assert_eq!(first.status.code(), Some(1), "{text}\n{}", stderr(&first));
    assert!(
        text.contains("solo (123456789012)") && text.contains("git rm --cached app/.env"),
        "{text}"
    );
    // twin: the older of two never-used keys made room, the other is
    // deactivated, the new key is stored and works.
    let (twin_new, twin_secret) = s.stored("keyward/twin").expect("twin stored");
    assert_eq!(
        s.keys_of("twin"),
        [
            (id("twin_b"), "Inactive".to_string()),
            (twin_new.clone(), "Active".to_string())
        ]
    );
    assert_eq!(
        s.whoami(&twin_new, &twin_secret).as_deref(),
        Some("arn:aws:iam::123456789012:user/twin")
    );
    let compose = &s.files()["docker-compose.yml"];
    assert!(
        compose.contains("${API_AWS_ACCESS_KEY_ID}")
            && compose.contains("${WORKER_AWS_SECRET_ACCESS_KEY}"),
        "{compose}"
    );
    assert!(text.contains("AWSCompromisedKeyQuarantineV2"), "{text}");
    // spare: its Inactive key outside the repository is untouched.
    assert!(
        s.keys_of("spare")
            .contains(&(id("spare_old"), "Inactive".to_string()))
    );
    assert!(!s.keys_of("spare").iter().any(|(k, _)| *k == id("spare")));
    assert!(
        text.contains("eval \"$(aws secretsmanager get-secret-value --secret-id keyward/spare"),
        "{text}"
    );
    // solo: created and stored, not deactivated while app/.env holds it.
    assert!(
        s.keys_of("solo")
            .contains(&(id("solo"), "Active".to_string()))
    );
    assert_eq!(s.keys_of("solo").len(), 2);

    common::git_in(
        s.repo.path(),
        &["rm", "-q", "--cached", "app/.env", "ci/old.env"],
    );
    let second = s.keyward(&["rotate", "--apply", "--finish"]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&second),
        stderr(&second)
    );
    for user in ["solo", "twin", "spare"] {
        let (new, secret) = s.stored(&format!("keyward/{user}")).expect("stored");
        assert!(
            s.keys_of(user)
                .contains(&(new.clone(), "Active".to_string())),
            "{user}"
        );
        assert_eq!(
            s.whoami(&new, &secret),
            Some(format!("arn:aws:iam::123456789012:user/{user}"))
        );
    }
    assert_eq!(s.keys_of("solo").len(), 1);
    assert_eq!(s.keys_of("twin").len(), 1);
    assert_eq!(
        s.keys_of("current"),
        [(id("current_new"), "Active".to_string())]
    );
    assert_eq!(
        s.keys_of("bystander"),
        [(id("bystander"), "Active".to_string())]
    );
    let journal = s.journal().expect("journal");
    let third = s.keyward(&["rotate", "--apply", "--finish"]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert!(
        stdout(&third).contains("nothing to rotate"),
        "{}",
        stdout(&third)
    );
    assert_eq!(s.journal().as_deref(), Some(journal.as_str()));
    for (what, text) in [
        (
            "the first run",
            format!("{}{}", stdout(&first), stderr(&first)),
        ),
        (
            "the second run",
            format!("{}{}", stdout(&second), stderr(&second)),
        ),
        ("the journal", journal),
    ] {
        s.assert_no_secret(what, &text);
    }
    for (path, text) in s.files() {
        if path.ends_with(".env") {
            continue; // untracked now; the old values stay on disk
        }
        s.assert_no_secret(&path, &text);
    }
}

/// Missing permissions: exit 2 naming the actions, before anything
/// changes.
#[test]
fn rotate_without_the_permissions_changes_nothing_and_names_them() {
    let Some(s) = scenario() else { return };
    // A reader, made while auth is on: with the admin's credentials.
    let reader = s.block(async {
        let iam = s.iam();
        create_user(&iam, "reader").await;
        iam.put_user_policy()
            .user_name("reader")
            .policy_name("read")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","iam:Get*","sts:GetCallerIdentity","secretsmanager:*"],"Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("policy");
        create_key(&iam, "reader").await
    });
    let keys = s.all_keys();
    let files = s.files();
    let out = keyward_env(
        s.repo.path(),
        &reader,
        &s.moto.url(),
        &["rotate", "--apply", "--allow-disruption"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{}\n{err}", stdout(&out));
    for action in [
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
        "iam:CreateAccessKey",
    ] {
        assert!(err.contains(action), "{action}: {err}");
    }
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(s.all_keys(), keys);
    assert_eq!(s.files(), files);
    assert_eq!(s.stored("keyward/solo"), None);
}

/// A key of another account is refused with that account named.
#[test]
fn rotate_refuses_another_accounts_key() {
    let Some(s) = scenario() else { return };
    let line = s.python("synthetic_key.py", &["111122223333"]);
    let foreign = stdout(&line);
    let (id, secret) = foreign.trim().split_once(' ').expect("key");
    common::write(
        s.repo.path(),
        "partner.tfvars",
        format!("partner_key_id = \"{id}\"\npartner_secret = \"{secret}\"\n"),
    );
    let out = s.keyward(&["rotate"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "`{id}`: a key of account 111122223333, and the credentials are of account 123456789012"
        )),
        "{text}"
    );
}

/// SSM Parameter Store: the new pair as a SecureString, JSON.
#[test]
fn rotate_into_ssm_writes_a_secure_string() {
    let Some(s) = scenario() else { return };
    let out = s.keyward(&[
        "rotate",
        "--apply",
        "--finish",
        "--allow-disruption",
        "--store",
        "ssm:/keyward/{account}/{user}",
        "docker-compose.yml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("`ssm:/keyward/123456789012/twin`"),
        "{}",
        stdout(&out)
    );
    let (value, kind) = s.block(async {
        let ssm = aws_sdk_ssm::Client::new(&s.config());
        let p = ssm
            .get_parameter()
            .name("/keyward/123456789012/twin")
            .with_decryption(true)
            .send()
            .await
            .expect("parameter")
            .parameter
            .expect("parameter");
        (
            p.value().unwrap_or_default().to_string(),
            p.r#type().map(|t| t.as_str().to_string()),
        )
    });
    assert_eq!(kind.as_deref(), Some("SecureString"));
    let v: serde_json::Value = serde_json::from_str(&value).expect("json");
    let (new, secret) = (
        v["AWS_ACCESS_KEY_ID"].as_str().expect("id"),
        v["AWS_SECRET_ACCESS_KEY"].as_str().expect("secret"),
    );
    assert_eq!(s.keys_of("twin"), [(new.to_string(), "Active".to_string())]);
    assert_eq!(
        s.whoami(new, secret).as_deref(),
        Some("arn:aws:iam::123456789012:user/twin")
    );
    s.assert_no_secret("the output", &format!("{}{}", stdout(&out), stderr(&out)));
}

/// A moto server with only the admin, for tests that make their own users.
fn bare() -> Option<Scenario> {
    if !common::tool_runs("python3", &["-c", "import moto.server, boto3"]) {
        return None;
    }
    let moto = Moto::start();
    let admin = runtime().block_on(admin_user(&setup_client(&moto.url())));
    moto.enable_auth();
    Some(Scenario {
        moto,
        admin,
        keys: BTreeMap::new(),
        repo: tempfile::tempdir().expect("repo"),
    })
}

/// Cut after each effect in turn (a write to IAM or the store, a journal
/// record, the repository's rewrite), as a kill would, then run again: each
/// time the same end, one Active key per user, the store's, that signs; no
/// key left behind whose secret nobody holds.
#[test]
fn rotate_cut_after_any_step_resumes_to_the_same_end() {
    let Some(s) = bare() else { return };
    let mut cut = 1;
    loop {
        let (solo, pair) = (format!("solo{cut}"), format!("pair{cut}"));
        let (solo_key, old, current) = s.block(async {
            let iam = s.iam();
            create_user(&iam, &solo).await;
            create_user(&iam, &pair).await;
            let solo_key = create_key(&iam, &solo).await;
            let old = create_key(&iam, &pair).await;
            deactivate(&iam, &pair, &old.id).await;
            (solo_key, old, create_key(&iam, &pair).await)
        });
        let repo = tempfile::tempdir().expect("repo");
        common::write(
            repo.path(),
            "docker-compose.yml",
            format!(
                "services:\n  app:\n    image: acme/app\n    environment:\n      AWS_ACCESS_KEY_ID: {}\n      AWS_SECRET_ACCESS_KEY: {}\n",
                solo_key.id, solo_key.secret
            ),
        );
        common::write(
            repo.path(),
            "infra/prod.tfvars",
            format!(
                "old_access_key = \"{}\"\naws_access_key = \"{}\"\naws_secret_key = \"{}\"\n",
                old.id, current.id, current.secret
            ),
        );
        common::git_in(repo.path(), &["init", "-q"]);
        common::git_in(repo.path(), &["add", "-A"]);
        common::git_in(repo.path(), &["commit", "-qm", "keys"]);
        let run = |extra: &[&str]| {
            let mut args = vec!["rotate", "--apply", "--finish"];
            args.extend_from_slice(extra);
            keyward_env(repo.path(), &s.admin, &s.moto.url(), &args)
        };
        let n = cut.to_string();
        let first = run(&["--interrupt-after", &n]);
        let interrupted = first.status.code() == Some(3);
        assert!(
            interrupted || first.status.code() == Some(0),
            "cut {cut}: {}\n{}",
            stdout(&first),
            stderr(&first)
        );
        let resumed = run(&[]);
        assert_eq!(
            resumed.status.code(),
            Some(0),
            "cut {cut}: {}\n{}\n---\n{}\n{}",
            stdout(&first),
            stderr(&first),
            stdout(&resumed),
            stderr(&resumed)
        );
        for user in [&solo, &pair] {
            let (new, secret) = s.stored(&format!("keyward/{user}")).expect("stored");
            assert_eq!(
                s.keys_of(user),
                [(new.clone(), "Active".to_string())],
                "cut {cut}: {user}\n{}",
                stdout(&resumed)
            );
            assert_eq!(
                s.whoami(&new, &secret),
                Some(format!("arn:aws:iam::123456789012:user/{user}"))
            );
        }
        let tfvars =
            std::fs::read_to_string(repo.path().join("infra/prod.tfvars")).expect("tfvars");
        assert!(
            !tfvars.contains(&current.id) && !tfvars.contains(&old.id),
            "cut {cut}: {tfvars}"
        );
        if !interrupted {
            break;
        }
        cut += 1;
    }
    assert!(cut > 15, "only {cut} effects to cut");
}

/// Two users in one file, one of them able to do anything
/// (AdministratorAccess): with `--blast-radius` it goes first; each
/// service ends reading its own user's key under its own names; the
/// manifest reads the user's Kubernetes Secret, filled from the store.
#[test]
fn rotate_two_users_of_one_file_the_admin_first() {
    let Some(s) = bare() else { return };
    let (boss, plain) = s.block(async {
        let iam = s.iam();
        create_user(&iam, "boss").await;
        create_user(&iam, "plain").await;
        iam.attach_user_policy()
            .user_name("boss")
            .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
            .send()
            .await
            .expect("attach");
        (
            create_key(&iam, "boss").await,
            create_key(&iam, "plain").await,
        )
    });
    let repo = s.repo.path();
    common::write(
        repo,
        "docker-compose.yml",
        format!(
            "services:\n  api:\n    image: acme/api\n    environment:\n      AWS_ACCESS_KEY_ID: {}\n      AWS_SECRET_ACCESS_KEY: {}\n  worker:\n    image: acme/worker\n    environment:\n      AWS_ACCESS_KEY_ID: {}\n      AWS_SECRET_ACCESS_KEY: {}\n",
            plain.id, plain.secret, boss.id, boss.secret
        ),
    );
    common::write(
        repo,
        "k8s/deployment.yaml",
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: acme/worker\n          env:\n            - name: AWS_ACCESS_KEY_ID\n              value: {}\n            - name: AWS_SECRET_ACCESS_KEY\n              value: {}\n",
            boss.id, boss.secret
        ),
    );
    common::git_in(repo, &["init", "-q"]);
    common::git_in(repo, &["add", "-A"]);
    common::git_in(repo, &["commit", "-qm", "keys"]);
    let out = s.keyward(&["rotate", "--apply", "--finish", "--blast-radius"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let (b, p) = (
        text.find("\nboss (").expect("boss"),
        text.find("\nplain (").expect("plain"),
    );
    assert!(b < p, "the admin first: {text}");
    assert!(
        text.contains("can create keys or attach policies"),
        "{text}"
    );
    let mut stored = BTreeMap::new();
    for user in ["boss", "plain"] {
        let (new, secret) = s.stored(&format!("keyward/{user}")).expect("stored");
        assert_eq!(
            s.keys_of(user),
            [(new.clone(), "Active".to_string())],
            "{user}"
        );
        assert_eq!(
            s.whoami(&new, &secret),
            Some(format!("arn:aws:iam::123456789012:user/{user}"))
        );
        stored.insert(user, secret);
    }
    let compose = std::fs::read_to_string(repo.join("docker-compose.yml")).expect("compose");
    let vars: Vec<&str> = compose
        .lines()
        .filter_map(|l| l.split_once("${").map(|(_, v)| v.trim_end_matches('}')))
        .collect();
    assert_eq!(vars.len(), 4, "{compose}");
    let distinct: std::collections::BTreeSet<&&str> = vars.iter().collect();
    assert_eq!(distinct.len(), 4, "two credentials share a name: {compose}");
    let manifest = std::fs::read_to_string(repo.join("k8s/deployment.yaml")).expect("manifest");
    assert!(
        manifest.contains("secretKeyRef:\n                  name: keyward-boss\n                  key: AWS_ACCESS_KEY_ID"),
        "{manifest}"
    );
    assert!(
        text.contains("kubectl create secret generic keyward-boss --from-env-file=<(aws secretsmanager get-secret-value --secret-id keyward/boss"),
        "{text}"
    );
    for secret in stored.values().chain([&boss.secret, &plain.secret]) {
        assert!(
            !text.contains(secret.as_str())
                && !compose.contains(secret.as_str())
                && !manifest.contains(secret.as_str())
        );
    }
}
