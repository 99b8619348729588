//! Exhaustive enumeration with a bound on deviations from a baseline: delay
//! bounding (the baseline is FIFO) and preemption bounding (the baseline
//! keeps running the task that ran last, `Config::replay_sticky`).
//!
//! A schedule is the sequence of its draws. Running a tape *prefix* gives a
//! run whose remaining draws follow the baseline (an exhausted tape
//! continues along it), and whose realised tape records the value and bound
//! of every draw. The children of that run are the prefixes that keep its
//! draws up to some position `p` at or after where its own prefix ended, and
//! put another value at `p`. Every schedule with `d` draws off the baseline
//! is reached exactly once, from the parent whose prefix ends at its
//! second-to-last such draw — so the enumeration has no duplicates and,
//! bounded to `max_deviations`, misses nothing.
//!
//! The search is a depth-first odometer: a stack of at most
//! `max_deviations + 1` frames, each the realised draws of one run and a
//! cursor (position, value) over its children.

use asyncsim_sim::{Draw, Tape};

/// Draws with more options than this (or a full-range random `u64`) are not
/// enumerated; the search then reports that it did not exhaust the space.
pub const ENUMERABLE_BOUND_MAX: u64 = 1 << 16;

struct Frame {
    draws: Vec<Draw>,
    position: usize,
    value: u64,
    deviations: u32,
}

/// The odometer over schedules.
pub(crate) struct Enumerator {
    max_deviations: u32,
    stack: Vec<Frame>,
    skipped_options: bool,
    /// The child being run: `(position, deviations)` for the frame pushed
    /// after it runs.
    pending: Option<(usize, u32)>,
    started: bool,
}

impl Enumerator {
    pub(crate) fn new(max_deviations: u32) -> Enumerator {
        Enumerator {
            max_deviations,
            stack: Vec::new(),
            skipped_options: false,
            pending: None,
            started: false,
        }
    }

    /// The next prefix to run, or None when the bounded space is exhausted.
    /// Call [`Enumerator::record`] with the run's realised tape after each.
    pub(crate) fn next_prefix(&mut self) -> Option<Tape> {
        if !self.started {
            self.started = true;
            self.pending = Some((0, 0));
            return Some(Tape::new());
        }
        loop {
            let top = self.stack.last_mut()?;
            if top.deviations >= self.max_deviations || top.position >= top.draws.len() {
                self.stack.pop();
                continue;
            }
            let draw = top.draws[top.position];
            let options = draw.bound;
            if options == 0 || options > ENUMERABLE_BOUND_MAX {
                self.skipped_options = true;
                top.position += 1;
                top.value = 0;
                continue;
            }
            // Every value but the one the run realised here (its baseline:
            // 0 under FIFO), in order.
            let mut candidate = top.value;
            if candidate == draw.value {
                candidate += 1;
            }
            if candidate < options {
                top.value = candidate + 1;
                let mut prefix: Vec<Draw> = top.draws[..top.position].to_vec();
                prefix.push(Draw {
                    value: candidate,
                    ..draw
                });
                self.pending = Some((top.position + 1, top.deviations + 1));
                return Some(Tape::from_draws(prefix));
            }
            top.position += 1;
            top.value = 0;
        }
    }

    /// Records the realised tape of the prefix last returned.
    pub(crate) fn record(&mut self, realised: &Tape) {
        if let Some((start, deviations)) = self.pending.take() {
            self.stack.push(Frame {
                draws: realised.draws().to_vec(),
                position: start,
                value: 0,
                deviations,
            });
        }
    }

    /// True when some draw had too many options to enumerate.
    pub(crate) fn skipped_options(&self) -> bool {
        self.skipped_options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncsim_sim::DrawLabel;

    /// A fake program of `baseline.len()` draws with `bound` options each,
    /// whose exhausted tape continues along `baseline`; its schedule is the
    /// values. Returns every schedule the enumerator ran, in order.
    fn enumerate_around(baseline: &[u64], bound: u64, max_deviations: u32) -> Vec<Vec<u64>> {
        let mut enumerator = Enumerator::new(max_deviations);
        let mut seen = Vec::new();
        while let Some(prefix) = enumerator.next_prefix() {
            let mut values: Vec<u64> = prefix.draws().iter().map(|draw| draw.value).collect();
            let kept = values.len();
            values.extend_from_slice(&baseline[kept..]);
            let realised = Tape::from_draws(
                values
                    .iter()
                    .map(|value| Draw {
                        label: DrawLabel::Schedule,
                        bound,
                        value: *value,
                    })
                    .collect(),
            );
            enumerator.record(&realised);
            seen.push(values);
        }
        seen
    }

    /// `length` binary draws along FIFO (all zeros).
    fn enumerate(length: usize, max_deviations: u32) -> Vec<Vec<u64>> {
        enumerate_around(&vec![0; length], 2, max_deviations)
    }

    #[test]
    fn enumerates_each_bounded_schedule_once() {
        // Binary draws of length 6 with at most 2 ones: 1 + 6 + 15 = 22.
        let seen = enumerate(6, 2);
        assert_eq!(seen.len(), 22);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len());
        assert!(seen
            .iter()
            .all(|values| values.iter().filter(|v| **v != 0).count() <= 2));
    }

    #[test]
    fn unbounded_enumeration_covers_every_schedule() {
        assert_eq!(enumerate(5, 99).len(), 32);
    }

    /// The same odometer over a baseline that is not all zeros: the realised
    /// continuation is the baseline, and each schedule within the bound
    /// (counting draws that differ from it) comes once.
    #[test]
    fn enumerates_around_a_nonzero_baseline() {
        let baseline = [2u64, 0, 1, 2, 1];
        let seen = enumerate_around(&baseline, 3, 2);
        // 1 + 5·2 + C(5,2)·2² = 51 schedules within two changes.
        assert_eq!(seen.len(), 51);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len());
        assert!(seen.iter().all(|values| {
            values
                .iter()
                .zip(baseline)
                .filter(|(v, b)| **v != *b)
                .count()
                <= 2
        }));
    }
}
