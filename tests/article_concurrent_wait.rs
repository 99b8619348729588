//! "Concurrent runnings": `asyncio.wait` over coroutines. Up to 3.10 `wait`
//! put them in a set, so "if you do not wrap your coroutines in
//! create_task() then you cannot ensure order" — `StartOrder::Unordered`
//! models that set; 3.7+'s order is `StartOrder::Argument`. And
//! `FIRST_COMPLETED` splits the jobs into done and pending.

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::{Sim, StartOrder};
use common::concurrent::{run_wait, run_wait_first_completed, run_wait_on_tasks, JOBS};
use common::support::{
    assert_trace_snapshot, census, check_every_schedule, fifo, marks, run_once, schedules,
    set_order_then_fifo,
};

const RUNS: u64 = 600;

fn argument_order() -> Vec<String> {
    (0..JOBS).map(|x| x.to_string()).collect()
}

#[test]
fn wait_with_unordered_start_has_schedules_that_start_jobs_out_of_argument_order() {
    let orders = census(
        schedules(RUNS),
        || run_wait(StartOrder::Unordered),
        |run| marks(&run.trace),
    );
    let (order, witness) = orders
        .iter()
        .find(|(order, _)| **order != argument_order())
        .expect("some schedule starts the jobs out of argument order");
    println!(
        "seed {} ({:?}) started the jobs in the order {}",
        witness.witness.seed,
        witness.witness.strategy,
        order.join(", ")
    );
    assert!(orders.len() > 10, "a set has many orders: {}", orders.len());
}

#[test]
fn wait_with_unordered_start_under_a_fifo_loop_still_starts_jobs_in_set_order() {
    // The loop itself is FIFO; only the set's order is drawn. This is
    // Python 3.6 exactly: the order comes from the set, not the scheduler.
    let mut out_of_order = 0;
    for config in schedules(RUNS) {
        let explored = Sim::new(config).run(run_wait(StartOrder::Unordered));
        let replayed = Sim::new(fifo().strategy(set_order_then_fifo(&explored.tape)))
            .run(run_wait(StartOrder::Unordered));
        assert!(replayed.is_ok());
        if marks(&replayed.trace) != argument_order() {
            out_of_order += 1;
        }
    }
    assert!(
        out_of_order > RUNS / 2,
        "{out_of_order} of {RUNS} out of order"
    );
}

#[test]
fn tasks_created_before_wait_start_in_creation_order_under_a_fifo_loop_whatever_the_set_order() {
    // The article's fix: create_task first, and the set no longer matters.
    for config in schedules(RUNS) {
        let explored = Sim::new(config).run(run_wait_on_tasks(StartOrder::Unordered));
        let replayed = Sim::new(fifo().strategy(set_order_then_fifo(&explored.tape)))
            .run(run_wait_on_tasks(StartOrder::Unordered));
        assert!(replayed.is_ok());
        assert_eq!(
            marks(&replayed.trace),
            argument_order(),
            "seed {}",
            explored.seed
        );
    }
}

#[test]
fn wait_with_argument_start_under_fifo_starts_jobs_in_argument_order() {
    let run = run_once(fifo(), run_wait(StartOrder::Argument));
    assert!(run.is_ok());
    assert_eq!(marks(&run.trace), argument_order());
}

#[test]
fn wait_waits_for_every_job_on_every_schedule() {
    for start_order in [StartOrder::Argument, StartOrder::Unordered] {
        check_every_schedule(
            RUNS / 2,
            || run_wait(start_order),
            |run| {
                let mut done = run.result.clone().expect("the run completes");
                done.sort_unstable();
                assert_eq!(done, (0..JOBS as usize).collect::<Vec<_>>());
                let mut printed = marks(&run.trace);
                printed.sort();
                assert_eq!(printed, argument_order());
            },
        );
    }
}

#[test]
fn wait_first_completed_returns_the_shortest_job_done_and_the_others_pending_on_every_schedule() {
    for start_order in [StartOrder::Argument, StartOrder::Unordered] {
        check_every_schedule(
            RUNS / 2,
            || run_wait_first_completed(start_order),
            |run| {
                let (done, mut pending) = run.result.clone().expect("the run completes");
                // nap(1) is argument 1; it finishes alone at 1 s.
                assert_eq!(done, [1]);
                pending.sort_unstable();
                assert_eq!(pending, [0, 2]);
                // The pending naps kept running and were awaited afterwards.
                assert_eq!(run.elapsed(), common::snippets::secs(3));
            },
        );
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
