//! `tokio::sync::watch` under `simulation`: a channel that keeps one value,
//! the last one sent, for any number of senders and receivers.
//!
//! It is the face's own, with tokio 1.54's API and semantics: each
//! [`Receiver`] remembers which version of the value it has *seen*
//! ([`borrow_and_update`](Receiver::borrow_and_update),
//! [`changed`](Receiver::changed) and [`wait_for`](Receiver::wait_for) mark
//! it seen; [`borrow`](Receiver::borrow) does not); a new receiver has seen
//! the value it starts with; `changed` fails once every [`Sender`] is gone
//! and the receiver has seen the last value. What differs is only the order
//! of wakes: a send wakes the receivers waiting in `changed` or `wait_for`
//! in the order they began waiting (tokio's order is drawn by its OS-seeded
//! generator), so a seed makes the same run every time. A task left waiting
//! when a run deadlocks is named by the report as
//! `tokio::sync::watch::Receiver::changed` at the line that waits, as
//! tokio's own primitives are (by where the wait registered the task's
//! waker: `#[tokio::test]` replays the failure to find it; one
//! `Runtime::block_on` needs `Config::waker_sites`).
//!
//! The value sits behind a read-write lock, as tokio's does: a [`Ref`] held
//! across an `.await` keeps a sender from storing (in a run, whose tasks
//! share one thread, that hangs the run), so keep borrows short.
//!
//! ```
//! use asyncsim_tokio as tokio;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let last = runtime.block_on(async {
//!     let (sender, mut receiver) = tokio::sync::watch::channel("starting");
//!     let watcher = tokio::spawn(async move {
//!         let mut states = vec![*receiver.borrow_and_update()];
//!         while receiver.changed().await.is_ok() {
//!             states.push(*receiver.borrow_and_update());
//!         }
//!         states // the sender is gone and the last state seen
//!     });
//!     tokio::time::sleep(std::time::Duration::from_millis(5)).await;
//!     sender.send("serving").unwrap();
//!     drop(sender);
//!     watcher.await.unwrap()
//! });
//! assert_eq!(last, ["starting", "serving"]);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::ops;
use std::pin::Pin;
use std::sync::{
    Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError,
};
use std::task::{Context, Poll, Waker};

/// The errors of [`Sender::send`] and [`Receiver::changed`].
pub mod error {
    use std::error::Error;
    use std::fmt;

    /// [`Sender::send`](super::Sender::send) found no receiver: the value
    /// comes back, unsent.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> Error for SendError<T> {}

    /// Every sender is gone (and, for [`changed`](super::Receiver::changed),
    /// the receiver has seen the last value).
    #[derive(Debug, Clone)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl Error for RecvError {}
}

use error::{RecvError, SendError};

/// What the ends share: the value, and under a mutex of its own the
/// version, the counts and who waits. A lock of both takes the value's
/// first.
struct Shared<T> {
    value: RwLock<T>,
    state: Mutex<State>,
    _as_tokio_s: NotUnwindSafe,
}

/// tokio's ends and its `Ref` are neither `UnwindSafe` nor `RefUnwindSafe`
/// (what `Send + Sync + Unpin` and nothing else marks), so neither are the
/// face's: code that compiles against one compiles against the other.
type NotUnwindSafe = PhantomData<dyn Send + Sync + Unpin>;

struct State {
    /// Bumped by every store, under the value's write lock, so a reader
    /// holding the value's read lock reads the version of what it holds.
    version: usize,
    /// Every sender is gone (never undone: a sender cannot be made again).
    closed: bool,
    receivers: usize,
    senders: usize,
    /// Receivers waiting for a change, oldest first.
    changes: Waiters,
    /// Senders waiting in `closed()` for the last receiver to go.
    drops: Waiters,
}

/// Wakers in the order their futures began waiting; a future polled again
/// while it waits keeps its place.
#[derive(Default)]
struct Waiters {
    queue: VecDeque<(u64, Waker)>,
    next_ticket: u64,
}

impl Waiters {
    /// Queues `waker` at the back, or refreshes it where `ticket` already
    /// waits.
    fn park(&mut self, ticket: &mut Option<u64>, waker: &Waker) {
        if let Some(waiting) = *ticket {
            if let Some((_, queued)) = self.queue.iter_mut().find(|(t, _)| *t == waiting) {
                if !queued.will_wake(waker) {
                    *queued = waker.clone();
                }
                return;
            }
        }
        let fresh = self.next_ticket;
        self.next_ticket += 1;
        self.queue.push_back((fresh, waker.clone()));
        *ticket = Some(fresh);
    }

    /// Takes `ticket` out of the queue, if it is still there.
    fn leave(&mut self, ticket: &mut Option<u64>) {
        if let Some(waiting) = ticket.take() {
            if let Some(position) = self.queue.iter().position(|(t, _)| *t == waiting) {
                self.queue.remove(position);
            }
        }
    }

