//! UDP on the simulated network: each datagram may be delayed, reordered,
//! lost or duplicated, each a draw.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::ReadBuf;

use super::ToSocketAddrs;
use crate::registry::{self, LocalFuture};

/// A UDP socket on the calling task's node.
pub struct UdpSocket {
    key: u64,
}

/// Polls a future of the world once, in place: for the world's socket
/// operations that complete at once or are pure polls (they keep no state
/// between polls, so a fresh future each poll is the same future).
fn poll_now<F: Future>(future: F, context: &mut Context<'_>) -> Poll<F::Output> {
    pin!(future).poll(context)
}

impl UdpSocket {
    /// Binds on the calling task's node.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when the port is taken.
    pub async fn bind<A: ToSocketAddrs>(address: A) -> io::Result<UdpSocket> {
        let address = address.to_sim_address()?;
        LocalFuture::new(async move {
            asyncsim::net::UdpSocket::bind(address)
                .await
                .map(|socket| UdpSocket {
                    key: registry::insert(Rc::new(socket)),
                })
        })
        .await
    }

    fn socket(&self) -> Rc<asyncsim::net::UdpSocket> {
        registry::get(self.key).unwrap_or_else(|| registry::foreign("a tokio::net::UdpSocket"))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket().local_addr()
    }

    /// Sets the default peer: `send` goes there, `recv` takes only its
    /// datagrams.
    pub async fn connect<A: ToSocketAddrs>(&self, address: A) -> io::Result<()> {
        let address = address.to_sim_address()?;
        poll_fn(|context| poll_now(self.socket().connect(address.clone()), context)).await
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|context| poll_now(self.socket().send(buf), context)).await
    }

    /// Receives one datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|context| poll_now(self.socket().recv(buf), context)).await
    }

    /// Sends one datagram to `target`.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let address = target.to_sim_address()?;
        poll_fn(|context| poll_now(self.socket().send_to(buf, address.clone()), context)).await
    }

    /// Receives one datagram: its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|context| self.socket().poll_recv_from(context, buf)).await
    }

    /// Polls for one datagram into `buf`; its sender.
    pub fn poll_recv_from(
        &self,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let unfilled = buf.initialize_unfilled();
        match self.socket().poll_recv_from(context, unfilled) {
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
        poll_now(self.socket().send_to(buf, target), context)
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        registry::remove(self.key);
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match registry::get::<asyncsim::net::UdpSocket>(self.key) {
            Some(socket) => socket.fmt(f),
            None => f.debug_struct("UdpSocket").finish_non_exhaustive(),
        }
    }
}
