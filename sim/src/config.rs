//! How one run is set up: seed, strategy, limits.

use std::sync::OnceLock;
use std::time::Duration;

use crate::clock::duration_to_ns;
use crate::sched::Strategy;
use crate::trace::TraceMode;
use crate::variables::{parse_threshold, quoted_cut};
use crate::world::net::config::NetConfig;

/// The settings of one run. Every field has a builder method; defaults are
/// chosen so a forgotten limit turns a hang into a reported failure.
///
/// ```
/// use asyncsim_sim::{Config, Strategy};
/// use std::time::Duration;
///
/// let config = Config::new()
///     .seed(42)
///     .strategy(Strategy::Pct { depth: 3 })
///     .steps_max(50_000)
///     .time_limit(Duration::from_secs(60))
///     .slow_poll(Duration::from_millis(50))
///     .pool_size(2);
/// assert_eq!(config.seed, 42);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Seeds the strategy's generator (`Random`, `Pct`).
    pub seed: u64,
    /// How each draw is made.
    pub strategy: Strategy,
    /// The most polls a run may make before it fails with a step-limit failure.
    pub steps_max: u64,
    /// The most virtual time a run may reach before it fails with a
    /// time-limit failure (unless set: `ASYNCSIM_TIME_LIMIT`, else
    /// [`DEFAULT_TIME_LIMIT`], an hour).
    pub time_limit_ns: u64,
    /// A poll that holds the loop at least this long is reported as slow
    /// (asyncio's `slow_callback_duration`, 100 ms).
    pub slow_poll_ns: u64,
    /// Workers of the simulated `spawn_blocking` pool.
    pub pool_size: usize,
    /// Keep every event, or only the rolling hash.
    pub trace_mode: TraceMode,
    /// The most events a trace stores; later ones are only hashed.
    pub trace_events_max: usize,
    /// The most tasks a run may spawn (a runaway spawn loop is a failure, not an OOM).
    pub tasks_max: usize,
    /// PCT's estimate of a run's length in steps (the window for change points).
    pub pct_steps_estimate: u64,
    /// Replay leniently: a draw that no longer fits wraps into range instead
    /// of failing with a divergence. For shrinkers; users want strict replay.
    #[doc(hidden)]
    pub replay_lenient: bool,
    /// Record `Run::deviations` even when not replaying a tape.
    pub record_deviations: bool,
    /// When a replayed tape runs out, keep polling the task polled last
    /// while it is runnable, instead of asyncio's FIFO order: the
    /// continuation of preemption-bounded exploration (the harness's
    /// `preemptions:k`). The realised tape records every draw either way.
    pub replay_sticky: bool,
    /// Weighted fault draws (`cx::draw_weighted`: loss, duplication,
    /// un-synced data surviving a crash, disk errors, buggify, nemesis faults) use their
    /// configured rates; off, each is the canonical 0 and makes no draw.
    pub faults: bool,
    /// Every link's behaviour unless `net::set_link` says otherwise.
    pub net: NetConfig,
    /// The probability that `fault::buggify()` is true (under Random and
    /// PCT, with faults on); 0 by default: never.
    pub buggify: f64,
    /// The probability (under Random and PCT, with faults on) that a disk
    /// operation fails with a drawn `EIO`; 0 by default: never (see
    /// [`Config::disk_errors`]).
    pub disk_errors: f64,
    /// Virtual time every poll of a task costs (0 by default: polls take no
    /// time, and the clock moves only when nothing is runnable). Opt in so a
    /// busy loop (`while !flag { yield_now().await }`) sees timers fire, and
    /// CPU-heavy polls have a width in the timeline.
    pub poll_cost_ns: u64,
    /// Capture a backtrace wherever a task's waker is cloned, so that a
    /// failure's blocked tasks waiting on a future asyncsim cannot see into
    /// (`tokio::sync::Mutex`, a `futures` channel) are named by where that
    /// future registered the waker ("tokio::sync::Mutex::lock at
    /// src/server.rs:42"). Off by default: a backtrace per clone is slow.
    /// It changes no decision (a run with it makes the same draws, trace
    /// and hash), so the harness turns it on for one more replay of a
    /// counterexample whose report has such a task.
    pub waker_sites: bool,
    /// Real time one poll may last before the hang watchdog says so on
    /// stderr (`None`: `ASYNCSIM_HANG_WARNING`, else 10 s; `Some(0)`: never).
    /// See [`Config::hang_warning`].
    pub hang_warning_ns: Option<u64>,
    /// Real time one poll of a task may hold the run's thread before the
    /// watchdog says, once, that it blocks (`None`:
    /// `ASYNCSIM_BLOCKING_WARNING`, else 200 ms; `Some(0)`: never). See
    /// [`Config::blocking_warning`].
    pub blocking_warning_ns: Option<u64>,
    /// The command that runs this run's test (or program) again, for the
    /// hang watchdog's replay line (`ASYNCSIM_SEED=7 cargo test bank`): an
    /// id from [`Config::rerun_command`], 0 for none. Set by the harness
    /// and the tokio face, which read `ASYNCSIM_SEED`; a `Sim` of a user's
    /// own reads no variable, so its line names the seed only.
    #[doc(hidden)]
    pub rerun_command: u32,
}

