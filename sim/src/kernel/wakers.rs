//! Run ids and task wakers: a waker is `(run id, task index)` packed into
//! its data word; a wake from outside its run is noted for that run to fail.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::Waker;

use super::*;
use crate::raw::{self, CurrentCell, IntegerWakers, WakeInteger};
use crate::trace::{EventKind, TaskId};

/// Hands out an identity to every run, so a waker or primitive from one run
/// is never mistaken for one of another. Not an input to any decision.
pub(super) static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(1);

/// Run ids a thread claims at once: one atomic add per this many runs (a
/// shared counter bumped on every run bounced its cache line between the
/// workers of a parallel `check`).
pub(super) const RUN_ID_BLOCK: u64 = 64;

thread_local! {
    /// The thread's claimed run ids: the next one and the end of its block.
    static RUN_IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// The running core, for code the run calls (tasks, wakers, the panic
    /// hook): set only inside `raw::run_as_current`.
    pub(super) static CORE: CurrentCell<Core> = const { CurrentCell::new() };
    /// The running run's key (its id shifted into a waker's run bits); 0
    /// outside runs.
    static RUN_KEY: Cell<usize> = const { Cell::new(0) };
}

/// Makes `run_key` the thread's run key while it lives (and 0 again after,
/// also when the run unwinds).
pub(super) struct RunKeyGuard;

impl RunKeyGuard {
    pub(super) fn enter(run_key: usize) -> RunKeyGuard {
        RUN_KEY.with(|key| key.set(run_key));
        RunKeyGuard
    }
}

impl Drop for RunKeyGuard {
    fn drop(&mut self) {
        let _ = RUN_KEY.try_with(|key| key.set(0));
    }
}

/// A run id no other run in the process has (until ids wrap, after 2^40
/// runs on 64-bit targets), never 0.
pub(super) fn next_run_id() -> u64 {
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
pub(super) const TASK_BITS: u32 = 24;

#[cfg(not(target_pointer_width = "64"))]
pub(super) const TASK_BITS: u32 = 12;

pub(super) const TASK_MASK: usize = (1 << TASK_BITS) - 1;

/// Run ids wrap within the bits a waker has for them (skipping 0).
pub(super) const RUN_ID_MASK: u64 = (usize::MAX >> TASK_BITS) as u64;

/// The most tasks one run can have.
pub(crate) const TASKS_HARD_LIMIT: usize = 1 << TASK_BITS;

/// Wakes from outside their run (another OS thread, or after the run
/// ended): how many so far, and the runs they belonged to (recent ones; a
/// run checks for its own id whenever the count moves).
pub(super) static FOREIGN_WAKE_COUNT: AtomicU64 = AtomicU64::new(0);

pub(super) static FOREIGN_WAKE_RUNS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// How a run makes its tasks' wakers: its run key, and the vtable chosen
/// for the run (`Config::waker_sites` picks the one whose clone notes where
/// it was made; the plain one's clone only copies the integer).
#[derive(Clone, Copy)]
pub(super) struct RunWakers {
    run_key: usize,
    vtable: IntegerWakers,
}

impl RunWakers {
    pub(super) fn new(run_key: usize, note_clones: bool) -> RunWakers {
        let vtable = if note_clones {
            IntegerWakers::noting_clones::<TaskWake>()
        } else {
            IntegerWakers::plain::<TaskWake>()
        };
        RunWakers { run_key, vtable }
    }

    /// The waker of one task: `(run id << TASK_BITS) | task` as its data
    /// word (`raw::IntegerWakers`). `Send + Sync` as the `Waker` contract
    /// demands (it is an integer), but a wake from a thread other than the
    /// run's, or after the run, is recorded as a determinism failure of that
    /// run, never executed.
    #[inline(always)]
    pub(super) fn task(self, task: u32) -> Waker {
        self.vtable.waker(self.run_key | task as usize)
    }
}

/// What every task waker's `wake` does with its data word.
pub(super) struct TaskWake;

impl WakeInteger for TaskWake {
    #[inline]
    fn wake(data: usize) {
        let run_key = RUN_KEY.with(Cell::get);
        if run_key != 0 && data & !TASK_MASK == run_key {
            raw::with_current(&CORE, |core| core.wake((data & TASK_MASK) as u32));
        } else {
            note_foreign_wake((data >> TASK_BITS) as u64);
        }
    }

    /// Only under `Config::waker_sites`: where this clone is made is where
    /// the task registered with what it waits on (its last clone is what a
    /// deadlock report names). Read only by reports, never by a decision.
    #[cold]
    #[inline(never)]
    fn cloned(data: usize) {
        let run_key = RUN_KEY.with(Cell::get);
        if run_key != 0 && data & !TASK_MASK == run_key {
            let site = std::backtrace::Backtrace::force_capture();
            raw::with_current(&CORE, |core| {
                core.note_waker_site((data & TASK_MASK) as u32, site);
            });
        }
    }
}

#[cold]
#[inline(never)]
pub(super) fn note_foreign_wake(run_id: u64) {
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
pub(super) fn take_foreign_wake(run_id: u64) -> bool {
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
impl Core {
    /// A foreign wake was noted somewhere since this run last looked (a
    /// load and a compare: checked between steps).
    #[inline(always)]
    pub(super) fn foreign_wake_noted(&self) -> bool {
        FOREIGN_WAKE_COUNT.load(Ordering::Relaxed) != self.foreign_seen.get()
    }

    /// A foreign wake was noted somewhere: fail the run if it was this one's.
    #[cold]
    #[inline(never)]
    pub(super) fn check_foreign_wakes(&self) {
        self.foreign_seen
            .set(FOREIGN_WAKE_COUNT.load(Ordering::Acquire));
        if take_foreign_wake(self.run_id.get()) {
            self.fail_foreign_wake();
        }
    }

    /// Under `Config::waker_sites`: `task`'s waker was cloned at `site`.
    pub(super) fn note_waker_site(&self, task: u32, site: std::backtrace::Backtrace) {
        // A clone made while a report reads the sites is not a registration.
        let Ok(mut sites) = self.waker_sites.try_borrow_mut() else {
            return;
        };
        let index = task as usize;
        if sites.len() <= index {
            sites.resize_with(index + 1, || None);
        }
        sites[index] = Some(site);
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

    pub(super) fn wake_other(&self, task: u32) {
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
}
