//! A real IAM, STS, Secrets Manager and SSM endpoint for tests:
//! `moto_server` on a free loopback port, with signature and permission
//! checks switched on after the setup (`enable_auth`), and the helpers that
//! set users and keys up in it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_iam::config::{Credentials, Region};

/// A running moto server, killed by PID when dropped (also on panic).
pub struct Moto {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _logdir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("addr").port()
}

/// One HTTP/1.1 request over a plain socket (moto's control API).
pub fn http(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let logdir = tempfile::tempdir().expect("tempdir");
        let log = logdir.path().join("moto.log");
        let logfile = std::fs::File::create(&log).expect("log file");
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            // Setup requests go unchecked; `enable_auth` turns checks on.
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1000000")
            // AWS's managed policies (`arn:aws:iam::aws:policy/…`), the
            // quarantine policies among them.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .stdout(logfile.try_clone().expect("log"))
            .stderr(logfile)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `python3 -m moto.server` ({e}); install tests/requirements.txt"
                )
            });
        let mut moto = Moto {
            child,
            port,
            log,
            _logdir: logdir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto_server exited with {status} before answering:\n{}",
                    moto.log_text()
                );
            }
            if let Ok(r) = http(port, "GET", "/moto-api/data.json", "")
                && r.starts_with("HTTP/1.1 200")
            {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 30 s:\n{}",
                moto.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on every request's signature and permissions are checked.
    pub fn enable_auth(&self) {
        let r = http(self.port, "POST", "/moto-api/reset-auth", "0").expect("reset-auth");
        assert!(r.starts_with("HTTP/1.1 200"), "reset-auth: {r}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn setup_client(url: &str) -> aws_sdk_iam::Client {
    let conf = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("setup", "setup", None, None, "test"))
        .build();
    aws_sdk_iam::Client::from_conf(conf)
}

pub async fn create_user(iam: &aws_sdk_iam::Client, name: &str) {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("create user");
}

/// The user keyward runs as in these tests: `admin`, allowed everything.
pub async fn admin_user(iam: &aws_sdk_iam::Client) -> Key {
    create_user(iam, "admin").await;
    iam.put_user_policy()
        .user_name("admin")
        .policy_name("all")
        .policy_document(ALLOW_ALL)
        .send()
        .await
        .expect("policy");
    create_key(iam, "admin").await
}

pub async fn create_key(iam: &aws_sdk_iam::Client, user: &str) -> Key {
    let out = iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .expect("create key");
    let k = out.access_key().expect("key");
    Key {
        id: k.access_key_id().to_string(),
        secret: k.secret_access_key().to_string(),
    }
}

pub const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The binary with an environment that holds exactly these AWS settings: no
/// profile, config file or instance metadata can leak in from the machine.
pub fn keyward_env(dir: &Path, who: &Key, url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyward"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", &who.id)
        .env("AWS_SECRET_ACCESS_KEY", &who.secret)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("keyward runs")
}
