//! A connection's insides: two pipes of segments (one toward each end),
//! the bytes they carry, their delivery in order, segments held back by a
//! cut, and what a node's crash does to its connections.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use super::ListenerState;
use crate::cx::NodeId;
use crate::trace::{DropWhy, EventKind, FaultOp, NetOp, SocketWait, TaskId, WaitOn};
use crate::world::net::{Carried, Parked, Protocol};
use crate::world::{cx, push_decimal, WordsKey, World, WORDS_STREAM};

/// A segment on its way: when it arrives, and its length (its bytes are
/// the next `len` of the pipe's unread `bytes`).
pub(super) struct Segment {
    pub(super) arrival_ns: u64,
    pub(super) len: usize,
}

/// The bytes flowing toward one end of a connection.
#[derive(Default)]
pub(crate) struct Pipe {
    pub(super) segments: VecDeque<Segment>,
    /// The bytes of `segments`, in order, from `read_at` on (one buffer
    /// for them all: a segment allocates nothing). Before `read_at`: bytes
    /// read, dropped when all is read (the common case) or when they are
    /// most of a large buffer.
    pub(super) bytes: Vec<u8>,
    pub(super) read_at: usize,
    /// Bytes of the front segment already read.
    pub(super) offset: usize,
    pub(super) last_arrival_ns: u64,
    /// When the sender's half-close (EOF) arrives.
    pub(super) fin_ns: Option<u64>,
    /// True when `fin_ns` is the arrival of the reset the sender's close
    /// sent (it closed with bytes unread, and no FIN came before:
    /// [`send_reset`]): a read there gets `ConnectionReset`, not EOF.
    pub(super) fin_resets: bool,
    /// Segments (and a FIN) held back by a cut, in send order.
    pub(super) held: Vec<Vec<u8>>,
    pub(super) held_fin: bool,
    /// The reset of a close with bytes unread ([`send_reset`]), held
    /// behind the segments (and FIN) held before it.
    pub(super) held_reset: bool,
    /// Since when the held segments wait.
    pub(super) held_since_ns: Option<u64>,
    /// The bytes of `held`.
    pub(super) held_bytes: usize,
    /// While the link from this end back to the sender is cut (its acks
    /// and window updates cannot get there): the bytes the sender counts
    /// as not acknowledged, unread when the cut came and sent since. This
    /// end's reads free no room for the sender then; the sender's room is
    /// the window less these ([`Pipe::room`]), and `limit` is 0, so its
    /// every write takes the slow path, which counts them.
    pub(super) unacked: Option<usize>,
    /// The most bytes sent toward this end and not read ([`Pipe::unread_bytes`])
    /// there may be: the sender's send buffer and this end's receive
    /// buffer ([`window`]). A write that does not fit takes what does, and
    /// waits when nothing does.
    pub(super) window: usize,
    /// `window` less `held_bytes`, or 0 once this end is gone (`dropped`)
    /// or the sender's write side shut: what a write compares the bytes
    /// in `bytes` and its own with, its one look (past it, the write's
    /// slow path sorts out which).
    pub(super) limit: usize,
    pub(super) reader: Parked,
    /// The task of the sending end waiting for room (the window full).
    pub(super) writer: Parked,
}

impl Pipe {
    /// The bytes sent toward this end and not read: arrived, on their
    /// way, or held back by a cut.
    #[inline]
    pub(super) fn unread_bytes(&self) -> usize {
        self.bytes.len() - self.read_at + self.held_bytes
    }

    /// The bytes the sender may write now: the window less what it sent
    /// and its peer has not read, or, while its peer's acks are cut, less
    /// what it sent and had no ack for ([`Pipe::unacked`]).
    pub(super) fn room(&self) -> usize {
        let outstanding = self.unacked.unwrap_or_else(|| self.unread_bytes());
        self.window.saturating_sub(outstanding)
    }

    /// Empties the pipe for another connection, keeping its buffers.
    pub(super) fn clear(&mut self) {
        // Every field named, so a new one cannot be forgotten here.
        let Pipe {
            segments,
            bytes,
            read_at,
            offset,
            last_arrival_ns,
            fin_ns,
            fin_resets,
            held,
            held_fin,
            held_reset,
            held_since_ns,
            held_bytes,
            unacked,
            window,
            limit,
            reader,
            writer,
        } = self;
        segments.clear();
        bytes.clear();
        // A big buffer is not kept for whatever comes next.
        if bytes.capacity() > SPARE_BYTES_MAX {
            *bytes = Vec::new();
        }
        *read_at = 0;
        *offset = 0;
        *last_arrival_ns = 0;
        *fin_ns = None;
        *fin_resets = false;
        held.clear();
        *held_fin = false;
        *held_reset = false;
        *held_since_ns = None;
        *held_bytes = 0;
        *unacked = None;
        // (`window` and `limit` are set when the connection opens.)
        let _ = (window, limit);
        reader.clear();
        // (Untouched unless a writer waited.)
        if !writer.is_unused() {
            writer.clear();
        }
    }
}

/// A run's connections or listeners, by id (`0..len()`), and after them the
/// emptied ones of earlier runs in this world, kept for reuse: a new one
/// takes the next and is filled in place (its buffers kept, so it allocates
/// nothing in a run after the first, and nothing of it is moved: a
/// connection, ~500 bytes, was taken from a list of spares and pushed here,
/// copied twice).
pub(crate) struct Reused<T> {
    list: Vec<T>,
    /// The run's are `list[..live]`.
    live: usize,
}

/// What [`Reused`] needs of what it keeps.
pub(crate) trait Reuse {
    /// A new one, to be filled in when it opens.
    fn empty() -> Self;
    /// Empties one of a run that ended, keeping its buffers.
    fn clear(&mut self);
}

