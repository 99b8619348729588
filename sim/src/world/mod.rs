//! The simulated world: nodes, a network between them, a disk on each, and
//! the faults that break them — every latency, loss, crash outcome and
//! fault a draw on the run's tape.
//!
//! The world is created lazily, the first time a run uses a node, a socket
//! or a file; a run that uses none of them never builds it, so it behaves,
//! hashes and costs exactly as before. The executor knows only node ids
//! (a task carries the id of the node incarnation it runs on, and a crash
//! drops every task with that id); everything else lives here, reached
//! through `cx`, the engine's narrow interface.
//!
//! # Layout
//!
//! - [`node`]: named machines; the main future runs on node `main`.
//! - [`net`]: links, partitions, TCP streams and UDP sockets. Deliveries
//!   are lazy: a message carries its arrival time, and a reader that finds
//!   nothing arrived yet sleeps on a timer until the next arrival (so a
//!   delivery is a timer, and an idle network costs nothing).
//! - [`fs`]: a disk per node with a crash model (what was synced survives;
//!   what was not survives as a drawn prefix, draw 0 = none of it).
//! - [`fault`]: `buggify` and the `Nemesis`.
//!
//! Handles (sockets, files, nodes) belong to their run and are `!Send`,
//! like everything in a run:
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! fn check(file: asyncsim_sim::fs::File) { send(file) }
//! ```
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! fn check(stream: asyncsim_sim::net::TcpStream) { send(stream) }
//! ```
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! fn check(socket: asyncsim_sim::net::UdpSocket) { send(socket) }
//! ```

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::rc::Rc;

pub mod fault;
pub mod fs;
pub mod net;
pub mod node;
use crate::cx;
use crate::cx::NodeId;
use crate::tape::DrawLabel;
use crate::trace::{EventKind, FaultOp, LabelHashes, LabelText};

/// A node's `init`, type-erased: makes the future run at each restart.
pub(crate) type Init = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

/// One named machine.
pub(crate) struct NodeState {
    /// Shared with the kernel's name of each incarnation (`cx::new_node`).
    pub(crate) name: Rc<str>,
    pub(crate) ip: IpAddr,
    /// The id the tasks of the current (or last) incarnation carry.
    pub(crate) incarnation: NodeId,
    pub(crate) running: bool,
    pub(crate) init: Option<Init>,
    /// Boxed: a node's state moves whole between a run's `nodes` and the
    /// next run's spare ones (`World::reset`, `World::spare_node`), and a
    /// disk inline made each move a `memcpy` of ~240 bytes.
    pub(crate) disk: Box<fs::Disk>,
    /// The next ephemeral port to try.
    pub(crate) next_port: u16,
}

/// Everything the world knows in one run.
pub(crate) struct World {
    pub(crate) run_id: u64,
    pub(crate) nodes: Vec<NodeState>,
    /// The node index of each incarnation id (ids are handed out densely).
    pub(crate) incarnations: Vec<u32>,
    pub(crate) net: net::Network,
    /// Words made in earlier runs of this world (see [`WordsMemo`]).
    pub(crate) memo: WordsMemo,
    /// The last run's nodes past `main`, last first, emptied (no `init`, an
    /// untouched disk): a node started again under the same name takes its
    /// state back (see [`World::spare_node`]), its name not copied again.
    spare_nodes: Vec<NodeState>,
}

/// What decides the words of a label or a fault: its kind, up to five
/// numbers and two node names (the nodes' own, borrowed to look up; shared
/// when kept, so that a later run's lookup compares the names by address
/// first).
#[derive(Clone, Copy, PartialEq)]
pub(crate) struct WordsKey<'a> {
    pub(crate) kind: u8,
    pub(crate) numbers: [u64; 5],
    pub(crate) names: [&'a Rc<str>; 2],
}