/// asyncio's default executor has `min(32, cpu_count + 4)` workers. A
/// simulation must not depend on the machine, so we fix the count as if
/// for a 4-core machine: 8 workers.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// The virtual time a run may reach unless [`Config::time_limit`] says
/// otherwise: one hour. A test whose service never stops (an `interval`
/// ticking while the main future waits for a task nobody tells to shut
/// down) is ended here, after some 36,000 polls for a 100 ms tick, instead
/// of running on to the step limit's million polls (a week, the old
/// default, let it: minutes of real time per failure, and as many again
/// for each replay of its saved regression). An hour covers the tests and
/// examples here (their longest sleeps are an hour; mini-redis's expiry
/// proof, an hour and a second, sets its own), and `Config::time_limit`
/// raises it for a program that really runs longer.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(3600);

/// The variable that sets the time limit of every config that sets none
/// (`Config::new()`, and so the tokio face's `block_on`, the test macros,
/// `check` and `Explore::new`): `2h`, `90m`, `3600s`.
pub(crate) const TIME_LIMIT_VARIABLE: &str = "ASYNCSIM_TIME_LIMIT";

/// The time limit of a config that sets none: `ASYNCSIM_TIME_LIMIT`, else
/// [`DEFAULT_TIME_LIMIT`]. Read once a process (configs are made per run,
/// and runs are hot); unset, it is the constant, so no run changes.
#[track_caller]
pub(crate) fn default_time_limit_ns() -> u64 {
    environment_time_limit_ns().unwrap_or(duration_to_ns(DEFAULT_TIME_LIMIT))
}

/// `ASYNCSIM_TIME_LIMIT`'s limit, if it is set. A value that is not a
/// positive duration panics with what it expected (as
/// `ASYNCSIM_HANG_WARNING` does): a limit silently left at the hour would
/// fail the run it was set for, naming the variable that was set. The
/// panic is the caller's (`#[track_caller]` from `Config::new` and
/// `Explore::new`): it points at the user's line that made the config, not
/// here.
#[track_caller]
pub(crate) fn environment_time_limit_ns() -> Option<u64> {
    static LIMIT: OnceLock<Result<Option<u64>, String>> = OnceLock::new();
    let read = || {
        let expected = "expected a duration of virtual time (`2h`, `90m`, `3600s`), more than 0";
        let value = match std::env::var(TIME_LIMIT_VARIABLE) {
            Ok(value) => value,
            Err(std::env::VarError::NotPresent) => return Ok(None),
            Err(std::env::VarError::NotUnicode(value)) => {
                return Err(format!(
                    "{TIME_LIMIT_VARIABLE}={} is malformed (not UTF-8): {expected}",
                    quoted_cut(&value.to_string_lossy(), 80)
                ))
            }
        };
        match parse_threshold(value.trim()) {
            Some(ns) if ns > 0 => Ok(Some(ns)),
            _ => Err(format!(
                "{TIME_LIMIT_VARIABLE}={} is malformed: {expected}; unset it or give one",
                quoted_cut(&value, 80)
            )),
        }
    };
    match LIMIT.get_or_init(read) {
        Ok(limit) => *limit,
        Err(message) => panic!("{message}"),
    }
}

