//! `Queue`: a bounded FIFO queue between tasks (asyncio's `Queue`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Binding, Waiters};
use crate::trace::ResourceKind;

/// A FIFO queue of items between tasks, bounded or not (asyncio's `Queue`).
///
/// [`put`](Queue::put) waits while the queue is full, [`get`](Queue::get)
/// while it is empty. Items come out in the order they went in. Like
/// asyncio's, the queue is not strictly fair to waiters: a woken getter (or
/// putter) re-checks when it resumes, and if a newcomer took the item (or
/// the slot) first it waits again at the back of the line.
///
/// ```
/// use asyncsim_sim::sync::Queue;
/// use asyncsim_sim::{Config, Sim};
/// use std::rc::Rc;
///
/// let run = Sim::new(Config::new().seed(2)).run(async {
///     let queue = Rc::new(Queue::new(2));
///     let producer = {
///         let queue = queue.clone();
///         asyncsim_sim::spawn(async move {
///             for item in 0..5 {
///                 queue.put(item).await; // waits while two items are queued
///             }
///         })
///     };
///     let mut received = Vec::new();
///     for _ in 0..5 {
///         received.push(queue.get().await);
///     }
///     producer.await.unwrap();
///     received
/// });
/// assert_eq!(run.result.unwrap(), [0, 1, 2, 3, 4]);
/// ```
pub struct Queue<T> {
    state: RefCell<QueueState<T>>,
    binding: Binding,
}

struct QueueState<T> {
    items: VecDeque<T>,
    /// Most items held at once (`usize::MAX`: unbounded).
    capacity: usize,
    getters: Waiters,
    putters: Waiters,
}

impl<T> QueueState<T> {
    fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }
}

/// Wakes the oldest waiter of a list (asyncio's `_wakeup_next`).
fn wake_next(waiters: &mut Waiters) -> Option<std::task::Waker> {
    waiters.pop_front().map(|waiter| waiter.waker)
}

impl<T> Queue<T> {
    /// A queue holding at most `capacity` items.
    ///
    /// ```
    /// let queue = asyncsim_sim::sync::Queue::<u8>::new(4);
    /// assert_eq!(queue.capacity(), Some(4));
    /// ```
    ///
    /// # Panics
    ///
    /// When `capacity` is 0 (use [`Queue::unbounded`] for no bound).
    pub fn new(capacity: usize) -> Queue<T> {
        assert!(
            capacity > 0,
            "asyncsim::sync::Queue::new(0): a queue needs room for at least one item; use Queue::unbounded() for a queue without a bound"
        );
        Queue::with_capacity(capacity)
    }

    /// A queue without a bound: `put` never waits.
    ///
    /// ```
    /// let queue = asyncsim_sim::sync::Queue::unbounded();
    /// for item in 0..1000 {
    ///     queue.try_put(item).unwrap();
    /// }
    /// assert_eq!(queue.capacity(), None);
    /// ```
    pub fn unbounded() -> Queue<T> {
        Queue::with_capacity(usize::MAX)
    }

    fn with_capacity(capacity: usize) -> Queue<T> {
        Queue {
            state: RefCell::new(QueueState {
                items: VecDeque::new(),
                capacity,
                getters: Waiters::default(),
                putters: Waiters::default(),
            }),
            binding: Binding::new(ResourceKind::Queue),
        }
    }

