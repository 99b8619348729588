//! The schedules the combinator and sync-primitive properties run over.

use asyncsim::{Config, Strategy};

/// Every seed in `0..seeds`, each run under `Random` and under
/// `Pct { depth: 3 }`: uniform interleavings plus ones where a task runs far
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
