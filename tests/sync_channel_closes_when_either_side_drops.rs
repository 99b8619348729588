//! `sync::channel` closes on drop, both ways: once the last sender is
//! dropped the receiver drains the buffer and then gets `None` (a waiting
//! receiver is woken for it); once the receiver is dropped every send fails
//! and senders blocked on a full channel wake with their value back.

use asyncsim::sync::{channel, SendError, TryRecvError, TrySendError};
use asyncsim::{time, Sim};
use std::time::Duration;

mod schedule_support;

use schedule_support::random_and_pct;

#[test]
fn dropping_the_last_sender_ends_recv_after_the_buffer_drains() {
    let mut receiver_was_waiting = 0;
    for config in random_and_pct(200) {
        let run = Sim::new(config).run(async {
            let (sender, mut receiver) = channel(4);
            let workers: Vec<_> = (0..2u32)
                .map(|worker| {
                    let sender = sender.clone();
                    asyncsim::spawn(async move {
                        sender.send(worker).await.unwrap();
                        if asyncsim::random_range(0..2u32) == 0 {
                            asyncsim::yield_now().await;
                        }
                        // `sender` is dropped here: only the last drop closes.
                    })
                })
                .collect();
            drop(sender);
            let mut received = Vec::new();
            let mut waited = false;
            loop {
                match receiver.try_recv() {
                    Ok(message) => received.push(message),
                    Err(TryRecvError::Disconnected) => break,
                    Err(TryRecvError::Empty) => {
                        // Blocks until a message arrives or the last sender goes.
                        waited = true;
                        match receiver.recv().await {
                            Some(message) => received.push(message),
                            None => break,
                        }
                    }
                }
            }
            assert_eq!(receiver.recv().await, None, "stays closed");
            for worker in workers {
                worker.await.unwrap();
            }
            received.sort_unstable();
            (received, waited)
        });
        let seed = run.seed;
        let (received, waited) = run.result.unwrap();
        assert_eq!(received, [0, 1], "seed {seed}");
        receiver_was_waiting += usize::from(waited);
    }
    assert!(receiver_was_waiting > 0);
}

#[test]
fn a_receiver_waiting_on_an_empty_channel_wakes_with_none_when_the_last_sender_drops() {
    for config in random_and_pct(200) {
        let run = Sim::new(config).run(async {
            let (sender, mut receiver) = channel::<u8>(1);
            let second = sender.clone();
            let closer = asyncsim::spawn(async move {
                time::sleep(Duration::from_secs(1)).await;
                drop(sender);
                time::sleep(Duration::from_secs(1)).await;
                drop(second);
            });
            let message = receiver.recv().await;
            let at = time::Instant::now().since_start();
            closer.await.unwrap();
            (message, at)
        });
        let seed = run.seed;
        let (message, at) = run.result.unwrap();
        assert_eq!(message, None, "seed {seed}");
        assert_eq!(
            at,
            Duration::from_secs(2),
            "seed {seed}: woke before the last sender dropped"
        );
    }
}

#[test]
fn dropping_the_receiver_fails_blocked_and_later_sends_with_the_value() {
    for config in random_and_pct(200) {
        let run = Sim::new(config).run(async {
            let (sender, receiver) = channel(1);
            sender.send(0u32).await.unwrap(); // full
            let blocked: Vec<_> = (1..4u32)
                .map(|value| {
                    let sender = sender.clone();
                    asyncsim::spawn(async move { sender.send(value).await })
                })
                .collect();
            time::sleep(Duration::from_millis(1)).await; // all three are blocked
            if asyncsim::random_range(0..2u32) == 0 {
                asyncsim::yield_now().await;
            }
            drop(receiver);
            let mut results = Vec::new();
            for handle in blocked {
                results.push(handle.await.unwrap());
            }
            let closed = sender.is_closed();
            let later = sender.send(9).await;
            let tried = sender.try_send(10);
            (results, closed, later, tried)
        });
        let seed = run.seed;
        let (results, closed, later, tried) = run.result.unwrap();
        assert_eq!(
            results,
            [Err(SendError(1)), Err(SendError(2)), Err(SendError(3))],
            "seed {seed}"
        );
        assert!(closed);
        assert_eq!(later, Err(SendError(9)));
        assert_eq!(tried, Err(TrySendError::Closed(10)));
    }
}
