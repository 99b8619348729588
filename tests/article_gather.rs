//! "Handling async function results": `gather` collects the results, always
//! in argument order — even with 3.5–3.6's set-based start
//! (`gather_with(StartOrder::Unordered, ..)`), where the jobs start in no
//! particular order.

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::{Explore, StartOrder, Strategy};
use common::concurrent::{run_gather, run_gather_logged, run_gather_unordered, JOBS};
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
}

#[test]
fn gather_fifo_trace_snapshots() {
    assert_trace_snapshot("gather", &run_once(fifo(), run_gather()).trace);
    assert_trace_snapshot(
        "gather_unordered",
        &run_once(fifo(), run_gather_unordered()).trace,
    );
}

#[test]
fn the_harness_finds_an_unordered_gather_that_starts_out_of_order_yet_returns_in_order() {
    let argument_order: Vec<u64> = (0..JOBS).collect();
    let witness = asyncsim::find(
        Explore::new()
            .runs(RUNS)
            .strategy(Strategy::Pct { depth: 2 }),
        || run_gather_logged(StartOrder::Unordered),
        |(started, _)| *started != (0..JOBS).collect::<Vec<_>>(),
    )
    .expect("a schedule that starts the jobs out of argument order");
    println!(
        "run {} (replay token {}) started {:?} and returned {:?}",
        witness.run_index,
        witness.token(),
        witness.value.0,
        witness.value.1
    );
    assert_ne!(witness.value.0, argument_order);
    assert_eq!(witness.value.1, argument_order);
}

#[test]
fn the_harness_checks_that_every_gather_returns_in_argument_order() {
    for start_order in [StartOrder::Argument, StartOrder::Unordered] {
        asyncsim::check(
            Explore::new().runs(RUNS).strategy(Strategy::Random),
            move || async move {
                let (_, results) = run_gather_logged(start_order).await;
                assert_eq!(results, (0..JOBS).collect::<Vec<_>>());
            },
        );
    }
}
