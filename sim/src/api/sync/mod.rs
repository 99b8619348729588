//! Sync primitives that the scheduler can see: [`Mutex`], [`Semaphore`],
//! [`Event`], [`Notify`], the bounded [`Queue`], the mpsc [`channel`] and
//! [`oneshot`] channels.
//!
//! They follow asyncio's semantics where asyncio has an answer, and are
//! deterministic: every waiter list is a FIFO queue, nothing is ordered by
//! address or hash. A task that blocks on one of them says so in the trace
//! (its `Pending` event names the primitive) and in a deadlock report
//! ("waits on Mutex#1 held by `writer`").
//!
//! ```
//! use asyncsim_sim::sync::Mutex;
//! use asyncsim_sim::{Config, FailureKind, Sim};
//! use std::rc::Rc;
//!
//! // Two tasks take two locks in opposite orders: under FIFO scheduling each
//! // gets its first lock, then waits forever for the other's.
//! let run = Sim::new(Config::new().strategy(asyncsim_sim::Strategy::Fifo)).run(async {
//!     let first = Rc::new(Mutex::new(()));
//!     let second = Rc::new(Mutex::new(()));
//!     let (a, b) = (first.clone(), second.clone());
//!     let writer = asyncsim_sim::task::Builder::new().name("writer").spawn(async move {
//!         let _one = a.lock().await;
//!         asyncsim_sim::yield_now().await;
//!         let _two = b.lock().await;
//!     });
//!     let reader = asyncsim_sim::task::Builder::new().name("reader").spawn(async move {
//!         let _two = second.lock().await;
//!         asyncsim_sim::yield_now().await;
//!         let _one = first.lock().await;
//!     });
//!     writer.await.unwrap();
//!     reader.await.unwrap();
//! });
//! let failure = run.result.unwrap_err();
//! assert_eq!(failure.kind, FailureKind::Deadlock);
//! assert!(failure.to_string().contains("held by `reader`"));
//! ```
//!
//! # One primitive, one run
//!
//! A primitive belongs to the run it was created in (or, when created
//! outside any run, to the first run that uses it). Using it from another
//! run panics with a message that says so: make a fresh one inside each run.

use std::cell::Cell;
use std::collections::VecDeque;
use std::task::Waker;

use crate::cx;
use crate::trace::{ResourceKind, TaskId, WaitOn};

mod channel;
mod event;
mod mutex;
mod notify;
pub mod oneshot;
mod queue;
mod semaphore;

pub use channel::{
    channel, unbounded_channel, Receiver, RecvFuture, SendError, SendFuture, Sender, TryRecvError,
    TrySendError,
};
pub use event::{Event, EventWait};
pub use mutex::{Lock, LockOwned, Mutex, MutexGuard, OwnedMutexGuard};
pub use notify::{Notified, Notify};
pub use queue::{Get, Put, Queue};
pub use semaphore::{Acquire, Semaphore, SemaphorePermit};

/// Ties a primitive to one run and to its per-run resource id.
#[derive(Debug)]
pub(crate) struct Binding {
    kind: ResourceKind,
    /// `(run id, resource id)` once bound to a run.
    bound: Cell<Option<(u64, u32)>>,
}

impl Binding {
    /// Binds to the current run, if there is one.
    pub(crate) fn new(kind: ResourceKind) -> Binding {
        let binding = Binding {
            kind,
            bound: Cell::new(None),
        };
        binding.id();
        binding
    }

    /// The resource id in the current run; binds on first use.
    ///
    /// # Panics
    ///
    /// When the primitive belongs to another run.
    pub(crate) fn id(&self) -> Option<u32> {
        let run = cx::current_run_id()?;
        match self.bound.get() {
            Some((bound_run, id)) if bound_run == run => Some(id),
            Some(_) => panic!(
                "asyncsim::sync::{kind} was used in a simulation run other than the one it belongs to \
                 (the run that created it, or first used it); a primitive's waiters and holder live in \
                 one run: create the {kind} inside the future passed to Sim::run (or the asyncsim::check \
                 body), so that every run gets a fresh one",
                kind = self.kind.name()
            ),
            None => {
                let id = cx::register_resource(self.kind)?;
                self.bound.set(Some((run, id)));
                Some(id)
            }
        }
    }

    /// [`Binding::id`] and the task being polled, for hot paths: one look
    /// at the run, and the bound id compared inline.
    ///
    /// # Panics
    ///
    /// When the primitive belongs to another run.
    #[inline]
    pub(crate) fn id_and_task(&self) -> Option<(u32, Option<TaskId>)> {
        let (run, task) = cx::current_run_and_task()?;
        match self.bound.get() {
            Some((bound_run, id)) if bound_run == run => Some((id, task)),
            _ => Some((self.bind_or_panic()?, task)),
        }
    }

    /// `id` off the hot path: binds on first use, or panics (from `id`, so
    /// the panic message and location stay the same).
    #[cold]
    #[inline(never)]
    fn bind_or_panic(&self) -> Option<u32> {
        self.id()
    }

    /// The resource id if the primitive belongs to the current run; never
    /// panics (for destructors).
    fn id_quiet(&self) -> Option<u32> {
        let run = cx::current_run_id()?;
        match self.bound.get() {
            Some((bound_run, id)) if bound_run == run => Some(id),
            _ => None,
        }
    }