/// The run's connections.
pub(crate) type Connections = Reused<Connection>;

/// The run's listeners.
pub(crate) type Listeners = Reused<ListenerState>;

impl<T> Default for Reused<T> {
    fn default() -> Self {
        Reused {
            list: Vec::new(),
            live: 0,
        }
    }
}

impl<T: Reuse> Reused<T> {
    /// The run's so far (the next one's id).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The next one (id [`Reused::len`]), to be filled in by the caller:
    /// an emptied one kept from an earlier run (`Reuse::clear`ed, every
    /// other field the caller's to write), or a new one.
    #[inline]
    pub(super) fn open(&mut self) -> &mut T {
        if self.live == self.list.len() {
            self.list.push(T::empty());
        }
        self.live += 1;
        &mut self.list[self.live - 1]
    }

    /// Empties the run's for the next run's (their buffers kept), at most
    /// [`SPARE_MAX`] of all kept.
    pub(crate) fn keep(&mut self) {
        self.list.truncate(SPARE_MAX);
        let used = self.live.min(self.list.len());
        for each in &mut self.list[..used] {
            each.clear();
        }
        self.live = 0;
    }

    /// This run's, by id.
    pub(crate) fn of_run(&self) -> &[T] {
        &self.list[..self.live]
    }

    /// This run's `id`, if it has one.
    pub(crate) fn get_mut(&mut self, id: usize) -> Option<&mut T> {
        self.list[..self.live].get_mut(id)
    }
}

impl<T> std::ops::Index<usize> for Reused<T> {
    type Output = T;

    #[inline]
    fn index(&self, id: usize) -> &T {
        debug_assert!(
            id < self.live,
            "asyncsim bug: socket {id} is not this run's"
        );
        &self.list[id]
    }
}

impl<T> std::ops::IndexMut<usize> for Reused<T> {
    #[inline]
    fn index_mut(&mut self, id: usize) -> &mut T {
        debug_assert!(
            id < self.live,
            "asyncsim bug: socket {id} is not this run's"
        );
        &mut self.list[id]
    }
}

impl Reuse for Connection {
    fn empty() -> Connection {
        Connection::empty()
    }

    fn clear(&mut self) {
        self.pipes[0].clear();
        self.pipes[1].clear();
    }
}

/// The tasks waiting on the run's streams and listeners, with what each
/// waits for, for a failure's report: each connection by id, its ends in
/// order, each end's read then its write; then each listener's accept.
pub(crate) fn socket_waits(
    connections: &Connections,
    listeners: &Listeners,
    out: &mut Vec<(TaskId, WaitOn)>,
) {
    for c in connections.of_run() {
        for side in 0..2 {
            // (An end a task waited on has its label: the park made it.)
            let Some(socket) = c.labels[side] else {
                continue;
            };
            let sides = [
                (&c.pipes[side].reader, SocketWait::Read),
                (&c.pipes[1 - side].writer, SocketWait::Write),
            ];
            for (parked, op) in sides {
                out.extend(
                    parked
                        .waiting_tasks()
                        .map(|task| (task, WaitOn::Socket { op, socket })),
                );
            }
        }
    }
    for listener in listeners.of_run() {
        let Some(socket) = listener.label else {
            continue;
        };
        let op = SocketWait::Accept;
        out.extend(
            listener
                .acceptor
                .waiting_tasks()
                .map(|task| (task, WaitOn::Socket { op, socket })),
        );
    }
}

/// [`crate::world::net::Network::forget_node`] for the run's streams and
/// listeners.
pub(crate) fn forget_node(
    connections: &mut Connections,
    listeners: &mut Listeners,
    incarnation: NodeId,
) {
    for id in 0..connections.len() {
        for pipe in &mut connections[id].pipes {
            pipe.reader.forget_node(incarnation);
            pipe.writer.forget_node(incarnation);
        }
    }
    for id in 0..listeners.len() {
        listeners[id].acceptor.forget_node(incarnation);
    }
}

impl Reuse for ListenerState {
    fn empty() -> ListenerState {
        ListenerState {
            node: 0,
            incarnation: NodeId::MAIN,
            port: 0,
            backlog: VecDeque::new(),
            acceptor: Parked::default(),
            open: false,
            label: None,
            buffers: [DEFAULT_SEND_BUFFER, DEFAULT_RECV_BUFFER],
            linger_ns: u64::MAX,
        }
    }

    #[inline]
    fn clear(&mut self) {
        self.backlog.clear();
        self.acceptor.clear();
    }
}

/// At most this many connections and listeners are kept, and a pipe's byte
/// buffer only up to this size.
const SPARE_MAX: usize = 256;
const SPARE_BYTES_MAX: usize = 64 * 1024;

/// A pipe's read bytes are dropped from its buffer (the unread moved to its
/// front) once they are this many and at least half of it.
const COMPACT_AT: usize = 4096;

/// A new TCP socket's send buffer, as `getsockopt(SO_SNDBUF)` says on
/// Linux (`net.ipv4.tcp_wmem`'s default).
pub const DEFAULT_SEND_BUFFER: u32 = 16_384;
/// A new TCP socket's receive buffer, as `getsockopt(SO_RCVBUF)` says on
/// Linux (`net.ipv4.tcp_rmem`'s default).
pub const DEFAULT_RECV_BUFFER: u32 = 131_072;
/// The most `setsockopt` takes before doubling (Linux's default
/// `net.core.wmem_max` and `rmem_max`).
const BUFFER_SET_MAX: u32 = 212_992;
/// The least a send and a receive buffer become (Linux's
/// `SOCK_MIN_SNDBUF`, `SOCK_MIN_RCVBUF` on a 64-bit kernel).
const SEND_BUFFER_MIN: u32 = 4_608;
const RECV_BUFFER_MIN: u32 = 2_304;

