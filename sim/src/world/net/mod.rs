//! The simulated network: links between nodes, partitions, and the sockets
//! on top ([`TcpListener`], [`TcpStream`], [`UdpSocket`]).
//!
//! A message's latency is a `net` draw over a few buckets of its link's
//! latency range (draw 0 = the minimum); loss and duplication are weighted
//! draws (0 = delivered once). A message carries its arrival time; nothing
//! moves it: a reader that finds nothing arrived yet sleeps on a timer until
//! the next arrival. So delivery is a timer, an idle link costs nothing, and
//! the order of arrivals is fixed the moment a message is sent.
//!
//! Addresses are `"name:port"` (a node's name is its host name), an IP of a
//! node, or loopback (`127.0.0.1`, `localhost`; `0.0.0.0` binds on the
//! calling node).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::{cx, record_fault, world, WordsKey, World};
use crate::clock::duration_to_ns;
use crate::tape::DrawLabel;
use crate::trace::{FaultOp, TaskId};

mod config;
mod detached;
mod tcp;
mod udp;

pub use config::NetConfig;
pub use detached::{Detachable, Detached};
#[doc(hidden)]
pub use tcp::buffer_set_to;
pub use tcp::{TcpListener, TcpStream, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};
pub use udp::UdpSocket;

/// A context whose waker does nothing: for an operation that never waits
/// (`try_read`, `try_recv_from`) made through the one that may, after a
/// look that says it will not (so the waker is never kept).
pub(crate) fn noop_context() -> std::task::Context<'static> {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    static NOOP: std::sync::OnceLock<Waker> = std::sync::OnceLock::new();
    std::task::Context::from_waker(NOOP.get_or_init(|| Waker::from(std::sync::Arc::new(Noop))))
}

/// Latency buckets a range is drawn over: value `k` of the `net` draw is
/// `min + k * (max - min) / (BUCKETS - 1)`.
pub const LATENCY_BUCKETS: u64 = 4;

/// A message between two sockets of one node takes this long (no draw).
pub const LOOPBACK_LATENCY: Duration = Duration::from_micros(10);

