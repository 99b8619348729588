//! "Starting a function and getting back to it later": a coroutine that is
//! only created starts when awaited (A, B, C), a task made with `create_task`
//! starts as soon as its creator yields (A, C, B) — on every schedule — and
//! runs concurrently, so the run takes the longest branch, not the sum.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use std::collections::BTreeMap;

use asyncsim::task::Builder;
use asyncsim::time::{self, Instant};
use asyncsim::trace::{self, marks_so_far};
use asyncsim::{Explore, Strategy};
use common::snippets::{run_with_create_task, run_without_create_task, secs, speak};
use common::support::{assert_trace_snapshot, fifo, marks, run_once};
use schedule_support::on_every_schedule;

const RUNS: u64 = 600;

#[test]
fn without_create_task_speak_starts_only_when_awaited_so_the_order_is_a_b_c_and_times_add_up() {
    on_every_schedule(u32::MAX, 50_000, || async {
        run_without_create_task().await;
        assert_eq!(marks_so_far(), ["A", "B", "C"]);
        assert_eq!(
            Instant::now().since_start(),
            secs(2),
            "main 1 s, then speak 1 s"
        );
    });
}

#[test]
fn with_create_task_the_order_is_a_c_b_and_the_run_takes_the_longest_branch() {
    // A comes first: the task is queued, not run inline, and first runs when
    // main yields at its sleep. C comes before B: the clock cannot reach 1 s
    // while `speak` is still runnable.
    on_every_schedule(u32::MAX, 50_000, || async {
        run_with_create_task().await;
        assert_eq!(marks_so_far(), ["A", "C", "B"]);
        assert_eq!(
            Instant::now().since_start(),
            secs(1),
            "max(main 1 s, speak 1 s)"
        );
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
    on_every_schedule(u32::MAX, 50_000, || async {
        run_with_create_task_without_sleep().await;
        assert_eq!(marks_so_far(), ["A", "B", "C"]);
    });
}

/// With a yield between A and B (`await asyncio.sleep(0)` instead of a 1 s
/// sleep), which of B and C comes first depends on the schedule. Returns
/// what it printed.
async fn run_with_create_task_and_a_zero_sleep() -> String {
    let will_speak = Builder::new().name("speak").spawn(async {
        asyncsim::yield_now().await;
        trace::mark("C");
    });
    trace::mark("A");
    asyncsim::yield_now().await;
    trace::mark("B");
    will_speak.await.expect("speak does not panic");
    marks_so_far().join(" ")
}

#[test]
fn with_only_a_zero_sleep_the_possible_orders_are_exactly_a_b_c_and_a_c_b() {
    // Every schedule there is: the search exhausts the space.
    let schedules = on_every_schedule(u32::MAX, 50_000, || async {
        run_with_create_task_and_a_zero_sleep().await;
    });
    let census = asyncsim::outcomes(
        Explore::without_environment()
            .exhaustive(u32::MAX)
            .runs(50_000)
            .progress(false),
        run_with_create_task_and_a_zero_sleep,
    );
    assert!(census.failures.is_empty());
    let mut orders: BTreeMap<String, u64> = BTreeMap::new();
    for outcome in census.values {
        *orders.entry(outcome.value).or_default() += outcome.count;
    }
    let found: Vec<&str> = orders.keys().map(String::as_str).collect();
    assert_eq!(
        found,
        ["A B C", "A C B"],
        "every interleaving, and no other"
    );
    assert_eq!(orders.values().sum::<u64>(), schedules);
}

#[test]
fn with_only_a_zero_sleep_a_schedule_exists_that_prints_c_before_b_but_asyncio_prints_b_first() {
    let witness = asyncsim::find(
        Explore::new()
            .runs(RUNS)
            .strategy(Strategy::Pct { depth: 2 }),
        run_with_create_task_and_a_zero_sleep,
        |printed| printed == "A C B",
    )
    .expect("a schedule that resumes speak before main");
    println!(
        "run {} printed {} (replay token {})",
        witness.run_index,
        witness.value,
        witness.token()
    );
    assert_eq!(marks(&witness.trace), ["A", "C", "B"]);
    assert!(witness.tape.deviations() > 0, "not asyncio's own order");
    // asyncio's own order (FIFO): speak yields first, so main resumes first
    // and prints B.
    let fifo_run = run_once(fifo(), run_with_create_task_and_a_zero_sleep());
    assert_eq!(fifo_run.result.as_deref().ok(), Some("A B C"));
}

#[test]
fn speak_task_starts_exactly_when_main_first_yields() {
    on_every_schedule(u32::MAX, 50_000, || async {
        let will_speak = Builder::new().name("speak").spawn(speak());
        trace::mark("A");
        assert!(!will_speak.is_finished(), "not started before main yields");
        assert_eq!(marks_so_far(), ["A"]);
        time::sleep(secs(1)).await;
        assert_eq!(marks_so_far(), ["A", "C"], "started at main's sleep");
        trace::mark("B");
        will_speak.await.expect("speak does not panic");
    });
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