    /// Records, for the trace and deadlock reports, that the current task is
    /// about to wait on this primitive.
    pub(crate) fn waiting(&self) {
        if let Some(id) = self.id_quiet() {
            cx::set_waiting_on(WaitOn::Resource(self.kind, id));
        }
    }

    /// [`Binding::waiting`] with the id already looked up in this run.
    #[inline]
    pub(crate) fn waiting_in_run(&self, id: u32) {
        cx::set_waiting_on(WaitOn::Resource(self.kind, id));
    }
}

/// One blocked waiter: its ticket, its waker and the task that registered.
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) ticket: u64,
    pub(crate) waker: Waker,
    pub(crate) task: Option<TaskId>,
}

/// A FIFO queue of waiters. Tickets identify waiters so that a dropped
/// future can find and remove its own entry.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    queue: VecDeque<Waiter>,
    next_ticket: u64,
}

impl Waiters {
    /// Appends a waiter; returns its ticket.
    pub(crate) fn push(&mut self, waker: &Waker) -> u64 {
        self.push_for(waker, cx::current_task())
    }

    /// Appends a waiter for `task` (the task being polled, already looked
    /// up); returns its ticket.
    #[inline]
    pub(crate) fn push_for(&mut self, waker: &Waker, task: Option<TaskId>) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.queue.push_back(Waiter {
            ticket,
            waker: waker.clone(),
            task,
        });
        ticket
    }

    /// Refreshes a queued waiter's waker; false when it is no longer queued.
    pub(crate) fn update(&mut self, ticket: u64, waker: &Waker) -> bool {
        match self.queue.iter_mut().find(|waiter| waiter.ticket == ticket) {
            Some(waiter) => {
                if !waiter.waker.will_wake(waker) {
                    waiter.waker = waker.clone();
                }
                true
            }
            None => false,
        }
    }

    /// Removes a waiter; false when it was not queued.
    pub(crate) fn remove(&mut self, ticket: u64) -> bool {
        match self.queue.iter().position(|waiter| waiter.ticket == ticket) {
            Some(position) => {
                self.queue.remove(position);
                true
            }
            None => false,
        }
    }

    /// The oldest waiter, removed.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Waiter> {
        self.queue.pop_front()
    }

    /// Every waiter, oldest first, removed.
    pub(crate) fn drain(&mut self) -> Vec<Waiter> {
        self.queue.drain(..).collect()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

/// The strict FIFO hand-off `Mutex` and `Semaphore` share: a waiter queues
/// with a ticket; a release hands the resource to the oldest waiter (its
/// ticket is *granted*) and wakes it; the waiter takes the grant when it
/// resumes; a waiter that gives up after its grant passes the resource on
/// (it was handed something it will never use). Newcomers never overtake a
/// queue: the resource is taken at once only when nobody waits.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    pub(crate) waiters: Waiters,
    /// Tickets handed the resource that have not resumed yet (a mutex has
    /// at most one).
    granted: Vec<u64>,
}

/// What one poll of a waiter got ([`Handoff::poll`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Got {
    /// The resource was free and nobody waited: the caller takes it now.
    Free,
    /// The resource was handed to this waiter by a release.
    Granted,
    /// Not yet: queued (or still queued, its waker refreshed).
    Waiting,
}

impl Handoff {
    /// One poll of the waiter whose ticket is `ticket` (`None` before it
    /// queued; cleared once it got the resource). `free` says whether the
    /// resource can be taken now; `task` names the waiter for reports.
    /// In line (a lock's whole poll is this): left to the inliner, a change
    /// elsewhere in the crate moved it out of `Lock::poll` (`mutex` +5.5 %
    /// instructions).
    #[inline(always)]
    pub(crate) fn poll(
        &mut self,
        ticket: &mut Option<u64>,
        free: bool,
        waker: &Waker,
        task: impl FnOnce() -> Option<TaskId>,
    ) -> Got {
        match *ticket {
            None if free && self.waiters.is_empty() => Got::Free,
            None => {
                *ticket = Some(self.waiters.push_for(waker, task()));
                Got::Waiting
            }
            // The newest grant first: a mutex has at most one.
            Some(waiting) if self.granted.last() == Some(&waiting) => {
                self.granted.pop();
                *ticket = None;
                Got::Granted
            }
            Some(waiting) => match self.granted.iter().position(|granted| *granted == waiting) {
                Some(position) => {
                    self.granted.swap_remove(position);
                    *ticket = None;
                    Got::Granted
                }
                None => {
                    self.waiters.update(waiting, waker);
                    Got::Waiting
                }
            },
        }
    }

    /// Hands the resource to the oldest waiter, if any: returns it (to be
    /// woken outside the primitive's borrow).
    #[inline]
    pub(crate) fn hand_to_next(&mut self) -> Option<Waiter> {
        let waiter = self.waiters.pop_front()?;
        self.granted.push(waiter.ticket);
        Some(waiter)
    }

    /// A waiter gives up (its future is dropped). True when it had been
    /// handed the resource: the caller must pass it on.
    #[inline]
    pub(crate) fn abandon(&mut self, ticket: &mut Option<u64>) -> bool {
        let Some(waiting) = ticket.take() else {
            return false;
        };
        match self.granted.iter().position(|granted| *granted == waiting) {
            Some(position) => {
                self.granted.swap_remove(position);
                true
            }
            None => {
                self.waiters.remove(waiting);
                false
            }
        }
    }
}

/// Wakes wakers in order, outside any borrow of a primitive's state.
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}
