//! A stream's write path: a write within the window (its one look), one
//! past it (what fits, or a wait for room), to a peer gone (lost, then
//! answered with a reset), after a shutdown or an error; write readiness.

use std::io;
use std::task::{Context, Poll};

use super::cut::send;
use super::Carried;
use super::TcpStream;
use super::{cut, error, reset};
use crate::trace::{DropWhy, NetOp, SocketWait, WaitOn};
use crate::world::{cx, World};

impl TcpStream {
    /// What a write gets once this end's error was taken (returned by a
    /// read, peek or write before): `BrokenPipe`, Linux's `EPIPE` for a
    /// socket closed by its error. Spends the write's unit of the budget
    /// (no event). Out of line.
    #[cold]
    #[inline(never)]
    fn write_after_error(&self, world: &World, kind: io::ErrorKind) -> io::Error {
        cx::spend_on_completion();
        let c = &world.net.connections[self.connection];
        let what = match kind {
            io::ErrorKind::TimedOut => "timed out",
            _ => "was reset",
        };
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!(
                "{}: broken pipe (the connection {what}, and an earlier read or write returned \
                 that error)",
                c.name(self.side)
            ),
        )
    }

    /// Writes what fits of `buf` in the window (the bytes sent and not
    /// read by the peer, at most its [`super::pipe::window`]) as one segment, and
    /// is ready with the count; `Pending` when nothing fits, and then
    /// (given a `context`) parked until the peer's reads make room.
    // Out of line (as the write before flow control was): the stream's
    // `poll_write` and a `Detached` stream's `write` call it.
    #[inline(never)]
    pub(in crate::world::net) fn write_with(
        &self,
        context: Option<&mut Context<'_>>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        // A poll is under the task's cooperative budget; a `try_` form (no
        // context) never yields.
        let now = match context.as_deref() {
            Some(polling) => std::task::ready!(self.check_now_budgeted(world, polling))?,
            None => self.check_now(world)?,
        };
        let c = &world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            return Poll::Ready(Err(self.write_failed(world, kind, context.as_deref())));
        }
        let pipe = &c.pipes[1 - self.side];
        // The one look a write makes at the window: the bytes sent and not
        // read (arrived or on their way; held ones count in `limit`, which
        // is 0 once this end's write side is shut or the peer's end gone)
        // and these.
        if buf.is_empty() || pipe.bytes.len() - pipe.read_at + buf.len() > pipe.limit {
            return self.write_past_limit(world, buf, context, now);
        }
        world.record_stream(self.connection, self.side, NetOp::Send, buf.len());
        send(world, self.connection, self.side, Some(buf), now);
        Poll::Ready(Ok(buf.len()))
    }

    /// A write past its pipe's `limit` (or of nothing): after a shutdown
    /// (`BrokenPipe`), of nothing (0), to a peer end that is gone (closed,
    /// crashed or gave up after its timeout: lost, [`TcpStream::drop_written`]), or that does not fit in the window:
    /// what fits is sent ([`TcpStream::fits`]), or, when nothing does,
    /// the write waits. Out of line: a write rarely gets here.
    #[cold]
    #[inline(never)]
    fn write_past_limit(
        &self,
        world: &mut World,
        buf: &[u8],
        context: Option<&mut Context<'_>>,
        now: u64,
    ) -> Poll<io::Result<usize>> {
        let c = &world.net.connections[self.connection];
        if c.write_shut[self.side] {
            // No event: the failed write's unit of the budget spent here.
            cx::spend_on_completion();
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("{}: write after close (shutdown)", c.name(self.side)),
            )));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if c.dropped[1 - self.side] && c.af_unix[self.side] {
            // A Unix socket's peer closed: `EPIPE` at once. (No event: the
            // failed write's unit of the budget spent here.)
            cx::spend_on_completion();
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!(
                    "{}: broken pipe (the peer of this Unix stream closed)",
                    c.name(self.side)
                ),
            )));
        }
        if c.dropped[1 - self.side] || c.gave_up[1 - self.side] {
            if matches!(c.reset_ns[self.side], Some(at) if at <= now) {
                // The reset of the peer's close has come (taken once).
                let kind = c.close_reset_kind(self.side);
                if !world.net.connections[self.connection].take_error(self.side) {
                    let error = self.write_after_error(world, io::ErrorKind::ConnectionReset);
                    return Poll::Ready(Err(error));
                }
                error::say_close_reset_or_spend(world, self.connection, self.side);
                return Poll::Ready(Err(self.error(world, kind)));
            }
            self.drop_written(world, buf.len(), now);
            // Its event (a drop) is no operation's: the write's unit of
            // the budget spent here, or a loop writing to a closed peer
            // never yielded, and the reset never came.
            cx::spend_on_completion();
            return Poll::Ready(Ok(buf.len()));
        }
        let len = self.fits(world, buf.len(), context);
        if len == 0 {
            return Poll::Pending;
        }
        world.record_stream(self.connection, self.side, NetOp::Send, len);
        send(world, self.connection, self.side, Some(&buf[..len]), now);
        cut::sent_unacked(world, self.connection, self.side, len, now);
        Poll::Ready(Ok(len))
    }

    /// A write of `len` bytes that does not fit in the window: how many do
    /// (a write takes what fits, as a socket's send does); when none do,
    /// the writer waits for room ([`TcpStream::wait_to_write`], given a
    /// `context`).
    fn fits(&self, world: &mut World, len: usize, context: Option<&mut Context<'_>>) -> usize {
        let pipe = &world.net.connections[self.connection].pipes[1 - self.side];
        let room = pipe.room();
        if room == 0 {
            if let Some(context) = context {
                self.wait_to_write(world, context);
            }
        }
        room.min(len)
    }

    /// Parks the task writing to this end until the peer's reads make room
    /// in the window, a buffer is set wider, or the end's error comes; and
    /// says what it waits on.
    fn wait_to_write(&self, world: &mut World, context: &mut Context<'_>) {
        let now = cx::now_ns("asyncsim::net::TcpStream::write");
        cut::writer_cut(world, self.connection, self.side, now);
        let c = &mut world.net.connections[self.connection];
        let error_ns = c.errors[self.side].map(|(at, _)| at);
        c.pipes[1 - self.side]
            .writer
            .park(context.waker(), error_ns);
        let socket = world.stream_label(self.connection, self.side);
        cx::set_waiting_on(WaitOn::Socket {
            op: SocketWait::Write,
            socket,
        });
    }

    /// A write (or a wait for room) finds the end's error come: recorded
    /// once, as a read records it; the error to return: the end's error
    /// the first time (taken), `BrokenPipe` once it was taken.
    #[cold]
    #[inline(never)]
    fn write_failed(
        &self,
        world: &mut World,
        kind: io::ErrorKind,
        context: Option<&Context<'_>>,
    ) -> io::Error {
        let c = &mut world.net.connections[self.connection];
        c.pipes[1 - self.side].writer.ready_by(context);
        if !c.take_error(self.side) {
            return self.write_after_error(world, kind);
        }
        error::say_error_or_spend(world, self.connection, self.side, kind);
        self.error(world, kind)
    }

    /// Polls until a write would not wait: there is room in the window,
    /// or the write would fail (the end's error has come, its write side
    /// is shut) or be lost (the peer's end is gone). Waits as a write
    /// does.
    ///
    /// Under the cooperative budget as tokio's `poll_write_ready` is:
    /// yields instead when the task's budget is spent, and spends a unit
    /// when ready (a loop of it alone yields).
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn poll_write_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let ready = self.poll_write_readiness(context);
        if let Poll::Ready(Ok(())) = ready {
            cx::spend_on_completion();
        }
        ready
    }

    /// [`TcpStream::poll_write_ready`] spending nothing (the tokio face's
    /// `writable` and `ready`, whose wait spends nothing on tokio either):
    /// it yields first when the task's budget is spent (the `try_` write
    /// after it spends the unit), so a loop of it and a `try_` write
    /// yields.
    #[doc(hidden)]
    pub fn poll_write_readiness(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(crate::world::net::poll_budget(context));
        self.write_ready(Some(context))
    }

    /// Looks whether a write would wait, as [`TcpStream::poll_write_ready`]
    /// does, without waiting (nothing is parked: a task waiting to write
    /// stays the one woken).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when a write would wait; a stream of another run or of
    /// a crashed node.
    pub fn try_write_ready(&self) -> io::Result<()> {
        match self.write_ready(None) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// [`TcpStream::poll_write_ready`], parking only when given a
    /// `context`.
    fn write_ready(&self, context: Option<&mut Context<'_>>) -> Poll<io::Result<()>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let c = &world.net.connections[self.connection];
        let peer = 1 - self.side;
        let pipe = &c.pipes[peer];
        if c.error_at(self.side, now).is_some()
            || c.write_shut[self.side]
            || c.dropped[peer]
            || c.gave_up[peer]
            || pipe.room() > 0
        {
            let pipe = &mut world.net.connections[self.connection].pipes[peer];
            pipe.writer.ready_by(context.as_deref());
            return Poll::Ready(Ok(()));
        }
        if let Some(context) = context {
            self.wait_to_write(world, context);
        }
        Poll::Pending
    }

    /// A write to a peer end that is gone (dropped, or its node crashed,
    /// its reset not here yet, or it gave up after its timeout:
    /// `Connection::gave_up`): accepted, as a real socket's send buffer
    /// would, and lost at once: a drop (`DropWhy::Closed` for an end that
    /// gave up: Linux closed its socket). To a closed end (or a crashed
    /// node's whose reset was lost in a cut, or that had closed before the
    /// crash: `Connection::crash_unsaid`; or one that gave up, which told
    /// nobody) across no cut, the segment arrives and is answered with a
    /// reset (Linux's answer to a segment for a socket it does not have,
    /// on a node crashed or restarted alike), which fails this end's later
    /// writes (`BrokenPipe` once the peer's FIN came, Linux's `EPIPE` in
    /// CLOSE_WAIT; else `ConnectionReset`): a `net` latency draw for the
    /// segment and one for the reset, at the first such write only. Across
    /// a cut (either way) the segment gets no answer: as Linux retransmits
    /// it until it gives up, this end times out after `tcp_timeout` unless
    /// the link heals first (then the retransmission is answered with that
    /// reset: `cut::release_held`). No draw across the cut. Out of line.
    #[cold]
    #[inline(never)]
    fn drop_written(&self, world: &mut World, bytes: usize, now: u64) {
        let c = &world.net.connections[self.connection];
        let peer = 1 - self.side;
        let crashed = !world.alive(c.nodes[peer] as usize, c.incarnations[peer]);
        let why = if crashed {
            DropWhy::Crashed
        } else {
            DropWhy::Closed
        };
        let (node, peer_node, stream) = (c.nodes[self.side], c.nodes[peer], c.names[self.side]);
        // (A crash across no cut sent its reset already.)
        let told = crashed && !c.crash_unsaid[self.side];
        let answered = c.reset_ns[self.side].is_some();
        world.record_stream_drop(self.connection, peer, why, bytes);
        if told || answered {
            return;
        }
        if world.net.is_cut_either(node, peer_node) {
            cut::held_since(world, self.connection, self.side, now);
            return;
        }
        let latency = world.latency(node, peer_node, Carried::Segment { stream, bytes });
        let arrival_ns =
            (now + latency).max(world.net.connections[self.connection].pipes[peer].last_arrival_ns);
        reset::answer_with_close_reset(world, self.connection, peer, arrival_ns, now);
    }

    /// Shuts this end's write side (`shutdown(SHUT_WR)`, `poll_close`): its
    /// FIN follows every byte written; a second shutdown does nothing more.
    /// Once the end's error has come (a reset, the reset of its peer's
    /// close, its timeout), `NotConnected`, and nothing is sent: on Linux
    /// the socket is closed then (`TCP_CLOSE`) and `shutdown` says
    /// `ENOTCONN`, which tokio's `TcpStream::poll_shutdown` returns (taken
    /// or not: the error itself stays for a read or write to take). Not for
    /// an AF_UNIX end (Linux's `unix_shutdown` says nothing of its peer's
    /// close).
    pub(in crate::world::net) fn shutdown_write(&self) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        if let Some(kind) = c.closed_by_error(self.side, now) {
            c.write_shut[self.side] = true;
            c.set_limit(1 - self.side);
            if kind == io::ErrorKind::TimedOut {
                // It gave up (`error::give_up`), once.
                error::give_up(world, self.connection, self.side);
            }
            return Err(self.not_connected(world, kind, "shutdown"));
        }
        if std::mem::replace(&mut c.write_shut[self.side], true) {
            return Ok(());
        }
        // Its writes go to the slow path now (`BrokenPipe`), and one
        // waiting for room fails now.
        let pipe = &mut c.pipes[1 - self.side];
        pipe.limit = 0;
        if pipe.writer.waiting() {
            pipe.writer.wake_all();
        }
        send(world, self.connection, self.side, None, now);
        Ok(())
    }
}
