//! A socket as a `Send + Sync` value, for wrappers whose handles must be
//! `Send` (the tokio face's `tokio::net` types): the socket bound to the
//! thread of its run.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::{TcpListener, TcpStream, ToAddress, UdpSocket};
use crate::raw::ThreadBound;

/// A socket of a run ([`TcpStream`], [`TcpListener`], [`UdpSocket`]) as a
/// `Send + Sync` value: the socket itself, bound to the thread that made it
/// (a [`ThreadBound`](crate::task::ThreadBound)). [`Detached::with`] lends
/// it for one operation on that thread; past its run its operations fail
/// as a kept socket's do. On another thread it is an error, never a data
/// race, and dropping it there leaks the socket (and its run's world)
/// instead of closing it. Dropping it on its thread closes the socket as
/// dropping the socket does.
///
/// ```
/// use asyncsim_sim::net::{Detached, TcpListener};
/// use asyncsim_sim::{Config, Sim};
///
/// fn assert_send_sync<T: Send + Sync>(_: &T) {}
/// let run = Sim::new(Config::new()).run(async {
///     let listener = Detached::new(TcpListener::bind("0.0.0.0:7000").await.unwrap());
///     assert_send_sync(&listener);
///     let port = listener.with(|listener| listener.local_addr().unwrap().port()).unwrap();
///     // On another thread the socket is not there to lend.
///     let elsewhere = std::thread::scope(|s| s.spawn(|| listener.with(|_| ()).is_err()).join().unwrap());
///     (port, elsewhere)
/// });
/// assert_eq!(run.result.unwrap(), (7000, true));
/// ```
pub struct Detached<S: Detachable> {
    socket: ThreadBound<S>,
}

/// The sockets a [`Detached`] can hold.
pub trait Detachable: sealed::Named {}

impl Detachable for TcpStream {}
impl Detachable for TcpListener {}
impl Detachable for UdpSocket {}

pub(crate) mod sealed {
    /// What a socket is called in errors.
    pub trait Named {
        const NAME: &'static str;
    }
}

impl sealed::Named for TcpStream {
    const NAME: &'static str = "TcpStream";
}

impl sealed::Named for TcpListener {
    const NAME: &'static str = "TcpListener";
}

impl sealed::Named for UdpSocket {
    const NAME: &'static str = "UdpSocket";
}

impl<S: Detachable> Detached<S> {
    /// `socket`, bound to this thread.
    pub fn new(socket: S) -> Detached<S> {
        Detached {
            socket: ThreadBound::new(socket),
        }
    }

    /// The socket, on its thread.
    #[inline]
    fn socket(&self) -> io::Result<&S> {
        match self.socket.get() {
            Some(socket) => Ok(socket),
            None => Err(elsewhere(S::NAME)),
        }
    }

    /// The socket, mutably, on its thread: for its own `futures` traits
    /// (`AsyncRead`/`AsyncWrite` take it pinned and mutable).
    ///
    /// # Errors
    ///
    /// On another thread: the socket is not there to lend.
    #[inline]
    pub fn get_mut(&mut self) -> io::Result<&mut S> {
        match self.socket.get_mut() {
            Some(socket) => Ok(socket),
            None => Err(elsewhere(S::NAME)),
        }
    }

    /// Lends the socket to `f` for one operation.
    ///
    /// # Errors
    ///
    /// On another thread: the socket is not there to lend.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&S) -> R) -> io::Result<R> {
        self.socket().map(f)
    }
}

/// A detached stream's reads and writes, compiled here (not in the caller's
/// crate, where the world's clock, checks and recorder would be calls): the
/// same operations, steps and trace as the [`TcpStream`]'s own. Used on
/// another thread, each is the error `with` gives.
impl Detached<TcpStream> {
    /// Polls for bytes as [`TcpStream::poll_read_with`] does; `put` is a
    /// `dyn` closure so that the read is not generic.
    pub fn poll_read_with(
        &self,
        context: &mut Context<'_>,
        max: usize,
        put: &mut dyn FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        self.socket()?.read_with::<true>(context, max, put)
    }

    /// Writes `buf` as [`TcpStream`]'s `poll_write` does: what fits in
    /// the window (all of it, unless the peer has left that much unread),
    /// in one segment; waits when nothing fits.
    pub fn poll_write(&self, context: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.socket()?.write_with(Some(context), buf)
    }

    /// Writes `buf` as [`Detached::poll_write`] does, without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing fits in the window; otherwise as a write
    /// to the stream.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self.socket()?.write_with(None, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Shuts the write direction as [`TcpStream`]'s `poll_close` does.
    ///
    /// # Errors
    ///
    /// As a shutdown of the stream.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.socket()?.shutdown_write()
    }
}

/// A detached UDP socket's sends and receives, as a detached stream's
/// reads and writes are.
impl Detached<UdpSocket> {
    /// Polls for one datagram as [`UdpSocket::poll_recv_from`] does.
    /// (Inlined, as the next one: the socket's own operation is out of line.)
    #[inline]
    pub fn poll_recv_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.socket()?.poll_recv_from(context, buf)
    }

    /// Sends one datagram to `address` as [`UdpSocket::send_to`] does (it
    /// never waits).
    ///
    /// # Errors
    ///
    /// As a send from the socket.
    #[inline]
    pub fn send_to<A: ToAddress>(&self, buf: &[u8], address: A) -> io::Result<usize> {
        self.socket()?.send_now::<_, false>(buf, &address)
    }

    /// [`Detached::send_to`] as a poll under the task's cooperative budget
    /// (`task::coop`), as the socket's own `send_to`: `Pending` (a yield,
    /// nothing sent) when the budget is spent, so a loop of sends yields.
    ///
    /// # Errors
    ///
    /// As a send from the socket.
    #[inline]
    pub fn poll_send_to<A: ToAddress>(
        &self,
        context: &mut Context<'_>,
        buf: &[u8],
        address: A,
    ) -> Poll<io::Result<usize>> {
        let sent = self.socket()?.send_now::<_, true>(buf, &address);
        super::udp::budget_yield_if_spent(sent, context)
    }
}

#[cold]
fn elsewhere(name: &str) -> io::Error {
    io::Error::other(format!(
        "{name} used on another thread: a simulated run is single-threaded, and its sockets \
         work only on the run's own thread"
    ))
}

impl<S: Detachable + fmt::Debug> fmt::Debug for Detached<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.socket.get() {
            Some(socket) => socket.fmt(f),
            None => f.debug_struct(S::NAME).finish_non_exhaustive(),
        }
    }
}
