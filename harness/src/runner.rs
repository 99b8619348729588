//! Running a body over many schedules: `check`, `explore`, `find`, `outcomes`.
//!
//! # Determinism of the search itself
//!
//! Run `i` (0-based; `ASYNCSIM_SHARD` picks a subset of the indices) uses seed
//! `base + i`. With `jobs(n)` the threads take run indices from a shared
//! counter, in increasing order; a thread that finds a failure lowers a
//! shared "stop" index, and threads stop taking indices above it. Every index
//! below the first failing one was taken before it, so each is finished, and
//! the first failure reported is the lowest failing index — the same one a
//! single thread finds. Everything after that (re-running in full, shrinking,
//! reporting) runs on the calling thread.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use asyncsim_sim::{Config, Failure, FailureKind, Run, Sim, Strategy, Tape, Trace, TraceMode};

use crate::counterexample::{replay_lines, Counterexample, Origin};
use crate::exhaustive::{Enumerator, Part};
use crate::explore::{Explore, Search};
use crate::outcome::TestResult;
use crate::persist;
use crate::shrink;

/// One schedule: a seed (run by the exploration's strategy) or a tape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A seed for the exploration's strategy.
    Seed(u64),
    /// A tape, replayed.
    Tape(Tape),
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Seed(seed) => write!(f, "seed {seed}"),
            Schedule::Tape(tape) => write!(f, "token {tape}"),
        }
    }
}

/// What an exploration found. See [`explore`].
#[derive(Clone, Debug)]
pub struct Summary {
    /// How many schedules ran (up to and including the first failure, for
    /// `check`).
    pub runs: u64,
    /// How many of them failed.
    pub failures: u64,
    /// The failure with the lowest run index, shrunk.
    pub first_failure: Option<Counterexample>,
    /// Distinct schedules seen, by trace hash.
    pub distinct_schedules: u64,
    /// How many of the last 1,000 runs (or fewer) showed a trace not seen
    /// before: near 0 means more runs of this strategy find little new.
    pub new_in_last_1000: u64,
    /// Exhaustive mode: whether every schedule within the deviation bound
    /// ran (false when `runs` cut it short, or a draw had too many options
    /// to enumerate). None for sampled strategies.
    pub exhausted: Option<bool>,
    /// When the determinism check found two runs of one schedule that
    /// differ: the explanation.
    pub nondeterminism: Option<String>,
    /// The strategy, as text.
    pub strategy: String,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs ({}), {} failed, {} distinct schedules, {} new in the last {}",
            self.runs,
            self.strategy,
            self.failures,
            self.distinct_schedules,
            self.new_in_last_1000,
            self.runs.min(1000)
        )?;
        if let Some(exhausted) = self.exhausted {
            write!(
                f,
                "; bounded space {}",
                if exhausted {
                    "exhausted"
                } else {
                    "not exhausted"
                }
            )?;
        }
        Ok(())
    }
}

/// A schedule where the body's value satisfied a predicate. See [`find`].
#[derive(Clone, Debug)]
pub struct Witness<T> {
    /// 0-based index of the run.
    pub run_index: u64,
    /// How to run it again (seed or tape).
    pub schedule: Schedule,
    /// The seed (0 when the schedule is a tape).
    pub seed: u64,
    /// The realised tape: `tape.to_string()` replays it.
    pub tape: Tape,
    /// The full trace.
    pub trace: Trace,
    /// The body's value.
    pub value: T,
}

impl<T> Witness<T> {
    /// The replay token.
    pub fn token(&self) -> String {
        self.tape.to_string()
    }
}

/// One distinct value of a census. See [`outcomes`].
#[derive(Clone, Debug)]
pub struct Outcome<T> {
    /// The value.
    pub value: T,
    /// How many runs produced it.
    pub count: u64,
    /// The first run that produced it.
    pub witness: Schedule,
    /// Its run index.
    pub witness_run_index: u64,
    /// The witness run's realised tape: `tape.to_string()` is a token that
    /// replays it (`Strategy::Replay`), whatever strategy found it.
    pub tape: Tape,
}

impl<T> Outcome<T> {
    /// The replay token of the witness run.
    pub fn token(&self) -> String {
        self.tape.to_string()
    }
}

/// Every distinct value the body produced, in order of first appearance.
#[derive(Clone, Debug)]
pub struct Outcomes<T> {
    /// The values with counts and witnesses, in order of first appearance.
    pub values: Vec<Outcome<T>>,
    /// Runs made.
    pub runs: u64,
    /// Runs that failed (no value), by kind, with the first's schedule.
    pub failures: Vec<(FailureKind, u64, Schedule)>,
}

impl<T> Outcomes<T> {
    /// The distinct values, in order of first appearance.
    pub fn distinct(&self) -> Vec<&T> {
        self.values.iter().map(|outcome| &outcome.value).collect()
    }

    /// How many runs produced `value`.
    pub fn count(&self, value: &T) -> u64
    where
        T: PartialEq,
    {
        self.values
            .iter()
            .find(|outcome| outcome.value == *value)
            .map_or(0, |outcome| outcome.count)
    }
}

/// Where the plans of one exploration come from.
enum Source {
    Replay(Tape),
    Seed(u64),
    Sampled,
    /// Bounded enumeration: delay bounding from FIFO, or (`sticky`)
    /// preemption bounding from "run the task that ran last".
    Exhaustive {
        bound: u32,
        sticky: bool,
    },
}

/// Everything needed to configure a run of this exploration.
struct Setup<'a> {
    settings: &'a Explore,
    source: Source,
    strategy: Strategy,
    pct_steps_estimate: u64,
    test_name: String,
}

impl Setup<'_> {
    fn config(&self, schedule: &Schedule, mode: TraceMode, lenient: bool) -> Config {
        let mut config = self.settings.config.clone();
        match schedule {
            Schedule::Seed(seed) => {
                config.seed = *seed;
                config.strategy = self.strategy.clone();
            }
            Schedule::Tape(tape) => {
                config.seed = 0;
                config.strategy = Strategy::Replay(tape.clone());
            }
        }
        config.trace_mode = mode;
        config.replay_lenient = lenient;
        config.pct_steps_estimate = self.pct_steps_estimate;
        config
    }

    fn strategy_name(&self) -> String {
        match &self.source {
            Source::Replay(_) => "replay".to_string(),
            Source::Exhaustive {
                bound,
                sticky: false,
            } => format!("exhaustive:{bound}"),
            Source::Exhaustive {
                bound,
                sticky: true,
            } => format!("preemptions:{bound}"),
            Source::Seed(_) | Source::Sampled => self.strategy.to_string(),
        }
    }

    fn seeded(&self) -> bool {
        matches!(self.source, Source::Seed(_) | Source::Sampled)
    }
}

