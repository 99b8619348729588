//! Chrome Trace Event Format (the JSON `chrome://tracing` and Perfetto open).

use asyncsim_sim::trace::{format_ns, EventKind, Trace};
use serde_json::{json, Map, Value};

use super::model::{Model, PollEnd};
use super::text::FAULT_LANE;

/// The process id every event carries (one simulated process).
const PID: u32 = 1;
/// The track of engine-wide events (clock jumps, timer and pool wakes).
pub(crate) const ENGINE_TID: u64 = 0;
/// Pool worker `w` is drawn on track `WORKER_TID_BASE + w`.
pub(crate) const WORKER_TID_BASE: u64 = 1_000_000;
/// The fault lane's track (after every task's, before the pool workers').
pub(crate) const FAULT_TID: u64 = WORKER_TID_BASE - 1;
/// Duration given to polls that held the loop for zero virtual time, in µs,
/// so they show up as slices (and flows can bind to them).
pub(crate) const NOMINAL_POLL_US: f64 = 1.0;

/// Task `id` is drawn on track `id + 1` (track 0 is the engine's).
pub(crate) fn task_tid(task: asyncsim_sim::TaskId) -> u64 {
    u64::from(task.0) + 1
}

fn us(time_ns: u64) -> f64 {
    time_ns as f64 / 1000.0
}

fn metadata(name: &str, tid: u64, key: &str, value: Value) -> Value {
    json!({"ph": "M", "pid": PID, "tid": tid, "name": name, "args": {key: value}})
}

