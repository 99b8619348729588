//! `tokio::task` on asyncsim: every task is an asyncsim task, scheduled by
//! the run's seeded chooser, and `spawn_blocking` runs on the simulated pool.
//!
//! ```
//! use asyncsim_tokio as tokio;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let answer = runtime.block_on(async {
//!     let child = tokio::spawn(async { 6 * 7 });
//!     let blocking = tokio::task::spawn_blocking(|| "from the pool");
//!     (child.await.unwrap(), blocking.await.unwrap())
//! });
//! assert_eq!(answer, (42, "from the pool"));
//! ```
//!
//! Differences from tokio a test can see: a spawned task first runs when the
//! chooser picks it (tokio's own order is one of the schedules explored); a
//! panic in a task whose `JoinHandle` was dropped fails the run (tokio
//! ignores it by default: a test should not); `block_in_place` runs its
//! closure at once on the run's one thread, the other tasks waiting.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::explain::Explained;
use crate::registry;
use asyncsim::task::ThreadBound as Local;

mod join_error;
pub mod join_set;
mod local;
mod spawn;

pub use join_error::JoinError;
pub use join_set::JoinSet;
pub use local::{LocalEnterGuard, LocalSet};
pub use spawn::{block_in_place, spawn, spawn_blocking, spawn_local, yield_now};
pub(crate) use spawn::{
    in_pool_job, outside_a_run, require_run, spawn_blocking_now, spawn_deferred, spawn_now,
    spawn_plain, Start,
};

/// tokio's own task-local storage (`task_local!`), runtime-agnostic.
#[cfg(feature = "rt")]
pub use tokio::task::{futures, LocalKey};

/// Cooperative scheduling on the run's budget (asyncsim's `task::coop`,
/// with tokio's items and signatures): each poll of a task has 128 units;
/// the face's sockets, files, pipes, sleeps, join handles and `watch`
/// receivers spend one as they complete, and yield when none is left, as
/// tokio's resources do. (tokio's own `sync` types, re-exported here, read
/// tokio's budget, which is off outside a tokio runtime: they never yield.)
#[cfg(feature = "rt")]
pub use asyncsim::task::coop;
#[cfg(feature = "rt")]
#[doc(hidden)]
#[deprecated = "Moved to tokio::task::coop::consume_budget"]
pub use coop::consume_budget;
#[cfg(feature = "rt")]
#[doc(hidden)]
#[deprecated = "Moved to tokio::task::coop::unconstrained"]
pub use coop::unconstrained;
#[cfg(feature = "rt")]
#[doc(hidden)]
#[deprecated = "Moved to tokio::task::coop::Unconstrained"]
pub use coop::Unconstrained;

/// A task's id: unique among the tasks of one run, and the same in every
/// replay of it (the engine's task number).
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(u64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Id {
    fn of(task: asyncsim::TaskId) -> Id {
        Id(u64::from(task.0))
    }
}

/// The id of the running task.
///
/// # Panics
///
/// Outside a task of a simulated run.
pub fn id() -> Id {
    try_id().expect("tokio::task::id() was called outside a task of a simulated run")
}

/// The id of the running task, if any.
pub fn try_id() -> Option<Id> {
    asyncsim::task::current().map(Id::of)
}

// ---------------------------------------------------------------------------
// A task's shared state: what the face's handles know about it.
// ---------------------------------------------------------------------------

/// Who wants to hear that a task finished.
pub(crate) enum Listener {
    /// A `JoinSet`: its completion queue and the member's number.
    Set(Weak<join_set::Completions>, u64),
    /// A waiting `LocalSet`.
    Waker(Waker),
}

/// What the face knows about one task, shared (on the run's thread) by its
/// `JoinHandle`, its `AbortHandle`s, and the task's own wrapper.
pub(crate) struct TaskState {
    /// The engine's task, once started (a `LocalSet` may hold a task back).
    task: Cell<Option<asyncsim::TaskId>>,
    id: Cell<Id>,
    /// Set when the task's future is dropped: completed, panicked, aborted,
    /// or left pending at the end of the run (so a stale handle never aborts
    /// a task of a later run).
    finished: Cell<bool>,
    /// Aborted before it started.
    cancelled_early: Cell<bool>,
    listeners: RefCell<Vec<Listener>>,
}

impl TaskState {
    fn new(id: Id) -> Rc<TaskState> {
        Rc::new(TaskState {
            task: Cell::new(None),
            id: Cell::new(id),
            finished: Cell::new(false),
            cancelled_early: Cell::new(false),
            listeners: RefCell::new(Vec::new()),
        })
    }

    fn listen(&self, listener: Listener) {
        if self.finished.get() {
            notify(listener);
        } else {
            self.listeners.borrow_mut().push(listener);
        }
    }

    fn finish(&self) {
        if self.finished.replace(true) {
            return;
        }
        let listeners = std::mem::take(&mut *self.listeners.borrow_mut());
        for listener in listeners {
            notify(listener);
        }
    }

    fn abort(&self) {
        if self.finished.get() {
            return;
        }
        match self.task.get() {
            Some(task) => asyncsim::task::abort(task),
            None => {
                self.cancelled_early.set(true);
                self.finish();
            }
        }
    }
}

fn notify(listener: Listener) {
    match listener {
        Listener::Set(completions, member) => {
            if let Some(completions) = completions.upgrade() {
                completions.push(member);
            }
        }
        Listener::Waker(waker) => waker.wake(),
    }
}

/// Marks the task finished when the task's future is dropped, whatever the
/// reason.
struct FinishOnDrop(Rc<TaskState>);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0.finish();
    }
}

