//! Unix domain sockets (tokio's `UnixListener`, `UnixStream` and
//! `net::unix`) between tasks of one node: a listener's path names a
//! loopback TCP listener of the calling node (in a table of the run's
//! thread, by node and path, that datagram sockets' paths share: a path is
//! in use whatever bound it, and a connect to a datagram socket's path is
//! Linux's `EPROTOTYPE`), so a connection is the simulated network's
//! own (its delivery, its traces, its crash). Paths are per node, as a
//! node's filesystem is; nothing is created on the node's disk. Differences
//! from Linux: a path whose listener is closed may be bound again without
//! removing it first (a test's `remove_file` touches the real disk, not the
//! node's), and `UnixStream::pair` and `peer_cred` are not simulated.
//! A stream's window is AF_UNIX's, not TCP's: a writer may have queued at
//! its peer, unread, its socket's send buffer (`net.core.wmem_default`,
//! 212,992 bytes, in payload: Linux counts its bookkeeping in it too), with
//! no receive buffer of the peer's added (`UNIX_HALF_BUFFER`). A write to a
//! stream whose peer closed fails at once with `BrokenPipe` (`EPIPE`), as
//! the peer is local (each end is marked `set_af_unix`), not after TCP's
//! reset.
//! (`UnixDatagram` and `UnixSocket`: `unix_datagram.rs`; `pipe`: an
//! in-memory pipe of the run.)

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use bytes::BufMut;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf, Ready};

use super::tcp::{
    poll_read_ready_stream, poll_ready_stream, poll_write_ready_stream, try_read_buf_stream,
    try_read_stream, try_read_vectored_stream, try_write_vectored_stream, Stream,
};
use super::{TcpListener, TcpStream, UdpSocket};
use crate::explain::unsupported;

pub mod pipe;

/// tokio's own address of a Unix socket (made from a path here).
pub use tokio::net::unix::SocketAddr;
/// tokio's own aliases of the credential ids.
pub use tokio::net::unix::{gid_t, pid_t, uid_t};

/// Where a path is bound: the run (`asyncsim::task::run_id`), the node's
/// name, the path.
pub(super) type PathKey = (Option<u64>, String, PathBuf);

/// What a path is bound to: a listener or a datagram socket (one table for
/// both, as one filesystem holds both: a path is in use whatever bound it).
pub(super) enum Bound {
    Listener(Weak<TcpListener>),
    Datagram(Weak<UdpSocket>),
}

impl Bound {
    fn open(&self) -> bool {
        match self {
            Bound::Listener(listener) => listener.strong_count() > 0,
            Bound::Datagram(socket) => socket.strong_count() > 0,
        }
    }
}

thread_local! {
    /// The paths bound in the run on this thread, each to the socket behind
    /// it (closed when the socket is dropped). An earlier run's are
    /// forgotten when a path is bound in a later one.
    static PATHS: RefCell<BTreeMap<PathKey, Bound>> = const { RefCell::new(BTreeMap::new()) };
}

/// The key of `path` on the calling node, free to bind.
///
/// # Errors
///
/// `AddrInUse` when a socket of this node (a listener or a datagram
/// socket) is bound there and open.
pub(super) fn free_path(path: &Path, what: &str) -> io::Result<PathKey> {
    address(path)?;
    let key = path_key(path);
    if PATHS.with(|paths| paths.borrow().get(&key).is_some_and(Bound::open)) {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{what}: {} is in use on this node", path.display()),
        ));
    }
    Ok(key)
}

/// Binds `key` (from [`free_path`]) to `bound`.
pub(super) fn bind_path(key: PathKey, bound: Bound) {
    PATHS.with(|paths| {
        let mut paths = paths.borrow_mut();
        paths.retain(|(run, _, _), _| *run == key.0);
        paths.insert(key, bound);
    });
}

