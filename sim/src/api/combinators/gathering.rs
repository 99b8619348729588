//! [`gather`] and its kin: every child's output, in argument order
//! ([`gather_with`], [`gather_results`], [`try_gather`]).

use super::*;

/// Runs every future as a task, started in argument order, and resolves to
/// their outputs in argument order (asyncio's `gather`, 3.7+).
///
/// The children are spawned when `gather` is called, not when its future
/// is first polled. Dropping the returned future before it resolves aborts
/// the children still running (asyncio cancels them too). A child's panic
/// is re-raised at once (see the [module docs](super)).
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
