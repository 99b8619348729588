//! Blocking the loop, and moving blocking work off it.
//!
//! [`sleep`] is the article's `time.sleep`: it advances the virtual clock
//! while the calling task holds the loop, so nothing else runs and timers
//! become late. A poll that holds the loop at least `Config::slow_poll` is
//! reported (asyncio's debug-mode "slow callback"):
//!
//! ```
//! use asyncsim_sim::{blocking, Config, Sim};
//! use std::time::Duration;
//!
//! let run = Sim::new(Config::new()).run(async {
//!     blocking::sleep(Duration::from_secs(3));
//! });
//! assert_eq!(run.elapsed(), Duration::from_secs(3));
//! assert_eq!(run.slow_polls().len(), 1);
//! ```
//!
//! [`spawn_blocking`] is `loop.run_in_executor(None, f)`: the closure runs on
//! a simulated worker pool of `Config::pool_size` workers. A `sleep` inside it
//! spends the worker's virtual time, not the loop's, so the loop keeps
//! running; when every worker is busy, jobs queue.
//!
//! ```
//! use asyncsim_sim::{blocking, trace, Config, Sim};
//! use std::time::Duration;
//!
//! let run = Sim::new(Config::new()).run(async {
//!     let a = blocking::spawn_blocking(|| blocking::sleep(Duration::from_secs(3)));
//!     let b = blocking::spawn_blocking(|| blocking::sleep(Duration::from_secs(3)));
//!     a.await.unwrap();
//!     b.await.unwrap();
//! });
//! assert_eq!(run.elapsed(), Duration::from_secs(3)); // in parallel on two workers
//! assert!(run.slow_polls().is_empty()); // the loop was never blocked
//! ```
//!
//! A job's closure runs to completion when a worker takes it (the
//! simulation has one thread); its trace events carry the job's own virtual
//! time and enter the trace as the clock reaches them.

use std::time::Duration;

use crate::cx;
use crate::task::JoinHandle;

/// Blocks for `duration` of virtual time: the article's `time.sleep`.
///
/// On the loop (inside a task), nothing else runs meanwhile. Inside a
/// `spawn_blocking` job, only that worker is busy.
///
/// # Panics
///
/// Outside a run.
pub fn sleep(duration: Duration) {
    cx::blocking_sleep(duration);
}

/// The polls of the current run that have held the loop at least
/// `Config::slow_poll` so far (the poll in progress is not among them until it
/// ends). Lets a test body assert on loop blocking, for example inside
/// `asyncsim::check`.
///
/// ```
/// use asyncsim_sim::{blocking, Config, Sim};
/// use std::time::Duration;
/// let run = Sim::new(Config::new()).run(async {
///     let hog = asyncsim_sim::spawn(async { blocking::sleep(Duration::from_secs(1)) });
///     hog.await.unwrap();
///     blocking::slow_polls_so_far().len()
/// });
/// assert_eq!(run.result.unwrap(), 1);
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn slow_polls_so_far() -> Vec<crate::SlowPoll> {
    cx::slow_polls_so_far()
}

/// Runs `work` on the simulated executor pool: `run_in_executor(None, work)`.
///
/// The handle resolves when the job's virtual work is done, to its output or
/// to a `JoinError` if it panicked.
///
/// # Panics
///
/// Outside a run, or from inside another pool job.
pub fn spawn_blocking<F, R>(work: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    cx::spawn_blocking_job(work, cx::TaskName::Default)
}
