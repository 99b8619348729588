//! The vocabulary of a trace: what an event can be ([`EventKind`]), what a task waits on, the world's network
//! and fault operations, and the names they refer to, each with its words.

use std::fmt;

/// A task's index in its run: 0 is the main future, then spawn order.
///
/// Ids are deterministic (they are handed out in spawn order), so they are
/// safe to print in snapshots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u32);

impl TaskId {
    /// The main future passed to `Sim::run`.
    pub const MAIN: TaskId = TaskId(0);

    /// The index as a `usize`, for indexing per-task tables.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The kinds of scheduler-aware resources a task can block on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `sync::Mutex`
    Mutex,
    /// `sync::Semaphore`
    Semaphore,
    /// `sync::Event`
    Event,
    /// `sync::Notify`
    Notify,
    /// `sync::Queue`
    Queue,
    /// `sync::channel` / `sync::unbounded_channel`
    Channel,
    /// `sync::oneshot`
    Oneshot,
    /// Any other resource a library registers.
    Other,
}

impl ResourceKind {
    /// The user-facing type name.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::Mutex => "Mutex",
            ResourceKind::Semaphore => "Semaphore",
            ResourceKind::Event => "Event",
            ResourceKind::Notify => "Notify",
            ResourceKind::Queue => "Queue",
            ResourceKind::Channel => "channel",
            ResourceKind::Oneshot => "oneshot",
            ResourceKind::Other => "resource",
        }
    }
}

/// What a pending task is waiting for, as far as the engine knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaitOn {
    /// A future that is not an asyncsim primitive (the engine cannot see in).
    Unknown,
    /// Nothing: the task woke itself during the poll (`yield_now`,
    /// `sleep(0)`) and is runnable again.
    Yield,
    /// Another task's `JoinHandle`.
    Join(TaskId),
    /// A timer (`sleep`, `timeout`, `interval`).
    Timer {
        /// When it fires.
        deadline_ns: u64,
    },
    /// A job on the simulated executor pool.
    PoolJob(u32),
    /// A sync primitive, by kind and per-run id.
    Resource(ResourceKind, u32),
    /// A socket of the simulated world (`net`): what the task waits for,
    /// and the socket, named by an interned label ("TcpStream#3 (main:49152
    /// -> server:6379)"; see [`Trace::label`](crate::trace::Trace::label)).
    Socket {
        /// Reading, accepting, receiving or writing.
        op: SocketWait,
        /// The socket's label.
        socket: u32,
    },
}

/// What a task waits for on a socket ([`WaitOn::Socket`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketWait {
    /// Bytes (or EOF) on a stream.
    Read,
    /// A connection on a listener.
    Accept,
    /// A datagram.
    Recv,
    /// Room to write on a stream: the bytes sent and not read by the peer
    /// fill its window (the peer does not read).
    Write,
    /// An error on a UDP socket (the face's `ready(Interest::ERROR)`),
    /// which never comes: the simulated network sends no ICMP errors.
    Error,
}

impl SocketWait {
    /// The word a report uses.
    pub fn name(self) -> &'static str {
        match self {
            SocketWait::Read => "read",
            SocketWait::Accept => "accept",
            SocketWait::Recv => "receive",
            SocketWait::Write => "write",
            SocketWait::Error => "error",
        }
    }
}

/// A socket's label in words that read from sender to receiver: a stream's
/// "TcpStream#3 (follower:7000 -> leader:49152)" (its label, which enters
/// the trace hash, reads local -> peer) becomes "TcpStream#3 from
/// leader:49152 to follower:7000" when what it tells of came in from the
/// peer (`incoming`), "... from follower:7000 to leader:49152" when it went
/// out; other labels are kept as they are. Made only when rendering.
pub(super) fn socket_words(label: &str, incoming: bool) -> std::borrow::Cow<'_, str> {
    let parsed = label
        .strip_suffix(')')
        .and_then(|rest| rest.split_once(" ("))
        .and_then(|(name, ends)| Some((name, ends.split_once(" -> ")?)));
    match parsed {
        Some((name, (local, peer))) => {
            let (from, to) = if incoming {
                (peer, local)
            } else {
                (local, peer)
            };
            format!("{name} from {from} to {to}").into()
        }
        None => label.into(),
    }
}

