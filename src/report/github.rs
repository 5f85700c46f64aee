//! `--format github`: GitHub Actions workflow commands, which the runner
//! turns into annotations on the changed files, and a Markdown job summary.

use super::escape::{md, workflow};
use super::human::summary_line;
use super::{Region, regions};
use crate::ScanOutput;
use crate::finding::Finding;
use crate::rules::Severity;

/// Rows of the summary's findings table; a job summary is capped at 1 MiB
/// and a long table is unreadable anyway.
const MAX_SUMMARY_ROWS: usize = 100;

pub fn render(out: &ScanOutput) -> String {
    let mut text = String::new();
    for (f, r) in shown(out) {
        let path = out.files.get(f.file).map_or("", |s| s.path.as_str());
        text.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            command(f.severity),
            workflow::property(path),
            r.line,
            r.column,
            r.end_line,
            r.end_column,
            workflow::property(&format!("{} {}", f.rule, f.name)),
            workflow::data(&super::message_with_provenance(f)),
        ));
    }
    for m in &out.more {
        let path = out.files.get(m.file).map_or("", |s| s.path.as_str());
        text.push_str(&format!(
            "::{} file={},title={}::{}\n",
            command(m.severity),
            workflow::property(path),
            workflow::property(&format!("{} {}", m.rule, m.name)),
            workflow::data(&format!(
                "{} more findings like these in this file, not annotated one by one",
                m.count
            )),
        ));
    }
    for e in &out.warnings {
        text.push_str(&format!(
            "::warning file={}::{}\n",
            workflow::property(&e.path),
            workflow::data(&e.message)
        ));
    }
    text.push_str(&summary_line(out));
    text.push('\n');
    text
}

