//! `tokio::fs` on the calling task's node's simulated disk: operations take
//! drawn virtual time, may fail when the fault plan says so, and what
//! survives a crash of the node follows the disk's crash model (what
//! `sync_all` made durable stays; later writes survive as a drawn prefix).
//!
//! `metadata` returns the disk's own [`Metadata`] (length, file or
//! directory, times), not `std::fs::Metadata`, which only the OS can make.
//!
//! Times are kept on the run's virtual wall clock: 2000-01-01 00:00:00 UTC
//! at the start of every run, plus the virtual time since, so the same seed
//! gives the same times. `Metadata::modified` is a file's last write,
//! truncation or `set_len` (a directory's last create, remove or rename in
//! it, as Linux), or what [`File::set_times`]/[`File::set_modified`] set;
//! `created` is the birth; `accessed` follows Linux's `noatime` mount
//! option (a read never changes it). After a crash a file's times are
//! those of the changes that survived (a sync makes them durable with the
//! bytes). `std::time::SystemTime::now()` is the real clock, not
//! simulated: compare a file's times with `tokio::asyncsim::time::
//! system_now()`, the virtual one.
//!
//! The disk has no links and no permissions: `symlink_metadata` is
//! `metadata`, `canonicalize` normalises the path (each directory must
//! exist), `read_link` answers as Linux does for a path that is not a link
//! (`InvalidInput`), and `set_permissions`, `hard_link` and `symlink` are
//! `Unsupported` errors whose message names what to do instead.
//!
//! ```
//! use asyncsim_tokio as tokio;
//! use tokio::io::AsyncWriteExt;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let text = runtime.block_on(async {
//!     tokio::fs::create_dir_all("/data").await.unwrap();
//!     let mut file = tokio::fs::File::create("/data/log").await.unwrap();
//!     file.write_all(b"one line\n").await.unwrap();
//!     file.sync_all().await.unwrap();
//!     tokio::fs::read_to_string("/data/log").await.unwrap()
//! });
//! assert_eq!(text, "one line\n");
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use crate::registry::{self, LocalFuture};

/// What [`Metadata::file_type`] and [`DirEntry::file_type`] say.
pub use asyncsim::fs::FileType;
/// What [`metadata`] reports: the simulated disk's metadata.
pub use asyncsim::fs::Metadata;

/// The whole file.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::read(path).await }).await
}

/// The whole file as UTF-8 text.
///
/// # Errors
///
/// `InvalidData` when the file is not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::read_to_string(path).await }).await
}

/// Creates or replaces the file with `contents`.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    let contents = contents.as_ref().to_vec();
    LocalFuture::new(async move { asyncsim::fs::write(path, contents).await }).await
}

/// Renames a file (durable once the directory or the file is synced).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_path_buf(), to.as_ref().to_path_buf());
    LocalFuture::new(async move { asyncsim::fs::rename(from, to).await }).await
}

/// Removes a file.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::remove_file(path).await }).await
}

/// Creates a directory and its missing parents.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::create_dir_all(path).await }).await
}

/// Creates one directory.
///
/// # Errors
///
/// `AlreadyExists` when something is there, `NotFound` when the parent is
/// missing.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::create_dir(path).await }).await
}

/// Removes an empty directory.
///
/// # Errors
///
/// `DirectoryNotEmpty`, `NotFound`, `NotADirectory` (a file).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::remove_dir(path).await }).await
}

/// Removes a directory and everything in it (a crash before the parent's
/// `sync_dir` may keep any prefix of the removals).
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::remove_dir_all(path).await }).await
}

/// Creates directories: one, or with its missing parents
/// ([`DirBuilder::recursive`]).
#[derive(Clone, Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
}

impl DirBuilder {
    /// Not recursive.
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Create the missing parents too (and accept a directory already
    /// there).
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// Accepted, and not kept: the simulated disk has no permissions.
    pub fn mode(&mut self, _mode: u32) -> &mut DirBuilder {
        self
    }

    /// Creates `path` ([`create_dir_all`] when recursive, else
    /// [`create_dir`]).
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        if self.recursive {
            create_dir_all(path).await
        } else {
            create_dir(path).await
        }
    }
}

/// A file's or directory's metadata.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::metadata(path).await }).await
}

/// `metadata`: the simulated disk has no links to not follow.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    metadata(path).await
}

/// `Ok(true)` when something is at `path`, `Ok(false)` when nothing is.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::try_exists(path).await }).await
}

/// Copies a file's contents; the number of bytes.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_path_buf(), to.as_ref().to_path_buf());
    LocalFuture::new(async move { asyncsim::fs::copy(from, to).await }).await
}

