//! The shapes every renderer draws, computed once from a trace's events:
//! lanes (one per task), polls with the time they held the loop, pool jobs,
//! marks and wakes.
//!
//! A trace is a flat list of events; a picture needs intervals. The rules:
//!
//! - A poll starts at its `Poll` event and ends at the task's next
//!   `Pending`, `Complete`, `Panic` or `Abort`, or at the next `Poll` of any
//!   task. The time it held the loop is the sum of its `BlockingSleep`s (the
//!   only way virtual time passes inside a poll).
//! - A pool job (a task with `TaskInfo::blocking`) is queued at `PoolQueue`,
//!   runs on its worker from `PoolStart` to `PoolFinish`; its
//!   `BlockingSleep`s spend the worker's time, never the loop's.
//! - A wake points at the woken task's next poll, if there is one.
//! - A fault of the simulated world (`EventKind::Fault`) goes to the fault
//!   lane, whichever task caused it; a run without faults has no such lane.
//!   So does a dropped message (`EventKind::NetDrop`: a full buffer, a cut,
//!   a closed socket, a crash, a reset, …), as a loss (`D`) in its trace
//!   line's words, except a drawn loss, whose `Fault` is there already.

use asyncsim_sim::trace::{DropWhy, EventKind, FaultOp, TaskId, Trace, WaitOn};

/// How a poll ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PollEnd {
    /// Returned `Pending`, waiting on this.
    Pending(WaitOn),
    /// The future completed.
    Complete,
    /// The task panicked.
    Panic,
    /// The task was aborted during the poll.
    Abort,
    /// The trace ends (or the next poll starts) before the poll's outcome.
    Unknown,
}

/// One poll of one task.
#[derive(Clone, Debug)]
pub(crate) struct PollSpan {
    /// The task polled.
    pub task: TaskId,
    /// The scheduling step.
    pub step: u64,
    /// Virtual time the poll started.
    pub start_ns: u64,
    /// Virtual time the poll held the loop (its blocking sleeps).
    pub held_ns: u64,
    /// How it ended.
    pub end: PollEnd,
}

impl PollSpan {
    /// Virtual time the poll gave the loop back.
    pub fn end_ns(&self) -> u64 {
        self.start_ns.saturating_add(self.held_ns)
    }
}

/// One `spawn_blocking` job.
#[derive(Clone, Debug)]
pub(crate) struct JobSpan {
    /// The job's handle task (a blocking lane).
    pub task: TaskId,
    /// The job's index in the run.
    pub job: u32,
    /// When it was queued.
    pub queued_ns: u64,
    /// When a worker took it, and which.
    pub started: Option<(u64, u32)>,
    /// When it finished.
    pub finish_ns: Option<u64>,
    /// The steps at which it started and finished.
    pub start_step: Option<u64>,
    /// See `start_step`.
    pub finish_step: Option<u64>,
}

/// One task's lane.
#[derive(Clone, Debug)]
pub(crate) struct Lane {
    /// The task.
    pub task: TaskId,
    /// Its name.
    pub name: String,
    /// A `spawn_blocking` job's handle.
    pub blocking: bool,
    /// When it was spawned (first event if no spawn was recorded).
    pub spawn_ns: Option<u64>,
    /// When it completed, panicked or was aborted.
    pub end_ns: Option<u64>,
    /// The step of its first event.
    pub spawn_step: u64,
    /// The step it completed, panicked or was aborted at.
    pub end_step: Option<u64>,
    /// True if it panicked.
    pub panicked: bool,
    /// True if it was aborted.
    pub aborted: bool,
}

/// A user mark.
#[derive(Clone, Debug)]
pub(crate) struct MarkPoint {
    /// Who marked (None outside any task).
    pub task: Option<TaskId>,
    /// When.
    pub time_ns: u64,
    /// The label.
    pub label: String,
    /// The step.
    pub step: u64,
}

/// A fault of the simulated world: a crash, a cut, a lost message, a disk
/// error, what a crash kept, …
#[derive(Clone, Debug)]
pub(crate) struct FaultPoint {
    /// Its kind.
    pub op: FaultOp,
    /// The task that caused it (None outside any task).
    pub task: Option<TaskId>,
    /// When.
    pub time_ns: u64,
    /// The step.
    pub step: u64,
    /// What happened, in words.
    pub what: String,
}

