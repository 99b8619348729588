//! The kernel: one thread, one run queue, one virtual clock; the only code
//! that mutates a run's state.
//!
//! # Data structures
//!
//! A run's state lives in one [`State`] behind a `RefCell` (its fields are
//! private to this module and its files), reached from task code through
//! the thread's current [`Core`] (`wakers::CORE`, set by
//! `raw::run_as_current`); the running task and whether it woke itself are
//! `Cell`s on the core, so a self-wake needs no borrow. The state is never
//! borrowed while user code runs (a poll, a pool job, a destructor), so user
//! code may call back into the engine (`spawn`, `mark`, `sleep`, wake)
//! freely.
//!
//! - `tasks` (`slots.rs`): one slot per task, indexed by [`TaskId`]; a slot
//!   holds the task's owner (its future and join slot in one allocation,
//!   polled in place; see `raw`), its state, what it waits on and its node.
//!   A task's waker is not stored anywhere: it is the integer `(run id, task
//!   index)`, made when needed (`wakers.rs`).
//! - `runnable` (`run_queue.rs`): the tasks ready to poll, oldest first. A
//!   draw of `k` polls the `k`-th entry, so 0 is asyncio's FIFO `call_soon`
//!   order.
//! - `clock` (`crate::clock`): virtual now and the timers, keyed by
//!   `(deadline_ns, sequence)`; they hold sleeping tasks' wakers and the
//!   pool's job completions. Their order is fully determined by the key,
//!   never by addresses.
//! - `pool` (`crate::pool`): pool jobs, workers, and the trace events jobs
//!   made at virtual times the loop has not reached yet (released into the
//!   trace as the clock passes them, so the trace stays in time order).
//! - `boundary` (`boundary.rs`): work for the next step boundary (node
//!   crashes, callbacks), with `attention` the one flag the step tests for
//!   it and for a failure.
//!
//! # One step (`step.rs`)
//!
//! Do the boundary work; fire the timers that are due; if nothing is
//! runnable, jump the clock to the next timer (or report a deadlock); draw a
//! runnable task; poll it once; record what happened. `step::Next` says
//! which, in that order.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use crate::clock::Clock;
use crate::config::Config;
use crate::failure::{Failure, FailureKind};
use crate::pool::Pool;
use crate::raw;
use crate::sched::{Chooser, ReplayRules, Strategy};
use crate::tape::Tape;
use crate::trace::Trace;
use crate::watchdog::{self, Beacon};

mod boundary;
mod budget;
mod failure;
mod handle;
mod jobs;
mod join;
mod labels;
mod panic;
mod resources;
mod run;
mod run_queue;
mod slots;
mod step;
mod wakers;

use boundary::*;
pub(crate) use budget::{
    budget, has_budget, now_in_run_checking, poll_proceed, poll_proceed_from, set_budget,
    spend_on_completion, BudgetSpent, UNCONSTRAINED,
};
pub(crate) use handle::*;
pub use join::{AbortHandle, JoinError, JoinHandle};
use join::{JoinSlot, JoinSlotAny, JoinSlotRef};
use panic::*;
pub use panic::{set_panic_explainer, PanicExplainer};
pub(crate) use resources::HolderCell;
use resources::*;
pub use run::{Deviation, Run, RunOutcome, SlowPoll};
use run_queue::RunQueue;
use slots::*;
pub(crate) use slots::{NodeId, TaskName};
use step::NextTask;
use wakers::*;

