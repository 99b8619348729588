//! `Mutex`: asyncio's `Lock` with a value inside, handed off FIFO.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{Binding, Waiters};
use crate::executor::{self, HolderCell};
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
    /// The protected value; borrowed mutably only by the one guard.
    value: RefCell<T>,
    /// The run this mutex belongs to and its id there.
    binding: Binding,
}

#[derive(Debug, Default)]
struct MutexState {
    /// Held by a guard, or handed to a waiter that has not resumed yet.
    locked: bool,
    /// The ticket of the waiter the lock was handed to, until it resumes.
    granted: Option<u64>,
    /// Tasks waiting for the lock, oldest first.
    waiters: Waiters,
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
        executor::share_resource_holder(id, shared.clone());
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
            value: RefCell::new(value),
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
        let task = self.binding.id_and_task().and_then(|(_, task)| task);
        let mut state = self.state.borrow_mut();
        if state.locked || !state.waiters.is_empty() {
            return None;
        }
        state.locked = true;
        state.set_holder(task);
        drop(state);
        Some(self.guard())
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
        self.value.get_mut()
    }

    /// Consumes the mutex, returning the value.
    ///
    /// ```
    /// assert_eq!(asyncsim_sim::sync::Mutex::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            mutex: self,
            value: Some(
                self.value
                    .try_borrow_mut()
                    .expect("asyncsim bug: a Mutex granted twice"),
            ),
        }
    }

    /// Unlocks: hands the lock to the oldest waiter, or frees it.
    fn release(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            debug_assert!(state.locked, "asyncsim bug: releasing an unlocked Mutex");
            match state.waiters.pop_front() {
                Some(waiter) => {
                    state.granted = Some(waiter.ticket);
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
            .field("waiters", &state.waiters.len())
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
        let here = mutex.binding.id_and_task();
        let task = here.and_then(|(_, task)| task);
        let mut state = mutex.state.borrow_mut();
        match self.ticket {
            None => {
                if !state.locked && state.waiters.is_empty() {
                    state.locked = true;
                    state.set_holder(task);
                    drop(state);
                    return Poll::Ready(mutex.guard());
                }
                self.ticket = Some(state.waiters.push_for(context.waker(), task));
            }
            Some(ticket) => {
                if state.granted == Some(ticket) {
                    state.granted = None;
                    state.set_holder(task);
                    self.ticket = None;
                    drop(state);
                    return Poll::Ready(mutex.guard());
                }
                state.waiters.update(ticket, context.waker());
            }
        }
        if let Some((id, _)) = here {
            // Reports may name the holder from now on: share it first.
            state.share_holder(id);
            drop(state);
            mutex.binding.waiting_in_run(id);
        }
        Poll::Pending
    }
}

impl<T> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut state = self.mutex.state.borrow_mut();
        if state.granted == Some(ticket) {
            // Handed the lock but never resumed: pass it on.
            state.granted = None;
            drop(state);
            self.mutex.release();
        } else {
            state.waiters.remove(ticket);
        }
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
