//! asyncio's combinators: [`gather`], [`try_gather`], [`gather_results`],
//! [`wait`], [`as_completed`] and [`race`].
//!
//! Each one wraps every argument in a task (asyncio's `ensure_future`), at
//! the moment it is called, and then watches the tasks complete. The
//! children get names for the trace: `gather[0]`, `gather[1]`, … (the
//! argument index), `wait[2]`, `as_completed[1]`, `race[0]`.
//!
//! # Start order
//!
//! The order in which the children are spawned is the order in which they
//! first run under FIFO scheduling. [`StartOrder::Argument`] spawns them in
//! argument order (what `gather` does since Python 3.7);
//! [`StartOrder::Unordered`] draws the permutation from the tape (label
//! `start`), modelling a Python *set* of awaitables: what `gather` did in
//! 3.5–3.6, `wait` in 3.5–3.10 (3.11 refuses coroutines, so callers spawn
//! tasks in order first), and `as_completed` in every version. A drawn
//! permutation of all zeros is argument order, so shrinking moves toward it.
//!
//! ```
//! use asyncsim_sim::{gather, gather_with, StartOrder};
//! use asyncsim_sim::{time, Config, Sim, Strategy};
//! use std::time::Duration;
//!
//! let run = Sim::new(Config::new().seed(11).strategy(Strategy::Random)).run(async {
//!     let slow = time::sleep(Duration::from_secs(2));
//!     let fast = time::sleep(Duration::from_secs(1));
//!     let sizes = gather((1..=2).map(|size| async move { size })).await; // argument order
//!     let _ = gather_with(StartOrder::Unordered, [slow, fast]).await;
//!     sizes
//! });
//! assert_eq!(run.elapsed(), Duration::from_secs(2)); // concurrent: the max
//! assert_eq!(run.result.unwrap(), [1, 2]);
//! ```
//!
//! # Panics in children
//!
//! A panic in a child is a bug, not a value: [`gather`], [`try_gather`],
//! [`wait`], [`as_completed`] and [`race`] re-raise it in the awaiting task
//! as soon as they see it (so it fails the run, or that task's
//! `JoinHandle`), naming the child. [`gather_results`] and [`wait_results`]
//! return it as a [`JoinError`] instead, like asyncio's
//! `return_exceptions=True`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::cx;
use crate::tape::DrawLabel;
use crate::task::{Builder, JoinError, JoinHandle};
use crate::trace::WaitOn;

/// The order in which a combinator starts its children.
///
/// ```
/// use asyncsim_sim::StartOrder;
/// assert_eq!(StartOrder::default(), StartOrder::Argument);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StartOrder {
    /// In argument order (`gather` since Python 3.7).
    #[default]
    Argument,
    /// In a drawn order, like iterating a Python set: `gather` in 3.5–3.6,
    /// `wait` in 3.5–3.10, `as_completed` always.
    Unordered,
}

/// When [`wait`] returns.
///
/// ```
/// use asyncsim_sim::ReturnWhen;
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// When every child finished (`ALL_COMPLETED`).
    AllCompleted,
    /// When any child finished (`FIRST_COMPLETED`).
    FirstCompleted,
    /// When a child finished with an exception — an output for which
    /// [`Outcome::is_exception`] is true, or a panic — or when all finished
    /// (`FIRST_EXCEPTION`).
    FirstException,
}

/// What counts as an exception for [`ReturnWhen::FirstException`].
///
/// `Result` outputs are exceptions when they are `Err`; the other types
/// implemented here never are. For an output type of your own, implement
/// the trait with one line (the default method says "never an exception"):
///
/// ```
/// struct Reply(u32);
/// impl asyncsim_sim::Outcome for Reply {}
/// assert!(!asyncsim_sim::Outcome::is_exception(&Reply(1)));
/// assert!(asyncsim_sim::Outcome::is_exception(&Err::<(), _>("boom")));
/// ```
pub trait Outcome {
    /// True when this output is an error (asyncio: the task raised).
    fn is_exception(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_exception(&self) -> bool {
        self.is_err()
    }
}

impl<T> Outcome for Option<T> {}
impl<T> Outcome for Vec<T> {}
impl<T: Outcome + ?Sized> Outcome for Box<T> {
    fn is_exception(&self) -> bool {
        (**self).is_exception()
    }
}
impl Outcome for &str {}

macro_rules! never_exceptions {
    ($($type:ty),*) => {$(impl Outcome for $type {})*};
}

never_exceptions!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    Duration,
    crate::time::Instant
);

macro_rules! tuple_outcomes {
    ($(($($name:ident),+)),*) => {$(impl<$($name),+> Outcome for ($($name,)+) {})*};
}

tuple_outcomes!((A, B), (A, B, C), (A, B, C, D));

// ---------------------------------------------------------------------------
// The machinery: children as tasks, and a log of their completions.
// ---------------------------------------------------------------------------

/// Argument indexes of finished children, in the order they finished, and
/// the waker of the task watching them.
#[derive(Default)]
struct CompletionLog {
    finished: VecDeque<usize>,
    waker: Option<Waker>,
}

/// Lives inside a child task; when the child's future ends — output,
/// panic (the unwind drops it) or abort — it appends the child to the log
/// and wakes the watcher. This is what makes completion order exact even
/// when several children finish before the watcher runs again.
struct CompletionGuard {
    log: Rc<RefCell<CompletionLog>>,
    index: usize,
}

