//! `sync::channel`: with several producers and one consumer, every message
//! arrives exactly once, each producer's messages arrive in the order it
//! sent them, and `recv` ends with `None` once every sender is gone, for
//! every schedule within two deviations of FIFO.

use asyncsim::sync::{channel, unbounded_channel};

mod schedule_support;

use schedule_support::every_run;

const PRODUCERS: u32 = 3;
const MESSAGES: u32 = 5;

/// Runs three producers (clones of one sender) into one consumer; returns
/// what the consumer received, in order.
async fn produce_and_consume(capacity: Option<usize>) -> Vec<(u32, u32)> {
    let (sender, mut receiver) = match capacity {
        Some(capacity) => channel(capacity),
        None => unbounded_channel(),
    };
    let mut producers = Vec::new();
    for producer in 0..PRODUCERS {
        let sender = sender.clone();
        producers.push(asyncsim::spawn(async move {
            for message in 0..MESSAGES {
                if asyncsim::random_range(0..3u32) == 0 {
                    // Mix in the non-waiting path.
                    if let Err(error) = sender.try_send((producer, message)) {
                        sender.send(error.into_inner()).await.unwrap();
                    }
                } else {
                    sender.send((producer, message)).await.unwrap();
                }
                if asyncsim::random_range(0..2u32) == 0 {
                    asyncsim::yield_now().await;
                }
            }
        }));
    }
    drop(sender);
    let mut received = Vec::new();
    while let Some(message) = receiver.recv().await {
        received.push(message);
        if asyncsim::random_range(0..2u32) == 0 {
            asyncsim::yield_now().await;
        }
    }
    assert!(receiver.is_closed());
    for producer in producers {
        producer.await.unwrap();
    }
    received
}

fn assert_exactly_once_and_per_sender_fifo(received: &[(u32, u32)], replay: &str) {
    let mut all = received.to_vec();
    all.sort_unstable();
    let expected: Vec<(u32, u32)> = (0..PRODUCERS)
        .flat_map(|producer| (0..MESSAGES).map(move |message| (producer, message)))
        .collect();
    assert_eq!(all, expected, "replay {replay}: {received:?}");
    for producer in 0..PRODUCERS {
        let order: Vec<u32> = received
            .iter()
            .filter(|(from, _)| *from == producer)
            .map(|(_, message)| *message)
            .collect();
        assert_eq!(order, (0..MESSAGES).collect::<Vec<_>>(), "replay {replay}");
    }
}

#[test]
fn bounded_channel_delivers_every_message_once_in_per_sender_order() {
    let mut interleaved = 0;
    every_run(
        2,
        50_000,
        || produce_and_consume(Some(2)),
        |run| {
            let replay = run.tape.to_string();
            let received = run.result.unwrap();
            assert_exactly_once_and_per_sender_fifo(&received, &replay);
            if received.windows(2).any(|pair| pair[0].0 > pair[1].0) {
                interleaved += 1;
            }
        },
    );
    assert!(interleaved > 0, "some schedule interleaved the producers");
}

#[test]
fn unbounded_channel_delivers_every_message_once_in_per_sender_order() {
    every_run(
        2,
        50_000,
        || produce_and_consume(None),
        |run| {
            let replay = run.tape.to_string();
            assert_exactly_once_and_per_sender_fifo(&run.result.unwrap(), &replay);
        },
    );
}

#[test]
fn capacity_one_channel_delivers_every_message_once_in_per_sender_order() {
    every_run(
        2,
        50_000,
        || produce_and_consume(Some(1)),
        |run| {
            let replay = run.tape.to_string();
            assert_exactly_once_and_per_sender_fifo(&run.result.unwrap(), &replay);
        },
    );
}

#[test]
fn receiver_as_a_stream_delivers_every_message_once_in_per_sender_order() {
    use futures::StreamExt;
    every_run(
        2,
        50_000,
        || async {
            let (sender, receiver) = channel(2);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|producer| {
                    let sender = sender.clone();
                    asyncsim::spawn(async move {
                        for message in 0..MESSAGES {
                            sender.send((producer, message)).await.unwrap();
                            if asyncsim::random_range(0..2u32) == 0 {
                                asyncsim::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            drop(sender);
            let received = receiver.collect::<Vec<_>>().await;
            for producer in producers {
                producer.await.unwrap();
            }
            received
        },
        |run| {
            let replay = run.tape.to_string();
            assert_exactly_once_and_per_sender_fifo(&run.result.unwrap(), &replay);
        },
    );
}
