use super::*;
use crate::parse::text;

const KEY: &str = "AKIARZPUZDIKEEQH746Y";
const KEY2: &str = "AKIARZPUZDIKPZC6PZ2L";
const SECRET: &str = "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";
const SECRET2: &str = "UVl4nuYV/d8fNYvvDbzDZST6IaXqA2h9Uz0/T1Sa";

fn run(src: &str) -> Vec<Candidate> {
    detect(src, &text::scan(src))
}

fn at<'a>(src: &'a str, c: &Candidate) -> &'a str {
    &src[c.span.clone()]
}

#[test]
fn shell_exports_pair_key_and_secret() {
    let src =
        format!("export AWS_ACCESS_KEY_ID={KEY}\nexport AWS_SECRET_ACCESS_KEY=\"{SECRET}\"\n");
    let c = run(&src);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!(c[0].kind, CandidateKind::AccessKeyId);
    assert_eq!(at(&src, &c[0]), KEY);
    assert_eq!(c[1].kind, CandidateKind::SecretAccessKey);
    assert_eq!(at(&src, &c[1]), SECRET);
    assert_eq!(c[1].name, "AWS_SECRET_ACCESS_KEY");
    assert_eq!(c[0].pair, Some(1));
    assert_eq!(c[1].pair, Some(0));
}

#[test]
fn unnamed_token_is_a_secret_only_beside_a_key() {
    let lone = format!("checksum {SECRET}\n");
    assert!(run(&lone).is_empty());
    let paired = format!("creds {KEY} {SECRET}\n");
    let c = run(&paired);
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].pair, Some(0));
}

#[test]
fn hex_hashes_are_never_secrets() {
    let src = format!(
        "aws_access_key_id={KEY}\naws_secret_access_key=3f786850e387550fdab836ed7e6dc881de23001b\n"
    );
    let c = run(&src);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind, CandidateKind::AccessKeyId);
}

#[test]
fn pairs_by_block_then_nearest() {
    let src = format!(
        "[a]\nid = {KEY}\naws_secret_access_key = {SECRET}\n\n[b]\nid = {KEY2}\naws_secret_access_key = {SECRET2}\n"
    );
    let c = run(&src);
    assert_eq!(c.len(), 4);
    let s2 = c.iter().position(|x| x.value == SECRET2).expect("s2");
    let k2 = c.iter().position(|x| x.value == KEY2).expect("k2");
    assert_eq!(c[s2].pair, Some(k2));
    assert_eq!(c[k2].pair, Some(s2));
    assert_eq!(c[s2].context, "b.aws_secret_access_key");
}

#[test]
fn malformed_only_under_key_id_names() {
    let src = "aws_access_key_id = AKIARZPUZDIKEEQH746\nnote = AKIARZPUZDIKEEQH746\nAWS_ACCESS_KEY_ID=${var.x}\n";
    let c = run(src);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].malformed);
    assert_eq!(c[0].value, "AKIARZPUZDIKEEQH746");
}

#[test]
fn placeholders_are_flagged() {
    let src = "aws_access_key_id=AKIAIOSFODNN7EXAMPLE\naws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
    let c = run(src);
    assert_eq!(c.len(), 2);
    assert!(c.iter().all(|x| x.placeholder));
}

#[test]
fn base64_blobs_are_decoded_and_span_the_encoded_text() {
    use base64::Engine as _;
    let inner = format!("aws_access_key_id={KEY}\naws_secret_access_key={SECRET}\n");
    let enc = base64::engine::general_purpose::STANDARD.encode(inner);
    let src = format!("blob: {enc}\n");
    let c = run(&src);
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c.iter().all(|x| x.encoding == Encoding::Base64));
    assert_eq!(at(&src, &c[0]), enc);
    assert_eq!(c[0].value, KEY);
    assert_eq!(c[1].value, SECRET);
}

