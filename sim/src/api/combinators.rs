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

// ---------------------------------------------------------------------------
// gather
// ---------------------------------------------------------------------------

/// Runs every future as a task, started in argument order, and resolves to
/// their outputs in argument order (asyncio's `gather`, 3.7+).
///
/// The children are spawned when `gather` is called, not when its future
/// is first polled. Dropping the returned future before it resolves aborts
/// the children still running (asyncio cancels them too). A child's panic
/// is re-raised at once (see the [module docs](self)).
///
/// ```
/// use asyncsim_sim::{gather, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(1)).run(async {
///     gather((1..=3u64).map(|seconds| async move {
///         time::sleep(Duration::from_secs(4 - seconds)).await;
///         seconds * 10
///     }))
///     .await
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(3));
/// assert_eq!(run.result.unwrap(), [10, 20, 30]); // argument order, not completion order
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn gather<I, F>(futures: I) -> impl Future<Output = Vec<F::Output>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    gather_named("gather", StartOrder::Argument, futures)
}

/// [`gather`] with a choice of start order: [`StartOrder::Unordered`] is
/// `gather` of Python 3.5–3.6, which started its children in set order.
/// Results are in argument order either way.
///
/// ```
/// use asyncsim_sim::{gather_with, Config, Sim, StartOrder};
///
/// let run = Sim::new(Config::new().seed(3)).run(async {
///     gather_with(StartOrder::Unordered, (0..4).map(|index| async move { index })).await
/// });
/// assert_eq!(run.result.unwrap(), [0, 1, 2, 3]);
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn gather_with<I, F>(order: StartOrder, futures: I) -> impl Future<Output = Vec<F::Output>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    gather_named("gather", order, futures)
}

fn gather_named<I, F>(
    what: &'static str,
    order: StartOrder,
    futures: I,
) -> impl Future<Output = Vec<F::Output>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    let mut children = Children::spawn(what, order, futures);
    children.abort_on_drop = true;
    async move {
        let gathered = children
            .gather(|index, result| result.map_err(|error| (index, error)))
            .await;
        gathered.unwrap_or_else(|(index, error)| raise(what, index, error))
    }
}

/// Like [`gather`], but every child's result is kept — a panic or
/// cancellation as a [`JoinError`] — in argument order (asyncio's
/// `gather(..., return_exceptions=True)`).
///
/// ```
/// use asyncsim_sim::{gather_results, Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {
///     let results = gather_results([
///         Box::pin(async { 1 }) as std::pin::Pin<Box<dyn std::future::Future<Output = i32>>>,
///         Box::pin(async { panic!("boom") }),
///     ])
///     .await;
///     (results[0].clone().ok(), results[1].as_ref().unwrap_err().is_panic())
/// });
/// assert_eq!(run.result.unwrap(), (Some(1), true));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn gather_results<I, F>(futures: I) -> impl Future<Output = Vec<Result<F::Output, JoinError>>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    let mut children = Children::spawn("gather", StartOrder::Argument, futures);
    children.abort_on_drop = true;
    async move {
        let gathered = children
            .gather(|_, result| Ok::<_, Infallible>(result))
            .await;
        match gathered {
            Ok(results) => results,
        }
    }
}

/// [`gather`] for fallible children: `Ok` with every output in argument
/// order, or the first `Err` in completion order — returned at once, while
/// the other children keep running, detached (asyncio's
/// `return_exceptions=False` does not cancel the siblings).
///
/// ```
/// use asyncsim_sim::{time, try_gather, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(2)).run(async {
///     let slow = |seconds: u64, fail: bool| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         if fail { Err(seconds) } else { Ok(seconds) }
///     };
///     try_gather([slow(5, false), slow(1, true), slow(2, true)]).await
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(1)); // did not wait for the others
/// assert_eq!(run.result.unwrap(), Err(1));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn try_gather<I, F, T, E>(futures: I) -> impl Future<Output = Result<Vec<T>, E>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    let mut children = Children::spawn("gather", StartOrder::Argument, futures);
    children.abort_on_drop = true;
    async move {
        let gathered = children
            .gather(|index, result| match result {
                Ok(Ok(output)) => Ok(output),
                Ok(Err(error)) => Err(Err(error)),
                Err(panic) => Err(Ok((index, panic))),
            })
            .await;
        match gathered {
            Ok(outputs) => Ok(outputs),
            Err(Err(error)) => Err(error),
            Err(Ok((index, panic))) => raise("try_gather", index, panic),
        }
    }
}

