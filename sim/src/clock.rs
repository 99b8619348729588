//! The virtual clock's timer driver: timers ordered by `(deadline_ns,
//! sequence)`, so their order is fully determined by the key, never by
//! addresses; the kernel fires those due in a drawn order.

use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Waker;
use std::time::Duration;

use crate::pool::PoolJob;
use crate::trace::TaskId;

/// A timer's name, for its cancel or update: the order it was set in,
/// where its action is stored, and the run it was set in (a key kept past
/// its run, say by a leaked `Sleep` dropped in a later run, names nothing
/// there). Two words, slot and epoch packed in the second: returned in
/// registers, not through memory (three fields came back through the
/// stack, and the setter's wide read of it stalled); the deadline is its
/// setter's to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    sequence: u64,
    /// The slot in the low half, the epoch in the high half.
    slot_epoch: u64,
}

impl TimerKey {
    #[inline(always)]
    fn new(sequence: u64, slot: u32, epoch: u32) -> TimerKey {
        TimerKey {
            sequence,
            slot_epoch: u64::from(slot) | (u64::from(epoch) << 32),
        }
    }

    #[inline(always)]
    fn slot(self) -> u32 {
        self.slot_epoch as u32
    }

    #[inline(always)]
    fn epoch(self) -> u32 {
        (self.slot_epoch >> 32) as u32
    }
}

/// Every run's clock gets its own epoch (process-wide: keys are plain
/// values and may cross threads). Never observable: it only makes a stale
/// key miss.
static EPOCHS: AtomicU32 = AtomicU32::new(1);

/// A heap entry: the order key and the action's slot. A cancelled timer's
/// entry stays behind until it reaches the top (its slot no longer holds
/// its sequence); the top is always a live timer's.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Entry {
    deadline_ns: u64,
    sequence: u64,
    // Not `u32`: a padded entry is copied with a wide load over a narrow
    // store (a stall on every push).
    slot: u64,
}

impl Entry {
    /// The order key, `(deadline, sequence)` as one number: compared
    /// without a branch (the heap's sift compares on every level).
    #[inline(always)]
    fn key(&self) -> u128 {
        (u128::from(self.deadline_ns) << 64) | u128::from(self.sequence)
    }
}

impl Ord for Entry {
    #[inline(always)]
    fn cmp(&self, other: &Entry) -> std::cmp::Ordering {
        // Sequences are unique: the slot never decides.
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Entry {
    #[inline(always)]
    fn partial_cmp(&self, other: &Entry) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }

    #[inline(always)]
    fn lt(&self, other: &Entry) -> bool {
        self.key() < other.key()
    }

    #[inline(always)]
    fn le(&self, other: &Entry) -> bool {
        self.key() <= other.key()
    }
}

/// Where a timer's action waits: `sequence` names the timer it holds.
struct Slot {
    sequence: u64,
    action: Option<TimerAction>,
}

/// A min-heap of entries, written out rather than a `BinaryHeap`: that
/// one's `push` stores the new entry and reads it straight back, wider than
/// it was stored (a store-forwarding stall on every timer set). Here the
/// new entry stays in registers until its place is found. Keys are unique,
/// so what pops, and in what order, does not depend on the layout.
#[derive(Default)]
struct Heap {
    entries: Vec<Entry>,
}

impl Heap {
    #[inline(always)]
    fn peek(&self) -> Option<&Entry> {
        self.entries.first()
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline(always)]
    fn as_slice(&self) -> &[Entry] {
        &self.entries
    }

    fn clear(&mut self) {
        self.entries.clear();
    }

    #[inline(always)]
    fn push(&mut self, entry: Entry) {
        let mut hole = self.entries.len();
        self.entries.push(entry);
        let entries = &mut self.entries[..];
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if entries[parent].key() <= entry.key() {
                break;
            }
            entries[hole] = entries[parent];
            hole = parent;
        }
        entries[hole] = entry;
    }

    /// Removes the earliest entry (read it first with `peek`).
    #[inline]
    fn pop(&mut self) {
        let Some(last) = self.entries.pop() else {
            return;
        };
        let entries = &mut self.entries[..];
        let len = entries.len();
        if len == 0 {
            return;
        }
        // The hole goes down the earlier children to the bottom, then
        // `last` goes up from there (it is seldom far up).
        let mut hole = 0;
        let mut child = 1;
        while child + 1 < len {
            child += usize::from(entries[child + 1].key() < entries[child].key());
            entries[hole] = entries[child];
            hole = child;
            child = 2 * hole + 1;
        }
        if child + 1 == len {
            entries[hole] = entries[child];
            hole = child;
        }
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if entries[parent].key() <= last.key() {
                break;
            }
            entries[hole] = entries[parent];
            hole = parent;
        }
        entries[hole] = last;
    }

    /// Keeps the entries `keep` passes (sorted: a sorted list is a heap).
    fn retain(&mut self, keep: impl FnMut(&Entry) -> bool) {
        self.entries.retain(keep);
        self.entries.sort_unstable();
    }

    fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }
}