pub(crate) struct State {
    config: Config,
    tasks: Vec<TaskSlot>,
    runnable: RunQueue,
    chooser: Chooser,
    trace: Trace,
    label_ids: labels::LabelIds,
    /// Virtual time and the timers.
    clock: Clock,
    step: u64,
    /// The executor pool: jobs, workers, deferred events.
    pool: Pool,
    resources: Vec<ResourceInfo>,
    /// Virtual time the current poll has held the loop (blocking sleeps).
    held_ns: u64,
    /// The end of a poll has work beyond the common case: the poll held
    /// the loop (`held_ns`), or `Config::poll_cost` is set. One flag, so
    /// the common step tests one byte for both.
    poll_end_work: bool,
    slow_polls: Vec<SlowPoll>,
    deviations: Vec<Deviation>,
    /// The picks that departed from run-to-completion order (recorded with
    /// `deviations`), and the task picked last, which that order repeats.
    preemptions: Vec<Deviation>,
    last_picked: Option<u32>,
    /// Record `deviations` this run (replays, or `Config::record_deviations`).
    record_deviations: bool,
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
    /// The names of the nodes made this run (`cx::new_node`), by id,
    /// shared with the world's (no copy); `None`: the main node, `main`.
    node_names: Vec<Option<Rc<str>>>,
    /// The cooperative budget (`budget.rs`): the units left to the poll of
    /// step `budget_step`, spent by world operations that complete without
    /// waiting; a poll that has not spent any has them all.
    budget_left: u64,
    budget_step: u64,
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
    /// The owner of the spawned task about to be polled, between the pick
    /// (which takes it out of its slot, in the state's borrow) and the poll
    /// (which takes it from here, and gives it back to the slot after).
    polled: Cell<Option<Owner>>,
    /// User code runs outside a poll: a pool job's closure, or a destructor
    /// at a node crash (its panics are the run's to report).
    in_user_code: Cell<bool>,
    /// `FOREIGN_WAKE_COUNT` as this run last saw it.
    foreign_seen: Cell<u64>,
    /// Under `Config::waker_sites`: where each task's waker was last cloned
    /// (by task index). Outside the state: a clone may happen while the
    /// kernel holds it. Read only to word a failure, never for a decision.
    waker_sites: RefCell<Vec<Option<std::backtrace::Backtrace>>>,
    /// What the hang watchdog reads (`crate::watchdog`): the task being
    /// polled, stored before each poll, and the virtual time when the clock
    /// moves (the core's one reference: the state's code that moves the
    /// clock is given it). Written, never read, by the run.
    beacon: &'static Beacon,
    /// The watchdog's numbers of the names this core's runs gave tasks
    /// through `task::Builder::name`, by task id: a named spawn's number
    /// without a lookup when its id had the same name last time.
    given_names: slots::GivenNames,
}

/// The beacon goes back for the next core (the watchdog's list keeps it).
impl Drop for Core {
    fn drop(&mut self) {
        watchdog::give_back(self.beacon);
    }
}

pub(super) const NOT_RUNNING: u32 = u32::MAX;

/// Runs futures deterministically. See the crate docs for a tour.
///
/// A `Sim` may run many futures one after another; each run starts from a
/// clean state (clock at 0, no tasks, a fresh generator from the seed), and
/// allocations are reused.
pub struct Sim {
    core: Rc<Core>,
}

