//! The hang watchdog: the one reader of the wall clock, and it decides
//! nothing in a run.
//!
//! A poll that never returns (a loop that spins without reaching a
//! `Pending` `.await`, a blocking call waiting for another task of the run,
//! which shares its thread) cannot be interrupted. What can be done is to
//! say so: each core publishes, in a [`Beacon`] of atomics, which task it is
//! polling, and one thread of the process (started with the first run that
//! has a threshold, once) looks at every beacon a few times a second. When a poll has lasted
//! more than the run's threshold of real time (`Config::hang_warning`,
//! `ASYNCSIM_HANG_WARNING`, 10 s by default), it writes one line to stderr
//! naming the task, and again at twice that, four times, and so on. It
//! never stops the run: a long CPU-bound poll may be legitimate.
//!
//! A second, lower threshold (`Config::blocking_warning`,
//! `ASYNCSIM_BLOCKING_WARNING`, 200 ms by default) catches what a simulated
//! run otherwise hides: a task's poll that blocks the thread — a
//! `std::thread::sleep`, a `std::sync` lock, blocking I/O, long CPU work —
//! and then returns. Virtual time stands still meanwhile, so the run passes
//! and only real time is spent; in tokio the same call blocks a worker
//! thread. One line says so, naming the task and what to use instead, once
//! a run and once for each task name in the process, however many
//! schedules `check` runs.
//!
//! What a run pays: one relaxed store of the task's index before each poll
//! (a plain `mov` on x86), and a few stores a run. A task spawned with a
//! site (the tokio face's `task-3@src/server.rs:42`) or a name
//! (`task::Builder::name`) costs one more store, of its name's number here
//! (`Beacon::named`), so the line names it as reports do; and a run the harness or the face made says the command that
//! replays it (`Config::rerun_command`, a number too): nothing the watchdog
//! reads is text a run writes. The watchdog tells one
//! poll from the next without a counter: it sets the `SEEN` bit of the value
//! it read (a compare-exchange, so it marks only the value still there), and
//! any poll begun since overwrote it. Still marked a tick later: the same
//! poll. Beacons live for the process (a few hundred bytes each, and 2 KiB a
//! page of task ids named by their spawn site; as many as
//! cores were alive at once): a core gives its beacon back when dropped and
//! the next core takes it, so nothing the watchdog reads is ever freed, and
//! no `unsafe` is needed.

use std::io::Write;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use crate::variables::{parse_threshold, quoted_cut};

/// No run on the core (between runs, or a beacon given back).
const IDLE: u32 = u32::MAX;
/// Set by the watchdog in the value it saw; cleared by the next store.
const SEEN: u32 = 1 << 31;
/// With a task's index: its pool job's closure runs.
const JOB: u32 = 1 << 30;
/// User code outside a poll: a destructor (node crash, end of the run) or
/// a step-boundary call.
const OUTSIDE: u32 = 1 << 29;
/// The task's index (under 2^24: `kernel::wakers::TASK_BITS`).
const TASK: u32 = (1 << 24) - 1;

/// How many tasks of a run (by id) a beacon can name by their spawn site:
/// as many as a thread interns site names for (`kernel::slots`).
const NAMED_TASKS_MAX: usize = 4096;
/// The named slots of one page of [`Beacon::named`] (2 KiB): a beacon
/// takes a page when a task id in it is first named, so its footprint
/// follows the runs' task counts (most runs: one page or none), not
/// [`NAMED_TASKS_MAX`] (32 KiB).
const NAMED_PER_PAGE: usize = 256;

/// One page of named slots.
type NamedPage = [AtomicU64; NAMED_PER_PAGE];

