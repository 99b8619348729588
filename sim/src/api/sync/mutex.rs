//! `Mutex`: asyncio's `Lock` with a value inside, handed off FIFO.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{Binding, Got, Handoff};
use crate::cx::{self, HolderCell};
use crate::trace::{ResourceKind, TaskId};

/// An async mutual-exclusion lock around a value (asyncio's `Lock`).
///
/// Unlocking hands the lock straight to the oldest waiter (strict FIFO, as
/// asyncio's `Lock` does): a task that arrives later never overtakes one
/// that is already waiting. Locking a free mutex nobody waits for returns
/// at once, without yielding.
///
/// Share it between tasks with an `Rc`; the guard derefs to the value.
///
/// ```
/// use asyncsim_sim::sync::Mutex;
/// use asyncsim_sim::{Config, Sim};
/// use std::rc::Rc;
///
/// let run = Sim::new(Config::new().seed(3)).run(async {
///     let counter = Rc::new(Mutex::new(0));
///     let workers: Vec<_> = (0..4)
///         .map(|_| {
///             let counter = counter.clone();
///             asyncsim_sim::spawn(async move {
///                 let mut value = counter.lock().await;
///                 let seen = *value;
///                 asyncsim_sim::yield_now().await; // still holding the lock
///                 *value = seen + 1;
///             })
///         })
///         .collect();
///     for worker in workers {
///         worker.await.unwrap();
///     }
///     let total = *counter.lock().await;
///     total
/// });
/// assert_eq!(run.result.unwrap(), 4);
/// ```
pub struct Mutex<T> {
    /// Lock state and waiters; never borrowed across a user callback.
    state: RefCell<MutexState>,
    /// The protected value; borrowed mutably only by the one guard, or
    /// moved out into an owned guard (`None` while it holds it).
    value: RefCell<Option<T>>,
    /// The run this mutex belongs to and its id there.
    binding: Binding,
}

#[derive(Debug, Default)]
struct MutexState {
    /// Held by a guard, or handed to a waiter that has not resumed yet.
    locked: bool,
    /// Tasks waiting for the lock, oldest first, and the one it was handed
    /// to until it resumes.
    handoff: Handoff,
    /// The task reports name as the holder: the one that took the lock, or
    /// the waiter it was handed to (from the hand-off on); `None` when free.
    holder: Option<TaskId>,
    /// `holder`, shared with the run the first time a task waits here.
    ///
    /// Only a task waiting on the mutex makes a report name its holder, and
    /// that wait stays in the task's slot until the task is polled again,
    /// even after it left the queue (gave up inside a `select`, say). So
    /// once shared, every change of holder is stored here, and the run reads
    /// the holder at the moment it renders a report; before, no report can
    /// name it, and the mutex never calls into the engine for its holder.
    shared_holder: Option<Arc<HolderCell>>,
}

impl MutexState {
    #[inline]
    fn set_holder(&mut self, holder: Option<TaskId>) {
        self.holder = holder;
        if let Some(shared) = &self.shared_holder {
            shared.set(holder);
        }
    }

    /// Shares `holder` with the run `id` belongs to, once; call before the
    /// current task is marked as waiting on the mutex.
    #[inline]
    fn share_holder(&mut self, id: u32) {
        if self.shared_holder.is_none() {
            self.share_holder_now(id);
        }
    }

