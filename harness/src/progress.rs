//! Progress lines on stderr during long explorations.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress on stderr, by wall clock (reporting only; never a decision).
pub(crate) struct Progress {
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
    pub(crate) fn new(enabled: bool, every: Duration) -> Progress {
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

    pub(crate) fn tick(&self, hash: u64, total: u64, name: &str) {
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