/// What one core publishes for the watchdog.
pub(crate) struct Beacon {
    /// The task being polled (its index), `JOB | index`, `OUTSIDE`, or
    /// `IDLE`; the watchdog ORs in `SEEN`.
    poll: AtomicU32,
    /// The run's seed.
    seed: AtomicU64,
    /// The number of the command that replays the run by its seed
    /// (`Config::rerun_command`; 0: none, as for a replayed tape).
    rerun_command: AtomicU32,
    /// Counts the core's runs, so a task's name from an earlier run is not
    /// taken for this one's.
    run: AtomicU32,
    /// For each task id, the run (high half) and the number + 1 (low half)
    /// of the name its spawn site gave it; 0: none. In pages, each made
    /// when first written and kept for the process (written once, so the
    /// watchdog's reads need no lock).
    named: [OnceLock<Box<NamedPage>>; NAMED_TASKS_MAX / NAMED_PER_PAGE],
    /// Virtual time, as of the last clock move outside a poll's own.
    now_ns: AtomicU64,
    /// The run's threshold (0: off).
    threshold_ns: AtomicU64,
    /// The run's threshold for a poll that blocks the thread (0: off).
    blocking_ns: AtomicU64,
}

impl Beacon {
    /// A beacon no core holds yet: idle, no page of named slots taken.
    fn new() -> Beacon {
        Beacon {
            poll: AtomicU32::new(IDLE),
            seed: AtomicU64::new(0),
            rerun_command: AtomicU32::new(0),
            run: AtomicU32::new(0),
            named: [const { OnceLock::new() }; NAMED_TASKS_MAX / NAMED_PER_PAGE],
            now_ns: AtomicU64::new(0),
            threshold_ns: AtomicU64::new(0),
            blocking_ns: AtomicU64::new(0),
        }
    }

    /// A poll of task `task` begins.
    #[inline(always)]
    pub(crate) fn poll(&self, task: u32) {
        self.poll.store(task, Relaxed);
    }

    /// The closure of task `task`'s pool job runs.
    pub(crate) fn job(&self, task: u32) {
        self.poll.store(JOB | task, Relaxed);
    }

    /// User code runs outside a poll (a destructor, a boundary call).
    pub(crate) fn outside(&self) {
        self.poll.store(OUTSIDE, Relaxed);
    }

    /// The clock moved.
    #[inline(always)]
    pub(crate) fn clock(&self, now_ns: u64) {
        self.now_ns.store(now_ns, Relaxed);
    }

    /// Task `task` was spawned with a site, whose name has number `name`
    /// ([`text_id`]).
    #[inline]
    pub(crate) fn named(&self, task: u32, name: u32) {
        let task = task as usize;
        if let Some(page) = self.named.get(task / NAMED_PER_PAGE) {
            let page = page.get_or_init(|| Box::new([const { AtomicU64::new(0) }; NAMED_PER_PAGE]));
            let run = u64::from(self.run.load(Relaxed));
            page[task % NAMED_PER_PAGE].store((run << 32) | (u64::from(name) + 1), Relaxed);
        }
    }

    /// What [`Beacon::named`] stored for task `task` (0: nothing).
    fn name_of(&self, task: u32) -> u64 {
        let task = task as usize;
        self.named
            .get(task / NAMED_PER_PAGE)
            .and_then(OnceLock::get)
            .map_or(0, |page| page[task % NAMED_PER_PAGE].load(Relaxed))
    }

    /// A run begins with this seed, the command that replays it by its seed
    /// (`None` for a replayed tape, `Some(0)` for none known), and
    /// thresholds (`None`: the process's, `ASYNCSIM_HANG_WARNING` or 10 s,
    /// `ASYNCSIM_BLOCKING_WARNING` or 200 ms; 0: off).
    #[inline]
    pub(crate) fn run_started(
        &self,
        seed: u64,
        rerun_command: Option<u32>,
        threshold_ns: Option<u64>,
        blocking_ns: Option<u64>,
    ) {
        let threshold = threshold_ns.unwrap_or_else(default_threshold_ns);
        let blocking = blocking_ns.unwrap_or_else(default_blocking_ns);
        if threshold != 0 || blocking != 0 {
            start();
        }
        // Only this core writes it: no read-modify-write needed.
        self.run
            .store(self.run.load(Relaxed).wrapping_add(1), Relaxed);
        self.seed.store(seed, Relaxed);
        self.rerun_command
            .store(rerun_command.unwrap_or(REPLAYED), Relaxed);
        self.now_ns.store(0, Relaxed);
        self.threshold_ns.store(threshold, Relaxed);
        self.blocking_ns.store(blocking, Relaxed);
        self.poll.store(IDLE, Relaxed);
    }

