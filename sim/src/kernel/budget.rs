//! The cooperative budget: how many always-ready operations the task being
//! polled may still complete before it must yield (tokio's coop).
//!
//! A task yields only when a future it awaits returns `Pending`, so a loop
//! over operations that never wait (a UDP send, a read of bytes already
//! buffered) would hold the run's one thread for ever. Each poll therefore
//! starts with [`BUDGET_PER_POLL`] units, as tokio's tasks do; a budgeted
//! operation spends one when it completes, and one that finds none left
//! wakes its task and returns `Pending` instead: an ordinary yield (the task
//! goes back to the run queue, its trace a `Pending` and the next `Poll`),
//! after which the chooser draws the next task as at any yield.
//!
//! The budget is two fields of the run's state: the units left and the step
//! (the poll) they are of. Nothing sets it when a poll starts: the first look at
//! it in a poll finds the step moved on and starts from
//! [`BUDGET_PER_POLL`], so a run that never looks (one with no socket,
//! file or `consume_budget`) pays nothing for it, and a world operation
//! pays a compare, in the look at the run it makes anyway. No draw, no
//! clock: a run's schedule changes only where one poll completes more than
//! [`BUDGET_PER_POLL`] budgeted operations.

use std::task::{Context, Poll};

use super::*;

/// The units each poll of a task starts with: tokio's (`coop::Budget`'s
/// initial value), so a loop yields after the operations it would yield
/// after on tokio.
pub(crate) const BUDGET_PER_POLL: u64 = 128;

/// The budget of a future under `unconstrained`: never spent out (a poll
/// would need 2^64 operations).
pub(crate) const UNCONSTRAINED: u64 = u64::MAX;

/// `State::budget_step` at a run's start: no step's (steps count from 1).
pub(super) const NO_STEP: u64 = u64::MAX;

impl State {
    /// The units left to the poll now: all of them when it has spent none.
    #[inline(always)]
    fn budget_left(&self) -> u64 {
        if self.budget_step == self.step {
            self.budget_left
        } else {
            BUDGET_PER_POLL
        }
    }

    /// Sets the units left to the poll now.
    #[inline(always)]
    fn set_budget_left(&mut self, units: u64) {
        self.budget_step = self.step;
        self.budget_left = units;
    }

    /// Spends one unit: the units there were before, or `None` when none
    /// was left.
    #[inline(always)]
    fn spend_from(&mut self) -> Option<u64> {
        let left = self.budget_left();
        if left == 0 {
            return None;
        }
        self.set_budget_left(left - 1);
        Some(left)
    }

    /// A world operation completed (its event is being recorded): one
    /// unit spent, none below zero (a `try_` form, which never yields,
    /// spends one too).
    #[inline(always)]
    pub(super) fn spend_on_completion(&mut self) {
        let left = self.budget_left();
        self.set_budget_left(left.saturating_sub(1));
    }
}

impl Core {
    /// Spends one unit: false when none was left.
    #[inline(always)]
    fn spend_budget(&self) -> bool {
        self.spend_from().is_some()
    }

    /// [`State::spend_from`].
    #[inline(always)]
    fn spend_from(&self) -> Option<u64> {
        self.state.borrow_mut().spend_from()
    }
}

/// Spends one unit of the running task's budget: `Ready` when there was
/// one (also outside a run: nothing to limit), and when there was none,
/// wakes the task through `context` and returns `Pending` (a yield).
#[inline]
pub(crate) fn poll_proceed(context: &Context<'_>) -> Poll<()> {
    match try_with_core(Core::spend_budget) {
        Some(false) => budget_spent(context),
        _ => Poll::Ready(()),
    }
}

/// [`poll_proceed`], `Ready` with the units there were before the one
/// spent (`UNCONSTRAINED` outside a run), for a caller that may give it
/// back (`task::coop::RestoreOnPending`).
#[inline]
pub(crate) fn poll_proceed_from(context: &Context<'_>) -> Poll<u64> {
    match try_with_core(Core::spend_from) {
        Some(None) => budget_spent(context).map(|()| 0),
        Some(Some(before)) => Poll::Ready(before),
        None => Poll::Ready(UNCONSTRAINED),
    }
}

/// The budget is spent: the task is woken (through its context, so a
/// combinator that polls only its woken branches polls this one again) and
/// yields.
#[cold]
#[inline(never)]
fn budget_spent(context: &Context<'_>) -> Poll<()> {
    context.waker().wake_by_ref();
    Poll::Pending
}

/// Whether the running task has a unit of budget left (true outside a
/// run): a world operation looks before it runs, and yields instead when
/// not; the unit is spent when the operation completes, by its trace event
/// (`record_net`), so an operation that waits spends nothing.
#[inline(always)]
pub(crate) fn has_budget() -> bool {
    try_with_core(|core| core.state.borrow().budget_left()) != Some(0)
}

/// The budget was spent when an operation looked ([`now_in_run_checking`]).
#[derive(Debug)]
pub(crate) struct BudgetSpent;

/// `now_in_run` for an operation under the budget, in the same look at the
/// thread's run (a world operation's hot path makes one): `None` outside
/// run `run_id`; the time now when the running task has a unit left; or
/// [`BudgetSpent`] (the operation yields instead).
#[inline(always)]
pub(crate) fn now_in_run_checking(run_id: u64) -> Option<Result<u64, BudgetSpent>> {
    try_with_core(|core| {
        if core.run_id.get() != run_id {
            return None;
        }
        let state = core.state.borrow();
        if state.budget_left() == 0 {
            return Some(Err(BudgetSpent));
        }
        Some(Ok(state.caller_now_ns()))
    })
    .flatten()
}

/// Spends a unit for a world operation that completed without a trace
/// event of its own (a read at the end of a stream).
#[inline]
pub(crate) fn spend_on_completion() {
    try_with_core(|core| core.state.borrow_mut().spend_on_completion());
}

/// The running task's budget left (`UNCONSTRAINED` outside a run).
#[inline]
pub(crate) fn budget() -> u64 {
    try_with_core(|core| core.state.borrow().budget_left()).unwrap_or(UNCONSTRAINED)
}

/// Sets the running task's budget (restoring one `budget` read); nothing
/// outside a run.
#[inline]
pub(crate) fn set_budget(units: u64) {
    try_with_core(|core| core.state.borrow_mut().set_budget_left(units));
}
