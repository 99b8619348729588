//! Exhaustive mode enumerates every schedule within the deviation bound
//! exactly once, and says whether it exhausted the bounded space.

mod harness_support;

use asyncsim::harness::Explore;
use harness_support::{choose, two_tasks};

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(1_000_000)
}

#[test]
fn two_tasks_of_k_polls_have_c_2k_k_schedules_unbounded() {
    for k in 1..=5usize {
        let expected = choose(2 * k as u64, k as u64);
        let summary = asyncsim::explore(settings().exhaustive(u32::MAX), move || async move {
            two_tasks(k).await;
        });
        assert_eq!(summary.runs, expected, "k = {k}");
        assert_eq!(summary.exhausted, Some(true));
        // Exactly once: every schedule's trace is distinct.
        assert_eq!(summary.distinct_schedules, expected, "k = {k}");
        // And every interleaving of the prints appears.
        let census = asyncsim::outcomes(settings().exhaustive(u32::MAX), move || two_tasks(k));
        assert_eq!(census.values.len() as u64, expected);
        assert!(census.values.iter().all(|outcome| outcome.count == 1));
    }
}

#[test]
fn bounded_enumeration_counts_schedules_with_few_deviations() {
    // With k = 4 there are 7 binary draws at most; schedules with at most d
    // deviations are fewer than C(8, 4) = 70 and grow with d.
    let mut previous = 0;
    for bound in 0..=7u32 {
        let summary = asyncsim::explore(settings().exhaustive(bound), || async {
            two_tasks(4).await;
        });
        assert_eq!(summary.exhausted, Some(true));
        assert_eq!(summary.distinct_schedules, summary.runs);
        assert!(summary.runs >= previous);
        previous = summary.runs;
    }
    assert_eq!(previous, 70);
    let fifo_only = asyncsim::explore(settings().exhaustive(0), || async {
        two_tasks(4).await;
    });
    assert_eq!(fifo_only.runs, 1);
}

#[test]
fn a_run_cap_below_the_space_reports_not_exhausted() {
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX).runs(10), || async {
        two_tasks(4).await;
    });
    assert_eq!(summary.runs, 10);
    assert_eq!(summary.exhausted, Some(false));
}

/// Each distinct printed interleaving with the index of the run that first
/// printed it, in run order.
fn witnesses(explore: Explore, k: usize) -> Vec<(String, u64)> {
    asyncsim::outcomes(explore, move || two_tasks(k))
        .values
        .into_iter()
        .map(|outcome| (outcome.value, outcome.witness_run_index))
        .collect()
}

/// Each distinct printed interleaving and how often it ran.
fn census(explore: Explore, k: usize) -> Vec<(String, u64)> {
    let census = asyncsim::outcomes(explore, move || two_tasks(k));
    let mut values: Vec<(String, u64)> = census
        .values
        .into_iter()
        .map(|outcome| (outcome.value, outcome.count))
        .collect();
    values.sort();
    values
}

/// Threads split the search by first deviation and merge it back in order:
/// the same runs, the same schedules, the same verdict on exhaustion.
#[test]
fn threads_give_the_same_exhaustive_search() {
    for bound in [1, 2, u32::MAX] {
        let one = asyncsim::explore(settings().exhaustive(bound), || async {
            two_tasks(4).await;
        });
        for jobs in [2, 3, 5] {
            let many = asyncsim::explore(settings().exhaustive(bound).jobs(jobs), || async {
                two_tasks(4).await;
            });
            assert_eq!(many.runs, one.runs, "bound {bound}, {jobs} threads");
            assert_eq!(many.distinct_schedules, one.distinct_schedules);
            assert_eq!(many.exhausted, Some(true));
            // Every schedule at the same place in the run order.
            assert_eq!(
                witnesses(settings().exhaustive(bound).jobs(jobs), 4),
                witnesses(settings().exhaustive(bound), 4)
            );
        }
    }
    // A cap keeps the first `runs` schedules of the sequential order,
    // wherever they fall among the threads' parts.
    for runs in [2, 9, 25, 69] {
        let one = witnesses(settings().exhaustive(u32::MAX).runs(runs), 4);
        assert_eq!(one.len() as u64, runs);
        for jobs in [2, 3] {
            let many = witnesses(settings().exhaustive(u32::MAX).runs(runs).jobs(jobs), 4);
            assert_eq!(many, one, "{runs} runs, {jobs} threads");
        }
    }
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX).runs(25).jobs(3), || async {
        two_tasks(4).await;
    });
    assert_eq!(summary.exhausted, Some(false));
}

/// Shards take disjoint parts of the exhaustive space, each exhausted, that
/// together are the whole of it.
#[test]
fn shards_split_the_exhaustive_space() {
    for bound in [2, u32::MAX] {
        let whole = census(settings().exhaustive(bound), 4);
        for count in [2u64, 3, 7] {
            let mut union = Vec::new();
            for index in 0..count {
                let part = settings().exhaustive(bound).shard(index, count);
                let summary = asyncsim::explore(part.clone(), || async {
                    two_tasks(4).await;
                });
                assert_eq!(summary.exhausted, Some(true), "shard {index}/{count}");
                let values = census(part.jobs(2), 4);
                assert_eq!(values.iter().map(|(_, n)| n).sum::<u64>(), summary.runs);
                union.extend(values);
            }
            union.sort();
            assert_eq!(union, whole, "bound {bound}, {count} shards");
        }
    }
}

/// The first failure — its index, seed and shrunk token — does not depend
/// on the number of threads.
#[test]
fn the_first_exhaustive_failure_is_the_same_on_any_number_of_threads() {
    let body = || async {
        let printed = two_tasks(3).await;
        assert!(!printed.ends_with("aa"), "printed {printed}");
    };
    let one = asyncsim::explore(settings().exhaustive(3), body);
    let first = one.first_failure.expect("some schedule ends with two a's");
    assert!(first.run_index > 0);
    for jobs in [2, 4] {
        let many = asyncsim::explore(settings().exhaustive(3).jobs(jobs), body);
        let found = many.first_failure.expect("found on more threads too");
        assert_eq!(found.run_index, first.run_index, "{jobs} threads");
        assert_eq!(found.tape.to_string(), first.tape.to_string());
        assert_eq!(many.runs, one.runs);
        assert_eq!(many.failures, one.failures);
    }
    // `find` stops at the first witness: the threads stop there too, and
    // agree on it, for every ending (some are found in later subtrees).
    for ending in ["aa", "bb", "ab", "ba", "aab", "bba", "abab"] {
        let witness = |jobs| {
            asyncsim::find(
                settings().exhaustive(u32::MAX).jobs(jobs),
                || two_tasks(3),
                |printed| printed.ends_with(ending),
            )
            .map(|found| (found.run_index, found.tape.to_string(), found.value))
        };
        let one = witness(1);
        assert!(one.is_some(), "some schedule ends with {ending}");
        for jobs in [2, 3, 5] {
            assert_eq!(witness(jobs), one, "ending {ending}, {jobs} threads");
        }
    }
}
