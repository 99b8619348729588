//! "Handling async function results": `gather` collects the results, always
//! in argument order — even with 3.5–3.6's set-based start
//! (`gather_with(StartOrder::Unordered, ..)`), where the jobs start in no
//! particular order.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use asyncsim::trace::marks_so_far;
use asyncsim::{Explore, StartOrder, Strategy};
use common::concurrent::{run_gather, run_gather_logged, run_gather_unordered, JOBS};
use common::support::{argument_order, assert_trace_snapshot, fifo, marks, run_once};
use schedule_support::on_every_schedule;

const RUNS: u64 = 600;

fn in_argument_order() -> Vec<u64> {
    (0..JOBS).collect()
}

#[test]
fn gather_returns_results_in_argument_order_on_every_schedule_within_two_deviations() {
    on_every_schedule(2, 50_000, || async {
        assert_eq!(run_gather().await, in_argument_order());
    });
}

#[test]
fn unordered_gather_returns_results_in_argument_order_on_every_schedule_within_two_deviations() {
    on_every_schedule(2, 50_000, || async {
        assert_eq!(run_gather_unordered().await, in_argument_order());
    });
}

#[test]
fn every_gather_starts_each_job_once_and_returns_in_argument_order_whatever_the_start_order() {
    for start_order in [StartOrder::Argument, StartOrder::Unordered] {
        on_every_schedule(2, 50_000, move || async move {
            let (mut started, results) = run_gather_logged(start_order).await;
            assert_eq!(results, in_argument_order());
            let mut printed = marks_so_far();
            printed.sort();
            assert_eq!(printed, argument_order(JOBS));
            started.sort_unstable();
            assert_eq!(started, in_argument_order());
        });
    }
}

#[test]
fn unordered_gather_has_schedules_that_start_jobs_out_of_order_yet_return_in_order() {
    for strategy in [Strategy::Random, Strategy::Pct { depth: 2 }] {
        let witness = asyncsim::find(
            Explore::new().runs(RUNS / 2).strategy(strategy),
            || run_gather_logged(StartOrder::Unordered),
            |(started, _)| *started != in_argument_order(),
        )
        .expect("a schedule that starts the jobs out of argument order");
        println!(
            "run {} (replay token {}) started {:?} and returned {:?}",
            witness.run_index,
            witness.token(),
            witness.value.0,
            witness.value.1
        );
        assert_ne!(witness.value.0, in_argument_order());
        assert_eq!(witness.value.1, in_argument_order());
    }
}

#[test]
fn gather_under_fifo_starts_children_in_argument_order() {
    let run = run_once(fifo(), run_gather());
    assert_eq!(marks(&run.trace), argument_order(JOBS));
}

#[test]
fn gather_fifo_trace_snapshots() {
    assert_trace_snapshot("gather", &run_once(fifo(), run_gather()).trace);
    assert_trace_snapshot(
        "gather_unordered",
        &run_once(fifo(), run_gather_unordered()).trace,
    );
}