    /// The run is over.
    #[inline]
    pub(crate) fn run_ended(&self) {
        self.poll.store(IDLE, Relaxed);
    }
}

struct Registry {
    /// Every beacon made, for the watchdog.
    all: Vec<&'static Beacon>,
    /// Those no core holds.
    free: Vec<&'static Beacon>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    all: Vec::new(),
    free: Vec::new(),
});

/// Starts the watchdog, once a process, with the first run that has a
/// threshold (a process whose runs all have none, `ASYNCSIM_HANG_WARNING=off`
/// and `ASYNCSIM_BLOCKING_WARNING=off`, starts no thread).
#[inline]
fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        // No watchdog (threads unavailable): runs go on unwatched.
        let _ = std::thread::Builder::new()
            .name("asyncsim-hang-watchdog".into())
            .spawn(watch);
    });
}

/// A beacon for a new core.
pub(crate) fn lease() -> &'static Beacon {
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(beacon) = registry.free.pop() {
        return beacon;
    }
    let beacon: &'static Beacon = Box::leak(Box::new(Beacon::new()));
    registry.all.push(beacon);
    beacon
}

/// A dropped core's beacon, for the next core.
pub(crate) fn give_back(beacon: &'static Beacon) {
    beacon.poll.store(IDLE, Relaxed);
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    registry.free.push(beacon);
}

/// `Beacon::rerun_command` of a run that replays a tape: no seed replays it.
const REPLAYED: u32 = u32::MAX;

/// Texts a run names by number: spawn sites' task names and rerun
/// commands, each kept once for the process (a handful: one per site and
/// id a thread interns, one per test).
static TEXTS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// The number of `text` in [`TEXTS`], kept there on first use: what a run
/// tells a beacon for a task's site name ([`Beacon::named`]).
pub(crate) fn text_id(text: &str) -> u32 {
    let mut texts = TEXTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = texts.iter().position(|known| *known == text) {
        return known as u32;
    }
    let kept: &'static str = Box::leak(Box::<str>::from(text));
    texts.push(kept);
    (texts.len() - 1) as u32
}

/// The number of a rerun command (never 0, which is "none").
pub(crate) fn command_id(command: &str) -> u32 {
    // Numbers from 1: 0 is none, and [`REPLAYED`] is never reached.
    text_id(command) + 1
}

/// Marks a rerun command's number whose text is the whole line that
/// replays the run (`ASYNCSIM_REPLAY=<token> cargo test bank`), not a
/// command its seed goes before: a run of a tape the harness has a token
/// for (an exploration's first run, FIFO's empty tape).
const WHOLE_LINE: u32 = 1 << 30;

/// The number of a whole replay line ([`WHOLE_LINE`]).
pub(crate) fn line_id(line: &str) -> u32 {
    command_id(line) | WHOLE_LINE
}

/// Whether a run of a replayed tape has a line that replays it: a tape's
/// run has no seed to give back, only such a line.
pub(crate) fn is_whole_line(command: u32) -> bool {
    command != REPLAYED && command & WHOLE_LINE != 0
}

/// The text numbered `id`.
fn text(id: u32) -> Option<&'static str> {
    TEXTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id as usize)
        .copied()
}

/// The hang threshold of a run that sets none, unless
/// `ASYNCSIM_HANG_WARNING` says otherwise: 10 s.
const HANG_WARNING_DEFAULT_NS: u64 = 10_000_000_000;

/// The blocking threshold of a run that sets none, unless
/// `ASYNCSIM_BLOCKING_WARNING` says otherwise: 200 ms.
const BLOCKING_WARNING_DEFAULT_NS: u64 = 200_000_000;

