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
//! - Times ([`Metadata::modified`], `accessed`, `created`) are on the run's
//!   virtual wall clock ([`time::system_now`](crate::time::system_now):
//!   2000-01-01 00:00:00 UTC at every run's start, plus the virtual time
//!   since). A file's modified time is its last write, truncation or
//!   `set_len`, a directory's the last create, remove or rename in it (as
//!   Linux), or what [`File::set_times`] set; a read changes none (Linux's
//!   `noatime`). Each change carries its time, so times travel with what
//!   they describe: a sync makes them durable with the bytes (`sync_data`
//!   too) or the entries, and a crash keeps the times of the changes it
//!   kept — after a restart, a file's modified time is its last surviving
//!   change's, never earlier than the last sync.
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
//! Each node's disk starts empty, and a relative path starts at `/`. A file
//! the test made with `std::fs` (a fixture, a file under
//! `std::env::temp_dir()`) is on the real disk, not on this one: reading it
//! here is `NotFound`, in std's words ("No such file or directory (os error
//! 2)"), which name no path and no node. Write such a file inside the run
//! first (its bytes from `include_bytes!` or a `std::fs::read` before it).
//!
//! ```
//! use asyncsim_sim::{fs, Config, Sim};
//! let run = Sim::new(Config::new()).run(async {
//!     let real_file = fs::read("/etc/hostname").await.unwrap_err(); // not the real disk's
//!     fs::write("notes.txt", b"relative").await.unwrap(); // a relative path starts at `/`
//!     (real_file.kind(), fs::read("/notes.txt").await.unwrap())
//! });
//! assert_eq!(
//!     run.result.unwrap(),
//!     (std::io::ErrorKind::NotFound, b"relative".to_vec())
//! );
//! ```
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
use std::time::{Duration, SystemTime};

use super::{cx, same_run, world, World, WorldRc};
use crate::api::time::{run_nanos, system_time};
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

/// The run's virtual time now: when a change to the disk is made.
fn now() -> u64 {
    cx::now_ns("asyncsim::fs")
}

// A node's disk by concept (a pure split: ARCHITECTURE.md's codemap): its
// files' contents and times, its names, the disk and its operations, the
// crash model; and the `File` handle.
mod crash;
mod disk;
mod file;
mod inode;
mod namespace;

pub(crate) use crash::crash;
pub(crate) use disk::Disk;
pub use file::{File, FileTimes, OpenOptions};
use inode::*;
use namespace::*;

/// Normalises a path on the simulated disk: relative paths start at `/`,
/// and `..` may not climb above the root.
fn normalize(path: &Path) -> io::Result<PathBuf> {
    if path.as_os_str().is_empty() {
        // Linux's answer for "" (it names nothing, not the root).
        return Err(os_error(ENOENT));
    }
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
        return Err(world.crashed_here(node, what));
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

/// Starts a disk operation on the calling task's node: `what` is the
/// user's call (`fs::write`, not the `OpenOptions::open` it makes), named
/// by a crashed node's error and by the draw's and a drawn error's words.
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

/// [`begin`], then the directory at `path` (`NotADirectory` for a file).
async fn begin_dir(what: &str, path: &Path) -> io::Result<(WorldRc, usize, PathBuf, DirId)> {
    let (world_rc, node, path) = begin(what, path).await?;
    let Entry::Dir(dir) = world_rc.borrow().nodes[node].disk.resolve(&path)? else {
        return Err(os_error(ENOTDIR));
    };
    Ok((world_rc, node, path, dir))
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
        .open_as(path.as_ref(), "asyncsim::fs::write")
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
        let at = now();
        let op = WriteOp::Write {
            offset: 0,
            data,
            at,
        };
        apply_write(&mut inodes[target].current, &op);
        inodes[target].times.modify(at);
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
    let at = now();
    disk.change(MetaOp::Rename {
        from: source,
        to: target,
        entry,
        at,
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
    let (world_rc, node, path, dir) = begin_dir("asyncsim::fs::remove_dir", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
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
    let (world_rc, node, path, dir) =
        begin_dir("asyncsim::fs::remove_dir_all", path.as_ref()).await?;
    let mut world = world_rc.borrow_mut();
    let disk = &mut world.nodes[node].disk;
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
    let (world_rc, node, _, dir) = begin_dir("asyncsim::fs::sync_dir", path.as_ref()).await?;
    world_rc.borrow_mut().nodes[node].disk.sync_dir(dir);
    Ok(())
}

/// What [`metadata`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    len: u64,
    is_dir: bool,
    modified: SystemTime,
    accessed: SystemTime,
    created: SystemTime,
}

impl Metadata {
    fn new(len: u64, is_dir: bool, times: Times) -> Metadata {
        Metadata {
            len,
            is_dir,
            modified: system_time(times.modified),
            accessed: system_time(times.accessed),
            created: system_time(times.created),
        }
    }

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

    /// When the contents last changed, on the run's virtual wall clock
    /// ([`time::system_now`](crate::time::system_now): 2000-01-01 00:00:00
    /// UTC at the start of every run, plus the virtual time since): a
    /// file's last write, truncation or `set_len`; a directory's last
    /// create, remove or rename in it (as Linux); or what
    /// [`File::set_times`] set. After a crash, the time of the last change
    /// the crash kept (a sync made every change before it durable, its
    /// times with it).
    ///
    /// ```
    /// use asyncsim_sim::{fs, time, Config, Sim};
    /// use std::time::Duration;
    /// let run = Sim::new(Config::new()).run(async {
    ///     fs::write("/a", b"x").await.unwrap();
    ///     let written = time::system_now();
    ///     time::sleep(Duration::from_secs(60)).await;
    ///     (fs::metadata("/a").await.unwrap().modified().unwrap(), written)
    /// });
    /// let (modified, written) = run.result.unwrap();
    /// assert_eq!(modified, written); // not a minute later: no write since
    /// ```
    ///
    /// # Errors
    ///
    /// None: the `Result` is `std`'s signature.
    pub fn modified(&self) -> io::Result<SystemTime> {
        Ok(self.modified)
    }

    /// When it was last read, as the disk keeps it: Linux's `noatime`
    /// mount option (many a database's), so a read never changes it: its
    /// creation, or what [`File::set_times`] set.
    ///
    /// # Errors
    ///
    /// None: the `Result` is `std`'s signature.
    pub fn accessed(&self) -> io::Result<SystemTime> {
        Ok(self.accessed)
    }

    /// When it was made (its birth, which a rename keeps; `/`'s is the
    /// run's start).
    ///
    /// # Errors
    ///
    /// None: the `Result` is `std`'s signature.
    pub fn created(&self) -> io::Result<SystemTime> {
        Ok(self.created)
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
        Entry::File(inode) => {
            let inode = &disk.inodes[inode];
            Metadata::new(inode.current.len() as u64, false, inode.times)
        }
        Entry::Dir(dir) => Metadata::new(0, true, disk.current.dir_times(dir)),
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
    super::record_fault(FaultOp::DiskErrorRate, what);
}
