//! `tokio::task::block_in_place` runs its closure at once on the run's one
//! thread, as tokio's multi-thread runtime runs it in place (there the
//! other tasks move to another worker; here they wait until it returns,
//! one of their schedules), so code that uses it can be tested.

use std::time::Duration;

use asyncsim::{Config, Sim};

/// What a service does with it: CPU work in the middle of a request.
async fn checksum(bytes: Vec<u8>) -> u64 {
    tokio::time::sleep(Duration::from_millis(2)).await;
    tokio::task::block_in_place(|| bytes.iter().map(|&byte| u64::from(byte)).sum())
}

#[test]
fn the_closure_runs_at_once_in_a_task_and_in_the_main_future() {
    let run = Sim::new(Config::new()).run(async {
        let start = tokio::time::Instant::now();
        let in_task = tokio::spawn(checksum(vec![1, 2, 3]));
        let in_main = checksum(vec![4, 5]).await;
        (in_task.await.unwrap(), in_main, start.elapsed())
    });
    assert_eq!(run.result.unwrap(), (6, 9, Duration::from_millis(2)));
}
