//! `keyward.toml`: found by walking up from the scanned path, or named with
//! `--config`. Strict: an unknown key, a bad glob, a bad severity or an
//! unknown rule is an error with a span into the file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use toml::Spanned;

use crate::severity::Severity;

pub const FILE_NAMES: [&str; 2] = ["keyward.toml", ".keyward.toml"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    scan: RawScan,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<RawRuleSetting>>,
    #[serde(default)]
    allow: Vec<Spanned<RawAllow>>,
    #[serde(default)]
    iam: RawIam,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIam {
    inventory: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScan {
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    max_file_size: Option<Spanned<u64>>,
    include_placeholders: Option<Spanned<bool>>,
    no_ignore: Option<Spanned<bool>>,
    baseline: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    allowed_accounts: Vec<Spanned<String>>,
    max_key_age_days: Option<Spanned<i64>>,
    max_unused_days: Option<Spanned<i64>>,
    fail_on: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRuleSetting {
    Text(String),
    Table(RawRuleTable),
    /// Anything else, said with a message of our own instead of serde's
    /// "did not match any variant".
    Other(#[allow(dead_code)] toml::Value),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleTable {
    // A plain String: `Spanned` cannot be read inside an untagged enum.
    severity: Option<String>,
    enabled: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAllow {
    key_id: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    fingerprint: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    reason: String,
}

/// What `[rules]` says about one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOverride {
    pub enabled: bool,
    pub severity: Option<Severity>,
    /// Where in the config file it was said, for errors about unknown rules.
    pub span: Range<usize>,
}

/// One `[[allow]]` entry: a key ID, a path glob or a fingerprint, or a key
/// ID and a path glob together (that key in those files).
#[derive(Debug, Clone)]
pub struct AllowEntry {
    pub target: AllowTarget,
    /// Rule IDs it applies to; empty: all.
    pub rules: Vec<String>,
    pub reason: String,
    /// The entry's `[[allow]]` header in the file.
    pub span: Range<usize>,
}

/// The largest number of days `max-key-age-days` and `max-unused-days`
/// take: a hundred years.
const MAX_DAYS: i64 = 36_500;

/// Where each setting was written, for findings about a configuration
/// (`KW015` points at the line that loosened it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    pub exclude: Vec<Range<usize>>,
    pub include: Vec<Range<usize>>,
    pub rules_dir: Option<Range<usize>>,
    pub baseline: Option<Range<usize>>,
    pub inventory: Option<Range<usize>>,
    pub fail_on: Option<Range<usize>>,
    pub allowed_accounts: Vec<Range<usize>>,
    pub max_key_age_days: Option<Range<usize>>,
    pub max_unused_days: Option<Range<usize>>,
    pub max_file_size: Option<Range<usize>>,
    pub include_placeholders: Option<Range<usize>>,
    pub no_ignore: Option<Range<usize>>,
    /// The first of `[rules] select`, `extend-select`, `ignore`.
    pub selection: Option<Range<usize>>,
}

/// What an `[[allow]]` entry accepts: every condition given must hold.
#[derive(Debug, Clone, Default)]
pub struct AllowTarget {
    pub key_id: Option<String>,
    pub path: Option<AllowPath>,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AllowPath {
    pub glob: String,
    pub matcher: globset::GlobMatcher,
}

impl PartialEq for AllowTarget {
    fn eq(&self, other: &Self) -> bool {
        self.key_id == other.key_id
            && self.path.as_ref().map(|p| &p.glob) == other.path.as_ref().map(|p| &p.glob)
            && self.fingerprint == other.fingerprint
    }
}

impl std::fmt::Display for AllowTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(k) = &self.key_id {
            parts.push(format!("key {k}"));
        }
        if let Some(p) = &self.path {
            parts.push(format!("path `{}`", p.glob));
        }
        if let Some(fp) = &self.fingerprint {
            parts.push(format!("fingerprint {fp}"));
        }
        f.write_str(&parts.join(" in "))
    }
}

/// TOML's type errors in the words of the file, not of serde's data model
/// (`invalid type: string "soon", expected i64` reads "found the text
/// "soon", expected a whole number").
fn plain_type_error(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_string();
    };
    let Some((found, expected)) = rest.split_once(", expected ") else {
        return message.to_string();
    };
    let found = match found.split_once(' ') {
        Some(("string", value)) => format!("the text {value}"),
        Some(("integer" | "floating", value)) => format!("the number {}", value.trim_matches('`')),
        Some(("boolean", value)) => format!("`{}`", value.trim_matches('`')),
        _ => match found {
            "sequence" => "a list".to_string(),
            "map" => "a table".to_string(),
            other => other.to_string(),
        },
    };
    let expected = match expected {
        "i64" | "u64" | "u32" | "usize" | "i32" | "u16" | "u8" => "a whole number",
        "a sequence" => "a list (`[\"…\"]`)",
        "a map" => "a table",
        "a string" => "text in quotes",
        "a boolean" => "`true` or `false`",
        other => other,
    };
    format!("found {found}, expected {expected}")
}

/// The rotation limit (`max-key-age-days`): AWS's own IAM best practice.
pub const DEFAULT_MAX_KEY_AGE_DAYS: i64 = 90;
/// How long an Active key may go unused (`max-unused-days`).
pub const DEFAULT_MAX_UNUSED_DAYS: i64 = 90;

/// The effective configuration: defaults, then the file, then flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// Where relative globs and directories are anchored.
    pub root: PathBuf,
    pub exclude: Vec<String>,
    pub include: Vec<String>,
    pub exclude_set: GlobSet,
    pub include_set: Option<GlobSet>,
    pub max_file_size: u64,
    pub include_placeholders: bool,
    pub no_ignore: bool,
    pub allowed_accounts: Vec<String>,
    pub max_key_age_days: i64,
    pub max_unused_days: i64,
    pub fail_on: crate::severity::FailOn,
    pub rules: BTreeMap<String, RuleOverride>,
    pub rules_dir: Option<PathBuf>,
    /// `[rules] select`, `extend-select` and `ignore`.
    pub selection: crate::rules::select::Selection,
    /// `[scan] baseline`: accepted findings (anchored at `root`).
    pub baseline: Option<PathBuf>,
    /// `[iam] inventory`: IAM facts for every scan that names no other
    /// source (anchored at `root`).
    pub inventory: Option<PathBuf>,
    pub allow: Vec<AllowEntry>,
    /// The file's text, for errors raised after loading (unknown rules).
    pub source: Option<NamedSource<String>>,
    pub spans: Spans,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            root: PathBuf::from("."),
            exclude: Vec::new(),
            include: Vec::new(),
            exclude_set: GlobSet::empty(),
            include_set: None,
            max_file_size: crate::source::DEFAULT_MAX_FILE_SIZE,
            include_placeholders: false,
            no_ignore: false,
            allowed_accounts: Vec::new(),
            max_key_age_days: DEFAULT_MAX_KEY_AGE_DAYS,
            max_unused_days: DEFAULT_MAX_UNUSED_DAYS,
            fail_on: crate::severity::FailOn::At(Severity::Low),
            rules: BTreeMap::new(),
            rules_dir: None,
            selection: crate::rules::select::Selection::default(),
            baseline: None,
            inventory: None,
            allow: Vec::new(),
            source: None,
            spans: Spans::default(),
        }
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid configuration {origin}: {message}")]
#[diagnostic(code(keyward::config))]
pub struct ConfigError {
    pub origin: String,
    pub message: String,
    #[source_code]
    pub src: Option<NamedSource<String>>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl ConfigError {
    fn at(
        src: &NamedSource<String>,
        origin: &str,
        message: String,
        span: Option<Range<usize>>,
        label: &str,
    ) -> Box<Self> {
        Box::new(ConfigError {
            origin: origin.to_string(),
            message,
            src: Some(src.clone()),
            span: span.map(|r| SourceSpan::new(r.start.into(), r.end - r.start)),
            label: label.to_string(),
            help: None,
        })
    }

    fn plain(origin: &str, message: String) -> Box<Self> {
        Box::new(ConfigError {
            origin: origin.to_string(),
            message,
            src: None,
            span: None,
            label: String::new(),
            help: None,
        })
    }

    /// An error about a span of an already loaded configuration.
    pub fn in_config(
        config: &Config,
        message: String,
        span: Range<usize>,
        label: &str,
    ) -> Box<Self> {
        let origin = config
            .path
            .as_ref()
            .map_or_else(|| "configuration".to_string(), |p| p.display().to_string());
        match &config.source {
            Some(src) => ConfigError::at(src, &origin, message, Some(span), label),
            None => ConfigError::plain(&origin, message),
        }
    }
}

/// The config file for a scan: `explicit` if given, else the first
/// `keyward.toml`/`.keyward.toml` found walking up from `start`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(start).ok()?;
    let mut dir = if abs.is_dir() {
        Some(abs.as_path())
    } else {
        abs.parent()
    };
    while let Some(d) = dir {
        for name in FILE_NAMES {
            let candidate = d.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        dir = d.parent();
    }
    None
}

/// Reads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, Box<ConfigError>> {
    let origin = crate::shown::shown_path(path);
    let text = crate::named_file::read_text(path, crate::named_file::MAX_NAMED_FILE)
        .map_err(|e| ConfigError::plain(&origin, format!("cannot read: {e}")))?;
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let repo = repository_root(&root);
    let mut config = parse_within(&origin, &text, &root, &repo)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// The repository a configuration directory belongs to: the nearest
/// ancestor with a `.git` entry, else the directory itself. Paths in the
/// configuration must stay inside it.
pub fn repository_root(dir: &Path) -> PathBuf {
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut cur = Some(abs.as_path());
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return d.to_path_buf();
        }
        cur = d.parent();
    }
    abs
}

