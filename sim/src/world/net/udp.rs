//! UDP: independent datagrams, each with a drawn latency (so they may
//! reorder), a weighted loss and duplication draw, and a receive buffer that
//! drops what does not fit. Every dropped datagram is a trace event
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

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

mod peek;

use super::{Address, BindKey, Carried, NetConfig, Parked, Protocol, ToAddress, VecMap};
use crate::cx::NodeId;
use crate::trace::{DropWhy, EventKind, FaultOp, NetOp, SocketWait, TaskId, WaitOn};
use crate::world::{cx, same_run, world, NodeState, World, WorldRc};

/// A receive buffer holds this many datagrams unless set otherwise.
pub const DEFAULT_RECV_BUFFER: usize = 1024;

/// A datagram; its sender's address is made when it is read.
struct Datagram {
    from_node: u32,
    from_port: u16,
    data: Payload,
}

/// Datagrams this long or shorter keep their bytes in place.
const INLINE: usize = 32;

/// A datagram's bytes: a short one's in place (no buffer to take, follow
/// and keep), a longer one's in a buffer.
enum Payload {
    Inline { len: u8, bytes: [u8; INLINE] },
    Buffer(Vec<u8>),
}

impl Payload {
    #[inline(always)]
    fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Payload::Buffer(data) => data,
        }
    }
}

/// Where a send goes: a host name and port not made into an `Address`
/// (see `ToAddress::host_and_port`), or an address.
enum Target<'a> {
    Host(&'a str, u16),
    Ip(SocketAddr),
    Address(&'a Address),
}

/// The largest datagram a send takes (IPv4's 65,535 bytes less its 20-byte
/// header and UDP's 8); a larger one is `EMSGSIZE`, as on Linux.
const MAX_DATAGRAM: usize = 65_507;

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
    node: u32,
    incarnation: NodeId,
    port: u16,
    /// Datagrams by (arrival, send sequence): the first `arrived` are in
    /// the receive buffer (arrived, not yet read), the rest on their way.
    /// (One list kept sorted: no allocation a datagram, where a map makes
    /// and frees a node for one, and an arrival moves nothing. A datagram
    /// sent now arrives after every one buffered.)
    in_flight: VecDeque<((u64, u64), Datagram)>,
    arrived: usize,
    capacity: usize,
    /// Datagrams that arrived to a full buffer.
    dropped_full: u64,
    reader: Parked,
    /// The peer `connect` set, and the datagrams on their way from others
    /// (boxed: one word here for the sockets never connected, whose sends
    /// test it).
    connected: Option<Box<Connected>>,
    open: bool,
    /// The interned trace label, made when first needed.
    label: Option<u32>,
    /// Buffers of datagrams read, kept for the next ones sent here.
    spare: Vec<Vec<u8>>,
    /// The call set to settle the buffer at the arrival of a datagram that
    /// may find it full, and its time (see the module doc).
    watch: Option<(u64, cx::TimerKey)>,
}

/// A connected socket's peer and strays.
struct Connected {
    /// Only its datagrams arrive (the ones already buffered when it was set
    /// stay, as on Linux).
    peer: SocketAddr,
    /// Datagrams on their way from another peer, by (arrival, send
    /// sequence): each is dropped at its arrival (unless a `connect` to its
    /// sender comes first).
    strays: Vec<((u64, u64), Datagram)>,
}

/// Buffers a socket keeps for datagrams to come (a receive pops one, a send
/// to it reuses it).
const SPARE_BUFFERS: usize = 8;

impl UdpState {
    /// The connected peer, if any.
    fn peer(&self) -> Option<SocketAddr> {
        self.connected.as_ref().map(|connected| connected.peer)
    }

    /// The strays (none when not connected).
    fn strays(&self) -> &[((u64, u64), Datagram)] {
        match &self.connected {
            Some(connected) => &connected.strays,
            None => &[],
        }
    }