/// Where a socket is bound: node index, protocol, port.
type BindKey = (u32, Protocol, u16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Protocol {
    Tcp,
    Udp,
}

/// A small map kept as a sorted list: a lookup is a binary search, and
/// emptying it for the next run keeps its buffer (a `BTreeMap` frees its
/// nodes and makes them again). The network's maps hold a few entries.
pub(crate) struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        self.0.binary_search_by(|(known, _)| known.cmp(key))
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    pub(crate) fn insert(&mut self, key: K, value: V) {
        match self.find(&key) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (key, value)),
        }
    }

    pub(crate) fn remove(&mut self, key: &K) {
        if let Ok(at) = self.find(key) {
            self.0.remove(at);
        }
    }

    /// Removes `key` if its value is `value` (one search, where a `get`
    /// and a `remove` made two).
    pub(crate) fn remove_if_eq(&mut self, key: &K, value: &V)
    where
        V: PartialEq,
    {
        if let Ok(at) = self.find(key) {
            if self.0[at].1 == *value {
                self.0.remove(at);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

/// The network's state in one run.
#[derive(Default)]
pub(crate) struct Network {
    /// Per-link overrides, keyed by the node pair (lower index first).
    links: VecMap<(u32, u32), NetConfig>,
    /// The default link behaviour (`Config::net`), read on first use.
    default: Option<NetConfig>,
    /// The link looked up last and its config: a stream's or a socket's
    /// messages ask for the same link again and again (emptied when a
    /// link's config changes).
    recent: Option<((u32, u32), NetConfig)>,
    /// Directed cuts: messages from `.0` to `.1` are held back.
    cuts: BTreeSet<(u32, u32)>,
    /// Nodes cut from every other node.
    isolated: BTreeSet<u32>,
    /// Extra latency on clogged directed links.
    clogged: BTreeMap<(u32, u32), u64>,
    pub(crate) bound: VecMap<BindKey, usize>,
    /// The run's listeners and connections, and after them the emptied
    /// ones of earlier runs in this world, reused in place.
    pub(crate) listeners: tcp::Listeners,
    pub(crate) connections: tcp::Connections,
    pub(crate) udp: Vec<udp::UdpState>,
    /// Streams made so far (their names: `TcpStream#n`).
    pub(crate) streams_made: u32,
    /// Datagrams sent so far (their sequence keeps equal arrivals in send order).
    pub(crate) datagrams_sent: u64,
    /// A UDP socket was connected in this run: only then does a send look
    /// whether its target is (`udp::UdpSocket::place_on_connected`).
    pub(crate) udp_connected: bool,
}

impl Network {
    /// Empties the network for a new run, keeping its lists' buffers.
    pub(crate) fn reset(&mut self) {
        // A wait's poll that panicked between `Waiting::polling` and
        // `Waiting::polled` left the thread's guard set: a new run starts
        // without it.
        GUARD.set(UNGUARDED);
        // Every field named, so a new one cannot be forgotten here.
        let Network {
            links,
            default,
            recent,
            cuts,
            isolated,
            clogged,
            bound,
            listeners,
            connections,
            udp,
            streams_made,
            datagrams_sent,
            udp_connected,
        } = self;
        links.clear();
        *default = None;
        *recent = None;
        // (Most runs cut and clog nothing: an empty tree's `clear` still
        // replaces and drops it.)
        if !cuts.is_empty() {
            cuts.clear();
        }
        if !isolated.is_empty() {
            isolated.clear();
        }
        if !clogged.is_empty() {
            clogged.clear();
        }
        bound.clear();
        listeners.keep();
        connections.keep();
        udp.clear();
        *streams_made = 0;
        *datagrams_sent = 0;
        *udp_connected = false;
    }

    /// True when messages from `from` to `to` cannot pass. (In line, and
    /// no tree searched while nothing is cut, as almost always.)
    #[inline]
    pub(crate) fn is_cut(&self, from: u32, to: u32) -> bool {
        from != to
            && !(self.cuts.is_empty() && self.isolated.is_empty())
            && (self.cuts.contains(&(from, to))
                || self.isolated.contains(&from)
                || self.isolated.contains(&to))
    }

    /// What cuts the link between nodes `a` and `b` now, either way: bits
    /// of [`CUT_AB`], [`CUT_BA`], [`ISOLATED_A`], [`ISOLATED_B`] (0 when
    /// nothing does). For the words of a timeout's error (`cut_words`).
    pub(crate) fn cut_causes(&self, a: u32, b: u32) -> u8 {
        if a == b {
            return 0;
        }
        let mut causes = 0;
        if self.cuts.contains(&(a, b)) {
            causes |= CUT_AB;
        }
        if self.cuts.contains(&(b, a)) {
            causes |= CUT_BA;
        }
        if self.isolated.contains(&a) {
            causes |= ISOLATED_A;
        }
        if self.isolated.contains(&b) {
            causes |= ISOLATED_B;
        }
        causes
    }

    /// The config of the link `from → to`.
    #[inline]
    pub(crate) fn config(&mut self, from: u32, to: u32) -> NetConfig {
        let key = (from.min(to), from.max(to));
        match &self.recent {
            Some((recent, config)) if *recent == key => config.clone(),
            _ => self.look_up(key),
        }
    }

    /// [`Network::config`] when the link (`key`: its two nodes, lower
    /// first) is not the one asked for last.
    #[inline(never)]
    fn look_up(&mut self, key: (u32, u32)) -> NetConfig {
        if self.default.is_none() {
            self.default = Some(cx::with_config("asyncsim::net", |config| {
                config.net.clone()
            }));
        }
        let config = match self.links.get(&key) {
            Some(config) => config.clone(),
            None => self.default.clone().unwrap_or_default(),
        };
        self.recent = Some((key, config.clone()));
        config
    }
}

/// A partition (`partition`, `partition_oneway`) cuts the link from the
/// first node to the second ([`Network::cut_causes`]).
pub(crate) const CUT_AB: u8 = 1;
/// A partition cuts the link from the second node to the first.
pub(crate) const CUT_BA: u8 = 2;
/// The first node is isolated (`isolate`).
pub(crate) const ISOLATED_A: u8 = 4;
/// The second node is isolated.
pub(crate) const ISOLATED_B: u8 = 8;

impl World {
    /// What cuts the link between nodes `a` and `b`, in words, from
    /// [`Network::cut_causes`]'s bits: "`main` and `db` are partitioned",
    /// "node `main` is isolated", several joined by "and". For an error's
    /// message (out of line: only a timeout asks).
    #[cold]
    #[inline(never)]
    pub(crate) fn cut_words(&self, a: u32, b: u32, causes: u8) -> String {
        let (a, b) = (&self.nodes[a as usize].name, &self.nodes[b as usize].name);
        let mut words = Vec::new();
        match (causes & CUT_AB != 0, causes & CUT_BA != 0) {
            (true, true) => words.push(format!("`{a}` and `{b}` are partitioned")),
            (true, false) => words.push(format!("a one-way partition cuts `{a}` -> `{b}`")),
            (false, true) => words.push(format!("a one-way partition cuts `{b}` -> `{a}`")),
            (false, false) => {}
        }
        match (causes & ISOLATED_A != 0, causes & ISOLATED_B != 0) {
            (true, true) => words.push(format!("nodes `{a}` and `{b}` are isolated")),
            (true, false) => words.push(format!("node `{a}` is isolated")),
            (false, true) => words.push(format!("node `{b}` is isolated")),
            (false, false) => {}
        }
        if words.is_empty() {
            // (Not reached: a timeout has a cut behind it.)
            return format!("the link `{a}` <-> `{b}` is cut");
        }
        words.join(" and ")
    }
}

/// What a message carries, for the words of a drawn latency (made only
/// when a nonzero draw is recorded; nothing formatted per message).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Carried {
    /// `bytes` of data sent on the sender's `TcpStream#stream`.
    Segment { stream: u32, bytes: usize },
    /// The end of `TcpStream#stream`'s writes.
    Fin { stream: u32 },
    /// A connect's SYN.
    Syn,
    /// A connect's SYN-ACK.
    SynAck,
    /// A reset of the peer of `TcpStream#stream` (its node crashed, or its
    /// connect was abandoned before the SYN-ACK came).
    Reset { stream: u32 },
    /// `bytes` sent from `UdpSocket#socket`, bound to `port`.
    Datagram {
        socket: u32,
        port: u16,
        bytes: usize,
    },
}

impl World {
    /// One message's latency from node `from` to node `to`: a `net` draw
    /// over the link's buckets (0 = the minimum), plus any clog. `carried`
    /// is worded only when a nonzero draw is recorded.
    pub(crate) fn latency(&mut self, from: u32, to: u32, carried: Carried) -> u64 {
        if from == to {
            return duration_to_ns(LOOPBACK_LATENCY);
        }
        let config = self.net.config(from, to);
        self.latency_on(&config, from, to, carried)
    }

    /// [`World::latency`] when the caller has the link's config (`from`
    /// and `to` differ).
    #[inline(always)]
    pub(crate) fn latency_on(
        &mut self,
        config: &NetConfig,
        from: u32,
        to: u32,
        carried: Carried,
    ) -> u64 {
        let clog = self.net.clogged.get(&(from, to)).copied().unwrap_or(0);
        let (min, max) = (config.latency_min_ns, config.latency_max_ns);
        if min >= max {
            return min + clog;
        }
        let step = (max - min) / (LATENCY_BUCKETS - 1);
        // The words of a bucket off the minimum only when the run explains
        // itself (out of line: nothing of them is gathered otherwise).
        let (bucket, noted) = cx::draw_noted(
            DrawLabel::Net,
            LATENCY_BUCKETS,
            None,
            "asyncsim::net latency",
        );
        if noted {
            self.describe_latency(from, to, carried, min, min + step * bucket);
        }
        min + step * bucket + clog
    }

    /// The words of a latency drawn off the minimum, for the deviation
    /// [`World::latency_on`]'s draw noted.
    #[cold]
    #[inline(never)]
    fn describe_latency(&self, from: u32, to: u32, carried: Carried, min: u64, took: u64) {
        let (from, to) = (
            &self.nodes[from as usize].name,
            &self.nodes[to as usize].name,
        );
        let message = match carried {
            Carried::Segment { stream, bytes } => {
                format!("a {bytes}-byte segment on TcpStream#{stream} `{from}` -> `{to}`")
            }
            Carried::Fin { stream } => {
                format!("the FIN of TcpStream#{stream} `{from}` -> `{to}`")
            }
            Carried::Syn => format!("the SYN of a connect `{from}` -> `{to}`"),
            Carried::SynAck => format!("the SYN-ACK of a connect `{from}` -> `{to}`"),
            Carried::Reset { stream } => {
                format!("the reset of TcpStream#{stream} `{from}` -> `{to}`")
            }
            Carried::Datagram {
                socket,
                port,
                bytes,
            } => {
                format!("a {bytes}-byte datagram on UdpSocket#{socket} ({from}:{port}) `{from}` -> `{to}`")
            }
        };
        cx::describe_deviation(format!(
            "{message} took {} (not the minimum {})",
            crate::trace::format_ns(took),
            crate::trace::format_ns(min)
        ));
    }

    /// A weighted `net` draw: true with `probability` (under Random and
    /// PCT), false canonically; `describe` says what true meant.
    /// A nonzero draw is a fault of kind `op`, recorded in the trace.
    #[inline]
    pub(crate) fn chance(
        probability: f64,
        what: &str,
        op: FaultOp,
        describe: impl Fn() -> String,
    ) -> bool {
        probability > 0.0
            && super::draw_fault(DrawLabel::Net, 2, probability, what, op, |_| describe()) == 1
    }
}

/// A socket address to resolve: `"name:port"`, `"10.0.0.2:port"`, a
/// `SocketAddr`, or `(host, port)`.
pub trait ToAddress {
    /// The host (a node name, `localhost`, or an IP in text) and port.
    fn to_address(&self) -> io::Result<Address>;

    /// The host name and port `to_address` would give as
    /// `Address::Host`, borrowed, when it would give one: a send looks the
    /// name up without making the `Address` (no allocation a datagram).
    /// `None` otherwise; then `to_address` is used.
    #[doc(hidden)]
    fn host_and_port(&self) -> Option<(&str, u16)> {
        None
    }

    /// The socket address `to_address` would give as `Address::Ip`, when
    /// it is one already (a `SocketAddr`): a send resolves it without
    /// making the `Address`. `None` otherwise.
    #[doc(hidden)]
    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        None
    }
}

/// An unresolved address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A host name and a port.
    Host(String, u16),
    /// An IP address and a port.
    Ip(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Host(host, port) => write!(f, "{host}:{port}"),
            Address::Ip(addr) => write!(f, "{addr}"),
        }
    }
}

