//! An IAM endpoint that accepts connections and never answers must not hang
//! `--live`: the request times out and the scan exits 2 with a clear message.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_silent_endpoint_times_out_with_exit_2() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    // Accept and hold every connection, reading and never writing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            let mut s = stream;
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
            let _ = s.read(&mut buf);
            held.push(s);
        }
    });
    let t = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        t.path().join("app.env"),
        "AWS_ACCESS_KEY_ID=AKIARZPUZDIKEEQH746Y\n",
    )
    .expect("write");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["scan", ".", "--live", "--format", "json"])
        .current_dir(t.path())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "AKIARZPUZDIKPZC6PZ2L")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "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",
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KEYWARD_IAM_TIMEOUT", "1")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyward runs");
    // A hang fails the test instead of blocking CI.
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("keyward --live hung on a silent endpoint");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "the message names the endpoint: {stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("timeout") || stderr.to_lowercase().contains("timed out"),
        "the message says it timed out: {stderr}"
    );
}
