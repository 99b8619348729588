//! TCP on the simulated network: `TcpListener`, `TcpStream`, and the halves
//! of `split`/`into_split` (tokio's `tokio::net::tcp` module).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use asyncsim::net::Detached;
use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
// (`Interest` and `Ready` are tokio's with its `net` feature.)
#[cfg(feature = "net")]
use tokio::io::{Interest, Ready};

use super::{flatten, poll_now, ready_now, wait_on, Resolve, ToSocketAddrs};
use crate::registry::LocalFuture;

/// One end of a connection, `Send + Sync` (see `Detached`): the world's
/// stream itself, bound to its run's thread; used on another thread, it is
/// an error.
pub(super) type Stream = Detached<asyncsim::net::TcpStream>;

/// A TCP listener on the calling task's node.
pub struct TcpListener {
    listener: Detached<asyncsim::net::TcpListener>,
}

impl TcpListener {
    /// Binds on the calling task's node: `"0.0.0.0:port"`, `"127.0.0.1:port"`,
    /// the node's own name or IP; port 0 picks a free one.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when the port is taken, `AddrNotAvailable` for another
    /// node's address.
    pub async fn bind<A: ToSocketAddrs>(address: A) -> io::Result<TcpListener> {
        let address = address.to_sim_address()?;
        // Binding waits for nothing: the world's future is ready at once.
        let listener =
            poll_fn(|context| poll_now(asyncsim::net::TcpListener::bind(address.clone()), context))
                .await?;
        Ok(TcpListener {
            listener: Detached::new(listener),
        })
    }

    /// [`TcpListener::bind`], for `TcpSocket::listen` (not `async`).
    pub(super) fn bind_now(address: SocketAddr) -> io::Result<TcpListener> {
        let listener = ready_now(asyncsim::net::TcpListener::bind(address))?;
        Ok(TcpListener {
            listener: Detached::new(listener),
        })
    }

    /// Waits for a connection. Several tasks may wait at once (each is
    /// woken by an arrival; each connection goes to one).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        wait_on(self, |context| self.poll_accept(context)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(
        &self,
        context: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        flatten(self.listener.with(|listener| listener.poll_accept(context)))
            .map_ok(|(stream, peer)| (TcpStream::from_sim(stream), peer))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.with(|listener| listener.local_addr())?
    }

    /// The buffers (`TcpSocket`'s, as set there) of the streams it
    /// accepts.
    pub(super) fn set_buffers(&self, send: Option<u32>, recv: Option<u32>) -> io::Result<()> {
        self.listener.with(|listener| {
            if let Some(size) = send {
                listener.set_send_buffer_size(size)?;
            }
            if let Some(size) = recv {
                listener.set_recv_buffer_size(size)?;
            }
            io::Result::Ok(())
        })?
    }

    /// Accepted; a simulated socket has no TTL.
    pub fn set_ttl(&self, _ttl: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 64.
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(64)
    }

    /// The `SO_LINGER` a `TcpSocket` set before `listen`: inherited by the
    /// streams it accepts, as on Linux.
    pub(super) fn set_accepted_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.listener.with(|listener| listener.set_linger(linger))?
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.listener.fmt(f)
    }
}

/// A TCP connection's end: tokio's `AsyncRead`/`AsyncWrite`. Dropping it
/// closes the connection: the peer reads EOF, or, when bytes it was sent
/// arrived and are unread, `ConnectionReset` after what was sent before (as
/// Linux's `close` resets then); `shutdown()` sends EOF whatever is unread.
/// A connection's error (a reset, a timeout) is returned once, as Linux
/// returns a socket's: after the read or write that got it, reads return 0
/// and writes `BrokenPipe`.
pub struct TcpStream {
    pub(super) stream: Stream,
}

impl TcpStream {
    fn from_sim(stream: asyncsim::net::TcpStream) -> TcpStream {
        TcpStream {
            stream: Detached::new(stream),
        }
    }

    /// Connects from the calling task's node.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, `TimedOut` across a
    /// partition, `NotFound` for an unknown host.
    pub async fn connect<A: ToSocketAddrs>(address: A) -> io::Result<TcpStream> {
        // Connecting waits for the handshake: a world future kept across
        // polls (`LocalFuture`: boxed, bound to the run's thread); the stream
        // it makes is `Send` itself. The world resolves the address as it
        // resolves its own callers' (a host name borrowed).
        LocalFuture::new(async move {
            asyncsim::net::TcpStream::connect(Resolve(&address))
                .await
                .map(Detached::new)
        })
        .await
        .map(|stream| TcpStream { stream })
    }

