//! The face's own resources under the task's cooperative budget, as
//! tokio's are: one wrapper for a poll that spends a unit when it
//! completes, and one look for a readiness wait that spends nothing.

use std::task::{ready, Context, Poll};

use asyncsim::task::coop;

/// Polls `poll` under the task's budget, as tokio's resources poll
/// theirs (`poll_proceed`, the inner poll, `made_progress`): a yield
/// (`Pending`, the task woken) when the budget is spent; otherwise the unit
/// spent when `poll` completes, given back when it is pending.
#[inline]
pub(crate) fn poll_cooperative<T>(
    context: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = ready!(coop::poll_proceed(context));
    let poll = poll(context);
    if poll.is_ready() {
        coop.made_progress();
    }
    poll
}

/// A yield (`Pending`, the task woken) when the task's cooperative budget is
/// spent, else `Ready` with the budget untouched: for a readiness wait that
/// spends nothing, as tokio's (a UDP socket's `writable`, a pipe's
/// `readable` and `writable`), so that a loop of it and a `try_` operation
/// (which spends as it completes) yields.
pub(crate) fn look_at_budget(context: &mut Context<'_>) -> Poll<()> {
    // The unit `poll_proceed` takes is given back at the drop: no progress.
    coop::poll_proceed(context).map(drop)
}
