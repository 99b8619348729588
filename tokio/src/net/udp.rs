//! UDP on the simulated network: each datagram may be delayed, reordered,
//! lost or duplicated, each a draw.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use std::net::{Ipv4Addr, Ipv6Addr};

use asyncsim::net::Detached;
use bytes::BufMut;
use tokio::io::ReadBuf;
// (`Interest` and `Ready` are tokio's with its `net` feature.)
#[cfg(feature = "net")]
use tokio::io::{Interest, Ready};

use super::{flatten, poll_now, Resolve, ToSocketAddrs};

/// A UDP socket on the calling task's node.
pub struct UdpSocket {
    socket: Detached<asyncsim::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds on the calling task's node.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when the port is taken.
    pub async fn bind<A: ToSocketAddrs>(address: A) -> io::Result<UdpSocket> {
        let address = address.to_sim_address()?;
        // Binding waits for nothing: the world's future is ready at once.
        let socket =
            poll_fn(|context| poll_now(asyncsim::net::UdpSocket::bind(address.clone()), context))
                .await?;
        Ok(UdpSocket {
            socket: Detached::new(socket),
        })
    }

    /// [`UdpSocket::bind`], for `UnixDatagram::bind` (not `async`).
    #[cfg(all(unix, feature = "net"))]
    pub(super) fn bind_now(address: SocketAddr) -> io::Result<UdpSocket> {
        let socket = super::ready_now(asyncsim::net::UdpSocket::bind(address))?;
        Ok(UdpSocket {
            socket: Detached::new(socket),
        })
    }

    /// [`UdpSocket::connect`], for `UnixDatagram::connect` (not `async`).
    #[cfg(all(unix, feature = "net"))]
    pub(super) fn connect_now(&self, address: SocketAddr) -> io::Result<()> {
        self.socket
            .with(|socket| super::ready_now(socket.connect(address)))?
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.with(|socket| socket.local_addr())?
    }

