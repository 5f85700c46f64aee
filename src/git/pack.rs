//! Reading `--history`'s blobs straight from the repository's pack files.
//!
//! `git cat-file --batch` inflates every blob in one process and copies it
//! through a pipe into this one (on bitnami/charts, 4.2 GB in and out:
//! seconds of system time, and a child that maps the whole pack). Here the
//! scanning threads inflate and undelta the blobs themselves, one delta
//! family at a time: from the whole object a family starts with, depth
//! first through the deltas built on it, so every object is inflated once
//! and handed to the scanner without a copy (as `git index-pack` resolves
//! a pack). Memory stays bounded: the pack is read with `pread`, not
//! mapped, and a thread holds only the chain from a family's root to the
//! object it is building.
//!
//! Anything this reader does not handle (loose objects, alternates, a
//! SHA-256 repository, an old index format, an object over the size limit,
//! bytes it cannot make sense of) is left to `git cat-file`, which reads
//! every kind of object git knows; so a pack that surprises this reader
//! costs time, never a blob.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;

use super::plumbing::Repo;

/// Object types as a pack stores them.
const COMMIT: u8 = 1;
const BLOB: u8 = 3;
const TAG: u8 = 4;
const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;

/// SHA-1 object names.
const ID_LEN: usize = 20;

/// What a thread holds of one delta family's chain at a time: a chain
/// deeper than this in bytes is left to `git cat-file`.
const CHAIN_BYTES: usize = 64 << 20;

/// A chain longer than this is a loop in a damaged pack (git's own limit
/// for `--depth` is 4095).
const MAX_CHAIN: usize = 10_000;

/// Delta families handed to a thread at a time.
const FAMILIES: usize = 16;

/// One object the history needs, or a base of one.
#[derive(Debug, Clone, Copy)]
struct Needed {
    pack: u32,
    offset: u64,
    /// Where its entry ends: the next object's offset (or the trailer).
    end: u64,
    /// The history's blob index, for a blob the history wrote.
    want: Option<usize>,
    /// The object it is a delta against.
    base: Option<(u32, u64)>,
}

/// What to read from the packs, in pack order, and what is left to `git
/// cat-file`.
pub(super) struct Plan {
    files: Vec<File>,
    needed: Vec<Needed>,
    /// `REF_DELTA` bases by object name, as the plan found them.
    ref_bases: HashMap<[u8; ID_LEN], (u32, u64)>,
    /// Blob indexes no pack holds (or that the plan could not follow).
    pub rest: Vec<usize>,
    /// Whole objects (indexes into `needed`), in pack order: each starts a
    /// delta family.
    roots: Vec<u32>,
    /// The deltas against each needed object: `children[first[n]..first[n + 1]]`.
    first: Vec<u32>,
    children: Vec<u32>,
}

/// A pack's `.idx`, read while planning and dropped after.
struct Index {
    data: Vec<u8>,
    count: usize,
}

impl Index {
    const NAMES: usize = 8 + 256 * 4;

    fn parse(data: Vec<u8>) -> Option<Index> {
        // Version 2: `\377tOc`, version, fan-out, names, CRCs, offsets,
        // large offsets. Version 1 (git before 1.5.2) is left to git.
        if data.get(..8)? != b"\xfftOc\0\0\0\x02" {
            return None;
        }
        let count = be32(&data, 8 + 255 * 4)? as usize;
        let need = Self::NAMES + count * (ID_LEN + 8) + ID_LEN * 2;
        (data.len() >= need).then_some(Index { data, count })
    }

    fn name(&self, i: usize) -> Option<&[u8]> {
        let at = Self::NAMES + i * ID_LEN;
        self.data.get(at..at + ID_LEN)
    }

    fn offset(&self, i: usize) -> Option<u64> {
        let small = Self::NAMES + self.count * (ID_LEN + 4) + i * 4;
        let v = be32(&self.data, small)?;
        if v & 0x8000_0000 == 0 {
            return Some(u64::from(v));
        }
        let large = Self::NAMES + self.count * (ID_LEN + 8) + (v & 0x7fff_ffff) as usize * 8;
        let hi = be32(&self.data, large)?;
        let lo = be32(&self.data, large + 4)?;
        Some(u64::from(hi) << 32 | u64::from(lo))
    }

