//! [`wait`] and its kin: the children done when a condition is met, and
//! the handles of those still running ([`wait_timeout`], [`wait_results`]).

use super::*;

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
