//! A disk per node: files, directories, `rename`, `remove`, syncs — and a
//! crash model after ext4's ordered mode as the ALICE study describes it
//! ("All File Systems Are Not Created Equal", OSDI 2014).
//!
//! - What a sync made durable survives a crash: `File::sync_data` the
//!   file's bytes, `File::sync_all` its bytes and its own directory entry,
//!   [`sync_dir`] every create (of a file or a directory), rename and
//!   remove in that directory, and the directory's own creation. An entry
//!   made durable brings the creation of the directories above it along
//!   (the durable namespace stays a tree, as a journaled file system's
//!   does).
//! - What was written since survives as a **drawn prefix** (a `disk` draw;
//!   0 = none of it, the page cache is gone), and the first write that did
//!   not fully survive may be torn at a sector boundary (another draw;
//!   0 = not at all). Namespace changes likewise survive as a prefix of the
//!   unsynced ones, in order.
//! - What a crash lost (every unsynced change past the kept prefix, also
//!   at draw 0) is one fault event, `FaultOp::CrashLost`, in words: "the
//!   crash of `db` lost 1 of 1 unsynced change: create /wal" (the first
//!   few by path, the rest counted). A crash that lost nothing has none.
//! - A directory's creation is a namespace change like a file's: until it
//!   is synced, a crash keeps it only as part of the drawn prefix (draw 0:
//!   it is gone, with whatever was created in it). So are `remove_dir`, a
//!   directory's `rename` (durable once either directory is synced) and
//!   each name `remove_dir_all` removes (a crash keeps a prefix of them).
//! - Directories are numbered, not named: a change is made durable by a
//!   sync of the directory it is in, whatever that directory is called by
//!   then.
//!
//! The functions are `std::fs`'s (`read`, `read_to_string`, `write`,
//! `copy`, `rename`, `remove_file`, `create_dir`, `create_dir_all`,
//! `remove_dir`, `remove_dir_all`, `metadata`, `try_exists`,
//! `canonicalize`, `read_dir`, `OpenOptions`, `File`), with its error kinds
//! as Linux gives them (a test runs one script on both and compares), plus
//! [`sync_dir`]. The disk has no links and no permissions; a directory
//! opened (read-only) as a `File` is there for its `sync_all`, Linux's way
//! to sync a directory.
//!
//! Each operation takes a drawn virtual time (reads and writes through an
//! open [`File`] hit the page cache and take none) and, while faults are on,
//! may fail with a drawn `EIO` at `Config::disk_errors`'s rate (0 by
//! default) or, during a nemesis's error burst, at the burst's. Reads
//! through an open `File` come from the page cache and never fail. Errors are the OS's own
//! (`NotFound`, `AlreadyExists`, `IsADirectory`, `DirectoryNotEmpty`, …).
//!
//! ```
//! use asyncsim_sim::{fs, Config, Sim};
//! let run = Sim::new(Config::new()).run(async {
//!     fs::create_dir_all("/data").await.unwrap();
//!     fs::write("/data/greeting", b"hello").await.unwrap();
//!     fs::read("/data/greeting").await.unwrap()
//! });
//! assert_eq!(run.result.unwrap(), b"hello");
//! ```

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{cx, same_run, world, World, WorldRc};
use crate::cx::NodeId;
use crate::tape::DrawLabel;
use crate::trace::FaultOp;

/// The torn-write unit.
pub const SECTOR_BYTES: usize = 512;

/// The probability (under Random and PCT, with faults on) that a crash
/// keeps some of the writes since the last sync.
pub const UNSYNCED_SURVIVAL_PROBABILITY: f64 = 0.5;

/// An operation's latency is drawn over this range (4 buckets).
pub const LATENCY_RANGE: (Duration, Duration) =
    (Duration::from_micros(20), Duration::from_micros(500));

const ENOENT: i32 = 2;
const EIO: i32 = 5;
const EEXIST: i32 = 17;
const ENOTDIR: i32 = 20;
const EISDIR: i32 = 21;
const EBADF: i32 = 9;
const EBUSY: i32 = 16;
const EINVAL: i32 = 22;
const ENOTEMPTY: i32 = 39;

fn os_error(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

enum WriteOp {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Default)]
struct Inode {
    /// What reads see.
    current: Vec<u8>,
    /// What a crash starts from.
    durable: Vec<u8>,
    /// Changes since the last sync, in order.
    pending: Vec<WriteOp>,
}

/// A directory's number; [`ROOT`] is `/`. Directories are numbered, not
/// named, so that a directory's rename moves everything below it at once,
/// in what reads see and in what a crash keeps alike.
type DirId = usize;
const ROOT: DirId = 0;

/// What a name points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    File(usize),
    Dir(DirId),
}

/// Names in directories. Each file and directory has one name (the disk
/// has no links).
#[derive(Clone, Default)]
struct Namespace {
    /// Each directory's entries by name.
    dirs: BTreeMap<DirId, BTreeMap<OsString, Entry>>,
    /// Where each entry is named: `dirs` inverted.
    places: BTreeMap<Entry, (DirId, OsString)>,
}

impl Namespace {
    fn get(&self, dir: DirId, name: &OsStr) -> Option<Entry> {
        self.dirs.get(&dir)?.get(name).copied()
    }

    fn is_empty(&self, dir: DirId) -> bool {
        self.dirs.get(&dir).is_none_or(BTreeMap::is_empty)
    }

    /// The entries of `dir`, by name.
    fn children(&self, dir: DirId) -> Vec<(OsString, Entry)> {
        self.dirs
            .get(&dir)
            .into_iter()
            .flatten()
            .map(|(name, entry)| (name.clone(), *entry))
            .collect()
    }

