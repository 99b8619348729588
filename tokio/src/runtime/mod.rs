//! `tokio::runtime` on asyncsim: a `Runtime` is a configuration, and
//! `block_on` makes one simulated run of its future.
//!
//! The run uses seed 0 with the random strategy, or what the environment
//! says: `ASYNCSIM_SEED=<n>` (another seed) or `ASYNCSIM_REPLAY=<token>`
//! (exactly one recorded run). A failure (a panic, a deadlock, a limit)
//! panics with the engine's report and the run's replay token. For many
//! schedules, use `#[tokio::test]`, which checks the body over each.
//!
//! ```
//! use asyncsim_tokio as tokio;
//! use std::time::Duration;
//!
//! let runtime = tokio::runtime::Builder::new_multi_thread()
//!     .worker_threads(4) // accepted; a simulated run has one thread
//!     .enable_all()
//!     .build()
//!     .unwrap();
//! let slept = runtime.block_on(async {
//!     tokio::time::sleep(Duration::from_secs(60)).await;
//!     tokio::time::Instant::now()
//! });
//! # let _ = slept;
//! ```
//!
//! Each `block_on` is a run of its own: tasks left by an earlier `block_on`
//! do not carry over. `Runtime::spawn` outside `block_on` holds the task back
//! until the next `block_on` starts it (before its future's first poll).
//! A run may reach an hour of virtual time (`asyncsim::DEFAULT_TIME_LIMIT`);
//! `block_on` makes its own config, so a program that simulates longer
//! raises the limit with `#[tokio::main(time_limit = "2h")]` or, for every
//! `block_on`, `ASYNCSIM_TIME_LIMIT` (`2h`, `90m`, `3600s`).

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::cell::RefCell;
use std::rc::Rc;

pub use crate::handle::Handle;
use crate::registry;
use crate::task::{JoinHandle, Start};

mod block_on;
use block_on::block_on;

/// Tasks spawned on a runtime outside `block_on`, waiting for the next one.
type HeldBack = RefCell<Vec<Start>>;

/// tokio's runtime flavours, re-exported ([`Handle::runtime_flavor`]).
#[cfg(feature = "rt")]
pub use tokio::runtime::RuntimeFlavor;

/// The configuration of simulated runs, built like tokio's.
pub struct Builder {
    pool_size: Option<usize>,
    name: Option<String>,
    time_limit: Option<Duration>,
}

/// The id of a runtime (tokio's `runtime::Id`): unique in the process. A
/// run that no `Runtime` started (`#[tokio::test]`'s) has one of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn from_local_set(id: NonZeroU64) -> Id {
        Id(id)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The next runtime's (or `LocalSet`'s) id: one counter for the process.
pub(crate) fn next_id() -> NonZeroU64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed)).expect("ids start at 1")
}

thread_local! {
    /// The id and name of the runtime whose `block_on` runs on this thread.
    static CURRENT: RefCell<Option<(NonZeroU64, Option<Arc<str>>)>> = const { RefCell::new(None) };
}

/// The current run's runtime: the one in `block_on`, or (a run no runtime
/// started) an id made from the run's own.
fn current_identity() -> (NonZeroU64, Option<Arc<str>>) {
    CURRENT
        .with(|current| current.borrow().clone())
        .unwrap_or_else(|| {
            let run = asyncsim::task::run_id().unwrap_or(0);
            (
                NonZeroU64::new(1 << 63 | run).expect("the high bit is set"),
                None,
            )
        })
}

/// What tokio's runtime metrics can say of a simulated run (tokio's
/// `RuntimeMetrics`, its stable part that a run can answer truly).
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    _private: (),
}

impl RuntimeMetrics {
    /// Always 1: a simulated run has one thread (the interleavings of many
    /// are among the schedules a check explores).
    pub fn num_workers(&self) -> usize {
        1
    }

    /// The current run's spawned tasks not yet done (not `spawn_blocking`
    /// jobs nor `block_on`'s future, as in tokio); 0 outside a run.
    pub fn num_alive_tasks(&self) -> usize {
        asyncsim::task::alive_count()
    }

    /// The current run's tasks woken and waiting to be polled; 0 outside a
    /// run.
    pub fn global_queue_depth(&self) -> usize {
        asyncsim::task::queued_count()
    }
}

impl Builder {
    /// tokio's current-thread runtime: a simulated run.
    pub fn new_current_thread() -> Builder {
        Builder {
            pool_size: None,
            name: None,
            time_limit: None,
        }
    }

    /// tokio's multi-thread runtime: a simulated run too (one thread; the
    /// interleavings of worker threads are among the schedules a check
    /// explores).
    pub fn new_multi_thread() -> Builder {
        Builder::new_current_thread()
    }

    /// Accepted: I/O and time are always simulated.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted: I/O is always simulated.
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted: time is always virtual.
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Accepted: time is always paused (virtual).
    pub fn start_paused(&mut self, _start_paused: bool) -> &mut Self {
        self
    }