    #[cold]
    #[inline(never)]
    fn share_holder_now(&mut self, id: u32) {
        let shared = Arc::new(HolderCell::new(self.holder));
        cx::share_resource_holder(id, shared.clone());
        self.shared_holder = Some(shared);
    }
}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    ///
    /// ```
    /// let mutex = asyncsim_sim::sync::Mutex::new(5);
    /// assert!(!mutex.is_locked());
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: RefCell::new(MutexState::default()),
            value: RefCell::new(Some(value)),
            binding: Binding::new(ResourceKind::Mutex),
        }
    }

    /// Waits for the lock; resolves to a guard that unlocks when dropped.
    ///
    /// Dropping the returned future before it resolves gives up the place in
    /// the queue (and passes the lock on if it had just been handed over).
    ///
    /// ```
    /// use asyncsim_sim::sync::Mutex;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let mutex = Mutex::new(String::from("a"));
    ///     mutex.lock().await.push('b');
    ///     let text = mutex.lock().await.clone();
    ///     text
    /// });
    /// assert_eq!(run.result.unwrap(), "ab");
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the mutex does not belong to.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            ticket: None,
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// ```
    /// let mutex = asyncsim_sim::sync::Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_none());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_acquire().then(|| self.guard())
    }

    /// Takes the lock if it is free and nobody waits for it.
    fn try_acquire(&self) -> bool {
        let task = self.binding.id_and_task().and_then(|(_, task)| task);
        let mut state = self.state.borrow_mut();
        if state.locked || !state.handoff.waiters.is_empty() {
            return false;
        }
        state.locked = true;
        state.set_holder(task);
        true
    }

    /// [`Mutex::lock`] for a mutex shared through an `Rc`: the guard keeps
    /// the `Rc`, so it can outlive the borrow it came from (be returned,
    /// stored, or moved into another task).
    ///
    /// ```
    /// use asyncsim_sim::sync::{Mutex, OwnedMutexGuard};
    /// use std::rc::Rc;
    ///
    /// async fn take(log: &Rc<Mutex<Vec<u32>>>) -> OwnedMutexGuard<Vec<u32>> {
    ///     log.clone().lock_owned().await
    /// }
    ///
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let log = Rc::new(Mutex::new(vec![1]));
    ///     let mut guard = take(&log).await;
    ///     guard.push(2);
    ///     let writer = asyncsim_sim::spawn(async move { guard.push(3) }); // moves the lock
    ///     writer.await.unwrap();
    ///     let seen = log.lock().await.clone();
    ///     seen
    /// });
    /// assert_eq!(run.result.unwrap(), [1, 2, 3]);
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the mutex does not belong to.
    pub fn lock_owned(self: Rc<Self>) -> LockOwned<T>
    where
        T: 'static,
    {
        LockOwned {
            mutex: self,
            ticket: None,
        }
    }

    /// [`Mutex::try_lock`] with a guard that keeps the `Rc`.
    ///
    /// ```
    /// use std::rc::Rc;
    /// let mutex = Rc::new(asyncsim_sim::sync::Mutex::new(1));
    /// let guard = mutex.clone().try_lock_owned().unwrap();
    /// assert!(mutex.clone().try_lock_owned().is_none());
    /// drop(guard);
    /// assert_eq!(*mutex.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock_owned(self: Rc<Self>) -> Option<OwnedMutexGuard<T>>
    where
        T: 'static,
    {
        self.try_acquire().then(|| OwnedMutexGuard::new(self))
    }

    /// True while a guard exists (or the lock is being handed to a waiter).
    ///
    /// ```
    /// let mutex = asyncsim_sim::sync::Mutex::new(());
    /// let guard = mutex.try_lock();
    /// assert!(mutex.is_locked());
    /// # drop(guard);
    /// ```
    pub fn is_locked(&self) -> bool {
        self.state.borrow().locked
    }

    /// The value, without locking (a `&mut` proves nobody holds the lock).
    ///
    /// ```
    /// let mut mutex = asyncsim_sim::sync::Mutex::new(1);
    /// *mutex.get_mut() += 1;
    /// assert_eq!(mutex.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value
            .get_mut()
            .as_mut()
            .expect("asyncsim bug: a Mutex's value away without a guard")
    }

    /// Consumes the mutex, returning the value.
    ///
    /// ```
    /// assert_eq!(asyncsim_sim::sync::Mutex::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.value
            .into_inner()
            .expect("asyncsim bug: a Mutex's value away without a guard")
    }

    /// One poll of a lock attempt whose place in the queue is `ticket`:
    /// ready once the lock is the caller's (it then holds it).
    fn poll_acquire(&self, ticket: &mut Option<u64>, context: &mut Context<'_>) -> Poll<()> {
        match self.binding.id_and_task() {
            Some((id, task)) => self.poll_acquire_as(ticket, context, Some(id), task),
            None => self.poll_acquire_outside(ticket, context),
        }
    }

    /// [`Mutex::poll_acquire`] outside any run (nothing to report to).
    #[cold]
    #[inline(never)]
    fn poll_acquire_outside(
        &self,
        ticket: &mut Option<u64>,
        context: &mut Context<'_>,
    ) -> Poll<()> {
        self.poll_acquire_as(ticket, context, None, None)
    }

    /// The poll itself, for the mutex's id in the run (`None` outside
    /// one) and the task polled. Two callers, so that the one in a run
    /// keeps its id and task in registers (one `Option` of both, tested
    /// again at the end, went through the stack).
    #[inline(always)]
    fn poll_acquire_as(
        &self,
        ticket: &mut Option<u64>,
        context: &mut Context<'_>,
        id: Option<u32>,
        task: Option<TaskId>,
    ) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        let free = !state.locked;
        match state.handoff.poll(ticket, free, context.waker(), || task) {
            Got::Free => {
                state.locked = true;
                state.set_holder(task);
                return Poll::Ready(());
            }
            Got::Granted => {
                // The release named the waiter's task already (the usual
                // case: the same task resumes); store only a change.
                if state.holder != task {
                    state.set_holder(task);
                }
                return Poll::Ready(());
            }
            Got::Waiting => {}
        }
        if let Some(id) = id {
            // Reports may name the holder from now on: share it first.
            state.share_holder(id);
            drop(state);
            self.binding.waiting_in_run(id);
        }
        Poll::Pending
    }

    /// A lock attempt given up before it resolved: leaves the queue, or
    /// passes on a lock that was just handed to it.
    #[inline]
    fn abandon(&self, ticket: &mut Option<u64>) {
        if ticket.is_none() {
            // Never queued, or already took the lock: nothing to give up.
            return;
        }
        self.abandon_queued(ticket);
    }

    #[cold]
    #[inline(never)]
    fn abandon_queued(&self, ticket: &mut Option<u64>) {
        let granted = self.state.borrow_mut().handoff.abandon(ticket);
        if granted {
            // Handed the lock but never resumed: pass it on.
            self.release();
        }
    }

    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            mutex: self,
            value: Some(RefMut::map(
                self.value
                    .try_borrow_mut()
                    .expect("asyncsim bug: a Mutex granted twice"),
                |value| value.as_mut().expect("asyncsim bug: a Mutex granted twice"),
            )),
        }
    }

    /// Unlocks: hands the lock to the oldest waiter, or frees it.
    fn release(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            debug_assert!(state.locked, "asyncsim bug: releasing an unlocked Mutex");
            match state.handoff.hand_to_next() {
                Some(waiter) => {
                    state.set_holder(waiter.task);
                    Some(waiter.waker)
                }
                None => {
                    state.locked = false;
                    state.set_holder(None);
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Mutex")
            .field("locked", &state.locked)
            .field("waiters", &state.handoff.waiters.len())
            .finish()
    }
}

/// The future of [`Mutex::lock`].
#[must_use = "futures do nothing unless awaited"]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    /// Our place in the queue, once we had to wait.
    ticket: Option<u64>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        match mutex.poll_acquire(&mut self.ticket, context) {
            Poll::Ready(()) => Poll::Ready(mutex.guard()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for Lock<'_, T> {
    // In line: every lock's future is dropped once it resolved, with
    // nothing to give up (a call of its own, 7 instructions a lock).
    #[inline]
    fn drop(&mut self) {
        self.mutex.abandon(&mut self.ticket);
    }
}

impl<T> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}

/// Holds a [`Mutex`] locked; derefs to the value; unlocks when dropped.
///
/// ```
/// let mutex = asyncsim_sim::sync::Mutex::new(vec![1]);
/// let mut guard = mutex.try_lock().unwrap();
/// guard.push(2);
/// assert_eq!(*guard, [1, 2]);
/// ```
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    /// The borrow of the value; taken out before unlocking.
    value: Option<RefMut<'a, T>>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value
            .as_deref()
            .expect("guard value present until drop")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_deref_mut()
            .expect("guard value present until drop")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.value = None;
        self.mutex.release();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The future of [`Mutex::lock_owned`].
#[must_use = "futures do nothing unless awaited"]
pub struct LockOwned<T: 'static> {
    mutex: Rc<Mutex<T>>,
    /// Our place in the queue, once we had to wait.
    ticket: Option<u64>,
}