pin_project_lite::pin_project! {
    /// A spawned future as the engine sees it: real-tokio panics explained,
    /// and the task's state told when the future goes away.
    struct Tracked<F> {
        #[pin]
        future: Explained<F>,
        // Declared after the future, so dropped after it.
        finish: FinishOnDrop,
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(context)
    }
}

// ---------------------------------------------------------------------------
// JoinHandle and AbortHandle.
// ---------------------------------------------------------------------------

/// A held-back task's handle side, shared with its start.
enum Slot<T> {
    /// Held back by a `LocalSet` that has not run yet.
    Deferred(Option<Waker>),
    Running(asyncsim::JoinHandle<T>),
    /// Aborted before it started: resolves to a cancellation.
    CancelledEarly,
}

pub(crate) struct JoinEntry<T> {
    slot: RefCell<Slot<T>>,
    state: Rc<TaskState>,
}

/// What a `JoinHandle` holds, on its run's thread.
enum Handle<T> {
    /// A plain `spawn`: the engine's handle alone (the engine's abort
    /// handle and task table answer `abort`, `is_finished` and `id`; no
    /// state of the face's, no wrapper around the task's future).
    Plain(asyncsim::JoinHandle<T>),
    /// Spawned at once for a `JoinSet` or `LocalSet`, which are told when
    /// the task's future goes: the engine's handle and the face's state.
    Running(asyncsim::JoinHandle<T>, Rc<TaskState>),
    /// Held back by a `LocalSet`: the slot its start fills.
    Deferred(Rc<JoinEntry<T>>),
}

impl<T> Handle<T> {
    fn state(&self) -> Option<&Rc<TaskState>> {
        match self {
            Handle::Plain(_) => None,
            Handle::Running(_, state) => Some(state),
            Handle::Deferred(entry) => Some(&entry.state),
        }
    }
}

/// An owned permission to join a task: await it for `Result<T, JoinError>`.
///
/// `Send` and `Sync` like tokio's, although the task lives in a
/// single-threaded run: the handle is usable only on its run's thread
/// (`registry::Local`; on another thread it panics with an explanation, and
/// dropping it there leaks it). Dropping it detaches the task.
pub struct JoinHandle<T> {
    inner: Local<Handle<T>>,
}

impl<T> JoinHandle<T> {
    fn new(handle: Handle<T>) -> JoinHandle<T> {
        JoinHandle {
            inner: Local::new(handle),
        }
    }

    fn handle(&self) -> &Handle<T> {
        self.inner
            .get()
            .unwrap_or_else(|| registry::foreign("a tokio::task::JoinHandle"))
    }

    /// The state of a task spawned for a `JoinSet` or `LocalSet`.
    pub(crate) fn state(&self) -> Rc<TaskState> {
        self.handle()
            .state()
            .expect("a JoinSet's or LocalSet's task has the face's state")
            .clone()
    }

    /// The task's state, when on the run's thread and not a plain spawn.
    pub(crate) fn try_state(&self) -> Option<&TaskState> {
        self.inner
            .get()
            .and_then(|handle| handle.state())
            .map(|state| &**state)
    }

    /// Aborts the task: its future is dropped at the next chance and the
    /// handle resolves to a cancelled `JoinError`. A pool job that already
    /// started runs to the end, as in tokio.
    pub fn abort(&self) {
        match self.handle() {
            Handle::Plain(handle) => handle.abort(),
            handle => handle.state().map_or((), |state| state.abort()),
        }
    }

    /// True once the task's future is gone: completed, panicked or aborted
    /// (or left at the end of its run).
    pub fn is_finished(&self) -> bool {
        match self.handle() {
            Handle::Plain(handle) => handle.abort_handle().is_finished(),
            handle => handle.state().is_some_and(|state| state.finished.get()),
        }
    }

