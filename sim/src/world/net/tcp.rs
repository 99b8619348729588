//! TCP: listeners, connections, and streams with in-order delivery.
//!
//! A connection is two pipes, one toward each end. A write becomes a
//! segment with a drawn latency; its arrival is never before the previous
//! segment's, so each direction delivers in order. A lost segment is a
//! retransmission: a drawn extra delay, never lost bytes. Across a cut,
//! segments are held back until the link heals; if it does not within the
//! link's `tcp_timeout`, both ends fail with `TimedOut`. A peer's crash
//! reaches the other end one latency later as `ConnectionReset`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Carried, Parked, Protocol, ToAddress};
use crate::cx::NodeId;
use crate::trace::{FaultOp, NetOp, SocketWait, WaitOn};
use crate::world::{cx, same_run, world, World, WorldRc};
use crate::world::{push_decimal, WordsKey, WORDS_LISTENER, WORDS_STREAM};

/// A listener's state.
pub(crate) struct ListenerState {
    node: u32,
    incarnation: NodeId,
    port: u16,
    /// Connections whose SYN arrives at `.0`, in arrival order.
    backlog: VecDeque<(u64, usize)>,
    acceptor: Parked,
    open: bool,
    /// The interned trace label, made when first needed.
    label: Option<u32>,
}

/// A segment on its way: when it arrives, and its length (its bytes are
/// the next `len` of the pipe's `bytes`).
struct Segment {
    arrival_ns: u64,
    len: usize,
}

/// The bytes flowing toward one end of a connection.
#[derive(Default)]
pub(crate) struct Pipe {
    segments: VecDeque<Segment>,
    /// The bytes of `segments`, in order (one buffer for them all: a
    /// segment allocates nothing).
    bytes: VecDeque<u8>,
    /// Bytes of the front segment already read.
    offset: usize,
    last_arrival_ns: u64,
    /// When the sender's half-close (EOF) arrives.
    fin_ns: Option<u64>,
    /// Segments (and a FIN) held back by a cut, in send order.
    held: Vec<Vec<u8>>,
    held_fin: bool,
    /// Since when the held segments wait.
    held_since_ns: Option<u64>,
    reader: Parked,
}

impl Pipe {
    /// Empties the pipe for another connection, keeping its buffers.
    fn clear(&mut self) {
        // Every field named, so a new one cannot be forgotten here.
        let Pipe {
            segments,
            bytes,
            offset,
            last_arrival_ns,
            fin_ns,
            held,
            held_fin,
            held_since_ns,
            reader,
        } = self;
        segments.clear();
        bytes.clear();
        // A big buffer is not kept for whatever comes next.
        if bytes.capacity() > SPARE_BYTES_MAX {
            *bytes = VecDeque::new();
        }
        *offset = 0;
        *last_arrival_ns = 0;
        *fin_ns = None;
        held.clear();
        *held_fin = false;
        *held_since_ns = None;
        *reader = Parked::default();
    }
}

/// What the connections and listeners of earlier runs in this world leave
/// for new ones: connections with emptied pipes and emptied backlogs, their
/// buffers kept (a connection then allocates nothing in a run after the
/// first).
#[derive(Default)]
pub(crate) struct Spare {
    connections: Vec<Connection>,
    backlogs: Vec<VecDeque<(u64, usize)>>,
}

/// At most this many connections and backlogs are kept, and a pipe's byte
/// buffer only up to this size.
const SPARE_MAX: usize = 256;
const SPARE_BYTES_MAX: usize = 64 * 1024;

impl Spare {
    /// Takes the pipes and backlogs of a run's connections and listeners
    /// (emptying both lists). Emptied in place and moved as a whole: no
    /// connection is copied one by one.
    pub(crate) fn keep(
        &mut self,
        listeners: &mut Vec<ListenerState>,
        connections: &mut Vec<Connection>,
    ) {
        for listener in listeners.iter_mut() {
            if self.backlogs.len() < SPARE_MAX {
                listener.backlog.clear();
                self.backlogs.push(std::mem::take(&mut listener.backlog));
            }
        }
        listeners.clear();
        connections.truncate(SPARE_MAX.saturating_sub(self.connections.len()));
        for connection in connections.iter_mut() {
            connection.pipes[0].clear();
            connection.pipes[1].clear();
        }
        if self.connections.is_empty() {
            std::mem::swap(&mut self.connections, connections);
        } else {
            self.connections.append(connections);
        }
    }

