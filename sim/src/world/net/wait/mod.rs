//! Who waits on a socket: each side's waiters ([`Parked`]), one task's
//! waiter among them (`waiter.rs`: its waker, its count of waits, its
//! timer), and the guard of a wait asyncsim makes ([`Waiting`], `guard.rs`)
//! that leaves them when dropped, with the thread's word of which wait is
//! being polled and an operation's look at the cooperative budget.

use std::task::{Context, Waker};

use crate::trace::TaskId;
use crate::world::{cx, World};

// A pure split of one file by concept (ARCHITECTURE.md's codemap): the
// guard imports neither of the others, the waiter only the guard.
mod guard;
mod waiter;

pub(super) use guard::clear_guard;
pub(crate) use guard::{budget_yield, poll_budget};
pub use guard::{Waitable, WaiterKey, Waiting};
use guard::{GUARD, UNGUARDED};
use waiter::{Waiter, Waits, HAND, NEVER_PARKED};

/// The tasks waiting on one side of a socket (its reads, its receives, its
/// accepts): each one's waker, its task, and the timer that wakes it for
/// the next arrival.
///
/// A message carries its arrival time; its sender makes sure every waiting
/// task looks again then ([`Parked::due_at`]) by setting that task's timer
/// for it (`cx::register_timer_for`: the timer is the reader's, so it dies
/// with the reader's node, not the sender's). A reader is polled once, at
/// the arrival, and not also woken at the send to set a timer of its own.
///
/// Many tasks may wait on one side, as tokio allows (`readable()` in one
/// task while another reads; `accept` or `recv_from` from several tasks on
/// one shared socket): a waiter is known by its waker's data word
/// ([`WaiterKey`]),
/// and every one is woken at an arrival, in the order they parked (woken,
/// each looks again; one that finds nothing parks again). The waits of one
/// task (one waker) share its waiter, which keeps what waits through it
/// ([`Waiter::count`]): how many guarded waits, and whether a wait polled
/// by hand does; it leaves when neither is left. The first waiter
/// is kept inline and the others in `more`, allocated when a second waits
/// at once, so a side with one waiter (nearly always) costs what it did
/// when only one could wait. A guarded wait ([`Waiting`]) goes at its
/// `Ready` (`ready`, by its waker) or when its future is dropped while it
/// waits ([`Parked::leave`]); a wait polled by hand (a `poll_` method,
/// `AsyncRead`) at a `Ready` polled by hand (`ready`; `ready_here` for a
/// `try_` form, by its task) or when a wake for room takes it
/// ([`Parked::wake_all`]); a waiter left by both leaves, and its timer is
/// cancelled when its future was dropped (nothing stale wakes it). A wait
/// polled by hand whose future is dropped unseen stays until its waker's
/// next `Ready` polled by hand on the side, as tokio keeps a `poll_` waker
/// until it is woken.
#[derive(Default)]
pub(crate) struct Parked {
    /// The oldest waiter (while one waits), and who waits (`first.waits`).
    first: Waiter,
    /// The waiters after `first`, in the order they parked: only while
    /// `first` waits (one that leaves first hands its place to the next).
    /// Kept, emptied, once allocated. Boxed: one word, where a `Vec` is
    /// three, in every side of every socket, nearly all of which never have
    /// a second waiter.
    #[allow(clippy::box_collection)]
    more: Option<Box<Vec<Waiter>>>,
}

