//! Small helpers shared by the examples and the article tests.

use asyncsim::harness::TraceExt;
use asyncsim::{Config, Draw, DrawLabel, Explore, Run, Sim, Strategy, Tape, Trace};

/// asyncio's own order: every draw 0.
pub fn fifo() -> Config {
    Config::new().strategy(Strategy::Fifo)
}

/// The explorations a property is checked over: `runs` schedules in all,
/// half drawn by `Random`, half by PCT of depth 2.
///
/// ```ignore
/// for schedules in random_and_pct(600) {
///     asyncsim::check(schedules, || async { /* assert on the run */ });
/// }
/// ```
pub fn random_and_pct(runs: u64) -> [Explore; 2] {
    [
        Explore::new().runs(runs / 2).strategy(Strategy::Random),
        Explore::new()
            .runs(runs - runs / 2)
            .strategy(Strategy::Pct { depth: 2 }),
    ]
}

/// Runs `program` once under `config`.
pub fn run_once<T, F: std::future::Future<Output = T>>(config: Config, program: F) -> Run<T> {
    Sim::new(config).run(program)
}

/// The marks of a run, in order: what the article's program printed.
pub fn marks(trace: &Trace) -> Vec<String> {
    trace.marks().map(str::to_string).collect()
}

/// `0, 1, …, jobs - 1` as text: the marks of jobs started in argument order.
pub fn argument_order(jobs: u64) -> Vec<String> {
    (0..jobs).map(|x| x.to_string()).collect()
}

/// Every order a Python set of `jobs` coroutines can iterate in, as the
/// start draws of `StartOrder::Unordered`, each with the permutation it
/// draws. Replayed, a tape starts the jobs in that order and then runs the
/// loop FIFO — asyncio's own loop with one particular set order.
pub fn every_set_order(jobs: usize) -> Vec<(Tape, Vec<usize>)> {
    // Position `i` draws one of the `jobs - i` jobs not yet started (a draw
    // with one option is never recorded, so the last position has none).
    let mut orders: Vec<Vec<Draw>> = vec![Vec::new()];
    for position in 0..jobs.saturating_sub(1) {
        let bound = (jobs - position) as u64;
        orders = orders
            .iter()
            .flat_map(|draws| {
                (0..bound).map(move |value| {
                    let mut draws = draws.clone();
                    draws.push(Draw {
                        label: DrawLabel::Start,
                        bound,
                        value,
                    });
                    draws
                })
            })
            .collect();
    }
    orders
        .into_iter()
        .map(|draws| {
            let mut remaining: Vec<usize> = (0..jobs).collect();
            let mut permutation: Vec<usize> = draws
                .iter()
                .map(|draw| remaining.remove(draw.value as usize))
                .collect();
            permutation.append(&mut remaining);
            (Tape::from_draws(draws), permutation)
        })
        .collect()
}

/// The start draws of `StartOrder::Unordered` that make a set iterate in
/// `permutation` (one of [`every_set_order`]).
///
/// # Panics
///
/// When `permutation` is not a permutation of `0..permutation.len()`.
pub fn set_order(permutation: &[usize]) -> Tape {
    every_set_order(permutation.len())
        .into_iter()
        .find(|(_, order)| order == permutation)
        .map(|(tape, _)| tape)
        .expect("a permutation of 0..n")
}

/// Checks `trace` against the insta snapshot `snapshots/<name>.snap` at the
/// top of the repository (where every trace snapshot of the project lives).
pub fn assert_trace_snapshot(name: &str, trace: &Trace) {
    asyncsim::harness::assert_trace_snapshot!(name, trace);
}

/// Prints one run the way every example does: the title, the result, the
/// virtual time, the marks (the article's printed lines), the slow-poll
/// report, the text timeline and the trace.
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
    println!("\ntimeline:\n{}", run.trace.timeline(72));
    println!("trace:\n{}", run.trace);
}