    /// Names `entry` `dir`/`name`: it leaves its old name, and what had
    /// this name is gone (a rename over it).
    fn link(&mut self, dir: DirId, name: OsString, entry: Entry) {
        if let Some((old_dir, old_name)) = self.places.remove(&entry) {
            if let Some(names) = self.dirs.get_mut(&old_dir) {
                names.remove(&old_name);
            }
        }
        let replaced = self
            .dirs
            .entry(dir)
            .or_default()
            .insert(name.clone(), entry);
        if let Some(replaced) = replaced {
            self.forget(replaced);
        }
        self.places.insert(entry, (dir, name));
    }

    /// Removes the name `dir`/`name`.
    fn unlink(&mut self, dir: DirId, name: &OsStr) -> Option<Entry> {
        let entry = self.dirs.get_mut(&dir)?.remove(name)?;
        self.forget(entry);
        Some(entry)
    }

    fn forget(&mut self, entry: Entry) {
        self.places.remove(&entry);
        if let Entry::Dir(dir) = entry {
            if self.is_empty(dir) {
                self.dirs.remove(&dir);
            }
        }
    }

    /// True when `dir` is `ancestor` or below it.
    fn is_within(&self, mut dir: DirId, ancestor: DirId) -> bool {
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.places.len() {
            if dir == ancestor {
                return true;
            }
            match self.places.get(&Entry::Dir(dir)) {
                Some((parent, _)) => dir = *parent,
                None => return false,
            }
        }
        false
    }
}

/// One change of a namespace, made durable by a sync (or kept by a crash
/// as part of a drawn prefix).
enum MetaOp {
    /// A new file or directory, `entry`, named `dir`/`name`.
    Create {
        dir: DirId,
        name: OsString,
        entry: Entry,
    },
    /// `entry` renamed from `from` to `to` (replacing what was there).
    Rename {
        from: (DirId, OsString),
        to: (DirId, OsString),
        entry: Entry,
    },
    /// The name `dir`/`name` of `entry` (a file or an empty directory)
    /// removed.
    Remove {
        dir: DirId,
        name: OsString,
        entry: Entry,
    },
}

impl MetaOp {
    /// True when the change is an entry of directory `dir`.
    fn touches_dir(&self, dir: DirId) -> bool {
        match self {
            MetaOp::Create { dir: parent, .. } | MetaOp::Remove { dir: parent, .. } => {
                *parent == dir
            }
            MetaOp::Rename { from, to, .. } => from.0 == dir || to.0 == dir,
        }
    }

    /// The directory an entry is made in (which must be durable first).
    fn target_dir(&self) -> Option<DirId> {
        match self {
            MetaOp::Create { dir, .. } => Some(*dir),
            MetaOp::Rename { to, .. } => Some(to.0),
            MetaOp::Remove { .. } => None,
        }
    }

    /// The entry this change gives a name.
    fn names(&self) -> Option<Entry> {
        match self {
            MetaOp::Create { entry, .. } | MetaOp::Rename { entry, .. } => Some(*entry),
            MetaOp::Remove { .. } => None,
        }
    }

    fn apply(&self, namespace: &mut Namespace) {
        match self {
            MetaOp::Create { dir, name, entry }
            | MetaOp::Rename {
                to: (dir, name),
                entry,
                ..
            } => namespace.link(*dir, name.clone(), *entry),
            MetaOp::Remove { dir, name, entry } => {
                if namespace.get(*dir, name) == Some(*entry) {
                    namespace.unlink(*dir, name);
                }
            }
        }
    }
}

/// One node's disk.
#[derive(Default)]
pub(crate) struct Disk {
    /// What operations see.
    current: Namespace,
    /// What a crash starts from.
    durable: Namespace,
    /// Directories made so far (each gets the next number).
    dirs_made: DirId,
    inodes: Vec<Inode>,
    pending_meta: Vec<MetaOp>,
    /// The probability that an operation fails with `EIO`, when set (a
    /// nemesis's burst, `set_error_rate`); `None`: `Config::disk_errors`.
    pub(crate) error_rate: Option<f64>,
}

fn apply_write(buffer: &mut Vec<u8>, op: &WriteOp) {
    match op {
        WriteOp::Write { offset, data } => {
            let start = *offset as usize;
            let end = start + data.len();
            if buffer.len() < end {
                buffer.resize(end, 0);
            }
            buffer[start..end].copy_from_slice(data);
        }
        WriteOp::SetLen(len) => buffer.resize(*len as usize, 0),
    }
}

/// A weighted `disk` draw in `0..bound`: 0 (canonical) unless faults are
/// on and the draw says otherwise; a nonzero value is a fault of kind `op`.
fn survivors(bound: usize, what: &str, op: FaultOp, describe: impl Fn(u64) -> String) -> usize {
    if bound <= 1 {
        return 0;
    }
    super::draw_fault(
        DrawLabel::Disk,
        bound as u64,
        UNSYNCED_SURVIVAL_PROBABILITY,
        what,
        op,
        describe,
    ) as usize
}

/// How many lost changes a crash's fault event names before "and N more".
const LOST_NAMED_MAX: usize = 4;

/// What a crash lost, for its fault event: every unsynced change counted,
/// the first few lost ones named.
#[derive(Default)]
struct Losses {
    unsynced: usize,
    lost: usize,
    named: Vec<String>,
}

impl Losses {
    fn lose(&mut self, describe: impl FnOnce() -> String) {
        self.lost += 1;
        if self.named.len() < LOST_NAMED_MAX {
            self.named.push(describe());
        }
    }