    /// Keeps a read datagram's buffer for the next one sent here (taken
    /// from the datagram in place: nothing moves but the buffer's three
    /// words).
    #[inline]
    fn recycle(spare: &mut Vec<Vec<u8>>, data: &mut Payload) {
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
    fn settle(
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
    fn drop_strays(
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
    fn hold_if_stray(
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
    fn sort_on_the_way(&mut self, nodes: &[NodeState]) {
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
    fn watch(&mut self, socket: usize, now: u64) {
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
    fn clear(&mut self) -> Vec<(u32, u16, usize)> {
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
fn record_lost(world: &mut World, socket: usize, why: DropWhy, lost: &[(u32, u16, usize)]) {
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

/// [`UdpSocket::send_to`]'s future: sends when first polled. (Not an
/// `async fn`: its state moved the address in and out of the future on
/// every send, and the narrow stores read back wide stalled; here the
/// address stays where the caller put it and is read in place.)
struct SendTo<'a, A> {
    socket: &'a UdpSocket,
    buf: &'a [u8],
    address: A,
    done: Cell<bool>,
}

impl<A: ToAddress> Future for SendTo<'_, A> {
    type Output = io::Result<usize>;

    #[inline]
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.into_ref().get_ref();
        assert!(
            !this.done.get(),
            "UdpSocket::send_to's future polled after it completed"
        );
        // A send never waits: the cooperative budget is what makes a loop
        // of them yield (looked at in the send's look at the run; its
        // event spends the unit).
        let sent = this.socket.send_now::<_, true>(this.buf, &this.address);
        let poll = budget_yield_if_spent(sent, context);
        this.done.set(poll.is_ready());
        poll
    }
}

/// [`UdpSocket::recv_from`]'s future (not an `async fn`, as [`SendTo`]);
/// dropped while it waits, it leaves the socket's waiters (`Waiting`).
struct RecvFrom<'a> {
    waiting: super::Waiting<'a, UdpSocket>,
    buf: &'a mut [u8],
}

impl Future for RecvFrom<'_> {
    type Output = io::Result<(usize, SocketAddr)>;

    #[inline]
    fn poll(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let this = self.get_mut();
        this.waiting.polling();
        let poll = this.waiting.socket.recv_from_now::<true>(context, this.buf);
        this.waiting.polled(context, poll)
    }
}

/// Linux's EMSGSIZE: a UDP datagram over IPv4 holds at most
/// [`MAX_DATAGRAM`] bytes. The failed send spends its unit of the task's
/// budget (no event): a loop retrying it yields. Out of line.
#[cold]
#[inline(never)]
fn too_long() -> io::Error {
    cx::spend_on_completion();
    io::Error::from_raw_os_error(90)
}

/// What a budgeted send returns in place of sending when its task's
/// cooperative budget is spent (no send returns `WouldBlock` otherwise: a
/// datagram never waits); its poll turns it into a yield.
#[inline(always)]
fn budget_spent() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}

/// A budgeted send's result as its poll's: [`budget_spent`]'s error is a
/// yield (the task woken through `context`, `Pending`).
#[inline(always)]
pub(super) fn budget_yield_if_spent(
    sent: io::Result<usize>,
    context: &Context<'_>,
) -> Poll<io::Result<usize>> {
    match sent {
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
            super::budget_yield(context);
            Poll::Pending
        }
        sent => Poll::Ready(sent),
    }
}

/// A UDP socket on the calling task's node.
///
/// ```
/// use asyncsim_sim::{net, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     let a = net::UdpSocket::bind("0.0.0.0:5000").await.unwrap();
///     let b = net::UdpSocket::bind("0.0.0.0:5001").await.unwrap();
///     a.send_to(b"hi", "127.0.0.1:5001").await.unwrap();
///     let mut buf = [0u8; 16];
///     let (len, from) = b.recv_from(&mut buf).await.unwrap();
///     (buf[..len].to_vec(), from.port())
/// });
/// assert_eq!(run.result.unwrap(), (b"hi".to_vec(), 5000));
/// ```
pub struct UdpSocket {
    pub(super) world: WorldRc,
    pub(super) socket: usize,
}

impl UdpSocket {
    /// Binds on the calling task's node (port 0: a free one).
    ///
    /// # Errors
    ///
    /// `AddrInUse` when the port is taken, `AddrNotAvailable` for another
    /// node's address.
    pub async fn bind<A: ToAddress>(address: A) -> io::Result<UdpSocket> {
        let address = address.to_address()?;
        let world_rc = world("asyncsim::net::UdpSocket::bind");
        let socket = {
            let mut world = world_rc.borrow_mut();
            let (node, incarnation) = world.current();
            if !world.alive(node, incarnation) {
                return Err(world.crashed_here(node, "asyncsim::net::UdpSocket::bind"));
            }
            let port = world.bind_port(&address, node)?;
            let index = world.net.udp.len();
            let port = world.claim_port(node, Protocol::Udp, port, index)?;
            world.net.udp.push(UdpState {
                node: node as u32,
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
            });
            index
        };
        Ok(UdpSocket {
            world: world_rc,
            socket,
        })
    }

    /// Checks the socket is usable (this run's, open, its node alive); the
    /// time now when it is (one look at the thread's run for both).
    #[inline]
    fn check_now(&self, world: &World) -> io::Result<u64> {
        let state = &world.net.udp[self.socket];
        if let Some(now) = cx::now_in_run(world.run_id) {
            if world.alive(state.node as usize, state.incarnation) && state.open {
                return Ok(now);
            }
        }
        Err(self.unusable(world))
    }

    /// [`UdpSocket::check_now`] for a send under the cooperative budget, in
    /// the same look at the run: [`budget_spent`]'s error when the task has
    /// no unit left.
    #[inline(always)]
    fn check_now_to_send(&self, world: &World) -> io::Result<u64> {
        let state = &world.net.udp[self.socket];
        match cx::now_in_run_checking(world.run_id) {
            Some(Ok(now)) if world.alive(state.node as usize, state.incarnation) && state.open => {
                Ok(now)
            }
            Some(Err(cx::BudgetSpent)) => Err(budget_spent()),
            _ => Err(self.unusable(world)),
        }
    }

    /// [`UdpSocket::check_now`] for a poll under the cooperative budget, in
    /// the same look at the run: `Pending` (the task woken: a yield) when
    /// the task has no unit left.
    #[inline(always)]
    fn check_now_budgeted(&self, world: &World, context: &Context<'_>) -> Poll<io::Result<u64>> {
        let state = &world.net.udp[self.socket];
        match cx::now_in_run_checking(world.run_id) {
            Some(Ok(now)) if world.alive(state.node as usize, state.incarnation) && state.open => {
                Poll::Ready(Ok(now))
            }
            Some(Err(cx::BudgetSpent)) => {
                super::budget_yield(context);
                Poll::Pending
            }
            _ => Poll::Ready(Err(self.unusable(world))),
        }
    }

    /// Why [`UdpSocket::check_now`] failed (out of line: it almost never does).
    #[cold]
    #[inline(never)]
    fn unusable(&self, world: &World) -> io::Error {
        if !same_run(world.run_id) {
            return io::Error::other(
                "UdpSocket belongs to another run: a socket cannot outlive the simulation that made it",
            );
        }
        // A failed operation spends its unit of the task's budget (no
        // event): a loop retrying it yields.
        cx::spend_on_completion();
        let state = &world.net.udp[self.socket];
        let node = state.node as usize;
        io::Error::new(
            io::ErrorKind::NotConnected,
            format!(
                "UdpSocket {} belongs to node `{}`, which crashed: its sockets died with it",
                world.socket_addr(node, state.port),
                world.nodes[node].name
            ),
        )
    }

    /// Sends one datagram to `address`. A datagram to a port where nobody
    /// listens, across a cut, or lost is gone without an error, as UDP's
    /// are. One over 65,507 bytes is an error, `EMSGSIZE` (Linux's
    /// "Message too long"), and is not sent.
    pub fn send_to<'a, A: ToAddress + 'a>(
        &'a self,
        buf: &'a [u8],
        address: A,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        SendTo {
            socket: self,
            buf,
            address,
            done: Cell::new(false),
        }
    }

    /// [`UdpSocket::send_to`], which never waits (a `Detached` socket's
    /// too). `BUDGETED` (a poll): when the task's cooperative budget is
    /// spent, nothing is sent and the error is [`budget_spent`]'s, which
    /// the poll turns into a yield ([`budget_yield_if_spent`]).
    #[inline]
    pub(super) fn send_now<A: ToAddress + ?Sized, const BUDGETED: bool>(
        &self,
        buf: &[u8],
        address: &A,
    ) -> io::Result<usize> {
        if let Some(addr) = address.socket_addr() {
            return self.send_datagram::<BUDGETED>(buf, Target::Ip(addr));
        }
        if let Some((host, port)) = address.host_and_port() {
            return self.send_datagram::<BUDGETED>(buf, Target::Host(host, port));
        }
        let address = address.to_address()?;
        self.send_datagram::<BUDGETED>(buf, Target::Address(&address))
    }

    /// This socket's trace label: "UdpSocket#2 (main:5000)", numbered in
    /// the order the run's UDP sockets were bound (as `TcpStream#n`), so a
    /// socket bound again on the same port after a crash reads apart.
    #[inline]
    fn label(&self, world: &mut World) -> u32 {
        match world.net.udp[self.socket].label {
            Some(label) => label,
            None => self.make_label(world),
        }
    }

    /// [`UdpSocket::label`]'s first call (out of line).
    #[cold]
    #[inline(never)]
    fn make_label(&self, world: &mut World) -> u32 {
        label_of(world, self.socket)
    }

    /// Records a network event on this socket. Inlined always (as
    /// `cx::record_net`'s closure is): a send's and a receive's hot path,
    /// which LLVM had left a call when the functions around it grew.
    #[inline(always)]
    fn record(&self, world: &mut World, op: NetOp, bytes: usize) {
        let socket = self.label(world);
        cx::record_net(op, socket, bytes.min(u32::MAX as usize) as u32);
    }

    /// Records a datagram sent here dropped on its way to socket `target`
    /// (a loss draw, a cut).
    #[cold]
    #[inline(never)]
    fn drop_sent(&self, world: &mut World, why: DropWhy, target: usize, bytes: usize) {
        let from = self.label(world);
        let to = label_of(world, target);
        record_drop(why, from, to, bytes);
    }

    /// Records a datagram sent here to `node:port`, where no UDP socket is
    /// bound.
    #[cold]
    #[inline(never)]
    fn drop_unbound(&self, world: &mut World, node: u32, port: u16, bytes: usize) {
        let from = self.label(world);
        let to = cx::intern_label(format!("{}:{port}", world.nodes[node as usize].name));
        record_drop(DropWhy::Unbound, from, to, bytes);
    }

    fn send_datagram<const BUDGETED: bool>(
        &self,
        buf: &[u8],
        target: Target<'_>,
    ) -> io::Result<usize> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = if BUDGETED {
            self.check_now_to_send(world)?
        } else {
            self.check_now(world)?
        };
        if buf.len() > MAX_DATAGRAM {
            return Err(too_long());
        }
        self.record(world, NetOp::Send, buf.len());
        let (from_node, from_port) = {
            let state = &world.net.udp[self.socket];
            (state.node, state.port)
        };
        let (to_node, to_port) = match target {
            Target::Host(host, port) => world.resolve_name(host, port, from_node as usize)?,
            Target::Ip(addr) => world.resolve_ip(addr, from_node as usize)?,
            Target::Address(address) => world.resolve(address, from_node as usize)?,
        };
        let to_node = to_node as u32;
        let Some(&target) = world.net.bound.get(&(to_node, Protocol::Udp, to_port)) else {
            self.drop_unbound(world, to_node, to_port, buf.len());
            return Ok(buf.len());
        };
        if world.net.is_cut(from_node, to_node) {
            let why = if world.net.cuts.contains(&(from_node, to_node)) {
                DropWhy::Partition
            } else {
                DropWhy::Isolated
            };
            self.drop_sent(world, why, target, buf.len());
            return Ok(buf.len());
        }
        let config = world.net.config(from_node, to_node);
        // Worded only when a loss or a duplicate is drawn.
        let nodes = &world.nodes;
        // A drop says the datagram's size; a duplicate's words are as they
        // were (they enter the hash of runs that drop nothing).
        let describe = |what: &str| {
            let size = if what == "dropped" {
                format!(" of {} bytes", buf.len())
            } else {
                String::new()
            };
            format!(
                "{what} a datagram{size} {}:{} -> {}:{}",
                nodes[from_node as usize].name, from_port, nodes[to_node as usize].name, to_port
            )
        };
        if from_node != to_node
            && World::chance(
                config.loss,
                "asyncsim::net datagram loss",
                FaultOp::Lost,
                || describe("dropped"),
            )
        {
            self.drop_sent(world, DropWhy::Lost, target, buf.len());
            return Ok(buf.len());
        }
        let copies = if from_node != to_node
            && World::chance(
                config.duplicate,
                "asyncsim::net datagram duplicate",
                FaultOp::Duplicated,
                || describe("duplicated"),
            ) {
            2
        } else {
            1
        };
        let way = (from_node, from_port, to_node, target);
        if world.net.udp_connected && world.net.udp[target].connected.is_some() {
            self.place_on_connected(world, buf, &config, copies, way, now);
        } else {
            self.place::<false>(world, buf, &config, copies, way, now);
        }
        Ok(buf.len())
    }

    /// [`UdpSocket::place`] to a connected socket, which keeps another
    /// peer's datagrams apart (out of line: the path to a socket never
    /// connected does not test for them).
    #[cold]
    #[inline(never)]
    fn place_on_connected(
        &self,
        world: &mut World,
        buf: &[u8],
        config: &NetConfig,
        copies: u32,
        way: (u32, u16, u32, usize),
        now: u64,
    ) {
        self.place::<true>(world, buf, config, copies, way, now);
    }

    /// Puts the `copies` of a datagram sent (`buf`) at `now` on their way
    /// (`way`: from node and port, to node and socket), each with its drawn
    /// latency; `CONNECTED`: that socket is connected (another peer's go to
    /// its strays).
    #[inline(always)]
    fn place<const CONNECTED: bool>(
        &self,
        world: &mut World,
        buf: &[u8],
        config: &NetConfig,
        copies: u32,
        way: (u32, u16, u32, usize),
        now: u64,
    ) {
        let (from_node, from_port, to_node, target) = way;
        for _ in 0..copies {
            let carried = Carried::Datagram {
                socket: self.socket as u32,
                port: from_port,
                bytes: buf.len(),
            };
            let latency = if from_node == to_node {
                world.latency(from_node, to_node, carried)
            } else {
                world.latency_on(config, from_node, to_node, carried)
            };
            let arrival_ns = now + latency;
            world.net.datagrams_sent += 1;
            let sequence = world.net.datagrams_sent;
            let state = &mut world.net.udp[target];
            let key = (arrival_ns, sequence);
            if CONNECTED
                && state.hold_if_stray(&world.nodes, from_node, from_port, buf, key, target, now)
            {
                continue;
            }
            // A short datagram's bytes are copied in once it is in the
            // list: built first and moved in, its bytes (stored a byte
            // run at a time) were read back in wide pieces (a stall).
            let inline = buf.len() <= INLINE;
            let data = if inline {
                Payload::Inline {
                    len: buf.len() as u8,
                    bytes: [0; INLINE],
                }
            } else {
                let mut data = state.spare.pop().unwrap_or_default();
                data.extend_from_slice(buf);
                Payload::Buffer(data)
            };
            let datagram = Datagram {
                from_node,
                from_port,
                data,
            };
            // Most arrive after every datagram on its way (one at a time,
            // or a latency no shorter than the last's).
            let position = if state.in_flight.back().is_none_or(|(last, _)| *last < key) {
                state.in_flight.push_back((key, datagram));
                state.in_flight.len() - 1
            } else {
                let position = state.in_flight.partition_point(|(other, _)| *other < key);
                state.in_flight.insert(position, (key, datagram));
                position
            };
            if inline {
                if let Some((
                    _,
                    Datagram {
                        data: Payload::Inline { bytes, .. },
                        ..
                    },
                )) = state.in_flight.get_mut(position)
                {
                    bytes[..buf.len()].copy_from_slice(buf);
                }
            }
            state.reader.due_at_from(arrival_ns, now);
            if state.in_flight.len() > state.capacity {
                state.watch(target, now);
            }
        }
    }

    /// Receives one datagram: its length (truncated to `buf`, as UDP
    /// does) and sender.
    pub fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + 'a {
        RecvFrom {
            waiting: super::Waiting::new(self),
            buf,
        }
    }

