//! "Order mucking": define work in any order and await it in any order; it
//! runs sequentially, in the order awaited, so the run takes the sum of the
//! jobs' times. Made into tasks first ("create_task all the things"), the
//! same jobs run at the same time and the run takes the longest one.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use std::time::Duration;

use asyncsim::time::{self, Instant};
use asyncsim::trace::marks_so_far;
use common::snippets::{run_in_await_order, run_tasks_in_await_order, secs, AWAIT_ORDERS};
use common::support::{assert_trace_snapshot, fifo, run_once};
use schedule_support::on_every_schedule;

#[test]
fn awaited_coroutines_run_sequentially_in_await_order_and_take_the_sum_of_their_times() {
    for order in AWAIT_ORDERS {
        on_every_schedule(u32::MAX, 50_000, move || async move {
            assert_eq!(run_in_await_order(order).await, order);
            let expected: Vec<String> = order
                .iter()
                .flat_map(|seconds| [format!("start {seconds}"), format!("end {seconds}")])
                .collect();
            assert_eq!(marks_so_far(), expected, "await order {order:?}");
            assert_eq!(Instant::now().since_start(), secs(1 + 2 + 3));
        });
    }
}

#[test]
fn tasks_start_at_once_take_the_longest_time_in_any_await_order_and_finish_shortest_first() {
    for order in AWAIT_ORDERS {
        on_every_schedule(u32::MAX, 50_000, move || async move {
            // A probe one nanosecond in: by then every job has started
            // and none has ended, so all three started at time 0.
            let probe = asyncsim::spawn(async {
                time::sleep(Duration::from_nanos(1)).await;
                let mut started = marks_so_far();
                started.sort();
                assert_eq!(started, ["start 1", "start 2", "start 3"]);
            });
            assert_eq!(run_tasks_in_await_order(order).await, order);
            probe.await.expect("every job started at time 0");
            let ends: Vec<String> = marks_so_far()
                .into_iter()
                .filter(|mark| mark.starts_with("end"))
                .collect();
            assert_eq!(ends, ["end 1", "end 2", "end 3"]);
            assert_eq!(Instant::now().since_start(), secs(3), "{order:?}");
        });
    }
}

#[test]
fn order_mucking_fifo_trace_snapshots() {
    assert_trace_snapshot(
        "order_mucking_awaited_3_1_2",
        &run_once(fifo(), run_in_await_order([3, 1, 2])).trace,
    );
    assert_trace_snapshot(
        "order_mucking_tasks_3_1_2",
        &run_once(fifo(), run_tasks_in_await_order([3, 1, 2])).trace,
    );
}
