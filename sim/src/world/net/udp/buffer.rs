//! A UDP socket's datagrams, buffered or on their way (`UdpState`), and
//! their drops. Every dropped datagram is a trace event
//! (`EventKind::NetDrop`) saying why, recorded on its drop path only, at
//! the time it was lost:
//!
//! - a loss draw, a cut, no socket bound: at the send;
//! - a full buffer: at the arrival. The buffer is settled lazily (whenever
//!   the socket is used, arrivals are taken in order), which decides every
//!   drop exactly but would see it late, or never if the socket is not used
//!   again. So a datagram that may arrive to a full buffer gets a call at
//!   its arrival (`cx::call_at`) that settles the socket then. Only reads
//!   empty the buffer, so a datagram with fewer than `capacity` datagrams
//!   ahead of it in the list (buffered, or arriving before it) always fits:
//!   only the one at index `capacity`, the earliest that may not, is
//!   watched (one call a socket at a time); a run that never fills a buffer
//!   to its capacity sets none, and runs as before;
//! - another peer's than the one its receiving socket is connected to: at
//!   its arrival, as Linux drops it (a connected socket takes only its
//!   peer's datagrams: another's never takes buffer space and is never
//!   read). Such a datagram waits apart from the socket's list, in
//!   `strays`, by arrival (sorted on its send when the socket is connected
//!   then, or on a `connect` while it is on its way), and the call that
//!   watches the buffer (above) watches the first of them too, dropping it
//!   then. A run that connects no socket tests one flag a send;
//! - the receiving socket closed (dropped) or its node crashed, while the
//!   datagram was buffered or on its way: at the step boundary after the
//!   close (`cx::at_step_boundary`), at the crash. A run's end is not a
//!   close: what is still buffered or on its way when the main future
//!   returns (or the run fails) is not recorded (the boundary never comes),
//!   so a run that reads all it gets hashes as before.

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::cx::NodeId;
use crate::trace::{DropWhy, EventKind, SocketWait, TaskId, WaitOn};
use crate::world::net::{BindKey, Parked, Protocol, VecMap};
use crate::world::{cx, world, NodeState, World};

/// A receive buffer holds this many datagrams unless set otherwise.
pub const DEFAULT_RECV_BUFFER: usize = 1024;

/// A datagram; its sender's address is made when it is read.
pub(super) struct Datagram {
    pub(super) from_node: u32,
    pub(super) from_port: u16,
    pub(super) data: Payload,
}

/// Datagrams this long or shorter keep their bytes in place.
pub(super) const INLINE: usize = 32;

/// A datagram's bytes: a short one's in place (no buffer to take, follow
/// and keep), a longer one's in a buffer.
pub(super) enum Payload {
    Inline { len: u8, bytes: [u8; INLINE] },
    Buffer(Vec<u8>),
}

impl Payload {
    #[inline(always)]
    pub(super) fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Payload::Buffer(data) => data,
        }
    }
}

/// The tasks waiting to receive on the run's UDP sockets (by id), for a
/// failure's report.
pub(crate) fn socket_waits(sockets: &[UdpState], out: &mut Vec<(TaskId, WaitOn)>) {
    for state in sockets {
        let Some(socket) = state.label else {
            continue;
        };
        let op = SocketWait::Recv;
        out.extend(
            state
                .reader
                .waiting_tasks()
                .map(|task| (task, WaitOn::Socket { op, socket })),
        );
    }
}

impl UdpState {
    /// Its receivers' waiters.
    pub(crate) fn reader_mut(&mut self) -> &mut Parked {
        &mut self.reader
    }
}

/// A UDP socket's state.
pub(crate) struct UdpState {
    pub(super) node: u32,
    pub(super) incarnation: NodeId,
    pub(super) port: u16,
    /// Datagrams by (arrival, send sequence): the first `arrived` are in
    /// the receive buffer (arrived, not yet read), the rest on their way.
    /// (One list kept sorted: no allocation a datagram, where a map makes
    /// and frees a node for one, and an arrival moves nothing. A datagram
    /// sent now arrives after every one buffered.)
    pub(super) in_flight: VecDeque<((u64, u64), Datagram)>,
    pub(super) arrived: usize,
    pub(super) capacity: usize,
    /// Datagrams that arrived to a full buffer.
    pub(super) dropped_full: u64,
    pub(super) reader: Parked,
    /// The peer `connect` set, and the datagrams on their way from others
    /// (boxed: one word here for the sockets never connected, whose sends
    /// test it).
    pub(super) connected: Option<Box<Connected>>,
    pub(super) open: bool,
    /// The interned trace label, made when first needed.
    pub(super) label: Option<u32>,
    /// Buffers of datagrams read, kept for the next ones sent here.
    pub(super) spare: Vec<Vec<u8>>,
    /// The call set to settle the buffer at the arrival of a datagram that
    /// may find it full, and its time (see the module doc).
    pub(super) watch: Option<(u64, cx::TimerKey)>,
}

