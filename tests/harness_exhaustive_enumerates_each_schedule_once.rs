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