impl Default for Config {
    /// # Panics
    ///
    /// At the caller's line, when `ASYNCSIM_TIME_LIMIT`,
    /// `ASYNCSIM_HANG_WARNING` or `ASYNCSIM_BLOCKING_WARNING` is malformed.
    #[track_caller]
    fn default() -> Config {
        // Read where a run would read them, at its start, they could only
        // panic inside asyncsim.
        crate::watchdog::refuse_malformed_thresholds();
        Config {
            seed: 0,
            strategy: Strategy::Random,
            steps_max: 1_000_000,
            time_limit_ns: default_time_limit_ns(),
            slow_poll_ns: 100_000_000,
            pool_size: DEFAULT_POOL_SIZE,
            trace_mode: TraceMode::Full,
            trace_events_max: 1 << 20,
            tasks_max: 100_000,
            pct_steps_estimate: 1_000,
            replay_lenient: false,
            replay_sticky: false,
            record_deviations: false,
            faults: true,
            net: NetConfig::default(),
            buggify: 0.0,
            disk_errors: 0.0,
            poll_cost_ns: 0,
            waker_sites: false,
            hang_warning_ns: None,
            blocking_warning_ns: None,
            rerun_command: 0,
        }
    }
}

impl Config {
    /// The defaults: seed 0, `Strategy::Random`, 1,000,000 steps, an hour
    /// of virtual time ([`DEFAULT_TIME_LIMIT`], or `ASYNCSIM_TIME_LIMIT`), slow polls at 100 ms, 8
    /// pool workers, full trace.
    ///
    /// # Panics
    ///
    /// At the line that called it, when `ASYNCSIM_TIME_LIMIT`,
    /// `ASYNCSIM_HANG_WARNING` or `ASYNCSIM_BLOCKING_WARNING` is set to
    /// something that is not a duration: the message names the variable,
    /// its value (cut) and the forms it takes.
    #[track_caller]
    pub fn new() -> Config {
        Config::default()
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Config {
        self.seed = seed;
        self
    }

    /// Sets the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Config {
        self.strategy = strategy;
        self
    }

    /// Sets the step limit: the run fails with `FailureKind::StepLimit`
    /// after this many polls.
    pub fn steps_max(mut self, steps: u64) -> Config {
        self.steps_max = steps;
        self
    }

    /// The old name of [`Config::steps_max`] (the limits are named
    /// `<what>_max`, like `tasks_max` and `trace_events_max`).
    #[deprecated(since = "0.1.0", note = "renamed `steps_max`, like `tasks_max`")]
    pub fn max_steps(self, steps: u64) -> Config {
        self.steps_max(steps)
    }

    /// Sets the virtual-time limit: a run whose next timer is past it fails
    /// with `FailureKind::TimeLimit`. Unset, it is `ASYNCSIM_TIME_LIMIT`
    /// (`2h`, `90m`, `3600s`; read once a process) or else an hour
    /// ([`DEFAULT_TIME_LIMIT`]); set here, it wins over the variable. Under
    /// `#[tokio::test]` or `#[asyncsim::test]`, set it with the argument
    /// `time_limit = "2h"` (`Explore::time_limit`);
    /// under `#[tokio::main]` or `Runtime::block_on`, which make their own
    /// config, `ASYNCSIM_TIME_LIMIT` is the way to raise it.
    pub fn time_limit(mut self, limit: Duration) -> Config {
        self.time_limit_ns = duration_to_ns(limit);
        self
    }

    /// Gives every poll a virtual cost: the clock advances by `cost` after
    /// each poll of a task, so a task spinning on `yield_now` for a timer's
    /// flag sees the timer fire instead of spinning to the step limit.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc, time::Duration};
    /// use asyncsim_sim::{Config, Sim};
    ///
    /// let config = Config::new().poll_cost(Duration::from_millis(1));
    /// let run = Sim::new(config).run(async {
    ///     let flag = Rc::new(Cell::new(false));
    ///     let setter = flag.clone();
    ///     let _setter = asyncsim_sim::spawn(async move {
    ///         asyncsim_sim::time::sleep(Duration::from_secs(1)).await;
    ///         setter.set(true);
    ///     });
    ///     while !flag.get() {
    ///         asyncsim_sim::yield_now().await; // busy-waits: each poll costs 1 ms
    ///     }
    /// });
    /// assert!(run.result.is_ok());
    /// assert!(run.elapsed() >= Duration::from_secs(1));
    /// ```
    pub fn poll_cost(mut self, cost: Duration) -> Config {
        self.poll_cost_ns = duration_to_ns(cost);
        self
    }