/// What the simulated network did ([`EventKind::Net`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetOp {
    /// A connection was set up (recorded by the connecting task).
    Connect,
    /// A listener handed out a connection.
    Accept,
    /// Bytes or a datagram left (their arrival is already drawn).
    Send,
    /// Bytes or a datagram were read.
    Deliver,
    /// A datagram was lost. Written by older builds only (their trace
    /// files still read); a drop is now [`EventKind::NetDrop`], which says
    /// why and where the datagram was going.
    Drop,
    /// A stream was reset (its peer's node crashed): recorded once on the
    /// end it reached, at its arrival (by no task), or by the end's read or
    /// write that saw it first. (Older builds recorded it at each read or
    /// write that saw it, and a timeout as a reset too.)
    Reset,
    /// A connect was refused: nothing listened at its address when its SYN
    /// arrived (or the listener closed, or its node crashed, before
    /// accepting it). Recorded by the connecting task when it learns it, a
    /// round trip after the SYN left (the reset's arrival), as `connect`
    /// returns `ConnectionRefused`; one for each attempt. Its socket is the
    /// would-be stream's label: "TcpStream (main -> server:6379)" when no
    /// stream was made (the SYN found no listener), else the stream's own.
    /// Written by trace file version 4 and later.
    Refused,
    /// A connect across a cut link timed out (`tcp_timeout` after it
    /// started), as `connect` returns `TimedOut`; recorded by the
    /// connecting task then. Its socket is the would-be stream's label, as
    /// for [`NetOp::Refused`]. Written by trace file version 4 and later.
    ConnectTimedOut,
    /// A stream's connection timed out: a cut outlived `tcp_timeout` with
    /// bytes the end sent held by it (or unacknowledged), and that end
    /// fails with `TimedOut` (only it, as on Linux: its peer is not told).
    /// Recorded like [`NetOp::Reset`]: once on the end, at the timeout (by
    /// no task), or by the end's read or write that saw it first. Written by trace file
    /// version 4 and later (older builds wrote it as a reset).
    TimedOut,
    /// A connect was abandoned before it returned: its future was dropped
    /// (a `select!` or a timeout gave up on it, its task was aborted) or
    /// its node crashed while the SYN or the SYN-ACK was on its way, or
    /// while it waited out a cut. Recorded when it is abandoned: by the task
    /// whose poll dropped it, or by no task at the step boundary after a
    /// crash (a connect dropped as the run ends records nothing). Its socket
    /// is the would-be stream's label, as for [`NetOp::Refused`], or the
    /// stream's own once its SYN found a listener; that stream's server end
    /// is then reset where the SYN-ACK meets the forgotten socket (a `net
    /// reset` on it, at its arrival), or closed (EOF) if the handshake was
    /// done. Written by trace file version 5 and later.
    ConnectAborted,
}

impl NetOp {
    /// The word a trace line uses.
    pub fn name(self) -> &'static str {
        match self {
            NetOp::Connect => "connect",
            NetOp::Accept => "accept",
            NetOp::Send => "send",
            NetOp::Deliver => "deliver",
            NetOp::Drop => "drop",
            NetOp::Reset => "reset",
            NetOp::Refused => "refused",
            NetOp::ConnectTimedOut => "connect timed out",
            NetOp::TimedOut => "timed out",
            NetOp::ConnectAborted => "connect aborted",
        }
    }
}

