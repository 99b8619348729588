//! The guard of a wait on a socket ([`Waiting`]), which leaves the
//! socket's waiters when its future is dropped while it waits, and the
//! key it leaves them by ([`WaiterKey`]); the thread's word of which wait
//! is being polled (`GUARD`, by which a side counts a task's guarded waits);
//! an operation's look at the cooperative budget and its yield.

use std::task::{Context, Poll, Waker};

use crate::world::cx;
use crate::world::net::{Detachable, Detached};

/// A waiter's waker, as a key: its data word (an asyncsim waker's is its
/// run and its task), for a future to leave a socket's waiters by when it
/// is dropped while it waits ([`Waiting`]) without keeping a clone of it.
///
/// Not `Waker::will_wake`, which compares the vtable's address too: the
/// engine's vtable is a constant, which may sit at another address in each
/// codegen unit, so a task's waker and its clone need not compare equal.
#[doc(hidden)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WaiterKey {
    pub(super) data: usize,
}

impl WaiterKey {
    /// The key of `waker`.
    #[inline(always)]
    pub fn of(waker: &Waker) -> WaiterKey {
        WaiterKey {
            data: waker.data() as usize,
        }
    }
}

/// A socket whose waiters a dropped wait leaves ([`Waiting`]): the side a
/// wait of this kind parks on (a stream's reads, a listener's accepts, a
/// UDP socket's receives).
#[doc(hidden)]
pub trait Waitable {
    /// The future that parked with the waker of `key` is dropped while it
    /// waits: it leaves the socket's waiters (`Parked::leave`).
    fn leave_waiters(&self, key: WaiterKey);

    /// [`Waitable::leave_waiters`] of the sides a wait parked on only: a
    /// stream's reads (`read`), its writers waiting for room (`write`). A
    /// wait on one side must not take its task off the other, where
    /// another future of the task may wait (a `readable` under a
    /// `timeout` beside a `write_all` waiting for room: the writer would
    /// never be woken). A socket of one side leaves it.
    fn leave_waiters_of(&self, key: WaiterKey, read: bool, write: bool) {
        let _ = (read, write);
        self.leave_waiters(key);
    }
}

/// Guards a wait on a socket: dropped while the wait is pending (its
/// future dropped: a `select!` took another branch, a `timeout` fired, the
/// task was aborted), it takes the waiter off the socket's list, so no
/// stale wake comes for it. The native `accept` and `recv_from` wait with
/// one, and the tokio face's waiting `async fn`s (`readable`, `ready`,
/// `peek`, `accept`, `recv_from`, ...).
#[doc(hidden)]
pub struct Waiting<'a, S: Waitable + ?Sized, const EITHER: bool = false> {
    pub(crate) socket: &'a S,
    /// The data word of the waker the wait parked with, while it is
    /// pending; `NOT_PARKED` otherwise (one word, where an `Option` is two,
    /// in every pending receive's future). No waker's data word is
    /// `usize::MAX`: an engine waker's is its run and task, well below it,
    /// and a pointer there is neither aligned nor mapped.
    parked: usize,
}

/// [`Waiting::parked`] while nothing is parked.
const NOT_PARKED: usize = usize::MAX;

/// [`GUARD`]: no guarded wait is being polled (a `poll_` method, a `try_`
/// form).
pub(super) const UNGUARDED: u8 = 0;
/// [`GUARD`]'s bit for a guarded wait being polled.
const GUARDED: u8 = 1;
/// [`GUARD`]'s bit for a guarded wait that has not parked yet (the one
/// more it adds to a waiter's count).
const FIRST: u8 = 2;
/// [`GUARD`]'s bit for a guarded wait on two sides at once (the face's
/// `ready` for reading and writing): the side it completes on does not let
/// it go; its guard lets it go on both ([`Waiting::polled`]).
const BOTH_SIDES: u8 = 4;
/// [`GUARD`]: a guarded wait that parked before is being polled (on one
/// side; `GUARDED | FIRST` one that has not parked yet).
pub(super) const PARKED: u8 = GUARDED;
/// [`GUARD`]: the guarded wait being polled yielded for the cooperative
/// budget ([`budget_yield`]) and parked nothing this poll (not
/// [`GUARDED`]: nothing parks after it).
const YIELDED: u8 = 8;

