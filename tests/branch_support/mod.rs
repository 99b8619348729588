//! The flume shape (flume issue #98): a producer and a consumer as two
//! branches of one task, over a channel with a bug that only an order of
//! branches *inside one poll* shows.
//!
//! The toy channel has a fast path: a value sent while the receiver waits
//! goes straight into a hand-off slot instead of the queue. Its bug: the
//! receiver looks at the queue before the slot, so a value queued after a
//! hand-off overtakes it. That needs two sends between two receives, which
//! happens only when, in one poll of the task, the consumer goes before the
//! producer (it re-registers as waiting, the producer hands off), and in the
//! next the producer goes first again (it queues behind the hand-off).
//! Producer-first in every poll (argument order, FIFO) and consumer-first in
//! every poll both pass.

#![allow(dead_code)] // each test file uses part of it

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Values each run sends.
pub const VALUES: u32 = 4;

#[derive(Default)]
pub struct Channel {
    queue: VecDeque<u32>,
    handoff: Option<u32>,
    receiver_waiting: Option<Waker>,
}

pub type Shared = Rc<RefCell<Channel>>;

pub fn channel() -> Shared {
    Rc::new(RefCell::new(Channel::default()))
}

pub fn send(channel: &Shared, value: u32) {
    let mut channel = channel.borrow_mut();
    match channel.receiver_waiting.take() {
        Some(waker) => {
            channel.handoff = Some(value);
            waker.wake();
        }
        None => channel.queue.push_back(value),
    }
}

pub async fn recv(channel: &Shared) -> u32 {
    poll_fn(|context| {
        let mut channel = channel.borrow_mut();
        // The bug: the queue is read before the hand-off slot.
        if let Some(value) = channel.queue.pop_front() {
            return Poll::Ready(value);
        }
        if let Some(value) = channel.handoff.take() {
            return Poll::Ready(value);
        }
        channel.receiver_waiting = Some(context.waker().clone());
        Poll::Pending
    })
    .await
}

/// Sends `0..VALUES`, yielding after each send.
pub async fn producer(channel: Shared) {
    for value in 0..VALUES {
        send(&channel, value);
        asyncsim::yield_now().await;
    }
}

/// Receives `VALUES` values and asserts they come in order.
pub async fn consumer(channel: Shared) {
    for expected in 0..VALUES {
        let value = recv(&channel).await;
        assert_eq!(value, expected, "received out of order");
    }
}

/// The program with asyncsim's own `join!`.
pub async fn with_asyncsim_join() {
    let channel = channel();
    asyncsim::join!(producer(channel.clone()), consumer(channel));
}
