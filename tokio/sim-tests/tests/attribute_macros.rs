//! `#[tokio::test]` and `#[tokio::main]` from a crate that names the face
//! `tokio`: tokio's arguments are accepted, the test is a check over many
//! schedules, and a failing test reports a replayable schedule.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

thread_local! {
    static BODY_RUNS: Cell<u64> = const { Cell::new(0) };
    static TASK_ORDERS: std::cell::RefCell<std::collections::BTreeSet<Vec<u8>>> =
        const { std::cell::RefCell::new(std::collections::BTreeSet::new()) };
}

#[tokio::test(runs = 40, jobs = 1, persist = false)]
async fn counted_body() {
    BODY_RUNS.with(|runs| runs.set(runs.get() + 1));
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..3u8)
        .map(|name| {
            let order = order.clone();
            tokio::spawn(async move { order.lock().unwrap().push(name) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    TASK_ORDERS.with(|orders| orders.borrow_mut().insert(order));
}

#[test]
fn tokio_test_runs_the_body_once_per_schedule_and_sees_many_orders() {
    BODY_RUNS.with(|runs| runs.set(0));
    counted_body();
    // 40 schedules, plus the harness's own few (the determinism check runs
    // the first schedule again; PCT's step estimate is one FIFO run).
    let runs = BODY_RUNS.with(Cell::get);
    assert!((40..=45).contains(&runs), "{runs} runs");
    let orders = TASK_ORDERS.with(|orders| orders.borrow().len());
    assert!(orders > 1, "the spawned tasks ran in one order only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4, start_paused = true)]
async fn tokio_arguments_are_accepted() {
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
}

#[tokio::test(
    flavor = "current_thread",
    strategy = "exhaustive:2",
    unhandled_panic = "ignore"
)]
async fn a_test_may_return_a_result() -> Result<(), std::io::Error> {
    let handle = tokio::spawn(async { Ok::<u8, std::io::Error>(7) });
    assert_eq!(handle.await??, 7);
    Ok(())
}

#[tokio::test(crate = "tokio", runs = 20)]
async fn the_crate_argument_names_the_face() {
    tokio::task::yield_now().await;
}

#[tokio::test(runs = 300, persist = false)]
#[should_panic(expected = "replay it")]
async fn a_lost_update_is_found_and_reported_with_a_replay_token() {
    let balance = Arc::new(AtomicU64::new(100));
    let deposits: Vec<_> = [10, 20]
        .into_iter()
        .map(|amount| {
            let balance = balance.clone();
            tokio::spawn(async move {
                let read = balance.load(Ordering::SeqCst);
                tokio::task::yield_now().await;
                balance.store(read + amount, Ordering::SeqCst);
            })
        })
        .collect();
    for deposit in deposits {
        deposit.await.unwrap();
    }
    assert_eq!(balance.load(Ordering::SeqCst), 130, "a deposit was lost");
}

#[tokio::main]
async fn simulated_main(seconds: u64) -> u64 {
    let start = tokio::time::Instant::now();
    let sleeper = tokio::spawn(tokio::time::sleep(Duration::from_secs(seconds)));
    sleeper.await.unwrap();
    start.elapsed().as_secs()
}

#[tokio::main(flavor = "current_thread")]
async fn simulated_main_that_fails() {
    let (_keep, never) = tokio::sync::oneshot::channel::<()>();
    never.await.unwrap();
}

#[test]
fn tokio_main_is_one_simulated_run_in_virtual_time() {
    let wall = std::time::Instant::now();
    assert_eq!(simulated_main(3600), 3600);
    assert!(wall.elapsed() < Duration::from_secs(60));
}

#[test]
fn tokio_main_reports_a_deadlock_with_a_replay_token() {
    let failure = std::panic::catch_unwind(simulated_main_that_fails).unwrap_err();
    let message = failure.downcast_ref::<String>().unwrap();
    assert!(message.contains("deadlock"), "{message}");
    assert!(message.contains("ASYNCSIM_REPLAY=as1."), "{message}");
}

// `explore = …`: the settings no argument names, with the arguments on top.
// An hour of virtual time is asyncsim's default limit; this test sleeps
// days past it and passes only under the limit it sets.
#[tokio::test(
    explore = asyncsim::Explore::new()
        .config(asyncsim::Config::new().time_limit(Duration::from_secs(30 * 24 * 3600))),
    runs = 5
)]
async fn the_explore_argument_sets_what_no_argument_names() {
    tokio::time::sleep(Duration::from_secs(8 * 24 * 3600)).await;
}

// `time_limit = "2h"`: the virtual-time limit, written as
// `ASYNCSIM_TIME_LIMIT` takes it; this sleep passes only under it.
#[tokio::test(time_limit = "2h", runs = 5, persist = false)]
async fn the_time_limit_argument_raises_the_hour() {
    tokio::time::sleep(Duration::from_secs(90 * 60)).await;
}

// `#[tokio::main(time_limit = "2h")]`: a program that simulates past the
// hour raises it as a test does (it had only `ASYNCSIM_TIME_LIMIT`); this
// run passes only under it.
#[tokio::main(time_limit = "2h")]
async fn simulated_main_past_the_hour() -> Duration {
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(90 * 60)).await;
    start.elapsed()
}

#[test]
fn tokio_main_takes_a_time_limit() {
    assert_eq!(simulated_main_past_the_hour(), Duration::from_secs(90 * 60));
}

#[tokio::test(explore = asyncsim::Explore::new().require_sometimes(), runs = 10, persist = false)]
#[should_panic(expected = "never held: sometimes `a reply came first`")]
async fn the_explore_argument_s_require_sometimes_fails_a_path_never_reached() {
    asyncsim::sometimes("a reply came first", false);
}