    /// See [`Config::waker_sites`].
    pub fn waker_sites(mut self, capture: bool) -> Config {
        self.waker_sites = capture;
        self
    }

    /// Sets the slow-poll threshold.
    pub fn slow_poll(mut self, threshold: Duration) -> Config {
        self.slow_poll_ns = duration_to_ns(threshold);
        self
    }

    /// Sets how much real time one poll (or one pool job's closure) may
    /// last before a line on stderr names its task: a poll that never
    /// returns — a loop that spins without reaching a `Pending` `.await`, a
    /// blocking call waiting for another task of the run, which shares its
    /// thread — cannot be interrupted, but it need not be silent. Said
    /// again at twice the time, four times, and so on; the run goes on.
    /// `Duration::ZERO` turns it off. Unset: `ASYNCSIM_HANG_WARNING`
    /// (`10s`, `200ms`, `off`), else 10 s. Real time is read only by the
    /// watchdog's own thread, never by the run: it changes no decision.
    pub fn hang_warning(mut self, threshold: Duration) -> Config {
        self.hang_warning_ns = Some(duration_to_ns(threshold));
        self
    }

    /// Sets how much real time one poll of a task may hold the run's thread
    /// before a line on stderr says it blocks: a `std::thread::sleep`, a
    /// `std::sync` lock or channel, blocking I/O or long CPU work inside a
    /// task, which real tokio's worker thread suffers the same way — and
    /// which a simulated run shows no other way, since its virtual time
    /// stands still while real time passes. Said once a run, and once for
    /// each task name in the process; the run goes on. `Duration::ZERO`
    /// turns it off. Unset: `ASYNCSIM_BLOCKING_WARNING` (`200ms`, `1s`,
    /// `off`), else 200 ms. Only the watchdog's own thread reads real time:
    /// it changes no decision, trace or hash.
    pub fn blocking_warning(mut self, threshold: Duration) -> Config {
        self.blocking_warning_ns = Some(duration_to_ns(threshold));
        self
    }

    /// Sets the command that runs this run again under `ASYNCSIM_SEED`
    /// (`cargo test bank::deposits`), which the hang watchdog's line gives
    /// as its replay line. Kept once per process for each distinct command
    /// (a run stores its number, not the text). Hidden: the harness and the
    /// tokio face set it, which read `ASYNCSIM_SEED`.
    #[doc(hidden)]
    pub fn rerun_command(mut self, command: &str) -> Config {
        self.rerun_command = crate::watchdog::command_id(command);
        self
    }

    /// Sets the whole line that replays this run of a tape
    /// (`ASYNCSIM_REPLAY=<token> cargo test bank::deposits`), which the hang
    /// watchdog gives instead of a seed's line: the harness sets it for an
    /// exploration's first run, FIFO's empty tape, whose token it knows.
    /// Hidden, as [`Config::rerun_command`] (whose field it sets).
    #[doc(hidden)]
    pub fn rerun_line(mut self, line: &str) -> Config {
        self.rerun_command = crate::watchdog::line_id(line);
        self
    }

    /// Sets the number of pool workers.
    ///
    /// # Panics
    ///
    /// A pool of zero workers could never run a job: that panics here, where
    /// the mistake is, rather than as a deadlock later.
    ///
    /// ```should_panic
    /// asyncsim_sim::Config::new().pool_size(0);
    /// ```
    pub fn pool_size(mut self, workers: usize) -> Config {
        assert!(
            workers > 0,
            "Config::pool_size(0): the executor pool needs at least one worker (asyncio's default is min(32, cpu + 4); asyncsim's is {DEFAULT_POOL_SIZE})"
        );
        self.pool_size = workers;
        self
    }

    /// Keeps every event (`Full`) or only the rolling hash (`HashOnly`).
    pub fn trace_mode(mut self, mode: TraceMode) -> Config {
        self.trace_mode = mode;
        self
    }

    /// Sets the most events a trace stores.
    pub fn trace_events_max(mut self, events: usize) -> Config {
        self.trace_events_max = events;
        self
    }

