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
