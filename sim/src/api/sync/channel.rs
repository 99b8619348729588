//! A multi-producer, single-consumer channel: [`channel`] (bounded) and
//! [`unbounded_channel`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{wake_all, Binding, Waiters};
use crate::trace::ResourceKind;

/// What the senders and the receiver share.
struct Chan<T> {
    state: RefCell<State<T>>,
    binding: Binding,
}

struct State<T> {
    items: VecDeque<T>,
    /// Most items buffered at once (`usize::MAX`: unbounded).
    capacity: usize,
    /// Slots promised to senders that were woken from `blocked` but have not
    /// pushed their value yet: `items.len() + reserved <= capacity`.
    reserved: usize,
    /// Live [`Sender`]s.
    senders: usize,
    receiver_alive: bool,
    /// The receiver's waker while it waits.
    receiver: Option<Waker>,
    /// Senders waiting for room, oldest first.
    blocked: Waiters,
}

impl<T> State<T> {
    /// True when a new send must wait: no free slot, or older senders wait.
    fn must_wait(&self) -> bool {
        self.items.len() + self.reserved >= self.capacity || !self.blocked.is_empty()
    }

    /// Takes the oldest item and, if a sender waits for room, promises the
    /// freed slot to the oldest one; returns the sender's waker to wake.
    fn take(&mut self) -> Option<(T, Option<Waker>)> {
        let item = self.items.pop_front()?;
        Some((item, self.grant()))
    }

    /// Promises a free slot (if any) to the oldest blocked sender.
    fn grant(&mut self) -> Option<Waker> {
        if self.items.len() + self.reserved >= self.capacity {
            return None;
        }
        let waiter = self.blocked.pop_front()?;
        self.reserved += 1;
        Some(waiter.waker)
    }

    /// Buffers a value; returns the receiver's waker to wake.
    fn push(&mut self, value: T) -> Option<Waker> {
        self.items.push_back(value);
        self.receiver.take()
    }
}

/// A bounded multi-producer, single-consumer channel holding at most
/// `capacity` messages.
///
/// [`Sender::send`] waits while the buffer is full; blocked senders get room
/// strictly in the order they started waiting, and a new sender never
/// overtakes a blocked one. [`Receiver::recv`] returns `None` once every
/// sender is dropped and the buffer is empty; sends fail once the receiver
/// is dropped. A task blocked on either end shows up in traces and deadlock
/// reports as waiting on the channel (a `Queue#n` resource).
///
/// ```
/// use asyncsim_sim::sync::channel;
/// use asyncsim_sim::{Config, Sim};
///
/// let run = Sim::new(Config::new().seed(3)).run(async {
///     let (sender, mut receiver) = channel(2);
///     for producer in 0..2u32 {
///         let sender = sender.clone();
///         asyncsim_sim::spawn(async move {
///             for item in 0..3u32 {
///                 sender.send((producer, item)).await.unwrap(); // waits while 2 are buffered
///             }
///         });
///     }
///     drop(sender); // recv returns None once both producers are done
///     let mut received = Vec::new();
///     while let Some(message) = receiver.recv().await {
///         received.push(message);
///     }
///     received.len()
/// });
/// assert_eq!(run.result.unwrap(), 6);
/// ```
///
/// # Panics
///
/// When `capacity` is 0 (use [`unbounded_channel`] for no bound).
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "asyncsim::sync::channel(0): a channel needs room for at least one message; use \
         asyncsim::sync::unbounded_channel() for a channel without a bound"
    );
    with_capacity(capacity)
}

/// A channel without a bound: sends never wait.
///
/// ```
/// use asyncsim_sim::sync::unbounded_channel;
/// let (sender, mut receiver) = unbounded_channel();
/// for message in 0..1000 {
///     sender.try_send(message).unwrap();
/// }
/// assert_eq!(sender.capacity(), None);
/// assert_eq!(receiver.try_recv(), Ok(0));
/// ```
pub fn unbounded_channel<T>() -> (Sender<T>, Receiver<T>) {
    with_capacity(usize::MAX)
}

