//! The face's `tokio::sync::watch` behaves as tokio documents its own, on
//! many schedules (`random_and_pct(24)` and FIFO): what receivers see, when
//! `changed` and `send` fail, `closed`, `subscribe`, `wait_for`,
//! `send_if_modified`, the marks and the counts; and its types have
//! tokio's shape (`Send`/`Sync` as tokio's, each method's signature).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use asyncsim_tokio_tests::on_many_schedules;
use tokio::sync::watch;

/// A drawn number of yields (0 to 3): the other tasks may run meanwhile.
async fn a_while() {
    for _ in 0..asyncsim::random_range(0..4u32) {
        tokio::task::yield_now().await;
    }
}

/// `future`, counting its polls in `polls`.
struct Counted<'a, F> {
    future: Pin<Box<F>>,
    polls: &'a AtomicUsize,
}

impl<F: Future> Future for Counted<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.future.as_mut().poll(context)
    }
}

/// Ready at its first poll: `Some` of the output, or `None`.
async fn at_once<F: Future>(future: F) -> Option<F::Output> {
    tokio::select! {
        biased;
        output = future => Some(output),
        () = std::future::ready(()) => None,
    }
}

#[test]
fn every_receiver_sees_the_last_value_sent_and_only_newer_ones() {
    on_many_schedules(|| async {
        let (sender, receiver) = watch::channel(0u32);
        let mut receivers = vec![receiver.clone(), receiver];
        receivers.push(sender.subscribe());
        let watchers: Vec<_> = receivers
            .into_iter()
            .map(|mut receiver| {
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while receiver.changed().await.is_ok() {
                        seen.push(*receiver.borrow_and_update());
                        a_while().await;
                    }
                    seen
                })
            })
            .collect();
        for value in 1..=5 {
            a_while().await;
            sender.send(value).unwrap();
        }
        drop(sender);
        for watcher in watchers {
            let seen = watcher.await.unwrap();
            assert_eq!(seen.last(), Some(&5), "{seen:?}");
            assert!(
                seen.windows(2).all(|pair| pair[0] < pair[1]),
                "each change is newer than the last one seen: {seen:?}"
            );
        }
    });
}

#[test]
fn changed_fails_once_the_senders_are_gone_and_nothing_is_unseen() {
    on_many_schedules(|| async {
        let (sender, mut unseen) = watch::channel(0u32);
        let mut waiting = unseen.clone();
        let second = sender.clone();
        let waiter = tokio::spawn(async move {
            let first = waiting.changed().await;
            let second = waiting.changed().await;
            (first, second, *waiting.borrow())
        });
        a_while().await;
        sender.send(1).unwrap();
        drop(sender);
        a_while().await;
        assert!(!unseen.is_closed(), "one sender is left");
        drop(second);
        assert!(unseen.is_closed());
        // `has_changed` fails once closed, seen or not; `changed` gives the
        // unseen value first.
        assert!(unseen.has_changed().is_err());
        assert!(unseen.borrow().has_changed());
        assert!(unseen.changed().await.is_ok());
        assert_eq!(*unseen.borrow(), 1);
        assert!(unseen.changed().await.is_err());
        let (first, second, value) = waiter.await.unwrap();
        assert!(first.is_ok(), "the send came before the close");
        assert!(
            second.is_err(),
            "then nothing is unseen and no sender is left"
        );
        assert_eq!(value, 1);
    });
}

#[test]
fn a_receiver_waiting_when_the_last_sender_drops_gets_an_error() {
    on_many_schedules(|| async {
        let (sender, mut receiver) = watch::channel(());
        let waiter = tokio::spawn(async move { receiver.changed().await });
        a_while().await;
        drop(sender);
        assert!(waiter.await.unwrap().is_err());
    });
}