/// A connected socket's peer and strays.
pub(super) struct Connected {
    /// Only its datagrams arrive (the ones already buffered when it was set
    /// stay, as on Linux).
    pub(super) peer: SocketAddr,
    /// Datagrams on their way from another peer, by (arrival, send
    /// sequence): each is dropped at its arrival (unless a `connect` to its
    /// sender comes first).
    pub(super) strays: Vec<((u64, u64), Datagram)>,
}

/// Buffers a socket keeps for datagrams to come (a receive pops one, a send
/// to it reuses it).
const SPARE_BUFFERS: usize = 8;

impl UdpState {
    /// A socket bound at `node:port` (`incarnation`: the node's start it
    /// was bound in), empty, its buffer [`DEFAULT_RECV_BUFFER`] datagrams.
    pub(super) fn new(node: u32, incarnation: NodeId, port: u16) -> UdpState {
        UdpState {
            node,
            incarnation,
            port,
            in_flight: VecDeque::new(),
            arrived: 0,
            capacity: DEFAULT_RECV_BUFFER,
            dropped_full: 0,
            reader: Parked::default(),
            connected: None,
            open: true,
            label: None,
            spare: Vec::new(),
            watch: None,
        }
    }

    /// The connected peer, if any.
    pub(super) fn peer(&self) -> Option<SocketAddr> {
        self.connected.as_ref().map(|connected| connected.peer)
    }

    /// The strays (none when not connected).
    pub(super) fn strays(&self) -> &[((u64, u64), Datagram)] {
        match &self.connected {
            Some(connected) => &connected.strays,
            None => &[],
        }
    }

    /// Keeps a read datagram's buffer for the next one sent here (taken
    /// from the datagram in place: nothing moves but the buffer's three
    /// words).
    #[inline]
    pub(super) fn recycle(spare: &mut Vec<Vec<u8>>, data: &mut Payload) {
        let Payload::Buffer(data) = data else {
            return;
        };
        if spare.len() < SPARE_BUFFERS && data.capacity() <= 64 * 1024 {
            data.clear();
            spare.push(std::mem::take(data));
        }
    }

    /// Takes what has arrived by `now_ns` into the buffer (counts it in
    /// `arrived`), in arrival order, dropping what does not fit. Every
    /// access settles first, and only a receive empties the buffer, so this
    /// is exactly what a buffer filled at each arrival would hold.
    /// (`nodes`, `bound` and `socket`, this socket's index, are for the
    /// words of a drop only.)
    #[inline]
    pub(super) fn settle(
        &mut self,
        now_ns: u64,
        nodes: &[NodeState],
        bound: &VecMap<BindKey, usize>,
        socket: usize,
    ) {
        while let Some((key, _)) = self.in_flight.get(self.arrived) {
            if key.0 > now_ns {
                return;
            }
            if self.arrived < self.capacity {
                self.arrived += 1;
            } else {
                self.drop_full(nodes, bound, socket);
            }
        }
    }

    /// Drops the datagram that arrived to the full buffer (the first past
    /// it in the list, at index `arrived`) and records it: a
    /// [`EventKind::NetDrop`] from the socket bound at its sender's address
    /// (the address alone when none is) to this one, `socket`. Out of line:
    /// the path of a datagram kept pays nothing for it.
    #[cold]
    #[inline(never)]
    fn drop_full(&mut self, nodes: &[NodeState], bound: &VecMap<BindKey, usize>, socket: usize) {
        let Some((_, datagram)) = self.in_flight.remove(self.arrived) else {
            return;
        };
        self.dropped_full += 1;
        let from = sender_label(nodes, bound, datagram.from_node, datagram.from_port);
        let to = self.label(socket, nodes);
        let mut data = datagram.data;
        record_drop(DropWhy::Full, from, to, data.as_slice().len());
        Self::recycle(&mut self.spare, &mut data);
    }