impl ToAddress for str {
    fn to_address(&self) -> io::Result<Address> {
        // `10.0.0.2:80` or `[::1]:80` (a host name starts with neither).
        if self.starts_with(|c: char| c.is_ascii_digit() || c == '[') {
            if let Ok(addr) = self.parse::<SocketAddr>() {
                return Ok(Address::Ip(addr));
            }
        }
        let Some((host, port)) = self.rsplit_once(':') else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid socket address `{self}`: expected `host:port`"),
            ));
        };
        let port: u16 = port.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid port in `{self}`"),
            )
        })?;
        (host, port).to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        if self.starts_with(|c: char| c.is_ascii_digit() || c == '[') {
            return None;
        }
        let (host, port) = self.rsplit_once(':')?;
        let port = port.parse().ok()?;
        match parse_ip(host) {
            Some(_) => None,
            None => Some((host, port)),
        }
    }
}

impl ToAddress for &str {
    fn to_address(&self) -> io::Result<Address> {
        (**self).to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        (**self).host_and_port()
    }
}

impl ToAddress for String {
    fn to_address(&self) -> io::Result<Address> {
        self.as_str().to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        self.as_str().host_and_port()
    }
}

impl ToAddress for &String {
    fn to_address(&self) -> io::Result<Address> {
        self.as_str().to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        self.as_str().host_and_port()
    }
}

impl ToAddress for SocketAddr {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(*self))
    }

    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        Some(*self)
    }
}

impl ToAddress for SocketAddrV4 {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::V4(*self)))
    }
}

impl ToAddress for (IpAddr, u16) {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::new(self.0, self.1)))
    }
}

impl ToAddress for (Ipv4Addr, u16) {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::new(IpAddr::V4(self.0), self.1)))
    }
}

impl ToAddress for (&str, u16) {
    fn to_address(&self) -> io::Result<Address> {
        match parse_ip(self.0) {
            Some(ip) => Ok(Address::Ip(SocketAddr::new(ip, self.1))),
            None => Ok(Address::Host(self.0.to_string(), self.1)),
        }
    }

    #[inline]
    fn host_and_port(&self) -> Option<(&str, u16)> {
        match parse_ip(self.0) {
            Some(_) => None,
            None => Some((self.0, self.1)),
        }
    }
}

/// `host` as an IP address, if it is one. (Most hosts are node names: one
/// look at the text tells, before parsing: an IPv4 address starts with a
/// digit, an IPv6 one has a `:`.)
#[inline]
fn parse_ip(host: &str) -> Option<IpAddr> {
    match host {
        // The two every server and client write, without the parser.
        "0.0.0.0" => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "127.0.0.1" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        _ if host.starts_with(|c: char| c.is_ascii_digit())
            || host.bytes().any(|byte| byte == b':') =>
        {
            parse_ip_text(host)
        }
        _ => None,
    }
}

#[inline(never)]
fn parse_ip_text(host: &str) -> Option<IpAddr> {
    host.parse().ok()
}

impl ToAddress for Address {
    fn to_address(&self) -> io::Result<Address> {
        Ok(self.clone())
    }
}

impl<T: ToAddress + ?Sized> ToAddress for &&T {
    fn to_address(&self) -> io::Result<Address> {
        (**self).to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        (**self).host_and_port()
    }

    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        (**self).socket_addr()
    }
}

impl World {
    /// The node (index) and port `address` names, seen from node `from`.
    pub(crate) fn resolve(&self, address: &Address, from: usize) -> io::Result<(usize, u16)> {
        match address {
            Address::Host(host, port) => self.resolve_host(host, *port, from),
            Address::Ip(addr) => self.resolve_ip(*addr, from),
        }
    }

