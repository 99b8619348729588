//! A connection's insides: two pipes of segments (one toward each end),
//! the bytes they carry and their delivery in order, the ends' buffers and
//! windows, and the connection's labels and names. (Its errors are in
//! `error.rs`, its resets and a crash's in `reset.rs`; a segment's send,
//! now or held across a cut, in `cut.rs`.)

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use crate::cx::NodeId;
use crate::trace::{DropWhy, EventKind, FaultOp, NetOp};
use crate::world::net::{Carried, Parked};
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
    /// [`super::cut::send_reset`]): a read there gets `ConnectionReset`, not EOF.
    pub(super) fin_resets: bool,
    /// Segments (and a FIN) held back by a cut, in send order.
    pub(super) held: Vec<Vec<u8>>,
    pub(super) held_fin: bool,
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

    /// Discards what a cut held toward this end (segments, FIN) and its
    /// timeout, as when the sender gave up (`error::give_up`), crashed
    /// (`reset::lose_held`) or closed with a reset (`cut::lose_reset`): returns the bytes
    /// discarded, for the drop the caller records. The caller sets `limit`.
    pub(super) fn discard_held(&mut self) -> usize {
        let bytes = self.held_bytes;
        self.held.clear();
        self.held_bytes = 0;
        self.held_fin = false;
        self.held_since_ns = None;
        bytes
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

/// At most this many connections and listeners are kept, and a pipe's byte
/// buffer only up to this size.
pub(super) const SPARE_MAX: usize = 256;
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
    /// [`super::cut::send_reset`]) reaches `side`: its writes fail with
    /// `ConnectionReset` from then (they reach the slow path anyway: the
    /// peer's end is gone), and its reads once they have taken what came
    /// before it (the reset is its pipe's FIN, `Pipe::fin_resets`; after a
    /// FIN that came first they stay at EOF, as Linux's). Not an `errors`
    /// entry, which a read looks at first.
    pub(super) reset_ns: [Option<u64>; 2],
    /// Each end's `SO_LINGER` time in nanoseconds as set (`u64::MAX`: off,
    /// the default). 0 makes its close abortive: a reset, whatever is
    /// unread ([`super::cut::send_reset`]).
    pub(super) linger_ns: [u64; 2],
    /// The call a listener's drop set for the arrival of this connection's
    /// SYN (`syn_arrives`), while it may still fire: cancelled when the
    /// connect is abandoned first, so no call is left to jump the clock.
    pub(super) syn_call: Option<cx::TimerKey>,
    /// True for `side` when the peer's node crashed while the link from
    /// it to `side` was cut (the reset the crash sent was lost in the cut)
    /// or after the peer's end had closed (a closed socket sends no reset
    /// at a crash): `side` knows nothing of the crash (`reset::crash_node`),
    /// as on Linux. Its
    /// next segment to get through is answered with a reset, as one for a
    /// closed end is (`TcpStream::drop_written`, `cut::release_held`).
    pub(super) crash_unsaid: [bool; 2],
    /// True once end `side` gave up: its timeout came (what it sent, or
    /// its probes of a full window, went unanswered for `tcp_timeout`:
    /// `error::give_up`). As Linux's `tcp_write_err` closes the socket and
    /// sends nothing, the peer is not told: what it sends to this end from
    /// then on is answered with a reset once it gets through, as for a
    /// closed end (`pipes[side].limit` is 0, so its writes take the slow
    /// path: `TcpStream::drop_written`).
    pub(super) gave_up: [bool; 2],
    /// True for an end that is an AF_UNIX stream's (the tokio face's
    /// `UnixStream` over a loopback connection: `TcpStream::set_af_unix`):
    /// a write to it once its peer closed fails at once with `BrokenPipe`
    /// (Linux's `EPIPE`: a Unix socket's peer is local, its close known at
    /// once), not after a reset's latency as TCP's.
    pub(super) af_unix: [bool; 2],
}

impl Connection {
    /// A connection with empty pipes (its other fields are written when
    /// it opens).
    pub(super) fn empty() -> Connection {
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
            crash_unsaid: [false, false],
            gave_up: [false, false],
            af_unix: [false, false],
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
    /// end `side` is gone or gave up or the other end's write side shut,
    /// and while its acks are cut).
    pub(super) fn set_limit(&mut self, side: usize) {
        let pipe = &mut self.pipes[side];
        pipe.limit = if self.dropped[side]
            || self.gave_up[side]
            || self.write_shut[1 - side]
            || pipe.unacked.is_some()
        {
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
