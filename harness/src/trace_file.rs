//! Trace files: a run's [`Trace`] saved as versioned JSON, read back to an
//! equal trace.
//!
//! The format is a JSON object with a `format` tag (`"asyncsim-trace"`), a
//! `version` ([`VERSION`]), the task table, the mark labels, the rolling
//! hash and event count, and the events, one a line so text tools can diff
//! two files:
//!
//! ```text
//! {
//! "format": "asyncsim-trace",
//! "version": 8,
//! "tasks": [{"name":"main","parent":null,"blocking":false}],
//! "labels": ["hello"],
//! "hash": "5f0c…",
//! "event_count": 4,
//! "events": [
//! {"step":0,"time_ns":0,"task":0,"kind":"spawn","parent":null},
//! …
//! ]
//! }
//! ```
//!
//! Loading checks the tag, the version, the references (task ids, labels)
//! and the hash, so a truncated or hand-edited file is an error that says
//! what is wrong, not a silently different trace; and each event against
//! the version: an event (a net operation, a drop's reason) that a later
//! version than the file's added is [`TraceFileError::EventNewerThanFile`]
//! (a version-3 file holding a `refused` was edited, or misversioned).
//!
//! The version goes up whenever an event kind (or a net or fault
//! operation) is added, so an older reader refuses a newer file by its
//! version instead of misreading it; a reader reads every version from
//! [`OLDEST_VERSION`] to [`VERSION`] (each adds kinds, none changes one). A
//! kind this build does not know is [`TraceFileError::UnknownEvent`], which
//! names it.
//!
//! | version | adds |
//! |---|---|
//! | 1 | the engine's events; later builds added the world's `crash`, `net` and `fault` events (up to the fault operation `crash_lost`) still under 1, which the builds before them refused as malformed |
//! | 2 | the events of the last version-1 build, every kind and operation up to `crash_lost`; and `net_drop` (a dropped datagram: `why` — `lost`, `full`, `partition`, `isolated`, `unbound`, `not_peer` — `from` and `to` labels, `bytes`), which replaces the `net` operation `drop` (still read) |
//! | 3 | the `net_drop` reasons `closed` (its receiving socket closed while it was buffered or on its way), `crashed` (its receiver's node crashed then), `reset` and `timed_out` (a stream's bytes unread when its connection was reset or timed out) |
//! | 4 | the `net` operations `refused` (a connect refused: no listener when its SYN arrived, or it closed before accepting) and `connect timed out` (a connect across a cut link), recorded by the connecting task as `connect` returns its error; and `timed out` (a stream's connection broken by `tcp_timeout`, which version 3 wrote as `reset`) |
//! | 5 | the `net` operation `connect aborted` (a connect dropped before it returned, or whose node crashed while it waited) |
//! | 6 | a task pending on the socket wait `write` (a stream's writer waiting for room: its peer has not read what fills the window) |
//! | 7 | a task pending on the socket wait `error` (the tokio face's `ready(Interest::ERROR)` on a UDP socket, which never comes) |
//! | 8 | the `net_drop` reason `sender_crashed` (a stream's bytes a cut held when their sender's node crashed) |
//!
//! ```
//! use asyncsim::harness::trace_file;
//! use asyncsim::{trace, Config, Sim};
//!
//! let run = Sim::new(Config::new()).run(async { trace::mark("hello") });
//! let text = trace_file::to_string(&run.trace);
//! let back = trace_file::from_str(&text).unwrap();
//! assert_eq!(back, run.trace);
//! ```
//!
//! A trace recorded in hash-only mode, or cut at `Config::trace_events_max`,
//! saves only its recorded events; it loads as a trace of those events
//! (which is not equal to the original, whose hash covers every event).

use std::fmt;
use std::io;
use std::path::Path;

use asyncsim_sim::trace::{
    DropWhy, Event, EventKind, FaultOp, NetOp, ResourceKind, SocketWait, TaskId, TaskInfo, Trace,
    WaitOn, Warning,
};
use serde::{Deserialize, Serialize};

/// The `format` tag every trace file carries.
pub const FORMAT: &str = "asyncsim-trace";
/// The file format version this build writes (and the newest it reads).
pub const VERSION: u64 = 8;
/// The oldest file format version this build reads.
pub const OLDEST_VERSION: u64 = 1;

