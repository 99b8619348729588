//! `sync::oneshot`: the value arrives for every schedule; a sender dropped
//! without sending gives `RecvError`; a send to a dropped receiver gives the
//! value back.

use asyncsim::sync::oneshot;
use asyncsim::{time, Config, Sim};
use std::time::Duration;

mod schedule_support;

use schedule_support::every_run;

#[test]
fn oneshot_delivers_the_value_for_every_schedule() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let (sender, receiver) = oneshot::channel();
            let _detached = asyncsim::spawn(async move {
                time::sleep(Duration::from_millis(asyncsim::random_range(0..3u64))).await;
                sender.send(42).unwrap();
            });
            receiver.await
        },
        |run| {
            assert_eq!(run.result.unwrap(), Ok(42));
        },
    );
}

#[test]
fn a_sender_dropped_without_sending_wakes_the_receiver_with_an_error() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let (sender, receiver) = oneshot::channel::<u8>();
            let _detached = asyncsim::spawn(async move {
                asyncsim::yield_now().await;
                drop(sender);
            });
            receiver.await
        },
        |run| {
            assert_eq!(run.result.unwrap(), Err(oneshot::RecvError));
        },
    );
}

#[test]
fn sending_to_a_dropped_receiver_gives_the_value_back() {
    let run = Sim::new(Config::new()).run(async {
        let (sender, receiver) = oneshot::channel();
        drop(receiver);
        (sender.is_closed(), sender.send("lost"))
    });
    assert_eq!(run.result.unwrap(), (true, Err("lost")));
}

#[test]
fn a_receiver_waiting_forever_shows_in_the_deadlock_report() {
    let run = Sim::new(Config::new()).run(async {
        let (sender, receiver) = oneshot::channel::<u8>();
        let _keep = sender;
        receiver.await
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, asyncsim::FailureKind::Deadlock);
    assert!(failure.to_string().contains("oneshot#0"), "{failure}");
}
