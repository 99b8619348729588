//! Sampled search: one run per seed, positions claimed a chunk at a time by
//! each worker, merged back into position order.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use asyncsim_sim::{Sim, TraceMode};

use super::{add_sometimes, Driven, Hit};
use crate::classify::Classify;
use crate::progress::Progress;
use crate::schedule::Schedule;
use crate::setup::Setup;
use crate::workers::on_workers;

/// What one worker of a sampled exploration ran: the trace hash of every
/// run, in the order it ran them (8 bytes a run: a small body runs in half a
/// microsecond, and wider records cost more in memory traffic and page
/// faults than that), where each claimed chunk of positions starts, and its
/// hits.
struct SampledPart<R> {
    hashes: Vec<u64>,
    /// `(first position, index into hashes)` of each chunk, in order.
    chunks: Vec<(u64, usize)>,
    hits: Vec<(u64, Schedule, R)>,
}

/// Runs a worker claims at a time when several run in parallel.
const CLAIM_CHUNK: u64 = 32;

pub(crate) fn drive_sampled<B, F, R, C>(
    setup: &Setup<'_>,
    body: &B,
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
    let total = settings.shard_runs();
    let next = AtomicU64::new(0);
    let stop = AtomicU64::new(u64::MAX);
    let progress = Progress::new(settings.progress, settings.progress_every);
    let work = || -> SampledPart<R> {
        // Sampled schedules differ only by seed: the configuration is built
        // once, and each run sets its seed.
        let mut sim = Sim::new(setup.config(&Schedule::Seed(0), TraceMode::HashOnly, false));
        let mut part = SampledPart {
            hashes: Vec::new(),
            chunks: Vec::new(),
            hits: Vec::new(),
        };
        // Positions are claimed a chunk at a time: one shared counter bumped
        // per run would bounce its cache line between the workers on every
        // run. Every position below the first failure is still run (a
        // worker only stops past it), and results are merged in order.
        let chunk = if settings.jobs <= 1 {
            total.max(1)
        } else {
            CLAIM_CHUNK
        };
        let mut claimed = 0..0;
        loop {
            let position = match claimed.next() {
                Some(position) => position,
                None => {
                    let start = next.fetch_add(chunk, Ordering::SeqCst);
                    claimed = start..start.saturating_add(chunk).min(total);
                    match claimed.next() {
                        Some(position) => {
                            part.chunks.push((position, part.hashes.len()));
                            position
                        }
                        None => break,
                    }
                }
            };
            if position >= total || position > stop.load(Ordering::SeqCst) {
                break;
            }
            let index = settings.run_index(position);
            let schedule = setup.sampled_schedule(index);
            match &schedule {
                Schedule::Seed(seed) => sim.config_mut().seed = *seed,
                // Run 0, FIFO: its own configuration, then back to the
                // seeds' for the runs after it.
                Schedule::Tape(_) => {
                    *sim.config_mut() = setup.config(&schedule, TraceMode::HashOnly, false);
                }
            }
            let (hash, hit) = if C::RESULT_ONLY {
                let outcome = sim.run_outcome(body());
                (outcome.trace_hash, classify.result(outcome.result))
            } else {
                let run = sim.run(body());
                (run.trace.hash(), classify.run(run))
            };
            if let Schedule::Tape(_) = schedule {
                *sim.config_mut() = setup.config(&Schedule::Seed(0), TraceMode::HashOnly, false);
            }
            progress.tick(hash, total, &setup.test_name);
            part.hashes.push(hash);
            if let Some(data) = hit {
                if stop_at_first {
                    stop.fetch_min(position, Ordering::SeqCst);
                }
                part.hits.push((position, schedule, data));
            }
        }
        part
    };
    let mut sometimes = BTreeMap::new();
    let parts = on_workers(settings.jobs, |_| {
        asyncsim_sim::take_sometimes_counts();
        let part = work();
        (part, asyncsim_sim::take_sometimes_counts())
    })
    .into_iter()
    .map(|(part, counts)| {
        add_sometimes(&mut sometimes, counts);
        part
    })
    .collect();
    let end = match stop.load(Ordering::SeqCst) {
        u64::MAX => total,
        first => first + 1,
    };
    let (hashes, mut hits) = merge_sampled(parts, end);
    // Run indices grow with positions.
    hits.sort_by_key(|(position, _, _)| *position);
    Driven {
        runs: end,
        hashes,
        hits: hits
            .into_iter()
            .map(|(position, schedule, data)| Hit {
                index: settings.run_index(position),
                schedule,
                data,
            })
            .collect(),
        exhausted: None,
        stopped_at_run_cap: false,
        sometimes,
    }
}

