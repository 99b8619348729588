//! One exploration's fixed plan: where its schedules come from, the strategy
//! they run under, and the configuration of each run.

use std::future::Future;

use asyncsim_sim::{Config, Run, Sim, Strategy, Tape, TraceMode};

use crate::explore::{Explore, Search};
use crate::rerun::{origin_of, rerun_command};
use crate::schedule::Schedule;

/// Where the plans of one exploration come from.
pub(crate) enum Source {
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
pub(crate) struct Setup<'a> {
    pub(crate) settings: &'a Explore,
    pub(crate) source: Source,
    pub(crate) strategy: Strategy,
    pub(crate) pct_steps_estimate: u64,
    pub(crate) test_name: String,
    /// The origin a replayed token names when it is not this test's.
    pub(crate) foreign_origin: Option<u32>,
    /// `Config::rerun_command` of this test's runs: the hang watchdog's line
    /// for a run found by its seed says `ASYNCSIM_SEED=<seed> cargo test …`.
    pub(crate) rerun_command: u32,
    /// The runs PCT's estimate of a run's length made (1, or 0 without PCT
    /// or for a replayed token), which a report counts among the body's.
    pub(crate) estimate_runs: u64,
    /// The same for a run of the empty tape (FIFO: an exploration's first
    /// run), whose whole replay line the harness knows:
    /// `ASYNCSIM_REPLAY=<the empty tape's token> cargo test …`.
    pub(crate) fifo_rerun_line: u32,
}

impl Setup<'_> {
    pub(crate) fn config(&self, schedule: &Schedule, mode: TraceMode, lenient: bool) -> Config {
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
        config.rerun_command = match schedule {
            Schedule::Tape(tape) if tape.is_empty() => self.fifo_rerun_line,
            _ => self.rerun_command,
        };
        config.replay_lenient = lenient;
        config.pct_steps_estimate = self.pct_steps_estimate;
        config
    }

    /// Run `index` of a sampled exploration (or of a check's determinism
    /// run): run 0 is asyncio's own order, FIFO (the empty tape, every draw
    /// 0), and run `i > 0` is seed `base + i` under the strategy. A bug that
    /// plain FIFO shows is found first, as the simplest schedule it can be
    /// (nothing to shrink, a report with no deviation), not at whichever
    /// seed's choices happen to fall back on it. A seed keeps its meaning
    /// (seed `base + i` is still run `i`'s, and `ASYNCSIM_SEED` replays it);
    /// only seed `base` itself is not run.
    pub(crate) fn sampled_schedule(&self, index: u64) -> Schedule {
        if index == 0 {
            Schedule::Tape(Tape::new())
        } else {
            Schedule::Seed(self.settings.base_seed.wrapping_add(index))
        }
    }

    /// The strategy as reports and replay lines name it: `Search`'s text
    /// (which renders a sampled search by `Strategy`'s), or `replay`.
    pub(crate) fn strategy_name(&self) -> String {
        match &self.source {
            Source::Replay(_) => "replay".to_string(),
            Source::Exhaustive { .. } => self.settings.search.to_string(),
            Source::Seed(_) | Source::Sampled => self.strategy.to_string(),
        }
    }
}

pub(crate) fn setup<'a, B, F>(settings: &'a Explore, body: &B) -> Setup<'a>
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
    let test_name = settings.test_name_for::<B>();
    let program = std::env::current_exe().ok();
    let command = rerun_command(program.as_deref(), &test_name);
    let mut fifo = Tape::new();
    fifo.set_origin(Some(origin_of(&test_name)));
    let fifo_rerun_line = Config::default()
        .rerun_line(&format!("ASYNCSIM_REPLAY={fifo} {command}"))
        .rerun_command;
    let rerun_command = Config::default().rerun_command(&command).rerun_command;
    // PCT spreads its change points over the run's length: estimate it once,
    // from a FIFO run, so every seed (and a later `ASYNCSIM_SEED` replay)
    // sees the same estimate. That run comes first in every exploration of
    // the test but a replayed token's, so the hang watchdog's line for it
    // names the test's command too (with its seed, as for any run: any
    // seed's exploration starts with this run).
    let mut pct_steps_estimate = settings.config.pct_steps_estimate;
    let mut estimate_runs = 0;
    if strategy.uses_pct() && !matches!(source, Source::Replay(_)) {
        estimate_runs = 1;
        let mut config = settings.config.clone();
        config.strategy = Strategy::Fifo;
        config.trace_mode = TraceMode::HashOnly;
        config.rerun_command = rerun_command;
        let run = Sim::new(config).run(body());
        pct_steps_estimate = run.steps().max(1);
    }
    let foreign_origin = match &source {
        Source::Replay(tape) => tape
            .origin()
            .filter(|origin| *origin != origin_of(&test_name)),
        _ => None,
    };
    Setup {
        settings,
        strategy,
        pct_steps_estimate,
        source,
        foreign_origin,
        test_name,
        rerun_command,
        estimate_runs,
        fifo_rerun_line,
    }
}

pub(crate) fn run_with<B, F>(sim: &mut Sim, body: &B, config: Config) -> Run<F::Output>
where
    B: Fn() -> F,
    F: Future,
{
    *sim.config_mut() = config;
    sim.run(body())
}
