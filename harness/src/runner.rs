//! The entry points: `check`, `explore`, `find`, `outcomes`, `run_schedule`.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use asyncsim_sim::{Config, Failure, FailureKind, Run, Sim, Strategy, Tape, TraceMode};

use crate::classify::{failure_kind, ByResult, ByRun};
use crate::counterexample::{BodyRuns, Counterexample, Origin};
use crate::determinism::determinism_check;
use crate::drive::{coverage, drive};
use crate::explore::Explore;
use crate::persist;
use crate::persist::TOKEN_PRINTED_CHARS_MAX;
use crate::reproduce::counterexample;
use crate::rerun::origin_of;
use crate::schedule::Schedule;
use crate::setup::{run_with, setup, Source};
use crate::shard_summary::{self, ShardFailure, ShardSummary};
use crate::summary::{DistinctValue, Outcomes, Summary, Witness};
use crate::test_result::TestResult;

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
        stopped_at_run_cap: false,
        nondeterminism: None,
        strategy: setup.strategy_name(),
        test_name: setup.test_name.clone(),
        foreign_token_origin: setup.foreign_origin,
        sometimes: Default::default(),
    };
    let single = match &setup.source {
        Source::Replay(tape) => Some((Schedule::Tape(tape.clone()), Origin::Replay)),
        Source::Seed(seed) => Some((Schedule::Seed(*seed), Origin::Seed)),
        _ => None,
    };
    if let Some((schedule, origin)) = single {
        // One schedule, by request: print its full trace. Another test's
        // token is said to be so before it runs (a run that hangs leaves
        // the line).
        if let Some(origin) = setup.foreign_origin {
            eprintln!(
                "asyncsim: `{}`: the replay token was recorded by another test (origin {origin:08x}), \
                 not this one: running it anyway",
                setup.test_name
            );
        }
        let mut sim = Sim::new(settings.config.clone());
        let run = run_with(
            &mut sim,
            body,
            setup.config(&schedule, TraceMode::Full, false),
        );
        // A given token too long to print is not printed back.
        let named = match &schedule {
            Schedule::Tape(tape) => {
                let characters = tape.to_string().len();
                if characters > TOKEN_PRINTED_CHARS_MAX {
                    format!("the given token ({characters} characters)")
                } else {
                    schedule.to_string()
                }
            }
            Schedule::Seed(_) => schedule.to_string(),
        };
        eprintln!(
            "asyncsim: `{}`: running {named} only; its trace:\n{}",
            setup.test_name, run.trace
        );
        summary.runs = 1;
        summary.distinct_schedules = 1;
        summary.new_in_last_1000 = 1;
        if failure_kind(run.result).is_some() {
            summary.failures = 1;
            let found = counterexample(&setup, body, &schedule, origin, 0);
            let before = BodyRuns {
                estimate: setup.estimate_runs,
                exploring: 1,
                ..BodyRuns::default()
            };
            summary.first_failure = Some(counted(found, before));
        }
        return summary;
    }
    let mut before = BodyRuns {
        estimate: setup.estimate_runs,
        ..BodyRuns::default()
    };

    let check_determinism = settings
        .check_determinism
        .unwrap_or(purpose == Purpose::Check);
    if check_determinism {
        // A sampled exploration checks its first seeded run, not run 0
        // (FIFO, every draw 0): a seed's draws reach orders FIFO never
        // does, where a body's hidden state (a real thread's race, a
        // HashMap's order) is likelier to show.
        let first = match setup.source {
            Source::Exhaustive { .. } => Schedule::Tape(Tape::new()),
            _ => match settings.run_index(0) {
                0 => setup.sampled_schedule(settings.run_index(1)),
                index => setup.sampled_schedule(index),
            },
        };
        before.determinism = 2;
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
            before.regressions += 1;
            match failure_kind(run.result) {
                Some(FailureKind::TapeDivergence) => eprintln!(
                    "asyncsim: {}: saved schedule #{} no longer fits the program (skipped)",
                    path.display(),
                    position + 1
                ),
                Some(_) => {
                    summary.failures = 1;
                    let found = counterexample(
                        &setup,
                        body,
                        &schedule,
                        Origin::Regression,
                        position as u64,
                    );
                    summary.first_failure = Some(counted(found, before));
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
    summary.stopped_at_run_cap = driven.stopped_at_run_cap;
    summary.sometimes = driven.sometimes;
    if let Some(first) = driven.hits.first() {
        let origin = match (&setup.source, &first.schedule) {
            (Source::Exhaustive { .. }, _) => Origin::Exhaustive,
            (_, Schedule::Tape(_)) => Origin::Fifo,
            (_, Schedule::Seed(_)) => Origin::Seed,
        };
        before.exploring = driven.runs;
        let found = counted(
            counterexample(&setup, body, &first.schedule, origin, first.index),
            before,
        );
        // A schedule that did not fail again reproduces nothing: saving
        // its token would replay a passing run forever.
        if let Some(path) = regressions.as_ref().filter(|_| found.reproduced) {
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
    if let Some((shard, shards)) = settings.shard {
        write_shard_summary(settings, &summary, &driven.hashes, shard, shards);
    }
    summary
}

/// `found` with the body's runs before its own counted in (`before`: PCT's
/// estimate, the determinism check, regressions, the exploration), for the
/// report's line on why the body's prints repeat.
fn counted(mut found: Counterexample, before: BodyRuns) -> Counterexample {
    found.body_runs = BodyRuns {
        estimate: before.estimate,
        determinism: before.determinism,
        regressions: before.regressions,
        exploring: before.exploring,
        ..found.body_runs
    };
    found
}

/// A sharded exploration leaves a machine-readable summary for the merge
/// (`asyncsim-trace merge`); see [`crate::shard_summary`].
fn write_shard_summary(
    settings: &Explore,
    summary: &Summary,
    hashes: &[u64],
    shard: u64,
    shards: u64,
) {
    let Some(directory) = settings.shard_summary_directory() else {
        return;
    };
    let distinct: std::collections::BTreeSet<u64> = hashes.iter().copied().collect();
    let record = ShardSummary {
        format: shard_summary::FORMAT.to_string(),
        test: summary.test_name.clone(),
        strategy: summary.strategy.clone(),
        shard: shard + 1,
        shards,
        runs: summary.runs,
        failures: summary.failures,
        schedule_hashes: distinct.iter().map(|hash| format!("{hash:016x}")).collect(),
        exhausted: summary.exhausted,
        stopped_at_run_cap: summary.stopped_at_run_cap,
        first_failure: summary.first_failure.as_ref().map(|found| ShardFailure {
            run_index: found.run_index,
            seed: (found.origin == Origin::Seed).then_some(found.seed),
            token: found.token(),
            kind: found.failure.kind_name(),
            message: found
                .failure
                .message
                .lines()
                .next()
                .unwrap_or_default()
                .to_string(),
        }),
        sometimes: summary.sometimes.clone(),
    };
    if let Err(error) = record.write(&directory) {
        eprintln!(
            "asyncsim: could not write the shard summary to {}: {error}",
            directory.display()
        );
    }
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
/// The first schedule is asyncio's own order (FIFO, every draw 0), then one
/// per seed ([`Explore::seed`]), so a bug the plain order shows is found at
/// run 0 with no deviation to read. Before exploring, the first schedule
/// runs twice to check the body is deterministic; failing schedules are saved to
/// `asyncsim-regressions/<test>.txt` and replayed first next time (turn off
/// with `.persist(false)`).
///
/// ```
/// use asyncsim::{check, Explore};
///
/// check(Explore::new().runs(100).persist(false), || async {
///     let a = asyncsim::spawn(async { 1 });
///     let b = asyncsim::spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
///
/// A passing check prints one line on stderr (shown by `cargo test --
/// --nocapture`; `.progress(false)` turns it off): how many schedules ran,
/// how many were distinct, the strategy, and for a bounded search whether
/// it exhausted its space — a search stopped by its run cap says so. The
/// same [`Summary`] is returned.
///
/// # Panics
///
/// With the failure report (see [`Counterexample`](crate::Counterexample)), or with the
/// nondeterminism explanation, at the caller's line (`#[track_caller]`:
/// libtest's "panicked at" names the test, not the harness).
#[track_caller]
pub fn check<B, F>(settings: Explore, body: B) -> Summary
where
    B: Fn() -> F + Sync,
    F: Future,
    F::Output: TestResult,
{
    let mut summary = run_exploration(&settings, &body, Purpose::Check);
    if let Some(explanation) = summary.nondeterminism {
        panic!("{explanation}");
    }
    if let Some(counterexample) = summary.first_failure.take() {
        panic!("{counterexample}");
    }
    let never_held = summary.never_held();
    if settings.require_sometimes && !never_held.is_empty() {
        panic!(
            "asyncsim: `{}`: in {} runs, never held: {} (Explore::require_sometimes)",
            summary.test_name,
            summary.runs,
            never_held
                .iter()
                .map(|name| format!("sometimes `{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if settings.progress {
        eprintln!("asyncsim: {summary}");
    }
    summary
}

/// Runs `body` over every schedule of the exploration (it does not stop at
/// the first failure) and returns what it found; never panics on a failing
/// run. The first failure is shrunk.
///
/// ```
/// use asyncsim::{explore, Explore};
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// // A lost update: two tasks read, yield, then write back.
/// let summary = explore(Explore::new().runs(200), || async {
///     let counter = Rc::new(Cell::new(0));
///     let tasks: Vec<_> = (0..2)
///         .map(|_| {
///             let counter = counter.clone();
///             asyncsim::spawn(async move {
///                 let read = counter.get();
///                 asyncsim::yield_now().await;
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
/// use asyncsim::{find, Explore};
///
/// let witness = find(
///     Explore::new().runs(100),
///     || async {
///         let a = asyncsim::spawn(async { asyncsim::trace::mark("a") });
///         let b = asyncsim::spawn(async { asyncsim::trace::mark("b") });
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
    let Some(first) = driven.hits.into_iter().next() else {
        if let Source::Replay(tape) = &setup.source {
            eprintln!("{}", no_witness_of_token(&setup, &body, tape));
        }
        return None;
    };
    let mut sim = Sim::new(settings.config.clone());
    let run = run_with(
        &mut sim,
        &body,
        setup.config(&first.schedule, TraceMode::Full, false),
    );
    let mut tape = run.tape;
    tape.trim();
    // Its token names this test, as a failure's does.
    tape.set_origin(Some(origin_of(&setup.test_name)));
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

/// Why a given token (`ASYNCSIM_REPLAY`, `Explore::replay`) gave `find` no
/// witness, from one more run of it: it no longer fits the program (a tape
/// divergence, reproduced by the token as given), its run failed, or its
/// value does not satisfy the predicate. `find` returns `None` for each;
/// this line on stderr tells them apart.
fn no_witness_of_token<B, F>(setup: &crate::setup::Setup<'_>, body: &B, tape: &Tape) -> String
where
    B: Fn() -> F,
    F: Future,
{
    let mut sim = Sim::new(setup.settings.config.clone());
    let schedule = Schedule::Tape(tape.clone());
    let run = run_with(
        &mut sim,
        body,
        setup.config(&schedule, TraceMode::HashOnly, false),
    );
    let name = &setup.test_name;
    match run.result {
        Ok(_) => format!(
            "asyncsim: `{name}`: no witness: the given token's value does not satisfy the predicate"
        ),
        Err(mut failure) if failure.kind == FailureKind::TapeDivergence => {
            crate::rerun::blame_foreign_token(&mut failure, setup.foreign_origin, name);
            format!("asyncsim: `{name}`: no witness: the given token does not fit: {failure}")
        }
        Err(failure) => {
            format!("asyncsim: `{name}`: no witness: the given token's run failed: {failure}")
        }
    }
}

/// Every distinct value the body produced over the exploration, with how
/// often and a witness schedule: "which print orders are possible?"
///
/// ```
/// use asyncsim::{outcomes, Explore};
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let census = outcomes(Explore::new().runs(200), || async {
///     let printed = Rc::new(RefCell::new(String::new()));
///     let (p, q) = (printed.clone(), printed.clone());
///     let a = asyncsim::spawn(async move { p.borrow_mut().push('a') });
///     let b = asyncsim::spawn(async move { q.borrow_mut().push('b') });
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
    // Each witness's token names this test, as a failure's does.
    let origin = Some(origin_of(&setup.test_name));
    let driven = drive(
        &setup,
        &body,
        false,
        ByRun(|run: Run<F::Output>| {
            let mut tape = run.tape;
            tape.trim();
            tape.shrink_to_fit();
            tape.set_origin(origin);
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
                    census.values.push(DistinctValue {
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
/// use asyncsim::harness::run_schedule;
/// use asyncsim::Tape;
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
