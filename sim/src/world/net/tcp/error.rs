//! A connection end's error (a reset, a timeout): when it comes, recorded
//! once at its arrival or by the first read or write to meet it, what it
//! discards, and its taking (Linux's `sk_err`).

use std::io;

use super::pipe::Connection;
use super::TcpStream;
use crate::trace::{DropWhy, NetOp};
use crate::world::{cx, World};

impl Connection {
    /// What the reset of the peer's close gives end `side`'s writes (and
    /// its `ready(ERROR)`): `BrokenPipe` when the peer's FIN came before it
    /// (Linux's `EPIPE` for a socket in CLOSE_WAIT), else `ConnectionReset`.
    pub(super) fn close_reset_kind(&self, side: usize) -> io::ErrorKind {
        let pipe = &self.pipes[side];
        if pipe.fin_ns.is_some() && !pipe.fin_resets {
            io::ErrorKind::BrokenPipe
        } else {
            io::ErrorKind::ConnectionReset
        }
    }

    /// A read, peek or write returns end `side`'s error, come: true the
    /// first time (it takes the error: [`Connection::taken`]), false once
    /// it was taken (the end is closed: EOF to reads, `BrokenPipe` to
    /// writes).
    pub(super) fn take_error(&mut self, side: usize) -> bool {
        !std::mem::replace(&mut self.taken[side], true)
    }

    /// The error that closed end `side`'s socket by `now_ns`, if one did
    /// (not for an AF_UNIX end): its own (a reset, a timeout), or the reset
    /// of its peer's close (`reset_ns`, as `ConnectionReset`), come, taken
    /// or not. Linux's socket is in `TCP_CLOSE` then: its `shutdown` says
    /// `ENOTCONN` and its close sends nothing (no FIN: the peer is gone).
    pub(super) fn closed_by_error(&self, side: usize, now_ns: u64) -> Option<io::ErrorKind> {
        if self.af_unix[side] {
            return None;
        }
        self.error_at(side, now_ns).or_else(|| {
            self.reset_ns[side]
                .filter(|&at| at <= now_ns)
                .map(|_| io::ErrorKind::ConnectionReset)
        })
    }

    /// The error `side` sees at `now_ns`, if any.
    pub(super) fn error_at(&self, side: usize, now_ns: u64) -> Option<io::ErrorKind> {
        match self.errors[side] {
            Some((at_ns, kind)) if at_ns <= now_ns => Some(kind),
            _ => None,
        }
    }

    /// Sets `side`'s error unless an earlier one is set (`connection` is
    /// this connection's index).
    pub(super) fn fail_at(
        &mut self,
        connection: usize,
        side: usize,
        at_ns: u64,
        kind: io::ErrorKind,
    ) {
        match self.errors[side] {
            Some((earlier, _)) if earlier <= at_ns => {}
            _ => {
                self.errors[side] = Some((at_ns, kind));
                self.pipes[side].reader.due_at(at_ns);
                // A write waiting for room returns the error then.
                self.pipes[1 - side].writer.due_at(at_ns);
                // A call set for a later error comes too late for this one.
                self.unwatch_error(side);
            }
        }
        self.watch_error(connection, side);
    }

    /// Cancels the call [`Connection::watch_error`] set for `side`, if any
    /// (its error was lifted, or comes earlier).
    #[cold]
    #[inline(never)]
    pub(super) fn unwatch_error(&mut self, side: usize) {
        if let Some(key) = self.error_watch[side].take() {
            cx::cancel_timer(key);
        }
    }

