//! What explorations return: [`Summary`], [`Witness`], [`Outcomes`], and the
//! [`Schedule`] that names one run.

use std::fmt;

use asyncsim_sim::{FailureKind, Tape, Trace};

use crate::counterexample::Counterexample;

/// One schedule: a seed (run by the exploration's strategy) or a tape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A seed for the exploration's strategy.
    Seed(u64),
    /// A tape, replayed.
    Tape(Tape),
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Seed(seed) => write!(f, "seed {seed}"),
            Schedule::Tape(tape) => write!(f, "token {tape}"),
        }
    }
}

/// What an exploration found. See [`explore`](crate::explore).
#[derive(Clone, Debug)]
pub struct Summary {
    /// How many schedules ran (up to and including the first failure, for
    /// `check`).
    pub runs: u64,
    /// How many of them failed.
    pub failures: u64,
    /// The failure with the lowest run index, shrunk.
    pub first_failure: Option<Counterexample>,
    /// Distinct schedules seen, by trace hash.
    pub distinct_schedules: u64,
    /// How many of the last 1,000 runs (or fewer) showed a trace not seen
    /// before: near 0 means more runs of this strategy find little new.
    pub new_in_last_1000: u64,
    /// Exhaustive mode: whether every schedule within the deviation bound
    /// ran (false when `runs` cut it short, or a draw had too many options
    /// to enumerate). None for sampled strategies.
    pub exhausted: Option<bool>,
    /// When the determinism check found two runs of one schedule that
    /// differ: the explanation.
    pub nondeterminism: Option<String>,
    /// The strategy, as text.
    pub strategy: String,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs ({}), {} failed, {} distinct schedules, {} new in the last {}",
            self.runs,
            self.strategy,
            self.failures,
            self.distinct_schedules,
            self.new_in_last_1000,
            self.runs.min(1000)
        )?;
        if let Some(exhausted) = self.exhausted {
            write!(
                f,
                "; bounded space {}",
                if exhausted {
                    "exhausted"
                } else {
                    "not exhausted"
                }
            )?;
        }
        Ok(())
    }
}

/// A schedule where the body's value satisfied a predicate. See [`find`](crate::find).
#[derive(Clone, Debug)]
pub struct Witness<T> {
    /// 0-based index of the run.
    pub run_index: u64,
    /// How to run it again (seed or tape).
    pub schedule: Schedule,
    /// The seed (0 when the schedule is a tape).
    pub seed: u64,
    /// The realised tape: `tape.to_string()` replays it.
    pub tape: Tape,
    /// The full trace.
    pub trace: Trace,
    /// The body's value.
    pub value: T,
}

impl<T> Witness<T> {
    /// The replay token.
    pub fn token(&self) -> String {
        self.tape.to_string()
    }
}

/// One distinct value of a census, with its count and a witness. See
/// [`outcomes`](crate::outcomes).
#[derive(Clone, Debug)]
pub struct DistinctValue<T> {
    /// The value.
    pub value: T,
    /// How many runs produced it.
    pub count: u64,
    /// The first run that produced it.
    pub witness: Schedule,
    /// Its run index.
    pub witness_run_index: u64,
    /// The witness run's realised tape: `tape.to_string()` is a token that
    /// replays it (`Strategy::Replay`), whatever strategy found it.
    pub tape: Tape,
}

/// The old name of [`DistinctValue`]: `Outcome` is also the `asyncsim`
/// trait of a future's result (`asyncsim::Outcome`), which the facade
/// re-exports, so this struct could not be named there.
#[deprecated(note = "renamed `DistinctValue`: `Outcome` is the sim's trait of a future's result")]
pub type Outcome<T> = DistinctValue<T>;

impl<T> DistinctValue<T> {
    /// The replay token of the witness run.
    pub fn token(&self) -> String {
        self.tape.to_string()
    }
}

/// Every distinct value the body produced, in order of first appearance.
#[derive(Clone, Debug)]
pub struct Outcomes<T> {
    /// The values with counts and witnesses, in order of first appearance.
    pub values: Vec<DistinctValue<T>>,
    /// Runs made.
    pub runs: u64,
    /// Runs that failed (no value), by kind, with the first's schedule.
    pub failures: Vec<(FailureKind, u64, Schedule)>,
}

impl<T> Outcomes<T> {
    /// The distinct values, in order of first appearance.
    pub fn distinct(&self) -> Vec<&T> {
        self.values.iter().map(|outcome| &outcome.value).collect()
    }

    /// How many runs produced `value`.
    pub fn count(&self, value: &T) -> u64
    where
        T: PartialEq,
    {
        self.values
            .iter()
            .find(|outcome| outcome.value == *value)
            .map_or(0, |outcome| outcome.count)
    }
}
