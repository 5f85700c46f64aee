//! Running `git` and reading its machine formats (`-z` raw diffs, `ls-files
//! -s`, `cat-file --batch`). Every parser here takes untrusted bytes: bad
//! input is an error value, never a panic.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::GitError;

/// What [`Repo::head_ids`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadIds {
    /// The repository's git directory (absolute).
    pub git_dir: PathBuf,
    /// HEAD's commit.
    pub commit: String,
    /// HEAD's tree.
    pub tree: String,
}

impl HeadIds {
    /// `rev-parse`'s lines for the git directory, HEAD's commit and tree.
    fn parse(git_dir: &str, commit: &str, tree: &str) -> Option<HeadIds> {
        let id = |l: &str| {
            (l.len() >= 40 && l.bytes().all(|b| b.is_ascii_hexdigit())).then(|| l.to_string())
        };
        Some(HeadIds {
            git_dir: PathBuf::from(git_dir),
            commit: id(commit)?,
            tree: id(tree)?,
        })
    }
}

/// A work tree, seen from the directory keyward runs in.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Where git runs: pathspecs are relative to it, as the user typed them.
    pub cwd: PathBuf,
    pub toplevel: PathBuf,
    /// The cwd's path inside the repo (`infra/`), empty at the top.
    pub prefix: String,
    /// HEAD as discovery found it (`None`: not known then; asked when needed).
    pub head: Option<HeadIds>,
}

impl Repo {
    pub fn discover(cwd: &Path) -> Result<Repo, GitError> {
        // One git call for the work tree and HEAD: a commit's hook waits for
        // each process it starts. Before the first commit (or outside a
        // work tree) it fails, and the plain question below says why.
        let together = Command::new("git")
            .current_dir(cwd)
            .args([
                "rev-parse",
                "--show-toplevel",
                "--show-prefix",
                "--absolute-git-dir",
                "HEAD^{commit}",
                "HEAD^{tree}",
            ])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| GitError::NoGit(e.to_string()))?;
        if together.status.success() {
            let text = String::from_utf8_lossy(&together.stdout);
            let lines: Vec<&str> = text.lines().collect();
            if let [toplevel, prefix, git_dir, commit, tree] = lines.as_slice() {
                let head = HeadIds::parse(git_dir, commit, tree);
                if !toplevel.is_empty() && head.is_some() {
                    return Ok(Repo {
                        cwd: cwd.to_path_buf(),
                        toplevel: PathBuf::from(toplevel),
                        prefix: prefix.to_string(),
                        head,
                    });
                }
            }
        }
        let out = Command::new("git")
            .current_dir(cwd)
            .args(["rev-parse", "--show-toplevel", "--show-prefix"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| GitError::NoGit(e.to_string()))?;
        if !out.status.success() {
            return Err(GitError::NotARepo {
                dir: cwd.to_path_buf(),
                detail: first_line(&out.stderr),
            });
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines();
        let toplevel = lines.next().unwrap_or("").trim_end().to_string();
        if toplevel.is_empty() {
            return Err(GitError::NotARepo {
                dir: cwd.to_path_buf(),
                detail: "no work tree (a bare repository?)".into(),
            });
        }
        let prefix = lines.next().unwrap_or("").trim_end().to_string();
        Ok(Repo {
            cwd: cwd.to_path_buf(),
            toplevel: PathBuf::from(toplevel),
            prefix,
            head: None,
        })
    }

    /// A git command in the cwd. Pathspecs are literal so a file named
    /// `*.tf` means that file; the user's diff settings that change output
    /// shapes (external diff, colour, relative paths) are overridden per call.
    pub fn command(&self) -> Command {
        let mut c = Command::new("git");
        c.current_dir(&self.cwd)
            .arg("--literal-pathspecs")
            .stdin(Stdio::null());
        c
    }

    pub fn run<I, S>(&self, args: I) -> Result<Vec<u8>, GitError>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let out = self
            .command()
            .args(&args)
            .output()
            .map_err(|e| GitError::NoGit(e.to_string()))?;
        if !out.status.success() {
            return Err(GitError::Failed {
                command: describe(&args),
                detail: first_line(&out.stderr),
            });
        }
        Ok(out.stdout)
    }

