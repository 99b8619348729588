//! `tokio::asyncsim::time::log_stamp()`, a logger's stamp for tests: the
//! run's virtual time and the task being polled, written as the report's
//! trace writes them, so a log line finds its place in the trace (a
//! logger's own stamp is the real clock, on which a run takes microseconds).

use std::time::Duration;

use asyncsim::{Config, Sim};

#[test]
fn a_stamp_is_the_virtual_time_and_task_as_the_trace_writes_them() {
    let run = Sim::new(Config::new()).run(async {
        let worker = tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tokio::asyncsim::time::log_stamp()
        });
        worker.await.unwrap()
    });
    let stamp = run.result.unwrap();
    assert!(
        stamp.starts_with("1.5s task-1@tests/log_stamp_matches_the_trace.rs:"),
        "{stamp}"
    );
    // The trace has a line at that time, of that task.
    let (time, task) = stamp.split_once(' ').unwrap();
    let trace = run.trace.to_string();
    assert!(
        trace.lines().any(|line| {
            let mut words = line.split_whitespace().skip(1);
            words.next() == Some(time) && words.next() == Some(task)
        }),
        "{stamp} not in:\n{trace}"
    );
    assert_eq!(tokio::asyncsim::time::log_stamp(), "-");
}