    /// "the crash of `db` lost 2 of 2 unsynced changes: create /wal, write
    /// 120 bytes to /wal"; `None` when it lost nothing.
    fn words(&self, node: &str) -> Option<String> {
        if self.lost == 0 {
            return None;
        }
        let mut text = format!(
            "the crash of `{node}` lost {} of {} unsynced change{}: {}",
            self.lost,
            self.unsynced,
            if self.unsynced == 1 { "" } else { "s" },
            self.named.join(", ")
        );
        if self.lost > self.named.len() {
            text.push_str(&format!(" and {} more", self.lost - self.named.len()));
        }
        Some(text)
    }
}

impl Namespace {
    /// The path of directory `dir` ("" for `/`), or `None` when it has no
    /// name any more.
    fn dir_path(&self, dir: DirId) -> Option<String> {
        let mut names = Vec::new();
        let mut at = dir;
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.places.len() {
            if at == ROOT {
                names.reverse();
                return Some(names.concat());
            }
            let (parent, name) = self.places.get(&Entry::Dir(at))?;
            names.push(format!("/{}", name.to_string_lossy()));
            at = *parent;
        }
        None
    }

    /// `dir`/`name` in words (an unnamed directory as `?`).
    fn path_in(&self, dir: DirId, name: &OsStr) -> String {
        let dir = self.dir_path(dir).unwrap_or_else(|| "?".to_string());
        format!("{dir}/{}", name.to_string_lossy())
    }

    /// File `number`'s path, or "file #N" when it has no name.
    fn file_path(&self, number: usize) -> String {
        match self.places.get(&Entry::File(number)) {
            Some((dir, name)) => self.path_in(*dir, name),
            None => format!("file #{number}"),
        }
    }
}

impl MetaOp {
    /// The change in words, with paths as `names` has them.
    fn describe(&self, names: &Namespace) -> String {
        match self {
            MetaOp::Create {
                dir,
                name,
                entry: Entry::File(_),
            } => format!("create {}", names.path_in(*dir, name)),
            MetaOp::Create {
                dir,
                name,
                entry: Entry::Dir(_),
            } => format!("create directory {}", names.path_in(*dir, name)),
            MetaOp::Rename { from, to, .. } => format!(
                "rename {} to {}",
                names.path_in(from.0, &from.1),
                names.path_in(to.0, &to.1)
            ),
            MetaOp::Remove { dir, name, .. } => format!("remove {}", names.path_in(*dir, name)),
        }
    }
}

impl WriteOp {
    fn describe(&self, path: &str) -> String {
        match self {
            WriteOp::Write { data, .. } => format!(
                "write {} byte{} to {path}",
                data.len(),
                if data.len() == 1 { "" } else { "s" }
            ),
            WriteOp::SetLen(len) => format!("set the length of {path} to {len}"),
        }
    }
}

/// A crash of node `node`: its disk keeps what the crash model keeps, and
/// what it lost (if anything) is a fault event in words.
pub(crate) fn crash(disk: &mut Disk, node: &str) {
    let mut losses = Losses::default();
    let meta = std::mem::take(&mut disk.pending_meta);
    let count = meta.len();
    let keep = survivors(
        count + 1,
        "asyncsim::fs crash: namespace changes kept",
        FaultOp::Kept,
        |kept| format!("the crash of `{node}` kept {kept} of {count} unsynced namespace changes"),
    );
    for op in meta.iter().take(keep) {
        op.apply(&mut disk.durable);
    }
    // The names as the node last saw them, for the lost changes' words.
    let names = std::mem::replace(&mut disk.current, disk.durable.clone());
    losses.unsynced += count;
    for op in meta.iter().skip(keep) {
        losses.lose(|| op.describe(&names));
    }
    for (number, inode) in disk.inodes.iter_mut().enumerate() {
        if inode.pending.is_empty() {
            continue;
        }
        let pending = std::mem::take(&mut inode.pending);
        let count = pending.len();
        let keep = survivors(
            count + 1,
            "asyncsim::fs crash: unsynced writes kept",
            FaultOp::Kept,
            |kept| {
                format!("the crash of `{node}` kept {kept} of {count} unsynced writes of file #{number}")
            },
        );
        for op in pending.iter().take(keep) {
            apply_write(&mut inode.durable, op);
        }
        let mut torn = 0;
        if let Some(WriteOp::Write { offset, data }) = pending.get(keep) {
            let sectors = data.len().div_ceil(SECTOR_BYTES);
            torn = survivors(
                sectors,
                "asyncsim::fs crash: sectors of a torn write kept",
                FaultOp::Torn,
                |kept| {
                    format!("the crash of `{node}` tore a write of file #{number}: {kept} of {sectors} sectors kept")
                },
            );
            if torn > 0 {
                let part = WriteOp::Write {
                    offset: *offset,
                    data: data[..torn * SECTOR_BYTES].to_vec(),
                };
                apply_write(&mut inode.durable, &part);
            }
        }
        losses.unsynced += count;
        for (index, op) in pending.iter().enumerate().skip(keep) {
            losses.lose(|| {
                let words = op.describe(&names.file_path(number));
                if index == keep && torn > 0 {
                    format!("{words} (torn: {} bytes kept)", torn * SECTOR_BYTES)
                } else {
                    words
                }
            });
        }
        inode.current = inode.durable.clone();
    }
    if let Some(words) = losses.words(node) {
        super::record_fault(FaultOp::CrashLost, &words);
    }
}

impl Disk {
    /// What the (normalised) `path` names.
    fn resolve(&self, path: &Path) -> io::Result<Entry> {
        let mut at = Entry::Dir(ROOT);
        for component in path.components() {
            let Component::Normal(name) = component else {
                continue;
            };
            let Entry::Dir(dir) = at else {
                return Err(os_error(ENOTDIR));
            };
            at = self
                .current
                .get(dir, name)
                .ok_or_else(|| os_error(ENOENT))?;
        }
        Ok(at)
    }

