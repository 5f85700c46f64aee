//! `--history`: every blob any commit wrote, each scanned once, findings
//! traced back to the commits that wrote them.
//!
//! One `git log --raw` lists what each commit wrote (parents first), one
//! `git cat-file --batch` streams the distinct blobs to scanning workers.
//! Deduplicating by blob ID is what keeps it fast: a file that stays the
//! same across 5,000 commits is read and parsed once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;

use super::GitError;
use super::plumbing::{self, BlobContent, Repo};
use crate::finding::ProblemKind;
use crate::finding::{CommitRef, Provenance, Warning};
use crate::rules::RuleSet;
use crate::scan::{Blob, Held, Large, Progress, ScanOptions, ScanOutput, Summary, join_workers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Commit {
    pub id: String,
    pub author: String,
    pub email: String,
    pub date: String,
}

/// A repository path as the walk holds it.
pub(super) type Path = std::sync::Arc<str>;

/// A distinct blob and the commits that wrote it, in walk order.
#[derive(Debug, Default)]
pub(super) struct BlobUses {
    pub id: String,
    /// (commit index, repo path). A path is shared by every use of it: a
    /// long history writes the same few thousand paths hundreds of
    /// thousands of times.
    pub uses: Vec<(usize, Path)>,
}

#[derive(Debug, Default)]
pub(super) struct Walk {
    pub commits: Vec<Commit>,
    pub blobs: Vec<BlobUses>,
}

/// Marks a commit header among the NUL-separated raw entries.
const HEADER: char = '\u{1}';

pub(super) fn walk(repo: &Repo, revs: &[String], paths: &[PathBuf]) -> Result<Walk, GitError> {
    let mut args: Vec<OsString> = [
        // Porcelain settings that would change `git log`'s output shape.
        "-c",
        "log.follow=false",
        "-c",
        "log.showSignature=false",
        // Read the pack through small windows and a small delta cache: git
        // maps all of a large pack by default (450 MB resident on
        // bitnami/charts' 490 MB pack, 100 MB this way, no slower).
        "-c",
        "core.packedGitLimit=32m",
        "-c",
        "core.packedGitWindowSize=4m",
        "-c",
        "core.deltaBaseCacheLimit=24m",
        "log",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--no-relative",
        "--no-ext-diff",
        "--no-textconv",
        "--text",
        "--no-color",
        "--root",
        // Merges: only what differs from every parent (a conflict
        // resolution); the rest was written by the parents' commits.
        "-c",
        "--reverse",
        "--topo-order",
        // No simplification: a side branch a merge discarded is history too.
        "--full-history",
        "--format=format:\u{1}%H\u{1f}%an\u{1f}%ae\u{1f}%aI",
    ]
    .iter()
    .map(Into::into)
    .collect();
    args.extend(revs.iter().map(Into::into));
    args.push("--".into());
    args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    let bytes = repo.run(args)?;
    parse_log(&bytes).map_err(|detail| GitError::Parse {
        command: "log --raw".into(),
        detail,
    })
}

pub(super) fn parse_log(bytes: &[u8]) -> Result<Walk, String> {
    let tokens: Vec<&[u8]> = bytes.split(|&b| b == 0).collect();
    let mut w = Walk::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut paths: HashSet<Path> = HashSet::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = String::from_utf8_lossy(tokens[i]);
        i += 1;
        let token = token.trim_start_matches('\n');
        if token.is_empty() {
            continue;
        }
        let status = if let Some(h) = token.strip_prefix(HEADER) {
            let (head, rest) = h.split_once('\n').unwrap_or((h, ""));
            let f: Vec<&str> = head.split('\u{1f}').collect();
            let [id, author, email, date] = f.as_slice() else {
                return Err(format!("bad commit header {head:?}"));
            };
            w.commits.push(Commit {
                id: id.to_string(),
                author: author.to_string(),
                email: email.to_string(),
                date: date.to_string(),
            });
            let rest = rest.trim_start_matches('\n');
            if rest.is_empty() {
                continue;
            }
            rest.to_string()
        } else {
            token.to_string()
        };
        let (entry, used) = plumbing::parse_raw(&status, &tokens[i..])?;
        i += used;
        let Some(commit) = w.commits.len().checked_sub(1) else {
            return Err("a change before any commit".into());
        };
        if entry.deleted() {
            continue;
        }
        // Submodule commits and other non-files hold nothing to read; a
        // symlink's blob is its target, which is read like a file.
        if !entry.has_content() {
            continue;
        }
        let b = *index.entry(entry.blob.clone()).or_insert_with(|| {
            w.blobs.push(BlobUses {
                id: entry.blob.clone(),
                uses: Vec::new(),
            });
            w.blobs.len() - 1
        });
        let path = match paths.get(entry.path.as_str()) {
            Some(p) => p.clone(),
            None => {
                let p: Path = entry.path.into();
                paths.insert(p.clone());
                p
            }
        };
        w.blobs[b].uses.push((commit, path));
    }
    Ok(w)
}

