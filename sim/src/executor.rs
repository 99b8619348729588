//! The executor: one thread, one run queue, one virtual clock.
//!
//! # Data structures
//!
//! A run's state lives in one [`State`] behind a `RefCell`, reached from task
//! code through a thread-local pointer to the running [`Core`] (`raw`); the
//! running task and whether it woke itself are `Cell`s on the core, so a
//! self-wake needs no borrow. The state is
//! never borrowed while user code runs (a poll, a pool job, a destructor), so
//! user code may call back into the engine (`spawn`, `mark`, `sleep`, wake)
//! freely.
//!
//! - `tasks`: one slot per task, indexed by [`TaskId`]; a slot holds the
//!   task's cell (its future and join slot in one allocation, polled in place; see
//!   `raw`), its state and what it waits on. A task's waker is not stored
//!   anywhere: it is the integer `(run id, task index)`, made when needed.
//! - `runnable`: the tasks ready to poll, oldest first. A draw of `k` polls
//!   the `k`-th entry, so 0 is asyncio's FIFO `call_soon` order.
//! - `timers`: a `BTreeMap` keyed by `(deadline_ns, sequence)`; it holds
//!   sleeping tasks' wakers and the pool's job completions. Its order is
//!   fully determined by the key, never by addresses.
//! - `deferred`: trace events made by pool jobs at virtual times the loop
//!   has not reached yet; they are released into the trace as the clock
//!   passes them, so the trace stays in time order.
//!
//! # One step
//!
//! Fire the timers that are due; if nothing is runnable, jump the clock to the
//! next timer (or report a deadlock); draw a runnable task; poll it once;
//! record what happened.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::config::Config;
use crate::failure::{BlockedTask, Failure, FailureKind};
use crate::raw::{self, CurrentGuard, TaskCell, TaskObj, TaskRc};
use crate::run_queue::RunQueue;
use crate::strategy::{Chooser, Strategy};
use crate::tape::{DrawLabel, Tape};
use crate::task::{JoinError, JoinHandle, JoinSlot, JoinSlotAny};
use crate::trace::{
    format_ns, Event, EventKind, ResourceKind, TaskId, TaskInfo, Trace, WaitOn, Warning,
};

/// Hands out an identity to every run, so a waker or primitive from one run
/// is never mistaken for one of another. Not an input to any decision.
static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(1);

/// Run ids a thread claims at once: one atomic add per this many runs (a
/// shared counter bumped on every run bounced its cache line between the
/// workers of a parallel `check`).
const RUN_ID_BLOCK: u64 = 64;

thread_local! {
    /// The thread's claimed run ids: the next one and the end of its block.
    static RUN_IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A run id no other run in the process has (until ids wrap, after 2^40
/// runs on 64-bit targets), never 0.
fn next_run_id() -> u64 {
    RUN_IDS.with(|ids| loop {
        let (mut next, mut end) = ids.get();
        if next == end {
            next = NEXT_RUN_ID.fetch_add(RUN_ID_BLOCK, Ordering::Relaxed);
            end = next + RUN_ID_BLOCK;
        }
        ids.set((next + 1, end));
        let id = next & RUN_ID_MASK;
        if id != 0 {
            return id;
        }
    })
}

/// A task's waker is two integers packed into the waker's data word — the
/// run's id and the task's index — so making, cloning and dropping one
/// allocates nothing and shares no memory between threads.
#[cfg(target_pointer_width = "64")]
const TASK_BITS: u32 = 24;
#[cfg(not(target_pointer_width = "64"))]
const TASK_BITS: u32 = 12;
const TASK_MASK: usize = (1 << TASK_BITS) - 1;
/// Run ids wrap within the bits a waker has for them (skipping 0).
const RUN_ID_MASK: u64 = (usize::MAX >> TASK_BITS) as u64;
/// The most tasks one run can have.
pub(crate) const TASKS_HARD_LIMIT: usize = 1 << TASK_BITS;

/// Wakes from outside their run (another OS thread, or after the run
/// ended): how many so far, and the runs they belonged to (recent ones; a
/// run checks for its own id whenever the count moves).
static FOREIGN_WAKE_COUNT: AtomicU64 = AtomicU64::new(0);
static FOREIGN_WAKE_RUNS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

thread_local! {
    /// The message and location of the last panic inside a run, captured by
    /// our panic hook instead of being printed.
    static LAST_PANIC: RefCell<Option<CapturedPanic>> = const { RefCell::new(None) };
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskState {
    /// Pending, not in the run queue.
    Idle,
    /// In the run queue.
    Queued,
    /// Being polled (`Core::running_woken` says whether it was woken
    /// meanwhile and goes back to the queue after the poll).
    Running,
    /// Finished, panicked or aborted. Never queued again.
    Done,
}

/// A simulated machine. Every task belongs to one: the main future and
/// what it spawns run on [`NodeId::MAIN`]; a spawned task inherits its
/// parent's node (a pool job its submitter's), `cx::spawn_on` names one.
/// A crash of a node drops all of its tasks at once (`cx::crash_node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node of the main future.
    pub(crate) const MAIN: NodeId = NodeId(0);
}

/// What a task slot holds: a future the loop polls, or a pool job's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SlotKind {
    /// A spawned future (or the main one): queued at once.
    Future,
    /// A `spawn_blocking` job: never polled, done when the pool delivers.
    Job,
}

/// Work the loop does at the next step boundary, between two polls and
/// outside every borrow of the state.
enum BoundaryWork {
    /// Drop every task of the node (`cx::crash_node`).
    Crash { node: NodeId, reason: String },
    /// Run a callback (`cx::at_step_boundary`).
    Call(Box<dyn FnOnce()>),
}

struct TaskSlot {
    /// The task's future and join slot in one allocation (for a pool job,
    /// the join slot alone); `None` for the main task, whose future lives on
    /// `Sim::run`'s stack and whose output goes straight to the caller.
    /// Polled in place; dropped from here at the end of the run.
    cell: Option<TaskRc<dyn TaskObj>>,
    /// A `spawn_blocking` job's handle (it has no future).
    is_job: bool,
    /// The node the task runs on.
    node: NodeId,
    state: TaskState,
    /// What the task waited on at its last `Pending`.
    waiting_on: WaitOn,
    /// `abort()` was called while the task was running.
    abort_requested: bool,
}

/// What a timer does when it fires.
enum TimerAction {
    /// Wake a sleeping future; `task` is the task that registered it.
    Wake { task: TaskId, waker: Waker },
    /// A pool job's virtual work is over: deliver its result.
    PoolFinish { job: u32 },
}

impl TimerAction {
    fn task(&self, jobs: &[PoolJob]) -> Option<TaskId> {
        match self {
            TimerAction::Wake { task, .. } => Some(*task),
            TimerAction::PoolFinish { job } => jobs.get(*job as usize).map(|job| job.task),
        }
    }
}

/// One non-canonical decision of a run, with enough context to explain it
/// ("at step 7 ran `writer` instead of `reader`").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deviation {
    /// Index of the draw on the tape.
    pub draw: usize,
    /// The step the decision was for (the poll it chose, for schedule draws).
    pub step: u64,
    /// Virtual time of the decision.
    pub time_ns: u64,
    /// What kind of decision.
    pub label: DrawLabel,
    /// The value drawn (nonzero).
    pub value: u64,
    /// How many options there were.
    pub bound: u64,
    /// The task the decision favoured, when it chose between tasks or timers.
    pub chosen: Option<TaskId>,
    /// The task asyncio's own order would have favoured.
    pub canonical: Option<TaskId>,
}

/// A pool job's closure, type-erased: runs the work and returns the
/// delivery of its result, called at the job's finish time.
type JobWork = Box<dyn FnOnce() -> Box<dyn FnOnce()>>;

/// A job for the simulated executor pool (`spawn_blocking`).
struct PoolJob {
    /// The handle's task id (jobs have a lane in the trace).
    task: TaskId,
    /// Runs the closure; returns the delivery of its result.
    work: Option<JobWork>,
    /// Delivers the result into the join slot at finish time.
    deliver: Option<Box<dyn FnOnce()>>,
    worker: Option<u32>,
}

/// Pool-job context while a job's closure runs: `blocking::sleep` spends the
/// job's time, and marks carry the job's time.
#[derive(Clone, Copy)]
struct JobContext {
    task: TaskId,
    start_ns: u64,
    offset_ns: u64,
}

/// A scheduler-aware resource (a sync primitive), for reports.
struct ResourceInfo {
    kind: ResourceKind,
    holder: Option<Arc<HolderCell>>,
}

/// A poll that held the loop at least `Config::slow_poll`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowPoll {
    /// The task polled.
    pub task: TaskId,
    /// Its name.
    pub name: String,
    /// The step of the poll.
    pub step: u64,
    /// Virtual time when the poll started.
    pub start_ns: u64,
    /// How long it held the loop.
    pub held_ns: u64,
}