    fn find(&self, id: &[u8]) -> Option<u64> {
        let first = *id.first()? as usize;
        let lo = if first == 0 {
            0
        } else {
            be32(&self.data, 8 + (first - 1) * 4)? as usize
        };
        let hi = (be32(&self.data, 8 + first * 4)? as usize).min(self.count);
        let (mut lo, mut hi) = (lo.min(hi), hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid)?.cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return self.offset(mid),
            }
        }
        None
    }

    /// Every object's offset, sorted: where each entry ends.
    fn sorted_offsets(&self) -> Option<Vec<u64>> {
        let mut all = (0..self.count)
            .map(|i| self.offset(i))
            .collect::<Option<Vec<u64>>>()?;
        all.sort_unstable();
        Some(all)
    }
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn hex_id(id: &str) -> Option<[u8; ID_LEN]> {
    let bytes = id.as_bytes();
    if bytes.len() != ID_LEN * 2 {
        return None;
    }
    let mut out = [0u8; ID_LEN];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |b: u8| (b as char).to_digit(16);
        *o = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

/// The pack files of `repo`'s own object directory, each with its index;
/// none for a SHA-256 repository.
fn pack_files(repo: &Repo) -> Vec<(PathBuf, PathBuf)> {
    let Ok(out) = repo.run(["rev-parse", "--show-object-format", "--git-path", "objects"]) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines();
    if lines.next() != Some("sha1") {
        return Vec::new();
    }
    let Some(objects) = lines.next() else {
        return Vec::new();
    };
    let dir = repo.cwd.join(objects).join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut packs: Vec<(PathBuf, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .map(|idx| (idx.with_extension("pack"), idx))
        .filter(|(pack, _)| pack.is_file())
        .collect();
    packs.sort();
    packs
}

/// Whether `file` starts as a version 2 or 3 pack does.
fn is_pack(file: &File) -> bool {
    let mut head = [0u8; 8];
    pread(file, &mut head, 0).is_some()
        && head[..4] == *b"PACK"
        && matches!(head[4..], [0, 0, 0, 2] | [0, 0, 0, 3])
}

/// The entry header at the start of `bytes`: type, size, and how many
/// bytes it took.
fn entry_header(bytes: &[u8]) -> Option<(u8, u64, usize)> {
    let mut c = *bytes.first()?;
    let kind = (c >> 4) & 7;
    let mut size = u64::from(c & 15);
    let mut shift = 4;
    let mut used = 1;
    while c & 0x80 != 0 {
        c = *bytes.get(used)?;
        used += 1;
        if shift > 57 {
            return None;
        }
        size |= u64::from(c & 0x7f) << shift;
        shift += 7;
    }
    Some((kind, size, used))
}

/// An `OFS_DELTA`'s distance back to its base, and how many bytes it took.
fn base_distance(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut c = *bytes.first()?;
    let mut d = u64::from(c & 0x7f);
    let mut used = 1;
    while c & 0x80 != 0 {
        c = *bytes.get(used)?;
        used += 1;
        d = d.checked_add(1)?.checked_mul(128)? | u64::from(c & 0x7f);
    }
    Some((d, used))
}

/// What following delta chains needs of the packs.
struct Chains {
    indexes: Vec<Index>,
    /// Each pack's object offsets, sorted (`None`: an index it could not read).
    ends: Vec<Option<Vec<u64>>>,
    /// Each pack's length.
    len: Vec<u64>,
    max_size: u64,
}

impl Chains {
    /// Where the entry at `at` ends.
    fn end(&self, at: (u32, u64)) -> Option<u64> {
        let pack = at.0 as usize;
        entry_end(self.ends.get(pack)?.as_ref()?, at.1, *self.len.get(pack)?)
    }
}

/// Where an entry's data is and what it is.
enum Entry {
    Whole { kind: u8, size: u64, data: usize },
    Delta { base: (u32, u64), data: usize },
}

impl Plan {
    /// Finds `ids` (the history's blobs) in the packs and follows each to
    /// the base its chain starts from. Never fails: what it cannot place
    /// is in `rest`.
    pub fn new(repo: &Repo, ids: &[String], max_size: u64) -> Plan {
        let mut plan = Plan {
            files: Vec::new(),
            needed: Vec::new(),
            ref_bases: HashMap::new(),
            rest: Vec::new(),
            roots: Vec::new(),
            first: Vec::new(),
            children: Vec::new(),
        };
        let (indexes, found) = plan.open(repo, ids);
        let packs = Chains {
            ends: indexes.iter().map(Index::sorted_offsets).collect(),
            len: plan
                .files
                .iter()
                .map(|f| f.metadata().map_or(0, |m| m.len()))
                .collect(),
            indexes,
            max_size,
        };
        let mut at: HashMap<(u32, u64), usize> = HashMap::new();
        for (i, slot) in found.into_iter().enumerate() {
            let followed = slot.is_some_and(|start| plan.follow(&packs, &mut at, start, i));
            if !followed {
                plan.rest.push(i);
            }
        }
        let failed: std::collections::HashSet<usize> = plan.rest.iter().copied().collect();
        for n in &mut plan.needed {
            if n.want.is_some_and(|w| failed.contains(&w)) {
                n.want = None;
            }
        }
        plan.needed.sort_unstable_by_key(|n| (n.pack, n.offset));
        plan.link();
        plan.rest.sort_unstable();
        plan
    }

    /// Opens the packs and their indexes and places each of `ids` in the
    /// first pack that holds it.
    fn open(&mut self, repo: &Repo, ids: &[String]) -> (Vec<Index>, Vec<Option<(u32, u64)>>) {
        let mut found: Vec<Option<(u32, u64)>> = vec![None; ids.len()];
        let mut indexes = Vec::new();
        for (pack, idx) in pack_files(repo) {
            let (Some(file), Some(index)) = (
                File::open(&pack).ok().filter(is_pack),
                std::fs::read(&idx).ok().and_then(Index::parse),
            ) else {
                continue;
            };
            let no = self.files.len() as u32;
            for (slot, id) in found.iter_mut().zip(ids) {
                if slot.is_none() {
                    *slot = hex_id(id)
                        .and_then(|id| index.find(&id))
                        .map(|offset| (no, offset));
                }
            }
            self.files.push(file);
            indexes.push(index);
        }
        (indexes, found)
    }

    /// Adds blob `i` (at `start`) and, down its delta chain, every base it
    /// needs that no earlier blob's chain added (`at`: where each object
    /// already is in `needed`). False when the chain cannot be followed to
    /// a whole blob within the size limit.
    fn follow(
        &mut self,
        packs: &Chains,
        at: &mut HashMap<(u32, u64), usize>,
        start: (u32, u64),
        i: usize,
    ) -> bool {
        let mut cur = start;
        for depth in 0..=MAX_CHAIN {
            if let Some(&n) = at.get(&cur) {
                // Already followed from here down.
                if depth == 0 {
                    self.needed[n].want = Some(i);
                }
                return true;
            }
            let Some(end) = packs.end(cur) else {
                return false;
            };
            let Some(entry) = self.read_entry(cur, end, |pack, id| {
                packs
                    .indexes
                    .get(pack as usize)?
                    .find(id)
                    .map(|o| (pack, o))
            }) else {
                return false;
            };
            at.insert(cur, self.needed.len());
            self.needed.push(Needed {
                pack: cur.0,
                offset: cur.1,
                end,
                want: (depth == 0).then_some(i),
                base: None,
            });
            match entry {
                Entry::Whole { kind, size, .. } => return kind == BLOB && size <= packs.max_size,
                Entry::Delta { base, .. } => {
                    if let Some(last) = self.needed.last_mut() {
                        last.base = Some(base);
                    }
                    cur = base;
                }
            }
        }
        false
    }

    /// Reads the header of the entry at `at` (ending at `end`), recording a
    /// `REF_DELTA` base that `find` locates.
    fn read_entry(
        &mut self,
        at: (u32, u64),
        end: u64,
        find: impl Fn(u32, &[u8]) -> Option<(u32, u64)>,
    ) -> Option<Entry> {
        let file = self.files.get(at.0 as usize)?;
        // The longest header: a size of ten bytes and a base's name.
        let mut buf = [0u8; 32];
        let head = buf.get_mut(..(end.checked_sub(at.1)?).min(32) as usize)?;
        pread(file, head, at.1)?;
        let head = &*head;
        let entry = parse_entry(head, at, |id| {
            let base = self.ref_bases.get(id).copied().or_else(|| find(at.0, id))?;
            Some(base)
        })?;
        if let (Entry::Delta { base, .. }, Some(id)) = (&entry, ref_id(head)) {
            self.ref_bases.insert(id, *base);
        }
        Some(entry)
    }

    /// Links each needed object to the deltas against it, once `needed`
    /// is in pack order.
    fn link(&mut self) {
        let position = |at: (u32, u64)| {
            self.needed
                .binary_search_by_key(&at, |n| (n.pack, n.offset))
                .ok()
        };
        let mut count = vec![0u32; self.needed.len() + 1];
        let mut parent: Vec<Option<usize>> = Vec::with_capacity(self.needed.len());
        for (i, n) in self.needed.iter().enumerate() {
            match n.base {
                None => {
                    self.roots.push(i as u32);
                    parent.push(None);
                }
                Some(base) => {
                    let p = position(base);
                    if let Some(p) = p {
                        count[p + 1] += 1;
                    }
                    parent.push(p);
                }
            }
        }
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let mut next = count.clone();
        self.children = vec![0; count.last().copied().unwrap_or(0) as usize];
        for (child, p) in parent.iter().enumerate() {
            if let Some(p) = *p {
                self.children[next[p] as usize] = child as u32;
                next[p] += 1;
            }
        }
        self.first = count;
    }

    /// How many groups of delta families there are to hand out.
    pub fn chunks(&self) -> usize {
        self.roots.len().div_ceil(FAMILIES)
    }

    /// The history's blob indexes this plan reads from the packs.
    pub fn wanted(&self) -> impl Iterator<Item = usize> + '_ {
        self.needed.iter().filter_map(|n| n.want)
    }

    fn children_of(&self, n: usize) -> &[u32] {
        let (Some(&a), Some(&b)) = (self.first.get(n), self.first.get(n + 1)) else {
            return &[];
        };
        self.children
            .get(a as usize..b as usize)
            .unwrap_or_default()
    }
}

/// The name a `REF_DELTA` entry header names as its base.
fn ref_id(head: &[u8]) -> Option<[u8; ID_LEN]> {
    let (kind, _, used) = entry_header(head)?;
    (kind == REF_DELTA).then_some(())?;
    head.get(used..used + ID_LEN)?.try_into().ok()
}

fn parse_entry(
    bytes: &[u8],
    at: (u32, u64),
    find: impl Fn(&[u8]) -> Option<(u32, u64)>,
) -> Option<Entry> {
    let (kind, size, used) = entry_header(bytes)?;
    match kind {
        COMMIT..=TAG => Some(Entry::Whole {
            kind,
            size,
            data: used,
        }),
        OFS_DELTA => {
            let (back, more) = base_distance(bytes.get(used..)?)?;
            let base = at.1.checked_sub(back).filter(|&b| b < at.1)?;
            Some(Entry::Delta {
                base: (at.0, base),
                data: used + more,
            })
        }
        REF_DELTA => {
            let id = bytes.get(used..used + ID_LEN)?;
            Some(Entry::Delta {
                base: find(id)?,
                data: used + ID_LEN,
            })
        }
        _ => None,
    }
}

/// Where the entry at `offset` ends, from every object's sorted offset.
fn entry_end(sorted: &[u64], offset: u64, pack_len: u64) -> Option<u64> {
    let i = sorted.binary_search(&offset).ok()?;
    match sorted.get(i + 1) {
        Some(&next) => Some(next),
        // The last entry runs up to the pack's trailing checksum.
        None => pack_len.checked_sub(ID_LEN as u64).filter(|&e| e > offset),
    }
}

#[cfg(unix)]
fn pread(file: &File, buf: &mut [u8], at: u64) -> Option<()> {
    use std::os::unix::fs::FileExt;
    file.read_exact_at(buf, at).ok()
}

#[cfg(not(unix))]
fn pread(_: &File, _: &mut [u8], _: u64) -> Option<()> {
    None
}

/// One object of a family being walked, and its bytes (`None` when it
/// could not be built: then neither can anything built on it).
struct Frame {
    n: usize,
    bytes: Option<Vec<u8>>,
    next_child: usize,
}

/// One thread's reader: its buffers and inflater.
pub(super) struct Reader<'p> {
    plan: &'p Plan,
    max_size: u64,
    inflater: zlib_rs::Inflate,
    raw: Vec<u8>,
}