/// Virtual time and the timers that will move it.
///
/// The kernel owns the one `Clock` of a run (inside its state); time moves
/// only when nothing is runnable (a jump to [`Clock::next_deadline`]) or
/// inside a blocking sleep on the loop.
///
/// The timers are a binary heap of keys over a slab of actions: setting and
/// firing one is a push and a pop (no allocation once the slab has grown;
/// the `BTreeMap` this replaced allocated and freed a node whenever it
/// emptied, which a message's timer does), and a cancel only empties the
/// slot.
#[derive(Default)]
pub(crate) struct Clock {
    /// Virtual nanoseconds since the run started.
    pub(crate) now_ns: u64,
    /// The timers' keys, earliest first; some may be cancelled ones.
    heap: Heap,
    slots: Vec<Slot>,
    /// Slots free for reuse.
    free: Vec<u32>,
    /// Timers set and not yet fired or cancelled.
    live: usize,
    /// The last sequence number handed out.
    sequence: u64,
    /// This run's epoch (see [`TimerKey`]).
    epoch: u32,
    /// Empty lists kept for firing timers in groups (no allocation a
    /// group): between firings they hold nothing.
    pub(crate) spare_group: Vec<(u64, TimerAction)>,
    pub(crate) spare_due: Vec<(u64, TimerAction)>,
    /// True once a [`TimerAction::Call`] was set in this run: only then
    /// does a group of due timers look for calls to fire first.
    pub(crate) calls_set: bool,
}

