//! Live IAM against a real endpoint: `moto_server` on a free loopback port,
//! with signature checks switched on after the setup. If moto cannot start,
//! these tests fail with the reason; nothing is skipped.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_iam::config::{Credentials, Region};
use keyward::iam::aws::Aws;
use keyward::iam::lookup::Live;
use keyward::iam::{IamSource, Pair, VerifyResult};

use common::moto::*;
use common::{rule_path_line, stderr, stdout};

/// Users and keys created in moto, and a repo that references them.
struct World {
    moto: Moto,
    admin: Key,
    nobody: Key,
    keys: BTreeMap<&'static str, Key>,
    repo: tempfile::TempDir,
}

/// In moto's `account` (reached, as AWS allows in setup, by assuming any
/// role there): the role `role` with read access for the audit, and a user
/// `app` with a key, whose ID is returned. moto keeps each account apart: a
/// role's credentials act in its own account.
async fn member_account(url: &str, account: &str, role: &str) -> String {
    let sts_conf = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("setup", "setup", None, None, "test"))
        .build();
    let out = aws_sdk_sts::Client::from_conf(sts_conf)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/setup"))
        .role_session_name("setup")
        .send()
        .await
        .expect("assume for setup");
    let c = out.credentials().expect("credentials");
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "test",
        ))
        .build();
    let member = aws_sdk_iam::Client::from_conf(conf);
    // moto, as AWS, makes OrganizationAccountAccessRole in the accounts an
    // organisation creates.
    let made = member
        .create_role()
        .role_name(role)
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await;
    if let Err(e) = made {
        assert!(
            format!("{e:?}").contains("EntityAlreadyExists"),
            "role: {e:?}"
        );
    }
    member
        .put_role_policy()
        .role_name(role)
        .policy_name("read")
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .expect("role policy");
    create_user(&member, "app").await;
    create_key(&member, "app").await.id
}

/// The keys, by role in the scenario:
/// - `inactive`: deploy-bot's old key, deactivated (KW006);
/// - `current`: deploy-bot's new key;
/// - `unused`: ci-bot's only key, never used (KW009);
/// - `deleted`: created and deleted (KW007);
/// - `rot_old`, `rot_new`: two Active keys of rotate-bot, both referenced
///   (KW011 on `rot_old`, related to `rot_new`).
fn world(extra_users: usize) -> Option<World> {
    if !common::tool_runs("python3", &["-c", "import moto.server"]) {
        return None;
    }
    let moto = Moto::start();
    let url = moto.url();
    let rt = runtime();
    let (admin, nobody, keys) = rt.block_on(async {
        let iam = setup_client(&url);
        let admin = admin_user(&iam).await;
        create_user(&iam, "nobody").await;
        let nobody = create_key(&iam, "nobody").await;
        let mut keys = BTreeMap::new();
        create_user(&iam, "deploy-bot").await;
        let inactive = create_key(&iam, "deploy-bot").await;
        iam.update_access_key()
            .user_name("deploy-bot")
            .access_key_id(&inactive.id)
            .status(aws_sdk_iam::types::StatusType::Inactive)
            .send()
            .await
            .expect("deactivate");
        keys.insert("inactive", inactive);
        keys.insert("current", create_key(&iam, "deploy-bot").await);
        create_user(&iam, "ci-bot").await;
        keys.insert("unused", create_key(&iam, "ci-bot").await);
        create_user(&iam, "gone-bot").await;
        let deleted = create_key(&iam, "gone-bot").await;
        iam.delete_access_key()
            .user_name("gone-bot")
            .access_key_id(&deleted.id)
            .send()
            .await
            .expect("delete key");
        keys.insert("deleted", deleted);
        create_user(&iam, "rotate-bot").await;
        keys.insert("rot_old", create_key(&iam, "rotate-bot").await);
        // Creation dates have whole seconds: make "newest" unambiguous.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        keys.insert("rot_new", create_key(&iam, "rotate-bot").await);
        for i in 0..extra_users {
            let user = format!("bulk-{i:03}");
            create_user(&iam, &user).await;
            keys.insert(
                Box::leak(format!("{user}-a").into_boxed_str()),
                create_key(&iam, &user).await,
            );
            keys.insert(
                Box::leak(format!("{user}-b").into_boxed_str()),
                create_key(&iam, &user).await,
            );
        }
        (admin, nobody, keys)
    });
    moto.enable_auth();
    let repo = tempfile::tempdir().expect("repo");
    let w = World {
        moto,
        admin,
        nobody,
        keys,
        repo,
    };
    for (rel, before, key) in [
        (
            ".env.staging",
            "APP_ENV=staging\nAWS_ACCESS_KEY_ID=",
            "inactive",
        ),
        ("ci/config.ini", "[ci]\naws_access_key_id = ", "unused"),
        ("old/.env", "# left over\nAWS_ACCESS_KEY_ID=", "deleted"),
        ("rotate/staging.env", "AWS_ACCESS_KEY_ID=", "rot_old"),
        ("rotate/prod.env", "AWS_ACCESS_KEY_ID=", "rot_new"),
    ] {
        w.write(rel, &format!("{before}{}\n", w.id(key)));
    }
    w.write(
        "terraform/prod/providers.tf",
        &format!(
            "provider \"aws\" {{\n  region     = \"us-east-1\"\n  access_key = \"{}\"\n}}\n",
            w.id("current")
        ),
    );
    // A key of another account: out of scope, never "unknown".
    w.write(
        "vendor/workflow.yml",
        "on: push\njobs:\n  sync:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: AKIA6RU73QDQ52ZTHJCF\n    steps:\n      - run: ./sync.sh\n",
    );
    Some(w)
}

