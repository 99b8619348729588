//! The bug zoo: planted concurrency bugs of known depth, each one body
//! generic over the runtime so asyncsim and shuttle see the same scheduling
//! points. A body panics (or deadlocks) exactly when its bug manifests; under
//! asyncio's FIFO order none of them does.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::rt::{Chan, Lock, Rt};

/// One planted bug.
pub struct Bug {
    /// Short name for the table.
    pub name: &'static str,
    /// The PCT bug depth (ordering constraints needed).
    pub depth: u32,
    /// What goes wrong.
    pub what: &'static str,
}

/// The zoo, in table order.
pub const BUGS: &[Bug] = &[
    Bug {
        name: "lost-update",
        depth: 1,
        what: "2 tasks read-yield-write a counter",
    },
    Bug {
        name: "double-init",
        depth: 1,
        what: "2 tasks check-yield-set an init flag",
    },
    Bug {
        name: "order-violation",
        depth: 1,
        what: "consumer reads before producer publishes",
    },
    Bug {
        name: "lock-order-deadlock",
        depth: 2,
        what: "A locks a then b, B locks b then a",
    },
    Bug {
        name: "depth3-chain",
        depth: 3,
        what: "4 stages must run in reverse spawn order",
    },
    Bug {
        name: "deep-rare-ordering",
        depth: 1,
        what: "A finishes 45 steps before B takes 5",
    },
    Bug {
        name: "message-reordering",
        depth: 1,
        what: "2 senders take sequence numbers, yield, send",
    },
    Bug {
        name: "intermediate-state",
        depth: 1,
        what: "reader sees a!=b mid-update of a pair",
    },
    Bug {
        name: "intra-task-flag",
        depth: 1,
        what: "one task joins a producer (flag, yield, value) and a consumer; the consumer polled first sees the flag without the value",
    },
];

/// Runs bug number `index` (panics when it manifests).
pub async fn run<R: Rt>(index: usize) {
    match index {
        0 => lost_update::<R>().await,
        1 => double_init::<R>().await,
        2 => order_violation::<R>().await,
        3 => lock_order_deadlock::<R>().await,
        4 => depth3_chain::<R>().await,
        5 => deep_rare_ordering::<R>().await,
        6 => message_reordering::<R>().await,
        7 => intermediate_state::<R>().await,
        8 => intra_task_flag::<R>().await,
        _ => unreachable!("no bug {index}"),
    }
}

