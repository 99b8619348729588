//! `tokio::sync::watch` under the face is the face's own: a `send` wakes the
//! receivers waiting in `changed()` in the order they began waiting, so a
//! seed makes the same run every time. (tokio's own spreads its waiters
//! over eight `Notify`s by its OS-seeded thread generator: the same seed
//! made another wake order, schedule and trace hash run after run.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncsim::{Config, Sim, Strategy};
use asyncsim_tokio_tests::random_and_pct;

/// Four tasks wait in `changed()` on clones of one receiver; the sender
/// sends three values, each once every task waits again, then goes. Each
/// task notes `(its index, the value)` for every change it sees, in the
/// order the tasks ran.
async fn four_waiters_three_sends() -> Vec<(usize, u32)> {
    let (sender, receiver) = tokio::sync::watch::channel(0u32);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..4)
        .map(|index| {
            let mut receiver = receiver.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                while receiver.changed().await.is_ok() {
                    let value = *receiver.borrow_and_update();
                    seen.lock().unwrap().push((index, value));
                }
            })
        })
        .collect();
    drop(receiver);
    for value in 1..=3 {
        // The clock moves only when every task waits: all four are parked.
        tokio::time::sleep(Duration::from_millis(1)).await;
        sender.send(value).unwrap();
    }
    drop(sender);
    for task in tasks {
        task.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    seen
}

#[test]
fn the_same_seed_wakes_the_waiters_in_the_same_order_every_time() {
    let mut sim = Sim::new(Config::new());
    let fifo = Config::new().strategy(Strategy::Fifo);
    for config in random_and_pct(24).chain([fifo]) {
        let first = Sim::new(config.clone()).run(four_waiters_three_sends());
        let first_seen = first.result.clone().expect("the program finishes");
        assert_eq!(first_seen.len(), 12, "each of 4 tasks sees 3 changes");
        for again in 0..4 {
            // A fresh simulator and one reused, as a check's workers do.
            let run = if again % 2 == 0 {
                Sim::new(config.clone()).run(four_waiters_three_sends())
            } else {
                *sim.config_mut() = config.clone();
                sim.run(four_waiters_three_sends())
            };
            assert_eq!(
                run.result.as_ref().unwrap(),
                &first_seen,
                "seed {} {:?}: another wake order on run {again}",
                config.seed,
                config.strategy
            );
            assert_eq!(
                run.trace.hash(),
                first.trace.hash(),
                "seed {} {:?}: another trace on run {again}",
                config.seed,
                config.strategy
            );
        }
    }
}

#[test]
fn under_fifo_a_send_wakes_the_waiters_in_the_order_they_began_waiting() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(four_waiters_three_sends());
    let expected: Vec<(usize, u32)> = (1..=3)
        .flat_map(|value| (0..4).map(move |index| (index, value)))
        .collect();
    assert_eq!(run.result.unwrap(), expected);
}

// `#[tokio::test]` runs its first seed twice and compares the traces: with
// tokio's own watch this failed as "not deterministic".
#[tokio::test(runs = 50, persist = false)]
async fn a_tokio_test_with_waiting_receivers_passes_the_determinism_check() {
    let seen = four_waiters_three_sends().await;
    assert_eq!(seen.len(), 12);
}

/// A dependency that names real tokio keeps real tokio's watch, whose wake
/// order the face cannot seed: eight receivers waiting, four sends.
async fn real_tokio_watch_in_a_dependency() {
    let (sender, receiver) = real_tokio::sync::watch::channel(0u32);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let mut receiver = receiver.clone();
            tokio::spawn(async move { while receiver.changed().await.is_ok() {} })
        })
        .collect();
    for value in 1..=4 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        sender.send(value).unwrap();
    }
    drop(sender);
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn the_determinism_check_names_real_tokio_s_watch_in_a_dependency() {
    let summary = asyncsim::explore(
        asyncsim::Explore::new()
            .runs(5)
            .check_determinism(true)
            .persist(false),
        real_tokio_watch_in_a_dependency,
    );
    let explanation = summary
        .nondeterminism
        .expect("real tokio's watch wakes its waiters in a drawn order");
    assert!(
        explanation.contains("is not deterministic"),
        "{explanation}"
    );
    assert!(
        explanation.contains("a `tokio::sync::watch` of real tokio's"),
        "{explanation}"
    );
}
