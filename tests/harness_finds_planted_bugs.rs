//! The harness finds each planted bug, shrinks it to the deviations the bug
//! needs, replays it from the printed token with the identical trace, and
//! finds the same first failure with two threads.

mod harness_support;

use asyncsim::harness::Explore;
use asyncsim::{Config, FailureKind, Sim, Strategy, Tape};
use harness_support::*;
use std::future::Future;

fn settings() -> Explore {
    Explore::without_environment()
        .runs(2000)
        .progress(false)
        .trace_file(false)
}

/// Finds, shrinks, replays; returns the shrunk token.
fn found_shrunk_and_replayed<B, F>(body: B, kind: FailureKind, deviations: usize) -> String
where
    B: Fn() -> F + Sync + Copy,
    F: Future<Output = ()>,
{
    let summary = asyncsim::explore(settings(), body);
    let failure = summary.first_failure.expect("the planted bug is found");
    assert_eq!(failure.failure.kind, kind, "{failure}");
    assert_eq!(failure.deviations, deviations, "{failure}");
    assert_eq!(failure.tape.deviations(), deviations);
    assert_eq!(failure.deviation_details.len(), deviations, "{failure}");
    assert!(failure.original_deviations >= failure.deviations);

    // The printed token replays the identical run.
    let token = failure.token();
    assert!(failure
        .to_string()
        .contains(&format!("ASYNCSIM_REPLAY={token}")));
    let tape: Tape = token.parse().expect("the token parses");
    let replay = Sim::new(Config::new().strategy(Strategy::Replay(tape.clone()))).run(body());
    assert_eq!(replay.trace.hash(), failure.trace.hash());
    assert_eq!(replay.trace, failure.trace);
    assert_eq!(replay.result.unwrap_err().kind, kind);
    // And through the harness (what `ASYNCSIM_REPLAY` does).
    let replayed = asyncsim::explore(settings().replay(tape), body);
    assert_eq!(replayed.runs, 1);
    let again = replayed.first_failure.expect("the replay fails too");
    assert_eq!(again.trace.hash(), failure.trace.hash());

    // The unshrunk run replays from its seed.
    let by_seed = asyncsim::explore(settings().replay_seed(failure.seed), body);
    assert_eq!(
        by_seed.first_failure.expect("seed replays").failure.kind,
        kind
    );

    // Two threads find the same first failure and shrink it the same way.
    let parallel = asyncsim::explore(settings().jobs(2), body);
    let parallel_failure = parallel.first_failure.expect("found with jobs(2)");
    assert_eq!(parallel_failure.run_index, failure.run_index);
    assert_eq!(parallel_failure.seed, failure.seed);
    assert_eq!(parallel_failure.token(), token);
    assert_eq!(parallel.runs, summary.runs);
    assert_eq!(parallel.failures, summary.failures);
    assert_eq!(parallel.distinct_schedules, summary.distinct_schedules);
    token
}

#[test]
fn lost_update_across_an_await_is_found_and_shrunk_to_one_deviation() {
    found_shrunk_and_replayed(lost_update, FailureKind::Panic, 1);
}

#[test]
fn order_violation_is_found_and_shrunk_to_two_deviations() {
    found_shrunk_and_replayed(order_violation, FailureKind::Panic, 2);
}

#[test]
fn lock_order_deadlock_is_found_and_shrunk_to_one_deviation() {
    found_shrunk_and_replayed(lock_order_deadlock, FailureKind::Deadlock, 1);
}

#[test]
fn bug_needing_three_orderings_is_found_and_shrunk_to_three_deviations() {
    found_shrunk_and_replayed(three_orderings, FailureKind::Panic, 3);
}

#[test]
fn planted_bugs_pass_under_fifo() {
    // The bugs need deviations: plain asyncio order passes every one.
    let fifo = || Sim::new(Config::new().strategy(Strategy::Fifo));
    assert!(fifo().run(lost_update()).is_ok());
    assert!(fifo().run(order_violation()).is_ok());
    assert!(fifo().run(three_orderings()).is_ok());
    assert!(fifo().run(lock_order_deadlock()).is_ok());
}

#[test]
fn minimal_deviations_match_exhaustive_search() {
    // Exhaustive search with one deviation fewer than the shrunk count finds
    // nothing: the shrinker's answer is the true minimum.
    let cases: [(fn() -> _, u32); 2] = [(order_violation_boxed, 2), (three_orderings_boxed, 3)];
    for (body, needed) in cases {
        let below = asyncsim::explore(settings().exhaustive(needed - 1).runs(100_000), body);
        assert_eq!(below.failures, 0);
        assert_eq!(below.exhausted, Some(true));
        let at = asyncsim::explore(settings().exhaustive(needed).runs(100_000), body);
        assert!(at.failures > 0);
        assert_eq!(at.first_failure.unwrap().deviations, needed as usize);
    }
    let one = asyncsim::explore(settings().exhaustive(0), lost_update);
    assert_eq!((one.runs, one.failures), (1, 0));
}

fn order_violation_boxed() -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(order_violation())
}

fn three_orderings_boxed() -> std::pin::Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(three_orderings())
}

#[test]
fn pct_finds_the_three_ordering_bug_with_the_same_result_on_two_threads() {
    let pct = settings().strategy(Strategy::Pct { depth: 3 });
    let one = asyncsim::explore(pct.clone(), three_orderings);
    let two = asyncsim::explore(pct.jobs(2), three_orderings);
    let (a, b) = (one.first_failure.unwrap(), two.first_failure.unwrap());
    assert_eq!(
        (a.run_index, a.seed, a.token()),
        (b.run_index, b.seed, b.token())
    );
    assert_eq!(a.deviations, 3);
}
