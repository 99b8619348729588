//! TCP: listeners, connections, and streams with in-order delivery.
//!
//! A connection is two pipes, one toward each end. A write becomes a
//! segment with a drawn latency; its arrival is never before the previous
//! segment's, so each direction delivers in order. A lost segment is a
//! retransmission: a drawn extra delay, never lost bytes. Across a cut,
//! segments are held back until the link heals; if it does not within the
//! link's `tcp_timeout`, both ends fail with `TimedOut`. A peer's crash
//! reaches the other end one latency later as `ConnectionReset`. Either is
//! a `net reset` on the end it reaches, at its arrival, once (see
//! `pipe::say_error`). As Linux reports a socket's error (`sk_err`), the
//! first read, peek or write to meet it returns it and takes it; the
//! socket is closed after that: reads return 0 (EOF), writes `BrokenPipe`
//! (`Connection::taken`). A refused connect is a `net refused`, one across a
//! cut a `net connect timed out`, when `connect` returns.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Carried, Protocol, ToAddress};

mod listener;
mod peek;
mod pipe;

use crate::trace::{DropWhy, EventKind, NetOp, SocketWait, WaitOn};
use crate::world::{cx, same_run, world, World, WorldRc};
pub(crate) use listener::ListenerState;
pub use listener::TcpListener;
use pipe::send;
pub use pipe::{buffer_set_to, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};
pub(crate) use pipe::{
    crash_node, forget_node, links_cut, release_held, socket_waits, Connection, Connections,
    Listeners,
};

/// End `side`, its connect or accept event just recorded, is its task's:
/// its error (a reset, a timeout) is recorded when it comes from now on.
#[inline]
fn stream_handed_out(world: &mut World, connection: usize, side: usize, now: u64) {
    let c = &mut world.net.connections[connection];
    if c.errors[side].is_none() {
        c.quiet[side] = false;
    } else {
        pipe::handed_out(world, connection, side, now);
    }
}

/// Records the outcome of a connect that made no stream (`op`: refused, or
/// timed out across a cut), by the connecting task, under the would-be
/// stream's label ([`unmade_label`]). The address is looked up again here
/// (no node is renamed in a run), not kept from the connect's start: every
/// connect's future would grow by what it kept across its sleeps. Out of
/// line: a connect that succeeds never gets here.
#[cold]
#[inline(never)]
fn record_unmade(world_rc: &WorldRc, op: NetOp, address: &Destination<'_>) {
    let label = {
        let world = world_rc.borrow();
        unmade_label(&world, world.current().0, address)
    };
    let socket = cx::intern_label(label);
    // `cx::record`, not `record_net`: that one stays inlined where it is hot.
    cx::record(EventKind::Net {
        op,
        socket,
        bytes: 0,
    });
}

/// The label of the stream a connect from `node` to `address` would have
/// made, "TcpStream (main -> server:6379)": the node, no port of its own
/// (none was claimed), and the target's node and port.
fn unmade_label(world: &World, node: usize, address: &Destination<'_>) -> String {
    let local = &world.nodes[node].name;
    match address.resolve(world, node) {
        Ok((target, port)) => {
            format!("TcpStream ({local} -> {}:{port})", world.nodes[target].name)
        }
        // (Not reached: it resolved when the connect started.)
        Err(_) => format!("TcpStream ({local} -> {address})"),
    }
}

/// A connect under way, from the moment its SYN left (or it began to wait
/// out a cut) until it returns, kept in the connect's future. Dropped
/// before it returns (a `select!` or a timeout gave up on it, its task was
/// aborted, its node crashed), the connect is abandoned
/// ([`Connecting::abandon`]). Its fields are what the connect keeps across
/// its sleeps anyway.
struct Connecting<'a> {
    world: WorldRc,
    address: Destination<'a>,
    /// The stream's connection, once its SYN found a listener
    /// (`u32::MAX` before; a `u32`, so the future keeps no more than it
    /// did before it kept this).
    connection: u32,
    /// When the SYN-ACK arrives.
    synack_ns: u64,
    /// The connecting node.
    node: u32,
    /// True until `connect` returns.
    under_way: bool,
}

/// The send and receive buffers of the stream a connect makes: Linux's
/// defaults (`()`: nothing kept in the connect's future), or a socket's set
/// before it connects (`[u32; 2]`, as the face's `TcpSocket` sets them).
trait ClientBuffers: Copy {
    fn sizes(self) -> [u32; 2];
}

impl ClientBuffers for () {
    #[inline(always)]
    fn sizes(self) -> [u32; 2] {
        [DEFAULT_SEND_BUFFER, DEFAULT_RECV_BUFFER]
    }
}

impl ClientBuffers for [u32; 2] {
    #[inline(always)]
    fn sizes(self) -> [u32; 2] {
        self
    }
}

/// Whom an abandoned connect's event names: its stream's end, or the
/// would-be stream's label's words.
enum Abandoned {
    Stream(usize),
    Unmade(String),
}

impl Drop for Connecting<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.under_way {
            self.abandon();
        }
    }
}

impl Connecting<'_> {
    /// The connect was dropped before it returned: recorded as
    /// `NetOp::ConnectAborted`, and, as Linux does with a socket closed in
    /// SYN_SENT (forgotten; the SYN-ACK that comes for it is answered with
    /// a reset), the server's end of its stream, if one was made, is reset
    /// a latency after the SYN-ACK's arrival (`close_end`; a `net reset` on
    /// that end at its arrival). Dropped at or after the SYN-ACK's arrival
    /// (the handshake done, the future not polled since), the stream closes
    /// as a dropped one does: EOF to the server. Dropped in a poll, its
    /// event is now, by the polled task; dropped between polls (its node
    /// crashed, or the run ends), at the step boundary after, by no task,
    /// so a connect dropped as the run ends records nothing (no boundary
    /// comes), as a socket closed then does. Out of line.
    #[cold]
    #[inline(never)]
    fn abandon(&mut self) {
        let whom = {
            let Ok(world) = self.world.try_borrow() else {
                return;
            };
            if !same_run(world.run_id) {
                return;
            }
            if self.connection == u32::MAX {
                Abandoned::Unmade(unmade_label(&world, self.node as usize, &self.address))
            } else {
                Abandoned::Stream(self.connection as usize)
            }
        };
        if cx::current_task().is_some() {
            record_abandoned(&self.world, whom);
        } else {
            let world_rc = self.world.clone();
            cx::at_step_boundary(Box::new(move || record_abandoned(&world_rc, whom)));
        }
        if self.connection != u32::MAX {
            // A call set for its SYN's arrival (its listener dropped while
            // the SYN was on its way) has nothing to do now.
            if let Ok(mut world) = self.world.try_borrow_mut() {
                if let Some(key) = world.net.connections[self.connection as usize]
                    .syn_call
                    .take()
                {
                    cx::cancel_timer(key);
                }
            }
            let now = cx::now_ns("asyncsim::net::TcpStream::connect");
            let unanswered = (now < self.synack_ns).then_some(self.synack_ns);
            let mut end = TcpStream {
                world: self.world.clone(),
                connection: self.connection as usize,
                side: 0,
            };
            // (Its drop then finds it closed.)
            end.close_end(unanswered);
        }
    }
}