/// The revisions to walk, each checked so a typo is an error, not an empty
/// audit.
fn revisions(repo: &Repo, range: Option<&str>, all_refs: bool) -> Result<Vec<String>, GitError> {
    if all_refs {
        return Ok(vec!["--all".into()]);
    }
    let Some(range) = range else {
        repo.commit_id("HEAD")?;
        return Ok(vec!["HEAD".into()]);
    };
    let sides: Vec<&str> = if let Some((a, b)) = range.split_once("...") {
        vec![a, b]
    } else if let Some((a, b)) = range.split_once("..") {
        vec![a, b]
    } else {
        vec![range]
    };
    for side in sides {
        // `A..` means `A..HEAD`, as in git.
        repo.commit_id(if side.is_empty() { "HEAD" } else { side })?;
    }
    if range.starts_with('-') {
        return Err(GitError::UnknownRev(range.to_string()));
    }
    Ok(vec![range.to_string()])
}

pub(super) fn scan(
    repo: &Repo,
    range: Option<&str>,
    all_refs: bool,
    paths: &[PathBuf],
    opts: &ScanOptions,
    rules: &RuleSet,
    progress: &Progress,
) -> Result<ScanOutput, GitError> {
    let revs = revisions(repo, range, all_refs)?;
    let walk = walk(repo, &revs, paths)?;
    let ids: Vec<String> = walk.blobs.iter().map(|b| b.id.clone()).collect();
    let workers = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    // Each worker extracts one blob at a time; the blob needs no further
    // threads. What a blob holds is kept, not its bytes: once every blob is
    // read, IAM is asked once about all of them and each is judged once.
    let one = ScanOptions {
        threads: 1,
        ..opts.clone()
    };
    // Without IAM there is nothing to ask once for all blobs: each is
    // judged as soon as it is read, and only what has findings is kept
    // (keeping every blob with a candidate, text and all, until the end
    // held 460 MB on bitnami/charts).
    let mut early_warnings = Vec::new();
    let early = if opts.iam.source == crate::iam::SourceChoice::None && !opts.iam.verify_pairs {
        Some(crate::scan::ask_iam(
            &crate::iam::Wanted::default(),
            &one,
            &mut early_warnings,
        )?)
    } else {
        None
    };
    let judge_now = early.as_ref().map(|iam| (rules, &one, iam));
    let reading = Reading {
        repo,
        walk: &walk,
        one: &one,
        progress,
        judge_now,
        workers,
    };
    // Blobs in the packs are inflated here; the rest (loose objects, and
    // whatever the pack reader leaves) come from `git cat-file`.
    let plan = super::pack::Plan::new(repo, &ids, opts.max_file_size);
    let (mut parts, left) = reading.packed(&plan);
    let mut rest = plan.rest.clone();
    drop(plan);
    rest.extend(left);
    rest.sort_unstable();
    let (more, skipped) = reading.through_git(&ids, &rest)?;
    parts.extend(more);
    let (iam_source, signed_with) = judge_all(&mut parts, &one, rules)?;
    let head = head_tree(repo)?;
    let mut out = assemble(&walk, parts, &head, rules);
    out.signed_with = signed_with;
    out.meta.iam = iam_source;
    out.warnings.extend(early_warnings);
    for i in skipped {
        let path = walk.blobs[i]
            .uses
            .first()
            .map_or_else(String::new, |u| repo.display(&u.1));
        let message = format!("not scanned: object {} is missing", walk.blobs[i].id);
        out.warnings
            .push(Warning::new(ProblemKind::NotScanned, path, message));
    }
    out.warnings.sort();
    out.warnings.dedup();
    Ok(out)
}

/// What reading the history's blobs needs, wherever they come from.
struct Reading<'a> {
    repo: &'a Repo,
    walk: &'a Walk,
    one: &'a ScanOptions,
    progress: &'a Progress,
    judge_now: JudgeNow<'a>,
    workers: usize,
}

