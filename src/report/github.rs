//! `--format github`: GitHub Actions workflow commands, which the runner
//! turns into annotations on the changed files, and a Markdown job summary.

use super::escape::{md, workflow};
use super::human::summary_line;
use super::{Region, regions};
use crate::finding::Finding;
use crate::output::ScanOutput;
use crate::rules::Severity;

/// Rows of the summary's findings table; a job summary is capped at 1 MiB
/// and a long table is unreadable anyway.
const MAX_SUMMARY_ROWS: usize = 100;

/// GitHub turns at most this many workflow commands of each level (error,
/// warning, notice) into annotations per step and drops the rest without a
/// word; keyward writes the most severe first and says what it left out.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

pub fn render(out: &ScanOutput) -> String {
    let annotations = annotations(out);
    let mut text = String::new();
    for line in &annotations.written {
        text.push_str(line);
    }
    if let Some(note) = annotations.left_out.log_line() {
        text.push_str(&note);
        text.push('\n');
    }
    text.push_str(&summary_line(out));
    text.push('\n');
    text
}

/// The workflow commands to write, most severe first, at most
/// [`ANNOTATIONS_PER_LEVEL`] of each level, and a count of the rest.
struct Annotations {
    written: Vec<String>,
    left_out: LeftOut,
}

/// Annotations past GitHub's per-step limits, by level.
#[derive(Debug, Default, PartialEq, Eq)]
struct LeftOut {
    errors: usize,
    warnings: usize,
    notices: usize,
    total: usize,
}

impl LeftOut {
    fn count(&self) -> usize {
        self.errors + self.warnings + self.notices
    }