impl<'p> Reader<'p> {
    pub fn new(plan: &'p Plan, max_size: u64) -> Reader<'p> {
        Reader {
            plan,
            max_size,
            inflater: zlib_rs::Inflate::new(true, 15),
            raw: Vec::new(),
        }
    }

    /// Hands each wanted blob of family group `c` to `take`: its blob index
    /// and its bytes, or `None` when `git cat-file` must read it.
    pub fn chunk(&mut self, c: usize, mut take: impl FnMut(usize, Option<Vec<u8>>)) {
        let plan = self.plan;
        let from = c * FAMILIES;
        let to = (from + FAMILIES).min(plan.roots.len());
        for &root in plan.roots.get(from..to).unwrap_or_default() {
            self.family(root as usize, &mut take);
        }
    }

    /// Walks the delta family of whole object `root` depth first: each
    /// object is inflated once, built on its base, and handed out after
    /// everything built on it, so it is moved out, never copied. Only the
    /// chain from the root to the current object is held.
    fn family(&mut self, root: usize, take: &mut impl FnMut(usize, Option<Vec<u8>>)) {
        let plan = self.plan;
        let mut held = 0usize;
        let bytes = self.whole(root);
        held += bytes.as_ref().map_or(0, Vec::len);
        let mut stack = vec![Frame {
            n: root,
            bytes,
            next_child: 0,
        }];
        loop {
            let depth = stack.len();
            let Some(top) = stack.last_mut() else {
                break;
            };
            if let Some(&child) = plan.children_of(top.n).get(top.next_child) {
                top.next_child += 1;
                let child = child as usize;
                let bytes = match &top.bytes {
                    Some(base) if held <= CHAIN_BYTES && depth <= MAX_CHAIN => {
                        self.built_on(child, base)
                    }
                    _ => None,
                };
                held += bytes.as_ref().map_or(0, Vec::len);
                stack.push(Frame {
                    n: child,
                    bytes,
                    next_child: 0,
                });
                continue;
            }
            let Some(done) = stack.pop() else {
                break;
            };
            held -= done.bytes.as_ref().map_or(0, Vec::len);
            if let Some(want) = plan.needed.get(done.n).and_then(|x| x.want) {
                take(want, done.bytes);
            }
        }
    }

    /// Whole object `n`, if it is a blob within the size limit.
    fn whole(&mut self, n: usize) -> Option<Vec<u8>> {
        let needed = *self.plan.needed.get(n)?;
        match self.entry(needed)? {
            Entry::Whole { kind, size, data } if kind == BLOB && size <= self.max_size => {
                self.inflate(data, size)
            }
            _ => None,
        }
    }

    /// Delta object `n` applied to its base's bytes.
    fn built_on(&mut self, n: usize, base: &[u8]) -> Option<Vec<u8>> {
        let needed = *self.plan.needed.get(n)?;
        let Entry::Delta { data, .. } = self.entry(needed)? else {
            return None;
        };
        let delta = self.inflate_delta(data)?;
        apply(base, &delta, self.max_size)
    }

    /// Reads entry `n`'s bytes into `self.raw` and parses its header.
    fn entry(&mut self, n: Needed) -> Option<Entry> {
        let file = self.plan.files.get(n.pack as usize)?;
        let len = n.end.checked_sub(n.offset)?;
        // A compressed entry far larger than the limit cannot inflate to a
        // blob within it.
        if len > self.max_size.saturating_mul(2).saturating_add(1 << 20) {
            return None;
        }
        self.raw.resize(len as usize, 0);
        pread(file, &mut self.raw, n.offset)?;
        let plan = self.plan;
        parse_entry(&self.raw, (n.pack, n.offset), |id| {
            plan.ref_bases.get(id).copied()
        })
    }

    /// Inflates `self.raw[from..]` into exactly `size` bytes.
    fn inflate(&mut self, from: usize, size: u64) -> Option<Vec<u8>> {
        let mut out = vec![0u8; usize::try_from(size).ok()?];
        self.inflater.reset(true);
        let input = self.raw.get(from..)?;
        let done = self
            .inflater
            .decompress(input, &mut out, zlib_rs::InflateFlush::Finish);
        (matches!(done, Ok(zlib_rs::Status::StreamEnd)) && self.inflater.total_out() == size)
            .then_some(out)
    }

    /// Inflates the delta in `self.raw`, whose size its entry header gives.
    fn inflate_delta(&mut self, from: usize) -> Option<Vec<u8>> {
        let (_, size, _) = entry_header(&self.raw)?;
        // A delta is instructions and inserted text: never far larger than
        // the blob it builds.
        if size > self.max_size.saturating_mul(2).saturating_add(1 << 20) {
            return None;
        }
        self.inflate(from, size)
    }
}

/// Builds an object from `base` and git's delta instructions.
fn apply(base: &[u8], delta: &[u8], max_size: u64) -> Option<Vec<u8>> {
    let mut at = 0;
    let mut varint = || {
        let mut v: u64 = 0;
        let mut shift = 0;
        loop {
            let c = *delta.get(at)?;
            at += 1;
            v |= u64::from(c & 0x7f) << shift;
            if c & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    };
    let base_size = varint()?;
    let size = varint()?;
    if base_size != base.len() as u64 || size > max_size {
        return None;
    }
    let mut out = Vec::with_capacity(size as usize);
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut offset: usize = 0;
            let mut len: usize = 0;
            for bit in 0..4 {
                if op & (1 << bit) != 0 {
                    offset |= usize::from(*delta.get(at)?) << (8 * bit);
                    at += 1;
                }
            }
            for bit in 0..3 {
                if op & (0x10 << bit) != 0 {
                    len |= usize::from(*delta.get(at)?) << (8 * bit);
                    at += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            out.extend_from_slice(base.get(offset..offset.checked_add(len)?)?);
        } else if op != 0 {
            let n = usize::from(op);
            out.extend_from_slice(delta.get(at..at + n)?);
            at += n;
        } else {
            return None;
        }
        if out.len() as u64 > size {
            return None;
        }
    }
    (out.len() as u64 == size).then_some(out)
}

/// Whether `dir` is where this reader would look (for tests).
#[cfg(test)]
fn has_packs(repo: &Repo) -> bool {
    !pack_files(repo).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A repository with 40 versions of two files (so the pack deltifies
    /// them), packed by `repack_args`, and one more loose version.
    fn repo(config: &[&str], repack: &[&str]) -> (tempfile::TempDir, Repo, Vec<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q"]);
        let mut ids = Vec::new();
        for v in 0..40 {
            let mut text = String::new();
            for line in 0..300 {
                let changed = if line % 37 == v % 37 { v } else { 0 };
                text.push_str(&format!(
                    "resource \"aws_s3_bucket\" \"b{line}\" {{ tags = {changed} }}\n"
                ));
            }
            std::fs::write(d.join("main.tf"), &text).expect("write");
            std::fs::write(
                d.join("values.yaml"),
                format!("v: {v}\n{}", "x: 1\n".repeat(200)),
            )
            .expect("write");
            std::fs::write(d.join("empty.txt"), "").expect("write");
            git(d, &["add", "."]);
            git(d, &["commit", "-q", "-m", &format!("v{v}")]);
            for f in ["main.tf", "values.yaml", "empty.txt"] {
                let id = git(d, &["rev-parse", &format!("HEAD:{f}")]);
                ids.push(String::from_utf8_lossy(&id).trim().to_string());
            }
        }
        let mut args = config.to_vec();
        args.extend_from_slice(&["repack", "-a", "-d", "-f", "-q"]);
        args.extend_from_slice(repack);
        git(d, &args);
        std::fs::write(d.join("loose.txt"), "not packed\n").expect("write");
        git(d, &["add", "."]);
        git(d, &["commit", "-q", "-m", "loose"]);
        let loose = git(d, &["rev-parse", "HEAD:loose.txt"]);
        ids.push(String::from_utf8_lossy(&loose).trim().to_string());
        ids.sort();
        ids.dedup();
        let repo = Repo::discover(d).expect("repo");
        (dir, repo, ids)
    }

    fn read_all(repo: &Repo, ids: &[String], max: u64) -> (Vec<Option<Vec<u8>>>, Vec<usize>) {
        let plan = Plan::new(repo, ids, max);
        let mut got: Vec<Option<Vec<u8>>> = vec![None; ids.len()];
        let mut reader = Reader::new(&plan, max);
        for c in 0..plan.chunks() {
            reader.chunk(c, |i, bytes| {
                assert!(got[i].is_none(), "blob {i} read twice");
                got[i] = bytes;
            });
        }
        (got, plan.rest.clone())
    }

    /// The repository's (one) pack file with extension `ext`.
    fn packed(dir: &Path, ext: &str) -> std::path::PathBuf {
        std::fs::read_dir(dir.join(".git/objects/pack"))
            .expect("pack dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == ext))
            .expect("a pack file")
    }

    /// Reads every blob and compares it with `git cat-file`; gives the plan
    /// and how many pack entries are deltas.
    fn check_against_git(config: &[&str], repack: &[&str]) -> (Plan, usize) {
        let (dir, repo, ids) = repo(config, repack);
        assert!(has_packs(&repo));
        let verify =
            String::from_utf8_lossy(&git(dir.path(), &["count-objects", "-v"])).to_string();
        assert!(verify.contains("packs: 1"), "{verify}");
        let pack = packed(dir.path(), "idx");
        let listing = String::from_utf8_lossy(&git(
            dir.path(),
            &["verify-pack", "-v", &pack.to_string_lossy()],
        ))
        .to_string();
        // Delta entries list depth and base after size, size in pack, offset.
        let deltas = listing
            .lines()
            .filter(|l| l.split_whitespace().count() == 7)
            .count();
        let (got, rest) = read_all(&repo, &ids, 1 << 20);
        let loose = String::from_utf8_lossy(&git(dir.path(), &["rev-parse", "HEAD:loose.txt"]))
            .trim()
            .to_string();
        let mut read = 0;
        for (i, id) in ids.iter().enumerate() {
            let want = git(dir.path(), &["cat-file", "blob", id]);
            if *id == loose {
                assert_eq!(got[i], None, "a loose object is left to git");
                assert!(rest.contains(&i));
                continue;
            }
            assert_eq!(got[i].as_deref(), Some(want.as_slice()), "blob {id}");
            read += 1;
        }
        assert_eq!(read, ids.len() - 1);
        (Plan::new(&repo, &ids, 1 << 20), deltas)
    }

    #[test]
    fn every_packed_blob_is_what_git_says() {
        let (plan, deltas) = check_against_git(&[], &["--depth=50", "--window=50"]);
        assert!(deltas >= 60, "the versions are deltas: {deltas}");
        assert!(plan.ref_bases.is_empty());
    }

    #[test]
    fn a_blob_over_the_limit_is_left_to_git() {
        let (dir, repo, ids) = repo(&[], &["--depth=50", "--window=50"]);
        let (got, _) = read_all(&repo, &ids, 2000);
        let mut sizes = (0, 0);
        for (i, id) in ids.iter().enumerate() {
            let want = git(dir.path(), &["cat-file", "blob", id]);
            if want.len() > 2000 {
                assert_eq!(got[i], None, "{id} is over the limit");
                sizes.0 += 1;
            } else if want != b"not packed\n" {
                assert_eq!(got[i].as_deref(), Some(want.as_slice()), "{id}");
                sizes.1 += 1;
            }
        }
        assert_eq!(
            sizes,
            (40, 41),
            "40 versions of main.tf; values.yaml's and the empty blob"
        );
    }

    /// Damaged bytes never give a wrong blob: what cannot be built is `None`
    /// (left to git, which reports it).
    #[test]
    fn a_damaged_pack_gives_no_wrong_blob() {
        let (dir, repo, ids) = repo(&[], &["--depth=50", "--window=50"]);
        let truth: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| git(dir.path(), &["cat-file", "blob", id]))
            .collect();
        let pack = packed(dir.path(), "pack");
        let original = std::fs::read(&pack).expect("read pack");
        let mut perms = std::fs::metadata(&pack).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&pack, perms).expect("writable");
        let garbled = |at: usize| {
            let mut bytes = original.clone();
            for (k, b) in bytes.iter_mut().skip(at).take(300).enumerate() {
                *b = (k as u8).wrapping_mul(151) ^ 0x5a;
            }
            bytes
        };
        let damages = [
            garbled(original.len() / 3),
            garbled(original.len() / 2),
            garbled(0),
            original[..original.len() / 2].to_vec(),
        ];
        for (d, bytes) in damages.iter().enumerate() {
            std::fs::write(&pack, bytes).expect("damage");
            let (got, _) = read_all(&repo, &ids, 1 << 20);
            let mut none = 0;
            for (i, g) in got.iter().enumerate() {
                match g {
                    Some(g) => assert_eq!(g, &truth[i], "damage {d}: blob {} is wrong", ids[i]),
                    None => none += 1,
                }
            }
            assert!(none > 1, "damage {d} left every blob readable");
        }
    }

    #[test]
    fn ref_deltas_are_followed_too() {
        // Without offset deltas every delta names its base by object name.
        let (plan, deltas) = check_against_git(
            &["-c", "repack.useDeltaBaseOffset=false"],
            &["--depth=50", "--window=50"],
        );
        assert!(deltas >= 60, "the versions are deltas: {deltas}");
        assert!(!plan.ref_bases.is_empty(), "REF_DELTA bases were followed");
    }
}