    /// The directory that holds the (normalised) `path`, and its name
    /// there; `None` for `/`. The directory must exist (`NotFound`) and be
    /// one (`NotADirectory`).
    fn parent_of(&self, path: &Path) -> io::Result<Option<(DirId, OsString)>> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Ok(None);
        };
        match self.resolve(parent)? {
            Entry::Dir(dir) => Ok(Some((dir, name.to_os_string()))),
            Entry::File(_) => Err(os_error(ENOTDIR)),
        }
    }

    fn sync_inode_data(&mut self, inode: usize) {
        let inode = &mut self.inodes[inode];
        inode.pending.clear();
        inode.durable = inode.current.clone();
    }

    /// Makes the pending namespace changes that `pick` selects durable, in
    /// order.
    fn persist(&mut self, mut pick: impl FnMut(&MetaOp) -> bool) {
        while let Some(position) = self.pending_meta.iter().position(&mut pick) {
            self.persist_at(position);
        }
    }

    /// Makes pending change `position` durable, after what it needs: the
    /// directory its new name is in (the durable namespace stays a tree,
    /// as a journaled file system's does) and, for a rename, the change
    /// that gave what it renames its name (a creation or a rename).
    fn persist_at(&mut self, position: usize) {
        let op = self.pending_meta.remove(position);
        if let MetaOp::Rename { entry, .. } = &op {
            let source = self.pending_meta[..position]
                .iter()
                .rposition(|earlier| earlier.names() == Some(*entry));
            if let Some(source) = source {
                self.persist_at(source);
            }
        }
        if let Some(dir) = op.target_dir() {
            self.persist_dir(dir);
        }
        op.apply(&mut self.durable);
    }

    /// Makes `dir` durably reachable from `/`: the change that named it,
    /// and those of the directories above it.
    fn persist_dir(&mut self, dir: DirId) {
        let mut at = dir;
        // A step up a directory each: no chain is longer than the names.
        for _ in 0..=self.durable.places.len() {
            if at == ROOT {
                return;
            }
            if let Some((parent, _)) = self.durable.places.get(&Entry::Dir(at)) {
                at = *parent;
                continue;
            }
            let named = self
                .pending_meta
                .iter()
                .rposition(|op| op.names() == Some(Entry::Dir(at)));
            if let Some(position) = named {
                self.persist_at(position);
            }
            return;
        }
    }

    fn sync_inode_entry(&mut self, inode: usize) {
        self.persist(|op| {
            matches!(op, MetaOp::Create { entry: Entry::File(created), .. } if *created == inode)
        });
    }

    /// `sync_dir`: every change in `dir`, and `dir`'s own name.
    fn sync_dir(&mut self, dir: DirId) {
        self.persist_dir(dir);
        self.persist(|op| op.touches_dir(dir));
    }

    /// A new name `dir`/`name` for `entry`.
    fn create(&mut self, dir: DirId, name: OsString, entry: Entry) {
        self.current.link(dir, name.clone(), entry);
        self.pending_meta.push(MetaOp::Create { dir, name, entry });
    }

    fn make_dir(&mut self, dir: DirId, name: OsString) {
        self.dirs_made += 1;
        self.create(dir, name, Entry::Dir(self.dirs_made));
    }

    fn remove(&mut self, dir: DirId, name: OsString) {
        if let Some(entry) = self.current.unlink(dir, &name) {
            self.pending_meta.push(MetaOp::Remove { dir, name, entry });
        }
    }

    /// Removes everything in `dir`, depth first, one change a name (a crash
    /// keeps a prefix of them, as of `rm -r`'s unlinks).
    fn remove_below(&mut self, dir: DirId) {
        for (name, entry) in self.current.children(dir) {
            if let Entry::Dir(below) = entry {
                self.remove_below(below);
            }
            self.remove(dir, name);
        }
    }

    /// What `path` opened with `options` (already validated) is: a file, or
    /// a directory opened read-only (for its sync, as on Linux).
    fn open_inode(&mut self, path: &Path, options: &OpenOptions) -> io::Result<Entry> {
        let writable = options.write || options.append;
        match self.resolve(path) {
            Ok(Entry::Dir(_)) if options.create_new => Err(os_error(EEXIST)),
            Ok(Entry::Dir(dir)) if !writable => Ok(Entry::Dir(dir)),
            Ok(Entry::Dir(_)) => Err(os_error(EISDIR)),
            Ok(Entry::File(_)) if options.create_new => Err(os_error(EEXIST)),
            Ok(Entry::File(inode)) => {
                if options.truncate && writable {
                    let data = &mut self.inodes[inode];
                    data.current.clear();
                    data.pending.push(WriteOp::SetLen(0));
                }
                Ok(Entry::File(inode))
            }
            Err(error)
                if error.raw_os_error() == Some(ENOENT)
                    && (options.create || options.create_new) =>
            {
                let Some((dir, name)) = self.parent_of(path)? else {
                    return Err(os_error(EISDIR));
                };
                let inode = self.inodes.len();
                self.inodes.push(Inode::default());
                self.create(dir, name, Entry::File(inode));
                Ok(Entry::File(inode))
            }
            Err(error) => Err(error),
        }
    }
}

