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
//! - A directory's creation is a namespace change like a file's: until it
//!   is synced, a crash keeps it only as part of the drawn prefix (draw 0:
//!   it is gone, with whatever was created in it).
//!
//! Each operation takes a drawn virtual time (reads and writes through an
//! open [`File`] hit the page cache and take none) and, while faults are on,
//! may fail with a drawn `EIO` at `Config::disk_errors`'s rate (0 by
//! default) or, during a nemesis's error burst, at the burst's. Reads
//! through an open `File` come from the page cache and never fail. Errors are the OS's own
//! (`NotFound`, `AlreadyExists`, "Is a directory", …).
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

use std::collections::{BTreeMap, BTreeSet};
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

/// One change of a namespace, made durable by a sync (or kept by a crash
/// as part of a drawn prefix).
enum MetaOp {
    Link { path: PathBuf, inode: usize },
    Unlink { path: PathBuf },
    Rename { from: PathBuf, to: PathBuf },
    MkDir { path: PathBuf },
}

impl MetaOp {
    /// True when the change is an entry of directory `dir`.
    fn touches_dir(&self, dir: &Path) -> bool {
        let parent = |path: &PathBuf| path.parent() == Some(dir);
        match self {
            MetaOp::Link { path, .. } | MetaOp::Unlink { path } | MetaOp::MkDir { path } => {
                parent(path)
            }
            MetaOp::Rename { from, to } => parent(from) || parent(to),
        }
    }

    /// The directory an entry is made in (whose creation must be durable
    /// first).
    fn target_dir(&self) -> Option<&Path> {
        match self {
            MetaOp::Link { path, .. } | MetaOp::MkDir { path } => path.parent(),
            MetaOp::Rename { to, .. } => to.parent(),
            MetaOp::Unlink { .. } => None,
        }
    }

    fn apply(&self, names: &mut BTreeMap<PathBuf, usize>, dirs: &mut BTreeSet<PathBuf>) {
        match self {
            MetaOp::Link { path, inode } => {
                names.insert(path.clone(), *inode);
            }
            MetaOp::Unlink { path } => {
                names.remove(path);
            }
            MetaOp::Rename { from, to } => {
                if let Some(inode) = names.remove(from) {
                    names.insert(to.clone(), inode);
                }
            }
            MetaOp::MkDir { path } => {
                dirs.insert(path.clone());
            }
        }
    }
}