impl Drop for CompletionGuard {
    fn drop(&mut self) {
        let waker = {
            let Ok(mut log) = self.log.try_borrow_mut() else {
                return;
            };
            log.finished.push_back(self.index);
            log.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The children of one combinator call.
struct Children<T> {
    /// By argument index; `None` once its output was taken.
    handles: Vec<Option<JoinHandle<T>>>,
    log: Rc<RefCell<CompletionLog>>,
    /// Children whose output has not been taken yet.
    remaining: usize,
    /// Abort the children still running when dropped (asyncio cancels a
    /// `gather`'s children when the gather itself is cancelled).
    abort_on_drop: bool,
}

/// The start permutation: argument order, or drawn index by index among
/// the children not started yet (all-zero draws = argument order).
fn start_permutation(order: StartOrder, count: usize, what: &str) -> Vec<usize> {
    match order {
        StartOrder::Argument => (0..count).collect(),
        StartOrder::Unordered => {
            let mut remaining: Vec<usize> = (0..count).collect();
            let mut permutation = Vec::with_capacity(count);
            while !remaining.is_empty() {
                let position = cx::draw(DrawLabel::Start, remaining.len() as u64, what) as usize;
                permutation.push(remaining.remove(position.min(remaining.len() - 1)));
            }
            permutation
        }
    }
}

impl<T: 'static> Children<T> {
    /// Spawns every future as a task named `what[index]`, in `order`.
    fn spawn<I, F>(what: &'static str, order: StartOrder, futures: I) -> Children<T>
    where
        I: IntoIterator<Item = F>,
        F: Future<Output = T> + 'static,
    {
        let mut futures: Vec<Option<F>> = futures.into_iter().map(Some).collect();
        let count = futures.len();
        let log = Rc::new(RefCell::new(CompletionLog::default()));
        let mut handles: Vec<Option<JoinHandle<T>>> = (0..count).map(|_| None).collect();
        for index in start_permutation(order, count, what) {
            let future = futures[index]
                .take()
                .expect("a permutation visits each index once");
            let guard = CompletionGuard {
                log: log.clone(),
                index,
            };
            let handle = Builder::new()
                .name(format!("{what}[{index}]"))
                .spawn(async move {
                    let _guard = guard;
                    future.await
                });
            handles[index] = Some(handle);
        }
        Children {
            handles,
            log,
            remaining: count,
            abort_on_drop: false,
        }
    }

    /// The next child to finish: its argument index and result. `None` when
    /// every child's result was taken.
    fn poll_next(
        &mut self,
        context: &mut Context<'_>,
    ) -> Poll<Option<(usize, Result<T, JoinError>)>> {
        loop {
            if self.remaining == 0 {
                self.log.borrow_mut().waker = None;
                return Poll::Ready(None);
            }
            let next = self.log.borrow().finished.front().copied();
            let Some(index) = next else {
                self.log.borrow_mut().waker = Some(context.waker().clone());
                let first_pending = self.handles.iter().flatten().next().map(JoinHandle::id);
                if let Some(task) = first_pending {
                    cx::set_waiting_on(WaitOn::Join(task));
                }
                return Poll::Pending;
            };
            let Some(handle) = self.handles[index].as_mut() else {
                self.log.borrow_mut().finished.pop_front();
                continue;
            };
            match Pin::new(handle).poll(context) {
                Poll::Ready(result) => {
                    self.log.borrow_mut().finished.pop_front();
                    self.handles[index] = None;
                    self.remaining -= 1;
                    return Poll::Ready(Some((index, result)));
                }
                // The child's future ended but its result is not delivered
                // yet; the handle wakes us when it is.
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Stops watching; the children still running, by argument index.
    fn into_pending(mut self) -> Vec<(usize, JoinHandle<T>)> {
        self.log.borrow_mut().waker = None;
        self.abort_on_drop = false;
        std::mem::take(&mut self.handles)
            .into_iter()
            .enumerate()
            .filter_map(|(index, handle)| handle.map(|handle| (index, handle)))
            .collect()
    }

    /// Stops watching without cancelling anything: the children still
    /// running keep running, detached.
    /// Awaits every child and returns their values in argument order
    /// (`gather`'s loop, for each of its forms): `keep` turns a finished
    /// child's result into its value, or stops the gather with `Err`, which
    /// leaves the other children running, detached.
    async fn gather<V, S>(
        &mut self,
        mut keep: impl FnMut(usize, Result<T, JoinError>) -> Result<V, S>,
    ) -> Result<Vec<V>, S> {
        let mut values: Vec<Option<V>> = (0..self.handles.len()).map(|_| None).collect();
        while let Some((index, result)) = poll_fn(|context| self.poll_next(context)).await {
            match keep(index, result) {
                Ok(value) => values[index] = Some(value),
                Err(stop) => {
                    self.detach();
                    return Err(stop);
                }
            }
        }
        Ok(values
            .into_iter()
            .map(|value| value.expect("every child delivered a result"))
            .collect())
    }

    fn detach(&mut self) {
        self.abort_on_drop = false;
        self.log.borrow_mut().waker = None;
    }
}

impl<T> Drop for Children<T> {
    fn drop(&mut self) {
        if let Ok(mut log) = self.log.try_borrow_mut() {
            log.waker = None;
        }
        if self.abort_on_drop {
            for handle in self.handles.iter().flatten() {
                handle.abort();
            }
        }
    }
}

/// Re-raises a child's panic (or cancellation) in the watching task.
fn raise(what: &str, index: usize, error: JoinError) -> ! {
    panic!("asyncsim::{what}: child {index} failed: {error}")
}

// The combinators by family, each in its room (a pure split): the
// machinery above is shared.
mod completion;
mod gathering;
mod waiting;

pub use completion::{as_completed, as_completed_with, race, AsCompleted};
pub use gathering::{gather, gather_results, gather_with, try_gather};
pub use waiting::{wait, wait_results, wait_timeout, WaitResult, WaitResults};
