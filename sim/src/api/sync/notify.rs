//! `Notify`: wake one waiter, or every current waiter.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{wake_all, Binding, Waiters};
use crate::trace::ResourceKind;

/// A notification without data, in the style of tokio's `Notify` (asyncio
/// spells it with a `Condition`).
///
/// - [`notify_one`](Notify::notify_one) wakes the oldest waiter; when nobody
///   waits it stores one permit (at most one), which the next
///   [`notified`](Notify::notified) consumes without waiting.
/// - [`notify_waiters`](Notify::notify_waiters) wakes every `Notified`
///   future created before the call, and stores nothing.
///
/// ```
/// use asyncsim_sim::sync::Notify;
/// use asyncsim_sim::{Config, Sim};
/// use std::rc::Rc;
///
/// let run = Sim::new(Config::new().seed(5)).run(async {
///     let notify = Rc::new(Notify::new());
///     let waiter = {
///         let notify = notify.clone();
///         asyncsim_sim::spawn(async move { notify.notified().await })
///     };
///     notify.notify_one(); // stored if the waiter is not waiting yet
///     waiter.await.unwrap();
/// });
/// assert!(run.result.is_ok());
/// ```
pub struct Notify {
    state: RefCell<NotifyState>,
    binding: Binding,
}

#[derive(Debug, Default)]
struct NotifyState {
    /// A stored `notify_one` that nobody consumed yet.
    permit: bool,
    /// Counts `notify_waiters` calls: a `Notified` created before a call is
    /// released by it.
    generation: u64,
    /// Tickets handed a `notify_one` that have not resumed yet.
    notified: Vec<u64>,
    waiters: Waiters,
}

impl Notify {
    /// A new `Notify` with no stored permit.
    ///
    /// ```
    /// let _notify = asyncsim_sim::sync::Notify::new();
    /// ```
    pub fn new() -> Notify {
        Notify {
            state: RefCell::new(NotifyState::default()),
            binding: Binding::new(ResourceKind::Notify),
        }
    }

    /// A future that resolves when notified. It counts as waiting for
    /// `notify_waiters` from the moment it is created, and joins the
    /// `notify_one` queue when first polled.
    ///
    /// ```
    /// use asyncsim_sim::sync::Notify;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let notify = Notify::new();
    ///     let notified = notify.notified();
    ///     notify.notify_waiters(); // releases `notified`, created before
    ///     notified.await;
    /// });
    /// assert!(run.result.is_ok());
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the `Notify` does not belong to.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: self.state.borrow().generation,
            ticket: None,
        }
    }

    /// Wakes the oldest waiter, or stores one permit if nobody waits.
    ///
    /// ```
    /// use asyncsim_sim::sync::Notify;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let notify = Notify::new();
    ///     notify.notify_one();
    ///     notify.notify_one(); // still one permit
    ///     notify.notified().await; // consumes it without waiting
    /// });
    /// assert_eq!(run.steps(), 1);
    /// ```
    pub fn notify_one(&self) {
        self.binding.id();
        self.notify_one_quiet();
    }

    /// `notify_one` without the run check (for destructors).
    fn notify_one_quiet(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            match state.waiters.pop_front() {
                Some(waiter) => {
                    state.notified.push(waiter.ticket);
                    Some(waiter.waker)
                }
                None => {
                    state.permit = true;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Wakes every current waiter, oldest first; stores nothing.
    ///
    /// ```
    /// use asyncsim_sim::sync::Notify;
    /// use asyncsim_sim::{time, Config, Sim};
    /// use std::time::Duration;
    /// let run = Sim::new(Config::new()).run(async {
    ///     let notify = Notify::new();
    ///     notify.notify_waiters(); // nobody waits: lost
    ///     time::timeout(Duration::from_secs(1), notify.notified()).await.is_err()
    /// });
    /// assert!(run.result.unwrap()); // timed out
    /// ```
    pub fn notify_waiters(&self) {
        self.binding.id();
        let wakers = {
            let mut state = self.state.borrow_mut();
            state.generation += 1;
            state
                .waiters
                .drain()
                .into_iter()
                .map(|waiter| waiter.waker)
                .collect()
        };
        wake_all(wakers);
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// The `notify_waiters` count when created.
    generation: u64,
    /// Our place in the queue, once waiting.
    ticket: Option<u64>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let notify = self.notify;
        notify.binding.id();
        let mut state = notify.state.borrow_mut();
        if let Some(ticket) = self.ticket {
            if let Some(position) = state.notified.iter().position(|t| *t == ticket) {
                state.notified.swap_remove(position);
                self.ticket = None;
                return Poll::Ready(());
            }
        }
        if state.generation != self.generation {
            if let Some(ticket) = self.ticket.take() {
                state.waiters.remove(ticket);
            }
            return Poll::Ready(());
        }
        match self.ticket {
            None => {
                if state.permit {
                    state.permit = false;
                    return Poll::Ready(());
                }
                self.ticket = Some(state.waiters.push(context.waker()));
            }
            Some(ticket) => {
                state.waiters.update(ticket, context.waker());
            }
        }
        drop(state);
        notify.binding.waiting();
        Poll::Pending
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut state = self.notify.state.borrow_mut();
        if let Some(position) = state.notified.iter().position(|t| *t == ticket) {
            // Handed a notify_one but never resumed: pass it on.
            state.notified.swap_remove(position);
            drop(state);
            self.notify.notify_one_quiet();
        } else {
            state.waiters.remove(ticket);
        }
    }
}
