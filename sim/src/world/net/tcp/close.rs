//! A stream's close (its drop): a FIN, or Linux's reset when bytes sent to
//! it are unread (or `SO_LINGER` is zero), and what is lost with the end.

use super::cut::{self, send};
use super::error;
use super::reset;
use super::Protocol;
use super::TcpStream;
use crate::trace::DropWhy;
use crate::world::{cx, World};

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.close_end(None);
    }
}

impl TcpStream {
    /// Dropped: this end is gone (EOF to the peer, unless shut already;
    /// a reset instead, shut or not, when bytes arrived here unread:
    /// `cut::send_reset`; nothing once its error closed it:
    /// `Connection::closed_by_error`). `unanswered`: the client end of a connect abandoned before its
    /// SYN-ACK arrives (at that time): the peer is reset instead
    /// (`reset::answer_with_reset`).
    pub(super) fn close_end(&mut self, unanswered: Option<u64>) {
        let Ok(mut world) = self.world.try_borrow_mut() else {
            return;
        };
        let world = &mut *world;
        let c = &mut world.net.connections[self.connection];
        if c.dropped[self.side] {
            return;
        }
        c.drop_end(self.side);
        // The peer's write waiting for room finds this end gone: what it
        // writes is lost (as any write to a closed end).
        if c.pipes[self.side].writer.waiting() {
            c.pipes[self.side].writer.wake_all();
        }
        if c.pipes[1 - self.side].writer.waiting() {
            c.pipes[1 - self.side].writer.clear();
        }
        if c.error_watch[self.side].is_some() {
            // Its error, still coming, reaches no one now.
            c.unwatch_error(self.side);
        }
        let (node, port) = (c.nodes[self.side], c.addrs[self.side].port());
        // (Its `limit` stays: no write can come from an end dropped.)
        let shut = std::mem::replace(&mut c.write_shut[self.side], true);
        if self.side == 0 {
            let key = (node, Protocol::Tcp, port);
            world.net.bound.remove_if_eq(&key, &usize::MAX);
        }
        // This run's time: `None` for a stream dropped after its run.
        let now = cx::now_in_run(world.run_id);
        if let Some(now) = now {
            let c = &world.net.connections[self.connection];
            let closed = c.closed_by_error(self.side, now);
            if closed == Some(std::io::ErrorKind::TimedOut) {
                // It gave up (its timeout came: `error::give_up`): Linux's
                // socket is closed already, and its close sends nothing,
                // neither a FIN nor a reset: the peer learns of it from
                // its own next segment.
                error::give_up(world, self.connection, self.side);
            } else if closed.is_some() {
                // Reset (by its peer's crash or close, or an abandoned
                // connect's answer): Linux's socket is closed already, and
                // its close sends nothing to the peer, gone. (Before, a FIN
                // went, drawing its latency for no one.)
            } else if !c.pipes[self.side].segments.is_empty() || c.linger_ns[self.side] == 0 {
                // Bytes sent here and unread, or an abortive close: out of
                // line (a stream read to its end closes as it did).
                self.close_with_bytes_unread(world, shut, unanswered, now);
            } else if !shut {
                match unanswered {
                    None => send(world, self.connection, self.side, None, now),
                    Some(synack_ns) => reset::answer_with_reset(world, self.connection, synack_ns),
                }
            }
        }
        // What was sent here and not read is lost with this end: recorded
        // at the step boundary after the drop, so a stream dropped as the
        // run ends (no boundary comes) records nothing.
        let unread = world.net.connections[self.connection].pipes[self.side].unread_bytes();
        if unread > 0 && now.is_some() {
            let (world_rc, connection, side) = (self.world.clone(), self.connection, self.side);
            cx::at_step_boundary(Box::new(move || {
                world_rc
                    .borrow_mut()
                    .record_stream_drop(connection, side, DropWhy::Closed, unread);
            }));
        }
    }
}

impl TcpStream {
    /// [`TcpStream::close_end`] with bytes sent to this end and not read
    /// (`shut`: its write side was shut already), or with a zero
    /// `SO_LINGER`. Bytes arrived and unread (Linux's receive queue not
    /// empty), or the zero linger: a reset instead of the FIN, even after a
    /// shutdown sent one (unless the peer is gone: nobody to tell), and none
    /// once the connection failed. Else the FIN as usual, and bytes still
    /// on their way here are answered with a reset when the first arrives,
    /// as Linux answers data for a socket it closed. Out of line.
    #[cold]
    #[inline(never)]
    fn close_with_bytes_unread(
        &self,
        world: &mut World,
        shut: bool,
        unanswered: Option<u64>,
        now: u64,
    ) {
        let c = &world.net.connections[self.connection];
        let reset = c.error_at(self.side, now).is_none()
            && (c.pipes[self.side]
                .segments
                .front()
                .is_some_and(|segment| segment.arrival_ns <= now)
                || c.linger_ns[self.side] == 0)
            && !(shut && c.dropped[1 - self.side]);
        if reset {
            cut::send_reset(world, self.connection, self.side, now);
            return;
        }
        if !shut {
            match unanswered {
                None => send(world, self.connection, self.side, None, now),
                Some(synack_ns) => reset::answer_with_reset(world, self.connection, synack_ns),
            }
        }
        let c = &world.net.connections[self.connection];
        let (node, peer_node) = (c.nodes[self.side], c.nodes[1 - self.side]);
        if let Some(first) = c.pipes[self.side].segments.front() {
            let first_ns = first.arrival_ns;
            if unanswered.is_none() && !world.net.is_cut_either(node, peer_node) {
                reset::answer_with_close_reset(world, self.connection, self.side, first_ns, now);
            }
        }
    }
}
