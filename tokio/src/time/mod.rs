//! `tokio::time` on asyncsim's virtual clock.
//!
//! Time is always "paused" in tokio's sense: it moves only when every task
//! waits, and then jumps to the next timer. Timers with the same deadline
//! fire in a drawn order (one of the schedules explored). [`pause`] and
//! [`resume`] therefore change nothing, and [`advance`] sleeps.
//!
//! ```
//! use asyncsim_tokio as tokio;
//! use std::time::Duration;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let waited = runtime.block_on(async {
//!     let start = tokio::time::Instant::now();
//!     let slow = tokio::time::sleep(Duration::from_secs(3600));
//!     assert!(tokio::time::timeout(Duration::from_secs(1), slow).await.is_err());
//!     start.elapsed()
//! });
//! assert_eq!(waited, Duration::from_secs(1)); // an hour-long test, at once
//! ```

use std::future::{Future, IntoFuture};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

mod instant;
mod interval;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
/// `std`'s `Duration`, re-exported as tokio does.
pub use std::time::Duration;

/// The error types of `tokio::time`.
pub mod error {
    use std::fmt;

    /// tokio's timer error (shutdown, at capacity, invalid), re-exported.
    #[cfg(feature = "time")]
    pub use tokio::time::error::Error;

    /// The error of [`timeout`](super::timeout): the deadline passed first.
    #[derive(Debug, PartialEq, Eq)]
    pub struct Elapsed(pub(super) ());

    impl fmt::Display for Elapsed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            "deadline has elapsed".fmt(f)
        }
    }

    impl std::error::Error for Elapsed {}

    impl From<Elapsed> for std::io::Error {
        fn from(_: Elapsed) -> std::io::Error {
            std::io::ErrorKind::TimedOut.into()
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`sleep`] and [`sleep_until`]; `!Unpin` like tokio's
    /// (pin it with `tokio::pin!` or `Box::pin` to poll it in a loop).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Sleep {
        inner: asyncsim::time::Sleep,
        deadline: Instant,
        #[pin]
        _pinned: PhantomPinned,
    }
}

/// Panics, naming `what` at the caller's line, unless a run is on this
/// thread: its clock is the run's. Without it the engine's own panic named
/// `asyncsim::time::Instant::now` at a line inside asyncsim, where the user
/// had called `tokio::time::sleep`.
#[track_caller]
fn require_clock(what: &str) {
    if asyncsim::task::run_id().is_none() {
        crate::task::outside_a_run(what);
    }
}

/// Waits until `deadline` of virtual time.
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        inner: asyncsim::time::sleep_until(deadline.as_sim()),
        deadline,
        _pinned: PhantomPinned,
    }
}

/// Waits `duration` of virtual time, counted from now (when the future is
/// made, as in tokio).
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    require_clock("tokio::time::sleep");
    sleep_until(
        Instant::now()
            .checked_add(duration)
            .unwrap_or_else(Instant::far_future),
    )
}

impl Sleep {
    /// When the sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later), re-arming a completed sleep.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.project();
        *this.inner = asyncsim::time::sleep_until(deadline.as_sim());
        *this.deadline = deadline;
    }
}

impl Future for Sleep {
    type Output = ();

    /// Spends a unit of the task's budget when it completes (tokio's
    /// `Sleep` does), so a loop of sleeps already due yields.
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let inner = Pin::new(self.project().inner);
        crate::coop::poll_cooperative(context, |context| inner.poll(context))
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<T> {
        #[pin]
        value: T,
        #[pin]
        delay: Sleep,
    }
}

/// Runs `future` with a limit of `duration` of virtual time: the future's
/// output, or `Err(Elapsed)` (and the future dropped) when the limit passes
/// first. The future is polled before the limit, as in tokio.
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    require_clock("tokio::time::timeout");
    Timeout {
        value: future.into_future(),
        delay: sleep(duration),
    }
}

/// [`timeout`] with a deadline.
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: sleep_until(deadline),
    }
}

impl<T> Timeout<T> {
    /// The inner future.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The inner future, taken out.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Future> Future for Timeout<T> {
    type Output = Result<T::Output, error::Elapsed>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        use asyncsim::task::coop;
        let this = self.project();
        let had_budget = coop::has_budget_remaining();
        if let Poll::Ready(output) = this.value.poll(context) {
            return Poll::Ready(Ok(output));
        }
        // The value spent the last of the budget: the deadline is still
        // looked at (as tokio's `Timeout` does), or a value that yields for
        // the budget at each poll would never time out.
        let delay = if had_budget && !coop::has_budget_remaining() {
            std::pin::pin!(coop::unconstrained(this.delay)).poll(context)
        } else {
            this.delay.poll(context)
        };
        match delay {
            Poll::Ready(()) => Poll::Ready(Err(error::Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A no-op: simulated time is always paused (it moves only when every task
/// waits).
pub fn pause() {}

/// A no-op: simulated time never runs on its own.
pub fn resume() {}

/// Moves virtual time forward by `duration`: the caller sleeps that long,
/// and every timer due meanwhile fires, in a drawn order.
pub async fn advance(duration: Duration) {
    sleep(duration).await;
}