/// `SO_LINGER` as an end or a listener keeps it: `u64::MAX` for off, else
/// the time (capped one below, so a linger of any length stays on).
pub(super) fn linger_ns(linger: Option<std::time::Duration>) -> u64 {
    linger.map_or(u64::MAX, |linger| {
        crate::clock::duration_to_ns(linger).min(u64::MAX - 1)
    })
}

/// The buffer `setsockopt(SO_SNDBUF, size)` (`send`) or `SO_RCVBUF` gives
/// on Linux, as `getsockopt` then says: `size` up to the maximum, doubled
/// (the kernel's room for its bookkeeping), and at least the minimum.
/// (For the tokio face's `TcpSocket`, whose getters say it before a
/// stream exists.)
pub fn buffer_set_to(size: u32, send: bool) -> u32 {
    let min = if send {
        SEND_BUFFER_MIN
    } else {
        RECV_BUFFER_MIN
    };
    (size.min(BUFFER_SET_MAX) * 2).max(min)
}

/// The window of a stream's direction: the bytes its sender may have
/// written and its receiver not read, in flight or waiting to be read:
/// the sender's send buffer and the receiver's receive buffer, as their
/// sockets report them (both counted whole, payload only: see
/// ARCHITECTURE.md, "Flow control").
#[inline]
pub(super) fn window(send_buffer: u32, recv_buffer: u32) -> usize {
    send_buffer as usize + recv_buffer as usize
}

/// One TCP connection: side 0 is the client, side 1 the server.
pub(crate) struct Connection {
    /// `pipes[side]`: the bytes toward `side`.
    pub(super) pipes: [Pipe; 2],
    pub(super) nodes: [u32; 2],
    pub(super) incarnations: [NodeId; 2],
    pub(super) addrs: [SocketAddr; 2],
    /// From `.0` on, `side` fails with `.1`.
    pub(super) errors: [Option<(u64, io::ErrorKind)>; 2],
    pub(super) write_shut: [bool; 2],
    pub(super) dropped: [bool; 2],
    /// `TcpStream#n` of each end.
    pub(super) names: [u32; 2],
    /// Each end's interned trace label, made when first needed.
    pub(super) labels: [Option<u32>; 2],
    /// The call set by [`Connection::watch_error`] for the time of each
    /// end's error (as it is now), to discard what the end has not read
    /// then; cancelled when the error is lifted or comes earlier.
    pub(super) error_watch: [Option<cx::TimerKey>; 2],
    /// True while `side`'s error is not for that call to record: the end
    /// is not handed out yet (its connect or accept records an error come
    /// by then, after its own event), or its reset was recorded already
    /// (by the call, or by a read or write that saw it first).
    pub(super) quiet: [bool; 2],
    /// True once `side`'s error (its `errors` entry, or the reset of the
    /// peer's close: `reset_ns`) was returned by a read, a peek or a
    /// write: taken, as Linux's `sock_error` clears `sk_err` when a call
    /// returns it. From then on the end is a closed socket's: its reads
    /// return 0 (EOF) and its writes `BrokenPipe` (`EPIPE`). A readiness
    /// look takes nothing (`poll` leaves `sk_err` as it is).
    pub(super) taken: [bool; 2],
    /// What cut the link when a segment was last held back by a cut
    /// (`Network::cut_causes` of `nodes[0]`, `nodes[1]`): the cause a
    /// timeout's error names.
    pub(super) cut_causes: u8,
    /// Each end's send and receive buffer (`SO_SNDBUF`, `SO_RCVBUF`), as
    /// `getsockopt` says; the pipes' windows are made of them.
    pub(super) send_buffer: [u32; 2],
    pub(super) recv_buffer: [u32; 2],
    /// When the reset of the peer's close (it closed with bytes unread:
    /// [`send_reset`]) reaches `side`: its writes fail with
    /// `ConnectionReset` from then (they reach the slow path anyway: the
    /// peer's end is gone), and its reads once they have taken what came
    /// before it (the reset is its pipe's FIN, `Pipe::fin_resets`; after a
    /// FIN that came first they stay at EOF, as Linux's). Not an `errors`
    /// entry, which a read looks at first.
    pub(super) reset_ns: [Option<u64>; 2],
    /// Each end's `SO_LINGER` time in nanoseconds as set (`u64::MAX`: off,
    /// the default). 0 makes its close abortive: a reset, whatever is
    /// unread ([`send_reset`]).
    pub(super) linger_ns: [u64; 2],
    /// The call a listener's drop set for the arrival of this connection's
    /// SYN (`syn_arrives`), while it may still fire: cancelled when the
    /// connect is abandoned first, so no call is left to jump the clock.
    pub(super) syn_call: Option<cx::TimerKey>,
}

impl Connection {
    /// A connection with empty pipes (its other fields are written when
    /// it opens).
    fn empty() -> Connection {
        let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
        Connection {
            pipes: [Pipe::default(), Pipe::default()],
            nodes: [0, 0],
            incarnations: [NodeId::MAIN, NodeId::MAIN],
            addrs: [nowhere, nowhere],
            errors: [None, None],
            write_shut: [false, false],
            dropped: [false, false],
            names: [0, 0],
            labels: [None, None],
            error_watch: [None, None],
            quiet: [true, true],
            taken: [false, false],
            cut_causes: 0,
            send_buffer: [DEFAULT_SEND_BUFFER; 2],
            recv_buffer: [DEFAULT_RECV_BUFFER; 2],
            reset_ns: [None, None],
            linger_ns: [u64::MAX; 2],
            syn_call: None,
        }
    }

