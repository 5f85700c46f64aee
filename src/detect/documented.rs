//! A key ID of one of the accounts AWS's documentation uses, standing alone
//! in documentation (a comment, a docstring, Markdown or reStructuredText),
//! is an example, counted like `AKIAIOSFODNN7EXAMPLE`.
//!
//! Only there: in a configuration value, or paired with a secret, it is a
//! credential. moto and many test suites mint real-looking keys of account
//! 123456789012, and so does keyward's own demo.

use std::path::Path;

use super::{Candidate, CandidateKind};
use crate::parse::{Value, ValueKind};

/// The accounts AWS's documentation writes in examples.
pub const DOCUMENTATION_ACCOUNTS: &[&str] = &[
    "123456789012",
    "111122223333",
    "444455556666",
    "777788889999",
    "555555555555",
    "999999999999",
    "111111111111",
    "222222222222",
    "333333333333",
    "012345678901",
];

/// Files that are documentation as a whole.
const DOCUMENT_EXTENSIONS: &[&str] = &["md", "markdown", "mdx", "rst", "adoc", "txt"];

/// Source files whose docstrings are triple-quoted strings.
const DOCSTRING_EXTENSIONS: &[&str] = &["py", "pyi"];

/// Line comment starts in source files keyward reads as text.
const COMMENT_STARTS: &[&str] = &["#", "//", "/*", "*", "--", ";", "<!--"];

/// Marks as placeholders the key IDs of documentation accounts that stand
/// alone in documentation.
pub fn mark_examples(src: &str, values: &[Value], path: &Path, cands: &mut [Candidate]) {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let document = DOCUMENT_EXTENSIONS.contains(&extension.as_str());
    let docstrings = DOCSTRING_EXTENSIONS.contains(&extension.as_str());
    // A key the file pairs with a secret anywhere is a credential wherever
    // the file mentions it (a runbook's prose about a pasted pair).
    let paired: std::collections::HashSet<String> = cands
        .iter()
        .filter(|c| c.kind == CandidateKind::AccessKeyId && (c.pair.is_some() || c.token.is_some()))
        .map(|c| c.value.clone())
        .collect();
    for c in cands.iter_mut() {
        if c.kind != CandidateKind::AccessKeyId
            || c.placeholder
            || c.pair.is_some()
            || c.token.is_some()
            || paired.contains(&c.value)
            || assigned(c)
        {
            continue;
        }
        let documented = super::key_id::account(&c.value)
            .is_some_and(|a| DOCUMENTATION_ACCOUNTS.contains(&a.as_str()));
        if documented
            && (document
                || in_comment(src, values, c.span.start)
                || (docstrings && in_docstring(src, c.span.start)))
        {
            c.placeholder = true;
        }
    }
}

/// Written as the value of a credential name (`AWS_ACCESS_KEY_ID=…` in a
/// README's code block): a configuration value, not prose.
fn assigned(c: &Candidate) -> bool {
    let last = c.context.rsplit(['.', '/']).next().unwrap_or("");
    super::secret::is_key_id_name(&c.name) || super::secret::is_key_id_name(last)
}

/// In a value the parser calls a comment, or on a line of text that
/// starts as a comment does.
fn in_comment(src: &str, values: &[Value], at: usize) -> bool {
    let value = values.iter().find(|v| v.span.contains(&at));
    if value.is_some_and(|v| v.kind == ValueKind::Comment) {
        return true;
    }
    if value.is_some_and(|v| v.kind == ValueKind::Scalar) {
        return false;
    }
    let start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = src[start..at].trim_start();
    COMMENT_STARTS.iter().any(|c| line.starts_with(c))
}

/// Inside a triple-quoted string: an odd number of triple quotes of one
/// kind before it.
fn in_docstring(src: &str, at: usize) -> bool {
    let before = &src[..at];
    ["\"\"\"", "'''"]
        .iter()
        .any(|q| before.matches(q).count() % 2 == 1)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    // Synthetic (scripts/genkey.py --seed 7): account 123456789012.
    const DOC_ACCOUNT_KEY: &str = "AKIARZPUZDIKKJZDEGXD";

    /// Whether each key ID of `src` is a placeholder, in order.
    fn placeholder(path: &str, src: &str) -> Vec<bool> {
        let values = crate::parse::text::scan(src);
        let mut cands = super::super::detect(src, &values);
        super::mark_examples(src, &values, Path::new(path), &mut cands);
        cands
            .iter()
            .filter(|c| c.kind == super::CandidateKind::AccessKeyId)
            .map(|c| c.placeholder)
            .collect()
    }

    #[test]
    fn the_key_decodes_to_a_documentation_account() {
        assert_eq!(
            crate::detect::key_id::account(DOC_ACCOUNT_KEY).as_deref(),
            Some("123456789012")
        );
    }

    #[test]
    fn alone_in_documentation_it_is_an_example() {
        let k = DOC_ACCOUNT_KEY;
        assert_eq!(
            placeholder("docs/setup.md", &format!("Use `{k}` as the key.\n")),
            [true]
        );
        assert_eq!(
            placeholder(
                "notes.rst",
                &format!("The key ``{k}`` belongs to the demo.\n")
            ),
            [true]
        );
        assert_eq!(
            placeholder(
                "app/accounts.py",
                &format!("def f():\n    \"\"\"Keys look like {k}.\"\"\"\n    return 1\n")
            ),
            [true]
        );
        assert_eq!(
            placeholder(
                "app/main.go",
                &format!("// for example {k}\nfunc main() {{}}\n")
            ),
            [true]
        );
    }

    #[test]
    fn in_code_or_with_a_secret_it_is_a_credential() {
        let k = DOC_ACCOUNT_KEY;
        // Python code, not a docstring.
        assert_eq!(
            placeholder("app/settings.py", &format!("KEY = \"{k}\"\n")),
            [false]
        );
        // A docstring closed before the key.
        assert_eq!(
            placeholder(
                "app/settings.py",
                &format!("\"\"\"Settings.\"\"\"\nKEY = \"{k}\"\n")
            ),
            [false]
        );
        // Documentation, but with its secret beside it: a pair is a leak.
        assert_eq!(
            placeholder(
                "README.md",
                &format!(
                    "aws_access_key_id = {k}\naws_secret_access_key = Bel31iEl2hpChYgCfrL1spNxnyVmihA+2O76UMFx\n"
                )
            ),
            [false]
        );
        // Assigned to a credential name in a README's code block.
        assert_eq!(
            placeholder(
                "README.md",
                &format!("```sh\nexport AWS_ACCESS_KEY_ID={k}\n```\n")
            ),
            [false]
        );
        // Mentioned in prose, and paired with its secret further down.
        assert_eq!(
            placeholder(
                "docs/runbook.md",
                &format!(
                    "The key `{k}` leaked.\n\n    aws_access_key_id = {k}\n    aws_secret_access_key = Bel31iEl2hpChYgCfrL1spNxnyVmihA+2O76UMFx\n"
                )
            ),
            [false, false]
        );
        // A key of another account in documentation is still reported.
        assert_eq!(
            placeholder("docs/setup.md", "Use AKIA6RU73QDQWU7MZ2KM here.\n"),
            [false]
        );
    }
}
