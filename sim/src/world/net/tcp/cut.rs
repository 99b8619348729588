//! Cuts: what an end sends (a segment, a FIN) leaves now or is held back
//! while its link is cut and released when it heals (a close's reset is
//! lost instead: `lose_reset`); acks
//! that cannot get back; and the timeout after `tcp_timeout` that either
//! sets for the sending end, which then gives up (`error::give_up`).

use std::io;

use super::error::give_up;
use super::pipe::{deliver, Connection};
use super::reset::answer_with_close_reset;
use crate::trace::DropWhy;
use crate::world::net::Carried;
use crate::world::{cx, World};

/// Sends one segment (`None`: the FIN of a half-close) from `side`, now
/// (`now`: the caller's clock read). Inlined: a write is this and little
/// else (out of line, the write paid a call and its spills; callgrind
/// `profile tcpseq` +60 instructions a round trip).
#[inline(always)]
pub(super) fn send(
    world: &mut World,
    connection: usize,
    side: usize,
    data: Option<&[u8]>,
    now: u64,
) {
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let held = !world.net.connections[connection].pipes[to_side]
        .held
        .is_empty()
        || world.net.connections[connection].pipes[to_side].held_fin;
    if held || world.net.is_cut(from, to) {
        hold(world, connection, side, data, now);
        return;
    }
    deliver(world, connection, side, data, now);
}

/// The reset end `side` sends as it closes with bytes unread (Linux's
/// `close` with its receive queue not empty sends an RST instead of a FIN
/// and forgets the connection): it follows what `side` sent before it
/// (arriving no earlier than the last segment or FIN: in order). At its
/// arrival it is the peer's pipe's FIN unless a FIN came first
/// (`Pipe::fin_resets`: a read that has taken every byte before it gets
/// `ConnectionReset`, not EOF), and the peer's writes fail with
/// `ConnectionReset` (`Connection::reset_ns`); it is recorded then as any
/// reset (`reset::reset_arrives`). Its latency is one `net` draw, where the
/// FIN's would have been. Across a cut (or behind what one holds) it is
/// lost: [`lose_reset`]. Out of line.
#[cold]
#[inline(never)]
pub(super) fn send_reset(world: &mut World, connection: usize, side: usize, now: u64) {
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let pipe = &world.net.connections[connection].pipes[to_side];
    if !pipe.held.is_empty() || pipe.held_fin || world.net.is_cut(from, to) {
        lose_reset(world, connection, side, now);
        return;
    }
    answer_with_close_reset(world, connection, side, now, now);
}

/// [`send_reset`] across a cut: the reset is lost, and so is what the cut
/// held before it (segments, a shutdown's FIN). Linux sends the RST once
/// (`tcp_send_active_reset`), never retransmitted, and the abortive close
/// purges the socket's write queue: what had no ack is never sent again.
/// So nothing reaches the peer at a repair; it learns of the close from
/// its own next segment, answered with a reset once one gets through
/// (`TcpStream::drop_written`, [`release_held`]), or it times out across
/// the cut, as toward an end that gave up. Recorded as one drop from end
/// `side` to its peer (`DropWhy::Partition`, or `Isolated`), of the bytes
/// held (0: the reset alone), at the step boundary after the close; no
/// `net` draw. The end's own timeout, set by
/// what it held, goes with it (no socket is left to retransmit). Out of line.
#[cold]
#[inline(never)]
fn lose_reset(world: &mut World, connection: usize, side: usize, now: u64) {
    let to_side = 1 - side;
    let c = &world.net.connections[connection];
    let why = if world.net.cuts.contains(&(c.nodes[side], c.nodes[to_side])) {
        DropWhy::Partition
    } else {
        DropWhy::Isolated
    };
    let c = &mut world.net.connections[connection];
    let bytes = c.pipes[to_side].discard_held();
    c.set_limit(to_side);
    if matches!(c.errors[side], Some((at, io::ErrorKind::TimedOut)) if at > now) {
        c.errors[side] = None;
        c.unwatch_error(side);
    }
    // Recorded at the step boundary after the close, as the close's own
    // drop (`TcpStream::close_end`): a stream dropped as the run ends (no
    // boundary comes) records nothing.
    cx::at_step_boundary(Box::new(move || {
        crate::world::world("asyncsim::net")
            .borrow_mut()
            .record_stream_drop(connection, to_side, why, bytes);
    }));
}