    /// [`World::resolve`] of `Address::Ip(addr)`.
    #[inline]
    pub(crate) fn resolve_ip(&self, addr: SocketAddr, from: usize) -> io::Result<(usize, u16)> {
        let ip = addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            return Ok((from, addr.port()));
        }
        match self.node_by_ip(ip) {
            Some(node) => Ok((node, addr.port())),
            None => Err(self.no_node_has(ip)),
        }
    }

    #[cold]
    #[inline(never)]
    fn no_node_has(&self, ip: IpAddr) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no node has the address {ip} (nodes: {})",
                self.node_names()
            ),
        )
    }

    /// [`World::resolve`] of `Address::Host(host, port)`.
    pub(crate) fn resolve_host(
        &self,
        host: &str,
        port: u16,
        from: usize,
    ) -> io::Result<(usize, u16)> {
        match parse_ip(host) {
            Some(ip) => self.resolve_ip(SocketAddr::new(ip, port), from),
            None => self.resolve_name(host, port, from),
        }
    }

    /// [`World::resolve_host`] of a host that is not an IP address (as
    /// `ToAddress::host_and_port` gives).
    pub(crate) fn resolve_name(
        &self,
        host: &str,
        port: u16,
        from: usize,
    ) -> io::Result<(usize, u16)> {
        if host == "localhost" {
            return Ok((from, port));
        }
        match self.node_by_name(host) {
            Some(node) => Ok((node, port)),
            None => Err(self.unresolved(host, port)),
        }
    }

    /// [`World::resolve_name`]'s `NotFound` (out of line: a test's hosts are
    /// its nodes).
    #[cold]
    #[inline(never)]
    fn unresolved(&self, host: &str, port: u16) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "failed to resolve `{host}:{port}`: no node is called `{host}` (nodes: {})",
                self.node_names()
            ),
        )
    }

    /// Where a socket of node `node` binds for `address`: the port, or
    /// `AddrNotAvailable` for another node's address.
    pub(crate) fn bind_port(&self, address: &Address, node: usize) -> io::Result<u16> {
        let (target, port) = match address {
            Address::Ip(addr) if addr.ip().is_unspecified() => (node, addr.port()),
            _ => self.resolve(address, node).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    format!(
                        "cannot bind {address} on node `{}`: not one of its addresses",
                        self.nodes[node].name
                    ),
                )
            })?,
        };
        if target != node {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!(
                    "cannot bind {address} on node `{}`: that address is node `{}`'s",
                    self.nodes[node].name, self.nodes[target].name
                ),
            ));
        }
        Ok(port)
    }

    /// Claims `port` (0: an ephemeral one) for a socket of `node`.
    pub(crate) fn claim_port(
        &mut self,
        node: usize,
        protocol: Protocol,
        port: u16,
        socket: usize,
    ) -> io::Result<u16> {
        // One search for both the check and the insert.
        let (port, at) = match port {
            0 => self.ephemeral_port(node, protocol)?,
            port => match self.net.bound.find(&(node as u32, protocol, port)) {
                Err(at) => (port, at),
                Ok(_) => return Err(self.port_in_use(node, protocol, port)),
            },
        };
        self.net
            .bound
            .0
            .insert(at, ((node as u32, protocol, port), socket));
        Ok(port)
    }

    /// `AddrInUse` for `port` of `node`.
    #[cold]
    fn port_in_use(&self, node: usize, protocol: Protocol, port: u16) -> io::Error {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "address in use: {}:{port} ({protocol:?}) is already bound on node `{}`",
                self.nodes[node].ip, self.nodes[node].name
            ),
        )
    }

    /// The next free ephemeral port of `node`, and where its key goes in
    /// `bound`.
    fn ephemeral_port(&mut self, node: usize, protocol: Protocol) -> io::Result<(u16, usize)> {
        for _ in 0..=(u16::MAX - super::EPHEMERAL_FIRST) {
            let port = self.nodes[node].next_port;
            self.nodes[node].next_port = if port == u16::MAX {
                super::EPHEMERAL_FIRST
            } else {
                port + 1
            };
            if let Err(at) = self.net.bound.find(&(node as u32, protocol, port)) {
                return Ok((port, at));
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "node `{}` has no free ephemeral port",
                self.nodes[node].name
            ),
        ))
    }

    pub(crate) fn node_names(&self) -> String {
        let names: Vec<&str> = self.nodes.iter().map(|node| &*node.name).collect();
        names.join(", ")
    }

    pub(crate) fn socket_addr(&self, node: usize, port: u16) -> SocketAddr {
        SocketAddr::new(self.nodes[node].ip, port)
    }

    /// The node index of a node name, or a panic (at the caller's line)
    /// naming the known nodes.
    #[track_caller]
    #[inline]
    fn node_named(&self, name: &str, what: &str) -> u32 {
        match self.node_by_name(name) {
            Some(node) => node as u32,
            None => self.no_node_named(name, what),
        }
    }

    /// [`World::node_named`]'s panic (out of line).
    #[track_caller]
    #[cold]
    #[inline(never)]
    fn no_node_named(&self, name: &str, what: &str) -> ! {
        panic!(
            "{what}: no node is called `{name}` (nodes: {})",
            self.node_names()
        )
    }

    /// Records a fault on the link between nodes `a` and `b`:
    /// "partitioned `main` <-> `db`".
    fn record_link_fault(&self, op: FaultOp, verb: &str, a: u32, arrow: &str, b: u32) {
        let what = format!(
            "{verb} `{}`{arrow}`{}`",
            self.nodes[a as usize].name, self.nodes[b as usize].name
        );
        record_fault(op, what);
    }

    /// A link between `from` and `to` opened (repair, rejoin, unclog):
    /// held messages leave now.
    fn links_changed(&mut self) {
        tcp::release_held(self);
    }
}

/// The tasks waiting on one side of a socket (its reads, its receives, its
/// accepts): each one's waker, its task, and the timer that wakes it for
/// the next arrival.
///
/// A message carries its arrival time; its sender makes sure every waiting
/// task looks again then ([`Parked::due_at`]) by setting that task's timer
/// for it (`cx::register_timer_for`: the timer is the reader's, so it dies
/// with the reader's node, not the sender's). A reader is polled once, at
/// the arrival, and not also woken at the send to set a timer of its own.
///
/// Many tasks may wait on one side, as tokio allows (`readable()` in one
/// task while another reads; `accept` or `recv_from` from several tasks on
/// one shared socket): a waiter is known by its waker's data word
/// ([`WaiterKey`]),
/// and every one is woken at an arrival, in the order they parked (woken,
/// each looks again; one that finds nothing parks again). Two guarded
/// waits of one task share its waiter, which counts them
/// ([`Waiter::count`]). The first waiter
/// is kept inline and the others in `more`, allocated when a second waits
/// at once, so a side with one waiter (nearly always) costs what it did
/// when only one could wait. A waiter leaves when its operation is ready
/// (`ready`, by its waker; `ready_here` for an operation that has no
/// context, by its task) or when the future asyncsim made for it is
/// dropped while it waits ([`Waiting`], [`Parked::leave`]: its timer is
/// cancelled, nothing stale wakes it). A wait polled by hand (a `poll_`
/// method, `AsyncRead`) whose future is dropped unseen stays until its
/// waker's next operation on the side, as tokio keeps a `poll_` waker until
/// it is woken.
#[derive(Default)]
pub(crate) struct Parked {
    /// The oldest waiter (while one waits), and who waits (`first.waits`).
    first: Waiter,
    /// The waiters after `first`, in the order they parked: only while
    /// `first` waits (one that leaves first hands its place to the next).
    /// Kept, emptied, once allocated. Boxed: one word, where a `Vec` is
    /// three, in every side of every socket, nearly all of which never have
    /// a second waiter.
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<Waiter>>>,
}

/// Who waits on a side ([`Parked`]).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Waits {
    /// Nobody.
    #[default]
    Nobody,
    /// `first` alone.
    One,
    /// `first` and those in `more` (not empty).
    Several,
}

