//! The run queue: runnable task indices, oldest first, with cheap removal of
//! the k-th entry.
//!
//! A scheduling draw of `k` polls the k-th oldest runnable task, so the
//! queue must support "remove at k" as well as FIFO push and pop. A
//! `VecDeque` does, but its wrap-around bookkeeping cost more than the move
//! itself in profiles. This is a `Vec` with a moving head instead: popping the
//! front advances `head`, removing from the middle shifts whichever side is
//! shorter by one slot, and the dead prefix is reclaimed when it grows larger
//! than the live part.

/// Runnable task indices in FIFO order.
#[derive(Debug, Default)]
pub(crate) struct RunQueue {
    slots: Vec<u32>,
    /// Index of the oldest live entry in `slots`.
    head: usize,
}

impl RunQueue {
    /// The live entries, oldest first.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u32] {
        &self.slots[self.head..]
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.head
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.len() == self.head
    }

    #[inline]
    pub(crate) fn push_back(&mut self, task: u32) {
        if self.head >= 32 && self.head >= self.slots.len() / 2 {
            self.slots.drain(..self.head);
            self.head = 0;
        }
        self.slots.push(task);
    }

    /// Removes and returns the `position`-th oldest entry.
    ///
    /// # Panics
    ///
    /// When `position` is out of range (an asyncsim bug: positions come from
    /// draws bounded by `len`).
    #[inline]
    pub(crate) fn remove(&mut self, position: usize) -> u32 {
        let index = self.head + position;
        let task = self.slots[index];
        if position == 0 {
            // The oldest: asyncio's own choice, and every FIFO pick.
            self.head += 1;
        } else if position < self.len() / 2 {
            // Shift the older entries one slot toward the back.
            self.slots.copy_within(self.head..index, self.head + 1);
            self.head += 1;
        } else {
            self.slots.copy_within(index + 1.., index);
            self.slots.pop();
        }
        if self.head == self.slots.len() {
            self.slots.clear();
            self.head = 0;
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

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.head = 0;
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
