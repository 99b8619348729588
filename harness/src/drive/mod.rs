//! Drivers: run a body over the exploration's schedules and collect the
//! runs a classifier calls hits, in the order one thread would meet them.
//!
//! # Determinism of the search itself
//!
//! Run `i` (0-based; `ASYNCSIM_SHARD` picks a subset of the indices) uses seed
//! `base + i`, but for run 0, which is FIFO (`Setup::sampled_schedule`).
//! With `jobs(n)` the threads take run indices from a shared counter, in
//! increasing order; a thread that finds a failure lowers a
//! shared "stop" index, and threads stop taking indices above it. Every index
//! below the first failing one was taken before it, so each is finished, and
//! the first failure reported is the lowest failing index — the same one a
//! single thread finds. Everything after that (re-running in full, shrinking,
//! reporting) runs on the calling thread.

mod exhaustive;
mod sampled;

use std::collections::{BTreeMap, HashSet};
use std::future::Future;

use asyncsim_sim::{Sim, TraceMode};

use self::exhaustive::drive_exhaustive;
use self::sampled::drive_sampled;

use crate::classify::Classify;
use crate::schedule::Schedule;
use crate::setup::{run_with, Setup, Source};

/// A hit of the driver: the run's position among this shard's runs, its
/// index, its schedule, and what the classifier kept.
pub(crate) struct Hit<R> {
    pub(crate) index: u64,
    pub(crate) schedule: Schedule,
    pub(crate) data: R,
}

pub(crate) struct Driven<R> {
    pub(crate) runs: u64,
    pub(crate) hashes: Vec<u64>,
    pub(crate) hits: Vec<Hit<R>>,
    pub(crate) exhausted: Option<bool>,
    /// A bounded search stopped at its run cap with schedules left.
    pub(crate) stopped_at_run_cap: bool,
    /// `sometimes` names with the runs in which each held.
    pub(crate) sometimes: BTreeMap<String, u64>,
}

/// Adds one worker's `sometimes` counts to the total.
pub(crate) fn add_sometimes(total: &mut BTreeMap<String, u64>, part: BTreeMap<String, u64>) {
    for (name, runs) in part {
        *total.entry(name).or_insert(0) += runs;
    }
}

pub(crate) fn drive<B, F, R, C>(
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
    match &setup.source {
        Source::Replay(tape) => drive_list(
            setup,
            body,
            vec![(0, Schedule::Tape(tape.clone()))],
            classify,
        ),
        Source::Seed(seed) => drive_list(setup, body, vec![(0, Schedule::Seed(*seed))], classify),
        Source::Exhaustive { bound, sticky } => {
            drive_exhaustive(setup, body, *bound, *sticky, stop_at_first, classify)
        }
        Source::Sampled => drive_sampled(setup, body, stop_at_first, classify),
    }
}

fn drive_list<B, F, R, C>(
    setup: &Setup<'_>,
    body: &B,
    schedules: Vec<(u64, Schedule)>,
    classify: C,
) -> Driven<R>
where
    B: Fn() -> F,
    F: Future,
    C: Classify<F::Output, R>,
{
    let mut sim = Sim::new(setup.settings.config.clone());
    let mut driven = Driven {
        runs: 0,
        hashes: Vec::new(),
        hits: Vec::new(),
        exhausted: None,
        stopped_at_run_cap: false,
        sometimes: BTreeMap::new(),
    };
    asyncsim_sim::take_sometimes_counts();
    for (index, schedule) in schedules {
        let run = run_with(
            &mut sim,
            body,
            setup.config(&schedule, TraceMode::HashOnly, false),
        );
        driven.runs += 1;
        driven.hashes.push(run.trace.hash());
        if let Some(data) = classify.run(run) {
            driven.hits.push(Hit {
                index,
                schedule,
                data,
            });
        }
    }
    driven.sometimes = asyncsim_sim::take_sometimes_counts();
    driven
}

/// Trace hashes are already well mixed: hashing them again (SipHash) was a
/// measurable part of a small body's run in `check`.
#[derive(Default)]
struct TraceHashHasher(u64);

impl std::hash::Hasher for TraceHashHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

pub(crate) fn coverage(hashes: &[u64]) -> (u64, u64) {
    let mut seen: HashSet<u64, std::hash::BuildHasherDefault<TraceHashHasher>> =
        HashSet::with_capacity_and_hasher(hashes.len(), Default::default());
    let recent_from = hashes.len().saturating_sub(1000);
    let mut new_recent = 0;
    for (position, hash) in hashes.iter().enumerate() {
        if seen.insert(*hash) && position >= recent_from {
            new_recent += 1;
        }
    }
    (seen.len() as u64, new_recent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_counts_new_hashes_in_the_recent_window() {
        let hashes: Vec<u64> = (0..1500)
            .map(|i| if i < 1200 { i % 10 } else { i })
            .collect();
        let (distinct, recent) = coverage(&hashes);
        assert_eq!(distinct, 10 + 300);
        assert_eq!(recent, 300);
    }
}