impl Reading<'_> {
    /// Each worker inflates chunks of the packs' blobs and reads them; what
    /// the pack reader could not give is returned for `git cat-file`.
    fn packed(&self, plan: &super::pack::Plan) -> (Vec<Part>, Vec<usize>) {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let chunks = plan.chunks();
        if chunks == 0 {
            return (Vec::new(), Vec::new());
        }
        let done = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.workers.min(chunks))
                .map(|_| {
                    let next = &next;
                    scope.spawn(move || {
                        let mut reader = super::pack::Reader::new(plan, self.one.max_file_size);
                        let mut part = Part::default();
                        let mut left = Vec::new();
                        let mut seen = Vec::new();
                        loop {
                            let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if c >= chunks {
                                break;
                            }
                            reader.chunk(c, |idx, bytes| {
                                seen.push(idx);
                                match bytes {
                                    Some(bytes) => self.read(&mut part, idx, Blob::new("", bytes)),
                                    None => left.push(idx),
                                }
                            });
                        }
                        (part, left, seen)
                    })
                })
                .collect();
            join_workers(handles, "history", |e| {
                let part = Part {
                    errors: vec![e],
                    ..Part::default()
                };
                (part, Vec::new(), Vec::new())
            })
        });
        let mut parts = Vec::new();
        let mut left = Vec::new();
        let mut read = vec![false; self.walk.blobs.len()];
        for (part, l, seen) in done {
            parts.push(part);
            left.extend(l);
            for i in seen {
                if let Some(r) = read.get_mut(i) {
                    *r = true;
                }
            }
        }
        // A blob the reader never reached (a family it could not start, a
        // chain cut off by damage) is read by git.
        left.extend(
            plan.wanted()
                .filter(|&i| !read.get(i).copied().unwrap_or(true)),
        );
        (parts, left)
    }

    /// Reads blobs `which` (indexes into `ids`) through `git cat-file`;
    /// gives the workers' parts and the blobs git does not have.
    fn through_git(
        &self,
        ids: &[String],
        which: &[usize],
    ) -> Result<(Vec<Part>, Vec<usize>), GitError> {
        if which.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let asked: Vec<String> = which.iter().filter_map(|&i| ids.get(i).cloned()).collect();
        let (tx, rx) = crossbeam_channel::bounded::<(usize, Blob)>(self.workers * 4);
        let mut skipped = Vec::new();
        let (read, parts) = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.workers)
                .map(|_| {
                    let rx = rx.clone();
                    scope.spawn(move || {
                        let mut part = Part::default();
                        for (idx, blob) in rx.iter() {
                            self.read(&mut part, idx, blob);
                        }
                        part
                    })
                })
                .collect();
            drop(rx);
            let read =
                plumbing::cat_blobs(self.repo, &asked, self.one.max_file_size, |k, content| {
                    let Some(&i) = which.get(k) else {
                        return true;
                    };
                    match content {
                        // Fails only when every worker is gone; stop reading then.
                        BlobContent::Bytes(bytes) => {
                            return tx.send((i, Blob::new("", bytes))).is_ok();
                        }
                        BlobContent::TooLarge { size, swept } => {
                            let blob = Blob::too_large("", Large { size, swept });
                            return tx.send((i, blob)).is_ok();
                        }
                        BlobContent::Missing => skipped.push(i),
                    }
                    true
                });
            drop(tx);
            let parts = join_workers(handles, "history", |e| Part {
                errors: vec![e],
                ..Part::default()
            });
            (read, parts)
        });
        read?;
        Ok((parts, skipped))
    }

    /// Reads blob `idx` at the first path a commit wrote it to.
    fn read(&self, part: &mut Part, idx: usize, mut blob: Blob) {
        if let Some(path) = blob_path(self.repo, self.walk, idx) {
            blob.path = path;
            part.take(
                idx,
                Held::read(blob, self.one, self.progress),
                self.judge_now,
            );
        }
    }
}

/// Asks IAM once about every key the kept blobs hold, then judges each
/// blob alone: `repo.*` facts count within one version of a file, since
/// across a history every rotated key was referenced once.
fn judge_all(
    parts: &mut [Part],
    opts: &ScanOptions,
    rules: &RuleSet,
) -> Result<
    (
        Option<crate::iam::IamSourceInfo>,
        Option<crate::iam::SignedWith>,
    ),
    GitError,
