//! TCP: listeners, connections, and streams with in-order delivery.
//!
//! A connection is two pipes, one toward each end. A write becomes a
//! segment with a drawn latency; its arrival is never before the previous
//! segment's, so each direction delivers in order. A lost segment is a
//! retransmission: a drawn extra delay, never lost bytes. Across a cut,
//! segments are held back until the link heals; if it does not within the
//! link's `tcp_timeout`, the end that sent them fails with `TimedOut`; so
//! does one whose bytes' acks a cut of the link back loses (on their way at
//! the cut, or sent across it), as Linux retransmits them until it gives
//! up. Only that end: as Linux's `tcp_write_err`, it gives up without a
//! reset, discarding what it held (`error::give_up`); an idle peer notices
//! nothing until it sends, and then times out in its turn across the cut or,
//! once a segment gets through, is answered with a reset by the end that
//! gave up (`Connection::gave_up`), as by a closed end. A peer's crash
//! reaches the other end one latency later as `ConnectionReset`; across a
//! cut its reset is lost, and the other end learns of it from its own next
//! segment: no answer while the cut lasts (`TimedOut`), a reset once one
//! gets through (`Connection::crash_unsaid`), as a closed end answers. Either is
//! a `net reset` on the end it reaches, at its arrival, once (see
//! `error::say_error`). As Linux reports a socket's error (`sk_err`), the
//! first read, peek or write to meet it returns it and takes it; the
//! socket is closed after that: reads return 0 (EOF), writes `BrokenPipe`
//! (`Connection::taken`). A refused connect is a `net refused`, one across a
//! cut a `net connect timed out`, when `connect` returns.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Carried, Protocol, ToAddress};

// A stream's concepts, one file each (a pure split: see ARCHITECTURE.md's
// codemap): connecting and its handshake, the read and write paths, the
// close, and, below the stream, the connection's pipes, its errors, its
// resets (a crash's too), cuts and their timeouts, and the run's lists.
mod close;
mod connect;
mod cut;
mod error;
mod listener;
mod peek;
mod pipe;
mod read;
mod reset;
mod reused;
mod write;

use crate::world::{cx, same_run, World, WorldRc};
pub(crate) use cut::{links_cut, release_held};
pub(crate) use listener::ListenerState;
pub use listener::TcpListener;
pub use pipe::{buffer_set_to, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};
pub(crate) use reset::crash_node;
pub(crate) use reused::{forget_node, socket_waits, Connections, Listeners};

/// A TCP connection's end: `futures::io::{AsyncRead, AsyncWrite}`.
///
/// `close()` (a shutdown of its write side) sends EOF to the peer, after
/// every byte written. Dropping it does too, unless bytes it was sent have
/// arrived and are unread: then, as Linux's `close`, it sends a reset
/// instead (after every byte written, and even after a shutdown's EOF):
/// the peer reads what came before it, then gets `ConnectionReset` (or EOF
/// if a FIN came first), and its writes fail with `ConnectionReset`.
///
/// A stream's error (that reset, its peer's crash's, a timeout) is
/// reported once, as Linux reports a socket's: the first read, peek or
/// write to meet it returns it; later reads return 0 (EOF) and later
/// writes `BrokenPipe`, the socket being closed. A readiness look
/// (`poll_read_ready`, `poll_write_ready`) takes nothing.
pub struct TcpStream {
    pub(super) world: WorldRc,
    pub(super) connection: usize,
    pub(super) side: usize,
}

fn foreign(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what} belongs to another run: a socket cannot outlive the simulation that made it"
    ))
}

fn node_crashed(what: &str, node: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("{what} belongs to node `{node}`, which crashed: its sockets died with it"),
    )
}