    /// Accepted and ignored: a simulated run has one thread.
    pub fn worker_threads(&mut self, _count: usize) -> &mut Self {
        self
    }

    /// The size of the simulated blocking pool (`Config::pool_size`).
    pub fn max_blocking_threads(&mut self, count: usize) -> &mut Self {
        self.pool_size = Some(count.max(1));
        self
    }

    /// Accepted and ignored.
    pub fn thread_name(&mut self, _name: impl Into<String>) -> &mut Self {
        self
    }

    /// Accepted and ignored.
    pub fn thread_name_fn<F>(&mut self, _name: F) -> &mut Self
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self
    }

    /// Accepted and ignored.
    pub fn thread_stack_size(&mut self, _bytes: usize) -> &mut Self {
        self
    }

    /// Accepted; never called (a simulated run starts no thread).
    pub fn on_thread_start<F>(&mut self, _hook: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; never called.
    pub fn on_thread_stop<F>(&mut self, _hook: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; never called (a simulated run parks no thread).
    pub fn on_thread_park<F>(&mut self, _hook: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// Accepted; never called.
    pub fn on_thread_unpark<F>(&mut self, _hook: F) -> &mut Self
    where
        F: Fn() + Send + Sync + 'static,
    {
        self
    }

    /// The runtime's name (`Handle::name`).
    pub fn name(&mut self, name: impl Into<String>) -> &mut Self {
        self.name = Some(name.into());
        self
    }

    /// `#[tokio::main(time_limit = "2h")]`: the virtual time its run may
    /// reach (`Config::time_limit`, over `ASYNCSIM_TIME_LIMIT`). Not tokio's:
    /// hidden, for the attribute's expansion.
    #[doc(hidden)]
    pub fn __time_limit(&mut self, limit: Duration) -> &mut Self {
        self.time_limit = Some(limit);
        self
    }

    /// Accepted and ignored (the simulated network has no event queue).
    pub fn max_io_events_per_tick(&mut self, _capacity: usize) -> &mut Self {
        self
    }

    /// Accepted and ignored.
    pub fn max_io_events_per_busy_tick(&mut self, _capacity: usize) -> &mut Self {
        self
    }

    /// Accepted and ignored.
    pub fn thread_keep_alive(&mut self, _duration: Duration) -> &mut Self {
        self
    }

    /// Accepted and ignored.
    pub fn global_queue_interval(&mut self, _ticks: u32) -> &mut Self {
        self
    }

    /// Accepted and ignored.
    pub fn event_interval(&mut self, _ticks: u32) -> &mut Self {
        self
    }

    /// A runtime whose tasks need not be `Send` (never fails).
    pub fn build_local(&mut self, _options: LocalOptions) -> io::Result<LocalRuntime> {
        Ok(LocalRuntime {
            runtime: self.build()?,
            _not_send: PhantomData,
        })
    }

    /// The runtime (never fails).
    pub fn build(&mut self) -> io::Result<Runtime> {
        let held_back: Rc<HeldBack> = Rc::new(RefCell::new(Vec::new()));
        Ok(Runtime {
            pool_size: self.pool_size,
            time_limit: self.time_limit,
            handle: Handle {
                held_back: Some(registry::insert(held_back)),
                id: next_id(),
                name: self.name.as_deref().map(Arc::from),
            },
        })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// A simulated runtime: `block_on` makes one simulated run.
#[derive(Debug)]
pub struct Runtime {
    pool_size: Option<usize>,
    time_limit: Option<Duration>,
    handle: Handle,
}

impl Runtime {
    /// A runtime with the defaults.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Its handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` as the main task of one simulated run and returns its
    /// output.
    ///
    /// # Panics
    ///
    /// With the engine's report when the run fails (the future or a task
    /// nobody joins panicked, a deadlock, a limit), or when called inside a
    /// run.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on(self.pool_size, self.time_limit, &self.handle, future)
    }

    /// Spawns a task: on the current run inside `block_on`; outside, held
    /// back until the next `block_on` starts it.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `work` on the current run's simulated pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, work: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(work)
    }

    /// Enters the runtime's context (a no-op).
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The run's metrics (as its handle's).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down: tasks still held back are dropped.
    pub fn shutdown_timeout(self, _duration: Duration) {}

    /// Shuts down: tasks still held back are dropped.
    pub fn shutdown_background(self) {}
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(key) = self.handle.held_back {
            registry::remove(key);
        }
    }
}

/// A simulated runtime for `!Send` tasks (tokio's `LocalRuntime`): every
/// simulated run is on one thread, so it is [`Runtime`] with `spawn_local`.
#[derive(Debug)]
pub struct LocalRuntime {
    runtime: Runtime,
    _not_send: PhantomData<*const ()>,
}

/// The options of [`Builder::build_local`] (none yet, as in tokio).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct LocalOptions {
    _not_send: PhantomData<*const ()>,
}

impl LocalRuntime {
    /// A local runtime with the defaults.
    pub fn new() -> io::Result<LocalRuntime> {
        Builder::new_current_thread().build_local(LocalOptions::default())
    }