    /// Sets both pipes' windows from the ends' buffers (when the
    /// connection opens, and when a buffer is set). A writer waiting for
    /// room that a wider window gives is woken.
    pub(super) fn set_windows(&mut self) {
        for to_side in 0..2 {
            let from = 1 - to_side;
            let pipe = &mut self.pipes[to_side];
            pipe.window = window(self.send_buffer[from], self.recv_buffer[to_side]);
            if pipe.room() > 0 {
                pipe.writer.wake_all();
            }
            self.set_limit(to_side);
        }
    }

    /// Sets `pipes[side].limit` (its window less what is held; 0 once
    /// end `side` is gone or the other end's write side shut, and while
    /// its acks are cut).
    pub(super) fn set_limit(&mut self, side: usize) {
        let pipe = &mut self.pipes[side];
        pipe.limit = if self.dropped[side] || self.write_shut[1 - side] || pipe.unacked.is_some() {
            0
        } else {
            pipe.window.saturating_sub(pipe.held_bytes)
        };
    }

    /// End `side` is gone (closed, its node crashed, its listener closed
    /// before accepting it): what is written to it is lost.
    pub(super) fn drop_end(&mut self, side: usize) {
        self.dropped[side] = true;
        self.pipes[side].limit = 0;
    }
}

impl World {
    /// The trace label of one end of a connection: "TcpStream#3
    /// (main:49152 -> server:6379)".
    #[inline]
    pub(super) fn stream_label(&mut self, connection: usize, side: usize) -> u32 {
        match self.net.connections[connection].labels[side] {
            Some(label) => label,
            None => self.make_stream_label(connection, side),
        }
    }

