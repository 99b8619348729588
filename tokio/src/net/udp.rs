//! UDP on the simulated network: each datagram may be delayed, reordered,
//! lost or duplicated, each a draw.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use asyncsim::net::Detached;
use tokio::io::ReadBuf;

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

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.with(|socket| socket.local_addr())?
    }

    /// Sets the default peer: `send` goes there, `recv` takes only its
    /// datagrams.
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

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|context| {
            flatten(
                self.socket
                    .with(|socket| poll_now(socket.recv(&mut *buf), context)),
            )
        })
        .await
    }

    /// Sends one datagram to `target` (it never waits).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        self.socket.send_to(buf, Resolve(&target))
    }

    /// Receives one datagram: its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|context| self.socket.poll_recv_from(context, &mut *buf)).await
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
        _context: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.socket.send_to(buf, target))
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.socket.fmt(f)
    }
}