/// `ASYNCSIM_HANG_WARNING` (`10s`, `200ms`, `1.5` seconds; `0` or `off`:
/// never), else 10 s; or why its value is refused. Read once a process.
fn hang_warning_from_environment() -> &'static Result<u64, String> {
    static DEFAULT: OnceLock<Result<u64, String>> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        threshold_from_environment("ASYNCSIM_HANG_WARNING", HANG_WARNING_DEFAULT_NS)
    })
}

/// `ASYNCSIM_BLOCKING_WARNING` (as `ASYNCSIM_HANG_WARNING`), else 200 ms;
/// or why its value is refused. Read once a process.
fn blocking_warning_from_environment() -> &'static Result<u64, String> {
    static DEFAULT: OnceLock<Result<u64, String>> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        threshold_from_environment("ASYNCSIM_BLOCKING_WARNING", BLOCKING_WARNING_DEFAULT_NS)
    })
}

/// Refuses a malformed `ASYNCSIM_HANG_WARNING` or
/// `ASYNCSIM_BLOCKING_WARNING` where a config is made (`Config::new`,
/// `Config::default`, and so `Explore::new` and the test macros), by a
/// panic at the user's line that made it (`#[track_caller]` down to here),
/// as `ASYNCSIM_TIME_LIMIT` is: a run reads them only at its start, deep in
/// `Sim::run`, where a panic would point inside asyncsim.
#[track_caller]
pub(crate) fn refuse_malformed_thresholds() {
    for threshold in [
        hang_warning_from_environment(),
        blocking_warning_from_environment(),
    ] {
        if let Err(message) = threshold {
            panic!("{message}");
        }
    }
}

/// The threshold of a run that sets none. A malformed variable was refused
/// where the config was made ([`refuse_malformed_thresholds`]); a config
/// made field by field, which skips that, watches at the default.
fn default_threshold_ns() -> u64 {
    *hang_warning_from_environment()
        .as_ref()
        .unwrap_or(&HANG_WARNING_DEFAULT_NS)
}

/// The blocking threshold of a run that sets none (as
/// [`default_threshold_ns`]).
fn default_blocking_ns() -> u64 {
    *blocking_warning_from_environment()
        .as_ref()
        .unwrap_or(&BLOCKING_WARNING_DEFAULT_NS)
}

/// The threshold variable `name` sets, else `default`.
fn threshold_from_environment(name: &str, default: u64) -> Result<u64, String> {
    threshold_from(name, std::env::var(name), default)
}

/// The threshold a variable `name` of value `value` sets, else `default`.
/// A value that is no duration is refused with what it expected — also one
/// that is not UTF-8, as `ASYNCSIM_TIME_LIMIT`'s is: a threshold set and
/// silently left at its default would leave its setter wondering.
fn threshold_from(
    name: &str,
    value: Result<String, std::env::VarError>,
    default: u64,
) -> Result<u64, String> {
    let expected = "expected a duration (`10s`, `200ms`, `1.5` seconds, `90m`, `2h`) or `off`";
    let value = match value {
        Ok(value) => value,
        Err(std::env::VarError::NotPresent) => return Ok(default),
        Err(std::env::VarError::NotUnicode(value)) => {
            return Err(format!(
                "{name}={} is malformed (not UTF-8): {expected}",
                quoted_cut(&value.to_string_lossy(), 80)
            ))
        }
    };
    parse_threshold(value.trim()).ok_or_else(|| {
        format!(
            "{name}={} is malformed: {expected}; unset it or give one",
            quoted_cut(&value, 80)
        )
    })
}

/// What the watchdog remembers of a beacon: the value it marked, when,
/// when it speaks next, and whether it has looked at this poll as one that
/// blocks.
#[derive(Clone, Copy)]
struct Marked {
    value: u32,
    since: Instant,
    next_report: Duration,
    blocking_seen: bool,
}