thread_local! {
    /// Which wait is being polled ([`Waiting::polling`], reset by
    /// [`Waiting::polled`]): a side counts the guarded waits of a task
    /// parked on it by this (`Waiter::count`), without a look at the
    /// world of its own.
    pub(super) static GUARD: std::cell::Cell<u8> = const { std::cell::Cell::new(UNGUARDED) };
}

/// A wait's poll that panicked between `Waiting::polling` and
/// `Waiting::polled` left the thread's guard set: a new run starts without
/// it (`Network::reset`).
pub(in crate::world::net) fn clear_guard() {
    GUARD.set(UNGUARDED);
}

impl<'a, S: Waitable + ?Sized> Waiting<'a, S> {
    /// A guard for a wait on `socket`.
    #[inline]
    pub fn new(socket: &'a S) -> Waiting<'a, S> {
        Waiting {
            socket,
            parked: NOT_PARKED,
        }
    }
}

impl<'a, S: Waitable + ?Sized> Waiting<'a, S, true> {
    /// A guard for a wait that parks on two sides of `socket` at once and
    /// is ready when either is (the face's `ready` for reading and
    /// writing): at its `Ready` the guard lets it go on both
    /// ([`Waitable::leave_waiters`]), as its drop would.
    #[inline]
    pub fn either(socket: &'a S) -> Waiting<'a, S, true> {
        Waiting {
            socket,
            parked: NOT_PARKED,
        }
    }
}

impl<S: Waitable + ?Sized, const EITHER: bool> Waiting<'_, S, EITHER> {
    /// The wait is polled now (its socket's poll follows, then
    /// [`Waiting::polled`]): the side it parks on counts it at its first
    /// `Pending` and lets it go at its `Ready` (`Waiter::count`).
    #[inline(always)]
    pub fn polling(&self) {
        let fresh = if self.parked == NOT_PARKED { FIRST } else { 0 };
        let either = if EITHER { BOTH_SIDES } else { 0 };
        GUARD.set(GUARDED | fresh | either);
    }

    /// Notes what a poll of the wait returned: pending, it parked with
    /// `context`'s waker; ready, it waits no more (a wait on two sides
    /// that parked leaves both here).
    #[inline(always)]
    pub fn polled<T>(&mut self, context: &Context<'_>, poll: Poll<T>) -> Poll<T> {
        let guard = GUARD.replace(UNGUARDED);
        if poll.is_pending() {
            // A yield for the budget parked nothing: the wait is as it was.
            if guard != YIELDED {
                self.parked = WaiterKey::of(context.waker()).data;
            }
        } else {
            let parked = std::mem::replace(&mut self.parked, NOT_PARKED);
            if EITHER && parked != NOT_PARKED {
                self.socket.leave_waiters(WaiterKey { data: parked });
            }
        }
        poll
    }
}

impl<S: Detachable + Waitable> Waitable for Detached<S> {
    fn leave_waiters(&self, key: WaiterKey) {
        let _ = self.with(|socket| socket.leave_waiters(key));
    }

    fn leave_waiters_of(&self, key: WaiterKey, read: bool, write: bool) {
        let _ = self.with(|socket| socket.leave_waiters_of(key, read, write));
    }
}

impl<S: Waitable + ?Sized, const EITHER: bool> Drop for Waiting<'_, S, EITHER> {
    #[inline]
    fn drop(&mut self) {
        let parked = std::mem::replace(&mut self.parked, NOT_PARKED);
        if parked != NOT_PARKED {
            self.socket.leave_waiters(WaiterKey { data: parked });
        }
    }
}

/// A socket's operation found its task's cooperative budget spent
/// (`task::coop`): instead of the operation, a yield (the task woken through
/// `context`; the caller returns `Pending`). A guarded wait being polled is
/// told it parked nothing ([`Waiting::polled`]).
#[cold]
#[inline(never)]
pub(crate) fn budget_yield(context: &Context<'_>) {
    if GUARD.get() & GUARDED != 0 {
        GUARD.set(YIELDED);
    }
    context.waker().wake_by_ref();
}

/// Looks at the task's budget before a socket's operation (the operation's
/// completion spends the unit, `cx::record_net`): `Pending` (a yield,
/// [`budget_yield`]) when none is left.
#[inline(always)]
pub(crate) fn poll_budget(context: &Context<'_>) -> Poll<()> {
    if cx::has_budget() {
        Poll::Ready(())
    } else {
        budget_yield(context);
        Poll::Pending
    }
}