/// [`Waiter::task`] of a waiter that never parked (since made or cleared).
const NEVER_PARKED: TaskId = TaskId(u32::MAX);

/// One task waiting on a side of a socket ([`Parked`]).
struct Waiter {
    /// `Waker::noop()` while nobody has parked here (not an `Option`: a
    /// waiter's `ready` compares the word without testing for `None`
    /// first; it is only read while someone waits).
    waker: Waker,
    /// The task of `waker` (the one polled when it parked); `NEVER_PARKED`
    /// before the first park.
    task: TaskId,
    /// The first waiter's only: who waits on the side, a waiter from its
    /// `Pending` until its `Ready` (or its leaving). One byte the hot paths
    /// test, so a side with one waiter never looks at `more`; kept here, in
    /// the waiter's padding, so that a `Parked` is one waiter and a pointer
    /// (as large as the one waiter it was before: a stream's pipes and the
    /// offsets into them stay as they were).
    waits: Waits,
    /// How many guarded waits of the task ([`Waiting`]) wait here: one
    /// more at each one's first `Pending`, one less at its `Ready` or its
    /// drop; the waiter leaves when none is left (two `readable`s in one
    /// task's `join!`, one under a `timeout`: its drop must not take the
    /// other's wake). 0 for a wait polled by hand (a `poll_` method), which
    /// leaves at its task's next `Ready` on the side, as before. In the
    /// padding beside `waits`.
    count: u16,
    /// The timer set for it last, and its deadline; it may have fired.
    timer: Option<(u64, cx::TimerKey)>,
}

/// A waiter's waker, as a key: its data word (an asyncsim waker's is its
/// run and its task), for a future to leave a socket's waiters by when it
/// is dropped while it waits ([`Waiting`]) without keeping a clone of it.
///
/// Not `Waker::will_wake`, which compares the vtable's address too: the
/// engine's vtable is a constant, which may sit at another address in each
/// codegen unit, so a task's waker and its clone need not compare equal.
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaiterKey {
    data: usize,
}

impl WaiterKey {
    /// The key of `waker`.
    #[inline(always)]
    pub fn of(waker: &Waker) -> WaiterKey {
        WaiterKey {
            data: waker.data() as usize,
        }
    }
}

impl Default for Waiter {
    fn default() -> Waiter {
        Waiter {
            waker: Waker::noop().clone(),
            task: NEVER_PARKED,
            waits: Waits::Nobody,
            count: 0,
            timer: None,
        }
    }
}

impl Waiter {
    #[inline(always)]
    fn is(&self, waker: &Waker) -> bool {
        self.waker.data() == waker.data()
    }

    fn has_key(&self, key: WaiterKey) -> bool {
        WaiterKey::of(&self.waker) == key
    }

    /// Counts the guarded wait being polled (if any) that parks here
    /// again (`new`: the waiter is new, so it counts the wait whatever its
    /// age: one whose count a wake of every waiter took, `wake_all`, parks
    /// again) or for the first time (one more).
    #[inline(always)]
    fn count_in(&mut self, new: bool) {
        let guard = GUARD.get();
        if new {
            self.count = u16::from(guard & GUARDED);
        } else {
            self.count = self.count.wrapping_add(u16::from(guard >> 1));
        }
    }

    /// One wait of this waiter is done (`done`: a guarded wait's `Ready`
    /// or drop); true when none is left and the waiter leaves.
    #[inline(always)]
    fn releases(&mut self, done: bool) -> bool {
        if done {
            self.count = self.count.saturating_sub(1);
        }
        self.count == 0
    }

    /// [`Waiter::releases`] at the `Ready` of the operation being polled:
    /// done if it is a guarded wait that parked before. The guard is
    /// looked at only when a guarded wait is counted.
    #[inline(always)]
    fn releases_at_ready(&mut self) -> bool {
        self.count == 0 || self.releases(GUARD.get() == PARKED)
    }

    /// Keeps `waker` (and the task polled now) as this waiter's, and makes
    /// sure a timer wakes it at `next_ns` (the next arrival or error), if any.
    #[inline(always)]
    fn park(&mut self, waker: &Waker, next_ns: Option<u64>) {
        if !self.waker.will_wake(waker) {
            self.waker = waker.clone();
        }
        self.task = cx::current_task().unwrap_or(TaskId::MAIN);
        if let Some(at_ns) = next_ns {
            self.timer_at(at_ns, cx::now_ns("asyncsim::net"));
        }
    }

    /// Wakes it now if `at_ns` has come, else makes sure a timer does then.
    #[inline(always)]
    fn due_at_from(&mut self, at_ns: u64, now: u64) {
        if at_ns <= now {
            self.waker.wake_by_ref();
            return;
        }
        self.timer_at(at_ns, now);
    }

    /// [`Parked::retime`] for this waiter.
    fn retime(&mut self, next_ns: Option<u64>, now: u64) {
        if let Some((deadline_ns, key)) = self.timer {
            if deadline_ns > now && Some(deadline_ns) != next_ns {
                cx::cancel_timer(key);
                self.timer = None;
            }
        }
        if let Some(at_ns) = next_ns {
            self.due_at_from(at_ns, now);
        }
    }

    /// Makes sure a timer wakes the task by `at_ns` (> `now`): one set
    /// already that fires after now and by then does; otherwise one is set
    /// (and a later one cancelled: the task sets it again when it parks).
    #[inline(always)]
    fn timer_at(&mut self, at_ns: u64, now: u64) {
        if let Some((deadline_ns, key)) = self.timer {
            if deadline_ns > now {
                if deadline_ns <= at_ns {
                    return;
                }
                cx::cancel_timer(key);
            }
        }
        self.timer = Some((
            at_ns,
            cx::register_timer_for(self.task, at_ns, self.waker.clone()),
        ));
    }

    /// It leaves for good (its future dropped): a timer still to fire for
    /// it is cancelled.
    #[inline]
    fn cancel(&mut self) {
        if let Some((deadline_ns, key)) = self.timer.take() {
            if deadline_ns > cx::now_ns("asyncsim::net") {
                cx::cancel_timer(key);
            }
        }
    }
}

