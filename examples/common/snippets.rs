//! The article's code, section by section, in Rust.
//!
//! Each function keeps the article's names where it has them. Where the
//! article leaves something out (how long `speak` takes, what `meow` does),
//! the choice is written next to the code.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::task::Builder;
use asyncsim::{blocking, time, trace, ReturnWhen, StartOrder};

/// Seconds of virtual time.
pub fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

// ---------------------------------------------------------------------------
// Creating an event loop; the async function.
//
//     async def some_func():
//         print('hello')
//     loop = asyncio.get_event_loop()
//     loop.run_until_complete(some_func())
//
// `Sim::run` is `run_until_complete`: it runs the main future to completion.

/// The article's first coroutine: prints and returns.
pub async fn some_func() -> &'static str {
    trace::mark("hello from some_func");
    "some_func is done"
}

/// Creates `some_func()` and drops it without awaiting: it never runs, like
/// a coroutine object nobody awaits (Python warns "was never awaited").
pub async fn forget_some_func() {
    let never_awaited = some_func();
    drop(never_awaited);
    trace::mark("main is done");
}

// ---------------------------------------------------------------------------
// The real magic — await.
//
//     async def speak_async():
//         print('OMG asynchronicity!')
//     async def run():
//         await speak_async()

/// Prints the article's line.
pub async fn speak_async() {
    trace::mark("OMG asynchronicity!");
}

/// Awaits `speak_async`: it runs inline, to completion, before `run` goes on.
pub async fn run_await() {
    trace::mark("before await");
    speak_async().await;
    trace::mark("after await");
}

// ---------------------------------------------------------------------------
// Starting a function and getting back to it later.
//
//     async def speak():
//         print('C')
//     async def run():
//         will_speak = asyncio.create_task(speak())   # or just speak()
//         print('A')
//         await asyncio.sleep(1)
//         print('B')
//         await will_speak
//
// Our `speak` also takes one second after printing (an addition) so that the
// virtual time shows concurrency: with a task the run takes max(1, 1) = 1 s,
// with a plain coroutine 1 + 1 = 2 s.

/// Prints `C`, then speaks for one second.
pub async fn speak() {
    trace::mark("C");
    time::sleep(secs(1)).await;
}

/// The `create_task` version: `speak` starts as soon as `run` yields at its
/// sleep, so the marks are A, C, B on every schedule.
pub async fn run_with_create_task() {
    let will_speak = Builder::new().name("speak").spawn(speak());
    trace::mark("A");
    time::sleep(secs(1)).await;
    trace::mark("B");
    will_speak.await.expect("speak does not panic");
}

/// The first version: `will_speak = speak()` only creates the coroutine; it
/// starts when awaited, so the marks are A, B, C.
pub async fn run_without_create_task() {
    let will_speak = speak();
    trace::mark("A");
    time::sleep(secs(1)).await;
    trace::mark("B");
    will_speak.await;
}

// ---------------------------------------------------------------------------
// Order mucking: define work in any order, await it in any order; it runs
// sequentially, in the order awaited.

/// One job of the order-mucking example: sleeps `seconds`, marking its start
/// and end, and returns `seconds`.
pub async fn meow(seconds: u64) -> u64 {
    trace::mark(format!("start {seconds}"));
    time::sleep(secs(seconds)).await;
    trace::mark(format!("end {seconds}"));
    seconds
}

/// Defines `meow(1)`, `meow(2)`, `meow(3)` (in that order) and awaits them in
/// `await_order` (a permutation of `[1, 2, 3]`). Returns the results in
/// await order.
pub async fn run_in_await_order(await_order: [u64; 3]) -> Vec<u64> {
    let mut defined: Vec<Option<_>> = [1, 2, 3].map(|seconds| Some(meow(seconds))).into();
    let mut results = Vec::new();
    for seconds in await_order {
        let job = defined[seconds as usize - 1]
            .take()
            .expect("await_order is a permutation of 1, 2, 3");
        results.push(job.await);
    }
    results
}

/// Like [`run_in_await_order`], but every job is a task first
/// ("create_task all the things"): they run concurrently, and awaiting in
/// any order takes the longest job's time.
pub async fn run_tasks_in_await_order(await_order: [u64; 3]) -> Vec<u64> {
    let mut tasks: Vec<Option<_>> = [1, 2, 3]
        .map(|seconds| {
            Some(
                Builder::new()
                    .name(format!("meow-{seconds}"))
                    .spawn(meow(seconds)),
            )
        })
        .into();
    let mut results = Vec::new();
    for seconds in await_order {
        let task = tasks[seconds as usize - 1]
            .take()
            .expect("await_order is a permutation of 1, 2, 3");
        results.push(task.await.expect("meow does not panic"));
    }
    results
}

/// Every order of three awaits.
pub const AWAIT_ORDERS: [[u64; 3]; 6] = [
    [1, 2, 3],
    [1, 3, 2],
    [2, 1, 3],
    [2, 3, 1],
    [3, 1, 2],
    [3, 2, 1],
];

