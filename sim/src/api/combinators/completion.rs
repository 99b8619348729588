//! The children in the order they complete: [`as_completed`] (and
//! [`as_completed_with`]) yields each as it finishes, [`race`] the first.

use super::*;

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