/// The absolute path without `.` or `..` (relative paths start at `/`),
/// `NotFound` when nothing is there.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::canonicalize(path).await }).await
}

/// What Linux gives for a path that is not a symbolic link, as none is on
/// the simulated disk: `InvalidInput`, or `NotFound` when nothing is there.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    metadata(path).await?;
    Err(io::Error::from_raw_os_error(22))
}

fn refused(what: &str, instead: &str) -> io::Error {
    crate::explain::unsupported(
        &format!("fs::{what}"),
        &format!(
            "{instead}, or keep this call out of the simulated test (behind a trait whose \
             simulated implementation does without it)"
        ),
    )
}

fn no_std_file(what: &str) -> String {
    format!(
        "tokio::fs::{what} cannot be simulated: a std::fs::File is the real disk's, and a \
         simulated run's files are on its node's disk; open the file with tokio::fs::File::open \
         or OpenOptions (and read it with tokio's AsyncReadExt), or keep this call out of the \
         simulated test"
    )
}

/// Refused: the simulated disk has no permissions (every file can be read
/// and written), so a mode set here could not be honoured.
///
/// # Errors
///
/// Always `Unsupported`, naming the alternative.
pub async fn set_permissions(
    _path: impl AsRef<Path>,
    _permissions: std::fs::Permissions,
) -> io::Result<()> {
    Err(refused(
        "set_permissions",
        "the simulated disk has no permissions (every file can be read and written); \
         ignore this call's Unsupported error where permissions do not matter to the test",
    ))
}

/// Refused: the simulated disk gives each file one name.
///
/// # Errors
///
/// Always `Unsupported`, naming the alternative.
pub async fn hard_link(_original: impl AsRef<Path>, _link: impl AsRef<Path>) -> io::Result<()> {
    Err(refused(
        "hard_link",
        "the simulated disk gives each file one name; use tokio::fs::copy for a second \
         file with the same bytes, or tokio::fs::rename to move it",
    ))
}

/// Refused: the simulated disk has no symbolic links.
///
/// # Errors
///
/// Always `Unsupported`, naming the alternative.
pub async fn symlink(_original: impl AsRef<Path>, _link: impl AsRef<Path>) -> io::Result<()> {
    Err(refused(
        "symlink",
        "the simulated disk has no symbolic links; use the target's own path (or \
         tokio::fs::copy, or tokio::fs::rename)",
    ))
}

/// Makes the directory's entries (creations, renames, removals) durable.
pub async fn sync_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_path_buf();
    LocalFuture::new(async move { asyncsim::fs::sync_dir(path).await }).await
}

/// The entries of a directory, sorted by name.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_path_buf();
    let entries = LocalFuture::new(async move { asyncsim::fs::read_dir(path).await }).await?;
    Ok(ReadDir {
        entries: entries.into_iter(),
    })
}

/// The entries of a directory (see [`read_dir`]).
#[derive(Debug)]
pub struct ReadDir {
    entries: std::vec::IntoIter<PathBuf>,
}

impl ReadDir {
    /// The next entry, or `None` after the last.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        Ok(self.entries.next().map(|path| DirEntry { path }))
    }

    /// Polls for the next entry (never waits: the names were read at once).
    pub fn poll_next_entry(
        &mut self,
        _context: &mut Context<'_>,
    ) -> Poll<io::Result<Option<DirEntry>>> {
        Poll::Ready(Ok(self.entries.next().map(|path| DirEntry { path })))
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug)]
pub struct DirEntry {
    path: PathBuf,
}

impl DirEntry {
    /// The entry's full path.
    pub fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// The entry's name.
    pub fn file_name(&self) -> std::ffi::OsString {
        self.path.file_name().unwrap_or_default().to_os_string()
    }

    /// The entry's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        metadata(&self.path).await
    }

    /// A number for the entry's path (the disk has no inodes): equal for
    /// the same path, in any run; unlike an inode's, a rename changes it.
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        // FNV-1a over the path's bytes: the same on every platform and run.
        use std::os::unix::ffi::OsStrExt;
        self.path
            .as_os_str()
            .as_bytes()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
            })
    }

    /// A file or a directory.
    pub async fn file_type(&self) -> io::Result<FileType> {
        Ok(metadata(&self.path).await?.file_type())
    }
}

/// How to open a file: tokio's builder (`&mut self` methods), over the
/// simulated disk's own (`asyncsim::fs::OpenOptions`, which checks the flags
/// as std does).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions(asyncsim::fs::OpenOptions);

impl OpenOptions {
    /// Every option off.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Empty the file on opening.
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if missing.
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file; fail if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// Accepted, and not kept: the simulated disk has no permissions.
    pub fn mode(&mut self, _mode: u32) -> &mut OpenOptions {
        self
    }