impl Parked {
    /// Emptied for reuse (by a connection or listener of a later run):
    /// nobody waits; a list allocated once is kept.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.first.waker = Waker::noop().clone();
        self.first.task = NEVER_PARKED;
        self.first.timer = None;
        self.first.waits = Waits::Nobody;
        if let Some(more) = &mut self.more {
            more.clear();
        }
    }

    /// The operation returns `Pending`: keeps the waker (as a new waiter,
    /// unless it waits here already) and makes sure a timer wakes it at
    /// `next_ns` (the next arrival or error), if any.
    pub(crate) fn park(&mut self, waker: &Waker, next_ns: Option<u64>) {
        let new = self.first.waits == Waits::Nobody;
        if new {
            self.first.waits = Waits::One;
        } else if !self.first.is(waker) {
            return self.park_more(waker, next_ns);
        }
        self.first.count_in(new);
        self.first.park(waker, next_ns);
    }

    /// A second waiter (or a later one) parks, or parks again.
    #[cold]
    #[inline(never)]
    fn park_more(&mut self, waker: &Waker, next_ns: Option<u64>) {
        let more = self.more.get_or_insert_with(Default::default);
        let (at, new) = match more.iter().position(|waiter| waiter.is(waker)) {
            Some(at) => (at, false),
            None => {
                more.push(Waiter::default());
                (more.len() - 1, true)
            }
        };
        self.first.waits = Waits::Several;
        more[at].count_in(new);
        more[at].park(waker, next_ns);
    }

    /// The operation of the task woken by `waker` returned `Ready`: it
    /// waits here no more (the others still do), unless another guarded
    /// wait of its task still does (`Waiter::count`).
    #[inline(always)]
    pub(crate) fn ready(&mut self, waker: &Waker) {
        if self.first.waits == Waits::One {
            if self.first.is(waker) && self.first.releases_at_ready() {
                self.first.waits = Waits::Nobody;
            }
        } else if self.first.waits == Waits::Several {
            self.leave_where(|waiter| waiter.is(waker), GUARD.get() == PARKED, false);
        }
    }

    /// [`Parked::ready`] by `context`'s waker, or [`Parked::ready_here`]
    /// without one.
    #[inline(always)]
    pub(crate) fn ready_by(&mut self, context: Option<&Context<'_>>) {
        match context {
            Some(context) => self.ready(context.waker()),
            None => self.ready_here(),
        }
    }

    /// [`Parked::ready`] for an operation polled with no context of its own
    /// (a `try_` form): the calling task waits here no more.
    #[inline]
    pub(crate) fn ready_here(&mut self) {
        if self.first.waits != Waits::Nobody {
            let task = cx::current_task();
            self.leave_where(|waiter| Some(waiter.task) == task, false, false);
        }
    }

    /// The future that parked with the waker of `key` is dropped while it
    /// waits (its task went on without it): it leaves (unless another
    /// guarded wait of its task still waits here, `Waiter::count`), and a
    /// timer still to fire for it is cancelled, so nothing stale wakes the
    /// task.
    #[inline]
    pub(crate) fn leave(&mut self, key: WaiterKey) {
        match self.first.waits {
            Waits::Nobody => {}
            // The one waiter (a server's accept dropped as its run ends):
            // in line, as `leave_where` would.
            Waits::One if self.first.has_key(key) => {
                if self.first.releases(true) {
                    self.first.waits = Waits::Nobody;
                    self.first.cancel();
                }
            }
            _ => self.leave_where(|waiter| waiter.has_key(key), true, true),
        }
    }

    /// One wait of the first waiter `which` picks is done (`done`, see
    /// [`Waiter::releases`]); when none of its is left, it leaves (the
    /// next in line takes the first's place); with `cancel`, a timer still
    /// to fire for it is cancelled.
    #[cold]
    #[inline(never)]
    fn leave_where(&mut self, which: impl Fn(&Waiter) -> bool, done: bool, cancel: bool) {
        let stays = if which(&self.first) {
            !self.first.releases(done)
        } else {
            match self
                .more
                .as_deref_mut()
                .and_then(|more| more.iter_mut().find(|waiter| which(waiter)))
            {
                Some(waiter) => !waiter.releases(done),
                None => true,
            }
        };
        if stays {
            return;
        }
        let more = self.more.as_deref_mut();
        let gone = if which(&self.first) {
            match more {
                Some(more) if !more.is_empty() => {
                    let gone = std::mem::replace(&mut self.first, more.remove(0));
                    self.first.waits = gone.waits;
                    Some(gone)
                }
                _ => {
                    self.first.waits = Waits::Nobody;
                    if cancel {
                        self.first.cancel();
                    }
                    None
                }
            }
        } else {
            more.and_then(|more| more.iter().position(which).map(|at| more.remove(at)))
        };
        if let Some(mut gone) = gone {
            if cancel {
                gone.cancel();
            }
        }
        if self.first.waits == Waits::Several
            && self.more.as_ref().is_none_or(|more| more.is_empty())
        {
            self.first.waits = Waits::One;
        }
    }

    /// True when no task ever waited here (since it was made or cleared).
    #[inline(always)]
    pub(crate) fn is_unused(&self) -> bool {
        // (A later waiter parks after the first: none without it.)
        self.first.task == NEVER_PARKED
    }

    /// True while a task waits here.
    #[inline(always)]
    pub(crate) fn waiting(&self) -> bool {
        self.first.waits != Waits::Nobody
    }

    /// What the waiting tasks wait for is here now (room to write): each
    /// is woken, in the order they parked, and waits no more (one that
    /// finds nothing parks again). Out of line: only a writer that found
    /// a stream's window full waits for this.
    #[cold]
    #[inline(never)]
    pub(crate) fn wake_all(&mut self) {
        if self.first.waits == Waits::Nobody {
            return;
        }
        self.first.waker.wake_by_ref();
        if self.first.waits == Waits::Several {
            for waiter in self.more.iter().flat_map(|more| more.iter()) {
                waiter.waker.wake_by_ref();
            }
            if let Some(more) = &mut self.more {
                more.clear();
            }
        }
        self.first.waits = Waits::Nobody;
    }

    /// Something for the waiting tasks arrives at `at_ns` (a message, an
    /// error): each is woken then, by a timer set for it (or now, if `at_ns`
    /// has come). Nothing when no task waits.
    pub(crate) fn due_at(&mut self, at_ns: u64) {
        if self.first.waits != Waits::Nobody {
            self.due_at_from(at_ns, cx::now_ns("asyncsim::net"));
        }
    }

    /// [`Parked::due_at`] when the caller knows the time (`now`).
    #[inline(always)]
    pub(crate) fn due_at_from(&mut self, at_ns: u64, now: u64) {
        if self.first.waits == Waits::One {
            self.first.due_at_from(at_ns, now);
        } else if self.first.waits == Waits::Several {
            self.all_due_at(at_ns, now);
        }
    }

    /// [`Parked::due_at_from`] for every waiter, the first first.
    #[cold]
    #[inline(never)]
    fn all_due_at(&mut self, at_ns: u64, now: u64) {
        self.first.due_at_from(at_ns, now);
        for waiter in self.more.iter_mut().flat_map(|more| more.iter_mut()) {
            waiter.due_at_from(at_ns, now);
        }
    }

    /// What the waiting tasks wait for changed (a UDP socket connected to
    /// another peer: what is on its way was sorted again): each is woken at
    /// `next_ns` (the next arrival), if any, and not by a timer set for an
    /// arrival that no longer comes (one still due at `next_ns` stays).
    #[cold]
    #[inline(never)]
    pub(crate) fn retime(&mut self, next_ns: Option<u64>, now: u64) {
        if self.first.waits == Waits::Nobody {
            return;
        }
        self.first.retime(next_ns, now);
        if self.first.waits == Waits::Several {
            for waiter in self.more.iter_mut().flat_map(|more| more.iter_mut()) {
                waiter.retime(next_ns, now);
            }
        }
    }
}

