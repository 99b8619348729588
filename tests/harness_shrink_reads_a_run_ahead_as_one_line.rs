//! A depth-one bug — one task must run far ahead of another — is dozens of
//! deviations from asyncio's order but no preemption at all: the shrinker
//! minimises the shorter reading, and the report says it in one line
//! ("`runner` ran to completion … before `checker` was scheduled"), while
//! the token still replays the failure (#14.7).

use std::cell::Cell;
use std::rc::Rc;

use asyncsim::{Config, Counterexample, Explore, Sim, Strategy, Tape};

const RUNNER_STEPS: u32 = 40;

/// The checker looks after three yields of its own; it fails only if the
/// runner has made all its steps by then.
async fn run_ahead_bug() {
    let progress = Rc::new(Cell::new(0));
    let runner = {
        let progress = progress.clone();
        asyncsim::task::Builder::new()
            .name("runner")
            .spawn(async move {
                for _ in 0..RUNNER_STEPS {
                    progress.set(progress.get() + 1);
                    asyncsim::yield_now().await;
                }
            })
    };
    let checker = {
        let progress = progress.clone();
        asyncsim::task::Builder::new()
            .name("checker")
            .spawn(async move {
                for _ in 0..3 {
                    asyncsim::yield_now().await;
                }
                assert!(
                    progress.get() < RUNNER_STEPS,
                    "the runner finished before the checker looked"
                );
            })
    };
    runner.await.unwrap();
    checker.await.unwrap();
}

fn found(settings: Explore) -> Counterexample {
    let settings = settings.persist(false).trace_file(false).progress(false);
    asyncsim::explore(settings, run_ahead_bug)
        .first_failure
        .expect("the bug is found")
}

fn assert_reads_as_one_line(found: &Counterexample) {
    // Dozens of deviations from FIFO: the runner picked over the checker at
    // every step.
    assert!(found.deviations >= 30, "{found}");
    assert!(found.reads_as_run_to_completion(), "{found}");
    assert!(found.preemptions.is_empty(), "{found}");
    let text = found.schedule_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{found}");
    assert!(lines[0].starts_with("run to completion"), "{found}");
    assert!(lines[0].ends_with("with no preemption"), "{found}");
    assert!(
        lines[1].starts_with("`runner` ran to completion (steps ")
            // Forty yields and the poll that completes it.
            && lines[1].ends_with(&format!(
                ", {} polls) before `checker` was scheduled",
                RUNNER_STEPS + 1
            )),
        "{found}"
    );
    // The report is short: no "ran X instead of Y" line at all.
    let report = found.to_string();
    assert!(!report.contains("instead of"), "{report}");

    // The token replays the failure, strictly.
    let tape: Tape = found.token().parse().unwrap();
    let replay = Sim::new(Config::new().strategy(Strategy::Replay(tape))).run(run_ahead_bug());
    let failure = replay.result.unwrap_err();
    assert!(
        failure
            .message
            .contains("the runner finished before the checker looked"),
        "{failure}"
    );
}

#[test]
fn a_run_ahead_found_by_pct_shrinks_to_one_line() {
    let found = found(
        Explore::without_environment()
            .strategy(Strategy::Pct { depth: 2 })
            .runs(2000),
    );
    assert_reads_as_one_line(&found);
}

#[test]
fn a_run_ahead_found_by_the_default_mix_shrinks_to_one_line() {
    let found = found(Explore::without_environment().runs(2000));
    assert_reads_as_one_line(&found);
}

#[test]
fn a_bug_that_needs_one_preemption_names_it() {
    // The checker must run one step first, then the runner all of its own:
    // one switch away from the checker, then run to completion.
    let body = || async {
        let progress = Rc::new(Cell::new(0));
        let checker_started = Rc::new(Cell::new(false));
        let checker = {
            let (progress, started) = (progress.clone(), checker_started.clone());
            asyncsim::task::Builder::new()
                .name("checker")
                .spawn(async move {
                    started.set(true);
                    for _ in 0..3 {
                        asyncsim::yield_now().await;
                    }
                    assert!(
                        progress.get() < RUNNER_STEPS,
                        "ran ahead after the checker started"
                    );
                })
        };
        let runner = {
            let (progress, started) = (progress.clone(), checker_started.clone());
            asyncsim::task::Builder::new()
                .name("runner")
                .spawn(async move {
                    for _ in 0..RUNNER_STEPS {
                        if started.get() {
                            progress.set(progress.get() + 1);
                        }
                        asyncsim::yield_now().await;
                    }
                })
        };
        runner.await.unwrap();
        checker.await.unwrap();
    };
    let found = asyncsim::explore(
        Explore::without_environment()
            .strategy(Strategy::Pct { depth: 2 })
            .runs(4000)
            .persist(false)
            .trace_file(false)
            .progress(false),
        body,
    )
    .first_failure
    .expect("the bug is found");
    assert!(found.deviations >= 30, "{found}");
    assert!(found.reads_as_run_to_completion(), "{found}");
    let text = found.schedule_text();
    assert!(text.lines().count() <= 4, "{found}");
    assert!(text.contains("preempting `checker`"), "{found}");
    assert!(text.contains("`runner` ran to completion"), "{found}");
}