    /// Every waiter, oldest first, to be woken outside the lock.
    fn take_all(&mut self) -> VecDeque<(u64, Waker)> {
        mem::take(&mut self.queue)
    }
}

fn wake_in_order(waiters: VecDeque<(u64, Waker)>) {
    for (_, waker) in waiters {
        waker.wake();
    }
}

// A panic while a lock is held (a `send_modify` closure, a `wait_for`
// predicate) leaves consistent state behind: ignore the poison, as tokio's
// locks do.
impl<T> Shared<T> {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes a channel holding `init`, with one sender and one receiver; the
/// receiver has seen `init`.
///
/// ```
/// let (sender, receiver) = asyncsim_tokio::sync::watch::channel(1);
/// sender.send(2).unwrap();
/// assert_eq!(*receiver.borrow(), 2);
/// assert!(receiver.has_changed().unwrap());
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: Mutex::new(State {
            version: 0,
            closed: false,
            receivers: 1,
            senders: 1,
            changes: Waiters::default(),
            drops: Waiters::default(),
        }),
        _as_tokio_s: PhantomData,
    });
    let sender = Sender {
        shared: shared.clone(),
    };
    (sender, Receiver { shared, seen: 0 })
}

/// The receiving end: reads the value and waits for it to change. Clones
/// share the channel and each keeps its own idea of what it has seen (a
/// clone starts with its original's).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    seen: usize,
}

/// The sending end: stores values, and knows when no receiver is left.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A borrow of the channel's value, holding its read lock: while it lives
/// no sender can store. Keep it short, and never across an `.await`.
pub struct Ref<'a, T> {
    value: RwLockReadGuard<'a, T>,
    has_changed: bool,
    _as_tokio_s: NotUnwindSafe,
}

impl<'a, T> Ref<'a, T> {
    fn new(value: RwLockReadGuard<'a, T>, has_changed: bool) -> Self {
        Ref {
            value,
            has_changed,
            _as_tokio_s: PhantomData,
        }
    }

    /// Whether the borrowed value was unseen by the receiver that borrowed
    /// it, when it borrowed (false for a sender's borrow). Unlike
    /// [`Receiver::has_changed`] it answers after the senders are gone too.
    ///
    /// ```
    /// let (sender, mut receiver) = asyncsim_tokio::sync::watch::channel(0);
    /// sender.send(5).unwrap();
    /// drop(sender);
    /// assert!(receiver.borrow().has_changed());
    /// assert!(receiver.borrow_and_update().has_changed()); // now seen
    /// assert!(!receiver.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> ops::Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ref")
            .field("value", &*self.value)
            .field("has_changed", &self.has_changed)
            .finish()
    }
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen (a later `changed` still
    /// returns at once if it was unseen). See [`Ref`] on holding it.
    pub fn borrow(&self) -> Ref<'_, T> {
        let value = self.shared.read();
        let version = self.shared.state().version;
        Ref::new(value, version != self.seen)
    }

    /// The current value, marked seen. See [`Ref`] on holding it.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let value = self.shared.read();
        let version = self.shared.state().version;
        let has_changed = version != self.seen;
        self.seen = version;
        Ref::new(value, has_changed)
    }

    /// Whether a value this receiver has not seen is stored; an error once
    /// every sender is gone, seen or not. Marks nothing.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state();
        if state.closed {
            return Err(RecvError(()));
        }
        Ok(state.version != self.seen)
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.state().closed
    }

    /// Marks the current value unseen: the next `changed` returns at once.
    pub fn mark_changed(&mut self) {
        self.seen = self.seen.wrapping_sub(1);
    }

    /// Marks the current value seen, without borrowing it.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.state().version;
    }

    /// Waits until a value this receiver has not seen is stored, and marks
    /// it seen (read it with [`borrow_and_update`](Receiver::borrow_and_update)).
    /// Returns at once when one already is. Fails once every sender is gone
    /// and the last value is seen. Dropping the future gives up the wait and
    /// loses nothing.
    ///
    /// Receivers that wait at once are woken by a send in the order they
    /// began waiting.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed {
            shared: &self.shared,
            seen: &mut self.seen,
            ticket: None,
        }
        .await
    }

    /// Waits until the value satisfies `f`, and returns it marked seen.
    /// The current value is tried first, even when seen; then each new one
    /// (values stored and replaced while this task did not run are never
    /// shown to `f`). Fails once every sender is gone and the last value,
    /// seen by then, did not satisfy `f`.
    ///
    /// The returned [`Ref`] holds the value's read lock: see [`Ref`].
    ///
    /// ```
    /// use asyncsim_tokio as tokio;
    ///
    /// let runtime = tokio::runtime::Runtime::new().unwrap();
    /// runtime.block_on(async {
    ///     let (sender, mut receiver) = tokio::sync::watch::channel(0u32);
    ///     tokio::spawn(async move {
    ///         for count in 1..=10 {
    ///             sender.send(count).unwrap();
    ///             tokio::task::yield_now().await;
    ///         }
    ///     });
    ///     let at_least = *receiver.wait_for(|count| *count >= 5).await.unwrap();
    ///     assert!(at_least >= 5);
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let value = self.shared.read();
                let version = self.shared.state().version;
                let has_changed = version != self.seen;
                self.seen = version;
                // Once closed, a value already tried is not tried again.
                if (!closed || has_changed) && f(&value) {
                    return Ok(Ref::new(value, has_changed));
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = Changed {
                shared: &self.shared,
                seen: &mut self.seen,
                ticket: None,
            }
            .await
            .is_err();
        }
    }

    /// Whether both receivers belong to one channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// The future of one wait for a change: ready when the version differs