    /// An `AbortHandle` for the task.
    pub fn abort_handle(&self) -> AbortHandle {
        match self.handle() {
            Handle::Plain(handle) => AbortHandle {
                inner: Abort::Task(handle.abort_handle()),
            },
            _ => AbortHandle::new(self.state()),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        match self.handle() {
            Handle::Plain(handle) => Id::of(handle.id()),
            handle => handle.state().map_or(Id(0), |state| state.id.get()),
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        // A completion spends a unit of the task's budget, as tokio's does.
        crate::coop::poll_cooperative(context, |context| self.poll_inner(context))
    }
}

impl<T> JoinHandle<T> {
    fn poll_inner(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let handle = self
            .get_mut()
            .inner
            .get_mut()
            .unwrap_or_else(|| registry::foreign("a tokio::task::JoinHandle"));
        let entry = match handle {
            Handle::Plain(handle) | Handle::Running(handle, _) => {
                return Pin::new(handle)
                    .poll(context)
                    .map(|result| result.map_err(JoinError::from_sim))
            }
            Handle::Deferred(entry) => entry,
        };
        let mut slot = entry.slot.borrow_mut();
        match &mut *slot {
            Slot::Running(handle) => Pin::new(handle)
                .poll(context)
                .map(|result| result.map_err(JoinError::from_sim)),
            Slot::Deferred(_) if entry.state.cancelled_early.get() => {
                Poll::Ready(Err(JoinError::cancelled(entry.state.id.get())))
            }
            Slot::Deferred(waiter) => {
                // Woken when the task starts, or when it is aborted first.
                *waiter = Some(context.waker().clone());
                entry.state.listen(Listener::Waker(context.waker().clone()));
                Poll::Pending
            }
            Slot::CancelledEarly => Poll::Ready(Err(JoinError::cancelled(entry.state.id.get()))),
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.get() {
            Some(_) => f
                .debug_struct("JoinHandle")
                .field("id", &self.id())
                .field("finished", &self.is_finished())
                .finish(),
            None => f.debug_struct("JoinHandle").finish_non_exhaustive(),
        }
    }
}

/// Aborts a task without joining it. `Send`, `Sync` and `Clone`: usable on
/// its run's thread, as a `JoinHandle` (a plain `spawn`'s is the engine's
/// abort handle, plain data: on another thread or past its run it aborts
/// nothing and reads finished).
pub struct AbortHandle {
    inner: Abort,
}

enum Abort {
    /// A plain `spawn`'s task: the engine's abort handle.
    Task(asyncsim::task::AbortHandle),
    /// A `JoinSet`'s or `LocalSet`'s task: the face's state.
    State(Local<Rc<TaskState>>),
}

impl AbortHandle {
    fn new(state: Rc<TaskState>) -> AbortHandle {
        AbortHandle {
            inner: Abort::State(Local::new(state)),
        }
    }

    fn state(state: &Local<Rc<TaskState>>) -> &Rc<TaskState> {
        state
            .get()
            .unwrap_or_else(|| registry::foreign("a tokio::task::AbortHandle"))
    }

    /// Aborts the task, as [`JoinHandle::abort`] does.
    pub fn abort(&self) {
        match &self.inner {
            Abort::Task(task) => task.abort(),
            Abort::State(state) => Self::state(state).abort(),
        }
    }

    /// True once the task's future is gone.
    pub fn is_finished(&self) -> bool {
        match &self.inner {
            Abort::Task(task) => task.is_finished(),
            Abort::State(state) => Self::state(state).finished.get(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        match &self.inner {
            Abort::Task(task) => Id::of(task.id()),
            Abort::State(state) => Self::state(state).id.get(),
        }
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        match &self.inner {
            Abort::Task(task) => AbortHandle {
                inner: Abort::Task(*task),
            },
            Abort::State(state) => AbortHandle::new(Self::state(state).clone()),
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = match &self.inner {
            Abort::Task(task) => Some(Id::of(task.id())),
            Abort::State(state) => state.get().map(|state| state.id.get()),
        };
        match id {
            Some(id) => f.debug_struct("AbortHandle").field("id", &id).finish(),
            None => f.debug_struct("AbortHandle").finish_non_exhaustive(),
        }
    }
}

// tokio's handles are `UnwindSafe`, so code may hold one across
// `catch_unwind`; the face's hold a `ThreadBound` (a thread-checked cell),
// which takes the marker away by default. After a caught panic they are as
// usable as tokio's (the marker is advisory: no unsafe code relies on it).
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}
impl std::panic::UnwindSafe for AbortHandle {}
impl std::panic::RefUnwindSafe for AbortHandle {}
