//! Who waits on a socket: each side's waiters ([`Parked`]), and the guard
//! of a wait asyncsim makes ([`Waiting`]) that leaves them when dropped.

use std::task::{Context, Poll, Waker};

use super::{Detachable, Detached};
use crate::trace::TaskId;
use crate::world::{cx, World};

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

/// Who waits on a side ([`Parked`]).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Waits {
    /// Nobody.
    #[default]
    Nobody,
    /// `first` alone.
    One,
    /// `first` and those in `more` (not empty).
    Several,
}

/// [`Waiter::task`] of a waiter that never parked (since made or cleared).
const NEVER_PARKED: TaskId = TaskId(u32::MAX);

/// [`Waiter::count`]'s bit for a wait polled by hand.
const HAND: u16 = 1 << 15;

/// One task waiting on a side of a socket ([`Parked`]).
struct Waiter {
    /// `Waker::noop()` while nobody has parked here (not an `Option`: a
    /// waiter's `ready` compares the word without testing for `None`
    /// first; it is only read while someone waits).
    waker: Waker,
    /// The task of `waker` (the one polled when it parked); `NEVER_PARKED`
    /// before the first park.
    task: TaskId,
    /// The first waiter's only: who waits on the side, a waiter from its
    /// `Pending` until its `Ready` (or its leaving). One byte the hot paths
    /// test, so a side with one waiter never looks at `more`; kept here, in
    /// the waiter's padding, so that a `Parked` is one waiter and a pointer
    /// (as large as the one waiter it was before: a stream's pipes and the
    /// offsets into them stay as they were).
    waits: Waits,
    /// What waits here through this waker: in the low 15 bits, how many
    /// guarded waits of the task ([`Waiting`]): one more at each one's
    /// first `Pending`, one less at its `Ready` or its drop; and [`HAND`]
    /// while a wait polled by hand (a `poll_` method, `AsyncRead`) does:
    /// set at its `Pending`, cleared at a `Ready` polled by hand or a wake
    /// for room. The waiter leaves at 0, so no wait's end takes another's
    /// wake (two `readable`s in one task's `join!`, one under a `timeout`;
    /// a `read` beside a `readable` under a `timeout`). In the padding
    /// beside `waits`.
    count: u16,
    /// The timer set for it last, and its deadline; it may have fired.
    timer: Option<(u64, cx::TimerKey)>,
}

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
    data: usize,
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

impl Default for Waiter {
    fn default() -> Waiter {
        Waiter {
            waker: Waker::noop().clone(),
            task: NEVER_PARKED,
            waits: Waits::Nobody,
            count: 0,
            timer: None,
        }
    }
}

impl Waiter {
    #[inline(always)]
    fn is(&self, waker: &Waker) -> bool {
        self.waker.data() == waker.data()
    }

    fn has_key(&self, key: WaiterKey) -> bool {
        WaiterKey::of(&self.waker) == key
    }

    /// Counts the wait being polled, which parks here: one polled by hand
    /// ([`HAND`]), or a guarded one for the first time (one more) or again
    /// (`new`: the waiter is new, so it counts the wait whatever its age,
    /// had its waiter left while it waited).
    #[inline(always)]
    fn count_in(&mut self, new: bool) {
        let guard = GUARD.get();
        self.count = if guard == UNGUARDED {
            if new {
                HAND
            } else {
                self.count | HAND
            }
        } else if new {
            1
        } else {
            self.count + u16::from((guard >> 1) & 1)
        };
    }

    /// A guarded wait of this waiter is done (its drop, or its `Ready`
    /// seen by its guard); true when nothing is left and the waiter leaves.
    #[inline(always)]
    fn releases_guarded(&mut self) -> bool {
        if self.count & !HAND != 0 {
            self.count -= 1;
        }
        self.count == 0
    }

    /// A `Ready` polled by hand (an operation's, a `try_` form's): the
    /// wait polled by hand is done; true when nothing is left.
    #[inline(always)]
    fn releases_by_hand(&mut self) -> bool {
        self.count &= !HAND;
        self.count == 0
    }

