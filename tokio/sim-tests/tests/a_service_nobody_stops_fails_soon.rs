//! trial12's item 7: a test that awaits a service's `JoinHandle` without
//! sending the shutdown, while the service's `interval` ticks on. In tokio
//! the test hangs; here it used to run to the step limit — a million polls,
//! 28 hours of virtual time, minutes of real time in a debug build, for
//! the first run and again for each replay of its saved regression. The
//! default time limit (an hour of virtual time) ends it after some 36,000
//! polls, and the report says why and how to raise the limit.

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

/// A request: the value to set, and where to say it is set.
type Set = (u64, oneshot::Sender<()>);

/// A service as a tokio user writes it: requests over mpsc, an `interval`
/// that flushes, a broadcast shutdown.
fn start() -> (
    mpsc::Sender<Set>,
    broadcast::Sender<()>,
    tokio::task::JoinHandle<u64>,
) {
    let (requests, mut incoming) = mpsc::channel::<Set>(16);
    let (shutdown, mut stop) = broadcast::channel::<()>(1);
    let service = tokio::spawn(async move {
        let mut flush = tokio::time::interval(Duration::from_millis(100));
        let mut value = 0;
        loop {
            tokio::select! {
                Some((set, done)) = incoming.recv() => {
                    value = set;
                    let _ = done.send(());
                }
                _ = flush.tick() => {}
                _ = stop.recv() => break,
            }
        }
        value
    });
    (requests, shutdown, service)
}

fn report_of(outcome: std::thread::Result<()>) -> String {
    let payload = outcome.expect_err("the test should fail: its service never stops");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .expect("a text report")
}

#[test]
fn a_service_nobody_stops_fails_at_the_hour_naming_its_timer() {
    let outcome = std::panic::catch_unwind(|| {
        tokio::__private::test(
            asyncsim::Explore::new()
                .runs(5)
                .persist(false)
                .trace_file(false)
                .progress(false),
            || async {
                let (requests, _shutdown, service) = start();
                let (done, acknowledged) = oneshot::channel();
                requests.send((3, done)).await.unwrap();
                acknowledged.await.unwrap();
                // The mistake: no `_shutdown.send(())` before waiting.
                assert_eq!(service.await.unwrap(), 3);
            },
        )
    });
    let report = report_of(outcome);
    for words in [
        "TimeLimit: virtual-time limit: the next timer is at 3600.1s, past Config::time_limit (3600s, the default); it is `task-1@",
        "a task wakes on a timer again and again (an `interval`",
        "here it waits on JoinHandle of `task-1@",
        "a shutdown signal never sent?",
        "under #[tokio::test], #[tokio::main] or #[asyncsim::test]: the argument `time_limit = \"2h\"`",
        "virtual time 3600s",
    ] {
        assert!(report.contains(words), "{words:?} in:\n{report}");
    }
    assert!(!report.contains("StepLimit"), "{report}");
}