/// [`send`] across a cut (or behind segments held already): the segment
/// waits for the link to heal, and the sending end times out if it does
/// not within `tcp_timeout` ([`held_since`]). Out of line: a stream's
/// segments almost never wait.
#[cold]
#[inline(never)]
pub(super) fn hold(
    world: &mut World,
    connection: usize,
    side: usize,
    data: Option<&[u8]>,
    now: u64,
) {
    let pipe = &mut world.net.connections[connection].pipes[1 - side];
    match data {
        Some(data) => {
            pipe.held_bytes += data.len();
            pipe.limit = pipe.limit.saturating_sub(data.len());
            pipe.held.push(data.to_vec());
        }
        None => pipe.held_fin = true,
    }
    held_since(world, connection, side, now);
}

/// What [`hold`] does but keeping a segment: from the first thing held
/// toward `1 - side` on (or from `now`), end `side` times out after the
/// link's `tcp_timeout` unless it heals first. Also for a writer waiting
/// for room across a cut, whose probes of the peer's window go unanswered
/// (as Linux's persist timer's): [`writer_cut`].
///
/// Only `side`, as on Linux: the end with data (or probes) nobody
/// acknowledges retransmits it and gives up after its retries
/// (`tcp_write_err`: its socket closed with `ETIMEDOUT`, no RST sent). The
/// peer, idle, has nothing to retransmit and notices nothing: not when
/// `side` gives up, not while the cut lasts; it learns from its own
/// sends, which time out in their turn across the cut, or, once they get
/// through, are answered with a reset by the end that gave up
/// ([`give_up`]).
pub(super) fn held_since(world: &mut World, connection: usize, side: usize, now: u64) {
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let timeout = world.net.config(from, to).tcp_timeout_ns;
    // (Behind held segments, the link may be open again: the cause kept
    // is the cut's that held them.)
    // (Either way: a writer waits out a cut of its acks too.)
    let cut = world.net.is_cut_either(from, to);
    let c = &world.net.connections[connection];
    let causes = world.net.cut_causes(c.nodes[0], c.nodes[1]);
    let c = &mut world.net.connections[connection];
    if cut {
        c.cut_causes = causes;
    }
    let pipe = &mut c.pipes[to_side];
    let since = *pipe.held_since_ns.get_or_insert(now);
    c.fail_at(connection, side, since + timeout, io::ErrorKind::TimedOut);
}

/// A writer of end `side` waits for room (now, or since before a link
/// was cut): if the link toward its peer is cut, or the link back (the
/// window cannot reopen: no window update gets through), the connection
/// times out after `tcp_timeout` unless the link heals first, as one whose
/// segments are held (Linux probes a full window, and gives up when its
/// probes go unanswered). Out of line.
#[cold]
#[inline(never)]
pub(super) fn writer_cut(world: &mut World, connection: usize, side: usize, now: u64) {
    let c = &world.net.connections[connection];
    let (node, peer_node) = (c.nodes[side], c.nodes[1 - side]);
    if world.net.is_cut_either(node, peer_node) {
        held_since(world, connection, side, now);
    }
}