/// The words of the labels and faults earlier runs of this world made, by
/// what decided them (a [`WordsKey`]). A test's body is the same each run,
/// so most words a run makes were made by the run before: those are copied
/// rather than written again (digits, times and names: most of what a
/// `set_link` or a new stream's label cost). Words are the same either way;
/// only their making is saved.
#[derive(Default)]
pub(crate) struct WordsMemo {
    /// Entry index by kind and numbers (the names are compared after).
    /// Only looked up, never iterated: its order decides nothing, and its
    /// hasher is fixed (no per-process random keys).
    index: HashMap<(u8, [u64; 5]), usize, BuildHasherDefault<NumbersHasher>>,
    entries: Vec<WordsEntry>,
    /// The entries the lookups of the last run found (or made), in order
    /// (this run's up to where they first differed, and this run's after):
    /// a run asks for the words the last one asked for in the same order,
    /// so its `cursor`-th lookup is tried against `order[cursor]` before the
    /// index is hashed.
    order: Vec<u32>,
    /// How many of this run's lookups found what the last run's did
    /// (`World::reset` sets it back).
    cursor: usize,
    /// Whether one of this run's lookups did not: the rest are by the index,
    /// and noted in `order`.
    recording: bool,
}

/// One kept entry of a [`WordsMemo`].
struct WordsEntry {
    kind: u8,
    numbers: [u64; 5],
    names: [Rc<str>; 2],
    words: String,
    /// The words' hashes (for the trace's hash and for interning).
    hashes: LabelHashes,
}

impl WordsEntry {
    #[inline(always)]
    fn is_for(&self, key: &WordsKey<'_>) -> bool {
        self.kind == key.kind
            && same_numbers(&self.numbers, &key.numbers)
            && same_name(&self.names[0], key.names[0])
            && same_name(&self.names[1], key.names[1])
    }
}

/// Whether a kept name is `name`: the same node's name is the same `Rc`
/// from run to run (`World::spare_node`), so the bytes are rarely read.
#[inline]
fn same_name(kept: &Rc<str>, name: &Rc<str>) -> bool {
    Rc::ptr_eq(kept, name) || same_text(kept, name)
}

/// `a == b` for a key's numbers, word by word in line (the array's `==`
/// is a call of `memcmp`).
#[inline]
pub(crate) fn same_numbers(a: &[u64; 5], b: &[u64; 5]) -> bool {
    a.iter().zip(b).fold(0, |differ, (a, b)| differ | (a ^ b)) == 0
}

/// `a == b`, in line for the texts of up to 16 bytes node names mostly are
/// (two overlapping loads from each end, where `==` calls `memcmp`).
#[inline]
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let word =
        |text: &[u8], at: usize| u64::from_le_bytes(text[at..at + 8].try_into().unwrap_or([0; 8]));
    let half =
        |text: &[u8], at: usize| u32::from_le_bytes(text[at..at + 4].try_into().unwrap_or([0; 4]));
    match len {
        8..=16 => word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        _ => a == b,
    }
}

