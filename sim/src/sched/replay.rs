//! Replay: draws come from a recorded tape. How a replay treats a tape that
//! no longer fits the program, and what it does once the tape runs out,
//! are the replay's own rules ([`ReplayRules`]), set from `Config`.

use super::Divergence;
use crate::config::Config;
use crate::tape::{Draw, DrawLabel};

/// What a replay does with a tape draw whose label or range no longer fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// Fail the run with a tape divergence (what users want).
    Diverge,
    /// Wrap the value into range and ignore the label (the shrinker's
    /// candidates: `Config::replay_lenient`).
    Wrap,
}

/// What schedule draws do once the replayed tape runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// asyncio's order: every draw is 0.
    Fifo,
    /// Keep polling the task picked last while it is runnable
    /// (`Config::replay_sticky`: preemption-bounded exploration).
    StayWithLast,
}

/// The rules of a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReplayRules {
    pub(crate) mismatch: Mismatch,
    pub(crate) exhausted: Exhausted,
}

impl ReplayRules {
    /// The rules `config` asks for.
    pub(crate) fn of(config: &Config) -> ReplayRules {
        ReplayRules {
            mismatch: if config.replay_lenient {
                Mismatch::Wrap
            } else {
                Mismatch::Diverge
            },
            exhausted: if config.replay_sticky {
                Exhausted::StayWithLast
            } else {
                Exhausted::Fifo
            },
        }
    }
}

/// A replay in progress: the tape, how far it was read, and (for
/// [`Exhausted::StayWithLast`]) the task the last schedule draw picked.
pub(crate) struct Replay {
    draws: Vec<Draw>,
    cursor: usize,
    rules: ReplayRules,
    /// The task the last pick chose; tracked only under
    /// [`Exhausted::StayWithLast`].
    last_picked: Option<u32>,
}

impl Replay {
    pub(crate) fn new() -> Replay {
        Replay {
            draws: Vec::new(),
            cursor: 0,
            rules: ReplayRules {
                mismatch: Mismatch::Diverge,
                exhausted: Exhausted::Fifo,
            },
            last_picked: None,
        }
    }

    /// Starts over with `draws` (empty when the run does not replay), keeping
    /// the buffer.
    pub(crate) fn reset(&mut self, draws: &[Draw], rules: ReplayRules) {
        self.draws.clear();
        self.draws.extend_from_slice(draws);
        self.cursor = 0;
        self.rules = rules;
        self.last_picked = None;
    }

    /// True when picks must be remembered (the sticky continuation).
    #[inline(always)]
    pub(crate) fn tracks_picks(&self) -> bool {
        self.rules.exhausted == Exhausted::StayWithLast
    }

    /// Remembers the task a pick chose (only called when [`Replay::tracks_picks`]).
    #[inline]
    pub(crate) fn picked(&mut self, task: Option<u32>) {
        self.last_picked = task;
    }

    /// The tape is read to its end and the sticky continuation picks now.
    #[inline]
    pub(crate) fn sticks(&self) -> bool {
        self.tracks_picks() && self.cursor >= self.draws.len()
    }

    /// The sticky continuation's pick: the task picked last if it is
    /// runnable again (it yielded), else asyncio's oldest.
    #[cold]
    pub(crate) fn sticky_pick(&self, runnable: &[u32]) -> u64 {
        self.last_picked
            .and_then(|last| runnable.iter().position(|task| *task == last))
            .map_or(0, |position| position as u64)
    }

    /// The next draw from the tape (0 once it is read to its end). A draw
    /// that does not fit wraps or records the divergence, by the rules.
    pub(crate) fn next(
        &mut self,
        label: DrawLabel,
        bound: u64,
        divergence: &mut Option<Divergence>,
    ) -> u64 {
        let index = self.cursor;
        let Some(expected) = self.draws.get(index).copied() else {
            return 0;
        };
        self.cursor += 1;
        let fits = expected.label == label && (bound == 0 || expected.value < bound);
        if fits {
            return expected.value;
        }
        match self.rules.mismatch {
            Mismatch::Wrap if bound == 0 => expected.value,
            Mismatch::Wrap => expected.value % bound,
            Mismatch::Diverge => {
                if divergence.is_none() {
                    *divergence = Some(Divergence {
                        index,
                        expected,
                        label,
                        bound,
                    });
                }
                0
            }
        }
    }

    /// Under strict rules only: the first draw the program never asked for
    /// that is not canonical (leftover zeros are what an exhausted tape does
    /// anyway). A tape with such leftovers came from a different program.
    pub(crate) fn leftover(&self) -> Option<(usize, Draw)> {
        if self.rules.mismatch == Mismatch::Wrap {
            return None;
        }
        let start = self.cursor.min(self.draws.len());
        self.draws[start..]
            .iter()
            .position(|draw| draw.value != 0)
            .map(|offset| (start + offset, self.draws[start + offset]))
    }
}