/// A write of `side` while its peer's acks are cut (`Pipe::unacked`):
/// counted as not acknowledged, and, as any segment that gets no ack (Linux
/// retransmits it until it gives up), the connection times out after
/// `tcp_timeout` unless the link back heals first. Out of line.
#[cold]
#[inline(never)]
pub(super) fn sent_unacked(
    world: &mut World,
    connection: usize,
    side: usize,
    len: usize,
    now: u64,
) {
    let pipe = &mut world.net.connections[connection].pipes[1 - side];
    if let Some(unacked) = &mut pipe.unacked {
        *unacked += len;
        held_since(world, connection, side, now);
    }
}

/// A link was cut: each stream direction whose acks it cuts counts what its
/// sender has no ack for from now on ([`super::pipe::Pipe::unacked`]), and each writer
/// waiting for room across it, either way, starts the timeout
/// ([`writer_cut`]).
pub(crate) fn links_cut(world: &mut World) {
    let now = cx::now_ns("asyncsim::net::partition");
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let c = &world.net.connections[connection];
            let to_side = 1 - side;
            if c.dropped[side] || c.gave_up[side] {
                continue;
            }
            let acks_cut = world.net.is_cut(c.nodes[to_side], c.nodes[side]);
            let c = &mut world.net.connections[connection];
            if acks_cut && c.pipes[to_side].unacked.is_none() {
                let pipe = &mut c.pipes[to_side];
                pipe.unacked = Some(pipe.unread_bytes());
                c.set_limit(to_side);
                if in_flight(c, to_side, now) {
                    // Their acks are lost: retransmitted until Linux gives
                    // up, unless the link back heals first.
                    held_since(world, connection, side, now);
                }
            }
            let c = &world.net.connections[connection];
            if c.pipes[to_side].writer.waiting() {
                writer_cut(world, connection, side, now);
            }
        }
    }
}

/// After a link opened: held segments whose link is no longer cut leave
/// now, in order, and their pending timeouts are lifted.
pub(crate) fn release_held(world: &mut World) {
    let now = cx::now_ns("asyncsim::net::repair");
    // Retransmissions to a gone end that get through now, answered with a
    // reset once every timeout the repair lifts is lifted.
    let mut answers = Vec::new();
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let to_side = 1 - side;
            acks_healed(world, connection, side);
            let c = &world.net.connections[connection];
            if !c.gave_up[side] && c.error_at(side, now) == Some(io::ErrorKind::TimedOut) {
                // Its timeout came at this instant, its call not yet: it
                // gave up, and what it held never leaves.
                give_up(world, connection, side);
            }
            let (from, to, held, fin) = {
                let c = &mut world.net.connections[connection];
                let pipe = &mut c.pipes[to_side];
                // (A writer waiting across the cut holds nothing, but
                // waits out the timeout as held segments do; one that gave
                // up waiting since left that timeout set all the same.)
                let probing = pipe.held_since_ns.is_some();
                if pipe.held.is_empty() && !pipe.held_fin && !probing {
                    continue;
                }
                (
                    c.nodes[side],
                    c.nodes[to_side],
                    std::mem::take(&mut pipe.held),
                    std::mem::take(&mut pipe.held_fin),
                )
            };
            if world.net.is_cut(from, to) {
                let pipe = &mut world.net.connections[connection].pipes[to_side];
                pipe.held = held;
                pipe.held_fin = fin;
                continue;
            }
            // The timeout goes once acks can come back too: `side`'s (its
            // own: nothing else sets it, `held_since`), unless it came.
            let acks_cut = world.net.is_cut(to, from);
            let c = &mut world.net.connections[connection];
            if !acks_cut {
                c.pipes[to_side].held_since_ns = None;
                if matches!(c.errors[side], Some((at, io::ErrorKind::TimedOut)) if at > now) {
                    c.errors[side] = None;
                    c.unwatch_error(side);
                }
            }
            let pipe = &mut c.pipes[to_side];
            pipe.held_bytes = 0;
            let first = pipe.segments.len();
            world.net.connections[connection].set_limit(to_side);
            for data in held {
                deliver(world, connection, side, Some(&data), now);
            }
            if fin {
                deliver(world, connection, side, None, now);
            }
            if !acks_cut && gone_unanswered(world, connection, side, now) {
                let pipe = &world.net.connections[connection].pipes[to_side];
                let first_ns = match pipe.segments.get(first) {
                    Some(segment) => Some(segment.arrival_ns),
                    None => pipe.fin_ns.filter(|_| fin),
                };
                answers.push((connection, side, first_ns));
            }
        }
    }
    for (connection, side, first_ns) in answers {
        answer_retransmission(world, connection, side, first_ns, now);
    }
}

