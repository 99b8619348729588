//! Programs with planted bugs, shared by the harness tests.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use asyncsim::{spawn, task, yield_now};

/// A lost update across an `await`: `reader` reads, yields, writes back;
/// `late` yields once, then increments. FIFO passes; one deviation (running
/// `late` a second time before `reader` writes) loses an update.
pub async fn lost_update() {
    let counter = Rc::new(Cell::new(0));
    let first = counter.clone();
    let reader = task::Builder::new().name("reader").spawn(async move {
        let read = first.get();
        yield_now().await;
        first.set(read + 1);
    });
    let second = counter.clone();
    let late = task::Builder::new().name("late").spawn(async move {
        yield_now().await;
        second.set(second.get() + 1);
    });
    reader.await.unwrap();
    late.await.unwrap();
    assert_eq!(counter.get(), 2, "lost update");
}

/// An order violation: `user` expects `initializer` to have run first. FIFO
/// (`initializer` set at its third poll, `user` reads at its fourth) passes;
/// it takes two deviations to let `user` read first.
pub async fn order_violation() {
    let config: Rc<RefCell<Option<u32>>> = Rc::new(RefCell::new(None));
    let writer = config.clone();
    let initializer = task::Builder::new().name("initializer").spawn(async move {
        yield_now().await;
        yield_now().await;
        *writer.borrow_mut() = Some(7);
    });
    let reader = config.clone();
    let user = task::Builder::new().name("user").spawn(async move {
        yield_now().await;
        yield_now().await;
        yield_now().await;
        let value = reader.borrow().expect("used before initialised");
        assert_eq!(value, 7);
    });
    initializer.await.unwrap();
    user.await.unwrap();
}

/// A lock-order deadlock: `left` takes a then b, `right` takes b then a.
/// FIFO passes (`right` yields first); one deviation deadlocks.
pub async fn lock_order_deadlock() {
    let a = Rc::new(asyncsim::sync::Mutex::new(0));
    let b = Rc::new(asyncsim::sync::Mutex::new(0));
    let (a1, b1) = (a.clone(), b.clone());
    let left = task::Builder::new().name("left").spawn(async move {
        let _a = a1.lock().await;
        yield_now().await;
        let _b = b1.lock().await;
    });
    let (a2, b2) = (a.clone(), b.clone());
    let right = task::Builder::new().name("right").spawn(async move {
        yield_now().await;
        let _b = b2.lock().await;
        yield_now().await;
        let _a = a2.lock().await;
    });
    left.await.unwrap();
    right.await.unwrap();
}

/// A bug needing three specific orderings: four workers must not finish in
/// exactly reverse order. Three deviations (pick the last, then the last,
/// then the last) are needed and enough.
pub async fn three_orderings() {
    let order = Rc::new(RefCell::new(Vec::new()));
    let workers: Vec<_> = ["w0", "w1", "w2", "w3"]
        .into_iter()
        .map(|name| {
            let order = order.clone();
            task::Builder::new()
                .name(name)
                .spawn(async move { order.borrow_mut().push(name) })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_ne!(*order.borrow(), ["w3", "w2", "w1", "w0"], "reverse order");
}

/// Two tasks of `k` polls each, each poll marking its name; main is woken
/// only once both are done, so the schedules are exactly the C(2k, k)
/// interleavings of the two tasks' polls.
pub async fn two_tasks(k: usize) -> String {
    let printed = Rc::new(RefCell::new(String::new()));
    let remaining = Rc::new(Cell::new(2));
    let (done_tx, done_rx) = futures::channel::oneshot::channel::<()>();
    let done_tx = Rc::new(RefCell::new(Some(done_tx)));
    for name in ['a', 'b'] {
        let printed = printed.clone();
        let remaining = remaining.clone();
        let done_tx = done_tx.clone();
        let _detached = spawn(async move {
            printed.borrow_mut().push(name);
            for _ in 1..k {
                yield_now().await;
                printed.borrow_mut().push(name);
            }
            remaining.set(remaining.get() - 1);
            if remaining.get() == 0 {
                if let Some(sender) = done_tx.borrow_mut().take() {
                    let _ = sender.send(());
                }
            }
        });
    }
    done_rx.await.unwrap();
    let text = printed.borrow().clone();
    text
}

/// n choose k.
pub fn choose(n: u64, k: u64) -> u64 {
    (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
}
