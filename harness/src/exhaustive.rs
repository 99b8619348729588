//! Exhaustive enumeration with a bound on deviations (delay bounding).
//!
//! A schedule is the sequence of its draws. Running a tape *prefix* gives a
//! run whose remaining draws are all 0 (an exhausted tape continues along
//! FIFO), and whose realised tape records the bound of every draw. The
//! children of that run are the prefixes that keep its draws up to some
//! position `p` at or after where its own prefix ended, and put a nonzero
//! value at `p`. Every schedule with `d` nonzero draws is reached exactly
//! once, from the parent whose prefix ends at its second-to-last nonzero
//! draw — so the enumeration has no duplicates and, bounded to
//! `max_deviations`, misses nothing.
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
            if top.value + 1 < options {
                top.value += 1;
                let mut prefix: Vec<Draw> = top.draws[..top.position].to_vec();
                prefix.push(Draw {
                    value: top.value,
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

    /// A fake program: `length` binary draws, its schedule the values.
    fn enumerate(length: usize, max_deviations: u32) -> Vec<Vec<u64>> {
        let mut enumerator = Enumerator::new(max_deviations);
        let mut seen = Vec::new();
        while let Some(prefix) = enumerator.next_prefix() {
            let mut values: Vec<u64> = prefix.draws().iter().map(|draw| draw.value).collect();
            values.resize(length, 0);
            let realised = Tape::from_draws(
                values
                    .iter()
                    .map(|value| Draw {
                        label: DrawLabel::Schedule,
                        bound: 2,
                        value: *value,
                    })
                    .collect(),
            );
            enumerator.record(&realised);
            seen.push(values);
        }
        seen
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
}
