//! The HTML renderer: the audit report and the rotation plan as one
//! self-contained page each, from askama templates (`templates/`), which
//! the compiler checks against the views below. Every value a template
//! prints goes through one escaper (`escape::html::Entities`,
//! named in `askama.toml`); a template never receives markup it did not
//! write itself, so nothing is marked safe but the page's own stylesheet.
//!
//! The views hold text ready to print (ages, places, chart geometry): the
//! decisions stay in Rust, the markup in the templates.

use std::collections::BTreeMap;

use askama::Template;

use super::audit::{self, Audit, Entry, Group, KeyRow};
use crate::plan::{KeyEntry, OwnerlessKey, Place, Plan, UserPlan};
use crate::rules::Severity;

/// Errors rendering a page: a template that could not be written out.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("could not render the HTML report: {0}")]
pub struct RenderError(#[from] askama::Error);

/// The audit report as one HTML page.
pub fn audit(a: &Audit) -> Result<String, RenderError> {
    Ok(AuditPage::of(a).render()?)
}

/// The rotation plan as an HTML page of its own, styled as the audit.
pub fn plan(p: &Plan) -> Result<String, RenderError> {
    Ok(PlanPage {
        title: "keyward rotation plan",
        css: CSS,
        plan: PlanView::of(p, 1),
    }
    .render()?)
}

/// Colours from light-to-dark severity, readable on white and distinct for
/// the common colour-vision deficiencies (no red/green pair).
fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#7a0d2b",
        Severity::High => "#d1495b",
        Severity::Medium => "#edae49",
        Severity::Low => "#00798c",
        Severity::Info => "#8d99ae",
    }
}

const CSS: &str = include_str!("../../templates/report.css");

/// A message whose `code` spans (in backticks) become `<code>`: the spans
/// in order, `true` for code. A message with an unpaired backtick is one
/// plain span, so nothing it says is lost.
pub(crate) struct Message(Vec<(String, bool)>);

impl Message {
    fn of(s: &str) -> Message {
        if s.matches('`').count() % 2 == 1 {
            return Message(vec![(s.to_string(), false)]);
        }
        Message(
            s.split('`')
                .enumerate()
                .filter(|(_, part)| !part.is_empty())
                .map(|(i, part)| (part.to_string(), i % 2 == 1))
                .collect(),
        )
    }

    /// The spans, for the `message` macro.
    fn spans(&self) -> &[(String, bool)] {
        &self.0
    }
}

/// A legend entry and a table heading.
struct SeverityView {
    name: &'static str,
    colour: &'static str,
}