/// The watchdog's loop: never returns.
fn watch() {
    let mut marked: Vec<Option<Marked>> = Vec::new();
    let mut beacons: Vec<&'static Beacon> = Vec::new();
    let mut blocking = BlockingSaid::default();
    loop {
        beacons.clear();
        beacons.extend_from_slice(&REGISTRY.lock().unwrap_or_else(|e| e.into_inner()).all);
        marked.resize(beacons.len(), None);
        blocking.runs.resize(beacons.len(), None);
        // A quarter of the smallest threshold, between 10 ms and 1 s.
        let mut tick = Duration::from_secs(1);
        for (index, (beacon, marked)) in beacons.iter().zip(marked.iter_mut()).enumerate() {
            let threshold_ns = beacon.threshold_ns.load(Relaxed);
            let blocking_ns = beacon.blocking_ns.load(Relaxed);
            let value = beacon.poll.load(Relaxed);
            if threshold_ns == 0 && blocking_ns == 0 {
                *marked = None;
                continue;
            }
            // Between runs too: the next may start at once.
            for ns in [threshold_ns, blocking_ns] {
                if ns != 0 {
                    tick = tick.min(Duration::from_nanos(ns / 4));
                }
            }
            if value == IDLE {
                *marked = None;
                continue;
            }
            if value & SEEN == 0 {
                // A poll begun since the last look (or the first look).
                *marked = beacon
                    .poll
                    .compare_exchange(value, value | SEEN, Relaxed, Relaxed)
                    .is_ok()
                    .then(|| Marked {
                        value,
                        since: Instant::now(),
                        next_report: Duration::from_nanos(threshold_ns),
                        blocking_seen: false,
                    });
                continue;
            }
            let Some(mark) = marked.as_mut() else {
                continue;
            };
            if mark.value != value & !SEEN {
                continue;
            }
            let held = mark.since.elapsed();
            if threshold_ns != 0 && held >= mark.next_report {
                report(beacon, mark.value, held);
                mark.next_report = mark.next_report.saturating_mul(2);
            }
            // A task's poll only: a pool job's closure is where blocking
            // work belongs, and code outside a poll is no task's.
            if blocking_ns != 0
                && !mark.blocking_seen
                && mark.value & (JOB | OUTSIDE) == 0
                && held >= Duration::from_nanos(blocking_ns)
            {
                mark.blocking_seen = true;
                blocking.say(index, beacon, mark.value, held);
            }
        }
        std::thread::sleep(tick.max(Duration::from_millis(10)));
    }
}

/// The site name of the task in `value`, if this run's spawn gave it one.
fn site_name(beacon: &Beacon, value: u32) -> Option<&'static str> {
    let run = beacon.run.load(Relaxed);
    let named = beacon.name_of(value & TASK);
    ((named >> 32) as u32 == run && named as u32 != 0)
        .then(|| text(named as u32 - 1))
        .flatten()
}

fn rerun_of(beacon: &Beacon) -> Rerun {
    match beacon.rerun_command.load(Relaxed) {
        REPLAYED => Rerun::Replayed,
        0 => Rerun::Unknown,
        line if is_whole_line(line) => {
            text((line & !WHOLE_LINE) - 1).map_or(Rerun::Replayed, Rerun::Line)
        }
        command => text(command - 1).map_or(Rerun::Unknown, Rerun::Command),
    }
}

