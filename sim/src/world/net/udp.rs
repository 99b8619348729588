//! UDP: independent datagrams, each with a drawn latency (so they may
//! reorder), a weighted loss and duplication draw, and a receive buffer
//! that drops what does not fit, every drop a trace event saying why (when
//! each is recorded: `buffer.rs`'s doc).
//!
//! Its rooms: this file is the socket (`UdpSocket`: `bind`, the look at
//! the run every operation starts with, the receive, `connect`, the close);
//! `send.rs` a datagram sent (its address resolved, the drops at the send,
//! its drawn copies put on their way); `buffer.rs` a socket's datagrams
//! (`UdpState`: one list sorted by arrival whose front is the receive
//! buffer, a connected socket's strays, the call that watches a buffer that
//! may fill, the drops and their words); `peek.rs` the buffer looked at
//! without taking or without waiting (receive readiness, `peek_from`,
//! `try_recv_from`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

mod buffer;
mod peek;
mod send;

pub(crate) use buffer::{crash_node, socket_waits, UdpState};
use buffer::{label_of, record_lost, Connected};

use super::{Protocol, ToAddress};
use crate::trace::{DropWhy, NetOp, SocketWait, WaitOn};
use crate::world::{cx, same_run, world, World, WorldRc};

/// [`UdpSocket::recv_from`]'s future (not an `async fn`, as `send_to`'s);
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

/// What a budgeted operation returns in place of sending or receiving when
/// its task's cooperative budget is spent (no check returns `WouldBlock`
/// otherwise, and a send never waits); its poll turns it into a yield.
#[inline(always)]
fn budget_spent() -> io::Error {
    io::ErrorKind::WouldBlock.into()
}

/// A budgeted operation's result as its poll's: [`budget_spent`]'s error
/// is a yield (the task woken through `context`, `Pending`).
#[inline(always)]
pub(super) fn budget_yield_if_spent<T>(
    sent: io::Result<T>,
    context: &Context<'_>,
) -> Poll<io::Result<T>> {
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
            world
                .net
                .udp
                .push(UdpState::new(node as u32, incarnation, port));
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

    /// [`UdpSocket::check_now`] for an operation under the cooperative
    /// budget (a send, a receive's poll), in the same look at the run:
    /// [`budget_spent`]'s error when the task has no unit left, which the
    /// operation's poll turns into a yield ([`budget_yield_if_spent`]).
    #[inline(always)]
    fn check_now_budgeted(&self, world: &World) -> io::Result<u64> {
        let state = &world.net.udp[self.socket];
        match cx::now_in_run_checking(world.run_id) {
            Some(Ok(now)) if world.alive(state.node as usize, state.incarnation) && state.open => {
                Ok(now)
            }
            Some(Err(cx::BudgetSpent)) => Err(budget_spent()),
            _ => Err(self.unusable(world)),
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
            std::task::ready!(budget_yield_if_spent(
                self.check_now_budgeted(world),
                context
            ))?
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