/// The workers' hashes in position order up to `end` (every position below
/// it ran: checked), and their hits below it. Each hash is copied straight
/// to its place, a chunk at a time; one worker's list is used as it is.
fn merge_sampled<R>(
    mut parts: Vec<SampledPart<R>>,
    end: u64,
) -> (Vec<u64>, Vec<(u64, Schedule, R)>) {
    let end_index = usize::try_from(end).expect("asyncsim: more runs than memory can count");
    let hits: Vec<_> = parts
        .iter_mut()
        .flat_map(|part| std::mem::take(&mut part.hits))
        .filter(|(position, _, _)| *position < end)
        .collect();
    if let [part] = parts.as_mut_slice() {
        if part.chunks.len() == 1 && part.chunks[0] == (0, 0) {
            let mut hashes = std::mem::take(&mut part.hashes);
            assert!(
                hashes.len() >= end_index,
                "asyncsim bug: a run index below the first failure was skipped"
            );
            hashes.truncate(end_index);
            return (hashes, hits);
        }
    }
    let mut hashes = vec![0; end_index];
    let mut placed = 0;
    for part in &parts {
        let ends = part
            .chunks
            .iter()
            .skip(1)
            .map(|(_, offset)| *offset)
            .chain([part.hashes.len()]);
        for (&(start, from), to) in part.chunks.iter().zip(ends) {
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            if start >= end_index {
                continue;
            }
            let count = (to - from).min(end_index - start);
            hashes[start..start + count].copy_from_slice(&part.hashes[from..from + count]);
            placed += count;
        }
    }
    assert_eq!(
        placed, end_index,
        "asyncsim bug: a run index below the first failure was skipped"
    );
    (hashes, hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_parts_merge_into_position_order() {
        // Two workers took chunks of 3 positions in turn: 0–2 and 6–8 went
        // to the first, 3–5 and 9–10 to the second (the last cut short).
        let parts = || {
            vec![
                SampledPart {
                    hashes: vec![100, 101, 102, 106, 107, 108],
                    chunks: vec![(0, 0), (6, 3)],
                    hits: vec![(7, Schedule::Seed(7), "seven")],
                },
                SampledPart {
                    hashes: vec![103, 104, 105, 109, 110],
                    chunks: vec![(3, 0), (9, 3)],
                    hits: vec![
                        (4, Schedule::Seed(4), "four"),
                        (10, Schedule::Seed(10), "ten"),
                    ],
                },
            ]
        };
        let (hashes, mut hits) = merge_sampled(parts(), 11);
        assert_eq!(hashes, (100..111).collect::<Vec<u64>>());
        hits.sort_by_key(|(position, _, _)| *position);
        assert_eq!(
            hits,
            [
                (4, Schedule::Seed(4), "four"),
                (7, Schedule::Seed(7), "seven"),
                (10, Schedule::Seed(10), "ten")
            ]
        );
        // Stopped after the hit at position 7: later runs are dropped.
        let (hashes, hits) = merge_sampled(parts(), 8);
        assert_eq!(hashes, (100..108).collect::<Vec<u64>>());
        assert_eq!(hits.len(), 2);
        // One worker that claimed everything keeps its list.
        let single = vec![SampledPart {
            hashes: vec![5, 6, 7, 8],
            chunks: vec![(0, 0)],
            hits: Vec::<(u64, Schedule, ())>::new(),
        }];
        assert_eq!(merge_sampled(single, 3).0, [5, 6, 7]);
    }

    #[test]
    #[should_panic(expected = "skipped")]
    fn a_missing_position_below_the_end_is_a_bug() {
        let part = SampledPart {
            hashes: vec![1, 2],
            chunks: vec![(0, 0), (3, 1)],
            hits: Vec::<(u64, Schedule, ())>::new(),
        };
        merge_sampled(vec![part], 4);
    }
}