// ---------------------------------------------------------------------------
// That it? What else you got? — a task stores its result.

/// Spawns a task that counts its executions in `executions`, lets it finish
/// (main sleeps past it), then awaits the finished task. Returns its result.
pub async fn run_task_result(executions: Rc<Cell<u32>>) -> u64 {
    let counter = executions.clone();
    let task = Builder::new().name("compute").spawn(async move {
        counter.set(counter.get() + 1);
        trace::mark("compute runs");
        time::sleep(secs(1)).await;
        42
    });
    time::sleep(secs(2)).await;
    trace::mark("main awaits the finished task");
    let result = task.await.expect("compute does not panic");
    trace::mark("main has the result");
    result
}

// ---------------------------------------------------------------------------
// Blocking the loop.
//
//     async def bark():
//         await asyncio.sleep(3)
//         time.sleep(3)  # This here is the culprit
//     async def speak():
//         await bark()
//         return True
//     async def run():
//         r = [speak() for x in range(10)]
//         await asyncio.wait(r)

/// `bark`: an async sleep, then the culprit, a blocking sleep.
pub async fn bark() {
    time::sleep(secs(3)).await;
    blocking::sleep(secs(3));
}

/// `bark` with the culprit replaced by `asyncio.sleep(3)`.
pub async fn bark_politely() {
    time::sleep(secs(3)).await;
    time::sleep(secs(3)).await;
}

/// `bark` with the culprit left out: only `asyncio.sleep(3)`.
pub async fn bark_without_culprit() {
    time::sleep(secs(3)).await;
}

/// Which `bark` the speakers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bark {
    /// The article's: `asyncio.sleep(3)`, then `time.sleep(3)`.
    Blocking,
    /// `asyncio.sleep(3)` twice.
    Polite,
    /// `asyncio.sleep(3)` only.
    WithoutCulprit,
}

/// `speak` with the chosen `bark`.
pub async fn speak_with(bark_kind: Bark) -> bool {
    match bark_kind {
        Bark::Blocking => bark().await,
        Bark::Polite => bark_politely().await,
        Bark::WithoutCulprit => bark_without_culprit().await,
    }
    true
}

/// The article's second `speak`.
pub async fn speak_barking() -> bool {
    bark().await;
    true
}

/// `run`: `asyncio.wait` over `speakers` speakers with the chosen `bark`.
/// The article ran 3.6, where `wait` put its coroutines in a set (as it did
/// in 3.5–3.10; 3.11+ refuses coroutines): the start order is drawn (`StartOrder::Unordered`). The children are named
/// `wait[0]`, `wait[1]`, ….
pub async fn run_speakers(speakers: usize, bark_kind: Bark) {
    let r: Vec<_> = (0..speakers).map(|_| speak_with(bark_kind)).collect();
    let (done, pending) = asyncsim::wait(r, ReturnWhen::AllCompleted, StartOrder::Unordered).await;
    assert!(pending.is_empty(), "ALL_COMPLETED leaves nothing pending");
    assert!(done.iter().all(|(_, spoke)| *spoke));
}

// ---------------------------------------------------------------------------
// Unblock the blockers: run_in_executor.
//
//     def blocking_func():
//         print('before block')
//         time.sleep(3)
//         print('after block')
//     async def run():
//         print('before run')
//         await loop.run_in_executor(None, blocking_func)   # or blocking_func()
//         print('after run')
//     async def start():
//         jobs = [run(), run()]
//         await asyncio.wait(jobs)

/// The synchronous function of the example.
pub fn blocking_func() {
    trace::mark("before block");
    blocking::sleep(secs(3));
    trace::mark("after block");
}

/// `run` with `blocking_func` moved to the executor pool.
pub async fn run_in_executor() {
    trace::mark("before run");
    Builder::new()
        .name("blocking_func")
        .spawn_blocking(blocking_func)
        .await
        .expect("blocking_func does not panic");
    trace::mark("after run");
}

/// `run` calling `blocking_func` on the loop: it blocks everything.
pub async fn run_blocking_inline() {
    trace::mark("before run");
    blocking_func();
    trace::mark("after run");
}

/// `run`, in the `run_in_executor` version when `executor` is true, else in
/// the blocking version.
pub async fn run(executor: bool) {
    if executor {
        run_in_executor().await
    } else {
        run_blocking_inline().await
    }
}

/// `start`: `asyncio.wait([run(), run()])`, with the set start order of
/// 3.5–3.10 (the article ran 3.6);
/// the children are `wait[0]` and `wait[1]`.
pub async fn start(executor: bool) {
    let jobs = vec![run(executor), run(executor)];
    let (_, pending) = asyncsim::wait(jobs, ReturnWhen::AllCompleted, StartOrder::Unordered).await;
    assert!(pending.is_empty(), "ALL_COMPLETED leaves nothing pending");
}