/// Normalises a path on the simulated disk: relative paths start at `/`,
/// and `..` may not climb above the root.
fn normalize(path: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::Normal(part) => out.push(part),
            Component::ParentDir => {
                if !out.pop() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "path `{}` is outside the disk's root (`..` above `/`)",
                            path.display()
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// The calling task's node: its index and incarnation, checked alive.
fn here(world: &World, what: &str) -> io::Result<(usize, NodeId)> {
    let (node, incarnation) = world.current();
    if !world.alive(node, incarnation) {
        return Err(io::Error::other(format!(
            "{what} on node `{}`, which crashed",
            world.nodes[node].name
        )));
    }
    Ok((node, incarnation))
}

/// One disk operation's cost: a drawn latency, then (during an error
/// burst) a drawn `EIO`.
async fn operation(world_rc: &WorldRc, node: usize, what: &str) -> io::Result<()> {
    let (min, max) = (
        crate::clock::duration_to_ns(LATENCY_RANGE.0),
        crate::clock::duration_to_ns(LATENCY_RANGE.1),
    );
    let step = (max - min) / 3;
    let bucket = cx::draw_described(DrawLabel::Disk, 4, None, what, |bucket| {
        format!(
            "{what} took {}",
            crate::trace::format_ns(min + step * bucket)
        )
    });
    let latency = min + step * bucket;
    crate::time::sleep(Duration::from_nanos(latency)).await;
    fail_maybe(world_rc, node, what)
}

fn fail_maybe(world_rc: &WorldRc, node: usize, what: &str) -> io::Result<()> {
    let (rate, name) = {
        let world = world_rc.borrow();
        let node = &world.nodes[node];
        let rate = match node.disk.error_rate {
            Some(rate) => rate,
            None => cx::with_config(what, |config| config.disk_errors),
        };
        (rate, node.name.clone())
    };
    if rate > 0.0
        && super::draw_fault(DrawLabel::Disk, 2, rate, what, FaultOp::DiskError, |_| {
            let what = what.strip_prefix("asyncsim::").unwrap_or(what);
            format!("{what} on `{name}` failed with EIO (a drawn disk error)")
        }) == 1
    {
        return Err(os_error(EIO));
    }
    Ok(())
}

/// Starts a disk operation on the calling task's node.
async fn begin(what: &str, path: &Path) -> io::Result<(WorldRc, usize, PathBuf)> {
    let world_rc = world(what);
    let path = normalize(path)?;
    let node = here(&world_rc.borrow(), what)?.0;
    operation(&world_rc, node, what).await?;
    // The node may have crashed while the operation took its time.
    let node_now = here(&world_rc.borrow(), what)?.0;
    debug_assert_eq!(node, node_now);
    Ok((world_rc, node, path))
}

/// Reads a whole file.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let (world_rc, node, path) = begin("asyncsim::fs::read", path.as_ref()).await?;
    let world = world_rc.borrow();
    let disk = &world.nodes[node].disk;
    match disk.resolve(&path)? {
        Entry::File(inode) => Ok(disk.inodes[inode].current.clone()),
        Entry::Dir(_) => Err(os_error(EISDIR)),
    }
}

/// Reads a whole file as UTF-8 text.
///
/// # Errors
///
/// As [`read`], and `InvalidData` when the bytes are not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Writes a whole file (created or truncated). Not durable until synced.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .await?;
    file.write_bytes(contents.as_ref())
}

/// Copies the contents of file `from` to `to` (created, or truncated
/// first), returning the number of bytes copied. Like a [`write()`], the copy
/// is not durable until synced. As on Linux, copying a file onto itself
/// empties it.
///
/// # Errors
///
/// `NotFound`, `InvalidInput` when `from` is not a file, `IsADirectory`
/// when `to` is a directory; a drawn `EIO` may leave `to` created but empty.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let what = "asyncsim::fs::copy";
    let (world_rc, node, from) = begin(what, from.as_ref()).await?;
    let to = normalize(to.as_ref())?;
    let (source, target) = {
        let mut world = world_rc.borrow_mut();
        let disk = &mut world.nodes[node].disk;
        let Entry::File(source) = disk.resolve(&from)? else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the source path is neither a regular file nor a symlink to a regular file",
            ));
        };
        let Entry::File(target) = disk.open_inode(
            &to,
            OpenOptions::new().write(true).create(true).truncate(true),
        )?
        else {
            unreachable!("a directory is never opened for writing");
        };
        (source, target)
    };
    fail_maybe(&world_rc, node, what)?;
    let mut world = world_rc.borrow_mut();
    let inodes = &mut world.nodes[node].disk.inodes;
    let data = inodes[source].current.clone();
    let length = data.len() as u64;
    if length > 0 {
        let op = WriteOp::Write { offset: 0, data };
        apply_write(&mut inodes[target].current, &op);
        inodes[target].pending.push(op);
    }
    Ok(length)
}

/// Renames a file or a directory, as Linux's `rename(2)` does: atomically
/// replacing a file at `to` (for a file) or an empty directory at `to` (for
/// a directory). Durable once the directory of `from` or of `to` is synced
/// (or, for a new file's first name, the file).
///
/// # Errors
///
/// `NotFound` (`from`, or the directory of `to`), `IsADirectory` (a file
/// onto a directory), `NotADirectory` (a directory onto a file),
/// `DirectoryNotEmpty` (onto a directory with entries), `InvalidInput` (a
/// directory into itself), `ResourceBusy` (`/`).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, from) = begin("asyncsim::fs::rename", from.as_ref()).await?;
    let to = normalize(to.as_ref())?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let entry = disk.resolve(&from)?;
    let Some(source) = disk.parent_of(&from)? else {
        return Err(os_error(EBUSY));
    };
    let Some(target) = disk.parent_of(&to)? else {
        return Err(os_error(EBUSY));
    };
    if from == to {
        return Ok(());
    }
    let replaced = disk.current.get(target.0, &target.1);
    match (entry, replaced) {
        (Entry::Dir(dir), _) if disk.current.is_within(target.0, dir) => {
            return Err(os_error(EINVAL));
        }
        (Entry::File(_), Some(Entry::Dir(_))) => return Err(os_error(EISDIR)),
        (Entry::Dir(_), Some(Entry::File(_))) => return Err(os_error(ENOTDIR)),
        (_, Some(Entry::Dir(other))) if !disk.current.is_empty(other) => {
            return Err(os_error(ENOTEMPTY));
        }
        _ => {}
    }
    disk.current.link(target.0, target.1.clone(), entry);
    disk.pending_meta.push(MetaOp::Rename {
        from: source,
        to: target,
        entry,
    });
    Ok(())
}

