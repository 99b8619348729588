//! Join slots and handles: where a task's output (or why it has none)
//! waits for whoever awaits it. The kernel fills a slot when the task
//! completes, panics, is aborted or is dropped with its node; the handle
//! (re-exported as `task::JoinHandle`) reads it. Here, beside the kernel
//! that drives the protocol, so the kernel names nothing of `api/`.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::{abort_task, current_run_id, set_waiting_on, task_done};
use crate::raw::{Completes, JobCell, TaskCell, TaskRc, Upcast};
use crate::trace::{TaskId, WaitOn};

/// Why a `JoinHandle` resolved without the task's output.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinError(
    /// Boxed: every join slot holds room for a `Result<T, JoinError>`, and
    /// errors are rare; one pointer keeps a task's cell small.
    Box<JoinErrorInner>,
);

#[derive(Clone, PartialEq, Eq)]
struct JoinErrorInner {
    task: TaskId,
    name: String,
    /// The panic message (with location), or `None` for a cancellation or
    /// a crash.
    panic: Option<String>,
    /// The name of the node whose crash dropped the task, if that is why.
    crashed_node: Option<String>,
    /// The node a panicked task ran on, when not the main node.
    panic_node: Option<String>,
}

impl JoinError {
    /// `node`: the task's node when not the main node.
    pub(crate) fn panicked(
        task: TaskId,
        name: String,
        message: String,
        node: Option<String>,
    ) -> JoinError {
        JoinError(Box::new(JoinErrorInner {
            task,
            name,
            panic: Some(message),
            crashed_node: None,
            panic_node: node,
        }))
    }

    pub(crate) fn cancelled(task: TaskId, name: String) -> JoinError {
        JoinError(Box::new(JoinErrorInner {
            task,
            name,
            panic: None,
            crashed_node: None,
            panic_node: None,
        }))
    }

    /// The task was dropped because its node crashed.
    pub(crate) fn crashed(task: TaskId, name: String, node: String) -> JoinError {
        JoinError(Box::new(JoinErrorInner {
            task,
            name,
            panic: None,
            crashed_node: Some(node),
            panic_node: None,
        }))
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        self.0.panic.is_some()
    }

    /// The name of the node a panicked task ran on, when not the main node
    /// (its Display says "task `t` on node `server` panicked …").
    pub fn panic_node(&self) -> Option<&str> {
        self.0.panic_node.as_deref()
    }

    /// True when the task was aborted.
    pub fn is_cancelled(&self) -> bool {
        self.0.panic.is_none() && self.0.crashed_node.is_none()
    }

    /// True when the task was dropped because the node it ran on crashed.
    pub fn is_crashed(&self) -> bool {
        self.0.crashed_node.is_some()
    }

    /// The name of the node whose crash dropped the task, if that is how it
    /// ended.
    pub fn crashed_node(&self) -> Option<&str> {
        self.0.crashed_node.as_deref()
    }

    /// The panic message with its location (`at src/lib.rs:12: message`), if
    /// the task panicked.
    pub fn panic_message(&self) -> Option<&str> {
        self.0.panic.as_deref()
    }

    /// The task.
    pub fn task(&self) -> TaskId {
        self.0.task
    }

    /// The task's name.
    pub fn task_name(&self) -> &str {
        &self.0.name
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("JoinError");
        debug
            .field("task", &self.0.task)
            .field("name", &self.0.name)
            .field("panic", &self.0.panic);
        if let Some(node) = &self.0.crashed_node {
            debug.field("crashed_node", node);
        }
        if let Some(node) = &self.0.panic_node {
            debug.field("node", node);
        }
        debug.finish()
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.panic, &self.0.crashed_node) {
            (Some(message), _) => match &self.0.panic_node {
                Some(node) => write!(
                    f,
                    "task `{}` on node `{node}` panicked {message}",
                    self.0.name
                ),
                None => write!(f, "task `{}` panicked {message}", self.0.name),
            },
            (None, Some(node)) => write!(
                f,
                "task `{}` was dropped because node `{node}` crashed",
                self.0.name
            ),
            (None, None) => write!(f, "task `{}` was cancelled", self.0.name),
        }
    }
}