    /// Accepted, and not kept: the simulated disk has no `O_*` flags
    /// beyond the options above.
    pub fn custom_flags(&mut self, _flags: i32) -> &mut OpenOptions {
        self
    }

    /// Opens `path` with these options.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_path_buf();
        let options = self.0.clone();
        LocalFuture::new(async move { options.open(path).await.map(File::from_sim) }).await
    }
}

/// The run thread's side of an open file.
struct FileEntry {
    file: RefCell<asyncsim::fs::File>,
    /// A seek started by `start_seek`, finished by `poll_complete`.
    seek: Cell<Option<SeekFrom>>,
    /// What `set_max_buf_size` set (kept, not used: see there).
    max_buf_size: Cell<usize>,
}

/// tokio's default `max_buf_size` (2 MiB).
const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// Timestamps for a file, for [`File::set_times`]: tokio's `FileTimes`
/// (its own type in tokio 1.54, not `std::fs::FileTimes`), the same
/// builder. A time not set is left as it is.
#[derive(Debug, Clone, Default)]
#[must_use = "must be applied to a file via `File::set_times` to have any effect"]
pub struct FileTimes {
    accessed: Option<std::time::SystemTime>,
    modified: Option<std::time::SystemTime>,
    #[cfg(any(windows, target_vendor = "apple"))]
    created: Option<std::time::SystemTime>,
}

impl FileTimes {
    /// Creates a new empty [`FileTimes`]: unset timestamps are left
    /// unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the last access time.
    pub fn set_accessed(mut self, t: std::time::SystemTime) -> Self {
        self.accessed = Some(t);
        self
    }

    /// Sets the last modification time.
    pub fn set_modified(mut self, t: std::time::SystemTime) -> Self {
        self.modified = Some(t);
        self
    }

    /// Sets the creation time: refused by [`File::set_times`] (the
    /// simulated disk keeps a birth time, as Linux does, which nothing
    /// sets).
    #[cfg(any(windows, target_vendor = "apple"))]
    pub fn set_created(mut self, t: std::time::SystemTime) -> Self {
        self.created = Some(t);
        self
    }

    fn into_sim(self) -> io::Result<asyncsim::fs::FileTimes> {
        #[cfg(any(windows, target_vendor = "apple"))]
        if self.created.is_some() {
            return Err(refused(
                "FileTimes::set_created",
                "the simulated disk keeps a birth time as Linux does, which nothing sets; \
                 set the modification time instead",
            ));
        }
        let mut times = asyncsim::fs::FileTimes::new();
        if let Some(accessed) = self.accessed {
            times = times.set_accessed(accessed);
        }
        if let Some(modified) = self.modified {
            times = times.set_modified(modified);
        }
        Ok(times)
    }
}

/// An open file on the node's disk: tokio's `AsyncRead`, `AsyncWrite` and
/// `AsyncSeek`. `Send` like tokio's.
pub struct File {
    key: u64,
}

// `sync_all`, `sync_data`, `set_len` and `metadata` hold a shared borrow of
// the file across the disk's drawn delay. Nothing can want it mutably
// meanwhile: the face borrows it mutably only inside `poll_read`,
// `poll_write` and `poll_complete`, which take `Pin<&mut File>`, and a
// `&mut File` cannot coexist with the `&File` these methods are called on.
#[allow(clippy::await_holding_refcell_ref)]
impl File {
    fn from_sim(file: asyncsim::fs::File) -> File {
        File {
            key: registry::insert(Rc::new(FileEntry {
                file: RefCell::new(file),
                seek: Cell::new(None),
                max_buf_size: Cell::new(DEFAULT_MAX_BUF_SIZE),
            })),
        }
    }

    fn entry(&self) -> Rc<FileEntry> {
        entry(self.key)
    }

    /// Opens for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates (or empties) for writing.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// A builder: [`OpenOptions::new`].
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Refused: a `std::fs::File` is the real disk's, not the node's.
    ///
    /// # Panics
    ///
    /// Always, naming what to use instead (tokio's signature has no error
    /// to return).
    #[track_caller]
    pub fn from_std(_std: std::fs::File) -> File {
        panic!("{}", no_std_file("File::from_std"))
    }

    /// Refused: a simulated file has no `std::fs::File`.
    ///
    /// # Panics
    ///
    /// Always, naming what to use instead.
    pub async fn into_std(self) -> std::fs::File {
        panic!("{}", no_std_file("File::into_std"))
    }

    /// Refused, as [`File::into_std`].
    ///
    /// # Panics
    ///
    /// Always, naming what to use instead (an `Err` would say "try
    /// again later").
    #[track_caller]
    pub fn try_into_std(self) -> Result<std::fs::File, File> {
        panic!("{}", no_std_file("File::try_into_std"))
    }