    /// Sets the default peer, as Linux's `connect` does: `send` goes there,
    /// and from then on only its datagrams arrive (another sender's is
    /// dropped at its arrival, a `net drop` in the trace). Those already
    /// buffered stay and are received first, whoever sent them.
    pub async fn connect<A: ToSocketAddrs>(&self, address: A) -> io::Result<()> {
        poll_fn(|context| {
            flatten(
                self.socket
                    .with(|socket| poll_now(socket.connect(Resolve(&address)), context)),
            )
        })
        .await
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|context| {
            flatten(
                self.socket
                    .with(|socket| poll_now(socket.send(buf), context)),
            )
        })
        .await
    }

    /// Receives one datagram: the connected peer's, or (not connected)
    /// anyone's, as Linux's `recv(2)` does.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // The world's receive polled in place (its `recv` future, made anew
        // each poll, would leave the socket's waiters as it is dropped).
        super::wait_on(self, |context| {
            self.socket
                .poll_recv_from(context, &mut *buf)
                .map_ok(|(length, _)| length)
        })
        .await
    }

    /// Sends one datagram to `target` (it never waits).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        // Each send spends a unit of the task's budget (a loop of them
        // yields, as on tokio).
        poll_fn(|context| self.socket.poll_send_to(context, buf, Resolve(&target))).await
    }

    /// Receives one datagram: its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        super::wait_on(self, |context| {
            self.socket.poll_recv_from(context, &mut *buf)
        })
        .await
    }

    /// Polls for one datagram into `buf`; its sender.
    pub fn poll_recv_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let unfilled = buf.initialize_unfilled();
        match self.socket.poll_recv_from(context, unfilled) {
            Poll::Ready(Ok((length, from))) => {
                buf.advance(length);
                Poll::Ready(Ok(from))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Polls to send one datagram to `target` (it never waits).
    pub fn poll_send_to(
        &self,
        context: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.socket.poll_send_to(context, buf, target)
    }
}

/// Readiness, `peek`, the `try_` and `poll_` forms, `BufMut` receives and
/// the socket options (tokio's names). A send never waits here, so a
/// socket is always writable; it is readable when a receive would not wait.
/// The connected forms' sends (`send`, `try_send`, `poll_send`) are
/// `NotConnected` errors before `connect` (Linux's `EDESTADDRREQ`, which
/// `std::io` cannot name); their receives (`recv`, `peek`, `try_recv`,
/// `poll_recv`, `recv_buf`, …) take the next datagram from any sender, as
/// Linux's `recv(2)` on an unconnected socket does.
impl UdpSocket {
    /// The connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.with(|socket| socket.peer_addr())?
    }

    /// Polls for one datagram (the connected peer's, or anyone's when not
    /// connected) into `buf`'s unfilled part (truncated to fit).
    pub fn poll_recv(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_recv_from(context, buf).map_ok(|_| ())
    }

    /// Polls to send one datagram to the connected peer (it never waits).
    pub fn poll_send(&self, context: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // The send's own poll: it spends the unit (`try_send` would spend
        // one more, after a unit of this poll's).
        match self.peer_addr() {
            Ok(peer) => self.socket.poll_send_to(context, buf, peer),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    /// Receives one datagram (as `recv`) into a `BufMut`'s next chunk
    /// (truncated to fit), advancing it.
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.recv_buf_from(buf).await.map(|(length, _)| length)
    }

    /// Receives one datagram into a `BufMut`'s next chunk (truncated to
    /// fit), advancing it: its length and sender.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let mut chunk = vec![0; buf.chunk_mut().len()];
        let (length, from) = self.recv_from(&mut chunk).await?;
        buf.put_slice(&chunk[..length]);
        Ok((length, from))
    }

    /// Receives one datagram (as `recv`) without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_recv_from(buf).map(|(length, _)| length)
    }

    /// Receives one datagram without waiting: its length and sender.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.socket.with(|socket| socket.try_recv_from(buf))?
    }

    /// [`try_recv`](Self::try_recv) into a `BufMut`'s next chunk.
    ///
    /// # Errors
    ///
    /// As `try_recv`.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.try_recv_buf_from(buf).map(|(length, _)| length)
    }

    /// [`try_recv_from`](Self::try_recv_from) into a `BufMut`'s next chunk.
    ///
    /// # Errors
    ///
    /// As `try_recv_from`.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        let mut chunk = vec![0; buf.chunk_mut().len()];
        let (length, from) = self.try_recv_from(&mut chunk)?;
        buf.put_slice(&chunk[..length]);
        Ok((length, from))
    }

    /// Sends one datagram to the connected peer (it never waits).
    ///
    /// # Errors
    ///
    /// `NotConnected` before `connect`; as `send_to`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let peer = self.peer_addr()?;
        self.socket.send_to(buf, peer)
    }

    /// Sends one datagram to `target` (it never waits).
    ///
    /// # Errors
    ///
    /// As `send_to`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.socket.send_to(buf, target)
    }

    /// Waits for a datagram (as `recv`) and copies it into `buf` without
    /// taking it: the next receive gets it again.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.peek_from(buf).await.map(|(length, _)| length)
    }

    /// Waits for a datagram and copies it into `buf` without taking it:
    /// its length (truncated to `buf`) and sender.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        super::wait_on(self, |context| {
            flatten(
                self.socket
                    .with(|socket| socket.poll_peek_from(context, &mut *buf)),
            )
        })
        .await
    }

    /// Waits for a datagram and returns its sender, leaving it to be
    /// received.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        super::wait_on(self, |context| self.poll_peek_sender(context)).await
    }

    /// Polls for a datagram to peek at (see `peek`), into `buf`'s
    /// unfilled part.
    pub fn poll_peek(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_peek_from(context, buf).map_ok(|_| ())
    }

    /// Polls for a datagram to peek at (see `peek_from`), into `buf`'s
    /// unfilled part: its sender.
    pub fn poll_peek_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let unfilled = buf.initialize_unfilled();
        match flatten(
            self.socket
                .with(|socket| socket.poll_peek_from(context, unfilled)),
        ) {
            Poll::Ready(Ok((length, from))) => {
                buf.advance(length);
                Poll::Ready(Ok(from))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Polls for a datagram's sender (see `peek_sender`).
    pub fn poll_peek_sender(&self, context: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        flatten(
            self.socket
                .with(|socket| socket.poll_peek_from(context, &mut [])),
        )
        .map_ok(|(_, from)| from)
    }

    /// Peeks at a datagram (as `peek`) without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_peek_from(buf).map(|(length, _)| length)
    }

    /// Peeks at a datagram without waiting: its length and sender.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.socket.with(|socket| socket.try_peek_from(buf))?
    }

    /// The next datagram's sender, without waiting.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when none has arrived.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.try_peek_from(&mut []).map(|(_, from)| from)
    }

    /// Polls until a receive would not wait (a datagram has arrived). As
    /// tokio's, it spends a unit of the task's budget when ready
    /// (`readable` does not), and yields when the budget is spent.
    pub fn poll_recv_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        flatten(self.socket.with(|socket| socket.poll_recv_ready(context)))
    }

    /// `poll_recv_ready` spending nothing (`readable`'s wait, as tokio's),
    /// but a yield first when the task's budget is spent, so a loop of it
    /// and `try_recv` (which spends) yields.
    pub(crate) fn poll_recv_readiness(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        flatten(
            self.socket
                .with(|socket| socket.poll_recv_readiness(context)),
        )
    }

    /// Ready at once: a send never waits on the simulated network. As
    /// tokio's, it spends a unit of the task's budget (`writable` does
    /// not), and yields when the budget is spent.
    pub fn poll_send_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Not `coop::poll_cooperative`, which keeps the unit for an error
        // too: tokio's readiness (`Registration::poll_ready`) gives it back
        // when it fails (its one error: the runtime shut down), and so does
        // this one (its one error: the socket used off its run's thread).
        // Nor `poll_send_readiness`: its look would take a second unit,
        // and with one left it yielded a unit early.
        let coop = std::task::ready!(asyncsim::task::coop::poll_proceed(context));
        let ready = self.socket.with(|_| ());
        if ready.is_ok() {
            coop.made_progress();
        }
        Poll::Ready(ready)
    }

    /// `poll_send_ready` spending nothing (`writable`'s wait): ready at
    /// once, but a yield first when the task's budget is spent, so a loop
    /// of it and `try_send` (which spends) yields.
    pub(crate) fn poll_send_readiness(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(crate::coop::look_at_budget(context));
        Poll::Ready(self.socket.with(|_| ()))
    }

    /// Waits until a receive would not wait (a datagram has arrived).
    pub async fn readable(&self) -> io::Result<()> {
        super::wait_on(self, |context| self.poll_recv_readiness(context)).await
    }

    /// Ready at once: a send never waits on the simulated network (a yield
    /// first when the task's budget is spent, so a loop of it and
    /// `try_send` yields).
    pub async fn writable(&self) -> io::Result<()> {
        std::future::poll_fn(|context| self.poll_send_readiness(context)).await
    }

    /// Waits for any of `interest`: writable is ready at once, readable
    /// when a datagram has arrived. `ERROR` or `PRIORITY` alone is never
    /// ready, as on Linux for a UDP socket with no error pending: the
    /// simulated network sends no ICMP errors and no out-of-band data.
    #[cfg(feature = "net")]
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        if interest.is_writable() {
            self.writable().await?;
            let mut ready = Ready::WRITABLE;
            // A look that parks nothing: a task waiting to receive
            // elsewhere stays the one woken.
            if interest.is_readable() {
                match self.try_peek_from(&mut []) {
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    _ => ready |= Ready::READABLE,
                }
            }
            return Ok(ready);
        }
        if interest.is_readable() {
            self.readable().await?;
            return Ok(Ready::READABLE);
        }
        if interest.is_error() {
            // Never ready; a deadlock report names the wait ("an error on
            // UdpSocket#0 (main:9000)").
            return std::future::poll_fn(|context| {
                super::flatten(self.socket.with(|socket| socket.poll_error(context)))
            })
            .await
            .map(|()| Ready::ERROR);
        }
        std::future::pending().await
    }

    /// Always `Ok(None)`: errors come to the socket's operations.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.socket.with(|_| None)
    }

    /// Accepted; a simulated datagram has no TTL.
    pub fn set_ttl(&self, _ttl: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 64 (Linux's default).
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(64)
    }

    /// Accepted; the simulated network has no broadcast address.
    pub fn set_broadcast(&self, _on: bool) -> io::Result<()> {
        Ok(())
    }

    /// Always false.
    pub fn broadcast(&self) -> io::Result<bool> {
        Ok(false)
    }

    /// Accepted; the simulated network has no multicast.
    pub fn set_multicast_loop_v4(&self, _on: bool) -> io::Result<()> {
        Ok(())
    }

    /// Always true (Linux's default).
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        Ok(true)
    }

    /// Accepted; the simulated network has no multicast.
    pub fn set_multicast_ttl_v4(&self, _ttl: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 1 (Linux's default).
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        Ok(1)
    }

    /// Accepted; the simulated network has no multicast.
    pub fn set_multicast_loop_v6(&self, _on: bool) -> io::Result<()> {
        Ok(())
    }

    /// Always true (Linux's default).
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        Ok(true)
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub fn join_multicast_v4(&self, _group: Ipv4Addr, _interface: Ipv4Addr) -> io::Result<()> {
        Err(no_multicast())
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub fn join_multicast_v6(&self, _group: &Ipv6Addr, _interface: u32) -> io::Result<()> {
        Err(no_multicast())
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub fn leave_multicast_v4(&self, _group: Ipv4Addr, _interface: Ipv4Addr) -> io::Result<()> {
        Err(no_multicast())
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub fn leave_multicast_v6(&self, _group: &Ipv6Addr, _interface: u32) -> io::Result<()> {
        Err(no_multicast())
    }

    /// Accepted; the type of service is not modelled.
    pub fn set_tos_v4(&self, _tos: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 0.
    pub fn tos_v4(&self) -> io::Result<u32> {
        Ok(0)
    }

    /// Accepted; the traffic class is not modelled.
    pub fn set_tclass_v6(&self, _tclass: u32) -> io::Result<()> {
        Ok(())
    }

    /// Always 0.
    pub fn tclass_v6(&self) -> io::Result<u32> {
        Ok(0)
    }

    /// Accepted; a node has one interface.
    pub fn bind_device(&self, _interface: Option<&[u8]>) -> io::Result<()> {
        Ok(())
    }

    /// Always `None`.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

fn no_multicast() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "multicast cannot be simulated: the simulated network has no groups. Send to each \
         member node's address (\"node:port\") instead, or keep multicast out of the simulated test",
    )
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.socket.fmt(f)
    }
}

impl asyncsim::net::Waitable for UdpSocket {
    fn leave_waiters(&self, key: asyncsim::net::WaiterKey) {
        self.socket.leave_waiters(key);
    }
}