pub(crate) struct State {
    config: Config,
    tasks: Vec<TaskSlot>,
    runnable: RunQueue,
    chooser: Chooser,
    trace: Trace,
    label_ids: HashMap<String, u32>,
    now_ns: u64,
    step: u64,
    timers: BTreeMap<(u64, u64), TimerAction>,
    timer_sequence: u64,
    deferred: BTreeMap<(u64, u64), Event>,
    deferred_sequence: u64,
    pool_jobs: Vec<PoolJob>,
    pool_queue: VecDeque<u32>,
    pool_busy: Vec<Option<u32>>,
    job_context: Option<JobContext>,
    resources: Vec<ResourceInfo>,
    /// Virtual time the current poll has held the loop (blocking sleeps).
    held_ns: u64,
    slow_polls: Vec<SlowPoll>,
    deviations: Vec<Deviation>,
    /// Record `deviations` this run (replays, or `Config::record_deviations`).
    explain: bool,
    failure: Option<Failure>,
    /// `finish_run`'s list of finished tasks with a join slot (kept for its
    /// buffer).
    finished_joins: Vec<u32>,
    /// Join slots given a panic this run: the end-of-run sweep looks for
    /// unretrieved panics only when there is one.
    panics_delivered: u32,
    /// Something other than a pick must happen before the next poll: a
    /// failure was recorded (`State::fail`), or work waits at the step
    /// boundary. `try_pick` tests this one flag for both, so nodes add no
    /// test to the step.
    attention: bool,
    /// Work for the next step boundary, in request order.
    boundary: VecDeque<BoundaryWork>,
    /// The names of the nodes made this run (`cx::new_node`), by id; the
    /// main node is `main`.
    node_names: Vec<Cow<'static, str>>,
}

/// The shared core of a running simulation.
pub(crate) struct Core {
    pub(crate) state: RefCell<State>,
    run_id: Cell<u64>,
    /// The task being polled (`NOT_RUNNING` between polls) and whether it
    /// woke itself meanwhile: kept outside the state so a self-wake (every
    /// `yield_now`) needs no borrow.
    running: Cell<u32>,
    running_woken: Cell<bool>,
    /// User code runs outside a poll: a pool job's closure, or a destructor
    /// at a node crash (its panics are the run's to report).
    in_user_code: Cell<bool>,
    /// `FOREIGN_WAKE_COUNT` as this run last saw it.
    foreign_seen: Cell<u64>,
}

const NOT_RUNNING: u32 = u32::MAX;

/// The task to poll next, and for a spawned task its cell (the main task's
/// future lives on `Sim::run`'s stack).
type NextTask = (u32, Option<*const dyn TaskObj>);

/// The waker of one task: `(run id << TASK_BITS) | task` as its data word
/// (`raw::task_waker`). `Send + Sync` as the `Waker` contract demands (it is
/// an integer), but a wake from a thread other than the run's, or after the
/// run, is recorded as a determinism failure of that run, never executed.
#[inline(always)]
fn task_waker(run_key: usize, task: u32) -> Waker {
    raw::task_waker(run_key | task as usize)
}

/// What every task waker's `wake` does with its data word.
#[inline]
pub(crate) fn wake_packed(data: usize) {
    let run_key = raw::run_key();
    if run_key != 0 && data & !TASK_MASK == run_key {
        raw::with_current(|core| core.wake((data & TASK_MASK) as u32));
    } else {
        note_foreign_wake((data >> TASK_BITS) as u64);
    }
}

#[cold]
#[inline(never)]
fn note_foreign_wake(run_id: u64) {
    let mut runs = FOREIGN_WAKE_RUNS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !runs.contains(&run_id) {
        if runs.len() >= 1024 {
            // Runs long over: only a run still going checks the list.
            runs.drain(..512);
        }
        runs.push(run_id);
    }
    FOREIGN_WAKE_COUNT.fetch_add(1, Ordering::Release);
}

/// True (once) when a foreign wake for `run_id` was noted.
fn take_foreign_wake(run_id: u64) -> bool {
    let mut runs = FOREIGN_WAKE_RUNS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match runs.iter().position(|run| *run == run_id) {
        Some(position) => {
            runs.swap_remove(position);
            true
        }
        None => false,
    }
}

/// Runs futures deterministically. See the crate docs for a tour.
///
/// A `Sim` may run many futures one after another; each run starts from a
/// clean state (clock at 0, no tasks, a fresh generator from the seed), and
/// allocations are reused.
pub struct Sim {
    core: Rc<Core>,
}

/// What one run produced.
#[derive(Debug)]
pub struct Run<T> {
    /// The main future's output, or why there is none.
    pub result: Result<T, Failure>,
    /// Everything that happened.
    pub trace: Trace,
    /// Every draw: replays this run exactly (`Strategy::Replay`).
    pub tape: Tape,
    /// The seed the run used.
    pub seed: u64,
    /// The strategy the run used.
    pub strategy: Strategy,
    steps: u64,
    elapsed_ns: u64,
    slow_polls: Vec<SlowPoll>,
    deviations: Vec<Deviation>,
}

impl<T> Run<T> {
    /// Virtual time from start to end of the run.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_ns)
    }

    /// Virtual time in nanoseconds.
    pub fn elapsed_ns(&self) -> u64 {
        self.elapsed_ns
    }

    /// How many polls the run made.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The polls that held the loop at least `Config::slow_poll`, in order.
    pub fn slow_polls(&self) -> &[SlowPoll] {
        &self.slow_polls
    }

    /// The scheduling and timer decisions that departed from asyncio's
    /// order, in order, with the tasks involved. (Random-data draws are not
    /// listed: they have no canonical task.)
    ///
    /// Recorded when the run replays a tape — how the harness explains a
    /// failure — or when `Config::record_deviations(true)` is set; empty
    /// otherwise, to keep exploration runs cheap.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    /// True when the main future completed.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }
}

impl Sim {
    /// A simulator with this configuration.
    pub fn new(config: Config) -> Sim {
        install_panic_hook();
        Sim {
            core: Rc::new(Core {
                state: RefCell::new(State {
                    config,
                    tasks: Vec::new(),
                    runnable: RunQueue::default(),
                    chooser: Chooser::new(),
                    // A spare from an earlier run on this thread, if any: a
                    // new `Sim` per run then starts at the size runs reach.
                    trace: Trace::with_capacity(0, 0),
                    label_ids: HashMap::new(),
                    now_ns: 0,
                    step: 0,
                    timers: BTreeMap::new(),
                    timer_sequence: 0,
                    deferred: BTreeMap::new(),
                    deferred_sequence: 0,
                    pool_jobs: Vec::new(),
                    pool_queue: VecDeque::new(),
                    pool_busy: Vec::new(),
                    job_context: None,
                    resources: Vec::new(),
                    held_ns: 0,
                    slow_polls: Vec::new(),
                    deviations: Vec::new(),
                    explain: false,
                    failure: None,
                    finished_joins: Vec::new(),
                    panics_delivered: 0,
                    attention: false,
                    boundary: VecDeque::new(),
                    node_names: Vec::new(),
                }),
                run_id: Cell::new(0),
                running: Cell::new(NOT_RUNNING),
                running_woken: Cell::new(false),
                in_user_code: Cell::new(false),
                foreign_seen: Cell::new(0),
            }),
        }
    }

    /// The configuration, to change between runs.
    pub fn config_mut(&mut self) -> std::cell::RefMut<'_, Config> {
        std::cell::RefMut::map(self.core.state.borrow_mut(), |state| &mut state.config)
    }

    /// Runs `future` as the main task until it completes or the run fails.
    ///
    /// Afterwards no task of the run is left: tasks still pending are dropped
    /// (and named in a `DestroyedPending` warning), pool jobs are discarded.
    ///
    /// ```
    /// use asyncsim_sim::{Config, Sim};
    /// use std::time::Duration;
    ///
    /// let run = Sim::new(Config::new().seed(1)).run(async {
    ///     asyncsim_sim::time::sleep(Duration::from_secs(2)).await;
    ///     "done"
    /// });
    /// assert_eq!(run.elapsed(), Duration::from_secs(2));
    /// assert_eq!(run.result.unwrap(), "done");
    /// ```
    ///
    /// # Panics
    ///
    /// When called from inside another run (simulations do not nest).
    pub fn run<F: Future>(&mut self, future: F) -> Run<F::Output> {
        let result = self.run_to_result(future);
        let mut state = self.core.state.borrow_mut();
        // The next run likely makes as many draws and events: size the
        // fresh buffers to match, so they never grow by copying.
        let draws_hint = state.chooser.tape.len();
        // Every draw stays on the tape, bounds included (exhaustive search
        // needs them); the token leaves out trailing zeros by itself.
        let tape = std::mem::replace(&mut state.chooser.tape, Tape::with_capacity(draws_hint));
        let events_hint = state.trace.events.len();
        let tasks_hint = state.trace.tasks.len();
        let fresh = Trace::with_capacity(events_hint, tasks_hint);
        let trace = std::mem::replace(&mut state.trace, fresh);
        Run {
            result,
            trace,
            tape,
            seed: state.config.seed,
            strategy: state.config.strategy.clone(),
            steps: state.step,
            elapsed_ns: state.now_ns,
            slow_polls: std::mem::take(&mut state.slow_polls),
            deviations: std::mem::take(&mut state.deviations),
        }
    }

    /// [`Sim::run`] for a driver that only looks at a run's result and trace
    /// hash (the harness, for the many runs that pass): the same run, but the
    /// trace and tape stay in the simulator for the next run instead of
    /// being handed over in a [`Run`] (about 5 % of a small body's run).
    #[doc(hidden)]
    pub fn run_outcome<F: Future>(&mut self, future: F) -> RunOutcome<F::Output> {
        let result = self.run_to_result(future);
        let trace_hash = self.core.state.borrow().trace.hash();
        RunOutcome { result, trace_hash }
    }

    /// After [`Sim::run_outcome`]: calls `f` with that run's realised tape
    /// (and its configuration), which stay in the simulator until the next
    /// run. Exhaustive search reads the draws' bounds from it without the
    /// tape being moved out.
    #[doc(hidden)]
    pub fn with_last_run<R>(&self, f: impl FnOnce(&Tape, &Config) -> R) -> R {
        let state = self.core.state.borrow();
        f(&state.chooser.tape, &state.config)
    }

    /// Runs `future` to its end and works out the result; the run's trace
    /// and tape are left in the state.
    fn run_to_result<F: Future>(&mut self, future: F) -> Result<F::Output, Failure> {
        let core = &self.core;
        let run_id = next_run_id();
        core.run_id.set(run_id);
        core.foreign_seen
            .set(FOREIGN_WAKE_COUNT.load(Ordering::Acquire));
        core.reset();

        let run_key = (run_id as usize) << TASK_BITS;
        let _guard = CurrentGuard::enter(core.clone(), run_key);
        // The main task's output comes back here directly; its panics always
        // fail the run, so the executor needs no join slot for it.
        let mut output = None;
        core.add_task(
            None,
            Cow::Borrowed("main"),
            None,
            SlotKind::Future,
            NodeId::MAIN,
        );
        // The main future lives in this block, so it is dropped before the
        // run is finished (its destructors may still use the engine).
        {
            let mut main = std::pin::pin!(future);
            let main_waker = task_waker(run_key, 0);

            let mut next = core.next_task();
            while let Some((task, cell)) = next {
                if task == 0 {
                    let mut context = Context::from_waker(&main_waker);
                    let outcome =
                        panic::catch_unwind(AssertUnwindSafe(|| main.as_mut().poll(&mut context)));
                    next = match outcome {
                        Ok(Poll::Ready(value)) => {
                            output = Some(value);
                            core.end_poll_ready(0);
                            break;
                        }
                        Ok(Poll::Pending) => core.end_poll_pending(0),
                        Err(payload) => {
                            core.end_poll_panic(0, payload);
                            core.next_task()
                        }
                    };
                } else {
                    next = core.poll_spawned(run_key, task, cell);
                }
            }
        }
        // A foreign wake during the last poll counts too.
        if FOREIGN_WAKE_COUNT.load(Ordering::Acquire) != core.foreign_seen.get() {
            core.check_foreign_wakes();
        }
        core.finish_run();

        let mut state = core.state.borrow_mut();
        // A failure recorded during the main task's last poll (a tape
        // divergence, the task limit, a blocking sleep past the time limit)
        // wins over its output: the run did not go as the user asked.
        let mut failure = state.failure.take();
        if failure.is_none() {
            if let Some((index, draw)) = state.chooser.leftover() {
                let message = format!(
                    "tape divergence at draw {index}: the program finished without making draw {index}, which the tape says is a {} draw of value {}; the program changed since the token was recorded (re-run the exploration to get a fresh token)",
                    draw.label, draw.value
                );
                failure = Some(Failure::new(
                    FailureKind::TapeDivergence,
                    message,
                    state.step,
                    state.now_ns,
                ));
            }
        }
        match output {
            Some(output) if failure.is_none() => Ok(output),
            _ => Err(failure.unwrap_or_else(|| {
                Failure::new(
                    FailureKind::Deadlock,
                    "asyncsim bug: the run stopped with neither a result nor a failure".to_string(),
                    state.step,
                    state.now_ns,
                )
            })),
        }
    }
}