    /// [`TcpStream::connect`] from a `TcpSocket` whose buffer sizes were
    /// set (`None`: Linux's default): the stream has them from its first
    /// byte.
    pub(super) async fn connect_with_buffers(
        address: SocketAddr,
        send_buffer: Option<u32>,
        recv_buffer: Option<u32>,
    ) -> io::Result<TcpStream> {
        LocalFuture::new(async move {
            asyncsim::net::TcpStream::connect_with_buffers(address, send_buffer, recv_buffer)
                .await
                .map(Detached::new)
        })
        .await
        .map(|stream| TcpStream { stream })
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.with(|stream| stream.peer_addr())?
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.with(|stream| stream.local_addr())?
    }

    /// Accepted; segments are never delayed for coalescing here.
    pub fn set_nodelay(&self, _nodelay: bool) -> io::Result<()> {
        Ok(())
    }

    /// Always true: segments go out as written.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(true)
    }

    /// Sets `SO_LINGER`: `Some(Duration::ZERO)` makes the stream's drop
    /// abortive, as on Linux (a reset instead of a FIN: the peer reads what
    /// was sent before it, then `ConnectionReset`); another time changes
    /// nothing (a drop leaves nothing unsent to wait for, and never blocks).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.stream.with(|stream| stream.set_linger(linger))?
    }

    /// `SO_LINGER` as set (`None`, the default: off).
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.stream.with(|stream| stream.linger())?
    }

    /// Accepted; a simulated socket has no TTL.
    pub fn set_ttl(&self, _ttl: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 64.
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(64)
    }
}

/// tokio's `ReadBuf` filled from the stream: the bytes go from the world's
/// segments into the buffer's unfilled part once (`put_slice`), so an
/// uninitialised buffer (`BytesMut`'s spare capacity) is never zeroed first.
/// The whole read is compiled in the world's crate (`Detached::poll_read_with`).
pub(super) fn poll_read_stream(
    stream: &Stream,
    context: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    stream
        .poll_read_with(context, buf.remaining(), &mut |bytes| buf.put_slice(bytes))
        .map_ok(|_| ())
}

/// What fits in the window leaves as one segment; waits when nothing fits
/// (the peer has not read what fills it), as a socket's send waits on a
/// full send buffer.
pub(super) fn poll_write_stream(
    stream: &Stream,
    context: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    stream.poll_write(context, buf)
}

/// Waits until a write would not wait: room in the window, or the
/// connection's error (the write returns it).
pub(super) fn poll_write_ready_stream(
    stream: &Stream,
    context: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    flatten(stream.with(|stream| stream.poll_write_readiness(context)))
}

/// Nothing to flush (what a write took is on its way), but only on the
/// run's thread.
pub(super) fn poll_flush_stream(stream: &Stream) -> Poll<io::Result<()>> {
    Poll::Ready(stream.with(|_| ()))
}

pub(super) fn poll_shutdown_stream(stream: &Stream) -> Poll<io::Result<()>> {
    Poll::Ready(stream.shutdown_write())
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_stream(&self.stream, context, buf)
    }
}

impl AsyncWrite for TcpStream {
    /// The world stream's own `poll_write` (the one `asyncsim::net` code
    /// calls), on the stream the face holds.
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stream.get_mut() {
            Ok(stream) => futures_io::AsyncWrite::poll_write(Pin::new(stream), context, buf),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush_stream(&self.stream)
    }

    fn poll_shutdown(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_shutdown_stream(&self.stream)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.stream.fmt(f)
    }
}

// ---------------------------------------------------------------------------
// Readiness, `peek` and the `try_` forms: the world's stream looked at
// without waiting (`try_read_with`, `try_peek_with`) or without taking
// (`poll_peek_with`). A stream is writable when a write would not wait
// (room in its window, or its error); readable when a read would not wait
// (bytes, the peer's EOF, or the stream's error, which the read then
// returns).
// ---------------------------------------------------------------------------

/// Peeks into `buf`'s unfilled part, as [`poll_read_stream`] reads.
pub(super) fn poll_peek_stream(
    stream: &Stream,
    context: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<usize>> {
    let max = buf.remaining();
    flatten(stream.with(|stream| stream.poll_peek_with(context, max, |bytes| buf.put_slice(bytes))))
}

pub(super) fn poll_read_ready_stream(
    stream: &Stream,
    context: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    flatten(stream.with(|stream| stream.poll_read_readiness(context)))
}

pub(super) fn try_read_stream(stream: &Stream, buf: &mut [u8]) -> io::Result<usize> {
    let mut at = 0;
    stream.with(|stream| {
        stream.try_read_with(buf.len(), |bytes| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        })
    })?
}

