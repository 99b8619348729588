//! `sync::Mutex`: mutual exclusion for every schedule, and FIFO hand-off —
//! tasks get the lock in the order they asked for it (asyncio's `Lock`) —
//! including when a waiter gives up.

use asyncsim::sync::Mutex;
use asyncsim::{time, trace, Config, Sim, Strategy};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod schedule_support;

use schedule_support::{random_and_pct, request_after_a_while, requests};

#[test]
fn mutex_excludes_and_hands_off_in_request_order_for_every_schedule() {
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let inside = Rc::new(Cell::new(0u32));
            let workers: Vec<_> = (0..5usize)
                .map(|index| {
                    let (mutex, inside) = (mutex.clone(), inside.clone());
                    asyncsim::spawn(async move {
                        request_after_a_while(index).await;
                        let mut held = mutex.lock().await;
                        inside.set(inside.get() + 1);
                        assert_eq!(inside.get(), 1, "two tasks inside the lock");
                        held.push(index);
                        for _ in 0..asyncsim::random_range(0..3u32) {
                            asyncsim::yield_now().await;
                        }
                        inside.set(inside.get() - 1);
                    })
                })
                .collect();
            for worker in workers {
                worker.await.unwrap();
            }
            let order = mutex.lock().await.clone();
            order
        });
        let requests = requests(run.trace.marks());
        assert_eq!(
            run.result.unwrap(),
            requests,
            "FIFO hand-off (seed {})",
            run.seed
        );
    }
}

#[test]
fn a_waiter_that_gives_up_leaves_the_queue() {
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(async {
            let mutex = Rc::new(Mutex::new(()));
            let guard = mutex.lock().await;
            let impatient = {
                let mutex = mutex.clone();
                asyncsim::spawn(async move {
                    time::timeout(Duration::from_secs(1), mutex.lock())
                        .await
                        .is_err()
                })
            };
            let patient = {
                let mutex = mutex.clone();
                asyncsim::spawn(async move {
                    let _guard = mutex.lock().await;
                    time::Instant::now().since_start()
                })
            };
            time::sleep(Duration::from_secs(2)).await;
            drop(guard);
            let gave_up = impatient.await.unwrap();
            let patient_at = patient.await.unwrap();
            (gave_up, patient_at, mutex.is_locked())
        });
        let (gave_up, patient_at, locked) = run.result.unwrap();
        assert!(gave_up);
        assert_eq!(patient_at, Duration::from_secs(2), "seed {}", run.seed);
        assert!(!locked);
    }
}

#[test]
fn a_lock_handed_to_a_cancelled_waiter_is_passed_on() {
    // The holder unlocks and hands the lock to `first`, which is aborted
    // before it resumes: the lock must go on to `second`.
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(async {
            let mutex = Rc::new(Mutex::new(()));
            let guard = mutex.lock().await;
            let first = {
                let mutex = mutex.clone();
                asyncsim::spawn(async move {
                    let _guard = mutex.lock().await;
                    trace::mark("first got it");
                })
            };
            let second = {
                let mutex = mutex.clone();
                asyncsim::spawn(async move {
                    let _guard = mutex.lock().await;
                    trace::mark("second got it");
                })
            };
            // Let both queue up (every schedule polls both within a few yields).
            while !(first.is_finished() || second.is_finished())
                && asyncsim::random_range(0..8u32) != 0
            {
                asyncsim::yield_now().await;
            }
            drop(guard);
            first.abort();
            let _ = first.await;
            second.await.unwrap();
            mutex.is_locked()
        });
        assert!(
            run.trace.marks().any(|mark| mark == "second got it"),
            "seed {}",
            run.seed
        );
        assert!(!run.result.unwrap(), "the lock is free at the end");
    }
}

#[test]
fn locking_a_free_mutex_does_not_yield() {
    let run = Sim::new(Config::new()).run(async {
        let mutex = Mutex::new(1);
        let value = *mutex.lock().await;
        value
    });
    assert_eq!(run.steps(), 1);
    assert_eq!(run.result.unwrap(), 1);
}

#[test]
fn under_fifo_a_granted_then_aborted_waiter_passes_the_lock_to_the_next() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let mutex = Rc::new(Mutex::new(()));
        let guard = mutex.lock().await;
        let spawn_locker = |name: &'static str| {
            let mutex = mutex.clone();
            asyncsim::spawn(async move {
                let _guard = mutex.lock().await;
                trace::mark(name);
            })
        };
        let first = spawn_locker("first got it");
        let second = spawn_locker("second got it");
        asyncsim::yield_now().await; // both queue up behind us
        drop(guard); // hands the lock to `first`…
        first.abort(); // …which never resumes to take it
        assert!(first.await.unwrap_err().is_cancelled());
        second.await.unwrap();
        mutex.is_locked()
    });
    assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["second got it"]);
    assert!(!run.result.unwrap());
}
