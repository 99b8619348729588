//! Bug-finding power: schedules until the first failure, per bug and
//! strategy, over many independent attempts (seeds).

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use asyncsim::harness::{explore, Explore};
use asyncsim::{Config, Sim, Strategy};
use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler, Scheduler};

use crate::bugs;
use crate::rt;

/// How big the zoo run is.
#[derive(Clone, Copy, Debug)]
pub struct ZooSize {
    /// Independent attempts (seeds) per bug and strategy.
    pub attempts: u64,
    /// Schedules per attempt before giving up.
    pub cap: u64,
    /// Worker threads (attempts run in parallel).
    pub jobs: usize,
}

/// The strategies compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// asyncsim with Strategy::Random.
    SimRandom,
    /// asyncsim with Strategy::Pct { depth }.
    SimPct(u32),
    /// asyncsim's exhaustive mode (bounded deviations).
    SimExhaustive,
    /// asyncsim's preemption-bounded mode (run-to-completion baseline).
    SimPreemptions,
    /// asyncsim with Strategy::Mix, the harness's default: run i uses
    /// Random, PCT 2, Random, PCT 3 in turn.
    SimMix,
    /// shuttle RandomScheduler.
    ShuttleRandom,
    /// shuttle PctScheduler.
    ShuttlePct(usize),
    /// shuttle DfsScheduler (deterministic: one attempt stands for all).
    /// (asyncsim's exhaustive mode is deterministic too.)
    ShuttleDfs,
}

impl Tool {
    /// Table label.
    pub fn label(self) -> String {
        match self {
            Tool::SimRandom => "asyncsim random".into(),
            Tool::SimPct(depth) => format!("asyncsim pct:{depth}"),
            Tool::SimExhaustive => "asyncsim exhaustive".into(),
            Tool::SimPreemptions => "asyncsim preemptions".into(),
            Tool::SimMix => "asyncsim mix (default)".into(),
            Tool::ShuttleRandom => "shuttle random".into(),
            Tool::ShuttlePct(depth) => format!("shuttle pct:{depth}"),
            Tool::ShuttleDfs => "shuttle dfs".into(),
        }
    }

    /// asyncsim's tools.
    pub fn is_sim(self) -> bool {
        matches!(
            self,
            Tool::SimRandom
                | Tool::SimPct(_)
                | Tool::SimExhaustive
                | Tool::SimPreemptions
                | Tool::SimMix
        )
    }
}

/// All tools, asyncsim first.
pub const TOOLS: &[Tool] = &[
    Tool::SimRandom,
    Tool::SimPct(1),
    Tool::SimPct(2),
    Tool::SimPct(3),
    Tool::SimExhaustive,
    Tool::SimPreemptions,
    Tool::SimMix,
    Tool::ShuttleRandom,
    Tool::ShuttlePct(2),
    Tool::ShuttlePct(3),
    Tool::ShuttleDfs,
];

/// One attempt's outcome.
#[derive(Clone, Copy, Debug)]
pub struct Attempt {
    /// Schedules run until (and including) the first failing one.
    pub schedules: Option<u64>,
    /// Nonzero draws on the failing run's tape (raw, or shrunk when the
    /// harness reports it).
    pub deviations: Option<usize>,
}

/// The summary of one (bug, tool) cell.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Per attempt.
    pub attempts: Vec<Attempt>,
    /// Wall time spent.
    pub seconds: f64,
}

impl Cell {
    /// Attempts that found the bug.
    pub fn found(&self) -> usize {
        self.attempts
            .iter()
            .filter(|a| a.schedules.is_some())
            .count()
    }

    /// Median schedules over all attempts (a miss counts as infinite); None
    /// when half or more missed.
    pub fn median(&self) -> Option<u64> {
        let mut values: Vec<u64> = self
            .attempts
            .iter()
            .map(|a| a.schedules.unwrap_or(u64::MAX))
            .collect();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let middle = values[(values.len() - 1) / 2];
        (middle != u64::MAX).then_some(middle)
    }

    /// Fewest and most schedules over the attempts that found it.
    pub fn min_max(&self) -> Option<(u64, u64)> {
        let found: Vec<u64> = self.attempts.iter().filter_map(|a| a.schedules).collect();
        Some((*found.iter().min()?, *found.iter().max()?))
    }

    /// Median deviation count of the failing runs.
    pub fn median_deviations(&self) -> Option<usize> {
        let mut values: Vec<usize> = self.attempts.iter().filter_map(|a| a.deviations).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        Some(values[(values.len() - 1) / 2])
    }
}

/// A seed for shuttle's attempt `attempt` (splitmix64).
fn seed_for(attempt: u64, index: u64) -> u64 {
    let mut z = attempt
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index)
        .wrapping_add(0x5EED);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The step count of a bug's FIFO run (PCT's change-point window).
pub fn fifo_steps(bug: usize) -> u64 {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(bugs::run::<rt::Sim>(bug));
    run.steps()
}

/// Whether asyncio's own (FIFO) order trips the bug (it must not).
pub fn fifo_fails(bug: usize) -> bool {
    Sim::new(Config::new().strategy(Strategy::Fifo))
        .run(bugs::run::<rt::Sim>(bug))
        .result
        .is_err()
}

/// The harness settings every zoo exploration shares.
fn settings() -> Explore {
    Explore::without_environment()
        .persist(false)
        .progress(false)
        .trace_file(false)
}