/// Removes a file.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::remove_file", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    if let Entry::Dir(_) = disk.resolve(&path)? {
        return Err(os_error(EISDIR));
    }
    let (dir, name) = disk.parent_of(&path)?.expect("a file is not `/`");
    disk.remove(dir, name);
    Ok(())
}

/// Creates a directory. Like a file's creation, a directory's survives a
/// crash only once synced: by [`sync_dir`] of its parent or of itself, or
/// by a sync that makes an entry below it durable.
///
/// # Errors
///
/// `AlreadyExists` when something has the name, `NotFound` when the parent
/// is missing, `NotADirectory` when it is a file.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::create_dir", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let Some((dir, name)) = disk.parent_of(&path)? else {
        return Err(os_error(EEXIST));
    };
    if disk.current.get(dir, &name).is_some() {
        return Err(os_error(EEXIST));
    }
    disk.make_dir(dir, name);
    Ok(())
}

/// Creates a directory and its missing parents (each a change of its own,
/// durable as [`create_dir`]'s). Nothing to do when it exists.
///
/// # Errors
///
/// `AlreadyExists` when `path` is a file, `NotADirectory` when a parent is.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::create_dir_all", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let mut at = ROOT;
    let mut names = path
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .peekable();
    while let Some(name) = names.next() {
        match disk.current.get(at, name) {
            Some(Entry::Dir(dir)) => at = dir,
            Some(Entry::File(_)) if names.peek().is_none() => return Err(os_error(EEXIST)),
            Some(Entry::File(_)) => return Err(os_error(ENOTDIR)),
            None => {
                disk.make_dir(at, name.to_os_string());
                at = disk.dirs_made;
            }
        }
    }
    Ok(())
}

/// Removes an empty directory; durable once its parent is synced.
///
/// # Errors
///
/// `DirectoryNotEmpty`, `NotFound`, `NotADirectory` (a file),
/// `ResourceBusy` (`/`).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::remove_dir", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let Entry::Dir(dir) = disk.resolve(&path)? else {
        return Err(os_error(ENOTDIR));
    };
    let Some((parent, name)) = disk.parent_of(&path)? else {
        return Err(os_error(EBUSY));
    };
    if !disk.current.is_empty(dir) {
        return Err(os_error(ENOTEMPTY));
    }
    disk.remove(parent, name);
    Ok(())
}

/// Removes a directory and everything in it, depth first: each name
/// removed is a change of its own, so a crash before the parent's
/// [`sync_dir`] may keep any prefix of them (draw 0: none), as it would
/// of `rm -r`'s.
///
/// # Errors
///
/// `NotFound`, `NotADirectory` (a file); for `/`, its contents go and then
/// `ResourceBusy`.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::remove_dir_all", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let Entry::Dir(dir) = disk.resolve(&path)? else {
        return Err(os_error(ENOTDIR));
    };
    disk.remove_below(dir);
    let Some((parent, name)) = disk.parent_of(&path)? else {
        return Err(os_error(EBUSY));
    };
    disk.remove(parent, name);
    Ok(())
}

/// `Ok(true)` when something is at `path`, `Ok(false)` when nothing is;
/// other errors (a file used as a directory: `NotADirectory`) as they are.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let (world_rc, node, path) = begin("asyncsim::fs::try_exists", path.as_ref()).await?;
    let world = world_rc.borrow();
    match world.nodes[node].disk.resolve(&path) {
        Ok(_) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// The absolute path, without `.` or `..`, of what exists at `path`
/// (relative paths start at `/`; the disk has no links to follow). Each
/// directory a `..` leaves must exist, as the OS walks it.
///
/// # Errors
///
/// `NotFound`, `NotADirectory`, `InvalidInput` (`..` above `/`).
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let raw = path.as_ref();
    let (world_rc, node, normal) = begin("asyncsim::fs::canonicalize", raw).await?;
    let world = world_rc.borrow();
    let disk = &world.nodes[node].disk;
    let mut walked = PathBuf::from("/");
    for component in raw.components() {
        match component {
            Component::Normal(name) => walked.push(name),
            Component::ParentDir => {
                if let Entry::File(_) = disk.resolve(&walked)? {
                    return Err(os_error(ENOTDIR));
                }
                walked.pop();
            }
            _ => {}
        }
    }
    disk.resolve(&normal)?;
    Ok(normal)
}

/// Makes every create, rename and remove in directory `path` durable, and
/// the creation of `path` itself (and of the directories above it).
pub async fn sync_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::sync_dir", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let Entry::Dir(dir) = disk.resolve(&path)? else {
        return Err(os_error(ENOTDIR));
    };
    disk.sync_dir(dir);
    Ok(())
}

/// What [`metadata`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    len: u64,
    is_dir: bool,
}

impl Metadata {
    /// The file's length in bytes (0 for a directory).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// True for a file.
    pub fn is_file(&self) -> bool {
        !self.is_dir
    }

    /// False: the disk has no links.
    pub fn is_symlink(&self) -> bool {
        false
    }