fn setup<'a, B, F>(settings: &'a Explore, body: &B) -> Setup<'a>
where
    B: Fn() -> F,
    F: Future,
{
    let strategy = match &settings.search {
        Search::Sampled(strategy) => strategy.clone(),
        Search::Exhaustive { .. } | Search::Preemptions { .. } => Strategy::Fifo,
    };
    let source = if let Some(tape) = &settings.replay_tape {
        Source::Replay(tape.clone())
    } else if let Some(seed) = settings.replay_seed {
        Source::Seed(seed)
    } else {
        match &settings.search {
            Search::Sampled(_) => Source::Sampled,
            Search::Exhaustive { max_deviations } => Source::Exhaustive {
                bound: *max_deviations,
                sticky: false,
            },
            Search::Preemptions { max_preemptions } => Source::Exhaustive {
                bound: *max_preemptions,
                sticky: true,
            },
        }
    };
    // PCT spreads its change points over the run's length: estimate it once,
    // from a FIFO run, so every seed (and a later `ASYNCSIM_SEED` replay)
    // sees the same estimate.
    let mut pct_steps_estimate = settings.config.pct_steps_estimate;
    if strategy.uses_pct() && !matches!(source, Source::Replay(_)) {
        let mut config = settings.config.clone();
        config.strategy = Strategy::Fifo;
        config.trace_mode = TraceMode::HashOnly;
        let run = Sim::new(config).run(body());
        pct_steps_estimate = run.steps().max(1);
    }
    Setup {
        settings,
        source,
        strategy,
        pct_steps_estimate,
        test_name: settings.test_name(),
    }
}

fn run_with<B, F>(sim: &mut Sim, body: &B, config: Config) -> Run<F::Output>
where
    B: Fn() -> F,
    F: Future,
{
    *sim.config_mut() = config;
    sim.run(body())
}

/// The failure of a run without consuming its explanation.
fn failure_parts<T: TestResult>(run: &mut Option<Run<T>>) -> Option<Failure> {
    let run_value = run.take()?;
    let steps = run_value.steps();
    match run_value.result {
        Err(ref failure) => {
            let failure = failure.clone();
            *run = Some(run_value);
            Some(failure)
        }
        Ok(_) => {
            // Move the value out, keeping the rest of the run.
            let Run { result, .. } = run_value;
            let outcome = result.ok().map(TestResult::into_test_result);
            match outcome {
                Some(Err(message)) => {
                    let mut failure = Failure::body(message);
                    failure.step = steps;
                    Some(failure)
                }
                _ => None,
            }
        }
    }
}

fn failure_kind<T: TestResult>(result: Result<T, Failure>) -> Option<FailureKind> {
    match result {
        Err(failure) => Some(failure.kind),
        Ok(value) => value.into_test_result().err().map(|_| FailureKind::Body),
    }
}

/// What makes two failures "the same bug" for the shrinker: the kind and,
/// for panics, every `file.rs:line` the message names (where the panic was
/// raised, and where a child's panic was re-raised). Messages themselves
/// may differ (an `assert_eq!` prints the values it saw), so they do not
/// count.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Signature {
    kind: FailureKind,
    locations: Vec<String>,
}

impl Signature {
    fn of(kind: FailureKind, message: &str) -> Signature {
        let locations = if kind == FailureKind::Panic {
            panic_locations(message)
        } else {
            Vec::new()
        };
        Signature { kind, locations }
    }
}

/// Every `path.rs:line` in a panic message, in order.
fn panic_locations(message: &str) -> Vec<String> {
    message
        .split(|c: char| c.is_whitespace() || "\"'`()[]{},;".contains(c))
        .filter_map(|word| {
            let word = word.trim_end_matches(':');
            let (file, line) = word.rsplit_once(':')?;
            (file.ends_with(".rs") && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()))
                .then(|| word.to_string())
        })
        .collect()
}

fn failure_signature<T: TestResult>(result: Result<T, Failure>) -> Option<Signature> {
    match result {
        Err(failure) => Some(Signature::of(failure.kind, &failure.message)),
        Ok(value) => value
            .into_test_result()
            .err()
            .map(|message| Signature::of(FailureKind::Body, &message)),
    }
}

/// A hit of the driver: the run's position among this shard's runs, its
/// index, its schedule, and what the classifier kept.
struct Hit<R> {
    index: u64,
    schedule: Schedule,
    data: R,
}

struct Driven<R> {
    runs: u64,
    hashes: Vec<u64>,
    hits: Vec<Hit<R>>,
    exhausted: Option<bool>,
}

/// Progress on stderr, by wall clock (reporting only; never a decision).
struct Progress {
    enabled: bool,
    every: Duration,
    start: Instant,
    state: Mutex<ProgressState>,
}

struct ProgressState {
    done: u64,
    distinct: HashSet<u64>,
    next_report: Duration,
}

impl Progress {
    fn new(enabled: bool, every: Duration) -> Progress {
        Progress {
            enabled,
            every,
            start: Instant::now(),
            state: Mutex::new(ProgressState {
                done: 0,
                distinct: HashSet::new(),
                next_report: every,
            }),
        }
    }

    fn tick(&self, hash: u64, total: u64, name: &str) {
        if !self.enabled {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.done += 1;
        state.distinct.insert(hash);
        let elapsed = self.start.elapsed();
        if elapsed >= state.next_report {
            state.next_report = elapsed + self.every;
            let rate = state.done as f64 / elapsed.as_secs_f64().max(1e-9);
            eprintln!(
                "asyncsim: `{name}`: {}/{total} runs, {rate:.0} runs/s, {} distinct schedules, {:.1} s",
                state.done,
                state.distinct.len(),
                elapsed.as_secs_f64()
            );
        }
    }
}

/// What a driver asks of each run: `Some(data)` for a hit.
trait Classify<T, R>: Sync {
    /// True when only the result matters: sampled runs then skip handing
    /// over their trace and tape (`Sim::run_outcome`).
    const RESULT_ONLY: bool;
    fn run(&self, run: Run<T>) -> Option<R>;
    fn result(&self, result: Result<T, Failure>) -> Option<R>;
}

/// A classifier that needs the whole run (its tape, say).
struct ByRun<C>(C);

impl<T, R, C: Fn(Run<T>) -> Option<R> + Sync> Classify<T, R> for ByRun<C> {
    const RESULT_ONLY: bool = false;

