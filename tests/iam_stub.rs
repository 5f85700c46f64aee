//! What moto cannot play: real AWS's error document (`<ErrorResponse><Error>`,
//! which the SDK parses itself), throttling, a proxy's bare 5xx. A small
//! HTTP server on loopback answers each request from a script and records
//! when it came, so retry timing can be checked.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_sdk_sts::config::{Credentials, Region, SharedCredentialsProvider};
use keyward::iam::aws::Aws;
use keyward::iam::verify::{RETRY_AFTER, verify_pairs};
use keyward::iam::{Enrichment, Pair, VerifyResult};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    action: String,
    /// The access key ID the request was signed with.
    key: String,
    /// The form-encoded request body.
    body: String,
}

type Script = dyn Fn(&Seen, usize) -> (u16, String) + Send + Sync;

struct Stub {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    /// `script(request, n)` answers the `n`th (0-based) request with this
    /// action and key.
    fn start(script: Arc<Script>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("addr").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                let script = script.clone();
                std::thread::spawn(move || serve(stream, &log, &*script));
            }
        });
        Stub { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self, action: &str, key: &str) -> Vec<Instant> {
        self.seen
            .lock()
            .expect("log")
            .iter()
            .filter(|s| s.action == action && s.key == key)
            .map(|s| s.at)
            .collect()
    }

    fn count(&self, action: &str) -> usize {
        let seen = self.seen.lock().expect("log");
        seen.iter().filter(|s| s.action == action).count()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>, script: &Script) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut length = 0usize;
    let mut key = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:")
            && let Some(i) = line.find("Credential=")
        {
            key = line[i + 11..].split('/').next().unwrap_or("").to_string();
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body);
    let action = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_string();
    let request = Seen {
        at: Instant::now(),
        action,
        key,
        body: body.to_string(),
    };
    let n = {
        let mut seen = log.lock().expect("log");
        let n = seen
            .iter()
            .filter(|s| s.action == request.action && s.key == request.key)
            .count();
        seen.push(request.clone());
        n
    };
    let (status, text) = script(&request, n);
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{text}",
        text.len()
    );
}

/// An error document exactly as STS and IAM write it.
fn aws_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
         <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  \
         </Error>\n  <RequestId>4f6a9c1e-0000-4000-8000-000000000001</RequestId>\n</ErrorResponse>\n"
    )
}

fn caller_identity() -> String {
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  \
     <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::123456789012:user/scanner</Arn>\n    \
     <UserId>AIDAEXAMPLESCANNER01</UserId>\n    <Account>123456789012</Account>\n  \
     </GetCallerIdentityResult>\n  <ResponseMetadata>\n    \
     <RequestId>4f6a9c1e-0000-4000-8000-000000000002</RequestId>\n  </ResponseMetadata>\n\
     </GetCallerIdentityResponse>\n"
        .to_string()
}

// scripts/genkey.py --account 123456789012 --count 5 --seed 4242 --secret
const SCANNER: (&str, &str) = (
    "AKIARZPUZDIKNIBYYURL",
    "+d8ut8pdqsxRpvED5hJRaOvRTYZPNvS/I4k9GvvK",
);
const THROTTLED_ONCE: (&str, &str) = (
    "AKIARZPUZDIKPRFGY356",
    "D+Cn511CFUBWkNhBm2bd2AG2/B2TFu2aWo/C7VLo",
);
const UNKNOWN: (&str, &str) = (
    "AKIARZPUZDIKEBBLD5IN",
    "CPVsOnA66cKIFTmxrrjtjVmd4xI0zvy4Zr9moEHZ",
);
const ALWAYS_503: (&str, &str) = (
    "AKIARZPUZDIKBTY3LQIB",
    "+fQ7ZvqsP3CCT+nKEBJMhw5k62rOjlqnFCraP+c0",
);
const PROXY_403: (&str, &str) = (
    "AKIARZPUZDIKMJQD45FC",
    "t6zNHIA33NbEI3p85cRbGIEV45gO/V+RrwlIM5dc",
);

fn sdk_config(url: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            SCANNER.0, SCANNER.1, None, None, "test",
        )))
        .build()
}

fn pair((key_id, secret): (&str, &str)) -> Pair {
    Pair {
        key_id: key_id.into(),
        secret: secret.into(),
        token: None,
    }
}