> {
    let each: Vec<crate::iam::Wanted> = parts
        .iter()
        .flat_map(|p| p.kept.iter().map(|(_, held)| held.wanted(&opts.iam)))
        .collect();
    let wanted = crate::iam::Wanted::union(&each);
    let mut warnings = Vec::new();
    let iam = crate::scan::ask_iam(&wanted, opts, &mut warnings)?;
    if let Some(first) = parts.first_mut() {
        first.errors.extend(warnings);
    }
    for part in parts {
        for (idx, held) in std::mem::take(&mut part.kept) {
            part.judge(idx, held, rules, opts, &iam);
        }
    }
    Ok((
        iam.source_info.clone(),
        opts.iam.verify_pairs.then(|| iam.signed_with()),
    ))
}

/// The path blob `idx` is shown at: the first path a commit wrote it to;
/// `None` for a blob no commit names.
fn blob_path(repo: &Repo, walk: &Walk, idx: usize) -> Option<String> {
    Some(repo.display(&walk.blobs.get(idx)?.uses.first()?.1))
}

/// One worker's results.
#[derive(Default)]
struct Part {
    summary: Summary,
    errors: Vec<Warning>,
    /// What the blobs with candidates or ignore comments hold, by blob
    /// index, until they are judged.
    kept: Vec<(usize, Held)>,
    /// Judged outputs of blobs with findings, by blob index.
    found: Vec<(usize, ScanOutput)>,
}

/// What judging a blob at once needs: the rules, the options, IAM's answers.
type JudgeNow<'a> = Option<(&'a RuleSet, &'a ScanOptions, &'a crate::iam::Enrichment)>;

impl Part {
    fn take(&mut self, idx: usize, mut held: Held, judge_now: JudgeNow<'_>) {
        self.errors.append(&mut held.take_warnings());
        if !held.needs_judging() {
            self.summary.add(held.summary());
        } else if let Some((rules, opts, iam)) = judge_now {
            self.judge(idx, held, rules, opts, iam);
        } else {
            // Its counts join once it is judged.
            self.kept.push((idx, held));
        }
    }

    fn judge(
        &mut self,
        idx: usize,
        held: Held,
        rules: &RuleSet,
        opts: &ScanOptions,
        iam: &crate::iam::Enrichment,
    ) {
        let out = held.judge(rules, opts, iam);
        self.summary.add(&out.summary);
        self.errors.extend(out.warnings.iter().cloned());
        if !out.findings.is_empty() {
            self.found.push((idx, out));
        }
    }
}

/// The blobs of HEAD's tree, by blob ID: the repository paths holding
/// each. Empty before the first commit.
fn head_tree(repo: &Repo) -> Result<HashMap<String, Vec<String>>, GitError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if repo.commit_id("HEAD").is_err() {
        return Ok(out);
    }
    let listing = repo
        .at_top()
        .run(["ls-tree", "-r", "-z", "--full-tree", "HEAD"])?;
    for b in plumbing::ls_tree_blobs(&listing) {
        out.entry(b.blob.to_string())
            .or_default()
            .push(b.path.into_owned());
    }
    Ok(out)
}

/// One finding per fingerprint: the version of the file that first wrote
/// it (the walk runs parents first), with the commits that wrote it, and
/// whether HEAD (`head`: blob → paths) still holds it.
fn assemble(
    walk: &Walk,
    parts: Vec<Part>,
    head: &HashMap<String, Vec<String>>,
    rules: &RuleSet,
) -> ScanOutput {
    let mut out = ScanOutput::default();
    let mut found: Vec<(usize, ScanOutput)> = Vec::new();
    for p in parts {
        out.summary.add(&p.summary);
        out.warnings.extend(p.errors);
        found.extend(p.found);
    }
    found.sort_by_key(|(idx, _)| *idx);
    let groups = group_by_fingerprint(walk, &found);
    let history = History {
        walk,
        head,
        moved_to: moved_to(walk, &found, head),
        writes: writes_by_path(walk),
        rules,
    };
    let mut files = Files::default();
    for (g, f, _) in representatives(&groups, &found) {
        let mut f = f.clone();
        f.file = files.index(&mut out, &found, (g.rep.0, f.file));
        // Related places are in the same version's files.
        let part = &found[g.rep.0].1;
        f.related.retain_mut(|r| {
            if part.files.get(r.file).is_none() {
                return false;
            }
            r.file = files.index(&mut out, &found, (g.rep.0, r.file));
            true
        });
        history.place(g, &mut f);
        out.findings.push(f);
    }
    // Counted findings past the per-file cap travel with their blob.
    for (fi, (_, part)) in found.iter().enumerate() {
        for m in &part.more {
            if part.files.get(m.file).is_none() {
                continue;
            }
            let index = files.index(&mut out, &found, (fi, m.file));
            out.more.push(crate::scan::More {
                file: index,
                ..m.clone()
            });
        }
    }
    out.summary.findings = out.findings.len() as u64;
    out
}