    /// [`World::stream_label`]'s first call for a stream end (out of line:
    /// every later call finds the label made).
    #[cold]
    #[inline(never)]
    pub(super) fn make_stream_label(&mut self, connection: usize, side: usize) -> u32 {
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
        let (text, hashes) = self.memo.words(key, || {
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
        let label = cx::add_label(text, Some(hashes.text));
        self.net.connections[connection].labels[side] = Some(label);
        label
    }

    /// Records a network event on one end of a connection.
    #[inline(always)]
    pub(super) fn record_stream(
        &mut self,
        connection: usize,
        side: usize,
        op: NetOp,
        bytes: usize,
    ) {
        let socket = self.stream_label(connection, side);
        cx::record_net(op, socket, bytes.min(u32::MAX as usize) as u32);
    }
}

impl World {
    /// Records that the bytes sent toward end `side` of a connection and not
    /// read (`bytes`, more than none) are lost, `why`: that end closed or
    /// its node crashed. One [`EventKind::NetDrop`] from the peer's end to
    /// this one. Out of line: a stream read to its end never gets here.
    #[cold]
    #[inline(never)]
    pub(super) fn record_stream_drop(
        &mut self,
        connection: usize,
        side: usize,
        why: DropWhy,
        bytes: usize,
    ) {
        let from = self.stream_label(connection, 1 - side);
        let to = self.stream_label(connection, side);
        cx::record(EventKind::NetDrop {
            why,
            from,
            to,
            bytes: bytes.min(u32::MAX as usize) as u32,
        });
    }
}

/// "TcpStream#3 (10.0.0.1:49152 -> 10.0.0.2:6379)".
pub(super) fn stream_name(number: u32, local: SocketAddr, peer: SocketAddr) -> String {
    format!("TcpStream#{number} ({local} -> {peer})")
}

impl Connection {
    pub(super) fn name(&self, side: usize) -> String {
        stream_name(self.names[side], self.addrs[side], self.addrs[1 - side])
    }

    /// What the reset of the peer's close gives end `side`'s writes (and
    /// its `ready(ERROR)`): `BrokenPipe` when the peer's FIN came before it
    /// (Linux's `EPIPE` for a socket in CLOSE_WAIT), else `ConnectionReset`.
    pub(super) fn close_reset_kind(&self, side: usize) -> io::ErrorKind {
        let pipe = &self.pipes[side];
        if pipe.fin_ns.is_some() && !pipe.fin_resets {
            io::ErrorKind::BrokenPipe
        } else {
            io::ErrorKind::ConnectionReset
        }
    }

    /// A read, peek or write returns end `side`'s error, come: true the
    /// first time (it takes the error: [`Connection::taken`]), false once
    /// it was taken (the end is closed: EOF to reads, `BrokenPipe` to
    /// writes).
    pub(super) fn take_error(&mut self, side: usize) -> bool {
        !std::mem::replace(&mut self.taken[side], true)
    }

    /// The error `side` sees at `now_ns`, if any.
    pub(super) fn error_at(&self, side: usize, now_ns: u64) -> Option<io::ErrorKind> {
        match self.errors[side] {
            Some((at_ns, kind)) if at_ns <= now_ns => Some(kind),
            _ => None,
        }
    }

    /// Sets `side`'s error unless an earlier one is set (`connection` is
    /// this connection's index).
    pub(super) fn fail_at(
        &mut self,
        connection: usize,
        side: usize,
        at_ns: u64,
        kind: io::ErrorKind,
    ) {
        match self.errors[side] {
            Some((earlier, _)) if earlier <= at_ns => {}
            _ => {
                self.errors[side] = Some((at_ns, kind));
                self.pipes[side].reader.due_at(at_ns);
                // A write waiting for room returns the error then.
                self.pipes[1 - side].writer.due_at(at_ns);
                // A call set for a later error comes too late for this one.
                self.unwatch_error(side);
            }
        }
        self.watch_error(connection, side);
    }

    /// Cancels the call [`Connection::watch_error`] set for `side`, if any
    /// (its error was lifted, or comes earlier).
    #[cold]
    #[inline(never)]
    pub(super) fn unwatch_error(&mut self, side: usize) {
        if let Some(key) = self.error_watch[side].take() {
            cx::cancel_timer(key);
        }
    }

    /// Once `side` has an error coming, it reaches the end at that time
    /// whether or not the end's task looks at its stream again: a call then
    /// (`cx::call_at`, [`error_comes`]) records it ([`say_error`]: the
    /// reset, and what was sent to the end and is unread, which can never
    /// be read now). Set from `fail_at`, and when a connect or accept hands
    /// the end out. Not for an end dropped (its close records its own
    /// drop), not handed out yet or whose error was recorded (`quiet`).
    /// Out of line.
    #[cold]
    #[inline(never)]
    pub(super) fn watch_error(&mut self, connection: usize, side: usize) {
        let Some((at_ns, _)) = self.errors[side] else {
            return;
        };
        if self.error_watch[side].is_some() || self.dropped[side] || self.quiet[side] {
            return;
        }
        let end = (connection as u64) << 1 | side as u64;
        self.error_watch[side] = Some(cx::call_at(at_ns, error_comes, end));
    }
}

/// A connect or accept handed out end `side` (its event recorded): from now
/// on its error is recorded when it comes, at once if it came already (a
/// reset that reached it on the way). Out of line: few ends have an error
/// by then.
#[cold]
#[inline(never)]
pub(super) fn handed_out(world: &mut World, connection: usize, side: usize, now: u64) {
    let c = &mut world.net.connections[connection];
    c.quiet[side] = false;
    match c.error_at(side, now) {
        Some(kind) => say_error(world, connection, side, kind),
        None => c.watch_error(connection, side),
    }
}

/// End `side`'s error (`kind`) has come, and nothing recorded it yet: the
/// reset or timeout (`NetOp::Reset`, `NetOp::TimedOut` on the end), then what was
/// sent to the end and not read, discarded now and recorded as one
/// [`EventKind::NetDrop`] (`DropWhy::Reset` or `DropWhy::TimedOut`). Once
/// an end: by the call at the error's time or by a read or write that sees
/// the error first (which cancels the call). Out of line.
#[cold]
#[inline(never)]
pub(super) fn say_error(world: &mut World, connection: usize, side: usize, kind: io::ErrorKind) {
    let c = &mut world.net.connections[connection];
    c.quiet[side] = true;
    c.unwatch_error(side);
    let op = if kind == io::ErrorKind::TimedOut {
        NetOp::TimedOut
    } else {
        NetOp::Reset
    };
    world.record_stream(connection, side, op, 0);
    let pipe = &mut world.net.connections[connection].pipes[side];
    let unread = pipe.unread_bytes();
    if unread == 0 {
        return;
    }
    pipe.segments.clear();
    pipe.bytes.clear();
    pipe.read_at = 0;
    pipe.offset = 0;
    pipe.held.clear();
    pipe.held_bytes = 0;
    world.net.connections[connection].set_limit(side);
    let why = if kind == io::ErrorKind::TimedOut {
        DropWhy::TimedOut
    } else {
        DropWhy::Reset
    };
    world.record_stream_drop(connection, side, why, unread);
}

/// The call [`Connection::watch_error`] sets (`end`: the connection's index
/// and the side): the end's error has come ([`say_error`]). Nothing when
/// the error was lifted (a repair before a timeout), the end was dropped
/// meanwhile or its error recorded already.
fn error_comes(end: u64) {
    let world_rc = crate::world::world("asyncsim::net");
    let Ok(mut world) = world_rc.try_borrow_mut() else {
        return;
    };
    let world = &mut *world;
    let (connection, side) = ((end >> 1) as usize, (end & 1) as usize);
    let now = cx::now_ns("asyncsim::net");
    let Some(c) = world.net.connections.get_mut(connection) else {
        return;
    };
    c.error_watch[side] = None;
    // (A lifted or moved error cancelled its call: this one's has come.)
    let Some(kind) = c.error_at(side, now) else {
        return;
    };
    if c.dropped[side] || c.quiet[side] {
        return;
    }
    say_error(world, connection, side, kind);
}

/// Sends one segment (`None`: the FIN of a half-close) from `side`, now
/// (`now`: the caller's clock read). Inlined: a write is this and little
/// else (out of line, the write paid a call and its spills; callgrind
/// `profile tcpseq` +60 instructions a round trip).
#[inline(always)]
pub(super) fn send(
    world: &mut World,
    connection: usize,
    side: usize,
    data: Option<&[u8]>,
    now: u64,
) {
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
        hold(world, connection, side, data, now);
        return;
    }
    deliver(world, connection, side, data, now);
}

/// [`send`] across a cut (or behind segments held already): the segment
/// waits for the link to heal, and both ends time out if it does not
/// within `tcp_timeout`. Out of line: a stream's segments almost never
/// wait.
#[cold]
#[inline(never)]
fn hold(world: &mut World, connection: usize, side: usize, data: Option<&[u8]>, now: u64) {
    let pipe = &mut world.net.connections[connection].pipes[1 - side];
    match data {
        Some(data) => {
            pipe.held_bytes += data.len();
            pipe.limit = pipe.limit.saturating_sub(data.len());
            pipe.held.push(data.to_vec());
        }
        None => pipe.held_fin = true,
    }
    held_since(world, connection, side, now);
}

/// What [`hold`] does but keeping a segment: from the first thing held
/// toward `1 - side` on (or from `now`), both ends time out after the
/// link's `tcp_timeout` unless it heals first. Also for a writer waiting
/// for room across a cut, whose probes of the peer's window go unanswered
/// (as Linux's persist timer's): [`writer_cut`].
fn held_since(world: &mut World, connection: usize, side: usize, now: u64) {
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let timeout = world.net.config(from, to).tcp_timeout_ns;
    // (Behind held segments, the link may be open again: the cause kept
    // is the cut's that held them.)
    // (Either way: a writer waits out a cut of its acks too.)
    let cut = world.net.is_cut_either(from, to);
    let c = &world.net.connections[connection];
    let causes = world.net.cut_causes(c.nodes[0], c.nodes[1]);
    let c = &mut world.net.connections[connection];
    if cut {
        c.cut_causes = causes;
    }
    let pipe = &mut c.pipes[to_side];
    let since = *pipe.held_since_ns.get_or_insert(now);
    c.fail_at(connection, side, since + timeout, io::ErrorKind::TimedOut);
    c.fail_at(
        connection,
        to_side,
        since + timeout,
        io::ErrorKind::TimedOut,
    );
}

/// Puts a segment on the wire from `side` now. (Out of line: inlined
/// into a write, it made the write's every step dearer.)
#[inline(never)]
pub(super) fn deliver(
    world: &mut World,
    connection: usize,
    side: usize,
    data: Option<&[u8]>,
    now: u64,
) {
    // (0 or 1, said so: a write's one look at its window no longer
    // indexes by its side first, and without this every index below
    // checked it.)
    let side = side & 1;
    let to_side = side ^ 1;
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
        // (A link that loses nothing draws nothing: its names and
        // addresses, the words' makings, not even gathered.)
        if data.is_some() && config.loss > 0.0 {
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
            if pipe.read_at >= COMPACT_AT && pipe.read_at * 2 >= pipe.bytes.len() {
                pipe.bytes.drain(..pipe.read_at);
                pipe.read_at = 0;
            }
            pipe.bytes.extend_from_slice(data);
            pipe.segments.push_back(Segment {
                arrival_ns,
                len: data.len(),
            });
        }
        None => pipe.fin_ns = Some(arrival_ns),
    }
    pipe.reader.due_at_from(arrival_ns, now);
}

