//! How each draw is made: the scheduling strategies and the chooser that
//! applies them.
//!
//! Whatever the strategy, the chooser records the *realised* decision on the
//! tape as an index into the runnable tasks in FIFO order, so a tape means the
//! same thing under every strategy and replays without knowing how it was
//! made.

use std::fmt;
use std::str::FromStr;

mod chooser;
mod pct;
mod replay;
mod rng;

use crate::tape::Tape;
pub(crate) use chooser::{Chooser, Divergence};
pub(crate) use replay::ReplayRules;

/// How draws are made.
///
/// ```
/// use asyncsim_sim::Strategy;
/// assert_eq!("pct:3".parse::<Strategy>().unwrap(), Strategy::Pct { depth: 3 });
/// assert_eq!(Strategy::Fifo.to_string(), "fifo");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Strategy {
    /// asyncio's own order: always the oldest runnable task, timers in
    /// registration order. Every draw is 0.
    Fifo,
    /// Uniform over the options, from a ChaCha8 generator seeded by the seed.
    #[default]
    Random,
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010):
    /// random task priorities, `depth - 1` priority change points spread over
    /// `Config::pct_steps_estimate` steps. Finds a bug of depth `d` with
    /// probability at least 1/(n·k^(d-1)) per run. Non-scheduling draws
    /// (timers, random data) are uniform.
    ///
    /// Priorities persist across `yield_now` and other awaits: a task keeps
    /// running until it blocks, finishes, or reaches a change point. To keep
    /// a top-priority task that spins on `yield_now` from starving the tasks
    /// it waits for, a task polled [`PCT_SPIN_POLLS`] times in a row while
    /// others were runnable is demoted below every other task.
    Pct {
        /// The bug depth to target (number of ordering constraints); 1 or more.
        depth: u32,
    },
    /// The harness's default: each seed picks one of the above, so a sweep
    /// of seeds alternates them — seeds ≡ 0 or 2 (mod 4) run `Random`, ≡ 1
    /// runs `Pct { depth: 2 }`, ≡ 3 runs `Pct { depth: 3 }`. Random finds
    /// shallow bugs in the fewest schedules; PCT finds the ones that need one
    /// task to run far ahead of another, which uniform choices almost never
    /// produce (see BENCHMARKS.md's bug zoo). A run's strategy is a function
    /// of its seed alone, so `ASYNCSIM_SEED` replays it.
    ///
    /// ```
    /// use asyncsim_sim::Strategy;
    /// assert_eq!(Strategy::Mix.for_seed(5), Strategy::Pct { depth: 2 });
    /// assert_eq!(Strategy::Mix.for_seed(6), Strategy::Random);
    /// ```
    Mix,
    /// Draws come from the tape. A draw whose kind or range no longer fits the
    /// program is reported as a tape divergence; once the tape is exhausted
    /// every draw is 0 (the canonical path).
    Replay(Tape),
}

impl Strategy {
    /// The strategy a run with this seed actually uses: itself, except for
    /// [`Strategy::Mix`], which picks by seed.
    pub fn for_seed(&self, seed: u64) -> Strategy {
        match self {
            Strategy::Mix => match seed % 4 {
                1 => Strategy::Pct { depth: 2 },
                3 => Strategy::Pct { depth: 3 },
                _ => Strategy::Random,
            },
            other => other.clone(),
        }
    }

    /// The strategies named by a word alone, and the word: what `Display`
    /// writes and `FromStr` reads (one list, so the two cannot drift).
    const WORDS: [(&'static str, Strategy); 3] = [
        ("fifo", Strategy::Fifo),
        ("random", Strategy::Random),
        ("mix", Strategy::Mix),
    ];

    /// Every form `FromStr` reads, for messages.
    const FORMS: &'static str =
        "`fifo`, `random`, `mix`, `pct:<depth>` (or `pct`, depth 2) or `replay:<token>`";

    /// True when some seed runs PCT (which needs a run-length estimate).
    pub fn uses_pct(&self) -> bool {
        matches!(self, Strategy::Pct { .. } | Strategy::Mix)
    }
}

/// See [`Strategy::Pct`]: consecutive polls of one task, while others wait,
/// after which PCT demotes it.
pub const PCT_SPIN_POLLS: u32 = 4096;

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Fifo | Strategy::Random | Strategy::Mix => {
                let (word, _) = Strategy::WORDS
                    .iter()
                    .find(|(_, strategy)| strategy == self)
                    .expect("every strategy named by a word is in WORDS");
                f.write_str(word)
            }
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
            Strategy::Replay(tape) => write!(f, "replay:{tape}"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;

    /// Parses `fifo`, `random`, `mix`, `pct` (depth 2), `pct:<depth>`,
    /// `replay:<token>` (the words in any case).
    fn from_str(text: &str) -> Result<Strategy, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if let Some((_, strategy)) = Strategy::WORDS.iter().find(|(word, _)| *word == lower) {
            return Ok(strategy.clone());
        }
        if lower == "pct" {
            return Ok(Strategy::Pct { depth: 2 });
        }
        if let Some(depth) = lower.strip_prefix("pct:") {
            let depth: u32 = depth.parse().map_err(|_| {
                format!("`{text}`: PCT depth must be a whole number, as in `pct:3`")
            })?;
            if depth == 0 {
                return Err(format!("`{text}`: PCT depth must be at least 1"));
            }
            return Ok(Strategy::Pct { depth });
        }
        if let Some(token) = text.strip_prefix("replay:") {
            return token
                .parse()
                .map(Strategy::Replay)
                .map_err(|error| error.to_string());
        }
        Err(format!(
            "unknown strategy `{text}`: expected {}",
            Strategy::FORMS
        ))
    }
}