    /// A file or a directory.
    pub fn file_type(&self) -> FileType {
        FileType {
            is_dir: self.is_dir,
        }
    }

    /// `0o644` for a file, `0o755` for a directory: the disk keeps no
    /// permissions and checks none, so nothing is read-only.
    #[cfg(unix)]
    pub fn permissions(&self) -> std::fs::Permissions {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(if self.is_dir { 0o755 } else { 0o644 })
    }
}

/// What [`Metadata::file_type`] says: a file or a directory (the disk has
/// no links).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileType {
    is_dir: bool,
}

impl FileType {
    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// True for a file.
    pub fn is_file(&self) -> bool {
        !self.is_dir
    }

    /// False: the disk has no links.
    pub fn is_symlink(&self) -> bool {
        false
    }
}

/// A file's or directory's metadata.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let (world_rc, node, path) = begin("asyncsim::fs::metadata", path.as_ref()).await?;
    let world = world_rc.borrow();
    let disk = &world.nodes[node].disk;
    Ok(match disk.resolve(&path)? {
        Entry::File(inode) => Metadata {
            len: disk.inodes[inode].current.len() as u64,
            is_dir: false,
        },
        Entry::Dir(_) => Metadata {
            len: 0,
            is_dir: true,
        },
    })
}

/// The paths of the entries of a directory, sorted by name.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let (world_rc, node, path) = begin("asyncsim::fs::read_dir", path.as_ref()).await?;
    let world = world_rc.borrow();
    let disk = &world.nodes[node].disk;
    let Entry::Dir(dir) = disk.resolve(&path)? else {
        return Err(os_error(ENOTDIR));
    };
    Ok(disk
        .current
        .children(dir)
        .into_iter()
        .map(|(name, _)| path.join(name))
        .collect())
}
/// How to open a file: `std::fs::OpenOptions`'s flags and builder (methods
/// on `&mut self`, so both `OpenOptions::new().read(true).open(p)` and a
/// `let mut options` set flag by flag work).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    create: bool,
    create_new: bool,
    truncate: bool,
}

impl OpenOptions {
    /// No flags set.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }
    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.read = read;
        self
    }
    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.write = write;
        self
    }
    /// Every write goes to the end (implies writing).
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.append = append;
        self
    }
    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.create = create;
        self
    }
    /// Create the file; fail with `AlreadyExists` if something has its
    /// name (needs `write` or `append`).
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.create_new = create_new;
        self
    }
    /// Truncate the file to 0 bytes (needs `write`, not `append`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.truncate = truncate;
        self
    }

    /// std's checks of the flags, made before the OS is asked (so before
    /// any draw): `InvalidInput` as std gives it.
    fn check(&self) -> io::Result<()> {
        let problem = match (self.read, self.write, self.append) {
            (false, false, false) => Some("no access mode: set read, write or append"),
            (_, false, false) if self.truncate || self.create || self.create_new => {
                Some("creating or truncating a file requires write or append access")
            }
            (_, _, true) if self.truncate && !self.create_new => {
                Some("a file opened for appending cannot be truncated")
            }
            _ => None,
        };
        match problem {
            Some(problem) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("asyncsim::fs::OpenOptions: {problem} (as std::fs::OpenOptions)"),
            )),
            None => Ok(()),
        }
    }

    /// Opens the file on the calling task's node.
    ///
    /// # Errors
    ///
    /// As std on Linux: `NotFound`, `AlreadyExists` (`create_new`),
    /// `IsADirectory` (a directory opened for writing), `NotADirectory`,
    /// `InvalidInput` (flags std refuses). A directory opened read-only is a
    /// handle whose `sync_all`/`sync_data` is [`sync_dir`] (Linux's way to
    /// sync a directory); reading it is `IsADirectory`.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        self.check()?;
        let (world_rc, node, path) =
            begin("asyncsim::fs::OpenOptions::open", path.as_ref()).await?;
        let opened = world_rc.borrow_mut().nodes[node]
            .disk
            .open_inode(&path, self)?;
        let (inode, dir) = match opened {
            Entry::File(inode) => (inode, None),
            Entry::Dir(dir) => (usize::MAX, Some(dir)),
        };
        let incarnation = world_rc.borrow().nodes[node].incarnation;
        Ok(File {
            world: world_rc,
            node,
            incarnation,
            inode,
            dir,
            position: 0,
            read: self.read,
            write: self.write || self.append,
            append: self.append,
        })
    }
}

/// An open file: `futures::io::{AsyncRead, AsyncWrite, AsyncSeek}`.
///
/// ```
/// use asyncsim_sim::{fs, Config, Sim};
/// use futures::AsyncWriteExt;
/// let run = Sim::new(Config::new()).run(async {
///     let mut log = fs::File::create("/log").await.unwrap();
///     log.write_all(b"entry\n").await.unwrap();
///     log.sync_all().await.unwrap(); // survives a crash from here on
///     fs::read("/log").await.unwrap()
/// });
/// assert_eq!(run.result.unwrap(), b"entry\n");
/// ```
pub struct File {
    world: WorldRc,
    node: usize,
    incarnation: NodeId,
    /// The file's inode (`usize::MAX` for a directory).
    inode: usize,
    /// The directory opened, for a directory's handle.
    dir: Option<DirId>,
    position: u64,
    read: bool,
    write: bool,
    append: bool,
}

