//! `tokio::net::unix::pipe` in a simulated run: `pipe()` is an in-memory
//! pipe between tasks of the run (Linux's 64 KiB of buffer: a writer waits
//! when it is full, and a write of at most `PIPE_BUF` (4 KiB) is whole or
//! waits; a reader at EOF gets 0, a write with the reader gone is
//! `BrokenPipe`); a FIFO on the real filesystem or a real descriptor
//! (`OpenOptions::open_*`, `from_file`, `from_owned_fd`, `into_*_fd`) is
//! outside the run, refused with an `Unsupported` error that names what to
//! use instead.

use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};

/// Linux's default pipe buffer (16 pages).
const CAPACITY: usize = 64 * 1024;

/// Linux's `PIPE_BUF`: a write of at most this many bytes is atomic, all of
/// it or (the pipe being non-blocking, as tokio's is) none: `EAGAIN`.
const PIPE_BUF: usize = 4096;

/// The pipe's insides, shared by its two ends.
#[derive(Default)]
struct Shared {
    bytes: VecDeque<u8>,
    sender_gone: bool,
    receiver_gone: bool,
    /// The tasks waiting to read, and those waiting to write.
    readers: Wakers,
    writers: Wakers,
    /// What a deadlock report calls the pipe, in the run that made it.
    name: Option<Name>,
}

/// A pipe's name in its run ("unix pipe#0 (made by `main`)": the run's
/// pipes by creation, and the task that made it; not its node, which would
/// make the run's world), and its trace label once a task waited on it.
struct Name {
    run: u64,
    number: u64,
    maker: String,
    label: Option<u32>,
}

thread_local! {
    /// The pipes made so far in the run on this thread: (run, count).
    static PIPES: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

impl Shared {
    /// The pipe's name for a pipe made now: in a run, the run's next.
    fn name_now() -> Option<Name> {
        let run = asyncsim::task::run_id()?;
        let (last_run, count) = PIPES.get();
        let number = if last_run == run { count } else { 0 };
        PIPES.set((run, number + 1));
        Some(Name {
            run,
            number,
            maker: asyncsim::task::current_name().unwrap_or_default(),
            label: None,
        })
    }

    /// Says the task being polled waits to read or write (`op`) the pipe,
    /// as a socket's wait says it, for a deadlock report ("read of unix
    /// pipe#0 (made by `main`)").
    fn say_waiting(&mut self, op: asyncsim::trace::SocketWait) {
        let Some(name) = self.name.as_mut() else {
            return;
        };
        if asyncsim::task::run_id() != Some(name.run) {
            return;
        }
        let label = *name.label.get_or_insert_with(|| {
            asyncsim::net::wait_label(format!(
                "unix pipe#{} (made by `{}`)",
                name.number, name.maker
            ))
        });
        asyncsim::net::waits_on(op, label);
    }
}

/// The tasks waiting on one end of the pipe, each once (known by its
/// waker's data word), in the order they began: woken all at once, and
/// forgotten, when the pipe changes, as tokio wakes every task waiting for
/// a readiness (`readable()` from several tasks on one `Receiver`, one
/// there while another reads); woken, each looks again and waits again if
/// it must. A wait given up (its future dropped) is woken once more at
/// most.
#[derive(Default)]
struct Wakers(Vec<Waker>);

impl Wakers {
    /// `waker`'s task waits (again).
    fn park(&mut self, waker: &Waker) {
        match self.0.iter_mut().find(|kept| kept.data() == waker.data()) {
            Some(kept) => kept.clone_from(waker),
            None => self.0.push(waker.clone()),
        }
    }

    /// Wakes every waiting task, the oldest first.
    fn wake(&mut self) {
        for waker in self.0.drain(..) {
            waker.wake();
        }
    }
}

type Inner = Arc<Mutex<Shared>>;

fn lock(inner: &Inner) -> MutexGuard<'_, Shared> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

fn refused(what: &str) -> io::Error {
    crate::explain::unsupported(
        &format!("net::unix::pipe::{what}"),
        "a FIFO or descriptor of the real system is outside asyncsim's control. Use pipe::pipe() \
         (an in-memory pipe in the run) or tokio::io::duplex, or keep this call out of the \
         simulated test",
    )
}

/// An in-memory pipe of the run: its writing end and its reading end.
///
/// ```
/// use asyncsim_tokio as tokio;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let got = runtime.block_on(async {
///     let (mut sender, mut receiver) = tokio::net::unix::pipe::pipe().unwrap();
///     tokio::spawn(async move { sender.write_all(b"through").await.unwrap() });
///     let mut got = String::new();
///     receiver.read_to_string(&mut got).await.unwrap();
///     got
/// });
/// assert_eq!(got, "through");
/// ```
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    let inner: Inner = Arc::new(Mutex::new(Shared {
        name: Shared::name_now(),
        ..Shared::default()
    }));
    Ok((
        Sender {
            inner: inner.clone(),
        },
        Receiver { inner },
    ))
}