    /// Drops the strays (another peer's datagrams) that have arrived by
    /// `now_ns`, each recorded as [`DropWhy::NotPeer`] (as
    /// [`UdpState::drop_full`] records its drop).
    #[cold]
    #[inline(never)]
    pub(super) fn drop_strays(
        &mut self,
        now_ns: u64,
        nodes: &[NodeState],
        bound: &VecMap<BindKey, usize>,
        socket: usize,
    ) {
        let due = self.strays().partition_point(|(key, _)| key.0 <= now_ns);
        if due == 0 {
            return;
        }
        let to = self.label(socket, nodes);
        let Some(connected) = &mut self.connected else {
            return;
        };
        for (_, mut datagram) in connected.strays.drain(..due) {
            let from = sender_label(nodes, bound, datagram.from_node, datagram.from_port);
            record_drop(DropWhy::NotPeer, from, to, datagram.data.as_slice().len());
            Self::recycle(&mut self.spare, &mut datagram.data);
        }
    }

    /// A datagram from `from_node:from_port` (its bytes `buf`) sent to this
    /// connected socket, `socket`, at `now`, arriving at `key.0`: when
    /// another peer than the connected one sent it, it is kept apart among
    /// the strays, to be dropped at its arrival (the call watching the
    /// socket is set for it if it is the first), and this returns true;
    /// otherwise false (it goes to the list as any other). Out of line: a
    /// socket never connected never gets here.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn hold_if_stray(
        &mut self,
        nodes: &[NodeState],
        from_node: u32,
        from_port: u16,
        buf: &[u8],
        key: (u64, u64),
        socket: usize,
        now: u64,
    ) -> bool {
        let from = SocketAddr::new(nodes[from_node as usize].ip, from_port);
        let Some(connected) = &mut self.connected else {
            return false;
        };
        if connected.peer == from {
            return false;
        }
        let data = if buf.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..buf.len()].copy_from_slice(buf);
            Payload::Inline {
                len: buf.len() as u8,
                bytes,
            }
        } else {
            let mut data = self.spare.pop().unwrap_or_default();
            data.extend_from_slice(buf);
            Payload::Buffer(data)
        };
        let datagram = Datagram {
            from_node,
            from_port,
            data,
        };
        let position = connected.strays.partition_point(|(other, _)| *other < key);
        connected.strays.insert(position, (key, datagram));
        if position == 0 {
            self.watch(socket, now);
        }
        true
    }

    /// The socket was connected to a peer (at a time its list was settled
    /// and its strays due dropped): the datagrams on their way are sorted
    /// again, the peer's to the list, every other's to the strays. Those
    /// buffered stay, as Linux keeps what its receive queue holds.
    #[cold]
    #[inline(never)]
    pub(super) fn sort_on_the_way(&mut self, nodes: &[NodeState]) {
        let Some(connected) = &mut self.connected else {
            return;
        };
        let mut on_the_way: Vec<_> = self.in_flight.drain(self.arrived..).collect();
        on_the_way.append(&mut connected.strays);
        on_the_way.sort_unstable_by_key(|(key, _)| *key);
        for entry in on_the_way {
            let datagram = &entry.1;
            let from = SocketAddr::new(nodes[datagram.from_node as usize].ip, datagram.from_port);
            if from == connected.peer {
                self.in_flight.push_back(entry);
            } else {
                connected.strays.push(entry);
            }
        }
    }

    /// This socket's (`socket`'s) trace label: "UdpSocket#2 (main:5000)",
    /// numbered in the order the run's UDP sockets were bound (as
    /// `TcpStream#n`), so a socket bound again on the same port after a
    /// crash reads apart. Made on first use, then kept.
    fn label(&mut self, socket: usize, nodes: &[NodeState]) -> u32 {
        if let Some(label) = self.label {
            return label;
        }
        let label = cx::intern_label(format!(
            "UdpSocket#{socket} ({}:{})",
            nodes[self.node as usize].name, self.port
        ));
        self.label = Some(label);
        label
    }

    /// Makes sure the buffer is settled at the arrival of the earliest
    /// datagram that may find it full (the one at index `capacity`: every
    /// one before it has fewer ahead than the buffer holds), or of the
    /// first stray if it comes first, if any: at `now` when that is past (a
    /// lowered capacity). One call at a time; an earlier one stands (it
    /// watches again when it fires). Out of line: a buffer that never holds
    /// `capacity` datagrams and gets no strays never gets here.
    #[cold]
    #[inline(never)]
    pub(super) fn watch(&mut self, socket: usize, now: u64) {
        let full = self.in_flight.get(self.capacity).map(|(key, _)| key.0);
        let stray = self.strays().first().map(|(key, _)| key.0);
        let Some(arrival_ns) = full.into_iter().chain(stray).min() else {
            return;
        };
        let at_ns = arrival_ns.max(now);
        if let Some((watched_ns, key)) = self.watch {
            if watched_ns <= at_ns {
                return;
            }
            cx::cancel_timer(key);
        }
        self.watch = Some((at_ns, cx::call_at(at_ns, settle_watched, socket as u64)));
    }

    /// Forgets every datagram, buffered or on its way (strays too, all in
    /// arrival order), and the call that watched them; returns each one's
    /// sender and size.
    pub(super) fn clear(&mut self) -> Vec<(u32, u16, usize)> {
        if let Some((_, key)) = self.watch.take() {
            cx::cancel_timer(key);
        }
        self.arrived = 0;
        let what = |(_, datagram): ((u64, u64), Datagram)| {
            (
                datagram.from_node,
                datagram.from_port,
                datagram.data.as_slice().len(),
            )
        };
        let Some(connected) = self.connected.as_mut().filter(|c| !c.strays.is_empty()) else {
            return self.in_flight.drain(..).map(what).collect();
        };
        let mut lost: Vec<_> = self.in_flight.drain(..).collect();
        lost.append(&mut connected.strays);
        lost.sort_unstable_by_key(|(key, _)| *key);
        lost.into_iter().map(what).collect()
    }
}