impl Clock {
    /// The bytes its timer lists hold (for a `Sim` deciding whether to keep
    /// its core for the next one).
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.heap.entries.capacity() * std::mem::size_of::<Entry>()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.free.capacity() * std::mem::size_of::<u32>()
    }

    /// Back to time 0 with no timers. (The caller took and dropped the
    /// actions first: see [`Clock::take_all_into`].)
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.now_ns = 0;
        if self.live > 0 || !self.heap.is_empty() {
            self.heap.clear();
            self.slots.clear();
            self.free.clear();
            self.live = 0;
        }
        self.sequence = 0;
        self.calls_set = false;
        self.epoch = EPOCHS.fetch_add(1, Ordering::Relaxed);
    }

    /// True when no timer is set.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Sets a timer; returns its key.
    #[inline(always)]
    pub(crate) fn insert(&mut self, deadline_ns: u64, action: TimerAction) -> TimerKey {
        self.sequence += 1;
        let sequence = self.sequence;
        let slot = match self.free.pop() {
            Some(slot) => {
                let entry = &mut self.slots[slot as usize];
                entry.sequence = sequence;
                entry.action = Some(action);
                slot
            }
            None => {
                let slot = self.slots.len() as u32;
                self.slots.push(Slot {
                    sequence,
                    action: Some(action),
                });
                slot
            }
        };
        self.live += 1;
        self.heap.push(Entry {
            deadline_ns,
            sequence,
            slot: u64::from(slot),
        });
        TimerKey::new(sequence, slot, self.epoch)
    }

    /// True when `entry`'s timer was cancelled (or fired).
    #[inline(always)]
    fn is_stale(&self, entry: &Entry) -> bool {
        let slot = &self.slots[entry.slot as usize];
        slot.sequence != entry.sequence || slot.action.is_none()
    }

    /// Drops cancelled timers' entries from the top, so the top is live.
    #[inline]
    fn drop_stale_top(&mut self) {
        while let Some(top) = self.heap.peek() {
            if !self.is_stale(top) {
                return;
            }
            self.heap.pop();
        }
    }

    /// Takes the earliest timer (live: see `drop_stale_top`).
    #[inline]
    fn pop_top(&mut self) -> Option<(Entry, TimerAction)> {
        // Copied from the heap, not taken from `pop`'s return: that comes
        // back through memory, and reading it at once stalled every fire.
        let top = *self.heap.peek()?;
        self.heap.pop();
        let slot = &mut self.slots[top.slot as usize];
        let action = slot
            .action
            .take()
            .expect("asyncsim bug: a stale timer on top");
        self.free.push(top.slot as u32);
        self.live -= 1;
        self.drop_stale_top();
        Some((top, action))
    }

    /// The earliest deadline of a timer, if any.
    #[inline(always)]
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|top| top.deadline_ns)
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
        if self.next_deadline()? > self.now_ns {
            return None;
        }
        // The next earliest entry is one of the top's two children: if
        // either is due (even a cancelled one), the general path decides
        // (a group of one draws nothing, so it fires the same).
        let heap = self.heap.as_slice();
        let children = &heap[heap.len().min(1)..heap.len().min(3)];
        if children
            .iter()
            .any(|child| child.deadline_ns <= self.now_ns)
        {
            return None;
        }
        let (entry, action) = self.pop_top()?;
        Some((entry.deadline_ns, action))
    }

    /// Moves the timers sharing the earliest deadline, if it has come, into
    /// `group` (empty), in key order; false when none is due. (The kernel
    /// fires them in a drawn order: asyncio's heap gives equal deadlines no
    /// order.)
    pub(crate) fn take_due_group(&mut self, group: &mut Vec<(u64, TimerAction)>) -> bool {
        let Some(deadline) = self
            .next_deadline()
            .filter(|deadline| *deadline <= self.now_ns)
        else {
            return false;
        };
        while self.next_deadline() == Some(deadline) {
            group.extend(
                self.pop_top()
                    .map(|(entry, action)| (entry.deadline_ns, action)),
            );
        }
        true
    }

    /// The action of the timer `key`, unless it fired or was cancelled.
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut TimerAction> {
        let slot = self.slots.get_mut(key.slot() as usize)?;
        if slot.sequence != key.sequence || key.epoch() != self.epoch {
            return None;
        }
        slot.action.as_mut()
    }

    /// Cancels the timer `key`; its action, unless it fired or was
    /// cancelled already.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<TimerAction> {
        let slot = self.slots.get_mut(key.slot() as usize)?;
        if slot.sequence != key.sequence || key.epoch() != self.epoch {
            return None;
        }
        let action = slot.action.take()?;
        self.free.push(key.slot());
        self.live -= 1;
        self.drop_stale_top();
        // Cancelled entries wait in the heap until they reach its top;
        // when they outnumber the live ones, they go at once.
        if self.heap.len() > 2 * self.live + 32 {
            let slots = &self.slots;
            self.heap.retain(|entry| {
                let slot = &slots[entry.slot as usize];
                slot.sequence == entry.sequence && slot.action.is_some()
            });
        }
        Some(action)
    }

    /// The keys of the live timers whose actions pass `keep`, in key order.
    pub(crate) fn keys_where(&self, mut keep: impl FnMut(&TimerAction) -> bool) -> Vec<TimerKey> {
        let mut entries: Vec<Entry> = self
            .heap
            .iter()
            .filter(|entry| !self.is_stale(entry))
            .filter(|entry| {
                self.slots[entry.slot as usize]
                    .action
                    .as_ref()
                    .is_some_and(&mut keep)
            })
            .copied()
            .collect();
        entries.sort_unstable();
        entries
            .iter()
            .map(|entry| TimerKey::new(entry.sequence, entry.slot as u32, self.epoch))
            .collect()
    }

    /// Takes every timer's action, in key order (the run ends: they are
    /// dropped outside the state's borrow, in the order they would fire),
    /// handing each to `take`.
    pub(crate) fn take_all_into(&mut self, mut take: impl FnMut(TimerAction)) {
        // Sorted in place: the heap keeps its buffer for the next run.
        self.heap.entries.sort_unstable();
        for entry in self.heap.entries.drain(..) {
            let slot = &mut self.slots[entry.slot as usize];
            if slot.sequence == entry.sequence {
                if let Some(action) = slot.action.take() {
                    take(action);
                }
            }
        }
        self.slots.clear();
        self.free.clear();
        self.live = 0;
    }

    /// [`Clock::take_all_into`], as a list.
    #[cfg(test)]
    pub(crate) fn take_all(&mut self) -> Vec<TimerAction> {
        let mut actions = Vec::with_capacity(self.live);
        self.take_all_into(|action| actions.push(action));
        actions
    }
}
/// What a timer does when it fires.
pub(crate) enum TimerAction {
    /// Wake a sleeping future; `task` is the task that registered it.
    Wake { task: TaskId, waker: Waker },
    /// A pool job's virtual work is over: deliver its result.
    PoolFinish { job: u32 },
    /// The world acts at a time (`cx::call_at`): `call(arg)`, between
    /// steps, outside every borrow of the run's state. No task's: it wakes
    /// nobody, and fires before the other timers due with it, with no draw
    /// (its order among them changes nothing a task can see).
    Call { call: fn(u64), arg: u64 },
}

impl TimerAction {
    pub(crate) fn task(&self, jobs: &[PoolJob]) -> Option<TaskId> {
        match self {
            TimerAction::Wake { task, .. } => Some(*task),
            TimerAction::PoolFinish { job } => jobs.get(*job as usize).map(|job| job.task),
            TimerAction::Call { .. } => None,
        }
    }
}

