//! Shrinking a failing tape toward FIFO, or toward run-to-completion.
//!
//! A candidate is a tape edited from the current best one: a nonzero draw set
//! to 0 (or two at once), a draw removed (later draws shift left), a block of draws removed,
//! a value lowered. Each candidate replays *leniently* (a draw that no longer
//! fits wraps into range), and is accepted when the run fails the same way —
//! the same signature (`classify::Signature`: the [`FailureKind`] and, for
//! panics, every source location the message names, so a schedule that trips
//! a different assertion is never swapped in) — and its *realised* tape is
//! simpler. The realised tape — not the candidate — becomes the new best, so
//! the result always replays strictly.
//!
//! Simpler means a shorter *reading* first: a schedule reads either as
//! asyncio's order with exceptions (one for each nonzero draw: "FIFO
//! except …") or as run-to-completion order with exceptions (one for each
//! preemption, `Run::preemptions`, and each nonzero draw that is not a
//! scheduling one), whichever costs less ([`run_to_completion_cost`]: FIFO
//! is the baseline, the other reading has to pay for itself); then fewer
//! nonzero draws, then
//! fewer significant draws, then smaller values. A bug that needs one task
//! to run far ahead of another is forty deviations from FIFO but no
//! preemption at all, so besides the edits above the shrinker tries *sticky*
//! candidates: a prefix of the best tape (up to one of its nonzero draws, or
//! nothing), after which the replay keeps running the task it picked last
//! (`Config::replay_sticky`).

use std::cell::Cell;

#[cfg(doc)]
use asyncsim_sim::FailureKind;
use asyncsim_sim::{Draw, DrawLabel, Tape};

/// The most polls a shrink spends on a failure that reached a limit (the
/// step or the virtual-time limit): each of its runs is as long as the
/// limit allows — a million polls at the step limit, 15 s of a debug build
/// under the tokio face — so a thousand candidates would take hours. A
/// million polls is one step-limit run, or some thirty runs of an hour of
/// 100 ms ticks; the report says when the shrink stopped here.
pub(crate) const LIMIT_SHRINK_POLLS_MAX: u64 = 1_000_000;

/// What a candidate's run gave: its failure's signature, its realised tape,
/// and how many of its picks departed from run-to-completion order.
pub(crate) struct Attempt<S> {
    pub signature: S,
    pub tape: Tape,
    pub preemptions: usize,
}

/// A tape edited for a candidate run, and how the run continues once the
/// tape is read to its end.
pub(crate) struct Candidate<'a> {
    pub tape: &'a Tape,
    /// Keep running the task picked last (`Config::replay_sticky`), instead
    /// of asyncio's order.
    pub sticky: bool,
}

/// How simple a realised schedule is; smaller is simpler. The draws are
/// always trimmed ([`Tape::significant`]): trailing zeros are FIFO anyway.
type Simplicity = (usize, usize, usize, Vec<u64>);

fn simplicity(draws: &[Draw], preemptions: usize) -> Simplicity {
    let nonzero = draws.iter().filter(|draw| draw.value != 0).count();
    let other = draws
        .iter()
        .filter(|draw| draw.value != 0 && draw.label != DrawLabel::Schedule)
        .count();
    let reading = nonzero.min(run_to_completion_cost(preemptions, other));
    let values = draws.iter().map(|draw| draw.value).collect();
    (reading, nonzero, draws.len(), values)
}

/// What reading a schedule as run-to-completion order costs, against one
/// for each of its deviations from FIFO: two for each preemption and one
/// for each other nonzero draw, plus two: its header ("run to completion")
/// and the line that says which task ran ahead. asyncio's order is the
/// reader's baseline (every token and `exhaustive:n` count from it), so the
/// other reading is used only when it is strictly shorter: for forty
/// deviations that are one task running ahead (cost 2), not for two
/// deviations that are one preemption (cost 4), nor for two that a single
/// "ran `bob` instead of `alice`" also explains (a tie goes to FIFO).
pub(crate) fn run_to_completion_cost(preemptions: usize, other: usize) -> usize {
    2 * preemptions + other + 2
}

/// Where the next sticky prefix of `draws` ends, after `from`: just past
/// the first nonzero draw at or after `from`.
fn next_cut(draws: &[Draw], from: usize) -> Option<usize> {
    draws
        .get(from..)?
        .iter()
        .position(|draw| draw.value != 0)
        .map(|offset| from + offset + 1)
}

/// Pass 1b tries pairs of deviations only when there are at most this many.
const PAIRS_MAX: usize = 12;

/// The outcome of a shrink.
#[derive(Clone, Debug)]
pub(crate) struct Shrunk {
    pub tape: Tape,
    pub runs: u64,
    /// The shrink stopped because its budget was spent (`spent`), before
    /// it had tried every candidate.
    pub stopped: bool,
}