/// Why a datagram (or a stream's unread bytes) was dropped
/// ([`EventKind::NetDrop`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropWhy {
    /// A loss draw on its link (`NetConfig::loss`).
    Lost,
    /// It arrived to a receive buffer already full (`set_recv_buffer`).
    Full,
    /// A partition cut its link (`partition`, `partition_oneway`). For a
    /// stream: the reset of a close with bytes unread, sent once across the
    /// cut, and what the cut held before it (0 bytes: the reset alone).
    Partition,
    /// Its sender's or receiver's node was cut from every other (`isolate`);
    /// for a stream, as [`DropWhy::Partition`].
    Isolated,
    /// No socket was bound at its destination.
    Unbound,
    /// Its receiver was connected (`UdpSocket::connect`) to another peer
    /// when it arrived: dropped then, as Linux drops it, it took no buffer
    /// space and no receive saw it. (Older traces have it at the receive
    /// that passed it over, where asyncsim dropped it then.)
    NotPeer,
    /// Its receiving socket was closed (dropped) while it was buffered or
    /// on its way (for a stream: the bytes sent to an end, or to a
    /// connection its listener never accepted, and not read). Not recorded
    /// for a socket dropped as the run ends (the main future returned):
    /// those are not the run's events.
    Closed,
    /// Its receiver's node crashed while it was buffered or on its way
    /// (for a stream: the bytes sent to the crashed end and not read).
    Crashed,
    /// A stream's bytes its receiving end had not read when the connection
    /// was reset there (the peer's node crashed): a read sees the reset
    /// first, so they can never be read.
    Reset,
    /// A stream's bytes its receiving end had not read (or a cut held) when
    /// that end timed out, or that a cut held when their sending end timed
    /// out and gave up on them (a cut outlived `tcp_timeout`).
    TimedOut,
    /// A stream's bytes a cut held back (sent across it, not yet on their
    /// way) when their sender's node crashed: gone with the sender's
    /// memory, as on Linux, where what has no ack lives only in the
    /// sender's send queue; they never reach the peer.
    SenderCrashed,
}

impl DropWhy {
    /// Every reason, in code order.
    pub const ALL: [DropWhy; 11] = [
        DropWhy::Lost,
        DropWhy::Full,
        DropWhy::Partition,
        DropWhy::Isolated,
        DropWhy::Unbound,
        DropWhy::NotPeer,
        DropWhy::Closed,
        DropWhy::Crashed,
        DropWhy::Reset,
        DropWhy::TimedOut,
        DropWhy::SenderCrashed,
    ];

    /// Its name in trace files.
    pub fn name(self) -> &'static str {
        match self {
            DropWhy::Lost => "lost",
            DropWhy::Full => "full",
            DropWhy::Partition => "partition",
            DropWhy::Isolated => "isolated",
            DropWhy::Unbound => "unbound",
            DropWhy::NotPeer => "not_peer",
            DropWhy::Closed => "closed",
            DropWhy::Crashed => "crashed",
            DropWhy::Reset => "reset",
            DropWhy::TimedOut => "timed_out",
            DropWhy::SenderCrashed => "sender_crashed",
        }
    }

    /// Why, in the words of a trace line or a report.
    pub fn words(self) -> &'static str {
        match self {
            DropWhy::Lost => "lost on its link (a loss draw)",
            DropWhy::Full => "the receiver's buffer was full",
            DropWhy::Partition => "a partition cuts its link",
            DropWhy::Isolated => "its sender's or receiver's node is isolated",
            DropWhy::Unbound => "no socket is bound there",
            DropWhy::NotPeer => "its receiver is connected to another peer",
            DropWhy::Closed => "its receiving socket was closed",
            DropWhy::Crashed => "its receiver's node crashed",
            DropWhy::Reset => "the connection was reset before it was read",
            DropWhy::TimedOut => "the connection timed out before it was read",
            DropWhy::SenderCrashed => "its sender's node crashed while a cut held it",
        }
    }
}