fn with_capacity<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Rc::new(Chan {
        state: RefCell::new(State {
            items: VecDeque::new(),
            capacity,
            reserved: 0,
            senders: 1,
            receiver_alive: true,
            receiver: None,
            blocked: Waiters::default(),
        }),
        binding: Binding::new(ResourceKind::Channel),
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The sending half of a [`channel`]; clone it for more producers.
///
/// When the last sender is dropped, the receiver drains what is buffered
/// and then gets `None`.
///
/// ```
/// let (sender, receiver) = asyncsim_sim::sync::channel::<u8>(1);
/// let second = sender.clone();
/// drop(receiver);
/// assert!(second.is_closed());
/// ```
pub struct Sender<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Waits for room, then sends `value`; gives it back in a [`SendError`]
    /// if the receiver is gone (or goes while this waits).
    ///
    /// Dropping the future before it completes sends nothing.
    ///
    /// ```
    /// use asyncsim_sim::sync::{channel, SendError};
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let (sender, receiver) = channel(1);
    ///     sender.send(1).await.unwrap();
    ///     drop(receiver);
    ///     sender.send(2).await
    /// });
    /// assert_eq!(run.result.unwrap(), Err(SendError(2)));
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the channel does not belong to.
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            sender: self,
            value: Some(value),
            ticket: None,
        }
    }

    /// Sends `value` if there is room now and no other sender is waiting
    /// for room; otherwise gives it back.
    ///
    /// ```
    /// use asyncsim_sim::sync::{channel, TrySendError};
    /// let (sender, receiver) = channel(1);
    /// assert_eq!(sender.try_send('a'), Ok(()));
    /// assert_eq!(sender.try_send('b'), Err(TrySendError::Full('b')));
    /// drop(receiver);
    /// assert_eq!(sender.try_send('c'), Err(TrySendError::Closed('c')));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.binding.id();
        let waker = {
            let mut state = self.chan.state.borrow_mut();
            if !state.receiver_alive {
                return Err(TrySendError::Closed(value));
            }
            if state.must_wait() {
                return Err(TrySendError::Full(value));
            }
            state.push(value)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True when the receiver was dropped: every send fails.
    ///
    /// ```
    /// let (sender, _receiver) = asyncsim_sim::sync::channel::<()>(1);
    /// assert!(!sender.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        !self.chan.state.borrow().receiver_alive
    }

    /// The bound, or `None` for an [`unbounded_channel`].
    ///
    /// ```
    /// let (sender, _receiver) = asyncsim_sim::sync::channel::<()>(3);
    /// assert_eq!(sender.capacity(), Some(3));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        let capacity = self.chan.state.borrow().capacity;
        (capacity != usize::MAX).then_some(capacity)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.state.borrow_mut().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.chan.state.borrow_mut();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.receiver.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.chan.state.borrow();
        f.debug_struct("Sender")
            .field("closed", &!state.receiver_alive)
            .field("len", &state.items.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// The future of [`Sender::send`]: pending while the channel is full.
///
/// ```
/// use asyncsim_sim::{sync::channel, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new()).run(async {
///     let (sender, mut receiver) = channel(1);
///     sender.send(1).await.unwrap();
///     // Full: the second send waits, and the timeout drops it unsent.
///     let gave_up = time::timeout(Duration::from_secs(1), sender.send(2)).await.is_err();
///     (gave_up, receiver.try_recv(), receiver.try_recv().is_err())
/// });
/// assert_eq!(run.result.unwrap(), (true, Ok(1), true));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    sender: &'a Sender<T>,
    value: Option<T>,
    /// Our place among the blocked senders, once we had to wait.
    ticket: Option<u64>,
}

impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let chan = &*self.sender.chan;
        chan.binding.id();
        let mut state = chan.state.borrow_mut();
        if !state.receiver_alive {
            // The receiver's drop emptied the blocked list, so no ticket or
            // promised slot is left to give back.
            drop(state);
            self.ticket = None;
            let value = self
                .value
                .take()
                .expect("SendFuture polled after it completed");
            return Poll::Ready(Err(SendError(value)));
        }
        if let Some(ticket) = self.ticket {
            if state.blocked.update(ticket, context.waker()) {
                // Still waiting for room.
                drop(state);
                chan.binding.waiting();
                return Poll::Pending;
            }
            // Popped from the list: a slot was promised to us.
            self.ticket = None;
            state.reserved -= 1;
        } else if state.must_wait() {
            self.ticket = Some(state.blocked.push(context.waker()));
            drop(state);
            chan.binding.waiting();
            return Poll::Pending;
        }
        let value = self
            .value
            .take()
            .expect("SendFuture polled after it completed");
        let waker = state.push(value);
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut state = self.sender.chan.state.borrow_mut();
        if state.blocked.remove(ticket) || !state.receiver_alive {
            return;
        }
        // A slot was promised to us but we are gone: pass it on.
        state.reserved -= 1;
        let waker = state.grant();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}

/// The receiving half of a [`channel`]. Dropping it closes the channel:
/// blocked senders wake with a [`SendError`], and buffered messages are
/// dropped.
///
/// ```
/// use asyncsim_sim::sync::channel;
/// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
///     let (sender, mut receiver) = channel(4);
///     sender.send("hello").await.unwrap();
///     drop(sender);
///     (receiver.recv().await, receiver.recv().await)
/// });
/// assert_eq!(run.result.unwrap(), (Some("hello"), None));
/// ```
pub struct Receiver<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Waits for the oldest message; `None` once every sender is dropped
    /// and the buffer is empty.
    ///
    /// ```
    /// use asyncsim_sim::sync::channel;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let (sender, mut receiver) = channel(1);
    ///     asyncsim_sim::spawn(async move { sender.send(7).await.unwrap() });
    ///     receiver.recv().await // waits for the spawned task
    /// });
    /// assert_eq!(run.result.unwrap(), Some(7));
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the channel does not belong to.
    pub fn recv(&mut self) -> RecvFuture<'_, T> {
        RecvFuture { receiver: self }
    }

    /// The oldest message if one is buffered; otherwise
    /// `Err(TryRecvError::Empty)`, or `Err(TryRecvError::Disconnected)` when
    /// every sender is gone.
    ///
    /// ```
    /// use asyncsim_sim::sync::{channel, TryRecvError};
    /// let (sender, mut receiver) = channel(2);
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    /// sender.try_send(5).unwrap();
    /// drop(sender);
    /// assert_eq!(receiver.try_recv(), Ok(5));
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.binding.id();
        let taken = {
            let mut state = self.chan.state.borrow_mut();
            match state.take() {
                Some(taken) => taken,
                None if state.senders == 0 => return Err(TryRecvError::Disconnected),
                None => return Err(TryRecvError::Empty),
            }
        };
        let (item, waker) = taken;
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(item)
    }

    /// Messages buffered now.
    ///
    /// ```
    /// let (sender, receiver) = asyncsim_sim::sync::channel(3);
    /// sender.try_send(()).unwrap();
    /// assert_eq!(receiver.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.state.borrow().items.len()
    }

    /// True when no message is buffered.
    ///
    /// ```
    /// let (_sender, receiver) = asyncsim_sim::sync::channel::<()>(1);
    /// assert!(receiver.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chan.state.borrow().items.is_empty()
    }

    /// True when every sender was dropped (messages may still be buffered).
    ///
    /// ```
    /// let (sender, receiver) = asyncsim_sim::sync::channel::<()>(1);
    /// drop(sender);
    /// assert!(receiver.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.state.borrow().senders == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (items, wakers) = {
            let mut state = self.chan.state.borrow_mut();
            state.receiver_alive = false;
            state.receiver = None;
            state.reserved = 0;
            let wakers: Vec<Waker> = state
                .blocked
                .drain()
                .into_iter()
                .map(|waiter| waiter.waker)
                .collect();
            (std::mem::take(&mut state.items), wakers)
        };
        // Outside the borrow: a message's destructor may touch the channel.
        drop(items);
        wake_all(wakers);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.chan.state.borrow();
        f.debug_struct("Receiver")
            .field("len", &state.items.len())
            .field("senders", &state.senders)
            .finish()
    }
}

