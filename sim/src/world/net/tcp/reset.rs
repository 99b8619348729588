//! Resets: the one a close with bytes unread sends (on its way once
//! `cut::send_reset` lets it leave), the one that answers a
//! segment for a closed end, the one that answers an abandoned connect's
//! SYN-ACK, and a node's crash (its streams reset, its listeners closed).

use std::io;

use super::error::say_close_reset;
use crate::cx::NodeId;
use crate::trace::DropWhy;
use crate::world::net::{Carried, Protocol};
use crate::world::{cx, World};

/// Closed end `side` answers with a reset sent at `sent_ns` (now, or when
/// a segment sent to it arrives: Linux answers a segment for a socket it
/// closed with an RST), unless one is on its way already: a `net` latency
/// draw, its arrival no earlier than what `side` sent before, and from then
/// the peer's writes fail (`Connection::reset_ns`), its reads too once
/// they have taken what came before it unless a FIN did (then the pipe's
/// FIN, `Pipe::fin_resets`), and its arrival is recorded
/// ([`reset_arrives`]). Out of line.
#[cold]
#[inline(never)]
pub(super) fn answer_with_close_reset(
    world: &mut World,
    connection: usize,
    side: usize,
    sent_ns: u64,
    now: u64,
) {
    let to_side = 1 - side;
    let c = &world.net.connections[connection];
    if c.reset_ns[to_side].is_some() || c.dropped[to_side] {
        return;
    }
    let (from, to, stream) = (c.nodes[side], c.nodes[to_side], c.names[side]);
    let latency = world.latency(from, to, Carried::Reset { stream });
    let c = &mut world.net.connections[connection];
    let pipe = &mut c.pipes[to_side];
    let at_ns = (sent_ns + latency).max(pipe.last_arrival_ns);
    pipe.last_arrival_ns = at_ns;
    if pipe.fin_ns.is_none() {
        pipe.fin_ns = Some(at_ns);
        pipe.fin_resets = true;
    }
    pipe.reader.due_at_from(at_ns, now);
    // A write waiting for room toward the closed end fails then too.
    c.pipes[side].writer.due_at_from(at_ns, now);
    c.reset_ns[to_side] = Some(at_ns);
    let end = (connection as u64) << 1 | to_side as u64;
    cx::call_at(at_ns, reset_arrives, end);
}

/// The call [`answer_with_close_reset`] sets (`end`: the connection's index and the
/// side): the close's reset reaches the end now, recorded as any reset
/// (`NetOp::Reset`, once: [`say_close_reset`]); nothing it was sent is
/// discarded (a read still takes it, as Linux's). Nothing for an end gone
/// meanwhile.
fn reset_arrives(end: u64) {
    let world_rc = crate::world::world("asyncsim::net");
    let Ok(mut world) = world_rc.try_borrow_mut() else {
        return;
    };
    let (connection, side) = ((end >> 1) as usize, (end & 1) as usize);
    let Some(c) = world.net.connections.get_mut(connection) else {
        return;
    };
    if c.dropped[side] {
        return;
    }
    say_close_reset(&mut world, connection, side);
}

/// The client end of a connect abandoned before its SYN-ACK arrives (at
/// `synack_ns`; see `Connecting::abandon`) is forgotten, as Linux forgets a
/// socket closed in SYN_SENT: the SYN-ACK is answered with a reset, which
/// reaches the server's end a drawn latency later (in the listener's
/// backlog or accepted: either way the end is reset then, and its `net
/// reset` recorded at its arrival or, if not handed out yet, right after
/// its accept). The latency is drawn now, where a dropped stream's FIN
/// would have been. Nothing across a cut, nor to an end gone already
/// (dropped, its listener closed or its node crashed: the FIN drew there,
/// so such a run's tape is a draw shorter than before the reset). Out of
/// line.
#[cold]
#[inline(never)]
pub(super) fn answer_with_reset(world: &mut World, connection: usize, synack_ns: u64) {
    let c = &world.net.connections[connection];
    let (node, peer_node, stream) = (c.nodes[0], c.nodes[1], c.names[0]);
    if c.dropped[1] || world.net.is_cut(node, peer_node) {
        return;
    }
    let latency = world.latency(node, peer_node, Carried::Reset { stream });
    let c = &mut world.net.connections[connection];
    c.fail_at(
        connection,
        1,
        synack_ns + latency,
        io::ErrorKind::ConnectionReset,
    );
}