/// What [`Sim::run_outcome`] reports: the run's result and its trace hash.
#[doc(hidden)]
#[derive(Debug)]
pub struct RunOutcome<T> {
    /// As [`Run::result`].
    pub result: Result<T, Failure>,
    /// As `Run::trace.hash()`.
    pub trace_hash: u64,
}

impl Default for Sim {
    fn default() -> Sim {
        Sim::new(Config::default())
    }
}

impl Core {
    fn reset(&self) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        state.tasks.clear();
        state.runnable.clear();
        let config = &state.config;
        state.chooser.reset(
            &config.strategy,
            config.seed,
            config.replay_lenient,
            config.replay_sticky,
            config.pct_steps_estimate,
        );
        state.trace.reset();
        state.label_ids.clear();
        state.now_ns = 0;
        state.step = 0;
        // `BTreeMap::clear` costs ~50 instructions even on an empty map.
        if !state.timers.is_empty() {
            state.timers.clear();
        }
        state.timer_sequence = 0;
        if !state.deferred.is_empty() {
            state.deferred.clear();
        }
        state.deferred_sequence = 0;
        state.pool_jobs.clear();
        state.pool_queue.clear();
        state.pool_busy.clear();
        state.pool_busy.resize(state.config.pool_size, None);
        state.job_context = None;
        state.resources.clear();
        state.held_ns = 0;
        state.slow_polls.clear();
        state.deviations.clear();
        state.explain =
            state.config.record_deviations || matches!(state.config.strategy, Strategy::Replay(_));
        state.failure = None;
        state.panics_delivered = 0;
        state.attention = false;
        state.boundary.clear();
        state.node_names.clear();
        state.node_names.push(Cow::Borrowed("main"));
    }

    /// Registers a task and queues its first poll (after everything already
    /// runnable: asyncio's `call_soon`).
    fn add_task(
        &self,
        cell: Option<TaskRc<dyn TaskObj>>,
        name: Cow<'static, str>,
        parent: Option<TaskId>,
        kind: SlotKind,
        node: NodeId,
    ) -> TaskId {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let id = state.tasks.len() as u32;
        let blocking = kind == SlotKind::Job;
        state.tasks.push(TaskSlot {
            cell,
            is_job: blocking,
            node,
            state: if blocking {
                TaskState::Idle
            } else {
                TaskState::Queued
            },
            waiting_on: if blocking {
                WaitOn::PoolJob(0)
            } else {
                WaitOn::Unknown
            },
            abort_requested: false,
        });
        state.trace.tasks.push(TaskInfo {
            name,
            parent,
            blocking,
        });
        state.chooser.task_spawned(id);
        state.record(Some(TaskId(id)), EventKind::Spawn { parent });
        if !blocking {
            state.runnable.push_back(id);
        }
        TaskId(id)
    }

    /// Fires due timers, advances the clock when idle, and draws the next
    /// task. `None` when the run must stop (failure recorded).
    /// Also starts the poll of the task it picks (one borrow for both):
    /// returns the task and, for a spawned task, its cell to poll in place
    /// (the slot keeps its reference until the run ends).
    fn next_task(&self) -> Option<NextTask> {
        if FOREIGN_WAKE_COUNT.load(Ordering::Relaxed) != self.foreign_seen.get() {
            self.check_foreign_wakes();
        }
        loop {
            let mut state = self.state.borrow_mut();
            if let Some(next) = state.try_pick() {
                drop(state);
                return Some(self.started(next));
            }
            // `try_pick` declined: one of these holds, checked in its order.
            if state.attention {
                if state.failure.is_some() {
                    return None;
                }
                drop(state);
                self.run_boundary_work();
                continue;
            }
            if let Some((&(deadline, _), _)) = state.timers.first_key_value() {
                if deadline <= state.now_ns {
                    drop(state);
                    self.fire_due_timers();
                    continue;
                }
            }
            if state.runnable.is_empty() {
                if state.jump_clock() {
                    continue;
                }
                return None;
            }
            if state.step >= state.config.max_steps {
                state.fail_step_limit();
                return None;
            }
            // A tape divergence: `try_pick` recorded the failure.
        }
    }

    #[inline(always)]
    fn started(&self, next: NextTask) -> NextTask {
        self.running.set(next.0);
        self.running_woken.set(false);
        next
    }

    // Out of line: it is large and rare, and inlined it would make every
    // step of `next_task` set up its frame.
    #[inline(never)]
    fn fire_due_timers(&self) {
        let mut due: Vec<(u64, TimerAction)> = Vec::new();
        {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let now = state.now_ns;
            match state.timers.keys().next() {
                Some(key) if key.0 <= now => {}
                _ => return,
            }
            // Group by deadline, earliest first; within a deadline the order
            // is drawn (asyncio's heap gives equal deadlines no order).
            while let Some((&(deadline, _), _)) = state.timers.iter().next() {
                if deadline > now {
                    break;
                }
                let keys: Vec<(u64, u64)> = state
                    .timers
                    .range((deadline, 0)..=(deadline, u64::MAX))
                    .map(|(key, _)| *key)
                    .collect();
                let mut remaining = keys;
                while !remaining.is_empty() {
                    let has_pool = remaining
                        .iter()
                        .any(|key| matches!(state.timers[key], TimerAction::PoolFinish { .. }));
                    let label = if has_pool {
                        DrawLabel::Pool
                    } else {
                        DrawLabel::Timer
                    };
                    let index = state.chooser.draw(label, remaining.len() as u64) as usize;
                    if index != 0 && state.explain {
                        let deviation = Deviation {
                            draw: state.chooser.tape.len() - 1,
                            step: state.step,
                            time_ns: now,
                            label,
                            value: index as u64,
                            bound: remaining.len() as u64,
                            chosen: state.timers[&remaining[index]].task(&state.pool_jobs),
                            canonical: state.timers[&remaining[0]].task(&state.pool_jobs),
                        };
                        state.deviations.push(deviation);
                    }
                    let key = remaining.remove(index);
                    let action = state.timers.remove(&key).expect("timer key vanished");
                    due.push((key.0, action));
                }
                if let Some(divergence) = state.chooser.divergence.take() {
                    state.fail_divergence(divergence);
                    return;
                }
            }
        }
        for (deadline_ns, action) in due {
            match action {
                TimerAction::Wake { task, waker } => {
                    {
                        // The timer's own deadline: the clock is past it
                        // when a blocking sleep held the loop.
                        let mut state = self.state.borrow_mut();
                        state.record(Some(task), EventKind::TimerFire { deadline_ns });
                    }
                    waker.wake();
                }
                TimerAction::PoolFinish { job } => self.finish_pool_job(job),
            }
        }
    }

    // Inlined (one call site): measured −0.4 % instructions a step.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn poll_spawned(
        &self,
        run_key: usize,
        task: u32,
        cell: Option<*const dyn TaskObj>,
    ) -> Option<NextTask> {
        let cell = cell.expect("asyncsim bug: a spawned task polled without its future");
        // Dropping this waker would only call the vtable's no-op.
        let waker = std::mem::ManuallyDrop::new(task_waker(run_key, task));
        let mut context = Context::from_waker(&waker);
        // SAFETY: the pointer is valid: the task's slot owns the cell
        // (a `TaskRc`) and slots are only dropped by `finish_run` and
        // `reset`, outside the run loop. `poll_task`'s contract holds: only
        // this loop polls tasks, and an abort of the running task waits for
        // the poll to end.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            (*cell).poll_task(&mut context)
        }));
        match outcome {
            Ok(Poll::Pending) => self.end_poll_pending(task),
            Ok(Poll::Ready(())) => self.end_poll_ready_and_pick(task),
            Err(payload) => {
                self.end_poll_panic(task, payload);
                self.next_task()
            }
        }
    }

    #[inline(always)]
    fn end_poll_common(&self, state: &mut State, task: u32) {
        self.running.set(NOT_RUNNING);
        // Nothing held the loop in almost every poll: test that first.
        if state.held_ns > 0 {
            Self::end_held_poll(state, task);
        }
    }

    /// A poll that held the loop (blocking sleeps): a slow poll if long
    /// enough; the next poll starts from zero again.
    #[cold]
    #[inline(never)]
    fn end_held_poll(state: &mut State, task: u32) {
        if state.held_ns >= state.config.slow_poll_ns {
            Self::record_slow_poll(state, task);
        }
        state.held_ns = 0;
    }

    fn record_slow_poll(state: &mut State, task: u32) {
        let held_ns = state.held_ns;
        state.record(Some(TaskId(task)), EventKind::SlowPoll { held_ns });
        let name = state.trace.tasks[task as usize].name.to_string();
        let step = state.step;
        state.slow_polls.push(SlowPoll {
            task: TaskId(task),
            name,
            step,
            start_ns: state.now_ns - held_ns,
            held_ns,
        });
    }

    /// The task's last poll returned `Ready`: it is done.
    #[inline(always)]
    fn end_ready_in(&self, state: &mut State, task: u32) {
        self.end_poll_common(state, task);
        state.tasks[task as usize].state = TaskState::Done;
        state.record(Some(TaskId(task)), EventKind::Complete);
    }

    fn end_poll_ready(&self, task: u32) {
        self.end_ready_in(&mut self.state.borrow_mut(), task);
    }

    /// Ends a spawned task's last poll and picks the next task in the same
    /// borrow of the state.
    fn end_poll_ready_and_pick(&self, task: u32) -> Option<NextTask> {
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        self.end_ready_in(state, task);
        if FOREIGN_WAKE_COUNT.load(Ordering::Relaxed) == self.foreign_seen.get() {
            if let Some(next) = state.try_pick() {
                drop(guard);
                return Some(self.started(next));
            }
        }
        drop(guard);
        self.next_task()
    }

    /// Ends a poll that returned `Pending` and picks the next task in the
    /// same borrow of the state (the common step: one borrow between polls).
    #[inline(always)]
    fn end_poll_pending(&self, task: u32) -> Option<NextTask> {
        let woken = self.running_woken.get();
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        self.end_poll_common(state, task);
        let slot = &mut state.tasks[task as usize];
        slot.state = if woken {
            TaskState::Queued
        } else {
            TaskState::Idle
        };
        let abort = std::mem::take(&mut slot.abort_requested);
        // A task that woke itself and named nothing else yielded: the common
        // step, recorded with a constant wait reason.
        let on = if woken && slot.waiting_on == WaitOn::Unknown {
            slot.waiting_on = WaitOn::Yield;
            WaitOn::Yield
        } else {
            slot.waiting_on
        };
        state.trace.record_pending(
            state.step,
            state.now_ns,
            TaskId(task),
            on,
            state.config.trace_events_max,
            state.config.trace_mode,
        );
        if woken {
            state.runnable.push_back(task);
        }
        if !abort && FOREIGN_WAKE_COUNT.load(Ordering::Relaxed) == self.foreign_seen.get() {
            if let Some(next) = state.try_pick() {
                drop(guard);
                return Some(self.started(next));
            }
        }
        drop(guard);
        self.end_poll_pending_slow(abort, task)
    }

    #[cold]
    #[inline(never)]
    fn end_poll_pending_slow(&self, abort: bool, task: u32) -> Option<NextTask> {
        if abort {
            self.abort(TaskId(task));
        }
        self.next_task()
    }

    #[cold]
    #[inline(never)]
    fn end_poll_panic(&self, task: u32, payload: Box<dyn std::any::Any + Send>) {
        let panic = CapturedPanic::take(&*payload);
        let cell = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            self.end_poll_common(state, task);
            let slot = &mut state.tasks[task as usize];
            slot.state = TaskState::Done;
            let cell = slot.cell.clone();
            state.record(Some(TaskId(task)), EventKind::Panic);
            cell
        };
        let name = self.state.borrow().trace.tasks[task as usize]
            .name
            .to_string();
        let observable = task != 0 && cell.as_ref().is_some_and(|cell| cell.handle_alive());
        if observable {
            if let Some(cell) = &cell {
                deliver_panic(
                    &**cell,
                    JoinError::panicked(TaskId(task), name, panic.text()),
                );
            }
        } else {
            let mut state = self.state.borrow_mut();
            let detail = if task == 0 {
                "the main future panicked".to_string()
            } else {
                format!("task `{name}` ({}) panicked", TaskId(task))
            };
            let mut message = format!("{detail} {}", panic.text());
            if task != 0 {
                message.push_str(
                    "\n(its JoinHandle was dropped, so nobody else could observe the panic)",
                );
            }
            let mut failure = Failure::new(FailureKind::Panic, message, state.step, state.now_ns);
            failure.task = Some(TaskId(task));
            failure.task_name = Some(name);
            state.fail(failure);
        }
        // The future is gone already: `raw`'s poll drops it while unwinding.
        drop(cell);
    }

    /// The run reached its task limit: record the failure (the run stops
    /// at the next step). Past the hard limit the task cannot even be made.
    #[cold]
    #[inline(never)]
    fn fail_task_limit(&self, tasks_max: usize) {
        let mut state = self.state.borrow_mut();
        let message = if tasks_max <= TASKS_HARD_LIMIT {
            format!(
                "task limit: the run spawned {tasks_max} tasks (Config::tasks_max); a runaway spawn loop? raise the limit with Config::tasks_max"
            )
        } else {
            format!(
                "task limit: the run spawned {TASKS_HARD_LIMIT} tasks, the most one run can have (Config::tasks_max asks for more); a runaway spawn loop?"
            )
        };
        let failure = Failure::new(
            FailureKind::TaskLimit,
            message.clone(),
            state.step,
            state.now_ns,
        );
        state.fail(failure);
        if state.tasks.len() >= TASKS_HARD_LIMIT {
            drop(state);
            panic!("{message}");
        }
    }

    /// A foreign wake was noted somewhere: fail the run if it was this one's.
    #[cold]
    #[inline(never)]
    fn check_foreign_wakes(&self) {
        self.foreign_seen
            .set(FOREIGN_WAKE_COUNT.load(Ordering::Acquire));
        if take_foreign_wake(self.run_id.get()) {
            self.fail_foreign_wake();
        }
    }

    #[inline]
    pub(crate) fn wake(&self, task: u32) {
        if task == self.running.get() {
            // Only the running task's own code runs during its poll, so this
            // is a self-wake (yield_now): its Pending event will say
            // "yielded"; a wake event would only repeat it.
            self.running_woken.set(true);
            return;
        }
        self.wake_other(task);
    }

    fn wake_other(&self, task: u32) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let by = self.running_task();
        let Some(slot) = state.tasks.get_mut(task as usize) else {
            return;
        };
        match slot.state {
            TaskState::Idle => {
                slot.state = TaskState::Queued;
                state.runnable.push_back(task);
            }
            TaskState::Queued | TaskState::Running | TaskState::Done => return,
        }
        state.record(Some(TaskId(task)), EventKind::Wake { by });
    }

    #[allow(unsafe_code)]
    pub(crate) fn abort(&self, task: TaskId) {
        let mut work = None;
        let cell = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let Some(slot) = state.tasks.get_mut(task.index()) else {
                return;
            };
            match slot.state {
                TaskState::Done => return,
                TaskState::Running => {
                    slot.abort_requested = true;
                    return;
                }
                TaskState::Queued => {
                    state.runnable.remove_task(task.0);
                }
                TaskState::Idle => {}
            }
            let slot = &mut state.tasks[task.index()];
            if slot.is_job {
                // A pool job: only a job still in the queue can be cancelled.
                let Some(position) = state
                    .pool_queue
                    .iter()
                    .position(|job| state.pool_jobs[*job as usize].task == task)
                else {
                    return;
                };
                let job = state
                    .pool_queue
                    .remove(position)
                    .expect("position is in range");
                // The closure is user code: dropped after the borrow.
                work = state.pool_jobs[job as usize].work.take();
            }
            let slot = &mut state.tasks[task.index()];
            slot.state = TaskState::Done;
            let cell = slot.cell.clone();
            state.record(Some(task), EventKind::Abort);
            cell
        };
        drop(work);
        if let Some(cell) = cell {
            // SAFETY: the task is not running (checked above), so its
            // future is not being polled.
            let dropped = unsafe { cell.drop_future() };
            let name = self.state.borrow().trace.tasks[task.index()]
                .name
                .to_string();
            // The handle resolves even when the destructor panicked; the
            // panic then goes on in the aborting task.
            cell.fail(JoinError::cancelled(task, name));
            if let Err(payload) = dropped {
                panic::resume_unwind(payload);
            }
        }
    }

    /// Does the work queued for the step boundary, in order, until none is
    /// left (work may queue more). Runs between two polls, never inside one.
    #[cold]
    #[inline(never)]
    fn run_boundary_work(&self) {
        loop {
            let work = {
                let mut state = self.state.borrow_mut();
                match state.boundary.pop_front() {
                    Some(work) => work,
                    None => {
                        state.attention = state.failure.is_some();
                        return;
                    }
                }
            };
            match work {
                BoundaryWork::Crash { node, reason } => self.crash(node, reason),
                BoundaryWork::Call(call) => {
                    self.in_user_code.set(true);
                    let outcome = panic::catch_unwind(AssertUnwindSafe(call));
                    self.in_user_code.set(false);
                    if let Err(payload) = outcome {
                        let panic = CapturedPanic::take(&*payload);
                        let mut state = self.state.borrow_mut();
                        let message =
                            format!("a callback at a step boundary panicked {}", panic.text());
                        let failure =
                            Failure::new(FailureKind::Panic, message, state.step, state.now_ns);
                        state.fail(failure);
                    }
                }
            }
        }
    }

    /// Crashes `node`: every task of it is dropped (its future's destructor
    /// runs), its timers and its queued or running pool jobs die, and the
    /// handles of its tasks resolve with a crash error. Called at a step
    /// boundary, so none of its tasks is being polled.
    #[allow(unsafe_code)]
    fn crash(&self, node: NodeId, reason: String) {
        // Everything user code may own (futures, wakers, closures, results)
        // leaves the state here and is dropped after the borrow ends.
        let mut victims: Vec<(TaskId, Option<TaskRc<dyn TaskObj>>)> = Vec::new();
        let mut leftovers: Vec<Box<dyn std::any::Any>> = Vec::new();
        let node_name;
        {
            let mut guard = self.state.borrow_mut();
            let state = &mut *guard;
            node_name = state.node_name(node);
            for index in 1..state.tasks.len() {
                let slot = &state.tasks[index];
                if slot.node != node || slot.state == TaskState::Done {
                    continue;
                }
                debug_assert_ne!(
                    slot.state,
                    TaskState::Running,
                    "asyncsim bug: a crash inside a poll"
                );
                let task = TaskId(index as u32);
                if slot.state == TaskState::Queued {
                    state.runnable.remove_task(task.0);
                }
                if slot.is_job {
                    state.kill_job(task, &mut leftovers);
                }
                let slot = &mut state.tasks[index];
                slot.state = TaskState::Done;
                victims.push((task, slot.cell.clone()));
                state.record(Some(task), EventKind::Crash { node: node.0 });
            }
            // Timers the node's tasks registered die with it (their futures'
            // destructors would cancel most of them; a leaked one too).
            let tasks = &state.tasks;
            let doomed: Vec<(u64, u64)> = state
                .timers
                .iter()
                .filter(|(_, action)| match action {
                    TimerAction::Wake { task, .. } => tasks
                        .get(task.index())
                        .is_some_and(|slot| slot.node == node),
                    TimerAction::PoolFinish { .. } => false,
                })
                .map(|(key, _)| *key)
                .collect();
            for key in doomed {
                if let Some(action) = state.timers.remove(&key) {
                    leftovers.push(Box::new(action));
                }
            }
        }
        drop(leftovers);
        let mut first_panic = None;
        for (task, cell) in victims {
            let Some(cell) = cell else { continue };
            self.in_user_code.set(true);
            // SAFETY: at a step boundary no task is being polled.
            let dropped = unsafe { cell.drop_future() };
            self.in_user_code.set(false);
            let name = self.state.borrow().trace.task_name(task).to_string();
            // The handle resolves whatever the destructor did.
            cell.fail(JoinError::crashed(task, name.clone(), node_name.clone()));
            if let Err(payload) = dropped {
                first_panic.get_or_insert((name, CapturedPanic::take(&*payload)));
            }
        }
        if let Some((name, panic)) = first_panic {
            let mut state = self.state.borrow_mut();
            let message = format!(
                "the destructor of task `{name}` panicked when node `{node_name}` crashed ({reason}) {}",
                panic.text()
            );
            let failure = Failure::new(FailureKind::Panic, message, state.step, state.now_ns);
            state.fail(failure);
        }
        // Workers the node's jobs held are free again.
        self.start_pool_jobs();
    }

    fn fail_foreign_wake(&self) {
        let mut state = self.state.borrow_mut();
        let message =
            "a waker of this run was used from another OS thread (or after the run ended): \
            that is nondeterminism asyncsim cannot control; keep all wakes inside the simulation \
            (use asyncsim::spawn_blocking instead of real threads)"
                .to_string();
        let failure = Failure::new(FailureKind::ForeignWake, message, state.step, state.now_ns);
        state.fail(failure);
    }

    /// Ends a run: warns about and drops every task still pending, and warns
    /// about panics nobody retrieved.
    #[allow(unsafe_code)]
    fn finish_run(&self) {
        let (pending, mut joins, mut jobs, timers) = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let mut pending = Vec::new();
            let mut joins = std::mem::take(&mut state.finished_joins);
            joins.clear();
            let panics = state.panics_delivered > 0;
            for index in 1..state.tasks.len() {
                let slot = &mut state.tasks[index];
                if slot.state != TaskState::Done {
                    slot.state = TaskState::Done;
                    if !slot.is_job {
                        pending.extend(slot.cell.clone());
                    }
                    state.record(
                        Some(TaskId(index as u32)),
                        EventKind::Warning(Warning::DestroyedPending),
                    );
                } else if panics && slot.cell.is_some() {
                    joins.push(index as u32);
                }
            }
            // Jobs' closures and results, and timers' wakers, are user
            // code's: dropped after the borrow.
            let jobs = std::mem::take(&mut state.pool_jobs);
            let timers = if state.timers.is_empty() {
                None
            } else {
                Some(std::mem::take(&mut state.timers))
            };
            state.runnable.clear();
            (pending, joins, jobs, timers)
        };
        let mut first_panic = None;
        for cell in pending {
            // SAFETY: no poll runs once the loop has stopped.
            if let Err(payload) = unsafe { cell.drop_future() } {
                first_panic.get_or_insert(payload);
            }
        }
        drop(timers);
        jobs.clear();
        let mut state = self.state.borrow_mut();
        if state.pool_jobs.is_empty() {
            state.pool_jobs = jobs;
        }
        for index in joins.drain(..) {
            let unretrieved = state.tasks[index as usize]
                .cell
                .as_ref()
                .is_some_and(|cell| cell.panic_unretrieved());
            if unretrieved {
                state.record(
                    Some(TaskId(index)),
                    EventKind::Warning(Warning::PanicNotRetrieved),
                );
            }
        }
        state.finished_joins = joins;
        if state.trace.truncated {
            // Past the cap on purpose: the one event that says the cap was hit.
            let event = Event {
                step: state.step,
                time_ns: state.now_ns,
                task: None,
                kind: EventKind::Warning(Warning::TraceTruncated),
            };
            let mode = state.config.trace_mode;
            state.trace.record(event, usize::MAX, mode);
        }
        if !state.deferred.is_empty() {
            state.flush_all_deferred();
        }
        // Handles keep their cells; the engine lets go of every task,
        // outside the borrow (a task's output may have a destructor), and
        // keeps the buffer for the next run.
        let mut tasks = std::mem::take(&mut state.tasks);
        drop(state);
        tasks.clear();
        let mut state = self.state.borrow_mut();
        if state.tasks.is_empty() {
            state.tasks = tasks;
        }
        drop(state);
        // A destructor that panicked at the end of the run is not the run's
        // to report (no task code runs): it goes on as the panic it is,
        // once every other task was dropped too.
        if let Some(payload) = first_panic {
            panic::resume_unwind(payload);
        }
    }

    fn finish_pool_job(&self, job: u32) {
        let deliver = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let entry = &mut state.pool_jobs[job as usize];
            let worker = entry
                .worker
                .expect("asyncsim bug: a finishing job has no worker");
            let task = entry.task;
            let deliver = entry.deliver.take();
            state.pool_busy[worker as usize] = None;
            state.record(Some(task), EventKind::PoolFinish { job, worker });
            state.tasks[task.index()].state = TaskState::Done;
            deliver
        };
        if let Some(deliver) = deliver {
            deliver();
        }
        self.start_pool_jobs();
    }

    /// Starts queued jobs on free workers. A job's closure runs now, all at
    /// once; the virtual time it spends in `blocking::sleep` becomes its
    /// finish time, and its trace events are released as the clock passes them.
    fn start_pool_jobs(&self) {
        loop {
            let (job, work, context) = {
                let mut state = self.state.borrow_mut();
                let state = &mut *state;
                let Some(worker) = state.pool_busy.iter().position(Option::is_none) else {
                    return;
                };
                let Some(job) = state.pool_queue.pop_front() else {
                    return;
                };
                state.pool_busy[worker] = Some(job);
                let entry = &mut state.pool_jobs[job as usize];
                entry.worker = Some(worker as u32);
                let task = entry.task;
                let work = entry
                    .work
                    .take()
                    .expect("asyncsim bug: a queued job has no work");
                state.record(
                    Some(task),
                    EventKind::PoolStart {
                        job,
                        worker: worker as u32,
                    },
                );
                let context = JobContext {
                    task,
                    start_ns: state.now_ns,
                    offset_ns: 0,
                };
                let outer = state.job_context.replace(context);
                assert!(
                    outer.is_none(),
                    "spawn_blocking jobs cannot start other jobs synchronously"
                );
                (job, work, context)
            };
            let _ = context;
            self.in_user_code.set(true);
            let deliver = work();
            self.in_user_code.set(false);
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let context = state.job_context.take().expect("job context vanished");
            state.pool_jobs[job as usize].deliver = Some(deliver);
            let finish = context.start_ns.saturating_add(context.offset_ns);
            let sequence = state.next_timer_sequence();
            state
                .timers
                .insert((finish, sequence), TimerAction::PoolFinish { job });
        }
    }
}

