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
use std::panic::Location;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use crate::explain::{self, Explained};
use crate::registry;
use asyncsim::task::ThreadBound as Local;

pub mod join_set;
mod local;

pub use join_set::JoinSet;
pub use local::{LocalEnterGuard, LocalSet};

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

/// Why a task's `JoinHandle` resolved without its output.
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// Dropped with its node's crash: a cancellation, as tokio reports the
    /// tasks of a runtime that shut down.
    Crashed(String),
    /// The panic message, with its location when the engine captured it,
    /// and the node the task ran on when it was not the main node.
    Panic(String, Option<String>),
}

impl JoinError {
    fn from_sim(error: asyncsim::JoinError) -> JoinError {
        let id = Id::of(error.task());
        if let Some(node) = error.crashed_node() {
            return JoinError {
                id,
                repr: Repr::Crashed(node.to_string()),
            };
        }
        match error.panic_message() {
            Some(message) => JoinError {
                id,
                repr: Repr::Panic(message.to_string(), error.panic_node().map(str::to_string)),
            },
            None => JoinError {
                id,
                repr: Repr::Cancelled,
            },
        }
    }

    fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    /// True when the task was aborted, or dropped with its node's crash.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled | Repr::Crashed(_))
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(..))
    }

    /// The panic's payload: the message as a `String` (the engine keeps the
    /// message, with its location, rather than the original payload).
    ///
    /// # Panics
    ///
    /// When the task did not panic.
    pub fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }

    /// The panic's payload, or the error back when the task did not panic.
    pub fn try_into_panic(self) -> Result<Box<dyn std::any::Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(message, _) => Ok(Box::new(message)),
            Repr::Cancelled | Repr::Crashed(_) => Err(self),
        }
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Crashed(node) => write!(
                f,
                "task {} was cancelled: its node `{node}` crashed",
                self.id
            ),
            Repr::Panic(message, None) => {
                write!(f, "task {} panicked with message {message:?}", self.id)
            }
            Repr::Panic(message, Some(node)) => write!(
                f,
                "task {} on node `{node}` panicked with message {message:?}",
                self.id
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Crashed(node) => write!(
                f,
                "JoinError::Cancelled({:?}, node {node:?} crashed)",
                self.id
            ),
            Repr::Panic(message, None) => {
                write!(f, "JoinError::Panic({:?}, {message:?}, ...)", self.id)
            }
            Repr::Panic(message, Some(node)) => write!(
                f,
                "JoinError::Panic({:?}, {message:?}, node {node:?}, ...)",
                self.id
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
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

// ---------------------------------------------------------------------------
// Spawning.
// ---------------------------------------------------------------------------

/// Panics unless a simulated run is on this thread, naming `what` (at the
/// user's line, through the `#[track_caller]` entry points).
#[track_caller]
pub(crate) fn require_run(what: &str) {
    if asyncsim::task::current().is_none() {
        outside_a_run(what);
    }
}

/// The panic of `what` used with no simulated run on this thread, at the
/// user's line (through the `#[track_caller]` entry points).
#[cold]
#[track_caller]
pub(crate) fn outside_a_run(what: &str) -> ! {
    panic!(
        "{what} was called outside a simulated run: with the `simulation` feature, tokio's \
         runtime is asyncsim's, so call it inside #[tokio::test], #[tokio::main] or \
         Runtime::block_on (and not on a thread you started yourself)"
    );
}

/// Spawns `future` on the current run now, named by its spawn site
/// (`task-3@src/server.rs:42`, the file relative to its crate; the engine interns the name).
pub(crate) fn spawn_now<F>(
    future: F,
    listener: Option<Listener>,
    site: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = TaskState::new(Id(0));
    if let Some(listener) = listener {
        state.listen(listener);
    }
    let handle = asyncsim::task::Builder::new().site(site).spawn(Tracked {
        future: Explained::new(future),
        finish: FinishOnDrop(state.clone()),
    });
    state.task.set(Some(handle.id()));
    state.id.set(Id::of(handle.id()));
    JoinHandle::new(Handle::Running(handle, state))
}

/// Spawns `future` on the current run now as a plain task (`tokio::spawn`):
/// the engine's task and handle, with nothing of the face's around them.
pub(crate) fn spawn_plain<F>(future: F, site: &'static Location<'static>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let handle = asyncsim::task::Builder::new()
        .site(site)
        .spawn(Explained::new(future));
    JoinHandle::new(Handle::Plain(handle))
}

/// Starts a held-back task.
pub(crate) type Start = Box<dyn FnOnce()>;

/// A task held back until a `LocalSet` starts it: its handle now, and the
/// start (which spawns it, unless it was aborted before).
pub(crate) fn spawn_deferred<F>(
    future: F,
    site: &'static Location<'static>,
) -> (JoinHandle<F::Output>, Rc<TaskState>, Start)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = TaskState::new(Id(next_deferred_id()));
    let entry = Rc::new(JoinEntry {
        slot: RefCell::new(Slot::Deferred(None)),
        state: state.clone(),
    });
    let handle = JoinHandle::new(Handle::Deferred(entry.clone()));
    let start = {
        let state = state.clone();
        Box::new(move || {
            let previous = std::mem::replace(&mut *entry.slot.borrow_mut(), Slot::CancelledEarly);
            if !state.cancelled_early.get() {
                let handle = asyncsim::task::Builder::new().site(site).spawn(Tracked {
                    future: Explained::new(future),
                    finish: FinishOnDrop(state.clone()),
                });
                state.task.set(Some(handle.id()));
                state.id.set(Id::of(handle.id()));
                *entry.slot.borrow_mut() = Slot::Running(handle);
            }
            if let Slot::Deferred(Some(waiter)) = previous {
                waiter.wake();
            }
        }) as Box<dyn FnOnce()>
    };
    (handle, state, start)
}

/// Ids for tasks a `LocalSet` holds back, counting down from the top so they
/// never meet the engine's task numbers; replaced by the engine's number
/// when the task starts.
fn next_deferred_id() -> u64 {
    thread_local! {
        static NEXT: Cell<u64> = const { Cell::new(u64::MAX) };
    }
    NEXT.with(|next| next.replace(next.get() - 1))
}

thread_local! {
    /// True while a `spawn_blocking` closure runs (on the run's thread).
    static IN_POOL_JOB: Cell<bool> = const { Cell::new(false) };
}

/// Whether a `spawn_blocking` closure is running: tokio lets one call
/// `Handle::block_on` (its pool is threads of their own), which a simulated
/// run cannot do, and its refusal says why.
pub(crate) fn in_pool_job() -> bool {
    IN_POOL_JOB.with(Cell::get)
}

/// Marks a pool job's closure while it runs (unmarked however it ends).
struct PoolJob(bool);

impl PoolJob {
    fn enter() -> PoolJob {
        PoolJob(IN_POOL_JOB.with(|flag| flag.replace(true)))
    }
}

impl Drop for PoolJob {
    fn drop(&mut self) {
        IN_POOL_JOB.with(|flag| flag.set(self.0));
    }
}

/// Runs `work` on the simulated pool now, named by its spawn site
/// (`blocking-4@src/server.rs:42`).
pub(crate) fn spawn_blocking_now<F, R>(
    work: F,
    listener: Option<Listener>,
    site: &'static Location<'static>,
) -> JoinHandle<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    let state = TaskState::new(Id(0));
    if let Some(listener) = listener {
        state.listen(listener);
    }
    let finish = FinishOnDrop(state.clone());
    let handle = asyncsim::task::Builder::new()
        .site(site)
        .spawn_blocking(move || {
            let _finish = finish;
            let _job = PoolJob::enter();
            explain::call(work)
        });
    state.task.set(Some(handle.id()));
    state.id.set(Id::of(handle.id()));
    JoinHandle::new(Handle::Running(handle, state))
}

