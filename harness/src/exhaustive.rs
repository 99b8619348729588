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
//!
//! The space splits by first deviation: the baseline run's children, in
//! enumeration order, are the roots of disjoint subtrees that together hold
//! every other schedule. A [`Part`] takes the subtrees whose number is
//! congruent to its residue; parts of one modulus partition the schedules,
//! and each part meets its own in the sequential order. Shards and threads
//! are such parts (every part runs the baseline to learn its children; one
//! owns it).

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

/// Which first-deviation subtrees an enumerator visits: those numbered
/// `residue` mod `modulus` (the baseline's children, numbered from 0 in
/// enumeration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) residue: u64,
    pub(crate) modulus: u64,
}

impl Part {
    /// Everything.
    #[cfg(test)]
    pub(crate) const WHOLE: Part = Part {
        residue: 0,
        modulus: 1,
    };

    /// The part that counts the baseline run as its own.
    pub(crate) fn owns_baseline(self) -> bool {
        self.residue == 0
    }
}

/// The odometer over schedules.
pub(crate) struct Enumerator {
    max_deviations: u32,
    part: Part,
    stack: Vec<Frame>,
    skipped_options: bool,
    /// The child being run: `(position, deviations)` for the frame pushed
    /// after it runs.
    pending: Option<(usize, u32)>,
    started: bool,
    /// The baseline's children numbered so far (visited or not).
    first_deviations: u64,
    /// The subtree of the prefix last returned: 0 for the baseline run,
    /// `k + 1` under the baseline's `k`-th child.
    subtree: u64,
}

impl Enumerator {
    pub(crate) fn new(max_deviations: u32, part: Part) -> Enumerator {
        assert!(
            part.residue < part.modulus,
            "asyncsim bug: part {part:?} out of range"
        );
        Enumerator {
            max_deviations,
            part,
            stack: Vec::new(),
            skipped_options: false,
            pending: None,
            started: false,
            first_deviations: 0,
            subtree: 0,
        }
    }

    /// The subtree of the prefix last returned: 0 for the baseline, then
    /// increasing, so sorting a part's runs by it (stably) interleaves parts
    /// into the sequential order.
    pub(crate) fn subtree(&self) -> u64 {
        self.subtree
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
            let at_baseline = self.stack.len() == 1;
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
                if at_baseline {
                    let number = self.first_deviations;
                    self.first_deviations += 1;
                    if number % self.part.modulus != self.part.residue {
                        continue;
                    }
                    self.subtree = number + 1;
                }
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
        enumerate_part(baseline, bound, max_deviations, Part::WHOLE)
            .into_iter()
            .map(|(_, values)| values)
            .collect()
    }

    /// As `enumerate_around`, for one part: each schedule with its subtree.
    fn enumerate_part(
        baseline: &[u64],
        bound: u64,
        max_deviations: u32,
        part: Part,
    ) -> Vec<(u64, Vec<u64>)> {
        let mut enumerator = Enumerator::new(max_deviations, part);
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
            seen.push((enumerator.subtree(), values));
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

    /// Parts of one modulus visit disjoint sets of schedules whose union is
    /// the whole space (the baseline counted by part 0 only), each in the
    /// sequential order, and merging them by subtree gives that order back.
    #[test]
    fn parts_partition_the_space_in_order() {
        let baseline = [0u64, 1, 0, 2, 0, 0];
        for max_deviations in [1, 2, 3, u32::MAX] {
            let whole = enumerate_part(&baseline, 3, max_deviations, Part::WHOLE);
            for modulus in 1..=5 {
                let mut merged = Vec::new();
                for residue in 0..modulus {
                    let part = Part { residue, modulus };
                    let mut seen = enumerate_part(&baseline, 3, max_deviations, part);
                    // Every part runs the baseline first; only part 0 keeps it.
                    assert_eq!(seen[0], whole[0]);
                    if !part.owns_baseline() {
                        seen.remove(0);
                    }
                    assert!(seen
                        .iter()
                        .all(|(subtree, _)| *subtree == 0 || (subtree - 1) % modulus == residue));
                    assert!(seen.windows(2).all(|pair| pair[0].0 <= pair[1].0));
                    merged.extend(seen);
                }
                merged.sort_by_key(|(subtree, _)| *subtree);
                assert_eq!(
                    merged, whole,
                    "modulus {modulus}, max deviations {max_deviations}"
                );
            }
        }
    }
}
