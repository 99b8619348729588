//! "Handling async function results": `gather` collects the results, always
//! in argument order — even with 3.5–3.6's set-based start
//! (`gather_with(StartOrder::Unordered, ..)`), where the jobs start in no
//! particular order.

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::StartOrder;
use common::concurrent::{run_gather, run_gather_unordered, JOBS};
use common::support::{
    assert_trace_snapshot, census, check_every_schedule, fifo, marks, run_once, schedules,
};

const RUNS: u64 = 600;

fn argument_order() -> Vec<String> {
    (0..JOBS).map(|x| x.to_string()).collect()
}

#[test]
fn gather_returns_results_in_argument_order_on_every_schedule() {
    check_every_schedule(RUNS, run_gather, |run| {
        assert_eq!(
            run.result.as_ref().ok(),
            Some(&(0..JOBS).collect::<Vec<_>>())
        );
    });
}

#[test]
fn unordered_gather_returns_results_in_argument_order_on_every_schedule() {
    check_every_schedule(RUNS, run_gather_unordered, |run| {
        assert_eq!(
            run.result.as_ref().ok(),
            Some(&(0..JOBS).collect::<Vec<_>>())
        );
    });
}

#[test]
fn unordered_gather_has_schedules_that_start_jobs_out_of_argument_order() {
    let orders = census(schedules(RUNS), run_gather_unordered, |run| {
        marks(&run.trace)
    });
    let (order, outcome) = orders
        .iter()
        .find(|(order, _)| **order != argument_order())
        .expect("some schedule starts the jobs out of argument order");
    println!(
        "seed {} ({:?}) started the jobs in the order {} and still returned [0, 1, 2, 3, 4, 5]",
        outcome.witness.seed,
        outcome.witness.strategy,
        order.join(", ")
    );
}

#[test]
fn gather_under_fifo_starts_children_in_argument_order() {
    let run = run_once(fifo(), run_gather());
    assert_eq!(marks(&run.trace), argument_order());
    let _ = StartOrder::Argument;
}

#[test]
fn gather_fifo_trace_snapshots() {
    assert_trace_snapshot("gather", &run_once(fifo(), run_gather()).trace);
    assert_trace_snapshot(
        "gather_unordered",
        &run_once(fifo(), run_gather_unordered()).trace,
    );
}
