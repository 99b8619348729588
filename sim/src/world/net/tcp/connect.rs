//! Connecting: a connect's SYN and SYN-ACK, the connection it opens in a
//! listener's backlog, a SYN that arrives after its listener went, a
//! connect refused or timed out across a cut, and one abandoned on the way.

use std::future::Future;
use std::io;

use super::pipe::{buffer_set_to, Connection, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};
use super::TcpStream;
use super::{error, pipe};
use super::{Carried, Protocol, ToAddress};
use crate::trace::{EventKind, NetOp};
use crate::world::{cx, same_run, world, World, WorldRc};

/// End `side`, its connect or accept event just recorded, is its task's:
/// its error (a reset, a timeout) is recorded when it comes from now on.
#[inline]
pub(super) fn stream_handed_out(world: &mut World, connection: usize, side: usize, now: u64) {
    let c = &mut world.net.connections[connection];
    if c.errors[side].is_none() {
        c.quiet[side] = false;
    } else {
        error::handed_out(world, connection, side, now);
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
    Address(crate::world::net::Address),
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
        crash_unsaid,
        gave_up,
        af_unix,
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
    *crash_unsaid = [false, false];
    *gave_up = [false, false];
    *af_unix = [false, false];
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
    /// Across a partition this differs from Linux in two ways, on purpose
    /// kept simple: Linux retransmits the SYN (after 1, 3, 7, 15, 31 and
    /// 63 s) and gives up about 127 s after the connect (`tcp_syn_retries`
    /// = 6), while here it gives up after `tcp_timeout` (30 s unless set);
    /// and a connect begun across a cut fails even if the cut is repaired
    /// before then, where Linux's next SYN would get through and connect.
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
}