    fn run(&self, run: Run<T>) -> Option<R> {
        (self.0)(run)
    }

    fn result(&self, _result: Result<T, Failure>) -> Option<R> {
        unreachable!("asyncsim bug: a whole-run classifier was given a result only")
    }
}

/// A classifier that looks at the result only.
struct ByResult<C>(C);

impl<T, R, C: Fn(Result<T, Failure>) -> Option<R> + Sync> Classify<T, R> for ByResult<C> {
    const RESULT_ONLY: bool = true;

    fn run(&self, run: Run<T>) -> Option<R> {
        (self.0)(run.result)
    }

    fn result(&self, result: Result<T, Failure>) -> Option<R> {
        (self.0)(result)
    }
}

fn drive<B, F, R, C>(setup: &Setup<'_>, body: &B, stop_at_first: bool, classify: C) -> Driven<R>
where
    B: Fn() -> F + Sync,
    F: Future,
    R: Send,
    C: Classify<F::Output, R>,
{
    match &setup.source {
        Source::Replay(tape) => drive_list(
            setup,
            body,
            vec![(0, Schedule::Tape(tape.clone()))],
            classify,
        ),
        Source::Seed(seed) => drive_list(setup, body, vec![(0, Schedule::Seed(*seed))], classify),
        Source::Exhaustive { bound, sticky } => {
            drive_exhaustive(setup, body, *bound, *sticky, stop_at_first, classify)
        }
        Source::Sampled => drive_sampled(setup, body, stop_at_first, classify),
    }
}

fn drive_list<B, F, R, C>(
    setup: &Setup<'_>,
    body: &B,
    schedules: Vec<(u64, Schedule)>,
    classify: C,
) -> Driven<R>
where
    B: Fn() -> F,
    F: Future,
    C: Classify<F::Output, R>,
{
    let mut sim = Sim::new(setup.settings.config.clone());
    let mut driven = Driven {
        runs: 0,
        hashes: Vec::new(),
        hits: Vec::new(),
        exhausted: None,
    };
    for (index, schedule) in schedules {
        let run = run_with(
            &mut sim,
            body,
            setup.config(&schedule, TraceMode::HashOnly, false),
        );
        driven.runs += 1;
        driven.hashes.push(run.trace.hash());
        if let Some(data) = classify.run(run) {
            driven.hits.push(Hit {
                index,
                schedule,
                data,
            });
        }
    }
    driven
}

/// One run of an exhaustive part: its subtree, trace hash and hit.
type ExhaustiveRun<R> = (u64, u64, Option<(Schedule, R)>);

/// One part's runs in exhaustive search, in the part's own (sequential)
/// order.
struct ExhaustivePart<R> {
    runs: Vec<ExhaustiveRun<R>>,
    /// The part's space ran out (it did not stop at a hit or its cap).
    finished: bool,
    skipped_options: bool,
}

/// Exhaustive search, split by first deviation ([`Part`]) over this shard's
/// threads, and over shards: shard `s` of `n` with `j` threads takes the
/// subtrees congruent to `s + n·t` mod `n·j` on its thread `t`. Merging the
/// parts by subtree gives the sequential order back, so the runs counted,
/// the first hit and its index are those one thread would find.
fn drive_exhaustive<B, F, R, C>(
    setup: &Setup<'_>,
    body: &B,
    max_deviations: u32,
    sticky: bool,
    stop_at_first: bool,
    classify: C,
) -> Driven<R>
where
    B: Fn() -> F + Sync,
    F: Future,
    R: Send,
    C: Classify<F::Output, R>,
{
    let settings = setup.settings;
    let progress = Progress::new(settings.progress, settings.progress_every);
    let (shard, shards) = settings.shard.unwrap_or((0, 1));
    let jobs = settings.jobs.max(1) as u64;
    // The lowest subtree with a hit: a part stops before any later subtree.
    let first_hit = AtomicU64::new(u64::MAX);
    let work = |thread: u64| -> ExhaustivePart<R> {
        let part = Part {
            residue: shard + shards * thread,
            modulus: shards * jobs,
        };
        // One configuration for the part; each run sets its prefix.
        let mut config = setup.config(&Schedule::Tape(Tape::new()), TraceMode::HashOnly, false);
        config.replay_sticky = sticky;
        let mut sim = Sim::new(config);
        // The enumerator varies the draws at and after the end of each
        // prefix away from what the run realised there — the baseline: FIFO,
        // or with `sticky` the task that ran last (`Config::replay_sticky`).
        let mut enumerator = Enumerator::new(max_deviations, part);
        let mut runs = Vec::new();
        let finished = loop {
            if runs.len() as u64 >= settings.runs {
                // The part's cap: no more of its runs can be among the
                // first `runs` of the merged order.
                break enumerator.next_prefix().is_none();
            }
            let Some(prefix) = enumerator.next_prefix() else {
                break true;
            };
            let subtree = enumerator.subtree();
            if stop_at_first && subtree > first_hit.load(Ordering::SeqCst) {
                break false;
            }
            sim.config_mut().strategy = Strategy::Replay(prefix);
            // Every part runs the baseline for its children; one counts it.
            let counted = subtree != 0 || part.owns_baseline();
            // A hit's schedule is its prefix, or with `sticky` its realised
            // tape: a prefix means the run only with the sticky
            // continuation, the realised tape means it everywhere (reports,
            // tokens, shrinking). Both are still in the simulator.
            let schedule_of = |tape: &Tape, config: &Config| match &config.strategy {
                Strategy::Replay(prefix) if !sticky => Schedule::Tape(prefix.clone()),
                _ => Schedule::Tape(tape.clone()),
            };
            let (hash, hit) = if C::RESULT_ONLY {
                // The run stays in the simulator: no `Run` is built.
                let outcome = sim.run_outcome(body());
                sim.with_last_run(|tape, _| enumerator.record(tape));
                if !counted {
                    continue;
                }
                let hit = classify.result(outcome.result);
                let hit = hit.map(|data| (sim.with_last_run(schedule_of), data));
                (outcome.trace_hash, hit)
            } else {
                let run = sim.run(body());
                enumerator.record(&run.tape);
                if !counted {
                    continue;
                }
                // `run` goes to the classifier: keep what a hit needs (the
                // prefix moves out; the next run sets its own).
                let schedule = if sticky {
                    Schedule::Tape(run.tape.clone())
                } else {
                    match std::mem::replace(&mut sim.config_mut().strategy, Strategy::Fifo) {
                        Strategy::Replay(prefix) => Schedule::Tape(prefix),
                        _ => unreachable!("asyncsim bug: an exhaustive run without its prefix"),
                    }
                };
                (
                    run.trace.hash(),
                    classify.run(run).map(|data| (schedule, data)),
                )
            };
            progress.tick(hash, settings.runs, &setup.test_name);
            let stop = hit.is_some() && stop_at_first;
            runs.push((subtree, hash, hit));
            if stop {
                first_hit.fetch_min(subtree, Ordering::SeqCst);
                break false;
            }
        };
        ExhaustivePart {
            runs,
            finished,
            skipped_options: enumerator.skipped_options(),
        }
    };
    let (runs, exhausted) = merge_parts(
        on_workers(settings.jobs, work),
        settings.runs,
        stop_at_first,
    );
    let mut driven = Driven {
        runs: runs.len() as u64,
        hashes: Vec::with_capacity(runs.len()),
        hits: Vec::new(),
        exhausted: Some(exhausted),
    };
    for (index, (_, hash, hit)) in runs.into_iter().enumerate() {
        driven.hashes.push(hash);
        if let Some((schedule, data)) = hit {
            driven.hits.push(Hit {
                index: index as u64,
                schedule,
                data,
            });
        }
    }
    driven
}

/// The parts' runs in the sequential order, up to the first hit (when
/// stopping there) and at most `cap`; and whether that is the whole space.
fn merge_parts<R>(
    parts: Vec<ExhaustivePart<R>>,
    cap: u64,
    stop_at_first: bool,
) -> (Vec<ExhaustiveRun<R>>, bool) {
    let finished = parts.iter().all(|part| part.finished);
    let skipped_options = parts.iter().any(|part| part.skipped_options);
    let mut runs: Vec<_> = parts.into_iter().flat_map(|part| part.runs).collect();
    // Stable: a subtree's runs all come from one part, in its order.
    runs.sort_by_key(|(subtree, _, _)| *subtree);
    let mut stopped = false;
    if stop_at_first {
        if let Some(first) = runs.iter().position(|(_, _, hit)| hit.is_some()) {
            runs.truncate(first + 1);
            stopped = true;
        }
    }
    let capped = runs.len() as u64 > cap;
    runs.truncate(usize::try_from(cap).unwrap_or(usize::MAX));
    let exhausted = finished && !stopped && !capped && !skipped_options;
    (runs, exhausted)
}

/// Runs `work(t)` for `t` in `0..jobs`, `work(0)` on the calling thread (one
/// thread fewer to start, and its caches are warm), and returns the results
/// in `t` order; a worker's panic resumes here.
fn on_workers<T: Send>(jobs: usize, work: impl Fn(u64) -> T + Sync) -> Vec<T> {
    if jobs <= 1 {
        return vec![work(0)];
    }
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (1..jobs as u64)
            .map(|thread| scope.spawn(move || work(thread)))
            .collect();
        let mut results = vec![work(0)];
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        results
    })
}

