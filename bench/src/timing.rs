//! Timing: a measured cell (`Row`), a runner's timing slices (`Slicer`,
//! `looped`) and the round-robin that times a workload's runners (`race`),
//! shared by the speed and world tables.

use std::time::{Duration, Instant};

/// One measured (workload, runner) cell.
#[derive(Clone, Debug)]
pub struct Row {
    /// Workload name.
    pub workload: String,
    /// Runner name.
    pub runner: String,
    /// Runs timed.
    pub runs: u64,
    /// Total seconds for those runs.
    pub seconds: f64,
    /// Steps per run (asyncsim's poll count for the workload; the same
    /// figure divides every peer's time).
    pub steps_per_run: f64,
}

impl Row {
    /// Microseconds per run.
    pub fn us_per_run(&self) -> f64 {
        self.seconds * 1e6 / self.runs as f64
    }

    /// Runs per second.
    pub fn runs_per_sec(&self) -> f64 {
        self.runs as f64 / self.seconds
    }

    /// Nanoseconds per step.
    pub fn ns_per_step(&self) -> f64 {
        self.seconds * 1e9 / (self.runs as f64 * self.steps_per_run)
    }
}

/// Independent timing slices per cell; the fastest is reported (the
/// machine is shared, and interference only ever adds time: with three
/// slices a burst of it still decided a cell now and then).
pub(crate) const SLICES: u32 = 6;

/// One runner under test: runs one timing slice of about the given length
/// and returns (runs, seconds).
pub(crate) type Slicer<'a> = Box<dyn FnMut(Duration) -> (u64, f64) + 'a>;

/// A runner that calls `one(run_index)` until the slice is over (after a
/// short warm-up, done here).
pub(crate) fn looped<'a>(mut one: impl FnMut(u64) + 'a) -> Slicer<'a> {
    for index in 0..3 {
        one(u64::MAX - index);
    }
    let mut index = 0;
    Box::new(move |slice| {
        let start = Instant::now();
        let mut runs = 0;
        let mut next_check = 1;
        loop {
            one(index);
            index += 1;
            runs += 1;
            if runs < next_check {
                continue;
            }
            let elapsed = start.elapsed();
            if elapsed >= slice && runs >= 3 {
                return (runs, elapsed.as_secs_f64());
            }
            // Read the clock about a hundred times a slice, not after every
            // run: a read costs tens of nanoseconds, which is a percent or
            // two of the shortest runs' time (a small simulation's 1.7 µs),
            // and it would be counted as theirs. The slice then ends at most
            // a hundredth late, and the time is divided by the runs made in
            // it, so the figure is the same with fewer reads in it.
            let per_run = elapsed.as_secs_f64() / runs as f64;
            let stride = (slice.as_secs_f64() / 100.0 / per_run.max(1e-9)) as u64;
            next_check = runs + stride.max(1);
        }
    })
}

/// Times a workload's runners: they take turns, slice by slice, for
/// [`SLICES`] rounds, and each keeps its fastest slice. A burst of
/// interference on the shared machine then slows one slice of each runner
/// rather than every slice of one.
pub(crate) fn race(
    budget: Duration,
    mut runners: Vec<(&'static str, Slicer<'_>)>,
) -> Vec<(&'static str, (u64, f64))> {
    let slice = budget / SLICES;
    let mut best: Vec<Option<(u64, f64)>> = vec![None; runners.len()];
    for _ in 0..SLICES {
        for (index, (_, runner)) in runners.iter_mut().enumerate() {
            let (runs, seconds) = runner(slice);
            if best[index].is_none_or(|(r, s)| seconds / (runs as f64) < s / (r as f64)) {
                best[index] = Some((runs, seconds));
            }
        }
    }
    runners
        .iter()
        .zip(best)
        .map(|((name, _), timing)| (*name, timing.expect("at least one slice")))
        .collect()
}