    /// At the `Ready` of the operation being polled: a wait polled by
    /// hand is done, or a guarded one that parked before (one that
    /// completes at its first poll was never counted; one on two sides,
    /// [`BOTH_SIDES`], is let go by its guard); true when nothing is left.
    ///
    /// A waiter with only a wait polled by hand (a read's: the hot path)
    /// leaves without a look at the guard. A guarded wait completing at
    /// its first poll there takes that wait too, which costs it nothing:
    /// what the guarded wait found, the wait by hand finds when its task
    /// polls it (in this poll, by the same waker), and if it finds nothing,
    /// it parks again.
    #[inline(always)]
    fn releases_at_ready(&mut self) -> bool {
        if self.count == HAND {
            self.count = 0;
            return true;
        }
        match GUARD.get() {
            UNGUARDED => self.releases_by_hand(),
            PARKED => self.releases_guarded(),
            _ => self.count == 0,
        }
    }

    /// Keeps `waker` (and the task polled now) as this waiter's, and makes
    /// sure a timer wakes it at `next_ns` (the next arrival or error), if any.
    #[inline(always)]
    fn park(&mut self, waker: &Waker, next_ns: Option<u64>) {
        if !self.waker.will_wake(waker) {
            self.waker = waker.clone();
        }
        self.task = cx::current_task().unwrap_or(TaskId::MAIN);
        if let Some(at_ns) = next_ns {
            self.timer_at(at_ns, cx::now_ns("asyncsim::net"));
        }
    }

    /// Wakes it now if `at_ns` has come, else makes sure a timer does then.
    #[inline(always)]
    fn due_at_from(&mut self, at_ns: u64, now: u64) {
        if at_ns <= now {
            self.waker.wake_by_ref();
            return;
        }
        self.timer_at(at_ns, now);
    }

    /// [`Parked::retime`] for this waiter.
    fn retime(&mut self, next_ns: Option<u64>, now: u64) {
        if let Some((deadline_ns, key)) = self.timer {
            if deadline_ns > now && Some(deadline_ns) != next_ns {
                cx::cancel_timer(key);
                self.timer = None;
            }
        }
        if let Some(at_ns) = next_ns {
            self.due_at_from(at_ns, now);
        }
    }

    /// Makes sure a timer wakes the task by `at_ns` (> `now`): one set
    /// already that fires after now and by then does; otherwise one is set
    /// (and a later one cancelled: the task sets it again when it parks).
    #[inline(always)]
    fn timer_at(&mut self, at_ns: u64, now: u64) {
        if let Some((deadline_ns, key)) = self.timer {
            if deadline_ns > now {
                if deadline_ns <= at_ns {
                    return;
                }
                cx::cancel_timer(key);
            }
        }
        self.timer = Some((
            at_ns,
            cx::register_timer_for(self.task, at_ns, self.waker.clone()),
        ));
    }

    /// It leaves for good (its future dropped): a timer still to fire for
    /// it is cancelled.
    #[inline]
    fn cancel(&mut self) {
        if let Some((deadline_ns, key)) = self.timer.take() {
            if deadline_ns > cx::now_ns("asyncsim::net") {
                cx::cancel_timer(key);
            }
        }
    }
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
    /// it did not complete on ([`BOTH_SIDES`]): it leaves (unless another wait
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

/// A socket whose waiters a dropped wait leaves ([`Waiting`]): the side a
/// wait of this kind parks on (a stream's reads, a listener's accepts, a
/// UDP socket's receives).
#[doc(hidden)]
pub trait Waitable {
    /// The future that parked with the waker of `key` is dropped while it
    /// waits: it leaves the socket's waiters ([`Parked::leave`]).
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
const UNGUARDED: u8 = 0;
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
const PARKED: u8 = GUARDED;
/// [`GUARD`]: the guarded wait being polled yielded for the cooperative
/// budget ([`budget_yield`]) and parked nothing this poll (not
/// [`GUARDED`]: nothing parks after it).
const YIELDED: u8 = 8;

thread_local! {
    /// Which wait is being polled ([`Waiting::polling`], reset by
    /// [`Waiting::polled`]): a side counts the guarded waits of a task
    /// parked on it by this ([`Waiter::count`]), without a look at the
    /// world of its own.
    static GUARD: std::cell::Cell<u8> = const { std::cell::Cell::new(UNGUARDED) };
}

/// A wait's poll that panicked between `Waiting::polling` and
/// `Waiting::polled` left the thread's guard set: a new run starts without
/// it (`Network::reset`).
pub(super) fn clear_guard() {
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
    /// `Pending` and lets it go at its `Ready` ([`Waiter::count`]).
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
