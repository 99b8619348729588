//! One task waiting on a side of a socket (`Parked`'s waiters): its waker
//! and task, what waits through it (guarded waits and one polled by hand),
//! and the timer that wakes it for the next arrival.

use std::task::Waker;

use super::guard::{WaiterKey, GUARD, PARKED, UNGUARDED};
use crate::trace::TaskId;
use crate::world::cx;

/// Who waits on a side (`Parked`).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Waits {
    /// Nobody.
    #[default]
    Nobody,
    /// `first` alone.
    One,
    /// `first` and those in `more` (not empty).
    Several,
}

/// [`Waiter::task`] of a waiter that never parked (since made or cleared).
pub(super) const NEVER_PARKED: TaskId = TaskId(u32::MAX);

/// [`Waiter::count`]'s bit for a wait polled by hand.
pub(super) const HAND: u16 = 1 << 15;

/// One task waiting on a side of a socket (`Parked`).
pub(super) struct Waiter {
    /// `Waker::noop()` while nobody has parked here (not an `Option`: a
    /// waiter's `ready` compares the word without testing for `None`
    /// first; it is only read while someone waits).
    pub(super) waker: Waker,
    /// The task of `waker` (the one polled when it parked); `NEVER_PARKED`
    /// before the first park.
    pub(super) task: TaskId,
    /// The first waiter's only: who waits on the side, a waiter from its
    /// `Pending` until its `Ready` (or its leaving). One byte the hot paths
    /// test, so a side with one waiter never looks at `more`; kept here, in
    /// the waiter's padding, so that a `Parked` is one waiter and a pointer
    /// (as large as the one waiter it was before: a stream's pipes and the
    /// offsets into them stay as they were).
    pub(super) waits: Waits,
    /// What waits here through this waker: in the low 15 bits, how many
    /// guarded waits of the task (`Waiting`): one more at each one's
    /// first `Pending`, one less at its `Ready` or its drop; and [`HAND`]
    /// while a wait polled by hand (a `poll_` method, `AsyncRead`) does:
    /// set at its `Pending`, cleared at a `Ready` polled by hand or a wake
    /// for room. The waiter leaves at 0, so no wait's end takes another's
    /// wake (two `readable`s in one task's `join!`, one under a `timeout`;
    /// a `read` beside a `readable` under a `timeout`). In the padding
    /// beside `waits`.
    pub(super) count: u16,
    /// The timer set for it last, and its deadline; it may have fired.
    pub(super) timer: Option<(u64, cx::TimerKey)>,
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
    pub(super) fn is(&self, waker: &Waker) -> bool {
        self.waker.data() == waker.data()
    }

    pub(super) fn has_key(&self, key: WaiterKey) -> bool {
        WaiterKey::of(&self.waker) == key
    }

    /// Counts the wait being polled, which parks here: one polled by hand
    /// ([`HAND`]), or a guarded one for the first time (one more) or again
    /// (`new`: the waiter is new, so it counts the wait whatever its age,
    /// had its waiter left while it waited).
    #[inline(always)]
    pub(super) fn count_in(&mut self, new: bool) {
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
    pub(super) fn releases_guarded(&mut self) -> bool {
        if self.count & !HAND != 0 {
            self.count -= 1;
        }
        self.count == 0
    }

    /// A `Ready` polled by hand (an operation's, a `try_` form's): the
    /// wait polled by hand is done; true when nothing is left.
    #[inline(always)]
    pub(super) fn releases_by_hand(&mut self) -> bool {
        self.count &= !HAND;
        self.count == 0
    }

    /// At the `Ready` of the operation being polled: a wait polled by
    /// hand is done, or a guarded one that parked before (one that
    /// completes at its first poll was never counted; one on two sides,
    /// `BOTH_SIDES`, is let go by its guard); true when nothing is left.
    ///
    /// A waiter with only a wait polled by hand (a read's: the hot path)
    /// leaves without a look at the guard. A guarded wait completing at
    /// its first poll there takes that wait too, which costs it nothing:
    /// what the guarded wait found, the wait by hand finds when its task
    /// polls it (in this poll, by the same waker), and if it finds nothing,
    /// it parks again.
    #[inline(always)]
    pub(super) fn releases_at_ready(&mut self) -> bool {
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
    pub(super) fn park(&mut self, waker: &Waker, next_ns: Option<u64>) {
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
    pub(super) fn due_at_from(&mut self, at_ns: u64, now: u64) {
        if at_ns <= now {
            self.waker.wake_by_ref();
            return;
        }
        self.timer_at(at_ns, now);
    }

    /// `Parked::retime` for this waiter.
    pub(super) fn retime(&mut self, next_ns: Option<u64>, now: u64) {
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
    pub(super) fn timer_at(&mut self, at_ns: u64, now: u64) {
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
    pub(super) fn cancel(&mut self) {
        if let Some((deadline_ns, key)) = self.timer.take() {
            if deadline_ns > cx::now_ns("asyncsim::net") {
                cx::cancel_timer(key);
            }
        }
    }
}