/// Why a trace file could not be loaded.
#[derive(Debug)]
pub enum TraceFileError {
    /// The file could not be read.
    Io(io::Error),
    /// The text is not JSON, or not the shape of a trace file.
    Malformed(String),
    /// Valid JSON, but not an asyncsim trace file (no `format` tag).
    NotATraceFile,
    /// A trace file of a version this build does not read.
    UnsupportedVersion {
        /// The version in the file.
        found: u64,
    },
    /// An event (or its net or fault operation) of a kind this build does
    /// not know: a newer asyncsim wrote the file, or it was edited.
    UnknownEvent {
        /// The event's index in the file.
        index: usize,
        /// The unknown name: the event's `"kind"`, or that kind and the
        /// unknown name inside it (a net or fault event's `op`, a warning,
        /// what a pending task waits on), as in `"fault meteor"`.
        kind: String,
        /// The version the file says it is.
        version: u64,
    },
    /// An event (or its net operation, or its drop's reason) of a kind
    /// added in a later version than the file says it is: the file's
    /// `version` was edited, or it was written by a build that wrote its
    /// version wrong. (A build of that version refuses it as unknown.)
    EventNewerThanFile {
        /// The event's index in the file.
        index: usize,
        /// Its name in the file: the kind and the name inside it, as in
        /// `"net refused"` or `"net_drop closed"`.
        kind: String,
        /// The version that added it.
        added_in: u64,
        /// The version the file says it is.
        version: u64,
    },
    /// The events refer to tasks or labels that don't exist, or the stored
    /// hash does not match the events (the file was edited or cut).
    Inconsistent(String),
}

impl fmt::Display for TraceFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceFileError::Io(error) => write!(f, "cannot read the trace file: {error}"),
            TraceFileError::Malformed(message) => {
                write!(f, "not a valid asyncsim trace file: {message}")
            }
            TraceFileError::NotATraceFile => write!(
                f,
                "not an asyncsim trace file: no \"format\": \"{FORMAT}\" tag"
            ),
            TraceFileError::UnsupportedVersion { found } if *found > VERSION => write!(
                f,
                "trace file version {found} is newer than this build reads (versions \
                 {OLDEST_VERSION} to {VERSION}): a newer asyncsim wrote it; read it with that \
                 version's asyncsim-trace (`cargo install --path harness/trace-cli` in its checkout)"
            ),
            TraceFileError::UnsupportedVersion { found } => write!(
                f,
                "trace file version {found} is not supported (this build reads versions \
                 {OLDEST_VERSION} to {VERSION})"
            ),
            TraceFileError::UnknownEvent {
                index,
                kind,
                version,
            } => write!(
                f,
                "event {index} is of a kind this build does not know, {kind:?} (the file says \
                 version {version}; this build reads versions {OLDEST_VERSION} to {VERSION}): \
                 a newer asyncsim wrote it, or the file was edited"
            ),
            TraceFileError::EventNewerThanFile {
                index,
                kind,
                added_in,
                version,
            } => write!(
                f,
                "event {index} is {kind:?}, which trace file version {added_in} added, but the \
                 file says version {version}: its version was edited, or a build that wrote it \
                 wrong made it"
            ),
            TraceFileError::Inconsistent(message) => {
                write!(f, "the trace file is inconsistent: {message}")
            }
        }
    }
}

