//! "Creating an event loop" and "The async function": `Sim::run` is
//! `loop.run_until_complete`, and an async fn called without `await` is only
//! a coroutine object — it never runs.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use asyncsim::time::{self, Instant};
use asyncsim::trace::{self, marks_so_far, Warning};
use asyncsim::{spawn, Explore, Strategy};
use common::snippets::{forget_some_func, secs, some_func};
use common::support::{assert_trace_snapshot, fifo, marks, run_once};
use schedule_support::on_every_schedule;

#[test]
fn run_until_complete_runs_the_main_future_to_completion_on_every_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        assert_eq!(some_func().await, "some_func is done");
        assert_eq!(marks_so_far(), ["hello from some_func"]);
        assert_eq!(Instant::now().since_start(), secs(0));
    });
}

#[test]
fn a_coroutine_that_is_never_awaited_never_runs_on_any_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        forget_some_func().await;
        assert_eq!(marks_so_far(), ["main is done"]);
    });
}

#[test]
fn creating_a_coroutine_schedules_nothing_so_every_schedule_is_the_same_one() {
    // Only the main task exists, so no schedule has a choice to make: every
    // exploration sees one trace, and it has one task.
    assert_eq!(
        on_every_schedule(u32::MAX, 50_000, forget_some_func),
        1,
        "one schedule"
    );
    assert_eq!(run_once(fifo(), forget_some_func()).trace.tasks().len(), 1);
}

/// Main leaves a background task sleeping when it returns.
async fn main_returns_while_a_task_sleeps() {
    let background = spawn(async {
        trace::mark("background starts");
        time::sleep(secs(10)).await;
        trace::mark("background never finishes");
    });
    time::sleep(secs(1)).await;
    trace::mark("main is done");
    assert_eq!(marks_so_far(), ["background starts", "main is done"]);
    assert_eq!(Instant::now().since_start(), secs(1));
    assert!(
        !background.is_finished(),
        "still sleeping when main returns"
    );
}

#[test]
fn run_until_complete_returns_when_main_completes_and_destroys_tasks_still_pending() {
    on_every_schedule(u32::MAX, 50_000, main_returns_while_a_task_sleeps);
    // The run ends at main's return: the sleeper is destroyed, with a
    // warning, on a random schedule, a PCT schedule and asyncio's own.
    let explorations = [
        Explore::new().runs(1).strategy(Strategy::Random),
        Explore::new().runs(1).strategy(Strategy::Pct { depth: 2 }),
        Explore::new().runs(1).strategy(Strategy::Fifo),
    ];
    for schedules in explorations {
        let witness = asyncsim::find(schedules, main_returns_while_a_task_sleeps, |_| true)
            .expect("the run completes");
        let warnings: Vec<_> = witness.trace.warnings().collect();
        assert_eq!(
            warnings,
            [(Some(asyncsim::TaskId(1)), Warning::DestroyedPending)]
        );
        assert_eq!(marks(&witness.trace), ["background starts", "main is done"]);
    }
}

#[test]
fn event_loop_fifo_trace_snapshot() {
    assert_trace_snapshot("event_loop", &run_once(fifo(), some_func()).trace);
    assert_trace_snapshot(
        "event_loop_never_awaited",
        &run_once(fifo(), forget_some_func()).trace,
    );
}
