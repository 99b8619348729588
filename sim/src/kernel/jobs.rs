//! The kernel's side of the executor pool: starting jobs (their closures run
//! at once, their virtual time becomes a finish timer) and finishing them.

use super::*;
use crate::clock::TimerAction;
use crate::pool::JobContext;
use crate::trace::{Event, EventKind, TaskId};

impl Core {
    pub(super) fn finish_pool_job(&self, job: u32) {
        let deliver = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let entry = &mut state.pool.jobs[job as usize];
            let worker = entry
                .worker
                .expect("asyncsim bug: a finishing job has no worker");
            let task = entry.task;
            let deliver = entry.deliver.take();
            state.pool.busy[worker as usize] = None;
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
    pub(super) fn start_pool_jobs(&self) {
        loop {
            let (job, work, task) = {
                let mut state = self.state.borrow_mut();
                let state = &mut *state;
                let Some((worker, job)) = state.pool.take_startable() else {
                    return;
                };
                let entry = &mut state.pool.jobs[job as usize];
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
                    start_ns: state.clock.now_ns,
                    offset_ns: 0,
                };
                let outer = state.pool.context.replace(context);
                assert!(
                    outer.is_none(),
                    "spawn_blocking jobs cannot start other jobs synchronously"
                );
                (job, work, task)
            };
            self.beacon.job(task.0);
            self.in_user_code.set(true);
            let deliver = work();
            self.in_user_code.set(false);
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let context = state.pool.context.take().expect("job context vanished");
            state.pool.jobs[job as usize].deliver = Some(deliver);
            let finish = context.start_ns.saturating_add(context.offset_ns);
            state.clock.insert(finish, TimerAction::PoolFinish { job });
        }
    }
}
impl State {
    /// The time of whoever called into the engine: a pool job whose closure
    /// runs lives at its own time (its start plus what it blocked for),
    /// everyone else at the clock's.
    #[inline]
    pub(crate) fn caller_now_ns(&self) -> u64 {
        match self.pool.context {
            Some(job) => job.start_ns + job.offset_ns,
            None => self.clock.now_ns,
        }
    }

    /// Records an event for whoever called into the engine: the pool job
    /// whose closure runs (at the job's own time), else `running`.
    pub(super) fn record_for_caller(&mut self, running: Option<TaskId>, kind: EventKind) {
        match self.pool.context {
            Some(job) => self.record_at(job.start_ns + job.offset_ns, Some(job.task), kind),
            None => self.record(running, kind),
        }
    }

    /// Records an event at a pool job's own time, deferring it until the
    /// clock gets there.
    pub(super) fn record_at(&mut self, time_ns: u64, task: Option<TaskId>, kind: EventKind) {
        if time_ns <= self.clock.now_ns {
            self.record(task, kind);
            return;
        }
        let event = Event {
            step: self.step,
            time_ns,
            task,
            kind,
        };
        self.pool.defer(time_ns, event);
    }

    pub(super) fn flush_deferred(&mut self) {
        while let Some(entry) = self.pool.deferred.first_entry() {
            if entry.key().0 > self.clock.now_ns {
                return;
            }
            let mut event = entry.remove();
            event.step = self.step;
            self.trace
                .record(event, self.config.trace_events_max, self.config.trace_mode);
        }
    }

    pub(super) fn flush_all_deferred(&mut self) {
        while let Some((_, event)) = self.pool.deferred.pop_first() {
            self.trace
                .record(event, self.config.trace_events_max, self.config.trace_mode);
        }
    }
}
