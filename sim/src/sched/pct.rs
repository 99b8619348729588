//! PCT (Burckhardt et al., ASPLOS 2010): every task gets a random priority
//! at spawn; the highest-priority runnable task runs; at `depth - 1` change
//! points (steps drawn uniformly over the run's estimated length) the task
//! about to run is demoted below every initial priority.
//!
//! Priorities persist across `yield_now` and every other await: a scheduler
//! that demotes at each yield degenerates into round-robin and never lets one
//! task run far ahead of another. A task picked [`PCT_SPIN_POLLS`] times in a
//! row while others were runnable is dropped to the bottom, so a task that
//! spins on `yield_now` waiting for a partner cannot starve it.

use super::rng::{bounded, Stream};
use super::PCT_SPIN_POLLS;

/// Initial priorities are at least this (and below 2^63); a change point's
/// demotion gives a priority below it, so a demoted task runs after every
/// task not yet demoted.
const INITIAL_PRIORITY_FLOOR: u64 = 1 << 40;
/// Change point `i` (from 0) gives priority `DEMOTED_PRIORITY_TOP - i`: each
/// one lower than the one before, all below every initial priority.
const DEMOTED_PRIORITY_TOP: u64 = (1 << 32) - 1;

/// PCT's per-run state.
#[derive(Debug, Default)]
pub(crate) struct Pct {
    /// Priority of each task by index (higher runs first).
    priorities: Vec<u64>,
    /// Steps at which the running task is demoted, ascending.
    change_points: Vec<u64>,
    /// How many change points have passed (the next demotion priority).
    changes_done: u64,
    /// The task picked in a row most recently, and how many times in a row
    /// (for the spin rule).
    streak_task: Option<u32>,
    streak_polls: u32,
}

impl Pct {
    /// Starts a run: `depth - 1` change points drawn over `steps_estimate`.
    pub(crate) fn reset(&mut self, depth: u32, steps_estimate: u64, rng: &mut Stream) {
        self.priorities.clear();
        self.change_points.clear();
        self.changes_done = 0;
        self.streak_task = None;
        self.streak_polls = 0;
        for _ in 1..depth.max(1) {
            let point = bounded(rng, steps_estimate.max(1));
            self.change_points.push(point);
        }
        self.change_points.sort_unstable();
    }

    /// A new task exists: a random priority above every demoted one.
    #[inline]
    pub(crate) fn task_spawned(&mut self, task: u32, rng: &mut Stream) {
        let index = task as usize;
        if self.priorities.len() <= index {
            self.priorities.resize(index + 1, 0);
        }
        self.priorities[index] = (rng.next_u64() >> 1) | INITIAL_PRIORITY_FLOOR;
    }

    /// The position in `runnable` (oldest first, two or more tasks) of the
    /// task to run at `step`: the highest priority, the oldest on a tie.
    pub(crate) fn pick(&mut self, runnable: &[u32], step: u64) -> u64 {
        // A change point demotes whichever task is about to run at that step.
        let mut best = 0;
        let mut best_priority = 0;
        for (position, task) in runnable.iter().enumerate() {
            let priority = self.priorities.get(*task as usize).copied().unwrap_or(0);
            if position == 0 || priority > best_priority {
                best = position;
                best_priority = priority;
            }
        }
        let mut demoted = false;
        while self
            .change_points
            .get(self.changes_done as usize)
            .is_some_and(|point| *point <= step)
        {
            let task = runnable[best] as usize;
            self.priorities[task] = DEMOTED_PRIORITY_TOP - self.changes_done;
            self.changes_done += 1;
            demoted = true;
        }
        if demoted {
            return self.pick(runnable, step);
        }
        self.note_pick(runnable[best], true);
        best as u64
    }

    /// The only runnable task runs (no draw, no change point).
    #[inline]
    pub(crate) fn pick_only(&mut self, task: u32) {
        self.note_pick(task, false);
    }

    fn note_pick(&mut self, task: u32, others_waiting: bool) {
        if self.streak_task == Some(task) && others_waiting {
            self.streak_polls += 1;
            if self.streak_polls >= PCT_SPIN_POLLS {
                // The task spins while others wait: drop it below everyone.
                let lowest = self.priorities.iter().copied().min().unwrap_or(0);
                self.priorities[task as usize] = lowest.saturating_sub(1);
                self.streak_polls = 0;
            }
        } else {
            self.streak_task = Some(task);
            self.streak_polls = 0;
        }
    }
}