/// The call [`UdpState::watch`] sets: settles socket `socket`'s buffer
/// now, the arrival of a datagram that may find it full or of a stray
/// (recording the drop then), and watches the next such one.
fn settle_watched(socket: u64) {
    let world_rc = world("asyncsim::net");
    let Ok(mut world) = world_rc.try_borrow_mut() else {
        return;
    };
    let world = &mut *world;
    let socket = socket as usize;
    if socket >= world.net.udp.len() {
        return;
    }
    let now = cx::now_ns("asyncsim::net");
    let state = &mut world.net.udp[socket];
    state.watch = None;
    if !state.open {
        return;
    }
    state.settle(now, &world.nodes, &world.net.bound, socket);
    if !state.strays().is_empty() {
        state.drop_strays(now, &world.nodes, &world.net.bound, socket);
    }
    state.watch(socket, now);
}

/// Records the datagrams of UDP socket `socket` lost with it (`lost`:
/// each one's sender and size), `why`: its close, its node's crash.
#[cold]
#[inline(never)]
pub(super) fn record_lost(
    world: &mut World,
    socket: usize,
    why: DropWhy,
    lost: &[(u32, u16, usize)],
) {
    let to = label_of(world, socket);
    for &(node, port, bytes) in lost {
        let from = sender_label(&world.nodes, &world.net.bound, node, port);
        record_drop(why, from, to, bytes);
    }
}

/// The label of the sender of a datagram from `node:port`: the socket bound
/// there ("UdpSocket#1 (client:5000)"), else the address ("client:5000").
fn sender_label(nodes: &[NodeState], bound: &VecMap<BindKey, usize>, node: u32, port: u16) -> u32 {
    let name = &nodes[node as usize].name;
    match bound.get(&(node, Protocol::Udp, port)) {
        Some(&sender) => cx::intern_label(format!("UdpSocket#{sender} ({name}:{port})")),
        None => cx::intern_label(format!("{name}:{port}")),
    }
}

/// UDP socket `socket`'s trace label ([`UdpState::label`]).
pub(super) fn label_of(world: &mut World, socket: usize) -> u32 {
    world.net.udp[socket].label(socket, &world.nodes)
}

/// Records a dropped datagram ([`EventKind::NetDrop`]): why, its sender's
/// and its destination's labels, its size. Words are made when rendering.
pub(super) fn record_drop(why: DropWhy, from: u32, to: u32, bytes: usize) {
    cx::record(EventKind::NetDrop {
        why,
        from,
        to,
        bytes: bytes.min(u32::MAX as usize) as u32,
    });
}

/// A node crashed: its UDP sockets close and lose what was buffered or on
/// its way, each datagram a drop recorded now.
pub(crate) fn crash_node(world: &mut World, node: u32, incarnation: NodeId) {
    for socket in 0..world.net.udp.len() {
        let state = &mut world.net.udp[socket];
        if state.node == node && state.incarnation == incarnation && state.open {
            state.open = false;
            if !state.strays().is_empty() {
                // Those arrived already were dropped then, the socket open.
                let now = cx::now_ns("asyncsim::net");
                state.drop_strays(now, &world.nodes, &world.net.bound, socket);
            }
            let lost = state.clear();
            if !lost.is_empty() {
                record_lost(world, socket, DropWhy::Crashed, &lost);
            }
            let key = (node, Protocol::Udp, world.net.udp[socket].port);
            world.net.bound.remove(&key);
        }
    }
}
