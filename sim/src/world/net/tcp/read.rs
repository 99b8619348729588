//! A stream's read path: bytes taken in order as they arrive, the FIN's
//! EOF, the end's error met once (then EOF), and the wait for the next
//! arrival.

use std::io;
use std::task::{Context, Poll};

use super::error;
use super::TcpStream;
use crate::trace::{NetOp, SocketWait, WaitOn};
use crate::world::{cx, World};

impl TcpStream {
    /// Polls for bytes like `AsyncRead::poll_read`, but hands them to `put`
    /// (in pieces, at most `max` bytes in all) instead of copying them into
    /// a slice: for a reader whose buffer is not an initialised `&mut [u8]`
    /// (tokio's `ReadBuf` over uninitialised memory), so the bytes are
    /// copied once and nothing is zeroed first. Ready with the count put.
    pub fn poll_read_with(
        &self,
        context: &mut Context<'_>,
        max: usize,
        put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        self.read_with::<true>(context, max, put)
    }

    pub(super) fn read_into(
        &self,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut at = 0;
        let max = buf.len();
        self.read_with::<true>(context, max, |bytes| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        })
    }

    /// A read; `BUDGETED` (a poll, not a `try_` form): under the task's
    /// cooperative budget (a yield instead when it is spent; a read that
    /// completes spends a unit, by its event).
    #[inline(always)]
    pub(in crate::world::net) fn read_with<const BUDGETED: bool>(
        &self,
        context: &mut Context<'_>,
        max: usize,
        mut put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = if BUDGETED {
            std::task::ready!(self.check_now_budgeted(world, context))?
        } else {
            self.check_now(world)?
        };
        let c = &mut world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            c.pipes[self.side].reader.ready(context.waker());
            return Poll::Ready(self.read_error(world, kind));
        }
        let c = &mut world.net.connections[self.connection];
        let error_ns = c.errors[self.side].map(|(at, _)| at);
        let pipe = &mut c.pipes[self.side];
        if let Some(front) = pipe.segments.front() {
            if front.arrival_ns <= now {
                // How much has arrived (up to `max`), then one copy.
                let mut copied = 0;
                while copied < max {
                    let Some(front) = pipe.segments.front() else {
                        break;
                    };
                    if front.arrival_ns > now {
                        break;
                    }
                    let count = (front.len - pipe.offset).min(max - copied);
                    copied += count;
                    pipe.offset += count;
                    if pipe.offset == front.len {
                        pipe.segments.pop_front();
                        pipe.offset = 0;
                    }
                }
                if pipe.writer.waiting() && pipe.unacked.is_none() {
                    // Room for the peer's writer waiting for it: woken
                    // now, by this task (it looks again when it runs).
                    // (Not while this end's acks are cut: no window
                    // update gets to it.)
                    pipe.writer.wake_all();
                }
                let start = pipe.read_at;
                put(&pipe.bytes[start..start + copied]);
                if start + copied == pipe.bytes.len() {
                    pipe.bytes.clear();
                    pipe.read_at = 0;
                } else {
                    pipe.read_at = start + copied;
                }
                pipe.reader.ready(context.waker());
                world.record_stream(self.connection, self.side, NetOp::Deliver, copied);
                return Poll::Ready(Ok(copied));
            }
        } else if matches!(pipe.fin_ns, Some(fin) if fin <= now) || max == 0 {
            pipe.reader.ready(context.waker());
            if pipe.fin_resets && max > 0 {
                // Not a FIN: the reset of the peer's close (EOF once a
                // read or write took it).
                return Poll::Ready(self.read_reset(world));
            }
            // No event: a loop that reads on past the end still yields,
            // a `try_` form's too (a `readable` then `try_read` loop at EOF:
            // `readable` spends nothing), as every `try_` form that
            // completes spends its unit (the face's pipe's at EOF too).
            cx::spend_on_completion();
            return Poll::Ready(Ok(0));
        }
        self.wait_to_read(world, error_ns, context);
        Poll::Pending
    }

    /// A read that finds this end's error (`kind`) come: the first returns
    /// it and takes it (recorded once: when it came, or now if this read
    /// is first); a later one finds the socket closed, as Linux's read
    /// after `sk_err` was taken: 0, EOF. Either spends its unit of the
    /// task's budget (no event), a `try_` form's too, as the failed read
    /// did: a `readable` and `try_read` loop on a reset stream yields.
    /// Out of line.
    #[cold]
    #[inline(never)]
    fn read_error(&self, world: &mut World, kind: io::ErrorKind) -> io::Result<usize> {
        if !world.net.connections[self.connection].take_error(self.side) {
            cx::spend_on_completion();
            return Ok(0);
        }
        error::say_error_or_spend(world, self.connection, self.side, kind);
        Err(self.error(world, kind))
    }

    /// A read (or peek) that reached the reset of the peer's close
    /// (`Pipe::fin_resets`): `ConnectionReset`, recorded once, the first
    /// time (the error taken); 0, EOF, once a read or write took it. Either
    /// spends its unit of the budget as [`TcpStream::read_error`] does. Out
    /// of line.
    #[cold]
    #[inline(never)]
    pub(super) fn read_reset(&self, world: &mut World) -> io::Result<usize> {
        if !world.net.connections[self.connection].take_error(self.side) {
            cx::spend_on_completion();
            return Ok(0);
        }
        error::say_close_reset_or_spend(world, self.connection, self.side);
        Err(self.error(world, io::ErrorKind::ConnectionReset))
    }

    /// Parks the task reading this end until its next segment, its FIN or
    /// its error (at `error_ns`) arrives, whichever comes first, and says
    /// what it waits on: for a read, or a peek or readiness that waits.
    #[inline(always)]
    pub(super) fn wait_to_read(
        &self,
        world: &mut World,
        error_ns: Option<u64>,
        context: &mut Context<'_>,
    ) {
        let pipe = &mut world.net.connections[self.connection].pipes[self.side];
        // The earliest of three, if any (in line: an iterator's `flatten`
        // and `min` over them cost twice this).
        let earliest = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        };
        let next = earliest(
            earliest(
                pipe.segments.front().map(|segment| segment.arrival_ns),
                pipe.fin_ns,
            ),
            error_ns,
        );
        pipe.reader.park(context.waker(), next);
        let socket = world.stream_label(self.connection, self.side);
        cx::set_waiting_on(WaitOn::Socket {
            op: SocketWait::Read,
            socket,
        });
    }
}
