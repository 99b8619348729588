//! The schedules the combinator, sync-primitive and net trace properties run
//! over.

use asyncsim::{Config, Strategy};

/// Every seed in `0..seeds`, each run under `Random` and under
/// `Pct { depth: 3 }`: uniform interleavings plus ones where a task runs far
/// ahead of another.
#[allow(dead_code)]
pub fn random_and_pct(seeds: u64) -> impl Iterator<Item = Config> {
    (0..seeds).flat_map(|seed| {
        [
            Config::new().seed(seed).strategy(Strategy::Random),
            Config::new()
                .seed(seed)
                .strategy(Strategy::Pct { depth: 3 }),
        ]
    })
}

/// A drawn number of yields (0–2), then the mark `request {index}`: when a
/// lock's contender asks for it.
#[allow(dead_code)]
pub async fn request_after_a_while(index: usize) {
    for _ in 0..asyncsim::random_range(0..3u32) {
        asyncsim::yield_now().await;
    }
    asyncsim::trace::mark(format!("request {index}"));
}

/// The indices of `request_after_a_while`'s marks, in order.
#[allow(dead_code)]
pub fn requests<'a>(marks: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    marks
        .into_iter()
        .filter_map(|mark| mark.strip_prefix("request ")?.parse().ok())
        .collect()
}

/// Runs `body` on every schedule with at most `max_deviations` draws off
/// FIFO (`u32::MAX`: every schedule there is), through the harness's
/// exhaustive search, and asserts that none failed and that the space was
/// exhausted within `runs_max` runs — so a test that says "for every
/// schedule" checked each one. Returns how many schedules there were.
#[allow(dead_code)]
pub fn on_every_schedule<B, F>(max_deviations: u32, runs_max: u64, body: B) -> u64
where
    B: Fn() -> F + Sync,
    F: std::future::Future,
    F::Output: asyncsim::harness::TestResult,
{
    let summary = asyncsim::explore(
        asyncsim::harness::Explore::without_environment()
            .exhaustive(max_deviations)
            .runs(runs_max)
            .progress(false)
            .trace_file(false),
        body,
    );
    if let Some(failure) = summary.first_failure {
        panic!("{failure}");
    }
    assert_eq!(
        summary.exhausted,
        Some(true),
        "the space was not exhausted within {runs_max} runs: {summary}"
    );
    count_note(max_deviations, summary.runs);
    summary.runs
}

/// Like [`on_every_schedule`], for properties of a whole run (its trace, its
/// result): hands every run with at most `max_deviations` draws off FIFO to
/// `check`, and returns how many there were.
///
/// The harness's search reports failures, not runs, so this walks the same
/// space itself — a depth-first odometer over replayed tape prefixes, each
/// schedule once — and then asserts that the harness's exhaustive search
/// counts the same number of schedules for the same body, so both visited
/// one space.
#[allow(dead_code)]
pub fn every_run<B, F>(
    max_deviations: u32,
    runs_max: u64,
    body: B,
    mut check: impl FnMut(asyncsim::Run<F::Output>),
) -> u64
where
    B: Fn() -> F + Sync,
    F: std::future::Future,
{
    use asyncsim::{Draw, Sim, Tape};
    // (prefix, first position a child may change, deviations so far)
    let mut stack: Vec<(Vec<Draw>, usize, u32)> = vec![(Vec::new(), 0, 0)];
    let mut runs = 0u64;
    while let Some((prefix, start, deviations)) = stack.pop() {
        runs += 1;
        assert!(runs <= runs_max, "more than {runs_max} schedules");
        let config = Config::new().strategy(Strategy::Replay(Tape::from_draws(prefix)));
        let run = Sim::new(config).run(body());
        let draws = run.tape.draws().to_vec();
        if deviations < max_deviations {
            // Pushed in reverse so the stack pops them in tape order.
            for position in (start..draws.len()).rev() {
                let draw = draws[position];
                assert!(
                    draw.bound != 0,
                    "a full-range random draw cannot be enumerated"
                );
                for value in (1..draw.bound).rev() {
                    let mut child = draws[..position].to_vec();
                    child.push(Draw { value, ..draw });
                    stack.push((child, position + 1, deviations + 1));
                }
            }
        }
        check(run);
    }
    let harness = asyncsim::explore(
        asyncsim::harness::Explore::without_environment()
            .exhaustive(max_deviations)
            .runs(runs_max)
            .progress(false)
            .trace_file(false)
            .shrink(false)
            .persist(false),
        || {
            let future = body();
            async move {
                future.await;
            }
        },
    );
    assert_eq!(
        (harness.runs, harness.exhausted),
        (runs, Some(true)),
        "the harness's exhaustive search saw another space: {harness}"
    );
    count_note(max_deviations, runs);
    runs
}

/// `SCHEDULES_COUNT=1 cargo test …` prints how many schedules each search
/// visited (to choose a deviation bound).
fn count_note(max_deviations: u32, runs: u64) {
    if std::env::var_os("SCHEDULES_COUNT").is_some() {
        eprintln!("schedules within {max_deviations} deviations: {runs}");
    }
}
