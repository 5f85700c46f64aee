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

use crate::rules::Severity;

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScan {
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    include: Vec<Spanned<String>>,
    max_file_size: Option<u64>,
    include_placeholders: Option<bool>,
    no_ignore: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    allowed_accounts: Vec<Spanned<String>>,
    max_key_age_days: Option<i64>,
    max_unused_days: Option<i64>,
    fail_on: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRuleSetting {
    Text(String),
    Table(RawRuleTable),
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
    key_id: Option<String>,
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

/// One `[[allow]]` entry: exactly one of key ID, path glob or fingerprint.
#[derive(Debug, Clone)]
pub struct AllowEntry {
    pub target: AllowTarget,
    /// Rule IDs it applies to; empty: all.
    pub rules: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub enum AllowTarget {
    KeyId(String),
    Path {
        glob: String,
        matcher: globset::GlobMatcher,
    },
    Fingerprint(String),
}

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
    pub fail_on: Option<Severity>,
    pub rules: BTreeMap<String, RuleOverride>,
    pub rules_dir: Option<PathBuf>,
    pub allow: Vec<AllowEntry>,
    /// The file's text, for errors raised after loading (unknown rules).
    pub source: Option<NamedSource<String>>,
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
            max_file_size: crate::scan::DEFAULT_MAX_FILE_SIZE,
            include_placeholders: false,
            no_ignore: false,
            allowed_accounts: Vec::new(),
            max_key_age_days: 90,
            max_unused_days: 90,
            fail_on: Some(Severity::Low),
            rules: BTreeMap::new(),
            rules_dir: None,
            allow: Vec::new(),
            source: None,
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
    let origin = crate::report::shown_path(path);
    let text = crate::named_file::read_text(path, crate::named_file::MAX_NAMED_FILE)
        .map_err(|e| ConfigError::plain(&origin, format!("cannot read: {e}")))?;
    let root = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut config = parse(&origin, &text, &root)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Parses configuration text; `root` anchors relative paths.
pub fn parse(origin: &str, text: &str, root: &Path) -> Result<Config, Box<ConfigError>> {
    let src = NamedSource::new(origin, text.to_string()).with_language("toml");
    let raw: RawConfig = toml::from_str(text)
        .map_err(|e| ConfigError::at(&src, origin, e.message().to_string(), e.span(), "here"))?;
    let mut config = Config {
        root: root.to_path_buf(),
        source: Some(src.clone()),
        ..Config::default()
    };
    let globs = |list: &[Spanned<String>]| -> Result<(Vec<String>, GlobSet), Box<ConfigError>> {
        let mut builder = GlobSetBuilder::new();
        let mut out = Vec::new();
        for g in list {
            let glob = Glob::new(g.get_ref()).map_err(|e| {
                ConfigError::at(
                    &src,
                    origin,
                    format!("bad glob: {}", e.kind()),
                    Some(g.span()),
                    "this glob",
                )
            })?;
            builder.add(glob);
            out.push(g.get_ref().clone());
        }
        let set = builder
            .build()
            .map_err(|e| ConfigError::plain(origin, format!("bad globs: {e}")))?;
        Ok((out, set))
    };
    let (exclude, exclude_set) = globs(&raw.scan.exclude)?;
    config.exclude = exclude;
    config.exclude_set = exclude_set;
    if !raw.scan.include.is_empty() {
        let (include, include_set) = globs(&raw.scan.include)?;
        config.include = include;
        config.include_set = Some(include_set);
    }
    if let Some(v) = raw.scan.max_file_size {
        config.max_file_size = v;
    }
    config.include_placeholders = raw.scan.include_placeholders.unwrap_or(false);
    config.no_ignore = raw.scan.no_ignore.unwrap_or(false);
    for a in &raw.policy.allowed_accounts {
        let acct = a.get_ref();
        if acct.len() != 12 || !acct.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::at(
                &src,
                origin,
                format!("`{acct}` is not a 12-digit AWS account ID"),
                Some(a.span()),
                "not an account",
            ));
        }
        config.allowed_accounts.push(acct.clone());
    }
    if let Some(v) = raw.policy.max_key_age_days {
        config.max_key_age_days = v;
    }
    if let Some(v) = raw.policy.max_unused_days {
        config.max_unused_days = v;
    }
    if let Some(f) = &raw.policy.fail_on {
        config.fail_on = parse_fail_on(f.get_ref()).ok_or_else(|| {
            ConfigError::at(
                &src,
                origin,
                format!(
                    "`{}` is not a severity (critical, high, medium, low, info, never)",
                    f.get_ref()
                ),
                Some(f.span()),
                "unknown severity",
            )
        })?;
    }
    for (key, setting) in &raw.rules {
        let name = key.get_ref();
        if name == "rules-dir" {
            match setting.get_ref() {
                RawRuleSetting::Text(dir) => config.rules_dir = Some(root.join(dir)),
                RawRuleSetting::Table(_) => {
                    return Err(ConfigError::at(
                        &src,
                        origin,
                        "`rules-dir` is a directory path".into(),
                        Some(setting.span()),
                        "expected a string",
                    ));
                }
            }
            continue;
        }
        let over = match setting.get_ref() {
            RawRuleSetting::Text(t) if t == "off" => RuleOverride {
                enabled: false,
                severity: None,
                span: key.span(),
            },
            RawRuleSetting::Text(t) if t == "on" => RuleOverride {
                enabled: true,
                severity: None,
                span: key.span(),
            },
            RawRuleSetting::Text(t) => {
                let severity = Severity::parse(t).ok_or_else(|| {
                    ConfigError::at(&src, origin, format!("`{t}`: a rule is \"off\", \"on\", a severity, or {{ severity = \"…\" }}"), Some(setting.span()), "unknown setting")
                })?;
                RuleOverride {
                    enabled: true,
                    severity: Some(severity),
                    span: key.span(),
                }
            }
            RawRuleSetting::Table(t) => {
                let severity = match &t.severity {
                    Some(sev) => Some(Severity::parse(sev).ok_or_else(|| {
                        ConfigError::at(
                            &src,
                            origin,
                            format!(
                                "`{sev}` is not a severity (critical, high, medium, low, info)"
                            ),
                            Some(setting.span()),
                            "unknown severity",
                        )
                    })?),
                    None => None,
                };
                RuleOverride {
                    enabled: t.enabled.unwrap_or(true),
                    severity,
                    span: key.span(),
                }
            }
        };
        config.rules.insert(name.clone(), over);
    }
    for entry in &raw.allow {
        let e = entry.get_ref();
        if e.reason.trim().is_empty() {
            return Err(ConfigError::at(
                &src,
                origin,
                "an [[allow]] entry needs a non-empty `reason`".into(),
                Some(entry.span()),
                "no reason",
            ));
        }
        let targets = usize::from(e.key_id.is_some())
            + usize::from(e.path.is_some())
            + usize::from(e.fingerprint.is_some());
        if targets != 1 {
            return Err(ConfigError::at(
                &src,
                origin,
                "an [[allow]] entry names exactly one of `key-id`, `path`, `fingerprint`".into(),
                Some(entry.span()),
                "here",
            ));
        }
        let target = if let Some(k) = &e.key_id {
            AllowTarget::KeyId(k.clone())
        } else if let Some(p) = &e.path {
            let glob = Glob::new(p.get_ref()).map_err(|err| {
                ConfigError::at(
                    &src,
                    origin,
                    format!("bad glob: {}", err.kind()),
                    Some(p.span()),
                    "this glob",
                )
            })?;
            AllowTarget::Path {
                glob: p.get_ref().clone(),
                matcher: glob.compile_matcher(),
            }
        } else {
            AllowTarget::Fingerprint(e.fingerprint.clone().unwrap_or_default())
        };
        config.allow.push(AllowEntry {
            target,
            rules: e.rules.clone(),
            reason: e.reason.clone(),
        });
    }
    Ok(config)
}

/// `critical|high|medium|low|info` or `never` (no gate).
pub fn parse_fail_on(s: &str) -> Option<Option<Severity>> {
    if s == "never" {
        Some(None)
    } else {
        Severity::parse(s).map(Some)
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
        out.push_str(&format!(
            "fail-on = {:?}\n\n",
            self.fail_on.map_or("never", Severity::as_str)
        ));
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
            match &a.target {
                AllowTarget::KeyId(k) => out.push_str(&format!("key-id = {k:?}\n")),
                AllowTarget::Path { glob, .. } => out.push_str(&format!("path = {glob:?}\n")),
                AllowTarget::Fingerprint(f) => out.push_str(&format!("fingerprint = {f:?}\n")),
            }
            if !a.rules.is_empty() {
                out.push_str(&format!("rules = {}\n", list(&a.rules)));
            }
            out.push_str(&format!("reason = {:?}\n", a.reason));
        }
        out
    }
}