#[test]
fn verification_retries_only_transient_failures_and_never_within_5_s() {
    let stub = Stub::start(Arc::new(|req: &Seen, n: usize| match req.key.as_str() {
        k if k == THROTTLED_ONCE.0 && n == 0 => (400, aws_error("Throttling", "Rate exceeded")),
        k if k == THROTTLED_ONCE.0 => (
            403,
            aws_error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
        ),
        k if k == UNKNOWN.0 => (
            403,
            aws_error(
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
        ),
        k if k == ALWAYS_503.0 => (503, "<html>Service Unavailable</html>".into()),
        k if k == PROXY_403.0 => (403, "<html><body>Forbidden by proxy</body></html>".into()),
        _ => (200, caller_identity()),
    }));
    let aws = Aws::from_config(sdk_config(&stub.url())).expect("aws");
    let pairs: Vec<Pair> = [THROTTLED_ONCE, UNKNOWN, ALWAYS_503, PROXY_403, SCANNER]
        .into_iter()
        .map(pair)
        .chain([pair(UNKNOWN)]) // the same pair twice is asked once
        .collect();
    let (verdicts, warnings) = verify_pairs(&aws, &pairs, 8);
    let verdict = |(k, s): (&str, &str)| {
        Enrichment::default()
            .with_verified(verdicts.clone())
            .key_facts(Some(k), Some(s))
            .verify
            .expect("a verdict")
            .to_string()
    };
    assert_eq!(verdict(THROTTLED_ONCE), VerifyResult::Mismatch.as_str());
    assert_eq!(verdict(UNKNOWN), VerifyResult::UnknownKey.as_str());
    assert_eq!(verdict(ALWAYS_503), VerifyResult::Error.as_str());
    assert_eq!(verdict(PROXY_403), VerifyResult::Error.as_str());
    assert_eq!(verdict(SCANNER), VerifyResult::Match.as_str());

    let action = "GetCallerIdentity";
    for (k, _) in [THROTTLED_ONCE, ALWAYS_503] {
        let at = stub.requests(action, k);
        assert_eq!(at.len(), 2, "{k}: one retry after a transient failure");
        let gap = at[1] - at[0];
        assert!(gap >= RETRY_AFTER, "{k}: retried after {gap:?}");
    }
    for (k, _) in [UNKNOWN, PROXY_403, SCANNER] {
        assert_eq!(
            stub.requests(action, k).len(),
            1,
            "{k}: a definite answer is final"
        );
    }
    assert_eq!(aws.calls(), 7);

    let text = warnings.join("\n");
    assert_eq!(warnings.len(), 2, "{text}");
    assert!(
        text.contains(ALWAYS_503.0) && text.contains("HTTP 503"),
        "{text}"
    );
    assert!(
        text.contains(PROXY_403.0) && text.contains("HTTP 403"),
        "{text}"
    );
    for (_, secret) in [THROTTLED_ONCE, UNKNOWN, ALWAYS_503, PROXY_403, SCANNER] {
        assert!(!text.contains(secret), "a warning holds a secret");
    }
}

fn keyward_live(url: &str, repo: &std::path::Path) -> Output {
    keyward_live_with(url, repo, &[])
}

fn keyward_live_with(url: &str, repo: &std::path::Path, extra: &[&str]) -> Output {
    keyward_live_as(url, repo, "json", extra)
}

/// As [`keyward_live_with`], in another `--format`.
fn keyward_live_as(url: &str, repo: &std::path::Path, format: &str, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyward"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(["scan", ".", "--live", "--format", format])
        .args(extra)
        .current_dir(repo)
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", SCANNER.0)
        .env("AWS_SECRET_ACCESS_KEY", SCANNER.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("NO_COLOR", "1")
        .output()
        .expect("keyward runs")
}

fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        t.path().join("app.env"),
        format!("AWS_ACCESS_KEY_ID={}\n", UNKNOWN.0),
    )
    .expect("write");
    t
}