/// The socket of the kind `pick` takes that is bound at `path` on the
/// calling node.
///
/// # Errors
///
/// As Linux's: `NotFound` when nothing was ever bound there,
/// `ConnectionRefused` when its socket is closed, `EPROTOTYPE` when it is
/// of the other kind (a listener's path for a datagram, or the reverse).
pub(super) fn bound_at<T>(
    path: &Path,
    what: &str,
    pick: impl FnOnce(&Bound) -> Option<&Weak<T>>,
) -> io::Result<Arc<T>> {
    let key = path_key(path);
    let error = |kind, why: &str| io::Error::new(kind, format!("{what} {}: {why}", path.display()));
    PATHS.with(|paths| {
        let paths = paths.borrow();
        let Some(bound) = paths.get(&key) else {
            return Err(error(io::ErrorKind::NotFound, "no such socket on this node"));
        };
        match pick(bound) {
            Some(socket) => socket
                .upgrade()
                .ok_or_else(|| error(io::ErrorKind::ConnectionRefused, "its socket is closed")),
            None if bound.open() => {
                let os = io::Error::from_raw_os_error(EPROTOTYPE);
                let why = format!(
                    "the socket there is of the other type, a listener's or a datagram socket's ({os})"
                );
                Err(error(os.kind(), &why))
            }
            None => Err(error(io::ErrorKind::ConnectionRefused, "its socket is closed")),
        }
    })
}

/// Linux's "protocol wrong type for socket".
const EPROTOTYPE: i32 = 91;

pub(super) fn path_key(path: &Path) -> PathKey {
    (
        asyncsim::task::run_id(),
        asyncsim::node::current().name(),
        path.to_path_buf(),
    )
}

pub(super) fn address(path: &Path) -> io::Result<SocketAddr> {
    std::os::unix::net::SocketAddr::from_pathname(path).map(SocketAddr::from)
}

pub(super) fn unnamed() -> SocketAddr {
    SocketAddr::from(
        std::os::unix::net::SocketAddr::from_pathname("").expect("the empty path is unnamed"),
    )
}

fn path_of(address: &SocketAddr) -> io::Result<&Path> {
    address.as_pathname().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "only a Unix socket address with a path is simulated (not an unnamed or abstract one)",
        )
    })
}

/// A Unix socket listener on the calling task's node.
///
/// ```
/// use asyncsim_tokio as tokio;
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let reply = runtime.block_on(async {
///     let listener = tokio::net::UnixListener::bind("/run/app.sock").unwrap();
///     tokio::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         stream.write_all(b"ok").await.unwrap();
///     });
///     let mut stream = tokio::net::UnixStream::connect("/run/app.sock").await.unwrap();
///     let mut reply = [0u8; 2];
///     stream.read_exact(&mut reply).await.unwrap();
///     reply
/// });
/// assert_eq!(&reply, b"ok");
/// ```
pub struct UnixListener {
    listener: Arc<TcpListener>,
    path: PathBuf,
}

/// What each end of a Unix stream's loopback connection is given as its
/// send and its receive buffer (before Linux's doubling: 53,248, so
/// 106,496 each), so each direction's window, the sender's send buffer
/// plus the receiver's receive buffer, is AF_UNIX's: the sender's
/// `wmem_default`, 212,992 bytes.
const UNIX_HALF_BUFFER: u32 = 53_248;

impl UnixListener {
    /// Listens at `path` on the calling task's node.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when a socket of this node (a listener or a datagram
    /// socket) is bound there and open.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let key = free_path(path, "UnixListener::bind")?;
        let listener = Arc::new(TcpListener::bind_now(
            "127.0.0.1:0".parse().expect("an address"),
        )?);
        listener.set_buffers(Some(UNIX_HALF_BUFFER), Some(UNIX_HALF_BUFFER))?;
        bind_path(key, Bound::Listener(Arc::downgrade(&listener)));
        Ok(UnixListener {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// Listens at `address`'s path (see `bind`).
    ///
    /// # Errors
    ///
    /// As `bind`; `InvalidInput` for an address without a path.
    pub fn bind_addr(address: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::bind(path_of(address)?)
    }

    /// Waits for a connection: the stream and its peer's (unnamed) address.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        super::wait_on(&*self.listener, |context| self.poll_accept(context)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(
        &self,
        context: &mut Context<'_>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.listener.poll_accept(context).map(|accepted| {
            let (stream, _) = accepted?;
            stream.inner().with(|stream| stream.set_af_unix())??;
            let stream = UnixStream {
                inner: stream,
                local: address(&self.path)?,
                peer: unnamed(),
            };
            Ok((stream, unnamed()))
        })
    }

    /// The path listened at.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        address(&self.path)
    }

    /// Always `Ok(None)`: errors come to `accept`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("path", &self.path)
            .finish()
    }
}