// ---------------------------------------------------------------------------
// wait
// ---------------------------------------------------------------------------

/// What [`wait`] returns: the finished children as `(argument index,
/// output)` in completion order, and the ones still running as `(argument
/// index, handle)` in argument order.
pub type WaitResult<T> = (Vec<(usize, T)>, Vec<(usize, JoinHandle<T>)>);

/// Runs every future as a task and waits until `when` says to return
/// (asyncio's `asyncio.wait`); the children still running keep running,
/// and their handles come back in `pending`.
///
/// `done` holds `(argument index, output)` in completion order; when the
/// condition is met, every child that already finished by then is in it
/// too (asyncio builds `done` from every finished future). `order` is the
/// start order: [`StartOrder::Unordered`] is what `wait` did with
/// coroutines in Python 3.5–3.10; since 3.11 it refuses coroutines, and
/// tasks spawned in argument order before the call start in that order.
///
/// For [`ReturnWhen::FirstException`], an exception is an output whose
/// [`Outcome::is_exception`] is true (an `Err`). A child's panic is
/// re-raised in the waiting task as soon as it is seen; use
/// [`wait_results`] to receive panics as values.
///
/// ```
/// use asyncsim_sim::{time, wait, Config, ReturnWhen, Sim, StartOrder};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(8)).run(async {
///     let nap = |seconds: u64| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         seconds
///     };
///     let (done, pending) =
///         wait([nap(3), nap(1), nap(2)], ReturnWhen::FirstCompleted, StartOrder::Argument).await;
///     let pending: Vec<usize> = pending.iter().map(|(index, _)| *index).collect();
///     (done, pending)
/// });
/// assert_eq!(run.result.unwrap(), (vec![(1, 1)], vec![0, 2]));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn wait<I, F>(
    futures: I,
    when: ReturnWhen,
    order: StartOrder,
) -> impl Future<Output = WaitResult<F::Output>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: Outcome + 'static,
{
    let children = Children::spawn("wait", order, futures);
    wait_core(children, when, None, raise_wait_panic)
}

/// [`wait`] that gives up after `timeout` of virtual time: it returns what
/// finished so far, and neither raises nor cancels anything (asyncio's
/// `wait(..., timeout=...)`).
///
/// ```
/// use asyncsim_sim::{time, wait_timeout, Config, ReturnWhen, Sim, StartOrder};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(8)).run(async {
///     let nap = |seconds: u64| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         seconds
///     };
///     let (done, pending) = wait_timeout(
///         [nap(1), nap(10)],
///         ReturnWhen::AllCompleted,
///         StartOrder::Argument,
///         Duration::from_secs(2),
///     )
///     .await;
///     let late = pending.into_iter().next().unwrap().1.await.unwrap(); // still running
///     (done, late)
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(10));
/// assert_eq!(run.result.unwrap(), (vec![(0, 1)], 10));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn wait_timeout<I, F>(
    futures: I,
    when: ReturnWhen,
    order: StartOrder,
    timeout: Duration,
) -> impl Future<Output = WaitResult<F::Output>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: Outcome + 'static,
{
    let children = Children::spawn("wait", order, futures);
    wait_core(children, when, Some(timeout), raise_wait_panic)
}

/// [`wait`] that returns panics (and cancellations) as values: each `done`
/// entry is `(argument index, Result<output, JoinError>)`, and for
/// [`ReturnWhen::FirstException`] a panic counts as an exception.
///
/// ```
/// use asyncsim_sim::{wait_results, Config, ReturnWhen, Sim, StartOrder};
///
/// let run = Sim::new(Config::new()).run(async {
///     let (done, pending) = wait_results(
///         [async { panic!("boom") as u32 }],
///         ReturnWhen::FirstException,
///         StartOrder::Argument,
///     )
///     .await;
///     (done[0].1.as_ref().unwrap_err().is_panic(), pending.len())
/// });
/// assert_eq!(run.result.unwrap(), (true, 0));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn wait_results<I, F>(
    futures: I,
    when: ReturnWhen,
    order: StartOrder,
) -> impl Future<Output = WaitResults<F::Output>>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: Outcome + 'static,
{
    let children = Children::spawn("wait", order, futures);
    wait_core(children, when, None, |_, _, result| result)
}