/// Parses configuration text; `root` anchors relative paths, which must
/// stay inside `root` itself.
#[cfg(any(test, feature = "internals"))]
pub fn parse(origin: &str, text: &str, root: &Path) -> Result<Config, Box<ConfigError>> {
    parse_within(origin, text, root, root)
}

/// `a/./b/../c` → `a/c`, without the file system; `None` when `..` climbs
/// above the start.
fn lexical(p: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return None;
                }
                out.pop();
                depth -= 1;
            }
            Component::Normal(n) => {
                out.push(n);
                depth += 1;
            }
            Component::RootDir | Component::Prefix(_) => out.push(c.as_os_str()),
        }
    }
    Some(out)
}

/// Why a path written in the configuration may not be used, if it may not:
/// absolute, or leaving `repo` by `..` or through a symlink. A change to the
/// repository must not make keyward read policy from elsewhere on the
/// runner.
pub fn escapes(value: &str, root: &Path, repo: &Path) -> Option<String> {
    let p = Path::new(value);
    let windows_drive = value.len() >= 2 && value.as_bytes()[1] == b':';
    if p.is_absolute() || value.starts_with('/') || value.starts_with('\\') || windows_drive {
        return Some("an absolute path; paths here are relative to the configuration file and stay in the repository".into());
    }
    if value.split(['/', '\\']).any(|c| c == "..") {
        let abs_root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let abs_repo = std::path::absolute(repo).unwrap_or_else(|_| repo.to_path_buf());
        let joined = lexical(&abs_root.join(p));
        let repo_n = lexical(&abs_repo);
        match (joined, repo_n) {
            (Some(j), Some(r)) if j.starts_with(&r) => {}
            _ => return Some("`..` leads out of the repository".into()),
        }
    }
    let target = root.join(p);
    if let (Ok(real), Ok(real_repo)) = (std::fs::canonicalize(&target), std::fs::canonicalize(repo))
        && !real.starts_with(&real_repo)
    {
        return Some("a symlink leads out of the repository".into());
    }
    None
}

