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
use std::io;
use std::net::SocketAddr;
use std::task::Waker;
use std::time::Duration;

use super::{cx, record_fault, world, WordsKey, World};
use crate::clock::duration_to_ns;
use crate::tape::DrawLabel;
use crate::trace::FaultOp;

mod address;
pub(crate) mod config;
mod detached;
mod tcp;
mod udp;
mod wait;

pub use address::{Address, ToAddress};
pub use config::NetConfig;
pub use detached::{Detachable, Detached};
#[doc(hidden)]
pub use tcp::buffer_set_to;
pub use tcp::{TcpListener, TcpStream, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};
pub use udp::UdpSocket;
use wait::leave_side;
pub(crate) use wait::{budget_yield, poll_budget, Parked};
pub use wait::{Waitable, WaiterKey, Waiting};

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

/// Says the task being polled waits for `op` on `label` (made by
/// [`wait_label`]), as a socket's wait says it, so a deadlock report names
/// it: for a wait of the tokio face's own (its in-memory `unix::pipe`).
#[doc(hidden)]
pub fn waits_on(op: crate::trace::SocketWait, label: u32) {
    cx::set_waiting_on(crate::trace::WaitOn::Socket { op, socket: label });
}

/// The current run's trace label `text`, for [`waits_on`].
///
/// # Panics
///
/// Outside a run.
#[doc(hidden)]
pub fn wait_label(text: String) -> u32 {
    cx::intern_label(text)
}

impl Network {
    /// Every task waiting on a socket of the run, with what it waits for
    /// (a read, a write, an accept, a receive; one a side it waits on), in a
    /// fixed order: streams, listeners, UDP sockets, each by id. For a
    /// failure's report, which names each task's every wait.
    pub(crate) fn socket_waits(&self, out: &mut Vec<(crate::trace::TaskId, crate::trace::WaitOn)>) {
        tcp::socket_waits(&self.connections, &self.listeners, out);
        udp::socket_waits(&self.udp, out);
    }

    /// Node `incarnation` crashes: its tasks' waits leave every socket's
    /// sides ([`Parked::forget_node`]). Cold: walks every side.
    pub(crate) fn forget_node(&mut self, incarnation: cx::NodeId) {
        tcp::forget_node(&mut self.connections, &mut self.listeners, incarnation);
        for state in &mut self.udp {
            state.reader_mut().forget_node(incarnation);
        }
    }

    /// Empties the network for a new run, keeping its lists' buffers.
    pub(crate) fn reset(&mut self) {
        wait::clear_guard();
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

    /// True when messages cannot pass between `a` and `b` one way or the
    /// other (a stream's data or its acks).
    #[inline]
    pub(crate) fn is_cut_either(&self, a: u32, b: u32) -> bool {
        self.is_cut(a, b) || self.is_cut(b, a)
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
    /// A reset of the peer of `TcpStream#stream` (its node crashed, its
    /// connect was abandoned before the SYN-ACK came, it closed with bytes
    /// unread or abortively, or bytes reached it after it closed).
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

impl World {
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

/// Cuts both directions between nodes `a` and `b`: messages between them
/// are held back (datagrams dropped); a stream's end whose bytes the cut
/// holds breaks with `TimedOut` after its `tcp_timeout` (its idle peer is
/// not told, as on Linux).
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
