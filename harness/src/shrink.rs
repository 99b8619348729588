//! Shrinking a failing tape toward FIFO.
//!
//! A candidate is a tape edited from the current best one: a nonzero draw set
//! to 0 (or two at once), a draw removed (later draws shift left), a block of draws removed,
//! a value lowered. Each candidate replays *leniently* (a draw that no longer
//! fits wraps into range), and is accepted when the run fails the same way —
//! the same signature (`classify::Signature`: the [`FailureKind`] and, for
//! panics, every source location the message names, so a schedule that trips
//! a different assertion is never swapped in) — and its *realised* tape is
//! simpler: fewer nonzero draws
//! first, then fewer significant draws, then smaller values. The realised
//! tape — not the candidate — becomes the new best, so the result always
//! replays strictly.

#[cfg(doc)]
use asyncsim_sim::FailureKind;
use asyncsim_sim::{Draw, Tape};

/// How simple a list of draws is; smaller is simpler. The draws are
/// always trimmed ([`Tape::significant`]): trailing zeros are FIFO anyway.
fn simplicity(draws: &[Draw]) -> (usize, usize, Vec<u64>) {
    let nonzero = draws.iter().filter(|draw| draw.value != 0).count();
    let values = draws.iter().map(|draw| draw.value).collect();
    (nonzero, draws.len(), values)
}

/// Pass 1b tries pairs of deviations only when there are at most this many.
const PAIRS_MAX: usize = 12;

/// The outcome of a shrink.
#[derive(Clone, Debug)]
pub(crate) struct Shrunk {
    pub tape: Tape,
    pub runs: u64,
}

