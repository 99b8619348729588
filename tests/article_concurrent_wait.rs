//! "Concurrent runnings": `asyncio.wait` over coroutines. In 3.5–3.10 `wait`
//! put them in a set, so "if you do not wrap your coroutines in
//! create_task() then you cannot ensure order" — `StartOrder::Unordered`
//! models that set; 3.11+ refuses coroutines, so tasks are created first and
//! start in creation order (`run_wait_on_tasks`). And `FIRST_COMPLETED`
//! splits the jobs into done and pending.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use std::collections::BTreeSet;

use asyncsim::harness::run_schedule;
use asyncsim::time::Instant;
use asyncsim::trace::marks_so_far;
use asyncsim::StartOrder;
use common::concurrent::{run_wait, run_wait_first_completed, run_wait_on_tasks, JOBS};
use common::snippets::secs;
use common::support::{
    argument_order, assert_trace_snapshot, every_set_order, fifo, marks, random_and_pct, run_once,
};
use schedule_support::on_every_schedule;

const RUNS: u64 = 600;

/// `wait` over six coroutines in a set; returns the order they started in.
async fn start_order_of_wait() -> Vec<String> {
    run_wait(StartOrder::Unordered).await;
    marks_so_far()
}

#[test]
fn wait_with_unordered_start_has_schedules_that_start_jobs_out_of_argument_order() {
    let mut orders = BTreeSet::new();
    for schedules in random_and_pct(RUNS) {
        let witness = asyncsim::find(schedules.clone(), start_order_of_wait, |order| {
            *order != argument_order(JOBS)
        })
        .expect("some schedule starts the jobs out of argument order");
        println!(
            "run {} started the jobs in the order {} (replay token {})",
            witness.run_index,
            witness.value.join(", "),
            witness.token()
        );
        assert_eq!(marks(&witness.trace), witness.value);
        let census = asyncsim::outcomes(schedules, start_order_of_wait);
        orders.extend(census.values.into_iter().map(|outcome| outcome.value));
    }
    assert!(orders.len() > 10, "a set has many orders: {}", orders.len());
}

#[test]
fn on_asyncio_s_fifo_loop_wait_starts_jobs_in_exactly_the_set_order_for_every_set_order() {
    // The loop itself is FIFO; only the set's order is drawn. This is
    // Python 3.5–3.10 exactly: the order comes from the set, not the scheduler.
    let set_orders = every_set_order(JOBS as usize);
    assert_eq!(set_orders.len(), 720);
    let mut start_orders = BTreeSet::new();
    for (tape, permutation) in set_orders {
        let run = run_schedule(&tape, start_order_of_wait);
        let started = run.result.expect("the run completes");
        let expected: Vec<String> = permutation.iter().map(|x| x.to_string()).collect();
        assert_eq!(started, expected, "set order {tape}");
        start_orders.insert(started);
    }
    assert_eq!(start_orders.len(), 720, "every set order shows");
}

#[test]
fn tasks_created_before_wait_start_in_creation_order_on_a_fifo_loop_whatever_the_set_order() {
    // The article's fix: create_task first, and the set no longer matters.
    for (tape, _) in every_set_order(JOBS as usize) {
        let run = run_schedule(&tape, || async {
            run_wait_on_tasks(StartOrder::Unordered).await;
            marks_so_far()
        });
        assert_eq!(
            run.result.expect("the run completes"),
            argument_order(JOBS),
            "set order {tape}"
        );
    }
}

#[test]
fn wait_with_argument_start_under_fifo_starts_jobs_in_argument_order() {
    let run = run_once(fifo(), run_wait(StartOrder::Argument));
    assert!(run.is_ok());
    assert_eq!(marks(&run.trace), argument_order(JOBS));
}

#[test]
fn wait_waits_for_every_job_on_every_schedule_within_two_deviations() {
    for start_order in [StartOrder::Argument, StartOrder::Unordered] {
        on_every_schedule(2, 50_000, move || async move {
            let mut done = run_wait(start_order).await;
            done.sort_unstable();
            assert_eq!(done, (0..JOBS as usize).collect::<Vec<_>>());
            let mut printed = marks_so_far();
            printed.sort();
            assert_eq!(printed, argument_order(JOBS));
        });
    }
}

#[test]
fn wait_first_completed_returns_the_shortest_job_done_and_the_others_pending_on_every_schedule() {
    for start_order in [StartOrder::Argument, StartOrder::Unordered] {
        on_every_schedule(u32::MAX, 50_000, move || async move {
            let (done, mut pending) = run_wait_first_completed(start_order).await;
            // nap(1) is argument 1; it finishes alone at 1 s.
            assert_eq!(done, [1]);
            pending.sort_unstable();
            assert_eq!(pending, [0, 2]);
            // The pending naps kept running and were awaited afterwards.
            assert_eq!(Instant::now().since_start(), secs(3));
        });
    }
}

#[test]
fn concurrent_wait_fifo_trace_snapshots() {
    assert_trace_snapshot(
        "concurrent_wait",
        &run_once(fifo(), run_wait(StartOrder::Argument)).trace,
    );
    assert_trace_snapshot(
        "concurrent_wait_unordered",
        &run_once(fifo(), run_wait(StartOrder::Unordered)).trace,
    );
    assert_trace_snapshot(
        "concurrent_wait_first_completed",
        &run_once(fifo(), run_wait_first_completed(StartOrder::Argument)).trace,
    );
}
