//! The run queue: runnable task indices, oldest first, with cheap removal of
//! the k-th entry.
//!
//! A scheduling draw of `k` polls the k-th oldest runnable task, so the
//! queue must support "remove at k" as well as FIFO push and pop. A
//! `VecDeque` does, but its wrap-around bookkeeping cost more than the move
//! itself in profiles. This is a buffer of slots with a moving head instead.
//!
//! Under a random strategy `k` is unpredictable, and so is every branch that
//! depends on it: a mispredicted branch costs more than the move itself. So a
//! short queue (up to [`BLOCK`] entries, the common case) removes with no
//! branch on `k` at all: it moves the fixed block of [`BLOCK`] slots after
//! the entry one slot to the front, which the compiler does with a few
//! vector loads and stores. The buffer keeps [`BLOCK`] initialised slots of
//! padding after the tail so the block is always in bounds; the padding it
//! carries along is never read as an entry. A longer queue shifts whichever
//! side of the entry is shorter.

/// Entries a short queue holds, and the slots its removal moves.
const BLOCK: usize = 16;

/// Runnable task indices in FIFO order.
#[derive(Debug, Default)]
pub(crate) struct RunQueue {
    /// `[head..end]` are the entries; `[end..end + BLOCK]` is padding
    /// (`slots` is empty until the first push).
    slots: Vec<u32>,
    /// Index of the oldest entry.
    head: usize,
    /// One past the newest entry.
    end: usize,
}

impl RunQueue {
    /// The live entries, oldest first.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u32] {
        &self.slots[self.head..self.end]
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end - self.head
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.end == self.head
    }

    #[inline]
    pub(crate) fn push_back(&mut self, task: u32) {
        if self.end + BLOCK >= self.slots.len() {
            self.make_room();
        }
        self.slots[self.end] = task;
        self.end += 1;
    }

    /// Restores the tail padding: moves the entries back to the front when
    /// the dead prefix is at least as long as they are, else grows.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        let len = self.len();
        if self.head > 0 && self.head >= len {
            self.slots.copy_within(self.head..self.end, 0);
            self.head = 0;
            self.end = len;
        }
        if self.end + BLOCK >= self.slots.len() {
            let grown = (self.slots.len() * 2).max(self.end + 4 * BLOCK);
            self.slots.resize(grown, 0);
        }
    }

    /// Removes and returns the `position`-th oldest entry.
    ///
    /// # Panics
    ///
    /// When `position` is out of range (an asyncsim bug: positions come from
    /// draws bounded by `len`).
    #[inline(always)]
    pub(crate) fn remove(&mut self, position: usize) -> u32 {
        let len = self.len();
        assert!(
            position < len,
            "asyncsim bug: run queue position out of range"
        );
        if len > BLOCK {
            return self.remove_long(position);
        }
        // No branch on `position`: the block after the entry moves one slot
        // to the front, padding and all.
        let index = self.head + position;
        let window: &mut [u32; BLOCK + 1] = (&mut self.slots[index..index + BLOCK + 1])
            .try_into()
            .expect("a window is BLOCK + 1 slots");
        let task = window[0];
        window.copy_within(1.., 0);
        self.end -= 1;
        if self.head == self.end {
            self.clear();
        }
        task
    }

    /// `remove` on a queue longer than [`BLOCK`]: shifts the shorter side.
    #[inline(never)]
    fn remove_long(&mut self, position: usize) -> u32 {
        let len = self.len();
        let index = self.head + position;
        let task = self.slots[index];
        if position < len / 2 {
            // Shift the older entries one slot toward the back.
            self.slots.copy_within(self.head..index, self.head + 1);
            self.head += 1;
        } else {
            self.slots.copy_within(index + 1..self.end, index);
            self.end -= 1;
        }
        task
    }

    /// Removes `task` if it is queued.
    pub(crate) fn remove_task(&mut self, task: u32) -> bool {
        match self.as_slice().iter().position(|queued| *queued == task) {
            Some(position) => {
                self.remove(position);
                true
            }
            None => false,
        }
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.end = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// The queue behaves exactly like a `VecDeque` under any mix of pushes
    /// and removals (a small deterministic pseudo-random walk).
    #[test]
    fn run_queue_matches_a_vecdeque() {
        let mut queue = RunQueue::default();
        let mut model = VecDeque::new();
        let mut state: u64 = 0x1234_5678;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        for step in 0..20_000u32 {
            let roll = next();
            if model.is_empty() || roll % 3 != 0 {
                queue.push_back(step);
                model.push_back(step);
            } else {
                let position = (next() as usize) % model.len();
                assert_eq!(queue.remove(position), model.remove(position).unwrap());
            }
            assert_eq!(queue.len(), model.len());
            assert!(queue.as_slice().iter().eq(model.iter()));
        }
        while !model.is_empty() {
            assert_eq!(queue.remove(0), model.pop_front().unwrap());
        }
        assert!(queue.is_empty());
    }

    #[test]
    fn remove_task_finds_and_removes_only_that_task() {
        let mut queue = RunQueue::default();
        for task in [4, 7, 9] {
            queue.push_back(task);
        }
        assert!(queue.remove_task(7));
        assert!(!queue.remove_task(7));
        assert_eq!(queue.as_slice(), [4, 9]);
    }
}