/// [`parse`], with the repository the configuration belongs to.
pub fn parse_within(
    origin: &str,
    text: &str,
    root: &Path,
    repo: &Path,
) -> Result<Config, Box<ConfigError>> {
    // What an error shows of the file is masked: `--config` may name a file
    // that holds credentials, and a parse error must not print them.
    let src =
        NamedSource::new(origin, crate::detect::masked_for_errors(text)).with_language("toml");
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        ConfigError::at(
            &src,
            origin,
            crate::detect::masked_for_errors(&plain_type_error(e.message())),
            e.span(),
            "here",
        )
    })?;
    let mut config = Config {
        root: root.to_path_buf(),
        source: Some(src.clone()),
        ..Config::default()
    };
    let reader = Reader {
        src,
        origin,
        root,
        repo,
    };
    reader.scan(&raw.scan, &mut config)?;
    if let Some(i) = &raw.iam.inventory {
        config.inventory = Some(reader.confined(i, "inventory")?);
        config.spans.inventory = Some(i.span());
    }
    reader.policy(&raw.policy, &mut config)?;
    for (key, setting) in &raw.rules {
        reader.rule_setting(key, setting, &mut config)?;
    }
    for entry in &raw.allow {
        config.allow.push(reader.allow_entry(entry)?);
    }
    Ok(config)
}

