//! TCP listeners: binding a port, the backlog of connections whose SYN
//! arrived, and accepting them.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{foreign, node_crashed, pipe, TcpStream, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};
use crate::cx::NodeId;
use crate::trace::{DropWhy, NetOp, SocketWait, WaitOn};
use crate::world::net::{Parked, Protocol, ToAddress, Waiting};
use crate::world::{cx, same_run, world, WorldRc};
use crate::world::{push_decimal, WordsKey, WORDS_LISTENER};

/// A listener's state.
pub(crate) struct ListenerState {
    pub(super) node: u32,
    pub(super) incarnation: NodeId,
    pub(super) port: u16,
    /// Connections whose SYN arrives at `.0`, in arrival order.
    pub(super) backlog: VecDeque<(u64, usize)>,
    pub(super) acceptor: Parked,
    pub(super) open: bool,
    /// The interned trace label, made when first needed.
    pub(super) label: Option<u32>,
    /// The send and receive buffer of the streams it accepts (`SO_SNDBUF`,
    /// `SO_RCVBUF` as `getsockopt` says: an accepted socket inherits its
    /// listener's).
    pub(crate) buffers: [u32; 2],
    /// The `SO_LINGER` of the streams it accepts, in nanoseconds
    /// (`u64::MAX`: off), inherited as Linux's accepted sockets inherit it.
    pub(crate) linger_ns: u64,
}

/// A TCP socket listening for connections on its node.
///
/// ```
/// use asyncsim_sim::{net, node, Config, Sim};
/// use futures::{AsyncReadExt, AsyncWriteExt};
///
/// let run = Sim::new(Config::new()).run(async {
///     node::Builder::new("server").start(|| async {
///         let listener = net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut word = [0u8; 4];
///         stream.read_exact(&mut word).await.unwrap();
///         stream.write_all(&word).await.unwrap();
///     });
///     asyncsim_sim::time::sleep(std::time::Duration::from_millis(1)).await; // let it bind
///     let mut stream = net::TcpStream::connect("server:7000").await.unwrap();
///     stream.write_all(b"ping").await.unwrap();
///     let mut echo = [0u8; 4];
///     stream.read_exact(&mut echo).await.unwrap();
///     echo
/// });
/// assert_eq!(&run.result.unwrap(), b"ping");
/// ```
pub struct TcpListener {
    pub(super) world: WorldRc,
    pub(super) listener: usize,
}

impl TcpListener {
    /// Binds a listener on the calling task's node. `"0.0.0.0:7000"`,
    /// `"127.0.0.1:7000"`, the node's name or IP; port 0 picks a free one.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when the port is taken, `AddrNotAvailable` for another
    /// node's address.
    pub async fn bind<A: ToAddress>(address: A) -> io::Result<TcpListener> {
        let address = address.to_address()?;
        let world_rc = world("asyncsim::net::TcpListener::bind");
        let listener = {
            let mut world = world_rc.borrow_mut();
            let (node, incarnation) = world.current();
            if !world.alive(node, incarnation) {
                return Err(world.crashed_here(node, "asyncsim::net::TcpListener::bind"));
            }
            let port = world.bind_port(&address, node)?;
            let index = world.net.listeners.len();
            let port = world.claim_port(node, Protocol::Tcp, port, index)?;
            // Filled in place (every field named); its backlog is empty
            // and its acceptor as new.
            let ListenerState {
                node: at_node,
                incarnation: at_incarnation,
                port: at_port,
                backlog: _,
                acceptor: _,
                open,
                label,
                buffers,
                linger_ns,
            } = world.net.listeners.open();
            *at_node = node as u32;
            *at_incarnation = incarnation;
            *at_port = port;
            *open = true;
            *label = None;
            *buffers = [DEFAULT_SEND_BUFFER, DEFAULT_RECV_BUFFER];
            *linger_ns = u64::MAX;
            index
        };
        Ok(TcpListener {
            world: world_rc,
            listener,
        })
    }