/// Writes `line` to the process's stderr. Not `eprintln!`: a test's output
/// capture, which a thread inherits from the one that started it, would
/// swallow the line.
fn write_line(line: &str) {
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

fn report(beacon: &Beacon, value: u32, held: Duration) {
    let seed = beacon.seed.load(Relaxed);
    let now_ns = beacon.now_ns.load(Relaxed);
    let name = site_name(beacon, value);
    write_line(&message(value, name, held, seed, rerun_of(beacon), now_ns));
}

/// What the watchdog has said of polls that block: for each beacon, the run
/// (its number on the beacon) it spoke of last, and each task name it spoke
/// of — a `check` of a thousand schedules that sleep in the same task gets
/// one line, not a thousand. (A name is a spawn site's, the tokio face's
/// `task-3@src/server.rs:42`, or a bare `task-3`: two tests of one binary that
/// both block in a `task-3` of their own get one line between them.)
#[derive(Default)]
struct BlockingSaid {
    runs: Vec<Option<u32>>,
    tasks: Vec<String>,
}

impl BlockingSaid {
    /// The poll `value` on beacon number `index` has held its thread
    /// `held`: say so, unless this run or this task was spoken of.
    fn say(&mut self, index: usize, beacon: &Beacon, value: u32, held: Duration) {
        let run = beacon.run.load(Relaxed);
        if self.runs[index] == Some(run) {
            return;
        }
        let name = site_name(beacon, value);
        let who = task_words(value & TASK, name);
        if self.tasks.contains(&who) {
            return;
        }
        self.runs[index] = Some(run);
        let line = blocking_message(
            &who,
            held,
            beacon.seed.load(Relaxed),
            rerun_of(beacon),
            beacon.now_ns.load(Relaxed),
        );
        self.tasks.push(who);
        write_line(&line);
    }
}

/// A task as the watchdog's lines name it: `main`, its spawn site's name,
/// or `task-3`.
fn task_words(task: u32, name: Option<&str>) -> String {
    if task == 0 {
        "the main task (`main`)".to_string()
    } else {
        name.map_or_else(|| format!("task-{task}"), str::to_string)
    }
}

/// The line for a poll of task `who` that has held the run's thread `held`
/// of real time.
fn blocking_message(who: &str, held: Duration, seed: u64, rerun: Rerun, now_ns: u64) -> String {
    let run = rerun.run_words(seed);
    format!(
        "\nasyncsim: {who} has held the run's thread for {:.2} s of real time in one poll ({run}, virtual time {:.3} s, which stands still meanwhile): \
         a blocking call (std::thread::sleep, a std::sync lock or channel, std::fs or std::net I/O) or long CPU work inside an async task, \
         which blocks a tokio worker thread the same way. Move it off the task: under the tokio face, tokio::task::spawn_blocking \
         (block_in_place runs it in place: on this thread still); with asyncsim's own API, asyncsim::spawn_blocking, and asyncsim::blocking::sleep for a sleep \
         in virtual time. Said once a task (ASYNCSIM_BLOCKING_WARNING sets when, 200ms by default; `off` silences it).\n",
        held.as_secs_f64(),
        now_ns as f64 / 1e9,
    )
}

/// How the watchdog's line says to replay the run.
#[derive(Clone, Copy)]
enum Rerun {
    /// By its seed, with this command (`cargo test bank::deposits`).
    Command(&'static str),
    /// By its seed, the command unknown (a `Sim` of the user's own).
    Unknown,
    /// It replays a tape (a given token, a saved regression, a shrinking
    /// step): no seed replays it.
    Replayed,
    /// It replays a tape this whole line replays (`ASYNCSIM_REPLAY=<token>
    /// cargo test bank::deposits`).
    Line(&'static str),
}

impl Rerun {
    /// The run in the watchdog's words: its seed, or that it replays a tape.
    fn run_words(&self, seed: u64) -> String {
        match self {
            Rerun::Replayed | Rerun::Line(_) => "run replaying a tape".to_string(),
            Rerun::Command(_) | Rerun::Unknown => format!("run seed {seed}"),
        }
    }
}

/// The watchdog's line for `value` (its task named `name` by its spawn
/// site, if it has one) held `held` of real time, and the line that replays
/// the run.
fn message(
    value: u32,
    name: Option<&str>,
    held: Duration,
    seed: u64,
    rerun: Rerun,
    now_ns: u64,
) -> String {
    let task = value & TASK;
    let (who, inside) = if value & OUTSIDE != 0 {
        (
            "user code outside a poll (a destructor, or a step-boundary call)".to_string(),
            "has run",
        )
    } else if value & JOB != 0 {
        let job = name.map_or_else(|| format!("blocking-{task}"), str::to_string);
        (format!("the closure of pool job {job}"), "has run")
    } else {
        (task_words(task, name), "has been inside one poll")
    };
    let run = rerun.run_words(seed);
    let replay = match rerun {
        Rerun::Command(command) => {
            format!("asyncsim: replay that run alone: ASYNCSIM_SEED={seed} {command}\n")
        }
        Rerun::Line(line) => format!("asyncsim: replay that run alone: {line}\n"),
        Rerun::Unknown | Rerun::Replayed => String::new(),
    };
    format!(
        "\nasyncsim: {who} {inside} for {:.1} s of real time ({run}, virtual time {:.3} s): \
         a loop that never reaches a Pending .await, or a blocking call waiting for another task of this run, \
         which shares its thread? The run goes on; nothing can interrupt a poll. \
         See README, \"When a test hangs\" (ASYNCSIM_HANG_WARNING sets when this is said; `off` silences it).\n{replay}",
        held.as_secs_f64(),
        now_ns as f64 / 1e9,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_variable_reads_every_duration_it_names_and_defaults_when_unset() {
        let from = |value: &str| threshold_from("ASYNCSIM_HANG_WARNING", Ok(value.to_string()), 7);
        assert_eq!(from("10s"), Ok(10_000_000_000));
        assert_eq!(from("200ms"), Ok(200_000_000));
        assert_eq!(from("1.5"), Ok(1_500_000_000));
        assert_eq!(from("90m"), Ok(5_400_000_000_000));
        assert_eq!(from("2h"), Ok(7_200_000_000_000));
        assert_eq!(from("off"), Ok(0));
        let unset = Err(std::env::VarError::NotPresent);
        assert_eq!(threshold_from("ASYNCSIM_HANG_WARNING", unset, 7), Ok(7));
    }

    #[test]
    fn a_malformed_threshold_names_every_form_it_takes() {
        let said = threshold_from("ASYNCSIM_HANG_WARNING", Ok("soon".to_string()), 7).unwrap_err();
        assert_eq!(
            said,
            "ASYNCSIM_HANG_WARNING=\"soon\" is malformed: expected a duration (`10s`, `200ms`, `1.5` seconds, \
             `90m`, `2h`) or `off`; unset it or give one"
        );
    }

    /// A malformed value is quoted cut, as `ASYNCSIM_TIME_LIMIT`'s is (a
    /// replay token pasted into the wrong variable is megabytes).
    #[test]
    fn a_long_malformed_threshold_is_quoted_cut() {
        let long = "x".repeat(5_000);
        let said = threshold_from("ASYNCSIM_HANG_WARNING", Ok(long), 7).unwrap_err();
        assert!(said.len() < 300, "{} characters", said.len());
        assert!(said.contains("(5000 characters)"), "{said}");
    }

    #[cfg(unix)]
    #[test]
    fn a_threshold_that_is_not_utf8_is_said_not_ignored() {
        use std::os::unix::ffi::OsStringExt;
        let value = std::ffi::OsString::from_vec(vec![b'2', 0xFF, b's']);
        let said = threshold_from(
            "ASYNCSIM_BLOCKING_WARNING",
            Err(std::env::VarError::NotUnicode(value)),
            7,
        )
        .unwrap_err();
        assert!(
            said.starts_with(
                "ASYNCSIM_BLOCKING_WARNING=\"2\u{FFFD}s\" is malformed (not UTF-8): expected a duration"
            ),
            "{said}"
        );
    }

    /// A beacon takes a page of named slots only when a task id in it is
    /// named, and reads back what was stored there in this run alone.
    #[test]
    fn named_slots_take_a_page_when_first_named() {
        let beacon = Beacon::new();
        beacon.run.store(7, Relaxed);
        let pages = |beacon: &Beacon| -> Vec<usize> {
            (0..beacon.named.len())
                .filter(|page| beacon.named[*page].get().is_some())
                .collect()
        };
        assert_eq!(pages(&beacon), Vec::<usize>::new());
        beacon.named(300, 4);
        assert_eq!(pages(&beacon), [1]);
        assert_eq!(beacon.name_of(300), (7 << 32) | 5);
        assert_eq!(beacon.name_of(301), 0);
        assert_eq!(beacon.name_of(3), 0, "a page not taken reads as none");
        // Past the last slot: not kept, nothing taken.
        beacon.named(NAMED_TASKS_MAX as u32, 4);
        assert_eq!(beacon.name_of(NAMED_TASKS_MAX as u32), 0);
        assert_eq!(pages(&beacon), [1]);
    }

    #[test]
    fn the_message_names_the_task_seed_and_times() {
        let line = message(
            3,
            None,
            Duration::from_millis(10_200),
            7,
            Rerun::Unknown,
            1_234_000_000,
        );
        assert!(
            line.contains("asyncsim: task-3 has been inside one poll for 10.2 s of real time (run seed 7, virtual time 1.234 s)"),
            "{line}"
        );
        assert!(!line.contains("replay"), "{line}");
        let plain = |value| message(value, None, Duration::ZERO, 0, Rerun::Unknown, 0);
        assert!(plain(0).contains("the main task (`main`)"));
        assert!(plain(JOB | 4).contains("pool job blocking-4"));
        assert!(plain(OUTSIDE).contains("outside a poll"));
    }

    #[test]
    fn the_blocking_line_names_the_task_the_time_and_what_to_use() {
        let line = blocking_message(
            &task_words(2, Some("task-2@src/lib.rs:72")),
            Duration::from_millis(400),
            7,
            Rerun::Unknown,
            1_500_000_000,
        );
        assert!(
            line.starts_with("\nasyncsim: task-2@src/lib.rs:72 has held the run's thread for 0.40 s of real time in one poll (run seed 7, virtual time 1.500 s, "),
            "{line}"
        );
        assert_eq!(line.trim().lines().count(), 1, "{line}");
        assert!(line.contains("tokio::task::spawn_blocking"), "{line}");
        assert!(task_words(0, None).contains("main"));
        assert_eq!(task_words(4, None), "task-4");
    }

    #[test]
    fn the_message_names_a_spawn_site_and_gives_a_replay_line() {
        let line = message(
            3,
            Some("task-3@src/server.rs:42"),
            Duration::from_millis(10_200),
            7,
            Rerun::Command("cargo test bank::deposits"),
            1_234_000_000,
        );
        let lines: Vec<&str> = line.lines().collect();
        assert!(
            lines[1].starts_with("asyncsim: task-3@src/server.rs:42 has been inside one poll for 10.2 s of real time (run seed 7, virtual time 1.234 s): "),
            "{line}"
        );
        assert_eq!(
            lines[2],
            "asyncsim: replay that run alone: ASYNCSIM_SEED=7 cargo test bank::deposits"
        );
        let job = message(
            JOB | 4,
            Some("blocking-4@src/server.rs:50"),
            Duration::ZERO,
            7,
            Rerun::Replayed,
            0,
        );
        assert!(
            job.contains("pool job blocking-4@src/server.rs:50 has run for 0.0 s of real time (run replaying a tape, "),
            "{job}"
        );
        assert!(!job.contains("ASYNCSIM_SEED"), "{job}");
    }

    #[test]
    fn a_tape_with_a_line_of_its_own_gets_that_line() {
        let line = message(
            1,
            None,
            Duration::from_millis(10_200),
            0,
            Rerun::Line("ASYNCSIM_REPLAY=as1..0a0b0c0d.01020304 cargo test bank"),
            0,
        );
        let lines: Vec<&str> = line.lines().collect();
        assert!(lines[1].contains("(run replaying a tape, "), "{line}");
        assert_eq!(
            lines[2],
            "asyncsim: replay that run alone: ASYNCSIM_REPLAY=as1..0a0b0c0d.01020304 cargo test bank"
        );
        // Its number is told apart from a command's and from none.
        let id = line_id("ASYNCSIM_REPLAY=as1..0a0b0c0d.01020304 cargo test bank");
        assert!(is_whole_line(id));
        assert!(!is_whole_line(command_id("cargo test bank")));
        assert!(!is_whole_line(REPLAYED));
        assert!(!is_whole_line(0));
    }
}