pub(super) fn try_read_vectored_stream(
    stream: &Stream,
    bufs: &mut [io::IoSliceMut<'_>],
) -> io::Result<usize> {
    let max = bufs.iter().map(|buf| buf.len()).sum();
    let (mut slice, mut at) = (0, 0);
    stream.with(|stream| {
        stream.try_read_with(max, |mut bytes| {
            while !bytes.is_empty() {
                let target = &mut bufs[slice][at..];
                let count = target.len().min(bytes.len());
                target[..count].copy_from_slice(&bytes[..count]);
                bytes = &bytes[count..];
                at += count;
                if at == bufs[slice].len() {
                    slice += 1;
                    at = 0;
                }
            }
        })
    })?
}

/// Reads into `buf`'s next chunk (as tokio's reads at most the chunk
/// `BufMut::chunk_mut` offers).
pub(super) fn try_read_buf_stream<B: BufMut>(stream: &Stream, buf: &mut B) -> io::Result<usize> {
    let max = buf.chunk_mut().len();
    stream.with(|stream| stream.try_read_with(max, |bytes| buf.put_slice(bytes)))?
}

/// Writes all of `bufs` as one segment (a vectored write is one send).
pub(super) fn try_write_vectored_stream(
    stream: &Stream,
    bufs: &[io::IoSlice<'_>],
) -> io::Result<usize> {
    let bytes: Vec<u8> = bufs.iter().flat_map(|buf| buf.iter().copied()).collect();
    stream.write(&bytes)
}

/// What is ready of `interest`; pending while nothing is. Writable when a
/// write would not wait; readable when a read would not wait. Each looks
/// without parking unless it is all that is asked; when both are asked and
/// neither is ready, the task waits for either. `ERROR` and `PRIORITY`:
/// [`poll_ready_closing`].
#[cfg(feature = "net")]
pub(super) fn poll_ready_stream(
    stream: &Stream,
    context: &mut Context<'_>,
    interest: Interest,
) -> Poll<io::Result<Ready>> {
    if interest.is_error() || interest.is_priority() {
        return poll_ready_closing(stream, context, interest);
    }
    let mut ready = Ready::EMPTY;
    if interest.is_writable() {
        let looked = if interest.is_readable() {
            match stream.with(|stream| stream.try_write_ready())? {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
                looked => Poll::Ready(looked),
            }
        } else {
            poll_write_ready_stream(stream, context)
        };
        match looked {
            Poll::Ready(result) => {
                result?;
                ready |= Ready::WRITABLE;
            }
            Poll::Pending => {}
        }
    }
    if interest.is_readable() {
        let looked = if ready.is_empty() {
            flatten(stream.with(|stream| stream.poll_peek_readiness(context, 1, |_| ())))
        } else {
            match stream.with(|stream| stream.try_peek_readiness(1, |_| ()))? {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
                looked => Poll::Ready(looked),
            }
        };
        match looked {
            // EOF: readable (a read returns 0) and read-closed, as epoll says.
            Poll::Ready(Ok(0)) => ready |= Ready::READABLE | Ready::READ_CLOSED,
            // Bytes, or the stream's error (the read returns it).
            Poll::Ready(_) => ready |= Ready::READABLE,
            Poll::Pending => {}
        }
    }
    if ready.is_empty() {
        if interest.is_writable() && interest.is_readable() {
            // Neither: wait for either (the read side parked above).
            return poll_write_ready_stream(stream, context).map_ok(|()| Ready::WRITABLE);
        }
        Poll::Pending
    } else {
        Poll::Ready(Ok(ready))
    }
}

/// `ready` for an interest with `ERROR` or `PRIORITY`, as epoll reports a
/// TCP socket on Linux (tokio's `Ready` of the event, masked by the
/// interest as tokio masks it): `ERROR` once the connection's error (a
/// reset, a timeout) has come, with `READ_CLOSED` and `WRITE_CLOSED` (the
/// socket is closed) and `READABLE` (a read returns the error); at the
/// peer's EOF `READ_CLOSED` (with `READABLE` once the bytes before it are
/// read, as `ready(READABLE)` says). The simulated network carries no
/// out-of-band data, so `PRIORITY` itself is never ready, but tokio's
/// `PRIORITY` interest takes `READ_CLOSED` too: `ready(Interest::PRIORITY)`
/// waits for the peer's EOF or the error. When nothing asked is ready it
/// waits for the first of them to come (parked on the read side, as a
/// read is).
#[cfg(feature = "net")]
fn poll_ready_closing(
    stream: &Stream,
    context: &mut Context<'_>,
    interest: Interest,
) -> Poll<io::Result<Ready>> {
    let closed_too = interest.is_readable() || interest.is_priority();
    // What has come, looked at without parking.
    let closing = stream.with(|stream| stream.poll_read_closed(None, true))?;
    let mut got = Ready::EMPTY;
    if interest.is_writable() {
        match stream.with(|stream| stream.try_write_ready())? {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            looked => {
                looked?;
                got |= Ready::WRITABLE;
            }
        }
    }
    match closing {
        Poll::Ready(Ok(Some(_))) => {
            got |= Ready::ERROR | Ready::READ_CLOSED | Ready::WRITE_CLOSED | Ready::READABLE;
        }
        Poll::Ready(Ok(None)) => got |= Ready::READ_CLOSED,
        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
        Poll::Pending => {}
    }
    if interest.is_readable() && !got.is_readable() {
        match stream.with(|stream| stream.try_peek_readiness(1, |_| ()))? {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            _ => got |= Ready::READABLE,
        }
    }
    // tokio's masks: READABLE takes READ_CLOSED, WRITABLE takes
    // WRITE_CLOSED, PRIORITY takes READ_CLOSED, ERROR itself.
    let mut ready = Ready::EMPTY;
    if interest.is_readable() {
        ready |= pick(got, Ready::READABLE) | pick(got, Ready::READ_CLOSED);
    }
    if interest.is_writable() {
        ready |= pick(got, Ready::WRITABLE) | pick(got, Ready::WRITE_CLOSED);
    }
    if interest.is_priority() {
        ready |= pick(got, Ready::READ_CLOSED);
    }
    if interest.is_error() {
        ready |= pick(got, Ready::ERROR);
    }
    if !ready.is_empty() {
        return Poll::Ready(Ok(ready));
    }
    // Nothing yet: wait for the first of what is asked to come (room to
    // write too, when that is asked).
    if interest.is_writable() {
        if let Poll::Ready(result) = poll_write_ready_stream(stream, context) {
            // (It cannot come between the looks: the clock stood still.)
            result?;
            return Poll::Ready(Ok(Ready::WRITABLE));
        }
    }
    let waited = if interest.is_readable() {
        stream.with(|stream| stream.poll_peek_readiness(context, 1, |_| ()).map(|_| ()))
    } else {
        stream.with(|stream| {
            stream
                .poll_read_closed(Some(context), closed_too)
                .map(|_| ())
        })
    }?;
    match waited {
        // It came between the looks (it cannot: the clock stood still).
        Poll::Ready(()) => poll_ready_closing(stream, context, interest),
        Poll::Pending => Poll::Pending,
    }
}

/// `flag` if `ready` has it, else nothing.
#[cfg(feature = "net")]
fn pick(ready: Ready, flag: Ready) -> Ready {
    if ready & flag == flag {
        flag
    } else {
        Ready::EMPTY
    }
}

/// `peek` and `poll_peek` of tokio's `TcpStream` and its read halves.
macro_rules! peek_side {
    ($($peek_ref:tt)*) => {
        /// Waits for bytes and copies them into `buf` without taking them:
        /// the next read gets them again. 0 at EOF.
        ///
        /// # Errors
        ///
        /// As a read: the connection's reset or timeout.
        pub async fn peek($($peek_ref)* self, buf: &mut [u8]) -> io::Result<usize> {
            let mut buf = ReadBuf::new(buf);
            super::wait_on_sides(self.inner(), true, false, |context| {
                poll_peek_stream(self.inner(), context, &mut buf)
            })
            .await
        }

        /// Polls for bytes to peek at (see `peek`), into `buf`'s unfilled
        /// part: ready with the count.
        pub fn poll_peek(
            $($peek_ref)* self,
            context: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<usize>> {
            poll_peek_stream(self.inner(), context, buf)
        }

    };
}

/// The read-side methods of tokio's `TcpStream`, `UnixStream` and their
/// read halves.
macro_rules! read_side {
    () => {
        /// Waits until a read would not wait: bytes have arrived, the
        /// peer's EOF, or the connection's error (the read returns it).
        pub async fn readable(&self) -> io::Result<()> {
            super::wait_on_sides(self.inner(), true, false, |context| {
                poll_read_ready_stream(self.inner(), context)
            })
            .await
        }

        /// Reads what has arrived without waiting.
        ///
        /// # Errors
        ///
        /// `WouldBlock` when nothing has arrived (0 is EOF); otherwise as a
        /// read.
        pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
            try_read_stream(self.inner(), buf)
        }

        /// [`try_read`](Self::try_read) into several buffers, in order.
        ///
        /// # Errors
        ///
        /// As `try_read`.
        pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
            try_read_vectored_stream(self.inner(), bufs)
        }

        /// [`try_read`](Self::try_read) into a `BufMut`'s next chunk,
        /// advancing it.
        ///
        /// # Errors
        ///
        /// As `try_read`.
        pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
            try_read_buf_stream(self.inner(), buf)
        }
    };
}

