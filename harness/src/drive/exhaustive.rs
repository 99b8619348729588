//! Exhaustive search over threads and shards: parts by first deviation,
//! merged back into the sequential order.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use asyncsim_sim::{Config, Sim, Strategy, Tape, TraceMode};

use super::{add_sometimes, Driven, Hit};
use crate::classify::Classify;
use crate::exhaustive::{Enumerator, Part};
use crate::progress::Progress;
use crate::schedule::Schedule;
use crate::setup::Setup;
use crate::workers::on_workers;

/// One run of an exhaustive part: its subtree, trace hash and hit.
type ExhaustiveRun<R> = (u64, u64, Option<(Schedule, R)>);

/// One part's runs in exhaustive search, in the part's own (sequential)
/// order.
struct ExhaustivePart<R> {
    runs: Vec<ExhaustiveRun<R>>,
    /// The part's space ran out (it did not stop at a hit or its cap).
    finished: bool,
    skipped_options: bool,
}

/// Exhaustive search, split by first deviation ([`Part`]) over this shard's
/// threads, and over shards: shard `s` of `n` with `j` threads takes the
/// subtrees congruent to `s + n·t` mod `n·j` on its thread `t`. Merging the
/// parts by subtree gives the sequential order back, so the runs counted,
/// the first hit and its index are those one thread would find.
pub(crate) fn drive_exhaustive<B, F, R, C>(
    setup: &Setup<'_>,
    body: &B,
    max_deviations: u32,
    sticky: bool,
    stop_at_first: bool,
    classify: C,
) -> Driven<R>
where
    B: Fn() -> F + Sync,
    F: Future,
    R: Send,
    C: Classify<F::Output, R>,
{
    let settings = setup.settings;
    let progress = Progress::new(settings.progress, settings.progress_every);
    let (shard, shards) = settings.shard.unwrap_or((0, 1));
    let jobs = settings.jobs.max(1) as u64;
    // The lowest subtree with a hit: a part stops before any later subtree.
    let first_hit = AtomicU64::new(u64::MAX);
    let work = |thread: u64| -> ExhaustivePart<R> {
        let part = Part {
            residue: shard + shards * thread,
            modulus: shards * jobs,
        };
        // One configuration for the part; each run sets its prefix.
        let mut config = setup.config(&Schedule::Tape(Tape::new()), TraceMode::HashOnly, false);
        config.replay_sticky = sticky;
        let mut sim = Sim::new(config);
        // The enumerator varies the draws at and after the end of each
        // prefix away from what the run realised there — the baseline: FIFO,
        // or with `sticky` the task that ran last (`Config::replay_sticky`).
        let mut enumerator = Enumerator::new(max_deviations, part);
        let mut runs = Vec::new();
        let finished = loop {
            if runs.len() as u64 >= settings.runs {
                // The part's cap: no more of its runs can be among the
                // first `runs` of the merged order.
                break enumerator.next_prefix().is_none();
            }
            let Some(prefix) = enumerator.next_prefix() else {
                break true;
            };
            let subtree = enumerator.subtree();
            if stop_at_first && subtree > first_hit.load(Ordering::SeqCst) {
                break false;
            }
            sim.config_mut().strategy = Strategy::Replay(prefix);
            // Every part runs the baseline for its children; one counts it.
            let counted = subtree != 0 || part.owns_baseline();
            // A hit's schedule is its prefix, or with `sticky` its realised
            // tape: a prefix means the run only with the sticky
            // continuation, the realised tape means it everywhere (reports,
            // tokens, shrinking). Both are still in the simulator.
            let schedule_of = |tape: &Tape, config: &Config| match &config.strategy {
                Strategy::Replay(prefix) if !sticky => Schedule::Tape(prefix.clone()),
                _ => Schedule::Tape(tape.clone()),
            };
            let (hash, hit) = if C::RESULT_ONLY {
                // The run stays in the simulator: no `Run` is built.
                let outcome = sim.run_outcome(body());
                sim.with_last_run(|tape, _| enumerator.record(tape));
                if !counted {
                    continue;
                }
                let hit = classify.result(outcome.result);
                let hit = hit.map(|data| (sim.with_last_run(schedule_of), data));
                (outcome.trace_hash, hit)
            } else {
                let run = sim.run(body());
                enumerator.record(&run.tape);
                if !counted {
                    continue;
                }
                // `run` goes to the classifier: keep what a hit needs (the
                // prefix moves out; the next run sets its own).
                let schedule = if sticky {
                    Schedule::Tape(run.tape.clone())
                } else {
                    match std::mem::replace(&mut sim.config_mut().strategy, Strategy::Fifo) {
                        Strategy::Replay(prefix) => Schedule::Tape(prefix),
                        _ => unreachable!("asyncsim bug: an exhaustive run without its prefix"),
                    }
                };
                (
                    run.trace.hash(),
                    classify.run(run).map(|data| (schedule, data)),
                )
            };
            progress.tick(hash, settings.runs, &setup.test_name);
            let stop = hit.is_some() && stop_at_first;
            runs.push((subtree, hash, hit));
            if stop {
                first_hit.fetch_min(subtree, Ordering::SeqCst);
                break false;
            }
        };
        ExhaustivePart {
            runs,
            finished,
            skipped_options: enumerator.skipped_options(),
        }
    };
    let mut sometimes = BTreeMap::new();
    let parts = on_workers(settings.jobs, |thread| {
        asyncsim_sim::take_sometimes_counts();
        let part = work(thread);
        (part, asyncsim_sim::take_sometimes_counts())
    })
    .into_iter()
    .map(|(part, counts)| {
        add_sometimes(&mut sometimes, counts);
        part
    })
    .collect();
    let Merged {
        runs,
        exhausted,
        stopped_at_run_cap,
    } = merge_parts(parts, settings.runs, stop_at_first);
    let mut driven = Driven {
        runs: runs.len() as u64,
        hashes: Vec::with_capacity(runs.len()),
        hits: Vec::new(),
        exhausted: Some(exhausted),
        stopped_at_run_cap,
        sometimes,
    };
    for (index, (_, hash, hit)) in runs.into_iter().enumerate() {
        driven.hashes.push(hash);
        if let Some((schedule, data)) = hit {
            driven.hits.push(Hit {
                index: index as u64,
                schedule,
                data,
            });
        }
    }
    driven
}