impl TcpStream {
    /// The peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the stream's error has come (a reset, the reset
    /// of the peer's close, a timeout): Linux's `getpeername` says
    /// `ENOTCONN` for the socket its error closed, and tokio's `peer_addr`
    /// returns it.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        let c = &world.net.connections[self.connection];
        if let Some(now) = cx::now_in_run(world.run_id) {
            if let Some(kind) = c.closed_by_error(self.side, now) {
                return Err(self.not_connected(&world, kind, "peer_addr"));
            }
        }
        Ok(c.addrs[1 - self.side])
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].addrs[self.side])
    }

    /// Checks the stream may be used now (same run, node alive), and the
    /// time now: one look at the thread's run for both (a check and then a
    /// clock read took two). Inlined: out of line its frame cost more than
    /// the look it saves.
    #[inline(always)]
    fn check_now(&self, world: &World) -> io::Result<u64> {
        let c = &world.net.connections[self.connection];
        match cx::now_in_run(world.run_id) {
            Some(now) if world.alive(c.nodes[self.side] as usize, c.incarnations[self.side]) => {
                Ok(now)
            }
            _ => Err(self.unusable(world)),
        }
    }

    /// [`TcpStream::check_now`] for a poll under the cooperative budget, in
    /// the same look at the run: `Pending` (the task woken: a yield) when
    /// the task has no unit left. (The completion spends it: its event.)
    #[inline(always)]
    fn check_now_budgeted(&self, world: &World, context: &Context<'_>) -> Poll<io::Result<u64>> {
        let c = &world.net.connections[self.connection];
        match cx::now_in_run_checking(world.run_id) {
            Some(Ok(now))
                if world.alive(c.nodes[self.side] as usize, c.incarnations[self.side]) =>
            {
                Poll::Ready(Ok(now))
            }
            Some(Err(cx::BudgetSpent)) => {
                super::budget_yield(context);
                Poll::Pending
            }
            _ => Poll::Ready(Err(self.unusable(world))),
        }
    }

    /// Why [`TcpStream::check_now`] failed (out of line: it almost never does).
    #[cold]
    #[inline(never)]
    fn unusable(&self, world: &World) -> io::Error {
        if !same_run(world.run_id) {
            return foreign("TcpStream");
        }
        // A failed operation spends its unit of the task's budget (no
        // event): a loop retrying it yields.
        cx::spend_on_completion();
        let c = &world.net.connections[self.connection];
        let node = c.nodes[self.side] as usize;
        node_crashed(&c.name(self.side), &world.nodes[node].name)
    }

    /// What a call (`call`: `shutdown`, `peer_addr`) on an end its error
    /// closed (`kind`: `Connection::closed_by_error`) gets: `NotConnected`,
    /// Linux's `ENOTCONN`. Out of line.
    #[cold]
    #[inline(never)]
    fn not_connected(&self, world: &World, kind: io::ErrorKind, call: &str) -> io::Error {
        let c = &world.net.connections[self.connection];
        let what = match kind {
            io::ErrorKind::TimedOut => "timed out",
            _ => "was reset",
        };
        io::Error::new(
            io::ErrorKind::NotConnected,
            format!(
                "{}: {call}: not connected (the connection {what}: the socket is closed, as \
                 Linux's, whose {call} then says ENOTCONN)",
                c.name(self.side)
            ),
        )
    }

    fn error(&self, world: &World, kind: io::ErrorKind) -> io::Error {
        let c = &world.net.connections[self.connection];
        let why = match kind {
            io::ErrorKind::ConnectionReset => "connection reset by peer",
            io::ErrorKind::TimedOut => {
                let cut = world.cut_words(c.nodes[0], c.nodes[1], c.cut_causes);
                return io::Error::new(
                    kind,
                    format!(
                        "{}: connection timed out (no delivery for tcp_timeout: {cut})",
                        c.name(self.side)
                    ),
                );
            }
            io::ErrorKind::ConnectionRefused => "connection refused",
            // (Only from a reset that came after the peer's FIN.)
            io::ErrorKind::BrokenPipe => "broken pipe (the peer closed, and reset the connection)",
            _ => "stream failed",
        };
        io::Error::new(kind, format!("{}: {why}", c.name(self.side)))
    }

    /// Sets this end's send buffer (`SO_SNDBUF`) as Linux does: `size`
    /// (at most 212,992) doubled, at least 4,608 bytes; what
    /// [`TcpStream::send_buffer_size`] then says. With the peer's receive
    /// buffer it bounds the bytes this end may have written and the peer
    /// not read: a write past that takes what fits, or waits.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_buffer(size, true)
    }

    /// Sets this end's receive buffer (`SO_RCVBUF`) as Linux does: `size`
    /// (at most 212,992) doubled, at least 2,304 bytes. With the peer's
    /// send buffer it bounds the bytes the peer may have written and this
    /// end not read.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_buffer(size, false)
    }

    /// Sets this end's `SO_LINGER`. `Some(Duration::ZERO)` makes its
    /// close (its drop) abortive, as on Linux: a reset instead of a FIN,
    /// whatever is unread (the peer reads what was sent before it, then
    /// gets `ConnectionReset`). Another time changes nothing here: a close
    /// leaves nothing unsent to wait for.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check_now(world)?;
        world.net.connections[self.connection].linger_ns[self.side] = pipe::linger_ns(linger);
        Ok(())
    }

    /// Makes this end an AF_UNIX stream's (the tokio face's `UnixStream`,
    /// a loopback connection): once its peer has closed, a write fails at
    /// once with `BrokenPipe`, as Linux's `EPIPE` on a Unix socket, instead
    /// of being accepted and answered with a reset a latency later.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    #[doc(hidden)]
    pub fn set_af_unix(&self) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check_now(world)?;
        world.net.connections[self.connection].af_unix[self.side] = true;
        Ok(())
    }

    /// This end's `SO_LINGER`, as set (`None`: off, the default).
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        let world = self.world.borrow();
        let linger_ns = world.net.connections[self.connection].linger_ns[self.side];
        Ok((linger_ns != u64::MAX).then(|| std::time::Duration::from_nanos(linger_ns)))
    }

    /// This end's send buffer: [`DEFAULT_SEND_BUFFER`] (16 KiB, Linux's)
    /// or as set.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].send_buffer[self.side])
    }

    /// This end's receive buffer: [`DEFAULT_RECV_BUFFER`] (128 KiB,
    /// Linux's) or as set.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].recv_buffer[self.side])
    }

    fn set_buffer(&self, size: u32, send: bool) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        let size = pipe::buffer_set_to(size, send);
        if send {
            c.send_buffer[self.side] = size;
        } else {
            c.recv_buffer[self.side] = size;
        }
        c.set_windows();
        Ok(())
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.read_into(context, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
    /// Writes what fits in the window (see [`TcpStream::set_send_buffer_size`]):
    /// all of `buf` unless the peer has left that much unread; waits when
    /// nothing fits, until the peer reads.
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_with(Some(context), buf)
    }

    /// Ready at once: what a write took is on its way (as a socket's
    /// flush, which waits for nothing).
    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.world.try_borrow() {
            Ok(world) => f.write_str(&world.net.connections[self.connection].name(self.side)),
            Err(_) => f.write_str("TcpStream"),
        }
    }
}

impl super::Waitable for TcpStream {
    /// Leaves this end's readers and its writers waiting for room (a
    /// readiness wait may be on either side, or both).
    fn leave_waiters(&self, key: super::WaiterKey) {
        self.leave_waiters_of(key, true, true);
    }

    fn leave_waiters_of(&self, key: super::WaiterKey, read: bool, write: bool) {
        let (connection, side) = (self.connection, self.side);
        if read {
            super::leave_side(
                &self.world,
                |world| &mut world.net.connections[connection].pipes[side].reader,
                key,
            );
        }
        if write {
            super::leave_side(
                &self.world,
                |world| &mut world.net.connections[connection].pipes[1 - side].writer,
                key,
            );
        }
    }
}

impl super::Waitable for TcpListener {
    fn leave_waiters(&self, key: super::WaiterKey) {
        let listener = self.listener;
        super::leave_side(
            &self.world,
            |world| &mut world.net.listeners[listener].acceptor,
            key,
        );
    }
}