/// The future of [`Receiver::recv`]: pending while the channel is empty
/// and some sender is alive.
///
/// ```
/// use asyncsim_sim::{sync::channel, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new()).run(async {
///     let (_sender, mut receiver) = channel::<u8>(1);
///     time::timeout(Duration::from_secs(1), receiver.recv()).await.is_err()
/// });
/// assert!(run.result.unwrap());
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'a, T> {
    receiver: &'a mut Receiver<T>,
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<T>> {
        self.receiver.poll_recv(context)
    }
}

/// A receiver is also a [`Stream`](futures_core::Stream) of the messages,
/// ending once every sender is dropped and the buffer is empty.
///
/// ```
/// use asyncsim_sim::sync::channel;
/// use asyncsim_sim::{Config, Sim};
/// use futures::StreamExt;
///
/// let run = Sim::new(Config::new().seed(1)).run(async {
///     let (sender, receiver) = channel(2);
///     asyncsim_sim::spawn(async move {
///         for message in 1..=4u32 {
///             sender.send(message).await.unwrap();
///         }
///     });
///     receiver.map(|message| message * message).collect::<Vec<_>>().await
/// });
/// assert_eq!(run.result.unwrap(), [1, 4, 9, 16]);
/// ```
impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<T>> {
        self.poll_recv(context)
    }
}

impl<T> Receiver<T> {
    fn poll_recv(&self, context: &mut Context<'_>) -> Poll<Option<T>> {
        let chan = &*self.chan;
        chan.binding.id();
        let mut state = chan.state.borrow_mut();
        if let Some((item, waker)) = state.take() {
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            return Poll::Ready(Some(item));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        match &state.receiver {
            Some(waker) if waker.will_wake(context.waker()) => {}
            _ => state.receiver = Some(context.waker().clone()),
        }
        drop(state);
        chan.binding.waiting();
        Poll::Pending
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.receiver.chan.state.try_borrow_mut() {
            state.receiver = None;
        }
    }
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}

/// The receiver is gone; the unsent value is inside.
///
/// ```
/// let error = asyncsim_sim::sync::SendError(5);
/// assert_eq!(error.0, 5);
/// assert_eq!(error.to_string(), "the channel's receiver was dropped");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the channel's receiver was dropped")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`] gave the value back.
///
/// ```
/// use asyncsim_sim::sync::TrySendError;
/// assert_eq!(TrySendError::Full(1).into_inner(), 1);
/// assert_eq!(TrySendError::Closed(2).to_string(), "the channel's receiver was dropped");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No room now (or other senders are waiting for room).
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// assert_eq!(asyncsim_sim::sync::TrySendError::Closed('x').into_inner(), 'x');
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(value) | TrySendError::Closed(value) => value,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the channel is full"),
            TrySendError::Closed(_) => f.write_str("the channel's receiver was dropped"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`] has no message.
///
/// ```
/// use asyncsim_sim::sync::{channel, TryRecvError};
/// let (sender, mut receiver) = channel::<()>(1);
/// drop(sender);
/// assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered now; senders are still alive.
    Empty,
    /// Nothing buffered and every sender is gone.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Disconnected => {
                f.write_str("the channel is empty and every sender was dropped")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}
