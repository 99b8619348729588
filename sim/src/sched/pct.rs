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
//!
//! # Cost per step
//!
//! The runnable tasks sit in a max-heap by (priority, oldest first), kept in
//! step with the kernel's run queue without a hook on the hot path: the queue
//! only grows at its back between picks and loses the picked entry at a pick,
//! so each pick adds the entries past the ones it has seen. A task's place in
//! the queue (the value the tape records) is found by binary search, since
//! the queue is in the order the tasks were added to the heap. A pick is then
//! `O(log n)` in the runnable tasks, where a scan was `O(n)`: 100,000 tasks
//! took 15.4 s under PCT against 0.34 s under `Random` (issue #14). Anything
//! else that takes a task out of the queue (an abort, a crash) is rare and
//! says so ([`Pct::queue_changed`]): the next pick rebuilds the heap.
//!
//! The picks are the scan's, tie for tie: the highest priority, and among
//! equal priorities the oldest in the queue (a unit test holds the two to
//! each other on random queues).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::rng::{bounded, Stream};
use super::PCT_SPIN_POLLS;

/// Initial priorities are at least this (and below 2^63); a change point's
/// demotion gives a priority below it, so a demoted task runs after every
/// task not yet demoted.
const INITIAL_PRIORITY_FLOOR: u64 = 1 << 40;
/// Change point `i` (from 0) gives priority `DEMOTED_PRIORITY_TOP - i`: each
/// one lower than the one before, all below every initial priority.
const DEMOTED_PRIORITY_TOP: u64 = (1 << 32) - 1;

/// A runnable task in the heap: the greatest entry runs next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    priority: u64,
    /// When the task entered the queue: the oldest wins a tie.
    order: Reverse<u64>,
    task: u32,
    /// The task's entry count when this one was made: an entry is current
    /// only while it is the task's latest (a demotion or a new turn in the
    /// queue makes a new one; the old ones are skipped when they surface).
    version: u32,
}

/// PCT's per-run state.
#[derive(Debug, Default)]
pub(crate) struct Pct {
    /// Priority of each task by index (higher runs first).
    priorities: Vec<u64>,
    /// The lowest priority any task has had this run (the spin rule demotes
    /// below it).
    lowest: u64,
    /// Steps at which the running task is demoted, ascending.
    change_points: Vec<u64>,
    /// How many change points have passed (the next demotion priority).
    changes_done: u64,
    /// The task picked in a row most recently, and how many times in a row
    /// (for the spin rule).
    streak_task: Option<u32>,
    streak_polls: u32,
    /// The runnable tasks (and stale entries, skipped when they surface).
    heap: BinaryHeap<Entry>,
    /// By task: the order of its current turn in the queue, and its latest
    /// entry's version.
    order_of: Vec<u64>,
    version_of: Vec<u32>,
    next_order: u64,
    /// The run queue's first `seen` entries are in the heap.
    seen: usize,
    /// A task left the queue other than by a pick: rebuild at the next one.
    rebuild: bool,
    /// Heap entries pushed or popped and queue entries probed: the work the
    /// picks did (tests hold it to `O(log n)` a pick).
    #[cfg(test)]
    work: u64,
}

