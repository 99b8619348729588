//! A body that fails by returning `Err` (or `false`) is reported with the
//! schedule that failed, not an empty token that replays FIFO.

use std::cell::Cell;
use std::rc::Rc;

use asyncsim::{Explore, Strategy, Tape};

async fn lost_update() -> Result<(), String> {
    {
        let counter = Rc::new(Cell::new(0));
        // FIFO passes: the second writer yields first, so the first one
        // has written by the time it reads. One deviation loses an update.
        let slow = counter.clone();
        let first = asyncsim::spawn(async move {
            let read = slow.get();
            asyncsim::yield_now().await;
            slow.set(read + 1);
        });
        let quick = counter.clone();
        let second = asyncsim::spawn(async move {
            asyncsim::yield_now().await;
            quick.set(quick.get() + 1);
        });
        first.await.unwrap();
        second.await.unwrap();
        if counter.get() == 2 {
            Ok(())
        } else {
            Err(format!("lost update: {}", counter.get()))
        }
    }
}

#[test]
fn a_body_err_failure_keeps_a_token_that_fails_again() {
    let summary = asyncsim::explore(
        Explore::without_environment()
            .runs(200)
            .persist(false)
            .trace_file(false)
            .progress(false),
        lost_update,
    );
    let found = summary.first_failure.expect("the lost update is found");
    assert_eq!(found.deviations, 1, "{found}");
    assert_eq!(found.deviation_details.len(), 1, "{found}");
    assert!(!found.trace.events().is_empty(), "{found}");
    let tape: Tape = found.token().parse().unwrap();
    let run = asyncsim::Sim::new(asyncsim::Config::new().strategy(Strategy::Replay(tape)))
        .run(lost_update());
    assert!(
        matches!(run.result, Ok(Err(_))),
        "the token replays the failure"
    );
}