thread_local! {
    /// The core of the last `Sim` dropped on this thread, emptied, for the
    /// next [`Sim::new`]: a new `Sim` a run then starts with the buffers
    /// runs reach (tasks, run queue, timers, labels), as one `Sim` running
    /// many futures does, and is not built and copied into place afresh.
    static SPARE_CORE: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Takes this thread's spare core (tests: to start from none).
#[cfg(test)]
pub(crate) fn take_spare_core_for_tests() -> Option<Rc<Core>> {
    SPARE_CORE.with(|spare| spare.borrow_mut().take())
}

/// A dropped `Sim`'s core is kept for the next only while its buffers are
/// at most this big (its trace's events, its tape's draws, its tasks, its
/// timers).
const SPARE_CORE_MAX_BYTES: usize = 4 << 20;

impl Sim {
    /// A simulator with this configuration.
    pub fn new(config: Config) -> Sim {
        install_panic_hook();
        let spare = SPARE_CORE
            .try_with(|spare| spare.try_borrow_mut().ok()?.take())
            .ok()
            .flatten();
        if let Some(core) = spare {
            // The borrow first: `place = value` moves the value out before
            // it borrows, a copy of the configuration a run.
            let mut state = core.state.borrow_mut();
            state.config = config;
            drop(state);
            return Sim { core };
        }
        Sim::with_new_core(config)
    }

    /// A `Sim` with a core made afresh (none spare on the thread). Out of
    /// line: the core is built on the stack, a frame of several kilobytes
    /// that `Sim::new` then set up on every call.
    #[cold]
    #[inline(never)]
    fn with_new_core(config: Config) -> Sim {
        let beacon = watchdog::lease();
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
                    label_ids: labels::LabelIds::default(),
                    clock: Clock::default(),
                    step: 0,
                    pool: Pool::default(),
                    resources: Vec::new(),
                    held_ns: 0,
                    poll_end_work: false,
                    slow_polls: Vec::new(),
                    deviations: Vec::new(),
                    preemptions: Vec::new(),
                    last_picked: None,
                    record_deviations: false,
                    failure: None,
                    finished_joins: Vec::new(),
                    panics_delivered: 0,
                    attention: false,
                    boundary: VecDeque::new(),
                    node_names: Vec::new(),
                    budget_left: budget::BUDGET_PER_POLL,
                    budget_step: budget::NO_STEP,
                }),
                run_id: Cell::new(0),
                running: Cell::new(NOT_RUNNING),
                running_woken: Cell::new(false),
                polled: Cell::new(None),
                in_user_code: Cell::new(false),
                foreign_seen: Cell::new(0),
                waker_sites: RefCell::new(Vec::new()),
                beacon,
                given_names: slots::GivenNames::default(),
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
        let result = self.run_to_result(std::pin::pin!(Some(future)));
        let mut state = self.core.state.borrow_mut();
        // The next run likely makes as many draws and events: size the
        // fresh buffers to match, so they never grow by copying.
        let draws_hint = state.chooser.tape.len();
        // Every draw stays on the tape, bounds included (exhaustive search
        // needs them); the token leaves out trailing zeros by itself.
        let tape = std::mem::replace(&mut state.chooser.tape, Tape::with_capacity(draws_hint));
        let events_hint = state.trace.events.len();
        let tasks_hint = state.trace.tasks.len();
        let trace = state.trace.hand_over(events_hint, tasks_hint);
        Run {
            result,
            trace,
            tape,
            seed: state.config.seed,
            strategy: state.config.strategy.clone(),
            steps: state.step,
            elapsed_ns: state.clock.now_ns,
            slow_polls: std::mem::take(&mut state.slow_polls),
            deviations: std::mem::take(&mut state.deviations),
            preemptions: std::mem::take(&mut state.preemptions),
        }
    }

    /// [`Sim::run`] for a driver that only looks at a run's result and trace
    /// hash (the harness, for the many runs that pass): the same run, but the
    /// trace and tape stay in the simulator for the next run instead of
    /// being handed over in a [`Run`] (about 5 % of a small body's run).
    #[doc(hidden)]
    pub fn run_outcome<F: Future>(&mut self, future: F) -> RunOutcome<F::Output> {
        let result = self.run_to_result(std::pin::pin!(Some(future)));
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
    /// and tape are left in the state. The main future is pinned where the
    /// caller put it, once: a future moved down by value is copied at each
    /// call (a world program's is several hundred bytes: four copies were
    /// ~250 instructions a run), and `run_main` drops it there.
    fn run_to_result<F: Future>(
        &mut self,
        future: std::pin::Pin<&mut Option<F>>,
    ) -> Result<F::Output, Failure> {
        assert!(
            !raw::is_current(&CORE),
            "Sim::run was called inside a running simulation; simulations do not nest (run them one after another)"
        );
        let core = &self.core;
        let run_id = next_run_id();
        core.run_id.set(run_id);
        core.foreign_seen
            .set(FOREIGN_WAKE_COUNT.load(Ordering::Acquire));
        core.reset();
        let run_key = (run_id as usize) << TASK_BITS;
        // The watchdog stops looking when the run ends, unwinding too.
        struct Ended(&'static Beacon);
        impl Drop for Ended {
            fn drop(&mut self) {
                self.0.run_ended();
            }
        }
        let _ended = Ended(core.beacon);
        raw::run_as_current(&CORE, core.clone(), || {
            let _run_key = RunKeyGuard::enter(run_key);
            core.run_main(run_key, future)
        })
    }
}

impl Core {
    /// The run itself, with the core current: the main future to its end
    /// (or the run's failure), then the end of the run.
    fn run_main<F: Future>(
        &self,
        run_key: usize,
        future: std::pin::Pin<&mut Option<F>>,
    ) -> Result<F::Output, Failure> {
        let wakers = RunWakers::new(run_key, self.state.borrow().config.waker_sites);
        // The main task's output comes back here directly; its panics always
        // fail the run, so the kernel needs no join slot for it.
        let mut output = None;
        self.add_task(
            None,
            Cow::Borrowed("main"),
            None,
            SlotKind::Future,
            NodeId::MAIN,
        );
        // The main future is dropped (in place, by the guard, on unwinding
        // too) before the run is finished: its destructors may still use
        // the engine.
        {
            /// Drops the main future where it is pinned.
            struct DropMain<'a, F>(std::pin::Pin<&'a mut Option<F>>);
            impl<F> Drop for DropMain<'_, F> {
                fn drop(&mut self) {
                    self.0.set(None);
                }
            }
            let mut guard = DropMain(future);
            let mut main = guard
                .0
                .as_mut()
                .as_pin_mut()
                .expect("asyncsim bug: the main future is gone before its run");
            let main_waker = wakers.task(0);

            let mut next = self.next_task();
            while let Some(task) = next {
                next = if task == 0 {
                    self.poll_main(main.as_mut(), &main_waker, &mut output)
                } else {
                    self.poll_spawned(wakers, task)
                };
            }
        }
        // What is dropped now is no poll's.
        self.beacon.outside();
        // A foreign wake during the last poll counts too.
        if FOREIGN_WAKE_COUNT.load(Ordering::Acquire) != self.foreign_seen.get() {
            self.check_foreign_wakes();
        }
        self.finish_run();

        let mut state = self.state.borrow_mut();
        // A failure recorded during the main task's last poll (a tape
        // divergence, the task limit, a blocking sleep past the time limit)
        // wins over its output: the run did not go as the user asked.
        let mut failure = state.failure.take().or_else(|| state.leftover_divergence());
        if state.config.waker_sites {
            if let Some(failure) = failure.as_mut() {
                self.name_foreign_waits(failure);
            }
        }
        match output {
            Some(output) if failure.is_none() => Ok(output),
            _ => Err(failure.unwrap_or_else(|| {
                Failure::new(
                    FailureKind::Deadlock,
                    "asyncsim bug: the run stopped with neither a result nor a failure".to_string(),
                    state.step,
                    state.clock.now_ns,
                )
            })),
        }
    }
}