/// The write-side methods of tokio's `TcpStream`, `UnixStream` and their
/// write halves.
macro_rules! write_side {
    () => {
        /// Waits until a write would not wait: room in the window (the
        /// peer has read enough of what was sent), or the connection's
        /// error (the write returns it).
        ///
        /// # Errors
        ///
        /// A stream used outside its run.
        pub async fn writable(&self) -> io::Result<()> {
            super::wait_on_sides(self.inner(), false, true, |context| {
                poll_write_ready_stream(self.inner(), context)
            })
            .await
        }

        /// Writes without waiting: what fits in the window (all of `buf`
        /// unless the peer has left that much unread), as one segment.
        ///
        /// # Errors
        ///
        /// `WouldBlock` when nothing fits; otherwise as a write: the
        /// connection's reset, a write after shutdown.
        pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
            self.inner().write(buf)
        }

        /// [`try_write`](Self::try_write) of several buffers, as one
        /// segment.
        ///
        /// # Errors
        ///
        /// As `try_write`.
        pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            try_write_vectored_stream(self.inner(), bufs)
        }
    };
}

/// `ready`, on every side.
macro_rules! ready_method {
    () => {
        /// Waits for any of `interest`: writable when a write would not
        /// wait (room in the window), readable when a read would not wait
        /// (`READ_CLOSED` too at the peer's EOF).
        ///
        /// # Errors
        ///
        /// A stream used outside its run, or of a crashed node.
        #[cfg(feature = "net")]
        pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
            // (Anything but `WRITABLE` alone waits on the read side too.)
            let read = interest != Interest::WRITABLE;
            super::wait_on_sides(self.inner(), read, interest.is_writable(), |context| {
                poll_ready_stream(self.inner(), context, interest)
            })
            .await
        }
    };
}

