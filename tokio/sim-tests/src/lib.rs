//! Tests of the tokio face, in a crate that depends on it as `tokio`.

use asyncsim::{Config, Sim, Strategy};

/// Every seed in `0..seeds`, each run under `Random` and under
/// `Pct { depth: 3 }` (the workspace's `tests/schedule_support`'s
/// `random_and_pct`): uniform interleavings plus ones where a task runs far
/// ahead of another.
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

/// Runs `body` on every schedule of [`random_and_pct`]`(24)` and FIFO's;
/// panics with the seed, the strategy and the failure when a run fails.
#[track_caller]
pub fn on_many_schedules<B, F>(body: B)
where
    B: Fn() -> F,
    F: std::future::Future,
{
    for config in random_and_pct(24).chain([Config::new().strategy(Strategy::Fifo)]) {
        let run = Sim::new(config.clone()).run(body());
        if let Err(failure) = run.result {
            panic!(
                "seed {} under {:?}: {failure}",
                config.seed, config.strategy
            );
        }
    }
}