/// Records an abandoned connect (see [`Connecting::abandon`]).
#[cold]
#[inline(never)]
fn record_abandoned(world_rc: &WorldRc, whom: Abandoned) {
    let socket = match whom {
        Abandoned::Stream(connection) => {
            let Ok(mut world) = world_rc.try_borrow_mut() else {
                return;
            };
            world.stream_label(connection, 0)
        }
        Abandoned::Unmade(label) => cx::intern_label(label),
    };
    cx::record(EventKind::Net {
        op: NetOp::ConnectAborted,
        socket,
        bytes: 0,
    });
}

/// The error of a connect across a cut, naming what cut it (`causes`, as
/// the connect found them when it started: `Network::cut_causes`). The
/// address is looked up again, as in [`record_unmade`]. Out of line.
#[cold]
#[inline(never)]
fn connect_timed_out(world_rc: &WorldRc, address: &Destination<'_>, causes: u8) -> io::Error {
    let world = world_rc.borrow();
    let node = world.current().0;
    let cut = match address.resolve(&world, node) {
        Ok((target, _)) => world.cut_words(node as u32, target as u32, causes),
        // (Not reached: it resolved when the connect started.)
        Err(_) => "the network is cut".to_string(),
    };
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("connect to {address} timed out: {cut}"),
    )
}

/// Where a connect goes: a host name and port, borrowed from the caller's
/// address (see `ToAddress::host_and_port`), or an address.
enum Destination<'a> {
    Host(&'a str, u16),
    Address(super::Address),
}

impl Destination<'_> {
    /// The node and port it names, seen from node `node`.
    #[inline]
    fn resolve(&self, world: &World, node: usize) -> io::Result<(usize, u16)> {
        match self {
            // (`host_and_port` gives no IP: parsed once, there.)
            Destination::Host(host, port) => world.resolve_name(host, *port, node),
            Destination::Address(address) => world.resolve(address, node),
        }
    }
}

impl std::fmt::Display for Destination<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Host(host, port) => write!(f, "{host}:{port}"),
            Destination::Address(address) => write!(f, "{address}"),
        }
    }
}

/// A TCP connection's end: `futures::io::{AsyncRead, AsyncWrite}`.
///
/// `close()` (a shutdown of its write side) sends EOF to the peer, after
/// every byte written. Dropping it does too, unless bytes it was sent have
/// arrived and are unread: then, as Linux's `close`, it sends a reset
/// instead (after every byte written, and even after a shutdown's EOF):
/// the peer reads what came before it, then gets `ConnectionReset` (or EOF
/// if a FIN came first), and its writes fail with `ConnectionReset`.
///
/// A stream's error (that reset, its peer's crash's, a timeout) is
/// reported once, as Linux reports a socket's: the first read, peek or
/// write to meet it returns it; later reads return 0 (EOF) and later
/// writes `BrokenPipe`, the socket being closed. A readiness look
/// (`poll_read_ready`, `poll_write_ready`) takes nothing.
pub struct TcpStream {
    pub(super) world: WorldRc,
    pub(super) connection: usize,
    pub(super) side: usize,
}

fn foreign(what: &str) -> io::Error {
    io::Error::other(format!(
        "{what} belongs to another run: a socket cannot outlive the simulation that made it"
    ))
}

fn node_crashed(what: &str, node: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        format!("{what} belongs to node `{node}`, which crashed: its sockets died with it"),
    )
}

/// Opens a connection from the calling task's node to `listener` (on node
/// `target`, `port`) whose SYN arrives at `syn_ns` and SYN-ACK at
/// `synack_ns`: both pipes, the listener's backlog, its acceptor's wake.
/// The client's send and receive buffers are `buffers`. Returns the
/// connection's index (its client end is handed out as a `TcpStream`
/// when the connect returns).
#[allow(clippy::too_many_arguments)]
fn open_connection(
    world: &mut World,
    target: usize,
    port: u16,
    listener: usize,
    syn_ns: u64,
    synack_ns: u64,
    now: u64,
    buffers: [u32; 2],
) -> io::Result<usize> {
    let (node, incarnation) = world.current();
    let (from, to) = (node as u32, target as u32);
    let connection = world.net.connections.len();
    let local_port = world.claim_port(node, Protocol::Tcp, 0, usize::MAX)?;
    let first = world.net.streams_made;
    world.net.streams_made += 2;
    let server_incarnation = world.net.listeners[listener].incarnation;
    let addresses = [
        world.socket_addr(node, local_port),
        world.socket_addr(target, port),
    ];
    // Filled in place (every field named, so none is left from the run
    // that used it before); its pipes are empty.
    let Connection {
        pipes,
        nodes,
        incarnations,
        addrs,
        errors,
        write_shut,
        dropped,
        names,
        labels,
        error_watch,
        quiet,
        taken,
        cut_causes,
        send_buffer,
        recv_buffer,
        reset_ns,
        syn_call,
        linger_ns,
    } = world.net.connections.open();
    // Nothing the server sends can arrive before the handshake completes,
    // nor the client's before its SYN.
    pipes[0].last_arrival_ns = synack_ns;
    pipes[1].last_arrival_ns = syn_ns;
    *nodes = [from, to];
    *incarnations = [incarnation, server_incarnation];
    *addrs = addresses;
    *errors = [None, None];
    *write_shut = [false, false];
    *dropped = [false, false];
    *names = [first, first + 1];
    *labels = [None, None];
    *error_watch = [None, None];
    // Until their connect and accept hand them out.
    *quiet = [true, true];
    *taken = [false, false];
    *cut_causes = 0;
    *reset_ns = [None, None];
    // (The server's, its listener's, as Linux's accepted socket inherits it.)
    *linger_ns = [u64::MAX, world.net.listeners[listener].linger_ns];
    *syn_call = None;
    // The client's buffers are its socket's (a new one's, or as set before
    // it connected: from the first byte, as Linux's SYN carries its
    // window); the server's, its listener's (as an accepted socket
    // inherits them on Linux).
    let [server_send, server_recv] = world.net.listeners[listener].buffers;
    let [client_send, client_recv] = buffers;
    *send_buffer = [client_send, server_send];
    *recv_buffer = [client_recv, server_recv];
    pipes[0].window = pipe::window(server_send, client_recv);
    pipes[1].window = pipe::window(client_send, server_recv);
    pipes[0].limit = pipes[0].window;
    pipes[1].limit = pipes[1].window;
    enqueue(world, listener, syn_ns, connection, now);
    Ok(connection)
}

