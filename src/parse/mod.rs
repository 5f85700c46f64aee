//! Format parsers: each turns a file's text into [`Value`]s that carry the
//! decoded text, the exact byte span in the file, and the structural context.
//!
//! Parsers never print and never panic on input. A parser that cannot make
//! sense of a file returns [`ParseFailure`]; the pipeline then falls back to
//! the line-based text scanner and records a warning.

use std::ops::Range;
use std::path::Path;

use format::Syntax;

pub mod dotenv;
pub mod format;
pub mod hcl;
pub mod hcl_pieces;
pub mod ini;
pub mod json;
pub mod text;
pub mod yaml;

#[cfg(test)]
pub(crate) mod test_support;

pub use format::Format;

/// How a value's text relates to the bytes at its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// The text is what the file says (after unquoting/unescaping).
    #[default]
    Plain,
    /// The text was base64-decoded from the bytes at `span`.
    Base64,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Base64 => "base64",
        }
    }
}

/// What kind of syntax a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueKind {
    /// A scalar in a structured format (string, number, bare word).
    #[default]
    Scalar,
    /// A comment. Its text is scanned like free text.
    Comment,
    /// A line (or part of one) of unstructured text.
    Text,
}

/// One scalar (or comment, or text segment) found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Value {
    /// The decoded text: quotes removed, escapes resolved, block scalars
    /// folded, base64 decoded when `encoding` says so.
    pub text: String,
    /// Byte range in the file of the value itself (inside quotes when quoted).
    pub span: Range<usize>,
    /// Structural path, outermost first: `["provider", "aws", "access_key"]`,
    /// `["services", "worker", "environment", "AWS_ACCESS_KEY_ID"]`. Sequence
    /// indices are segments of the form `[0]`.
    pub context: Vec<String>,
    /// The logical name of the value: usually the last key of `context`; for
    /// Kubernetes-style `{name: X, value: Y}` pairs it is `X`.
    pub name: String,
    /// Id of the enclosing block / mapping / INI section / env file. Values
    /// that share a group are siblings, which is what pairing a secret with
    /// its key ID looks at first. Unique within one file.
    pub group: u32,
    /// True when `text` is byte-for-byte `file[span]`, so offsets inside the
    /// text map to file offsets by adding `span.start`.
    pub verbatim: bool,
    pub encoding: Encoding,
    pub kind: ValueKind,
}

/// A non-fatal problem met while parsing (the file was still parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    pub offset: Option<usize>,
    pub message: String,
}

/// Result of parsing one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub values: Vec<Value>,
    pub warnings: Vec<ParseWarning>,
    /// A more specific format recognised from content (a YAML file that is a
    /// Kubernetes manifest, a JSON file that is a CloudFormation template).
    pub flavour: Option<Format>,
}

/// The file could not be parsed as its format; the caller falls back to text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseFailure {
    /// Byte offset of the problem, when known.
    pub offset: Option<usize>,
    pub message: String,
    pub kind: WarningKind,
}

impl ParseFailure {
    pub fn new(offset: Option<usize>, message: impl Into<String>) -> Self {
        ParseFailure {
            offset,
            message: message.into(),
            kind: WarningKind::Parse,
        }
    }

    /// The parse was stopped by `--file-timeout`.
    pub fn out_of_budget() -> Self {
        ParseFailure {
            offset: None,
            message: "stopped: the file's time budget (--file-timeout) ran out".into(),
            kind: WarningKind::Budget,
        }
    }
}

pub use crate::problem::{FileWarning, ProblemKind as WarningKind};

/// Joins context segments into the dotted form used in facts and output:
/// `["spec", "containers", "[0]", "env"]` becomes `spec.containers[0].env`.
pub fn join_context(segments: &[String]) -> String {
    let mut out = String::new();
    for seg in segments {
        if !out.is_empty() && !seg.starts_with('[') {
            out.push('.');
        }
        out.push_str(seg);
    }
    out
}

/// Parses with the format's parser; on failure, scans as text and says so.
/// `worth` tells which pieces of a file too large to parse whole are worth
/// parsing (only HCL is parsed in pieces); `pieces` holds pieces parsed
/// before.
pub fn values(
    path: &Path,
    text: &str,
    worth: &dyn Fn(&str) -> bool,
    pieces: Option<&mut hcl::PieceCache>,
) -> (Vec<Value>, Format, Option<FileWarning>) {
    // The parsers read the text after a byte-order mark, and every span is
    // moved back to the file's offsets. (Three spaces in its place would
    // indent YAML's first line, and YAML reads indentation.)
    let (src, shift) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (text, 0),
    };
    let (mut values, format, warning) = values_of(path, src, worth, pieces);
    if matches!(format.syntax(), Syntax::Yaml | Syntax::Json) {
        name_from_parent(&mut values);
    }
    if shift > 0 {
        for v in &mut values {
            v.span = v.span.start + shift..v.span.end + shift;
        }
    }
    (values, format, warning)
}

/// Keys that say nothing of the value under them.
const SAYS_NOTHING: [&str; 4] = ["Default", "default", "Value", "value"];