/// from what the receiver has seen (marking it seen), an error when the
/// channel closed with nothing unseen.
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut usize,
    ticket: Option<u64>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        // A change seen spends a unit of the task's budget (tokio's
        // `changed` is `cooperative`).
        let this = self.get_mut();
        crate::coop::poll_cooperative(context, |context| {
            let mut state = this.shared.state();
            if state.version != *this.seen {
                *this.seen = state.version;
                state.changes.leave(&mut this.ticket);
                return Poll::Ready(Ok(()));
            }
            if state.closed {
                state.changes.leave(&mut this.ticket);
                return Poll::Ready(Err(RecvError(())));
            }
            state.changes.park(&mut this.ticket, context.waker());
            Poll::Pending
        })
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.shared.state().changes.leave(&mut self.ticket);
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.shared.state();
            state.receivers -= 1;
            if state.receivers > 0 {
                return;
            }
            state.drops.take_all()
        };
        wake_in_order(waiting);
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("shared", &*self.shared)
            .field("seen", &self.seen)
            .finish()
    }
}

impl<T> Sender<T> {
    /// A channel holding `init` with this sender and no receiver yet (make
    /// them with [`subscribe`](Sender::subscribe)).
    pub fn new(init: T) -> Self {
        channel(init).0
    }

    /// Stores `value` and wakes every waiting receiver, oldest wait first;
    /// when no receiver is left, stores nothing and hands `value` back.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Changes the value in place with `modify`, and tells the receivers,
    /// whether or not any is left.
    pub fn send_modify<F>(&self, modify: F)
    where
        F: FnOnce(&mut T),
    {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Changes the value in place with `modify`; when it returns true the
    /// change is a new version and the waiting receivers are woken; when
    /// false nobody is told (so it must have left the value as it was, or
    /// the receivers will not know). Returns what `modify` returned. A panic
    /// in `modify` reaches the caller, and nobody is told.
    pub fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        let mut value = self.shared.write();
        if !modify(&mut value) {
            return false;
        }
        let waiting = {
            let mut state = self.shared.state();
            state.version = state.version.wrapping_add(1);
            state.changes.take_all()
        };
        drop(value);
        wake_in_order(waiting);
        true
    }

    /// Stores `value`, tells the receivers (whether or not any is left),
    /// and returns the value it replaced.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| mem::swap(old, &mut value));
        value
    }

    /// The current value (a sender's [`Ref`] never counts as changed). See
    /// [`Ref`] on holding it.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref::new(self.shared.read(), false)
    }

    /// Whether no receiver is left.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until no receiver is left (at once if none is). A receiver
    /// made by [`subscribe`](Sender::subscribe) in the meantime keeps it
    /// waiting.
    pub async fn closed(&self) {
        Closed {
            shared: &self.shared,
            ticket: None,
        }
        .await
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        let seen = {
            let mut state = self.shared.state();
            state.receivers += 1;
            state.version
        };
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.shared.state().receivers
    }

    /// How many senders there are.
    pub fn sender_count(&self) -> usize {
        self.shared.state().senders
    }

    /// Whether both senders belong to one channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// The future of [`Sender::closed`].
struct Closed<'a, T> {
    shared: &'a Shared<T>,
    ticket: Option<u64>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.shared.state();
        if state.receivers == 0 {
            state.drops.leave(&mut this.ticket);
            return Poll::Ready(());
        }
        state.drops.park(&mut this.ticket, context.waker());
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.shared.state().drops.leave(&mut self.ticket);
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Sender::new(T::default())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.shared.state();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            state.closed = true;
            state.changes.take_all()
        };
        wake_in_order(waiting);
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("shared", &*self.shared)
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (version, closed, receivers) = {
            let state = self.state();
            (state.version, state.closed, state.receivers)
        };
        let mut out = f.debug_struct("Shared");
        match self.value.try_read() {
            Ok(value) => out.field("value", &*value),
            Err(TryLockError::Poisoned(poisoned)) => out.field("value", &*poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => out.field("value", &format_args!("<locked>")),
        };
        out.field("version", &version)
            .field("is_closed", &closed)
            .field("receivers", &receivers)
            .finish()
    }
}