/// Puts `connection`, its SYN arriving at `syn_ns`, in `listener`'s
/// backlog, in arrival order, and wakes its acceptor then. (Inlined: out
/// of line, a connect paid a call for it.)
#[inline(always)]
fn enqueue(world: &mut World, listener: usize, syn_ns: u64, connection: usize, now: u64) {
    let state = &mut world.net.listeners[listener];
    let position = state
        .backlog
        .iter()
        .position(|(ready, _)| *ready > syn_ns)
        .unwrap_or(state.backlog.len());
    state.backlog.insert(position, (syn_ns, connection));
    state.acceptor.due_at_from(syn_ns, now);
}

/// The SYN of `connection` arrives, its listener dropped while it was on
/// its way (a `cx::call_at` set by the listener's drop): what listens on
/// the port now takes it (a listener bound again, on the node as it is
/// now), as on a connect whose SYN found nothing bound when it left
/// (`Plan::Unheard`); if nothing does, the connect is refused when it
/// returns at the SYN-ACK's time: its error set for that very time, which
/// tells it from a crash's refusal (set at the crash, earlier). Nothing
/// if the connect was abandoned on the way. Out of line.
#[cold]
#[inline(never)]
pub(super) fn syn_arrives(connection: u64) {
    let world_rc = world("asyncsim::net");
    let Ok(mut world) = world_rc.try_borrow_mut() else {
        return;
    };
    let world = &mut *world;
    let connection = connection as usize;
    let now = cx::now_ns("asyncsim::net");
    let c = &mut world.net.connections[connection];
    c.syn_call = None;
    if c.dropped[0] {
        return;
    }
    let key = (c.nodes[1], Protocol::Tcp, c.addrs[1].port());
    match world.net.bound.get(&key).copied() {
        Some(listener) if listener != usize::MAX => {
            let incarnation = world.net.listeners[listener].incarnation;
            let buffers = world.net.listeners[listener].buffers;
            let linger_ns = world.net.listeners[listener].linger_ns;
            let c = &mut world.net.connections[connection];
            c.dropped[1] = false;
            c.incarnations[1] = incarnation;
            // Its server end is the new listener's.
            [c.send_buffer[1], c.recv_buffer[1]] = buffers;
            c.linger_ns[1] = linger_ns;
            c.set_windows();
            enqueue(world, listener, now, connection, now);
        }
        _ => {
            let c = &mut world.net.connections[connection];
            let synack_ns = c.pipes[0].last_arrival_ns;
            c.errors[0] = Some((synack_ns, io::ErrorKind::ConnectionRefused));
        }
    }
}

impl TcpStream {
    /// Connects from the calling task's node: one round trip of the link.
    /// Whether anything listens is decided when the SYN arrives, as on a
    /// real network: a server that binds while the SYN is on its way (its
    /// `init` started in the same instant) accepts it.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there when the SYN arrives
    /// (or its node is down), `TimedOut` across a partition (after the
    /// link's `tcp_timeout`), `NotFound` for an unknown host.
    ///
    /// The trace records the outcome when this returns, by the calling
    /// task: `net connect` on the stream made, `net refused` or `net connect
    /// timed out` (`NetOp::Refused`, `NetOp::ConnectTimedOut`) on the
    /// would-be stream; an unknown host sent nothing and records nothing.
    /// Dropped before it returns (a `select!` or a timeout gives up on it,
    /// its task is aborted, its node crashes), the connect is abandoned:
    /// `net connect aborted` (`NetOp::ConnectAborted`), and the server's
    /// end of a stream made for it is reset, as Linux answers the SYN-ACK
    /// of a socket closed while connecting.
    // (Not an `async fn`: it returns the future `connect_to` makes, so no
    // state machine wraps it.)
    pub fn connect<A: ToAddress>(address: A) -> impl Future<Output = io::Result<TcpStream>> {
        Self::connect_to(address, ())
    }

    /// [`TcpStream::connect`] from a socket whose send and receive buffers
    /// were set before it connected (the tokio face's `TcpSocket`): the
    /// stream has them from its first byte (as Linux's SYN carries the
    /// window its receive buffer gives), as [`TcpStream::set_send_buffer_size`]
    /// and [`TcpStream::set_recv_buffer_size`] set them; `None` is Linux's
    /// default.
    #[doc(hidden)]
    pub fn connect_with_buffers<A: ToAddress>(
        address: A,
        send_buffer: Option<u32>,
        recv_buffer: Option<u32>,
    ) -> impl Future<Output = io::Result<TcpStream>> {
        let buffers = [
            send_buffer.map_or(DEFAULT_SEND_BUFFER, |size| buffer_set_to(size, true)),
            recv_buffer.map_or(DEFAULT_RECV_BUFFER, |size| buffer_set_to(size, false)),
        ];
        Self::connect_to(address, buffers)
    }