/// The reset end `side` sends as it closes with bytes unread (Linux's
/// `close` with its receive queue not empty sends an RST instead of a FIN
/// and forgets the connection): it follows what `side` sent before it
/// (arriving no earlier than the last segment or FIN: in order). At its
/// arrival it is the peer's pipe's FIN unless a FIN came first
/// (`Pipe::fin_resets`: a read that has taken every byte before it gets
/// `ConnectionReset`, not EOF), and the peer's writes fail with
/// `ConnectionReset` (`Connection::reset_ns`); it is recorded then as any
/// reset ([`reset_arrives`]). Its latency is one `net` draw, where the
/// FIN's would have been. Across a cut (or behind what one holds) it is
/// held as a FIN is: it leaves after the held segments at a repair, or the
/// peer times out. Out of line.
#[cold]
#[inline(never)]
pub(super) fn send_reset(world: &mut World, connection: usize, side: usize, now: u64) {
    let to_side = 1 - side;
    let (from, to) = {
        let c = &world.net.connections[connection];
        (c.nodes[side], c.nodes[to_side])
    };
    let pipe = &world.net.connections[connection].pipes[to_side];
    if !pipe.held.is_empty() || pipe.held_fin || world.net.is_cut(from, to) {
        world.net.connections[connection].pipes[to_side].held_reset = true;
        held_since(world, connection, side, now);
        return;
    }
    answer_with_close_reset(world, connection, side, now, now);
}

/// Closed end `side` answers with a reset sent at `sent_ns` (now, or when
/// a segment sent to it arrives: Linux answers a segment for a socket it
/// closed with an RST), unless one is on its way already: a `net` latency
/// draw, its arrival no earlier than what `side` sent before, and from then
/// the peer's writes fail (`Connection::reset_ns`), its reads too once
/// they have taken what came before it unless a FIN did (then the pipe's
/// FIN, `Pipe::fin_resets`), and its arrival is recorded
/// ([`reset_arrives`]). Out of line.
#[cold]
#[inline(never)]
pub(super) fn answer_with_close_reset(
    world: &mut World,
    connection: usize,
    side: usize,
    sent_ns: u64,
    now: u64,
) {
    let to_side = 1 - side;
    let c = &world.net.connections[connection];
    if c.reset_ns[to_side].is_some() || c.dropped[to_side] {
        return;
    }
    let (from, to, stream) = (c.nodes[side], c.nodes[to_side], c.names[side]);
    let latency = world.latency(from, to, Carried::Reset { stream });
    let c = &mut world.net.connections[connection];
    let pipe = &mut c.pipes[to_side];
    let at_ns = (sent_ns + latency).max(pipe.last_arrival_ns);
    pipe.last_arrival_ns = at_ns;
    if pipe.fin_ns.is_none() {
        pipe.fin_ns = Some(at_ns);
        pipe.fin_resets = true;
    }
    pipe.reader.due_at_from(at_ns, now);
    c.reset_ns[to_side] = Some(at_ns);
    let end = (connection as u64) << 1 | to_side as u64;
    cx::call_at(at_ns, reset_arrives, end);
}

/// The call [`send_reset`] sets (`end`: the connection's index and the
/// side): the close's reset reaches the end now, recorded as any reset
/// (`NetOp::Reset`, once: [`say_close_reset`]); nothing it was sent is
/// discarded (a read still takes it, as Linux's). Nothing for an end gone
/// meanwhile.
fn reset_arrives(end: u64) {
    let world_rc = crate::world::world("asyncsim::net");
    let Ok(mut world) = world_rc.try_borrow_mut() else {
        return;
    };
    let (connection, side) = ((end >> 1) as usize, (end & 1) as usize);
    let Some(c) = world.net.connections.get_mut(connection) else {
        return;
    };
    if c.dropped[side] {
        return;
    }
    say_close_reset(&mut world, connection, side);
}