    /// Waits for the next connection: the stream and the peer's address.
    /// Several tasks may wait at once (each woken at a connection's
    /// arrival, in the order they began to wait; each connection goes to
    /// one); one whose future is dropped while it waits leaves the line.
    pub fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + '_ {
        Accept {
            waiting: Waiting::new(self),
        }
    }

    /// Polls for the next connection (see [`TcpListener::accept`]).
    pub fn poll_accept(
        &self,
        context: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        // Under the task's cooperative budget (an accept's event spends it).
        std::task::ready!(crate::world::net::poll_budget(context));
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        if !same_run(world.run_id) {
            return Poll::Ready(Err(foreign("TcpListener")));
        }
        let state = &world.net.listeners[self.listener];
        let node = state.node as usize;
        if !world.alive(node, state.incarnation) || !state.open {
            return Poll::Ready(Err(node_crashed("TcpListener", &world.nodes[node].name)));
        }
        let now = cx::now_ns("asyncsim::net::TcpListener::accept");
        let state = &mut world.net.listeners[self.listener];
        match state.backlog.front() {
            Some(&(ready_ns, connection)) if ready_ns <= now => {
                state.backlog.pop_front();
                state.acceptor.ready(context.waker());
                world.record_stream(connection, 1, NetOp::Accept, 0);
                super::connect::stream_handed_out(world, connection, 1, now);
                let c = &mut world.net.connections[connection];
                let peer = c.addrs[0];
                let stream = TcpStream {
                    world: self.world.clone(),
                    connection,
                    side: 1,
                };
                Poll::Ready(Ok((stream, peer)))
            }
            next => {
                let next = next.map(|(ready_ns, _)| *ready_ns);
                state.acceptor.park(context.waker(), next);
                let socket = *state.label.get_or_insert_with(|| {
                    // "TcpListener (server:7000)", by hand (once a listener)
                    // or as the last run made it.
                    let name = &world.nodes[node].name;
                    let port = state.port;
                    let key = WordsKey {
                        kind: WORDS_LISTENER,
                        numbers: [u64::from(port), 0, 0, 0, 0],
                        // (The second name unused: the node's again.)
                        names: [name, name],
                    };
                    let (text, hashes) = world.memo.words(key, || {
                        let mut text = String::with_capacity(20 + name.len());
                        text.push_str("TcpListener (");
                        text.push_str(name);
                        text.push(':');
                        push_decimal(&mut text, u64::from(port));
                        text.push(')');
                        text
                    });
                    cx::intern_label_known(text, Some(hashes))
                });
                cx::set_waiting_on(WaitOn::Socket {
                    op: SocketWait::Accept,
                    socket,
                });
                Poll::Pending
            }
        }
    }

    /// Sets the send buffer (`SO_SNDBUF`) of the streams it accepts from
    /// now on, as [`TcpStream::set_send_buffer_size`] sets a stream's (an
    /// accepted socket inherits its listener's, as on Linux).
    ///
    /// # Errors
    ///
    /// A listener of another run.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_buffer(0, pipe::buffer_set_to(size, true))
    }

    /// Sets the receive buffer (`SO_RCVBUF`) of the streams it accepts from
    /// now on, as [`TcpStream::set_recv_buffer_size`] sets a stream's.
    ///
    /// # Errors
    ///
    /// A listener of another run.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_buffer(1, pipe::buffer_set_to(size, false))
    }

    /// The send buffer of the streams it accepts: [`DEFAULT_SEND_BUFFER`]
    /// or as set.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        Ok(self.world.borrow().net.listeners[self.listener].buffers[0])
    }

    /// The receive buffer of the streams it accepts:
    /// [`DEFAULT_RECV_BUFFER`] or as set.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        Ok(self.world.borrow().net.listeners[self.listener].buffers[1])
    }

    /// Sets the `SO_LINGER` of the streams it accepts from now on (as
    /// Linux's accepted sockets inherit their listener's): see
    /// [`TcpStream::set_linger`]. For the tokio face's `TcpSocket`.
    ///
    /// # Errors
    ///
    /// A listener of another run.
    #[doc(hidden)]
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        if !same_run(world.run_id) {
            return Err(foreign("TcpListener"));
        }
        world.net.listeners[self.listener].linger_ns = super::pipe::linger_ns(linger);
        Ok(())
    }

    fn set_buffer(&self, which: usize, size: u32) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        if !same_run(world.run_id) {
            return Err(foreign("TcpListener"));
        }
        world.net.listeners[self.listener].buffers[which] = size;
        Ok(())
    }

    /// The address it listens on (the node's IP and the port).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        let state = &world.net.listeners[self.listener];
        Ok(world.socket_addr(state.node as usize, state.port))
    }
}

