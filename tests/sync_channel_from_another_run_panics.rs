//! A channel belongs to the run that created it: sending or receiving on it
//! in another run panics with the advice to create it inside the run.

use asyncsim::sync::{channel, Receiver, Sender};
use asyncsim::{Config, FailureKind, Sim, Strategy};
use std::cell::RefCell;
use std::rc::Rc;

type Ends = Rc<RefCell<Option<(Sender<u8>, Receiver<u8>)>>>;

fn channel_from_a_finished_run(seed: u64) -> (Sender<u8>, Receiver<u8>) {
    let kept: Ends = Rc::new(RefCell::new(None));
    let slot = kept.clone();
    let first = Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(async move {
        let (sender, mut receiver) = channel(1);
        sender.send(1).await.unwrap();
        assert_eq!(receiver.recv().await, Some(1));
        *slot.borrow_mut() = Some((sender, receiver));
    });
    first.result.unwrap();
    let ends = kept.borrow_mut().take().unwrap();
    ends
}

fn assert_cross_run_panic(message: &str) {
    assert!(
        message.contains("was used in a simulation run other than the one it belongs to")
            && message.contains("inside the future passed to Sim::run"),
        "{message}"
    );
}

#[test]
fn sending_on_a_channel_from_another_run_panics_with_advice() {
    for seed in 0..50 {
        let (sender, _receiver) = channel_from_a_finished_run(seed);
        let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random))
            .run(async move { sender.send(2).await });
        let failure = run.result.unwrap_err();
        assert_eq!(failure.kind, FailureKind::Panic);
        assert_cross_run_panic(&failure.message);
    }
}

#[test]
fn receiving_on_a_channel_from_another_run_panics_with_advice() {
    for seed in 0..50 {
        let (_sender, mut receiver) = channel_from_a_finished_run(seed);
        let run = Sim::new(
            Config::new()
                .seed(seed)
                .strategy(Strategy::Pct { depth: 3 }),
        )
        .run(async move { receiver.recv().await });
        let failure = run.result.unwrap_err();
        assert_eq!(failure.kind, FailureKind::Panic);
        assert_cross_run_panic(&failure.message);
    }
}
