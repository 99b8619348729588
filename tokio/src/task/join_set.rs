//! `JoinSet`: a set of tasks whose results come out in completion order.
//!
//! Each member's task tells the set's completion queue when its future goes
//! away (completes, panics or is aborted), so `join_next` returns members in
//! the order they finished, as tokio's does. When nothing has finished yet,
//! the set waits on its oldest member's handle too, so a deadlock report
//! names a task ("waits on JoinHandle of `task-3`") rather than an unknown
//! future.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{AbortHandle, Id, JoinError, JoinHandle, Listener, Local};
use crate::handle::Handle;
use crate::registry;

/// The members that finished, in the order they finished, and the task
/// waiting for one.
pub(crate) struct Completions {
    finished: RefCell<VecDeque<u64>>,
    waiter: RefCell<Option<Waker>>,
}

impl Completions {
    pub(crate) fn push(&self, member: u64) {
        self.finished.borrow_mut().push_back(member);
        if let Some(waiter) = self.waiter.borrow_mut().take() {
            waiter.wake();
        }
    }
}

struct SetState<T> {
    completions: Rc<Completions>,
    /// Members by number, oldest first.
    members: RefCell<BTreeMap<u64, JoinHandle<T>>>,
    next_member: Cell<u64>,
}

impl<T> Drop for SetState<T> {
    fn drop(&mut self) {
        // tokio: dropping a JoinSet aborts its tasks.
        for handle in self.members.get_mut().values() {
            if let Some(state) = handle.try_state() {
                state.abort();
            }
        }
    }
}