impl Parked {
    /// Emptied for reuse (by a connection or listener of a later run):
    /// nobody waits; a list allocated once is kept.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.first.waker = Waker::noop().clone();
        self.first.task = NEVER_PARKED;
        self.first.timer = None;
        self.first.waits = Waits::Nobody;
        if let Some(more) = &mut self.more {
            more.clear();
        }
    }

    /// The operation returns `Pending`: keeps the waker (as a new waiter,
    /// unless it waits here already) and makes sure a timer wakes it at
    /// `next_ns` (the next arrival or error), if any.
    pub(crate) fn park(&mut self, waker: &Waker, next_ns: Option<u64>) {
        let new = self.first.waits == Waits::Nobody;
        if new {
            self.first.waits = Waits::One;
        } else if !self.first.is(waker) {
            return self.park_more(waker, next_ns);
        }
        self.first.count_in(new);
        self.first.park(waker, next_ns);
    }

    /// A second waiter (or a later one) parks, or parks again.
    #[cold]
    #[inline(never)]
    fn park_more(&mut self, waker: &Waker, next_ns: Option<u64>) {
        let more = self.more.get_or_insert_with(Default::default);
        let (at, new) = match more.iter().position(|waiter| waiter.is(waker)) {
            Some(at) => (at, false),
            None => {
                more.push(Waiter::default());
                (more.len() - 1, true)
            }
        };
        self.first.waits = Waits::Several;
        more[at].count_in(new);
        more[at].park(waker, next_ns);
    }

    /// The operation of the task woken by `waker` returned `Ready`: it
    /// waits here no more (the others still do), unless another guarded
    /// wait of its task still does (`Waiter::count`).
    #[inline(always)]
    pub(crate) fn ready(&mut self, waker: &Waker) {
        if self.first.waits == Waits::One {
            if self.first.is(waker) && self.first.releases_at_ready() {
                self.first.waits = Waits::Nobody;
            }
        } else if self.first.waits == Waits::Several {
            self.leave_where(|waiter| waiter.is(waker), Waiter::releases_at_ready, false);
        }
    }

    /// [`Parked::ready`] by `context`'s waker, or [`Parked::ready_here`]
    /// without one.
    #[inline(always)]
    pub(crate) fn ready_by(&mut self, context: Option<&Context<'_>>) {
        match context {
            Some(context) => self.ready(context.waker()),
            None => self.ready_here(),
        }
    }

    /// [`Parked::ready`] for an operation polled with no context of its own
    /// (a `try_` form): the calling task's wait polled by hand is done. A
    /// look inside a guarded wait's poll (the face's `ready` for both
    /// sides) changes nothing: the guard lets its wait go.
    #[inline]
    pub(crate) fn ready_here(&mut self) {
        if self.first.waits != Waits::Nobody && GUARD.get() == UNGUARDED {
            let task = cx::current_task();
            self.leave_where(
                |waiter| Some(waiter.task) == task,
                Waiter::releases_by_hand,
                false,
            );
        }
    }

    /// The guarded wait that parked with the waker of `key` is dropped
    /// while it waits (its task went on without it), or is done on a side
    /// it did not complete on (`BOTH_SIDES`): it leaves (unless another wait
    /// of its task still waits here, `Waiter::count`), and a timer still
    /// to fire for it is cancelled, so nothing stale wakes the task.
    #[inline]
    pub(crate) fn leave(&mut self, key: WaiterKey) {
        match self.first.waits {
            Waits::Nobody => {}
            // The one waiter (a server's accept dropped as its run ends):
            // in line, as `leave_where` would.
            Waits::One if self.first.has_key(key) => {
                if self.first.releases_guarded() {
                    self.first.waits = Waits::Nobody;
                    self.first.cancel();
                }
            }
            _ => self.leave_where(|waiter| waiter.has_key(key), Waiter::releases_guarded, true),
        }
    }

    /// One wait of the first waiter `which` picks is done (`releases`
    /// says which and whether nothing is left); when nothing is, it leaves
    /// (the next in line takes the first's place); with `cancel`, a timer
    /// still to fire for it is cancelled.
    #[cold]
    #[inline(never)]
    fn leave_where(
        &mut self,
        which: impl Fn(&Waiter) -> bool,
        releases: fn(&mut Waiter) -> bool,
        cancel: bool,
    ) {
        let stays = if which(&self.first) {
            !releases(&mut self.first)
        } else {
            match self
                .more
                .as_deref_mut()
                .and_then(|more| more.iter_mut().find(|waiter| which(waiter)))
            {
                Some(waiter) => !releases(waiter),
                None => true,
            }
        };
        if stays {
            return;
        }
        let gone = if which(&self.first) {
            let gone = self.first_leaves();
            if gone.is_none() && cancel {
                self.first.cancel();
            }
            gone
        } else {
            let more = self.more.as_deref_mut();
            more.and_then(|more| more.iter().position(which).map(|at| more.remove(at)))
        };
        if let Some(mut gone) = gone {
            if cancel {
                gone.cancel();
            }
        }
        self.one_if_alone();
    }

    /// The first waiter is done here: the next in line takes its place, or
    /// nobody waits. The one gone, when another took its place (its timer
    /// still set). (`more` holds waiters only while `Several`.)
    fn first_leaves(&mut self) -> Option<Waiter> {
        match self.more.as_deref_mut().filter(|more| !more.is_empty()) {
            Some(more) => {
                let gone = std::mem::replace(&mut self.first, more.remove(0));
                self.first.waits = gone.waits;
                Some(gone)
            }
            None => {
                self.first.waits = Waits::Nobody;
                None
            }
        }
    }

    /// `Several` with nobody more after the first is `One`.
    fn one_if_alone(&mut self) {
        if self.first.waits == Waits::Several
            && self.more.as_ref().is_none_or(|more| more.is_empty())
        {
            self.first.waits = Waits::One;
        }
    }

    /// The waiters whose task runs on `incarnation`, a node crashing now,
    /// leave: the crash drops their futures with no task polled, when a
    /// guard leaves nothing ([`leave_side`]), and on another node's socket
    /// (a handle shared across nodes) they would be woken at each arrival,
    /// for nothing. Their timers die with the node. Cold: a crash's.
    pub(crate) fn forget_node(&mut self, incarnation: cx::NodeId) {
        if self.first.waits == Waits::Nobody {
            return;
        }
        let gone = |waiter: &Waiter| cx::task_node(waiter.task) == Some(incarnation);
        if let Some(more) = self.more.as_deref_mut() {
            if self.first.waits == Waits::Several {
                more.retain(|waiter| !gone(waiter));
            }
        }
        if gone(&self.first) {
            // (Its timer dies with the node.)
            self.first_leaves();
        }
        self.one_if_alone();
    }

    /// The tasks waiting here, in the order they parked (a task waiting
    /// through two wakers, `FuturesUnordered`'s children, twice): for a
    /// failure's report.
    pub(crate) fn waiting_tasks(&self) -> impl Iterator<Item = TaskId> + '_ {
        let first = (self.first.waits != Waits::Nobody).then_some(self.first.task);
        let more = match self.first.waits {
            Waits::Several => self.more.as_deref(),
            _ => None,
        };
        first
            .into_iter()
            .chain(more.into_iter().flatten().map(|waiter| waiter.task))
    }

    /// True when no task ever waited here (since it was made or cleared).
    #[inline(always)]
    pub(crate) fn is_unused(&self) -> bool {
        // (A later waiter parks after the first: none without it.)
        self.first.task == NEVER_PARKED
    }

    /// True while a task waits here.
    #[inline(always)]
    pub(crate) fn waiting(&self) -> bool {
        self.first.waits != Waits::Nobody
    }

    /// What the waiting tasks wait for is here now (room to write): each
    /// is woken, in the order they parked. A wait polled by hand is taken
    /// by its wake (woken, it looks again and parks again if it finds
    /// nothing, as tokio's `poll_` waker is taken by its wake); a guarded
    /// wait stays counted until its `Ready` or drop (two `writable`s of one
    /// task that park again after another writer took the room are still
    /// two). A waiter left with nothing leaves. Out of line: only a writer
    /// that found a stream's window full waits for this.
    #[cold]
    #[inline(never)]
    pub(crate) fn wake_all(&mut self) {
        if self.first.waits == Waits::Nobody {
            return;
        }
        self.first.waker.wake_by_ref();
        self.first.count &= !HAND;
        if self.first.waits == Waits::Several {
            if let Some(more) = &mut self.more {
                for waiter in more.iter_mut() {
                    waiter.waker.wake_by_ref();
                    waiter.count &= !HAND;
                }
                more.retain(|waiter| waiter.count != 0);
            }
        }
        if self.first.count == 0 {
            self.first_leaves();
        }
        self.one_if_alone();
    }

    /// Something for the waiting tasks arrives at `at_ns` (a message, an
    /// error): each is woken then, by a timer set for it (or now, if `at_ns`
    /// has come). Nothing when no task waits.
    pub(crate) fn due_at(&mut self, at_ns: u64) {
        if self.first.waits != Waits::Nobody {
            self.due_at_from(at_ns, cx::now_ns("asyncsim::net"));
        }
    }

    /// [`Parked::due_at`] when the caller knows the time (`now`).
    #[inline(always)]
    pub(crate) fn due_at_from(&mut self, at_ns: u64, now: u64) {
        if self.first.waits == Waits::One {
            self.first.due_at_from(at_ns, now);
        } else if self.first.waits == Waits::Several {
            self.all_due_at(at_ns, now);
        }
    }

    /// [`Parked::due_at_from`] for every waiter, the first first.
    #[cold]
    #[inline(never)]
    fn all_due_at(&mut self, at_ns: u64, now: u64) {
        self.first.due_at_from(at_ns, now);
        for waiter in self.more.iter_mut().flat_map(|more| more.iter_mut()) {
            waiter.due_at_from(at_ns, now);
        }
    }

    /// What the waiting tasks wait for changed (a UDP socket connected to
    /// another peer: what is on its way was sorted again): each is woken at
    /// `next_ns` (the next arrival), if any, and not by a timer set for an
    /// arrival that no longer comes (one still due at `next_ns` stays).
    #[cold]
    #[inline(never)]
    pub(crate) fn retime(&mut self, next_ns: Option<u64>, now: u64) {
        if self.first.waits == Waits::Nobody {
            return;
        }
        self.first.retime(next_ns, now);
        if self.first.waits == Waits::Several {
            for waiter in self.more.iter_mut().flat_map(|more| more.iter_mut()) {
                waiter.retime(next_ns, now);
            }
        }
    }
}

/// Leaves the waiters of `parked`, the side `side` picks of the world's
/// sockets, when the world is there to change (a drop during a crash or
/// at the run's end, with the world borrowed or gone, leaves nothing).
#[inline]
pub(super) fn leave_side(
    world: &crate::world::WorldRc,
    side: impl FnOnce(&mut World) -> &mut Parked,
    key: WaiterKey,
) {
    // A wait dropped while no task is polled went with its task (the run's
    // end, a node's crash): nothing wakes that task again, the crash took
    // its node's tasks off every side (`Parked::forget_node`), and the next
    // run empties every side. It leaves nothing (a server's pending accept,
    // dropped at every run's end, cost ~90 instructions a small simulation).
    if cx::current_task().is_none() {
        return;
    }
    let Ok(mut world) = world.try_borrow_mut() else {
        return;
    };
    if crate::world::same_run(world.run_id) {
        side(&mut world).leave(key);
    }
}
