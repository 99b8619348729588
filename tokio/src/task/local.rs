//! `LocalSet`: in a simulated run every task is already local (one thread),
//! so a `LocalSet` only has to hold back the tasks spawned on it before it
//! runs, start them when it is first driven (`run_until`, `block_on`, or
//! awaiting it), and, awaited, wait for all of them.
//!
//! Unlike tokio's, its tasks keep running after `run_until` returns (they
//! are ordinary tasks of the run); tokio would pause them until the set is
//! driven again.

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{JoinHandle, Listener, TaskState};
use crate::runtime::Runtime;

#[derive(Default)]
struct Inner {
    /// Tasks spawned before the set ran: started when it first runs.
    held_back: Vec<Box<dyn FnOnce()>>,
    members: Vec<Rc<TaskState>>,
}

/// A set of `!Send` tasks. See the module documentation for how it differs
/// from tokio's.
///
/// ```
/// use asyncsim_tokio as tokio;
///
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let local = tokio::task::LocalSet::new();
/// let shared = std::rc::Rc::new(std::cell::Cell::new(0));
/// let counter = shared.clone();
/// local.spawn_local(async move { counter.set(counter.get() + 1) });
/// runtime.block_on(local); // awaiting the set waits for its tasks
/// assert_eq!(shared.get(), 1);
/// ```
pub struct LocalSet {
    inner: Rc<RefCell<Inner>>,
    id: std::num::NonZeroU64,
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet {
            inner: Rc::default(),
            id: crate::runtime::next_id(),
        }
    }
}

/// The guard of [`LocalSet::enter`]; it changes nothing in a simulated run.
#[derive(Debug)]
pub struct LocalEnterGuard {
    _not_send: PhantomData<*const ()>,
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet::default()
    }

    /// The set's id (one counter with the runtimes', as tokio's).
    pub fn id(&self) -> crate::runtime::Id {
        crate::runtime::Id::from_local_set(self.id)
    }

    /// Enters the set's context (a no-op here).
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard {
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` task on the set: at once inside a run, else when the
    /// set first runs.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (handle, state) = if asyncsim::task::current().is_some() {
            let handle = super::spawn_now(future, None, std::panic::Location::caller());
            let state = handle.state();
            (handle, state)
        } else {
            let (handle, state, start) =
                super::spawn_deferred(future, std::panic::Location::caller());
            self.inner.borrow_mut().held_back.push(start);
            (handle, state)
        };
        self.inner.borrow_mut().members.push(state);
        handle
    }

    fn start_held_back(&self) {
        let held_back = std::mem::take(&mut self.inner.borrow_mut().held_back);
        for start in held_back {
            start();
        }
    }

    /// Runs `future` with the set's tasks started.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        super::require_run("tokio::task::LocalSet::run_until");
        self.start_held_back();
        future.await
    }

    /// Runs `future` on `runtime` (one simulated run) with the set's tasks.
    pub fn block_on<F: Future>(&self, runtime: &Runtime, future: F) -> F::Output {
        runtime.block_on(self.run_until(future))
    }
}

impl Future for LocalSet {
    type Output = ();

    /// Starts the held-back tasks and waits until every task of the set has
    /// finished.
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        self.start_held_back();
        let mut inner = self.inner.borrow_mut();
        inner.members.retain(|state| !state.finished.get());
        match inner.members.first() {
            None => Poll::Ready(()),
            Some(state) => {
                state.listen(Listener::Waker(context.waker().clone()));
                Poll::Pending
            }
        }
    }
}

impl std::fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSet").finish_non_exhaustive()
    }
}
