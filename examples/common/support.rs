//! Small helpers shared by the examples and the article tests.

use std::collections::BTreeMap;

use asyncsim::{Config, Run, Sim, Strategy, Trace};

/// asyncio's own order: every draw 0.
pub fn fifo() -> Config {
    Config::new().strategy(Strategy::Fifo)
}

/// The schedules a property is checked over: `runs` configurations,
/// alternating between `Random` and PCT of depth 2 and 3, each with its own
/// seed.
pub fn schedules(runs: u64) -> impl Iterator<Item = Config> {
    (0..runs).map(|seed| {
        let strategy = match seed % 3 {
            0 => Strategy::Random,
            1 => Strategy::Pct { depth: 2 },
            _ => Strategy::Pct { depth: 3 },
        };
        Config::new().seed(seed).strategy(strategy)
    })
}

/// Runs `program` once under `config`.
pub fn run_once<T, F: std::future::Future<Output = T>>(config: Config, program: F) -> Run<T> {
    Sim::new(config).run(program)
}

/// The marks of a run, in order: what the article's program printed.
pub fn marks(trace: &Trace) -> Vec<String> {
    trace.marks().map(str::to_string).collect()
}

/// One distinct outcome over many schedules: how often it happened, and the
/// first seed that showed it.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How many runs ended this way.
    pub count: u64,
    /// The first schedule that did.
    pub witness: Config,
    /// The virtual time of the witness run.
    pub elapsed: std::time::Duration,
}

/// Runs `program` under every configuration and groups the runs by
/// `observe(&run)`.
pub fn census<T, K: Ord, F: std::future::Future<Output = T>>(
    configs: impl Iterator<Item = Config>,
    mut program: impl FnMut() -> F,
    mut observe: impl FnMut(&Run<T>) -> K,
) -> BTreeMap<K, Outcome> {
    let mut outcomes: BTreeMap<K, Outcome> = BTreeMap::new();
    for config in configs {
        let run = Sim::new(config.clone()).run(program());
        let key = observe(&run);
        outcomes
            .entry(key)
            .or_insert_with(|| Outcome {
                count: 0,
                witness: config,
                elapsed: run.elapsed(),
            })
            .count += 1;
    }
    outcomes
}

/// Checks `trace` against the insta snapshot `snapshots/<name>.snap` at the
/// top of the repository (where every trace snapshot of the project lives).
pub fn assert_trace_snapshot(name: &str, trace: &Trace) {
    asyncsim::harness::assert_trace_snapshot!(name, trace);
}

/// Checks `property` on a run of `program` under each of `runs` schedules
/// (see [`schedules`]); a failing run is reported with its seed, strategy,
/// replay token and trace.
pub fn check_every_schedule<T, F: std::future::Future<Output = T>>(
    runs: u64,
    mut program: impl FnMut() -> F,
    mut property: impl FnMut(&Run<T>),
) {
    for config in schedules(runs) {
        let run = Sim::new(config.clone()).run(program());
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(&run)));
        if let Err(payload) = verdict {
            eprintln!(
                "property failed on seed {} with {:?}; replay token {}\ntrace:\n{}",
                config.seed, config.strategy, run.tape, run.trace
            );
            std::panic::resume_unwind(payload);
        }
    }
}

/// Prints one run the way every example does: the title, the result, the
/// virtual time, the marks (the article's printed lines), the slow-poll
/// report, the timeline (with each mark's virtual time) and the trace.
pub fn print_run<T: std::fmt::Debug>(title: &str, run: &Run<T>) {
    use asyncsim::trace::format_ns;
    println!("== {title}");
    match &run.result {
        Ok(value) => println!("result: {value:?}"),
        Err(failure) => println!("failed: {failure}"),
    }
    println!(
        "took {} of virtual time in {} steps",
        format_ns(run.elapsed_ns()),
        run.steps()
    );
    let marks: Vec<&str> = run.trace.marks().collect();
    if marks.is_empty() {
        println!("printed nothing");
    } else {
        println!("printed: {}", marks.join(" → "));
    }
    if !run.slow_polls().is_empty() {
        println!("slow polls (held the loop at least Config::slow_poll):");
        for slow in run.slow_polls() {
            println!(
                "  `{}` held the loop {} from {}",
                slow.name,
                format_ns(slow.held_ns),
                format_ns(slow.start_ns)
            );
        }
    }
    println!(
        "\ntimeline:\n{}",
        asyncsim::harness::render::timeline_text(&run.trace, 72)
    );
    println!("trace:\n{}", run.trace);
}

/// The start draws at the head of `tape` alone, as a strategy: replayed, a
/// combinator starts its children in the drawn (set) order and the loop
/// then runs FIFO — asyncio's own loop with a Python set's iteration order.
pub fn set_order_then_fifo(tape: &asyncsim::Tape) -> Strategy {
    let starts = tape
        .draws()
        .iter()
        .take_while(|draw| draw.label == asyncsim::DrawLabel::Start)
        .copied()
        .collect();
    Strategy::Replay(asyncsim::Tape::from_draws(starts))
}