/// [`say_error`] for a read or write that meets end `side`'s error: the
/// first records it (its event spends the operation's unit of the task's
/// budget); a later one, with no event, spends its unit here, so a loop
/// that retries a failed operation yields, as on tokio (whose readiness
/// spends a unit whatever the operation then finds). Out of line.
#[cold]
#[inline(never)]
pub(super) fn say_error_or_spend(
    world: &mut World,
    connection: usize,
    side: usize,
    kind: io::ErrorKind,
) {
    if world.net.connections[connection].quiet[side] {
        cx::spend_on_completion();
    } else {
        say_error(world, connection, side, kind);
    }
}

/// [`say_close_reset`] for a read or write that meets the close's reset,
/// spending its unit of the budget as [`say_error_or_spend`] does.
#[cold]
#[inline(never)]
pub(super) fn say_close_reset_or_spend(world: &mut World, connection: usize, side: usize) {
    if world.net.connections[connection].quiet[side] {
        cx::spend_on_completion();
    } else {
        say_close_reset(world, connection, side);
    }
}

/// Records the close's reset on end `side` unless its reset or error was
/// recorded already (`quiet`): by the call at its arrival, or by a read or
/// write that meets it first. Out of line.
#[cold]
#[inline(never)]
pub(super) fn say_close_reset(world: &mut World, connection: usize, side: usize) {
    let c = &mut world.net.connections[connection];
    if !std::mem::replace(&mut c.quiet[side], true) {
        world.record_stream(connection, side, NetOp::Reset, 0);
    }
}

/// A writer of end `side` waits for room (now, or since before a link
/// was cut): if the link toward its peer is cut, or the link back (the
/// window cannot reopen: no window update gets through), the connection
/// times out after `tcp_timeout` unless the link heals first, as one whose
/// segments are held (Linux probes a full window, and gives up when its
/// probes go unanswered). Out of line.
#[cold]
#[inline(never)]
pub(super) fn writer_cut(world: &mut World, connection: usize, side: usize, now: u64) {
    let c = &world.net.connections[connection];
    let (node, peer_node) = (c.nodes[side], c.nodes[1 - side]);
    if world.net.is_cut_either(node, peer_node) {
        held_since(world, connection, side, now);
    }
}

/// A write of `side` while its peer's acks are cut (`Pipe::unacked`):
/// counted as not acknowledged, and, as any segment that gets no ack (Linux
/// retransmits it until it gives up), the connection times out after
/// `tcp_timeout` unless the link back heals first. Out of line.
#[cold]
#[inline(never)]
pub(super) fn sent_unacked(
    world: &mut World,
    connection: usize,
    side: usize,
    len: usize,
    now: u64,
) {
    let pipe = &mut world.net.connections[connection].pipes[1 - side];
    if let Some(unacked) = &mut pipe.unacked {
        *unacked += len;
        held_since(world, connection, side, now);
    }
}

/// A link was cut: each stream direction whose acks it cuts counts what its
/// sender has no ack for from now on ([`Pipe::unacked`]), and each writer
/// waiting for room across it, either way, starts the timeout
/// ([`writer_cut`]).
pub(crate) fn links_cut(world: &mut World) {
    let now = cx::now_ns("asyncsim::net::partition");
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let c = &world.net.connections[connection];
            let to_side = 1 - side;
            if c.dropped[side] {
                continue;
            }
            let acks_cut = world.net.is_cut(c.nodes[to_side], c.nodes[side]);
            let c = &mut world.net.connections[connection];
            if acks_cut && c.pipes[to_side].unacked.is_none() {
                let pipe = &mut c.pipes[to_side];
                pipe.unacked = Some(pipe.unread_bytes());
                c.set_limit(to_side);
            }
            if c.pipes[to_side].writer.waiting() {
                writer_cut(world, connection, side, now);
            }
        }
    }
}