/// A Unix socket connection between two tasks of a node: a loopback
/// connection of the simulated network (tokio's `AsyncRead`/`AsyncWrite`).
pub struct UnixStream {
    inner: TcpStream,
    local: SocketAddr,
    peer: SocketAddr,
}

impl UnixStream {
    /// Connects to the listener at `path` on the calling task's node.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing was ever bound there, `ConnectionRefused`
    /// when its listener is closed, Linux's `EPROTOTYPE` when a datagram
    /// socket is bound there.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let peer = address(path)?;
        let listener = bound_at(path, "UnixStream::connect to", |bound| match bound {
            Bound::Listener(listener) => Some(listener),
            Bound::Datagram(_) => None,
        })?;
        let target = listener.local_addr()?;
        let inner =
            TcpStream::connect_with_buffers(target, Some(UNIX_HALF_BUFFER), Some(UNIX_HALF_BUFFER))
                .await?;
        // Its peer's close fails its writes at once (`EPIPE`), as a Unix
        // socket's peer is local.
        inner.inner().with(|stream| stream.set_af_unix())??;
        Ok(UnixStream {
            inner,
            local: unnamed(),
            peer,
        })
    }

    /// Connects to `address`'s path (see `connect`).
    ///
    /// # Errors
    ///
    /// As `connect`; `InvalidInput` for an address without a path.
    pub async fn connect_addr(address: &SocketAddr) -> io::Result<UnixStream> {
        UnixStream::connect(path_of(address)?).await
    }

    /// Refused: a connected pair at once has no simulated counterpart.
    ///
    /// # Errors
    ///
    /// Always `Unsupported`, naming the alternative.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        Err(unsupported(
            "net::UnixStream::pair",
            "bind a UnixListener and connect to it (a simulated connection), or use \
             tokio::io::duplex for an in-memory pair",
        ))
    }

    /// This end's address (unnamed for the connecting end).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local.clone())
    }

    /// The peer's address (unnamed for the accepted end).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.peer.clone())
    }

    /// Refused: the simulated node has no users or processes.
    ///
    /// # Errors
    ///
    /// Always `Unsupported`, naming the alternative.
    pub fn peer_cred(&self) -> io::Result<UCred> {
        Err(unsupported(
            "net::UnixStream::peer_cred",
            "a simulated node has no users or processes; give the code under test the \
             credentials to check by another way (a trait, a parameter)",
        ))
    }

    fn inner(&self) -> &Stream {
        &self.inner.stream
    }

    read_side!();
    write_side!();
    ready_method!();

    /// Polls until a read would not wait (see `readable`).
    pub fn poll_read_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_read_ready(context)
    }

    /// Polls until a write would not wait (see `writable`).
    pub fn poll_write_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_write_ready(context)
    }

    /// Takes the stream's error, as `TcpStream::take_error` does (Linux's
    /// `SO_ERROR`): `Some` once it has come, taken, then `None`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(context, buf)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(context, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(context)
    }

    fn poll_shutdown(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(context)
    }
}

impl AsRef<UnixStream> for UnixStream {
    fn as_ref(&self) -> &UnixStream {
        self
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local)
            .field("peer", &self.peer)
            .finish()
    }
}

/// The peer's credentials (never made in a simulated run: see
/// [`UnixStream::peer_cred`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    _never: Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Never {}

impl UCred {
    /// The user id (never made).
    pub fn uid(&self) -> uid_t {
        match self._never {}
    }

    /// The group id (never made).
    pub fn gid(&self) -> gid_t {
        match self._never {}
    }

    /// The process id (never made).
    pub fn pid(&self) -> Option<pid_t> {
        match self._never {}
    }
}

stream_halves!(UnixStream, SocketAddr);