/// Dropped, the listener closes: a connection in its backlog whose SYN
/// arrived (the handshake done, not accepted) is reset, as Linux resets
/// it; one whose SYN is still on its way finds, when it arrives, what
/// listens on the port then: a listener bound again since takes it, else
/// the connect is refused at the SYN-ACK's time (the RST's), exactly as a
/// connect to a port with nothing bound (`net refused` on the would-be
/// stream's label, "nothing listens on").
impl Drop for TcpListener {
    fn drop(&mut self) {
        let Ok(mut world) = self.world.try_borrow_mut() else {
            return;
        };
        let world = &mut *world;
        let state = &mut world.net.listeners[self.listener];
        if !state.open {
            return;
        }
        state.open = false;
        let key = (state.node, Protocol::Tcp, state.port);
        world.net.bound.remove_if_eq(&key, &self.listener);
        let mut backlog = std::mem::take(&mut world.net.listeners[self.listener].backlog);
        if !backlog.is_empty() && same_run(world.run_id) {
            let now = cx::now_ns("asyncsim::net::TcpListener::drop");
            // What clients sent to connections never accepted is lost with
            // them: recorded at the step boundary (none as the run ends).
            let mut lost = Vec::new();
            for (syn_ns, connection) in backlog.drain(..) {
                let c = &mut world.net.connections[connection];
                c.drop_end(1);
                if syn_ns > now {
                    // Its SYN is still on its way: it finds what listens
                    // there when it arrives, as if nothing had when it
                    // left (`super::connect::syn_arrives`). Its client has sent
                    // nothing yet (its connect has not returned); one
                    // abandoned already has nothing left to learn.
                    if !c.dropped[0] {
                        c.syn_call = Some(cx::call_at(
                            syn_ns,
                            super::connect::syn_arrives,
                            connection as u64,
                        ));
                    }
                    continue;
                }
                c.fail_at(connection, 0, now, io::ErrorKind::ConnectionReset);
                let unread = c.pipes[1].unread_bytes();
                if unread > 0 {
                    lost.push((connection, unread));
                }
            }
            if !lost.is_empty() {
                let world_rc = self.world.clone();
                cx::at_step_boundary(Box::new(move || {
                    let mut world = world_rc.borrow_mut();
                    for (connection, unread) in lost {
                        world.record_stream_drop(connection, 1, DropWhy::Closed, unread);
                    }
                }));
            }
        }
        // Emptied, its buffer kept for the next run's listener (listeners
        // are reused in place: `Reused`).
        backlog.clear();
        world.net.listeners[self.listener].backlog = backlog;
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local_addr() {
            Ok(addr) => write!(f, "TcpListener({addr})"),
            Err(_) => f.write_str("TcpListener"),
        }
    }
}

/// [`TcpListener::accept`]'s future (not an `async fn`: its state is the
/// guard alone, and a run's last accept, dropped pending as the run ends,
/// drops only that); dropped while it waits, it leaves the listener's
/// waiters (`Waiting`).
struct Accept<'a> {
    waiting: Waiting<'a, TcpListener>,
}

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;

    #[inline]
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.waiting.polling();
        let poll = this.waiting.socket.poll_accept(context);
        this.waiting.polled(context, poll)
    }
}