impl State {
    /// Records the run's failure (the first one wins); the loop stops at the
    /// next step boundary.
    pub(crate) fn fail(&mut self, failure: Failure) {
        self.failure.get_or_insert(failure);
        self.attention = true;
    }

    /// Queues work for the next step boundary.
    fn at_boundary(&mut self, work: BoundaryWork) {
        self.boundary.push_back(work);
        self.attention = true;
    }

    /// The common case of picking the next task: nothing needs attention
    /// (no failure, no boundary work), no timer due, something runnable,
    /// under the step limit. Draws the task and starts its poll; `None`
    /// leaves the rest to `Core::next_task`, which checks the same
    /// conditions in the same order.
    #[inline(always)]
    fn try_pick(&mut self) -> Option<NextTask> {
        if self.attention {
            return None;
        }
        if let Some((&(deadline, _), _)) = self.timers.first_key_value() {
            if deadline <= self.now_ns {
                return None;
            }
        }
        if self.runnable.is_empty() || self.step >= self.config.max_steps {
            return None;
        }
        let step = self.step;
        let position = self.chooser.pick_task(self.runnable.as_slice(), step);
        if self.chooser.divergence.is_some() {
            self.fail_pending_divergence();
            return None;
        }
        // One branch, on `explain` only: the compiler tested the drawn
        // position first, a branch a random draw mispredicts.
        if self.explain {
            self.note_schedule_deviation(position, step);
        }
        let task = self.runnable.remove(position);
        Some((task, self.begin_poll(task)))
    }