/// What one worker of a sampled exploration ran: the trace hash of every
/// run, in the order it ran them (8 bytes a run: a small body runs in half a
/// microsecond, and wider records cost more in memory traffic and page
/// faults than that), where each claimed chunk of positions starts, and its
/// hits.
struct SampledPart<R> {
    hashes: Vec<u64>,
    /// `(first position, index into hashes)` of each chunk, in order.
    chunks: Vec<(u64, usize)>,
    hits: Vec<(u64, u64, R)>,
}

/// Runs a worker claims at a time when several run in parallel.
const CLAIM_CHUNK: u64 = 32;

fn drive_sampled<B, F, R, C>(
    setup: &Setup<'_>,
    body: &B,
    stop_at_first: bool,
    classify: C,
) -> Driven<R>
where
    B: Fn() -> F + Sync,
    F: Future,
    R: Send,
    C: Classify<F::Output, R>,
{
    let settings = setup.settings;
    let total = settings.shard_runs();
    let next = AtomicU64::new(0);
    let stop = AtomicU64::new(u64::MAX);
    let progress = Progress::new(settings.progress, settings.progress_every);
    let work = || -> SampledPart<R> {
        // Sampled schedules differ only by seed: the configuration is built
        // once, and each run sets its seed.
        let mut sim = Sim::new(setup.config(&Schedule::Seed(0), TraceMode::HashOnly, false));
        let mut part = SampledPart {
            hashes: Vec::new(),
            chunks: Vec::new(),
            hits: Vec::new(),
        };
        // Positions are claimed a chunk at a time: one shared counter bumped
        // per run would bounce its cache line between the workers on every
        // run. Every position below the first failure is still run (a
        // worker only stops past it), and results are merged in order.
        let chunk = if settings.jobs <= 1 {
            total.max(1)
        } else {
            CLAIM_CHUNK
        };
        let mut claimed = 0..0;
        loop {
            let position = match claimed.next() {
                Some(position) => position,
                None => {
                    let start = next.fetch_add(chunk, Ordering::SeqCst);
                    claimed = start..start.saturating_add(chunk).min(total);
                    match claimed.next() {
                        Some(position) => {
                            part.chunks.push((position, part.hashes.len()));
                            position
                        }
                        None => break,
                    }
                }
            };
            if position >= total || position > stop.load(Ordering::SeqCst) {
                break;
            }
            let index = settings.run_index(position);
            let seed = settings.base_seed.wrapping_add(index);
            sim.config_mut().seed = seed;
            let (hash, hit) = if C::RESULT_ONLY {
                let outcome = sim.run_outcome(body());
                (outcome.trace_hash, classify.result(outcome.result))
            } else {
                let run = sim.run(body());
                (run.trace.hash(), classify.run(run))
            };
            progress.tick(hash, total, &setup.test_name);
            part.hashes.push(hash);
            if let Some(data) = hit {
                if stop_at_first {
                    stop.fetch_min(position, Ordering::SeqCst);
                }
                part.hits.push((position, seed, data));
            }
        }
        part
    };
    let parts = on_workers(settings.jobs, |_| work());
    let end = match stop.load(Ordering::SeqCst) {
        u64::MAX => total,
        first => first + 1,
    };
    let (hashes, mut hits) = merge_sampled(parts, end);
    // Run indices grow with positions.
    hits.sort_by_key(|(position, _, _)| *position);
    Driven {
        runs: end,
        hashes,
        hits: hits
            .into_iter()
            .map(|(position, seed, data)| Hit {
                index: settings.run_index(position),
                schedule: Schedule::Seed(seed),
                data,
            })
            .collect(),
        exhausted: None,
    }
}

