//! `Mutex::lock_owned`: a guard that keeps its `Rc` excludes like a borrowed
//! one, hands off in request order, and unlocks wherever it is dropped —
//! in another task, or when its future is given up — for every schedule
//! within three deviations of FIFO.

use asyncsim::sync::{Mutex, OwnedMutexGuard};
use asyncsim::{trace, Sim};
use std::cell::Cell;
use std::rc::Rc;

mod schedule_support;

use schedule_support::{every_run, request_after_a_while, requests};

async fn take(mutex: &Rc<Mutex<Vec<usize>>>) -> OwnedMutexGuard<Vec<usize>> {
    mutex.clone().lock_owned().await
}

#[test]
fn owned_guards_exclude_and_hand_off_in_request_order_for_every_schedule_within_three_deviations() {
    every_run(
        3,
        50_000,
        || async {
            let mutex = Rc::new(Mutex::new(Vec::new()));
            let inside = Rc::new(Cell::new(0u32));
            let workers: Vec<_> = (0..4usize)
                .map(|index| {
                    let (mutex, inside) = (mutex.clone(), inside.clone());
                    asyncsim::spawn(async move {
                        request_after_a_while(index).await;
                        let mut held = take(&mutex).await;
                        inside.set(inside.get() + 1);
                        assert_eq!(inside.get(), 1, "two tasks inside the lock");
                        held.push(index);
                        // The guard moves to a helper task, which drops it.
                        let inside = inside.clone();
                        let helper = asyncsim::spawn(async move {
                            asyncsim::yield_now().await;
                            inside.set(inside.get() - 1);
                            drop(held);
                        });
                        helper.await.unwrap();
                    })
                })
                .collect();
            for worker in workers {
                worker.await.unwrap();
            }
            let order = mutex.lock().await.clone();
            let requests = requests(trace::marks_so_far().iter().map(String::as_str));
            (order, requests)
        },
        |run| {
            let (order, requests) = run.result.expect("no failure");
            assert_eq!(order, requests, "the lock went in request order");
        },
    );
}

#[test]
fn a_given_up_owned_lock_passes_the_lock_on() {
    let run = Sim::new(asyncsim::Config::new()).run(async {
        let mutex = Rc::new(Mutex::new(0));
        let first = mutex.clone().try_lock_owned().expect("free");
        assert!(mutex.clone().try_lock_owned().is_none());
        // A waiter that gives up, and one behind it that must still get in.
        let quitter = asyncsim::spawn(asyncsim::time::timeout(
            std::time::Duration::from_secs(1),
            mutex.clone().lock_owned(),
        ));
        let patient = {
            let mutex = mutex.clone();
            asyncsim::spawn(async move { *mutex.lock_owned().await += 1 })
        };
        asyncsim::time::sleep(std::time::Duration::from_secs(2)).await;
        assert!(quitter.await.unwrap().is_err(), "timed out waiting");
        assert!(Rc::ptr_eq(first.mutex(), &mutex));
        drop(first);
        patient.await.unwrap();
        let value = *mutex.lock().await;
        value
    });
    assert_eq!(run.result.unwrap(), 1);
}