/// Checks a configuration's values and says what is wrong where.
struct Reader<'a> {
    /// The masked text errors show.
    src: NamedSource<String>,
    origin: &'a str,
    /// The configuration's directory, and the repository's top.
    root: &'a Path,
    repo: &'a Path,
}

impl Reader<'_> {
    fn error(&self, message: String, span: Range<usize>, label: &str) -> Box<ConfigError> {
        ConfigError::at(&self.src, self.origin, message, Some(span), label)
    }

    fn globs(&self, list: &[Spanned<String>]) -> Result<(Vec<String>, GlobSet), Box<ConfigError>> {
        let mut builder = GlobSetBuilder::new();
        let mut out = Vec::new();
        for g in list {
            builder.add(self.glob(g)?);
            out.push(g.get_ref().clone());
        }
        let set = builder
            .build()
            .map_err(|e| ConfigError::plain(self.origin, format!("bad globs: {e}")))?;
        Ok((out, set))
    }

    fn glob(&self, g: &Spanned<String>) -> Result<Glob, Box<ConfigError>> {
        Glob::new(g.get_ref())
            .map_err(|e| self.error(format!("bad glob: {}", e.kind()), g.span(), "this glob"))
    }

    /// A path the configuration names, which must stay in the repository.
    fn confined(&self, value: &Spanned<String>, what: &str) -> Result<PathBuf, Box<ConfigError>> {
        match escapes(value.get_ref(), self.root, self.repo) {
            None => Ok(self.root.join(value.get_ref())),
            Some(why) => Err(self.error(
                format!("{what} `{}` is refused: {why}", value.get_ref()),
                value.span(),
                "outside the repository",
            )),
        }
    }

    fn days(&self, v: &Spanned<i64>, name: &str) -> Result<i64, Box<ConfigError>> {
        let n = *v.get_ref();
        if (1..=MAX_DAYS).contains(&n) {
            Ok(n)
        } else {
            Err(self.error(
                format!("`{name}` is a number of days from 1 to {MAX_DAYS}, not {n}"),
                v.span(),
                "out of range",
            ))
        }
    }

    /// `[scan]`.
    fn scan(&self, raw: &RawScan, config: &mut Config) -> Result<(), Box<ConfigError>> {
        let (exclude, exclude_set) = self.globs(&raw.exclude)?;
        config.spans.exclude = raw.exclude.iter().map(Spanned::span).collect();
        config.exclude = exclude;
        config.exclude_set = exclude_set;
        if !raw.include.is_empty() {
            let (include, include_set) = self.globs(&raw.include)?;
            config.include = include;
            config.include_set = Some(include_set);
            config.spans.include = raw.include.iter().map(Spanned::span).collect();
        }
        if let Some(v) = &raw.max_file_size {
            if *v.get_ref() == 0 {
                return Err(self.error(
                    "`max-file-size` is a number of bytes from 1 up, not 0".into(),
                    v.span(),
                    "out of range",
                ));
            }
            config.max_file_size = *v.get_ref();
            config.spans.max_file_size = Some(v.span());
        }
        if let Some(v) = &raw.include_placeholders {
            config.include_placeholders = *v.get_ref();
            config.spans.include_placeholders = Some(v.span());
        }
        if let Some(v) = &raw.no_ignore {
            config.no_ignore = *v.get_ref();
            config.spans.no_ignore = Some(v.span());
        }
        if let Some(b) = &raw.baseline {
            config.baseline = Some(self.confined(b, "baseline")?);
            config.spans.baseline = Some(b.span());
        }
        Ok(())
    }

    /// `[policy]`.
    fn policy(&self, raw: &RawPolicy, config: &mut Config) -> Result<(), Box<ConfigError>> {
        for a in &raw.allowed_accounts {
            let acct = a.get_ref();
            if acct.len() != 12 || !acct.bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.error(
                    format!("`{acct}` is not a 12-digit AWS account ID"),
                    a.span(),
                    "not an account",
                ));
            }
            config.allowed_accounts.push(acct.clone());
            config.spans.allowed_accounts.push(a.span());
        }
        if let Some(v) = &raw.max_key_age_days {
            config.max_key_age_days = self.days(v, "max-key-age-days")?;
            config.spans.max_key_age_days = Some(v.span());
        }
        if let Some(v) = &raw.max_unused_days {
            config.max_unused_days = self.days(v, "max-unused-days")?;
            config.spans.max_unused_days = Some(v.span());
        }
        if let Some(f) = &raw.fail_on {
            config.spans.fail_on = Some(f.span());
            config.fail_on = crate::severity::FailOn::parse(f.get_ref()).ok_or_else(|| {
                self.error(
                    format!(
                        "`{}` is not a severity (critical, high, medium, low, info, never)",
                        f.get_ref()
                    ),
                    f.span(),
                    "unknown severity",
                )
            })?;
        }
        Ok(())
    }

    /// One `[rules]` entry: a selection list, `rules-dir`, or one rule's
    /// setting.
    fn rule_setting(
        &self,
        key: &Spanned<String>,
        setting: &Spanned<RawRuleSetting>,
        config: &mut Config,
    ) -> Result<(), Box<ConfigError>> {
        let name = key.get_ref();
        if matches!(name.as_str(), "select" | "extend-select" | "ignore") {
            let items = match setting.get_ref() {
                RawRuleSetting::Other(toml::Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>(),
                _ => None,
            };
            let Some(items) = items else {
                return Err(self.error(
                    format!(
                        "`{name}` is a list of rule IDs, rule names or ID prefixes, e.g. [\"KW001\", \"KW01\"]"
                    ),
                    setting.span(),
                    "expected a list of strings",
                ));
            };
            let items = crate::rules::select::split_list(&items);
            match name.as_str() {
                "select" => config.selection.select = Some(items),
                "extend-select" => config.selection.extend_select = items,
                _ => config.selection.ignore = items,
            }
            config.spans.selection.get_or_insert(key.span());
            return Ok(());
        }
        if name == "rules-dir" {
            let RawRuleSetting::Text(dir) = setting.get_ref() else {
                return Err(self.error(
                    "`rules-dir` is a directory path".into(),
                    setting.span(),
                    "expected a string",
                ));
            };
            let value = Spanned::new(setting.span(), dir.clone());
            config.rules_dir = Some(self.confined(&value, "rules-dir")?);
            config.spans.rules_dir = Some(setting.span());
            return Ok(());
        }
        let over = self.rule_override(key, setting)?;
        config.rules.insert(name.clone(), over);
        Ok(())
    }

    /// `KW001 = "off"`, `"on"`, a severity, or `{ severity, enabled }`.
    fn rule_override(
        &self,
        key: &Spanned<String>,
        setting: &Spanned<RawRuleSetting>,
    ) -> Result<RuleOverride, Box<ConfigError>> {
        let name = key.get_ref();
        let over = |enabled, severity| RuleOverride {
            enabled,
            severity,
            span: key.span(),
        };
        match setting.get_ref() {
            RawRuleSetting::Text(t) if t == "off" => Ok(over(false, None)),
            RawRuleSetting::Text(t) if t == "on" => Ok(over(true, None)),
            RawRuleSetting::Text(t) => {
                let severity = Severity::parse(t).ok_or_else(|| {
                    self.error(
                        format!(
                            "`{t}`: a rule is \"off\", \"on\", a severity, or {{ severity = \"…\" }}"
                        ),
                        setting.span(),
                        "unknown setting",
                    )
                })?;
                Ok(over(true, Some(severity)))
            }
            RawRuleSetting::Other(_) => {
                let elsewhere = match name.as_str() {
                    "max-key-age-days" | "max-unused-days" | "allowed-accounts" | "fail-on" => {
                        format!("; `{name}` belongs under [policy]")
                    }
                    "exclude"
                    | "include"
                    | "max-file-size"
                    | "baseline"
                    | "no-ignore"
                    | "include-placeholders" => format!("; `{name}` belongs under [scan]"),
                    _ => String::new(),
                };
                Err(self.error(
                    format!(
                        "`{name}`: a rule's setting is \"off\", \"on\", a severity (critical, high, medium, low, info), or {{ severity = \"…\", enabled = true|false }}{elsewhere}"
                    ),
                    setting.span(),
                    "not a rule setting",
                ))
            }
            RawRuleSetting::Table(t) => {
                let severity = match &t.severity {
                    Some(sev) => Some(Severity::parse(sev).ok_or_else(|| {
                        self.error(
                            format!(
                                "`{sev}` is not a severity (critical, high, medium, low, info)"
                            ),
                            setting.span(),
                            "unknown severity",
                        )
                    })?),
                    None => None,
                };
                Ok(over(t.enabled.unwrap_or(true), severity))
            }
        }
    }

    /// One `[[allow]]` entry.
    fn allow_entry(&self, entry: &Spanned<RawAllow>) -> Result<AllowEntry, Box<ConfigError>> {
        let e = entry.get_ref();
        if e.reason.trim().is_empty() {
            return Err(self.error(
                "an [[allow]] entry needs a non-empty `reason`".into(),
                entry.span(),
                "no reason",
            ));
        }
        let valid = (e.key_id.is_some() || e.path.is_some()) != e.fingerprint.is_some();
        if !valid {
            return Err(self.error(
                "an [[allow]] entry names `key-id`, `path`, both, or a `fingerprint` alone".into(),
                entry.span(),
                "here",
            ));
        }
        let mut target = AllowTarget::default();
        if let Some(k) = &e.key_id {
            if !crate::detect::key_id::is_well_formed(k.get_ref()) {
                return Err(self.error(
                    format!(
                        "`{}` is not a whole access key ID (AKIA, ASIA, ABIA or ACCA and 16 characters A-Z, 2-7)",
                        k.get_ref()
                    ),
                    k.span(),
                    "not a key ID",
                ));
            }
            target.key_id = Some(k.get_ref().clone());
        }
        if let Some(p) = &e.path {
            target.path = Some(AllowPath {
                glob: p.get_ref().clone(),
                matcher: self.glob(p)?.compile_matcher(),
            });
        }
        target.fingerprint.clone_from(&e.fingerprint);
        Ok(AllowEntry {
            target,
            rules: e.rules.clone(),
            reason: e.reason.clone(),
            span: entry.span(),
        })
    }
}

