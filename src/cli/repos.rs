//! `keyward scan --repos FILE`: many repositories in one command. Each line
//! of FILE is a git URL or a local path; URLs are cloned shallowly (into
//! `--repos-cache DIR`, reused on the next run, or a temporary directory),
//! the repositories are scanned in parallel with bounded concurrency, and
//! one merged report comes out: every repository's findings, the
//! credentials that diverge across them, the rotation plan. A repository
//! that cannot be cloned or scanned is reported and the rest go on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, ScanArgs, write_file, write_out};
use crate::report::{audit, contract};

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// As the list gives it.
    source: String,
    /// As reports show it: a URL without its credentials.
    name: String,
}

/// What became of one repository.
enum Outcome {
    Scanned {
        doc: Box<contract::Document>,
        failing: u64,
    },
    Failed(String),
}

/// Runs `scan --repos`.
pub(super) fn run(
    args: &ScanArgs,
    list: &Path,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, miette::Report> {
    let entries = read_list(list)?;
    let render = match args.format.as_str() {
        "json" | "markdown" | "html" | "human" | "concise" => args.format.clone(),
        other => {
            return Err(miette::miette!(
                help = "a merged report is json, markdown or html; human and concise print one line per repository",
                "--repos cannot write `{other}`"
            ));
        }
    };
    let temp;
    let cache = match &args.repos_cache {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                miette::miette!("cannot make {}: {e}", crate::shown::shown_path(dir))
            })?;
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()
                .map_err(|e| miette::miette!("cannot make a temporary directory: {e}"))?;
            temp.path().to_path_buf()
        }
    };
    let Tally {
        docs,
        failing,
        failed,
        lines,
    } = tally(&entries, scan_all(args, &entries, &cache));
    for (name, why) in &failed {
        write_out(
            stderr,
            &format!("keyward: warning: {name}: not scanned: {why}\n"),
        )?;
    }
    let merged = if docs.is_empty() {
        None
    } else {
        Some(
            crate::report::audit_of_many(&docs)
                .map_err(|e| miette::miette!("cannot merge the reports: {e}"))?,
        )
    };
    let rendered = match (render.as_str(), &merged) {
        ("json", Some(a)) => audit::json(a)?,
        ("markdown", Some(a)) => audit::markdown(a),
        ("html", Some(a)) => crate::report::html::audit(a)?,
        _ => {
            let total: usize = docs.iter().map(|(_, d)| d.findings.len()).sum();
            format!(
                "{lines}keyward: {total} finding{} in {} of {} repositor{} scanned{}\n",
                crate::shown::s(total),
                docs.len(),
                entries.len(),
                crate::shown::ies(entries.len()),
                if failed.is_empty() {
                    String::new()
                } else {
                    format!("; {} could not be scanned", failed.len())
                }
            )
        }
    };
    match &args.output {
        Some(path) => write_file(path, &rendered)?,
        None => write_out(stdout, &rendered)?,
    }
    // An audit that left a repository out is not a clean result.
    Ok(if !failed.is_empty() {
        EXIT_ERROR
    } else if failing > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// The list `--repos` names (`-`: standard input); one that names no
/// repository is an error.
fn read_list(list: &Path) -> Result<Vec<Entry>, miette::Report> {
    let text = if list.as_os_str() == "-" {
        crate::named_file::read_capped(std::io::stdin(), crate::named_file::MAX_NAMED_FILE)
    } else {
        crate::named_file::read_text(list, crate::named_file::MAX_NAMED_FILE)
    }
    .map_err(|e| miette::miette!("cannot read {}: {e}", crate::shown::shown_path(list)))?;
    let entries = parse_list(&text);
    if entries.is_empty() {
        return Err(miette::miette!(
            help = "one git URL or local path per line; `#` starts a comment",
            "{} names no repository",
            crate::shown::shown_path(list)
        ));
    }
    Ok(entries)
}

/// The repositories' outcomes, added up.
struct Tally {
    /// The scanned ones' documents, by name.
    docs: Vec<(String, contract::Document)>,
    /// Findings at or above the gate, over all of them.
    failing: u64,
    /// The ones not scanned, and why.
    failed: Vec<(String, String)>,
    /// One line per repository, for the terminal.
    lines: String,
}

fn tally(entries: &[Entry], outcomes: Vec<Outcome>) -> Tally {
    let mut t = Tally {
        docs: Vec::new(),
        failing: 0,
        failed: Vec::new(),
        lines: String::new(),
    };
    for (entry, outcome) in entries.iter().zip(outcomes) {
        match outcome {
            Outcome::Scanned { doc, failing } => {
                t.failing += failing;
                t.lines.push_str(&format!(
                    "{}: {} finding{}\n",
                    entry.name,
                    doc.findings.len(),
                    crate::shown::s(doc.findings.len())
                ));
                t.docs.push((entry.name.clone(), *doc));
            }
            Outcome::Failed(why) => {
                t.lines
                    .push_str(&format!("{}: not scanned: {why}\n", entry.name));
                t.failed.push((entry.name.clone(), why));
            }
        }
    }
    t
}

/// The repositories a list names: one per line, blank lines and `#`
/// comments skipped, each once.
fn parse_list(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for line in text.lines() {
        let source = line.trim();
        if source.is_empty() || source.starts_with('#') {
            continue;
        }
        if out.iter().any(|e| e.source == source) {
            continue;
        }
        out.push(Entry {
            source: source.to_string(),
            name: without_credentials(source),
        });
    }
    out
}

/// A URL as it may be shown: `https://user:token@host/x` loses
/// `user:token@`.
fn without_credentials(source: &str) -> String {
    let Some((scheme, rest)) = source.split_once("://") else {
        return source.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => source.to_string(),
    }
}

/// Scans every entry, at most a few at a time; outcomes in list order.
fn scan_all(args: &ScanArgs, entries: &[Entry], cache: &Path) -> Vec<Outcome> {
    let workers = args.repos_concurrency.clamp(1, entries.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(entries.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = entries.get(i) else { break };
                    let outcome = one(args, entry, cache, workers);
                    if let Ok(mut all) = results.lock() {
                        all[i] = Some(outcome);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::Failed("a worker stopped".into())))
        .collect()
}

/// Clones (or finds) and scans one repository.
fn one(args: &ScanArgs, entry: &Entry, cache: &Path, workers: usize) -> Outcome {
    let dir = match checkout(entry, cache) {
        Ok(dir) => dir,
        Err(why) => return Outcome::Failed(why),
    };
    match scan_dir(args, entry, &dir, workers) {
        Ok((doc, failing)) => Outcome::Scanned {
            doc: Box::new(doc),
            failing,
        },
        Err(why) => Outcome::Failed(crate::detect::masked_for_errors(&why)),
    }
}

/// A local directory as it is; anything else is cloned shallowly into the
/// cache (a clone already there is used as it is).
fn checkout(entry: &Entry, cache: &Path) -> Result<PathBuf, String> {
    let local = Path::new(&entry.source);
    if !entry.source.contains("://") && local.is_dir() {
        return Ok(local.to_path_buf());
    }
    let dir = cache.join(cache_name(&entry.source));
    if dir.join(".git").exists() {
        return Ok(dir);
    }
    let out = Command::new("git")
        .args([
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--no-tags",
            "--single-branch",
            "--",
        ])
        .arg(&entry.source)
        .arg(&dir)
        // A private repository must fail, not wait for a password.
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        return Ok(dir);
    }
    // git's first `fatal:` line says what went wrong; the lines after it
    // are advice.
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&entry.source, &entry.name);
    let said = stderr
        .lines()
        .find_map(|l| l.strip_prefix("fatal: "))
        .or_else(|| stderr.lines().rfind(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_string();
    Err(format!("git clone failed: {said}"))
}

/// A directory name for a URL: its last part, and a hash of the whole so
/// two `app.git` of different owners do not meet.
fn cache_name(source: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    source.hash(&mut h);
    let last = source
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .trim_end_matches(".git");
    let safe: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    format!("{safe}-{:016x}", h.finish())
}

/// One repository's scan, by its own policy, as a JSON document.
fn scan_dir(
    args: &ScanArgs,
    entry: &Entry,
    dir: &Path,
    workers: usize,
) -> Result<(contract::Document, u64), String> {
    let policy = crate::PolicySet::load(
        dir,
        &crate::PolicyOptions {
            selection: args.select.selection(),
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let iam = super::iam_options(&args.iam, policy.iam.clone()).map_err(|e| e.to_string())?;
    // The repositories share the cores.
    let threads = (std::thread::available_parallelism().map_or(1, |n| n.get()) / workers).max(1);
    let mut scan = crate::Scan::new(&policy)
        .cwd(dir)
        .paths(["."])
        .threads(threads)
        .no_ignore(args.no_ignore)
        .include_placeholders(args.include_placeholders)
        .allowed_accounts(args.iam.allowed_accounts.clone())
        .iam(iam)
        .identify(true)
        .repository(Some(entry.name.clone()));
    if let Some(f) = args.fail_on {
        scan = scan.fail_on(f.threshold());
    }
    let out = scan.run().map_err(|e| e.to_string())?;
    let failing = out.gate.map_or(0, |g| g.failing);
    Ok((crate::report::json::document(&out), failing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_skip_comments_blanks_and_repeats() {
        let list = parse_list("# ours\nhttps://h/a.git\n\n  ./local  \nhttps://h/a.git\n");
        let sources: Vec<&str> = list.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(sources, ["https://h/a.git", "./local"]);
    }

    #[test]
    fn credentials_in_urls_are_never_shown() {
        assert_eq!(
            without_credentials("https://bot:ghp_secret@github.com/acme/app.git"),
            "https://github.com/acme/app.git"
        );
        assert_eq!(
            without_credentials("file:///srv/app.git"),
            "file:///srv/app.git"
        );
        assert_eq!(
            without_credentials("git@github.com:acme/app.git"),
            "git@github.com:acme/app.git"
        );
        assert_eq!(without_credentials("../app"), "../app");
    }

    #[test]
    fn cache_names_are_safe_and_distinct() {
        let a = cache_name("https://github.com/one/app.git");
        let b = cache_name("https://github.com/two/app.git");
        assert!(a.starts_with("app-") && b.starts_with("app-"), "{a} {b}");
        assert_ne!(a, b);
        assert!(
            cache_name("git@h:x/../../etc.git")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