/// Attempt `attempt` runs the schedules the harness runs with
/// `.seed(attempt << 32)`: FIFO first (run 0, every attempt's), then run `i`
/// seed `(attempt << 32) + i`. The schedules until the first failure are
/// counted by a plain `Sim::run` loop (the harness's `explore` does not stop
/// early); then the harness re-runs exactly those schedules to shrink the
/// failure, and its report must agree on the run index.
fn sim_attempt(bug: usize, strategy: &Strategy, attempt: u64, cap: u64, steps: u64) -> Attempt {
    let base = attempt << 32;
    let mut sim = Sim::new(
        Config::new()
            .strategy(strategy.clone())
            .pct_steps_estimate(steps),
    );
    let first = if fifo_fails(bug) {
        Some(0)
    } else {
        (1..cap).find(|index| {
            sim.config_mut().seed = base + index;
            sim.run(bugs::run::<rt::Sim>(bug)).result.is_err()
        })
    };
    let Some(index) = first else {
        return Attempt {
            schedules: None,
            deviations: None,
        };
    };
    let summary = explore(
        settings()
            .runs(index + 1)
            .strategy(strategy.clone())
            .seed(base),
        || bugs::run::<rt::Sim>(bug),
    );
    let found = summary
        .first_failure
        .expect("the harness finds the failure the plain loop found");
    assert_eq!(
        found.run_index, index,
        "harness and plain loop disagree on the first failing run of bug {bug}"
    );
    Attempt {
        schedules: Some(index + 1),
        deviations: Some(found.deviations),
    }
}

/// Exhaustive search with iterative deepening on the bound (deviations
/// from FIFO: 1, 2, 3; or, `preemptions`, from run-to-completion: 0, 1, 2,
/// 3): schedules are counted across the bounds tried.
fn sim_exhaustive(bug: usize, cap: u64, preemptions: bool) -> Attempt {
    let mut spent = 0;
    let first = if preemptions { 0 } else { 1 };
    for bound in first..=3 {
        if spent >= cap {
            break;
        }
        let search = if preemptions {
            settings().runs(cap - spent).preemptions(bound)
        } else {
            settings().runs(cap - spent).exhaustive(bound)
        };
        let summary = explore(search, || bugs::run::<rt::Sim>(bug));
        if let Some(found) = summary.first_failure {
            return Attempt {
                schedules: Some(spent + found.run_index + 1),
                deviations: Some(found.deviations),
            };
        }
        spent += summary.runs;
    }
    Attempt {
        schedules: None,
        deviations: None,
    }
}

thread_local! {
    /// True while this thread runs a shuttle test: panics there are the
    /// planted bugs (or shuttle's deadlock reports), not errors.
    pub static IN_SHUTTLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn shuttle_attempt<S: Scheduler + 'static>(bug: usize, scheduler: S) -> Attempt {
    let count = Arc::new(AtomicU64::new(0));
    let counter = count.clone();
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    config.silence_warnings = true;
    let runner = shuttle::Runner::new(scheduler, config);
    IN_SHUTTLE.with(|flag| flag.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(move || {
        runner.run(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            shuttle::future::block_on(bugs::run::<rt::Shuttle>(bug));
        })
    }));
    IN_SHUTTLE.with(|flag| flag.set(false));
    // shuttle's PCT refuses a program with one task ("did not exercise any
    // concurrency") by panicking on its second schedule: that is no bug
    // found (the intra-task bug runs in one task).
    let refused = outcome.as_ref().err().is_some_and(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        message.contains("did not exercise any concurrency")
    });
    Attempt {
        schedules: (outcome.is_err() && !refused).then(|| count.load(Ordering::Relaxed)),
        deviations: None,
    }
}

fn attempt(tool: Tool, bug: usize, attempt: u64, size: ZooSize, steps: u64) -> Attempt {
    let cap = size.cap;
    match tool {
        Tool::SimRandom => sim_attempt(bug, &Strategy::Random, attempt, cap, steps),
        Tool::SimPct(depth) => sim_attempt(bug, &Strategy::Pct { depth }, attempt, cap, steps),
        Tool::SimExhaustive => sim_exhaustive(bug, cap, false),
        Tool::SimPreemptions => sim_exhaustive(bug, cap, true),
        Tool::SimMix => sim_attempt(bug, &Strategy::Mix, attempt, cap, steps),
        Tool::ShuttleRandom => shuttle_attempt(
            bug,
            RandomScheduler::new_from_seed(seed_for(attempt, u64::MAX), cap as usize),
        ),
        Tool::ShuttlePct(depth) => shuttle_attempt(
            bug,
            PctScheduler::new_from_seed(seed_for(attempt, u64::MAX), depth, cap as usize),
        ),
        Tool::ShuttleDfs => shuttle_attempt(bug, DfsScheduler::new(Some(cap as usize), false)),
    }
}

/// Measures one (bug, tool) cell.
pub fn measure(tool: Tool, bug: usize, size: ZooSize) -> Cell {
    let start = Instant::now();
    let steps = fifo_steps(bug);
    let attempts = if matches!(
        tool,
        Tool::ShuttleDfs | Tool::SimExhaustive | Tool::SimPreemptions
    ) {
        // Deterministic: every attempt would be the same.
        let one = attempt(tool, bug, 0, size, steps);
        vec![one; size.attempts as usize]
    } else {
        let next = AtomicUsize::new(0);
        let results = Mutex::new(vec![
            Attempt {
                schedules: None,
                deviations: None
            };
            size.attempts as usize
        ]);
        std::thread::scope(|scope| {
            for _ in 0..size.jobs.max(1) {
                scope.spawn(|| loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= size.attempts as usize {
                        break;
                    }
                    let outcome = attempt(tool, bug, index as u64, size, steps);
                    results.lock().unwrap()[index] = outcome;
                });
            }
        });
        results.into_inner().unwrap()
    };
    Cell {
        attempts,
        seconds: start.elapsed().as_secs_f64(),
    }
}