    /// Two emptied pipes for a new connection.
    fn pipes(&mut self) -> [Pipe; 2] {
        match self.connections.pop() {
            Some(connection) => connection.pipes,
            None => [Pipe::default(), Pipe::default()],
        }
    }

    fn backlog(&mut self) -> VecDeque<(u64, usize)> {
        self.backlogs.pop().unwrap_or_default()
    }
}

/// One TCP connection: side 0 is the client, side 1 the server.
pub(crate) struct Connection {
    /// `pipes[side]`: the bytes toward `side`.
    pipes: [Pipe; 2],
    nodes: [u32; 2],
    incarnations: [NodeId; 2],
    addrs: [SocketAddr; 2],
    /// From `.0` on, `side` fails with `.1`.
    errors: [Option<(u64, io::ErrorKind)>; 2],
    write_shut: [bool; 2],
    dropped: [bool; 2],
    /// `TcpStream#n` of each end.
    names: [u32; 2],
    /// Each end's interned trace label, made when first needed.
    labels: [Option<u32>; 2],
}

impl World {
    /// The trace label of one end of a connection: "TcpStream#3
    /// (main:49152 -> server:6379)".
    #[inline]
    fn stream_label(&mut self, connection: usize, side: usize) -> u32 {
        match self.net.connections[connection].labels[side] {
            Some(label) => label,
            None => self.make_stream_label(connection, side),
        }
    }

    /// [`World::stream_label`]'s first call for a stream end (out of line:
    /// every later call finds the label made).
    #[cold]
    #[inline(never)]
    fn make_stream_label(&mut self, connection: usize, side: usize) -> u32 {
        let c = &self.net.connections[connection];
        // Made once a stream end, so by hand (`format!` costs several
        // times this) or as the last run made it, and added as new:
        // `TcpStream#n` is unique.
        let (local, peer) = (
            &self.nodes[c.nodes[side] as usize].name,
            &self.nodes[c.nodes[1 - side] as usize].name,
        );
        let (number, local_port, peer_port) = (
            u64::from(c.names[side]),
            u64::from(c.addrs[side].port()),
            u64::from(c.addrs[1 - side].port()),
        );
        let key = WordsKey {
            kind: WORDS_STREAM,
            numbers: [number, local_port, peer_port, 0, 0],
            names: [local, peer],
        };
        let (text, text_hash) = self.memo.words(key, || {
            let mut text = String::with_capacity(40 + local.len() + peer.len());
            text.push_str("TcpStream#");
            push_decimal(&mut text, number);
            text.push_str(" (");
            text.push_str(local);
            text.push(':');
            push_decimal(&mut text, local_port);
            text.push_str(" -> ");
            text.push_str(peer);
            text.push(':');
            push_decimal(&mut text, peer_port);
            text.push(')');
            text
        });
        let label = cx::add_label(text, Some(text_hash));
        self.net.connections[connection].labels[side] = Some(label);
        label
    }

    /// Records a network event on one end of a connection.
    #[inline]
    fn record_stream(&mut self, connection: usize, side: usize, op: NetOp, bytes: usize) {
        let socket = self.stream_label(connection, side);
        cx::record_net(op, socket, bytes.min(u32::MAX as usize) as u32);
    }
}

/// "TcpStream#3 (10.0.0.1:49152 -> 10.0.0.2:6379)".
fn stream_name(number: u32, local: SocketAddr, peer: SocketAddr) -> String {
    format!("TcpStream#{number} ({local} -> {peer})")
}

impl Connection {
    fn name(&self, side: usize) -> String {
        stream_name(self.names[side], self.addrs[side], self.addrs[1 - side])
    }

