//! "Concurrent runnings" and "Handling async function results": `wait` and
//! `gather` over a list of coroutines.
//!
//!     async def run():
//!         coros = [meow(x) for x in range(6)]
//!         await asyncio.wait(coros)          # or: x = await asyncio.gather(*coros)
//!
//! `meow(x)` prints `x` when it starts and returns it. A Python set of
//! coroutines starts them in no particular order (`StartOrder::Unordered`, a
//! drawn permutation): `gather` used one in 3.5–3.6 and starts them in
//! argument order since 3.7; `wait` used one in 3.5–3.10, and since 3.11
//! refuses coroutines, so callers create the tasks first (in argument order).
//! `gather`'s results are in argument order in every version.

use asyncsim::task::Builder;
use asyncsim::{time, trace, ReturnWhen, StartOrder};

use super::snippets::secs;

/// Jobs in the concurrent examples.
pub const JOBS: u64 = 6;

/// Prints `x` when it starts, yields once (so the jobs interleave), and
/// returns `x`.
pub async fn meow(x: u64) -> u64 {
    trace::mark(x.to_string());
    asyncsim::yield_now().await;
    x
}

/// `await asyncio.wait([meow(x) for x in range(6)])`, starting the jobs in
/// `start_order`. Returns the argument indices of `done`, in completion order.
pub async fn run_wait(start_order: StartOrder) -> Vec<usize> {
    let coros: Vec<_> = (0..JOBS).map(meow).collect();
    let (done, pending) = asyncsim::wait(coros, ReturnWhen::AllCompleted, start_order).await;
    assert!(pending.is_empty(), "ALL_COMPLETED leaves nothing pending");
    done.into_iter().map(|(index, _)| index).collect()
}

/// The article's fix for `wait`'s set (3.5–3.10), and what 3.11+ requires:
/// wrap every coroutine in a task first, so they start in creation order,
/// whatever `wait` does with its set.
pub async fn run_wait_on_tasks(start_order: StartOrder) -> Vec<usize> {
    let tasks: Vec<_> = (0..JOBS)
        .map(|x| {
            let task = Builder::new().name(format!("meow-{x}")).spawn(meow(x));
            async move { task.await.expect("meow does not panic") }
        })
        .collect();
    let (done, _) = asyncsim::wait(tasks, ReturnWhen::AllCompleted, start_order).await;
    done.into_iter().map(|(index, _)| index).collect()
}

/// `x = await asyncio.gather(*[meow(x) for x in range(6)])` (3.7+).
pub async fn run_gather() -> Vec<u64> {
    asyncsim::gather((0..JOBS).map(meow).collect::<Vec<_>>()).await
}

/// The same with 3.5–3.6's set-based start.
pub async fn run_gather_unordered() -> Vec<u64> {
    asyncsim::gather_with(
        StartOrder::Unordered,
        (0..JOBS).map(meow).collect::<Vec<_>>(),
    )
    .await
}

/// A job that sleeps `seconds` and returns them.
pub async fn nap(seconds: u64) -> u64 {
    trace::mark(format!("nap {seconds}"));
    time::sleep(secs(seconds)).await;
    seconds
}

/// `asyncio.wait([nap(3), nap(1), nap(2)], return_when=FIRST_COMPLETED)`:
/// returns the done indices and the pending indices (the pending tasks are
/// awaited afterwards, so none is left behind).
pub async fn run_wait_first_completed(start_order: StartOrder) -> (Vec<usize>, Vec<usize>) {
    let naps: Vec<_> = [3, 1, 2].into_iter().map(nap).collect();
    let (done, pending) = asyncsim::wait(naps, ReturnWhen::FirstCompleted, start_order).await;
    let done_indices = done.iter().map(|(index, _)| *index).collect();
    let mut pending_indices = Vec::new();
    for (index, task) in pending {
        pending_indices.push(index);
        task.await.expect("nap does not panic");
    }
    (done_indices, pending_indices)
}

/// `gather` over six jobs that log their start: returns (start order,
/// results), so a property can see both without reading the trace.
pub async fn run_gather_logged(start_order: StartOrder) -> (Vec<u64>, Vec<u64>) {
    let started = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let jobs: Vec<_> = (0..JOBS)
        .map(|x| {
            let started = started.clone();
            async move {
                started.borrow_mut().push(x);
                meow(x).await
            }
        })
        .collect();
    let results = asyncsim::gather_with(start_order, jobs).await;
    let started = started.borrow().clone();
    (started, results)
}
