//! Work between two steps: node crashes and callbacks queued for the step
//! boundary, done outside every borrow of the state.

use std::panic::{self, AssertUnwindSafe};

use super::*;
use crate::clock::TimerAction;
use crate::failure::{Failure, FailureKind};

use crate::trace::{EventKind, TaskId};

/// Work the loop does at the next step boundary, between two polls and
/// outside every borrow of the state.
pub(super) enum BoundaryWork {
    /// Drop every task of the node (`cx::crash_node`).
    Crash { node: NodeId, reason: String },
    /// Run a callback (`cx::at_step_boundary`).
    Call(Box<dyn FnOnce()>),
}
impl Core {
    /// Does the work queued for the step boundary, in order, until none is
    /// left (work may queue more). Runs between two polls, never inside one.
    #[cold]
    #[inline(never)]
    pub(super) fn run_boundary_work(&self) {
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
                    self.beacon.outside();
                    self.in_user_code.set(true);
                    let outcome = panic::catch_unwind(AssertUnwindSafe(call));
                    self.in_user_code.set(false);
                    if let Err(payload) = outcome {
                        let panic = CapturedPanic::take(&*payload);
                        let mut state = self.state.borrow_mut();
                        let message =
                            format!("a callback at a step boundary panicked {}", panic.text());
                        let failure = Failure::new(
                            FailureKind::Panic,
                            message,
                            state.step,
                            state.clock.now_ns,
                        );
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
    pub(super) fn crash(&self, node: NodeId, reason: String) {
        // Everything user code may own (futures, wakers, closures, results)
        // leaves the state here and is dropped after the borrow ends.
        let mut victims: Vec<(TaskId, Option<Owner>)> = Vec::new();
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
                    state.chooser.queue_changed();
                }
                if slot.kind == SlotKind::PoolJob {
                    state.kill_job(task, &mut leftovers);
                }
                let slot = &mut state.tasks[index];
                slot.state = TaskState::Done;
                victims.push((task, slot.cell.take()));
                state.record(Some(task), EventKind::Crash { node: node.0 });
            }
            // Timers the node's tasks registered die with it (their futures'
            // destructors would cancel most of them; a leaked one too).
            let tasks = &state.tasks;
            let doomed = state.clock.keys_where(|action| match action {
                TimerAction::Wake { task, .. } => tasks
                    .get(task.index())
                    .is_some_and(|slot| slot.node == node),
                TimerAction::PoolFinish { .. } | TimerAction::Call { .. } => false,
            });
            for key in doomed {
                if let Some(action) = state.clock.remove(key) {
                    leftovers.push(Box::new(action));
                }
            }
        }
        drop(leftovers);
        let mut first_panic = None;
        for (task, owner) in victims {
            let Some(owner) = owner else { continue };
            let name = self.state.borrow().trace.task_name(task).to_string();
            let error = JoinError::crashed(task, name.clone(), node_name.clone());
            self.beacon.outside();
            self.in_user_code.set(true);
            // The handle resolves whatever the destructor did.
            let dropped = self.retire(task, owner, error);
            self.in_user_code.set(false);
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
            let failure = Failure::new(FailureKind::Panic, message, state.step, state.clock.now_ns);
            state.fail(failure);
        }
        // Workers the node's jobs held are free again.
        self.start_pool_jobs();
    }
}
impl State {
    /// Queues work for the next step boundary.
    pub(super) fn at_boundary(&mut self, work: BoundaryWork) {
        self.boundary.push_back(work);
        self.attention = true;
    }

    /// Kills a crashed node's pool job: out of the queue if it waits there,
    /// its worker freed and its finish cancelled if it runs, its deferred
    /// events gone. What user code owns goes to `leftovers`, to be dropped
    /// after the borrow.
    pub(super) fn kill_job(&mut self, task: TaskId, leftovers: &mut Vec<Box<dyn std::any::Any>>) {
        let Some(job) = self.pool.jobs.iter().position(|job| job.task == task) else {
            return;
        };
        if let Some(position) = self
            .pool
            .queue
            .iter()
            .position(|queued| *queued as usize == job)
        {
            self.pool.queue.remove(position);
        }
        let entry = &mut self.pool.jobs[job];
        if let Some(work) = entry.work.take() {
            leftovers.push(Box::new(work));
        }
        if let Some(deliver) = entry.deliver.take() {
            leftovers.push(Box::new(deliver));
        }
        if let Some(worker) = entry.worker.take() {
            if self.pool.busy[worker as usize] == Some(job as u32) {
                self.pool.busy[worker as usize] = None;
            }
            let finish = self
                .clock
                .keys_where(|action| {
                    matches!(action, TimerAction::PoolFinish { job: finishing } if *finishing as usize == job)
                })
                .first()
                .copied();
            if let Some(action) = finish.and_then(|key| self.clock.remove(key)) {
                leftovers.push(Box::new(action));
            }
        }
        self.pool
            .deferred
            .retain(|_, event| event.task != Some(task));
    }
}