    /// The error `side` sees at `now_ns`, if any.
    fn error_at(&self, side: usize, now_ns: u64) -> Option<io::ErrorKind> {
        match self.errors[side] {
            Some((at_ns, kind)) if at_ns <= now_ns => Some(kind),
            _ => None,
        }
    }

    /// Sets `side`'s error unless an earlier one is set.
    fn fail_at(&mut self, side: usize, at_ns: u64, kind: io::ErrorKind) {
        match self.errors[side] {
            Some((earlier, _)) if earlier <= at_ns => {}
            _ => {
                self.errors[side] = Some((at_ns, kind));
                self.pipes[side].reader.due_at(at_ns);
            }
        }
    }
}

/// Sends one segment (`None`: the FIN of a half-close) from `side`.
fn send(world: &mut World, connection: usize, side: usize, data: Option<&[u8]>) {
    let now = cx::now_ns("asyncsim::net::TcpStream");
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let held = !world.net.connections[connection].pipes[to_side]
        .held
        .is_empty()
        || world.net.connections[connection].pipes[to_side].held_fin;
    if held || world.net.is_cut(from, to) {
        let timeout = world.net.config(from, to).tcp_timeout_ns;
        let c = &mut world.net.connections[connection];
        let pipe = &mut c.pipes[to_side];
        match data {
            Some(data) => pipe.held.push(data.to_vec()),
            None => pipe.held_fin = true,
        }
        let since = *pipe.held_since_ns.get_or_insert(now);
        c.fail_at(side, since + timeout, io::ErrorKind::TimedOut);
        c.fail_at(to_side, since + timeout, io::ErrorKind::TimedOut);
        return;
    }
    deliver(world, connection, side, data, now);
}

/// Puts a segment on the wire from `side` now.
fn deliver(world: &mut World, connection: usize, side: usize, data: Option<&[u8]>, now: u64) {
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let stream = world.net.connections[connection].names[side];
    let carried = match data {
        Some(data) => Carried::Segment {
            stream,
            bytes: data.len(),
        },
        None => Carried::Fin { stream },
    };
    let mut latency;
    if from == to {
        latency = world.latency(from, to, carried);
    } else {
        let config = world.net.config(from, to);
        latency = world.latency_on(&config, from, to, carried);
        if data.is_some() {
            // Named only when a loss is drawn and the run explains itself.
            let c = &world.net.connections[connection];
            let (names, addrs) = (c.names, c.addrs);
            if World::chance(
                config.loss,
                "asyncsim::net segment loss",
                FaultOp::Lost,
                || {
                    format!(
                        "lost a segment of {}: retransmitted after {}",
                        stream_name(names[side], addrs[side], addrs[1 - side]),
                        crate::trace::format_ns(config.retransmit_ns)
                    )
                },
            ) {
                latency += config.retransmit_ns;
            }
        }
    }
    let c = &mut world.net.connections[connection];
    let pipe = &mut c.pipes[to_side];
    let arrival_ns = (now + latency).max(pipe.last_arrival_ns);
    pipe.last_arrival_ns = arrival_ns;
    match data {
        Some(data) => {
            pipe.bytes.extend(data);
            pipe.segments.push_back(Segment {
                arrival_ns,
                len: data.len(),
            });
        }
        None => pipe.fin_ns = Some(arrival_ns),
    }
    pipe.reader.due_at_from(arrival_ns, now);
}

/// After a link opened: held segments whose link is no longer cut leave
/// now, in order, and their pending timeouts are lifted.
pub(crate) fn release_held(world: &mut World) {
    let now = cx::now_ns("asyncsim::net::repair");
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let to_side = 1 - side;
            let (from, to, held, fin) = {
                let c = &mut world.net.connections[connection];
                let pipe = &mut c.pipes[to_side];
                if pipe.held.is_empty() && !pipe.held_fin {
                    continue;
                }
                (
                    c.nodes[side],
                    c.nodes[to_side],
                    std::mem::take(&mut pipe.held),
                    std::mem::take(&mut pipe.held_fin),
                )
            };
            if world.net.is_cut(from, to) {
                let pipe = &mut world.net.connections[connection].pipes[to_side];
                pipe.held = held;
                pipe.held_fin = fin;
                continue;
            }
            world.net.connections[connection].pipes[to_side].held_since_ns = None;
            for data in held {
                deliver(world, connection, side, Some(&data), now);
            }
            if fin {
                deliver(world, connection, side, None, now);
            }
            let c = &mut world.net.connections[connection];
            if c.pipes[0].held_since_ns.is_none() && c.pipes[1].held_since_ns.is_none() {
                for error in &mut c.errors {
                    if matches!(error, Some((at, io::ErrorKind::TimedOut)) if *at > now) {
                        *error = None;
                    }
                }
            }
        }
    }
}