    /// Marks `task` running and records the poll; for a spawned task,
    /// returns its cell to poll in place (the main task's future lives on
    /// `Sim::run`'s stack).
    #[inline(always)]
    fn begin_poll(&mut self, task: u32) -> Option<*const dyn TaskObj> {
        let state = self;
        state.step += 1;
        debug_assert_eq!(state.held_ns, 0, "asyncsim bug: held time left from a poll");
        let slot = &mut state.tasks[task as usize];
        debug_assert_eq!(
            slot.state,
            TaskState::Queued,
            "asyncsim bug: polling a task that was not queued"
        );
        slot.state = TaskState::Running;
        slot.waiting_on = WaitOn::Unknown;
        let cell = slot.cell.as_ref().map(TaskRc::as_ptr);
        state.trace.record_poll(
            state.step,
            state.now_ns,
            TaskId(task),
            state.config.trace_events_max,
            state.config.trace_mode,
        );
        cell
    }

    /// Nothing is runnable: jumps the clock to the next timer or deferred
    /// event. False when the run must stop (deadlock or time limit
    /// recorded).
    #[cold]
    #[inline(never)]
    fn jump_clock(&mut self) -> bool {
        let next_timer = self.timers.keys().next().map(|key| key.0);
        let next_deferred = self.deferred.keys().next().map(|key| key.0);
        let next = match (next_timer, next_deferred) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => {
                self.fail_deadlock();
                return false;
            }
        };
        if next > self.config.time_limit_ns {
            self.fail_time_limit(next);
            return false;
        }
        debug_assert!(
            next >= self.now_ns,
            "asyncsim bug: a timer is in the past while idle"
        );
        let from_ns = self.now_ns;
        self.now_ns = next;
        self.record(None, EventKind::ClockJump { from_ns });
        self.flush_deferred();
        true
    }

    /// Lists a non-FIFO scheduling draw (only when explaining the run).
    #[cold]
    #[inline(never)]
    fn note_schedule_deviation(&mut self, position: usize, step: u64) {
        if position == 0 {
            return;
        }
        let deviation = Deviation {
            draw: self.chooser.tape.len() - 1,
            step: step + 1,
            time_ns: self.now_ns,
            label: DrawLabel::Schedule,
            value: position as u64,
            bound: self.runnable.len() as u64,
            chosen: Some(TaskId(self.runnable.as_slice()[position])),
            canonical: Some(TaskId(self.runnable.as_slice()[0])),
        };
        self.deviations.push(deviation);
    }

    #[inline]
    pub(crate) fn record(&mut self, task: Option<TaskId>, kind: EventKind) {
        let event = Event {
            step: self.step,
            time_ns: self.now_ns,
            task,
            kind,
        };
        self.trace
            .record(event, self.config.trace_events_max, self.config.trace_mode);
    }

    /// Records an event at a pool job's own time, deferring it until the
    /// clock gets there.
    fn record_at(&mut self, time_ns: u64, task: Option<TaskId>, kind: EventKind) {
        if time_ns <= self.now_ns {
            self.record(task, kind);
            return;
        }
        let event = Event {
            step: self.step,
            time_ns,
            task,
            kind,
        };
        self.deferred_sequence += 1;
        self.deferred
            .insert((time_ns, self.deferred_sequence), event);
    }

    fn flush_deferred(&mut self) {
        while let Some(entry) = self.deferred.first_entry() {
            if entry.key().0 > self.now_ns {
                return;
            }
            let mut event = entry.remove();
            event.step = self.step;
            self.trace
                .record(event, self.config.trace_events_max, self.config.trace_mode);
        }
    }

    fn flush_all_deferred(&mut self) {
        while let Some((_, event)) = self.deferred.pop_first() {
            self.trace
                .record(event, self.config.trace_events_max, self.config.trace_mode);
        }
    }

    /// The node of `task` (the main node for none, or outside the run).
    fn node_of(&self, task: Option<TaskId>) -> NodeId {
        task.and_then(|task| self.tasks.get(task.index()))
            .map_or(NodeId::MAIN, |slot| slot.node)
    }

    /// A node's name for messages: as `cx::new_node` named it, else `node-<id>`.
    fn node_name(&self, node: NodeId) -> String {
        match self.node_names.get(node.0 as usize) {
            Some(name) => name.to_string(),
            None => format!("node-{}", node.0),
        }
    }

    /// Kills a crashed node's pool job: out of the queue if it waits there,
    /// its worker freed and its finish cancelled if it runs, its deferred
    /// events gone. What user code owns goes to `leftovers`, to be dropped
    /// after the borrow.
    fn kill_job(&mut self, task: TaskId, leftovers: &mut Vec<Box<dyn std::any::Any>>) {
        let Some(job) = self.pool_jobs.iter().position(|job| job.task == task) else {
            return;
        };
        if let Some(position) = self
            .pool_queue
            .iter()
            .position(|queued| *queued as usize == job)
        {
            self.pool_queue.remove(position);
        }
        let entry = &mut self.pool_jobs[job];
        if let Some(work) = entry.work.take() {
            leftovers.push(Box::new(work));
        }
        if let Some(deliver) = entry.deliver.take() {
            leftovers.push(Box::new(deliver));
        }
        if let Some(worker) = entry.worker.take() {
            if self.pool_busy[worker as usize] == Some(job as u32) {
                self.pool_busy[worker as usize] = None;
            }
            let finish = self
                .timers
                .iter()
                .find(|(_, action)| {
                    matches!(action, TimerAction::PoolFinish { job: finishing } if *finishing as usize == job)
                })
                .map(|(key, _)| *key);
            if let Some(action) = finish.and_then(|key| self.timers.remove(&key)) {
                leftovers.push(Box::new(action));
            }
        }
        self.deferred.retain(|_, event| event.task != Some(task));
    }

    fn next_timer_sequence(&mut self) -> u64 {
        self.timer_sequence += 1;
        self.timer_sequence
    }

    fn describe_wait(&self, on: WaitOn) -> String {
        let text = self.trace.describe_wait(on);
        match on {
            WaitOn::Resource(_, id) => {
                match self.resources.get(id as usize).and_then(|info| info.held()) {
                    Some(holder) => format!("{text} held by `{}`", self.trace.task_name(holder)),
                    None => text,
                }
            }
            WaitOn::Unknown => format!(
                "{text} (not an asyncsim primitive; the engine cannot see what it waits for)"
            ),
            _ => text,
        }
    }

    fn blocked_tasks(&self) -> Vec<BlockedTask> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.state != TaskState::Done)
            .map(|(index, slot)| BlockedTask {
                task: TaskId(index as u32),
                name: self.trace.tasks[index].name.to_string(),
                waiting_on: self.describe_wait(slot.waiting_on),
                wait: slot.waiting_on,
            })
            .collect()
    }

    fn fail_deadlock(&mut self) {
        let blocked = self.blocked_tasks();
        let names: Vec<String> = blocked
            .iter()
            .map(|task| format!("`{}`", task.name))
            .collect();
        let message = format!(
            "deadlock: the main future is pending, no task is runnable, and no timer or pool job is left to wake one; blocked: {}",
            names.join(", ")
        );
        let mut failure = Failure::new(FailureKind::Deadlock, message, self.step, self.now_ns);
        failure.blocked = blocked;
        self.fail(failure);
    }

    fn fail_time_limit(&mut self, next_ns: u64) {
        let message = format!(
            "virtual-time limit: the next timer is at {}, past Config::time_limit ({}); a task may be looping on sleep or interval (raise the limit with Config::time_limit if the program really runs that long)",
            format_ns(next_ns),
            format_ns(self.config.time_limit_ns)
        );
        let mut failure = Failure::new(FailureKind::TimeLimit, message, self.step, self.now_ns);
        failure.blocked = self.blocked_tasks();
        self.fail(failure);
    }

    fn fail_step_limit(&mut self) {
        let runnable: Vec<String> = self
            .runnable
            .as_slice()
            .iter()
            .map(|task| format!("`{}`", self.trace.tasks[*task as usize].name))
            .collect();
        let message = format!(
            "step limit: the run made {} polls (Config::max_steps) without finishing; still runnable: {} (a livelock or a busy loop on yield_now? raise the limit with Config::max_steps if the program really is that long)",
            self.config.max_steps,
            runnable.join(", ")
        );
        let mut failure = Failure::new(FailureKind::StepLimit, message, self.step, self.now_ns);
        failure.blocked = self.blocked_tasks();
        self.fail(failure);
    }

    /// `fail_divergence` for the divergence the chooser noted (the check
    /// for one stays a compare on the hot path).
    #[cold]
    #[inline(never)]
    fn fail_pending_divergence(&mut self) {
        if let Some(divergence) = self.chooser.divergence.take() {
            self.fail_divergence(divergence);
        }
    }

    fn fail_divergence(&mut self, divergence: crate::strategy::Divergence) {
        let expected = divergence.expected;
        let range = if divergence.bound == 0 {
            "any u64".to_string()
        } else {
            format!("0..{}", divergence.bound)
        };
        let message = format!(
            "tape divergence at draw {}: the tape says a {} draw of value {}, but the program now makes a {} draw in {}; the program changed since the token was recorded (re-run the exploration to get a fresh token)",
            divergence.index, expected.label, expected.value, divergence.label, range
        );
        let failure = Failure::new(FailureKind::TapeDivergence, message, self.step, self.now_ns);
        self.fail(failure);
    }
}