/// True when end `side` is live and its peer's end gone (closed, gave up
/// after its timeout, or its node crashed with the reset lost in a cut:
/// `Connection::crash_unsaid`) with no reset on its way to `side` nor an
/// error come: what `side` retransmits to it is answered with a reset once
/// it gets through.
fn gone_unanswered(world: &World, connection: usize, side: usize, now: u64) -> bool {
    let c = &world.net.connections[connection];
    let peer = 1 - side;
    if !(c.dropped[peer] || c.gave_up[peer]) || c.dropped[side] || c.reset_ns[side].is_some() {
        return false;
    }
    if c.error_at(side, now).is_some() {
        return false;
    }
    let crashed = !world.alive(c.nodes[peer] as usize, c.incarnations[peer]);
    !crashed || c.crash_unsaid[side]
}

/// A repair lets through what end `side` retransmits to its gone peer
/// ([`gone_unanswered`]): its first segment (or FIN) released now, arriving
/// at `first_ns`, or, when nothing was held (its writes to the gone end
/// were dropped: `TcpStream::drop_written`), a retransmission sent now (a
/// `net` latency draw). The gone end answers it with a reset, as Linux
/// answers a segment for a socket it does not have (a crashed node's,
/// restarted or not, as one closed): `side`'s reads and writes fail with
/// `ConnectionReset` once it arrives (a `net` latency draw).
fn answer_retransmission(
    world: &mut World,
    connection: usize,
    side: usize,
    first_ns: Option<u64>,
    now: u64,
) {
    let sent_ns = match first_ns {
        Some(at_ns) => at_ns,
        None => {
            let c = &world.net.connections[connection];
            let (from, to, stream) = (c.nodes[side], c.nodes[1 - side], c.names[side]);
            now + world.latency(from, to, Carried::Segment { stream, bytes: 0 })
        }
    };
    answer_with_close_reset(world, connection, 1 - side, sent_ns, now);
}

/// True when something sent toward `to_side` is still on its way (a
/// segment or a FIN, not a close's reset, which nothing acknowledges): its
/// ack is lost once the link back is cut. (Acks of what arrived just before
/// the cut, still on their way back, are taken to have arrived.)
fn in_flight(c: &Connection, to_side: usize, now: u64) -> bool {
    let pipe = &c.pipes[to_side];
    !c.dropped[to_side]
        && (pipe.segments.back().is_some_and(|s| s.arrival_ns > now)
            || (!pipe.fin_resets && pipe.fin_ns.is_some_and(|at| at > now)))
}

/// After a link opened: if the acks of `side`'s writes toward its peer get
/// through again, its room is the window less what the peer has not read
/// (the window update the peer could not send arrives), and a writer
/// waiting for room that this gives is woken.
fn acks_healed(world: &mut World, connection: usize, side: usize) {
    let to_side = 1 - side;
    let c = &world.net.connections[connection];
    if c.pipes[to_side].unacked.is_none() || world.net.is_cut(c.nodes[to_side], c.nodes[side]) {
        return;
    }
    let c = &mut world.net.connections[connection];
    c.pipes[to_side].unacked = None;
    c.set_limit(to_side);
    let pipe = &mut c.pipes[to_side];
    if pipe.writer.waiting() && pipe.room() > 0 {
        pipe.writer.wake_all();
    }
}