    /// Waits for room, then appends `item`.
    ///
    /// ```
    /// use asyncsim_sim::sync::Queue;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let queue = Queue::new(1);
    ///     queue.put('a').await;
    ///     queue.get().await
    /// });
    /// assert_eq!(run.result.unwrap(), 'a');
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the queue does not belong to.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put {
            queue: self,
            item: Some(item),
            ticket: None,
        }
    }

    /// Waits for an item, then removes and returns the oldest.
    ///
    /// ```
    /// use asyncsim_sim::sync::Queue;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let queue = std::rc::Rc::new(Queue::new(1));
    ///     let sender = queue.clone();
    ///     asyncsim_sim::spawn(async move { sender.put(7).await });
    ///     queue.get().await // waits for the spawned task
    /// });
    /// assert_eq!(run.result.unwrap(), 7);
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the queue does not belong to.
    pub fn get(&self) -> Get<'_, T> {
        Get {
            queue: self,
            ticket: None,
        }
    }

    /// Appends `item` if there is room; gives it back if the queue is full.
    ///
    /// ```
    /// let queue = asyncsim_sim::sync::Queue::new(1);
    /// assert_eq!(queue.try_put(1), Ok(()));
    /// assert_eq!(queue.try_put(2), Err(2));
    /// ```
    pub fn try_put(&self, item: T) -> Result<(), T> {
        self.binding.id();
        let waker = {
            let mut state = self.state.borrow_mut();
            if state.is_full() {
                return Err(item);
            }
            state.items.push_back(item);
            wake_next(&mut state.getters)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Removes and returns the oldest item, if any.
    ///
    /// ```
    /// let queue = asyncsim_sim::sync::Queue::new(2);
    /// queue.try_put("a").unwrap();
    /// assert_eq!(queue.try_get(), Some("a"));
    /// assert_eq!(queue.try_get(), None);
    /// ```
    pub fn try_get(&self) -> Option<T> {
        self.binding.id();
        let (item, waker) = {
            let mut state = self.state.borrow_mut();
            let item = state.items.pop_front()?;
            (item, wake_next(&mut state.putters))
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Some(item)
    }

    /// Items queued now.
    ///
    /// ```
    /// let queue = asyncsim_sim::sync::Queue::new(3);
    /// queue.try_put(()).unwrap();
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.state.borrow().items.len()
    }

    /// True when no item is queued.
    ///
    /// ```
    /// assert!(asyncsim_sim::sync::Queue::<()>::new(1).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.state.borrow().items.is_empty()
    }

    /// True when `put` would wait.
    ///
    /// ```
    /// let queue = asyncsim_sim::sync::Queue::new(1);
    /// queue.try_put(()).unwrap();
    /// assert!(queue.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.state.borrow().is_full()
    }

    /// The bound, or `None` for an unbounded queue.
    ///
    /// ```
    /// assert_eq!(asyncsim_sim::sync::Queue::<()>::new(2).capacity(), Some(2));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        let capacity = self.state.borrow().capacity;
        (capacity != usize::MAX).then_some(capacity)
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Queue")
            .field("len", &state.items.len())
            .field("capacity", &self.capacity())
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .finish()
    }
}

/// The future of [`Queue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
    item: Option<T>,
    /// Our place among the putters, once we had to wait.
    ticket: Option<u64>,
}

impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let queue = self.queue;
        queue.binding.id();
        let mut state = queue.state.borrow_mut();
        if let Some(ticket) = self.ticket {
            if state.putters.update(ticket, context.waker()) {
                // Still queued: not our turn yet.
                drop(state);
                queue.binding.waiting();
                return Poll::Pending;
            }
            self.ticket = None;
        }
        if state.is_full() {
            // First call, or woken but a newcomer took the slot: back of the line.
            self.ticket = Some(state.putters.push(context.waker()));
            drop(state);
            queue.binding.waiting();
            return Poll::Pending;
        }
        let item = self.item.take().expect("Put polled after it completed");
        state.items.push_back(item);
        let waker = wake_next(&mut state.getters);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(())
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut state = self.queue.state.borrow_mut();
        if !state.putters.remove(ticket) && !state.is_full() {
            // Woken for a free slot but gone: wake the next putter instead.
            let waker = wake_next(&mut state.putters);
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}

/// The future of [`Queue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T> {
    queue: &'a Queue<T>,
    /// Our place among the getters, once we had to wait.
    ticket: Option<u64>,
}

impl<T> Future for Get<'_, T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<T> {
        let queue = self.queue;
        queue.binding.id();
        let mut state = queue.state.borrow_mut();
        if let Some(ticket) = self.ticket {
            if state.getters.update(ticket, context.waker()) {
                drop(state);
                queue.binding.waiting();
                return Poll::Pending;
            }
            self.ticket = None;
        }
        let Some(item) = state.items.pop_front() else {
            self.ticket = Some(state.getters.push(context.waker()));
            drop(state);
            queue.binding.waiting();
            return Poll::Pending;
        };
        let waker = wake_next(&mut state.putters);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(item)
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut state = self.queue.state.borrow_mut();
        if !state.getters.remove(ticket) && !state.items.is_empty() {
            // Woken for an item but gone: wake the next getter instead.
            let waker = wake_next(&mut state.getters);
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}