/// A socket whose waiters a dropped wait leaves ([`Waiting`]): the side a
/// wait of this kind parks on (a stream's reads, a listener's accepts, a
/// UDP socket's receives).
#[doc(hidden)]
pub trait Waitable {
    /// The future that parked with the waker of `key` is dropped while it
    /// waits: it leaves the socket's waiters ([`Parked::leave`]).
    fn leave_waiters(&self, key: WaiterKey);

    /// [`Waitable::leave_waiters`] of the sides a wait parked on only: a
    /// stream's reads (`read`), its writers waiting for room (`write`). A
    /// wait on one side must not take its task off the other, where
    /// another future of the task may wait (a `readable` under a
    /// `timeout` beside a `write_all` waiting for room: the writer would
    /// never be woken). A socket of one side leaves it.
    fn leave_waiters_of(&self, key: WaiterKey, read: bool, write: bool) {
        let _ = (read, write);
        self.leave_waiters(key);
    }
}

/// Guards a wait on a socket: dropped while the wait is pending (its
/// future dropped: a `select!` took another branch, a `timeout` fired, the
/// task was aborted), it takes the waiter off the socket's list, so no
/// stale wake comes for it. The native `accept` and `recv_from` wait with
/// one, and the tokio face's waiting `async fn`s (`readable`, `ready`,
/// `peek`, `accept`, `recv_from`, ...).
#[doc(hidden)]
pub struct Waiting<'a, S: Waitable + ?Sized> {
    pub(crate) socket: &'a S,
    /// The data word of the waker the wait parked with, while it is
    /// pending; `NOT_PARKED` otherwise (one word, where an `Option` is two,
    /// in every pending receive's future). No waker's data word is
    /// `usize::MAX`: an engine waker's is its run and task, well below it,
    /// and a pointer there is neither aligned nor mapped.
    parked: usize,
}

/// [`Waiting::parked`] while nothing is parked.
const NOT_PARKED: usize = usize::MAX;

/// [`GUARD`]: no guarded wait is being polled (a `poll_` method, a `try_`
/// form).
const UNGUARDED: u8 = 0;
/// [`GUARD`]'s bit for a guarded wait being polled.
const GUARDED: u8 = 1;
/// [`GUARD`]: a guarded wait that parked before is being polled.
const PARKED: u8 = GUARDED;
/// [`GUARD`]: a guarded wait that has not parked yet is being polled (its
/// `>> 1` is the one more it adds to a waiter's count).
const FRESH: u8 = GUARDED | 2;

thread_local! {
    /// Which wait is being polled ([`Waiting::polling`], reset by
    /// [`Waiting::polled`]): a side counts the guarded waits of a task
    /// parked on it by this ([`Waiter::count`]), without a look at the
    /// world of its own.
    static GUARD: std::cell::Cell<u8> = const { std::cell::Cell::new(UNGUARDED) };
}

impl<'a, S: Waitable + ?Sized> Waiting<'a, S> {
    /// A guard for a wait on `socket`.
    #[inline]
    pub fn new(socket: &'a S) -> Waiting<'a, S> {
        Waiting {
            socket,
            parked: NOT_PARKED,
        }
    }

    /// The wait is polled now (its socket's poll follows, then
    /// [`Waiting::polled`]): the side it parks on counts it at its first
    /// `Pending` and lets it go at its `Ready` ([`Waiter::count`]).
    #[inline(always)]
    pub fn polling(&self) {
        GUARD.set(if self.parked == NOT_PARKED {
            FRESH
        } else {
            PARKED
        });
    }

    /// Notes what a poll of the wait returned: pending, it parked with
    /// `context`'s waker; ready, it waits no more.
    #[inline(always)]
    pub fn polled<T>(&mut self, context: &Context<'_>, poll: Poll<T>) -> Poll<T> {
        GUARD.set(UNGUARDED);
        self.parked = if poll.is_pending() {
            WaiterKey::of(context.waker()).data
        } else {
            NOT_PARKED
        };
        poll
    }
}

/// Leaves the waiters of `parked`, the side `side` picks of the world's
/// sockets, when the world is there to change (a drop during a crash or
/// at the run's end, with the world borrowed or gone, leaves nothing).
#[inline]
fn leave_side(
    world: &super::WorldRc,
    side: impl FnOnce(&mut World) -> &mut Parked,
    key: WaiterKey,
) {
    // A wait dropped while no task is polled went with its task (the run's
    // end, a node's crash): nothing wakes that task again, and the next run
    // empties every side. It leaves nothing (a server's pending accept,
    // dropped at every run's end, cost ~90 instructions a small simulation).
    if cx::current_task().is_none() {
        return;
    }
    let Ok(mut world) = world.try_borrow_mut() else {
        return;
    };
    if super::same_run(world.run_id) {
        side(&mut world).leave(key);
    }
}

impl<S: Detachable + Waitable> Waitable for Detached<S> {
    fn leave_waiters(&self, key: WaiterKey) {
        let _ = self.with(|socket| socket.leave_waiters(key));
    }

    fn leave_waiters_of(&self, key: WaiterKey, read: bool, write: bool) {
        let _ = self.with(|socket| socket.leave_waiters_of(key, read, write));
    }
}

impl<S: Waitable + ?Sized> Drop for Waiting<'_, S> {
    #[inline]
    fn drop(&mut self) {
        let parked = std::mem::replace(&mut self.parked, NOT_PARKED);
        if parked != NOT_PARKED {
            self.socket.leave_waiters(WaiterKey { data: parked });
        }
    }
}