    /// HEAD's commit and tree and the git directory, asked in one git call
    /// (a commit's hook waits for each); `None` before the first commit.
    pub fn head_ids(&self) -> Option<HeadIds> {
        if let Some(head) = &self.head {
            return Some(head.clone());
        }
        let out = self
            .run([
                "rev-parse",
                "--absolute-git-dir",
                "HEAD^{commit}",
                "HEAD^{tree}",
            ])
            .ok()?;
        let text = String::from_utf8(out).ok()?;
        let mut lines = text.lines();
        HeadIds::parse(lines.next()?, lines.next()?, lines.next()?)
    }

    /// The commit a revision names, or `UnknownRev`.
    pub fn commit_id(&self, rev: &str) -> Result<String, GitError> {
        if let (Some(head), "HEAD") = (&self.head, rev) {
            return Ok(head.commit.clone());
        }
        let out = self
            .command()
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{rev}^{{commit}}"))
            .output()
            .map_err(|e| GitError::NoGit(e.to_string()))?;
        let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || id.is_empty() {
            if self.is_shallow() {
                return Err(GitError::NotInShallowClone {
                    rev: rev.to_string(),
                });
            }
            return Err(GitError::UnknownRev(rev.to_string()));
        }
        Ok(id)
    }

    /// What the repository is called (its `origin` URL without any
    /// credentials in it, else its directory's name) and HEAD's commit.
    pub fn identity(&self) -> (String, Option<String>) {
        let origin = self
            .command()
            .args(["config", "--get", "remote.origin.url"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|u| !u.is_empty())
            .map(|u| strip_credentials(&u));
        let name = origin.unwrap_or_else(|| {
            self.toplevel
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        });
        (name, self.commit_id("HEAD").ok())
    }

    /// A clone fetched with a depth limit: revisions and merge bases may be
    /// missing for that reason alone.
    pub fn is_shallow(&self) -> bool {
        self.command()
            .args(["rev-parse", "--is-shallow-repository"])
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"))
    }

    /// What output shows for a repo path: relative to the cwd when below
    /// it (as the walker shows paths), else absolute.
    pub fn display(&self, repo_path: &str) -> String {
        match repo_path.strip_prefix(self.prefix.as_str()) {
            Some(rest) if !self.prefix.is_empty() || !rest.is_empty() => rest.to_string(),
            _ => crate::walk::display_path(&self.toplevel.join(repo_path), &self.cwd),
        }
    }

    /// The same repository seen from its top: pathspecs are repository
    /// paths.
    pub fn at_top(&self) -> Repo {
        Repo {
            cwd: self.toplevel.clone(),
            toplevel: self.toplevel.clone(),
            prefix: String::new(),
            head: self.head.clone(),
        }
    }

    /// A path the user gave (relative to the cwd, or absolute) as a path in
    /// the repo, when it lies inside it.
    pub fn repo_path(&self, given: &Path) -> Option<String> {
        let abs = lexical_normalize(&self.cwd.join(given));
        let rel = abs.strip_prefix(lexical_normalize(&self.toplevel)).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    }
}

/// `https://user:token@host/x.git` → `https://host/x.git`: a URL with a
/// token in it must not end up in a report.
fn strip_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_and_path = match rest.split_once('/') {
                Some((authority, path)) => {
                    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                    format!("{host}/{path}")
                }
                None => rest.rsplit_once('@').map_or(rest, |(_, h)| h).to_string(),
            };
            format!("{scheme}://{host_and_path}")
        }
        None => url.to_string(),
    }
}

/// `a/./b/../c` → `a/c` without touching the file system (a path may name
/// a file deleted from the work tree but still staged).
fn lexical_normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn describe(args: &[OsString]) -> String {
    args.iter()
        .take(3)
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    line.trim()
        .trim_start_matches("fatal: ")
        .trim_start_matches("error: ")
        .to_string()
}

