//! `UnixDatagram` and `UnixSocket` on the simulated network: a datagram
//! socket's path names a loopback UDP socket of the calling task's node
//! (in the table of paths a `UnixListener`'s are in: `unix::bound_at`), so
//! its datagrams are the simulated network's.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};

use bytes::BufMut;
use tokio::io::{Interest, ReadBuf, Ready};

use super::unix::{address, bind_path, bound_at, free_path, path_key, unnamed, Bound, SocketAddr};
use super::{UdpSocket, UnixListener, UnixStream};

/// Where a datagram was sent from: the run, the node's name, the loopback
/// port.
type SenderKey = (Option<u64>, String, u16);

thread_local! {
    /// The path each bound socket's datagrams come from, by (run, node,
    /// the loopback port it sends from).
    static SENDERS: RefCell<BTreeMap<SenderKey, PathBuf>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// The datagram socket at `path` on the calling node.
///
/// # Errors
///
/// As `unix::bound_at`: `NotFound` when nothing was ever bound there,
/// `ConnectionRefused` when its socket is closed (as Linux says for a path
/// with no socket behind it), `EPROTOTYPE` for a listener's path.
fn target(path: &Path) -> io::Result<Arc<UdpSocket>> {
    bound_at(path, "UnixDatagram to", |bound| match bound {
        Bound::Datagram(socket) => Some(socket),
        Bound::Listener(_) => None,
    })
}

/// The path of the socket of this node that sent from `from` (unnamed for
/// an unbound one): as bound when it sent, even if it closed since.
fn sender(from: std::net::SocketAddr) -> SocketAddr {
    let (run, node, _) = path_key(Path::new(""));
    SENDERS
        .with(|senders| senders.borrow().get(&(run, node, from.port())).cloned())
        .and_then(|path| address(&path).ok())
        .unwrap_or_else(unnamed)
}

/// Records (or, for an unbound socket, forgets) the path that datagrams
/// from `socket`'s port were sent from.
fn name_sender(socket: &UdpSocket, path: Option<&Path>) -> io::Result<()> {
    let (run, node, _) = path_key(Path::new(""));
    let key = (run, node, socket.local_addr()?.port());
    SENDERS.with(|senders| {
        let mut senders = senders.borrow_mut();
        senders.retain(|(other, _, _), _| *other == run);
        match path {
            Some(path) => senders.insert(key, path.to_path_buf()),
            None => senders.remove(&key),
        }
    });
    Ok(())
}

/// A Unix datagram socket on the calling task's node.
///
/// ```
/// use asyncsim_tokio as tokio;
///
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let (got, from) = runtime.block_on(async {
///     let server = tokio::net::UnixDatagram::bind("/run/server.sock").unwrap();
///     let client = tokio::net::UnixDatagram::bind("/run/client.sock").unwrap();
///     client.send_to(b"ping", "/run/server.sock").await.unwrap();
///     let mut buf = [0u8; 8];
///     let (count, from) = server.recv_from(&mut buf).await.unwrap();
///     (buf[..count].to_vec(), from.as_pathname().unwrap().to_path_buf())
/// });
/// assert_eq!((&got[..], from.to_str().unwrap()), (&b"ping"[..], "/run/client.sock"));
/// ```
pub struct UnixDatagram {
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    /// The connected peer: its address, and its socket (a send to it once
    /// it is closed is refused).
    peer: Mutex<Option<(SocketAddr, Weak<UdpSocket>)>>,
    read_shut: AtomicBool,
    write_shut: AtomicBool,
}

fn not_connected(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("{what} before connect"),
    )
}

impl UnixDatagram {
    fn new(socket: UdpSocket, local: SocketAddr) -> UnixDatagram {
        UnixDatagram {
            socket: Arc::new(socket),
            local,
            peer: Mutex::new(None),
            read_shut: AtomicBool::new(false),
            write_shut: AtomicBool::new(false),
        }
    }

    fn loopback() -> io::Result<UdpSocket> {
        UdpSocket::bind_now("127.0.0.1:0".parse().expect("an address"))
    }

    /// A socket bound at `path` on the calling task's node.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when a socket of this node (a datagram socket or a
    /// listener) is bound there and open.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let local = address(path)?;
        let key = free_path(path, "UnixDatagram::bind")?;
        let socket = UnixDatagram::loopback()?;
        name_sender(&socket, Some(path))?;
        let datagram = UnixDatagram::new(socket, local);
        bind_path(key, Bound::Datagram(Arc::downgrade(&datagram.socket)));
        Ok(datagram)
    }

    /// A socket bound to no path (its datagrams' sender is unnamed).
    pub fn unbound() -> io::Result<UnixDatagram> {
        let socket = UnixDatagram::loopback()?;
        name_sender(&socket, None)?;
        Ok(UnixDatagram::new(socket, unnamed()))
    }

    /// Two unbound sockets, each connected to the other.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = (UnixDatagram::unbound()?, UnixDatagram::unbound()?);
        a.socket.connect_now(b.socket.local_addr()?)?;
        b.socket.connect_now(a.socket.local_addr()?)?;
        *a.peer_slot() = Some((unnamed(), Arc::downgrade(&b.socket)));
        *b.peer_slot() = Some((unnamed(), Arc::downgrade(&a.socket)));
        Ok((a, b))
    }

    fn peer_slot(&self) -> std::sync::MutexGuard<'_, Option<(SocketAddr, Weak<UdpSocket>)>> {
        self.peer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the default peer: `send` goes to the socket at `path`, `recv`
    /// takes only its datagrams.
    ///
    /// # Errors
    ///
    /// `NotFound` when nothing was ever bound there, `ConnectionRefused`
    /// when its socket is closed, Linux's `EPROTOTYPE` when a listener is
    /// bound there.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        let path = path.as_ref();
        let peer = target(path)?;
        self.socket.connect_now(peer.local_addr()?)?;
        *self.peer_slot() = Some((address(path)?, Arc::downgrade(&peer)));
        Ok(())
    }

    fn check_write(&self) -> io::Result<()> {
        if self.write_shut.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "UnixDatagram: send after shutdown",
            ));
        }
        Ok(())
    }

    /// Sends one datagram to the connected peer (it never waits).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        std::future::poll_fn(|context| self.poll_send(context, buf)).await
    }

    /// Sends one datagram to the connected peer, without waiting.
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`; `BrokenPipe` after `shutdown`;
    /// `ConnectionRefused` when the peer's socket is closed, after which
    /// the socket is no longer connected (Linux's); `PermissionDenied`
    /// when the peer is connected to another socket.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.check_write()?;
        let peer = {
            let mut peer = self.peer_slot();
            let Some((_, socket)) = &*peer else {
                return Err(not_connected("UnixDatagram::send"));
            };
            let Some(socket) = socket.upgrade() else {
                *peer = None;
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    "UnixDatagram::send: the connected peer's socket is closed",
                ));
            };
            socket
        };
        self.may_send(&peer)?;
        self.socket.try_send(buf)
    }

    /// Linux's `unix_may_send`: a datagram socket connected to a peer takes
    /// datagrams from that peer only, and refuses another sender's send
    /// (`EPERM`) rather than dropping it.
    fn may_send(&self, to: &UdpSocket) -> io::Result<()> {
        match to.peer_addr() {
            Ok(peer) if peer != self.socket.local_addr()? => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "UnixDatagram: the socket there is connected to another socket, and takes \
                 datagrams from it only (Linux's EPERM)",
            )),
            _ => Ok(()),
        }
    }

    /// Polls to send one datagram to the connected peer (it never waits).
    pub fn poll_send(&self, context: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // A send spends a unit of the task's budget (a loop of them yields):
        // the look yields when none is left; the send spends it.
        std::task::ready!(crate::coop::look_at_budget(context));
        Poll::Ready(self.try_send(buf))
    }

    /// Sends one datagram to the socket at `target` (it never waits).
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        std::future::poll_fn(|context| self.poll_send_to(context, buf, target.as_ref())).await
    }

    /// Sends one datagram to the socket at `target`, without waiting.
    ///
    /// # Errors
    ///
    /// `NotFound` for a path never bound, `ConnectionRefused` for a closed
    /// socket's, Linux's `EPROTOTYPE` for a listener's; `PermissionDenied`
    /// (Linux's `EPERM`) for a socket connected to another; `BrokenPipe`
    /// after `shutdown`.
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], target: P) -> io::Result<usize> {
        self.check_write()?;
        let to = self::target(target.as_ref())?;
        self.may_send(&to)?;
        self.socket.try_send_to(buf, to.local_addr()?)
    }

    /// Polls to send one datagram to `target` (it never waits).
    pub fn poll_send_to<P: AsRef<Path>>(
        &self,
        context: &mut Context<'_>,
        buf: &[u8],
        target: P,
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::coop::look_at_budget(context));
        Poll::Ready(self.try_send_to(buf, target))
    }

    /// Receives one datagram: the connected peer's, or (not connected)
    /// anyone's, as Linux's `recv(2)` does.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_from(buf).await.map(|(count, _)| count)
    }

    /// Receives one datagram (as `recv`), without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_recv_from(buf).map(|(count, _)| count)
    }

    /// Polls for one datagram into `buf`'s unfilled part.
    pub fn poll_recv(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_recv_from(context, buf).map_ok(|_| ())
    }

    /// Whether `shutdown` shut the receiving side: then what is buffered
    /// is received, and after it a receive returns 0 at once (Linux's).
    fn read_shut(&self) -> bool {
        self.read_shut.load(Ordering::Relaxed)
    }

    /// Receives one datagram: its length (truncated to `buf`) and its
    /// sender's path (unnamed for an unbound socket).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut buf = ReadBuf::new(buf);
        let from = super::wait_on(&*self.socket, |context| {
            self.poll_recv_from(context, &mut buf)
        })
        .await?;
        Ok((buf.filled().len(), from))
    }

    /// Receives one datagram without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived (and the receiving side is not
    /// shut).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        match self.socket.try_recv_from(buf) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock && self.read_shut() => {
                Ok((0, unnamed()))
            }
            received => received.map(|(count, from)| (count, sender(from))),
        }
    }

    /// Polls for one datagram into `buf`'s unfilled part: its sender.
    pub fn poll_recv_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        if self.read_shut() {
            let received = self.try_recv_from(buf.initialize_unfilled());
            return Poll::Ready(received.map(|(count, from)| {
                buf.advance(count);
                from
            }));
        }
        self.socket.poll_recv_from(context, buf).map_ok(sender)
    }

    /// [`recv_from`](Self::recv_from) into a `BufMut`'s next chunk.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let mut chunk = vec![0; buf.chunk_mut().len()];
        let (count, from) = self.recv_from(&mut chunk).await?;
        buf.put_slice(&chunk[..count]);
        Ok((count, from))
    }

    /// [`recv`](Self::recv) into a `BufMut`'s next chunk.
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.recv_buf_from(buf).await.map(|(count, _)| count)
    }

    /// [`try_recv_from`](Self::try_recv_from) into a `BufMut`'s next chunk.
    ///
    /// # Errors
    ///
    /// As `try_recv_from`.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let mut chunk = vec![0; buf.chunk_mut().len()];
        let (count, from) = self.try_recv_from(&mut chunk)?;
        buf.put_slice(&chunk[..count]);
        Ok((count, from))
    }

    /// [`try_recv`](Self::try_recv) into a `BufMut`'s next chunk.
    ///
    /// # Errors
    ///
    /// As `try_recv`.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.try_recv_buf_from(buf).map(|(count, _)| count)
    }

    /// Waits for any of `interest`: writable is ready at once, readable
    /// when a datagram has arrived, or at once (and read-closed) once the
    /// receiving side is shut, as Linux's poll says.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        if interest.is_readable() && self.read_shut() {
            let mut ready = Ready::READABLE | Ready::READ_CLOSED;
            if interest.is_writable() {
                self.socket.writable().await?;
                ready |= Ready::WRITABLE;
            }
            return Ok(ready);
        }
        self.socket.ready(interest).await
    }

    /// Waits until a receive would not wait.
    pub async fn readable(&self) -> io::Result<()> {
        super::wait_on(&*self.socket, |context| {
            if self.read_shut() {
                return Poll::Ready(Ok(()));
            }
            self.socket.poll_recv_readiness(context)
        })
        .await
    }

    /// Ready at once: a send never waits on the simulated network.
    pub async fn writable(&self) -> io::Result<()> {
        self.socket.writable().await
    }

    /// Polls until a receive would not wait (at once when the receiving
    /// side is shut). As tokio's, it spends a unit of the task's budget
    /// when ready (`readable` does not), and yields when it is spent.
    pub fn poll_recv_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.read_shut() {
            return self.socket.poll_recv_ready(context);
        }
        crate::coop::poll_cooperative(context, |_| Poll::Ready(Ok(())))
    }

    /// Ready at once: a send never waits on the simulated network; spends
    /// a unit of the task's budget, as tokio's (`writable` does not).
    pub fn poll_send_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.socket.poll_send_ready(context)
    }

    /// The path bound (unnamed for an unbound socket).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local.clone())
    }

    /// The connected peer's path.
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let peer = self.peer_slot();
        let address = peer.as_ref().map(|(address, _)| address.clone());
        address.ok_or_else(|| not_connected("UnixDatagram::peer_addr"))
    }

    /// Always `Ok(None)`: errors come to the socket's operations.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.socket.take_error()
    }

    /// Shuts down receiving (what is buffered is received, then a receive
    /// returns 0 at once), sending (a send is `BrokenPipe`) or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.read_shut.store(true, Ordering::Relaxed);
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.write_shut.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

/// A Unix socket not yet listening, connected or bound for datagrams
/// (tokio's `UnixSocket`): its `bind` is remembered and made by `listen`
/// or `datagram`.
#[derive(Debug)]
pub struct UnixSocket {
    datagram: bool,
    bound: Mutex<Option<PathBuf>>,
}

impl UnixSocket {
    /// A stream socket.
    pub fn new_stream() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            datagram: false,
            bound: Mutex::new(None),
        })
    }

    /// A datagram socket.
    pub fn new_datagram() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            datagram: true,
            bound: Mutex::new(None),
        })
    }

    fn bound(&self) -> Option<PathBuf> {
        self.bound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Remembers `path` for `listen` or `datagram`, which bind it.
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        address(path.as_ref())?;
        *self.bound.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(path.as_ref().to_path_buf());
        Ok(())
    }

    /// Listens at the bound path (the backlog is the world's own).
    ///
    /// # Errors
    ///
    /// As `UnixListener::bind`; `InvalidInput` for a socket not bound (as
    /// Linux), an error for a datagram socket (as tokio).
    pub fn listen(self, _backlog: u32) -> io::Result<UnixListener> {
        if self.datagram {
            return Err(io::Error::other(
                "listen cannot be called on a datagram socket",
            ));
        }
        match self.bound() {
            Some(path) => UnixListener::bind(path),
            // Linux's EINVAL: no listens on an unbound socket.
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "UnixSocket::listen without bind: an unbound listener has no path to connect \
                 to; bind a path first",
            )),
        }
    }

    /// Connects to the listener at `path`, as `UnixStream::connect`.
    ///
    /// # Errors
    ///
    /// As `UnixStream::connect`; an error for a datagram socket.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        if self.datagram {
            return Err(io::Error::other(
                "connect cannot be called on a datagram socket",
            ));
        }
        UnixStream::connect(path).await
    }

    /// The datagram socket, bound at the bound path (if any).
    ///
    /// # Errors
    ///
    /// As `UnixDatagram::bind`; an error for a stream socket.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        if !self.datagram {
            return Err(io::Error::other(
                "datagram cannot be called on a stream socket",
            ));
        }
        match self.bound() {
            Some(path) => UnixDatagram::bind(path),
            None => UnixDatagram::unbound(),
        }
    }
}