/// The workers' hashes in position order up to `end` (every position below
/// it ran: checked), and their hits below it. Each hash is copied straight
/// to its place, a chunk at a time; one worker's list is used as it is.
fn merge_sampled<R>(mut parts: Vec<SampledPart<R>>, end: u64) -> (Vec<u64>, Vec<(u64, u64, R)>) {
    let end_index = usize::try_from(end).expect("asyncsim: more runs than memory can count");
    let hits: Vec<_> = parts
        .iter_mut()
        .flat_map(|part| std::mem::take(&mut part.hits))
        .filter(|(position, _, _)| *position < end)
        .collect();
    if let [part] = parts.as_mut_slice() {
        if part.chunks.len() == 1 && part.chunks[0] == (0, 0) {
            let mut hashes = std::mem::take(&mut part.hashes);
            assert!(
                hashes.len() >= end_index,
                "asyncsim bug: a run index below the first failure was skipped"
            );
            hashes.truncate(end_index);
            return (hashes, hits);
        }
    }
    let mut hashes = vec![0; end_index];
    let mut placed = 0;
    for part in &parts {
        let ends = part
            .chunks
            .iter()
            .skip(1)
            .map(|(_, offset)| *offset)
            .chain([part.hashes.len()]);
        for (&(start, from), to) in part.chunks.iter().zip(ends) {
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            if start >= end_index {
                continue;
            }
            let count = (to - from).min(end_index - start);
            hashes[start..start + count].copy_from_slice(&part.hashes[from..from + count]);
            placed += count;
        }
    }
    assert_eq!(
        placed, end_index,
        "asyncsim bug: a run index below the first failure was skipped"
    );
    (hashes, hits)
}

/// Trace hashes are already well mixed: hashing them again (SipHash) was a
/// measurable part of a small body's run in `check`.
#[derive(Default)]
struct TraceHashHasher(u64);

impl std::hash::Hasher for TraceHashHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

fn coverage(hashes: &[u64]) -> (u64, u64) {
    let mut seen: HashSet<u64, std::hash::BuildHasherDefault<TraceHashHasher>> =
        HashSet::with_capacity_and_hasher(hashes.len(), Default::default());
    let recent_from = hashes.len().saturating_sub(1000);
    let mut new_recent = 0;
    for (position, hash) in hashes.iter().enumerate() {
        if seen.insert(*hash) && position >= recent_from {
            new_recent += 1;
        }
    }
    (seen.len() as u64, new_recent)
}