impl Core {
    /// Polls the main future once; its output goes to `output` (and the
    /// run stops: `None`).
    #[inline(always)]
    fn poll_main<F: Future>(
        &self,
        main: std::pin::Pin<&mut F>,
        waker: &std::task::Waker,
        output: &mut Option<F::Output>,
    ) -> Option<NextTask> {
        let mut context = Context::from_waker(waker);
        match std::panic::catch_unwind(AssertUnwindSafe(|| main.poll(&mut context))) {
            Ok(Poll::Ready(value)) => {
                *output = Some(value);
                self.end_poll_ready(0);
                None
            }
            Ok(Poll::Pending) => self.end_poll_pending(0, None),
            Err(payload) => {
                self.end_poll_panic(0, payload, None);
                self.next_task()
            }
        }
    }
}

/// An emptied core goes to `SPARE_CORE` (see there). Every run starts by
/// resetting the core (`Core::reset`), so a kept one runs as a new one
/// would; what a new `Sim` could see of it before its first run — the last
/// run's tape, through `with_last_run` — is cleared here.
impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking()
            || Rc::strong_count(&self.core) != 1
            || Rc::weak_count(&self.core) != 0
        {
            return;
        }
        {
            let Ok(mut state) = self.core.state.try_borrow_mut() else {
                return;
            };
            let bytes = state.trace.events.capacity() * std::mem::size_of::<crate::trace::Event>()
                + state.chooser.tape.capacity_bytes()
                + state.tasks.capacity() * std::mem::size_of::<TaskSlot>()
                + state.clock.capacity_bytes();
            if bytes > SPARE_CORE_MAX_BYTES {
                return;
            }
            state.chooser.tape.clear();
        }
        let core = self.core.clone();
        let _ = SPARE_CORE.try_with(|spare| {
            if let Ok(mut spare) = spare.try_borrow_mut() {
                if spare.is_none() {
                    *spare = Some(core);
                }
            }
        });
    }
}

impl Default for Sim {
    fn default() -> Sim {
        Sim::new(Config::default())
    }
}
impl Core {
    pub(super) fn reset(&self) {
        self.waker_sites.borrow_mut().clear();
        // Only a run that unwound out of its loop can leave one.
        drop(self.polled.take());
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        state.tasks.clear();
        state.runnable.clear();
        let config = &state.config;
        state.chooser.reset(
            &config.strategy,
            config.seed,
            config.pct_steps_estimate,
            ReplayRules::of(config),
        );
        state.trace.reset();
        state.label_ids.clear();
        state.clock.reset();
        state.step = 0;
        state.pool.reset(state.config.pool_size);
        state.resources.clear();
        state.held_ns = 0;
        state.poll_end_work = state.config.poll_cost_ns > 0;
        state.slow_polls.clear();
        state.deviations.clear();
        state.preemptions.clear();
        state.last_picked = None;
        state.record_deviations =
            state.config.record_deviations || matches!(state.config.strategy, Strategy::Replay(_));
        state.failure = None;
        state.panics_delivered = 0;
        state.attention = false;
        state.boundary.clear();
        state.node_names.clear();
        state.node_names.push(None);
        // The last run's steps are this one's too: its budget is no poll's.
        state.budget_step = budget::NO_STEP;
        // A replayed tape's run has no seed to give back, only a whole
        // line that replays it, when the harness gave one.
        let rerun_command = match state.config.strategy {
            Strategy::Replay(_) if !crate::watchdog::is_whole_line(state.config.rerun_command) => {
                None
            }
            _ => Some(state.config.rerun_command),
        };
        self.beacon.run_started(
            state.config.seed,
            rerun_command,
            state.config.hang_warning_ns,
            state.config.blocking_warning_ns,
        );
    }
}
