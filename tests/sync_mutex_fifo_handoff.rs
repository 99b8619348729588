//! `sync::Mutex`: mutual exclusion for every schedule within three deviations
//! of FIFO (every schedule there is, where the space is small), and FIFO
//! hand-off —
//! tasks get the lock in the order they asked for it (asyncio's `Lock`) —
//! including when a waiter gives up.

use asyncsim::sync::{Event, Mutex};
use asyncsim::{time, trace, Config, Sim, Strategy};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod schedule_support;

use schedule_support::{on_every_schedule, request_after_a_while, requests};

#[test]
fn mutex_excludes_and_hands_off_in_request_order_for_every_schedule_within_three_deviations() {
    on_every_schedule(3, 200_000, || async {
        let mutex = Rc::new(Mutex::new(Vec::new()));
        let inside = Rc::new(Cell::new(0u32));
        let workers: Vec<_> = (0..4usize)
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
        let marks = trace::marks_so_far();
        assert_eq!(
            order,
            requests(marks.iter().map(String::as_str)),
            "FIFO hand-off"
        );
    });
}

#[test]
fn a_waiter_that_gives_up_leaves_the_queue_for_every_schedule() {
    on_every_schedule(u32::MAX, 100_000, || async {
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
        assert!(impatient.await.unwrap(), "the impatient waiter gave up");
        assert_eq!(patient.await.unwrap(), Duration::from_secs(2));
        assert!(!mutex.is_locked());
    });
}

#[test]
fn a_lock_handed_to_a_cancelled_waiter_is_passed_on() {
    // The holder unlocks and hands the lock to `first`, which is aborted
    // before it resumes: the lock must go on to `second`. The events leave
    // one task runnable at a time, so this is the only schedule there is
    // (the search checks that too).
    on_every_schedule(u32::MAX, 100_000, || async {
        let mutex = Rc::new(Mutex::new(()));
        let guard = mutex.lock().await;
        // Each locker sets its event in the poll in which it queues on the
        // mutex, so once the event is set the locker is in the queue: `first`
        // queues before `second` on every schedule.
        let spawn_locker = |name: &'static str| {
            let mutex = mutex.clone();
            let queued = Rc::new(Event::new());
            let handle = {
                let queued = queued.clone();
                asyncsim::spawn(async move {
                    let lock = mutex.lock();
                    queued.set();
                    let _guard = lock.await;
                    trace::mark(name);
                })
            };
            (handle, queued)
        };
        let (first, first_queued) = spawn_locker("first got it");
        first_queued.wait().await;
        let (second, second_queued) = spawn_locker("second got it");
        second_queued.wait().await;
        drop(guard);
        assert!(mutex.is_locked(), "the unlock handed the lock to `first`");
        first.abort();
        assert!(
            first.await.unwrap_err().is_cancelled(),
            "`first` never resumed"
        );
        second.await.unwrap();
        assert_eq!(trace::marks_so_far(), ["second got it"]);
        assert!(!mutex.is_locked(), "the lock is free at the end");
    });
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
