//! Rotations against a real IAM, STS and secret store (`moto_server`): the
//! plan's JSON carried out step by step with boto3, and `keyward rotate`
//! (dry run, `--apply`, interruptions and resumes, refusals).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
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
    let _ = Path::new("");
}