async fn lost_update<R: Rt>() {
    let counter = Rc::new(Cell::new(0));
    // The second task starts one yield later, so FIFO (round robin) orders
    // the two read-modify-writes; the bug needs the second read first.
    let handles: Vec<_> = (0..2)
        .map(|index| {
            let counter = counter.clone();
            R::spawn(async move {
                if index == 1 {
                    R::yield_now().await;
                }
                let seen = counter.get();
                R::yield_now().await;
                counter.set(seen + 1);
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    assert_eq!(counter.get(), 2, "lost update");
}

async fn double_init<R: Rt>() {
    let initialised = Rc::new(Cell::new(false));
    let inits = Rc::new(Cell::new(0));
    let handles: Vec<_> = (0..2)
        .map(|index| {
            let (initialised, inits) = (initialised.clone(), inits.clone());
            R::spawn(async move {
                if index == 1 {
                    R::yield_now().await;
                }
                if !initialised.get() {
                    R::yield_now().await;
                    initialised.set(true);
                    inits.set(inits.get() + 1);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    assert_eq!(inits.get(), 1, "initialised twice");
}

async fn order_violation<R: Rt>() {
    let config = Rc::new(Cell::new(None::<u32>));
    let producer = {
        let config = config.clone();
        R::spawn(async move {
            R::yield_now().await;
            R::yield_now().await;
            config.set(Some(7));
        })
    };
    let consumer = {
        let config = config.clone();
        R::spawn(async move {
            R::yield_now().await;
            R::yield_now().await;
            R::yield_now().await;
            assert!(config.get().is_some(), "used before initialised");
        })
    };
    producer.await;
    consumer.await;
}

async fn lock_order_deadlock<R: Rt>() {
    let a = Lock::new();
    let b = Lock::new();
    let first = {
        let (a, b) = (a.clone(), b.clone());
        R::spawn(async move {
            R::yield_now().await;
            let _a = a.lock().await;
            R::yield_now().await;
            let _b = b.lock().await;
        })
    };
    let second = {
        let (a, b) = (a.clone(), b.clone());
        R::spawn(async move {
            R::yield_now().await;
            R::yield_now().await;
            let _b = b.lock().await;
            R::yield_now().await;
            let _a = a.lock().await;
        })
    };
    first.await;
    second.await;
}

async fn depth3_chain<R: Rt>() {
    // Stage k may only advance the chain when it is the next expected; the
    // bug is the chain completing, which needs stage 3 before 2 before 1
    // before 0: the reverse of spawn (FIFO) order, 3 ordering constraints.
    let next = Rc::new(Cell::new(3u32));
    let handles: Vec<_> = (0..4u32)
        .map(|stage| {
            let next = next.clone();
            R::spawn(async move {
                for _ in 0..3 {
                    R::yield_now().await;
                }
                if next.get() == stage && stage > 0 {
                    next.set(stage - 1);
                } else if next.get() == 0 && stage == 0 {
                    next.set(u32::MAX);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    assert_ne!(next.get(), u32::MAX, "chain 3 -> 2 -> 1 -> 0 completed");
}

async fn deep_rare_ordering<R: Rt>() {
    let done = Rc::new(Cell::new(false));
    let slow = {
        let done = done.clone();
        R::spawn(async move {
            for _ in 0..45 {
                R::yield_now().await;
            }
            done.set(true);
        })
    };
    let fast = {
        let done = done.clone();
        R::spawn(async move {
            for _ in 0..5 {
                R::yield_now().await;
            }
            assert!(!done.get(), "the long task finished first");
        })
    };
    slow.await;
    fast.await;
}

async fn message_reordering<R: Rt>() {
    let channel = Chan::<u32>::new();
    let sequence = Rc::new(Cell::new(0u32));
    let senders: Vec<_> = (0..2)
        .map(|_| {
            let (channel, sequence) = (channel.clone(), sequence.clone());
            R::spawn(async move {
                let number = sequence.get();
                sequence.set(number + 1);
                R::yield_now().await;
                R::yield_now().await;
                channel.send(number);
            })
        })
        .collect();
    let first = channel.recv().await;
    let second = channel.recv().await;
    for sender in senders {
        sender.await;
    }
    assert!(first < second, "messages arrived out of order");
}

async fn intermediate_state<R: Rt>() {
    let pair = Rc::new(RefCell::new((0u32, 0u32)));
    let writer = {
        let pair = pair.clone();
        R::spawn(async move {
            R::yield_now().await;
            R::yield_now().await;
            pair.borrow_mut().0 += 1;
            R::yield_now().await;
            pair.borrow_mut().1 += 1;
        })
    };
    let reader = {
        let pair = pair.clone();
        R::spawn(async move {
            R::yield_now().await;
            R::yield_now().await;
            R::yield_now().await;
            let (a, b) = *pair.borrow();
            assert_eq!(a, b, "saw a half-updated pair");
        })
    };
    writer.await;
    reader.await;
}

/// Issue #16's shape: the bug is between two branches of *one* task (a
/// `join!`), so only the order in which that task polls its branches shows
/// it. The producer raises a "ready" flag, yields, then stores the value;
/// the consumer waits one poll, then trusts the flag. In argument order the
/// producer's second step comes first in the second poll; the consumer
/// polled first there finds the flag up and the slot empty.
async fn intra_task_flag<R: Rt>() {
    let ready = Cell::new(false);
    let value = Cell::new(None::<u32>);
    R::join2(
        async {
            ready.set(true);
            R::yield_now().await;
            value.set(Some(42));
        },
        async {
            R::yield_now().await;
            if ready.get() {
                assert_eq!(value.get(), Some(42), "the flag was up before the value");
            }
        },
    )
    .await;
}

/// The small always-passing body of the `check` speed workload: 3 tasks
/// each bump a counter 3 times with a yield between bumps.
pub async fn check_body<R: Rt>() {
    counting_body::<R>(3).await;
}

/// Three tasks that each count and yield `yields` times; main joins them.
pub async fn counting_body<R: Rt>(yields: u32) {
    let counter = Rc::new(Cell::new(0u32));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let counter = counter.clone();
            R::spawn(async move {
                for _ in 0..yields {
                    counter.set(counter.get() + 1);
                    R::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    assert_eq!(counter.get(), 3 * yields);
}