fn severities() -> Vec<SeverityView> {
    Severity::ALL
        .iter()
        .map(|s| SeverityView {
            name: s.as_str(),
            colour: severity_colour(*s),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    title: &'static str,
    css: &'static str,
    about: Option<String>,
    headline: String,
    repositories: Vec<RepoView>,
    /// The model's own: nothing in it needs preparing to print.
    divergence: Vec<audit::Divergence>,
    figures: Vec<Figure>,
    keys: Vec<KeyView>,
    /// Whether any key's owner was asked what it may do (`--blast-radius`).
    blast: bool,
    rules: Vec<RuleView>,
    severities: Vec<SeverityView>,
    environments: Vec<EnvView>,
    owners: Vec<OwnerTable>,
    plan: Option<PlanView>,
    files: Vec<FileView>,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    title: &'static str,
    css: &'static str,
    plan: PlanView,
}

struct RepoView {
    name: String,
    /// The commit's first twelve characters.
    commit: Option<String>,
    date: String,
    files: u64,
    total: usize,
    by_severity: [usize; 5],
    keys: usize,
}

struct Figure {
    caption: String,
    chart: Chart,
}

enum Chart {
    /// A sentence where a chart has nothing to draw.
    Empty(&'static str),
    Bars(Bars),
    Histogram(Box<Histogram>),
}

/// Horizontal bars, one row per label, the total written after each bar, so
/// the numbers are readable without hovering.
struct Bars {
    /// The view box, and where the labels end: from the constants in
    /// [`bars`], so the template holds no geometry of its own.
    width: String,
    label_x: String,
    height: usize,
    rows: Vec<BarRow>,
    /// Stacked bars of many severities need their colours named.
    legend: bool,
}

struct BarRow {
    label: String,
    y: usize,
    text_y: usize,
    segments: Vec<Segment>,
    total: usize,
    total_x: String,
}

struct Segment {
    x: String,
    width: String,
    colour: &'static str,
    count: usize,
    severity: &'static str,
}

/// Key ages in bins a third of the rotation limit wide, so the limit falls
/// on a bin edge; bins past the limit are drawn in the critical colour and
/// the limit is a dashed line. Ages beyond twelve bins share the last one.
struct Histogram {
    /// The view box, the axis's ends and the axis caption's place.
    width: String,
    height: String,
    left: String,
    right: String,
    caption_x: String,
    caption_y: String,
    bins: Vec<Bin>,
    ticks: Vec<Tick>,
    /// The x axis, and where the limit's dashed line ends.
    axis_y: String,
    limit_y2: String,
    limit_x: String,
    limit: u64,
    label_x: String,
    anchor: &'static str,
    axis: String,
}

struct Bin {
    x: String,
    y: String,
    width: String,
    height: String,
    colour: &'static str,
    /// `2 keys aged 0–29 days`.
    title: String,
    /// The count written above a bar that has one.
    label: Option<(String, String, usize)>,
}

struct Tick {
    x: String,
    y: String,
    days: u64,
}

struct KeyView {
    key_id: Option<String>,
    secrets: Vec<String>,
    account: Option<String>,
    user: Option<String>,
    status: String,
    age: String,
    over: bool,
    last_used: String,
    can: String,
    findings: usize,
    places: String,
}

struct RuleView {
    id: String,
    name: String,
    severity: &'static str,
    findings: usize,
    keys: usize,
}

struct EnvView {
    label: String,
    findings: usize,
    by_severity: [usize; 5],
}

struct OwnerTable {
    title: &'static str,
    head: &'static str,
    groups: Vec<OwnerRow>,
}

struct OwnerRow {
    /// `None`: findings whose owner is not known.
    label: Option<String>,
    findings: usize,
    keys: usize,
}

struct FileView {
    path: String,
    count: String,
    entries: Vec<EntryView>,
}

struct EntryView {
    line: u64,
    rule: String,
    name: String,
    severity: &'static str,
    message: Message,
    snippet: Option<String>,
}

impl AuditPage {
    fn of(a: &Audit) -> AuditPage {
        let keys = audit::keys(a);
        AuditPage {
            title: "keyward audit report",
            css: CSS,
            about: audit::about(a),
            headline: audit::headline(a, &keys),
            repositories: a.repositories.iter().map(repo_view).collect(),
            divergence: a.divergence.clone(),
            figures: figures(a, &keys),
            blast: keys.iter().any(|k| !k.can.is_empty()),
            keys: keys
                .iter()
                .map(|k| key_view(k, a.max_key_age_days))
                .collect(),
            rules: audit::by_rule(a)
                .into_iter()
                .map(|(g, name, sev)| RuleView {
                    findings: g.findings,
                    keys: g.keys.len(),
                    id: g.label,
                    name,
                    severity: sev.as_str(),
                })
                .collect(),
            severities: severities(),
            environments: audit::by_environment(a)
                .into_iter()
                .map(|g| EnvView {
                    label: audit::env_label(&g.label).to_string(),
                    findings: g.findings,
                    by_severity: g.by_severity,
                })
                .collect(),
            owners: vec![
                owner_table("account", "Account", audit::by_account(a)),
                owner_table("IAM user", "IAM user", audit::by_user(a)),
            ],
            plan: a.plan.as_ref().map(|p| PlanView::of(p, 2)),
            files: files(a),
        }
    }
}

fn repo_view(r: &audit::RepoRow) -> RepoView {
    RepoView {
        name: r.name.clone(),
        commit: r
            .commit
            .as_deref()
            .map(|c| c.get(..12).unwrap_or(c).to_string()),
        date: r.date.clone().unwrap_or_else(|| audit::UNKNOWN.to_string()),
        files: r.files_scanned,
        total: r.by_severity.iter().sum(),
        by_severity: r.by_severity,
        keys: r.keys,
    }
}

fn figures(a: &Audit, keys: &[KeyRow]) -> Vec<Figure> {
    let by_sev = audit::by_severity(&a.findings);
    let per_severity: Vec<(String, Vec<(usize, Severity)>)> = Severity::ALL
        .iter()
        .zip(by_sev)
        .map(|(s, n)| (s.as_str().to_string(), vec![(n, *s)]))
        .collect();
    let per_env: Vec<(String, Vec<(usize, Severity)>)> = audit::by_environment(a)
        .into_iter()
        .map(|g| {
            (
                audit::env_label(&g.label).to_string(),
                Severity::ALL
                    .iter()
                    .zip(g.by_severity)
                    .map(|(s, n)| (n, *s))
                    .collect(),
            )
        })
        .collect();
    let env_chart = if per_env.is_empty() {
        Chart::Empty("No findings.")
    } else {
        Chart::Bars(bars(&per_env, true))
    };
    let ages: Vec<i64> = keys.iter().filter_map(|k| k.age_days).collect();
    let age_chart = if ages.is_empty() {
        Chart::Empty(
            "No key ages are known: the report carries no IAM facts. \
             Scan with an IAM inventory or live IAM to see them.",
        )
    } else {
        Chart::Histogram(Box::new(histogram(&ages, a.max_key_age_days)))
    };
    vec![
        Figure {
            caption: "Findings per severity".into(),
            chart: Chart::Bars(bars(&per_severity, false)),
        },
        Figure {
            caption: "Findings per environment".into(),
            chart: env_chart,
        },
        Figure {
            caption: format!(
                "Key ages against the {}-day rotation limit",
                a.max_key_age_days
            ),
            chart: age_chart,
        },
    ]
}

const CHART_WIDTH: f64 = 420.0;

fn bars(rows: &[(String, Vec<(usize, Severity)>)], legend: bool) -> Bars {
    const ROW: usize = 26;
    const LABEL: f64 = 90.0;
    const BAR: f64 = 280.0;
    let max = rows
        .iter()
        .map(|(_, segments)| segments.iter().map(|s| s.0).sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, (label, segments))| {
            let y = i * ROW + 4;
            let mut x = LABEL;
            let mut drawn = Vec::new();
            for &(n, sev) in segments {
                if n == 0 {
                    continue;
                }
                let w = BAR * (n as f64) / (max as f64);
                drawn.push(Segment {
                    x: format!("{x:.1}"),
                    width: format!("{w:.1}"),
                    colour: severity_colour(sev),
                    count: n,
                    severity: sev.as_str(),
                });
                x += w;
            }
            BarRow {
                label: label.clone(),
                y,
                text_y: y + 15,
                segments: drawn,
                total: segments.iter().map(|s| s.0).sum(),
                total_x: format!("{:.1}", x + 6.0),
            }
        })
        .collect::<Vec<_>>();
    Bars {
        width: format!("{CHART_WIDTH}"),
        label_x: format!("{}", LABEL - 8.0),
        height: rows.len() * ROW + 8,
        rows,
        legend,
    }
}

fn histogram(ages: &[i64], limit: u64) -> Histogram {
    const MAX_BINS: u64 = 12;
    const HEIGHT: f64 = 200.0;
    const LEFT: f64 = 10.0;
    const BOTTOM: f64 = 40.0;
    let width = limit.div_ceil(3).max(1);
    let oldest = ages.iter().copied().max().unwrap_or(0).max(0) as u64;
    // Always show the limit and one bin past it.
    let bins = (oldest / width + 1).max(limit / width + 1).min(MAX_BINS);
    let mut counts = vec![0usize; bins as usize];
    for &age in ages {
        let b = ((age.max(0) as u64) / width).min(bins - 1) as usize;
        if let Some(c) = counts.get_mut(b) {
            *c += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let slot = (CHART_WIDTH - 2.0 * LEFT) / bins as f64;
    let plot = HEIGHT - BOTTOM - 16.0;
    let drawn = counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let start = i as u64 * width;
            let last = i as u64 == bins - 1;
            let x = LEFT + slot * i as f64;
            let h = plot * n as f64 / max as f64;
            let y = HEIGHT - BOTTOM - h;
            let range = if last && oldest >= start + width {
                format!("{start}+")
            } else {
                format!("{start}–{}", start + width - 1)
            };
            Bin {
                x: format!("{:.1}", x + 2.0),
                y: format!("{y:.1}"),
                width: format!("{:.1}", slot - 4.0),
                height: format!("{h:.1}"),
                colour: if start >= limit {
                    severity_colour(Severity::Critical)
                } else {
                    severity_colour(Severity::Low)
                },
                title: format!(
                    "{n} {} aged {range} days",
                    if n == 1 { "key" } else { "keys" }
                ),
                label: (n > 0).then(|| {
                    (
                        format!("{:.1}", x + slot / 2.0),
                        format!("{:.1}", y - 4.0),
                        n,
                    )
                }),
            }
        })
        .collect();
    // Day counts on bin edges, thinned to at most seven so they never overlap.
    let step = bins.div_ceil(7).max(1) as usize;
    let capped = oldest >= bins * width;
    let ticks = (0..=bins)
        .step_by(step)
        .filter(|&i| !(capped && i == bins))
        .map(|i| Tick {
            x: format!("{:.1}", LEFT + slot * i as f64),
            y: format!("{:.1}", HEIGHT - BOTTOM + 14.0),
            days: i * width,
        })
        .collect();
    let lx = LEFT + slot * (limit as f64 / width as f64);
    // The label goes left of the line when it would run off the chart.
    let (label_x, anchor) = if lx + 4.0 + 150.0 <= CHART_WIDTH {
        (lx + 4.0, "start")
    } else {
        (lx - 4.0, "end")
    };
    Histogram {
        width: format!("{CHART_WIDTH}"),
        height: format!("{HEIGHT}"),
        left: format!("{LEFT}"),
        right: format!("{}", CHART_WIDTH - LEFT),
        caption_x: format!("{:.1}", CHART_WIDTH / 2.0),
        caption_y: format!("{:.1}", HEIGHT - 6.0),
        bins: drawn,
        ticks,
        axis_y: format!("{}", HEIGHT - BOTTOM),
        limit_y2: format!("{:.1}", HEIGHT - BOTTOM),
        limit_x: format!("{lx:.1}"),
        limit,
        label_x: format!("{label_x:.1}"),
        anchor,
        axis: if capped {
            format!("age in days (last bar: {} and older)", (bins - 1) * width)
        } else {
            "age in days".to_string()
        },
    }
}

fn key_view(k: &KeyRow, limit: u64) -> KeyView {
    KeyView {
        key_id: k.key_id.clone(),
        secrets: k.secrets.iter().cloned().collect(),
        account: k.account.clone(),
        user: k.iam_user.clone(),
        status: k
            .status
            .clone()
            .unwrap_or_else(|| audit::UNKNOWN.to_string()),
        age: audit::age_text(k.age_days, limit),
        over: k.age_days.is_some_and(|d| d > 0 && d as u64 > limit),
        last_used: audit::last_used_text(k.last_used, k.last_used_where.as_deref()),
        can: audit::can_text(k),
        findings: k.findings,
        places: audit::places_text(&k.places),
    }
}

fn owner_table(title: &'static str, head: &'static str, groups: Vec<Group>) -> OwnerTable {
    OwnerTable {
        title,
        head,
        groups: groups
            .into_iter()
            .map(|g| OwnerRow {
                findings: g.findings,
                keys: g.keys.len(),
                label: (g.label != audit::UNKNOWN).then_some(g.label),
            })
            .collect(),
    }
}

/// Every finding, grouped by file: what an auditor acts on, line by line.
fn files(a: &Audit) -> Vec<FileView> {
    let mut by_file: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in &a.findings {
        by_file.entry(e.path.as_str()).or_default().push(e);
    }
    by_file
        .into_iter()
        .map(|(path, mut entries)| {
            entries.sort_by(|x, y| (x.line, &x.rule).cmp(&(y.line, &y.rule)));
            FileView {
                path: path.to_string(),
                count: format!(
                    "{} finding{}",
                    entries.len(),
                    crate::shown::s(entries.len())
                ),
                entries: entries
                    .into_iter()
                    .map(|e| EntryView {
                        line: e.line,
                        rule: e.rule.clone(),
                        name: e.name.clone(),
                        severity: e.severity.as_str(),
                        message: Message::of(&e.message),
                        snippet: e.snippet.clone(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The plan section, at heading level `h1` (its users one level below).
struct PlanView {
    h1: usize,
    h2: usize,
    iam: bool,
    users: Vec<UserView>,
    ownerless: Vec<OwnerlessView>,
}

struct UserView {
    user: String,
    account: String,
    urgent: Option<Message>,
    keep: Option<String>,
    keep_reason: Message,
    keys: Vec<PlanKeyView>,
    steps: Vec<StepView>,
}

struct PlanKeyView {
    key_id: String,
    /// ` (keep)`, ` (exposed)` or nothing.
    mark: Mark,
    status: String,
    age_days: i64,
    last_used: String,
    places: Vec<String>,
}

#[derive(PartialEq)]
enum Mark {
    Keep,
    Exposed,
    None,
}

struct StepView {
    action: &'static str,
    text: Message,
    warning: Option<Message>,
    commands: Option<String>,
}

struct OwnerlessView {
    key_id: String,
    why: Message,
    places: Vec<String>,
}

impl PlanView {
    fn of(plan: &Plan, level: usize) -> PlanView {
        let h1 = level.clamp(1, 5);
        PlanView {
            h1,
            h2: h1 + 1,
            iam: plan.iam,
            users: plan.users.iter().map(user_view).collect(),
            ownerless: plan.ownerless.iter().map(ownerless_view).collect(),
        }
    }
}

/// `path:3,4` per file, in order.
fn places_view(places: &[Place]) -> Vec<String> {
    crate::plan::by_file(places)
        .into_iter()
        .map(|(path, lines)| format!("{path}:{lines}"))
        .collect()
}

fn user_view(u: &UserPlan) -> UserView {
    UserView {
        user: u.user.clone(),
        account: u.account.clone(),
        urgent: u.urgent.as_deref().map(Message::of),
        keep: u.keep.clone(),
        keep_reason: Message::of(&u.keep_reason),
        keys: u.keys.iter().map(plan_key_view).collect(),
        steps: u
            .steps
            .iter()
            .map(|s| StepView {
                action: s.action.as_str(),
                text: Message::of(&s.text),
                warning: s.warning.as_deref().map(Message::of),
                commands: (!s.commands.is_empty()).then(|| s.commands.join("\n")),
            })
            .collect(),
    }
}

fn plan_key_view(k: &KeyEntry) -> PlanKeyView {
    PlanKeyView {
        key_id: k.key_id.clone(),
        mark: if k.keep {
            Mark::Keep
        } else if k.exposed {
            Mark::Exposed
        } else {
            Mark::None
        },
        status: k.status.as_str().to_string(),
        age_days: k.age_days,
        last_used: crate::plan::last_used(k),
        places: places_view(&k.places),
    }
}

fn ownerless_view(k: &OwnerlessKey) -> OwnerlessView {
    OwnerlessView {
        key_id: k.key_id.clone(),
        why: Message::of(&k.why),
        places: places_view(&k.places),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_keeps_its_text_and_marks_its_code_spans() {
        let m = Message::of("key `AKIA…` in `a.tf` is old");
        assert_eq!(
            m.spans(),
            &[
                ("key ".to_string(), false),
                ("AKIA…".to_string(), true),
                (" in ".to_string(), false),
                ("a.tf".to_string(), true),
                (" is old".to_string(), false),
            ]
        );
        // An unpaired backtick: the whole text, plain.
        let odd = Message::of("a ` b");
        assert_eq!(odd.spans(), &[("a ` b".to_string(), false)]);
    }

    #[test]
    fn the_histogram_marks_keys_over_the_limit() {
        let h = histogram(&[10, 100, 400], 90);
        // 30-day bins, capped at twelve: 400 days shares the last bin.
        assert_eq!(h.bins.len(), 12);
        assert_eq!(h.axis, "age in days (last bar: 330 and older)");
        let last = h.bins.last().expect("bins");
        assert_eq!(last.title, "1 key aged 330+ days");
        assert_eq!(h.limit, 90);
        // Bins from 90 days on use the critical colour; 0–29 does not.
        assert_eq!(h.bins[3].title, "1 key aged 90–119 days");
        assert_eq!(h.bins[3].colour, severity_colour(Severity::Critical));
        assert_eq!(h.bins[0].title, "1 key aged 0–29 days");
        assert_eq!(h.bins[0].colour, severity_colour(Severity::Low));
        assert_eq!(h.bins[1].title, "0 keys aged 30–59 days");
        assert!(
            h.bins[1].label.is_none(),
            "an empty bin has no count written"
        );
        // The limit's dashed line is on the edge of the fourth bin: twelve
        // bins of 400/12 from x = 10.
        assert_eq!(h.limit_x, "110.0");
        // Day labels are thinned to every second edge.
        assert_eq!(h.ticks[1].days, 60);
    }

    #[derive(Template)]
    #[template(source = "{% include \"figure.html\" %}", ext = "html")]
    struct FigureOnly {
        f: Figure,
        severities: Vec<SeverityView>,
    }

    #[test]
    fn the_rendered_histogram_is_the_view() {
        let page = Figure {
            caption: "ages".into(),
            chart: Chart::Histogram(Box::new(histogram(&[10, 100, 400], 90))),
        };
        let svg = FigureOnly {
            f: page,
            severities: severities(),
        }
        .render()
        .expect("renders");
        assert_eq!(svg.matches("<rect").count(), 12, "{svg}");
        assert!(svg.contains("rotation limit: 90 days"), "{svg}");
        assert!(svg.contains("(last bar: 330 and older)"), "{svg}");
    }

    #[test]
    fn markup_in_any_value_is_text() {
        let mut plan = Plan {
            iam: true,
            users: vec![],
            ownerless: vec![OwnerlessKey {
                key_id: "<script>alert(1)</script>".into(),
                account: None,
                why: "see `<img src=x onerror=alert(1)>` & \"quotes\"".into(),
                places: vec![Place {
                    path: "x'\".tf".into(),
                    line: 3,
                    fix: None,
                    repository: None,
                }],
            }],
        };
        let page = super::plan(&plan).expect("renders");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            page.contains(
                "<code>&lt;img src=x onerror=alert(1)&gt;</code> &amp; &quot;quotes&quot;"
            )
        );
        assert!(page.contains("<code>x&#39;&quot;.tf:3</code>"));
        plan.ownerless.clear();
        let empty = super::plan(&plan).expect("renders");
        assert!(empty.contains("<p class=\"empty\">No keys found.</p>\n</section>\n</main>"));
        assert!(empty.ends_with("</html>\n"));
    }
}
