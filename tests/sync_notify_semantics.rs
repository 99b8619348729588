//! `sync::Notify`: `notify_one` wakes the oldest waiter or stores one
//! permit; `notify_waiters` wakes the current waiters only and stores
//! nothing.

use asyncsim::sync::Notify;
use asyncsim::{time, trace, Config, Sim};
use std::rc::Rc;
use std::time::Duration;

mod schedule_support;

use schedule_support::every_run;

#[test]
fn notify_one_stores_at_most_one_permit() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let notify = Notify::new();
            notify.notify_one();
            notify.notify_one();
            notify.notified().await; // the stored permit
            time::timeout(Duration::from_secs(1), notify.notified())
                .await
                .is_err()
        },
        |run| {
            assert!(run.result.unwrap(), "a second permit was stored");
        },
    );
}

#[test]
fn notify_one_wakes_waiters_oldest_first_for_every_schedule() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let notify = Rc::new(Notify::new());
            let waiters: Vec<_> = (0..3usize)
                .map(|index| {
                    let notify = notify.clone();
                    asyncsim::spawn(async move {
                        trace::mark(format!("wait {index}"));
                        notify.notified().await;
                        trace::mark(format!("woke {index}"));
                    })
                })
                .collect();
            // Every waiter is waiting after one second (they start at once).
            time::sleep(Duration::from_secs(1)).await;
            for _ in 0..3 {
                notify.notify_one();
                time::sleep(Duration::from_secs(1)).await;
            }
            for waiter in waiters {
                waiter.await.unwrap();
            }
        },
        |run| {
            assert!(run.result.is_ok());
            let waits: Vec<&str> = run
                .trace
                .marks()
                .filter_map(|mark| mark.strip_prefix("wait "))
                .collect();
            let wakes: Vec<&str> = run
                .trace
                .marks()
                .filter_map(|mark| mark.strip_prefix("woke "))
                .collect();
            assert_eq!(wakes, waits, "replay {}", run.tape);
        },
    );
}

#[test]
fn notify_waiters_wakes_current_waiters_only_and_stores_nothing() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let notify = Rc::new(Notify::new());
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let notify = notify.clone();
                    asyncsim::spawn(async move { notify.notified().await })
                })
                .collect();
            time::sleep(Duration::from_secs(1)).await; // all waiting now
            notify.notify_waiters();
            for waiter in waiters {
                waiter.await.unwrap();
            }
            let woken_at = time::Instant::now().since_start();
            // Nothing was stored for a later waiter.
            let late = time::timeout(Duration::from_secs(1), notify.notified())
                .await
                .is_err();
            (woken_at, late)
        },
        |run| {
            assert_eq!(
                run.result.unwrap(),
                (Duration::from_secs(1), true),
                "all three woke at once; the late waiter did not"
            );
        },
    );
}

#[test]
fn a_notified_future_created_before_notify_waiters_is_released_by_it() {
    let run = Sim::new(Config::new()).run(async {
        let notify = Notify::new();
        let notified = notify.notified();
        notify.notify_waiters();
        notified.await;
    });
    assert!(run.result.is_ok());
    assert_eq!(run.steps(), 1);
}

#[test]
fn a_dropped_waiter_passes_its_notification_on() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let notify = Rc::new(Notify::new());
            let first = {
                let notify = notify.clone();
                asyncsim::spawn(async move { notify.notified().await })
            };
            let second = {
                let notify = notify.clone();
                asyncsim::spawn(async move { notify.notified().await })
            };
            time::sleep(Duration::from_secs(1)).await; // both waiting, first is oldest or not
            notify.notify_one();
            first.abort(); // if `first` got it, it goes to `second`
            let first_finished = first.await.is_ok();
            let second_done = time::timeout(Duration::from_secs(1), second).await.is_ok();
            (first_finished, second_done)
        },
        |run| {
            let (first_finished, second_done) = run.result.unwrap();
            assert!(!first_finished, "aborted before it could resume");
            assert!(
                second_done,
                "the notification was not lost (replay {})",
                run.tape
            );
        },
    );
}