/// What [`wait_results`] returns: like [`WaitResult`], with each output
/// a `Result` that holds a child's panic or cancellation.
pub type WaitResults<T> = (
    Vec<(usize, Result<T, JoinError>)>,
    Vec<(usize, JoinHandle<T>)>,
);

/// `wait`'s and `wait_timeout`'s way with a child's panic (or
/// cancellation): the other children are left running, detached, and the
/// panic goes on in the waiter, as soon as it is seen.
fn raise_wait_panic<T: 'static>(
    children: &mut Children<T>,
    index: usize,
    result: Result<T, JoinError>,
) -> T {
    result.unwrap_or_else(|error| {
        children.detach();
        raise("wait", index, error)
    })
}

/// The loop behind the `wait` family: takes children as they finish until
/// `when` (or the timeout) says to return. `keep` turns each finished
/// child's result into what `done` holds (it may raise instead).
async fn wait_core<T: Outcome + 'static, K>(
    mut children: Children<T>,
    when: ReturnWhen,
    timeout: Option<Duration>,
    mut keep: impl FnMut(&mut Children<T>, usize, Result<T, JoinError>) -> K,
) -> (Vec<(usize, K)>, Vec<(usize, JoinHandle<T>)>) {
    let mut done = Vec::new();
    let mut timer = pin!(timeout.map(crate::time::sleep));
    poll_fn(|context| {
        let mut satisfied = false;
        loop {
            match children.poll_next(context) {
                Poll::Ready(Some((index, result))) => {
                    let exception = match &result {
                        Ok(output) => output.is_exception(),
                        Err(_) => true,
                    };
                    done.push((index, keep(&mut children, index, result)));
                    satisfied |= match when {
                        ReturnWhen::AllCompleted => false,
                        ReturnWhen::FirstCompleted => true,
                        ReturnWhen::FirstException => exception,
                    };
                    // Keep draining: every child finished by now is done.
                }
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending => break,
            }
        }
        if satisfied {
            return Poll::Ready(());
        }
        if let Some(timer) = timer.as_mut().as_pin_mut() {
            if timer.poll(context).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    })
    .await;
    (done, children.into_pending())
}

// ---------------------------------------------------------------------------
// as_completed and race
// ---------------------------------------------------------------------------

/// Runs every future as a task, started in a drawn order (asyncio's
/// `as_completed` takes a set in every Python version, 3.13's
/// async-iterator form too), and yields their
/// outputs in completion order.
///
/// Use [`as_completed_with`] to choose the start order. Dropping the
/// [`AsCompleted`] leaves the remaining children running, detached.
///
/// ```
/// use asyncsim_sim::{as_completed, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(6)).run(async {
///     let mut finished = as_completed([3u64, 1, 2].map(|seconds| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         seconds
///     }));
///     let mut order = Vec::new();
///     while let Some(seconds) = finished.next().await {
///         order.push(seconds);
///     }
///     order
/// });
/// assert_eq!(run.result.unwrap(), [1, 2, 3]);
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn as_completed<I, F>(futures: I) -> AsCompleted<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    as_completed_with(StartOrder::Unordered, futures)
}

/// [`as_completed`] with a chosen start order.
///
/// ```
/// use asyncsim_sim::{as_completed_with, Config, Sim, StartOrder};
///
/// let run = Sim::new(Config::new().strategy(asyncsim_sim::Strategy::Fifo)).run(async {
///     let letters = ['a', 'b'].map(|letter| async move { letter });
///     let mut finished = as_completed_with(StartOrder::Argument, letters);
///     (finished.next().await, finished.next().await, finished.next().await)
/// });
/// assert_eq!(run.result.unwrap(), (Some('a'), Some('b'), None));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn as_completed_with<I, F>(order: StartOrder, futures: I) -> AsCompleted<F::Output>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    AsCompleted {
        children: Children::spawn("as_completed", order, futures),
    }
}

/// The children of [`as_completed`], yielded as they finish.
pub struct AsCompleted<T> {
    children: Children<T>,
}