/// How to open a FIFO (tokio's builder); opening is refused in a
/// simulated run.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    read_write: bool,
    unchecked: bool,
}

impl OpenOptions {
    /// Every option off.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Kept (opening is refused).
    pub fn read_write(&mut self, value: bool) -> &mut Self {
        self.read_write = value;
        self
    }

    /// Kept (opening is refused).
    pub fn unchecked(&mut self, value: bool) -> &mut Self {
        self.unchecked = value;
        self
    }

    /// Refused: a FIFO on the real filesystem is outside the run.
    ///
    /// # Errors
    ///
    /// Always `Unsupported`, naming the alternative.
    pub fn open_receiver<P: AsRef<Path>>(&self, _path: P) -> io::Result<Receiver> {
        Err(refused("OpenOptions::open_receiver"))
    }

    /// Refused: a FIFO on the real filesystem is outside the run.
    ///
    /// # Errors
    ///
    /// Always `Unsupported`, naming the alternative.
    pub fn open_sender<P: AsRef<Path>>(&self, _path: P) -> io::Result<Sender> {
        Err(refused("OpenOptions::open_sender"))
    }
}

/// The writing end of a [`pipe`]: tokio's `AsyncWrite`.
pub struct Sender {
    inner: Inner,
}

/// The reading end of a [`pipe`]: tokio's `AsyncRead`.
pub struct Receiver {
    inner: Inner,
}

macro_rules! refused_conversions {
    ($type:ident) => {
        impl $type {
            /// Refused: a real file is outside the run.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn from_file(_file: File) -> io::Result<$type> {
                Err(refused(concat!(stringify!($type), "::from_file")))
            }

            /// Refused, as `from_file`.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn from_file_unchecked(_file: File) -> io::Result<$type> {
                Err(refused(concat!(stringify!($type), "::from_file_unchecked")))
            }

            /// Refused: a real descriptor is outside the run.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn from_owned_fd(_owned_fd: OwnedFd) -> io::Result<$type> {
                Err(refused(concat!(stringify!($type), "::from_owned_fd")))
            }

            /// Refused, as `from_owned_fd`.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn from_owned_fd_unchecked(_owned_fd: OwnedFd) -> io::Result<$type> {
                Err(refused(concat!(
                    stringify!($type),
                    "::from_owned_fd_unchecked"
                )))
            }

            /// Refused: `f` would do I/O on the pipe's descriptor, which the
            /// in-memory pipe does not have.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn try_io<R>(&self, _f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
                Err(refused(concat!(stringify!($type), "::try_io")))
            }

            /// Refused: the in-memory pipe has no descriptor.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
                Err(refused(concat!(stringify!($type), "::into_blocking_fd")))
            }

            /// Refused, as `into_blocking_fd`.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the alternative.
            pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
                Err(refused(concat!(stringify!($type), "::into_nonblocking_fd")))
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($type)).finish_non_exhaustive()
            }
        }
    };
}

refused_conversions!(Sender);
refused_conversions!(Receiver);