/// One entry of `git diff --raw -z` (or `git log --raw -z`, merges in the
/// combined `::` form): the new side of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The status letter (`A`, `M`, `R`, …; the first of a combined status).
    pub status: u8,
    /// The file's mode after the change (`100644`, `120000`, `160000`, …).
    pub mode: String,
    /// The blob after the change; all zeros when deleted or not hashed.
    pub blob: String,
    /// The path after the change.
    pub path: String,
    /// The blob before the change (the first parent's); all zeros when
    /// the file is new.
    pub src_blob: String,
    /// The path before a rename or copy.
    pub src_path: Option<String>,
}

impl RawEntry {
    pub fn is_regular_file(&self) -> bool {
        self.mode.starts_with("100")
    }

    pub fn is_symlink(&self) -> bool {
        self.mode == "120000"
    }

    /// A file or a symlink: something whose blob holds text to scan (a
    /// symlink's is its target).
    pub fn has_content(&self) -> bool {
        self.is_regular_file() || self.is_symlink()
    }

    pub fn deleted(&self) -> bool {
        self.status == b'D' || self.mode == "000000" || is_null_id(&self.blob)
    }
}

pub fn is_null_id(id: &str) -> bool {
    id.bytes().all(|b| b == b'0')
}

/// Parses the status token `:100644 100644 <old> <new> M` (or `::…` for a
/// merge's combined diff), with the path tokens that follow it. Returns the
/// entry and how many path tokens it used.
pub fn parse_raw(status_token: &str, rest: &[&[u8]]) -> Result<(RawEntry, usize), String> {
    let parents = status_token.bytes().take_while(|&b| b == b':').count();
    if parents == 0 {
        return Err(format!("not a raw diff entry: {status_token:?}"));
    }
    let fields: Vec<&str> = status_token[parents..].split(' ').collect();
    // parents + 1 modes, parents + 1 blob IDs, one status field.
    let n = parents + 1;
    if fields.len() != 2 * n + 1 {
        return Err(format!("unexpected raw diff entry: {status_token:?}"));
    }
    let status = fields[2 * n].bytes().next().ok_or("empty status")?;
    let paths = if parents == 1 && matches!(status, b'R' | b'C') {
        2
    } else {
        1
    };
    if rest.len() < paths {
        return Err(format!("raw diff entry without a path: {status_token:?}"));
    }
    let path = String::from_utf8_lossy(rest[paths - 1]).into_owned();
    let src_path = (paths == 2).then(|| String::from_utf8_lossy(rest[0]).into_owned());
    Ok((
        RawEntry {
            status,
            mode: fields[n - 1].to_string(),
            blob: fields[2 * n - 1].to_string(),
            path,
            src_blob: fields[n].to_string(),
            src_path,
        },
        paths,
    ))
}

/// Every entry of a `git diff --raw -z` output.
pub fn parse_raw_diff(bytes: &[u8]) -> Result<Vec<RawEntry>, String> {
    let tokens: Vec<&[u8]> = bytes.split(|&b| b == 0).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        i += 1;
        if t.is_empty() {
            continue;
        }
        let status = String::from_utf8_lossy(t);
        let (entry, used) = parse_raw(status.trim_start_matches('\n'), &tokens[i..])?;
        i += used;
        out.push(entry);
    }
    Ok(out)
}

/// A staged file from `git ls-files -s -z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub mode: String,
    pub blob: String,
    /// 0, or 1–3 for the sides of an unresolved conflict.
    pub stage: u8,
    pub path: String,
}

pub fn parse_ls_files(bytes: &[u8]) -> Result<Vec<IndexEntry>, String> {
    let mut out = Vec::new();
    for rec in bytes.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let tab = memchr::memchr(b'\t', rec)
            .ok_or_else(|| format!("no tab in {:?}", String::from_utf8_lossy(rec)))?;
        let head = String::from_utf8_lossy(&rec[..tab]);
        let mut f = head.split(' ');
        let (Some(mode), Some(blob), Some(stage), None) = (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(format!("unexpected ls-files entry {head:?}"));
        };
        out.push(IndexEntry {
            mode: mode.to_string(),
            blob: blob.to_string(),
            stage: stage
                .parse()
                .map_err(|_| format!("bad stage in {head:?}"))?,
            path: String::from_utf8_lossy(&rec[tab + 1..]).into_owned(),
        });
    }
    Ok(out)
}