/// What kind of fault of the simulated world an [`EventKind::Fault`] is.
/// Scripted faults (`Node::crash`, `net::partition`, …) and drawn ones (a
/// lost datagram, a drawn `EIO`, what a crash kept) alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultOp {
    /// A node crashed.
    Crash,
    /// A node (re)started after a crash.
    Restart,
    /// A link was cut (`partition`, `partition_oneway`).
    Partition,
    /// A cut was healed (`repair`).
    Repair,
    /// A node was cut from every other (`isolate`).
    Isolate,
    /// An isolated node rejoined.
    Rejoin,
    /// A link was clogged (extra latency).
    Clog,
    /// A clog ended.
    Unclog,
    /// A link's behaviour was set (`set_link`).
    Link,
    /// A message was lost (a datagram dropped, a segment retransmitted).
    Lost,
    /// A datagram was duplicated.
    Duplicated,
    /// A disk operation failed with a drawn `EIO`.
    DiskError,
    /// A node's disk error rate changed (a nemesis's burst).
    DiskErrorRate,
    /// A crash kept some of the writes or namespace changes since the
    /// last sync.
    Kept,
    /// A crash tore a write at a sector boundary.
    Torn,
    /// `fault::buggify()` was true.
    Buggify,
    /// A crash lost writes or namespace changes since the last sync (what
    /// it lost, in words; draw 0 loses them all).
    CrashLost,
}

impl FaultOp {
    /// Every fault kind, in code order.
    pub const ALL: [FaultOp; 17] = [
        FaultOp::Crash,
        FaultOp::Restart,
        FaultOp::Partition,
        FaultOp::Repair,
        FaultOp::Isolate,
        FaultOp::Rejoin,
        FaultOp::Clog,
        FaultOp::Unclog,
        FaultOp::Link,
        FaultOp::Lost,
        FaultOp::Duplicated,
        FaultOp::DiskError,
        FaultOp::DiskErrorRate,
        FaultOp::Kept,
        FaultOp::Torn,
        FaultOp::Buggify,
        FaultOp::CrashLost,
    ];

    /// Its name in trace files and reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultOp::Crash => "crash",
            FaultOp::Restart => "restart",
            FaultOp::Partition => "partition",
            FaultOp::Repair => "repair",
            FaultOp::Isolate => "isolate",
            FaultOp::Rejoin => "rejoin",
            FaultOp::Clog => "clog",
            FaultOp::Unclog => "unclog",
            FaultOp::Link => "link",
            FaultOp::Lost => "lost",
            FaultOp::Duplicated => "duplicated",
            FaultOp::DiskError => "disk error",
            FaultOp::DiskErrorRate => "disk error rate",
            FaultOp::Kept => "crash kept",
            FaultOp::Torn => "torn write",
            FaultOp::Buggify => "buggify",
            FaultOp::CrashLost => "crash lost",
        }
    }
}

/// Warnings mirrored from asyncio's debug mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Warning {
    /// The run ended while this task was still pending ("Task was destroyed
    /// but it is pending!").
    DestroyedPending,
    /// This task panicked and nobody awaited its `JoinHandle` ("Task exception
    /// was never retrieved").
    PanicNotRetrieved,
    /// The trace hit `Config::trace_events_max`; later events are only hashed.
    TraceTruncated,
}

impl Warning {
    /// The sentence a report prints.
    pub fn message(self) -> &'static str {
        match self {
            Warning::DestroyedPending => "task destroyed while still pending",
            Warning::PanicNotRetrieved => {
                "task panic never retrieved (nobody awaited its JoinHandle)"
            }
            Warning::TraceTruncated => {
                "trace truncated at Config::trace_events_max; later events are hashed only"
            }
        }
    }
}