    fn levels(&self) -> String {
        [
            (self.errors, "error"),
            (self.warnings, "warning"),
            (self.notices, "notice"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", crate::shown::s(*n)))
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// A plain log line (not a workflow command, which would be one more
    /// annotation to drop).
    fn log_line(&self) -> Option<String> {
        (self.count() > 0).then(|| {
            format!(
                "keyward: {} of {} annotations not shown ({}): GitHub shows at most {ANNOTATIONS_PER_LEVEL} errors, \
                 {ANNOTATIONS_PER_LEVEL} warnings and {ANNOTATIONS_PER_LEVEL} notices per step, so the most severe were written; \
                 every finding is in the job summary and the SARIF report (`--format sarif`)",
                self.count(),
                self.total,
                self.levels()
            )
        })
    }
}

fn annotations(out: &ScanOutput) -> Annotations {
    let mut all: Vec<(&'static str, String)> = Vec::new();
    for (f, r) in shown(out) {
        let path = out.files.get(f.file).map_or("", |s| s.path.as_str());
        all.push((
            command(f.severity),
            format!(
                "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                command(f.severity),
                workflow::property(path),
                r.line,
                r.column,
                r.end_line,
                r.end_column,
                workflow::property(&format!("{} {}", f.rule, f.name)),
                workflow::data(&super::message_with_provenance(f)),
            ),
        ));
    }
    let mut more: Vec<_> = out.more.iter().collect();
    more.sort_by_key(|m| std::cmp::Reverse(m.severity));
    for m in more {
        let path = out.files.get(m.file).map_or("", |s| s.path.as_str());
        all.push((
            command(m.severity),
            format!(
                "::{} file={},title={}::{}\n",
                command(m.severity),
                workflow::property(path),
                workflow::property(&format!("{} {}", m.rule, m.name)),
                workflow::data(&format!(
                    "{} more findings like these in this file, not annotated one by one",
                    m.count
                )),
            ),
        ));
    }
    for e in &out.warnings {
        all.push((
            "warning",
            format!(
                "::warning file={}::{}\n",
                workflow::property(&e.path),
                workflow::data(&e.message)
            ),
        ));
    }
    let mut left_out = LeftOut {
        total: all.len(),
        ..LeftOut::default()
    };
    let mut written = Vec::new();
    for (level, line) in all {
        let dropped = match level {
            "error" => &mut left_out.errors,
            "warning" => &mut left_out.warnings,
            _ => &mut left_out.notices,
        };
        let already = written.iter().filter(|(l, _)| *l == level).count();
        if already < ANNOTATIONS_PER_LEVEL {
            written.push((level, line));
        } else {
            *dropped += 1;
        }
    }
    Annotations {
        written: written.into_iter().map(|(_, line)| line).collect(),
        left_out,
    }
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
    let left_out = annotations(out).left_out;
    if left_out.count() > 0 {
        let listed = if shown.len() <= MAX_SUMMARY_ROWS {
            "the table below and the SARIF report list every finding"
        } else {
            "the SARIF report lists every finding; the table below the most severe"
        };
        md.push_str(&format!(
            "> **{} of {} annotations are not on the pull request** ({}): GitHub shows at most \
             {ANNOTATIONS_PER_LEVEL} errors, {ANNOTATIONS_PER_LEVEL} warnings and {ANNOTATIONS_PER_LEVEL} notices \
             per step, so keyward wrote the most severe; {listed}.\n\n",
            left_out.count(),
            left_out.total,
            left_out.levels()
        ));
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

/// Unsuppressed findings with their regions, most severe first (in scan
/// order within a severity): an accepted finding must not annotate a pull
/// request, and the annotations GitHub keeps should be the ones that matter.
fn shown(out: &ScanOutput) -> Vec<(&Finding, Region)> {
    let mut shown: Vec<_> = out
        .findings
        .iter()
        .zip(regions(&out.files, &out.findings))
        .filter(|(f, _)| f.suppression.is_none())
        .collect();
    shown.sort_by_key(|(f, _)| std::cmp::Reverse(f.severity));
    shown
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
    use crate::output::Summary;
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
    fn most_severe_first_within_githubs_limits_and_the_rest_counted() {
        let mut findings: Vec<Finding> = (0..25)
            .map(|_| finding("KW001", Severity::High, 8..12))
            .collect();
        findings.extend((0..3).map(|_| finding("KW008", Severity::Medium, 8..12)));
        findings.extend((0..12).map(|_| finding("KW004", Severity::Low, 8..12)));
        // Found last, written first.
        findings.push(finding("KW002", Severity::Critical, 8..12));
        let out = output(findings);
        let text = render(&out);
        let commands: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
        let count = |level: &str| {
            commands
                .iter()
                .filter(|l| l.starts_with(&format!("::{level} ")))
                .count()
        };
        assert_eq!(
            (count("error"), count("warning"), count("notice")),
            (ANNOTATIONS_PER_LEVEL, 4, ANNOTATIONS_PER_LEVEL),
            "{text}"
        );
        assert!(commands[0].contains("title=KW002 "), "{}", commands[0]);
        // The file warning (a parse problem) still fits among the warnings.
        assert!(text.contains("::warning file=bad.yaml::"), "{text}");
        let note = text
            .lines()
            .find(|l| l.contains("annotations not shown"))
            .expect("a line about the annotations left out");
        assert!(
            note.starts_with("keyward: 18 of 42 annotations not shown (16 errors, 2 notices)"),
            "{note}"
        );
        let md = step_summary(&out);
        assert!(
            md.contains(
                "**18 of 42 annotations are not on the pull request** (16 errors, 2 notices)"
            ),
            "{md}"
        );
        assert!(md.contains("the table below and the SARIF report list every finding"));
        let first_row = md.lines().find(|l| l.contains("| KW")).expect("a row");
        assert!(first_row.starts_with("| critical | KW002 "), "{first_row}");
    }

    #[test]
    fn within_the_limits_nothing_is_said() {
        let out = output(vec![finding("KW001", Severity::High, 8..12)]);
        assert!(!render(&out).contains("not shown"));
        assert!(!step_summary(&out).contains("not on the pull request"));
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
