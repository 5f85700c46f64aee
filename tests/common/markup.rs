//! keyward's rendered reports read back as structure: the headings,
//! sections, tables and code blocks of its Markdown, the elements of its
//! HTML. Tests compare these exact parts instead of looking for a substring
//! anywhere in the page.

/// The level of a Markdown heading line (`## x` is 2), `None` for any other.
fn heading_level(line: &str) -> Option<usize> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    ((1..=6).contains(&level) && line[level..].starts_with(' ')).then_some(level)
}

/// Whether a line opens or closes a fenced code block.
fn is_fence(line: &str) -> bool {
    line.trim_start().starts_with("```")
}

/// `lines` with the blank lines at either end dropped.
fn trimmed<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines[s..=e].to_vec(),
        _ => Vec::new(),
    }
}

/// The heading lines among `lines`, in order, those in fenced code left out.
pub fn md_headings<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut fenced = false;
    let mut out = Vec::new();
    for &line in lines {
        if is_fence(line) {
            fenced = !fenced;
        } else if !fenced && heading_level(line).is_some() {
            out.push(line);
        }
    }
    out
}

/// The lines of a Markdown section, its sub-sections included: each heading
/// of `path` (a whole line, e.g. "## Keys") is found, exactly once, in the
/// section of the one before (the whole text for the first); a section runs
/// to the next heading of its level or above. Blank lines at either end are
/// dropped; the heading itself is not part of the section.
pub fn md_section<'a>(md: &'a str, path: &[&str]) -> Vec<&'a str> {
    let mut lines: Vec<&str> = md.lines().collect();
    for heading in path {
        let level = heading_level(heading).unwrap_or_else(|| panic!("not a heading: {heading}"));
        let mut fenced = false;
        let mut at = Vec::new();
        for (i, &line) in lines.iter().enumerate() {
            if is_fence(line) {
                fenced = !fenced;
            } else if !fenced && line == *heading {
                at.push(i);
            }
        }
        assert_eq!(at.len(), 1, "{heading:?} {} times in:\n{md}", at.len());
        let body = &lines[at[0] + 1..];
        let mut fenced = false;
        let end = body
            .iter()
            .position(|&l| {
                if is_fence(l) {
                    fenced = !fenced;
                }
                !fenced && heading_level(l).is_some_and(|n| n <= level)
            })
            .unwrap_or(body.len());
        lines = trimmed(&body[..end]);
    }
    lines
}

/// The lines of a section before its first sub-heading, blank lines at
/// either end dropped.
pub fn md_lead<'a>(section: &[&'a str]) -> Vec<&'a str> {
    let end = section
        .iter()
        .position(|l| heading_level(l).is_some())
        .unwrap_or(section.len());
    trimmed(&section[..end])
}

/// A Markdown table: the header's cells, the alignment row's, and each
/// body row's, trimmed.
#[derive(Debug)]
pub struct MdTable<'a> {
    pub header: Vec<&'a str>,
    pub align: Vec<&'a str>,
    pub rows: Vec<Vec<&'a str>>,
}

impl<'a> MdTable<'a> {
    /// The one row whose first cell is `first`.
    pub fn row(&self, first: &str) -> &[&'a str] {
        let found: Vec<&Vec<&str>> = self.rows.iter().filter(|r| r[0] == first).collect();
        assert_eq!(found.len(), 1, "rows starting {first:?} in {self:#?}");
        found[0]
    }

    fn index(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", self.header))
    }

    /// The cells of the column headed `name`, top to bottom.
    pub fn column(&self, name: &str) -> Vec<&'a str> {
        let i = self.index(name);
        self.rows.iter().map(|r| r[i]).collect()
    }

    /// The cell in the column headed `name` of the one row whose first
    /// cell is `first`.
    pub fn cell(&self, first: &str, name: &str) -> &'a str {
        self.row(first)[self.index(name)]
    }
}

fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(str::trim).collect()
}

/// The first table in `lines`: its consecutive `|` lines.
pub fn md_table<'a>(lines: &[&'a str]) -> MdTable<'a> {
    let start = lines
        .iter()
        .position(|l| l.starts_with('|'))
        .unwrap_or_else(|| panic!("no table in {lines:#?}"));
    let rows: Vec<Vec<&str>> = lines[start..]
        .iter()
        .take_while(|l| l.starts_with('|'))
        .map(|l| cells(l))
        .collect();
    assert!(
        rows.len() >= 2,
        "a table without its alignment row: {rows:?}"
    );
    let width = rows[0].len();
    for r in &rows {
        assert_eq!(r.len(), width, "a row of another width: {r:?} in {rows:?}");
    }
    let mut rows = rows.into_iter();
    MdTable {
        header: rows.next().expect("header"),
        align: rows.next().expect("alignment"),
        rows: rows.collect(),
    }
}

/// The lines of each fenced code block in `lines`, the block's indentation
/// removed.
pub fn md_code_blocks<'a>(lines: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for &line in lines {
        match open.as_mut() {
            None if is_fence(line) => {
                open = Some((line.len() - line.trim_start().len(), Vec::new()));
            }
            None => {}
            Some(_) if is_fence(line) => blocks.push(open.take().expect("open").1),
            Some((indent, body)) => body.push(line.get(*indent..).unwrap_or("")),
        }
    }
    assert!(open.is_none(), "an unclosed code block in {lines:#?}");
    blocks
}

/// Every `<tag …>…</tag>` element of `html`, whole, in document order. For
/// the elements that do not nest in keyward's pages: headings, `section`,
/// `figure`, `tr`, `td`, `li`, `code`, SVG `text` and `title` ….
pub fn html_elements<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    regex::Regex::new(&format!(r"(?s)<{tag}(?:\s[^>]*)?>.*?</{tag}>"))
        .expect("regex")
        .find_iter(html)
        .map(|m| m.as_str())
        .collect()
}

/// An element's opening tag, attributes and all.
pub fn html_open_tag(element: &str) -> &str {
    let end = element.find('>').expect("an opening tag");
    &element[..=end]
}

/// What an element holds, between its opening and its closing tag.
pub fn html_inner(element: &str) -> &str {
    let start = html_open_tag(element).len();
    let end = element.rfind("</").expect("a closing tag");
    &element[start..end]
}

/// The one `<section>` of `html` whose first `<h2>` is `<h2>{title}</h2>`.
pub fn html_section<'a>(html: &'a str, title: &str) -> &'a str {
    let heading = format!("<h2>{title}</h2>");
    let found: Vec<&str> = html_elements(html, "section")
        .into_iter()
        .filter(|s| html_elements(s, "h2").first() == Some(&heading.as_str()))
        .collect();
    assert_eq!(found.len(), 1, "sections titled {title:?}: {html}");
    found[0]
}

/// The body rows of the tables in `html`: each `<tr>` that has `<td>`
/// cells, as its cells, whole.
pub fn html_rows(html: &str) -> Vec<Vec<&str>> {
    html_elements(html, "tr")
        .into_iter()
        .map(|tr| html_elements(tr, "td"))
        .filter(|cells| !cells.is_empty())
        .collect()
}