impl WordsMemo {
    /// The words for `key` and their hashes (`trace::LabelHashes`, so the
    /// trace's hash and interning need not read them again): kept ones, borrowed,
    /// if an earlier run made words for the same key, else `make`'s (kept
    /// for the next runs). A label made of borrowed words is copied into a
    /// kept buffer (`trace::LabelText`): no allocation.
    #[inline]
    pub(crate) fn words(
        &mut self,
        key: WordsKey<'_>,
        make: impl FnOnce() -> String,
    ) -> (Cow<'_, str>, LabelHashes) {
        if !self.recording {
            // As the last run asked, at this point of it: no hashing.
            match self.order.get(self.cursor) {
                Some(&at) if self.entries[at as usize].is_for(&key) => {
                    self.cursor += 1;
                    let entry = &self.entries[at as usize];
                    return (Cow::Borrowed(&entry.words), entry.hashes);
                }
                // Not as the last run: from here on this run's lookups are
                // the order the next run tries (a run whose order changes
                // from run to run, like many clients' streams in the order
                // they were scheduled, tries once a run).
                _ => self.start_recording(),
            }
        }
        let at = match self.index.get(&(key.kind, key.numbers)) {
            Some(&at) if self.entries[at].is_for(&key) => {
                self.note_order(at);
                let entry = &self.entries[at];
                return (Cow::Borrowed(&entry.words), entry.hashes);
            }
            Some(&at) => Some(at),
            None => None,
        };
        let words = make();
        let hashes = LabelHashes::of(&words);
        match at {
            // Other names, same numbers: written over in place.
            Some(at) => {
                let entry = &mut self.entries[at];
                entry.names = [key.names[0].clone(), key.names[1].clone()];
                entry.words.clear();
                entry.words.push_str(&words);
                entry.hashes = hashes;
                self.note_order(at);
            }
            None if self.entries.len() < WORDS_MEMO_MAX => {
                let at = self.entries.len();
                self.index.insert((key.kind, key.numbers), at);
                self.entries.push(WordsEntry {
                    kind: key.kind,
                    numbers: key.numbers,
                    names: [key.names[0].clone(), key.names[1].clone()],
                    words: words.clone(),
                    hashes,
                });
                self.note_order(at);
            }
            None => {}
        }
        (Cow::Owned(words), hashes)
    }

    /// This run's lookups differ from the last run's from here: they are
    /// noted, after the ones that did not.
    #[cold]
    #[inline(never)]
    fn start_recording(&mut self) {
        self.order.truncate(self.cursor);
        self.recording = true;
    }

    /// Notes that this run's next lookup (by the index) found or made entry
    /// `at`.
    #[inline]
    fn note_order(&mut self, at: usize) {
        if self.order.len() < WORDS_MEMO_MAX {
            self.order.push(at as u32);
        }
    }

    /// A new run's lookups start again from the last run's first.
    pub(crate) fn start_run(&mut self) {
        self.cursor = 0;
        self.recording = false;
    }
}

/// [`WordsMemo`]'s hasher: a multiply-rotate over the key's words (no
/// SipHash for a lookup that saves a few hundred instructions).
#[derive(Default)]
pub(crate) struct NumbersHasher(u64);