impl FaultPoint {
    /// The letter the text timeline draws it with, and the word the legend
    /// gives that letter.
    pub fn symbol(&self) -> (u8, &'static str) {
        fault_symbol(self.op)
    }
}

/// Letters of the fault lane, strongest first (on top of a shared column of
/// the text timeline, first in the SVG), with the word the legend gives each.
pub(crate) const FAULT_SYMBOLS: [(u8, &str); 10] = [
    (b'C', "crash"),
    (b'R', "restart"),
    (b'P', "partition"),
    (b'H', "heal"),
    (b'E', "disk error"),
    (b'T', "crash kept/tore writes"),
    (b'U', "crash lost unsynced changes"),
    (b'L', "link changed"),
    (b'D', "message lost/duplicated"),
    (b'B', "buggify"),
];

/// Sorts fault letters strongest first (in [`FAULT_SYMBOLS`]'s order; a
/// letter not among them last) and keeps one of each: the letters of one
/// instant, as the text timeline's fault lane stacks them and the SVG's
/// tick writes them.
pub(crate) fn strongest_first(letters: &mut Vec<u8>) {
    letters.sort_by_key(|letter| {
        FAULT_SYMBOLS
            .iter()
            .position(|(symbol, _)| symbol == letter)
            .unwrap_or(usize::MAX)
    });
    letters.dedup();
}

/// The letter of a fault kind (one of [`FAULT_SYMBOLS`]).
pub(crate) fn fault_symbol(op: FaultOp) -> (u8, &'static str) {
    let letter = match op {
        FaultOp::Crash => b'C',
        FaultOp::Restart => b'R',
        FaultOp::Partition | FaultOp::Isolate => b'P',
        FaultOp::Repair | FaultOp::Rejoin | FaultOp::Unclog => b'H',
        FaultOp::DiskError | FaultOp::DiskErrorRate => b'E',
        FaultOp::Kept | FaultOp::Torn => b'T',
        FaultOp::CrashLost => b'U',
        FaultOp::Clog | FaultOp::Link => b'L',
        FaultOp::Lost | FaultOp::Duplicated => b'D',
        FaultOp::Buggify => b'B',
    };
    *FAULT_SYMBOLS
        .iter()
        .find(|(symbol, _)| *symbol == letter)
        .expect("every fault kind has a letter")
}

/// A wake, with the poll it led to.
#[derive(Clone, Debug)]
pub(crate) struct WakeArrow {
    /// The task woken.
    pub task: TaskId,
    /// The waking task (None: the clock or the pool).
    pub by: Option<TaskId>,
    /// When.
    pub time_ns: u64,
    /// The step.
    pub step: u64,
    /// Index into `Model::polls` of the woken task's next poll.
    pub next_poll: Option<usize>,
    /// Index of the waker's poll in `Model::polls` (if a task woke it).
    pub from_poll: Option<usize>,
    /// Index of the wake event in the trace.
    pub event: usize,
}

/// Everything a renderer needs.
#[derive(Clone, Debug)]
pub(crate) struct Model {
    /// One lane per task, in task-id order.
    pub lanes: Vec<Lane>,
    /// Every poll, in order.
    pub polls: Vec<PollSpan>,
    /// Every pool job, by job index order of appearance.
    pub jobs: Vec<JobSpan>,
    /// Every mark.
    pub marks: Vec<MarkPoint>,
    /// Every wake of a task.
    pub wakes: Vec<WakeArrow>,
    /// Every fault, in order (empty: the pictures have no fault lane).
    pub faults: Vec<FaultPoint>,
    /// The latest virtual time anything happened.
    pub end_ns: u64,
    /// The last step.
    pub end_step: u64,
    /// How many pool workers appear.
    pub workers: u32,
}

