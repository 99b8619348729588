//! The virtual clock's timer driver: timers keyed by `(deadline_ns,
//! sequence)`, so their order is fully determined by the key, never by
//! addresses; the kernel fires those due in a drawn order.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Duration;

use crate::pool::PoolJob;
use crate::trace::TaskId;

/// A timer's key: its deadline, then the order timers were set in.
pub(crate) type TimerKey = (u64, u64);

/// Virtual time and the timers that will move it.
///
/// The kernel owns the one `Clock` of a run (inside its state); time moves
/// only when nothing is runnable (a jump to [`Clock::next_deadline`]) or
/// inside a blocking sleep on the loop.
#[derive(Default)]
pub(crate) struct Clock {
    /// Virtual nanoseconds since the run started.
    pub(crate) now_ns: u64,
    /// Sleeping futures' wakers and pool jobs' finishes, by key.
    pub(crate) timers: BTreeMap<TimerKey, TimerAction>,
    /// The last sequence number handed out.
    pub(crate) sequence: u64,
    /// Empty lists kept for firing timers in groups (no allocation a
    /// group): between firings they hold nothing.
    pub(crate) spare_group: Vec<(TimerKey, TimerAction)>,
    pub(crate) spare_due: Vec<(u64, TimerAction)>,
}

impl Clock {
    /// Back to time 0 with no timers. (`BTreeMap::clear` costs ~50
    /// instructions even on an empty map: most runs end with none.)
    pub(crate) fn reset(&mut self) {
        self.now_ns = 0;
        if !self.timers.is_empty() {
            self.timers.clear();
        }
        self.sequence = 0;
    }

    /// Sets a timer; returns its key.
    pub(crate) fn insert(&mut self, deadline_ns: u64, action: TimerAction) -> TimerKey {
        self.sequence += 1;
        let key = (deadline_ns, self.sequence);
        self.timers.insert(key, action);
        key
    }

    /// The earliest deadline of a timer, if any.
    #[inline(always)]
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.timers.first_key_value().map(|(key, _)| key.0)
    }

    /// True when a timer's deadline has come.
    #[inline(always)]
    pub(crate) fn is_due(&self) -> bool {
        self.next_deadline()
            .is_some_and(|deadline| deadline <= self.now_ns)
    }

    /// Takes the earliest timer when it is due and is the only one due
    /// (the common case: firing it needs no drawn order and no lists).
    #[inline]
    pub(crate) fn pop_lone_due(&mut self) -> Option<(u64, TimerAction)> {
        let mut keys = self.timers.keys();
        if keys.next()?.0 > self.now_ns {
            return None;
        }
        if keys.next().is_some_and(|key| key.0 <= self.now_ns) {
            return None;
        }
        self.timers.pop_first().map(|(key, action)| (key.0, action))
    }

    /// Moves the timers sharing the earliest deadline, if it has come, into
    /// `group` (empty), in key order; false when none is due. (The kernel
    /// fires them in a drawn order: asyncio's heap gives equal deadlines no
    /// order.)
    pub(crate) fn take_due_group(&mut self, group: &mut Vec<(TimerKey, TimerAction)>) -> bool {
        let Some(deadline) = self
            .next_deadline()
            .filter(|deadline| *deadline <= self.now_ns)
        else {
            return false;
        };
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 != deadline {
                break;
            }
            group.push(entry.remove_entry());
        }
        true
    }
}

/// What a timer does when it fires.
pub(crate) enum TimerAction {
    /// Wake a sleeping future; `task` is the task that registered it.
    Wake { task: TaskId, waker: Waker },
    /// A pool job's virtual work is over: deliver its result.
    PoolFinish { job: u32 },
}

impl TimerAction {
    pub(crate) fn task(&self, jobs: &[PoolJob]) -> Option<TaskId> {
        match self {
            TimerAction::Wake { task, .. } => Some(*task),
            TimerAction::PoolFinish { job } => jobs.get(*job as usize).map(|job| job.task),
        }
    }
}

/// Converts a `Duration` to whole nanoseconds, saturating at `u64::MAX`
/// (about 584 years).
pub fn duration_to_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
