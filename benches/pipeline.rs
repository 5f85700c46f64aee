//! Micro-benchmarks on fixed inputs: the prefilter, each parser and the
//! detector. The inputs are built here (synthetic keys only) so numbers are
//! comparable across commits; the whole-tree numbers live in bench/run.sh.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use keyward::{detect, parse, prefilter};

const KEY: &str = "AKIARZPUZDIKEEQH746Y";
const SECRET: &str = "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";

/// `n` copies of `unit` (with its index) and one credential block at the end,
/// so the parsers walk realistic structure and the detector has work to do.
fn repeat(unit: &str, n: usize, tail: &str) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&unit.replace("{i}", &i.to_string()));
    }
    s.push_str(tail);
    s
}

fn inputs() -> Vec<(&'static str, String)> {
    vec![
        (
            "hcl",
            repeat(
                "resource \"aws_s3_bucket\" \"b{i}\" {\n  bucket = \"acme-{i}\"\n  tags = { Team = \"platform\" }\n}\n\n",
                200,
                &format!(
                    "provider \"aws\" {{\n  access_key = \"{KEY}\"\n  secret_key = \"{SECRET}\"\n}}\n"
                ),
            ),
        ),
        (
            "yaml",
            repeat(
                "- name: svc-{i}\n  image: registry.example.com/svc-{i}:1.0\n  env:\n    - name: LOG_LEVEL\n      value: info\n",
                200,
                &format!(
                    "- name: leak\n  env:\n    - name: AWS_ACCESS_KEY_ID\n      value: {KEY}\n    - name: AWS_SECRET_ACCESS_KEY\n      value: {SECRET}\n"
                ),
            ),
        ),
        (
            "json",
            format!(
                "[{}{{\"aws\": {{\"access_key_id\": \"{KEY}\", \"secret_access_key\": \"{SECRET}\"}}}}]\n",
                repeat(
                    "{\"name\": \"svc-{i}\", \"version\": \"1.{i}.0\", \"deps\": [\"a\", \"b\"]},\n",
                    300,
                    ""
                )
            ),
        ),
        (
            "dotenv",
            repeat(
                "APP_{i}=svc-{i}\nURL_{i}=postgres://db:5432/app{i}\n",
                300,
                &format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
            ),
        ),
        (
            "ini",
            repeat(
                "[profile p{i}]\nregion = eu-west-1\nrole_arn = arn:aws:iam::123456789012:role/r{i}\n\n",
                200,
                &format!(
                    "[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n"
                ),
            ),
        ),
        (
            "text",
            repeat(
                "Deploy service {i} with make deploy; credentials come from the role.\n",
                400,
                &format!("Old key: {KEY} secret: {SECRET}\n"),
            ),
        ),
    ]
}

fn parse_with(kind: &str, src: &str) -> Vec<parse::Value> {
    let parsed = match kind {
        "hcl" => parse::hcl::parse(src),
        "yaml" => parse::yaml::parse(src),
        "json" => parse::json::parse(src),
        "dotenv" => parse::dotenv::parse(src),
        "ini" => parse::ini::parse(src),
        _ => return parse::text::scan(src),
    };
    parsed.map(|p| p.values).unwrap_or_default()
}

fn prefilter_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("prefilter");
    // 1 MiB of infra text without a credential keyword: the common case.
    let miss = repeat(
        "resource \"aws_iam_role\" \"r{i}\" {\n  name = \"svc-{i}\"\n  assume_role_policy = data.aws_iam_policy_document.assume.json\n}\n",
        10_000,
        "",
    );
    let miss = &miss[..miss.len().min(1 << 20)];
    g.throughput(Throughput::Bytes(miss.len() as u64));
    g.bench_function("miss_1MiB", |b| {
        b.iter(|| prefilter::may_contain_credentials(black_box(miss.as_bytes())))
    });
    // A keyword that names a credential without holding one.
    let reference = format!("{miss}\nsecret_key = var.secret_key\n");
    g.bench_function("name_only_1MiB", |b| {
        b.iter(|| prefilter::may_contain_credentials(black_box(reference.as_bytes())))
    });
    let hit = format!("{miss}\naccess_key = \"{KEY}\"\n");
    g.bench_function("hit_at_end_1MiB", |b| {
        b.iter(|| prefilter::may_contain_credentials(black_box(hit.as_bytes())))
    });
    g.finish();
}

fn parse_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (kind, src) in inputs() {
        assert!(
            !parse_with(kind, &src).is_empty(),
            "{kind} input must parse to values"
        );
        g.throughput(Throughput::Bytes(src.len() as u64));
        g.bench_function(kind, |b| b.iter(|| parse_with(kind, black_box(&src))));
    }
    g.finish();
}

fn detect_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("detect");
    for (kind, src) in inputs() {
        let values = parse_with(kind, &src);
        let found = detect::detect(&src, &values);
        assert!(
            found.iter().any(|c| c.value == KEY),
            "{kind}: the planted key must be detected"
        );
        g.throughput(Throughput::Bytes(src.len() as u64));
        g.bench_function(kind, |b| {
            b.iter(|| detect::detect(black_box(&src), black_box(&values)))
        });
    }
    g.finish();
}

/// `keyward lsp`'s work on one change: a 2,000-line Terraform file with a
/// key in it, from text to published diagnostics; and the same file with a
/// key every 200 lines. Target: under 20 ms.
fn lsp_bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("keyward-lsp-bench");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("main.tf");
    let mut text = String::new();
    for i in 0..666 {
        text.push_str(&format!(
            "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"acme-{i}\"\n"
        ));
        text.push_str("}\n");
    }
    text.push_str(&format!(
        "provider \"aws\" {{\n  access_key = \"{KEY}\"\n}}\n"
    ));
    let lines = text.lines().count();
    assert!(lines >= 2000, "{lines} lines");
    // The worst case for piecewise parsing: a key every 200 lines, so every
    // piece of the file is parsed.
    let mut throughout = String::new();
    let mut since = 0;
    for (i, line) in text.lines().enumerate() {
        throughout.push_str(line);
        throughout.push('\n');
        since += 1;
        if since >= 200 && line == "}" {
            since = 0;
            throughout.push_str(&format!(
                "provider \"aws\" {{\n  alias = \"p{i}\"\n  access_key = \"{KEY}\"\n}}\n"
            ));
        }
    }
    let mut g = c.benchmark_group("lsp");
    // One session, as the server keeps: the rules are loaded once.
    let mut session = keyward::lsp::Session::new();
    // Each iteration is a change: one line of one block is edited, as an
    // editor sends it, so the other blocks' parses can be reused and the
    // edited one cannot.
    for (name, text, least) in [
        ("diagnostics_2000_lines", &text, 1),
        ("diagnostics_2000_lines_keys_throughout", &throughout, 6),
    ] {
        let mut n = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                let changed = text.replacen("\"acme-300\"", &format!("\"acme-300-{n}\""), 1);
                let found = session.diagnostics(&path, &changed);
                assert!(found.len() >= least, "{}", found.len());
            });
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    prefilter_bench,
    parse_bench,
    detect_bench,
    lsp_bench
);
criterion_main!(benches);
