//! TCP on the simulated network: `TcpListener`, `TcpStream`, and the halves
//! of `split`/`into_split` (tokio's `tokio::net::tcp` module).

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::ToSocketAddrs;
use crate::registry::{self, LocalFuture};

/// The run thread's side of a stream: shared by the halves of `into_split`.
type Shared = RefCell<asyncsim::net::TcpStream>;

/// A TCP listener on the calling task's node.
pub struct TcpListener {
    key: u64,
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
        LocalFuture::new(async move {
            asyncsim::net::TcpListener::bind(address)
                .await
                .map(|listener| TcpListener {
                    key: registry::insert(Rc::new(listener)),
                })
        })
        .await
    }

    fn listener(&self) -> Rc<asyncsim::net::TcpListener> {
        registry::get(self.key).unwrap_or_else(|| registry::foreign("a tokio::net::TcpListener"))
    }

    /// Waits for a connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|context| self.poll_accept(context)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(
        &self,
        context: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.listener()
            .poll_accept(context)
            .map_ok(|(stream, peer)| (TcpStream::from_sim(stream), peer))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener().local_addr()
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

impl Drop for TcpListener {
    fn drop(&mut self) {
        registry::remove(self.key);
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match registry::get::<asyncsim::net::TcpListener>(self.key) {
            Some(listener) => listener.fmt(f),
            None => f.debug_struct("TcpListener").finish_non_exhaustive(),
        }
    }
}

/// A TCP connection's end: tokio's `AsyncRead`/`AsyncWrite`. Dropping it
/// closes the connection (the peer reads EOF).
pub struct TcpStream {
    key: u64,
}

impl TcpStream {
    fn from_sim(stream: asyncsim::net::TcpStream) -> TcpStream {
        TcpStream {
            key: registry::insert(Rc::new(RefCell::new(stream))),
        }
    }

    /// Connects from the calling task's node.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, `TimedOut` across a
    /// partition, `NotFound` for an unknown host.
    pub async fn connect<A: ToSocketAddrs>(address: A) -> io::Result<TcpStream> {
        let address = address.to_sim_address()?;
        LocalFuture::new(async move {
            asyncsim::net::TcpStream::connect(address)
                .await
                .map(TcpStream::from_sim)
        })
        .await
    }

    fn shared(&self) -> Rc<Shared> {
        shared(self.key)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.shared().borrow().peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared().borrow().local_addr()
    }

    /// Accepted; segments are never delayed for coalescing here.
    pub fn set_nodelay(&self, _nodelay: bool) -> io::Result<()> {
        Ok(())
    }

    /// Always true: segments go out as written.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(true)
    }

    /// Accepted and ignored.
    pub fn set_linger(&self, _linger: Option<Duration>) -> io::Result<()> {
        Ok(())
    }

    /// Always `None`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(None)
    }

    /// Accepted; a simulated socket has no TTL.
    pub fn set_ttl(&self, _ttl: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 64.
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(64)
    }

    /// Borrowed read and write halves, usable at once (in one task, for
    /// example in `select!`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        let stream: &TcpStream = self;
        (ReadHalf { stream }, WriteHalf { stream })
    }

    /// Owned halves, each movable into its own task. Dropping the write half
    /// shuts down the write direction, as in tokio.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let shared = self.shared();
        let read = OwnedReadHalf {
            key: registry::insert(shared.clone()),
        };
        let write = OwnedWriteHalf {
            key: registry::insert(shared),
            shutdown_on_drop: true,
        };
        (read, write)
    }
}

fn shared(key: u64) -> Rc<Shared> {
    registry::get(key).unwrap_or_else(|| registry::foreign("a tokio::net::TcpStream"))
}

fn poll_read_shared(
    key: u64,
    context: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let shared = shared(key);
    let mut stream = shared.borrow_mut();
    let unfilled = buf.initialize_unfilled();
    match futures_io::AsyncRead::poll_read(Pin::new(&mut *stream), context, unfilled) {
        Poll::Ready(Ok(read)) => {
            buf.advance(read);
            Poll::Ready(Ok(()))
        }
        Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
        Poll::Pending => Poll::Pending,
    }
}

