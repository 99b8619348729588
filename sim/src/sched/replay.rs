//! Replay: draws come from a recorded tape. How a replay treats a tape that
//! no longer fits the program, and what it does once the tape runs out,
//! are the replay's own rules ([`ReplayRules`]), set from `Config`.

use super::Divergence;
use crate::config::Config;
use crate::tape::{Draw, DrawLabel, Tape, Unpacker};

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
///
/// `draws` is the whole tape, except for a long tape whose older draws are
/// packed: then it is a window of the tape, refilled from `rest` one
/// chunk at a time when read to its end.
pub(crate) struct Replay {
    draws: Vec<Draw>,
    /// Where the next draw is in `draws`.
    cursor: usize,
    /// The tape index of `draws[0]`.
    start: usize,
    /// The rest of a packed tape; `None` once `draws` holds its last window.
    rest: Option<Box<Unpacker>>,
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
            start: 0,
            rest: None,
            rules: ReplayRules {
                mismatch: Mismatch::Diverge,
                exhausted: Exhausted::Fifo,
            },
            last_picked: None,
        }
    }

    /// Starts over with `tape` (`None` when the run does not replay),
    /// keeping the buffer. (`#[inline]`: inlined into `Chooser::reset`
    /// whichever codegen unit each lands in.)
    #[inline]
    pub(crate) fn reset(&mut self, tape: Option<&Tape>, rules: ReplayRules) {
        self.draws.clear();
        self.cursor = 0;
        self.start = 0;
        self.rest = None;
        self.rules = rules;
        self.last_picked = None;
        let Some(tape) = tape else {
            return;
        };
        match tape.newest() {
            (draws, false) => self.draws.extend_from_slice(draws),
            (_, true) => self.start_packed(tape),
        }
    }

    /// [`Replay::reset`] for a long tape: its first window.
    #[cold]
    #[inline(never)]
    fn start_packed(&mut self, tape: &Tape) {
        let mut rest = Box::new(Unpacker::new(tape));
        rest.next_window(&mut self.draws);
        self.rest = Some(rest);
        self.drop_rest_if_finished();
    }

    /// The window is read to its end: moves to the next one. False when the
    /// tape is read to its end.
    #[cold]
    fn next_window(&mut self) -> bool {
        let Some(rest) = &mut self.rest else {
            return false;
        };
        self.start += self.draws.len();
        self.cursor = 0;
        let filled = rest.next_window(&mut self.draws);
        self.drop_rest_if_finished();
        filled
    }

    /// Lets go of the rest of a packed tape once `draws` is its last window,
    /// so `rest` is `None` exactly when nothing is left beyond `draws`.
    fn drop_rest_if_finished(&mut self) {
        if self.rest.as_ref().is_some_and(|rest| rest.finished()) {
            self.rest = None;
        }
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
        self.tracks_picks() && self.cursor >= self.draws.len() && self.rest.is_none()
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
        let expected = match self.draws.get(self.cursor).copied() {
            Some(draw) => draw,
            None if self.rest.is_some() && self.next_window() => self.draws[0],
            None => return 0,
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
                        index: self.start + self.cursor - 1,
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
        let window = self.draws[start..].iter().copied();
        let rest = self.rest.iter().flat_map(|rest| rest.rest());
        window
            .chain(rest)
            .enumerate()
            .find(|(_, draw)| draw.value != 0)
            .map(|(offset, draw)| (self.start + start + offset, draw))
    }
}