/// Markdown for `$GITHUB_STEP_SUMMARY`.
pub fn step_summary(out: &ScanOutput) -> String {
    let shown = shown(out);
    let mut md = format!("## keyward\n\n{}\n\n", md::text(&summary_line(out)));
    md.push_str("| Severity | Findings |\n|---|---:|\n");
    for sev in Severity::ALL {
        let n = shown.iter().filter(|(f, _)| f.severity == sev).count();
        md.push_str(&format!("| {} | {n} |\n", sev.as_str()));
    }
    md.push('\n');
    if shown.is_empty() {
        md.push_str("No findings.\n");
        return md;
    }
    md.push_str("| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
    for (f, r) in shown.iter().take(MAX_SUMMARY_ROWS) {
        let path = out.files.get(f.file).map_or("", |s| s.path.as_str());
        md.push_str(&format!(
            "| {} | {} {} | {}:{} | {} |\n",
            f.severity.as_str(),
            md::text(&f.rule),
            md::text(&f.name),
            md::code(path),
            r.line,
            md::message(&f.message),
        ));
    }
    if shown.len() > MAX_SUMMARY_ROWS {
        md.push_str(&format!(
            "\n… and {} more\n",
            shown.len() - MAX_SUMMARY_ROWS
        ));
    }
    md
}

/// Unsuppressed findings with their regions: an accepted finding must not
/// annotate a pull request.
fn shown(out: &ScanOutput) -> Vec<(&Finding, Region)> {
    out.findings
        .iter()
        .zip(regions(&out.files, &out.findings))
        .filter(|(f, _)| f.suppression.is_none())
        .collect()
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{SourceFile, Suppression, SuppressionKind};
    use crate::scan::Summary;
    use std::sync::Arc;

    #[test]
    fn data_escapes_percent_and_newlines_only() {
        assert_eq!(workflow::data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
    }

    #[test]
    fn properties_escape_colons_and_commas_too() {
        assert_eq!(workflow::property("a:b,c%d\ne\r"), "a%3Ab%2Cc%25d%0Ae%0D");
        // `%` is escaped first, so an existing `%3A` is not mistaken for `:`.
        assert_eq!(workflow::property("x%3A"), "x%253A");
    }

    #[test]
    fn cells_escape_pipes_and_line_breaks() {
        assert_eq!(md::text("a|b\r\nc\nd"), "a\\|b  c d");
        assert_eq!(md::code("a|b\r\nc"), "`a\\|b  c`");
    }

    fn finding(rule: &str, severity: Severity, span: std::ops::Range<usize>) -> Finding {
        Finding {
            rule: rule.into(),
            name: "some-rule".into(),
            severity,
            message: "bad: `x|y`, 50%\nsecond line".into(),
            help: String::new(),
            file: 0,
            span,
            key_id: None,
            secret: None,
            account: None,
            context: String::new(),
            fingerprint: String::new(),
            identity: String::new(),
            suppression: None,
            related: Vec::new(),
            iam: None,
            provenance: None,
        }
    }

    fn output(findings: Vec<Finding>) -> ScanOutput {
        ScanOutput {
            summary: Summary {
                findings: findings.len() as u64,
                files_scanned: 1,
                files_parsed: 1,
                ..Summary::default()
            },
            findings,
            files: vec![SourceFile {
                path: "a,b:c.tf".into(),
                format: crate::parse::format::Format::Text,
                text: Arc::from("x\nkey = AKIA\n"),
                secret_spans: Vec::new(),
                ignores: Vec::new(),
                excerpt: None,
            }],
            policy: crate::Policy::default(),
            warnings: vec![crate::finding::Warning {
                kind: crate::finding::ProblemKind::Parse,
                path: "bad.yaml".into(),
                message: "cannot parse: line 1".into(),
            }],
            ..ScanOutput::default()
        }
    }

    #[test]
    fn commands_are_escaped_and_suppressed_findings_skipped() {
        let mut hidden = finding("KW004", Severity::Low, 8..12);
        hidden.suppression = Some(Suppression {
            kind: SuppressionKind::Baseline,
            reason: "known".into(),
        });
        let out = output(vec![
            finding("KW001", Severity::High, 8..12),
            finding("KW003", Severity::Medium, 8..12),
            hidden,
        ]);
        let text = render(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "::error file=a%2Cb%3Ac.tf,line=2,col=7,endLine=2,endColumn=11,\
             title=KW001 some-rule::bad: `x|y`, 50%25%0Asecond line"
        );
        assert!(lines[1].starts_with("::warning file=a%2Cb%3Ac.tf,line=2,"));
        assert_eq!(lines[2], "::warning file=bad.yaml::cannot parse: line 1");
        assert!(lines[3].starts_with("keyward: "), "{}", lines[3]);
        assert_eq!(lines.len(), 4, "{text}");
    }

    #[test]
    fn low_and_info_are_notices() {
        let out = output(vec![finding("KW004", Severity::Info, 8..12)]);
        assert!(render(&out).starts_with("::notice file="));
    }

    #[test]
    fn summary_tables_escape_and_cap_rows() {
        let many: Vec<Finding> = (0..MAX_SUMMARY_ROWS + 3)
            .map(|_| finding("KW001", Severity::High, 8..12))
            .collect();
        let md = step_summary(&output(many));
        assert!(
            md.starts_with("## keyward\n\nkeyward: 103 findings"),
            "{md}"
        );
        assert!(md.contains("| high | 103 |\n"), "{md}");
        assert!(md.contains("| critical | 0 |\n"), "{md}");
        assert!(md.contains(
            "| high | KW001 some-rule | `a,b:c.tf`:2 | bad: `x\\|y`, 50% second line |\n"
        ));
        let rows = md
            .lines()
            .filter(|l| l.starts_with("| high | KW001"))
            .count();
        assert_eq!(rows, MAX_SUMMARY_ROWS);
        assert!(md.ends_with("\n… and 3 more\n"), "{md}");
    }

    #[test]
    fn empty_summary_says_so() {
        let md = step_summary(&output(Vec::new()));
        assert!(md.contains("| high | 0 |"));
        assert!(md.ends_with("No findings.\n"));
        assert!(!md.contains("| Rule |"));
    }
}
