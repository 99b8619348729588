//! `Semaphore`: a counter of permits, granted strictly FIFO.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{wake_all, Binding, Got, Handoff};
use crate::cx;
use crate::trace::ResourceKind;

/// An async counting semaphore (asyncio's `Semaphore`, strict FIFO as in
/// 3.11.7+ / 3.12.1+).
///
/// A released permit goes straight to the oldest waiter; a newcomer gets a
/// permit at once only when permits are free and nobody waits.
///
/// ```
/// use asyncsim_sim::sync::Semaphore;
/// use asyncsim_sim::{time, Config, Sim};
/// use std::{rc::Rc, time::Duration};
///
/// // Six one-second jobs, at most two at a time: three seconds.
/// let run = Sim::new(Config::new().seed(1)).run(async {
///     let slots = Rc::new(Semaphore::new(2));
///     let jobs: Vec<_> = (0..6)
///         .map(|_| {
///             let slots = slots.clone();
///             asyncsim_sim::spawn(async move {
///                 let _permit = slots.acquire().await;
///                 time::sleep(Duration::from_secs(1)).await;
///             })
///         })
///         .collect();
///     for job in jobs {
///         job.await.unwrap();
///     }
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(3));
/// ```
pub struct Semaphore {
    state: RefCell<SemaphoreState>,
    binding: Binding,
}

#[derive(Debug, Default)]
struct SemaphoreState {
    /// Free permits.
    permits: usize,
    /// Tasks waiting for a permit, oldest first, and those handed one.
    handoff: Handoff,
}

impl SemaphoreState {
    /// Hands free permits to the oldest waiters; returns their wakers.
    fn grant(&mut self) -> Vec<std::task::Waker> {
        let mut wakers = Vec::new();
        while self.permits > 0 {
            let Some(waiter) = self.handoff.hand_to_next() else {
                break;
            };
            self.permits -= 1;
            wakers.push(waiter.waker);
        }
        wakers
    }
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    ///
    /// ```
    /// let semaphore = asyncsim_sim::sync::Semaphore::new(3);
    /// assert_eq!(semaphore.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: RefCell::new(SemaphoreState {
                permits,
                ..SemaphoreState::default()
            }),
            binding: Binding::new(ResourceKind::Semaphore),
        }
    }

    /// Waits for a permit; the permit is given back when dropped.
    ///
    /// ```
    /// use asyncsim_sim::sync::Semaphore;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let semaphore = Semaphore::new(1);
    ///     let permit = semaphore.acquire().await;
    ///     let during = semaphore.available_permits();
    ///     drop(permit);
    ///     (during, semaphore.available_permits())
    /// });
    /// assert_eq!(run.result.unwrap(), (0, 1));
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the semaphore does not belong to.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            ticket: None,
        }
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// ```
    /// let semaphore = asyncsim_sim::sync::Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert!(semaphore.try_acquire().is_none());
    /// # drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.binding.id();
        let mut state = self.state.borrow_mut();
        if state.permits == 0 || !state.handoff.waiters.is_empty() {
            return None;
        }
        state.permits -= 1;
        Some(SemaphorePermit { semaphore: self })
    }

    /// Free permits now.
    ///
    /// ```
    /// assert_eq!(asyncsim_sim::sync::Semaphore::new(0).available_permits(), 0);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.state.borrow().permits
    }

    /// Adds `count` permits (waking the oldest waiters).
    ///
    /// ```
    /// let semaphore = asyncsim_sim::sync::Semaphore::new(0);
    /// semaphore.add_permits(2);
    /// assert_eq!(semaphore.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, count: usize) {
        self.binding.id();
        self.release(count);
    }

    fn release(&self, count: usize) {
        let wakers = {
            let mut state = self.state.borrow_mut();
            state.permits += count;
            state.grant()
        };
        wake_all(wakers);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Semaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.handoff.waiters.len())
            .finish()
    }
}

/// The future of [`Semaphore::acquire`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    ticket: Option<u64>,
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let semaphore = self.semaphore;
        semaphore.binding.id();
        let mut state = semaphore.state.borrow_mut();
        let free = state.permits > 0;
        match state
            .handoff
            .poll(&mut self.ticket, free, context.waker(), cx::current_task)
        {
            Got::Free => {
                state.permits -= 1;
                return Poll::Ready(SemaphorePermit { semaphore });
            }
            Got::Granted => return Poll::Ready(SemaphorePermit { semaphore }),
            Got::Waiting => {}
        }
        drop(state);
        semaphore.binding.waiting();
        Poll::Pending
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        let granted = self
            .semaphore
            .state
            .borrow_mut()
            .handoff
            .abandon(&mut self.ticket);
        if granted {
            // Granted a permit but never resumed: give it to the next waiter.
            self.semaphore.release(1);
        }
    }
}

/// One permit of a [`Semaphore`]; released when dropped.
///
/// ```
/// let semaphore = asyncsim_sim::sync::Semaphore::new(1);
/// {
///     let _permit = semaphore.try_acquire().unwrap();
///     assert_eq!(semaphore.available_permits(), 0);
/// }
/// assert_eq!(semaphore.available_permits(), 1);
/// ```
#[derive(Debug)]
#[must_use = "dropping a permit releases it at once"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken for good (the semaphore has one permit less).
    ///
    /// ```
    /// let semaphore = asyncsim_sim::sync::Semaphore::new(1);
    /// semaphore.try_acquire().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}