/// A blob of `git ls-tree -z` output: mode, blob ID and path (submodules,
/// trees and entries that do not parse are left out).
pub struct TreeBlob<'a> {
    pub mode: &'a str,
    pub blob: &'a str,
    pub path: std::borrow::Cow<'a, str>,
}

/// The blobs an `ls-tree -z` listing names, in its order.
pub fn ls_tree_blobs(bytes: &[u8]) -> impl Iterator<Item = TreeBlob<'_>> {
    bytes
        .split(|&b| b == 0)
        .filter(|r| !r.is_empty())
        .filter_map(|rec| {
            let tab = memchr::memchr(b'\t', rec)?;
            let head = std::str::from_utf8(&rec[..tab]).ok()?;
            let mut f = head.split(' ');
            let (Some(mode), Some("blob"), Some(blob), None) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                return None;
            };
            Some(TreeBlob {
                mode,
                blob,
                path: String::from_utf8_lossy(&rec[tab + 1..]),
            })
        })
}

/// What `cat-file --batch` gave for one requested blob.
pub enum BlobContent {
    Bytes(Vec<u8>),
    /// Over the size limit: streamed once for keys ([`crate::large`]),
    /// not kept.
    TooLarge {
        size: u64,
        swept: std::io::Result<crate::large::Swept>,
    },
    Missing,
}

/// Streams the content of `ids` through one `git cat-file --batch`, calling
/// `sink(index, content)` in request order. A writer thread feeds the IDs so
/// neither pipe can fill up and stall the other. `sink` returns false to
/// stop early.
pub fn cat_blobs(
    repo: &Repo,
    ids: &[String],
    max_size: u64,
    mut sink: impl FnMut(usize, BlobContent) -> bool,
) -> Result<(), GitError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut child = repo
        .command()
        // `--buffer`: all IDs are written up front, so git need not flush per object.
        .args(["cat-file", "--batch", "--buffer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError::NoGit(e.to_string()))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(GitError::Failed {
            command: "cat-file --batch".into(),
            detail: "no pipes".into(),
        });
    };
    let result: Result<(), GitError> = std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut w = std::io::BufWriter::new(&mut stdin);
            for id in ids {
                // A write fails only when git has exited; the reader reports it.
                if writeln!(w, "{id}").is_err() {
                    return;
                }
            }
            let _ = w.flush();
            drop(w);
            drop(stdin);
        });
        let mut r = BufReader::with_capacity(1 << 16, stdout);
        let mut header = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let content = next_blob(&mut r, id, &mut header, max_size)?;
            if !sink(i, content) {
                break;
            }
        }
        Ok(())
    });
    if result.is_err() {
        let _ = child.kill();
    }
    // An early stop leaves git writing into a closed pipe; it exits then.
    drop(child.stdout.take());
    let status = child.wait().map_err(io_err)?;
    result?;
    let mut stderr = Vec::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_end(&mut stderr);
    }
    if !status.success() && !stderr.is_empty() {
        return Err(GitError::Failed {
            command: "cat-file --batch".into(),
            detail: first_line(&stderr),
        });
    }
    Ok(())
}

/// The next object of `cat-file --batch`'s output: `id`'s header and
/// body. A body over `max_size` is swept for keys as it streams by.
fn next_blob<R: BufRead>(
    r: &mut R,
    id: &str,
    header: &mut Vec<u8>,
    max_size: u64,
) -> Result<BlobContent, GitError> {
    let bad = |detail: String| GitError::Failed {
        command: "cat-file --batch".into(),
        detail,
    };
    header.clear();
    let n = r.read_until(b'\n', header).map_err(io_err)?;
    if n == 0 {
        return Err(bad(format!("output ended early, at {id}")));
    }
    let text = String::from_utf8_lossy(header);
    let fields: Vec<&str> = text.trim_end().split(' ').collect();
    let size = match fields.as_slice() {
        [_, "missing"] | [_, "ambiguous"] => return Ok(BlobContent::Missing),
        [_, _, size] => size
            .parse::<u64>()
            .map_err(|_| bad(format!("bad header {text:?}")))?,
        _ => return Err(bad(format!("bad header {text:?}"))),
    };
    let content = if size > max_size {
        let mut body = (&mut *r).take(size);
        let swept = crate::large::sweep(&mut body, &|| false);
        // Whatever the sweep left (it stops only on an error): the stream
        // must stay in step.
        std::io::copy(&mut body, &mut std::io::sink()).map_err(io_err)?;
        BlobContent::TooLarge { size, swept }
    } else {
        let mut buf = vec![0; size as usize];
        r.read_exact(&mut buf).map_err(io_err)?;
        BlobContent::Bytes(buf)
    };
    let mut nl = [0u8; 1];
    r.read_exact(&mut nl).map_err(io_err)?;
    Ok(content)
}

