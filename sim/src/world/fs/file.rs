//! `File` and `OpenOptions`: an open file on the node's disk, behind `futures::io`'s traits.

use super::*;

/// How to open a file: `std::fs::OpenOptions`'s flags and builder (methods
/// on `&mut self`, so both `OpenOptions::new().read(true).open(p)` and a
/// `let mut options` set flag by flag work).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    pub(super) read: bool,
    pub(super) write: bool,
    pub(super) append: bool,
    pub(super) create: bool,
    pub(super) create_new: bool,
    pub(super) truncate: bool,
}

/// The times [`File::set_times`] sets: `std::fs::FileTimes`'s builder (a
/// time not set is left as it is).
#[derive(Clone, Copy, Debug, Default)]
pub struct FileTimes {
    accessed: Option<SystemTime>,
    modified: Option<SystemTime>,
}

impl FileTimes {
    /// Sets nothing.
    pub fn new() -> FileTimes {
        FileTimes::default()
    }

    /// Sets the last access time.
    #[must_use]
    pub fn set_accessed(mut self, time: SystemTime) -> FileTimes {
        self.accessed = Some(time);
        self
    }

    /// Sets the last modification time.
    #[must_use]
    pub fn set_modified(mut self, time: SystemTime) -> FileTimes {
        self.modified = Some(time);
        self
    }
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
    pub(super) fn check(&self) -> io::Result<()> {
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
        self.open_as(path.as_ref(), "asyncsim::fs::OpenOptions::open")
            .await
    }

    /// [`OpenOptions::open`] for `called`, the function the user called
    /// (`File::create`, `fs::write`, …): what its error on a crashed node
    /// (or its call outside a run) names, and the operation's draw and a
    /// drawn `EIO` in the trace ("fs::write took 1ms").
    pub(super) async fn open_as(&self, path: &Path, called: &str) -> io::Result<File> {
        self.check()?;
        let (world_rc, node, path) = begin(called, path).await?;
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
    pub(super) world: WorldRc,
    pub(super) node: usize,
    pub(super) incarnation: NodeId,
    /// The file's inode (`usize::MAX` for a directory).
    pub(super) inode: usize,
    /// The directory opened, for a directory's handle.
    pub(super) dir: Option<DirId>,
    pub(super) position: u64,
    pub(super) read: bool,
    pub(super) write: bool,
    pub(super) append: bool,
}

impl File {
    /// Creates (or truncates) a file for writing.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open_as(path.as_ref(), "asyncsim::fs::File::create")
            .await
    }

    /// Opens a file for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .open_as(path.as_ref(), "asyncsim::fs::File::open")
            .await
    }

    pub(super) fn check(&self, world: &World) -> io::Result<()> {
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
        let at = now();
        let mut world = self.world.borrow_mut();
        let inode = &mut world.nodes[self.node].disk.inodes[self.inode];
        let op = WriteOp::SetLen { len, at };
        apply_write(&mut inode.current, &op);
        inode.times.modify(at);
        inode.pending.push(op);
        Ok(())
    }

    /// Sets the file's (or the directory's) access and modification times,
    /// those `times` sets (`std::fs::File::set_times`, which needs no write
    /// access: the disk checks no permissions). Durable as a write is: a
    /// `sync_data` or `sync_all` (for a directory, its sync) makes them
    /// survive a crash; until then a crash keeps them only with the changes
    /// before them, as part of the drawn prefix.
    ///
    /// ```
    /// use asyncsim_sim::{fs, Config, Sim};
    /// use std::time::{Duration, SystemTime};
    /// let run = Sim::new(Config::new()).run(async {
    ///     let file = fs::File::create("/a").await.unwrap();
    ///     let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    ///     file.set_times(fs::FileTimes::new().set_modified(old)).await.unwrap();
    ///     (fs::metadata("/a").await.unwrap().modified().unwrap(), old)
    /// });
    /// let (modified, old) = run.result.unwrap();
    /// assert_eq!(modified, old);
    /// ```
    ///
    /// # Errors
    ///
    /// A drawn `EIO` while faults are on and the error rate is above 0.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        fail_maybe(&self.world, self.node, "asyncsim::fs::File::set_times")?;
        if times.accessed.is_none() && times.modified.is_none() {
            // Linux's utimensat with both times omitted: nothing changes.
            return Ok(());
        }
        let set = SetTimes {
            accessed: times.accessed.map(run_nanos),
            modified: times.modified.map(run_nanos),
            at: now(),
        };
        let mut world = self.world.borrow_mut();
        let disk = &mut world.nodes[self.node].disk;
        match self.dir {
            Some(dir) => disk.change(MetaOp::SetTimes { dir, set }),
            None => {
                let inode = &mut disk.inodes[self.inode];
                inode.times.set(&set);
                inode.pending.push(WriteOp::SetTimes(Box::new(set)));
            }
        }
        Ok(())
    }

    /// Sets the modification time: [`File::set_times`] with it alone.
    ///
    /// # Errors
    ///
    /// As [`File::set_times`].
    pub async fn set_modified(&self, time: SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let world = self.world.borrow();
        self.check(&world)?;
        let disk = &world.nodes[self.node].disk;
        Ok(match self.dir {
            Some(dir) => Metadata::new(0, true, disk.current.dir_times(dir)),
            None => {
                let inode = &disk.inodes[self.inode];
                Metadata::new(inode.current.len() as u64, false, inode.times)
            }
        })
    }

    pub(super) fn write_bytes(&mut self, buf: &[u8]) -> io::Result<()> {
        self.check(&self.world.borrow())?;
        if !self.write {
            return Err(os_error(EBADF));
        }
        fail_maybe(&self.world, self.node, "asyncsim::fs::File::write")?;
        let at = now();
        let mut world = self.world.borrow_mut();
        let inode = &mut world.nodes[self.node].disk.inodes[self.inode];
        if self.append {
            self.position = inode.current.len() as u64;
        }
        let op = WriteOp::Write {
            offset: self.position,
            data: buf.to_vec(),
            at,
        };
        apply_write(&mut inode.current, &op);
        // The hot path's one store of the clock (`Times::modify` without
        // its check: no change is ever later than now).
        inode.times.modified = i128::from(at);
        inode.pending.push(op);
        self.position += buf.len() as u64;
        Ok(())
    }
}

impl futures_io::AsyncRead for File {
    /// Ready at once (the bytes are on the disk): a read spends a unit of
    /// the task's budget (`task::coop`), so a loop of reads yields.
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::cx::poll_proceed(context));
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
    /// Ready at once; spends a unit of the task's budget, as a read does.
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::cx::poll_proceed(context));
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
