//! `sync::Queue`: never holds more than its capacity, delivers each item
//! once, in FIFO order per producer, for every schedule (two producers and
//! two consumers: every schedule within two deviations of FIFO).

use asyncsim::sync::Queue;
use asyncsim::{time, Config, Sim};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod schedule_support;

use schedule_support::every_run;

#[test]
fn queue_is_bounded_and_fifo_with_two_producers_and_two_consumers() {
    let mut full_seen = 0;
    every_run(
        2,
        50_000,
        || async {
            let queue = Rc::new(Queue::new(2));
            let peak = Rc::new(Cell::new(0usize));
            let producers: Vec<_> = (0..2u32)
                .map(|producer| {
                    let (queue, peak) = (queue.clone(), peak.clone());
                    asyncsim::spawn(async move {
                        for item in 0..5u32 {
                            queue.put((producer, item)).await;
                            peak.set(peak.get().max(queue.len()));
                            if asyncsim::random_range(0..2u32) == 0 {
                                asyncsim::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let queue = queue.clone();
                    asyncsim::spawn(async move {
                        let mut got = Vec::new();
                        for _ in 0..5 {
                            got.push(queue.get().await);
                            if asyncsim::random_range(0..2u32) == 0 {
                                asyncsim::yield_now().await;
                            }
                        }
                        got
                    })
                })
                .collect();
            for producer in producers {
                producer.await.unwrap();
            }
            let mut received = Vec::new();
            for consumer in consumers {
                received.push(consumer.await.unwrap());
            }
            (received, peak.get(), queue.len())
        },
        |run| {
            let (received, peak, left) = run.result.unwrap();
            assert!(peak <= 2, "queue held {peak} items (replay {})", run.tape);
            assert_eq!(left, 0);
            if peak == 2 {
                full_seen += 1;
            }
            // Each item exactly once.
            let mut all: Vec<(u32, u32)> = received.iter().flatten().copied().collect();
            all.sort_unstable();
            let expected: Vec<(u32, u32)> =
                (0..2).flat_map(|p| (0..5).map(move |i| (p, i))).collect();
            assert_eq!(all, expected);
            // FIFO: each consumer sees each producer's items in increasing order.
            for got in &received {
                for producer in 0..2 {
                    let items: Vec<u32> = got
                        .iter()
                        .filter(|(p, _)| *p == producer)
                        .map(|(_, i)| *i)
                        .collect();
                    assert!(items.windows(2).all(|pair| pair[0] < pair[1]), "{got:?}");
                }
            }
        },
    );
    assert!(full_seen > 0, "the queue filled up on some schedule");
}

#[test]
fn a_single_consumer_receives_in_put_order_for_every_schedule() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let queue = Rc::new(Queue::new(1));
            let producer = {
                let queue = queue.clone();
                asyncsim::spawn(async move {
                    for item in 0..6 {
                        queue.put(item).await;
                    }
                })
            };
            let mut got = Vec::new();
            for _ in 0..6 {
                got.push(queue.get().await);
            }
            producer.await.unwrap();
            got
        },
        |run| {
            assert_eq!(run.result.unwrap(), [0, 1, 2, 3, 4, 5]);
        },
    );
}

#[test]
fn put_waits_while_full_and_get_waits_while_empty() {
    let run = Sim::new(Config::new().seed(1)).run(async {
        let queue = Rc::new(Queue::new(1));
        queue.put(1).await;
        assert_eq!(queue.try_put(2), Err(2));
        let blocked_put = time::timeout(Duration::from_secs(1), queue.put(2))
            .await
            .is_err();
        assert_eq!(queue.try_get(), Some(1));
        let blocked_get = time::timeout(Duration::from_secs(1), queue.get())
            .await
            .is_err();
        (blocked_put, blocked_get, queue.is_empty())
    });
    assert_eq!(run.result.unwrap(), (true, true, true));
}

#[test]
fn queue_new_zero_panics_with_advice() {
    let result = std::panic::catch_unwind(|| Queue::<u8>::new(0));
    let payload = result.unwrap_err();
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(message.contains("Queue::unbounded"), "{message}");
}