pub(crate) fn chrome_value(trace: &Trace) -> Value {
    let model = Model::new(trace);
    let mut events: Vec<Value> = Vec::new();

    events.push(metadata(
        "process_name",
        ENGINE_TID,
        "name",
        json!("asyncsim run (virtual time)"),
    ));
    events.push(metadata("thread_name", ENGINE_TID, "name", json!("engine")));
    events.push(metadata(
        "thread_sort_index",
        ENGINE_TID,
        "sort_index",
        json!(0),
    ));
    for lane in &model.lanes {
        let tid = task_tid(lane.task);
        let name = if lane.blocking {
            format!("{} (pool job)", lane.name)
        } else {
            lane.name.clone()
        };
        events.push(metadata("thread_name", tid, "name", json!(name)));
        events.push(metadata("thread_sort_index", tid, "sort_index", json!(tid)));
    }
    if !model.faults.is_empty() {
        events.push(metadata(
            "thread_name",
            FAULT_TID,
            "name",
            json!(FAULT_LANE),
        ));
        events.push(metadata(
            "thread_sort_index",
            FAULT_TID,
            "sort_index",
            json!(FAULT_TID),
        ));
    }
    for worker in 0..model.workers {
        let tid = WORKER_TID_BASE + u64::from(worker);
        events.push(metadata(
            "thread_name",
            tid,
            "name",
            json!(format!("pool worker {worker}")),
        ));
        events.push(metadata("thread_sort_index", tid, "sort_index", json!(tid)));
    }

    // Polls: complete events on the task's track.
    for poll in &model.polls {
        let duration_us = if poll.held_ns > 0 {
            us(poll.held_ns)
        } else {
            NOMINAL_POLL_US
        };
        let outcome = match poll.end {
            PollEnd::Pending(on) => format!("pending on {}", trace.describe_wait(on)),
            PollEnd::Complete => "complete".to_string(),
            PollEnd::Panic => "panic".to_string(),
            PollEnd::Abort => "aborted".to_string(),
            PollEnd::Unknown => "unknown".to_string(),
        };
        let (name, category) = if poll.held_ns > 0 {
            ("poll (blocking the loop)", "poll,blocking")
        } else {
            ("poll", "poll")
        };
        events.push(json!({
            "ph": "X", "pid": PID, "tid": task_tid(poll.task),
            "name": name, "cat": category,
            "ts": us(poll.start_ns), "dur": duration_us,
            "args": {
                "step": poll.step,
                "held_loop": format_ns(poll.held_ns),
                "outcome": outcome,
            },
        }));
    }

    // Pool jobs: on the job's own track and on its worker's track.
    for job in &model.jobs {
        let Some((start_ns, worker)) = job.started else {
            continue;
        };
        let finish_ns = job.finish_ns.unwrap_or(model.end_ns);
        let name = trace.task_name(job.task);
        let args = json!({
            "job": job.job, "worker": worker,
            "queued_at": format_ns(job.queued_ns),
            "ran": format_ns(finish_ns.saturating_sub(start_ns)),
        });
        for tid in [task_tid(job.task), WORKER_TID_BASE + u64::from(worker)] {
            events.push(json!({
                "ph": "X", "pid": PID, "tid": tid,
                "name": format!("pool job {} ({name})", job.job), "cat": "pool",
                "ts": us(start_ns), "dur": us(finish_ns.saturating_sub(start_ns)),
                "args": args.clone(),
            }));
        }
    }

    // Instants: marks, wakes, clock jumps, timer fires, panics, aborts, warnings.
    for (index, event) in trace.events().iter().enumerate() {
        let tid = event.task.map_or(ENGINE_TID, task_tid);
        let (name, category) = match event.kind {
            EventKind::Mark { label } => (format!("mark {:?}", trace.label(label)), "mark"),
            EventKind::Wake { .. } => (trace.describe_at(index), "wake"),
            EventKind::ClockJump { .. } => (trace.describe(event), "clock"),
            EventKind::TimerFire { .. } => (trace.describe(event), "timer"),
            EventKind::BranchOrder { .. } | EventKind::PollYield => {
                (trace.describe(event), "branch")
            }
            EventKind::Panic
            | EventKind::Abort
            | EventKind::Crash { .. }
            | EventKind::Warning(_) => (trace.describe(event), "outcome"),
            _ => continue,
        };
        events.push(json!({
            "ph": "i", "pid": PID, "tid": tid, "s": "t",
            "name": name, "cat": category, "ts": us(event.time_ns),
            "args": {"step": event.step},
        }));
    }

    // Faults: instants on the fault track, named in words.
    for fault in &model.faults {
        let (_, kind) = fault.symbol();
        let mut args = Map::new();
        args.insert("step".into(), json!(fault.step));
        args.insert("fault".into(), json!(fault.op.name()));
        args.insert("kind".into(), json!(kind));
        if let Some(task) = fault.task {
            args.insert("by".into(), json!(trace.task_name(task)));
        }
        events.push(json!({
            "ph": "i", "pid": PID, "tid": FAULT_TID, "s": "t",
            "name": fault.what, "cat": "fault", "ts": us(fault.time_ns),
            "args": Value::Object(args),
        }));
    }

    // Flows: wake -> the woken task's next poll. A flow starts inside a slice
    // on its track: the waker's poll, or for engine wakes a nominal slice on
    // the engine track.
    for (id, wake) in model.wakes.iter().enumerate() {
        let Some(next) = wake.next_poll else {
            continue;
        };
        let target = &model.polls[next];
        let (source_tid, source_ts) = match wake.from_poll.map(|index| &model.polls[index]) {
            Some(poll) => {
                let end_us = us(poll.start_ns)
                    + if poll.held_ns > 0 {
                        us(poll.held_ns)
                    } else {
                        NOMINAL_POLL_US
                    };
                // Strictly inside the slice so viewers bind the flow to it.
                let ts = us(wake.time_ns).min(end_us - NOMINAL_POLL_US / 2.0);
                (task_tid(poll.task), ts.max(us(poll.start_ns)))
            }
            None => {
                events.push(json!({
                    "ph": "X", "pid": PID, "tid": ENGINE_TID,
                    "name": format!("wake {}", trace.task_name(wake.task)), "cat": "wake",
                    "ts": us(wake.time_ns), "dur": NOMINAL_POLL_US,
                    "args": {"step": wake.step},
                }));
                (ENGINE_TID, us(wake.time_ns))
            }
        };
        let name = format!("wake {}", trace.task_name(wake.task));
        events.push(json!({
            "ph": "s", "pid": PID, "tid": source_tid, "id": id, "cat": "wake",
            "name": name, "ts": source_ts,
        }));
        events.push(json!({
            "ph": "f", "bp": "e", "pid": PID, "tid": task_tid(target.task), "id": id,
            "cat": "wake", "name": name, "ts": us(target.start_ns),
        }));
    }

    let mut other = Map::new();
    other.insert("generator".into(), json!("asyncsim"));
    other.insert(
        "time".into(),
        json!("virtual; 1 µs of trace time = 1 µs of simulated time"),
    );
    other.insert("events_recorded".into(), json!(trace.events().len()));
    other.insert("events_total".into(), json!(trace.event_count()));
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": Value::Object(other),
    })
}