impl Model {
    /// Builds the model of `trace`.
    pub fn new(trace: &Trace) -> Model {
        let mut lanes: Vec<Lane> = trace
            .tasks()
            .iter()
            .enumerate()
            .map(|(index, info)| Lane {
                task: TaskId(index as u32),
                name: info.name.to_string(),
                blocking: info.blocking,
                spawn_ns: None,
                end_ns: None,
                spawn_step: 0,
                end_step: None,
                panicked: false,
                aborted: false,
            })
            .collect();
        let mut polls: Vec<PollSpan> = Vec::new();
        let mut jobs: Vec<JobSpan> = Vec::new();
        let mut marks = Vec::new();
        let mut wakes: Vec<WakeArrow> = Vec::new();
        let mut faults: Vec<FaultPoint> = Vec::new();
        let mut end_ns = 0u64;
        let mut end_step = 0u64;
        let mut workers = 0u32;
        // The poll in progress, as an index into `polls`.
        let mut open_poll: Option<usize> = None;
        // Per task: wakes waiting for the task's next poll.
        let mut pending_wakes: Vec<Vec<usize>> = vec![Vec::new(); lanes.len()];

        for (event_index, event) in trace.events().iter().enumerate() {
            end_ns = end_ns.max(event.time_ns);
            end_step = end_step.max(event.step);
            let task = event.task;
            if let Some(task) = task {
                // Tasks unknown to the task table (a hand-built trace) get a lane too.
                while lanes.len() <= task.index() {
                    let id = TaskId(lanes.len() as u32);
                    lanes.push(Lane {
                        task: id,
                        name: trace.task_name(id).to_string(),
                        blocking: false,
                        spawn_ns: None,
                        end_ns: None,
                        spawn_step: 0,
                        end_step: None,
                        panicked: false,
                        aborted: false,
                    });
                    pending_wakes.push(Vec::new());
                }
                let lane = &mut lanes[task.index()];
                if lane.spawn_ns.is_none() {
                    lane.spawn_ns = Some(event.time_ns);
                    lane.spawn_step = event.step;
                }
            }
            let close = |open_poll: &mut Option<usize>, polls: &mut Vec<PollSpan>, end: PollEnd| {
                if let Some(index) = open_poll.take() {
                    polls[index].end = end;
                }
            };
            let is_open_task = |open_poll: &Option<usize>, polls: &Vec<PollSpan>| {
                open_poll.is_some_and(|index| Some(polls[index].task) == task)
            };
            match event.kind {
                EventKind::Poll => {
                    let Some(task) = task else { continue };
                    polls.push(PollSpan {
                        task,
                        step: event.step,
                        start_ns: event.time_ns,
                        held_ns: 0,
                        end: PollEnd::Unknown,
                    });
                    let index = polls.len() - 1;
                    open_poll = Some(index);
                    for wake in std::mem::take(&mut pending_wakes[task.index()]) {
                        wakes[wake].next_poll = Some(index);
                    }
                }
                EventKind::BlockingSleep { duration_ns } => {
                    let blocking_lane = task.is_some_and(|task| lanes[task.index()].blocking);
                    if !blocking_lane && is_open_task(&open_poll, &polls) {
                        let index = open_poll.expect("checked above");
                        polls[index].held_ns = polls[index].held_ns.saturating_add(duration_ns);
                        end_ns = end_ns.max(polls[index].end_ns());
                    } else {
                        end_ns = end_ns.max(event.time_ns.saturating_add(duration_ns));
                    }
                }
                EventKind::Pending { on } => {
                    if is_open_task(&open_poll, &polls) {
                        close(&mut open_poll, &mut polls, PollEnd::Pending(on));
                    }
                }
                EventKind::Complete
                | EventKind::Panic
                | EventKind::Abort
                | EventKind::Crash { .. } => {
                    let end = match event.kind {
                        EventKind::Complete => PollEnd::Complete,
                        EventKind::Panic => PollEnd::Panic,
                        _ => PollEnd::Abort,
                    };
                    if is_open_task(&open_poll, &polls) {
                        close(&mut open_poll, &mut polls, end);
                    }
                    if let Some(task) = task {
                        let lane = &mut lanes[task.index()];
                        lane.end_ns.get_or_insert(event.time_ns);
                        lane.end_step.get_or_insert(event.step);
                        lane.panicked |= end == PollEnd::Panic;
                        lane.aborted |= end == PollEnd::Abort;
                    }
                }
                EventKind::Wake { by } => {
                    let Some(task) = task else { continue };
                    let from_poll = match (by, open_poll) {
                        (Some(by), Some(index)) if polls[index].task == by => Some(index),
                        _ => None,
                    };
                    wakes.push(WakeArrow {
                        task,
                        by,
                        time_ns: event.time_ns,
                        step: event.step,
                        next_poll: None,
                        from_poll,
                        event: event_index,
                    });
                    pending_wakes[task.index()].push(wakes.len() - 1);
                }
                EventKind::PoolQueue { job } => {
                    if let Some(task) = task {
                        jobs.push(JobSpan {
                            task,
                            job,
                            queued_ns: event.time_ns,
                            started: None,
                            finish_ns: None,
                            start_step: None,
                            finish_step: None,
                        });
                    }
                }
                EventKind::PoolStart { job, worker } => {
                    workers = workers.max(worker + 1);
                    if let Some(span) = jobs.iter_mut().rev().find(|span| span.job == job) {
                        span.started = Some((event.time_ns, worker));
                        span.start_step = Some(event.step);
                    }
                }
                EventKind::PoolFinish { job, worker } => {
                    workers = workers.max(worker + 1);
                    if let Some(span) = jobs.iter_mut().rev().find(|span| span.job == job) {
                        span.finish_ns = Some(event.time_ns);
                        span.finish_step = Some(event.step);
                    }
                    if let Some(task) = task {
                        lanes[task.index()].end_ns.get_or_insert(event.time_ns);
                        lanes[task.index()].end_step.get_or_insert(event.step);
                    }
                }
                EventKind::Mark { label } => marks.push(MarkPoint {
                    task,
                    time_ns: event.time_ns,
                    label: trace.label(label).to_string(),
                    step: event.step,
                }),
                EventKind::Fault { op, what } => faults.push(FaultPoint {
                    op,
                    task,
                    time_ns: event.time_ns,
                    step: event.step,
                    what: trace.label(what).to_string(),
                }),
                // A dropped message goes to the fault lane too ('D'), in
                // its trace line's words, except a loss draw's: that one's
                // `Fault` (its draw's words) is there already.
                EventKind::NetDrop { why, .. } if why != DropWhy::Lost => faults.push(FaultPoint {
                    op: FaultOp::Lost,
                    task,
                    time_ns: event.time_ns,
                    step: event.step,
                    what: trace.describe(event),
                }),
                EventKind::Spawn { .. }
                | EventKind::ClockJump { .. }
                | EventKind::TimerSet { .. }
                | EventKind::TimerFire { .. }
                | EventKind::SlowPoll { .. }
                | EventKind::BranchOrder { .. }
                | EventKind::PollYield
                | EventKind::Net { .. }
                | EventKind::NetDrop { .. }
                | EventKind::Warning(_) => {}
            }
        }
        Model {
            lanes,
            polls,
            jobs,
            marks,
            wakes,
            faults,
            end_ns,
            end_step,
            workers,
        }
    }

    /// The polls that held the loop, in order.
    pub fn blocking_polls(&self) -> impl Iterator<Item = &PollSpan> + '_ {
        self.polls.iter().filter(|poll| poll.held_ns > 0)
    }
}

/// A "nice" tick spacing (1, 2 or 5 times a power of ten nanoseconds) such
/// that ticks are at least `min_gap` units apart when `total_ns` spans
/// `extent` units.
pub(crate) fn tick_spacing_ns(total_ns: u64, extent: f64, min_gap: f64) -> u64 {
    if total_ns == 0 || extent <= 0.0 {
        return 1;
    }
    let per_ns = extent / total_ns as f64;
    let mut power = 1u64;
    loop {
        for factor in [1u64, 2, 5] {
            let step = power.saturating_mul(factor);
            if step as f64 * per_ns >= min_gap || step >= total_ns {
                return step;
            }
        }
        match power.checked_mul(10) {
            Some(next) => power = next,
            None => return total_ns,
        }
    }
}