/// A panic's message and location, as the hook saw it.
struct CapturedPanic {
    message: String,
    location: Option<String>,
}

impl CapturedPanic {
    /// The panic the hook captured on this thread, or one made from the
    /// payload alone (a panic hook installed after ours hid it).
    fn take(payload: &(dyn std::any::Any + Send)) -> CapturedPanic {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| CapturedPanic {
                message: panic_message(payload),
                location: None,
            })
    }

    /// `at src/lib.rs:12: the message`, to follow "… panicked".
    fn text(&self) -> String {
        match &self.location {
            Some(location) => format!("at {location}: {}", self.message),
            None => format!("with: {}", self.message),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Installs (once per process) a panic hook that, inside a run, captures the
/// message and location for the failure report instead of printing it; the
/// previous hook still handles panics outside runs.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // Only panics of task code (a poll, a pool job) are the run's to
            // report; any other panic inside a run is printed as usual.
            let in_task_code = raw::with_current(|core| {
                core.running.get() != NOT_RUNNING || core.in_user_code.get()
            });
            if in_task_code == Some(true) {
                let captured = CapturedPanic {
                    message: panic_message(info.payload()),
                    location: info
                        .location()
                        .map(|location| format!("{}:{}", location.file(), location.line())),
                };
                let _ = LAST_PANIC.try_with(|last| *last.borrow_mut() = Some(captured));
            } else {
                previous(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------
// Entry points used by the rest of the crate (task code calls these).
// ---------------------------------------------------------------------------

/// Runs `f` with the current core, or panics with a message naming `what`.
#[inline]
pub(crate) fn with_core<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    match raw::with_current(f) {
        Some(result) => result,
        None => outside_a_run(what),
    }
}

#[cold]
#[inline(never)]
fn outside_a_run(what: &str) -> ! {
    panic!(
        "{what} was called outside a simulation: call it inside the future passed to Sim::run (or asyncsim::check)"
    )
}

/// Runs `f` with the current core if there is one.
#[inline]
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    raw::with_current(f)
}

/// The id of the run in progress on this thread, if any.
#[inline]
pub(crate) fn current_run_id() -> Option<u64> {
    try_with_core(|core| core.run_id.get())
}

/// Resolves a join slot with its task's panic, and counts it for the
/// end-of-run sweep (which looks for unretrieved panics only when a slot
/// got one).
fn deliver_panic(slot: &dyn JoinSlotAny, error: JoinError) {
    try_with_core(|core| core.state.borrow_mut().panics_delivered += 1);
    slot.fail(error);
}

/// Spawns a future as a new task of the current run.
pub(crate) fn spawn_task<F>(future: F, name: Option<String>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_task_on(None, future, name)
}

/// Spawns a future as a new task of the current run on `node`.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn spawn_on<F>(node: NodeId, future: F, name: Option<String>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_task_on(Some(node), future, name)
}

/// Spawns on `node`, or on the spawning task's node.
fn spawn_task_on<F>(node: Option<NodeId>, future: F, name: Option<String>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    with_core("asyncsim::spawn", |core| {
        let (id, parent, node) = core.claim_task(node);
        let cell = TaskRc::new(TaskCell::new(future, TaskId(id), core.run_id.get()));
        let name = name.map_or_else(|| default_task_name(id), Cow::Owned);
        let task = core.add_task(
            Some(cell.clone().into_task_obj()),
            name,
            parent,
            SlotKind::Future,
            node,
        );
        debug_assert_eq!(task.0, id);
        JoinHandle::new(cell.into_join_ref())
    })
}

/// Queues a closure on the simulated executor pool.
pub(crate) fn spawn_blocking_job<F, R>(work: F, name: Option<String>) -> JoinHandle<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    with_core("asyncsim::spawn_blocking", |core| {
        assert!(
            core.state.borrow().job_context.is_none(),
            "asyncsim::spawn_blocking was called inside a spawn_blocking job; submit the work from async code instead"
        );
        let (id, parent, node) = core.claim_task(None);
        let slot = TaskRc::new(JoinSlot::new(TaskId(id), core.run_id.get()));
        let name: Cow<'static, str> =
            name.map_or_else(|| Cow::Owned(format!("blocking-{id}")), Cow::Owned);
        let task = core.add_task(
            Some(slot.clone().into_task_obj()),
            name,
            parent,
            SlotKind::Job,
            node,
        );
        let writer = slot.clone();
        let job_work: JobWork = Box::new(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(work));
            let result: Result<R, String> =
                outcome.map_err(|payload| CapturedPanic::take(&*payload).text());
            Box::new(move || match result {
                Ok(value) => writer.complete(Ok(value)),
                Err(message) => {
                    let name =
                        try_with_core(|core| core.state.borrow().trace.task_name(task).to_string())
                            .unwrap_or_default();
                    if writer.handle_alive() {
                        deliver_panic(&*writer, JoinError::panicked(task, name, message));
                    } else {
                        try_with_core(|core| {
                            let mut state = core.state.borrow_mut();
                            state.record(Some(task), EventKind::Panic);
                            let mut failure = Failure::new(
                                FailureKind::Panic,
                                format!("pool job `{name}` panicked {message} (and its JoinHandle was dropped, so nobody can observe it)"),
                                state.step,
                                state.now_ns,
                            );
                            failure.task = Some(task);
                            failure.task_name = Some(name);
                            state.fail(failure);
                        });
                    }
                }
            })
        });
        {
            let mut state = core.state.borrow_mut();
            let job = state.pool_jobs.len() as u32;
            state.pool_jobs.push(PoolJob {
                task,
                work: Some(job_work),
                deliver: None,
                worker: None,
            });
            state.pool_queue.push_back(job);
            state.tasks[task.index()].waiting_on = WaitOn::PoolJob(job);
            state.record(Some(task), EventKind::PoolQueue { job });
        }
        core.start_pool_jobs();
        JoinHandle::new(slot.into_join_ref())
    })
}