impl std::error::Error for JoinError {}

struct JoinInner<T> {
    result: Option<Result<T, JoinError>>,
    finished: bool,
    waiter: Option<Waker>,
    handle_alive: bool,
    /// The handle took the result (so a panic was retrieved).
    retrieved: bool,
}

/// Where a task's output waits for its handle.
pub(crate) struct JoinSlot<T> {
    task: TaskId,
    run_id: u64,
    inner: RefCell<JoinInner<T>>,
}

/// The type-erased face of a join slot, for the kernel.
pub(crate) trait JoinSlotAny {
    /// Resolves the handle with an error and wakes its waiter.
    fn fail(&self, error: JoinError);
    /// True while a `JoinHandle` exists that could observe the result.
    fn handle_alive(&self) -> bool;
    /// True when the task panicked and the handle never took the result.
    fn panic_unretrieved(&self) -> bool;
}

impl<T> JoinSlot<T> {
    pub(crate) fn new(task: TaskId, run_id: u64) -> JoinSlot<T> {
        JoinSlot {
            task,
            run_id,
            inner: RefCell::new(JoinInner {
                result: None,
                finished: false,
                waiter: None,
                handle_alive: true,
                retrieved: false,
            }),
        }
    }

    /// Stores the result and wakes the waiter (asyncio: the done callbacks
    /// are queued in registration order, the waiter resumes later).
    // Inlined into a task's poll: left to the inliner, whether it was
    // flipped with unrelated changes elsewhere (+120 instructions a
    // `10x10` run when not).
    #[inline]
    pub(crate) fn complete(&self, result: Result<T, JoinError>) {
        let waiter = {
            let mut inner = self.inner.borrow_mut();
            if inner.finished {
                return;
            }
            inner.finished = true;
            inner.result = Some(result);
            inner.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<T> JoinSlotAny for JoinSlot<T> {
    fn fail(&self, error: JoinError) {
        self.complete(Err(error));
    }

    fn handle_alive(&self) -> bool {
        self.inner.borrow().handle_alive
    }

    fn panic_unretrieved(&self) -> bool {
        let inner = self.inner.borrow();
        !inner.retrieved && matches!(&inner.result, Some(Err(error)) if error.is_panic())
    }
}

/// A finished future's output goes to its slot.
impl<T> Completes<T> for JoinSlot<T> {
    #[inline]
    fn complete(&self, output: T) {
        JoinSlot::complete(self, Ok(output));
    }
}

/// The engine keeps every task's slot as a `dyn JoinSlotAny`.
impl<T: 'static> Upcast<dyn JoinSlotAny> for JoinSlot<T> {
    #[inline(always)]
    fn upcast(&self) -> &(dyn JoinSlotAny + 'static) {
        self
    }
}

/// A handle's view of a task: the join slot with the output type.
pub(crate) trait JoinSlotRef<T> {
    fn join_slot(&self) -> &JoinSlot<T>;
}

impl<F: Future> JoinSlotRef<F::Output> for TaskCell<JoinSlot<F::Output>, F> {
    #[inline(always)]
    fn join_slot(&self) -> &JoinSlot<F::Output> {
        self.header()
    }
}

impl<T> JoinSlotRef<T> for JobCell<JoinSlot<T>> {
    #[inline(always)]
    fn join_slot(&self) -> &JoinSlot<T> {
        self.header()
    }
}

/// A handle to a spawned task (or pool job): await it for the output.
///
/// Awaiting gives `Ok(output)`, or a [`JoinError`] when the task panicked or
/// was aborted. Awaiting a task that already finished returns at once
/// without yielding, like awaiting a done asyncio `Task`. Dropping the handle
/// detaches the task: it keeps running, and a panic in a detached task fails
/// the run (nobody else could see it).
///
/// ```
/// use asyncsim_sim::{Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     let handle = asyncsim_sim::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(run.result.unwrap(), 42);
/// ```
///
/// A handle is bound to the run that made it: awaiting it elsewhere panics
/// with an explanation instead of hanging forever.
#[must_use = "dropping a JoinHandle detaches the task; await it to get its output"]
pub struct JoinHandle<T> {
    cell: TaskRc<dyn JoinSlotRef<T>>,
    /// `!Send`: a handle belongs to its single-threaded run.
    _not_send: PhantomData<*const ()>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(cell: TaskRc<dyn JoinSlotRef<T>>) -> JoinHandle<T> {
        JoinHandle {
            cell,
            _not_send: PhantomData,
        }
    }

    fn slot(&self) -> &JoinSlot<T> {
        self.cell.join_slot()
    }

    /// Cancels the task: its future is dropped at once (or when its current
    /// poll ends, if it aborts itself) and the handle resolves to a
    /// cancellation error. A pool job can only be cancelled before it starts.
    /// Aborting a finished task does nothing.
    ///
    /// ```
    /// use asyncsim_sim::{time, Config, Sim};
    /// use std::time::Duration;
    /// let run = Sim::new(Config::new()).run(async {
    ///     let sleeper = asyncsim_sim::spawn(time::sleep(Duration::from_secs(60)));
    ///     sleeper.abort();
    ///     sleeper.await.unwrap_err().is_cancelled()
    /// });
    /// assert_eq!(run.elapsed_ns(), 0);
    /// assert!(run.result.unwrap());
    /// ```
    /// Past its run (a handle kept after the run) it does nothing.
    pub fn abort(&self) {
        self.abort_handle().abort();
    }

    /// True once the task finished, panicked or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.slot().inner.borrow().finished
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.slot().task
    }

    /// An [`AbortHandle`] for the task: it aborts it without joining it.
    pub fn abort_handle(&self) -> AbortHandle {
        let slot = self.slot();
        AbortHandle {
            run_id: slot.run_id,
            task: slot.task,
        }
    }
}

/// Aborts a task without joining it: its run and its id, plain data (`Copy`,
/// `Send`, `Sync`); it holds nothing of the task alive. Past the task's run,
/// or on another thread, it aborts nothing and reports the task finished
/// (it cannot run any more).
///
/// ```
/// use asyncsim_sim::{time, Config, Sim};
/// use std::time::Duration;
/// let run = Sim::new(Config::new()).run(async {
///     let sleeper = asyncsim_sim::spawn(time::sleep(Duration::from_secs(60)));
///     let abort = sleeper.abort_handle();
///     assert!(!abort.is_finished());
///     abort.abort();
///     let cancelled = sleeper.await.unwrap_err().is_cancelled();
///     (cancelled, abort.is_finished())
/// });
/// assert_eq!(run.result.unwrap(), (true, true));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortHandle {
    run_id: u64,
    task: TaskId,
}