impl World {
    fn id(&self, name: &str) -> String {
        self.keys[name].id.clone()
    }

    /// The scenario's keys (see [`world`]), without the bulk users'.
    fn scenario_ids(&self) -> BTreeSet<String> {
        [
            "inactive", "current", "unused", "deleted", "rot_old", "rot_new",
        ]
        .iter()
        .map(|n| self.id(n))
        .collect()
    }

    /// The keys of the `bulk-NNN` users.
    fn bulk_ids(&self) -> BTreeSet<String> {
        self.keys
            .iter()
            .filter(|(n, _)| n.starts_with("bulk-"))
            .map(|(_, k)| k.id.clone())
            .collect()
    }

    fn write(&self, rel: &str, text: &str) {
        common::write(self.repo.path(), rel, text);
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_as(&self.admin, &self.moto.url(), args)
    }

    fn run_as(&self, who: &Key, url: &str, args: &[&str]) -> Output {
        keyward_env(self.repo.path(), who, url, args)
    }

    fn sdk_config(&self, who: &Key) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.moto.url())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
                Credentials::new(&who.id, &who.secret, None, None, "test"),
            ))
            .build()
    }
}

/// An error as one line, whatever the terminal width made of it.
/// `text` with moto's random key IDs and (masked) secrets replaced by
/// stand-ins, so a rendering can be a snapshot.
fn stable(text: &str, keys: &[&Key]) -> String {
    let mut out = text.to_string();
    for (i, k) in keys.iter().enumerate() {
        let masked = format!("{}…{}", &k.secret[..4], &k.secret[k.secret.len() - 4..]);
        out = out
            .replace(&k.id, &format!("AKIA<key {i}>"))
            .replace(&masked, &format!("<secret {i}>"));
    }
    out
}

