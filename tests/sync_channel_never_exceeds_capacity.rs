//! `sync::channel(capacity)`: the buffer never holds more than `capacity`
//! messages, senders blocked on a full channel get room strictly in the
//! order they started waiting, and a newcomer never overtakes them.

use asyncsim::sync::{channel, TrySendError};
use asyncsim::{time, Sim};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod schedule_support;

use schedule_support::random_and_pct;

#[test]
fn buffered_messages_never_exceed_capacity() {
    let mut full_seen = 0;
    for config in random_and_pct(200) {
        let run = Sim::new(config).run(async {
            let (sender, mut receiver) = channel::<u32>(2);
            // Sent but not yet received: exactly the buffered messages,
            // since nothing awaits between a send completing and the count.
            let in_flight = Rc::new(Cell::new(0usize));
            let peak = Rc::new(Cell::new(0usize));
            let mut producers = Vec::new();
            for producer in 0..3u32 {
                let (sender, in_flight, peak) = (sender.clone(), in_flight.clone(), peak.clone());
                producers.push(asyncsim::spawn(async move {
                    for message in 0..4u32 {
                        sender.send(producer * 10 + message).await.unwrap();
                        in_flight.set(in_flight.get() + 1);
                        peak.set(peak.get().max(in_flight.get()));
                        if asyncsim::random_range(0..2u32) == 0 {
                            asyncsim::yield_now().await;
                        }
                    }
                }));
            }
            drop(sender);
            let mut count = 0;
            loop {
                assert_eq!(receiver.len(), in_flight.get());
                assert!(receiver.len() <= 2);
                let Some(_) = receiver.recv().await else {
                    break;
                };
                in_flight.set(in_flight.get() - 1);
                count += 1;
                if asyncsim::random_range(0..3u32) == 0 {
                    asyncsim::yield_now().await;
                }
            }
            for producer in producers {
                producer.await.unwrap();
            }
            (count, peak.get())
        });
        let seed = run.seed;
        let (count, peak) = run.result.unwrap();
        assert_eq!(count, 12, "seed {seed}");
        assert!(peak <= 2, "seed {seed}: {peak} messages buffered");
        if peak == 2 {
            full_seen += 1;
        }
    }
    assert!(full_seen > 0, "the channel filled up on some schedule");
}

#[test]
fn blocked_senders_get_room_in_the_order_they_waited() {
    for config in random_and_pct(200) {
        let run = Sim::new(config).run(async {
            let (sender, mut receiver) = channel(1);
            sender.send(100).await.unwrap(); // full from now on
            let blocked: Vec<_> = (0..4u32)
                .map(|waiter| {
                    let sender = sender.clone();
                    asyncsim::spawn(async move {
                        // Distinct start times fix the order they block in.
                        time::sleep(Duration::from_millis(u64::from(waiter) + 1)).await;
                        sender.send(waiter).await.unwrap();
                    })
                })
                .collect();
            time::sleep(Duration::from_millis(10)).await;
            // Everyone is blocked; a newcomer may not overtake them.
            let mut received = vec![receiver.recv().await.unwrap()];
            let barged = matches!(sender.try_send(99), Ok(()));
            let full = matches!(sender.try_send(99), Err(TrySendError::Full(99)));
            drop(sender);
            while let Some(message) = receiver.recv().await {
                received.push(message);
            }
            for handle in blocked {
                handle.await.unwrap();
            }
            (received, barged, full)
        });
        let seed = run.seed;
        let (received, barged, full) = run.result.unwrap();
        assert_eq!(received, [100, 0, 1, 2, 3], "seed {seed}");
        assert!(
            !barged && full,
            "seed {seed}: try_send overtook blocked senders"
        );
    }
}

#[test]
fn a_cancelled_blocked_send_sends_nothing_and_passes_its_turn_on() {
    let (mut cancelled, mut delivered) = (0, 0);
    for config in random_and_pct(200) {
        let run = Sim::new(config).run(async {
            let (sender, mut receiver) = channel(1);
            sender.send(0).await.unwrap();
            let impatient = {
                let sender = sender.clone();
                asyncsim::spawn(async move {
                    time::timeout(Duration::from_millis(5), sender.send(1))
                        .await
                        .is_err()
                })
            };
            let patient = {
                let sender = sender.clone();
                asyncsim::spawn(async move {
                    time::sleep(Duration::from_millis(1)).await;
                    sender.send(2).await.unwrap();
                })
            };
            drop(sender);
            time::sleep(Duration::from_millis(5)).await;
            if asyncsim::random_range(0..2u32) == 0 {
                asyncsim::yield_now().await;
            }
            let mut received = Vec::new();
            while let Some(message) = receiver.recv().await {
                received.push(message);
            }
            patient.await.unwrap();
            (received, impatient.await.unwrap())
        });
        let seed = run.seed;
        let (received, timed_out) = run.result.unwrap();
        if timed_out {
            cancelled += 1;
            assert_eq!(received, [0, 2], "seed {seed}");
        } else {
            delivered += 1;
            assert_eq!(received, [0, 1, 2], "seed {seed}");
        }
    }
    assert!(
        cancelled > 0 && delivered > 0,
        "{cancelled} cancelled, {delivered} delivered"
    );
}