impl std::hash::Hasher for NumbersHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        // (An array of `u64`s arrives here as its bytes.)
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.write_u64(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        }
        for &byte in chunks.remainder() {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The kinds of [`WordsKey`].
pub(crate) const WORDS_SET_LINK: u8 = 1;
pub(crate) const WORDS_LISTENER: u8 = 2;
pub(crate) const WORDS_STREAM: u8 = 3;

/// At most this many words are kept.
const WORDS_MEMO_MAX: usize = 256;

pub(crate) type WorldRc = Rc<RefCell<World>>;

thread_local! {
    /// The world of the run in progress on this thread (or of the last run
    /// that used one): replaced when another run asks for its world.
    static WORLD: RefCell<Option<WorldRc>> = const { RefCell::new(None) };
}

/// The first ephemeral port (Linux's default range starts here).
const EPHEMERAL_FIRST: u16 = 49152;

impl World {
    fn new(run_id: u64) -> World {
        World {
            run_id,
            nodes: vec![NodeState::new(
                Rc::from("main"),
                default_ip(0),
                NodeId::MAIN,
            )],
            incarnations: vec![0],
            net: net::Network::default(),
            memo: WordsMemo::default(),
            spare_nodes: Vec::new(),
        }
    }

    /// Makes this (the last run's) world the empty world of run `run_id`,
    /// keeping its buffers: a run that uses the world again then allocates
    /// less. The old nodes' `init` closures and sockets are dropped here.
    fn reset(&mut self, run_id: u64) {
        // Every field named, so a new one cannot be forgotten here.
        let World {
            run_id: id,
            nodes,
            incarnations,
            net,
            memo,
            spare_nodes,
        } = self;
        *id = run_id;
        memo.start_run();
        // The other nodes, their `init` closures and disks dropped here in
        // order, as `truncate` would; their names and states kept.
        spare_nodes.clear();
        for mut node in nodes.drain(1..) {
            node.init = None;
            if !node.disk.is_empty() {
                *node.disk = fs::Disk::default();
            }
            if spare_nodes.len() < SPARE_NODES_MAX {
                spare_nodes.push(node);
            }
        }
        spare_nodes.reverse();
        // Node `main` as `World::new` makes it (its name kept).
        let NodeState {
            name,
            ip,
            incarnation,
            running,
            init,
            disk,
            next_port,
        } = &mut nodes[0];
        debug_assert_eq!(&**name, "main");
        *ip = default_ip(0);
        *incarnation = NodeId::MAIN;
        *running = true;
        *init = None;
        if !disk.is_empty() {
            **disk = fs::Disk::default();
        }
        *next_port = EPHEMERAL_FIRST;
        incarnations.clear();
        incarnations.push(0);
        net.reset();
    }

    /// A node's state as [`NodeState::new`] makes it, taken from the last
    /// run's when that run's next node had this name.
    pub(crate) fn spare_node(&mut self, name: &str, ip: IpAddr) -> NodeState {
        match self.spare_nodes.last() {
            Some(node) if same_text(&node.name, name) => {
                let mut node = self.spare_nodes.pop().expect("a spare node");
                node.ip = ip;
                node.incarnation = NodeId::MAIN;
                node.running = true;
                node.next_port = EPHEMERAL_FIRST;
                node
            }
            _ => NodeState::new(Rc::from(name), ip, NodeId::MAIN),
        }
    }

    /// A fresh incarnation id for node `index`: each start of a node is a
    /// node of its own to the kernel, so a crash never meets the tasks of
    /// the restart that follows it.
    pub(crate) fn new_incarnation(&mut self, index: usize) -> NodeId {
        let id = cx::new_node(self.nodes[index].name.clone());
        let slot = id.0 as usize;
        if self.incarnations.len() <= slot {
            self.incarnations.resize(slot + 1, 0);
        }
        self.incarnations[slot] = index as u32;
        self.nodes[index].incarnation = id;
        id
    }

    /// The node the running task is on, and its incarnation.
    pub(crate) fn current(&self) -> (usize, NodeId) {
        let id = cx::current_node();
        let index = self.incarnations.get(id.0 as usize).copied().unwrap_or(0);
        (index as usize, id)
    }

    /// True while `incarnation` is node `index`'s running incarnation.
    pub(crate) fn alive(&self, index: usize, incarnation: NodeId) -> bool {
        let node = &self.nodes[index];
        node.running && node.incarnation == incarnation
    }

    /// The error of an operation (`what`: "asyncsim::net::TcpListener::bind") that a task
    /// of node `index`'s crashed incarnation asked for in the poll of its
    /// crash (the only time such a task runs: it is dropped at the step's
    /// end): one error for every bind, connect, listen and disk operation,
    /// a bad use's (`ErrorKind::Other`, as a handle from another run's),
    /// naming the node and its crash. Out of line.
    #[cold]
    #[inline(never)]
    pub(crate) fn crashed_here(&self, index: usize, what: &str) -> std::io::Error {
        std::io::Error::other(format!(
            "{what} on node `{}`, which crashed: a task of a crashed node runs no further (it is dropped at the end of this step)",
            self.nodes[index].name
        ))
    }

    #[inline]
    pub(crate) fn node_by_name(&self, name: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|node| same_text(&node.name, name))
    }

    pub(crate) fn node_by_ip(&self, ip: IpAddr) -> Option<usize> {
        self.nodes.iter().position(|node| node.ip == ip)
    }
}

impl NodeState {
    pub(crate) fn new(name: Rc<str>, ip: IpAddr, incarnation: NodeId) -> NodeState {
        NodeState {
            name,
            ip,
            incarnation,
            running: true,
            init: None,
            disk: Box::default(),
            next_port: EPHEMERAL_FIRST,
        }
    }
}

