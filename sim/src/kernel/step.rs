//! One step: fire due timers, jump the idle clock, draw a task, poll it,
//! record what happened; and the end of a run.

use std::panic::{self, AssertUnwindSafe};
use std::task::{Context, Poll};

use super::*;
use crate::clock::TimerAction;
use crate::tape::DrawLabel;
use crate::trace::{Event, EventKind, TaskId, WaitOn, Warning};

/// The task to poll next. A spawned task's owner waits in
/// `Core::polled` meanwhile (so this fits in a register: the loop passes it
/// on every step).
pub(super) type NextTask = u32;

/// A task just picked, its poll begun, and for a spawned task its owner,
/// out of the slot for the poll (the main task's future lives on
/// `Sim::run`'s stack).
pub(super) type Picked = (u32, Option<Owner>);
impl Core {
    /// Fires due timers, advances the clock when idle, and draws the next
    /// task. `None` when the run must stop (failure recorded).
    /// Also starts the poll of the task it picks (one borrow for both):
    /// returns the task and, for a spawned task, its cell to poll in place
    /// (the slot keeps its reference until the run ends).
    pub(super) fn next_task(&self) -> Option<NextTask> {
        if self.foreign_wake_noted() {
            self.check_foreign_wakes();
        }
        loop {
            let mut state = self.state.borrow_mut();
            match state.next() {
                Next::Pick => {
                    if let Some(next) = state.pick() {
                        drop(state);
                        return Some(self.started(next));
                    }
                    // A tape divergence: `pick` recorded the failure.
                }
                Next::Attend => {
                    if state.failure.is_some() {
                        return None;
                    }
                    drop(state);
                    self.run_boundary_work();
                }
                Next::FireTimers => {
                    drop(state);
                    self.fire_due_timers();
                }
                Next::Idle => {
                    if !state.jump_clock(self.beacon) {
                        return None;
                    }
                }
                Next::StepLimit => {
                    state.fail_step_limit();
                    return None;
                }
            }
        }
    }

    /// Marks the picked task running and keeps its owner for the poll.
    #[inline(always)]
    pub(super) fn started(&self, (task, owner): Picked) -> NextTask {
        self.running.set(task);
        self.beacon.poll(task);
        self.running_woken.set(false);
        // The poll took the last owner out (`poll_spawned`): nothing to drop.
        let previous = self.polled.replace(owner);
        debug_assert!(previous.is_none(), "asyncsim bug: an owner left unpolled");
        std::mem::forget(previous);
        task
    }