/// The parts' runs merged: the sequential order, up to the first hit (when
/// stopping there) and at most the cap.
struct Merged<R> {
    runs: Vec<ExhaustiveRun<R>>,
    /// The runs are the whole bounded space.
    exhausted: bool,
    /// The cap, not the space or a hit, ended the search: schedules were
    /// left unrun.
    stopped_at_run_cap: bool,
}

fn merge_parts<R>(parts: Vec<ExhaustivePart<R>>, cap: u64, stop_at_first: bool) -> Merged<R> {
    let finished = parts.iter().all(|part| part.finished);
    let skipped_options = parts.iter().any(|part| part.skipped_options);
    let mut runs: Vec<_> = parts.into_iter().flat_map(|part| part.runs).collect();
    // Stable: a subtree's runs all come from one part, in its order.
    runs.sort_by_key(|(subtree, _, _)| *subtree);
    let mut stopped = false;
    if stop_at_first {
        if let Some(first) = runs.iter().position(|(_, _, hit)| hit.is_some()) {
            runs.truncate(first + 1);
            stopped = true;
        }
    }
    let capped = runs.len() as u64 > cap;
    runs.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
    let exhausted = finished && !stopped && !capped && !skipped_options;
    // A part that stopped at its own cap left its space unfinished with at
    // least `cap` runs merged.
    let stopped_at_run_cap = !stopped && (capped || (!finished && runs.len() as u64 >= cap));
    Merged {
        runs,
        exhausted,
        stopped_at_run_cap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_parts_keep_the_sequential_order_and_the_earliest_hit() {
        // Two parts of modulus 2: subtrees 0 (the baseline), 1, 3 and 2, 4.
        let run = |subtree: u64, hash: u64, hit: bool| {
            (subtree, hash, hit.then(|| (Schedule::Seed(hash), hash)))
        };
        let parts = || {
            vec![
                ExhaustivePart {
                    runs: vec![
                        run(0, 10, false),
                        run(1, 11, false),
                        run(1, 12, false),
                        run(3, 31, true),
                    ],
                    finished: false,
                    skipped_options: false,
                },
                ExhaustivePart {
                    runs: vec![run(2, 21, false), run(2, 22, true), run(4, 41, true)],
                    finished: true,
                    skipped_options: false,
                },
            ]
        };
        let hashes =
            |runs: &[ExhaustiveRun<u64>]| runs.iter().map(|(_, hash, _)| *hash).collect::<Vec<_>>();
        let all = merge_parts(parts(), u64::MAX, false);
        assert_eq!(hashes(&all.runs), [10, 11, 12, 21, 22, 31, 41]);
        assert!(!all.exhausted, "a part did not finish");
        // Stopping at the first hit: part 1's, though part 0 found one too.
        let first = merge_parts(parts(), u64::MAX, true);
        assert_eq!(hashes(&first.runs), [10, 11, 12, 21, 22]);
        assert!(!first.exhausted);
        assert!(!first.stopped_at_run_cap, "a hit, not the cap, stopped it");
        // A cap keeps the first runs of the merged order, and says so.
        let capped = merge_parts(parts(), 4, false);
        assert_eq!(hashes(&capped.runs), [10, 11, 12, 21]);
        assert!(capped.stopped_at_run_cap);
        assert!(!capped.exhausted);
        // Whole only when every part finished, nothing was cut, and no draw
        // was too wide to enumerate.
        let mut done = parts();
        done[0].finished = true;
        let whole = merge_parts(done, 7, false);
        assert!(whole.exhausted && !whole.stopped_at_run_cap);
        let mut done = parts();
        done[0].finished = true;
        let cut = merge_parts(done, 6, false);
        assert!(!cut.exhausted && cut.stopped_at_run_cap);
        let mut wide = parts();
        wide[0].finished = true;
        wide[1].skipped_options = true;
        let wide = merge_parts(wide, 7, false);
        assert!(!wide.exhausted && !wide.stopped_at_run_cap);
    }
}