/// Shrinks `tape` (which fails with `signature`) using `attempt`, which
/// replays a candidate leniently and returns the failure's signature and the
/// realised tape when the run failed. A candidate is accepted only when its
/// signature equals `signature`. Makes at most `runs_max` attempts.
pub(crate) fn shrink<S: PartialEq>(
    tape: &Tape,
    signature: &S,
    runs_max: u64,
    mut attempt: impl FnMut(&Tape) -> Option<(S, Tape)>,
) -> Shrunk {
    let mut best = tape.significant().to_vec();
    let mut runs = 0u64;
    let mut try_candidate = |best: &mut Vec<Draw>, candidate: Vec<Draw>, runs: &mut u64| -> bool {
        if *runs >= runs_max {
            return false;
        }
        *runs += 1;
        match attempt(&Tape::from_draws(candidate)) {
            Some((realised_signature, realised)) if realised_signature == *signature => {
                let realised = realised.significant().to_vec();
                if simplicity(&realised) < simplicity(best) {
                    *best = realised;
                    return true;
                }
                false
            }
            _ => false,
        }
    };

    // The simplest schedule of all first: plain FIFO.
    if !best.is_empty() {
        try_candidate(&mut best, Vec::new(), &mut runs);
    }
    loop {
        let before = simplicity(&best);
        if runs >= runs_max || before.0 == 0 {
            break;
        }
        // Pass 1: drop each deviation (set it to FIFO), latest first.
        let mut position = best.len();
        while position > 0 && runs < runs_max {
            position = (position - 1).min(best.len().saturating_sub(1));
            if best.is_empty() {
                break;
            }
            if best[position].value != 0 {
                let mut candidate = best.clone();
                candidate[position].value = 0;
                try_candidate(&mut best, candidate, &mut runs);
            }
        }
        // Pass 1b (only when pass 1 dropped nothing): drop two deviations
        // at once, latest pairs first. A draw's place on the tape is what
        // it decides, so dropping one deviation can shift the others onto
        // other decisions (a later fault lands on a latency draw) where
        // dropping two keeps them in step. Few deviations only: the pairs
        // grow as the square.
        if simplicity(&best) >= before {
            let deviations: Vec<usize> = (0..best.len())
                .filter(|position| best[*position].value != 0)
                .collect();
            if deviations.len() <= PAIRS_MAX {
                'pairs: for (index, &later) in deviations.iter().enumerate().rev() {
                    for &earlier in deviations[..index].iter().rev() {
                        if runs >= runs_max {
                            break 'pairs;
                        }
                        let mut candidate = best.clone();
                        candidate[later].value = 0;
                        candidate[earlier].value = 0;
                        if try_candidate(&mut best, candidate, &mut runs) {
                            break 'pairs;
                        }
                    }
                }
                if simplicity(&best) < before {
                    continue;
                }
            }
        }
        // Pass 2: remove blocks of draws (later decisions move earlier),
        // big blocks first.
        let mut block = (best.len() / 2).max(1);
        loop {
            let mut start = 0;
            while start < best.len() && runs < runs_max {
                let end = (start + block).min(best.len());
                let mut candidate = best.clone();
                candidate.drain(start..end);
                if !try_candidate(&mut best, candidate, &mut runs) {
                    start += block;
                }
            }
            if block == 1 || runs >= runs_max {
                break;
            }
            block /= 2;
        }
        // Pass 3: lower each value: to 1, then halve, then one less.
        let mut position = 0;
        while position < best.len() && runs < runs_max {
            let value = best[position].value;
            if value > 1 {
                for lower in [1, value / 2, value - 1] {
                    if lower == 0 || lower >= best.get(position).map_or(0, |draw| draw.value) {
                        continue;
                    }
                    let mut candidate = best.clone();
                    candidate[position].value = lower;
                    if try_candidate(&mut best, candidate, &mut runs) {
                        break;
                    }
                }
            }
            position += 1;
        }
        if simplicity(&best) >= before {
            break;
        }
    }
    Shrunk {
        tape: Tape::from_draws(best),
        runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncsim_sim::{DrawLabel, FailureKind};

    fn tape(values: &[u64]) -> Tape {
        Tape::from_draws(
            values
                .iter()
                .map(|value| Draw {
                    label: DrawLabel::Schedule,
                    bound: 8,
                    value: *value,
                })
                .collect(),
        )
    }

    #[test]
    fn shrink_keeps_only_the_draw_the_failure_needs() {
        // "Fails" whenever some draw equals 3.
        let start = tape(&[1, 0, 5, 3, 2, 7, 3]);
        let shrunk = shrink(&start, &FailureKind::Panic, 1000, |candidate| {
            candidate
                .draws()
                .iter()
                .any(|draw| draw.value == 3)
                .then(|| (FailureKind::Panic, candidate.clone()))
        });
        assert_eq!(shrunk.tape.deviations(), 1);
        assert_eq!(shrunk.tape.draws().len(), 1);
        assert_eq!(shrunk.tape.draws()[0].value, 3);
    }

    #[test]
    fn shrink_drops_two_deviations_that_only_go_together() {
        // "Fails" when the third draw is 3 and the first two are both
        // nonzero or both zero: dropping either alone loses the failure,
        // and so does removing a draw (the 3 moves).
        let start = tape(&[1, 1, 3]);
        let shrunk = shrink(&start, &FailureKind::Panic, 1000, |candidate| {
            let value = |position: usize| candidate.draws().get(position).map_or(0, |d| d.value);
            ((value(0) == 0) == (value(1) == 0) && value(2) == 3)
                .then(|| (FailureKind::Panic, candidate.clone()))
        });
        assert_eq!(shrunk.tape.deviations(), 1, "{:?}", shrunk.tape.draws());
        assert_eq!(shrunk.tape.draws()[2].value, 3);
    }

    #[test]
    fn shrink_respects_its_run_budget() {
        let start = tape(&[1, 2, 3, 4, 5, 6, 7, 1, 2, 3]);
        let mut calls = 0;
        let shrunk = shrink(&start, &FailureKind::Panic, 5, |candidate| {
            calls += 1;
            (candidate.deviations() >= 5).then(|| (FailureKind::Panic, candidate.clone()))
        });
        assert_eq!(calls, 5);
        assert_eq!(shrunk.runs, 5);
    }

    #[test]
    fn shrink_rejects_a_different_failure_kind() {
        let start = tape(&[2, 2]);
        let shrunk = shrink(&start, &FailureKind::Panic, 100, |candidate| {
            let kind = if candidate.deviations() == 2 {
                FailureKind::Panic
            } else {
                FailureKind::Deadlock
            };
            Some((kind, candidate.clone()))
        });
        assert_eq!(shrunk.tape.deviations(), 2);
    }
}