    /// [`TcpStream::connect`], its stream's buffers `buffers`.
    async fn connect_to<A: ToAddress, B: ClientBuffers>(
        address: A,
        buffers: B,
    ) -> io::Result<TcpStream> {
        // A host name is looked up borrowed: no `Address` made for it.
        let address = match address.host_and_port() {
            Some((host, port)) => Destination::Host(host, port),
            None => Destination::Address(address.to_address()?),
        };
        // Made first, and the rest reads the world and the address from
        // it: a future keeps a local moved into another across its sleeps
        // too, so one made later would have kept both twice.
        let mut connecting = Connecting {
            world: world("asyncsim::net::TcpStream::connect"),
            address,
            connection: u32::MAX,
            synack_ns: u64::MAX,
            node: 0,
            // Not before the SYN leaves (an error before that returns).
            under_way: false,
        };
        enum Plan {
            /// Nothing listened when the SYN left: look again when it arrives.
            Unheard { syn_ns: u64, target: u32, port: u16 },
            /// Across a cut (`Network::cut_causes`): fails at `.0`.
            TimedOut(u64, u8),
            /// A connection made: its SYN-ACK arrives at `connecting.synack_ns`.
            Connected,
        }
        let plan = {
            let mut world = connecting.world.borrow_mut();
            let world = &mut *world;
            let (node, incarnation) = world.current();
            if !world.alive(node, incarnation) {
                return Err(world.crashed_here(node, "asyncsim::net::TcpStream::connect"));
            }
            let (target, port) = connecting.address.resolve(world, node)?;
            let now = cx::now_ns("asyncsim::net::TcpStream::connect");
            let (from, to) = (node as u32, target as u32);
            connecting.node = from;
            if world.net.is_cut_either(from, to) {
                let causes = world.net.cut_causes(from, to);
                Plan::TimedOut(now + world.net.config(from, to).tcp_timeout_ns, causes)
            } else {
                let syn_ns = now + world.latency(from, to, Carried::Syn);
                let synack_ns = syn_ns + world.latency(to, from, Carried::SynAck);
                connecting.synack_ns = synack_ns;
                match world.net.bound.get(&(to, Protocol::Tcp, port)).copied() {
                    None => Plan::Unheard {
                        syn_ns,
                        target: to,
                        port,
                    },
                    Some(listener) => {
                        let connection = open_connection(
                            world,
                            target,
                            port,
                            listener,
                            syn_ns,
                            synack_ns,
                            now,
                            buffers.sizes(),
                        )?;
                        connecting.connection = connection as u32;
                        Plan::Connected
                    }
                }
            }
        };
        // From here until it returns, dropping this future abandons the
        // connect (`Connecting::abandon`).
        connecting.under_way = true;
        let outcome = 'outcome: {
            match plan {
                Plan::TimedOut(at, causes) => {
                    crate::time::sleep_until(crate::time::Instant::from_nanos(at)).await;
                    let (world_rc, address) = (&connecting.world, &connecting.address);
                    record_unmade(world_rc, NetOp::ConnectTimedOut, address);
                    break 'outcome Err(connect_timed_out(world_rc, address, causes));
                }
                Plan::Unheard {
                    syn_ns,
                    target,
                    port,
                } => {
                    crate::time::sleep_until(crate::time::Instant::from_nanos(syn_ns)).await;
                    let opened = {
                        let mut world = connecting.world.borrow_mut();
                        let world = &mut *world;
                        let key = (target, Protocol::Tcp, port);
                        match world.net.bound.get(&key).copied() {
                            Some(listener) => open_connection(
                                world,
                                target as usize,
                                port,
                                listener,
                                syn_ns,
                                connecting.synack_ns,
                                syn_ns,
                                buffers.sizes(),
                            ),
                            None => Ok(usize::MAX),
                        }
                    };
                    match opened {
                        Ok(connection) => connecting.connection = connection as u32,
                        Err(error) => break 'outcome Err(error),
                    }
                    if connecting.connection == u32::MAX {
                        let synack = crate::time::Instant::from_nanos(connecting.synack_ns);
                        crate::time::sleep_until(synack).await;
                        let (world_rc, address) = (&connecting.world, &connecting.address);
                        record_unmade(world_rc, NetOp::Refused, address);
                        break 'outcome Err(io::Error::new(
                            io::ErrorKind::ConnectionRefused,
                            format!("connection refused: nothing listens on {address}"),
                        ));
                    }
                }
                Plan::Connected => {}
            }
            let synack = crate::time::Instant::from_nanos(connecting.synack_ns);
            crate::time::sleep_until(synack).await;
            let stream = TcpStream {
                world: connecting.world.clone(),
                connection: connecting.connection as usize,
                side: 0,
            };
            let world = stream.world.borrow();
            let now = cx::now_ns("asyncsim::net::TcpStream::connect");
            match world.net.connections[stream.connection].errors[0] {
                Some((when, io::ErrorKind::ConnectionRefused)) if when == connecting.synack_ns => {
                    // Its SYN found nothing listening (`syn_arrives`): as
                    // a connect whose SYN found nothing bound when it left,
                    // no stream; the end made for it is let go unsaid.
                    drop(world);
                    let mut world = stream.world.borrow_mut();
                    let c = &mut world.net.connections[stream.connection];
                    c.write_shut[0] = true;
                    c.drop_end(0);
                    c.set_limit(1);
                    let key = (c.nodes[0], Protocol::Tcp, c.addrs[0].port());
                    world.net.bound.remove_if_eq(&key, &usize::MAX);
                    drop(world);
                    let (world_rc, address) = (&connecting.world, &connecting.address);
                    record_unmade(world_rc, NetOp::Refused, address);
                    Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!("connection refused: nothing listens on {address}"),
                    ))
                }
                _ => {
                    drop(world);
                    let mut world = stream.world.borrow_mut();
                    world.record_stream(stream.connection, 0, NetOp::Connect, 0);
                    stream_handed_out(&mut world, stream.connection, 0, now);
                    drop(world);
                    Ok(stream)
                }
            }
        };
        connecting.under_way = false;
        outcome
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].addrs[1 - self.side])
    }

    /// This end's address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].addrs[self.side])
    }

    /// Checks the stream may be used now (same run, node alive), and the
    /// time now: one look at the thread's run for both (a check and then a
    /// clock read took two). Inlined: out of line its frame cost more than
    /// the look it saves.
    #[inline(always)]
    fn check_now(&self, world: &World) -> io::Result<u64> {
        let c = &world.net.connections[self.connection];
        match cx::now_in_run(world.run_id) {
            Some(now) if world.alive(c.nodes[self.side] as usize, c.incarnations[self.side]) => {
                Ok(now)
            }
            _ => Err(self.unusable(world)),
        }
    }

    /// [`TcpStream::check_now`] for a poll under the cooperative budget, in
    /// the same look at the run: `Pending` (the task woken: a yield) when
    /// the task has no unit left. (The completion spends it: its event.)
    #[inline(always)]
    fn check_now_budgeted(&self, world: &World, context: &Context<'_>) -> Poll<io::Result<u64>> {
        let c = &world.net.connections[self.connection];
        match cx::now_in_run_checking(world.run_id) {
            Some(Ok(now))
                if world.alive(c.nodes[self.side] as usize, c.incarnations[self.side]) =>
            {
                Poll::Ready(Ok(now))
            }
            Some(Err(cx::BudgetSpent)) => {
                super::budget_yield(context);
                Poll::Pending
            }
            _ => Poll::Ready(Err(self.unusable(world))),
        }
    }

    /// Why [`TcpStream::check_now`] failed (out of line: it almost never does).
    #[cold]
    #[inline(never)]
    fn unusable(&self, world: &World) -> io::Error {
        if !same_run(world.run_id) {
            return foreign("TcpStream");
        }
        // A failed operation spends its unit of the task's budget (no
        // event): a loop retrying it yields.
        cx::spend_on_completion();
        let c = &world.net.connections[self.connection];
        let node = c.nodes[self.side] as usize;
        node_crashed(&c.name(self.side), &world.nodes[node].name)
    }

    fn error(&self, world: &World, kind: io::ErrorKind) -> io::Error {
        let c = &world.net.connections[self.connection];
        let why = match kind {
            io::ErrorKind::ConnectionReset => "connection reset by peer",
            io::ErrorKind::TimedOut => {
                let cut = world.cut_words(c.nodes[0], c.nodes[1], c.cut_causes);
                return io::Error::new(
                    kind,
                    format!(
                        "{}: connection timed out (no delivery for tcp_timeout: {cut})",
                        c.name(self.side)
                    ),
                );
            }
            io::ErrorKind::ConnectionRefused => "connection refused",
            // (Only from a reset that came after the peer's FIN.)
            io::ErrorKind::BrokenPipe => "broken pipe (the peer closed, and reset the connection)",
            _ => "stream failed",
        };
        io::Error::new(kind, format!("{}: {why}", c.name(self.side)))
    }

    /// Polls for bytes like `AsyncRead::poll_read`, but hands them to `put`
    /// (in pieces, at most `max` bytes in all) instead of copying them into
    /// a slice: for a reader whose buffer is not an initialised `&mut [u8]`
    /// (tokio's `ReadBuf` over uninitialised memory), so the bytes are
    /// copied once and nothing is zeroed first. Ready with the count put.
    pub fn poll_read_with(
        &self,
        context: &mut Context<'_>,
        max: usize,
        put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        self.read_with::<true>(context, max, put)
    }

    fn read_into(&self, context: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut at = 0;
        let max = buf.len();
        self.read_with::<true>(context, max, |bytes| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        })
    }

    /// A read; `BUDGETED` (a poll, not a `try_` form): under the task's
    /// cooperative budget (a yield instead when it is spent; a read that
    /// completes spends a unit, by its event).
    #[inline(always)]
    pub(super) fn read_with<const BUDGETED: bool>(
        &self,
        context: &mut Context<'_>,
        max: usize,
        mut put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = if BUDGETED {
            std::task::ready!(self.check_now_budgeted(world, context))?
        } else {
            self.check_now(world)?
        };
        let c = &mut world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            c.pipes[self.side].reader.ready(context.waker());
            return Poll::Ready(self.read_error(world, kind));
        }
        let c = &mut world.net.connections[self.connection];
        let error_ns = c.errors[self.side].map(|(at, _)| at);
        let pipe = &mut c.pipes[self.side];
        if let Some(front) = pipe.segments.front() {
            if front.arrival_ns <= now {
                // How much has arrived (up to `max`), then one copy.
                let mut copied = 0;
                while copied < max {
                    let Some(front) = pipe.segments.front() else {
                        break;
                    };
                    if front.arrival_ns > now {
                        break;
                    }
                    let count = (front.len - pipe.offset).min(max - copied);
                    copied += count;
                    pipe.offset += count;
                    if pipe.offset == front.len {
                        pipe.segments.pop_front();
                        pipe.offset = 0;
                    }
                }
                if pipe.writer.waiting() && pipe.unacked.is_none() {
                    // Room for the peer's writer waiting for it: woken
                    // now, by this task (it looks again when it runs).
                    // (Not while this end's acks are cut: no window
                    // update gets to it.)
                    pipe.writer.wake_all();
                }
                let start = pipe.read_at;
                put(&pipe.bytes[start..start + copied]);
                if start + copied == pipe.bytes.len() {
                    pipe.bytes.clear();
                    pipe.read_at = 0;
                } else {
                    pipe.read_at = start + copied;
                }
                pipe.reader.ready(context.waker());
                world.record_stream(self.connection, self.side, NetOp::Deliver, copied);
                return Poll::Ready(Ok(copied));
            }
        } else if matches!(pipe.fin_ns, Some(fin) if fin <= now) || max == 0 {
            pipe.reader.ready(context.waker());
            if pipe.fin_resets && max > 0 {
                // Not a FIN: the reset of the peer's close (EOF once a
                // read or write took it).
                return Poll::Ready(self.read_reset(world));
            }
            if BUDGETED {
                // No event: a loop that reads on past the end still yields.
                cx::spend_on_completion();
            }
            return Poll::Ready(Ok(0));
        }
        self.wait_to_read(world, error_ns, context);
        Poll::Pending
    }

    /// A read that finds this end's error (`kind`) come: the first returns
    /// it and takes it (recorded once: when it came, or now if this read
    /// is first); a later one finds the socket closed, as Linux's read
    /// after `sk_err` was taken: 0, EOF. Either spends its unit of the
    /// task's budget (no event), a `try_` form's too, as the failed read
    /// did: a `readable` and `try_read` loop on a reset stream yields.
    /// Out of line.
    #[cold]
    #[inline(never)]
    fn read_error(&self, world: &mut World, kind: io::ErrorKind) -> io::Result<usize> {
        if !world.net.connections[self.connection].take_error(self.side) {
            cx::spend_on_completion();
            return Ok(0);
        }
        pipe::say_error_or_spend(world, self.connection, self.side, kind);
        Err(self.error(world, kind))
    }

    /// A read (or peek) that reached the reset of the peer's close
    /// (`Pipe::fin_resets`): `ConnectionReset`, recorded once, the first
    /// time (the error taken); 0, EOF, once a read or write took it. Either
    /// spends its unit of the budget as [`TcpStream::read_error`] does. Out
    /// of line.
    #[cold]
    #[inline(never)]
    pub(super) fn read_reset(&self, world: &mut World) -> io::Result<usize> {
        if !world.net.connections[self.connection].take_error(self.side) {
            cx::spend_on_completion();
            return Ok(0);
        }
        pipe::say_close_reset_or_spend(world, self.connection, self.side);
        Err(self.error(world, io::ErrorKind::ConnectionReset))
    }

    /// What a write gets once this end's error was taken (returned by a
    /// read, peek or write before): `BrokenPipe`, Linux's `EPIPE` for a
    /// socket closed by its error. Spends the write's unit of the budget
    /// (no event). Out of line.
    #[cold]
    #[inline(never)]
    fn write_after_error(&self, world: &World, kind: io::ErrorKind) -> io::Error {
        cx::spend_on_completion();
        let c = &world.net.connections[self.connection];
        let what = match kind {
            io::ErrorKind::TimedOut => "timed out",
            _ => "was reset",
        };
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!(
                "{}: broken pipe (the connection {what}, and an earlier read or write returned \
                 that error)",
                c.name(self.side)
            ),
        )
    }

    /// Parks the task reading this end until its next segment, its FIN or
    /// its error (at `error_ns`) arrives, whichever comes first, and says
    /// what it waits on: for a read, or a peek or readiness that waits.
    #[inline(always)]
    fn wait_to_read(&self, world: &mut World, error_ns: Option<u64>, context: &mut Context<'_>) {
        let pipe = &mut world.net.connections[self.connection].pipes[self.side];
        // The earliest of three, if any (in line: an iterator's `flatten`
        // and `min` over them cost twice this).
        let earliest = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        };
        let next = earliest(
            earliest(
                pipe.segments.front().map(|segment| segment.arrival_ns),
                pipe.fin_ns,
            ),
            error_ns,
        );
        pipe.reader.park(context.waker(), next);
        let socket = world.stream_label(self.connection, self.side);
        cx::set_waiting_on(WaitOn::Socket {
            op: SocketWait::Read,
            socket,
        });
    }

    /// Writes what fits of `buf` in the window (the bytes sent and not
    /// read by the peer, at most its [`pipe::window`]) as one segment, and
    /// is ready with the count; `Pending` when nothing fits, and then
    /// (given a `context`) parked until the peer's reads make room.
    // Out of line (as the write before flow control was): the stream's
    // `poll_write` and a `Detached` stream's `write` call it.
    #[inline(never)]
    pub(super) fn write_with(
        &self,
        context: Option<&mut Context<'_>>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        // A poll is under the task's cooperative budget; a `try_` form (no
        // context) never yields.
        let now = match context.as_deref() {
            Some(polling) => std::task::ready!(self.check_now_budgeted(world, polling))?,
            None => self.check_now(world)?,
        };
        let c = &world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            return Poll::Ready(Err(self.write_failed(world, kind, context.as_deref())));
        }
        let pipe = &c.pipes[1 - self.side];
        // The one look a write makes at the window: the bytes sent and not
        // read (arrived or on their way; held ones count in `limit`, which
        // is 0 once this end's write side is shut or the peer's end gone)
        // and these.
        if buf.is_empty() || pipe.bytes.len() - pipe.read_at + buf.len() > pipe.limit {
            return self.write_past_limit(world, buf, context, now);
        }
        world.record_stream(self.connection, self.side, NetOp::Send, buf.len());
        send(world, self.connection, self.side, Some(buf), now);
        Poll::Ready(Ok(buf.len()))
    }

    /// A write past its pipe's `limit` (or of nothing): after a shutdown
    /// (`BrokenPipe`), of nothing (0), to a peer end that is gone (lost:
    /// [`TcpStream::drop_written`]), or that does not fit in the window:
    /// what fits is sent ([`TcpStream::fits`]), or, when nothing does,
    /// the write waits. Out of line: a write rarely gets here.
    #[cold]
    #[inline(never)]
    fn write_past_limit(
        &self,
        world: &mut World,
        buf: &[u8],
        context: Option<&mut Context<'_>>,
        now: u64,
    ) -> Poll<io::Result<usize>> {
        let c = &world.net.connections[self.connection];
        if c.write_shut[self.side] {
            // No event: the failed write's unit of the budget spent here.
            cx::spend_on_completion();
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("{}: write after close (shutdown)", c.name(self.side)),
            )));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if c.dropped[1 - self.side] {
            if matches!(c.reset_ns[self.side], Some(at) if at <= now) {
                // The reset of the peer's close has come (taken once).
                let kind = c.close_reset_kind(self.side);
                if !world.net.connections[self.connection].take_error(self.side) {
                    let error = self.write_after_error(world, io::ErrorKind::ConnectionReset);
                    return Poll::Ready(Err(error));
                }
                pipe::say_close_reset_or_spend(world, self.connection, self.side);
                return Poll::Ready(Err(self.error(world, kind)));
            }
            self.drop_written(world, buf.len(), now);
            // Its event (a drop) is no operation's: the write's unit of
            // the budget spent here, or a loop writing to a closed peer
            // never yielded, and the reset never came.
            cx::spend_on_completion();
            return Poll::Ready(Ok(buf.len()));
        }
        let len = self.fits(world, buf.len(), context);
        if len == 0 {
            return Poll::Pending;
        }
        world.record_stream(self.connection, self.side, NetOp::Send, len);
        send(world, self.connection, self.side, Some(&buf[..len]), now);
        pipe::sent_unacked(world, self.connection, self.side, len, now);
        Poll::Ready(Ok(len))
    }

    /// A write of `len` bytes that does not fit in the window: how many do
    /// (a write takes what fits, as a socket's send does); when none do,
    /// the writer waits for room ([`TcpStream::wait_to_write`], given a
    /// `context`).
    fn fits(&self, world: &mut World, len: usize, context: Option<&mut Context<'_>>) -> usize {
        let pipe = &world.net.connections[self.connection].pipes[1 - self.side];
        let room = pipe.room();
        if room == 0 {
            if let Some(context) = context {
                self.wait_to_write(world, context);
            }
        }
        room.min(len)
    }

    /// Parks the task writing to this end until the peer's reads make room
    /// in the window, a buffer is set wider, or the end's error comes; and
    /// says what it waits on.
    fn wait_to_write(&self, world: &mut World, context: &mut Context<'_>) {
        let now = cx::now_ns("asyncsim::net::TcpStream::write");
        pipe::writer_cut(world, self.connection, self.side, now);
        let c = &mut world.net.connections[self.connection];
        let error_ns = c.errors[self.side].map(|(at, _)| at);
        c.pipes[1 - self.side]
            .writer
            .park(context.waker(), error_ns);
        let socket = world.stream_label(self.connection, self.side);
        cx::set_waiting_on(WaitOn::Socket {
            op: SocketWait::Write,
            socket,
        });
    }

    /// A write (or a wait for room) finds the end's error come: recorded
    /// once, as a read records it; the error to return: the end's error
    /// the first time (taken), `BrokenPipe` once it was taken.
    #[cold]
    #[inline(never)]
    fn write_failed(
        &self,
        world: &mut World,
        kind: io::ErrorKind,
        context: Option<&Context<'_>>,
    ) -> io::Error {
        let c = &mut world.net.connections[self.connection];
        c.pipes[1 - self.side].writer.ready_by(context);
        if !c.take_error(self.side) {
            return self.write_after_error(world, kind);
        }
        pipe::say_error_or_spend(world, self.connection, self.side, kind);
        self.error(world, kind)
    }

    /// Polls until a write would not wait: there is room in the window,
    /// or the write would fail (the end's error has come, its write side
    /// is shut) or be lost (the peer's end is gone). Waits as a write
    /// does.
    ///
    /// Under the cooperative budget as tokio's `poll_write_ready` is:
    /// yields instead when the task's budget is spent, and spends a unit
    /// when ready (a loop of it alone yields).
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn poll_write_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let ready = self.poll_write_readiness(context);
        if let Poll::Ready(Ok(())) = ready {
            cx::spend_on_completion();
        }
        ready
    }

    /// [`TcpStream::poll_write_ready`] spending nothing (the tokio face's
    /// `writable` and `ready`, whose wait spends nothing on tokio either):
    /// it yields first when the task's budget is spent (the `try_` write
    /// after it spends the unit), so a loop of it and a `try_` write
    /// yields.
    #[doc(hidden)]
    pub fn poll_write_readiness(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(crate::world::net::poll_budget(context));
        self.write_ready(Some(context))
    }

    /// Looks whether a write would wait, as [`TcpStream::poll_write_ready`]
    /// does, without waiting (nothing is parked: a task waiting to write
    /// stays the one woken).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when a write would wait; a stream of another run or of
    /// a crashed node.
    pub fn try_write_ready(&self) -> io::Result<()> {
        match self.write_ready(None) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// [`TcpStream::poll_write_ready`], parking only when given a
    /// `context`.
    fn write_ready(&self, context: Option<&mut Context<'_>>) -> Poll<io::Result<()>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let c = &world.net.connections[self.connection];
        let peer = 1 - self.side;
        let pipe = &c.pipes[peer];
        if c.error_at(self.side, now).is_some()
            || c.write_shut[self.side]
            || c.dropped[peer]
            || pipe.room() > 0
        {
            let pipe = &mut world.net.connections[self.connection].pipes[peer];
            pipe.writer.ready_by(context.as_deref());
            return Poll::Ready(Ok(()));
        }
        if let Some(context) = context {
            self.wait_to_write(world, context);
        }
        Poll::Pending
    }

    /// Sets this end's send buffer (`SO_SNDBUF`) as Linux does: `size`
    /// (at most 212,992) doubled, at least 4,608 bytes; what
    /// [`TcpStream::send_buffer_size`] then says. With the peer's receive
    /// buffer it bounds the bytes this end may have written and the peer
    /// not read: a write past that takes what fits, or waits.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_buffer(size, true)
    }

    /// Sets this end's receive buffer (`SO_RCVBUF`) as Linux does: `size`
    /// (at most 212,992) doubled, at least 2,304 bytes. With the peer's
    /// send buffer it bounds the bytes the peer may have written and this
    /// end not read.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_buffer(size, false)
    }

    /// Sets this end's `SO_LINGER`. `Some(Duration::ZERO)` makes its
    /// close (its drop) abortive, as on Linux: a reset instead of a FIN,
    /// whatever is unread (the peer reads what was sent before it, then
    /// gets `ConnectionReset`). Another time changes nothing here: a close
    /// leaves nothing unsent to wait for.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check_now(world)?;
        world.net.connections[self.connection].linger_ns[self.side] = pipe::linger_ns(linger);
        Ok(())
    }

    /// This end's `SO_LINGER`, as set (`None`: off, the default).
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        let world = self.world.borrow();
        let linger_ns = world.net.connections[self.connection].linger_ns[self.side];
        Ok((linger_ns != u64::MAX).then(|| std::time::Duration::from_nanos(linger_ns)))
    }

    /// This end's send buffer: [`DEFAULT_SEND_BUFFER`] (16 KiB, Linux's)
    /// or as set.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].send_buffer[self.side])
    }

    /// This end's receive buffer: [`DEFAULT_RECV_BUFFER`] (128 KiB,
    /// Linux's) or as set.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        let world = self.world.borrow();
        Ok(world.net.connections[self.connection].recv_buffer[self.side])
    }

    fn set_buffer(&self, size: u32, send: bool) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        let size = pipe::buffer_set_to(size, send);
        if send {
            c.send_buffer[self.side] = size;
        } else {
            c.recv_buffer[self.side] = size;
        }
        c.set_windows();
        Ok(())
    }

    /// A write to a peer end that is gone (dropped, or its node crashed,
    /// its reset not here yet): accepted, as a real socket's send buffer
    /// would, and lost at once: a drop. To a closed end (not a crashed
    /// node's) across no cut, the segment arrives and is answered with a
    /// reset (Linux's answer to a segment for a socket it closed), which
    /// fails this end's later writes: a `net` latency draw for the segment
    /// and one for the reset, at the first such write only (out of line).
    #[cold]
    #[inline(never)]
    fn drop_written(&self, world: &mut World, bytes: usize, now: u64) {
        let c = &world.net.connections[self.connection];
        let peer = 1 - self.side;
        let crashed = !world.alive(c.nodes[peer] as usize, c.incarnations[peer]);
        let why = if crashed {
            DropWhy::Crashed
        } else {
            DropWhy::Closed
        };
        let (node, peer_node, stream) = (c.nodes[self.side], c.nodes[peer], c.names[self.side]);
        let answered = c.reset_ns[self.side].is_some();
        world.record_stream_drop(self.connection, peer, why, bytes);
        if crashed || answered || world.net.is_cut_either(node, peer_node) {
            return;
        }
        let latency = world.latency(node, peer_node, Carried::Segment { stream, bytes });
        let arrival_ns =
            (now + latency).max(world.net.connections[self.connection].pipes[peer].last_arrival_ns);
        pipe::answer_with_close_reset(world, self.connection, peer, arrival_ns, now);
    }

    pub(super) fn shutdown_write(&self) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        if std::mem::replace(&mut c.write_shut[self.side], true) {
            return Ok(());
        }
        // Its writes go to the slow path now (`BrokenPipe`), and one
        // waiting for room fails now.
        let pipe = &mut c.pipes[1 - self.side];
        pipe.limit = 0;
        if pipe.writer.waiting() {
            pipe.writer.wake_all();
        }
        send(world, self.connection, self.side, None, now);
        Ok(())
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.close_end(None);
    }
}