fn io_err(e: std::io::Error) -> GitError {
    GitError::Failed {
        command: "cat-file --batch".into(),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "45b983be36b73c0788dc9cbcb76cbb80fc7bb057";
    const Z: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn raw_diff_entries() {
        let raw = format!(
            ":000000 100644 {Z} {A} A\0a b.txt\0:100644 100644 {A} {A} R087\0old.tf\0new.tf\0:100644 000000 {A} {Z} D\0gone\0"
        );
        let e = parse_raw_diff(raw.as_bytes()).expect("parses");
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].status, e[0].path.as_str()), (b'A', "a b.txt"));
        assert_eq!((e[1].status, e[1].path.as_str()), (b'R', "new.tf"));
        assert!(e[2].deleted());
        assert!(!e[0].deleted() && e[0].is_regular_file());
    }

    #[test]
    fn combined_merge_entry() {
        let tok = format!("::100644 100644 100644 {A} {A} {A} MM");
        let (e, used) = parse_raw(&tok, &[b"merged.tf"]).expect("parses");
        assert_eq!(used, 1);
        assert_eq!(
            (e.status, e.path.as_str(), e.blob.as_str()),
            (b'M', "merged.tf", A)
        );
    }

    #[test]
    fn malformed_raw_is_an_error() {
        assert!(parse_raw_diff(b":100644 M\0x\0").is_err());
        assert!(parse_raw_diff(b"garbage\0").is_err());
        assert!(parse_raw(&format!(":000000 100644 {Z} {A} A"), &[]).is_err());
    }

    #[test]
    fn ls_files_entries() {
        let raw = format!("100644 {A} 0\tinfra/a.tf\0120000 {A} 0\tlink\0");
        let e = parse_ls_files(raw.as_bytes()).expect("parses");
        assert_eq!(e[0].path, "infra/a.tf");
        assert_eq!(e[1].mode, "120000");
        assert!(parse_ls_files(b"100644 x\tp\0").is_err());
    }

    #[test]
    fn ls_tree_blobs_leave_out_what_is_not_a_blob() {
        let raw = format!(
            "100644 blob {A}\tinfra/a b.tf\0160000 commit {A}\tvendor/sub\0\
             120000 blob {A}\tlink\0garbage\0"
        );
        let got: Vec<(String, String)> = ls_tree_blobs(raw.as_bytes())
            .map(|b| (b.mode.to_string(), b.path.into_owned()))
            .collect();
        assert_eq!(
            got,
            [
                ("100644".to_string(), "infra/a b.tf".to_string()),
                ("120000".to_string(), "link".to_string())
            ]
        );
    }

    #[test]
    fn display_paths_follow_the_cwd() {
        let repo = Repo {
            cwd: PathBuf::from("/r/infra"),
            toplevel: PathBuf::from("/r"),
            prefix: "infra/".into(),
            head: None,
        };
        assert_eq!(repo.display("infra/prod/a.tf"), "prod/a.tf");
        assert_eq!(repo.display("app/b.env"), "/r/app/b.env");
        assert_eq!(
            repo.repo_path(Path::new("prod/a.tf")).as_deref(),
            Some("infra/prod/a.tf")
        );
        assert_eq!(
            repo.repo_path(Path::new("../app/x")).as_deref(),
            Some("app/x")
        );
        assert_eq!(repo.repo_path(Path::new("../../etc")), None);
        let top = Repo {
            prefix: String::new(),
            cwd: PathBuf::from("/r"),
            ..repo
        };
        assert_eq!(top.display("a.tf"), "a.tf");
    }
}