/// A node crashed: its streams are gone (peers see a reset one latency
/// later), its listeners close (connections waiting in their backlog are
/// refused or reset).
pub(crate) fn crash_node(world: &mut World, node: u32, incarnation: NodeId) {
    let now = cx::now_ns("asyncsim::node::crash");
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let peer = 1 - side;
            let (peer_node, hit) = {
                let c = &world.net.connections[connection];
                (
                    c.nodes[peer],
                    c.nodes[side] == node
                        && c.incarnations[side] == incarnation
                        && !c.dropped[side],
                )
            };
            if !hit {
                continue;
            }
            world.net.connections[connection].dropped[side] = true;
            if side == 0 {
                let port = world.net.connections[connection].addrs[0].port();
                let key = (node, Protocol::Tcp, port);
                if world.net.bound.get(&key) == Some(&usize::MAX) {
                    world.net.bound.remove(&key);
                }
            }
            if peer_node == node || world.net.is_cut(node, peer_node) {
                continue;
            }
            let stream = world.net.connections[connection].names[side];
            let latency = world.latency(node, peer_node, Carried::Reset { stream });
            let c = &mut world.net.connections[connection];
            c.fail_at(peer, now + latency, io::ErrorKind::ConnectionReset);
        }
    }
    for listener in 0..world.net.listeners.len() {
        let state = &mut world.net.listeners[listener];
        if state.node != node || state.incarnation != incarnation || !state.open {
            continue;
        }
        state.open = false;
        let key = (state.node, Protocol::Tcp, state.port);
        let backlog = std::mem::take(&mut state.backlog);
        if world.net.bound.get(&key) == Some(&listener) {
            world.net.bound.remove(&key);
        }
        for (_, connection) in backlog {
            let c = &mut world.net.connections[connection];
            c.dropped[1] = true;
            // The client either still waits for its SYN-ACK (refused) or
            // thinks it is connected (reset).
            let established = c.pipes[0].last_arrival_ns <= now;
            if established {
                c.fail_at(0, now, io::ErrorKind::ConnectionReset);
            } else {
                c.errors[0] = Some((now, io::ErrorKind::ConnectionRefused));
            }
        }
    }
}

/// Where a connect goes: a host name and port, borrowed from the caller's
/// address (see `ToAddress::host_and_port`), or an address.
enum Destination<'a> {
    Host(&'a str, u16),
    Address(super::Address),
}

impl std::fmt::Display for Destination<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Host(host, port) => write!(f, "{host}:{port}"),
            Destination::Address(address) => write!(f, "{address}"),
        }
    }
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