/// Blocks the current task (or pool job) for `duration` of virtual time.
pub(crate) fn blocking_sleep(duration: Duration) {
    let duration_ns = crate::config::duration_to_ns(duration);
    with_core("asyncsim::blocking::sleep", |core| {
        let mut state = core.state.borrow_mut();
        let state = &mut *state;
        if let Some(mut job) = state.job_context {
            let at = job.start_ns + job.offset_ns;
            state.record_at(at, Some(job.task), EventKind::BlockingSleep { duration_ns });
            job.offset_ns = job.offset_ns.saturating_add(duration_ns);
            state.job_context = Some(job);
            return;
        }
        let task = core.running_task();
        state.record(task, EventKind::BlockingSleep { duration_ns });
        state.now_ns = state.now_ns.saturating_add(duration_ns);
        state.held_ns = state.held_ns.saturating_add(duration_ns);
        state.flush_deferred();
        if state.now_ns > state.config.time_limit_ns {
            let limit = state.now_ns;
            state.fail_time_limit(limit);
        }
    });
}

/// Records a user mark.
pub(crate) fn mark(label: &str) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        let state = &mut *state;
        let id = match state.label_ids.get(label) {
            Some(id) => *id,
            None => {
                let id = state.trace.intern_label(label);
                state.label_ids.insert(label.to_string(), id);
                id
            }
        };
        match state.job_context {
            Some(job) => state.record_at(
                job.start_ns + job.offset_ns,
                Some(job.task),
                EventKind::Mark { label: id },
            ),
            None => {
                let task = core.running_task();
                state.record(task, EventKind::Mark { label: id });
            }
        }
    });
}

/// The marks recorded so far in the current run.
pub(crate) fn marks_so_far() -> Vec<String> {
    with_core("asyncsim::trace::marks_so_far", |core| {
        core.state.borrow().trace.marks_so_far()
    })
}

/// The slow polls recorded so far in the current run.
pub(crate) fn slow_polls_so_far() -> Vec<SlowPoll> {
    with_core("asyncsim::blocking::slow_polls_so_far", |core| {
        core.state.borrow().slow_polls.clone()
    })
}