    // Out of line: it is large and rare, and inlined it would make every
    // step of `next_task` set up its frame.
    #[inline(never)]
    pub(super) fn fire_due_timers(&self) {
        // One timer due alone (a sleep ending, a message arriving): its
        // draw would have one value (no draw), so it fires at once, as the
        // general path below would fire it, without building its lists.
        let lone = self.state.borrow_mut().clock.pop_lone_due();
        if let Some((deadline_ns, action)) = lone {
            match action {
                TimerAction::Wake { task, waker } => {
                    let mut state = self.state.borrow_mut();
                    state.record(Some(task), EventKind::TimerFire { deadline_ns });
                    drop(state);
                    waker.wake();
                }
                TimerAction::PoolFinish { job } => self.finish_pool_job(job),
                TimerAction::Call { call, arg } => call(arg),
            }
            return;
        }
        let mut due;
        {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            due = std::mem::take(&mut state.clock.spare_due);
            let mut group = std::mem::take(&mut state.clock.spare_group);
            // Group by deadline, earliest first; within a deadline the order
            // is drawn (asyncio's heap gives equal deadlines no order).
            while state.clock.take_due_group(&mut group) {
                if state.clock.calls_set {
                    // The world's calls first, in the order set, undrawn.
                    let mut at = 0;
                    while at < group.len() {
                        if matches!(group[at].1, TimerAction::Call { .. }) {
                            due.push(group.remove(at));
                        } else {
                            at += 1;
                        }
                    }
                }
                let mut pools = group
                    .iter()
                    .filter(|(_, action)| matches!(action, TimerAction::PoolFinish { .. }))
                    .count();
                // The timers not yet drawn, in key order: a bit each (up to
                // 64, as almost always), so that a drawn one is taken out in
                // place rather than by `remove`'s `memmove` of the rest.
                let small = group.len() <= 64;
                let mut remaining = u64::MAX >> (64 - group.len().clamp(1, 64));
                let mut left = group.len();
                while left > 0 {
                    let label = if pools > 0 {
                        DrawLabel::Pool
                    } else {
                        DrawLabel::Timer
                    };
                    let index = state.chooser.draw(label, left as u64) as usize;
                    // Where the `index`th remaining timer is.
                    let (at, first) = if small {
                        let mut bits = remaining;
                        for _ in 0..index {
                            bits &= bits - 1;
                        }
                        (
                            bits.trailing_zeros() as usize,
                            remaining.trailing_zeros() as usize,
                        )
                    } else {
                        (index, 0)
                    };
                    if index != 0 && state.record_deviations {
                        let chosen = group[at].1.task(&state.pool.jobs);
                        let canonical = group[first].1.task(&state.pool.jobs);
                        let (step, bound) = (state.step, left as u64);
                        state.note_deviation(label, step, index as u64, bound, chosen, canonical);
                    }
                    let (key, action) = if small {
                        remaining &= !(1 << at);
                        // A placeholder stays behind (nothing to drop).
                        std::mem::replace(&mut group[at], (0, TimerAction::PoolFinish { job: 0 }))
                    } else {
                        group.remove(index)
                    };
                    left -= 1;
                    if matches!(action, TimerAction::PoolFinish { .. }) {
                        pools -= 1;
                    }
                    due.push((key, action));
                }
                group.clear();
                if let Some(divergence) = state.chooser.divergence.take() {
                    state.fail_divergence(divergence);
                    return;
                }
            }
            state.clock.spare_group = group;
        }
        for (deadline_ns, action) in due.drain(..) {
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
                TimerAction::Call { call, arg } => call(arg),
            }
        }
        self.state.borrow_mut().clock.spare_due = due;
    }

    // Inlined (one call site): measured −0.4 % instructions a step.
    // The task's owner is out of its slot for the poll (`begin_poll`) and
    // goes back when the poll ends.
    #[inline(always)]
    pub(super) fn poll_spawned(&self, wakers: RunWakers, task: u32) -> Option<NextTask> {
        let mut owner = self
            .polled
            .take()
            .expect("asyncsim bug: a spawned task polled without its future");
        // Dropping this waker would only call the vtable's no-op.
        let waker = std::mem::ManuallyDrop::new(wakers.task(task));
        let mut context = Context::from_waker(&waker);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| owner.poll(&mut context)));
        match outcome {
            Ok(Poll::Pending) => self.end_poll_pending(task, Some(owner)),
            Ok(Poll::Ready(())) => self.end_poll_ready_and_pick(task, owner),
            Err(payload) => {
                self.end_poll_panic(task, payload, Some(owner));
                self.next_task()
            }
        }
    }

    #[inline(always)]
    pub(super) fn end_poll_common(&self, state: &mut State, task: u32) {
        self.running.set(NOT_RUNNING);
        // Nothing held the loop and polls cost no time in almost every
        // run: one test for both.
        if state.poll_end_work {
            self.end_poll_work(state, task);
        }
    }

    /// The poll held the loop (blocking sleeps: a slow poll if long
    /// enough; the next poll starts from zero again), then
    /// `Config::poll_cost`: the poll took virtual time, like a blocking
    /// sleep, but not holding the loop for the slow-poll report.
    #[cold]
    #[inline(never)]
    pub(super) fn end_poll_work(&self, state: &mut State, task: u32) {
        if state.held_ns > 0 {
            if state.held_ns >= state.config.slow_poll_ns {
                Self::record_slow_poll(state, task);
            }
            state.held_ns = 0;
        }
        let cost = state.config.poll_cost_ns;
        state.poll_end_work = cost > 0;
        if cost > 0 {
            state.clock.now_ns = state.clock.now_ns.saturating_add(cost);
            self.beacon.clock(state.clock.now_ns);
            state.flush_deferred();
            if state.clock.now_ns > state.config.time_limit_ns {
                let limit = state.clock.now_ns;
                state.fail_time_limit(limit);
            }
        }
    }

    pub(super) fn record_slow_poll(state: &mut State, task: u32) {
        let held_ns = state.held_ns;
        state.record(Some(TaskId(task)), EventKind::SlowPoll { held_ns });
        let name = state.trace.tasks[task as usize].name.to_string();
        let step = state.step;
        state.slow_polls.push(SlowPoll {
            task: TaskId(task),
            name,
            step,
            start_ns: state.clock.now_ns - held_ns,
            held_ns,
        });
    }

    /// The task's last poll returned `Ready`: it is done.
    #[inline(always)]
    pub(super) fn end_ready_in(&self, state: &mut State, task: u32) {
        self.end_poll_common(state, task);
        state.tasks[task as usize].state = TaskState::Done;
        state.record(Some(TaskId(task)), EventKind::Complete);
    }

    pub(super) fn end_poll_ready(&self, task: u32) {
        self.end_ready_in(&mut self.state.borrow_mut(), task);
    }

    /// Ends a spawned task's last poll and picks the next task in the same
    /// borrow of the state.
    pub(super) fn end_poll_ready_and_pick(&self, task: u32, owner: Owner) -> Option<NextTask> {
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        self.end_ready_in(state, task);
        state.tasks[task as usize].put_back(Some(owner));
        if !self.foreign_wake_noted() {
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
    pub(super) fn end_poll_pending(&self, task: u32, owner: Option<Owner>) -> Option<NextTask> {
        let woken = self.running_woken.get();
        let mut guard = self.state.borrow_mut();
        let state = &mut *guard;
        self.end_poll_common(state, task);
        let slot = &mut state.tasks[task as usize];
        slot.put_back(owner);
        slot.state = if woken {
            TaskState::Queued
        } else {
            TaskState::Idle
        };
        let abort = std::mem::take(&mut slot.abort_requested);
        // A task that woke itself and named nothing else yielded: the common
        // step, recorded with a constant wait reason. Its own call of
        // `record_pending`, so that the reason is a constant there: one
        // call for both stored the reason's bytes piece by piece from the
        // stack, into the slot and into the event (about 15 instructions
        // a step).
        if woken && slot.waiting_on == WaitOn::Unknown {
            slot.waiting_on = WaitOn::Yield;
            state.trace.record_pending(
                state.step,
                state.clock.now_ns,
                TaskId(task),
                WaitOn::Yield,
                state.config.trace_events_max,
                state.config.trace_mode,
            );
        } else {
            let on = slot.waiting_on;
            state.trace.record_pending(
                state.step,
                state.clock.now_ns,
                TaskId(task),
                on,
                state.config.trace_events_max,
                state.config.trace_mode,
            );
        }
        if woken {
            state.runnable.push_back(task);
        }
        if !abort && !self.foreign_wake_noted() {
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
    pub(super) fn end_poll_pending_slow(&self, abort: bool, task: u32) -> Option<NextTask> {
        if abort {
            self.abort(TaskId(task));
        }
        self.next_task()
    }

    #[cold]
    #[inline(never)]
    pub(super) fn end_poll_panic(
        &self,
        task: u32,
        payload: Box<dyn std::any::Any + Send>,
        owner: Option<Owner>,
    ) {
        let panic = CapturedPanic::take(&*payload);
        let name = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            self.end_poll_common(state, task);
            state.tasks[task as usize].state = TaskState::Done;
            state.record(Some(TaskId(task)), EventKind::Panic);
            let node = state.tasks[task as usize].node;
            let node = (node != NodeId::MAIN).then(|| state.node_name(node));
            (state.trace.task_name(TaskId(task)).to_string(), node)
        };
        let (name, node) = name;
        // The future is gone already (`raw`'s poll drops it while
        // unwinding); the owner goes back to the slot, whose join slot the
        // end-of-run sweep reads.
        match owner {
            Some(owner) if owner.header().handle_alive() => {
                deliver_panic(
                    owner.header(),
                    JoinError::panicked(TaskId(task), name, panic.text(), node),
                );
                self.state.borrow_mut().tasks[task as usize].cell = Some(owner);
            }
            owner => {
                let message = if task == 0 {
                    format!("the main future panicked {}", panic.text())
                } else {
                    let on = node.map_or(String::new(), |node| format!(" on node `{node}`"));
                    format!(
                        "task `{name}` ({}){on} panicked {}\n(its JoinHandle was dropped, so nobody else could observe the panic)",
                        TaskId(task),
                        panic.text()
                    )
                };
                let mut state = self.state.borrow_mut();
                state.fail_panic(
                    TaskId(task),
                    name,
                    message,
                    panic.location.as_deref().map(Box::from),
                );
                state.tasks[task as usize].cell = owner;
            }
        }
    }

    /// Ends a run: warns about and drops every task still pending, and warns
    /// about panics nobody retrieved.
    pub(super) fn finish_run(&self) {
        // What is left at the end of a run is a few tasks and timers: held
        // on the stack (a list of them was two allocations a run).
        let mut pending = Few::<Owner, 4>::new();
        let mut timers = Few::<TimerAction, 4>::new();
        let (mut joins, mut jobs) = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let mut joins = std::mem::take(&mut state.finished_joins);
            joins.clear();
            let panics = state.panics_delivered > 0;
            for index in 1..state.tasks.len() {
                let slot = &mut state.tasks[index];
                if slot.state != TaskState::Done {
                    slot.state = TaskState::Done;
                    if slot.kind == SlotKind::Future {
                        if let Some(owner) = slot.cell.take() {
                            pending.push(owner);
                        }
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
            let jobs = std::mem::take(&mut state.pool.jobs);
            if !state.clock.is_empty() {
                state.clock.take_all_into(|action| timers.push(action));
            }
            state.runnable.clear();
            (joins, jobs)
        };
        let mut first_panic = None;
        pending.each(|mut owner| {
            if let Err(payload) = owner.drop_future() {
                first_panic.get_or_insert(payload);
            }
        });
        timers.each(drop);
        jobs.clear();
        let mut state = self.state.borrow_mut();
        if state.pool.jobs.is_empty() {
            state.pool.jobs = jobs;
        }
        for index in joins.drain(..) {
            let unretrieved = state.tasks[index as usize]
                .cell
                .as_ref()
                .is_some_and(|owner| owner.header().panic_unretrieved());
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
                time_ns: state.clock.now_ns,
                task: None,
                kind: EventKind::Warning(Warning::TraceTruncated),
            };
            let mode = state.config.trace_mode;
            state.trace.record(event, usize::MAX, mode);
        }
        if !state.pool.deferred.is_empty() {
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
}
/// Up to `N` values on the stack, any more in a `Vec`, kept in the order
/// pushed (and dropped in it).
struct Few<T, const N: usize> {
    few: [Option<T>; N],
    len: usize,
    more: Vec<T>,
}

impl<T, const N: usize> Few<T, N> {
    #[inline]
    fn new() -> Self {
        Few {
            few: std::array::from_fn(|_| None),
            len: 0,
            more: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, value: T) {
        if self.len < N {
            self.few[self.len] = Some(value);
            self.len += 1;
        } else {
            self.more.push(value);
        }
    }

    /// Hands each value to `each`, in the order pushed.
    #[inline]
    fn each(mut self, mut each: impl FnMut(T)) {
        let len = self.len;
        for slot in &mut self.few[..len] {
            if let Some(value) = slot.take() {
                each(value);
            }
        }
        if !self.more.is_empty() {
            for value in std::mem::take(&mut self.more) {
                each(value);
            }
        }
        // Emptied: nothing left to drop, so no drop code to run over the
        // slots (measured: as much as the rest of an empty `Few`).
        std::mem::forget(self);
    }
}

/// What the loop does next: the one definition of it, which the fast path
/// (`State::try_pick`) and the general loop (`Core::next_task`) both follow,
/// so a new stop condition is one more arm here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// A failure was recorded (stop), or work waits at the step boundary.
    Attend,
    /// A timer's deadline has come.
    FireTimers,
    /// Nothing is runnable: jump the clock, or the run is stuck.
    Idle,
    /// The run made `Config::steps_max` polls.
    StepLimit,
    /// Draw a runnable task and poll it.
    Pick,
}

impl State {
    /// What happens next, checked in this order.
    #[inline(always)]
    pub(super) fn next(&self) -> Next {
        if self.attention {
            Next::Attend
        } else if self.clock.is_due() {
            Next::FireTimers
        } else if self.runnable.is_empty() {
            Next::Idle
        } else if self.step >= self.config.steps_max {
            Next::StepLimit
        } else {
            Next::Pick
        }
    }

    /// The common case, in the borrow that ended a poll: when what happens
    /// next is a pick, makes it; anything else is left to `Core::next_task`.
    #[inline(always)]
    pub(super) fn try_pick(&mut self) -> Option<Picked> {
        if self.next() != Next::Pick {
            return None;
        }
        self.pick()
    }

    /// Draws a runnable task and starts its poll; `None` after a tape
    /// divergence (recorded as the run's failure).
    #[inline(always)]
    pub(super) fn pick(&mut self) -> Option<Picked> {
        let step = self.step;
        let position = self.chooser.pick_task(self.runnable.as_slice(), step);
        if self.chooser.divergence.is_some() {
            self.fail_pending_divergence();
            return None;
        }
        // One branch, on `record_deviations` only: the compiler tested the drawn
        // position first, a branch a random draw mispredicts.
        if self.record_deviations {
            self.note_schedule_deviation(position, step);
        }
        let task = self.runnable.remove(position);
        Some((task, self.begin_poll(task)))
    }

    /// Marks `task` running and records the poll; for a spawned task,
    /// returns its owner, out of the slot for the poll (the main task's
    /// future lives on `Sim::run`'s stack).
    #[inline(always)]
    pub(super) fn begin_poll(&mut self, task: u32) -> Option<Owner> {
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
        let owner = slot.cell.take();
        state.trace.record_poll(
            state.step,
            state.clock.now_ns,
            TaskId(task),
            state.config.trace_events_max,
            state.config.trace_mode,
        );
        owner
    }

    /// Nothing is runnable: jumps the clock to the next timer or deferred
    /// event. False when the run must stop (deadlock or time limit
    /// recorded). `beacon`, the core's, is told the new time.
    #[cold]
    #[inline(never)]
    pub(super) fn jump_clock(&mut self, beacon: &Beacon) -> bool {
        let next_timer = self.clock.next_deadline();
        let next_deferred = self.pool.next_deferred();
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
            next >= self.clock.now_ns,
            "asyncsim bug: a timer is in the past while idle"
        );
        let from_ns = self.clock.now_ns;
        self.clock.now_ns = next;
        beacon.clock(next);
        self.record(None, EventKind::ClockJump { from_ns });
        self.flush_deferred();
        true
    }

    /// Lists a non-FIFO scheduling draw (only when recording deviations).
    #[cold]
    #[inline(never)]
    pub(super) fn note_schedule_deviation(&mut self, position: usize, step: u64) {
        self.note_preemption(position, step);
        if position == 0 {
            return;
        }
        let runnable = self.runnable.as_slice();
        let (chosen, canonical) = (TaskId(runnable[position]), TaskId(runnable[0]));
        let bound = runnable.len() as u64;
        self.note_deviation(
            DrawLabel::Schedule,
            step + 1,
            position as u64,
            bound,
            Some(chosen),
            Some(canonical),
        );
    }

    /// Lists a pick that departs from run-to-completion order (`Run::preemptions`):
    /// the task picked last is runnable again and another one runs, or it is
    /// not and a task other than the oldest runs. Called on every pick while
    /// recording deviations.
    fn note_preemption(&mut self, position: usize, step: u64) {
        let runnable = self.runnable.as_slice();
        let sticky = self
            .last_picked
            .and_then(|last| runnable.iter().position(|task| *task == last))
            .unwrap_or(0);
        let chosen = runnable[position];
        if position != sticky {
            self.preemptions.push(Deviation {
                draw: self.chooser.tape.len() - 1,
                step: step + 1,
                time_ns: self.clock.now_ns,
                label: DrawLabel::Schedule,
                value: position as u64,
                bound: runnable.len() as u64,
                chosen: Some(TaskId(chosen)),
                canonical: Some(TaskId(runnable[sticky])),
                what: None,
            });
        }
        self.last_picked = Some(chosen);
    }

    /// Lists the draw just made as a deviation from asyncio's order, with
    /// the tasks it chose between (`Run::deviations`); returns it, for a
    /// caller that words it (`Deviation::what`).
    pub(super) fn note_deviation(
        &mut self,
        label: DrawLabel,
        step: u64,
        value: u64,
        bound: u64,
        chosen: Option<TaskId>,
        canonical: Option<TaskId>,
    ) -> &mut Deviation {
        self.deviations.push(Deviation {
            draw: self.chooser.tape.len() - 1,
            step,
            time_ns: self.clock.now_ns,
            label,
            value,
            bound,
            chosen,
            canonical,
            what: None,
        });
        self.deviations.last_mut().expect("just pushed")
    }

    #[inline]
    pub(crate) fn record(&mut self, task: Option<TaskId>, kind: EventKind) {
        let event = Event {
            step: self.step,
            time_ns: self.clock.now_ns,
            task,
            kind,
        };
        self.trace
            .record(event, self.config.trace_events_max, self.config.trace_mode);
    }
}
