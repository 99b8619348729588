//! [`Schedule`]: what names one run of an exploration, a seed or a tape.

use std::fmt;

use asyncsim_sim::Tape;

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
            // A token too long to print is named by its file.
            Schedule::Tape(tape) => {
                f.write_str(&crate::rerun::ShownToken::here(tape.to_string()).words())
            }
        }
    }
}
