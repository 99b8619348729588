//! "Creating an event loop" and "The async function": `Sim::run` is
//! `loop.run_until_complete`, and an async fn called without `await` is only
//! a coroutine object — it never runs.

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::trace::Warning;
use asyncsim::{spawn, time};
use common::snippets::{forget_some_func, secs, some_func};
use common::support::{assert_trace_snapshot, check_every_schedule, fifo, marks, run_once};

const RUNS: u64 = 600;

#[test]
fn run_until_complete_runs_the_main_future_to_completion_on_every_schedule() {
    check_every_schedule(RUNS, some_func, |run| {
        assert_eq!(run.result.as_ref().ok(), Some(&"some_func is done"));
        assert_eq!(marks(&run.trace), ["hello from some_func"]);
        assert_eq!(run.elapsed(), secs(0));
    });
}

#[test]
fn a_coroutine_that_is_never_awaited_never_runs_on_any_schedule() {
    check_every_schedule(RUNS, forget_some_func, |run| {
        assert!(run.is_ok());
        assert_eq!(marks(&run.trace), ["main is done"]);
        // Only the main task exists: creating a future schedules nothing.
        assert_eq!(run.trace.tasks().len(), 1);
    });
}

#[test]
fn run_until_complete_returns_when_main_completes_and_destroys_tasks_still_pending() {
    check_every_schedule(
        RUNS,
        || async {
            let _detached = spawn(async {
                asyncsim::trace::mark("background starts");
                time::sleep(secs(10)).await;
                asyncsim::trace::mark("background never finishes");
            });
            time::sleep(secs(1)).await;
            asyncsim::trace::mark("main is done");
        },
        |run| {
            assert!(run.is_ok());
            assert_eq!(marks(&run.trace), ["background starts", "main is done"]);
            assert_eq!(run.elapsed(), secs(1));
            let warnings: Vec<_> = run.trace.warnings().collect();
            assert_eq!(
                warnings,
                [(Some(asyncsim::TaskId(1)), Warning::DestroyedPending)]
            );
        },
    );
}

#[test]
fn event_loop_fifo_trace_snapshot() {
    assert_trace_snapshot("event_loop", &run_once(fifo(), some_func()).trace);
    assert_trace_snapshot(
        "event_loop_never_awaited",
        &run_once(fifo(), forget_some_func()).trace,
    );
}
