//! Tasks: `spawn` (asyncio's `create_task`), named spawns, join handles,
//! cancellation, and `yield_now` (`asyncio.sleep(0)`).
//!
//! A spawned task is queued behind everything already runnable and first
//! runs when the scheduler picks it — never inline in `spawn`:
//!
//! ```
//! use asyncsim_sim::{trace, Config, Sim, Strategy};
//!
//! let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
//!     let child = asyncsim_sim::spawn(async { trace::mark("child") });
//!     trace::mark("parent, before yielding");
//!     asyncsim_sim::yield_now().await;
//!     trace::mark("parent, after yielding");
//!     child.await.unwrap();
//! });
//! assert_eq!(
//!     run.trace.marks().collect::<Vec<_>>(),
//!     ["parent, before yielding", "child", "parent, after yielding"]
//! );
//! ```

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::cx;
use crate::trace::TaskId;

/// The handle and its error live beside the kernel that fills them
/// (`kernel/join.rs`); this is their public path.
pub use crate::kernel::{set_panic_explainer, AbortHandle, JoinError, JoinHandle, PanicExplainer};
pub use crate::raw::ThreadBound;

/// The cooperative budget (tokio's `task::coop`): a task yields after 128
/// operations that never waited, so a loop over them cannot hold the run.
pub use super::coop;

/// Spawns a task on the current run (asyncio's `create_task`).
///
/// The task is queued behind every task already runnable; it first runs when
/// the scheduler picks it. The future need not be `Send`.
///
/// # Panics
///
/// Outside a run, with a message saying where to call it.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    cx::spawn_task(future, None)
}

/// Spawns with options: a name for traces and reports.
///
/// ```
/// use asyncsim_sim::{task, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     task::Builder::new().name("speak").spawn(async { 1 }).await.unwrap()
/// });
/// assert!(run.trace.to_string().contains("speak"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    name: Option<String>,
    site: Option<&'static Location<'static>>,
}

impl Builder {
    /// A builder with no name (the task will be called `task-<id>`).
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task in traces, reports and timelines.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Names the task by where it was spawned, `task-<id>@<file>:<line>`
    /// (e.g. `task-3@src/server.rs:42`, the file relative to its crate; `blocking-<id>@...` for
    /// [`spawn_blocking`](Builder::spawn_blocking)), unless [`name`](Builder::name)
    /// gave it a name. For wrappers whose `spawn` is `#[track_caller]`
    /// (the tokio face passes `Location::caller()`). The name is formatted
    /// once per (id, site) and thread, so a program spawning from the same
    /// sites run after run allocates no names.
    ///
    /// ```
    /// use asyncsim_sim::{task, Config, Sim};
    /// let site = std::panic::Location::caller();
    /// let run = Sim::new(Config::new()).run(async move {
    ///     task::Builder::new().site(site).spawn(async { 1 }).await.unwrap()
    /// });
    /// let name = &run.trace.tasks()[1].name;
    /// assert!(name.starts_with("task-1@"), "{name}");
    /// assert!(name.ends_with(&format!(".rs:{}", site.line())), "{name}");
    /// ```
    pub fn site(mut self, site: &'static Location<'static>) -> Builder {
        self.site = Some(site);
        self
    }

    fn task_name(self) -> cx::TaskName {
        match (self.name, self.site) {
            (Some(name), _) => cx::TaskName::Given(name),
            (None, Some(site)) => cx::TaskName::Site(site),
            (None, None) => cx::TaskName::Default,
        }
    }

    /// Spawns the future as a task.
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        cx::spawn_task_named(future, self.task_name())
    }

    /// Runs the closure on the simulated pool, as `spawn_blocking` does.
    pub fn spawn_blocking<F, R>(self, work: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + 'static,
        R: 'static,
    {
        cx::spawn_blocking_job(work, self.task_name())
    }
}

/// Aborts a task of the current run by its id, as [`JoinHandle::abort`]
/// does; outside a run it does nothing. For wrappers that keep an abort
/// capability apart from the join handle (the tokio face's `AbortHandle`),
/// which must check themselves that the id belongs to the current run.
#[doc(hidden)]
pub fn abort(task: TaskId) {
    cx::abort_task(task);
}

/// Yields once to the scheduler: `await asyncio.sleep(0)`.
///
/// The task goes to the back of the run queue; under `Fifo` every task that
/// was runnable runs before it resumes.
///
/// ```
/// use asyncsim_sim::{Config, Sim};
/// let run = Sim::new(Config::new()).run(async { asyncsim_sim::yield_now().await });
/// assert_eq!(run.steps(), 2);
/// ```
#[inline]
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        context.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The id of the task being polled, if any.
pub fn current() -> Option<TaskId> {
    cx::current_task()
}

/// A number that tells the run in progress on this thread from every
/// other run of the process, or `None` outside a run: for a wrapper that
/// keeps state of its own beside a run's and must not mistake an earlier
/// run's for it (the tokio face's table of Unix socket paths). It says
/// nothing of the schedule and is not part of the trace.
///
/// ```
/// use asyncsim_sim::{task, Config, Sim};
/// let first = Sim::new(Config::new()).run(async { task::run_id() }).result.unwrap();
/// let second = Sim::new(Config::new()).run(async { task::run_id() }).result.unwrap();
/// assert!(first.is_some() && first != second);
/// assert_eq!(task::run_id(), None);
/// ```
pub fn run_id() -> Option<u64> {
    cx::current_run_id()
}

/// How many of the run's spawned tasks are not done (finished, panicked,
/// aborted or dropped with their node): futures only, not the main one nor
/// `spawn_blocking` jobs; 0 outside a run. For a wrapper's runtime metrics
/// (the tokio face's `RuntimeMetrics::num_alive_tasks`). A walk over the
/// run's tasks: not for a hot path.
///
/// ```
/// use asyncsim_sim::{task, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     let waiting = task::spawn(std::future::pending::<()>());
///     let done = task::spawn(async {});
///     let before = task::alive_count();
///     done.await.unwrap();
///     waiting.abort();
///     task::yield_now().await;
///     (before, task::alive_count())
/// });
/// assert_eq!(run.result.unwrap(), (2, 0));
/// ```
pub fn alive_count() -> usize {
    cx::task_counts().map_or(0, |(alive, _)| alive)
}

/// How many of the run's tasks are queued to be polled (woken, not yet
/// polled); 0 outside a run. Cold, as [`alive_count`].
pub fn queued_count() -> usize {
    cx::task_counts().map_or(0, |(_, queued)| queued)
}

/// The name of the task being polled, if any.
pub fn current_name() -> Option<String> {
    current().and_then(cx::task_name)
}