impl<T: 'static> AsCompleted<T> {
    /// The next output to be ready, in completion order; `None` when all
    /// were yielded. A child's panic is re-raised here.
    ///
    /// ```
    /// use asyncsim_sim::{as_completed, Config, Sim};
    /// let run = Sim::new(Config::new()).run(async {
    ///     let mut finished = as_completed([async { 1 }]);
    ///     (finished.next().await, finished.next().await)
    /// });
    /// assert_eq!(run.result.unwrap(), (Some(1), None));
    /// ```
    pub async fn next(&mut self) -> Option<T> {
        self.next_indexed().await.map(|(_, output)| output)
    }

    /// Like [`next`](AsCompleted::next), with the child's argument index.
    ///
    /// ```
    /// use asyncsim_sim::{as_completed, Config, Sim};
    /// let run = Sim::new(Config::new()).run(async {
    ///     as_completed([async { 'x' }]).next_indexed().await
    /// });
    /// assert_eq!(run.result.unwrap(), Some((0, 'x')));
    /// ```
    pub async fn next_indexed(&mut self) -> Option<(usize, T)> {
        let (index, result) = poll_fn(|context| self.children.poll_next(context)).await?;
        match result {
            Ok(output) => Some((index, output)),
            Err(error) => raise("as_completed", index, error),
        }
    }

    /// How many outputs are still to come.
    ///
    /// ```
    /// use asyncsim_sim::{as_completed, Config, Sim};
    /// let run = Sim::new(Config::new()).run(async { as_completed((0..2).map(|_| async {})).remaining() });
    /// assert_eq!(run.result.unwrap(), 2);
    /// ```
    pub fn remaining(&self) -> usize {
        self.children.remaining
    }
}

/// `AsCompleted` is also a [`Stream`](futures_core::Stream) of the outputs,
/// in the same completion order as [`next`](AsCompleted::next) (a child's
/// panic is re-raised in the same way), so stream adapters work on it.
///
/// ```
/// use asyncsim_sim::{as_completed_with, time, Config, Sim, StartOrder};
/// use futures::StreamExt;
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(5)).run(async {
///     as_completed_with(StartOrder::Argument, [3u64, 1, 2].map(|seconds| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         seconds
///     }))
///     .map(|seconds| seconds * 10)
///     .collect::<Vec<_>>()
///     .await
/// });
/// assert_eq!(run.result.unwrap(), [10, 20, 30]);
/// ```
impl<T: 'static> futures_core::Stream for AsCompleted<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<T>> {
        match self.get_mut().children.poll_next(context) {
            Poll::Ready(Some((_, Ok(output)))) => Poll::Ready(Some(output)),
            Poll::Ready(Some((index, Err(error)))) => raise("as_completed", index, error),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.children.remaining, Some(self.children.remaining))
    }
}

/// Ends for good once every output was yielded.
///
/// ```
/// use asyncsim_sim::{as_completed, Config, Sim};
/// use futures::stream::FusedStream;
/// use futures::StreamExt;
///
/// let run = Sim::new(Config::new()).run(async {
///     let mut finished = as_completed([async { 1 }]);
///     let first = finished.next().await;
///     (first, finished.is_terminated())
/// });
/// assert_eq!(run.result.unwrap(), (Some(1), true));
/// ```
impl<T: 'static> futures_core::FusedStream for AsCompleted<T> {
    fn is_terminated(&self) -> bool {
        self.children.remaining == 0
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.children.remaining)
            .finish()
    }
}

/// Runs every future as a task (in argument order) and resolves to the
/// first to finish, with its argument index; the others are aborted
/// (`select` / a race).
///
/// ```
/// use asyncsim_sim::{race, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(9)).run(async {
///     race([5u64, 2, 7].map(|seconds| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         seconds
///     }))
///     .await
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(2)); // the losers were cancelled
/// assert_eq!(run.result.unwrap(), (1, 2));
/// ```
///
/// # Panics
///
/// Outside a run, or with no futures (nothing could ever win). A panic of
/// the first child to finish is re-raised.
pub fn race<I, F>(futures: I) -> impl Future<Output = (usize, F::Output)>
where
    I: IntoIterator<Item = F>,
    F: Future + 'static,
    F::Output: 'static,
{
    let mut children = Children::spawn("race", StartOrder::Argument, futures);
    assert!(
        !children.handles.is_empty(),
        "asyncsim::race was given no futures: it would never finish; pass at least one"
    );
    children.abort_on_drop = true;
    async move {
        let (index, result) = poll_fn(|context| children.poll_next(context))
            .await
            .expect("race has at least one child");
        match result {
            Ok(output) => (index, output),
            Err(error) => {
                children.detach();
                raise("race", index, error)
            }
        }
    }
}