fn flat(s: &[u8]) -> String {
    String::from_utf8_lossy(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn iam_throttling_after_the_sdk_retries_is_exit_2() {
    let stub = Stub::start(Arc::new(|req: &Seen, _| match req.action.as_str() {
        "GetCallerIdentity" => (200, caller_identity()),
        _ => (400, aws_error("Throttling", "Rate exceeded")),
    }));
    let t = repo();
    let o = keyward_live(&stub.url(), t.path());
    let err = flat(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("throttling"), "{err}");
    assert!(err.contains("iam:GetAccessKeyLastUsed"), "{err}");
    assert!(
        stub.count("GetAccessKeyLastUsed") >= 2,
        "the SDK retried before giving up"
    );
    assert!(o.stdout.is_empty(), "no report from a half-answered run");
}

#[test]
fn access_denied_in_aws_own_error_shape_names_the_actions() {
    let stub = Stub::start(Arc::new(|req: &Seen, _| match req.action.as_str() {
        "GetCallerIdentity" => (200, caller_identity()),
        _ => (
            403,
            aws_error(
                "AccessDenied",
                "User: arn:aws:iam::123456789012:user/scanner is not authorized to perform: iam:GetAccessKeyLastUsed",
            ),
        ),
    }));
    let t = repo();
    let o = keyward_live(&stub.url(), t.path());
    let err = flat(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("access denied"), "{err}");
    let named: BTreeSet<&str> = keyward::iam::REQUIRED_ACTIONS
        .into_iter()
        .filter(|a| err.contains(a))
        .collect();
    assert_eq!(named.len(), 4, "{err}");
    assert_eq!(
        stub.count("GetAccessKeyLastUsed"),
        1,
        "access denied is not retried"
    );
}

/// `ListAccessKeys` for `user` with one Active key.
fn active_key_list(user: &str, key: &str) -> String {
    format!(
        "    <UserName>{user}</UserName>\n    <AccessKeyMetadata>\n      <member>\n        \
         <UserName>{user}</UserName>\n        <AccessKeyId>{key}</AccessKeyId>\n        \
         <Status>Active</Status>\n        <CreateDate>2026-06-01T00:00:00Z</CreateDate>\n      \
         </member>\n    </AccessKeyMetadata>\n    <IsTruncated>false</IsTruncated>\n"
    )
}

/// `GetAccessKeyLastUsed` for a key of `user` that was never used.
fn never_used(user: &str) -> String {
    format!(
        "    <AccessKeyLastUsed>\n      <Region>N/A</Region>\n      \
         <ServiceName>N/A</ServiceName>\n    </AccessKeyLastUsed>\n    \
         <UserName>{user}</UserName>\n"
    )
}

fn iam_response(action: &str, result: &str) -> String {
    format!(
        "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  \
         <{action}Result>\n{result}  </{action}Result>\n  <ResponseMetadata>\n    \
         <RequestId>4f6a9c1e-0000-4000-8000-000000000003</RequestId>\n  </ResponseMetadata>\n\
         </{action}Response>\n"
    )
}

/// Real AWS attaches its managed `arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3`
/// (moto has no AWS-managed policies): the stub answers with it, in IAM's
/// own document shapes, and the key is KW013 with that ARN named.
#[test]
fn the_real_quarantine_policy_arn_is_kw013() {
    let key = UNKNOWN.0;
    let stub = Stub::start(Arc::new(move |req: &Seen, _| {
        let ok = |action: &str, result: &str| (200, iam_response(action, result));
        match req.action.as_str() {
            "GetCallerIdentity" => (200, caller_identity()),
            "GetAccessKeyLastUsed" => ok(
                "GetAccessKeyLastUsed",
                "    <AccessKeyLastUsed>\n      <Region>us-east-1</Region>\n      \
                 <LastUsedDate>2026-11-20T10:00:00Z</LastUsedDate>\n      \
                 <ServiceName>ec2</ServiceName>\n    </AccessKeyLastUsed>\n    \
                 <UserName>leaky-bot</UserName>\n",
            ),
            "ListAccessKeys" => ok("ListAccessKeys", &active_key_list("leaky-bot", key)),
            "ListAttachedUserPolicies" => ok(
                "ListAttachedUserPolicies",
                "    <AttachedPolicies>\n      <member>\n        \
                 <PolicyName>ReadOnlyAccess</PolicyName>\n        \
                 <PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn>\n      </member>\n      \
                 <member>\n        <PolicyName>AWSCompromisedKeyQuarantineV3</PolicyName>\n        \
                 <PolicyArn>arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3</PolicyArn>\n      \
                 </member>\n    </AttachedPolicies>\n    <IsTruncated>false</IsTruncated>\n",
            ),
            other => (
                400,
                aws_error("InvalidAction", &format!("not scripted: {other}")),
            ),
        }
    }));
    let t = repo();
    let o = keyward_live(&stub.url(), t.path());
    assert_eq!(o.status.code(), Some(1), "{}", flat(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let kw013: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KW013")
        .collect();
    assert_eq!(kw013.len(), 1, "{doc}");
    assert_eq!(kw013[0]["severity"], "critical");
    assert!(
        kw013[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("`arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3` is attached"),
        "{}",
        kw013[0]["message"]
    );
    assert_eq!(kw013[0]["iam"]["last_used_service"], "ec2");
    // Asked once for the one owner, and nothing that changes anything.
    assert_eq!(stub.count("ListAttachedUserPolicies"), 1);
}

/// `--blast-radius` asks AWS's simulator, once per owner, about the
/// high-impact actions; a user allowed to create keys is KW014, and every
/// request the run made is a read.
#[test]
fn the_simulator_says_what_a_key_can_do() {
    let key = UNKNOWN.0;
    let stub = Stub::start(Arc::new(move |req: &Seen, _| {
        let ok = |action: &str, result: &str| (200, iam_response(action, result));
        match req.action.as_str() {
            "GetCallerIdentity" => (200, caller_identity()),
            "GetAccessKeyLastUsed" => ok("GetAccessKeyLastUsed", &never_used("deploy-admin")),
            "ListAccessKeys" => ok("ListAccessKeys", &active_key_list("deploy-admin", key)),
            "ListAttachedUserPolicies" => ok(
                "ListAttachedUserPolicies",
                "    <AttachedPolicies/>\n    <IsTruncated>false</IsTruncated>\n",
            ),
            "GetUser" => ok(
                "GetUser",
                "    <User>\n      <Path>/ci/</Path>\n      <UserName>deploy-admin</UserName>\n      \
                 <UserId>AIDAEXAMPLEDEPLOYADM</UserId>\n      \
                 <Arn>arn:aws:iam::123456789012:user/ci/deploy-admin</Arn>\n      \
                 <CreateDate>2026-01-01T00:00:00Z</CreateDate>\n    </User>\n",
            ),
            "SimulatePrincipalPolicy" => {
                let member = |action: &str, decision: &str| {
                    format!(
                        "      <member>\n        <EvalActionName>{action}</EvalActionName>\n        \
                         <EvalResourceName>*</EvalResourceName>\n        <EvalDecision>{decision}</EvalDecision>\n        \
                         <MatchedStatements/>\n        <MissingContextValues/>\n      </member>\n"
                    )
                };
                let results: String = [
                    ("iam:CreateAccessKey", "allowed"),
                    ("iam:AttachUserPolicy", "implicitDeny"),
                    ("s3:GetObject", "allowed"),
                    ("ec2:RunInstances", "explicitDeny"),
                ]
                .iter()
                .map(|(a, d)| member(a, d))
                .collect();
                ok(
                    "SimulatePrincipalPolicy",
                    &format!(
                        "    <IsTruncated>false</IsTruncated>\n    <EvaluationResults>\n{results}    </EvaluationResults>\n"
                    ),
                )
            }
            other => (
                400,
                aws_error("InvalidAction", &format!("not scripted: {other}")),
            ),
        }
    }));
    let t = repo();
    let o = keyward_live_with(&stub.url(), t.path(), &["--blast-radius"]);
    assert_eq!(o.status.code(), Some(1), "{}", flat(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = doc["findings"].as_array().expect("findings");
    let kw014 = findings
        .iter()
        .find(|f| f["rule"] == "KW014")
        .unwrap_or_else(|| panic!("KW014 in {doc}"));
    assert!(
        kw014["message"]
            .as_str()
            .unwrap_or("")
            .contains("AWS's policy simulator allows it to create keys or attach policies"),
        "{kw014}"
    );
    assert_eq!(
        kw014["iam"]["can"],
        serde_json::json!(["iam:CreateAccessKey", "s3:GetObject"])
    );
    assert!(kw014["iam"].get("can_approximate").is_none(), "{kw014}");
    assert_eq!(stub.count("SimulatePrincipalPolicy"), 1);
    let mutating: Vec<String> = stub
        .seen
        .lock()
        .expect("log")
        .iter()
        .map(|s| s.action.clone())
        .filter(|a| !(a.starts_with("Get") || a.starts_with("List") || a.starts_with("Simulate")))
        .collect();
    assert!(mutating.is_empty(), "{mutating:?}");
    // Shown where people look: a line under the credential in the terminal,
    // a column of the audit report.
    let human = keyward_live_as(&stub.url(), t.path(), "human", &["--blast-radius"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("can: iam:CreateAccessKey, s3:GetObject"),
        "{text}"
    );
    let html = keyward_live_as(&stub.url(), t.path(), "html", &["--blast-radius"]);
    let page = String::from_utf8_lossy(&html.stdout);
    assert!(page.contains("<th>Can</th>"), "{page}");
    assert!(page.contains("iam:CreateAccessKey, s3:GetObject"), "{page}");
    // Without the flag nothing is simulated and KW014 cannot fire.
    let o = keyward_live(&stub.url(), t.path());
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        !doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "KW014")
    );
    // The three runs with the flag asked once each; this one did not ask.
    assert_eq!(stub.count("SimulatePrincipalPolicy"), 3);
}

/// Where the simulator is refused, the policies are read: an attached
/// AdministratorAccess inside a permissions boundary that allows S3 only
/// can read and write S3 and nothing else, and is not KW014. Documents come
/// URL-encoded, as IAM sends them.
#[test]
fn a_refused_simulation_reads_the_policies_and_the_boundary() {
    let key = UNKNOWN.0;
    let encode = |doc: &str| -> String {
        doc.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let admin_doc = encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let s3_doc = encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    );
    let stub = Stub::start(Arc::new(move |req: &Seen, _| {
        let ok = |action: &str, result: &str| (200, iam_response(action, result));
        let boundary = req.body.contains("S3Only");
        match req.action.as_str() {
            "GetCallerIdentity" => (200, caller_identity()),
            "GetAccessKeyLastUsed" => ok("GetAccessKeyLastUsed", &never_used("boxed-bot")),
            "ListAccessKeys" => ok("ListAccessKeys", &active_key_list("boxed-bot", key)),
            "ListAttachedUserPolicies" => ok(
                "ListAttachedUserPolicies",
                "    <AttachedPolicies>\n      <member>\n        <PolicyName>AdministratorAccess</PolicyName>\n        \
                 <PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn>\n      </member>\n    \
                 </AttachedPolicies>\n    <IsTruncated>false</IsTruncated>\n",
            ),
            "GetUser" => ok(
                "GetUser",
                "    <User>\n      <Path>/</Path>\n      <UserName>boxed-bot</UserName>\n      \
                 <UserId>AIDAEXAMPLEBOXEDBOT1</UserId>\n      \
                 <Arn>arn:aws:iam::123456789012:user/boxed-bot</Arn>\n      \
                 <CreateDate>2026-01-01T00:00:00Z</CreateDate>\n      <PermissionsBoundary>\n        \
                 <PermissionsBoundaryType>Policy</PermissionsBoundaryType>\n        \
                 <PermissionsBoundaryArn>arn:aws:iam::123456789012:policy/S3Only</PermissionsBoundaryArn>\n      \
                 </PermissionsBoundary>\n    </User>\n",
            ),
            "SimulatePrincipalPolicy" => (
                403,
                aws_error(
                    "AccessDenied",
                    "User: arn:aws:iam::123456789012:user/scanner is not authorized to perform: iam:SimulatePrincipalPolicy",
                ),
            ),
            "GetPolicy" => ok(
                "GetPolicy",
                &format!(
                    "    <Policy>\n      <PolicyName>{}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n      \
                     <Arn>x</Arn>\n    </Policy>\n",
                    if boundary {
                        "S3Only"
                    } else {
                        "AdministratorAccess"
                    }
                ),
            ),
            "GetPolicyVersion" => ok(
                "GetPolicyVersion",
                &format!(
                    "    <PolicyVersion>\n      <Document>{}</Document>\n      <VersionId>v1</VersionId>\n      \
                     <IsDefaultVersion>true</IsDefaultVersion>\n    </PolicyVersion>\n",
                    if boundary { &s3_doc } else { &admin_doc }
                ),
            ),
            "ListUserPolicies" => ok(
                "ListUserPolicies",
                "    <PolicyNames/>\n    <IsTruncated>false</IsTruncated>\n",
            ),
            "ListGroupsForUser" => ok(
                "ListGroupsForUser",
                "    <Groups/>\n    <IsTruncated>false</IsTruncated>\n",
            ),
            other => (
                400,
                aws_error("InvalidAction", &format!("not scripted: {other}")),
            ),
        }
    }));
    let t = repo();
    let o = keyward_live_with(&stub.url(), t.path(), &["--blast-radius"]);
    assert_eq!(o.status.code(), Some(1), "{}", flat(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = doc["findings"].as_array().expect("findings");
    assert!(!findings.iter().any(|f| f["rule"] == "KW014"), "{doc}");
    let iam = &findings[0]["iam"];
    assert_eq!(
        iam["can"],
        serde_json::json!(["s3:GetObject", "s3:PutObject"]),
        "{doc}"
    );
    assert_eq!(iam["can_approximate"], true);
    assert_eq!(
        stub.count("GetPolicyVersion"),
        2,
        "the policy and the boundary"
    );
}
