//! Buffers a `Run` hands to its caller — the trace's events and tasks, the
//! tape's draws — come back here when the caller drops them, and the next
//! run on the thread takes them instead of allocating afresh. A loop of runs
//! (what `check` and `explore` are) then allocates none of them after the
//! first few runs.
//!
//! Capacity is the only thing that travels: a spare is cleared before it is
//! kept, so nothing of one run can leak into another.

use std::cell::RefCell;
use std::thread::LocalKey;

/// Spares kept per kind and thread (a loop of runs needs one).
const KEEP: usize = 2;
/// Larger buffers go back to the allocator, so at most 2 × 4 MiB per kind
/// stay with a thread. (A 100×100 run's trace is 1.2 MB; a fresh one that
/// size costs the allocator an `mmap` and page faults, ~10 % of that run.)
const MAX_BYTES: usize = 4 << 20;

/// One kind's spare buffers on one thread: declare with `thread_local!`
/// beside the type that uses them (`tape/mod.rs`, `trace/mod.rs`), so this module
/// knows nothing of what it keeps.
pub(crate) type Spares<T> = RefCell<Vec<Vec<T>>>;

/// Keeps `buffer`'s capacity for the next [`take`] (cleared first).
#[inline]
pub(crate) fn give<T>(spares: &'static LocalKey<Spares<T>>, buffer: Vec<T>) {
    // `try_`: during thread teardown, or if a destructor run by `clear`
    // reentered, the buffer simply goes back to the allocator.
    let _ = spares.try_with(|spares| {
        if let Ok(mut spares) = spares.try_borrow_mut() {
            give_to(&mut spares, buffer);
        }
    });
}

/// [`give`] into spares the caller has borrowed (several kinds kept in one
/// thread-local, borrowed once: `trace/mod.rs`).
#[inline]
pub(crate) fn give_to<T>(spares: &mut Vec<Vec<T>>, mut buffer: Vec<T>) {
    let bytes = buffer.capacity() * std::mem::size_of::<T>();
    if bytes == 0 || bytes > MAX_BYTES || spares.len() >= KEEP {
        return;
    }
    buffer.clear();
    spares.push(buffer);
}

/// An empty buffer with room for `capacity`: a spare if there is one.
#[inline]
pub(crate) fn take<T>(spares: &'static LocalKey<Spares<T>>, capacity: usize) -> Vec<T> {
    let spare = spares
        .try_with(|spares| {
            spares
                .try_borrow_mut()
                .ok()
                .and_then(|mut spares| spares.pop())
        })
        .ok()
        .flatten();
    sized(spare, capacity)
}

/// [`take`] from spares the caller has borrowed.
#[inline]
pub(crate) fn take_from<T>(spares: &mut Vec<Vec<T>>, capacity: usize) -> Vec<T> {
    sized(spares.pop(), capacity)
}

#[inline]
fn sized<T>(spare: Option<Vec<T>>, capacity: usize) -> Vec<T> {
    match spare {
        Some(mut buffer) => {
            // Exact: doubling would soon push a buffer past `MAX_BYTES`.
            buffer.reserve_exact(capacity);
            buffer
        }
        None => Vec::with_capacity(capacity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static WORDS: Spares<u64> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn a_given_buffer_comes_back_empty_with_its_capacity() {
        let mut words = take(&WORDS, 0);
        words.extend(0..100);
        let capacity = words.capacity();
        give(&WORDS, words);
        let again = take(&WORDS, 10);
        assert!(again.is_empty());
        assert!(again.capacity() >= capacity);
    }

    #[test]
    fn at_most_keep_spares_are_kept() {
        for _ in 0..KEEP + 3 {
            give(&WORDS, Vec::with_capacity(8));
        }
        let kept = WORDS.with(|spares| spares.borrow().len());
        assert_eq!(kept, KEEP);
    }
}
