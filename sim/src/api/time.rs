//! Virtual time: `Instant`, `sleep`, `sleep_until`, `timeout`, `interval`.
//!
//! The clock is an integer count of nanoseconds since the run started. It
//! moves only when no task is runnable, and then jumps straight to the
//! earliest timer (or when a task blocks the loop with `blocking::sleep`).
//! Concurrent sleeps therefore cost the longest chain, not the sum:
//!
//! ```
//! use asyncsim_sim::{time, Config, Sim};
//! use std::time::Duration;
//!
//! let run = Sim::new(Config::new()).run(async {
//!     let a = asyncsim_sim::spawn(time::sleep(Duration::from_secs(2)));
//!     let b = asyncsim_sim::spawn(time::sleep(Duration::from_secs(3)));
//!     a.await.unwrap();
//!     b.await.unwrap();
//!     time::Instant::now()
//! });
//! assert_eq!(run.result.unwrap().as_nanos(), 3_000_000_000);
//! ```
//!
//! Timers with the same deadline fire in a drawn order: asyncio's timer heap
//! gives them none.
//!
//! The run's wall clock is virtual too: [`system_now`] is 2000-01-01
//! 00:00:00 UTC at the start of every run plus the virtual time since, the
//! clock the disk's file times are read on. `std::time::SystemTime::now()`
//! in a program is the real clock, not simulated: it differs from run to
//! run and does not move with `sleep`.

use std::future::Future;
use std::ops::{Add, Sub};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use crate::clock::duration_to_ns;
use crate::cx;

/// A point in virtual time: nanoseconds since the run started (asyncio's
/// `loop.time()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The current virtual time (inside a pool job: the job's own time).
    ///
    /// # Panics
    ///
    /// Outside a run.
    pub fn now() -> Instant {
        Instant {
            nanos: cx::now_ns("asyncsim::time::Instant::now"),
        }
    }

    /// The instant `nanos` after the start of the run.
    pub fn from_nanos(nanos: u64) -> Instant {
        Instant { nanos }
    }

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// Time since the start of the run.
    pub fn since_start(self) -> Duration {
        Duration::from_nanos(self.nanos)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// Time from `earlier` to `self`.
    ///
    /// # Panics
    ///
    /// When `earlier` is later than `self`.
    pub fn duration_since(self, earlier: Instant) -> Duration {
        assert!(
            earlier <= self,
            "Instant::duration_since: `earlier` is later than `self`"
        );
        self.saturating_duration_since(earlier)
    }

    /// Virtual time elapsed since this instant.
    pub fn elapsed(self) -> Duration {
        Instant::now().saturating_duration_since(self)
    }
}

/// The run's virtual time and the task being polled, as the trace writes
/// them ("0.015s task-3@src/server.rs:42"; the time alone between polls,
/// "-" outside a run): a log line's stamp that matches the report's trace.
/// A logger's own stamp reads the real clock, on which a whole run takes a
/// few microseconds (`tracing_subscriber`'s, `env_logger`'s); give it this
/// one instead (README, "Logs in virtual time").
///
/// ```
/// use asyncsim_sim::{time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new()).run(async {
///     time::sleep(Duration::from_millis(15)).await;
///     time::log_stamp()
/// });
/// assert_eq!(run.result.unwrap(), "0.015s main");
/// assert_eq!(time::log_stamp(), "-");
/// ```
pub fn log_stamp() -> String {
    let Some(now_ns) = cx::current_run_id().and_then(cx::now_in_run) else {
        return "-".to_string();
    };
    let time = crate::trace::format_ns(now_ns);
    match crate::task::current_name() {
        Some(task) => format!("{time} {task}"),
        None => time,
    }
}

/// The virtual wall clock at the start of every run, in seconds after the
/// Unix epoch: 2000-01-01 00:00:00 UTC.
const EPOCH_SECS: u64 = 946_684_800;

/// The wall-clock time now, on the run's virtual clock: 2000-01-01 00:00:00
/// UTC at the start of every run, plus the virtual time since (the time the
/// disk's [`Metadata::modified`](crate::fs::Metadata::modified) and its
/// siblings are read on). The same in every run of a seed, and it moves with
/// [`sleep`]; `std::time::SystemTime::now()` is the real clock, which the
/// run does not simulate.
///
/// ```
/// use asyncsim_sim::{time, Config, Sim};
/// use std::time::{Duration, SystemTime};
///
/// let run = Sim::new(Config::new()).run(async {
///     let start = time::system_now();
///     time::sleep(Duration::from_secs(90)).await;
///     (start, time::system_now().duration_since(start).unwrap())
/// });
/// let (start, slept) = run.result.unwrap();
/// let since_unix = start.duration_since(SystemTime::UNIX_EPOCH).unwrap();
/// assert_eq!(since_unix, Duration::from_secs(946_684_800)); // 2000-01-01
/// assert_eq!(slept, Duration::from_secs(90));
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn system_now() -> SystemTime {
    system_time(i128::from(cx::now_ns("asyncsim::time::system_now")))
}