impl TcpStream {
    pub(super) fn inner(&self) -> &Stream {
        &self.stream
    }

    peek_side!(&);
    read_side!();
    write_side!();
    ready_method!();

    /// Polls until a read would not wait (see `readable`). As tokio's, it
    /// spends a unit of the task's budget when ready (`readable` does
    /// not), and yields when the budget is spent.
    pub fn poll_read_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        flatten(self.stream.with(|stream| stream.poll_read_ready(context)))
    }

    /// Polls until a write would not wait (see `writable`). As tokio's, it
    /// spends a unit of the task's budget when ready (`writable` does
    /// not), and yields when the budget is spent.
    pub fn poll_write_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        flatten(self.stream.with(|stream| stream.poll_write_ready(context)))
    }

    /// Takes the stream's error, as Linux's `SO_ERROR`: once a reset or a
    /// timeout has come, `Some` of it the first time (taken, as the first
    /// read or write to meet it takes it), then `None`; after it, reads
    /// return 0 (EOF) and writes `BrokenPipe`. (See
    /// `asyncsim::net::TcpStream::take_error`.)
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.stream.with(|stream| stream.take_error())?
    }

    /// `set_linger(Some(Duration::ZERO))`: the stream's drop resets the
    /// connection.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Accepted; acknowledgements are not modelled.
    pub fn set_quickack(&self, _quickack: bool) -> io::Result<()> {
        Ok(())
    }

    /// Always true: acknowledgements are not modelled.
    pub fn quickack(&self) -> io::Result<bool> {
        Ok(true)
    }
}

stream_halves!(TcpStream, SocketAddr);

/// tokio's `TcpStream` read halves peek; `UnixStream`'s do not.
impl ReadHalf<'_> {
    peek_side!(&mut);
}

impl OwnedReadHalf {
    peek_side!(&mut);
}

impl AsRef<TcpStream> for TcpStream {
    fn as_ref(&self) -> &TcpStream {
        self
    }
}

impl asyncsim::net::Waitable for TcpListener {
    fn leave_waiters(&self, key: asyncsim::net::WaiterKey) {
        self.listener.leave_waiters(key);
    }
}