/// The findings of one fingerprint across the history.
struct Group {
    /// (blob index in `found`, finding index), from the first commit.
    rep: (usize, usize),
    first: (usize, Path),
    last: (usize, Path),
    commits: HashSet<usize>,
    /// Walk blob indices of the versions that hold it.
    blobs: HashSet<usize>,
}

fn group_by_fingerprint(walk: &Walk, found: &[(usize, ScanOutput)]) -> BTreeMap<String, Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (fi, (idx, part)) in found.iter().enumerate() {
        let uses = &walk.blobs[*idx].uses;
        let (Some(first), Some(last)) = (
            uses.iter().min_by_key(|u| u.0),
            uses.iter().max_by_key(|u| u.0),
        ) else {
            continue;
        };
        for (k, f) in part.findings.iter().enumerate() {
            let g = groups
                .entry(f.fingerprint.clone())
                .or_insert_with(|| Group {
                    rep: (fi, k),
                    first: first.clone(),
                    last: last.clone(),
                    commits: HashSet::new(),
                    blobs: HashSet::new(),
                });
            g.blobs.insert(*idx);
            if first.0 < g.first.0 {
                g.first = first.clone();
                g.rep = (fi, k);
            }
            if last.0 > g.last.0 {
                g.last = last.clone();
            }
            g.commits.extend(uses.iter().map(|u| u.0));
        }
    }
    groups
}

/// The same credential at HEAD under another path (the file moved):
/// (rule, identity) → HEAD paths of blobs that hold it.
fn moved_to(
    walk: &Walk,
    found: &[(usize, ScanOutput)],
    head: &HashMap<String, Vec<String>>,
) -> HashMap<(String, String), Vec<String>> {
    let mut moved_to: HashMap<(String, String), Vec<String>> = HashMap::new();
    for (idx, part) in found {
        let Some(paths) = walk.blobs.get(*idx).and_then(|b| head.get(&b.id)) else {
            continue;
        };
        for f in part.findings.iter().filter(|f| !f.identity.is_empty()) {
            moved_to
                .entry((f.rule.clone(), f.identity.clone()))
                .or_default()
                .extend(paths.iter().cloned());
        }
    }
    moved_to
}

/// Every commit that wrote each path, in walk order.
fn writes_by_path(walk: &Walk) -> HashMap<&str, Vec<usize>> {
    let mut writes: HashMap<&str, Vec<usize>> = HashMap::new();
    for b in &walk.blobs {
        for (c, path) in &b.uses {
            writes.entry(&**path).or_default().push(*c);
        }
    }
    for w in writes.values_mut() {
        w.sort_unstable();
    }
    writes
}

/// Each group's first finding with its file, in report order (path, first
/// commit, offset, rule).
fn representatives<'f>(
    groups: &'f BTreeMap<String, Group>,
    found: &'f [(usize, ScanOutput)],
) -> Vec<(&'f Group, &'f crate::Finding, &'f crate::SourceFile)> {
    let mut reps: Vec<(&Group, &crate::Finding, &crate::SourceFile)> = groups
        .values()
        .filter_map(|g| {
            let part = &found.get(g.rep.0)?.1;
            let f = part.findings.get(g.rep.1)?;
            Some((g, f, part.files.get(f.file)?))
        })
        .collect();
    reps.sort_by(|a, b| {
        (&a.2.path, a.0.first.0, a.1.span.start, &a.1.rule).cmp(&(
            &b.2.path,
            b.0.first.0,
            b.1.span.start,
            &b.1.rule,
        ))
    });
    reps
}

/// One SourceFile in the output per scanned blob version that a finding
/// points at: (index in `found`, file index there) → output index.
#[derive(Default)]
struct Files {
    index: HashMap<(usize, usize), usize>,
}

