//! A socket's receive buffer looked at without waiting or without taking:
//! `peek_from` (std's and tokio's name: the datagram stays to be received
//! again), `try_recv_from` (a receive that never waits: `WouldBlock`
//! instead), receive readiness (tokio's `readable`), and `peer_addr`.
//! Written apart from the receive itself, which stays as it is (the hot
//! path); a receive that does happen here is that very receive, with its
//! step and its trace event.

use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::{UdpSocket, UdpState};
use crate::trace::{SocketWait, WaitOn};
use crate::world::net::noop_context;
use crate::world::{cx, World};

impl UdpSocket {
    /// Polls for a datagram as [`UdpSocket::poll_recv_from`] does, but
    /// leaves it in the receive buffer: the next receive (or peek) gets it
    /// again. Copies what fits of it into `buf` (truncated, as a receive
    /// is); ready with the count copied and its sender. Records nothing in
    /// the trace (nothing was delivered).
    ///
    /// # Errors
    ///
    /// As a receive: a socket of another run, closed or of a crashed node.
    pub fn poll_peek_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        // Under the task's budget, as a receive: a yield when it is spent,
        // and a unit spent when the peek completes (it has no event).
        std::task::ready!(crate::world::net::poll_budget(context));
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let front = self.front(world, Some(context));
        let peeked = match front {
            Ok(()) => match self.peek_front(world, buf) {
                Some(peeked) => Ok(peeked),
                None => return Poll::Pending,
            },
            Err(error) => Err(error),
        };
        cx::spend_on_completion();
        Poll::Ready(peeked)
    }

    /// Peeks at the datagram at the front of the receive buffer, without
    /// waiting: as [`UdpSocket::poll_peek_from`], or `WouldBlock` when it
    /// would wait.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram has arrived; otherwise as a receive.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.front(world, None)?;
        self.peek_front(world, buf)
            .ok_or_else(|| io::ErrorKind::WouldBlock.into())
    }

    /// Receives the datagram at the front of the receive buffer, without
    /// waiting: the receive [`UdpSocket::poll_recv_from`] makes (its step,
    /// its `net deliver` event), or `WouldBlock` when it would wait.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram has arrived; otherwise as a receive.
    ///
    /// ```
    /// use asyncsim_sim::net::UdpSocket;
    /// use asyncsim_sim::{Config, Sim};
    /// use std::future::poll_fn;
    ///
    /// let run = Sim::new(Config::new()).run(async {
    ///     let a = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
    ///     let b = UdpSocket::bind("0.0.0.0:5001").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let early = b.try_recv_from(&mut buf).unwrap_err().kind();
    ///     a.send_to(b"hi", "127.0.0.1:5001").await.unwrap();
    ///     poll_fn(|context| b.poll_recv_ready(context)).await.unwrap();
    ///     let (peeked, _) = b.try_peek_from(&mut buf).unwrap();
    ///     let (received, from) = b.try_recv_from(&mut buf).unwrap();
    ///     (early, peeked, received, from.port())
    /// });
    /// assert_eq!(run.result.unwrap(), (std::io::ErrorKind::WouldBlock, 2, 2, 5000));
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        {
            let mut world = self.world.borrow_mut();
            let world = &mut *world;
            self.front(world, None)?;
            if world.net.udp[self.socket].arrived == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
        }
        // A datagram is there: the receive does not wait, so the context's
        // waker is never kept.
        match self.recv_from_now::<false>(&mut noop_context(), buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Polls until a receive would not wait (a datagram has arrived).
    /// Waits as a receive does.
    ///
    /// Under the cooperative budget as tokio's `poll_recv_ready` is:
    /// yields instead when the task's budget is spent, and spends a unit
    /// when ready (a loop of it alone yields).
    ///
    /// # Errors
    ///
    /// A socket of another run, closed or of a crashed node.
    pub fn poll_recv_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let ready = self.poll_recv_readiness(context);
        if let Poll::Ready(Ok(())) = ready {
            cx::spend_on_completion();
        }
        ready
    }

    /// [`UdpSocket::poll_recv_ready`] spending nothing (the tokio face's
    /// `readable`, whose wait spends nothing on tokio either): it yields
    /// first when the task's budget is spent (the `try_` receive after it
    /// spends the unit), so a loop of it and a `try_` receive yields.
    ///
    /// # Errors
    ///
    /// A socket of another run, closed or of a crashed node.
    #[doc(hidden)]
    pub fn poll_recv_readiness(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(crate::world::net::poll_budget(context));
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.front(world, Some(context))?;
        if world.net.udp[self.socket].arrived > 0 {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    /// Polls for an error on the socket (the tokio face's
    /// `ready(Interest::ERROR)`): never ready, since the simulated network
    /// sends no ICMP errors, so nothing is parked; the task is said to wait
    /// for it (`SocketWait::Error`), which a deadlock report names.
    ///
    /// # Errors
    ///
    /// A socket of another run, closed or of a crashed node.
    #[doc(hidden)]
    pub fn poll_error(&self, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check_now(world)?;
        let socket = self.label(world);
        cx::set_waiting_on(WaitOn::Socket {
            op: SocketWait::Error,
            socket,
        });
        Poll::Pending
    }

    /// The connected peer's address (see [`UdpSocket::connect`]).
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`, as on Linux.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        self.check_now(&world)?;
        world.net.udp[self.socket].peer().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "UdpSocket::peer_addr before connect",
            )
        })
    }

    /// Settles the receive buffer; then, when nothing is there and a
    /// `context` is given, parks as a receive parks. What is at the front
    /// (if anything) is the next receive's (every buffered datagram is:
    /// another peer's than a connected socket's never arrives).
    fn front(&self, world: &mut World, context: Option<&mut Context<'_>>) -> io::Result<()> {
        let now = self.check_now(world)?;
        let nodes = &world.nodes;
        let state = &mut world.net.udp[self.socket];
        state.settle(now, nodes, &world.net.bound, self.socket);
        if state.arrived > 0 {
            state.reader.ready_by(context.as_deref());
            return Ok(());
        }
        if let Some(context) = context {
            // Parked as the receive parks, in a copy of its lines: a helper
            // both called indexed the socket again (callgrind `profile udp`
            // +0.15 %).
            let next = state.in_flight.get(state.arrived).map(|(key, _)| key.0);
            state.reader.park(context.waker(), next);
            let socket = self.label(world);
            cx::set_waiting_on(WaitOn::Socket {
                op: SocketWait::Recv,
                socket,
            });
        }
        Ok(())
    }

    /// The datagram at the front of a settled buffer, copied (what fits)
    /// into `buf` and left there: the count copied and its sender.
    fn peek_front(&self, world: &World, buf: &mut [u8]) -> Option<(usize, SocketAddr)> {
        let state: &UdpState = &world.net.udp[self.socket];
        if state.arrived == 0 {
            return None;
        }
        let (_, datagram) = &state.in_flight[0];
        let from = SocketAddr::new(
            world.nodes[datagram.from_node as usize].ip,
            datagram.from_port,
        );
        let data = datagram.data.as_slice();
        let count = data.len().min(buf.len());
        buf[..count].copy_from_slice(&data[..count]);
        Some((count, from))
    }
}
