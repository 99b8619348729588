//! `Event`: a flag tasks can wait for (asyncio's `Event`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{wake_all, Binding, Waiters};
use crate::trace::ResourceKind;

/// A flag that tasks wait for (asyncio's `Event`).
///
/// [`set`](Event::set) wakes every waiter, in the order they started
/// waiting; waiting on an event that is already set returns at once,
/// without yielding. A waiter woken by `set` returns even if the event is
/// cleared again before it resumes (as in asyncio).
///
/// ```
/// use asyncsim_sim::sync::Event;
/// use asyncsim_sim::{trace, Config, Sim, Strategy};
/// use std::rc::Rc;
///
/// let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
///     let ready = Rc::new(Event::new());
///     let waiters: Vec<_> = ["first", "second"]
///         .into_iter()
///         .map(|name| {
///             let ready = ready.clone();
///             asyncsim_sim::spawn(async move {
///                 ready.wait().await;
///                 trace::mark(name);
///             })
///         })
///         .collect();
///     asyncsim_sim::yield_now().await; // both are waiting now
///     ready.set();
///     for waiter in waiters {
///         waiter.await.unwrap();
///     }
/// });
/// assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["first", "second"]);
/// ```
pub struct Event {
    state: RefCell<EventState>,
    binding: Binding,
}

#[derive(Debug, Default)]
struct EventState {
    is_set: bool,
    /// How many times the event went from clear to set: a waiter that
    /// registered before a `set` is released even if `clear` followed.
    sets: u64,
    waiters: Waiters,
}

impl Event {
    /// A new, clear event.
    ///
    /// ```
    /// assert!(!asyncsim_sim::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: RefCell::new(EventState::default()),
            binding: Binding::new(ResourceKind::Event),
        }
    }

    /// Sets the flag and wakes every waiter, oldest first. Setting a set
    /// event does nothing.
    ///
    /// ```
    /// let event = asyncsim_sim::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        self.binding.id();
        let wakers = {
            let mut state = self.state.borrow_mut();
            if state.is_set {
                return;
            }
            state.is_set = true;
            state.sets += 1;
            state
                .waiters
                .drain()
                .into_iter()
                .map(|waiter| waiter.waker)
                .collect()
        };
        wake_all(wakers);
    }

    /// Clears the flag: later waiters block until the next `set`.
    ///
    /// ```
    /// let event = asyncsim_sim::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.binding.id();
        self.state.borrow_mut().is_set = false;
    }

    /// True while the flag is set.
    ///
    /// ```
    /// assert!(!asyncsim_sim::sync::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.borrow().is_set
    }

    /// Waits until the flag is set (returns at once, without yielding, if it
    /// already is).
    ///
    /// ```
    /// use asyncsim_sim::sync::Event;
    /// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
    ///     let event = Event::new();
    ///     event.set();
    ///     event.wait().await;
    /// });
    /// assert_eq!(run.steps(), 1); // no yield
    /// ```
    ///
    /// # Panics
    ///
    /// When polled in a run the event does not belong to.
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            registered: None,
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Event")
            .field("is_set", &state.is_set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct EventWait<'a> {
    event: &'a Event,
    /// `(ticket, sets at registration)` once waiting.
    registered: Option<(u64, u64)>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let event = self.event;
        event.binding.id();
        let mut state = event.state.borrow_mut();
        match self.registered {
            _ if state.is_set => {
                if let Some((ticket, _)) = self.registered.take() {
                    state.waiters.remove(ticket);
                }
                return Poll::Ready(());
            }
            Some((ticket, sets)) => {
                if state.sets != sets {
                    self.registered = None;
                    state.waiters.remove(ticket);
                    return Poll::Ready(());
                }
                if !state.waiters.update(ticket, context.waker()) {
                    // Not reachable: only `set` drains, and it bumps `sets`.
                    let ticket = state.waiters.push(context.waker());
                    self.registered = Some((ticket, sets));
                }
            }
            None => {
                let ticket = state.waiters.push(context.waker());
                self.registered = Some((ticket, state.sets));
            }
        }
        drop(state);
        event.binding.waiting();
        Poll::Pending
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some((ticket, _)) = self.registered.take() {
            self.event.state.borrow_mut().waiters.remove(ticket);
        }
    }
}
