//! Spawning: `spawn`, `spawn_local` and `spawn_blocking` (the face's tasks
//! on the run, named by their spawn site), tasks held back until a run
//! starts (`Runtime::spawn` outside `block_on`), `yield_now` and
//! `block_in_place`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::Location;
use std::rc::Rc;

use super::{FinishOnDrop, Handle, Id, JoinEntry, JoinHandle, Listener, Slot, TaskState, Tracked};
use crate::explain::{self, Explained};

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