fn poll_write_shared(key: u64, context: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    let shared = shared(key);
    let mut stream = shared.borrow_mut();
    futures_io::AsyncWrite::poll_write(Pin::new(&mut *stream), context, buf)
}

fn poll_flush_shared(key: u64, context: &mut Context<'_>) -> Poll<io::Result<()>> {
    let shared = shared(key);
    let mut stream = shared.borrow_mut();
    futures_io::AsyncWrite::poll_flush(Pin::new(&mut *stream), context)
}

fn poll_shutdown_shared(key: u64, context: &mut Context<'_>) -> Poll<io::Result<()>> {
    let shared = shared(key);
    let mut stream = shared.borrow_mut();
    futures_io::AsyncWrite::poll_close(Pin::new(&mut *stream), context)
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_shared(self.key, context, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write_shared(self.key, context, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush_shared(self.key, context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_shutdown_shared(self.key, context)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        registry::remove(self.key);
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match registry::get::<Shared>(self.key) {
            Some(shared) => shared.borrow().fmt(f),
            None => f.debug_struct("TcpStream").finish_non_exhaustive(),
        }
    }
}

/// The read half of [`TcpStream::split`].
#[derive(Debug)]
pub struct ReadHalf<'a> {
    stream: &'a TcpStream,
}

/// The write half of [`TcpStream::split`].
#[derive(Debug)]
pub struct WriteHalf<'a> {
    stream: &'a TcpStream,
}

impl ReadHalf<'_> {
    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl WriteHalf<'_> {
    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_shared(self.stream.key, context, buf)
    }
}

impl AsyncWrite for WriteHalf<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write_shared(self.stream.key, context, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush_shared(self.stream.key, context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_shutdown_shared(self.stream.key, context)
    }
}

/// The owned read half of [`TcpStream::into_split`].
pub struct OwnedReadHalf {
    key: u64,
}

/// The owned write half of [`TcpStream::into_split`]; dropping it shuts
/// down the write direction.
pub struct OwnedWriteHalf {
    key: u64,
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`]: the halves came from different
/// streams.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl std::error::Error for ReuniteError {}

impl OwnedReadHalf {
    /// The stream again, from its two halves.
    ///
    /// # Errors
    ///
    /// When the halves are of different streams.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        reunite(self, other)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        shared(self.key).borrow().peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        shared(self.key).borrow().local_addr()
    }
}

impl OwnedWriteHalf {
    /// The stream again, from its two halves.
    ///
    /// # Errors
    ///
    /// When the halves are of different streams.
    pub fn reunite(self, other: OwnedReadHalf) -> Result<TcpStream, ReuniteError> {
        reunite(other, self)
    }

    /// Drops the half without shutting down the write direction.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        shared(self.key).borrow().peer_addr()
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        shared(self.key).borrow().local_addr()
    }
}

fn reunite(read: OwnedReadHalf, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
    let (read_shared, write_shared) = (shared(read.key), shared(write.key));
    if !Rc::ptr_eq(&read_shared, &write_shared) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop((read, write));
    Ok(TcpStream {
        key: registry::insert(read_shared),
    })
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_shared(self.key, context, buf)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write_shared(self.key, context, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_flush_shared(self.key, context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_shutdown_shared(self.key, context)
    }
}

impl Drop for OwnedReadHalf {
    fn drop(&mut self) {
        registry::remove(self.key);
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            if let Some(shared) = registry::get::<Shared>(self.key) {
                let waker = registry::noop_waker();
                let mut context = Context::from_waker(&waker);
                let mut stream = shared.borrow_mut();
                let _ = futures_io::AsyncWrite::poll_close(Pin::new(&mut *stream), &mut context);
            }
        }
        registry::remove(self.key);
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedReadHalf").finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedWriteHalf").finish_non_exhaustive()
    }
}
