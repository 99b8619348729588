//! `harness::schedules()` makes schedules proptest inputs: proptest finds a
//! planted bug and shrinks both the schedule and the other inputs.

use asyncsim::harness::{run_schedule, schedules};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestError, TestRng, TestRunner};
use std::cell::Cell;
use std::rc::Rc;

/// `n` workers each read a shared counter, yield, and write it back plus
/// one: FIFO passes, but with n ≥ 2 some schedules lose updates.
async fn workers(n: usize) -> usize {
    let counter = Rc::new(Cell::new(0));
    let mut handles = Vec::new();
    for i in 0..n {
        let counter = counter.clone();
        handles.push(
            asyncsim::task::Builder::new()
                .name(format!("worker{i}"))
                .spawn(async move {
                    // Under FIFO worker0 writes before the others read.
                    asyncsim::yield_now().await;
                    if i > 0 {
                        asyncsim::yield_now().await;
                    }
                    let read = counter.get();
                    if i == 0 {
                        asyncsim::yield_now().await;
                    }
                    counter.set(read + 1);
                }),
        );
    }
    for handle in handles {
        handle.await.unwrap();
    }
    counter.get()
}

#[test]
fn proptest_finds_the_bug_and_shrinks_to_a_minimal_schedule_and_input() {
    let config = ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    // A fixed proptest seed: the test checks shrinking, not luck.
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    // The input first: proptest shrinks a tuple left to right, so it finds
    // the smallest `n` before minimising the schedule for it.
    let result = runner.run(&(1..8usize, schedules()), |(n, schedule)| {
        let run = run_schedule(&schedule, || workers(n));
        prop_assert_eq!(run.result.unwrap(), n);
        Ok(())
    });
    let Err(TestError::Fail(_, (n, schedule))) = result else {
        panic!("the lost update is found: {result:?}")
    };
    // proptest shrinks each input in turn, so the pair is minimal one input
    // at a time: the bug needs two workers, and one deviation from FIFO.
    assert!(n >= 2, "one worker cannot lose an update");
    assert_eq!(schedule.deviations(), 1, "{schedule:?}");
    // The reported pair replays the failure …
    assert_ne!(run_schedule(&schedule, || workers(n)).result.unwrap(), n);
    // … and neither input can shrink further on its own: FIFO passes, and
    // one worker fewer passes with this schedule.
    assert_eq!(
        run_schedule(&asyncsim::Tape::new(), || workers(n))
            .result
            .unwrap(),
        n
    );
    assert_eq!(
        run_schedule(&schedule, || workers(n - 1)).result.unwrap(),
        n - 1
    );
}

/// What a user reads when the property fails: proptest's "minimal failing
/// input" shows the schedule as its replay token (`Tape("as1.…")`), and the
/// token pasted into `run_schedule` with the printed input replays the
/// failure: a unit test can pin the pair.
#[test]
fn proptest_prints_the_failing_schedule_as_a_token_that_replays() {
    let config = ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let rng = TestRng::deterministic_rng(config.rng_algorithm);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&(1..8usize, schedules()), |(n, schedule)| {
        let run = run_schedule(&schedule, || workers(n));
        prop_assert_eq!(run.result.unwrap(), n);
        Ok(())
    });
    let Err(error @ TestError::Fail(_, (n, _))) = &result else {
        panic!("the lost update is found: {result:?}")
    };
    let printed = error.to_string();
    let start = printed
        .find("Tape(\"")
        .unwrap_or_else(|| panic!("the schedule is printed as a token: {printed}"))
        + "Tape(\"".len();
    let length = printed[start..].find('"').unwrap();
    let token = &printed[start..start + length];
    assert!(token.starts_with("as1."), "{printed}");
    assert!(!printed.contains("packed"), "no tape internals: {printed}");
    let pasted: asyncsim::Tape = token.parse().unwrap();
    assert_ne!(run_schedule(&pasted, || workers(*n)).result.unwrap(), *n);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn one_worker_never_loses_an_update(schedule in schedules(), extra in 0..3usize) {
        let run = run_schedule(&schedule, || async move { workers(1).await + extra });
        prop_assert_eq!(run.result.unwrap(), 1 + extra);
    }
}
