//! "The real magic — await": `await` runs the awaited coroutine inline, to
//! completion, before the caller goes on; awaiting several in turn is
//! sequential, so their times add up. ("Order mucking" has the same claim
//! for every await order: see `article_order_mucking.rs`.)

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use asyncsim::time::{self, Instant};
use asyncsim::trace::{self, marks_so_far};
use common::snippets::{run_await, secs, speak_async};
use common::support::{assert_trace_snapshot, fifo, run_once};
use schedule_support::on_every_schedule;

#[test]
fn await_runs_the_coroutine_to_completion_before_going_on_on_every_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        run_await().await;
        assert_eq!(
            marks_so_far(),
            ["before await", "OMG asynchronicity!", "after await"]
        );
        assert_eq!(Instant::now().since_start(), secs(0));
    });
}

#[test]
fn awaiting_a_coroutine_is_not_scheduling_so_every_schedule_is_one_task_and_one_poll() {
    assert_eq!(
        on_every_schedule(u32::MAX, 50_000, run_await),
        1,
        "one schedule"
    );
    let run = run_once(fifo(), run_await());
    assert_eq!(run.trace.tasks().len(), 1);
    assert_eq!(run.steps(), 1);
}

#[test]
fn leaving_out_await_means_the_coroutine_never_runs_on_any_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        trace::mark("before");
        let _forgotten = speak_async();
        trace::mark("after");
        assert_eq!(marks_so_far(), ["before", "after"]);
    });
}

#[test]
fn awaiting_three_sleeps_one_after_another_takes_the_sum_of_their_times_on_every_schedule() {
    // Every assignment of durations to the three awaits, with some background
    // tasks competing for the loop so that the schedule has choices to make.
    for durations in [[1, 2, 3], [3, 1, 2], [2, 3, 1], [5, 0, 4]] {
        on_every_schedule(u32::MAX, 50_000, move || async move {
            for index in 0..3 {
                let _detached = asyncsim::spawn(async move {
                    for _ in 0..index + 1 {
                        asyncsim::yield_now().await;
                    }
                });
            }
            let start = Instant::now();
            for seconds in durations {
                time::sleep(secs(seconds)).await;
            }
            let sum = secs(durations.iter().sum());
            assert_eq!(start.elapsed(), sum, "durations {durations:?}");
            assert_eq!(Instant::now().since_start(), sum);
        });
    }
}

#[test]
fn await_basics_fifo_trace_snapshot() {
    assert_trace_snapshot("await_basics", &run_once(fifo(), run_await()).trace);
}