impl TcpStream {
    /// Dropped: this end is gone (EOF to the peer, unless shut already;
    /// a reset instead, shut or not, when bytes arrived here unread:
    /// `pipe::send_reset`). `unanswered`: the client end of a connect abandoned before its
    /// SYN-ACK arrives (at that time): the peer is reset instead
    /// (`pipe::answer_with_reset`).
    fn close_end(&mut self, unanswered: Option<u64>) {
        let Ok(mut world) = self.world.try_borrow_mut() else {
            return;
        };
        let world = &mut *world;
        let c = &mut world.net.connections[self.connection];
        if c.dropped[self.side] {
            return;
        }
        c.drop_end(self.side);
        // The peer's write waiting for room finds this end gone: what it
        // writes is lost (as any write to a closed end).
        if c.pipes[self.side].writer.waiting() {
            c.pipes[self.side].writer.wake_all();
        }
        if c.pipes[1 - self.side].writer.waiting() {
            c.pipes[1 - self.side].writer.clear();
        }
        if c.error_watch[self.side].is_some() {
            // Its error, still coming, reaches no one now.
            c.unwatch_error(self.side);
        }
        let (node, port) = (c.nodes[self.side], c.addrs[self.side].port());
        // (Its `limit` stays: no write can come from an end dropped.)
        let shut = std::mem::replace(&mut c.write_shut[self.side], true);
        if self.side == 0 {
            let key = (node, Protocol::Tcp, port);
            world.net.bound.remove_if_eq(&key, &usize::MAX);
        }
        // This run's time: `None` for a stream dropped after its run.
        let now = cx::now_in_run(world.run_id);
        if let Some(now) = now {
            let c = &world.net.connections[self.connection];
            if !c.pipes[self.side].segments.is_empty() || c.linger_ns[self.side] == 0 {
                // Bytes sent here and unread, or an abortive close: out of
                // line (a stream read to its end closes as it did).
                self.close_with_bytes_unread(world, shut, unanswered, now);
            } else if !shut {
                match unanswered {
                    None => send(world, self.connection, self.side, None, now),
                    Some(synack_ns) => pipe::answer_with_reset(world, self.connection, synack_ns),
                }
            }
        }
        // What was sent here and not read is lost with this end: recorded
        // at the step boundary after the drop, so a stream dropped as the
        // run ends (no boundary comes) records nothing.
        let unread = world.net.connections[self.connection].pipes[self.side].unread_bytes();
        if unread > 0 && now.is_some() {
            let (world_rc, connection, side) = (self.world.clone(), self.connection, self.side);
            cx::at_step_boundary(Box::new(move || {
                world_rc
                    .borrow_mut()
                    .record_stream_drop(connection, side, DropWhy::Closed, unread);
            }));
        }
    }
}