/// Shrinks `tape` (which fails with `signature`, and whose run departed
/// `preemptions` times from run-to-completion order) using `attempt`, which
/// replays a candidate leniently and returns what the run gave when it
/// failed. A candidate is accepted only when its signature equals
/// `signature`. Makes at most `runs_max` attempts, and none once `spent`
/// says the runs made so far cost all they may (the harness's budget of
/// polls for runs that reach a limit, each as long as the limit allows).
pub(crate) fn shrink<S: PartialEq>(
    tape: &Tape,
    preemptions: usize,
    signature: &S,
    runs_max: u64,
    mut spent: impl FnMut() -> bool,
    mut attempt: impl FnMut(Candidate<'_>) -> Option<Attempt<S>>,
) -> Shrunk {
    let mut best = tape.significant().to_vec();
    let mut best_simplicity = simplicity(&best, preemptions);
    let mut runs = 0u64;
    let made = Cell::new(0u64);
    let stopped = Cell::new(false);
    let mut try_candidate = |best: &mut Vec<Draw>,
                             best_simplicity: &mut Simplicity,
                             candidate: Vec<Draw>,
                             sticky: bool,
                             runs: &mut u64|
     -> bool {
        if *runs >= runs_max {
            return false;
        }
        if spent() {
            // Every pass stops at `runs_max`: so do they all here.
            stopped.set(true);
            *runs = runs_max;
            return false;
        }
        *runs += 1;
        made.set(made.get() + 1);
        let tape = Tape::from_draws(candidate);
        match attempt(Candidate {
            tape: &tape,
            sticky,
        }) {
            Some(run) if run.signature == *signature => {
                let realised = run.tape.significant().to_vec();
                let realised_simplicity = simplicity(&realised, run.preemptions);
                if realised_simplicity < *best_simplicity {
                    *best = realised;
                    *best_simplicity = realised_simplicity;
                    return true;
                }
                false
            }
            _ => false,
        }
    };
    // The simplest schedules of all first: plain FIFO, and run to
    // completion.
    if !best.is_empty() {
        try_candidate(
            &mut best,
            &mut best_simplicity,
            Vec::new(),
            false,
            &mut runs,
        );
    }
    if best_simplicity.0 > 0 {
        try_candidate(&mut best, &mut best_simplicity, Vec::new(), true, &mut runs);
    }
    loop {
        let before = best_simplicity.clone();
        // Nothing reads shorter than run to completion with no exception
        // (its cost, with more deviations from FIFO than that behind it).
        let bare = run_to_completion_cost(0, 0);
        let run_to_completion = before.0 == bare && before.1 > bare;
        if runs >= runs_max || before.0 == 0 || run_to_completion {
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
                try_candidate(&mut best, &mut best_simplicity, candidate, false, &mut runs);
            }
        }
        // Pass 1b (only when pass 1 dropped nothing): drop two deviations
        // at once, latest pairs first. A draw's place on the tape is what
        // it decides, so dropping one deviation can shift the others onto
        // other decisions (a later fault lands on a latency draw) where
        // dropping two keeps them in step. Few deviations only: the pairs
        // grow as the square.
        if best_simplicity >= before {
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
                        if try_candidate(
                            &mut best,
                            &mut best_simplicity,
                            candidate,
                            false,
                            &mut runs,
                        ) {
                            break 'pairs;
                        }
                    }
                }
                if best_simplicity < before {
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
                if !try_candidate(&mut best, &mut best_simplicity, candidate, false, &mut runs) {
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
                    if try_candidate(&mut best, &mut best_simplicity, candidate, false, &mut runs) {
                        break;
                    }
                }
            }
            position += 1;
        }
        // Pass 4: a prefix of the tape, then run to completion: the
        // shortest prefix first, cut after each nonzero draw (the empty
        // prefix was tried first of all).
        let mut cut = next_cut(&best, 0);
        while let Some(end) = cut {
            if runs >= runs_max || best_simplicity.0 == 0 {
                break;
            }
            let candidate = best[..end].to_vec();
            cut = if try_candidate(&mut best, &mut best_simplicity, candidate, true, &mut runs) {
                next_cut(&best, 0)
            } else {
                next_cut(&best, end)
            };
        }
        if best_simplicity >= before {
            break;
        }
    }
    Shrunk {
        tape: Tape::from_draws(best),
        runs: made.get(),
        stopped: stopped.get(),
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

    /// A FIFO-only model: every candidate reads its tape as is, with more
    /// preemptions than deviations (so the FIFO reading is the shorter).
    fn fifo<S>(signature: S, candidate: Candidate<'_>) -> Attempt<S> {
        Attempt {
            signature,
            tape: candidate.tape.clone(),
            preemptions: 1000,
        }
    }

    #[test]
    fn shrink_keeps_only_the_draw_the_failure_needs() {
        // "Fails" whenever some draw equals 3.
        let start = tape(&[1, 0, 5, 3, 2, 7, 3]);
        let shrunk = shrink(
            &start,
            1000,
            &FailureKind::Panic,
            1000,
            || false,
            |candidate| {
                (!candidate.sticky && candidate.tape.draws().iter().any(|draw| draw.value == 3))
                    .then(|| fifo(FailureKind::Panic, candidate))
            },
        );
        assert_eq!(shrunk.tape.deviations(), 1);
        assert_eq!(shrunk.tape.draws().len(), 1);
        assert_eq!(shrunk.tape.draws()[0].value, 3);
    }

    #[test]
    fn a_spent_budget_stops_the_shrink_and_says_so() {
        // Every candidate with a 3 fails; the budget is three runs.
        let start = tape(&[1, 0, 5, 3, 2, 7, 3]);
        let runs = Cell::new(0u64);
        let shrunk = shrink(
            &start,
            1000,
            &FailureKind::Panic,
            1000,
            || runs.get() >= 3,
            |candidate| {
                runs.set(runs.get() + 1);
                (!candidate.sticky && candidate.tape.draws().iter().any(|draw| draw.value == 3))
                    .then(|| fifo(FailureKind::Panic, candidate))
            },
        );
        assert_eq!(runs.get(), 3);
        assert_eq!(shrunk.runs, 3);
        assert!(shrunk.stopped);
        assert!(shrunk.tape.deviations() > 1, "{:?}", shrunk.tape.draws());
        let unbounded = shrink(
            &start,
            1000,
            &FailureKind::Panic,
            1000,
            || false,
            |candidate| {
                (!candidate.sticky && candidate.tape.draws().iter().any(|draw| draw.value == 3))
                    .then(|| fifo(FailureKind::Panic, candidate))
            },
        );
        assert!(!unbounded.stopped);
        assert!(unbounded.runs > 3);
    }

    #[test]
    fn shrink_drops_two_deviations_that_only_go_together() {
        // "Fails" when the third draw is 3 and the first two are both
        // nonzero or both zero: dropping either alone loses the failure,
        // and so does removing a draw (the 3 moves).
        let start = tape(&[1, 1, 3]);
        let shrunk = shrink(
            &start,
            1000,
            &FailureKind::Panic,
            1000,
            || false,
            |candidate| {
                let draws = candidate.tape.draws();
                let value = |position: usize| draws.get(position).map_or(0, |d| d.value);
                (!candidate.sticky && (value(0) == 0) == (value(1) == 0) && value(2) == 3)
                    .then(|| fifo(FailureKind::Panic, candidate))
            },
        );
        assert_eq!(shrunk.tape.deviations(), 1, "{:?}", shrunk.tape.draws());
        assert_eq!(shrunk.tape.draws()[2].value, 3);
    }

    #[test]
    fn shrink_respects_its_run_budget() {
        let start = tape(&[1, 2, 3, 4, 5, 6, 7, 1, 2, 3]);
        let mut calls = 0;
        let shrunk = shrink(
            &start,
            1000,
            &FailureKind::Panic,
            5,
            || false,
            |candidate| {
                calls += 1;
                (candidate.tape.deviations() >= 5).then(|| fifo(FailureKind::Panic, candidate))
            },
        );
        assert_eq!(calls, 5);
        assert_eq!(shrunk.runs, 5);
    }

    #[test]
    fn shrink_rejects_a_different_failure_kind() {
        let start = tape(&[2, 2]);
        let shrunk = shrink(
            &start,
            1000,
            &FailureKind::Panic,
            100,
            || false,
            |candidate| {
                let kind = if candidate.tape.deviations() == 2 {
                    FailureKind::Panic
                } else {
                    FailureKind::Deadlock
                };
                Some(fifo(kind, candidate))
            },
        );
        assert_eq!(shrunk.tape.deviations(), 2);
    }

    /// A model of one task that must run `ahead` picks in a row: as FIFO
    /// deviations that is `ahead` ones; run to completion gives the same
    /// realised tape with no preemption.
    fn run_ahead(ahead: usize, candidate: Candidate<'_>) -> Option<Attempt<FailureKind>> {
        let draws = candidate.tape.draws();
        let realised: Vec<u64> = if candidate.sticky {
            // The prefix, then the sticky continuation picks the runner.
            draws
                .iter()
                .map(|draw| draw.value)
                .chain(std::iter::repeat(1))
                .take(ahead.max(draws.len()))
                .collect()
        } else {
            draws.iter().map(|draw| draw.value).collect()
        };
        let fails = realised
            .iter()
            .take(ahead)
            .filter(|value| **value == 1)
            .count()
            == ahead;
        let preemptions = if candidate.sticky {
            draws.iter().filter(|d| d.value != 1).count()
        } else {
            1 + realised.len()
        };
        fails.then(|| Attempt {
            signature: FailureKind::Panic,
            tape: tape(&realised),
            preemptions,
        })
    }

    #[test]
    fn shrink_prefers_run_to_completion_when_it_reads_shorter() {
        let mut values = vec![1; 40];
        values.extend([2, 0, 3, 1]);
        let start = tape(&values);
        let shrunk = shrink(
            &start,
            12,
            &FailureKind::Panic,
            1000,
            || false,
            |candidate| run_ahead(40, candidate),
        );
        // The empty prefix, run to completion: the second attempt.
        assert_eq!(shrunk.runs, 2);
        assert_eq!(shrunk.tape.deviations(), 40);
        assert!(shrunk.tape.draws().iter().all(|draw| draw.value == 1));
    }
}