    /// Its handle.
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Spawns a `!Send` task: on the current run inside `block_on`;
    /// outside, held back until the next `block_on` starts it.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.runtime.handle.spawn_or_hold_back(
            future,
            std::panic::Location::caller(),
            "tokio::runtime::LocalRuntime::spawn_local",
        )
    }

    /// Runs `work` on the current run's simulated pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, work: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.runtime.spawn_blocking(work)
    }

    /// One simulated run of `future`, as [`Runtime::block_on`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Enters the runtime's context (a no-op).
    pub fn enter(&self) -> EnterGuard<'_> {
        self.runtime.enter()
    }

    /// The run's metrics (as its handle's).
    pub fn metrics(&self) -> RuntimeMetrics {
        self.runtime.metrics()
    }

    /// Shuts down: tasks still held back are dropped.
    pub fn shutdown_timeout(self, _duration: Duration) {}

    /// Shuts down: tasks still held back are dropped.
    pub fn shutdown_background(self) {}
}

/// Whether `error` is a socket's or a file's used after the run that
/// made it (tokio's "runtime shut down" error: there, a resource outliving
/// its runtime; here, its simulated run).
pub fn is_rt_shutdown_err(error: &io::Error) -> bool {
    // The world's wording for such a handle (`asyncsim::net`, `asyncsim::fs`).
    error.kind() == io::ErrorKind::Other && error.to_string().contains("belongs to another run")
}

/// `Some(0)` inside a simulated run (its one thread is the worker), `None`
/// outside one.
pub fn worker_index() -> Option<usize> {
    asyncsim::task::current().map(|_| 0)
}

/// The guard of [`Runtime::enter`] and [`Handle::enter`]; it changes nothing.
#[derive(Debug)]
pub struct EnterGuard<'a> {
    _handle: PhantomData<&'a Handle>,
}

/// The error of [`Handle::try_current`]: not inside a simulated run.
#[derive(Debug)]
pub struct TryCurrentError {
    _private: (),
}

impl TryCurrentError {
    /// Always true: the only way to miss a simulated run is to be outside it.
    pub fn is_missing_context(&self) -> bool {
        true
    }

    /// Always false.
    pub fn is_thread_local_destroyed(&self) -> bool {
        false
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("there is no simulated run on this thread (asyncsim-tokio with the `simulation` feature)")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the current run.
    ///
    /// # Panics
    ///
    /// Outside a simulated run, for example on a thread you started.
    #[track_caller]
    pub fn current() -> Handle {
        crate::task::require_run("tokio::runtime::Handle::current()");
        let (id, name) = current_identity();
        Handle {
            held_back: None,
            id,
            name,
        }
    }

    /// The handle of the current run, or an error outside one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match asyncsim::task::current() {
            Some(_) => Ok(Handle::current()),
            None => Err(TryCurrentError { _private: () }),
        }
    }

    /// Enters the runtime's context (a no-op).
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _handle: PhantomData,
        }
    }

    /// Spawns a task on the current run; outside one, a runtime's own handle
    /// holds it back until the runtime's next `block_on`.
    ///
    /// # Panics
    ///
    /// Outside a simulated run with a handle that is not a runtime's, or on
    /// a thread you started (a simulated run has one thread: spawn from a
    /// task of the run instead).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_or_hold_back(
            future,
            std::panic::Location::caller(),
            "tokio::runtime::Handle::spawn",
        )
    }

    /// `Handle::spawn` and `LocalRuntime::spawn_local`: on the current run
    /// inside `block_on`; outside, held back (a runtime's handle) until the
    /// next `block_on` starts it, or (`Handle::current()`'s, which holds
    /// none back) the panic of `what` outside a run, at the caller's line.
    #[track_caller]
    fn spawn_or_hold_back<F>(
        &self,
        future: F,
        site: &'static std::panic::Location<'static>,
        what: &str,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if asyncsim::task::current().is_none() {
            if let Some(held_back) = self.held_back.and_then(registry::get::<HeldBack>) {
                let (handle, _state, start) = crate::task::spawn_deferred(future, site);
                held_back.borrow_mut().push(start);
                return handle;
            }
        }
        crate::task::require_run(what);
        crate::task::spawn_plain(future, site)
    }

    /// Runs `work` on the current run's simulated pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, work: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        crate::task::require_run("tokio::runtime::Handle::spawn_blocking");
        crate::task::spawn_blocking_now(work, None, std::panic::Location::caller())
    }

    /// One simulated run of `future`, as [`Runtime::block_on`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on(None, None, self, future)
    }

    /// The runtime's id.
    pub fn id(&self) -> Id {
        Id(self.id)
    }

    /// The runtime's name, as `Builder::name` set it.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The run's metrics.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics { _private: () }
    }

    /// Always the current-thread flavour: a simulated run has one thread.
    #[cfg(feature = "rt")]
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        RuntimeFlavor::CurrentThread
    }
}