/// A value whose own key says nothing is judged by its parent's name and
/// its siblings: `Parameters.UploaderSecret.Default` (CloudFormation) and
/// `inputs.aws-secret.default` (a GitHub Action) are named by the
/// parameter or input; `{name: X, value: Y}` items (Kubernetes `env`, Helm
/// lists, ECS) are named X by the parser already. Such values of one
/// collection (the template's `Parameters`, an action's `inputs`, one `env`
/// list) share a group, so a secret whose name says only `Secret` still
/// pairs with the key ID of the parameter beside it.
fn name_from_parent(values: &mut [Value]) {
    let mut next = values.iter().map(|v| v.group).max().unwrap_or(0) + 1;
    let mut collections: std::collections::HashMap<Vec<String>, u32> =
        std::collections::HashMap::new();
    for v in values.iter_mut() {
        let n = v.context.len();
        if n < 3 || v.kind != ValueKind::Scalar {
            continue;
        }
        let (leaf, parent) = (&v.context[n - 1], &v.context[n - 2]);
        if !SAYS_NOTHING.contains(&leaf.as_str()) {
            continue;
        }
        let item = parent.starts_with('[');
        if !item && v.name == *leaf {
            v.name.clone_from(parent);
        } else if !item || v.name == *leaf {
            continue;
        }
        let collection = v.context[..n - 2].to_vec();
        v.group = *collections.entry(collection).or_insert_with(|| {
            next += 1;
            next - 1
        });
    }
}

fn values_of(
    path: &Path,
    src: &str,
    worth: &dyn Fn(&str) -> bool,
    pieces: Option<&mut hcl::PieceCache>,
) -> (Vec<Value>, Format, Option<FileWarning>) {
    let format = Format::from_path(path);
    let result = match format.syntax() {
        Syntax::Hcl => hcl::parse_pieces_worth(src, worth, pieces),
        Syntax::Json => json::parse(src),
        // Helm and other templates render to YAML; they are not YAML.
        Syntax::Yaml if is_yaml_template(path, format, src) => {
            return (text::scan(src), format, None);
        }
        Syntax::Yaml => yaml::parse(src),
        Syntax::Dotenv => dotenv::parse(src),
        Syntax::Ini => ini::parse(src),
        Syntax::Text => return (text::scan(src), format, None),
    };
    match result {
        Ok(parsed) => {
            let format = match parsed.flavour {
                Some(f) if matches!(format, Format::Yaml | Format::Json) => f,
                _ => format,
            };
            let warning = parsed.warnings.first().map(|w| FileWarning {
                kind: WarningKind::Parse,
                message: w.message.clone(),
            });
            (parsed.values, format, warning)
        }
        // Templated YAML that is not under `templates/` (Ansible's Jinja,
        // a chart kept elsewhere) fails as YAML for no surprising reason.
        Err(_) if format.syntax() == Syntax::Yaml && has_template_actions(src) => {
            (text::scan(src), format, None)
        }
        Err(failure) => {
            let warning = FileWarning {
                kind: failure.kind,
                message: format!(
                    "could not parse as {}: {}; scanned as text",
                    format.as_str(),
                    failure.message
                ),
            };
            (text::scan(src), format, Some(warning))
        }
    }
}

/// A Go or Jinja template that renders to YAML: a file under a chart's
/// `templates/` that holds template actions, or one whose first line that
/// is not a comment is a template action.
fn is_yaml_template(path: &Path, format: Format, src: &str) -> bool {
    let under_templates = path
        .parent()
        .is_some_and(|p| p.components().any(|c| c.as_os_str() == "templates"));
    if (under_templates || format == Format::Helm) && src.contains("{{") {
        return true;
    }
    src.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && *l != "---")
        .is_some_and(|l| l.starts_with("{{") || l.starts_with("{%"))
}

fn has_template_actions(src: &str) -> bool {
    src.contains("{{") || src.contains("{%")
}

/// Nesting deeper than this is not descended into (hostile input guard).
pub const MAX_DEPTH: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_context_attaches_indices() {
        let segs: Vec<String> = ["spec", "containers", "[0]", "env", "[2]", "value"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(join_context(&segs), "spec.containers[0].env[2].value");
        assert_eq!(join_context(&[]), "");
    }

    /// A byte-order mark is not indentation: a YAML file that starts with
    /// one parses, and every span is the file's.
    #[test]
    fn a_bom_is_read_past_with_offsets_kept() {
        let all = |_: &str| true;
        for (name, text) in [
            (
                "docker-compose.yml",
                "\u{feff}services:\n  api:\n    environment:\n      KEY: value1\n",
            ),
            (
                "main.tf",
                "\u{feff}provider \"aws\" {\n  region = \"value1\"\n}\n",
            ),
            ("a.env", "\u{feff}KEY=value1\n"),
        ] {
            let (values, _, warning) = values(Path::new(name), text, &all, None);
            assert_eq!(warning, None, "{name}");
            let v = values
                .iter()
                .find(|v| v.text == "value1")
                .unwrap_or_else(|| panic!("{name}: {values:?}"));
            assert_eq!(&text[v.span.clone()], "value1", "{name}");
        }
        let (values, _, _) = values(
            Path::new("docker-compose.yml"),
            "\u{feff}services:\n  api:\n    environment:\n      KEY: value1\n",
            &all,
            None,
        );
        assert_eq!(
            join_context(&values[0].context),
            "services.api.environment.KEY"
        );
    }

    /// A parameter's default is named by the parameter, in YAML and JSON
    /// templates alike, so a secret under `DeployUserSecretAccessKey` is
    /// recognised by its name.
    #[test]
    fn cloudformation_parameter_defaults_take_the_parameter_name() {
        let all = |_: &str| true;
        let yaml = "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  DeploySecretAccessKey:\n    Type: String\n    Default: value1\nResources: {}\n";
        let json = r#"{"AWSTemplateFormatVersion": "2010-09-09", "Parameters": {"DeploySecretAccessKey": {"Type": "String", "Default": "value1"}}, "Resources": {}}"#;
        for (name, text) in [("template.yaml", yaml), ("template.json", json)] {
            let (values, format, _) = values(Path::new(name), text, &all, None);
            assert_eq!(format, Format::CloudFormation, "{name}");
            let v = values
                .iter()
                .find(|v| v.text == "value1")
                .expect("the default");
            assert_eq!(v.name, "DeploySecretAccessKey", "{name}");
        }
    }
}
