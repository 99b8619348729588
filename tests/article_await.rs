//! "The real magic — await": `await` runs the awaited coroutine inline, to
//! completion, before the caller goes on; awaiting several in turn is
//! sequential, so their times add up. ("Order mucking" has the same claim
//! for every await order: see `article_order_mucking.rs`.)

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::time::{self, Instant};
use common::snippets::{run_await, secs, speak_async};
use common::support::{assert_trace_snapshot, check_every_schedule, fifo, marks, run_once};

const RUNS: u64 = 600;

#[test]
fn await_runs_the_coroutine_to_completion_before_going_on_on_every_schedule() {
    check_every_schedule(RUNS, run_await, |run| {
        assert!(run.is_ok());
        assert_eq!(
            marks(&run.trace),
            ["before await", "OMG asynchronicity!", "after await"]
        );
        // Awaiting a coroutine is not scheduling: one task, one poll.
        assert_eq!(run.trace.tasks().len(), 1);
        assert_eq!(run.steps(), 1);
    });
}

#[test]
fn leaving_out_await_means_the_coroutine_never_runs_on_any_schedule() {
    check_every_schedule(
        RUNS,
        || async {
            trace_mark("before");
            let _forgotten = speak_async();
            trace_mark("after");
        },
        |run| assert_eq!(marks(&run.trace), ["before", "after"]),
    );
}

fn trace_mark(label: &str) {
    asyncsim::trace::mark(label);
}

#[test]
fn awaiting_three_sleeps_one_after_another_takes_the_sum_of_their_times_on_every_schedule() {
    // Every assignment of durations to the three awaits, with some background
    // tasks competing for the loop so that the schedule has choices to make.
    for (case, durations) in [[1, 2, 3], [3, 1, 2], [2, 3, 1], [5, 0, 4]]
        .into_iter()
        .enumerate()
    {
        check_every_schedule(
            RUNS / 4,
            || async move {
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
                start.elapsed()
            },
            |run| {
                let sum = secs(durations.iter().sum());
                assert_eq!(run.result.as_ref().ok(), Some(&sum), "case {case}");
                assert_eq!(run.elapsed(), sum, "case {case}");
            },
        );
    }
}

#[test]
fn await_basics_fifo_trace_snapshot() {
    assert_trace_snapshot("await_basics", &run_once(fifo(), run_await()).trace);
}
