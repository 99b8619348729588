//! "Starting a function and getting back to it later": a coroutine that is
//! only created starts when awaited (A, B, C), a task made with `create_task`
//! starts as soon as its creator yields (A, C, B) — on every schedule — and
//! runs concurrently, so the run takes the longest branch, not the sum.

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::task::Builder;
use asyncsim::{time, trace};
use common::snippets::{run_with_create_task, run_without_create_task, secs, speak};
use common::support::{
    assert_trace_snapshot, census, check_every_schedule, fifo, marks, run_once, schedules,
};

const RUNS: u64 = 600;

#[test]
fn without_create_task_speak_starts_only_when_awaited_so_the_order_is_a_b_c_on_every_schedule() {
    check_every_schedule(RUNS, run_without_create_task, |run| {
        assert!(run.is_ok());
        assert_eq!(marks(&run.trace), ["A", "B", "C"]);
    });
}

#[test]
fn with_create_task_the_order_is_a_c_b_on_every_schedule() {
    // A comes first: the task is queued, not run inline, and first runs when
    // main yields at its sleep. C comes before B: the clock cannot reach 1 s
    // while `speak` is still runnable.
    check_every_schedule(RUNS, run_with_create_task, |run| {
        assert!(run.is_ok());
        assert_eq!(marks(&run.trace), ["A", "C", "B"]);
    });
}

#[test]
fn with_create_task_the_run_takes_the_longest_branch_and_without_it_the_sum() {
    check_every_schedule(RUNS, run_with_create_task, |run| {
        assert_eq!(run.elapsed(), secs(1), "max(main 1 s, speak 1 s)");
    });
    check_every_schedule(RUNS, run_without_create_task, |run| {
        assert_eq!(run.elapsed(), secs(2), "main 1 s, then speak 1 s");
    });
}

/// The article's note: without the sleep, "you cannot guarantee that C will
/// print before A and B". In asyncio (and here under FIFO) the task still
/// waits for its creator to yield; with nothing to yield at, C comes last.
async fn run_with_create_task_without_sleep() {
    let will_speak = Builder::new().name("speak").spawn(speak());
    trace::mark("A");
    trace::mark("B");
    will_speak.await.expect("speak does not panic");
}

#[test]
fn without_the_sleep_c_comes_after_a_and_b_on_every_schedule() {
    // main never yields before awaiting the task, so nothing can run in
    // between: asyncio's tasks are not threads.
    check_every_schedule(RUNS, run_with_create_task_without_sleep, |run| {
        assert_eq!(marks(&run.trace), ["A", "B", "C"]);
    });
}

/// With a yield between A and B (`await asyncio.sleep(0)` instead of a 1 s
/// sleep), which of B and C comes first depends on the schedule.
async fn run_with_create_task_and_a_zero_sleep() {
    let will_speak = Builder::new().name("speak").spawn(async {
        asyncsim::yield_now().await;
        trace::mark("C");
    });
    trace::mark("A");
    asyncsim::yield_now().await;
    trace::mark("B");
    will_speak.await.expect("speak does not panic");
}

#[test]
fn with_only_a_zero_sleep_schedules_exist_that_print_b_before_c_and_c_before_b() {
    let orders = census(
        schedules(RUNS),
        run_with_create_task_and_a_zero_sleep,
        |run| marks(&run.trace).join(" "),
    );
    let found: Vec<&str> = orders.keys().map(String::as_str).collect();
    assert_eq!(
        found,
        ["A B C", "A C B"],
        "every interleaving, and no other"
    );
    // asyncio's own order (FIFO) is one of them: speak yields first, so
    // main resumes first and prints B.
    let fifo_run = run_once(fifo(), run_with_create_task_and_a_zero_sleep());
    assert_eq!(marks(&fifo_run.trace), ["A", "B", "C"]);
}

#[test]
fn speak_task_starts_exactly_when_main_first_yields() {
    check_every_schedule(
        RUNS,
        || async {
            let will_speak = Builder::new().name("speak").spawn(speak());
            trace::mark("A");
            let started_before_sleep = will_speak.is_finished();
            time::sleep(secs(1)).await;
            trace::mark("B");
            will_speak.await.expect("speak does not panic");
            started_before_sleep
        },
        |run| assert_eq!(run.result.as_ref().ok(), Some(&false)),
    );
}

#[test]
fn create_task_fifo_trace_snapshots() {
    assert_trace_snapshot(
        "create_task",
        &run_once(fifo(), run_with_create_task()).trace,
    );
    assert_trace_snapshot(
        "create_task_without_create_task",
        &run_once(fifo(), run_without_create_task()).trace,
    );
}