/// The virtual time now (a pool job sees its own time).
pub(crate) fn now_ns(what: &str) -> u64 {
    with_core(what, |core| {
        let state = core.state.borrow();
        match state.job_context {
            Some(job) => job.start_ns + job.offset_ns,
            None => state.now_ns,
        }
    })
}

/// Registers a timer waking `waker` at `deadline_ns`; returns its key.
pub(crate) fn register_timer(deadline_ns: u64, waker: Waker) -> (u64, u64) {
    with_core("asyncsim::time::sleep", |core| {
        let mut state = core.state.borrow_mut();
        let task = core.running_task().unwrap_or(TaskId::MAIN);
        let sequence = state.next_timer_sequence();
        state
            .timers
            .insert((deadline_ns, sequence), TimerAction::Wake { task, waker });
        state.record(Some(task), EventKind::TimerSet { deadline_ns });
        if let Some(slot) = state.tasks.get_mut(task.index()) {
            slot.waiting_on = WaitOn::Timer { deadline_ns };
        }
        (deadline_ns, sequence)
    })
}

/// Replaces the waker of a registered timer (the future moved between tasks
/// or combinators). Returns false when the timer already fired.
pub(crate) fn update_timer(key: (u64, u64), waker: &Waker) -> bool {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        let current = core.running_task();
        if let Some(slot) = current.and_then(|task| state.tasks.get_mut(task.index())) {
            slot.waiting_on = WaitOn::Timer { deadline_ns: key.0 };
        }
        match state.timers.get_mut(&key) {
            Some(TimerAction::Wake { waker: stored, .. }) => {
                if !stored.will_wake(waker) {
                    *stored = waker.clone();
                }
                true
            }
            _ => false,
        }
    })
    .unwrap_or(false)
}

/// Cancels a timer (its future was dropped).
pub(crate) fn cancel_timer(key: (u64, u64)) {
    try_with_core(|core| {
        // A destructor may run while the state is borrowed (never in our
        // code paths, but be safe): skip rather than panic.
        if let Ok(mut state) = core.state.try_borrow_mut() {
            state.timers.remove(&key);
        }
    });
}

/// Records what the current task is about to wait on (call before returning
/// `Pending`).
#[inline]
pub(crate) fn set_waiting_on(on: WaitOn) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        if let Some(task) = core.running_task() {
            state.tasks[task.index()].waiting_on = on;
        }
    });
}

/// The running task, if a task is being polled.
#[inline]
pub(crate) fn current_task() -> Option<TaskId> {
    try_with_core(Core::running_task).flatten()
}

/// The id of the run in progress and the task being polled, in one look at
/// the thread's run and no borrow of its state.
#[inline]
pub(crate) fn current_run_and_task() -> Option<(u64, Option<TaskId>)> {
    try_with_core(|core| (core.run_id.get(), core.running_task()))
}

/// The name of a task of the current run.
pub(crate) fn task_name(task: TaskId) -> Option<String> {
    try_with_core(|core| core.state.borrow().trace.task_name(task).to_string())
}

/// Aborts a task of the current run.
pub(crate) fn abort_task(task: TaskId) {
    try_with_core(|core| core.abort(task));
}

/// Makes one non-scheduling draw.
pub(crate) fn draw(label: DrawLabel, bound: u64, what: &str) -> u64 {
    with_core(what, |core| {
        let mut state = core.state.borrow_mut();
        let value = state.chooser.draw(label, bound);
        if let Some(divergence) = state.chooser.divergence.take() {
            state.fail_divergence(divergence);
        }
        value
    })
}

/// A weighted draw (see `Chooser::draw_weighted`); with
/// `Config::faults(false)`, always 0 and no draw is made.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn draw_weighted(
    label: DrawLabel,
    bound: u64,
    nonzero_probability: f64,
    what: &str,
) -> u64 {
    with_core(what, |core| {
        let mut state = core.state.borrow_mut();
        if !state.config.faults {
            return 0;
        }
        let value = state
            .chooser
            .draw_weighted(label, bound, nonzero_probability);
        if let Some(divergence) = state.chooser.divergence.take() {
            state.fail_divergence(divergence);
        }
        value
    })
}

/// The node of the running task (or of the pool job whose closure runs);
/// the main node outside tasks and outside runs.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn current_node() -> NodeId {
    try_with_core(|core| {
        let state = core.state.borrow();
        let task = core
            .running_task()
            .or(state.job_context.map(|job| job.task));
        state.node_of(task)
    })
    .unwrap_or(NodeId::MAIN)
}

/// Makes a node for this run, named for messages ("node `name` crashed").
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn new_node(name: &str) -> NodeId {
    with_core("asyncsim::node", |core| {
        let mut state = core.state.borrow_mut();
        let node = NodeId(state.node_names.len() as u32);
        state.node_names.push(Cow::Owned(name.to_string()));
        node
    })
}

/// Crashes `node` at the next step boundary (never inside a poll): every
/// task of it is dropped, its timers and pool jobs die, and the handles of
/// its tasks resolve with a `JoinError` that names the crash.
///
/// # Panics
///
/// For the main node (the main future cannot be dropped under the caller).
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn crash_node(node: NodeId, reason: String) {
    assert!(
        node != NodeId::MAIN,
        "the main node cannot crash: the main future runs on it (crash another node)"
    );
    with_core("asyncsim::crash", |core| {
        core.state
            .borrow_mut()
            .at_boundary(BoundaryWork::Crash { node, reason });
    });
}

/// Runs `call` at the next step boundary: after the poll in progress (or
/// before the next one), outside every borrow of the run's state, with no
/// task running. Calls run in request order.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn at_step_boundary(call: Box<dyn FnOnce()>) {
    with_core("asyncsim::at_step_boundary", |core| {
        core.state
            .borrow_mut()
            .at_boundary(BoundaryWork::Call(call));
    });
}

/// Records a trace event for the running task (or pool job, at its own
/// time); for no task outside tasks.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn record(kind: EventKind) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        match state.job_context {
            Some(job) => state.record_at(job.start_ns + job.offset_ns, Some(job.task), kind),
            None => {
                let task = core.running_task();
                state.record(task, kind);
            }
        }
    });
}

/// Registers a sync primitive; returns its per-run id.
pub(crate) fn register_resource(kind: ResourceKind) -> Option<u32> {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        let id = state.resources.len() as u32;
        state.resources.push(ResourceInfo { kind, holder: None });
        id
    })
}

/// A mutex-like resource's holder, shared between the primitive, which
/// keeps it up to date (a store, no call into the engine), and the run,
/// which reads it only when a report renders a wait on the resource.
///
/// An atomic only so that the primitive stays `Send`: it is written and
/// read on the run's thread alone, so `Relaxed` is enough.
#[derive(Debug)]
pub(crate) struct HolderCell(AtomicU32);

impl HolderCell {
    /// No task (task ids stay far below it: `TASKS_HARD_LIMIT`).
    const NONE: u32 = u32::MAX;

    pub(crate) fn new(holder: Option<TaskId>) -> HolderCell {
        HolderCell(AtomicU32::new(HolderCell::encode(holder)))
    }

    #[inline]
    pub(crate) fn set(&self, holder: Option<TaskId>) {
        self.0.store(HolderCell::encode(holder), Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Option<TaskId> {
        match self.0.load(Ordering::Relaxed) {
            HolderCell::NONE => None,
            task => Some(TaskId(task)),
        }
    }

    #[inline]
    fn encode(holder: Option<TaskId>) -> u32 {
        holder.map_or(HolderCell::NONE, |task| task.0)
    }
}

/// Shares a resource's holder cell with the run: from now on its reports
/// name whoever the cell names (until then they name no holder).
pub(crate) fn share_resource_holder(id: u32, holder: Arc<HolderCell>) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        if let Some(info) = state.resources.get_mut(id as usize) {
            debug_assert!(
                matches!(info.kind, ResourceKind::Mutex | ResourceKind::Other),
                "asyncsim bug: only mutex-like resources have a holder"
            );
            info.holder = Some(holder);
        }
    });
}

impl ResourceInfo {
    /// Who holds the resource now, if it is mutex-like and shared its
    /// holder.
    fn held(&self) -> Option<TaskId> {
        self.holder.as_ref().and_then(|holder| holder.get())
    }
}

impl Core {
    /// The id the next task gets, its parent (the running task, or the pool
    /// job whose closure runs) and its node (`node`, or the parent's). At
    /// the task limit the run fails (and past the hard limit this panics).
    fn claim_task(&self, node: Option<NodeId>) -> (u32, Option<TaskId>, NodeId) {
        let (id, parent, node, tasks_max) = {
            let state = self.state.borrow();
            let parent = self
                .running_task()
                .or(state.job_context.map(|job| job.task));
            let node = node.unwrap_or_else(|| state.node_of(parent));
            (state.tasks.len(), parent, node, state.config.tasks_max)
        };
        if id >= tasks_max.min(TASKS_HARD_LIMIT) {
            self.fail_task_limit(tasks_max);
        }
        (id as u32, parent, node)
    }

    /// The task being polled, if any (read without a borrow of the state).
    #[inline]
    fn running_task(&self) -> Option<TaskId> {
        let running = self.running.get();
        (running != NOT_RUNNING).then_some(TaskId(running))
    }
}

/// `task-<id>`: for the first ids a shared static string (built once per
/// process, so an unnamed spawn allocates no name), beyond them a fresh one.
fn default_task_name(id: u32) -> Cow<'static, str> {
    const SHARED: usize = 1024;
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    match NAMES
        .get_or_init(|| (0..SHARED).map(|id| format!("task-{id}")).collect())
        .get(id as usize)
    {
        Some(name) => Cow::Borrowed(name.as_str()),
        None => Cow::Owned(format!("task-{id}")),
    }
}