impl TcpStream {
    /// [`TcpStream::close_end`] with bytes sent to this end and not read
    /// (`shut`: its write side was shut already), or with a zero
    /// `SO_LINGER`. Bytes arrived and unread (Linux's receive queue not
    /// empty), or the zero linger: a reset instead of the FIN, even after a
    /// shutdown sent one (unless the peer is gone: nobody to tell), and none
    /// once the connection failed. Else the FIN as usual, and bytes still
    /// on their way here are answered with a reset when the first arrives,
    /// as Linux answers data for a socket it closed. Out of line.
    #[cold]
    #[inline(never)]
    fn close_with_bytes_unread(
        &self,
        world: &mut World,
        shut: bool,
        unanswered: Option<u64>,
        now: u64,
    ) {
        let c = &world.net.connections[self.connection];
        let reset = c.error_at(self.side, now).is_none()
            && (c.pipes[self.side]
                .segments
                .front()
                .is_some_and(|segment| segment.arrival_ns <= now)
                || c.linger_ns[self.side] == 0)
            && !(shut && c.dropped[1 - self.side]);
        if reset {
            pipe::send_reset(world, self.connection, self.side, now);
            return;
        }
        if !shut {
            match unanswered {
                None => send(world, self.connection, self.side, None, now),
                Some(synack_ns) => pipe::answer_with_reset(world, self.connection, synack_ns),
            }
        }
        let c = &world.net.connections[self.connection];
        let (node, peer_node) = (c.nodes[self.side], c.nodes[1 - self.side]);
        if let Some(first) = c.pipes[self.side].segments.front() {
            let first_ns = first.arrival_ns;
            if unanswered.is_none() && !world.net.is_cut_either(node, peer_node) {
                pipe::answer_with_close_reset(world, self.connection, self.side, first_ns, now);
            }
        }
    }
}