/// Cuts both directions between nodes `a` and `b`: messages between them
/// are held back (datagrams dropped); streams across the cut break with
/// `TimedOut` after their `tcp_timeout`.
///
/// ```
/// use asyncsim_sim::{net, node, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     node::Builder::new("db").start(|| async {});
///     net::partition("main", "db");
///     net::repair("main", "db");
/// });
/// assert!(run.result.is_ok());
/// ```
///
/// # Panics
///
/// When a name is not a node's.
#[track_caller]
pub fn partition(a: &str, b: &str) {
    let world = world("asyncsim::net::partition");
    let mut world = world.borrow_mut();
    let (a, b) = (
        world.node_named(a, "net::partition"),
        world.node_named(b, "net::partition"),
    );
    world.net.cuts.insert((a, b));
    world.net.cuts.insert((b, a));
    world.record_link_fault(FaultOp::Partition, "partitioned", a, " <-> ", b);
    tcp::links_cut(&mut world);
}

/// Cuts one direction: messages from `from` to `to` are held back.
#[track_caller]
pub fn partition_oneway(from: &str, to: &str) {
    let world = world("asyncsim::net::partition_oneway");
    let mut world = world.borrow_mut();
    let (from, to) = (
        world.node_named(from, "net::partition_oneway"),
        world.node_named(to, "net::partition_oneway"),
    );
    world.net.cuts.insert((from, to));
    world.record_link_fault(FaultOp::Partition, "partitioned", from, " -> ", to);
    tcp::links_cut(&mut world);
}

/// Heals the cuts between `a` and `b` (both directions); held stream
/// segments leave now.
#[track_caller]
pub fn repair(a: &str, b: &str) {
    let world = world("asyncsim::net::repair");
    let mut world = world.borrow_mut();
    let (a, b) = (
        world.node_named(a, "net::repair"),
        world.node_named(b, "net::repair"),
    );
    world.net.cuts.remove(&(a, b));
    world.net.cuts.remove(&(b, a));
    world.record_link_fault(FaultOp::Repair, "repaired", a, " <-> ", b);
    world.links_changed();
}

/// Cuts `node` from every other node.
#[track_caller]
pub fn isolate(node: &str) {
    let world = world("asyncsim::net::isolate");
    let mut world = world.borrow_mut();
    let node = world.node_named(node, "net::isolate");
    world.net.isolated.insert(node);
    let what = format!("isolated node `{}`", world.nodes[node as usize].name);
    record_fault(FaultOp::Isolate, what);
    tcp::links_cut(&mut world);
}

/// Ends an [`isolate`].
#[track_caller]
pub fn rejoin(node: &str) {
    let world = world("asyncsim::net::rejoin");
    let mut world = world.borrow_mut();
    let node = world.node_named(node, "net::rejoin");
    world.net.isolated.remove(&node);
    let what = format!("node `{}` rejoined", world.nodes[node as usize].name);
    record_fault(FaultOp::Rejoin, what);
    world.links_changed();
}

/// Sets the behaviour of the link between `a` and `b` (both directions).
#[track_caller]
pub fn set_link(a: &str, b: &str, config: NetConfig) {
    let world = world("asyncsim::net::set_link");
    let mut world = world.borrow_mut();
    let (a, b) = (
        world.node_named(a, "net::set_link"),
        world.node_named(b, "net::set_link"),
    );
    // "set link `a` <-> `b`: latency 1ms..5ms, loss 0, duplicate 0, tcp
    // timeout 30s", by hand (a link is often set once a run), or as the
    // last run set it.
    let world = &mut *world;
    let (name_a, name_b) = (&world.nodes[a as usize].name, &world.nodes[b as usize].name);
    let key = WordsKey {
        kind: super::WORDS_SET_LINK,
        numbers: [
            config.latency_min_ns,
            config.latency_max_ns,
            config.loss.to_bits(),
            config.duplicate.to_bits(),
            config.tcp_timeout_ns,
        ],
        names: [name_a, name_b],
    };
    let (what, hashes) = world.memo.words(key, || {
        let mut what = String::with_capacity(112 + name_a.len() + name_b.len());
        what.push_str("set link `");
        what.push_str(name_a);
        what.push_str("` <-> `");
        what.push_str(name_b);
        what.push_str("`: latency ");
        crate::trace::push_ns(&mut what, config.latency_min_ns);
        what.push_str("..");
        crate::trace::push_ns(&mut what, config.latency_max_ns);
        what.push_str(", loss ");
        push_probability(&mut what, config.loss);
        what.push_str(", duplicate ");
        push_probability(&mut what, config.duplicate);
        what.push_str(", tcp timeout ");
        crate::trace::push_ns(&mut what, config.tcp_timeout_ns);
        what
    });
    world.net.links.insert((a.min(b), a.max(b)), config);
    world.net.recent = None;
    super::record_fault_known(FaultOp::Link, what, Some(hashes));
}

/// Appends a probability as `{}` writes it (0, the common one, without
/// the float formatter).
fn push_probability(text: &mut String, probability: f64) {
    if probability == 0.0 && probability.is_sign_positive() {
        text.push('0');
    } else {
        use std::fmt::Write;
        let _ = write!(text, "{probability}");
    }
}

/// Clogs the link `from → to`: every message on it takes `extra` longer,
/// until [`unclog`].
#[track_caller]
pub fn clog(from: &str, to: &str, extra: Duration) {
    let world = world("asyncsim::net::clog");
    let mut world = world.borrow_mut();
    let (from, to) = (
        world.node_named(from, "net::clog"),
        world.node_named(to, "net::clog"),
    );
    world.net.clogged.insert((from, to), duration_to_ns(extra));
    let verb = format!(
        "clogged (+{})",
        crate::trace::format_ns(duration_to_ns(extra))
    );
    world.record_link_fault(FaultOp::Clog, &verb, from, " -> ", to);
}

/// Ends a [`clog`].
#[track_caller]
pub fn unclog(from: &str, to: &str) {
    let world = world("asyncsim::net::unclog");
    let mut world = world.borrow_mut();
    let (from, to) = (
        world.node_named(from, "net::unclog"),
        world.node_named(to, "net::unclog"),
    );
    world.net.clogged.remove(&(from, to));
    world.record_link_fault(FaultOp::Unclog, "unclogged", from, " -> ", to);
}

pub(crate) use tcp::crash_node as tcp_crash;
pub(crate) use udp::crash_node as udp_crash;

/// Resolves `address` as `TcpStream::connect` would from the calling task's
/// node: a node's name or IP and a port, to the socket address it names.
///
/// # Errors
///
/// `NotFound` for a name no node has, `InvalidInput` for a malformed address.
pub fn lookup_host<A: ToAddress>(address: A) -> io::Result<SocketAddr> {
    let address = address.to_address()?;
    let world_rc = crate::world::world("asyncsim::net::lookup_host");
    let world = world_rc.borrow();
    let (node, _) = world.current();
    let (target, port) = world.resolve(&address, node)?;
    Ok(world.socket_addr(target, port))
}
