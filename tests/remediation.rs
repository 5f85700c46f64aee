//! Remediation you can follow (issue 24): secrets found where their own key
//! says nothing, fixes that never lie, and (in `rotate.rs`) rotations.

mod common;

use common::*;

const KEY: &str = "AKIARZPUZDIKKJZDEGXD";
const SECRET: &str = "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";
const KEY2: &str = "AKIARZPUZDIKBKJDPPTT";
const SECRET2: &str = "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";

fn rules_at(dir: &std::path::Path) -> Vec<(String, String, u64)> {
    let out = keyward(dir, &["scan", ".", "--format", "json"]);
    json(&out)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(rule_path_line)
        .collect()
}

/// Where a value's own key says nothing (`Default`, `default`, `value`),
/// its parent's name and its siblings say what it is.
#[test]
fn secrets_named_one_level_up_are_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(
        d,
        "stack.yaml",
        format!(
            "AWSTemplateFormatVersion: \"2010-09-09\"\nParameters:\n  UploaderKeyId:\n    Type: String\n    Default: {KEY}\n  UploaderSecret:\n    Type: String\n    Default: {SECRET}\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
        ),
    );
    write(
        d,
        "upload/action.yml",
        format!(
            "name: upload\ninputs:\n  key-id:\n    description: the key\n    default: {KEY2}\n  token:\n    description: the other part\n    default: {SECRET2}\nruns:\n  using: composite\n  steps: []\n"
        ),
    );
    write(
        d,
        "k8s/job.yaml",
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: upload\nspec:\n  template:\n    spec:\n      containers:\n        - name: upload\n          image: acme/upload\n          env:\n            - name: UPLOAD_ID\n              value: {KEY}\n            - name: REGION\n              value: eu-west-1\n            - name: UPLOAD_TOKEN\n              value: {SECRET}\n"
        ),
    );
    let hits = rules_at(d);
    for (rule, path, line) in [
        ("KW001", "stack.yaml", 5),
        ("KW002", "stack.yaml", 8),
        ("KW001", "upload/action.yml", 5),
        ("KW002", "upload/action.yml", 8),
        ("KW001", "k8s/job.yaml", 13),
        ("KW002", "k8s/job.yaml", 17),
    ] {
        assert!(
            hits.contains(&(rule.to_string(), path.to_string(), line)),
            "{rule} {path}:{line} in {hits:?}"
        );
    }
    // The CloudFormation secret is fixed too, not called clean while it
    // stays in the file.
    let out = keyward(d, &["fix", "stack.yaml"]);
    let text = stdout(&out);
    assert!(
        text.contains("parameter `UploaderSecret` has no default now"),
        "{text}"
    );
    assert!(
        !std::fs::read_to_string(d.join("stack.yaml"))
            .expect("read")
            .contains(SECRET)
    );
}