fn flat(s: &str) -> String {
    s.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `(rule, path, line)` of every finding.
fn findings(o: &Output) -> BTreeSet<(String, String, u64)> {
    let v = common::json(o);
    v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array: {v}\n{}", stderr(o)))
        .iter()
        .map(rule_path_line)
        .collect()
}

fn at(rule: &str, path: &str, line: u64) -> (String, String, u64) {
    (rule.to_string(), path.to_string(), line)
}

fn of_rule(all: &BTreeSet<(String, String, u64)>, rule: &str) -> Vec<(String, u64)> {
    all.iter()
        .filter(|f| f.0 == rule)
        .map(|f| (f.1.clone(), f.2))
        .collect()
}

fn place(path: &str, line: u64) -> (String, u64) {
    (path.to_string(), line)
}

#[test]
fn live_rules_fire_on_the_right_lines() {
    let Some(w) = world(0) else {
        return;
    };
    let out = w.run(&["scan", ".", "--live", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = findings(&out);
    assert_eq!(
        of_rule(&all, "KW006"),
        [place(".env.staging", 2)],
        "{all:?}"
    );
    assert_eq!(of_rule(&all, "KW007"), [place("old/.env", 2)], "{all:?}");
    // deploy-bot's Inactive key is also a divergence from its current one.
    assert_eq!(
        of_rule(&all, "KW011"),
        [place(".env.staging", 2), place("rotate/staging.env", 1)],
        "{all:?}"
    );
    // Created seconds ago: nothing is stale yet.
    assert_eq!(of_rule(&all, "KW008"), [], "{all:?}");
    // Never used, but created seconds ago: not unused yet (a key is unused
    // once it is older than max-unused-days without a use).
    assert_eq!(of_rule(&all, "KW009"), [], "{all:?}");
    assert!(all.contains(&at("KW001", "vendor/workflow.yml", 6)));
    assert!(
        !all.iter()
            .any(|f| f.1 == "vendor/workflow.yml" && f.0 != "KW001"),
        "a foreign key is out of scope: {all:?}"
    );

    // Half a year later every Active key is stale.
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 200)).to_string();
    let out = w.run(&["scan", ".", "--live", "--format", "json", "--now", &later]);
    let all = findings(&out);
    let active = [
        place("ci/config.ini", 2),
        place("rotate/prod.env", 1),
        place("rotate/staging.env", 1),
        place("terraform/prod/providers.tf", 3),
    ];
    assert_eq!(of_rule(&all, "KW008"), active, "{all:?}");
    // ...and, never used in those 200 days, unused: every Active key the
    // repo references, and only those.
    assert_eq!(of_rule(&all, "KW009"), active, "{all:?}");
}

#[test]
fn inventory_pull_then_scan_gives_the_live_findings() {
    let Some(w) = world(0) else {
        return;
    };
    let invdir = tempfile::tempdir().expect("tempdir");
    let pulled = invdir.path().join("inventory.json");
    let pulled_arg = pulled.display().to_string();
    let out = w.run(&["inventory", "pull", "-o", &pulled_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&pulled).expect("inventory written");
    for k in w.keys.values().chain([&w.admin, &w.nobody]) {
        assert!(
            !text.contains(&k.secret),
            "a secret leaked into the inventory"
        );
    }
    let parsed = keyward::iam::inventory::Inventory::parse("pulled", &text).expect("valid");
    assert_eq!(parsed.to_json(), text, "written sorted and stable");
    assert!(text.contains(&w.id("inactive")) && text.contains("\"Inactive\""));
    assert!(!text.contains(&w.id("deleted")));
    // admin, nobody, deploy-bot ×2, ci-bot, rotate-bot ×2.
    assert_eq!(parsed.keys.len(), 7, "{text}");
    // One line says what was pulled, and at what cost.
    let said = stdout(&out);
    let users: std::collections::BTreeSet<&str> =
        parsed.keys.iter().map(|k| k.user.as_str()).collect();
    assert!(
        said.starts_with(&format!(
            "keyward: wrote {pulled_arg}: 1 account, {} users, 7 keys; ",
            users.len()
        )) && said.contains(" requests in ")
            && said.trim_end().ends_with(" s"),
        "{said}"
    );
    let admin = parsed
        .keys
        .iter()
        .find(|k| k.access_key_id == w.admin.id)
        .expect("admin key");
    assert!(admin.last_used.is_some(), "the admin key was used: {text}");

    // Offline: no credentials and an endpoint nobody listens on.
    let offline = keyward_env(
        w.repo.path(),
        &Key {
            id: String::new(),
            secret: String::new(),
        },
        "http://127.0.0.1:9",
        &["scan", ".", "--format", "json", "--inventory", &pulled_arg],
    );
    let live = w.run(&["scan", ".", "--format", "json", "--live"]);
    assert_eq!(offline.status.code(), Some(1), "{}", stderr(&offline));
    let offline = findings(&offline);
    let live = findings(&live);
    assert!(offline.iter().any(|f| f.0 == "KW011"), "{offline:?}");
    assert_eq!(offline, live);
}

#[test]
fn unreachable_endpoint_is_exit_2_with_a_clear_message() {
    let repo = tempfile::tempdir().expect("repo");
    std::fs::write(
        repo.path().join(".env"),
        "AWS_ACCESS_KEY_ID=AKIARZPUZDIKHSK3JF5N\n",
    )
    .expect("write");
    let who = Key {
        id: "AKIARZPUZDIKN2ZTHJCF".into(),
        secret: "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".into(),
    };
    let url = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let out = keyward_env(repo.path(), &who, &url, &["scan", ".", "--live"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cannot reach AWS"), "{err}");
    assert!(err.contains(&url), "names the endpoint: {err}");
    assert!(err.contains("sts:GetCallerIdentity"), "{err}");
    assert!(!err.contains(&who.secret));
    assert!(started.elapsed() < Duration::from_secs(60));
    // Without --live nothing is fetched, so the same setup passes offline.
    let out = keyward_env(repo.path(), &who, &url, &["scan", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn missing_permissions_are_exit_2_naming_the_actions() {
    let Some(w) = world(0) else {
        return;
    };
    let out = w.run_as(&w.nobody, &w.moto.url(), &["scan", ".", "--live"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = flat(&stderr(&out));
    assert!(err.contains("access denied"), "{err}");
    assert!(
        err.contains("may not call iam:GetAccessKeyLastUsed"),
        "{err}"
    );
    for action in keyward::iam::REQUIRED_ACTIONS {
        assert!(err.contains(action), "{action}: {err}");
    }
    let out = w.run_as(&w.nobody, &w.moto.url(), &["inventory", "pull"]);
    assert_eq!(out.status.code(), Some(2));
    let err = flat(&stderr(&out));
    assert!(err.contains("may not call iam:ListUsers"), "{err}");
    // A wrong secret for the scanning key is a credentials error, not a pass.
    let wrong = Key {
        id: w.admin.id.clone(),
        secret: w.nobody.secret.clone(),
    };
    let out = w.run_as(&wrong, &w.moto.url(), &["scan", ".", "--live"]);
    assert_eq!(out.status.code(), Some(2));
    let err = flat(&stderr(&out));
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
}

#[test]
fn verify_pairs_match_mismatch_unknown_key() {
    let Some(w) = world(0) else {
        return;
    };
    let pairs = w.repo.path().join("pairs");
    std::fs::create_dir_all(&pairs).expect("mkdir");
    let current = &w.keys["current"];
    let unused = &w.keys["unused"];
    let deleted = &w.keys["deleted"];
    std::fs::write(
        pairs.join("credentials"),
        format!(
            "[live]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
             [wrong]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n\
             [gone]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            current.id, current.secret, unused.id, deleted.secret, deleted.id, deleted.secret
        ),
    )
    .expect("write");
    // Verification needs no scanning credentials of its own.
    let out = keyward_env(
        &pairs,
        &Key {
            id: String::new(),
            secret: String::new(),
        },
        &w.moto.url(),
        &["scan", ".", "--verify-pairs", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let all = findings(&out);
    assert_eq!(of_rule(&all, "KW012"), [place("credentials", 3)], "{all:?}");
    assert_eq!(of_rule(&all, "KW010"), [place("credentials", 7)], "{all:?}");
    let shown = format!("{}{}", common::stdout(&out), stderr(&out));
    for k in [current, unused, deleted] {
        assert!(!shown.contains(&k.secret), "a secret was printed");
    }
    // The rule's rendering, as for every rule (tests/rule_fixtures.rs): its
    // one finding alone, moto's random key and secret replaced.
    let human = keyward_env(
        &pairs,
        &Key {
            id: String::new(),
            secret: String::new(),
        },
        &w.moto.url(),
        &["scan", ".", "--verify-pairs", "--select", "KW012"],
    );
    assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
    insta::assert_snapshot!(
        "KW012-live-credential-exposed",
        stable(&common::stdout(&human), &[current, unused, deleted])
    );

    // The verdicts themselves, including the one no rule reports.
    let aws = Aws::from_config(w.sdk_config(&w.admin)).expect("aws");
    let pair = |k: &Key, secret: &str| Pair {
        key_id: k.id.clone(),
        secret: secret.to_string(),
        token: None,
    };
    let list = vec![
        pair(current, &current.secret),
        pair(unused, &deleted.secret),
        pair(deleted, &deleted.secret),
        pair(current, &current.secret),
    ];
    let (results, warnings) = keyward::iam::verify::verify_pairs(&aws, &list, 8);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(results.len(), 3, "each distinct pair once");
    assert_eq!(aws.calls(), 3, "each distinct pair once");
    let verdict = |k: &Key, s: &str| {
        keyward::iam::Enrichment::default()
            .with_verified(results.clone())
            .key_facts(Some(&k.id), Some(s))
            .verify
            .expect("a verdict")
            .to_string()
    };
    assert_eq!(
        verdict(current, &current.secret),
        VerifyResult::Match.as_str()
    );
    assert_eq!(
        verdict(unused, &deleted.secret),
        VerifyResult::Mismatch.as_str()
    );
    assert_eq!(
        verdict(deleted, &deleted.secret),
        VerifyResult::UnknownKey.as_str()
    );
}

#[test]
fn per_key_lookup_asks_each_thing_once() {
    let Some(w) = world(0) else {
        return;
    };
    let aws = Aws::from_config(w.sdk_config(&w.admin)).expect("aws");
    let mut wanted = w.scenario_ids();
    wanted.insert("AKIA6RU73QDQ52ZTHJCF".to_string());
    let lookup = Live::new(&aws, 8).lookup(&wanted).expect("lookup");
    // GetCallerIdentity + 6 GetAccessKeyLastUsed (the foreign key is not
    // asked about) + ListAccessKeys and ListAttachedUserPolicies for
    // deploy-bot, ci-bot, rotate-bot.
    assert_eq!(aws.calls(), 1 + 6 + 3 + 3);
    assert_eq!(
        lookup.accounts,
        BTreeSet::from(["123456789012".to_string()])
    );
    assert_eq!(lookup.keys.len(), 5);
    assert_eq!(
        lookup.keys[&w.id("inactive")].status,
        keyward::iam::KeyStatus::Inactive
    );
    assert_eq!(lookup.keys[&w.id("current")].user, "deploy-bot");
    assert!(!lookup.keys.contains_key(&w.id("deleted")));
    assert!(lookup.failed.is_empty(), "{:?}", lookup.warnings);
    let e = keyward::iam::Enrichment::new(Some(lookup), jiff::Timestamp::now());
    assert_eq!(e.newest_active_key(&w.id("rot_old")), Some(w.id("rot_new")));
}

#[test]
fn many_keys_enumerate_the_account_once() {
    let Some(w) = world(30) else {
        return;
    };
    let aws = Aws::from_config(w.sdk_config(&w.admin)).expect("aws");
    let wanted = w.bulk_ids();
    assert!(wanted.len() > keyward::iam::lookup::PER_KEY_MAX);
    let lookup = Live::new(&aws, 8).lookup(&wanted).expect("lookup");
    let users: u64 = 6 + 30;
    // GetCallerIdentity + one ListUsers page + ListAccessKeys per user +
    // GetAccessKeyLastUsed for the wanted keys only + ListAttachedUserPolicies
    // for their 30 owners only.
    assert_eq!(aws.calls(), 1 + 1 + users + wanted.len() as u64 + 30);
    assert_eq!(lookup.keys.len(), wanted.len());
    assert!(
        lookup
            .keys
            .values()
            .all(|k| k.status == keyward::iam::KeyStatus::Active)
    );
}

#[test]
fn cached_answers_stand_in_for_iam_until_they_expire() {
    use keyward::iam::cache::CacheOptions;
    let Some(w) = world(0) else {
        return;
    };
    let dir = tempfile::tempdir().expect("cache dir");
    let cache = |secs: u64| {
        Some(CacheOptions {
            dir: dir.path().join("keyward"),
            ttl: Duration::from_secs(secs),
        })
    };
    let wanted = w.scenario_ids();
    let lookup = |secs: u64| {
        let aws = Aws::from_config(w.sdk_config(&w.admin)).expect("aws");
        let l = Live::new(&aws, 8)
            .with_cache(cache(secs))
            .lookup(&wanted)
            .expect("lookup");
        (l, aws.calls())
    };
    let (first, calls) = lookup(3600);
    assert_eq!(calls, 1 + 6 + 3 + 3, "an empty cache asks everything");
    let (second, calls) = lookup(3600);
    assert_eq!(calls, 1, "only the caller's identity is asked again");
    assert_eq!(second.keys, first.keys);
    assert_eq!(second.user_keys, first.user_keys);
    assert!(second.failed.is_empty(), "{:?}", second.warnings);
    let e = keyward::iam::Enrichment::new(Some(second), jiff::Timestamp::now());
    assert_eq!(
        e.newest_active_key(&w.id("rot_old")),
        Some(w.id("rot_new")),
        "user key lists come back from the cache too"
    );

    let mut text = String::new();
    for f in std::fs::read_dir(dir.path().join("keyward")).expect("cache files") {
        text += &std::fs::read_to_string(f.expect("entry").path()).expect("read");
    }
    assert!(text.contains(&w.id("current")), "{text}");
    for k in w.keys.values().chain([&w.admin]) {
        assert!(!text.contains(&k.secret), "a secret reached the cache");
        assert!(
            !text.contains(&k.secret[..20]),
            "part of a secret reached the cache"
        );
    }

    // IAM changes; the cached answer stands until it expires.
    runtime().block_on(async {
        aws_sdk_iam::Client::new(&w.sdk_config(&w.admin))
            .update_access_key()
            .user_name("deploy-bot")
            .access_key_id(w.id("current"))
            .status(aws_sdk_iam::types::StatusType::Inactive)
            .send()
            .await
            .expect("deactivate");
    });
    let (cached, _) = lookup(3600);
    assert_eq!(
        cached.keys[&w.id("current")].status,
        keyward::iam::KeyStatus::Active
    );
    let (expired, calls) = lookup(0);
    assert_eq!(calls, 1 + 6 + 3 + 3, "expired answers are asked again");
    assert_eq!(
        expired.keys[&w.id("current")].status,
        keyward::iam::KeyStatus::Inactive
    );
}

#[test]
fn scan_with_a_cache_gives_the_same_findings() {
    let Some(w) = world(0) else {
        return;
    };
    let dir = tempfile::tempdir().expect("cache dir");
    let cache_dir = dir.path().to_str().expect("utf-8 path");
    let args = [
        "scan",
        ".",
        "--live",
        "--cache-ttl",
        "1h",
        "--cache-dir",
        cache_dir,
        "--format",
        "json",
    ];
    let first = w.run(&args);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let second = w.run(&args);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert_eq!(findings(&second), findings(&first));
    assert!(!of_rule(&findings(&second), "KW006").is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("cache dir").count(),
        1,
        "one file for one account at one endpoint"
    );
    // The cache is only for live answers.
    let o = w.run(&["scan", ".", "--cache-ttl", "1h"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--live"), "{}", stderr(&o));
}

/// The issue's bar: a repo that references 20 keys is asked about key by
/// key; the account (here 16 users) is never listed.
#[test]
fn twenty_keys_are_asked_about_one_by_one() {
    let Some(w) = world(10) else {
        return;
    };
    let wanted = w.bulk_ids();
    assert_eq!(wanted.len(), 20);
    let aws = Aws::from_config(w.sdk_config(&w.admin)).expect("aws");
    let lookup = Live::new(&aws, 8).lookup(&wanted).expect("lookup");
    // GetCallerIdentity + GetAccessKeyLastUsed per key + ListAccessKeys and
    // ListAttachedUserPolicies per owner; enumerating would add ListUsers
    // and the 6 other users' lists.
    assert_eq!(aws.calls(), 1 + 20 + 10 + 10);
    assert_eq!(lookup.keys.len(), 20);
}

/// `--verify-pairs` uses the keys it checks, and IAM records that use. In
/// one run IAM is read first, so the run judges the keys as they were; the
/// JSON says which keys the run itself used.
#[test]
fn verify_pairs_reads_iam_before_it_uses_the_keys() {
    let Some(w) = world(0) else {
        return;
    };
    let dir = w.repo.path().join("verify");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let unused = &w.keys["unused"];
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            unused.id, unused.secret
        ),
    )
    .expect("write");
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 200)).to_string();
    let run = || {
        keyward_env(
            &dir,
            &w.admin,
            &w.moto.url(),
            &[
                "scan",
                ".",
                "--live",
                "--verify-pairs",
                "--format",
                "json",
                "--now",
                &later,
            ],
        )
    };
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = common::json(&out);
    assert_eq!(
        doc["verify"]["sent"],
        serde_json::json!([unused.id]),
        "{doc}"
    );
    assert_eq!(
        doc["verify"]["accepted"],
        serde_json::json!([unused.id]),
        "{doc}"
    );
    let kw009: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW009")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert_eq!(kw009.len(), 1, "{doc}");
    assert!(kw009[0].contains("was never used"), "{kw009:?}");
    // The next run reads the use the first one made (moto records it as
    // IAM does): what the --verify-pairs help warns about.
    let second = common::json(&run());
    let kw009: Vec<String> = second["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW009")
        .filter_map(|f| f["message"].as_str().map(str::to_string))
        .collect();
    assert_eq!(kw009.len(), 1, "{second}");
    assert!(kw009[0].contains("was last used"), "{kw009:?}");
}

/// AWS attaches its managed `AWSCompromisedKeyQuarantineV2` to a user whose
/// key it found in public (moto loads AWS's managed policies). The
/// quarantined user's key is KW013, live and through a pulled inventory;
/// the other user's is not, although a customer policy of the same name is
/// attached to it (only AWS's own policy means AWS caught the key); a
/// scanner that may not read attached policies is warned, and every other
/// fact still holds.
#[test]
fn a_quarantined_users_key_is_kw013_live_and_from_an_inventory() {
    if !common::tool_runs("python3", &["-c", "import moto.server"]) {
        return;
    }
    let moto = Moto::start();
    let url = moto.url();
    let (admin, leaky, fine, limited) = runtime().block_on(async {
        let iam = setup_client(&url);
        let admin = admin_user(&iam).await;
        create_user(&iam, "limited").await;
        iam.put_user_policy()
            .user_name("limited")
            .policy_name("all-but-policies")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:ListAttachedUserPolicies","Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("policy");
        let limited = create_key(&iam, "limited").await;
        let quarantine = iam
            .create_policy()
            .policy_name("AWSCompromisedKeyQuarantineV2")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:CreateAccessKey","ec2:RunInstances"],"Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("create policy");
        let look_alike = quarantine
            .policy()
            .and_then(|p| p.arn())
            .expect("arn")
            .to_string();
        create_user(&iam, "leaky-bot").await;
        iam.attach_user_policy()
            .user_name("leaky-bot")
            .policy_arn("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
            .send()
            .await
            .expect("attach AWS's policy");
        let leaky = create_key(&iam, "leaky-bot").await;
        create_user(&iam, "fine-bot").await;
        iam.attach_user_policy()
            .user_name("fine-bot")
            .policy_arn(&look_alike)
            .send()
            .await
            .expect("attach the customer's look-alike");
        let fine = create_key(&iam, "fine-bot").await;
        (admin, leaky, fine, limited)
    });
    moto.enable_auth();
    let repo = tempfile::tempdir().expect("repo");
    common::write(
        repo.path(),
        "ci/.env",
        format!("AWS_ACCESS_KEY_ID={}\n", leaky.id),
    );
    common::write(
        repo.path(),
        "app/.env",
        format!("AWS_ACCESS_KEY_ID={}\n", fine.id),
    );
    let kw013 = |o: &Output| of_rule(&findings(o), "KW013");

    let live = keyward_env(
        repo.path(),
        &admin,
        &url,
        &["scan", ".", "--live", "--format", "json"],
    );
    assert_eq!(live.status.code(), Some(1), "{}", stderr(&live));
    assert_eq!(kw013(&live), [place("ci/.env", 1)]);
    let doc: serde_json::Value = serde_json::from_slice(&live.stdout).expect("json");
    let message = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW013")
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .expect("KW013");
    assert!(
        message.contains("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"),
        "{message}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let pulled = dir.path().join("inventory.json");
    let pulled_arg = pulled.display().to_string();
    let out = keyward_env(
        repo.path(),
        &admin,
        &url,
        &["inventory", "pull", "-o", &pulled_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1 user with an AWS quarantine policy attached\n"),
        "{}",
        stdout(&out)
    );
    let text = std::fs::read_to_string(&pulled).expect("inventory");
    let inv: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(inv["accounts"][0]["quarantine_checked"], true, "{text}");
    assert_eq!(
        inv["accounts"][0]["users"][0]["user"], "leaky-bot",
        "{text}"
    );
    let offline = keyward_env(
        repo.path(),
        &Key {
            id: String::new(),
            secret: String::new(),
        },
        "http://127.0.0.1:9",
        &["scan", ".", "--format", "json", "--inventory", &pulled_arg],
    );
    assert_eq!(
        kw013(&offline),
        [place("ci/.env", 1)],
        "{}",
        stderr(&offline)
    );

    // May not read attached policies: warned once, the rest still judged.
    let denied = keyward_env(
        repo.path(),
        &limited,
        &url,
        &["scan", ".", "--live", "--format", "json"],
    );
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
    assert_eq!(kw013(&denied), Vec::<(String, u64)>::new());
    let doc: serde_json::Value = serde_json::from_slice(&denied.stdout).expect("json");
    let errors = doc["errors"].to_string();
    assert!(
        errors.contains("iam:ListAttachedUserPolicies was denied"),
        "{errors}"
    );
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["iam"]["user"] == "fine-bot"),
        "IAM facts still read"
    );
}

/// `inventory pull --accounts FILE --role NAME`: three accounts reached by
/// assuming the role in each, one inventory holding all three; a fourth
/// account without the role is a warning naming it, not a failed pull.
#[test]
fn many_accounts_are_pulled_into_one_inventory() {
    if !common::tool_runs("python3", &["-c", "import moto.server"]) {
        return;
    }
    let moto = Moto::start();
    let url = moto.url();
    let members = ["111111111111", "222222222222"];
    let (admin, keys) = runtime().block_on(async {
        let iam = setup_client(&url);
        let admin = admin_user(&iam).await;
        let mut keys = vec![create_key(&iam, "admin").await.id];
        for account in members {
            keys.push(member_account(&url, account, "AuditRole").await);
        }
        (admin, keys)
    });
    moto.enable_auth();
    let dir = tempfile::tempdir().expect("tempdir");
    common::write(
        dir.path(),
        "accounts.txt",
        "# the audit's accounts\n111111111111 prod\n222222222222 staging\n333333333333 # no role here\n",
    );
    let pulled = dir.path().join("all.json");
    let pulled_arg = pulled.display().to_string();
    let out = keyward_env(
        dir.path(),
        &admin,
        &url,
        &[
            "inventory",
            "pull",
            "--accounts",
            "accounts.txt",
            "--role",
            "AuditRole",
            "-o",
            &pulled_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains(": 2 accounts, "), "{said}");
    assert!(said.contains("warning: account 333333333333: "), "{said}");
    let text = std::fs::read_to_string(&pulled).expect("inventory");
    let inv = keyward::iam::inventory::Inventory::parse("all.json", &text).expect("valid");
    assert_eq!(
        inv.accounts.iter().cloned().collect::<Vec<_>>(),
        members.map(String::from)
    );
    for k in &keys[1..] {
        assert!(text.contains(k.as_str()), "{k} in {text}");
    }
    assert!(
        !text.contains(keys[0].as_str()),
        "the caller's own account was not listed"
    );
    // Without -o the warnings would have nowhere to go.
    let out = keyward_env(
        dir.path(),
        &admin,
        &url,
        &["inventory", "pull", "--accounts", "accounts.txt"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `--blast-radius` where AWS's simulator cannot answer (moto has none):
/// the users' attached, inline and group policies are read and evaluated;
/// the answer is marked approximate. (moto keeps no permissions boundary
/// on users: tests/iam_stub.rs plays one.)
#[test]
fn blast_radius_reads_the_policies_where_simulation_fails() {
    if !common::tool_runs("python3", &["-c", "import moto.server"]) {
        return;
    }
    let moto = Moto::start();
    let url = moto.url();
    let (admin, keys) = runtime().block_on(async {
        let iam = setup_client(&url);
        let admin = admin_user(&iam).await;
        let all = iam
            .create_policy()
            .policy_name("Everything")
            .policy_document(ALLOW_ALL)
            .send()
            .await
            .expect("managed policy")
            .policy()
            .and_then(|p| p.arn())
            .expect("arn")
            .to_string();
        let mut keys = BTreeMap::new();
        // Everything, attached: can escalate.
        create_user(&iam, "admin-bot").await;
        iam.attach_user_policy()
            .user_name("admin-bot")
            .policy_arn(&all)
            .send()
            .await
            .expect("attach");
        keys.insert("admin-bot", create_key(&iam, "admin-bot").await);
        // Reads S3, inline: cannot.
        create_user(&iam, "read-bot").await;
        iam.put_user_policy()
            .user_name("read-bot")
            .policy_name("read")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::data/*"}]}"#,
            )
            .send()
            .await
            .expect("inline");
        keys.insert("read-bot", create_key(&iam, "read-bot").await);
        // Through a group's inline policy: can.
        create_user(&iam, "group-bot").await;
        iam.create_group()
            .group_name("key-makers")
            .send()
            .await
            .expect("group");
        iam.put_group_policy()
            .group_name("key-makers")
            .policy_name("keys")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("group policy");
        iam.add_user_to_group()
            .group_name("key-makers")
            .user_name("group-bot")
            .send()
            .await
            .expect("membership");
        keys.insert("group-bot", create_key(&iam, "group-bot").await);
        (admin, keys)
    });
    moto.enable_auth();
    let repo = tempfile::tempdir().expect("repo");
    for (name, k) in &keys {
        common::write(
            repo.path(),
            &format!("{name}/.env"),
            format!("AWS_ACCESS_KEY_ID={}\n", k.id),
        );
    }
    let out = keyward_env(
        repo.path(),
        &admin,
        &url,
        &["scan", ".", "--live", "--blast-radius", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        of_rule(&findings(&out), "KW014"),
        [place("admin-bot/.env", 1), place("group-bot/.env", 1)],
        "{doc}"
    );
    let can = |name: &str| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["path"] == format!("{name}/.env") && f["rule"] == "KW001")
            .map(|f| f["iam"].clone())
            .unwrap_or_else(|| panic!("{name} in {doc}"))
    };
    assert_eq!(can("read-bot")["can"], serde_json::json!(["s3:GetObject"]));
    assert_eq!(can("read-bot")["can_approximate"], true);
    assert_eq!(
        can("admin-bot")["can"].as_array().map(Vec::len),
        Some(keyward::iam::blast::ACTIONS.len())
    );
    let message = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "KW014")
        .and_then(|f| f["message"].as_str())
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("read by keyward, conditions not evaluated"),
        "{message}"
    );
    let human = keyward_env(
        repo.path(),
        &admin,
        &url,
        &[
            "scan",
            "admin-bot",
            "--live",
            "--blast-radius",
            "--select",
            "KW014",
        ],
    );
    assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
    let all: Vec<&Key> = keys.values().collect();
    insta::assert_snapshot!(
        "KW014-privileged-key-exposed",
        stable(&common::stdout(&human), &all)
    );
}

/// `inventory pull --org`: the organisation's accounts from
/// `organizations:ListAccounts` (moto's Organizations: the management
/// account and two created members), the members through
/// OrganizationAccountAccessRole and the management account with the
/// caller's own credentials, one inventory of all three.
#[test]
fn the_organisations_accounts_are_pulled_into_one_inventory() {
    if !common::tool_runs("python3", &["-c", "import moto.server"]) {
        return;
    }
    let moto = Moto::start();
    let url = moto.url();
    let (admin, keys) = runtime().block_on(async {
        let iam = setup_client(&url);
        let admin = admin_user(&iam).await;
        let mut keys = vec![admin.id.clone()];
        let org_conf = aws_sdk_organizations::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("setup", "setup", None, None, "test"))
            .build();
        let org = aws_sdk_organizations::Client::from_conf(org_conf);
        org.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("organisation");
        for (name, email) in [
            ("prod", "prod@example.com"),
            ("staging", "staging@example.com"),
        ] {
            let created = org
                .create_account()
                .account_name(name)
                .email(email)
                .send()
                .await
                .expect("account");
            let id = created
                .create_account_status()
                .and_then(|s| s.account_id())
                .expect("account id")
                .to_string();
            keys.push(member_account(&url, &id, "OrganizationAccountAccessRole").await);
        }
        (admin, keys)
    });
    moto.enable_auth();
    let dir = tempfile::tempdir().expect("tempdir");
    let pulled = dir.path().join("org.json");
    let pulled_arg = pulled.display().to_string();
    let out = keyward_env(
        dir.path(),
        &admin,
        &url,
        &["inventory", "pull", "--org", "-o", &pulled_arg],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(said.contains(": 3 accounts, "), "{said}");
    let text = std::fs::read_to_string(&pulled).expect("inventory");
    for k in &keys {
        assert!(text.contains(k.as_str()), "{k} in {text}");
    }
}