/// A collection of tasks spawned on the simulated run; `join_next` returns
/// their results in the order they finished. Dropping the set aborts every
/// task still in it. `Send` and `Sync`, as tokio's.
///
/// ```
/// use asyncsim_tokio as tokio;
/// use std::time::Duration;
///
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let order = runtime.block_on(async {
///     let mut set = tokio::task::JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             tokio::time::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     set.join_all().await
/// });
/// assert_eq!(order, [10, 20, 30]);
/// ```
pub struct JoinSet<T> {
    // Bound to the run's thread (`ThreadBound`, as a `JoinHandle`'s state
    // is), not kept in the face's table of `dyn Any` entries, which would ask
    // `T: 'static`: tokio's `new`, `len`, `is_empty`, `Default` and `Debug`
    // ask nothing of `T`, so a type generic over the output wraps a set with
    // no bound of its own. Dropped on its thread, the state aborts the tasks
    // still in the set; on another, it is leaked (`ThreadBound`).
    state: Local<Rc<SetState<T>>>,
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        let state = SetState::<T> {
            completions: Rc::new(Completions {
                finished: RefCell::new(VecDeque::new()),
                waiter: RefCell::new(None),
            }),
            members: RefCell::new(BTreeMap::new()),
            next_member: Cell::new(0),
        };
        JoinSet {
            state: Local::new(Rc::new(state)),
        }
    }

    fn state(&self) -> Rc<SetState<T>> {
        self.state
            .get()
            .cloned()
            .unwrap_or_else(|| registry::foreign("a tokio::task::JoinSet"))
    }

    /// How many tasks are in the set (finished ones not yet joined count).
    pub fn len(&self) -> usize {
        self.state().members.borrow().len()
    }

    /// True when the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, spawn: impl FnOnce(Listener) -> JoinHandle<T>) -> AbortHandle {
        let state = self.state();
        let member = state.next_member.get();
        state.next_member.set(member + 1);
        let handle = spawn(Listener::Set(Rc::downgrade(&state.completions), member));
        let abort = handle.abort_handle();
        state.members.borrow_mut().insert(member, handle);
        abort
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a task into the set.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        super::require_run("tokio::task::JoinSet::spawn");
        {
            let site = std::panic::Location::caller();
            self.insert(|listener| super::spawn_now(task, Some(listener), site))
        }
    }

    /// Spawns a task into the set (the handle names the only runtime there
    /// is: the current run).
    #[track_caller]
    pub fn spawn_on<F>(&mut self, task: F, _handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        self.spawn(task)
    }

    /// Spawns a `!Send` task into the set.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        super::require_run("tokio::task::JoinSet::spawn_local");
        {
            let site = std::panic::Location::caller();
            self.insert(|listener| super::spawn_now(task, Some(listener), site))
        }
    }

    /// Spawns a `!Send` task into the set; the `LocalSet` plays no part (every
    /// task of a simulated run is local).
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, task: F, _local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.spawn_local(task)
    }

    /// Runs `work` on the simulated blocking pool, as a member of the set.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, work: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        super::require_run("tokio::task::JoinSet::spawn_blocking");
        {
            let site = std::panic::Location::caller();
            self.insert(|listener| super::spawn_blocking_now(work, Some(listener), site))
        }
    }

    /// [`JoinSet::spawn_blocking`]; the handle names the current run.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, work: F, _handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send,
    {
        self.spawn_blocking(work)
    }

    /// Waits for a member to finish and returns its result; `None` when the
    /// set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|context| self.poll_join_next(context)).await
    }

    /// [`JoinSet::join_next`], with the task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|context| self.poll_join_next_with_id(context)).await
    }

    /// A member that already finished, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, output)| output))
    }

    /// [`JoinSet::try_join_next`], with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let waker = registry::noop_waker();
        let mut context = Context::from_waker(&waker);
        match self.poll_finished(&mut context) {
            Poll::Ready(result) => result,
            Poll::Pending => None,
        }
    }

    /// Aborts every member and waits until each has finished.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every member; their outputs in the order they finished.
    ///
    /// # Panics
    ///
    /// When a member panicked (its panic continues here) or was aborted.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(error) => panic!("{error}"),
            }
        }
        outputs
    }

    /// Aborts every member; they stay in the set until joined.
    pub fn abort_all(&mut self) {
        let state = self.state();
        for handle in state.members.borrow().values() {
            handle.abort();
        }
    }

    /// Removes every member without aborting it: they run on, detached.
    pub fn detach_all(&mut self) {
        let state = self.state();
        let members = std::mem::take(&mut *state.members.borrow_mut());
        state.completions.finished.borrow_mut().clear();
        drop(members);
    }

    /// Polls for the next member to finish.
    pub fn poll_join_next(
        &mut self,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(context)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// Polls for the next member to finish, with its id.
    pub fn poll_join_next_with_id(
        &mut self,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        let poll = self.poll_finished(context);
        if poll.is_pending() {
            let state = self.state();
            *state.completions.waiter.borrow_mut() = Some(context.waker().clone());
        }
        poll
    }

    /// The next finished member's result, if one is there; otherwise waits on
    /// the oldest member's handle (which names it in a deadlock report).
    fn poll_finished(
        &mut self,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        let state = self.state();
        loop {
            let next = state.completions.finished.borrow_mut().pop_front();
            let Some(member) = next else { break };
            let Some(mut handle) = state.members.borrow_mut().remove(&member) else {
                continue; // joined already, or detached
            };
            match Pin::new(&mut handle).poll(context) {
                Poll::Ready(result) => return Poll::Ready(Some(with_id(&handle, result))),
                Poll::Pending => {
                    // A pool job's closure ended before its handle resolves
                    // (its virtual finish time): wait for that handle.
                    state.members.borrow_mut().insert(member, handle);
                    state.completions.finished.borrow_mut().push_front(member);
                    return Poll::Pending;
                }
            }
        }
        let oldest = state.members.borrow().keys().next().copied();
        let Some(member) = oldest else {
            return Poll::Ready(None);
        };
        let mut members = state.members.borrow_mut();
        let handle = members
            .get_mut(&member)
            .expect("the oldest member is in the set");
        match Pin::new(&mut *handle).poll(context) {
            Poll::Ready(result) => {
                let handle = members
                    .remove(&member)
                    .expect("the oldest member is in the set");
                Poll::Ready(Some(with_id(&handle, result)))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

fn with_id<T: 'static>(
    handle: &JoinHandle<T>,
    result: Result<T, JoinError>,
) -> Result<(Id, T), JoinError> {
    result.map(|output| (handle.id(), output))
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state.get() {
            Some(state) => f
                .debug_struct("JoinSet")
                .field("len", &state.members.borrow().len())
                .finish(),
            None => f.debug_struct("JoinSet").finish_non_exhaustive(),
        }
    }
}

/// The spawn site of the members `from_iter` and `extend` spawn: their
/// caller's line when user code calls them (`JoinSet::from_iter(…)`,
/// `set.extend(…)`); this file's when the call comes from the standard
/// library (`iter.collect()`: `Iterator::collect` is not `#[track_caller]`,
/// so its caller's line cannot be known, and core's `iterator.rs` would name
/// nothing of the user's).
fn members_site(caller: &'static Location<'static>) -> &'static Location<'static> {
    let file = caller.file().replace('\\', "/");
    let in_std = ["library/core/", "library/alloc/", "library/std/"]
        .iter()
        .any(|library| file.contains(library));
    if in_std {
        Location::caller()
    } else {
        caller
    }
}

impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let site = members_site(Location::caller());
        let mut set = JoinSet::new();
        set.spawn_all_at(iter, site);
        set
    }
}

impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        let site = members_site(Location::caller());
        self.spawn_all_at(iter, site);
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns each future into the set, all named by `site`.
    fn spawn_all_at<F: Future<Output = T> + Send + 'static>(
        &mut self,
        iter: impl IntoIterator<Item = F>,
        site: &'static Location<'static>,
    ) where
        T: Send,
    {
        super::require_run("tokio::task::JoinSet::extend");
        for future in iter {
            self.insert(|listener| super::spawn_now(future, Some(listener), site));
        }
    }
}
