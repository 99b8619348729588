//! Links with a fixed latency, servers and trace readers shared by the net
//! trace tests.

use std::time::Duration;

use asyncsim::net::NetConfig;
use asyncsim::node;
use asyncsim::trace::{DropWhy, EventKind, NetOp, TaskId, Trace};

/// A millisecond, in the trace's nanoseconds.
#[allow(dead_code)]
pub const MS: u64 = 1_000_000;

/// A link whose every message takes exactly `ms` milliseconds.
pub fn fixed(ms: u64) -> NetConfig {
    NetConfig::new().latency(Duration::from_millis(ms), Duration::from_millis(ms))
}

/// The run's time now, in nanoseconds.
#[allow(dead_code)]
pub fn now_ns() -> u64 {
    asyncsim::time::Instant::now().as_nanos()
}

/// A node `server` that is up and listens nowhere.
#[allow(dead_code)]
pub fn idle_server() -> node::Node {
    node::Builder::new("server").start(std::future::pending::<()>)
}

/// The trace's `net` events whose operation `keep` takes: (op, time, task,
/// socket label), in trace order. Each carries no bytes but a send's and a
/// delivery's.
#[allow(dead_code)]
pub fn net_events(
    trace: &Trace,
    keep: impl Fn(NetOp) -> bool,
) -> Vec<(NetOp, u64, Option<TaskId>, String)> {
    trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Net { op, socket, bytes } if keep(op) => {
                if !matches!(op, NetOp::Send | NetOp::Deliver) {
                    assert_eq!(bytes, 0, "a `net {}` with bytes", op.name());
                }
                Some((
                    op,
                    event.time_ns,
                    event.task,
                    trace.label(socket).to_string(),
                ))
            }
            _ => None,
        })
        .collect()
}

/// The trace's drops: (time, task, why, bytes), in trace order.
#[allow(dead_code)]
pub fn drops(trace: &Trace) -> Vec<(u64, Option<TaskId>, DropWhy, u32)> {
    trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::NetDrop { why, bytes, .. } => Some((event.time_ns, event.task, why, bytes)),
            _ => None,
        })
        .collect()
}

/// Asserts `got` is exactly one event, `op` at `at` by the main task on the
/// socket labelled `label`; a failure shows `trace`.
#[allow(dead_code)]
#[track_caller]
pub fn assert_only_by_main(
    got: Vec<(NetOp, u64, Option<TaskId>, String)>,
    op: NetOp,
    at: u64,
    label: &str,
    trace: &Trace,
) {
    assert_eq!(
        got,
        [(op, at, Some(TaskId::MAIN), label.to_string())],
        "{trace}"
    );
}

/// Asserts the trace's text contains `line`; a failure shows the text.
#[allow(dead_code)]
#[track_caller]
pub fn assert_trace_says(trace: &Trace, line: &str) {
    let text = trace.to_string();
    assert!(text.contains(line), "{text}");
}