impl<T: 'static> Future for LockOwned<T> {
    type Output = OwnedMutexGuard<T>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<OwnedMutexGuard<T>> {
        let this = &mut *self;
        match this.mutex.poll_acquire(&mut this.ticket, context) {
            Poll::Ready(()) => Poll::Ready(OwnedMutexGuard::new(this.mutex.clone())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: 'static> Drop for LockOwned<T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.abandon(&mut self.ticket);
    }
}

impl<T: 'static> fmt::Debug for LockOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockOwned")
            .field("waiting", &self.ticket.is_some())
            .finish()
    }
}

/// A [`MutexGuard`] that owns an `Rc` of its mutex ([`Mutex::lock_owned`]):
/// it can be returned, stored or moved into another task; it unlocks when
/// dropped.
///
/// It holds the value itself, moved out of the mutex while it holds the
/// lock and moved back before unlocking: owning the value is what lets the
/// guard outlive any borrow of the mutex, with no unsafe code (a borrow kept
/// beside its `Rc` would need a lifetime the compiler cannot check).
pub struct OwnedMutexGuard<T: 'static> {
    mutex: Rc<Mutex<T>>,
    /// The value while the guard holds the lock; taken out to unlock.
    value: Option<T>,
}

impl<T: 'static> OwnedMutexGuard<T> {
    /// For a mutex whose lock was just taken for this guard.
    fn new(mutex: Rc<Mutex<T>>) -> OwnedMutexGuard<T> {
        let value = mutex
            .value
            .try_borrow_mut()
            .expect("asyncsim bug: a Mutex granted twice")
            .take()
            .expect("asyncsim bug: a Mutex granted twice");
        OwnedMutexGuard {
            mutex,
            value: Some(value),
        }
    }

    /// The mutex this guard holds.
    pub fn mutex(&self) -> &Rc<Mutex<T>> {
        &self.mutex
    }
}

impl<T: 'static> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("guard value present until drop")
    }
}

impl<T: 'static> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("guard value present until drop")
    }
}

impl<T: 'static> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            *self.mutex.value.borrow_mut() = Some(value);
            self.mutex.release();
        }
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