impl File {
    /// Creates (or truncates) a file for writing.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Opens a file for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    fn check(&self, world: &World) -> io::Result<()> {
        if !same_run(world.run_id) {
            return Err(io::Error::other(
                "fs::File belongs to another run: a file handle cannot outlive the simulation that made it",
            ));
        }
        if !world.alive(self.node, self.incarnation) {
            return Err(io::Error::other(format!(
                "fs::File of node `{}`, which crashed: its open files died with it",
                world.nodes[self.node].name
            )));
        }
        Ok(())
    }

    /// Another handle to the same open file (its own position).
    pub fn try_clone(&self) -> io::Result<File> {
        self.check(&self.world.borrow())?;
        Ok(File {
            world: self.world.clone(),
            node: self.node,
            incarnation: self.incarnation,
            inode: self.inode,
            dir: self.dir,
            position: self.position,
            read: self.read,
            write: self.write,
            append: self.append,
        })
    }

    /// Makes the file's bytes and its directory entry durable; for a
    /// directory, what [`sync_dir`] makes durable.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        operation(&self.world, self.node, "asyncsim::fs::File::sync_all").await?;
        let mut world = self.world.borrow_mut();
        self.check(&world)?;
        let disk = &mut world.nodes[self.node].disk;
        if let Some(dir) = self.dir {
            disk.sync_dir(dir);
            return Ok(());
        }
        disk.sync_inode_data(self.inode);
        disk.sync_inode_entry(self.inode);
        Ok(())
    }

    /// Makes the file's bytes durable; for a directory, what [`sync_dir`]
    /// makes durable (a directory's entries are its data).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        operation(&self.world, self.node, "asyncsim::fs::File::sync_data").await?;
        let mut world = self.world.borrow_mut();
        self.check(&world)?;
        let disk = &mut world.nodes[self.node].disk;
        match self.dir {
            Some(dir) => disk.sync_dir(dir),
            None => disk.sync_inode_data(self.inode),
        }
        Ok(())
    }

    /// Truncates or extends the file (zeros).
    pub async fn set_len(&self, len: u64) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        if !self.write {
            return Err(os_error(EBADF));
        }
        fail_maybe(&self.world, self.node, "asyncsim::fs::File::set_len")?;
        let mut world = self.world.borrow_mut();
        let inode = &mut world.nodes[self.node].disk.inodes[self.inode];
        let op = WriteOp::SetLen(len);
        apply_write(&mut inode.current, &op);
        inode.pending.push(op);
        Ok(())
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let world = self.world.borrow();
        self.check(&world)?;
        if self.dir.is_some() {
            return Ok(Metadata {
                len: 0,
                is_dir: true,
            });
        }
        Ok(Metadata {
            len: world.nodes[self.node].disk.inodes[self.inode].current.len() as u64,
            is_dir: false,
        })
    }

    fn write_bytes(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        if !self.write {
            return Err(os_error(EBADF));
        }
        fail_maybe(&self.world, self.node, "asyncsim::fs::File::write")?;
        let mut world = self.world.borrow_mut();
        let inode = &mut world.nodes[self.node].disk.inodes[self.inode];
        if self.append {
            self.position = inode.current.len() as u64;
        }
        let op = WriteOp::Write {
            offset: self.position,
            data: buf.to_vec(),
        };
        apply_write(&mut inode.current, &op);
        inode.pending.push(op);
        self.position += buf.len() as u64;
        Ok(())
    }
}

impl futures_io::AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let world = self.world.borrow();
        self.check(&world)?;
        if !self.read {
            return Poll::Ready(Err(os_error(EBADF)));
        }
        if self.dir.is_some() {
            return Poll::Ready(Err(os_error(EISDIR)));
        }
        let data = &world.nodes[self.node].disk.inodes[self.inode].current;
        let start = (self.position as usize).min(data.len());
        let count = (data.len() - start).min(buf.len());
        buf[..count].copy_from_slice(&data[start..start + count]);
        drop(world);
        self.position += count as u64;
        Poll::Ready(Ok(count))
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_bytes(buf).map(|()| buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl futures_io::AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        position: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let len = {
            let world = self.world.borrow();
            self.check(&world)?;
            match self.dir {
                Some(_) => 0,
                None => world.nodes[self.node].disk.inodes[self.inode].current.len() as i128,
            }
        };
        let target = match position {
            SeekFrom::Start(offset) => offset as i128,
            SeekFrom::End(delta) => len + delta as i128,
            SeekFrom::Current(delta) => self.position as i128 + delta as i128,
        };
        if target < 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative position",
            )));
        }
        self.position = target as u64;
        Poll::Ready(Ok(self.position))
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.dir {
            Some(dir) => write!(f, "File(node {}, directory #{dir})", self.node),
            None => write!(f, "File(node {}, inode {})", self.node, self.inode),
        }
    }
}

/// Sets the probability that each disk operation of node `node` fails with
/// `EIO` (under Random and PCT, with faults on), in place of
/// `Config::disk_errors`; `None` goes back to it. The nemesis's error burst
/// sets 0.5, then `None`.
///
/// # Panics
///
/// When no node is called `node`, or `probability` is not in [0, 1].
pub fn set_error_rate(node: &str, probability: Option<f64>) {
    if let Some(probability) = probability {
        assert!(
            (0.0..=1.0).contains(&probability),
            "fs::set_error_rate: {probability} is not a probability in [0, 1]"
        );
    }
    let world_rc = world("asyncsim::fs::set_error_rate");
    let mut world = world_rc.borrow_mut();
    let Some(index) = world.node_by_name(node) else {
        panic!("fs::set_error_rate: no node is called `{node}`");
    };
    world.nodes[index].disk.error_rate = probability;
    let what = match probability {
        Some(probability) => format!("disk errors on `{node}` at rate {probability}"),
        None => format!("disk errors on `{node}` back to Config::disk_errors"),
    };
    super::record_fault(FaultOp::DiskErrorRate, &what);
}
