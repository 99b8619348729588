//! A receiver waiting on a channel whose sender was leaked (never dropped,
//! never used) waits forever: the run ends in a deadlock whose report says
//! the receiving task waits on the channel (a `channel#n` resource). A
//! sender blocked on a full channel nobody reads is reported the same way.

use asyncsim::sync::channel;
use asyncsim::task::Builder;
use asyncsim::trace::{ResourceKind, WaitOn};
use asyncsim::{FailureKind, Sim};

mod schedule_support;

use schedule_support::random_and_pct;

#[test]
fn a_receiver_whose_sender_leaked_deadlocks_waiting_on_the_channel() {
    for config in random_and_pct(150) {
        let run = Sim::new(config).run(async {
            let (sender, mut receiver) = channel::<u32>(2);
            let consumer = Builder::new().name("consumer").spawn(async move {
                let mut count = 0;
                while receiver.recv().await.is_some() {
                    count += 1;
                }
                count
            });
            let producer = Builder::new().name("producer").spawn(async move {
                sender.send(1).await.unwrap();
                asyncsim::yield_now().await;
                std::mem::forget(sender); // leaked: the channel never closes
            });
            producer.await.unwrap();
            consumer.await.unwrap()
        });
        let seed = run.seed;
        let failure = run.result.unwrap_err();
        assert_eq!(
            failure.kind,
            FailureKind::Deadlock,
            "seed {seed}: {failure}"
        );
        let consumer = failure
            .blocked
            .iter()
            .find(|task| task.name == "consumer")
            .unwrap_or_else(|| panic!("seed {seed}: consumer not reported: {failure}"));
        assert!(
            matches!(consumer.wait, WaitOn::Resource(ResourceKind::Channel, _)),
            "seed {seed}: {:?}",
            consumer.wait
        );
        assert!(
            consumer.waiting_on.contains("channel#"),
            "{}",
            consumer.waiting_on
        );
        let report = failure.to_string();
        assert!(
            report.contains("`consumer`") && report.contains("waits on channel#"),
            "{report}"
        );
    }
}

#[test]
fn a_sender_blocked_on_a_full_unread_channel_deadlocks_waiting_on_the_same_channel() {
    for config in random_and_pct(150) {
        let run = Sim::new(config).run(async {
            let (sender, receiver) = channel::<u32>(1);
            let producer = Builder::new().name("producer").spawn(async move {
                for message in 0..3 {
                    sender.send(message).await.unwrap();
                }
            });
            producer.await.unwrap();
            drop(receiver); // alive, and never read, while the producer runs
        });
        let seed = run.seed;
        let failure = run.result.unwrap_err();
        assert_eq!(
            failure.kind,
            FailureKind::Deadlock,
            "seed {seed}: {failure}"
        );
        let producer = failure
            .blocked
            .iter()
            .find(|task| task.name == "producer")
            .unwrap_or_else(|| panic!("seed {seed}: producer not reported: {failure}"));
        assert!(
            matches!(producer.wait, WaitOn::Resource(ResourceKind::Channel, _)),
            "seed {seed}: {:?}",
            producer.wait
        );
    }
}