/// One node's disk.
#[derive(Default)]
pub(crate) struct Disk {
    names: BTreeMap<PathBuf, usize>,
    durable_names: BTreeMap<PathBuf, usize>,
    /// Directories (`/` is implied).
    dirs: BTreeSet<PathBuf>,
    durable_dirs: BTreeSet<PathBuf>,
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

/// A crash of node `node`: its disk keeps what the crash model keeps.
pub(crate) fn crash(disk: &mut Disk, node: &str) {
    let meta = std::mem::take(&mut disk.pending_meta);
    let count = meta.len();
    let keep = survivors(
        count + 1,
        "asyncsim::fs crash: namespace changes kept",
        FaultOp::Kept,
        |kept| format!("the crash of `{node}` kept {kept} of {count} unsynced namespace changes"),
    );
    for op in meta.iter().take(keep) {
        op.apply(&mut disk.durable_names, &mut disk.durable_dirs);
    }
    disk.names = disk.durable_names.clone();
    disk.dirs = disk.durable_dirs.clone();
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
        if let Some(WriteOp::Write { offset, data }) = pending.get(keep) {
            let sectors = data.len().div_ceil(SECTOR_BYTES);
            let torn = survivors(
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
        inode.current = inode.durable.clone();
    }
}

impl Disk {
    fn is_dir(&self, path: &Path) -> bool {
        path == Path::new("/") || self.dirs.contains(path)
    }

    /// The parent of `path` must be a directory.
    fn check_parent(&self, path: &Path) -> io::Result<()> {
        let parent = path.parent().unwrap_or(Path::new("/"));
        if self.is_dir(parent) {
            Ok(())
        } else if self.names.contains_key(parent) {
            Err(os_error(ENOTDIR))
        } else {
            Err(os_error(ENOENT))
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
    /// creation of the directories above its new entry (the durable
    /// namespace stays a tree, as a journaled file system's does) and, for a
    /// rename, the creation of what it renames.
    fn persist_at(&mut self, position: usize) {
        let op = self.pending_meta.remove(position);
        if let MetaOp::Rename { from, .. } = &op {
            let source = self.pending_meta[..position]
                .iter()
                .rposition(|op| match op {
                    MetaOp::Link { path, .. } => path == from,
                    MetaOp::Rename { to, .. } => to == from,
                    _ => false,
                });
            if let Some(source) = source {
                self.persist_at(source);
            }
        }
        if let Some(dir) = op.target_dir() {
            let dir = dir.to_path_buf();
            self.persist_dir(&dir);
        }
        op.apply(&mut self.durable_names, &mut self.durable_dirs);
    }

    /// Makes the creation of `dir` and of the directories above it durable.
    fn persist_dir(&mut self, dir: &Path) {
        let mut missing: Vec<&Path> = dir
            .ancestors()
            .filter(|ancestor| *ancestor != Path::new("/"))
            .filter(|ancestor| !self.durable_dirs.contains(*ancestor))
            .collect();
        missing.reverse();
        let missing: Vec<PathBuf> = missing.into_iter().map(Path::to_path_buf).collect();
        for ancestor in missing {
            let position = self
                .pending_meta
                .iter()
                .position(|op| matches!(op, MetaOp::MkDir { path } if *path == ancestor));
            if let Some(position) = position {
                let op = self.pending_meta.remove(position);
                op.apply(&mut self.durable_names, &mut self.durable_dirs);
            }
        }
    }

    fn sync_inode_entry(&mut self, inode: usize) {
        self.persist(|op| matches!(op, MetaOp::Link { inode: linked, .. } if *linked == inode));
    }

    /// `sync_dir(dir)`: every change in `dir`, and `dir`'s own creation.
    fn sync_dir(&mut self, dir: &Path) {
        self.persist_dir(dir);
        self.persist(|op| op.touches_dir(dir));
    }

    fn link(&mut self, path: PathBuf, inode: usize) {
        self.names.insert(path.clone(), inode);
        self.pending_meta.push(MetaOp::Link { path, inode });
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
        crate::config::duration_to_ns(LATENCY_RANGE.0),
        crate::config::duration_to_ns(LATENCY_RANGE.1),
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
    match disk.names.get(&path) {
        Some(inode) => Ok(disk.inodes[*inode].current.clone()),
        None if disk.is_dir(&path) => Err(os_error(EISDIR)),
        None => Err(os_error(ENOENT)),
    }
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

/// Renames a file, replacing any file at `to` (atomically, as POSIX does).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, from) = begin("asyncsim::fs::rename", from.as_ref()).await?;
    let to = normalize(to.as_ref())?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let Some(inode) = disk.names.get(&from).copied() else {
        return Err(os_error(if disk.is_dir(&from) { EISDIR } else { ENOENT }));
    };
    disk.check_parent(&to)?;
    if disk.is_dir(&to) {
        return Err(os_error(EISDIR));
    }
    disk.names.remove(&from);
    disk.names.insert(to.clone(), inode);
    disk.pending_meta.push(MetaOp::Rename { from, to });
    Ok(())
}

/// Removes a file.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::remove_file", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    if disk.names.remove(&path).is_none() {
        return Err(os_error(if disk.is_dir(&path) { EISDIR } else { ENOENT }));
    }
    disk.pending_meta.push(MetaOp::Unlink { path });
    Ok(())
}

/// Creates a directory and its missing parents. Like a file's creation,
/// a directory's survives a crash only once synced: by [`sync_dir`] of its
/// parent or of itself, or by a sync that makes an entry below it durable.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::create_dir_all", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    let mut ancestors: Vec<&Path> = path.ancestors().collect();
    ancestors.reverse();
    for dir in ancestors {
        if disk.names.contains_key(dir) {
            return Err(os_error(EEXIST));
        }
        if dir != Path::new("/") && disk.dirs.insert(dir.to_path_buf()) {
            disk.pending_meta.push(MetaOp::MkDir {
                path: dir.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Makes every create, rename and remove in directory `path` durable, and
/// the creation of `path` itself (and of the directories above it).
pub async fn sync_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let (world_rc, node, path) = begin("asyncsim::fs::sync_dir", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
    if !disk.is_dir(&path) {
        return Err(os_error(if disk.names.contains_key(&path) {
            ENOTDIR
        } else {
            ENOENT
        }));
    }
    disk.sync_dir(&path);
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
}

/// A file's or directory's metadata.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let (world_rc, node, path) = begin("asyncsim::fs::metadata", path.as_ref()).await?;
    let world = world_rc.borrow();
    let disk = &world.nodes[node].disk;
    match disk.names.get(&path) {
        Some(inode) => Ok(Metadata {
            len: disk.inodes[*inode].current.len() as u64,
            is_dir: false,
        }),
        None if disk.is_dir(&path) => Ok(Metadata {
            len: 0,
            is_dir: true,
        }),
        None => Err(os_error(ENOENT)),
    }
}

/// The names in a directory, sorted.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let (world_rc, node, path) = begin("asyncsim::fs::read_dir", path.as_ref()).await?;
    let world = world_rc.borrow();
    let disk = &world.nodes[node].disk;
    if !disk.is_dir(&path) {
        return Err(os_error(if disk.names.contains_key(&path) {
            ENOTDIR
        } else {
            ENOENT
        }));
    }
    let mut entries: BTreeSet<PathBuf> = BTreeSet::new();
    for name in disk.names.keys().chain(disk.dirs.iter()) {
        if name.parent() == Some(path.as_path()) {
            entries.insert(name.clone());
        }
    }
    Ok(entries.into_iter().collect())
}

/// How to open a file (`std::fs::OpenOptions`'s flags).
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
    pub fn read(mut self, read: bool) -> OpenOptions {
        self.read = read;
        self
    }
    /// Open for writing.
    pub fn write(mut self, write: bool) -> OpenOptions {
        self.write = write;
        self
    }
    /// Every write goes to the end.
    pub fn append(mut self, append: bool) -> OpenOptions {
        self.append = append;
        self
    }
    /// Create the file if it does not exist.
    pub fn create(mut self, create: bool) -> OpenOptions {
        self.create = create;
        self
    }
    /// Create the file; fail with `AlreadyExists` if it exists.
    pub fn create_new(mut self, create_new: bool) -> OpenOptions {
        self.create_new = create_new;
        self
    }
    /// Truncate the file to 0 bytes.
    pub fn truncate(mut self, truncate: bool) -> OpenOptions {
        self.truncate = truncate;
        self
    }

    /// Opens the file on the calling task's node.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let (world_rc, node, path) =
            begin("asyncsim::fs::OpenOptions::open", path.as_ref()).await?;
        let writable = self.write || self.append;
        let inode = {
            let mut world = world_rc.borrow_mut();
            let world = &mut *world;
            let disk = &mut world.nodes[node].disk;
            if disk.is_dir(&path) {
                return Err(os_error(EISDIR));
            }
            match disk.names.get(&path).copied() {
                Some(_) if self.create_new => return Err(os_error(EEXIST)),
                Some(inode) => {
                    if self.truncate && writable {
                        let data = &mut disk.inodes[inode];
                        data.current.clear();
                        data.pending.push(WriteOp::SetLen(0));
                    }
                    inode
                }
                None if (self.create || self.create_new) && writable => {
                    disk.check_parent(&path)?;
                    let inode = disk.inodes.len();
                    disk.inodes.push(Inode::default());
                    disk.link(path.clone(), inode);
                    inode
                }
                None => return Err(os_error(ENOENT)),
            }
        };
        let incarnation = world_rc.borrow().nodes[node].incarnation;
        Ok(File {
            world: world_rc,
            node,
            incarnation,
            inode,
            position: 0,
            read: self.read || !writable,
            write: writable,
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
    inode: usize,
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
            position: self.position,
            read: self.read,
            write: self.write,
            append: self.append,
        })
    }

    /// Makes the file's bytes and its directory entry durable.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        operation(&self.world, self.node, "asyncsim::fs::File::sync_all").await?;
        let mut world = self.world.borrow_mut();
        self.check(&world)?;
        let disk = &mut world.nodes[self.node].disk;
        disk.sync_inode_data(self.inode);
        disk.sync_inode_entry(self.inode);
        Ok(())
    }

    /// Makes the file's bytes durable.
    pub async fn sync_data(&self) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        operation(&self.world, self.node, "asyncsim::fs::File::sync_data").await?;
        let mut world = self.world.borrow_mut();
        self.check(&world)?;
        world.nodes[self.node].disk.sync_inode_data(self.inode);
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
            world.nodes[self.node].disk.inodes[self.inode].current.len() as i128
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
        write!(f, "File(node {}, inode {})", self.node, self.inode)
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