impl Sender {
    /// Writes what fits without waiting: all of `buf` up to the free space,
    /// except that a write of at most `PIPE_BUF` bytes is whole or waits
    /// (pipe(7)).
    fn write_now(&self, buf: &[u8]) -> Option<io::Result<usize>> {
        let mut shared = lock(&self.inner);
        if shared.receiver_gone {
            return Some(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "pipe::Sender: the receiving end is closed",
            )));
        }
        if buf.is_empty() {
            return Some(Ok(0));
        }
        let free = CAPACITY - shared.bytes.len();
        if free == 0 || (buf.len() <= PIPE_BUF && free < buf.len()) {
            return None;
        }
        let count = buf.len().min(free);
        shared.bytes.extend(&buf[..count]);
        shared.readers.wake();
        Some(Ok(count))
    }

    /// Polls until a write would not wait (room for `PIPE_BUF` bytes, so
    /// that any atomic write goes through, or the receiver is gone and the
    /// write fails). As tokio's, it spends a unit of the task's budget when
    /// ready (`writable` does not), and yields when the budget is spent.
    pub fn poll_write_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        crate::coop::poll_cooperative(context, |context| self.poll_writable(context))
    }

    /// Whether a write would not wait, parking as a write does when it
    /// would; the budget neither looked at nor spent.
    fn poll_writable(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut shared = lock(&self.inner);
        if shared.receiver_gone || CAPACITY - shared.bytes.len() >= PIPE_BUF {
            return Poll::Ready(Ok(()));
        }
        shared.writers.park(context.waker());
        shared.say_waiting(asyncsim::trace::SocketWait::Write);
        Poll::Pending
    }

    /// Waits until a write would not wait. Spends nothing of the task's
    /// budget, as tokio's, but yields first when it is spent.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|context| {
            std::task::ready!(crate::coop::look_at_budget(context));
            self.poll_writable(context)
        })
        .await
    }

    /// Waits until a write would not wait (`WRITE_CLOSED` too when the
    /// receiver is gone); any other interest is never ready.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        if !interest.is_writable() {
            return std::future::pending().await;
        }
        self.writable().await?;
        let gone = lock(&self.inner).receiver_gone;
        Ok(if gone {
            Ready::WRITABLE | Ready::WRITE_CLOSED
        } else {
            Ready::WRITABLE
        })
    }

    /// Writes what fits without waiting. Spends a unit of the task's
    /// cooperative budget unless it would wait (never yields).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the pipe is full, `BrokenPipe` when the receiver is
    /// gone.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        // A write that completes (or fails) spends a unit of the budget.
        let result = self.write_now(buf).ok_or(io::ErrorKind::WouldBlock)?;
        asyncsim::task::coop::spend_on_completion();
        result
    }

    /// [`try_write`](Self::try_write) of several buffers, in order.
    ///
    /// # Errors
    ///
    /// As `try_write`.
    pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let bytes: Vec<u8> = bufs.iter().flat_map(|buf| buf.iter().copied()).collect();
        self.try_write(&bytes)
    }
}

impl AsyncWrite for Sender {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // A write that completes spends a unit of the task's budget.
        crate::coop::poll_cooperative(context, |context| match self.write_now(buf) {
            Some(result) => Poll::Ready(result),
            None => {
                lock(&self.inner).writers.park(context.waker());
                // The reader may have made room between the two locks.
                match self.write_now(buf) {
                    Some(result) => Poll::Ready(result),
                    None => {
                        lock(&self.inner).say_waiting(asyncsim::trace::SocketWait::Write);
                        Poll::Pending
                    }
                }
            }
        })
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut shared = lock(&self.inner);
        shared.sender_gone = true;
        shared.readers.wake();
    }
}

impl Receiver {
    /// Reads what is there without waiting, into `put` (at most `max`
    /// bytes); `None` when it would wait. 0 at EOF.
    fn read_now(&self, max: usize, mut put: impl FnMut(&[u8])) -> Option<usize> {
        let mut shared = lock(&self.inner);
        if shared.bytes.is_empty() {
            return shared.sender_gone.then_some(0);
        }
        let count = max.min(shared.bytes.len());
        let (front, back) = shared.bytes.as_slices();
        let from_front = count.min(front.len());
        put(&front[..from_front]);
        put(&back[..count - from_front]);
        shared.bytes.drain(..count);
        shared.writers.wake();
        Some(count)
    }

