//! Cooperative scheduling: the budget that makes a task yield after many
//! operations that never wait (tokio's `task::coop`, with its names).
//!
//! A task yields only when a future it awaits returns `Pending`. A loop over
//! operations that are always ready — sends on a UDP socket, reads of bytes
//! already buffered, writes to a file — would otherwise hold the run's one
//! thread for ever: nothing else of the run would run, and the test would
//! hang. So, as on tokio, each poll of a task starts with a budget of 128
//! units; the world's sockets and files spend one each time an operation
//! completes, and an operation that finds the budget spent wakes its task
//! and returns `Pending` instead. The task yields — in the trace an ordinary
//! `Pending` and, later, its next `Poll` — and the chooser draws the next
//! task as at any yield. The budget is a counter, never a clock: a run's
//! schedule is as deterministic as before, and changes only where one poll
//! completes more than 128 budgeted operations.
//!
//! ```
//! use asyncsim_sim::{net, task, Config, Sim, Strategy};
//! use std::cell::Cell;
//! use std::rc::Rc;
//!
//! let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
//!     let socket = net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
//!     let other_ran = Rc::new(Cell::new(false));
//!     let flag = other_ran.clone();
//!     let other = task::spawn(async move { flag.set(true) });
//!     let mut sends = 0;
//!     // Never waits: a datagram is sent at once. The budget makes it yield.
//!     while !other_ran.get() {
//!         socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
//!         sends += 1;
//!     }
//!     other.await.unwrap();
//!     sends
//! });
//! // FIFO: 128 sends, then the 129th found the budget spent and yielded;
//! // the other task ran, and the send completed at the next poll.
//! assert_eq!(run.result.unwrap(), 129);
//! ```
//!
//! A computation that awaits nothing of the world can spend the budget
//! itself ([`consume_budget`]); a future that must never be made to yield is
//! wrapped in [`unconstrained`]; a future of another crate is made to spend
//! it with [`cooperative`].
//!
//! What spends a unit: a UDP send, receive or peek, a TCP read, peek, write
//! or accept, a file's read or write (`fs::File`), each when it completes,
//! failed or not (an operation that must wait spends nothing), their
//! `poll_` forms, and a stream's `poll_read_ready` and `poll_write_ready`
//! and a UDP socket's `poll_recv_ready` when ready (tokio's spend there
//! too; the tokio face's datagram sockets' `poll_send_ready` and pipes'
//! `poll_read_ready` and `poll_write_ready` as well). The `try_` sends, receives, reads
//! and writes (the tokio face's pipes' too) spend one too but never yield; tokio's spend nothing, nor
//! does the `readable` before one (tokio 1.54's readiness waits only look),
//! so on tokio a `readable` then `try_read` loop over a socket that stays
//! ready never yields. Here the readiness waits (the tokio face's
//! `readable`, `writable`, `ready`) spend nothing but yield when the budget
//! is spent, and such a loop spends a unit a round, its `try_` operation's,
//! and yields. `select!` spends nothing but looks, as tokio's does: when
//! the budget is spent it yields before polling any branch. The engine's
//! `sync` primitives spend nothing: they model asyncio's (a free `Lock` is
//! taken without a yield). The disk's path functions always wait for their
//! drawn latency.

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::cx;

/// Spends one unit of the running task's budget, and yields (returns to the
/// scheduler once) when the budget is spent; otherwise returns at once.
///
/// For a long computation that awaits nothing of the world: it yields
/// every 128 calls rather than at each, as `yield_now` would.
///
/// ```
/// use asyncsim_sim::{task, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     for _ in 0..1000 {
///         task::coop::consume_budget().await;
///     }
/// });
/// // 1000 units at 128 a poll: 7 yields, so 8 polls of the main task.
/// assert_eq!(run.steps(), 8);
/// ```
pub async fn consume_budget() {
    let mut spent = false;
    std::future::poll_fn(move |context| {
        if spent {
            return Poll::Ready(());
        }
        ready!(cx::poll_proceed(context));
        spent = true;
        Poll::Ready(())
    })
    .await
}