impl Config {
    /// Whether a file (path relative to [`Config::root`]) is in scope.
    pub fn wants(&self, rel: &Path) -> bool {
        if self.exclude_set.is_match(rel) {
            return false;
        }
        self.include_set.as_ref().is_none_or(|s| s.is_match(rel))
    }

    /// The effective configuration as TOML, defaults filled in.
    pub fn show(&self) -> String {
        let list = |v: &[String]| {
            let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
            format!("[{}]", items.join(", "))
        };
        let mut out = String::new();
        match &self.path {
            Some(p) => out.push_str(&format!("# from {}\n", p.display())),
            None => out.push_str("# no keyward.toml found: defaults\n"),
        }
        out.push_str("[scan]\n");
        out.push_str(&format!("exclude = {}\n", list(&self.exclude)));
        out.push_str(&format!("include = {}\n", list(&self.include)));
        out.push_str(&format!("max-file-size = {}\n", self.max_file_size));
        out.push_str(&format!(
            "include-placeholders = {}\n",
            self.include_placeholders
        ));
        out.push_str(&format!("no-ignore = {}\n\n", self.no_ignore));
        out.push_str("[policy]\n");
        out.push_str(&format!(
            "allowed-accounts = {}\n",
            list(&self.allowed_accounts)
        ));
        out.push_str(&format!("max-key-age-days = {}\n", self.max_key_age_days));
        out.push_str(&format!("max-unused-days = {}\n", self.max_unused_days));
        out.push_str(&format!("fail-on = {:?}\n\n", self.fail_on.as_str()));
        out.push_str("[rules]\n");
        if let Some(d) = &self.rules_dir {
            out.push_str(&format!("rules-dir = {:?}\n", d.display().to_string()));
        }
        for (id, o) in &self.rules {
            match (o.enabled, o.severity) {
                (false, _) => out.push_str(&format!("{id} = \"off\"\n")),
                (true, Some(s)) => {
                    out.push_str(&format!("{id} = {{ severity = {:?} }}\n", s.as_str()))
                }
                (true, None) => out.push_str(&format!("{id} = \"on\"\n")),
            }
        }
        for a in &self.allow {
            out.push_str("\n[[allow]]\n");
            if let Some(k) = &a.target.key_id {
                out.push_str(&format!("key-id = {k:?}\n"));
            }
            if let Some(p) = &a.target.path {
                out.push_str(&format!("path = {:?}\n", p.glob));
            }
            if let Some(f) = &a.target.fingerprint {
                out.push_str(&format!("fingerprint = {f:?}\n"));
            }
            if !a.rules.is_empty() {
                out.push_str(&format!("rules = {}\n", list(&a.rules)));
            }
            out.push_str(&format!("reason = {:?}\n", a.reason));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Config, Box<ConfigError>> {
        parse("keyward.toml", text, Path::new("/repo"))
    }

    fn span_text<'a>(text: &'a str, e: &ConfigError) -> &'a str {
        let s = e.span.expect("span");
        &text[s.offset()..s.offset() + s.len()]
    }

