//! The simulated executor pool (`spawn_blocking`): its jobs, their queue,
//! the workers, and the context of the job whose closure runs.

use std::collections::{BTreeMap, VecDeque};

use crate::trace::{Event, TaskId};

/// The pool of one run, owned by the kernel (inside its state).
#[derive(Default)]
pub(crate) struct Pool {
    /// Every job submitted this run, by job index.
    pub(crate) jobs: Vec<PoolJob>,
    /// Jobs waiting for a worker, oldest first.
    pub(crate) queue: VecDeque<u32>,
    /// Each worker's job, if busy.
    pub(crate) busy: Vec<Option<u32>>,
    /// The job whose closure runs now, if any.
    pub(crate) context: Option<JobContext>,
    /// Trace events jobs made at virtual times the loop has not reached;
    /// released into the trace as the clock passes them, so the trace stays
    /// in time order. Keyed by `(time_ns, sequence)`.
    pub(crate) deferred: BTreeMap<(u64, u64), Event>,
    pub(crate) deferred_sequence: u64,
}

impl Pool {
    /// No jobs, `workers` idle workers.
    #[inline]
    pub(crate) fn reset(&mut self, workers: usize) {
        if !self.deferred.is_empty() {
            self.deferred.clear();
        }
        self.deferred_sequence = 0;
        self.jobs.clear();
        self.queue.clear();
        if self.busy.len() == workers {
            self.busy.fill(None);
        } else {
            self.busy.clear();
            self.busy.resize(workers, None);
        }
        self.context = None;
    }

    /// Keeps `event` until the clock reaches `time_ns`.
    pub(crate) fn defer(&mut self, time_ns: u64, event: Event) {
        self.deferred_sequence += 1;
        self.deferred
            .insert((time_ns, self.deferred_sequence), event);
    }

    /// The time of the earliest deferred event, if any. (`first_key_value`:
    /// `keys().next()` built a double-ended iterator, whose setup the
    /// compiler did not always fold away: ~25 instructions a clock jump in
    /// some builds.)
    #[inline]
    pub(crate) fn next_deferred(&self) -> Option<u64> {
        self.deferred.first_key_value().map(|(key, _)| key.0)
    }

    /// A free worker and the oldest queued job, both taken, if there are.
    pub(crate) fn take_startable(&mut self) -> Option<(usize, u32)> {
        let worker = self.busy.iter().position(Option::is_none)?;
        let job = self.queue.pop_front()?;
        self.busy[worker] = Some(job);
        Some((worker, job))
    }
}

/// A pool job's closure, type-erased: runs the work and returns the
/// delivery of its result, called at the job's finish time.
pub(crate) type JobWork = Box<dyn FnOnce() -> Box<dyn FnOnce()>>;

/// A job for the simulated executor pool (`spawn_blocking`).
pub(crate) struct PoolJob {
    /// The handle's task id (jobs have a lane in the trace).
    pub(crate) task: TaskId,
    /// Runs the closure; returns the delivery of its result.
    pub(crate) work: Option<JobWork>,
    /// Delivers the result into the join slot at finish time.
    pub(crate) deliver: Option<Box<dyn FnOnce()>>,
    pub(crate) worker: Option<u32>,
}

/// Pool-job context while a job's closure runs: `blocking::sleep` spends the
/// job's time, and marks carry the job's time.
#[derive(Clone, Copy)]
pub(crate) struct JobContext {
    pub(crate) task: TaskId,
    pub(crate) start_ns: u64,
    pub(crate) offset_ns: u64,
}