impl AbortHandle {
    fn in_its_run(&self) -> bool {
        current_run_id() == Some(self.run_id)
    }

    /// Cancels the task, as [`JoinHandle::abort`] does.
    pub fn abort(&self) {
        if self.in_its_run() {
            abort_task(self.task);
        }
    }

    /// True once the task finished, panicked or was cancelled, or its run
    /// is over.
    pub fn is_finished(&self) -> bool {
        !self.in_its_run() || task_done(self.task)
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.task
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let slot = self.slot();
        let mut inner = slot.inner.borrow_mut();
        if inner.finished {
            inner.retrieved = true;
            return match inner.result.take() {
                Some(result) => Poll::Ready(result),
                None => panic!("JoinHandle polled again after it returned its output"),
            };
        }
        if current_run_id() != Some(slot.run_id) {
            panic!(
                "a JoinHandle of task {} was awaited outside the simulation run that spawned it; \
                 await it inside that run (the future passed to Sim::run), where the task can make progress",
                slot.task
            );
        }
        match &inner.waiter {
            Some(waiter) if waiter.will_wake(context.waker()) => {}
            _ => inner.waiter = Some(context.waker().clone()),
        }
        drop(inner);
        set_waiting_on(WaitOn::Join(slot.task));
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.slot().inner.borrow_mut().handle_alive = false;
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &self.slot().task)
            .field("finished", &self.is_finished())
            .finish()
    }
}