/// After a link opened: held segments whose link is no longer cut leave
/// now, in order, and their pending timeouts are lifted.
pub(crate) fn release_held(world: &mut World) {
    let now = cx::now_ns("asyncsim::net::repair");
    // Held resets leave last, once every timeout the repair lifts is
    // lifted (one set while another direction was held would hide them).
    let mut resets = Vec::new();
    for connection in 0..world.net.connections.len() {
        for side in 0..2 {
            let to_side = 1 - side;
            acks_healed(world, connection, side);
            let (from, to, held, fin) = {
                let c = &mut world.net.connections[connection];
                let pipe = &mut c.pipes[to_side];
                // (A writer waiting across the cut holds nothing, but
                // waits out the timeout as held segments do; one that gave
                // up waiting since left that timeout set all the same.)
                let probing = pipe.held_since_ns.is_some();
                if pipe.held.is_empty() && !pipe.held_fin && !pipe.held_reset && !probing {
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
            if std::mem::take(&mut world.net.connections[connection].pipes[to_side].held_reset) {
                resets.push((connection, side));
            }
            // The timeout goes once acks can come back too.
            let acks_cut = world.net.is_cut(to, from);
            let pipe = &mut world.net.connections[connection].pipes[to_side];
            if !acks_cut {
                pipe.held_since_ns = None;
            }
            pipe.held_bytes = 0;
            world.net.connections[connection].set_limit(to_side);
            for data in held {
                deliver(world, connection, side, Some(&data), now);
            }
            if fin {
                deliver(world, connection, side, None, now);
            }
            let c = &mut world.net.connections[connection];
            if c.pipes[0].held_since_ns.is_none() && c.pipes[1].held_since_ns.is_none() {
                for end in 0..2 {
                    if matches!(c.errors[end], Some((at, io::ErrorKind::TimedOut)) if at > now) {
                        c.errors[end] = None;
                        c.unwatch_error(end);
                    }
                }
            }
        }
    }
    for (connection, side) in resets {
        send_reset(world, connection, side, now);
    }
}

/// After a link opened: if the acks of `side`'s writes toward its peer get
/// through again, its room is the window less what the peer has not read
/// (the window update the peer could not send arrives), and a writer
/// waiting for room that this gives is woken.
fn acks_healed(world: &mut World, connection: usize, side: usize) {
    let to_side = 1 - side;
    let c = &world.net.connections[connection];
    if c.pipes[to_side].unacked.is_none() || world.net.is_cut(c.nodes[to_side], c.nodes[side]) {
        return;
    }
    let c = &mut world.net.connections[connection];
    c.pipes[to_side].unacked = None;
    c.set_limit(to_side);
    let pipe = &mut c.pipes[to_side];
    if pipe.writer.waiting() && pipe.room() > 0 {
        pipe.writer.wake_all();
    }
}

/// The client end of a connect abandoned before its SYN-ACK arrives (at
/// `synack_ns`; see `Connecting::abandon`) is forgotten, as Linux forgets a
/// socket closed in SYN_SENT: the SYN-ACK is answered with a reset, which
/// reaches the server's end a drawn latency later (in the listener's
/// backlog or accepted: either way the end is reset then, and its `net
/// reset` recorded at its arrival or, if not handed out yet, right after
/// its accept). The latency is drawn now, where a dropped stream's FIN
/// would have been. Nothing across a cut, nor to an end gone already
/// (dropped, its listener closed or its node crashed: the FIN drew there,
/// so such a run's tape is a draw shorter than before the reset). Out of
/// line.
#[cold]
#[inline(never)]
pub(super) fn answer_with_reset(world: &mut World, connection: usize, synack_ns: u64) {
    let c = &world.net.connections[connection];
    let (node, peer_node, stream) = (c.nodes[0], c.nodes[1], c.names[0]);
    if c.dropped[1] || world.net.is_cut(node, peer_node) {
        return;
    }
    let latency = world.latency(node, peer_node, Carried::Reset { stream });
    let c = &mut world.net.connections[connection];
    c.fail_at(
        connection,
        1,
        synack_ns + latency,
        io::ErrorKind::ConnectionReset,
    );
}

/// A node crashed: its streams are gone (peers see a reset one latency
/// later), its listeners close (connections waiting in their backlog, their
/// SYN arrived, are reset; one whose SYN is still on its way finds what
/// listens when it arrives).
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
            world.net.connections[connection].drop_end(side);
            // Its own error, if one was coming, reaches no one now, nor
            // its writer (dropped with its task) any room.
            world.net.connections[connection].unwatch_error(side);
            world.net.connections[connection].pipes[peer].writer.clear();
            let unread = world.net.connections[connection].pipes[side].unread_bytes();
            if unread > 0 {
                world.record_stream_drop(connection, side, DropWhy::Crashed, unread);
            }
            if side == 0 {
                let port = world.net.connections[connection].addrs[0].port();
                let key = (node, Protocol::Tcp, port);
                world.net.bound.remove_if_eq(&key, &usize::MAX);
            }
            if peer_node == node || world.net.is_cut(node, peer_node) {
                continue;
            }
            let stream = world.net.connections[connection].names[side];
            let latency = world.latency(node, peer_node, Carried::Reset { stream });
            let c = &mut world.net.connections[connection];
            c.fail_at(
                connection,
                peer,
                now + latency,
                io::ErrorKind::ConnectionReset,
            );
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
        world.net.bound.remove_if_eq(&key, &listener);
        for (syn_ns, connection) in backlog {
            let unread = world.net.connections[connection].pipes[1].unread_bytes();
            if unread > 0 {
                world.record_stream_drop(connection, 1, DropWhy::Crashed, unread);
            }
            let c = &mut world.net.connections[connection];
            c.drop_end(1);
            if syn_ns > now {
                // Its SYN is still on its way: it reaches what listens on
                // the port when it arrives (the node restarted and bound
                // again by then), else the connect is refused as one whose
                // SYN found nothing bound, as a dropped listener's
                // (`super::syn_arrives`).
                // (Nor did the crash reach it: the reset the loop above
                // set for the client end is lifted.)
                c.errors[0] = None;
                if !c.dropped[0] {
                    c.syn_call = Some(cx::call_at(syn_ns, super::syn_arrives, connection as u64));
                }
                continue;
            }
            // (Nothing was sent toward the client yet: its pipe's last
            // arrival is the SYN-ACK's.)
            let synack_ns = c.pipes[0].last_arrival_ns;
            if synack_ns <= now {
                // The client is connected: reset.
                c.fail_at(connection, 0, now, io::ErrorKind::ConnectionReset);
                continue;
            }
            // The handshake is not done, but on Linux the SYN-ACK left when
            // the SYN arrived: the client's connect succeeds, and the reset
            // answers its ACK. So the connect returns the stream, and the
            // reset the loop above drew for the client end comes that
            // latency after the SYN-ACK (at it across a cut, where none was
            // drawn): no draw added, so tapes do not move.
            let latency = match c.errors[0] {
                Some((at, io::ErrorKind::ConnectionReset)) if at >= now => at - now,
                _ => 0,
            };
            c.errors[0] = None;
            c.fail_at(
                connection,
                0,
                synack_ns + latency,
                io::ErrorKind::ConnectionReset,
            );
        }
    }
}