/// Whether the running task has budget left (true outside a run, and under
/// [`unconstrained`]).
///
/// ```
/// use asyncsim_sim::{task::coop, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     let before = coop::has_budget_remaining();
///     for _ in 0..128 {
///         coop::consume_budget().await;
///     }
///     (before, coop::has_budget_remaining())
/// });
/// assert_eq!(run.result.unwrap(), (true, false));
/// ```
#[inline]
pub fn has_budget_remaining() -> bool {
    cx::budget() > 0
}

/// What [`poll_proceed`] gives: the unit it spent, given back when this is
/// dropped unless [`RestoreOnPending::made_progress`] was called (an
/// operation that had to wait made no progress, and spends nothing).
#[derive(Debug)]
#[must_use]
pub struct RestoreOnPending {
    /// The budget before the unit was spent, restored at the drop; `None`
    /// once the operation made progress (or outside a run).
    prior: Cell<Option<u64>>,
    /// Bound to the run's thread, as the budget is.
    _not_send: PhantomData<*mut ()>,
}

impl RestoreOnPending {
    /// The operation completed: the unit stays spent.
    pub fn made_progress(&self) {
        self.prior.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(prior) = self.prior.get() {
            cx::set_budget(prior);
        }
    }
}

/// Spends one unit of the running task's budget for an operation about to
/// be tried: `Pending` (the task woken: a yield) when the budget is spent,
/// otherwise `Ready` with a [`RestoreOnPending`] that gives the unit back
/// unless the operation then made progress.
///
/// For a resource of your own that can be always ready:
///
/// ```
/// use asyncsim_sim::task::coop;
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
///
/// struct Ones;
/// impl futures_core::Stream for Ones {
///     type Item = u8;
///     fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<u8>> {
///         let coop = ready!(coop::poll_proceed(context));
///         coop.made_progress();
///         Poll::Ready(Some(1))
///     }
/// }
/// ```
#[inline]
pub fn poll_proceed(context: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let prior = ready!(cx::poll_proceed_from(context));
    Poll::Ready(RestoreOnPending {
        prior: Cell::new((prior != cx::UNCONSTRAINED).then_some(prior)),
        _not_send: PhantomData,
    })
}

/// Spends one unit of the running task's budget for an operation that has
/// completed and must not yield (a `try_` form): none left, none spent, and
/// no wake. Internal to the tokio face (its pipes' `try_` forms spend as
/// the world's sockets' do through their recorded event), not public API.
#[doc(hidden)]
#[inline]
pub fn spend_on_completion() {
    cx::spend_on_completion();
}

pin_project_lite::pin_project! {
    /// The future of [`cooperative`].
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Coop<F: Future> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        let coop = ready!(poll_proceed(context));
        let output = ready!(self.project().future.poll(context));
        coop.made_progress();
        Poll::Ready(output)
    }
}

/// Makes `future` spend the budget: each poll first spends a unit (yielding
/// when the budget is spent), given back when `future` is still pending.
/// For a future of another crate that can be always ready (a channel of
/// `futures`, say), so a loop over it yields as the world's sockets do.
///
/// ```
/// use asyncsim_sim::{task::coop, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     for _ in 0..200 {
///         coop::cooperative(std::future::ready(())).await;
///     }
/// });
/// assert_eq!(run.steps(), 2); // one yield after 128
/// ```
#[inline]
pub fn cooperative<F: Future>(future: F) -> Coop<F> {
    Coop { future }
}

pin_project_lite::pin_project! {
    /// The future of [`unconstrained`].
    #[must_use = "Unconstrained does nothing unless polled"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        /// Puts the budget back as it was, also when the poll unwinds.
        struct Restore(u64);
        impl Drop for Restore {
            fn drop(&mut self) {
                cx::set_budget(self.0);
            }
        }
        let _restore = Restore(cx::budget());
        cx::set_budget(cx::UNCONSTRAINED);
        self.project().inner.poll(context)
    }
}

/// Turns the budget off for `inner`: it is never made to yield, however
/// many operations it completes in one poll (the budget outside it is as it
/// was). A loop in it that awaits only always-ready operations holds the
/// run until it ends.
///
/// ```
/// use asyncsim_sim::{task::coop, Config, Sim};
/// let run = Sim::new(Config::new()).run(coop::unconstrained(async {
///     for _ in 0..1000 {
///         coop::consume_budget().await;
///     }
/// }));
/// assert_eq!(run.steps(), 1); // never yielded
/// ```
#[inline]
pub fn unconstrained<F>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}