    /// Polls for a datagram (see [`UdpSocket::recv_from`]), under the
    /// task's cooperative budget (`task::coop`).
    #[inline]
    pub fn poll_recv_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.recv_from_now::<true>(context, buf)
    }

    /// [`UdpSocket::poll_recv_from`]; `BUDGETED` (a poll, not a `try_`
    /// form): a yield instead when the task's budget is spent (a datagram
    /// taken spends a unit, by its event).
    #[inline(always)]
    pub(super) fn recv_from_now<const BUDGETED: bool>(
        &self,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = if BUDGETED {
            std::task::ready!(self.check_now_budgeted(world, context))?
        } else {
            self.check_now(world)?
        };
        let nodes = &world.nodes;
        let state = &mut world.net.udp[self.socket];
        state.settle(now, nodes, &world.net.bound, self.socket);
        // Read in place: the datagram's bytes are copied out and its buffer
        // (if not inline) handed to the spares without moving the datagram.
        // Every buffered one is read, a connected socket's too: another
        // peer's never arrives to it, and those buffered before the connect
        // stay (as on Linux).
        let buffered = if state.arrived > 0 {
            state.in_flight.front_mut().map(|(_, datagram)| datagram)
        } else {
            None
        };
        match buffered {
            Some(datagram) => {
                let from =
                    SocketAddr::new(nodes[datagram.from_node as usize].ip, datagram.from_port);
                let data = datagram.data.as_slice();
                let count = data.len().min(buf.len());
                buf[..count].copy_from_slice(&data[..count]);
                UdpState::recycle(&mut state.spare, &mut datagram.data);
                state.arrived -= 1;
                state.in_flight.pop_front();
                state.reader.ready(context.waker());
                self.record(world, NetOp::Deliver, count);
                Poll::Ready(Ok((count, from)))
            }
            None => {
                let next = state.in_flight.get(state.arrived).map(|(key, _)| key.0);
                state.reader.park(context.waker(), next);
                let socket = self.label(world);
                cx::set_waiting_on(WaitOn::Socket {
                    op: SocketWait::Recv,
                    socket,
                });
                Poll::Pending
            }
        }
    }

    /// Sets the default peer, as Linux's `connect` on a UDP socket does:
    /// `send` goes there, and from now on only its datagrams arrive. Every
    /// other sender's datagram arriving from then on is dropped at its
    /// arrival (a `net drop` event, "its receiver is connected to another
    /// peer"): it takes no room in the receive buffer and no receive sees
    /// it. Those already in the receive buffer stay, whoever sent them, and
    /// are read as any other (`recv_from` tells their sender); those on
    /// their way are judged at their arrival. Connecting again changes the
    /// peer. `send_to` may still send anywhere (Linux allows it on a
    /// connected UDP socket).
    pub async fn connect<A: ToAddress>(&self, address: A) -> io::Result<()> {
        let address = address.to_address()?;
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let from = world.net.udp[self.socket].node as usize;
        let (node, port) = world.resolve(&address, from)?;
        let peer = world.socket_addr(node, port);
        world.net.udp_connected = true;
        let nodes = &world.nodes;
        let bound = &world.net.bound;
        let state = &mut world.net.udp[self.socket];
        // What arrived before now arrived to the socket as it was.
        state.settle(now, nodes, bound, self.socket);
        if !state.strays().is_empty() {
            state.drop_strays(now, nodes, bound, self.socket);
        }
        match &mut state.connected {
            Some(connected) => connected.peer = peer,
            None => {
                state.connected = Some(Box::new(Connected {
                    peer,
                    strays: Vec::new(),
                }))
            }
        }
        if state.in_flight.len() > state.arrived || !state.strays().is_empty() {
            state.sort_on_the_way(nodes);
            let next = state.in_flight.get(state.arrived).map(|(key, _)| key.0);
            state.reader.retime(next, now);
            state.watch(self.socket, now);
        }
        Ok(())
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let peer = self.world.borrow().net.udp[self.socket].peer();
        match peer {
            Some(peer) => {
                let target = Address::Ip(peer);
                std::future::poll_fn(|context| {
                    let sent = self.send_datagram::<true>(buf, Target::Address(&target));
                    budget_yield_if_spent(sent, context)
                })
                .await
            }
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "UdpSocket::send before connect",
            )),
        }
    }

    /// Receives the next datagram buffered, as `recv_from` does, without
    /// its sender. Connected, that is the peer's (one buffered before the
    /// connect may be another sender's, as on Linux; `recv_from` names
    /// it); not connected, anyone's: Linux's `recv(2)` on an unconnected
    /// UDP socket reads from any sender, so `recv` before `connect` is no
    /// error (only `send` is).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_from(buf).await.map(|(len, _)| len)
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        let state = &world.net.udp[self.socket];
        Ok(world.socket_addr(state.node as usize, state.port))
    }

    /// Sets how many datagrams the receive buffer holds; more arriving are
    /// dropped, each a `net drop` event at its arrival (whether or not the
    /// socket is read again).
    pub fn set_recv_buffer(&self, datagrams: usize) {
        let mut world = self.world.borrow_mut();
        let state = &mut world.net.udp[self.socket];
        state.capacity = datagrams;
        if state.open && state.in_flight.len() > datagrams {
            let now = cx::now_ns("asyncsim::net::UdpSocket::set_recv_buffer");
            state.watch(self.socket, now);
        }
    }

    /// How many datagrams arrived to a full buffer and were dropped (each
    /// is in the trace too, a `net drop` line saying so).
    pub fn dropped_full(&self) -> u64 {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = cx::now_ns("asyncsim::net::UdpSocket::dropped_full");
        let state = &mut world.net.udp[self.socket];
        state.settle(now, &world.nodes, &world.net.bound, self.socket);
        state.dropped_full
    }
}