    /// Creates a new file for reading and writing.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` when something is at `path`.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// Accepted and kept: tokio's largest chunk moved to its blocking pool
    /// in one operation. Here a write goes to the disk as it is, so it
    /// changes nothing.
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        self.entry().max_buf_size.set(max_buf_size);
    }

    /// What `set_max_buf_size` set (tokio's default, 2 MiB, otherwise).
    pub fn max_buf_size(&self) -> usize {
        self.entry().max_buf_size.get()
    }

    /// Refused: the simulated disk has no permissions.
    ///
    /// # Errors
    ///
    /// Always `Unsupported`, naming the alternative (as
    /// [`set_permissions`]).
    pub async fn set_permissions(&self, permissions: std::fs::Permissions) -> io::Result<()> {
        set_permissions("", permissions).await
    }

    /// Sets the file's (or directory's) access and modification times, those
    /// `times` sets. Durable as a write is: `sync_data` or `sync_all`
    /// makes them survive a crash.
    ///
    /// ```
    /// use asyncsim_tokio as tokio;
    /// use std::time::{Duration, SystemTime};
    ///
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    /// let modified = runtime.block_on(async {
    ///     let file = tokio::fs::File::create("/log").await.unwrap();
    ///     let times = tokio::fs::FileTimes::new().set_modified(old);
    ///     file.set_times(times).await.unwrap();
    ///     tokio::fs::metadata("/log").await.unwrap().modified().unwrap()
    /// });
    /// assert_eq!(modified, old);
    /// ```
    ///
    /// # Errors
    ///
    /// A drawn disk error, when the fault plan has them.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        let times = times.into_sim()?;
        let entry = self.entry();
        LocalFuture::new(async move { entry.file.borrow().set_times(times).await }).await
    }

    /// Sets the modification time: [`File::set_times`] with it alone.
    ///
    /// # Errors
    ///
    /// As [`File::set_times`].
    pub async fn set_modified(&self, time: std::time::SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Makes the file's data and metadata durable.
    pub async fn sync_all(&self) -> io::Result<()> {
        let entry = self.entry();
        LocalFuture::new(async move { entry.file.borrow().sync_all().await }).await
    }

    /// Makes the file's data durable.
    pub async fn sync_data(&self) -> io::Result<()> {
        let entry = self.entry();
        LocalFuture::new(async move { entry.file.borrow().sync_data().await }).await
    }

    /// Truncates or extends the file.
    pub async fn set_len(&self, len: u64) -> io::Result<()> {
        let entry = self.entry();
        LocalFuture::new(async move { entry.file.borrow().set_len(len).await }).await
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.entry();
        LocalFuture::new(async move { entry.file.borrow().metadata().await }).await
    }

    /// Another handle to the same open file (tokio's `try_clone`: both
    /// write to the same file; one synced makes the other's writes durable
    /// too). Unlike Linux's `dup`, the simulated handle keeps a position of
    /// its own: open in append mode to share the end of the file.
    pub async fn try_clone(&self) -> io::Result<File> {
        let file = self.entry().file.borrow().try_clone()?;
        Ok(File::from_sim(file))
    }
}

fn entry(key: u64) -> Rc<FileEntry> {
    registry::get(key).unwrap_or_else(|| registry::foreign("a tokio::fs::File"))
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let entry = self.entry();
        let mut file = entry.file.borrow_mut();
        let unfilled = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut *file), context, unfilled) {
            Poll::Ready(Ok(read)) => {
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let entry = self.entry();
        let mut file = entry.file.borrow_mut();
        futures_io::AsyncWrite::poll_write(Pin::new(&mut *file), context, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let entry = self.entry();
        let mut file = entry.file.borrow_mut();
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut *file), context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let entry = self.entry();
        let mut file = entry.file.borrow_mut();
        futures_io::AsyncWrite::poll_close(Pin::new(&mut *file), context)
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.entry().seek.set(Some(position));
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let entry = self.entry();
        let position = entry.seek.get().unwrap_or(SeekFrom::Current(0));
        let mut file = entry.file.borrow_mut();
        let poll = futures_io::AsyncSeek::poll_seek(Pin::new(&mut *file), context, position);
        if poll.is_ready() {
            entry.seek.set(None);
        }
        poll
    }
}

impl Drop for File {
    fn drop(&mut self) {
        registry::remove(self.key);
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match registry::get::<FileEntry>(self.key) {
            Some(entry) => entry.file.borrow().fmt(f),
            None => f.debug_struct("File").finish_non_exhaustive(),
        }
    }
}