#[test]
fn send_fails_without_receivers_but_send_replace_stores() {
    on_many_schedules(|| async {
        let (sender, receiver) = watch::channel(0u32);
        let droppers: Vec<_> = [receiver.clone(), receiver]
            .into_iter()
            .map(|receiver| {
                tokio::spawn(async move {
                    a_while().await;
                    drop(receiver);
                })
            })
            .collect();
        sender.closed().await;
        assert_eq!(sender.receiver_count(), 0);
        assert!(sender.is_closed());
        let watch::error::SendError(back) = sender.send(7).unwrap_err();
        assert_eq!(back, 7, "the value comes back");
        assert_eq!(*sender.borrow(), 0, "and was not stored");
        assert_eq!(sender.send_replace(8), 0);
        assert_eq!(*sender.borrow(), 8);
        sender.send_modify(|value| *value += 1);
        assert_eq!(*sender.borrow(), 9);
        let late = sender.subscribe();
        assert_eq!(*late.borrow(), 9);
        assert!(!late.has_changed().unwrap());
        for dropper in droppers {
            dropper.await.unwrap();
        }
    });
}

#[test]
fn closed_resolves_when_every_receiver_is_gone_and_a_subscriber_holds_it_open() {
    on_many_schedules(|| async {
        let (sender, receiver) = watch::channel(0u32);
        let dropped = Arc::new(AtomicUsize::new(0));
        let extra = sender.subscribe();
        let holders: Vec<_> = [receiver.clone(), receiver, extra]
            .into_iter()
            .map(|receiver| {
                let dropped = dropped.clone();
                tokio::spawn(async move {
                    a_while().await;
                    dropped.fetch_add(1, Ordering::SeqCst);
                    drop(receiver);
                })
            })
            .collect();
        let sender = Arc::new(sender);
        let closer = {
            let sender = sender.clone();
            tokio::spawn(async move {
                sender.closed().await;
                sender.receiver_count()
            })
        };
        // A subscriber made while `closed` waits keeps it waiting.
        let late = sender.subscribe();
        for holder in holders {
            holder.await.unwrap();
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(!closer.is_finished(), "`late` still receives");
        assert!(at_once(sender.closed()).await.is_none());
        drop(late);
        assert_eq!(closer.await.unwrap(), 0);
        assert_eq!(at_once(sender.closed()).await, Some(()));
    });
}

#[test]
fn subscribe_starts_with_the_current_value_seen() {
    on_many_schedules(|| async {
        let (sender, _keep) = watch::channel(0u32);
        sender.send(3).unwrap();
        let mut receiver = sender.subscribe();
        assert_eq!(*receiver.borrow(), 3);
        assert!(!receiver.has_changed().unwrap());
        assert!(!receiver.borrow().has_changed());
        assert!(at_once(receiver.changed()).await.is_none(), "3 is seen");
        let sender = Arc::new(sender);
        let later = {
            let sender = sender.clone();
            tokio::spawn(async move {
                a_while().await;
                sender.send(4).unwrap();
            })
        };
        receiver.changed().await.unwrap();
        assert_eq!(*receiver.borrow_and_update(), 4);
        later.await.unwrap();
    });
}

#[test]
fn wait_for_returns_at_once_when_the_value_already_holds_and_else_waits() {
    on_many_schedules(|| async {
        let (sender, mut receiver) = watch::channel(0u32);
        sender.send(10).unwrap();
        let tried = AtomicUsize::new(0);
        for unseen in [true, false] {
            let ready = at_once(receiver.wait_for(|value| {
                tried.fetch_add(1, Ordering::SeqCst);
                *value >= 5
            }))
            .await;
            let found = ready.expect("10 >= 5 holds already").unwrap();
            assert_eq!(*found, 10);
            assert_eq!(found.has_changed(), unseen, "and is seen from then on");
        }
        assert_eq!(tried.load(Ordering::SeqCst), 2, "once each");

        let counter = tokio::spawn(async move {
            for value in 11..=30 {
                sender.send(value).unwrap();
                a_while().await;
            }
        });
        // Values stored and replaced while this task did not run are never
        // tried: the predicate holds from 20 on, whichever it is shown.
        let found = receiver.wait_for(|value| *value >= 20).await.unwrap();
        let value = *found;
        drop(found);
        assert!((20..=30).contains(&value), "{value}");
        counter.await.unwrap();
        // The sender is gone: the current value is tried once more, then
        // nothing can change.
        let last = receiver.wait_for(|value| *value == 30).await.unwrap();
        assert_eq!(*last, 30);
        drop(last);
        assert!(receiver.wait_for(|value| *value == 31).await.is_err());
    });
}

#[test]
fn send_if_modified_returning_false_wakes_nobody() {
    on_many_schedules(|| async {
        let (sender, mut receiver) = watch::channel(0u32);
        let polls = Arc::new(AtomicUsize::new(0));
        let waiter = {
            let polls = polls.clone();
            tokio::spawn(async move {
                let changed = Counted {
                    future: Box::pin(receiver.changed()),
                    polls: &polls,
                }
                .await;
                changed.map(|()| *receiver.borrow())
            })
        };
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(polls.load(Ordering::SeqCst), 1, "waiting");
        assert!(!sender.send_if_modified(|value| {
            *value += 0;
            false
        }));
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(polls.load(Ordering::SeqCst), 1, "nobody was woken");
        assert!(!waiter.is_finished());
        assert!(sender.send_if_modified(|value| {
            *value = 2;
            true
        }));
        assert_eq!(waiter.await.unwrap().unwrap(), 2);
        assert_eq!(polls.load(Ordering::SeqCst), 2, "woken once");
    });
}

#[test]
fn a_wait_given_up_takes_nothing_from_the_next() {
    on_many_schedules(|| async {
        let (sender, mut receiver) = watch::channel(0u32);
        let gave_up = tokio::time::timeout(Duration::from_millis(1), receiver.changed()).await;
        assert!(gave_up.is_err(), "nothing was sent");
        let waiter = tokio::spawn(async move {
            receiver.changed().await.unwrap();
            *receiver.borrow_and_update()
        });
        a_while().await;
        sender.send(1).unwrap();
        assert_eq!(waiter.await.unwrap(), 1);
    });
}

#[test]
fn the_marks_change_what_the_receiver_has_seen() {
    on_many_schedules(|| async {
        let (sender, mut receiver) = watch::channel(0u32);
        assert!(!receiver.has_changed().unwrap());
        receiver.mark_changed();
        assert!(receiver.has_changed().unwrap());
        assert!(receiver.borrow().has_changed());
        assert!(matches!(at_once(receiver.changed()).await, Some(Ok(()))));
        assert!(!receiver.has_changed().unwrap());
        sender.send(1).unwrap();
        assert!(receiver.has_changed().unwrap());
        receiver.mark_unchanged();
        assert!(!receiver.has_changed().unwrap());
        assert!(at_once(receiver.changed()).await.is_none());
        assert_eq!(*receiver.borrow(), 1, "marking reads nothing");
    });
}

#[test]
fn the_counts_follow_clones_subscribes_and_drops() {
    on_many_schedules(|| async {
        let (sender, receiver) = watch::channel(0u32);
        assert_eq!((sender.sender_count(), sender.receiver_count()), (1, 1));
        let other_sender = sender.clone();
        let clone = receiver.clone();
        let subscribed = other_sender.subscribe();
        assert_eq!((sender.sender_count(), sender.receiver_count()), (2, 3));
        assert!(sender.same_channel(&other_sender));
        assert!(receiver.same_channel(&subscribed));
        let (elsewhere, _elsewhere_receiver) = watch::channel(0u32);
        assert!(!sender.same_channel(&elsewhere));
        assert!(!receiver.same_channel(&_elsewhere_receiver));
        let dropper = tokio::spawn(async move {
            a_while().await;
            drop((clone, subscribed, other_sender));
        });
        dropper.await.unwrap();
        assert_eq!((sender.sender_count(), sender.receiver_count()), (1, 1));
        assert!(!receiver.is_closed() && !sender.is_closed());
        drop(receiver);
        assert_eq!(sender.receiver_count(), 0);
        assert!(sender.is_closed());
        let lone = watch::Sender::new(5u32);
        assert_eq!((lone.sender_count(), lone.receiver_count()), (1, 0));
        assert!(lone.send(6).is_err());
        let defaulted: watch::Sender<u32> = Default::default();
        assert_eq!(*defaulted.borrow(), 0);
    });
}

#[test]
fn a_panicking_modify_reaches_the_caller_and_tells_nobody() {
    on_many_schedules(|| async {
        let (sender, receiver) = watch::channel(0u32);
        let sender = Arc::new(sender);
        let panicked = {
            let sender = sender.clone();
            tokio::spawn(async move {
                sender.send_modify(|_| panic!("modify failed"));
            })
        };
        assert!(panicked.await.unwrap_err().is_panic());
        assert!(!receiver.has_changed().unwrap());
        sender.send(1).unwrap();
        assert_eq!(*receiver.borrow(), 1, "the channel still works");
    });
}

#[test]
fn errors_and_debug_read_as_tokio_s() {
    let send = watch::error::SendError(3u8);
    assert_eq!(send.to_string(), "channel closed");
    assert_eq!(format!("{send:?}"), "SendError { .. }");
    assert_eq!(send, watch::error::SendError(3u8));
    let (sender, mut receiver) = watch::channel(7u8);
    drop(sender);
    let recv = asyncsim::Sim::new(asyncsim::Config::new())
        .run(async move { receiver.changed().await.unwrap_err() })
        .result
        .unwrap();
    assert_eq!(recv.to_string(), "channel closed");
    let _: &dyn std::error::Error = &recv;
    let _: &dyn std::error::Error = &send;
    let (sender, receiver) = watch::channel(7u8);
    for text in [format!("{sender:?}"), format!("{receiver:?}")] {
        assert!(
            text.contains('7') && text.contains("is_closed: false"),
            "{text}"
        );
    }
    assert!(format!("{:?}", receiver.borrow()).contains('7'));
}

/// tokio's shape, checked by the compiler: the ends are `Send + Sync` (and
/// `Clone`, `Unpin`) for a `Send + Sync` value, so are the futures of `changed`,
/// `wait_for` and `closed`; a `Ref` is `Sync`; every method's signature.
#[allow(dead_code, clippy::let_underscore_future)]
fn the_types_have_tokio_s_shape() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    fn unpin<T: Unpin>(_: &T) {}
    let (sender, mut receiver): (watch::Sender<String>, watch::Receiver<String>) =
        watch::channel(String::new());
    send_sync(&sender);
    send_sync(&receiver);
    unpin(&sender);
    unpin(&receiver);
    sync(&receiver.borrow());
    send(&receiver.changed());
    send(&receiver.wait_for(|value| value.is_empty()));
    send(&sender.closed());
    let _: watch::Sender<String> = sender.clone();
    let _: watch::Receiver<String> = receiver.clone();
    let _: Result<(), watch::error::SendError<String>> = sender.send(String::new());
    sender.send_modify(|value: &mut String| value.push('a'));
    let _: bool = sender.send_if_modified(|value: &mut String| value.is_empty());
    let _: String = sender.send_replace(String::new());
    let _: watch::Ref<'_, String> = sender.borrow();
    let _: bool = sender.is_closed();
    let _: watch::Receiver<String> = sender.subscribe();
    let _: usize = sender.receiver_count() + sender.sender_count();
    let _: bool = sender.same_channel(&sender);
    let _: watch::Sender<String> = watch::Sender::new(String::new());
    let reference: watch::Ref<'_, String> = receiver.borrow();
    let _: bool = reference.has_changed();
    let _: &str = &reference;
    drop(reference);
    let _: watch::Ref<'_, String> = receiver.borrow_and_update();
    let _: Result<bool, watch::error::RecvError> = receiver.has_changed();
    let _: bool = receiver.is_closed();
    receiver.mark_changed();
    receiver.mark_unchanged();
    let _: bool = receiver.same_channel(&receiver);
    let _ = Mutex::new(receiver);
}