    /// Once `side` has an error coming, it reaches the end at that time
    /// whether or not the end's task looks at its stream again: a call then
    /// (`cx::call_at`, [`error_comes`]) records it ([`say_error`]: the
    /// reset, and what was sent to the end and is unread, which can never
    /// be read now). Set from `fail_at`, and when a connect or accept hands
    /// the end out. Not for an end not handed out yet or whose error was
    /// recorded (`quiet`), nor for an end dropped (its close records its
    /// own drop) unless it is a timeout and the end holds something toward
    /// its peer (its FIN held by a cut, bytes before it): then
    /// the call is its giving up ([`give_up`]), which discards
    /// them. Out of line.
    #[cold]
    #[inline(never)]
    pub(super) fn watch_error(&mut self, connection: usize, side: usize) {
        let Some((at_ns, kind)) = self.errors[side] else {
            return;
        };
        if self.error_watch[side].is_some() || self.quiet[side] && !self.dropped[side] {
            return;
        }
        if self.dropped[side] {
            let pipe = &self.pipes[1 - side];
            let holds = !pipe.held.is_empty() || pipe.held_fin;
            if kind != io::ErrorKind::TimedOut || !holds || self.gave_up[side] {
                return;
            }
        }
        let end = (connection as u64) << 1 | side as u64;
        self.error_watch[side] = Some(cx::call_at(at_ns, error_comes, end));
    }
}

/// A connect or accept handed out end `side` (its event recorded): from now
/// on its error is recorded when it comes, at once if it came already (a
/// reset that reached it on the way). Out of line: few ends have an error
/// by then.
#[cold]
#[inline(never)]
pub(super) fn handed_out(world: &mut World, connection: usize, side: usize, now: u64) {
    let c = &mut world.net.connections[connection];
    c.quiet[side] = false;
    match c.error_at(side, now) {
        Some(kind) => say_error(world, connection, side, kind),
        None => c.watch_error(connection, side),
    }
}

/// End `side`'s error (`kind`) has come, and nothing recorded it yet: the
/// reset or timeout (`NetOp::Reset`, `NetOp::TimedOut` on the end), then what was
/// sent to the end and not read, discarded now and recorded as one
/// [`crate::trace::EventKind::NetDrop`] (`DropWhy::Reset` or `DropWhy::TimedOut`);
/// a timeout's end then gives up ([`give_up`]: what it held toward its
/// peer is discarded too). Once an end: by the call at the error's time or
/// by a read or write that sees the error first (which cancels the call).
/// Out of line.
#[cold]
#[inline(never)]
pub(super) fn say_error(world: &mut World, connection: usize, side: usize, kind: io::ErrorKind) {
    let c = &mut world.net.connections[connection];
    c.quiet[side] = true;
    c.unwatch_error(side);
    let op = if kind == io::ErrorKind::TimedOut {
        NetOp::TimedOut
    } else {
        NetOp::Reset
    };
    world.record_stream(connection, side, op, 0);
    let pipe = &mut world.net.connections[connection].pipes[side];
    let unread = pipe.unread_bytes();
    if unread == 0 {
        if kind == io::ErrorKind::TimedOut {
            give_up(world, connection, side);
        }
        return;
    }
    pipe.segments.clear();
    pipe.bytes.clear();
    pipe.read_at = 0;
    pipe.offset = 0;
    pipe.held.clear();
    pipe.held_bytes = 0;
    world.net.connections[connection].set_limit(side);
    let why = if kind == io::ErrorKind::TimedOut {
        DropWhy::TimedOut
    } else {
        DropWhy::Reset
    };
    world.record_stream_drop(connection, side, why, unread);
    if kind == io::ErrorKind::TimedOut {
        give_up(world, connection, side);
    }
}

/// End `side` gives up: its timeout has come (`cut::held_since`; recorded by
/// [`say_error`], or, for an end dropped already, by the call its
/// held FIN set: `Connection::watch_error`). As Linux's
/// `tcp_write_err` purges the socket's send queue and closes it without a
/// RST: what it still held toward its peer (segments, FIN) is discarded, the bytes recorded lost (`DropWhy::TimedOut`, from
/// it to its peer), and never reaches the peer, whatever a repair does.
/// From now on it is a closed end to its peer (`Connection::gave_up`): the
/// peer's later segments are answered with a reset once they get through
/// (`TcpStream::drop_written`, `cut::release_held`), and a peer's writer
/// waiting for room is woken to find it so. Once an end. Out of line.
#[cold]
#[inline(never)]
pub(super) fn give_up(world: &mut World, connection: usize, side: usize) {
    let to_side = 1 - side;
    let c = &mut world.net.connections[connection];
    if std::mem::replace(&mut c.gave_up[side], true) {
        return;
    }
    let bytes = c.pipes[to_side].discard_held();
    c.set_limit(to_side);
    c.set_limit(side);
    if c.pipes[side].writer.waiting() {
        c.pipes[side].writer.wake_all();
    }
    if bytes > 0 {
        world.record_stream_drop(connection, to_side, DropWhy::TimedOut, bytes);
    }
}