/// Spawns a task on the current simulated run (tokio's `spawn`). It first
/// runs when the run's chooser picks it.
///
/// # Panics
///
/// Outside a simulated run.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    require_run("tokio::spawn");
    spawn_plain(future, Location::caller())
}

/// Spawns a `!Send` task (tokio's `spawn_local`). In a simulated run every
/// task is local, so this works anywhere in the run, inside a `LocalSet` or
/// not.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    require_run("tokio::task::spawn_local");
    spawn_plain(future, Location::caller())
}

/// Runs `work` on the simulated blocking pool (`Config::pool_size` workers).
/// The closure runs to its end when a worker takes it; it takes no virtual
/// time unless it calls `asyncsim::blocking::sleep`.
#[track_caller]
pub fn spawn_blocking<F, R>(work: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    require_run("tokio::task::spawn_blocking");
    spawn_blocking_now(work, None, Location::caller())
}

/// Yields to the scheduler once: every other runnable task may run first.
pub async fn yield_now() {
    asyncsim::yield_now().await;
}

/// Runs `work` at once, on the run's thread, and returns what it returns.
///
/// tokio's multi-thread runtime runs the closure in place too, after
/// handing the worker's other tasks to another thread, so they go on
/// meanwhile; a simulated run has one thread, so here they wait until the
/// closure returns, which is one of their schedules (virtual time stands
/// still meanwhile, as in any poll). A closure that waits for another task
/// of the run (a `std::sync::mpsc` receive from one, `Handle::block_on`)
/// therefore never returns: the hang watchdog names it (README, "When a
/// test hangs"); `spawn_blocking(..).await` is the way to let them run.
/// (tokio's current-thread runtime panics instead: the face does not tell
/// the flavours apart.)
#[track_caller]
pub fn block_in_place<F, R>(work: F) -> R
where
    F: FnOnce() -> R,
{
    work()
}

// tokio's handles are `UnwindSafe`, so code may hold one across
// `catch_unwind`; the face's hold a `ThreadBound` (a thread-checked cell),
// which takes the marker away by default. After a caught panic they are as
// usable as tokio's (the marker is advisory: no unsafe code relies on it).
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}
impl std::panic::UnwindSafe for AbortHandle {}
impl std::panic::RefUnwindSafe for AbortHandle {}