/// At most this many nodes' states are kept from one run for the next.
const SPARE_NODES_MAX: usize = 64;

/// The address node number `index` gets unless it asks for one:
/// 10.0.0.1 for `main`, then 10.0.0.2, … in creation order.
pub(crate) fn default_ip(index: usize) -> IpAddr {
    let host = index as u32 + 1;
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000u32 + host))
}

/// Every task of the current run waiting on a socket, with what it waits
/// for ([`net::Network::socket_waits`]): the kernel asks this when it
/// reports a failure (`cx::set_socket_waits`), so the report names each
/// task's every wait, not only its last. Nothing when this thread's world
/// is another run's or is in use.
fn socket_waits(out: &mut Vec<(crate::trace::TaskId, crate::trace::WaitOn)>) {
    let Some(run_id) = cx::current_run_id() else {
        return;
    };
    WORLD.with(|slot| {
        let Ok(slot) = slot.try_borrow() else {
            return;
        };
        if let Some(world) = slot.as_ref() {
            if let Ok(world) = world.try_borrow() {
                if world.run_id == run_id {
                    world.net.socket_waits(out);
                }
            }
        }
    });
}

/// The current run's world, made on first use.
///
/// # Panics
///
/// Outside a run, naming `what`.
pub(crate) fn world(what: &str) -> WorldRc {
    let Some(run_id) = cx::current_run_id() else {
        panic!(
            "{what} was called outside a simulation: call it inside the future passed to Sim::run (or asyncsim::check; through the tokio face, inside #[tokio::test], #[tokio::main] or Runtime::block_on)"
        );
    };
    WORLD.with(|slot| {
        if let Some(world) = slot.borrow().as_ref() {
            if world.borrow().run_id == run_id {
                return world.clone();
            }
        }
        // The previous run's world (if any) holds no futures, only buffers,
        // sockets' states and `init` closures. When nothing else holds it
        // (no handle was kept past its run), it is emptied and serves this
        // run, its buffers kept; otherwise this run gets a new one. Either
        // way its contents are dropped with no borrow held.
        let previous = slot.borrow_mut().take();
        let world = match previous {
            Some(mut world) if Rc::strong_count(&world) == 1 && Rc::weak_count(&world) == 0 => {
                if let Some(unique) = Rc::get_mut(&mut world) {
                    unique.get_mut().reset(run_id);
                }
                world
            }
            previous => {
                drop(previous);
                Rc::new(RefCell::new(World::new(run_id)))
            }
        };
        let mut slot = slot.borrow_mut();
        // A destructor above may have asked for this run's world already.
        if let Some(made) = slot.as_ref() {
            if made.borrow().run_id == run_id {
                return made.clone();
            }
        }
        *slot = Some(world.clone());
        cx::set_socket_waits(socket_waits);
        world
    })
}

/// Records a fault in the trace (`EventKind::Fault`), with what happened in
/// words: renderers give faults a lane of their own.
pub(crate) fn record_fault(op: FaultOp, what: impl LabelText) {
    record_fault_known(op, what, None);
}

/// [`record_fault`], with the words' hashes when known.
pub(crate) fn record_fault_known(op: FaultOp, what: impl LabelText, known: Option<LabelHashes>) {
    let what = cx::intern_label_known(what, known);
    cx::record(EventKind::Fault { op, what });
}

/// A weighted fault draw (`label`, `0..bound`, nonzero with `probability`
/// while faults are on) whose nonzero values are faults of kind `op`: the
/// trace records each one, in `describe`'s words (which the shrunk report
/// uses too).
pub(crate) fn draw_fault(
    label: DrawLabel,
    bound: u64,
    probability: f64,
    what: &str,
    op: FaultOp,
    describe: impl Fn(u64) -> String,
) -> u64 {
    let value = cx::draw_described(label, bound, Some(probability), what, &describe);
    if value != 0 {
        record_fault(op, describe(value));
    }
    value
}