impl Pct {
    /// Starts a run: `depth - 1` change points drawn over `steps_estimate`.
    pub(crate) fn reset(&mut self, depth: u32, steps_estimate: u64, rng: &mut Stream) {
        self.priorities.clear();
        self.lowest = u64::MAX;
        self.change_points.clear();
        self.changes_done = 0;
        self.streak_task = None;
        self.streak_polls = 0;
        self.heap.clear();
        self.order_of.clear();
        self.version_of.clear();
        self.next_order = 0;
        self.seen = 0;
        self.rebuild = false;
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
            self.order_of.resize(index + 1, 0);
            self.version_of.resize(index + 1, 0);
        }
        self.set_priority(task, (rng.next_u64() >> 1) | INITIAL_PRIORITY_FLOOR);
    }

    /// A task left the run queue other than by a pick (an abort, a crash).
    #[cold]
    pub(crate) fn queue_changed(&mut self) {
        self.rebuild = true;
    }

    /// The position in `runnable` (oldest first, two or more tasks) of the
    /// task to run at `step`: the highest priority, the oldest on a tie. The
    /// kernel then takes it out of the queue.
    pub(crate) fn pick(&mut self, runnable: &[u32], step: u64) -> u64 {
        self.take_in(runnable);
        loop {
            let best = self.top();
            // A change point demotes whichever task is about to run at that
            // step (all of those due at once, lower each time).
            if self.change_point_due(step) {
                while self.change_point_due(step) {
                    self.set_priority(best.task, DEMOTED_PRIORITY_TOP - self.changes_done);
                    self.changes_done += 1;
                }
                self.push(best.task, best.order.0);
                continue;
            }
            self.heap.pop();
            self.count_work(1);
            let position = self.position(runnable, best);
            self.seen = runnable.len() - 1;
            self.note_pick(best.task, true);
            return position as u64;
        }
    }

    /// The only runnable task runs (no draw, no change point); the queue is
    /// empty afterwards.
    #[inline]
    pub(crate) fn pick_only(&mut self, task: u32) {
        self.heap.clear();
        self.seen = 0;
        self.rebuild = false;
        self.note_pick(task, false);
    }

    fn change_point_due(&self, step: u64) -> bool {
        self.change_points
            .get(self.changes_done as usize)
            .is_some_and(|point| *point <= step)
    }

    fn set_priority(&mut self, task: u32, priority: u64) {
        self.priorities[task as usize] = priority;
        self.lowest = self.lowest.min(priority);
    }

    /// Adds the queue's entries past the ones seen (all of them after a
    /// change the heap did not follow).
    fn take_in(&mut self, runnable: &[u32]) {
        if self.rebuild {
            self.rebuild = false;
            self.heap.clear();
            self.seen = 0;
        }
        debug_assert!(
            self.seen <= runnable.len(),
            "asyncsim bug: PCT lost the queue"
        );
        for &task in &runnable[self.seen..] {
            let order = self.next_order;
            self.next_order += 1;
            self.order_of[task as usize] = order;
            self.push(task, order);
        }
        self.seen = runnable.len();
    }

    fn push(&mut self, task: u32, order: u64) {
        let version = &mut self.version_of[task as usize];
        *version = version.wrapping_add(1);
        let entry = Entry {
            priority: self.priorities[task as usize],
            order: Reverse(order),
            task,
            version: *version,
        };
        self.heap.push(entry);
        self.count_work(1);
    }

    /// The greatest current entry (stale ones on top are dropped).
    fn top(&mut self) -> Entry {
        loop {
            let entry = *self
                .heap
                .peek()
                .expect("asyncsim bug: PCT picked from an empty queue");
            if entry.version == self.version_of[entry.task as usize] {
                return entry;
            }
            self.heap.pop();
            self.count_work(1);
        }
    }

    /// Where `entry`'s task sits in the queue: the queue is in order of
    /// entry, so a binary search on the tasks' orders finds it.
    fn position(&mut self, runnable: &[u32], entry: Entry) -> usize {
        let order = entry.order.0;
        let mut probes = 0;
        let position = runnable.partition_point(|task| {
            probes += 1;
            self.order_of[*task as usize] < order
        });
        self.count_work(probes);
        debug_assert_eq!(
            runnable.get(position),
            Some(&entry.task),
            "asyncsim bug: PCT's heap and the run queue disagree"
        );
        position
    }

    fn note_pick(&mut self, task: u32, others_waiting: bool) {
        if self.streak_task == Some(task) && others_waiting {
            self.streak_polls += 1;
            if self.streak_polls >= PCT_SPIN_POLLS {
                // The task spins while others wait: drop it below everyone.
                self.set_priority(task, self.lowest.saturating_sub(1));
                self.streak_polls = 0;
            }
        } else {
            self.streak_task = Some(task);
            self.streak_polls = 0;
        }
    }

    #[inline(always)]
    fn count_work(&mut self, _amount: u64) {
        #[cfg(test)]
        {
            self.work += _amount;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PCT as it was before the heap: a scan of the queue at every pick.
    /// The heap must pick exactly as it did.
    #[derive(Default)]
    struct Scan {
        priorities: Vec<u64>,
        change_points: Vec<u64>,
        changes_done: u64,
        streak_task: Option<u32>,
        streak_polls: u32,
    }

    impl Scan {
        fn reset(&mut self, depth: u32, steps_estimate: u64, rng: &mut Stream) {
            *self = Scan::default();
            for _ in 1..depth.max(1) {
                self.change_points.push(bounded(rng, steps_estimate.max(1)));
            }
            self.change_points.sort_unstable();
        }

        fn task_spawned(&mut self, task: u32, rng: &mut Stream) {
            if self.priorities.len() <= task as usize {
                self.priorities.resize(task as usize + 1, 0);
            }
            self.priorities[task as usize] = (rng.next_u64() >> 1) | INITIAL_PRIORITY_FLOOR;
        }

        fn pick(&mut self, runnable: &[u32], step: u64) -> u64 {
            let mut best = 0;
            let mut best_priority = 0;
            for (position, task) in runnable.iter().enumerate() {
                let priority = self.priorities[*task as usize];
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
                self.priorities[runnable[best] as usize] = DEMOTED_PRIORITY_TOP - self.changes_done;
                self.changes_done += 1;
                demoted = true;
            }
            if demoted {
                return self.pick(runnable, step);
            }
            self.note_pick(runnable[best], true);
            best as u64
        }

        fn note_pick(&mut self, task: u32, others_waiting: bool) {
            if self.streak_task == Some(task) && others_waiting {
                self.streak_polls += 1;
                if self.streak_polls >= PCT_SPIN_POLLS {
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

    /// A small deterministic generator for the simulated kernel's choices.
    struct Choices(u64);

    impl Choices {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % bound
        }
    }

    /// Plays the kernel's part on a run queue: spawns, picks (the picked
    /// task yields back or goes idle), wakes of idle tasks, and rare aborts;
    /// returns the positions each PCT picked, and the heap's work.
    fn play(seed: u64, depth: u32, steps: u64, spin: bool) -> (Vec<u64>, Vec<u64>, u64, u64) {
        let mut heap_rng = Stream::new();
        let mut scan_rng = Stream::new();
        heap_rng.reseed(seed);
        scan_rng.reseed(seed);
        let mut heap = Pct::default();
        let mut scan = Scan::default();
        heap.reset(depth, steps, &mut heap_rng);
        scan.reset(depth, steps, &mut scan_rng);
        let mut choices = Choices(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut queue: Vec<u32> = Vec::new();
        let mut idle: Vec<u32> = Vec::new();
        let mut tasks = 0u32;
        let (mut heap_picks, mut scan_picks, mut pick_steps) = (Vec::new(), Vec::new(), 0);
        for step in 0..steps {
            if tasks < 3 || choices.below(8) == 0 {
                heap.task_spawned(tasks, &mut heap_rng);
                scan.task_spawned(tasks, &mut scan_rng);
                queue.push(tasks);
                tasks += 1;
            }
            if !idle.is_empty() && choices.below(3) == 0 {
                let task = idle.swap_remove(choices.below(idle.len() as u64) as usize);
                queue.push(task);
            }
            if queue.len() > 2 && choices.below(50) == 0 {
                let gone = queue.remove(choices.below(queue.len() as u64) as usize);
                idle.push(gone);
                heap.queue_changed();
            }
            let position = match queue.len() {
                0 => continue,
                1 => {
                    heap.pick_only(queue[0]);
                    scan.note_pick(queue[0], false);
                    0
                }
                _ => {
                    pick_steps += 1;
                    let by_heap = heap.pick(&queue, step);
                    let by_scan = scan.pick(&queue, step);
                    heap_picks.push(by_heap);
                    scan_picks.push(by_scan);
                    by_scan as usize
                }
            };
            let task = queue.remove(position);
            // A spinner yields at once; others go idle now and then.
            if spin && task == 0 || choices.below(4) != 0 {
                queue.push(task);
            } else {
                idle.push(task);
            }
        }
        (heap_picks, scan_picks, heap.work, pick_steps)
    }

    #[test]
    fn the_heap_picks_exactly_as_the_scan_did() {
        for seed in 0..40 {
            for depth in [1, 2, 3, 5] {
                let (heap, scan, _, _) = play(seed, depth, 3_000, seed % 2 == 0);
                assert_eq!(heap, scan, "seed {seed}, depth {depth}");
            }
        }
    }

    /// Three runnable tasks with given priorities, all of which yield at
    /// every pick; the tasks each implementation picks, in order.
    fn yielding(priorities: [u64; 3], picks: u64) -> (Vec<u32>, Vec<u32>, Pct) {
        let mut rng = Stream::new();
        rng.reseed(0);
        let mut heap = Pct::default();
        let mut scan = Scan::default();
        heap.reset(1, 1, &mut rng);
        scan.reset(1, 1, &mut rng);
        for (task, priority) in priorities.into_iter().enumerate() {
            heap.task_spawned(task as u32, &mut rng);
            scan.task_spawned(task as u32, &mut rng);
            heap.set_priority(task as u32, priority);
            scan.priorities[task] = priority;
        }
        let (mut by_heap, mut by_scan) = (Vec::new(), Vec::new());
        let mut queue = vec![0, 1, 2];
        for step in 0..picks {
            let position = heap.pick(&queue, step) as usize;
            assert_eq!(position as u64, scan.pick(&queue, step));
            let task = queue.remove(position);
            by_heap.push(task);
            by_scan.push(task);
            queue.push(task);
        }
        (by_heap, by_scan, heap)
    }

    #[test]
    fn the_spin_rule_demotes_a_spinner_below_everyone_as_before() {
        let top = INITIAL_PRIORITY_FLOOR + 3;
        let spins = u64::from(PCT_SPIN_POLLS);
        let (picks, scan, heap) = yielding([top, top - 1, top - 2], spins + 2);
        assert_eq!(picks, scan);
        // Picked once, then PCT_SPIN_POLLS times again in a row: demoted
        // below the lowest priority, so the next task runs.
        assert!(picks[..spins as usize].iter().all(|task| *task == 0));
        assert_eq!(picks[spins as usize], 0);
        assert_eq!(picks[spins as usize + 1], 1);
        assert_eq!(heap.priorities[0], top - 3);
    }

    #[test]
    fn equal_priorities_run_the_oldest_first_as_before() {
        let (picks, scan, _) = yielding([INITIAL_PRIORITY_FLOOR; 3], 9);
        assert_eq!(picks, scan);
        // Each pick goes to the back of the queue: round-robin, oldest first.
        assert_eq!(picks, [0, 1, 2, 0, 1, 2, 0, 1, 2]);
    }

    /// Work per pick, counted (heap entries pushed and popped, queue entries
    /// probed), stays logarithmic in the runnable tasks: a scan's grows with
    /// them (a queue 100 times longer cost it 100 times more).
    #[test]
    fn a_pick_costs_the_same_order_of_work_with_100_or_10_000_runnable_tasks() {
        fn work_per_pick(tasks: u32) -> f64 {
            let mut rng = Stream::new();
            rng.reseed(1);
            let mut pct = Pct::default();
            pct.reset(3, 20_000, &mut rng);
            let mut queue: Vec<u32> = (0..tasks).collect();
            for task in 0..tasks {
                pct.task_spawned(task, &mut rng);
            }
            pct.work = 0;
            let picks = 20_000;
            for step in 0..picks {
                let position = pct.pick(&queue, step) as usize;
                let task = queue.remove(position);
                queue.push(task); // every task yields: it stays runnable
            }
            pct.work as f64 / picks as f64
        }
        let small = work_per_pick(100);
        let large = work_per_pick(10_000);
        assert!(
            large < 40.0,
            "{large} units of work a pick with 10,000 tasks"
        );
        assert!(
            large < 3.0 * small,
            "work a pick grew from {small} to {large} with 100 times the tasks"
        );
    }
}