/// UDP socket `socket`'s trace label ([`UdpState::label`]).
fn label_of(world: &mut World, socket: usize) -> u32 {
    world.net.udp[socket].label(socket, &world.nodes)
}

/// Records a dropped datagram ([`EventKind::NetDrop`]): why, its sender's
/// and its destination's labels, its size. Words are made when rendering.
fn record_drop(why: DropWhy, from: u32, to: u32, bytes: usize) {
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

/// Dropping the socket closes it: its port is free again, and the
/// datagrams it held (buffered or on their way) are lost, each a `net drop`
/// event ("its receiving socket was closed") at the step boundary after
/// the drop. A socket dropped as the run ends (with the main future's
/// locals, or a pending task's) records nothing.
impl Drop for UdpSocket {
    fn drop(&mut self) {
        self.close_socket();
    }
}

impl UdpSocket {
    /// Dropped: unbound, its datagrams gone.
    fn close_socket(&mut self) {
        let Ok(mut world) = self.world.try_borrow_mut() else {
            return;
        };
        let world = &mut *world;
        let state = &mut world.net.udp[self.socket];
        if !state.open {
            return;
        }
        state.open = false;
        if !state.strays().is_empty() {
            if let Some(now) = cx::now_in_run(world.run_id) {
                // Those arrived already were dropped then, the socket open.
                state.drop_strays(now, &world.nodes, &world.net.bound, self.socket);
            }
        }
        let lost = state.clear();
        let key = (state.node, Protocol::Udp, state.port);
        // The sender's label names the socket bound at its address at the
        // boundary (it may close meanwhile: then the address).
        if !lost.is_empty() && same_run(world.run_id) {
            let (world_rc, socket) = (self.world.clone(), self.socket);
            cx::at_step_boundary(Box::new(move || {
                let mut world = world_rc.borrow_mut();
                record_lost(&mut world, socket, DropWhy::Closed, &lost);
            }));
        }
        if world.net.bound.get(&key) == Some(&self.socket) {
            world.net.bound.remove(&key);
        }
    }
}

impl std::fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local_addr() {
            Ok(addr) => write!(f, "UdpSocket({addr})"),
            Err(_) => f.write_str("UdpSocket"),
        }
    }
}

impl super::Waitable for UdpSocket {
    fn leave_waiters(&self, key: super::WaiterKey) {
        let socket = self.socket;
        super::leave_side(&self.world, |world| &mut world.net.udp[socket].reader, key);
    }
}
