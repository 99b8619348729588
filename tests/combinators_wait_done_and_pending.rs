//! `wait` returns `(done, pending)`: `done` holds every child finished when
//! the condition was met, in completion order; `pending` holds the handles
//! of the children still running, which keep running.

use asyncsim::{time, trace, wait, wait_results, wait_timeout, ReturnWhen, Sim, StartOrder};
use std::time::Duration;

mod schedule_support;

use schedule_support::{every_run, random_and_pct};

/// A child that sleeps `seconds`, yields a drawn number of times, marks
/// itself and returns `seconds`.
async fn nap(index: usize, seconds: u64) -> u64 {
    time::sleep(Duration::from_secs(seconds)).await;
    for _ in 0..asyncsim::random_range(0..3u32) {
        asyncsim::yield_now().await;
    }
    trace::mark(format!("{index}"));
    seconds
}

fn finished_order(run: &asyncsim::Run<impl Sized>) -> Vec<usize> {
    run.trace
        .marks()
        .map(|mark| mark.parse().unwrap())
        .collect()
}

#[test]
fn wait_first_completed_splits_done_and_pending_for_every_schedule_within_three_deviations() {
    let mut done_sizes = std::collections::BTreeSet::new();
    every_run(
        3,
        50_000,
        || async {
            let durations = [3u64, 1, 1, 2];
            let (done, pending) = wait(
                durations
                    .iter()
                    .enumerate()
                    .map(|(index, seconds)| nap(index, *seconds)),
                ReturnWhen::FirstCompleted,
                StartOrder::Argument,
            )
            .await;
            let still_running: Vec<bool> = pending
                .iter()
                .map(|(_, handle)| !handle.is_finished())
                .collect();
            let pending_indexes: Vec<usize> = pending.iter().map(|(index, _)| *index).collect();
            let now = time::Instant::now().since_start();
            // The pending children keep running: await them.
            let mut late = Vec::new();
            for (index, handle) in pending {
                late.push((index, handle.await.unwrap()));
            }
            (done, pending_indexes, still_running, now, late)
        },
        |run| {
            let finished = finished_order(&run);
            let (done, pending, still_running, returned_at, late) = run.result.unwrap();
            assert!(!done.is_empty());
            assert_eq!(
                returned_at,
                Duration::from_secs(1),
                "returns at the first completion"
            );
            // done: every child finished by then, in completion order.
            let done_indexes: Vec<usize> = done.iter().map(|(index, _)| *index).collect();
            assert_eq!(done_indexes, finished[..done.len()], "completion order");
            for (index, output) in &done {
                assert_eq!(*output, [3u64, 1, 1, 2][*index]);
                assert!(
                    [1, 2].contains(index),
                    "only the one-second children can be done"
                );
            }
            // pending: the rest, in argument order, not finished when wait returned.
            let mut all: Vec<usize> = done_indexes.iter().chain(&pending).copied().collect();
            all.sort_unstable();
            assert_eq!(all, [0, 1, 2, 3]);
            assert!(pending.windows(2).all(|pair| pair[0] < pair[1]));
            assert!(still_running.iter().all(|running| *running));
            assert!(late
                .iter()
                .all(|(index, output)| *output == [3u64, 1, 1, 2][*index]));
            done_sizes.insert(done.len());
        },
    );
    // Both splits happen: sometimes the second one-second child finished
    // before the waiter resumed, sometimes not.
    assert_eq!(done_sizes, [1, 2].into_iter().collect());
}

#[test]
fn wait_all_completed_returns_everything_in_completion_order() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            wait(
                [2u64, 1, 3]
                    .iter()
                    .enumerate()
                    .map(|(index, seconds)| nap(index, *seconds)),
                ReturnWhen::AllCompleted,
                StartOrder::Argument,
            )
            .await
        },
        |run| {
            let (done, pending) = run.result.unwrap();
            assert!(pending.is_empty());
            assert_eq!(done, [(1, 1), (0, 2), (2, 3)]);
        },
    );
}

#[test]
fn wait_first_exception_returns_at_the_first_err() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let child = |seconds: u64, fails: bool| async move {
                time::sleep(Duration::from_secs(seconds)).await;
                if fails {
                    Err(seconds)
                } else {
                    Ok(seconds)
                }
            };
            let (done, pending) = wait(
                [child(1, false), child(2, true), child(3, false)],
                ReturnWhen::FirstException,
                StartOrder::Argument,
            )
            .await;
            let pending: Vec<usize> = pending.iter().map(|(index, _)| *index).collect();
            (done, pending, time::Instant::now().since_start())
        },
        |run| {
            let (done, pending, returned_at) = run.result.unwrap();
            assert_eq!(done, [(0, Ok(1)), (1, Err(2))]);
            assert_eq!(pending, [2]);
            assert_eq!(returned_at, Duration::from_secs(2));
        },
    );
}

#[test]
fn wait_results_counts_a_panic_as_an_exception() {
    for config in random_and_pct(250).take(100) {
        let run = Sim::new(config).run(async {
            let child = |seconds: u64, panics: bool| async move {
                time::sleep(Duration::from_secs(seconds)).await;
                assert!(!panics, "child of {seconds}s panics");
                seconds
            };
            let (done, pending) = wait_results(
                [child(1, false), child(2, true), child(3, false)],
                ReturnWhen::FirstException,
                StartOrder::Argument,
            )
            .await;
            let panicked = done[1]
                .1
                .as_ref()
                .unwrap_err()
                .panic_message()
                .unwrap()
                .to_string();
            (done.len(), pending.len(), panicked)
        });
        let (done, pending, panicked) = run.result.unwrap();
        assert_eq!((done, pending), (2, 1));
        assert!(panicked.contains("child of 2s panics"), "{panicked}");
    }
}

#[test]
fn wait_timeout_neither_raises_nor_cancels() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let (done, pending) = wait_timeout(
                [1u64, 5, 9]
                    .iter()
                    .enumerate()
                    .map(|(index, seconds)| nap(index, *seconds)),
                ReturnWhen::AllCompleted,
                StartOrder::Argument,
                Duration::from_secs(4),
            )
            .await;
            let returned_at = time::Instant::now().since_start();
            let mut late = Vec::new();
            for (index, handle) in pending {
                late.push((index, handle.await.unwrap()));
            }
            (done, returned_at, late)
        },
        |run| {
            assert_eq!(
                run.elapsed(),
                Duration::from_secs(9),
                "the pending children ran on"
            );
            let (done, returned_at, late) = run.result.unwrap();
            assert_eq!(done, [(0, 1)]);
            assert_eq!(returned_at, Duration::from_secs(4));
            assert_eq!(late, [(1, 5), (2, 9)]);
        },
    );
}