    /// Polls until a read would not wait (bytes, or the sender gone: EOF).
    /// As tokio's, it spends a unit of the task's budget when ready
    /// (`readable` does not), and yields when the budget is spent.
    pub fn poll_read_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        crate::coop::poll_cooperative(context, |context| self.poll_readable(context))
    }

    /// Whether a read would not wait, parking as a read does when it
    /// would; the budget neither looked at nor spent.
    fn poll_readable(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut shared = lock(&self.inner);
        if shared.sender_gone || !shared.bytes.is_empty() {
            return Poll::Ready(Ok(()));
        }
        shared.readers.park(context.waker());
        shared.say_waiting(asyncsim::trace::SocketWait::Read);
        Poll::Pending
    }

    /// Waits until a read would not wait. Spends nothing of the task's
    /// budget, as tokio's, but yields first when it is spent.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|context| {
            std::task::ready!(crate::coop::look_at_budget(context));
            self.poll_readable(context)
        })
        .await
    }

    /// Waits until a read would not wait (`READ_CLOSED` too at EOF); any
    /// other interest is never ready.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        if !interest.is_readable() {
            return std::future::pending().await;
        }
        self.readable().await?;
        let shared = lock(&self.inner);
        Ok(if shared.sender_gone && shared.bytes.is_empty() {
            Ready::READABLE | Ready::READ_CLOSED
        } else {
            Ready::READABLE
        })
    }

    /// Reads what is there without waiting (0 at EOF). Spends a unit of the
    /// task's cooperative budget unless it would wait (never yields).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the pipe is empty and its sender still there.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut at = 0;
        let count = self
            .read_now(buf.len(), |bytes| {
                buf[at..at + bytes.len()].copy_from_slice(bytes);
                at += bytes.len();
            })
            .ok_or(io::ErrorKind::WouldBlock)?;
        // A read that completes (0 at EOF too) spends a unit of the budget.
        asyncsim::task::coop::spend_on_completion();
        Ok(count)
    }

    /// [`try_read`](Self::try_read) into several buffers, in order.
    ///
    /// # Errors
    ///
    /// As `try_read`.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        let mut all = vec![0; bufs.iter().map(|buf| buf.len()).sum()];
        let count = self.try_read(&mut all)?;
        let mut rest = &all[..count];
        for buf in bufs.iter_mut() {
            let take = rest.len().min(buf.len());
            buf[..take].copy_from_slice(&rest[..take]);
            rest = &rest[take..];
        }
        Ok(count)
    }

    /// [`try_read`](Self::try_read) into a `BufMut`'s next chunk.
    ///
    /// # Errors
    ///
    /// As `try_read`.
    pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        let max = buf.chunk_mut().len();
        let count = self
            .read_now(max, |bytes| buf.put_slice(bytes))
            .ok_or(io::ErrorKind::WouldBlock)?;
        asyncsim::task::coop::spend_on_completion();
        Ok(count)
    }
}

impl AsyncRead for Receiver {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // A read that completes spends a unit of the task's budget.
        crate::coop::poll_cooperative(context, |context| {
            let max = buf.remaining();
            if self.read_now(max, |bytes| buf.put_slice(bytes)).is_some() {
                return Poll::Ready(Ok(()));
            }
            lock(&self.inner).readers.park(context.waker());
            // The sender may have written (or gone) between the two locks.
            match self.read_now(max, |bytes| buf.put_slice(bytes)) {
                Some(_) => Poll::Ready(Ok(())),
                None => {
                    lock(&self.inner).say_waiting(asyncsim::trace::SocketWait::Read);
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut shared = lock(&self.inner);
        shared.receiver_gone = true;
        shared.writers.wake();
    }
}
