//! `Config::waker_sites`: a task blocked on a future asyncsim cannot see
//! into is named by where that future cloned the task's waker, and turning
//! the capture on changes no decision of the run.

use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use asyncsim::task::Builder;
use asyncsim::trace::WaitOn;
use asyncsim::{Config, FailureKind, Sim, Strategy};

/// Two tasks take two `futures` mutexes in opposite orders.
async fn inversion() {
    let first = Rc::new(futures::lock::Mutex::new(()));
    let second = Rc::new(futures::lock::Mutex::new(()));
    let (a, b) = (first.clone(), second.clone());
    let writer = Builder::new().name("writer").spawn(async move {
        let _one = a.lock().await;
        asyncsim::yield_now().await;
        let _two = b.lock().await; // writer waits here
    });
    let reader = Builder::new().name("reader").spawn(async move {
        let _two = second.lock().await;
        asyncsim::yield_now().await;
        let _one = first.lock().await; // reader waits here
    });
    writer.await.unwrap();
    reader.await.unwrap();
}

fn deadlocked(config: Config) -> asyncsim::Failure {
    let failure = Sim::new(config).run(inversion()).result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    failure
}

/// A seed whose random schedule deadlocks `inversion`.
fn deadlocking_seed() -> u64 {
    (0..200)
        .find(|seed| {
            Sim::new(Config::new().seed(*seed).strategy(Strategy::Random))
                .run(inversion())
                .result
                .is_err()
        })
        .expect("some seed deadlocks")
}

#[test]
fn a_futures_mutex_deadlock_names_the_lock_and_the_line() {
    let seed = deadlocking_seed();
    let plain = deadlocked(Config::new().seed(seed));
    let writer = plain.blocked.iter().find(|t| t.name == "writer").unwrap();
    assert_eq!(writer.wait, WaitOn::Unknown);
    assert!(
        writer.waiting_on.contains("Config::waker_sites names it"),
        "{}",
        writer.waiting_on
    );

    let named = deadlocked(Config::new().seed(seed).waker_sites(true));
    for name in ["writer", "reader"] {
        let task = named.blocked.iter().find(|t| t.name == name).unwrap();
        assert_eq!(task.wait, WaitOn::Unknown, "the data stays what it was");
        let expected = format!(
            "futures_util::lock::mutex::MutexLockFuture at tests/engine_waker_sites_name_foreign_futures.rs:{} (",
            line_of(&format!("// {name} waits here"))
        );
        assert!(
            task.waiting_on.starts_with(&expected),
            "{}",
            task.waiting_on
        );
    }
    let report = named.to_string();
    assert!(
        report
            .contains("task `writer` (#1) waits on futures_util::lock::mutex::MutexLockFuture at"),
        "{report}"
    );
}

/// The line of this file that holds `marker`.
fn line_of(marker: &str) -> usize {
    let source = include_str!("engine_waker_sites_name_foreign_futures.rs");
    let line = source
        .lines()
        .position(|line| line.ends_with(marker))
        .unwrap();
    line + 1
}

#[test]
fn a_future_that_never_registers_the_waker_is_said_to_be_lost() {
    let run = Sim::new(Config::new().waker_sites(true)).run(async {
        let lost = asyncsim::spawn(poll_fn(|_| Poll::<()>::Pending));
        lost.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    let lost = &failure.blocked[1];
    assert!(
        lost.waiting_on
            .contains("never registered the task's waker"),
        "{failure}"
    );
    // The main task waits on an asyncsim JoinHandle: named as always.
    assert!(
        failure.blocked[0].waiting_on.starts_with("JoinHandle of"),
        "{failure}"
    );
}

/// A program mixing asyncsim's primitives, timers, a `futures` channel and
/// mutex, and spawned tasks: every clone of a waker is captured in one run
/// and not in the other, and the two runs are the same run.
async fn busy() -> u32 {
    let lock = Rc::new(futures::lock::Mutex::new(0u32));
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<u32>();
    let mut tasks = Vec::new();
    for index in 0..4u32 {
        let lock = lock.clone();
        let tx = tx.clone();
        tasks.push(asyncsim::spawn(async move {
            for _ in 0..3 {
                *lock.lock().await += index;
                asyncsim::time::sleep(std::time::Duration::from_millis(u64::from(index))).await;
                asyncsim::yield_now().await;
                tx.unbounded_send(index).unwrap();
            }
        }));
    }
    drop(tx);
    let mut sum = 0;
    while let Some(value) = futures::StreamExt::next(&mut rx).await {
        sum += value;
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total = sum + *lock.lock().await;
    total
}

#[test]
fn capturing_waker_sites_changes_no_decision() {
    for seed in 0..40 {
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let config = Config::new().seed(seed).strategy(strategy);
            let plain = Sim::new(config.clone()).run(busy());
            let captured = Sim::new(config.waker_sites(true)).run(busy());
            assert_eq!(plain.trace.hash(), captured.trace.hash(), "seed {seed}");
            assert_eq!(plain.tape, captured.tape, "seed {seed}");
            assert_eq!(plain.result.unwrap(), captured.result.unwrap());
        }
    }
}
