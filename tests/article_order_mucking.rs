//! "Order mucking": define work in any order and await it in any order; it
//! runs sequentially, in the order awaited, so the run takes the sum of the
//! jobs' times. Made into tasks first ("create_task all the things"), the
//! same jobs run at the same time and the run takes the longest one.

#[path = "../examples/common/mod.rs"]
mod common;

use common::snippets::{run_in_await_order, run_tasks_in_await_order, secs, AWAIT_ORDERS};
use common::support::{assert_trace_snapshot, check_every_schedule, fifo, marks, run_once};

const RUNS_PER_ORDER: u64 = 100; // × 6 orders = 600 schedules per property

#[test]
fn awaited_coroutines_run_sequentially_in_await_order_on_every_schedule() {
    for order in AWAIT_ORDERS {
        let expected: Vec<String> = order
            .iter()
            .flat_map(|seconds| [format!("start {seconds}"), format!("end {seconds}")])
            .collect();
        check_every_schedule(
            RUNS_PER_ORDER,
            || run_in_await_order(order),
            |run| {
                assert_eq!(run.result.as_deref().ok(), Some(&order[..]));
                assert_eq!(marks(&run.trace), expected, "await order {order:?}");
            },
        );
    }
}

#[test]
fn awaited_coroutines_take_the_sum_of_their_times_in_any_await_order() {
    for order in AWAIT_ORDERS {
        check_every_schedule(
            RUNS_PER_ORDER,
            || run_in_await_order(order),
            |run| {
                assert_eq!(run.elapsed(), secs(1 + 2 + 3), "await order {order:?}");
            },
        );
    }
}

#[test]
fn tasks_take_the_longest_time_in_any_await_order_and_finish_shortest_first() {
    for order in AWAIT_ORDERS {
        check_every_schedule(
            RUNS_PER_ORDER,
            || run_tasks_in_await_order(order),
            |run| {
                assert_eq!(run.result.as_deref().ok(), Some(&order[..]));
                assert_eq!(run.elapsed(), secs(3), "await order {order:?}");
                let ends: Vec<String> = marks(&run.trace)
                    .into_iter()
                    .filter(|mark| mark.starts_with("end"))
                    .collect();
                assert_eq!(ends, ["end 1", "end 2", "end 3"]);
                // All three start at time 0, before any of them ends.
                let starts_at: Vec<u64> = run
                    .trace
                    .timed_marks()
                    .filter(|(_, mark)| mark.starts_with("start"))
                    .map(|(time_ns, _)| time_ns)
                    .collect();
                assert_eq!(starts_at, [0, 0, 0]);
            },
        );
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