/// The commented starter file `keyward config init` writes.
pub const STARTER: &str = r#"# keyward configuration. Every key is optional; unknown keys are errors.

[scan]
# Globs, relative to this file, of files never scanned / the only files scanned.
exclude = []
include = []
# Files larger than this (bytes) are skipped and reported.
max-file-size = 10485760
# Report AWS documentation examples and filler keys too.
include-placeholders = false
# Scan files that .gitignore / .ignore exclude.
no-ignore = false

[policy]
# Accounts whose keys are expected here; keys of any other account are KW005.
allowed-accounts = []
# Active keys older than this are KW008 stale-key.
max-key-age-days = 90
# Active keys unused for this long are KW009 unused-key.
max-unused-days = 90
# Exit 1 when a finding is at or above: critical, high, medium, low, info, never.
fail-on = "low"

[rules]
# A directory of your own rule files, added to the built-in rules.
# rules-dir = "policy/keyward-rules"
# Turn a rule off, or change its severity:
# KW004 = "off"
# KW003 = { severity = "high" }

# Accepted findings, each with a reason. One of key-id, path or fingerprint;
# `rules` limits the entry to some rules.
# [[allow]]
# key-id = "AKIA…"
# reason = "deactivated canary key, watched by the SOC"
#
# [[allow]]
# path = "docs/**"
# rules = ["KW001"]
# reason = "documentation shows example keys"
"#;

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
    fn starter_file_parses() {
        let c = p(STARTER).expect("starter is valid");
        assert_eq!(c.max_key_age_days, 90);
        assert_eq!(c.fail_on, Some(Severity::Low));
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
        assert_eq!(c.fail_on, Some(Severity::High));
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
        assert!(p("[[allow]]\nkey-id = \"AKIA\"\nreason = \"\"\n").is_err());
        assert!(p("[[allow]]\nkey-id = \"AKIA\"\npath = \"x\"\nreason = \"r\"\n").is_err());
        assert!(p("[[allow]]\nkey-id = \"AKIA\"\n").is_err());
        assert!(p("[policy]\nallowed-accounts = [\"12\"]\n").is_err());
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