impl std::error::Error for TraceFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TraceFileError::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for TraceFileError {
    fn from(error: io::Error) -> TraceFileError {
        TraceFileError::Io(error)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskRecord {
    name: String,
    parent: Option<u32>,
    blocking: bool,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum WaitRecord {
    Unknown,
    Yield,
    Join { task: u32 },
    Timer { deadline_ns: u64 },
    PoolJob { job: u32 },
    Resource { resource: String, id: u32 },
    Socket { op: String, socket: u32 },
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum WarningRecord {
    DestroyedPending,
    PanicNotRetrieved,
    TraceTruncated,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KindRecord {
    Spawn {
        parent: Option<u32>,
    },
    Poll,
    Pending {
        on: WaitRecord,
    },
    Wake {
        by: Option<u32>,
    },
    TimerSet {
        deadline_ns: u64,
    },
    TimerFire {
        deadline_ns: u64,
    },
    ClockJump {
        from_ns: u64,
    },
    BlockingSleep {
        duration_ns: u64,
    },
    SlowPoll {
        held_ns: u64,
    },
    PoolQueue {
        job: u32,
    },
    PoolStart {
        job: u32,
        worker: u32,
    },
    PoolFinish {
        job: u32,
        worker: u32,
    },
    Complete,
    Panic,
    Abort,
    Crash {
        node: u32,
    },
    BranchOrder {
        live: u32,
        value: u32,
    },
    PollYield,
    Net {
        op: String,
        socket: u32,
        bytes: u32,
    },
    NetDrop {
        why: String,
        from: u32,
        to: u32,
        bytes: u32,
    },
    Fault {
        op: String,
        what: u32,
    },
    Mark {
        label: u32,
    },
    Warning {
        warning: WarningRecord,
    },
}

#[derive(Serialize, Deserialize)]
struct EventRecord {
    step: u64,
    time_ns: u64,
    task: Option<u32>,
    #[serde(flatten)]
    kind: KindRecord,
}

/// The header, read first to check the tag and version before the body.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRecord {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u64,
    tasks: Vec<TaskRecord>,
    labels: Vec<String>,
    hash: String,
    event_count: u64,
    events: Vec<EventRecord>,
}

const RESOURCE_KINDS: [ResourceKind; 8] = [
    ResourceKind::Mutex,
    ResourceKind::Semaphore,
    ResourceKind::Event,
    ResourceKind::Notify,
    ResourceKind::Queue,
    ResourceKind::Oneshot,
    ResourceKind::Other,
    ResourceKind::Channel,
];

const SOCKET_WAITS: [SocketWait; 5] = [
    SocketWait::Read,
    SocketWait::Accept,
    SocketWait::Recv,
    SocketWait::Write,
    SocketWait::Error,
];

const NET_OPS: [NetOp; 10] = [
    NetOp::Connect,
    NetOp::Accept,
    NetOp::Send,
    NetOp::Deliver,
    NetOp::Drop,
    NetOp::Reset,
    NetOp::Refused,
    NetOp::ConnectTimedOut,
    NetOp::TimedOut,
    NetOp::ConnectAborted,
];

fn wait_record(on: WaitOn) -> WaitRecord {
    match on {
        WaitOn::Unknown => WaitRecord::Unknown,
        WaitOn::Yield => WaitRecord::Yield,
        WaitOn::Join(task) => WaitRecord::Join { task: task.0 },
        WaitOn::Timer { deadline_ns } => WaitRecord::Timer { deadline_ns },
        WaitOn::PoolJob(job) => WaitRecord::PoolJob { job },
        WaitOn::Resource(kind, id) => WaitRecord::Resource {
            resource: kind.name().to_string(),
            id,
        },
        WaitOn::Socket { op, socket } => WaitRecord::Socket {
            op: op.name().to_string(),
            socket,
        },
    }
}

/// What a record says a task waits on; `Err` names a resource kind or
/// socket wait this build does not know.
fn wait_from(record: WaitRecord) -> Result<WaitOn, String> {
    Ok(match record {
        WaitRecord::Unknown => WaitOn::Unknown,
        WaitRecord::Yield => WaitOn::Yield,
        WaitRecord::Join { task } => WaitOn::Join(TaskId(task)),
        WaitRecord::Timer { deadline_ns } => WaitOn::Timer { deadline_ns },
        WaitRecord::PoolJob { job } => WaitOn::PoolJob(job),
        WaitRecord::Resource { resource, id } => {
            let kind = RESOURCE_KINDS
                .iter()
                .find(|kind| kind.name() == resource)
                .ok_or_else(|| format!("resource {resource}"))?;
            WaitOn::Resource(*kind, id)
        }
        WaitRecord::Socket { op, socket } => {
            let op = SOCKET_WAITS
                .iter()
                .find(|wait| wait.name() == op)
                .ok_or_else(|| format!("socket wait {op}"))?;
            WaitOn::Socket { op: *op, socket }
        }
    })
}

fn kind_record(kind: EventKind) -> KindRecord {
    let id = |task: Option<TaskId>| task.map(|task| task.0);
    match kind {
        EventKind::Spawn { parent } => KindRecord::Spawn { parent: id(parent) },
        EventKind::Poll => KindRecord::Poll,
        EventKind::Pending { on } => KindRecord::Pending {
            on: wait_record(on),
        },
        EventKind::Wake { by } => KindRecord::Wake { by: id(by) },
        EventKind::TimerSet { deadline_ns } => KindRecord::TimerSet { deadline_ns },
        EventKind::TimerFire { deadline_ns } => KindRecord::TimerFire { deadline_ns },
        EventKind::ClockJump { from_ns } => KindRecord::ClockJump { from_ns },
        EventKind::BlockingSleep { duration_ns } => KindRecord::BlockingSleep { duration_ns },
        EventKind::SlowPoll { held_ns } => KindRecord::SlowPoll { held_ns },
        EventKind::PoolQueue { job } => KindRecord::PoolQueue { job },
        EventKind::PoolStart { job, worker } => KindRecord::PoolStart { job, worker },
        EventKind::PoolFinish { job, worker } => KindRecord::PoolFinish { job, worker },
        EventKind::Complete => KindRecord::Complete,
        EventKind::Panic => KindRecord::Panic,
        EventKind::Abort => KindRecord::Abort,
        EventKind::Crash { node } => KindRecord::Crash { node },
        EventKind::BranchOrder { live, value, .. } => KindRecord::BranchOrder { live, value },
        EventKind::PollYield => KindRecord::PollYield,
        EventKind::Net { op, socket, bytes } => KindRecord::Net {
            op: op.name().to_string(),
            socket,
            bytes,
        },
        EventKind::NetDrop {
            why,
            from,
            to,
            bytes,
        } => KindRecord::NetDrop {
            why: why.name().to_string(),
            from,
            to,
            bytes,
        },
        EventKind::Fault { op, what } => KindRecord::Fault {
            op: op.name().to_string(),
            what,
        },
        EventKind::Mark { label } => KindRecord::Mark { label },
        EventKind::Warning(warning) => KindRecord::Warning {
            warning: match warning {
                Warning::DestroyedPending => WarningRecord::DestroyedPending,
                Warning::PanicNotRetrieved => WarningRecord::PanicNotRetrieved,
                Warning::TraceTruncated => WarningRecord::TraceTruncated,
            },
        },
    }
}

/// The event a record stands for; `Err` names an operation (net or fault)
/// this build does not know.
fn kind_from(record: KindRecord) -> Result<EventKind, String> {
    let id = |task: Option<u32>| task.map(TaskId);
    Ok(match record {
        KindRecord::Spawn { parent } => EventKind::Spawn { parent: id(parent) },
        KindRecord::Poll => EventKind::Poll,
        KindRecord::Pending { on } => EventKind::Pending { on: wait_from(on)? },
        KindRecord::Wake { by } => EventKind::Wake { by: id(by) },
        KindRecord::TimerSet { deadline_ns } => EventKind::TimerSet { deadline_ns },
        KindRecord::TimerFire { deadline_ns } => EventKind::TimerFire { deadline_ns },
        KindRecord::ClockJump { from_ns } => EventKind::ClockJump { from_ns },
        KindRecord::BlockingSleep { duration_ns } => EventKind::BlockingSleep { duration_ns },
        KindRecord::SlowPoll { held_ns } => EventKind::SlowPoll { held_ns },
        KindRecord::PoolQueue { job } => EventKind::PoolQueue { job },
        KindRecord::PoolStart { job, worker } => EventKind::PoolStart { job, worker },
        KindRecord::PoolFinish { job, worker } => EventKind::PoolFinish { job, worker },
        KindRecord::Complete => EventKind::Complete,
        KindRecord::Panic => EventKind::Panic,
        KindRecord::Abort => EventKind::Abort,
        KindRecord::Crash { node } => EventKind::Crash { node },
        KindRecord::BranchOrder { live, value } => EventKind::BranchOrder {
            live,
            value,
            site: u32::MAX,
        },
        KindRecord::PollYield => EventKind::PollYield,
        KindRecord::Net { op, socket, bytes } => {
            let op = NET_OPS
                .iter()
                .find(|net| net.name() == op)
                .ok_or_else(|| format!("net {op}"))?;
            EventKind::Net {
                op: *op,
                socket,
                bytes,
            }
        }
        KindRecord::NetDrop {
            why,
            from,
            to,
            bytes,
        } => {
            let why = DropWhy::ALL
                .iter()
                .find(|known| known.name() == why)
                .ok_or_else(|| format!("net_drop {why}"))?;
            EventKind::NetDrop {
                why: *why,
                from,
                to,
                bytes,
            }
        }
        KindRecord::Fault { op, what } => {
            let op = FaultOp::ALL
                .iter()
                .find(|fault| fault.name() == op)
                .ok_or_else(|| format!("fault {op}"))?;
            EventKind::Fault { op: *op, what }
        }
        KindRecord::Mark { label } => EventKind::Mark { label },
        KindRecord::Warning { warning } => EventKind::Warning(match warning {
            WarningRecord::DestroyedPending => Warning::DestroyedPending,
            WarningRecord::PanicNotRetrieved => Warning::PanicNotRetrieved,
            WarningRecord::TraceTruncated => Warning::TraceTruncated,
        }),
    })
}

/// The version that added `kind` (its net operation, its drop's reason),
/// as the module doc's table says, with its name in files ("net refused",
/// "net_drop closed") when that is after version 1. Every match is
/// exhaustive: a kind, operation or reason added later must say its
/// version here.
fn added_after_version_1(kind: EventKind) -> Option<(u64, String)> {
    match kind {
        EventKind::Pending {
            on:
                WaitOn::Socket {
                    op: SocketWait::Write,
                    ..
                },
        } => Some((6, "pending socket write".to_string())),
        EventKind::Pending {
            on:
                WaitOn::Socket {
                    op: SocketWait::Error,
                    ..
                },
        } => Some((7, "pending socket error".to_string())),
        EventKind::Spawn { .. }
        | EventKind::Poll
        | EventKind::Pending { .. }
        | EventKind::Wake { .. }
        | EventKind::TimerSet { .. }
        | EventKind::TimerFire { .. }
        | EventKind::ClockJump { .. }
        | EventKind::BlockingSleep { .. }
        | EventKind::SlowPoll { .. }
        | EventKind::PoolQueue { .. }
        | EventKind::PoolStart { .. }
        | EventKind::PoolFinish { .. }
        | EventKind::Complete
        | EventKind::Panic
        | EventKind::Abort
        | EventKind::Mark { .. }
        | EventKind::Warning(_)
        | EventKind::Crash { .. }
        | EventKind::BranchOrder { .. }
        | EventKind::PollYield => None,
        EventKind::Fault { op, .. } => match op {
            // Every fault operation up to `crash_lost` came under version 1.
            FaultOp::Crash
            | FaultOp::Restart
            | FaultOp::Partition
            | FaultOp::Repair
            | FaultOp::Isolate
            | FaultOp::Rejoin
            | FaultOp::Clog
            | FaultOp::Unclog
            | FaultOp::Link
            | FaultOp::Lost
            | FaultOp::Duplicated
            | FaultOp::DiskError
            | FaultOp::DiskErrorRate
            | FaultOp::Kept
            | FaultOp::Torn
            | FaultOp::Buggify
            | FaultOp::CrashLost => None,
        },
        EventKind::Net { op, .. } => {
            let added = match op {
                NetOp::Connect
                | NetOp::Accept
                | NetOp::Send
                | NetOp::Deliver
                | NetOp::Drop
                | NetOp::Reset => return None,
                NetOp::Refused | NetOp::ConnectTimedOut | NetOp::TimedOut => 4,
                NetOp::ConnectAborted => 5,
            };
            Some((added, format!("net {}", op.name())))
        }
        EventKind::NetDrop { why, .. } => {
            let added = match why {
                DropWhy::Lost
                | DropWhy::Full
                | DropWhy::Partition
                | DropWhy::Isolated
                | DropWhy::Unbound
                | DropWhy::NotPeer => 2,
                DropWhy::Closed | DropWhy::Crashed | DropWhy::Reset | DropWhy::TimedOut => 3,
                DropWhy::SenderCrashed => 8,
            };
            Some((added, format!("net_drop {}", why.name())))
        }
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("trace records always serialise")
}

/// Serialises `trace` in the trace file format (see the [module docs](self)).
///
/// ```
/// use asyncsim::harness::trace_file;
/// use asyncsim::{Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {});
/// let text = trace_file::to_string(&run.trace);
/// assert!(text.contains("\"format\": \"asyncsim-trace\""));
/// assert!(text.contains("\"version\": 8"));
/// ```
pub fn to_string(trace: &Trace) -> String {
    let tasks: Vec<TaskRecord> = trace
        .tasks()
        .iter()
        .map(|info| TaskRecord {
            name: info.name.to_string(),
            parent: info.parent.map(|task| task.0),
            blocking: info.blocking,
        })
        .collect();
    let recorded_all = !trace.is_truncated();
    let mut out = String::new();
    out.push_str("{\n");
    out.push_str(&format!("\"format\": {},\n", json(FORMAT)));
    out.push_str(&format!("\"version\": {VERSION},\n"));
    out.push_str(&format!("\"tasks\": {},\n", json(&tasks)));
    out.push_str(&format!("\"labels\": {},\n", json(trace.labels())));
    // A truncated trace's hash covers events the file does not hold; store
    // the hash of what it does hold, so the file is self-consistent.
    let (hash, count) = if recorded_all {
        (trace.hash(), trace.event_count())
    } else {
        let kept = Trace::from_parts(
            trace.events().to_vec(),
            trace.tasks().to_vec(),
            trace.labels().to_vec(),
        );
        (kept.hash(), kept.event_count())
    };
    out.push_str(&format!("\"hash\": \"{hash:016x}\",\n"));
    out.push_str(&format!("\"event_count\": {count},\n"));
    out.push_str("\"events\": [");
    for (index, event) in trace.events().iter().enumerate() {
        let record = EventRecord {
            step: event.step,
            time_ns: event.time_ns,
            task: event.task.map(|task| task.0),
            kind: kind_record(event.kind),
        };
        out.push_str(if index == 0 { "\n" } else { ",\n" });
        out.push_str(&json(&record));
    }
    out.push_str("\n]\n}\n");
    out
}

/// Parses a trace file's text. Errors name what is wrong: not JSON, not a
/// trace file, an unsupported version, or inconsistent contents.
///
/// ```
/// use asyncsim::harness::trace_file::{self, TraceFileError};
///
/// assert!(matches!(trace_file::from_str("{ nope"), Err(TraceFileError::Malformed(_))));
/// assert!(matches!(
///     trace_file::from_str(r#"{"format": "asyncsim-trace", "version": 99}"#),
///     Err(TraceFileError::UnsupportedVersion { found: 99 })
/// ));
/// ```
#[allow(clippy::should_implement_trait)]
pub fn from_str(text: &str) -> Result<Trace, TraceFileError> {
    let header: Header =
        serde_json::from_str(text).map_err(|error| TraceFileError::Malformed(error.to_string()))?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(TraceFileError::NotATraceFile);
    }
    let version = match header.version {
        Some(version) if (OLDEST_VERSION..=VERSION).contains(&version) => version,
        Some(found) => return Err(TraceFileError::UnsupportedVersion { found }),
        None => return Err(TraceFileError::Malformed("missing field `version`".into())),
    };
    let file: FileRecord = serde_json::from_str(text).map_err(|error| {
        unknown_event(text, version).unwrap_or_else(|| TraceFileError::Malformed(error.to_string()))
    })?;
    let unknown = |index: usize, kind: &str| TraceFileError::UnknownEvent {
        index,
        kind: kind.to_string(),
        version,
    };
    let task_count = file.tasks.len();
    let check_task = |task: Option<u32>, what: &str| -> Result<(), TraceFileError> {
        match task {
            Some(task) if task as usize >= task_count => Err(TraceFileError::Inconsistent(
                format!("{what} refers to task #{task}, but there are {task_count} tasks"),
            )),
            _ => Ok(()),
        }
    };
    let mut tasks = Vec::with_capacity(task_count);
    for (index, record) in file.tasks.into_iter().enumerate() {
        check_task(record.parent, &format!("task #{index}'s parent"))?;
        tasks.push(TaskInfo {
            name: record.name.into(),
            parent: record.parent.map(TaskId),
            blocking: record.blocking,
        });
    }
    let mut events = Vec::with_capacity(file.events.len());
    for (index, record) in file.events.into_iter().enumerate() {
        let what = format!("event {index}");
        check_task(record.task, &what)?;
        match &record.kind {
            KindRecord::Spawn { parent } => check_task(*parent, &what)?,
            KindRecord::Wake { by } => check_task(*by, &what)?,
            KindRecord::Pending {
                on: WaitRecord::Join { task },
            } => check_task(Some(*task), &what)?,
            KindRecord::Mark { label }
            | KindRecord::Net { socket: label, .. }
            | KindRecord::Fault { what: label, .. }
            | KindRecord::NetDrop { from: label, .. }
            | KindRecord::NetDrop { to: label, .. }
                if *label as usize >= file.labels.len() =>
            {
                return Err(TraceFileError::Inconsistent(format!(
                    "{what} refers to label {label}, but there are {} labels",
                    file.labels.len()
                )))
            }
            _ => {}
        }
        let kind = kind_from(record.kind).map_err(|name| unknown(index, &name))?;
        if let Some((added_in, name)) = added_after_version_1(kind) {
            if added_in > version {
                return Err(TraceFileError::EventNewerThanFile {
                    index,
                    kind: name,
                    added_in,
                    version,
                });
            }
        }
        events.push(Event {
            step: record.step,
            time_ns: record.time_ns,
            task: record.task.map(TaskId),
            kind,
        });
    }
    let trace = Trace::from_parts(events, tasks, file.labels);
    if trace.event_count() != file.event_count {
        return Err(TraceFileError::Inconsistent(format!(
            "the file says {} events but holds {}",
            file.event_count,
            trace.event_count()
        )));
    }
    let hash = format!("{:016x}", trace.hash());
    if hash != file.hash {
        return Err(TraceFileError::Inconsistent(format!(
            "the events hash to {hash} but the file says {} (edited or damaged?)",
            file.hash
        )));
    }
    Ok(trace)
}

/// When a file did not parse: the first event whose `kind` this build does
/// not know, if that is why (the typed parse's error would only say "unknown
/// variant" at a line and column).
fn unknown_event(text: &str, version: u64) -> Option<TraceFileError> {
    #[derive(Deserialize)]
    struct Events {
        events: Vec<serde_json::Value>,
    }
    let file: Events = serde_json::from_str(text).ok()?;
    file.events
        .into_iter()
        .enumerate()
        .find_map(|(index, event)| {
            let kind = event.get("kind")?.as_str()?.to_string();
            let error = serde_json::from_value::<KindRecord>(event)
                .err()?
                .to_string();
            // "unknown variant `x`, expected …": the event's own kind, or a
            // warning or wait inside it.
            let unknown = error.strip_prefix("unknown variant `")?;
            let name = unknown.split('`').next().unwrap_or_default();
            Some(TraceFileError::UnknownEvent {
                index,
                kind: if name == kind {
                    kind
                } else {
                    format!("{kind} {name}")
                },
                version,
            })
        })
}

/// Writes `trace` to `path` in the trace file format.
///
/// ```
/// use asyncsim::harness::trace_file;
/// use asyncsim::{Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {});
/// let path = std::env::temp_dir().join("asyncsim-doc-save.trace.json");
/// trace_file::save(&run.trace, &path).unwrap();
/// assert_eq!(trace_file::load(&path).unwrap(), run.trace);
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn save(trace: &Trace, path: &Path) -> io::Result<()> {
    std::fs::write(path, to_string(trace))
}

/// Reads a trace file written by [`save`].
///
/// ```
/// use asyncsim::harness::trace_file::{self, TraceFileError};
/// use std::path::Path;
///
/// let missing = trace_file::load(Path::new("/no/such/file.json"));
/// assert!(matches!(missing, Err(TraceFileError::Io(_))));
/// ```
pub fn load(path: &Path) -> Result<Trace, TraceFileError> {
    let text = std::fs::read_to_string(path)?;
    from_str(&text)
}