/// A TCP connection's end: `futures::io::{AsyncRead, AsyncWrite}`.
///
/// Dropping it (or `close()`) sends EOF to the peer.
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
                return Err(node_crashed("TcpListener::bind", &world.nodes[node].name));
            }
            let port = world.bind_port(&address, node)?;
            let index = world.net.listeners.len();
            let port = world.claim_port(node, Protocol::Tcp, port, index)?;
            let backlog = world.net.spare.backlog();
            world.net.listeners.push(ListenerState {
                node: node as u32,
                incarnation,
                port,
                backlog,
                acceptor: Parked::default(),
                open: true,
                label: None,
            });
            index
        };
        Ok(TcpListener {
            world: world_rc,
            listener,
        })
    }

    /// Waits for the next connection: the stream and the peer's address.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|context| self.poll_accept(context)).await
    }

    /// Polls for the next connection (see [`TcpListener::accept`]).
    pub fn poll_accept(
        &self,
        context: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
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
                state.acceptor.ready();
                world.record_stream(connection, 1, NetOp::Accept, 0);
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
                        names: [name, ""],
                    };
                    let (text, text_hash) = world.memo.words(key, || {
                        let mut text = String::with_capacity(20 + name.len());
                        text.push_str("TcpListener (");
                        text.push_str(name);
                        text.push(':');
                        push_decimal(&mut text, u64::from(port));
                        text.push(')');
                        text
                    });
                    cx::intern_label_known(text, Some(text_hash))
                });
                cx::set_waiting_on(WaitOn::Socket {
                    op: SocketWait::Accept,
                    socket,
                });
                Poll::Pending
            }
        }
    }

    /// The address it listens on (the node's IP and the port).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let world = self.world.borrow();
        let state = &world.net.listeners[self.listener];
        Ok(world.socket_addr(state.node as usize, state.port))
    }
}

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
        if world.net.bound.get(&key) == Some(&self.listener) {
            world.net.bound.remove(&key);
        }
        let backlog = std::mem::take(&mut world.net.listeners[self.listener].backlog);
        if !same_run(world.run_id) {
            return;
        }
        let now = cx::now_ns("asyncsim::net::TcpListener::drop");
        for (_, connection) in backlog {
            let c = &mut world.net.connections[connection];
            c.dropped[1] = true;
            c.fail_at(0, now, io::ErrorKind::ConnectionReset);
        }
    }
}