#[test]
fn embedded_ini_in_a_verbatim_value_has_exact_spans() {
    let body = format!("[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n");
    let src = format!("content = <<EOF\n{body}EOF\n");
    let start = src.find("[default]").expect("body");
    let v = Value {
        text: body.clone(),
        span: start..start + body.len(),
        context: vec!["resource".into(), "x".into(), "content".into()],
        name: "content".into(),
        group: 0,
        verbatim: true,
        encoding: Encoding::Plain,
        kind: ValueKind::Scalar,
    };
    let c = detect(&src, &[v]);
    assert_eq!(c.len(), 2);
    assert_eq!(at(&src, &c[0]), KEY);
    assert_eq!(at(&src, &c[1]), SECRET);
    assert_eq!(
        c[1].context,
        "resource.x.content.default.aws_secret_access_key"
    );
    assert_eq!(c[1].pair, Some(0));
}

#[test]
fn non_verbatim_values_map_each_occurrence() {
    // A folded value whose text differs from the source (indentation removed).
    let src = format!("x: |\n    a={KEY}\n    b={KEY}\n");
    let first = src.find(KEY).expect("first");
    let v = Value {
        text: format!("a={KEY}\nb={KEY}\n"),
        span: first - 2..src.len(),
        context: vec!["x".into()],
        name: "x".into(),
        group: 0,
        verbatim: false,
        encoding: Encoding::Plain,
        kind: ValueKind::Scalar,
    };
    let c = detect(&src, &[v]);
    assert_eq!(c.len(), 2, "{c:?}");
    assert_ne!(c[0].span, c[1].span);
    assert_eq!(at(&src, &c[1]), KEY);
}

#[test]
fn masking() {
    assert_eq!(mask(SECRET), "Am/d…2yMK");
    assert_eq!(mask_in_place(SECRET).len(), SECRET.len());
    assert!(!mask_in_place(SECRET).contains("dX3a5"));
    let dbg = format!(
        "{:?}",
        run(&format!("aws_secret_access_key={SECRET} id={KEY}"))
    );
    assert!(!dbg.contains(SECRET), "{dbg}");
}

#[test]
fn far_apart_blocks_pair_by_name_stem_or_single_key() {
    // Blank lines end a block in text, and 10 lines exceed the proximity window.
    let filler = "\n".repeat(10);
    let src = format!(
        "CI_ACCESS_KEY_ID={KEY}\n{filler}OTHER_ACCESS_KEY_ID={KEY2}\n{filler}CI_SECRET_ACCESS_KEY={SECRET}\n"
    );
    let c = run(&src);
    let s = c.iter().position(|x| x.value == SECRET).expect("secret");
    assert_eq!(c[c[s].pair.expect("paired")].value, KEY);
    // One key ID in the whole file: a far secret is its.
    let src = format!("aws_access_key_id={KEY}\n{filler}aws_secret_access_key={SECRET}\n");
    let c = run(&src);
    assert_eq!(c[1].pair, Some(0));
    // Two different keys and no stem: no guess.
    let src = format!(
        "aws_access_key_id={KEY}\n{filler}x_access_key_id={KEY2}\n{filler}aws_secret_access_key={SECRET}\n"
    );
    let c = run(&src);
    let s = c.iter().position(|x| x.value == SECRET).expect("secret");
    assert_eq!(c[s].pair, None);
}

#[test]
fn random_secrets_are_masked_and_paths_are_not() {
    // xorshift: the same draws on every run.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+";
    let mut shown = 0;
    for _ in 0..100_000 {
        let secret: Vec<u8> = (0..40)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % 64) as usize]
            })
            .collect();
        let mut line = b"value: ".to_vec();
        line.extend_from_slice(&secret);
        super::mask_suspects(&mut line);
        shown += usize::from(line.ends_with(&secret));
    }
    assert!(
        shown <= 10,
        "{shown} of 100,000 random secrets shown in full"
    );
    let mut path =
        b"at aws-cloudformation-templates/DataFirehose/DataFirehoseDeliveryStream.yaml".to_vec();
    let before = path.clone();
    super::mask_suspects(&mut path);
    assert_eq!(path, before);
}