/// What an [`Event`](crate::trace::Event) records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The task was created (`spawn`), by `parent` (None for main).
    Spawn {
        /// The spawning task.
        parent: Option<TaskId>,
    },
    /// The task is polled: one scheduling step.
    Poll,
    /// The poll returned `Pending`, waiting on `on`.
    Pending {
        /// What the task waits for.
        on: WaitOn,
    },
    /// The task was woken, by `by` (None: by the clock or the pool).
    Wake {
        /// The task that called `wake`, if a task was running.
        by: Option<TaskId>,
    },
    /// The task registered a timer.
    TimerSet {
        /// When it fires.
        deadline_ns: u64,
    },
    /// A timer of the task fired.
    TimerFire {
        /// When it was due (the clock may be past it if the loop was blocked).
        deadline_ns: u64,
    },
    /// Nothing was runnable, so the clock jumped from `from_ns` to the event's time.
    ClockJump {
        /// The time before the jump.
        from_ns: u64,
    },
    /// The task blocked the loop with `blocking::sleep`.
    BlockingSleep {
        /// How long it held the loop.
        duration_ns: u64,
    },
    /// The poll that just ended held the loop longer than `Config::slow_poll`.
    SlowPoll {
        /// How long the poll held the loop.
        held_ns: u64,
    },
    /// A `spawn_blocking` job was queued for the pool.
    PoolQueue {
        /// The job's index in this run.
        job: u32,
    },
    /// A pool worker started the job (its virtual time starts now).
    PoolStart {
        /// The job's index.
        job: u32,
        /// The worker's index.
        worker: u32,
    },
    /// A pool job finished.
    PoolFinish {
        /// The job's index.
        job: u32,
        /// The worker's index.
        worker: u32,
    },
    /// The task's future completed.
    Complete,
    /// The task panicked.
    Panic,
    /// The task was cancelled through `JoinHandle::abort`.
    Abort,
    /// A user mark (`trace::mark`), the article's `print`.
    Mark {
        /// The interned label; see [`Trace::label`](crate::trace::Trace::label).
        label: u32,
    },
    /// A warning about the task.
    Warning(Warning),
    /// The task was dropped because its node crashed.
    Crash {
        /// The node's id.
        node: u32,
    },
    /// The task polled its own branches (`select!`, `join!`, `join_all`, …)
    /// in a drawn order other than argument order (`crate::branch`).
    BranchOrder {
        /// The live branches: a bit per argument position when they all
        /// fit in 31 bits, else `1 << 31 | count`.
        live: u32,
        /// The draw's value (a permutation, or a rotation's start).
        value: u32,
        /// Where the combinator is: an index into [`Trace::branch_site`](crate::trace::Trace::branch_site)'s
        /// table (`u32::MAX`: not known, e.g. `join_all` or a loaded trace).
        /// Words only: not hashed, so a moved `select!` keeps its trace hash.
        site: u32,
    },
    /// `explore_polls` drew to yield before polling the future it wraps.
    PollYield,
    /// The simulated network did something to a socket (`net`), or to a
    /// connect that made none ([`NetOp::Refused`], [`NetOp::ConnectTimedOut`],
    /// [`NetOp::ConnectAborted`]).
    Net {
        /// What happened.
        op: NetOp,
        /// The socket's interned label (see [`Trace::label`](crate::trace::Trace::label)).
        socket: u32,
        /// How many bytes (0 when it does not apply).
        bytes: u32,
    },
    /// The simulated network dropped a datagram (`net`), at the time it
    /// was lost: the sender's send for a loss, a cut or no socket bound
    /// (recorded by the sending task); its arrival for a full buffer
    /// (recorded by no task: the network settles the buffer then), and
    /// likewise for another peer's than the one its receiver is connected
    /// to; the close of its receiving socket (at the step boundary after
    /// it, by no task) or the crash of its node (by the crashing task) for
    /// those buffered or on their way. A stream's bytes sent to an end that
    /// closes or crashes before reading them are one such drop of their
    /// count, from the sending end's label to the receiving end's.
    NetDrop {
        /// Why.
        why: DropWhy,
        /// The sending socket's interned label (see [`Trace::label`](crate::trace::Trace::label)).
        from: u32,
        /// The receiving socket's interned label, or for
        /// [`DropWhy::Unbound`] its address's ("server:9").
        to: u32,
        /// The datagram's size.
        bytes: u32,
    },
    /// A fault of the simulated world: scripted (a crash, a partition, a
    /// link change) or drawn (a lost datagram, a disk error, what a crash
    /// kept). Renderers draw these in a lane of their own.
    Fault {
        /// Its kind.
        op: FaultOp,
        /// What happened, in words (an interned label, see
        /// [`Trace::label`](crate::trace::Trace::label)): "crashed node `db`".
        what: u32,
    },
}