    #[test]
    fn type_errors_speak_of_the_file_not_of_serde() {
        for (text, says) in [
            (
                "[policy]\nmax-key-age-days = \"soon\"\n",
                "found the text \"soon\", expected a whole number",
            ),
            ("[scan]\nexclude = \"vendor/**\"\n", "expected a list"),
            (
                "[scan]\ninclude-placeholders = 1\n",
                "found the number 1, expected `true` or `false`",
            ),
        ] {
            let e = p(text).expect_err(text);
            assert!(e.message.contains(says), "{}", e.message);
            for internal in ["i64", "sequence", "invalid type"] {
                assert!(!e.message.contains(internal), "{}", e.message);
            }
            assert!(e.span.is_some(), "{text}");
        }
    }

    #[test]
    fn full_file() {
        let c = p(r#"
[scan]
exclude = ["vendor/**"]
include-placeholders = true
[policy]
allowed-accounts = ["123456789012"]
max-key-age-days = 30
fail-on = "high"
[rules]
rules-dir = "policy/rules"
KW004 = "off"
KW003 = { severity = "critical" }
[[allow]]
path = "docs/**"
rules = ["KW001"]
reason = "docs"
"#)
        .expect("valid");
        assert!(!c.wants(Path::new("vendor/x/main.tf")));
        assert!(c.wants(Path::new("infra/main.tf")));
        assert!(c.include_placeholders);
        assert_eq!(c.allowed_accounts, ["123456789012"]);
        assert_eq!(c.fail_on, crate::severity::FailOn::At(Severity::High));
        assert_eq!(
            c.rules_dir.as_deref(),
            Some(Path::new("/repo/policy/rules"))
        );
        assert!(!c.rules["KW004"].enabled);
        assert_eq!(c.rules["KW003"].severity, Some(Severity::Critical));
        assert_eq!(c.allow.len(), 1);
        assert!(c.show().contains("KW003 = { severity = \"critical\" }"));
    }

    #[test]
    fn numbers_out_of_range_are_refused_with_a_span() {
        for (text, value, says) in [
            ("[policy]\nmax-key-age-days = 0\n", "0", "max-key-age-days"),
            (
                "[policy]\nmax-key-age-days = -5\n",
                "-5",
                "max-key-age-days",
            ),
            (
                "[policy]\nmax-unused-days = 40000\n",
                "40000",
                "max-unused-days",
            ),
            ("[scan]\nmax-file-size = 0\n", "0", "max-file-size"),
        ] {
            let e = p(text).expect_err(text);
            assert!(e.message.contains(says), "{}", e.message);
            assert_eq!(span_text(text, &e), value, "{text}");
        }
        assert_eq!(
            p("[policy]\nmax-key-age-days = 1\n")
                .expect("1 is fine")
                .max_key_age_days,
            1
        );
    }

    #[test]
    fn a_rule_setting_that_is_no_setting_says_what_is_allowed() {
        let text = "[rules]\nmax-key-age-days = 0\n";
        let e = p(text).expect_err("not a rule setting");
        assert!(!e.message.contains("untagged"), "{}", e.message);
        assert!(
            e.message.contains("\"off\", \"on\", a severity"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("belongs under [policy]"),
            "{}",
            e.message
        );
        assert_eq!(span_text(text, &e), "0");
        let e = p("[rules]\nKW001 = true\n").expect_err("a bool");
        assert!(e.message.contains("a rule's setting is"), "{}", e.message);
    }

    #[test]
    fn unknown_key_has_a_span() {
        let text = "[scan]\nexclud = []\n";
        let e = p(text).expect_err("unknown key");
        assert!(e.message.contains("exclud"), "{}", e.message);
        assert_eq!(span_text(text, &e), "exclud");
    }

    #[test]
    fn bad_glob_severity_and_allow() {
        let text = "[scan]\nexclude = [\"a/**\", \"b/[\"]\n";
        let e = p(text).expect_err("bad glob");
        assert!(e.message.contains("bad glob"));
        assert_eq!(span_text(text, &e), "\"b/[\"");
        let text = "[policy]\nfail-on = \"urgent\"\n";
        let e = p(text).expect_err("bad severity");
        assert_eq!(span_text(text, &e), "\"urgent\"");
        let text = "[rules]\nKW001 = { severity = \"huge\" }\n";
        assert!(p(text).is_err());
        let key = "AKIARZPUZDIKEEQH746Y";
        assert!(p(&format!("[[allow]]\nkey-id = \"{key}\"\nreason = \"\"\n")).is_err());
        assert!(p(&format!("[[allow]]\nkey-id = \"{key}\"\n")).is_err());
        let both = p(&format!(
            "[[allow]]\nkey-id = \"{key}\"\npath = \"x/**\"\nreason = \"r\"\n"
        ))
        .expect("key and path together");
        assert_eq!(
            both.allow[0].target.to_string(),
            format!("key {key} in path `x/**`")
        );
        assert!(
            p(&format!(
                "[[allow]]\nkey-id = \"{key}\"\nfingerprint = \"ab\"\nreason = \"r\"\n"
            ))
            .is_err()
        );
        let text = "[[allow]]\nkey-id = \"AKIARZPUZDIK\"\nreason = \"r\"\n";
        let e = p(text).expect_err("a prefix is not a key ID");
        assert_eq!(span_text(text, &e), "\"AKIARZPUZDIK\"");
        assert!(p("[policy]\nallowed-accounts = [\"12\"]\n").is_err());
    }

    #[test]
    fn spans_point_at_each_setting() {
        let text = "[scan]\nexclude = [\"a/**\"]\nbaseline = \"b.json\"\n[policy]\nfail-on = \"high\"\n\
                    max-unused-days = 120\n[[allow]]\npath = \"x\"\nreason = \"r\"\n";
        let c = p(text).expect("valid");
        let at = |r: &Range<usize>| &text[r.clone()];
        assert_eq!(at(&c.spans.exclude[0]), "\"a/**\"");
        assert_eq!(
            at(c.spans.baseline.as_ref().expect("baseline")),
            "\"b.json\""
        );
        assert_eq!(at(c.spans.fail_on.as_ref().expect("fail-on")), "\"high\"");
        assert_eq!(at(c.spans.max_unused_days.as_ref().expect("days")), "120");
        // An array-of-tables entry is spanned by its header.
        assert_eq!(at(&c.allow[0].span), "[[allow]]");
        assert_eq!(c.baseline.as_deref(), Some(Path::new("/repo/b.json")));
    }

    #[test]
    fn paths_that_leave_the_repository_are_refused() {
        let repo = Path::new("/repo");
        let sub = Path::new("/repo/infra");
        assert!(escapes("rules", sub, repo).is_none());
        assert!(escapes("../policy", sub, repo).is_none());
        assert!(escapes("./a/../b", sub, repo).is_none());
        assert!(escapes("../../etc", sub, repo).is_some());
        assert!(escapes("a/../../../etc", sub, repo).is_some());
        assert!(escapes("/etc/passwd", sub, repo).is_some());
        assert!(escapes("C:\\keys", sub, repo).is_some());
        let e = p("[rules]\nrules-dir = \"../x\"\n").expect_err("escapes");
        assert!(
            e.message.contains("leads out of the repository"),
            "{}",
            e.message
        );
    }

    #[test]
    fn errors_mask_what_looks_like_a_secret() {
        let secret = "Bel31iEl2hpChYgCfrL1spNxnyVmihA+2O76UMFx";
        let text = format!("aws_secret_access_key = {secret}\n");
        let e = p(&text).expect_err("not TOML");
        let shown = format!("{:?}", miette::Report::new(*e));
        assert!(!shown.contains(secret), "{shown}");
    }

    #[test]
    fn discovery_walks_up() {
        let t = tempfile::tempdir().expect("tempdir");
        let deep = t.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("mkdir");
        assert_eq!(discover(&deep).filter(|p| p.starts_with(t.path())), None);
        std::fs::write(t.path().join("a/.keyward.toml"), "").expect("write");
        let found = discover(&deep).expect("found");
        assert!(found.ends_with("a/.keyward.toml"));
    }
}