/// Converts a `Duration` to whole nanoseconds, saturating at `u64::MAX`
/// (about 584 years).
pub fn duration_to_ns(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn action(id: u32) -> TimerAction {
        TimerAction::PoolFinish { job: id }
    }

    fn id(action: &TimerAction) -> u32 {
        match action {
            TimerAction::PoolFinish { job } => *job,
            TimerAction::Wake { .. } | TimerAction::Call { .. } => unreachable!(),
        }
    }

    /// Sets, cancels, updates and fires timers at random, against a
    /// `BTreeMap` of `(deadline, sequence)` (the store the heap replaced):
    /// the same timers fire in the same order and groups, cancelled entries
    /// left in the heap never fire, and listing and draining go in key
    /// order.
    #[test]
    fn the_heap_fires_timers_as_a_sorted_map_of_their_keys_would() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut random = move |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        for round in 0..40 {
            let mut clock = Clock::default();
            let mut model: BTreeMap<(u64, u64), u32> = BTreeMap::new();
            let mut keys: Vec<(u64, TimerKey)> = Vec::new();
            let mut next_id = 0;
            for _ in 0..2_000 {
                match random(10) {
                    0..=3 => {
                        // Few distinct deadlines: equal ones form groups.
                        let deadline = clock.now_ns + random(if round % 2 == 0 { 8 } else { 400 });
                        let key = clock.insert(deadline, action(next_id));
                        assert!(model.insert((deadline, key.sequence), next_id).is_none());
                        keys.push((deadline, key));
                        next_id += 1;
                    }
                    4..=5 if !keys.is_empty() => {
                        let (deadline, key) = keys.swap_remove(random(keys.len() as u64) as usize);
                        let removed = clock.remove(key).map(|action| id(&action));
                        assert_eq!(removed, model.remove(&(deadline, key.sequence)));
                        assert_eq!(clock.remove(key).map(|action| id(&action)), None);
                    }
                    6 if !keys.is_empty() => {
                        let (deadline, key) = keys[random(keys.len() as u64) as usize];
                        let found = clock.get_mut(key).map(|action| id(action));
                        assert_eq!(found, model.get(&(deadline, key.sequence)).copied());
                    }
                    7 => {
                        let listed: Vec<u32> = clock
                            .keys_where(|action| id(action).is_multiple_of(3))
                            .iter()
                            .map(|key| id(clock.get_mut(*key).unwrap()))
                            .collect();
                        let expected: Vec<u32> = model
                            .values()
                            .copied()
                            .filter(|id| id.is_multiple_of(3))
                            .collect();
                        assert_eq!(listed, expected);
                    }
                    _ => {
                        // Time moves to the next deadline (sometimes past
                        // it, as a blocking sleep would); what is due fires.
                        let Some(next) = clock.next_deadline() else {
                            continue;
                        };
                        assert_eq!(Some(next), model.keys().next().map(|key| key.0));
                        clock.now_ns = next + random(3) * random(50);
                        let due: Vec<(u64, u64)> = model
                            .keys()
                            .take_while(|key| key.0 <= clock.now_ns)
                            .copied()
                            .collect();
                        if let Some((deadline, fired)) = clock.pop_lone_due() {
                            assert_eq!(due.len(), 1, "a lone pop with others due");
                            assert_eq!((deadline, id(&fired)), (due[0].0, model[&due[0]]));
                        } else {
                            let mut group = Vec::new();
                            let mut fired = Vec::new();
                            while clock.take_due_group(&mut group) {
                                let deadline = group[0].0;
                                assert!(group.iter().all(|(due, _)| *due == deadline));
                                fired.extend(
                                    group
                                        .drain(..)
                                        .map(|(deadline, action)| (deadline, id(&action))),
                                );
                            }
                            let expected: Vec<(u64, u32)> =
                                due.iter().map(|key| (key.0, model[key])).collect();
                            assert_eq!(fired, expected);
                        }
                        for key in &due {
                            model.remove(key);
                        }
                        keys.retain(|(deadline, key)| {
                            model.contains_key(&(*deadline, key.sequence))
                        });
                    }
                }
                assert_eq!(clock.is_empty(), model.is_empty());
                assert!(clock.heap.len() <= 2 * clock.live + 33);
            }
            let drained: Vec<u32> = clock.take_all().iter().map(id).collect();
            assert_eq!(drained, model.values().copied().collect::<Vec<_>>());
            assert!(clock.is_empty() && clock.next_deadline().is_none());
            // The next run reuses the slots and restarts the sequences: a
            // key kept from this run names none of its timers.
            clock.reset();
            let kept = clock.insert(7, action(u32::MAX));
            drop(clock.take_all());
            clock.reset();
            let fresh = clock.insert(7, action(1));
            assert_eq!((fresh.sequence, fresh.slot()), (kept.sequence, kept.slot()));
            assert!(clock.get_mut(kept).is_none() && clock.remove(kept).is_none());
            assert_eq!(clock.remove(fresh).map(|action| id(&action)), Some(1));
        }
    }
}