/// Runs `schedule` twice with full traces; explains the first difference.
fn determinism_check<B, F>(setup: &Setup<'_>, body: &B, schedule: &Schedule) -> Option<String>
where
    B: Fn() -> F,
    F: Future,
{
    let mut sim = Sim::new(setup.settings.config.clone());
    let first = run_with(
        &mut sim,
        body,
        setup.config(schedule, TraceMode::Full, false),
    );
    let second = run_with(
        &mut sim,
        body,
        setup.config(schedule, TraceMode::Full, false),
    );
    if first.trace == second.trace && first.tape == second.tape {
        return None;
    }
    let detail = match crate::diff::first_divergence(&first.trace, &second.trace) {
        Some(divergence) => {
            let mut text = format!("they diverge at event #{}:", divergence.index);
            for line in &divergence.common {
                text.push_str(&format!("\n    both:   {line}"));
            }
            text.push_str(&format!(
                "\n  first run:  {}",
                divergence
                    .left_context
                    .first()
                    .map_or("(the trace ended here)", String::as_str)
            ));
            text.push_str(&format!(
                "\n  second run: {}",
                divergence
                    .right_context
                    .first()
                    .map_or("(the trace ended here)", String::as_str)
            ));
            text
        }
        None => "their events match but their draws differ".to_string(),
    };
    Some(format!(
        "asyncsim: `{}` is not deterministic: two runs of the same schedule ({}) differ; {detail}\n\
         A run must be a pure function of its schedule: look for wall-clock time, OS randomness, \
         HashMap iteration order, threads, or state kept between runs (statics, thread-locals) in the body.",
        setup.test_name, schedule
    ))
}

/// Re-runs a failing schedule in full, shrinks it, and builds the report.
fn counterexample<B, F>(
    setup: &Setup<'_>,
    body: &B,
    schedule: &Schedule,
    origin: Origin,
    run_index: u64,
) -> Counterexample
where
    B: Fn() -> F,
    F: Future,
    F::Output: TestResult,
{
    let settings = setup.settings;
    let mut sim = Sim::new(settings.config.clone());
    let mut full_config = setup.config(schedule, TraceMode::Full, false);
    full_config.record_deviations = true;
    let mut run = Some(run_with(&mut sim, body, full_config));
    let found_failure = failure_parts(&mut run);
    let (run_trace, run_tape, run_deviations) = match run {
        Some(run) => (
            run.trace.clone(),
            run.tape.clone(),
            run.deviations().to_vec(),
        ),
        None => (Trace::default(), Tape::new(), Vec::new()),
    };
    let seed = match schedule {
        Schedule::Seed(seed) => *seed,
        Schedule::Tape(_) => 0,
    };
    let strategy = setup.strategy_name();
    let mut original = run_tape;
    original.trim();
    let Some(found_failure) = found_failure else {
        // The fast run failed and the full one did not.
        let failure = Failure::body(format!(
            "asyncsim: the schedule failed once and passed when run again ({schedule}): the body is not deterministic"
        ));
        return Counterexample {
            run_index,
            seed,
            origin,
            failure,
            deviations: original.deviations(),
            original_deviations: original.deviations(),
            tape: original.clone(),
            original_tape: original,
            trace: run_trace,
            shrink_runs: 0,
            schedule: run_deviations,
            strategy,
            test_name: setup.test_name.clone(),
            trace_file: None,
        };
    };
    let signature = Signature::of(found_failure.kind, &found_failure.message);
    eprintln!(
        "asyncsim: `{}` failed at run {run_index} ({strategy}{}): {}\nasyncsim: replay it before shrinking with:\n{}",
        setup.test_name,
        if setup.seeded() { format!(", seed {seed}") } else { String::new() },
        found_failure.message.lines().next().unwrap_or_default(),
        replay_lines(
            &setup.test_name,
            &original,
            setup.seeded().then_some(seed),
            &strategy
        )
    );
    let shrink_enabled = settings.shrink && !matches!(origin, Origin::Replay);
    let shrunk = if shrink_enabled && original.deviations() > 0 {
        shrink::shrink(
            &original,
            &signature,
            settings.shrink_runs_max,
            |candidate| {
                let run = run_with(
                    &mut sim,
                    body,
                    setup.config(
                        &Schedule::Tape(candidate.clone()),
                        TraceMode::HashOnly,
                        true,
                    ),
                );
                let tape = run.tape.clone();
                failure_signature(run.result).map(|signature| (signature, tape))
            },
        )
    } else {
        shrink::Shrunk {
            tape: original.clone(),
            runs: 0,
        }
    };
    // The final, strict replay of the shrunk tape: its trace and deviations
    // are what the report shows.
    let mut final_run = Some(run_with(
        &mut sim,
        body,
        setup.config(&Schedule::Tape(shrunk.tape.clone()), TraceMode::Full, false),
    ));
    let final_failure = failure_parts(&mut final_run);
    let (failure, tape, trace, deviations_list) = match (final_failure, final_run) {
        (Some(failure), Some(run))
            if Signature::of(failure.kind, &failure.message) == signature =>
        {
            let mut tape = run.tape.clone();
            tape.trim();
            (failure, tape, run.trace.clone(), run.deviations().to_vec())
        }
        _ => (found_failure, original.clone(), run_trace, run_deviations),
    };
    let trace_file = if settings.write_trace_file {
        write_trace_file(&setup.test_name, &tape, &trace)
    } else {
        None
    };
    Counterexample {
        run_index,
        seed,
        origin,
        failure,
        deviations: tape.deviations(),
        original_deviations: original.deviations(),
        tape,
        original_tape: original,
        trace,
        shrink_runs: shrunk.runs,
        schedule: deviations_list,
        strategy,
        test_name: setup.test_name.clone(),
        trace_file,
    }
}

/// Writes the trace of a failing run under `target/asyncsim/`, in the trace
/// file format (`asyncsim-trace` views, converts and diffs it).
fn write_trace_file(test_name: &str, tape: &Tape, trace: &Trace) -> Option<PathBuf> {
    let directory = persist::trace_directory();
    let checksum = tape
        .to_string()
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = directory.join(format!(
        "{}-{checksum}.trace.json",
        persist::file_stem(test_name)
    ));
    let written =
        std::fs::create_dir_all(&directory).and_then(|()| crate::trace_file::save(trace, &path));
    match written {
        Ok(()) => Some(path),
        Err(error) => {
            eprintln!("asyncsim: could not write {}: {error}", path.display());
            None
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Check,
    Explore,
}

fn run_exploration<B, F>(settings: &Explore, body: &B, purpose: Purpose) -> Summary
where
    B: Fn() -> F + Sync,
    F: Future,
    F::Output: TestResult,
{
    let setup = setup(settings, body);
    let mut summary = Summary {
        runs: 0,
        failures: 0,
        first_failure: None,
        distinct_schedules: 0,
        new_in_last_1000: 0,
        exhausted: None,
        nondeterminism: None,
        strategy: setup.strategy_name(),
    };
    let single = match &setup.source {
        Source::Replay(tape) => Some((Schedule::Tape(tape.clone()), Origin::Replay)),
        Source::Seed(seed) => Some((Schedule::Seed(*seed), Origin::Seed)),
        _ => None,
    };
    if let Some((schedule, origin)) = single {
        // One schedule, by request: print its full trace.
        let mut sim = Sim::new(settings.config.clone());
        let run = run_with(
            &mut sim,
            body,
            setup.config(&schedule, TraceMode::Full, false),
        );
        eprintln!(
            "asyncsim: `{}`: running {schedule} only; its trace:\n{}",
            setup.test_name, run.trace
        );
        summary.runs = 1;
        summary.distinct_schedules = 1;
        summary.new_in_last_1000 = 1;
        if failure_kind(run.result).is_some() {
            summary.failures = 1;
            summary.first_failure = Some(counterexample(&setup, body, &schedule, origin, 0));
        }
        return summary;
    }

    let check_determinism = settings
        .check_determinism
        .unwrap_or(purpose == Purpose::Check);
    if check_determinism {
        let first = match setup.source {
            Source::Exhaustive { .. } => Schedule::Tape(Tape::new()),
            _ => Schedule::Seed(settings.base_seed.wrapping_add(settings.run_index(0))),
        };
        if let Some(explanation) = determinism_check(&setup, body, &first) {
            summary.nondeterminism = Some(explanation);
            return summary;
        }
    }

    let regressions = if purpose == Purpose::Check && settings.persist {
        persist::regressions_path(settings.regressions_dir.as_deref(), &setup.test_name)
    } else {
        None
    };
    if let Some(path) = &regressions {
        let mut sim = Sim::new(settings.config.clone());
        for (position, tape) in persist::load(path).into_iter().enumerate() {
            let schedule = Schedule::Tape(tape);
            let run = run_with(
                &mut sim,
                body,
                setup.config(&schedule, TraceMode::HashOnly, false),
            );
            summary.runs += 1;
            match failure_kind(run.result) {
                Some(FailureKind::TapeDivergence) => eprintln!(
                    "asyncsim: {}: saved schedule #{} no longer fits the program (skipped)",
                    path.display(),
                    position + 1
                ),
                Some(_) => {
                    summary.failures = 1;
                    summary.first_failure = Some(counterexample(
                        &setup,
                        body,
                        &schedule,
                        Origin::Regression,
                        position as u64,
                    ));
                    return summary;
                }
                None => {}
            }
        }
    }

    let driven = drive(
        &setup,
        body,
        purpose == Purpose::Check,
        ByResult(failure_kind),
    );
    let (distinct, new_recent) = coverage(&driven.hashes);
    summary.runs += driven.runs;
    summary.failures = driven.hits.len() as u64;
    summary.distinct_schedules = distinct;
    summary.new_in_last_1000 = new_recent;
    summary.exhausted = driven.exhausted;
    if let Some(first) = driven.hits.first() {
        let origin = match setup.source {
            Source::Exhaustive { .. } => Origin::Exhaustive,
            _ => Origin::Seed,
        };
        let found = counterexample(&setup, body, &first.schedule, origin, first.index);
        if let Some(path) = &regressions {
            let comment = format!(
                "{}: {}",
                found.failure.kind_name(),
                found.failure.message.lines().next().unwrap_or_default()
            );
            if let Err(error) = persist::append(path, &found.tape, &comment) {
                eprintln!(
                    "asyncsim: could not save the failing schedule to {}: {error}",
                    path.display()
                );
            }
        }
        summary.first_failure = Some(found);
    }
    summary
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for Failure {
    fn kind_name(&self) -> String {
        format!("{:?}", self.kind)
    }
}

/// Runs `body` over many schedules and panics with a failure report on the
/// first that fails (a panic, a deadlock, a limit, an `Err`/`false` value).
///
/// The body is a closure returning a future, called afresh for each run.
/// It must be `Sync` because `jobs(n)` calls it from several threads: build
/// non-`Sync` state (`Rc`, `RefCell`, the sync primitives) *inside* the
/// returned future, where each run gets its own, and share anything from
/// outside through `Arc`. The future itself need not be `Send`.
/// Before exploring, the first schedule runs twice to check the body is
/// deterministic; failing schedules are saved to
/// `asyncsim-regressions/<test>.txt` and replayed first next time (turn off
/// with `.persist(false)`).
///
/// ```
/// use asyncsim_harness::{check, Explore};
///
/// check(Explore::new().runs(100).persist(false), || async {
///     let a = asyncsim_sim::spawn(async { 1 });
///     let b = asyncsim_sim::spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
///
/// # Panics
///
/// With the failure report (see [`Counterexample`]), or with the
/// nondeterminism explanation.
pub fn check<B, F>(settings: Explore, body: B)
where
    B: Fn() -> F + Sync,
    F: Future,
    F::Output: TestResult,
{
    let summary = run_exploration(&settings, &body, Purpose::Check);
    if let Some(explanation) = summary.nondeterminism {
        panic!("{explanation}");
    }
    if let Some(counterexample) = summary.first_failure {
        panic!("{counterexample}");
    }
}

/// Runs `body` over every schedule of the exploration (it does not stop at
/// the first failure) and returns what it found; never panics on a failing
/// run. The first failure is shrunk.
///
/// ```
/// use asyncsim_harness::{explore, Explore};
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// // A lost update: two tasks read, yield, then write back.
/// let summary = explore(Explore::new().runs(200), || async {
///     let counter = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (0..2)
///         .map(|_| {
///             let counter = counter.clone();
///             asyncsim_sim::spawn(async move {
///                 let read = counter.get();
///                 asyncsim_sim::yield_now().await;
///                 counter.set(read + 1);
///             })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(counter.get(), 2, "lost update");
/// });
/// let failure = summary.first_failure.expect("found");
/// assert!(failure.failure.message.contains("lost update"));
/// ```
pub fn explore<B, F>(settings: Explore, body: B) -> Summary
where
    B: Fn() -> F + Sync,
    F: Future,
    F::Output: TestResult,
{
    run_exploration(&settings, &body, Purpose::Explore)
}

/// The first schedule (lowest run index) whose value satisfies `predicate`:
/// "show me a schedule where `b` finishes first".
///
/// ```
/// use asyncsim_harness::{find, Explore};
///
/// let witness = find(
///     Explore::new().runs(100),
///     || async {
///         let a = asyncsim_sim::spawn(async { asyncsim_sim::trace::mark("a") });
///         let b = asyncsim_sim::spawn(async { asyncsim_sim::trace::mark("b") });
///         a.await.unwrap();
///         b.await.unwrap();
///     },
///     |_| true,
/// );
/// assert!(witness.is_some());
/// ```
pub fn find<B, F, P>(settings: Explore, body: B, predicate: P) -> Option<Witness<F::Output>>
where
    B: Fn() -> F + Sync,
    F: Future,
    F::Output: Send,
    P: Fn(&F::Output) -> bool + Sync,
{
    let setup = setup(&settings, &body);
    let driven = drive(
        &setup,
        &body,
        true,
        ByResult(|result: Result<F::Output, Failure>| match result {
            Ok(value) if predicate(&value) => Some(()),
            _ => None,
        }),
    );
    let first = driven.hits.into_iter().next()?;
    let mut sim = Sim::new(settings.config.clone());
    let run = run_with(
        &mut sim,
        &body,
        setup.config(&first.schedule, TraceMode::Full, false),
    );
    let mut tape = run.tape;
    tape.trim();
    let value = run.result.ok()?;
    Some(Witness {
        run_index: first.index,
        seed: match first.schedule {
            Schedule::Seed(seed) => seed,
            Schedule::Tape(_) => 0,
        },
        schedule: first.schedule,
        tape,
        trace: run.trace,
        value,
    })
}

/// Every distinct value the body produced over the exploration, with how
/// often and a witness schedule: "which print orders are possible?"
///
/// ```
/// use asyncsim_harness::{outcomes, Explore};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let census = outcomes(Explore::new().runs(200), || async {
///     let printed = Rc::new(RefCell::new(String::new()));
///     let (p, q) = (printed.clone(), printed.clone());
///     let a = asyncsim_sim::spawn(async move { p.borrow_mut().push('a') });
///     let b = asyncsim_sim::spawn(async move { q.borrow_mut().push('b') });
///     a.await.unwrap();
///     b.await.unwrap();
///     let order = printed.borrow().clone();
///     order
/// });
/// let mut orders: Vec<&String> = census.distinct();
/// orders.sort();
/// assert_eq!(orders, ["ab", "ba"]);
/// ```
pub fn outcomes<B, F>(settings: Explore, body: B) -> Outcomes<F::Output>
where
    B: Fn() -> F + Sync,
    F: Future,
    F::Output: Eq + Hash + Clone + Send,
{
    let setup = setup(&settings, &body);
    let driven = drive(
        &setup,
        &body,
        false,
        ByRun(|run: Run<F::Output>| {
            let mut tape = run.tape;
            tape.trim();
            tape.draws_mut().shrink_to_fit();
            Some((run.result.map_err(|failure| failure.kind), tape))
        }),
    );
    let mut census = Outcomes {
        values: Vec::new(),
        runs: driven.runs,
        failures: Vec::new(),
    };
    let mut slots: HashMap<F::Output, usize> = HashMap::new();
    for hit in driven.hits {
        let (data, tape) = hit.data;
        match data {
            Ok(value) => match slots.get(&value) {
                Some(slot) => census.values[*slot].count += 1,
                None => {
                    slots.insert(value.clone(), census.values.len());
                    census.values.push(Outcome {
                        value,
                        count: 1,
                        witness: hit.schedule,
                        witness_run_index: hit.index,
                        tape,
                    });
                }
            },
            Err(kind) => match census
                .failures
                .iter_mut()
                .find(|(seen, _, _)| *seen == kind)
            {
                Some((_, count, _)) => *count += 1,
                None => census.failures.push((kind, 1, hit.schedule)),
            },
        }
    }
    census
}

/// Runs one tape leniently with a full trace — how a proptest-generated
/// schedule (see [`schedules`](crate::schedules)) is run: any tape is valid,
/// a draw that does not fit wraps into range, and draws beyond the tape are
/// FIFO.
///
/// ```
/// use asyncsim_harness::run_schedule;
/// use asyncsim_sim::Tape;
///
/// let run = run_schedule(&Tape::new(), || async { 2 + 2 });
/// assert_eq!(run.result.unwrap(), 4);
/// ```
pub fn run_schedule<B, F>(tape: &Tape, body: B) -> Run<F::Output>
where
    B: FnOnce() -> F,
    F: Future,
{
    let mut config = Config::new().strategy(Strategy::Replay(tape.clone()));
    config.replay_lenient = true;
    Sim::new(config).run(body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_parts_merge_into_position_order() {
        // Two workers took chunks of 3 positions in turn: 0–2 and 6–8 went
        // to the first, 3–5 and 9–10 to the second (the last cut short).
        let parts = || {
            vec![
                SampledPart {
                    hashes: vec![100, 101, 102, 106, 107, 108],
                    chunks: vec![(0, 0), (6, 3)],
                    hits: vec![(7, 7, "seven")],
                },
                SampledPart {
                    hashes: vec![103, 104, 105, 109, 110],
                    chunks: vec![(3, 0), (9, 3)],
                    hits: vec![(4, 4, "four"), (10, 10, "ten")],
                },
            ]
        };
        let (hashes, mut hits) = merge_sampled(parts(), 11);
        assert_eq!(hashes, (100..111).collect::<Vec<u64>>());
        hits.sort_by_key(|(position, _, _)| *position);
        assert_eq!(hits, [(4, 4, "four"), (7, 7, "seven"), (10, 10, "ten")]);
        // Stopped after the hit at position 7: later runs are dropped.
        let (hashes, hits) = merge_sampled(parts(), 8);
        assert_eq!(hashes, (100..108).collect::<Vec<u64>>());
        assert_eq!(hits.len(), 2);
        // One worker that claimed everything keeps its list.
        let single = vec![SampledPart {
            hashes: vec![5, 6, 7, 8],
            chunks: vec![(0, 0)],
            hits: Vec::<(u64, u64, ())>::new(),
        }];
        assert_eq!(merge_sampled(single, 3).0, [5, 6, 7]);
    }

    #[test]
    #[should_panic(expected = "skipped")]
    fn a_missing_position_below_the_end_is_a_bug() {
        let part = SampledPart {
            hashes: vec![1, 2],
            chunks: vec![(0, 0), (3, 1)],
            hits: Vec::<(u64, u64, ())>::new(),
        };
        merge_sampled(vec![part], 4);
    }

    #[test]
    fn merged_parts_keep_the_sequential_order_and_the_earliest_hit() {
        // Two parts of modulus 2: subtrees 0 (the baseline), 1, 3 and 2, 4.
        let run = |subtree: u64, hash: u64, hit: bool| {
            (subtree, hash, hit.then(|| (Schedule::Seed(hash), hash)))
        };
        let parts = || {
            vec![
                ExhaustivePart {
                    runs: vec![
                        run(0, 10, false),
                        run(1, 11, false),
                        run(1, 12, false),
                        run(3, 31, true),
                    ],
                    finished: false,
                    skipped_options: false,
                },
                ExhaustivePart {
                    runs: vec![run(2, 21, false), run(2, 22, true), run(4, 41, true)],
                    finished: true,
                    skipped_options: false,
                },
            ]
        };
        let hashes =
            |runs: &[ExhaustiveRun<u64>]| runs.iter().map(|(_, hash, _)| *hash).collect::<Vec<_>>();
        let (all, exhausted) = merge_parts(parts(), u64::MAX, false);
        assert_eq!(hashes(&all), [10, 11, 12, 21, 22, 31, 41]);
        assert!(!exhausted, "a part did not finish");
        // Stopping at the first hit: part 1's, though part 0 found one too.
        let (first, exhausted) = merge_parts(parts(), u64::MAX, true);
        assert_eq!(hashes(&first), [10, 11, 12, 21, 22]);
        assert!(!exhausted);
        // A cap keeps the first runs of the merged order.
        let (capped, _) = merge_parts(parts(), 4, false);
        assert_eq!(hashes(&capped), [10, 11, 12, 21]);
        // Whole only when every part finished, nothing was cut, and no draw
        // was too wide to enumerate.
        let mut done = parts();
        done[0].finished = true;
        assert!(merge_parts(done, 7, false).1);
        let mut done = parts();
        done[0].finished = true;
        assert!(!merge_parts(done, 6, false).1);
        let mut wide = parts();
        wide[0].finished = true;
        wide[1].skipped_options = true;
        assert!(!merge_parts(wide, 7, false).1);
    }

    #[test]
    fn coverage_counts_new_hashes_in_the_recent_window() {
        let hashes: Vec<u64> = (0..1500)
            .map(|i| if i < 1200 { i % 10 } else { i })
            .collect();
        let (distinct, recent) = coverage(&hashes);
        assert_eq!(distinct, 10 + 300);
        assert_eq!(recent, 300);
    }

    #[test]
    fn a_panic_signature_is_its_kind_and_locations_not_its_values() {
        let left = Signature::of(
            FailureKind::Panic,
            "the main future panicked at src/a.rs:12: left: 1, right: 2",
        );
        let right = Signature::of(
            FailureKind::Panic,
            "the main future panicked at src/a.rs:12: left: 5, right: 2",
        );
        assert_eq!(left, right);
        assert_eq!(left.locations, ["src/a.rs:12"]);
        let elsewhere = Signature::of(FailureKind::Panic, "panicked at src/a.rs:13: left: 1");
        assert_ne!(left, elsewhere);
        let nested = Signature::of(
            FailureKind::Panic,
            "panicked at tests/t.rs:9: called `Result::unwrap()` on an `Err` value: \
             JoinError(\"task `x` panicked at tests/t.rs:30: boom\")",
        );
        assert_eq!(nested.locations, ["tests/t.rs:9", "tests/t.rs:30"]);
        assert_eq!(
            Signature::of(FailureKind::Deadlock, "at src/a.rs:1"),
            Signature::of(FailureKind::Deadlock, "at src/b.rs:2")
        );
    }

    #[test]
    fn failure_kind_counts_err_and_false_as_body_failures() {
        let run = Sim::new(Config::new()).run(async { Err::<(), _>("broken") });
        assert_eq!(failure_kind(run.result), Some(FailureKind::Body));
        let run = Sim::new(Config::new()).run(async { false });
        assert_eq!(failure_kind(run.result), Some(FailureKind::Body));
        let run = Sim::new(Config::new()).run(async {});
        assert_eq!(failure_kind(run.result), None);
    }
}