/// A node crashed: its streams are gone (peers see a reset one latency
/// later; across a cut the reset is lost, and a peer learns of the crash
/// from its own next segment: `Connection::crash_unsaid`), its listeners
/// close (connections waiting in their backlog, their SYN arrived, are
/// reset, or left as accepted ones across a cut; one whose SYN is still on
/// its way finds what listens when it arrives).
pub(crate) fn crash_node(world: &mut World, node: u32, incarnation: NodeId) {
    let now = cx::now_ns("asyncsim::node::crash");
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let peer = 1 - side;
            let (peer_node, mine, dropped) = {
                let c = &world.net.connections[connection];
                (
                    c.nodes[peer],
                    c.nodes[side] == node && c.incarnations[side] == incarnation,
                    c.dropped[side],
                )
            };
            if !mine {
                continue;
            }
            if dropped {
                // Closed before the crash: what its close left held by a
                // cut (its FIN, bytes before it) dies with it,
                // and its giving up is no longer to come.
                lose_held(world, connection, side);
                let c = &mut world.net.connections[connection];
                c.unwatch_error(side);
                if !c.dropped[peer] && peer_node != node {
                    // Its FIN told the peer of a close, not of the crash
                    // (no reset leaves a socket closed already): the peer's
                    // next segment reaches a node with no such socket, and
                    // is answered with a reset, as by a node whose reset
                    // was lost in a cut (`Connection::crash_unsaid`).
                    c.crash_unsaid[peer] = true;
                }
                continue;
            }
            lose_held(world, connection, side);
            world.net.connections[connection].drop_end(side);
            // Its own error, if one was coming, reaches no one now, nor
            // its writer (dropped with its task) any room.
            world.net.connections[connection].unwatch_error(side);
            world.net.connections[connection].pipes[peer].writer.clear();
            let unread = world.net.connections[connection].pipes[side].unread_bytes();
            if unread > 0 {
                world.record_stream_drop(connection, side, DropWhy::Crashed, unread);
            }
            if side == 0 {
                let port = world.net.connections[connection].addrs[0].port();
                let key = (node, Protocol::Tcp, port);
                world.net.bound.remove_if_eq(&key, &usize::MAX);
            }
            if peer_node == node {
                continue;
            }
            if world.net.connections[connection].gave_up[side] {
                // It gave up across a cut (`error::give_up`): a closed
                // socket already, which a crash resets no more than a
                // closed one (Linux sends a reset for sockets that exist):
                // the peer learns of it from its own next segment.
                world.net.connections[connection].crash_unsaid[peer] = true;
                continue;
            }
            if world.net.is_cut(node, peer_node) {
                // The crash's reset is lost in the cut: the peer learns
                // nothing until a segment of its own gets through
                // (`Connection::crash_unsaid`).
                world.net.connections[connection].crash_unsaid[peer] = true;
                continue;
            }
            let stream = world.net.connections[connection].names[side];
            let latency = world.latency(node, peer_node, Carried::Reset { stream });
            let c = &mut world.net.connections[connection];
            c.fail_at(
                connection,
                peer,
                now + latency,
                io::ErrorKind::ConnectionReset,
            );
        }
    }
    for listener in 0..world.net.listeners.len() {
        let state = &mut world.net.listeners[listener];
        if state.node != node || state.incarnation != incarnation || !state.open {
            continue;
        }
        state.open = false;
        let key = (state.node, Protocol::Tcp, state.port);
        let backlog = std::mem::take(&mut state.backlog);
        world.net.bound.remove_if_eq(&key, &listener);
        for (syn_ns, connection) in backlog {
            // (What was sent to its server end and is unread was recorded
            // lost by the loop above: that end is the crashed node's.)
            let c = &mut world.net.connections[connection];
            c.drop_end(1);
            if syn_ns > now {
                // Its SYN is still on its way: it reaches what listens on
                // the port when it arrives (the node restarted and bound
                // again by then), else the connect is refused as one whose
                // SYN found nothing bound, as a dropped listener's
                // (`super::connect::syn_arrives`).
                // (Nor did the crash reach it: the reset the loop above
                // set for the client end is lifted.)
                c.errors[0] = None;
                if !c.dropped[0] {
                    c.syn_call = Some(cx::call_at(
                        syn_ns,
                        super::connect::syn_arrives,
                        connection as u64,
                    ));
                }
                continue;
            }
            if c.crash_unsaid[0] {
                // Across a cut: the crash's reset is lost, as for a stream
                // accepted (`Connection::crash_unsaid`): the client learns
                // of it from its own next segment.
                continue;
            }
            // (Nothing was sent toward the client yet: its pipe's last
            // arrival is the SYN-ACK's.)
            let synack_ns = c.pipes[0].last_arrival_ns;
            if synack_ns <= now {
                // The client is connected: reset by the loop above, a drawn
                // latency from now, as Linux's reset takes its way to the
                // client as any segment does (not at the crash's instant).
                continue;
            }
            // The handshake is not done, but on Linux the SYN-ACK left when
            // the SYN arrived: the client's connect succeeds, and the reset
            // answers its ACK. So the connect returns the stream, and the
            // reset the loop above drew for the client end comes that
            // latency after the SYN-ACK: no draw added, so tapes do not
            // move.
            let latency = match c.errors[0] {
                Some((at, io::ErrorKind::ConnectionReset)) if at >= now => at - now,
                _ => 0,
            };
            c.errors[0] = None;
            c.fail_at(
                connection,
                0,
                synack_ns + latency,
                io::ErrorKind::ConnectionReset,
            );
        }
    }
}

/// The crashed end `side`'s segments (and FIN) that a
/// cut holds toward its peer are lost with its node: on Linux what a socket
/// sent and has no ack for lives only in its own send queue, to be
/// retransmitted, and a crash forgets it; none of it reaches the peer at
/// the repair. The bytes are recorded lost (`DropWhy::SenderCrashed`).
/// The peer's own timeout, if one is coming, stays (`cut::held_since` sets
/// only the sending end's: the peer retransmits what it sent to a node that
/// does not answer). (A closed end's held FIN told the peer
/// nothing: `crash_node` has the peer learn of the crash from its own next
/// segment, as from a reset lost in a cut: `Connection::crash_unsaid`.)
/// Out of line: nothing is held unless a cut is in play.
#[cold]
#[inline(never)]
fn lose_held(world: &mut World, connection: usize, side: usize) {
    let peer = 1 - side;
    let c = &mut world.net.connections[connection];
    let pipe = &mut c.pipes[peer];
    let held = !pipe.held.is_empty() || pipe.held_fin;
    if !held && pipe.held_since_ns.is_none() {
        return;
    }
    let bytes = pipe.discard_held();
    c.set_limit(peer);
    if bytes > 0 {
        world.record_stream_drop(connection, peer, DropWhy::SenderCrashed, bytes);
    }
}