/// Appends `value` in decimal (for labels made on a hot path, where
/// `format!` costs several times as much).
pub(crate) fn push_decimal(text: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    text.reserve(digits.len() - start);
    for &digit in &digits[start..] {
        text.push(char::from(digit));
    }
}

/// Checks that a handle made in run `run_id` is used in that run.
pub(crate) fn same_run(run_id: u64) -> bool {
    cx::current_run_id() == Some(run_id)
}

/// Fails the run with `name` when `condition` is false: an assertion the
/// harness can count and a report can name.
///
/// ```
/// use asyncsim_sim::{Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     asyncsim_sim::always("two is even", 2 % 2 == 0);
/// });
/// assert!(run.result.is_ok());
/// let run = Sim::new(Config::new()).run(async {
///     asyncsim_sim::always("three is even", 3 % 2 == 0);
/// });
/// assert!(run.result.unwrap_err().message.contains("always `three is even`"));
/// ```
#[track_caller]
pub fn always(name: &str, condition: bool) {
    if !condition {
        panic!("property always `{name}` did not hold");
    }
}

thread_local! {
    /// This thread's `sometimes` record: the names seen in the current (or
    /// last) run with whether each held, and over runs since the last
    /// [`take_sometimes_counts`], in how many runs each held.
    static PROPERTIES: RefCell<Properties> = const {
        RefCell::new(Properties {
            run_id: 0,
            this_run: BTreeMap::new(),
            counts: BTreeMap::new(),
        })
    };
}

struct Properties {
    run_id: u64,
    this_run: BTreeMap<String, bool>,
    counts: BTreeMap<String, u64>,
}

/// Records whether `condition` held, under `name`. The harness counts, for
/// each name, the runs in which it held at least once (`Summary::sometimes`),
/// and `Explore::require_sometimes()` fails an exploration in which a name
/// never held: "the partition path was exercised" is checked, not hoped
/// (Antithesis's idea). Costs a map lookup; builds no world.
///
/// ```
/// use asyncsim_sim::{Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     asyncsim_sim::sometimes("ran", true);
///     asyncsim_sim::sometimes("never", false);
///     asyncsim_sim::sometimes_so_far()
/// });
/// assert_eq!(run.result.unwrap(), ["ran"]);
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn sometimes(name: &str, condition: bool) {
    let Some(run_id) = cx::current_run_id() else {
        panic!("asyncsim::sometimes was called outside a simulation");
    };
    PROPERTIES.with(|properties| {
        let mut properties = properties.borrow_mut();
        let properties = &mut *properties;
        if properties.run_id != run_id {
            properties.run_id = run_id;
            properties.this_run.clear();
        }
        match properties.this_run.get_mut(name) {
            Some(true) => {}
            Some(held) => {
                if condition {
                    *held = true;
                    *properties.counts.entry(name.to_string()).or_insert(0) += 1;
                }
            }
            None => {
                properties.this_run.insert(name.to_string(), condition);
                *properties.counts.entry(name.to_string()).or_insert(0) += u64::from(condition);
            }
        }
    });
}

/// The `sometimes` names that held so far in this run, sorted.
///
/// # Panics
///
/// Outside a run.
pub fn sometimes_so_far() -> Vec<String> {
    let Some(run_id) = cx::current_run_id() else {
        panic!("asyncsim::sometimes_so_far was called outside a simulation");
    };
    PROPERTIES.with(|properties| {
        let properties = properties.borrow();
        if properties.run_id != run_id {
            return Vec::new();
        }
        properties
            .this_run
            .iter()
            .filter(|(_, held)| **held)
            .map(|(name, _)| name.clone())
            .collect()
    })
}

/// For the harness: the `sometimes` names seen on this thread since the last
/// call, each with the number of runs in which it held (0: seen, never
/// held). Leaves the count empty.
#[doc(hidden)]
pub fn take_sometimes_counts() -> BTreeMap<String, u64> {
    PROPERTIES.with(|properties| std::mem::take(&mut properties.borrow_mut().counts))
}
