//! What explorations return: [`Summary`], [`Witness`], [`Outcomes`].

use std::collections::BTreeMap;
use std::fmt;

use asyncsim_sim::{FailureKind, Tape, Trace};

use crate::counterexample::Counterexample;
use crate::rerun::ShownToken;
use crate::schedule::Schedule;

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
    /// A bounded search stopped because it reached its run cap (`runs`,
    /// or `ASYNCSIM_RUNS`) with schedules of its space left unrun.
    pub stopped_at_run_cap: bool,
    /// When the determinism check found two runs of one schedule that
    /// differ: the explanation.
    pub nondeterminism: Option<String>,
    /// The strategy, as text.
    pub strategy: String,
    /// The exploration's name ([`Explore::name`](crate::Explore::name), or
    /// the test's).
    pub test_name: String,
    /// A replayed token named another test as its origin (its hash): it
    /// ran here anyway, and this says so.
    pub foreign_token_origin: Option<u32>,
    /// Each `asyncsim::sometimes` name the runs reached, with
    /// the number of runs in which it held (0: reached, never held). With
    /// `jobs > 1` a run past the first failure (or an exhaustive part's
    /// baseline) may be counted too.
    pub sometimes: BTreeMap<String, u64>,
}

impl Summary {
    /// The `sometimes` names that never held in any run.
    pub fn never_held(&self) -> Vec<&str> {
        self.sometimes
            .iter()
            .filter(|(_, runs)| **runs == 0)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

impl fmt::Display for Summary {
    /// One line: `` `name`: 1000 runs (mix), 0 failed, 37 distinct
    /// schedules, 2 new in the last 1000 `` and, for a bounded search,
    /// whether it covered its space; then the first failure's token. A
    /// replayed token another test recorded is said first, after the name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: ", self.test_name)?;
        // The cause of whatever follows comes first.
        if let Some(origin) = self.foreign_token_origin {
            write!(
                f,
                "the replayed token was recorded by another test (origin {origin:08x}), not this one; "
            )?;
        }
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
        match self.exhausted {
            Some(true) => write!(f, "; bounded space exhausted")?,
            Some(false) if self.stopped_at_run_cap => write!(
                f,
                "; bounded space NOT exhausted: stopped at the run cap of {} runs with schedules \
                 left (raise `.runs(n)` or ASYNCSIM_RUNS to cover it)",
                self.runs
            )?,
            Some(false) if self.first_failure.is_some() => {
                write!(f, "; stopped at the first failure")?
            }
            Some(false) => write!(
                f,
                "; bounded space NOT exhausted: a draw had more options than can be enumerated"
            )?,
            None => {}
        }
        if let Some(failure) = &self.first_failure {
            match &failure.token_file {
                // A token too long to print: the file that holds it.
                Some(path) => write!(
                    f,
                    "; first failure at run {}: its token is in {}",
                    failure.run_index,
                    path.display()
                )?,
                None => write!(
                    f,
                    "; first failure at run {}: {}",
                    failure.run_index,
                    failure.token()
                )?,
            }
        }
        if self.nondeterminism.is_some() {
            write!(f, "; the body is not deterministic")?;
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

impl<T: fmt::Debug> fmt::Display for Witness<T> {
    /// One line: the value, the run that produced it, and its token
    /// (`ASYNCSIM_REPLAY=<token>` or `Strategy::Replay` replays it).
    ///
    /// ```
    /// let witness = asyncsim::find(
    ///     asyncsim::Explore::without_environment().runs(50),
    ///     || async { asyncsim::random_range(0..4u8) },
    ///     |value| *value == 3,
    /// )
    /// .expect("some run draws 3");
    /// assert!(witness.to_string().starts_with("value 3 at run "));
    /// assert!(witness.to_string().contains(&witness.token()));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "value {:?} at run {}", self.value, self.run_index)?;
        if let Schedule::Seed(seed) = self.schedule {
            write!(f, " (seed {seed})")?;
        }
        write!(f, ", {}", ShownToken::here(self.tape.to_string()).words())
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

impl<T: fmt::Debug> fmt::Display for Outcomes<T> {
    /// A table: one line per distinct value (count, value, first run and its
    /// token), then one per kind of failure.
    ///
    /// ```
    /// let census = asyncsim::outcomes(asyncsim::Explore::without_environment().runs(100), || async {
    ///     asyncsim::random_range(0..2u8)
    /// });
    /// let text = census.to_string();
    /// assert!(text.starts_with("100 runs, 2 distinct values:"));
    /// assert!(text.contains(&census.values[0].token()));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs, {} distinct value{}:",
            self.runs,
            self.values.len(),
            if self.values.len() == 1 { "" } else { "s" }
        )?;
        for value in &self.values {
            write!(
                f,
                "\n  {:>8} × {:?}    (first at run {}, {})",
                value.count,
                value.value,
                value.witness_run_index,
                ShownToken::here(value.tape.to_string()).words()
            )?;
        }
        for (kind, count, first) in &self.failures {
            write!(f, "\n  {count:>8} × failed: {kind:?}    (first: {first})")?;
        }
        Ok(())
    }
}