/// Opens a connection from the calling task's node to `listener` (on node
/// `target`, `port`) whose SYN arrives at `syn_ns` and SYN-ACK at
/// `synack_ns`: both pipes, the listener's backlog, its acceptor's wake.
#[allow(clippy::too_many_arguments)]
fn open_connection(
    world_rc: &WorldRc,
    world: &mut World,
    target: usize,
    port: u16,
    listener: usize,
    syn_ns: u64,
    synack_ns: u64,
    now: u64,
) -> io::Result<TcpStream> {
    let (node, incarnation) = world.current();
    let (from, to) = (node as u32, target as u32);
    let connection = world.net.connections.len();
    let local_port = world.claim_port(node, Protocol::Tcp, 0, usize::MAX)?;
    let first = world.net.streams_made;
    world.net.streams_made += 2;
    let server_incarnation = world.net.listeners[listener].incarnation;
    let mut pipes = world.net.spare.pipes();
    // Nothing the server sends can arrive before the handshake completes,
    // nor the client's before its SYN.
    pipes[0].last_arrival_ns = synack_ns;
    pipes[1].last_arrival_ns = syn_ns;
    world.net.connections.push(Connection {
        pipes,
        nodes: [from, to],
        incarnations: [incarnation, server_incarnation],
        addrs: [
            world.socket_addr(node, local_port),
            world.socket_addr(target, port),
        ],
        errors: [None, None],
        write_shut: [false, false],
        dropped: [false, false],
        names: [first, first + 1],
        labels: [None, None],
    });
    let state = &mut world.net.listeners[listener];
    let position = state
        .backlog
        .iter()
        .position(|(ready, _)| *ready > syn_ns)
        .unwrap_or(state.backlog.len());
    state.backlog.insert(position, (syn_ns, connection));
    state.acceptor.due_at_from(syn_ns, now);
    Ok(TcpStream {
        world: world_rc.clone(),
        connection,
        side: 0,
    })
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
    pub async fn connect<A: ToAddress>(address: A) -> io::Result<TcpStream> {
        // A host name is looked up borrowed: no `Address` made for it.
        let address = match address.host_and_port() {
            Some((host, port)) => Destination::Host(host, port),
            None => Destination::Address(address.to_address()?),
        };
        let world_rc = world("asyncsim::net::TcpStream::connect");
        enum Plan {
            /// Nothing listened when the SYN left: look again when it arrives.
            Unheard {
                syn_ns: u64,
                synack_ns: u64,
                target: usize,
                port: u16,
            },
            TimedOut(u64),
            Connected(u64, TcpStream),
        }
        let plan = {
            let mut world = world_rc.borrow_mut();
            let world = &mut *world;
            let (node, incarnation) = world.current();
            if !world.alive(node, incarnation) {
                return Err(node_crashed("TcpStream::connect", &world.nodes[node].name));
            }
            let (target, port) = match &address {
                Destination::Host(host, port) => world.resolve_host(host, *port, node)?,
                Destination::Address(address) => world.resolve(address, node)?,
            };
            let now = cx::now_ns("asyncsim::net::TcpStream::connect");
            let (from, to) = (node as u32, target as u32);
            if world.net.is_cut(from, to) || world.net.is_cut(to, from) {
                Plan::TimedOut(now + world.net.config(from, to).tcp_timeout_ns)
            } else {
                let syn_ns = now + world.latency(from, to, Carried::Syn);
                let synack_ns = syn_ns + world.latency(to, from, Carried::SynAck);
                let listener = world.net.bound.get(&(to, Protocol::Tcp, port)).copied();
                match listener {
                    None => Plan::Unheard {
                        syn_ns,
                        synack_ns,
                        target,
                        port,
                    },
                    Some(listener) => Plan::Connected(
                        synack_ns,
                        open_connection(
                            &world_rc, world, target, port, listener, syn_ns, synack_ns, now,
                        )?,
                    ),
                }
            }
        };
        let (at, stream) = match plan {
            Plan::TimedOut(at) => {
                crate::time::sleep_until(crate::time::Instant::from_nanos(at)).await;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connect to {address} timed out: the network is partitioned"),
                ));
            }
            Plan::Unheard {
                syn_ns,
                synack_ns,
                target,
                port,
            } => {
                crate::time::sleep_until(crate::time::Instant::from_nanos(syn_ns)).await;
                let opened = {
                    let mut world = world_rc.borrow_mut();
                    let world = &mut *world;
                    let key = (target as u32, Protocol::Tcp, port);
                    match world.net.bound.get(&key).copied() {
                        Some(listener) => Some(open_connection(
                            &world_rc, world, target, port, listener, syn_ns, synack_ns, syn_ns,
                        )?),
                        None => None,
                    }
                };
                match opened {
                    Some(stream) => (synack_ns, stream),
                    None => {
                        crate::time::sleep_until(crate::time::Instant::from_nanos(synack_ns)).await;
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionRefused,
                            format!("connection refused: nothing listens on {address}"),
                        ));
                    }
                }
            }
            Plan::Connected(at, stream) => (at, stream),
        };
        crate::time::sleep_until(crate::time::Instant::from_nanos(at)).await;
        let world = stream.world.borrow();
        let now = cx::now_ns("asyncsim::net::TcpStream::connect");
        match world.net.connections[stream.connection].errors[0] {
            Some((when, io::ErrorKind::ConnectionRefused)) if when <= now => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("connection refused: the listener on {address} closed before accepting"),
            )),
            _ => {
                drop(world);
                stream
                    .world
                    .borrow_mut()
                    .record_stream(stream.connection, 0, NetOp::Connect, 0);
                Ok(stream)
            }
        }
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

    /// Checks the stream may be used now: same run, node alive.
    #[inline]
    fn check(&self, world: &World) -> io::Result<()> {
        let c = &world.net.connections[self.connection];
        if same_run(world.run_id)
            && world.alive(c.nodes[self.side] as usize, c.incarnations[self.side])
        {
            return Ok(());
        }
        Err(self.unusable(world))
    }

    /// Why [`TcpStream::check`] failed (out of line: it almost never does).
    #[cold]
    #[inline(never)]
    fn unusable(&self, world: &World) -> io::Error {
        if !same_run(world.run_id) {
            return foreign("TcpStream");
        }
        let c = &world.net.connections[self.connection];
        let node = c.nodes[self.side] as usize;
        node_crashed(&c.name(self.side), &world.nodes[node].name)
    }

    fn error(&self, world: &World, kind: io::ErrorKind) -> io::Error {
        let c = &world.net.connections[self.connection];
        let why = match kind {
            io::ErrorKind::ConnectionReset => "connection reset by peer",
            io::ErrorKind::TimedOut => "connection timed out (no delivery for tcp_timeout)",
            io::ErrorKind::ConnectionRefused => "connection refused",
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
        self.read_with(context, max, put)
    }

    fn read_into(&self, context: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut at = 0;
        let max = buf.len();
        self.read_with(context, max, |bytes| {
            buf[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        })
    }

    #[inline(always)]
    pub(super) fn read_with(
        &self,
        context: &mut Context<'_>,
        max: usize,
        mut put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check(world)?;
        let now = cx::now_ns("asyncsim::net::TcpStream::read");
        let c = &mut world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            c.pipes[self.side].reader.ready();
            world.record_stream(self.connection, self.side, NetOp::Reset, 0);
            return Poll::Ready(Err(self.error(world, kind)));
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
                let (first, second) = pipe.bytes.as_slices();
                let from_first = first.len().min(copied);
                put(&first[..from_first]);
                if copied > from_first {
                    put(&second[..copied - from_first]);
                }
                pipe.bytes.drain(..copied);
                pipe.reader.ready();
                world.record_stream(self.connection, self.side, NetOp::Deliver, copied);
                return Poll::Ready(Ok(copied));
            }
        } else if matches!(pipe.fin_ns, Some(fin) if fin <= now) || max == 0 {
            pipe.reader.ready();
            return Poll::Ready(Ok(0));
        }
        let next = [
            pipe.segments.front().map(|segment| segment.arrival_ns),
            pipe.fin_ns,
            error_ns,
        ]
        .into_iter()
        .flatten()
        .min();
        pipe.reader.park(context.waker(), next);
        let socket = world.stream_label(self.connection, self.side);
        cx::set_waiting_on(WaitOn::Socket {
            op: SocketWait::Read,
            socket,
        });
        Poll::Pending
    }

    // Inlined: the stream's `poll_write` and a `Detached` stream's `write`
    // are this and little else.
    #[inline]
    pub(super) fn write_from(&self, buf: &[u8]) -> io::Result<usize> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check(world)?;
        let now = cx::now_ns("asyncsim::net::TcpStream::write");
        let c = &world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            world.record_stream(self.connection, self.side, NetOp::Reset, 0);
            return Err(self.error(world, kind));
        }
        if c.write_shut[self.side] {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!("{}: write after close (shutdown)", c.name(self.side)),
            ));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if !c.dropped[1 - self.side] {
            world.record_stream(self.connection, self.side, NetOp::Send, buf.len());
            send(world, self.connection, self.side, Some(buf));
        }
        Ok(buf.len())
    }

    pub(super) fn shutdown_write(&self) -> io::Result<()> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.check(world)?;
        let c = &mut world.net.connections[self.connection];
        if std::mem::replace(&mut c.write_shut[self.side], true) {
            return Ok(());
        }
        send(world, self.connection, self.side, None);
        Ok(())
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.close_end();
    }
}

impl TcpStream {
    /// Dropped: this end is gone (EOF to the peer, unless shut already).
    fn close_end(&mut self) {
        let Ok(mut world) = self.world.try_borrow_mut() else {
            return;
        };
        let world = &mut *world;
        let c = &mut world.net.connections[self.connection];
        if c.dropped[self.side] {
            return;
        }
        c.dropped[self.side] = true;
        let (node, port) = (c.nodes[self.side], c.addrs[self.side].port());
        let shut = std::mem::replace(&mut c.write_shut[self.side], true);
        if self.side == 0 {
            let key = (node, Protocol::Tcp, port);
            if world.net.bound.get(&key) == Some(&usize::MAX) {
                world.net.bound.remove(&key);
            }
        }
        if !shut && same_run(world.run_id) {
            send(world, self.connection, self.side, None);
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
    fn poll_write(
        self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.write_from(buf))
    }

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

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local_addr() {
            Ok(addr) => write!(f, "TcpListener({addr})"),
            Err(_) => f.write_str("TcpListener"),
        }
    }
}