/// The wall-clock time `nanos` after the start of the run (before it, when
/// negative).
pub(crate) fn system_time(nanos: i128) -> SystemTime {
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS);
    let offset = Duration::new(
        (nanos.unsigned_abs() / 1_000_000_000) as u64,
        (nanos.unsigned_abs() % 1_000_000_000) as u32,
    );
    if nanos < 0 {
        epoch - offset
    } else {
        epoch + offset
    }
}

/// `time` as nanoseconds after the start of the run (negative before it):
/// [`system_time`]'s inverse. Every `SystemTime` fits.
pub(crate) fn run_nanos(time: SystemTime) -> i128 {
    let epoch = SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS);
    match time.duration_since(epoch) {
        Ok(after) => after.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, duration: Duration) -> Instant {
        Instant {
            nanos: self.nanos.saturating_add(duration_to_ns(duration)),
        }
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

/// Waits `duration` of virtual time (`asyncio.sleep`).
///
/// Always yields at least once, even for zero: `sleep(Duration::ZERO)` is
/// `asyncio.sleep(0)`.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        target: Target::After(duration_to_ns(duration)),
        key: None,
        yielded: false,
    }
}

/// Waits until `deadline` (`loop.call_at`). A deadline in the past yields once.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        target: Target::At(deadline.nanos),
        key: None,
        yielded: false,
    }
}

#[derive(Clone, Copy, Debug)]
enum Target {
    /// Relative: resolved to a deadline at the first poll, as asyncio does
    /// when the coroutine starts.
    After(u64),
    At(u64),
}

/// The future of [`sleep`] and [`sleep_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    target: Target,
    key: Option<cx::TimerKey>,
    yielded: bool,
}

impl Sleep {
    /// The deadline, once the sleep has started (first poll).
    pub fn deadline(&self) -> Option<Instant> {
        match self.target {
            Target::At(nanos) => Some(Instant { nanos }),
            Target::After(_) => None,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<()> {
        let now = cx::now_ns("asyncsim::time::sleep");
        let deadline = match self.target {
            Target::At(deadline) => deadline,
            Target::After(duration) => {
                let deadline = now.saturating_add(duration);
                self.target = Target::At(deadline);
                deadline
            }
        };
        if let Some(key) = self.key {
            if now >= deadline {
                cx::cancel_timer(key);
                self.key = None;
                return Poll::Ready(());
            }
            cx::update_timer(key, deadline, context.waker());
            return Poll::Pending;
        }
        if deadline <= now {
            // asyncio.sleep(0) and call_at in the past: one loop iteration.
            if self.yielded {
                return Poll::Ready(());
            }
            self.yielded = true;
            context.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.key = Some(cx::register_timer(deadline, context.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            cx::cancel_timer(key);
        }
    }
}

/// The error of [`timeout`]: the deadline passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    /// When the deadline passed.
    pub deadline: Instant,
}

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deadline of {} elapsed",
            crate::trace::format_ns(self.deadline.nanos)
        )
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` with a time limit (`asyncio.wait_for` / `asyncio.timeout`):
/// `Err(Elapsed)` if the limit passes first, and the future is dropped
/// (cancelled), as asyncio cancels it.
///
/// ```
/// use asyncsim_sim::{time, Config, Sim};
/// use std::time::Duration;
/// let run = Sim::new(Config::new()).run(async {
///     time::timeout(Duration::from_secs(1), time::sleep(Duration::from_secs(5))).await
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(1));
/// assert!(run.result.unwrap().is_err());
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future: Box::pin(future),
        sleep: sleep(duration),
    }
}

/// The future of [`timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F: Future> {
    future: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(output) = self.future.as_mut().poll(context) {
            return Poll::Ready(Ok(output));
        }
        let this = &mut *self;
        match Pin::new(&mut this.sleep).poll(context) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed {
                deadline: this.sleep.deadline().unwrap_or_default(),
            })),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A periodic timer: the first tick completes at once, then one every
/// `period` (a missed tick fires immediately, then the schedule continues
/// from the original start, skipping none).
///
/// ```
/// use asyncsim_sim::{time, Config, Sim};
/// use std::time::Duration;
/// let run = Sim::new(Config::new()).run(async {
///     let mut ticks = time::interval(Duration::from_secs(1));
///     for _ in 0..3 { ticks.tick().await; }
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(2));
/// ```
///
/// # Panics
///
/// When `period` is zero.
pub fn interval(period: Duration) -> Interval {
    let period_ns = duration_to_ns(period);
    assert!(
        period_ns > 0,
        "asyncsim::time::interval: the period must be more than zero"
    );
    Interval {
        period_ns,
        next_ns: None,
    }
}

/// The timer of [`interval`].
#[derive(Debug)]
pub struct Interval {
    period_ns: u64,
    next_ns: Option<u64>,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        let now = cx::now_ns("asyncsim::time::Interval::tick");
        let due = *self.next_ns.get_or_insert(now);
        if due > now {
            sleep_until(Instant { nanos: due }).await;
        }
        self.next_ns = Some(due.saturating_add(self.period_ns));
        Instant { nanos: due }
    }

    /// The period.
    pub fn period(&self) -> Duration {
        Duration::from_nanos(self.period_ns)
    }
}
