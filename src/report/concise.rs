//! `--format concise`: one line per finding, `path:line:col: RULE [severity]
//! message`, as compilers and ruff print them (editors and `grep` read it),
//! then warnings and the summary line.

use super::{printable, regions};
use crate::output::ScanOutput;

pub fn render(out: &ScanOutput) -> String {
    let regions = regions(&out.files, &out.findings);
    let mut text = String::new();
    for (f, r) in out.findings.iter().zip(regions) {
        if f.suppression.is_some() {
            continue;
        }
        let path = out.files.get(f.file).map_or("", |s| s.path.as_str());
        text.push_str(&format!(
            "{}:{}:{}: {} [{}] {}\n",
            printable(path),
            r.line,
            r.column,
            f.rule,
            f.severity.as_str(),
            printable(&f.message)
        ));
    }
    for m in &out.more {
        let path = out.files.get(m.file).map_or("", |s| s.path.as_str());
        text.push_str(&format!(
            "{}: {} [{}] {} more not shown (per-file cap)\n",
            printable(path),
            m.rule,
            m.severity.as_str(),
            m.count
        ));
    }
    for e in &out.warnings {
        text.push_str(&format!(
            "warning: {}: {}\n",
            printable(&e.path),
            printable(&e.message)
        ));
    }
    text.push_str(&super::human::summary_line(out));
    text.push('\n');
    text
}
