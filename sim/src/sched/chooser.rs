//! The chooser: makes every draw of a run under its strategy and records
//! the realised decision on the tape.

use super::pct::Pct;
use super::replay::{Replay, ReplayRules};
use super::rng::{bounded, Stream};
use super::Strategy;
use crate::tape::{Draw, DrawLabel, Tape};

/// Why a replayed draw did not fit.
#[derive(Clone, Debug)]
pub(crate) struct Divergence {
    pub index: usize,
    pub expected: Draw,
    pub label: DrawLabel,
    pub bound: u64,
}

/// Makes the draws of one run and records them.
pub(crate) struct Chooser {
    mode: Mode,
    rng: Stream,
    replay: Replay,
    pct: Pct,
    pub(crate) tape: Tape,
    pub(crate) divergence: Option<Divergence>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fifo,
    Random,
    Pct,
    Replay,
}

impl Chooser {
    pub(crate) fn new() -> Chooser {
        Chooser {
            mode: Mode::Fifo,
            rng: Stream::new(),
            replay: Replay::new(),
            pct: Pct::default(),
            tape: Tape::with_capacity(0),
            divergence: None,
        }
    }

    /// Resets for a new run, reusing allocations.
    pub(crate) fn reset(
        &mut self,
        strategy: &Strategy,
        seed: u64,
        steps_estimate: u64,
        replay_rules: ReplayRules,
    ) {
        self.rng.reseed(seed);
        self.tape.clear();
        self.divergence = None;
        // `Mix` resolves by seed; anything else is used as is (no clone: a
        // replayed tape is copied once, into `replay`).
        let resolved;
        let strategy = match strategy {
            Strategy::Mix => {
                resolved = strategy.for_seed(seed);
                &resolved
            }
            other => other,
        };
        self.mode = match strategy {
            Strategy::Fifo => Mode::Fifo,
            Strategy::Random => Mode::Random,
            Strategy::Pct { depth } => {
                self.pct.reset(*depth, steps_estimate, &mut self.rng);
                Mode::Pct
            }
            Strategy::Replay(_) => Mode::Replay,
            Strategy::Mix => unreachable!("for_seed resolves Mix"),
        };
        let tape = match strategy {
            Strategy::Replay(tape) => Some(tape),
            _ => None,
        };
        self.replay.reset(tape, replay_rules);
    }

    /// A new task exists: PCT gives it a random priority above every
    /// change-point priority.
    #[inline]
    pub(crate) fn task_spawned(&mut self, task: u32) {
        if self.mode == Mode::Pct {
            self.pct.task_spawned(task, &mut self.rng);
        }
    }

    /// A task left the run queue other than by a pick (an abort, a crash).
    #[cold]
    pub(crate) fn queue_changed(&mut self) {
        if self.mode == Mode::Pct {
            self.pct.queue_changed();
        }
    }

    /// Picks which of `runnable` (task indices, oldest first) runs at `step`.
    /// Returns the position in `runnable`.
    #[inline(always)]
    pub(crate) fn pick_task(&mut self, runnable: &[u32], step: u64) -> usize {
        let count = runnable.len();
        if count == 1 {
            if self.mode == Mode::Pct {
                self.pct.pick_only(runnable[0]);
            }
            if self.replay.tracks_picks() {
                self.replay.picked(Some(runnable[0]));
            }
            return 0;
        }
        let value = match self.mode {
            Mode::Fifo => 0,
            Mode::Random => bounded(&mut self.rng, count as u64),
            Mode::Replay if self.replay.sticks() => self.replay.sticky_pick(runnable),
            Mode::Replay => {
                self.replay
                    .next(DrawLabel::Schedule, count as u64, &mut self.divergence)
            }
            Mode::Pct => self.pct.pick(runnable, step),
        };
        self.tape.push(Draw {
            label: DrawLabel::Schedule,
            bound: count as u64,
            value,
        });
        if self.replay.tracks_picks() {
            self.replay.picked(runnable.get(value as usize).copied());
        }
        value as usize
    }

    /// A non-scheduling draw in `[0, bound)` (`bound == 0` means 2^64).
    #[inline(always)]
    pub(crate) fn draw(&mut self, label: DrawLabel, bound: u64) -> u64 {
        if bound == 1 {
            return 0;
        }
        let value = match self.mode {
            Mode::Fifo => 0,
            Mode::Random | Mode::Pct => {
                if bound == 0 {
                    self.rng.next_u64()
                } else {
                    bounded(&mut self.rng, bound)
                }
            }
            Mode::Replay => self.replay.next(label, bound, &mut self.divergence),
        };
        self.tape.push(Draw {
            label,
            bound,
            value,
        });
        value
    }

    /// A weighted draw in `[0, bound)` (`bound >= 1`): under `Random` and
    /// PCT, 0 with probability `1 - nonzero_probability`, else uniform in
    /// `1..bound`; under FIFO 0; replayed like any draw. Rare events (a
    /// lost packet, a crash) stay rare in sampled runs, while a tape can
    /// still name any value, and shrinking still moves toward 0.
    pub(crate) fn draw_weighted(
        &mut self,
        label: DrawLabel,
        bound: u64,
        nonzero_probability: f64,
    ) -> u64 {
        assert!(bound >= 1, "asyncsim bug: a weighted draw needs a bound");
        if bound == 1 {
            return 0;
        }
        let value = match self.mode {
            Mode::Fifo => 0,
            Mode::Random | Mode::Pct => {
                // The top 53 bits as a uniform fraction in [0, 1).
                let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if unit < nonzero_probability {
                    1 + bounded(&mut self.rng, bound - 1)
                } else {
                    0
                }
            }
            Mode::Replay => self.replay.next(label, bound, &mut self.divergence),
        };
        self.tape.push(Draw {
            label,
            bound,
            value,
        });
        value
    }

    /// Strict replay only: the first draw the program never asked for that
    /// is not canonical (see `Replay::leftover`).
    #[inline]
    pub(crate) fn leftover(&self) -> Option<(usize, Draw)> {
        if self.mode != Mode::Replay {
            return None;
        }
        self.replay.leftover()
    }
}