impl futures_io::AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.read_into(context, buf)
    }
}

impl futures_io::AsyncWrite for TcpStream {
    /// Writes what fits in the window (see [`TcpStream::set_send_buffer_size`]):
    /// all of `buf` unless the peer has left that much unread; waits when
    /// nothing fits, until the peer reads.
    fn poll_write(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_with(Some(context), buf)
    }

    /// Ready at once: what a write took is on its way (as a socket's
    /// flush, which waits for nothing).
    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.world.try_borrow() {
            Ok(world) => f.write_str(&world.net.connections[self.connection].name(self.side)),
            Err(_) => f.write_str("TcpStream"),
        }
    }
}

impl super::Waitable for TcpStream {
    /// Leaves this end's readers and its writers waiting for room (a
    /// readiness wait may be on either side, or both).
    fn leave_waiters(&self, key: super::WaiterKey) {
        self.leave_waiters_of(key, true, true);
    }

    fn leave_waiters_of(&self, key: super::WaiterKey, read: bool, write: bool) {
        let (connection, side) = (self.connection, self.side);
        if read {
            super::leave_side(
                &self.world,
                |world| &mut world.net.connections[connection].pipes[side].reader,
                key,
            );
        }
        if write {
            super::leave_side(
                &self.world,
                |world| &mut world.net.connections[connection].pipes[1 - side].writer,
                key,
            );
        }
    }
}

impl super::Waitable for TcpListener {
    fn leave_waiters(&self, key: super::WaiterKey) {
        let listener = self.listener;
        super::leave_side(
            &self.world,
            |world| &mut world.net.listeners[listener].acceptor,
            key,
        );
    }
}