impl Files {
    fn index(
        &mut self,
        out: &mut ScanOutput,
        found: &[(usize, ScanOutput)],
        key: (usize, usize),
    ) -> usize {
        *self.index.entry(key).or_insert_with(|| {
            if let Some(file) = found.get(key.0).and_then(|(_, p)| p.files.get(key.1)) {
                out.files.push(file.clone());
            }
            out.files.len().saturating_sub(1)
        })
    }
}

/// What the history says of a finding: where it came from, whether HEAD
/// still holds it (at its path or another), and the commit that removed it.
struct History<'w> {
    walk: &'w Walk,
    head: &'w HashMap<String, Vec<String>>,
    moved_to: HashMap<(String, String), Vec<String>>,
    writes: HashMap<&'w str, Vec<usize>>,
    rules: &'w RuleSet,
}

impl History<'_> {
    fn commit_ref(&self, (c, path): &(usize, Path)) -> CommitRef {
        let commit = self.walk.commits.get(*c);
        CommitRef {
            commit: commit.map_or_else(String::new, |c| c.id.clone()),
            author: commit.map_or_else(String::new, |c| c.author.clone()),
            email: commit.map_or_else(String::new, |c| c.email.clone()),
            date: commit.map_or_else(String::new, |c| c.date.clone()),
            path: path.to_string(),
        }
    }

    fn place(&self, g: &Group, f: &mut crate::Finding) {
        let mut at_head: Vec<String> = g
            .blobs
            .iter()
            .filter_map(|i| self.walk.blobs.get(*i).and_then(|b| self.head.get(&b.id)))
            .flatten()
            .cloned()
            .collect();
        if at_head.is_empty() {
            at_head = self
                .moved_to
                .get(&(f.rule.clone(), f.identity.clone()))
                .cloned()
                .unwrap_or_default();
        }
        at_head.sort();
        at_head.dedup();
        let removed_in = if at_head.is_empty() {
            self.writes
                .get(&*g.last.1)
                .and_then(|w| w.iter().find(|&&c| c > g.last.0))
                .map(|&c| self.commit_ref(&(c, g.last.1.clone())))
        } else {
            None
        };
        if at_head.is_empty()
            && let Some(help) = self
                .rules
                .get(&f.rule)
                .and_then(|r| r.history_help.as_ref())
        {
            f.help.clone_from(help);
        }
        f.provenance = Some(Box::new(Provenance {
            first: self.commit_ref(&g.first),
            last: self.commit_ref(&g.last),
            commits: g.commits.len() as u64,
            at_head,
            removed_in,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "45b983be36b73c0788dc9cbcb76cbb80fc7bb057";
    const B: &str = "b77b4eb1d946f923f61785536da9ca5af6909f06";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn log_is_parsed_into_commits_and_distinct_blobs() {
        let log = format!(
            "\u{1}c1\u{1f}A B\u{1f}a@b\u{1f}2024-01-01T00:00:00Z\n:000000 100644 {Z} {A} A\0a.tf\0:000000 120000 {Z} {B} A\0link\0\0\
             \u{1}c2\u{1f}A B\u{1f}a@b\u{1f}2024-01-02T00:00:00Z\n:100644 100644 {A} {B} M\0a.tf\0:000000 100644 {Z} {A} A\0copy.tf\0\0\
             \u{1}c3\u{1f}C\u{1f}c@d\u{1f}2024-01-03T00:00:00Z\0\
             \u{1}c4\u{1f}C\u{1f}c@d\u{1f}2024-01-04T00:00:00Z\n::100644 100644 100644 {A} {B} {A} MM\0a.tf\0:100644 000000 {A} {Z} D\0copy.tf\0"
        );
        let w = parse_log(log.as_bytes()).expect("parses");
        assert_eq!(w.commits.len(), 4);
        assert_eq!(w.commits[2].author, "C");
        // A written by c1 (a.tf), c2 (copy.tf) and the merge c4; B by c1
        // (a symlink's target is its content) and c2.
        assert_eq!(w.blobs.len(), 2);
        assert_eq!(w.blobs[0].id, A);
        assert_eq!(
            w.blobs[0].uses,
            vec![
                (0, "a.tf".into()),
                (1, "copy.tf".into()),
                (3, "a.tf".into())
            ]
        );
        assert_eq!(
            w.blobs[1].uses,
            vec![(0, "link".into()), (1, "a.tf".into())]
        );
    }

    #[test]
    fn bad_log_is_an_error() {
        assert!(parse_log(b"\x01only-an-id\n").is_err());
        assert!(parse_log(format!(":000000 100644 {Z} {A} A\0a\0").as_bytes()).is_err());
    }
}