    /// Sets the most tasks a run may spawn.
    pub fn tasks_max(mut self, tasks: usize) -> Config {
        self.tasks_max = tasks;
        self
    }

    /// Records `Run::deviations` (which task ran instead of which) in every
    /// run, not only in replays. Costs a little per non-FIFO decision.
    pub fn record_deviations(mut self, record: bool) -> Config {
        self.record_deviations = record;
        self
    }

    /// See [`Config::replay_sticky`].
    pub fn replay_sticky(mut self, sticky: bool) -> Config {
        self.replay_sticky = sticky;
        self
    }

    /// Turns weighted fault draws on (the default: configured rates apply)
    /// or off (only the canonical world and scripted faults).
    ///
    /// ```
    /// use asyncsim_sim::Config;
    /// assert!(Config::new().faults);
    /// assert!(!Config::new().faults(false).faults);
    /// ```
    pub fn faults(mut self, on: bool) -> Config {
        self.faults = on;
        self
    }

    /// Sets every link's behaviour (latency range, loss, duplication, TCP
    /// timeout); `net::set_link` overrides one link.
    ///
    /// ```
    /// use asyncsim_sim::{net::NetConfig, Config};
    /// use std::time::Duration;
    /// let config = Config::new().net(NetConfig::new().latency(Duration::from_millis(5), Duration::from_millis(50)).loss(0.01));
    /// assert_eq!(config.net.loss_rate(), 0.01);
    /// ```
    pub fn net(mut self, net: NetConfig) -> Config {
        self.net = net;
        self
    }

    /// Sets how often `fault::buggify()` is true (FoundationDB's BUGGIFY).
    ///
    /// # Panics
    ///
    /// When `rate` is not a probability in [0, 1].
    pub fn buggify(mut self, rate: f64) -> Config {
        assert!(
            (0.0..=1.0).contains(&rate),
            "Config::buggify: {rate} is not a probability in [0, 1]"
        );
        self.buggify = rate;
        self
    }

    /// Sets how often a disk operation (`fs::read`, `read_to_string`,
    /// `write`, `copy`, `rename`, `remove_file`, `create_dir`,
    /// `create_dir_all`, `remove_dir`, `remove_dir_all`, `metadata`,
    /// `try_exists`, `canonicalize`, `read_dir`, `sync_dir`,
    /// `OpenOptions::open`, a write through a `File`, `File::set_len`,
    /// `sync_all` and `sync_data`; reads through an open `File` come from the
    /// page cache and never fail) fails with `EIO`: a weighted `disk` draw per operation
    /// (0 = it succeeds), made only while faults are on and the rate is
    /// above 0.
    ///
    /// The default is 0, like `buggify` and a link's loss: a disk that can
    /// fail is opt-in, because code that unwraps its disk operations (most
    /// examples, most tests) would fail in nearly every schedule, and a
    /// program that never asks for errors keeps its schedules. A nemesis's
    /// error burst (`Nemesis::disk_errors`) raises one node's rate for a
    /// while, whatever this says.
    ///
    /// ```
    /// use asyncsim_sim::{fs, Config, Sim};
    /// let body = || async {
    ///     let mut failures = 0;
    ///     for _ in 0..100 {
    ///         failures += u32::from(fs::write("/f", b"x").await.is_err());
    ///     }
    ///     failures
    /// };
    /// let on = Sim::new(Config::new().seed(1).disk_errors(0.1)).run(body());
    /// assert!(on.result.unwrap() > 0);
    /// let off = Sim::new(Config::new().seed(1).disk_errors(0.1).faults(false)).run(body());
    /// assert_eq!(off.result.unwrap(), 0);
    /// ```
    ///
    /// # Panics
    ///
    /// When `rate` is not a probability in [0, 1].
    pub fn disk_errors(mut self, rate: f64) -> Config {
        assert!(
            (0.0..=1.0).contains(&rate),
            "Config::disk_errors: {rate} is not a probability in [0, 1]"
        );
        self.disk_errors = rate;
        self
    }

    /// Sets PCT's estimate of the run length in steps.
    pub fn pct_steps_estimate(mut self, steps: u64) -> Config {
        self.pct_steps_estimate = steps.max(1);
        self
    }
}
