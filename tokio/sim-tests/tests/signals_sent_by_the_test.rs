//! `tokio::signal` under simulation: a test sends ctrl-c (or a unix
//! signal) to a node with `tokio::signal::simulate`, and a program's
//! graceful shutdown on it runs; a task left waiting for one is named.

use std::time::Duration;

use asyncsim::{Config, FailureKind, Sim};
use tokio::signal::unix::SignalKind;

#[test]
fn ctrl_c_sent_by_the_test_stops_a_program_on_another_node() {
    let run = Sim::new(Config::new()).run(async {
        let server = tokio::asyncsim::node::Builder::new("server").start(|| async {});
        let program = server.spawn(async {
            tokio::signal::ctrl_c().await.unwrap();
            tokio::time::Instant::now()
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        tokio::signal::simulate::ctrl_c("server").unwrap();
        let stopped_at = program.await.unwrap();
        stopped_at.elapsed()
    });
    assert_eq!(run.result.unwrap(), Duration::ZERO);
}

#[test]
fn a_signal_reaches_only_its_node_and_kind() {
    let run = Sim::new(Config::new()).run(async {
        let mut term = tokio::signal::unix::signal(SignalKind::terminate()).unwrap();
        let mut hangup = tokio::signal::unix::signal(SignalKind::hangup()).unwrap();
        let other = tokio::asyncsim::node::Builder::new("other").start(|| async {});
        let elsewhere = other.spawn(async {
            let mut term = tokio::signal::unix::signal(SignalKind::terminate()).unwrap();
            tokio::time::timeout(Duration::from_secs(1), term.recv())
                .await
                .is_ok()
        });
        tokio::time::sleep(Duration::from_millis(1)).await; // `other` listens by now
                                                            // Two sent before the listener looks are heard as one.
        tokio::signal::simulate::signal("main", SignalKind::terminate()).unwrap();
        tokio::signal::simulate::signal("main", SignalKind::terminate()).unwrap();
        assert_eq!(term.recv().await, Some(()));
        let again = tokio::time::timeout(Duration::from_millis(1), term.recv()).await;
        let hung_up = tokio::time::timeout(Duration::from_millis(1), hangup.recv()).await;
        (again.is_ok(), hung_up.is_ok(), elsewhere.await.unwrap())
    });
    assert_eq!(run.result.unwrap(), (false, false, false));
}

#[test]
fn sending_when_nothing_listens_or_to_no_such_node_is_an_error() {
    let run = Sim::new(Config::new()).run(async {
        let unheard = tokio::signal::simulate::ctrl_c("main").unwrap_err();
        let nowhere = tokio::signal::simulate::ctrl_c("nosuch").unwrap_err();
        // ctrl_c() listens from its first poll, not from its call.
        let waiting = tokio::signal::ctrl_c();
        let before_poll = tokio::signal::simulate::ctrl_c("main").is_err();
        drop(waiting);
        (unheard.to_string(), nowhere.kind(), before_poll)
    });
    let (unheard, nowhere, before_poll) = run.result.unwrap();
    assert!(
        unheard.contains("nothing on node `main` listens for SIGINT (ctrl-c) now"),
        "{unheard}"
    );
    assert_eq!(nowhere, std::io::ErrorKind::NotFound);
    assert!(before_poll);
}

#[test]
fn a_task_waiting_for_ctrl_c_is_named_with_the_call_that_sends_it() {
    let run = Sim::new(Config::new()).run(async { tokio::signal::ctrl_c().await });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock);
    let said = failure.to_string();
    assert!(
        said.contains(
            "waits on receive of signal SIGINT (ctrl-c) to node `main` (in a simulated run only \
             the test sends one: tokio::signal::simulate::ctrl_c(\"main\"))"
        ),
        "{said}"
    );
}

#[test]
fn sending_outside_a_run_panics_naming_the_call() {
    let panic = std::panic::catch_unwind(|| tokio::signal::simulate::ctrl_c("main")).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("tokio::signal::simulate::ctrl_c was called outside a simulated run"),
        "{message}"
    );
}