/// The call [`Connection::watch_error`] sets (`end`: the connection's index
/// and the side): the end's error has come ([`say_error`]); an end dropped
/// gives up ([`give_up`]: a timeout's, whose held FIN set it).
/// Nothing when the error was lifted (a repair before a timeout), the end
/// was dropped meanwhile or its error recorded already.
fn error_comes(end: u64) {
    let world_rc = crate::world::world("asyncsim::net");
    let Ok(mut world) = world_rc.try_borrow_mut() else {
        return;
    };
    let world = &mut *world;
    let (connection, side) = ((end >> 1) as usize, (end & 1) as usize);
    let now = cx::now_ns("asyncsim::net");
    let Some(c) = world.net.connections.get_mut(connection) else {
        return;
    };
    c.error_watch[side] = None;
    // (A lifted or moved error cancelled its call: this one's has come.)
    let Some(kind) = c.error_at(side, now) else {
        return;
    };
    if c.dropped[side] {
        if kind == io::ErrorKind::TimedOut {
            give_up(world, connection, side);
        }
        return;
    }
    if c.quiet[side] {
        return;
    }
    say_error(world, connection, side, kind);
}

/// [`say_error`] for a read or write that meets end `side`'s error: the
/// first records it (its event spends the operation's unit of the task's
/// budget); a later one, with no event, spends its unit here, so a loop
/// that retries a failed operation yields, as on tokio (whose readiness
/// spends a unit whatever the operation then finds). Out of line.
#[cold]
#[inline(never)]
pub(super) fn say_error_or_spend(
    world: &mut World,
    connection: usize,
    side: usize,
    kind: io::ErrorKind,
) {
    if world.net.connections[connection].quiet[side] {
        cx::spend_on_completion();
    } else {
        say_error(world, connection, side, kind);
    }
}

/// [`say_close_reset`] for a read or write that meets the close's reset,
/// spending its unit of the budget as [`say_error_or_spend`] does.
#[cold]
#[inline(never)]
pub(super) fn say_close_reset_or_spend(world: &mut World, connection: usize, side: usize) {
    if world.net.connections[connection].quiet[side] {
        cx::spend_on_completion();
    } else {
        say_close_reset(world, connection, side);
    }
}

/// Records the close's reset on end `side` unless its reset or error was
/// recorded already (`quiet`): by the call at its arrival, or by a read or
/// write that meets it first. Out of line.
#[cold]
#[inline(never)]
pub(super) fn say_close_reset(world: &mut World, connection: usize, side: usize) {
    let c = &mut world.net.connections[connection];
    if !std::mem::replace(&mut c.quiet[side], true) {
        world.record_stream(connection, side, NetOp::Reset, 0);
    }
}

impl TcpStream {
    /// Takes this end's error, as Linux's `getsockopt(SO_ERROR)` does
    /// (std's and tokio's `take_error`): once the error has come (a reset,
    /// a timeout, the reset of the peer's close), `Some` of it the first
    /// time, taken, as the first read, peek or write to meet it would have
    /// taken it; `None` before it comes and once it was taken (by this or
    /// by an operation). After it, reads return 0 (EOF) and writes
    /// `BrokenPipe`, as after any taking. Recorded as a read records it
    /// (once, in the trace); it spends nothing of the task's budget (no
    /// I/O, as on tokio).
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        // (`closed`: the reset of the peer's close, not an `errors` entry.)
        let (kind, closed) = match c.error_at(self.side, now) {
            Some(kind) => (kind, false),
            None if c.reset_ns[self.side].is_some_and(|at| at <= now) => {
                (c.close_reset_kind(self.side), true)
            }
            None => return Ok(None),
        };
        if !c.take_error(self.side) {
            return Ok(None);
        }
        if !c.quiet[self.side] {
            if closed {
                say_close_reset(world, self.connection, self.side);
            } else {
                say_error(world, self.connection, self.side, kind);
            }
        }
        Ok(Some(self.error(world, kind)))
    }
}
