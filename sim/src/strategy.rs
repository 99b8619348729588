//! How each draw is made: the scheduling strategies and the chooser that
//! applies them.
//!
//! Whatever the strategy, the chooser records the *realised* decision on the
//! tape as an index into the runnable tasks in FIFO order, so a tape means the
//! same thing under every strategy and replays without knowing how it was
//! made.

use std::fmt;
use std::str::FromStr;

use rand_chacha::ChaCha8Core;
use rand_core::block::BlockRngCore;
use rand_core::SeedableRng;

use crate::raw::chacha::{self, BATCH_WORDS};
use crate::tape::{Draw, DrawLabel, Tape};

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
            Strategy::Fifo => f.write_str("fifo"),
            Strategy::Random => f.write_str("random"),
            Strategy::Mix => f.write_str("mix"),
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
            Strategy::Replay(tape) => write!(f, "replay:{tape}"),
        }
    }
}

impl FromStr for Strategy {
    type Err = String;

    /// Parses `fifo`, `random`, `pct:<depth>`, `replay:<token>`.
    fn from_str(text: &str) -> Result<Strategy, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "fifo" => return Ok(Strategy::Fifo),
            "random" => return Ok(Strategy::Random),
            "mix" => return Ok(Strategy::Mix),
            "pct" => return Ok(Strategy::Pct { depth: 2 }),
            _ => {}
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
            "unknown strategy `{text}`: expected `fifo`, `random`, `mix`, `pct:<depth>` or `replay:<token>`"
        ))
    }
}

/// Why a replayed draw did not fit.
#[derive(Clone, Debug)]
pub(crate) struct Divergence {
    pub index: usize,
    pub expected: Draw,
    pub label: DrawLabel,
    pub bound: u64,
}

/// PCT's per-run state.
#[derive(Debug, Default)]
struct PctState {
    /// Priority of each task by index (higher runs first).
    priorities: Vec<u64>,
    /// Steps at which the running task is demoted, ascending.
    change_points: Vec<u64>,
    /// How many change points have passed (the next demotion priority).
    changes_done: u64,
    /// The task picked last and how many times in a row.
    last_pick: Option<u32>,
    repeat_picks: u32,
}

/// Makes the draws of one run and records them.
pub(crate) struct Chooser {
    mode: Mode,
    rng: Stream,
    replay: Vec<Draw>,
    replay_cursor: usize,
    /// Lenient replay (for shrinking): out-of-range values wrap, label
    /// mismatches are ignored, instead of diverging.
    lenient: bool,
    /// Once the replayed tape runs out, schedule draws pick the task polled
    /// last while it is runnable (`Config::replay_sticky`).
    sticky: bool,
    /// The task the last pick chose (tracked only when `sticky`).
    last_pick: Option<u32>,
    pct: PctState,
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
            replay: Vec::new(),
            replay_cursor: 0,
            lenient: false,
            sticky: false,
            last_pick: None,
            pct: PctState::default(),
            tape: Tape::with_capacity(0),
            divergence: None,
        }
    }

    /// Resets for a new run, reusing allocations.
    pub(crate) fn reset(
        &mut self,
        strategy: &Strategy,
        seed: u64,
        lenient: bool,
        sticky: bool,
        steps_estimate: u64,
    ) {
        self.rng.reseed(seed);
        self.tape.clear();
        self.divergence = None;
        self.replay.clear();
        self.replay_cursor = 0;
        self.lenient = lenient;
        self.sticky = sticky;
        self.last_pick = None;
        self.pct.priorities.clear();
        self.pct.change_points.clear();
        self.pct.changes_done = 0;
        self.pct.last_pick = None;
        self.pct.repeat_picks = 0;
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
                for _ in 1..(*depth).max(1) {
                    let point = bounded(&mut self.rng, steps_estimate.max(1));
                    self.pct.change_points.push(point);
                }
                self.pct.change_points.sort_unstable();
                Mode::Pct
            }
            Strategy::Replay(tape) => {
                self.replay.extend_from_slice(tape.draws());
                Mode::Replay
            }
            Strategy::Mix => unreachable!("for_seed resolves Mix"),
        };
    }

    /// A new task exists: PCT gives it a random priority above every
    /// change-point priority.
    #[inline]
    pub(crate) fn task_spawned(&mut self, task: u32) {
        if self.mode == Mode::Pct {
            let index = task as usize;
            if self.pct.priorities.len() <= index {
                self.pct.priorities.resize(index + 1, 0);
            }
            // Above every change-point priority (those are < 2^32).
            self.pct.priorities[index] = (self.rng.next_u64() >> 1) | (1 << 40);
        }
    }

    /// Picks which of `runnable` (task indices, oldest first) runs at `step`.
    /// Returns the position in `runnable`.
    #[inline(always)]
    pub(crate) fn pick_task(&mut self, runnable: &[u32], step: u64) -> usize {
        let count = runnable.len();
        if count == 1 {
            if self.mode == Mode::Pct {
                self.note_pct_pick(runnable[0], false);
            }
            if self.sticky {
                self.last_pick = Some(runnable[0]);
            }
            return 0;
        }
        let value = match self.mode {
            Mode::Fifo => 0,
            Mode::Random => bounded(&mut self.rng, count as u64),
            Mode::Replay if self.sticky && self.replay_cursor >= self.replay.len() => {
                self.sticky_pick(runnable)
            }
            Mode::Replay => self.replayed(DrawLabel::Schedule, count as u64),
            Mode::Pct => self.pct_pick(runnable, step),
        };
        self.tape.push(Draw {
            label: DrawLabel::Schedule,
            bound: count as u64,
            value,
        });
        if self.sticky {
            self.last_pick = runnable.get(value as usize).copied();
        }
        value as usize
    }

    /// The sticky continuation's pick: the task picked last if it is
    /// runnable again (it yielded), else asyncio's oldest.
    #[cold]
    fn sticky_pick(&self, runnable: &[u32]) -> u64 {
        self.last_pick
            .and_then(|last| runnable.iter().position(|task| *task == last))
            .map_or(0, |position| position as u64)
    }

    fn pct_pick(&mut self, runnable: &[u32], step: u64) -> u64 {
        // A change point demotes whichever task is about to run at that step.
        let mut best = 0;
        let mut best_priority = 0;
        for (position, task) in runnable.iter().enumerate() {
            let priority = self
                .pct
                .priorities
                .get(*task as usize)
                .copied()
                .unwrap_or(0);
            if position == 0 || priority > best_priority {
                best = position;
                best_priority = priority;
            }
        }
        let mut demoted = false;
        while self
            .pct
            .change_points
            .get(self.pct.changes_done as usize)
            .is_some_and(|point| *point <= step)
        {
            let task = runnable[best] as usize;
            // Change point i gives priority d-1-i.. lower than all initial ones;
            // later change points give lower priorities still.
            self.pct.priorities[task] = (1 << 32) - 1 - self.pct.changes_done;
            self.pct.changes_done += 1;
            demoted = true;
        }
        if demoted {
            return self.pct_pick(runnable, step);
        }
        self.note_pct_pick(runnable[best], true);
        best as u64
    }

    fn note_pct_pick(&mut self, task: u32, others_waiting: bool) {
        if self.pct.last_pick == Some(task) && others_waiting {
            self.pct.repeat_picks += 1;
            if self.pct.repeat_picks >= PCT_SPIN_POLLS {
                // The task spins while others wait: drop it below everyone.
                let lowest = self.pct.priorities.iter().copied().min().unwrap_or(0);
                self.pct.priorities[task as usize] = lowest.saturating_sub(1);
                self.pct.repeat_picks = 0;
            }
        } else {
            self.pct.last_pick = Some(task);
            self.pct.repeat_picks = 0;
        }
    }

    /// A non-scheduling draw in `[0, bound)` (`bound == 0` means 2^64).
    #[inline]
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
            Mode::Replay => self.replayed(label, bound),
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
            Mode::Replay => self.replayed(label, bound),
        };
        self.tape.push(Draw {
            label,
            bound,
            value,
        });
        value
    }

    /// Strict replay only: the first draw the program never asked for that
    /// is not canonical (leftover zeros are what an exhausted tape does
    /// anyway). A tape with such leftovers came from a different program.
    pub(crate) fn leftover(&self) -> Option<(usize, Draw)> {
        if self.mode != Mode::Replay || self.lenient {
            return None;
        }
        self.replay[self.replay_cursor.min(self.replay.len())..]
            .iter()
            .position(|draw| draw.value != 0)
            .map(|offset| {
                (
                    self.replay_cursor + offset,
                    self.replay[self.replay_cursor + offset],
                )
            })
    }

    fn replayed(&mut self, label: DrawLabel, bound: u64) -> u64 {
        let index = self.replay_cursor;
        let Some(expected) = self.replay.get(index).copied() else {
            return 0;
        };
        self.replay_cursor += 1;
        let fits = expected.label == label && (bound == 0 || expected.value < bound);
        if fits {
            return expected.value;
        }
        if self.lenient {
            return if bound == 0 {
                expected.value
            } else {
                expected.value % bound
            };
        }
        if self.divergence.is_none() {
            self.divergence = Some(Divergence {
                index,
                expected,
                label,
                bound,
            });
        }
        0
    }
}

/// The 64-bit words `rand_chacha::ChaCha8Rng::seed_from_u64(seed)` gives
/// through `next_u64`, word for word (unit tests compare them), so a seed
/// keeps its meaning.
///
/// Two ways to the same words. The plain one is `ChaCha8Core` with our own
/// 64-word buffer, reseeded in place (`ChaCha8Rng` is rebuilt whole, its
/// buffer zeroed and the value moved, about 150 instructions a run). The
/// batched one: when seeds come in sequence (the harness's runs) and the
/// last run read at most [`BATCH_WORDS`] words, the first two blocks of the
/// next four seeds are made at once ([`raw::chacha`]), about a third of the
/// cost of one seed's key and first refill; a run that reads past them
/// continues on the plain way. Nothing is computed for a run that never
/// draws (FIFO, replay).
struct Stream {
    core: ChaCha8Core,
    /// Buffered words; `words[index..end]` are unread.
    words: <ChaCha8Core as BlockRngCore>::Results,
    /// The next unread word: always even (only whole `u64`s are read).
    index: usize,
    /// One past the last buffered word: 0 before the run's first draw,
    /// [`BATCH_WORDS`] while reading a batch's copy, 64 on the plain way.
    end: usize,
    /// Words read before `words[0]` on the plain way (64 per refill past
    /// the first).
    read_before: usize,
    /// Where the run's words come from.
    source: Source,
    /// This run's seed, and the one before it.
    seed: u64,
    previous_seed: Option<u64>,
    /// A run has been seeded (`seed` is meaningful).
    started: bool,
    /// The previous run read at most [`BATCH_WORDS`] words.
    previous_fitted: bool,
    /// Four consecutive seeds' first blocks, and the first of those seeds.
    batch: chacha::Batch,
    batch_first: Option<u64>,
    #[cfg(test)]
    batches_allowed: bool,
    #[cfg(test)]
    batches_made: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    /// No draw yet this run.
    Fresh,
    /// `words[..BATCH_WORDS]` is a copy of the seed's part of `batch`.
    Batch,
    /// `core`, seeded with `seed`.
    Plain,
}

/// Words in a `ChaCha8Core` refill (four blocks).
const STREAM_WORDS: usize = 64;

impl Stream {
    fn new() -> Stream {
        Stream {
            core: ChaCha8Core::seed_from_u64(0),
            words: Default::default(),
            index: 0,
            end: 0,
            read_before: 0,
            source: Source::Fresh,
            seed: 0,
            previous_seed: None,
            started: false,
            previous_fitted: false,
            batch: chacha::Batch::new(),
            batch_first: None,
            #[cfg(test)]
            batches_allowed: true,
            #[cfg(test)]
            batches_made: 0,
        }
    }

    /// Starts `seed`'s stream. Lazy: the words are made at the first draw.
    fn reseed(&mut self, seed: u64) {
        let read = match self.source {
            Source::Fresh => 0,
            Source::Batch | Source::Plain => self.read_before + self.index,
        };
        self.previous_fitted = read <= BATCH_WORDS;
        self.previous_seed = self.started.then_some(self.seed);
        self.started = true;
        self.seed = seed;
        self.source = Source::Fresh;
        self.index = 0;
        self.end = 0;
        self.read_before = 0;
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        if self.index >= self.end {
            self.refill();
        }
        let words: &[u32] = self.words.as_ref();
        let (low, high) = (words[self.index], words[self.index + 1]);
        self.index += 2;
        (u64::from(high) << 32) | u64::from(low)
    }

    #[cold]
    #[inline(never)]
    fn refill(&mut self) {
        match self.source {
            Source::Fresh => {
                if self.start_from_batch() {
                    return;
                }
                self.core = ChaCha8Core::seed_from_u64(self.seed);
                self.core.generate(&mut self.words);
                self.index = 0;
            }
            Source::Batch => {
                // Past the batch's two blocks: the same words again from
                // the plain way, read on from where the batch ended.
                self.core = ChaCha8Core::seed_from_u64(self.seed);
                self.core.generate(&mut self.words);
                debug_assert_eq!(self.index, BATCH_WORDS);
            }
            Source::Plain => {
                self.core.generate(&mut self.words);
                self.read_before += STREAM_WORDS;
                self.index = 0;
            }
        }
        self.source = Source::Plain;
        self.end = STREAM_WORDS;
    }

    /// Takes the run's first words from a batch: the current one if it
    /// holds the seed, else a new one when seeds come in sequence and small
    /// runs read little.
    fn start_from_batch(&mut self) -> bool {
        #[cfg(test)]
        if !self.batches_allowed {
            return false;
        }
        let seed = self.seed;
        let mut lane = self
            .batch_first
            .map(|first| seed.wrapping_sub(first))
            .filter(|&offset| offset < chacha::BATCH_SEEDS as u64);
        if lane.is_none() && self.batch_wanted() {
            let seeds = std::array::from_fn(|offset| seed.wrapping_add(offset as u64));
            if chacha::fill(seeds, &mut self.batch) {
                self.batch_first = Some(seed);
                lane = Some(0);
                #[cfg(test)]
                {
                    self.batches_made += 1;
                }
            }
        }
        let Some(lane) = lane else {
            return false;
        };
        self.words.as_mut()[..BATCH_WORDS].copy_from_slice(self.batch.seed(lane as usize));
        self.source = Source::Batch;
        self.index = 0;
        self.end = BATCH_WORDS;
        true
    }

    fn batch_wanted(&self) -> bool {
        self.previous_fitted && self.previous_seed == Some(self.seed.wrapping_sub(1))
    }
}

/// An unbiased draw in `[0, bound)` (Lemire's multiply-and-reject; the
/// division for the rejection threshold only runs in the rare case the low
/// half falls below `bound`).
#[inline(always)]
fn bounded(rng: &mut Stream, bound: u64) -> u64 {
    debug_assert!(bound > 0);
    let mut product = u128::from(rng.next_u64()) * u128::from(bound);
    if (product as u64) < bound {
        let threshold = bound.wrapping_neg() % bound;
        while (product as u64) < threshold {
            product = u128::from(rng.next_u64()) * u128::from(bound);
        }
    }
    (product >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::RngCore;

    /// A seed means the same draws as `ChaCha8Rng::seed_from_u64` gives,
    /// across block refills and reseeds.
    #[test]
    fn stream_matches_chacha8rng_word_for_word() {
        let mut stream = Stream::new();
        for seed in (0..40).chain([u64::MAX, 1 << 63, 0xdead_beef]) {
            stream.reseed(seed);
            let mut reference = ChaCha8Rng::seed_from_u64(seed);
            for draw in 0..300 {
                assert_eq!(
                    stream.next_u64(),
                    reference.next_u64(),
                    "seed {seed}, draw {draw}"
                );
            }
        }
    }

    /// Runs of `draws[i % len]` draws on `seeds`, each compared word for
    /// word with a fresh `ChaCha8Rng`; returns how many batches were made.
    fn compare_runs(seeds: &[u64], draws: &[usize], batches: bool) -> u64 {
        let mut stream = Stream::new();
        stream.batches_allowed = batches;
        for (run, &seed) in seeds.iter().enumerate() {
            stream.reseed(seed);
            let mut reference = ChaCha8Rng::seed_from_u64(seed);
            for draw in 0..draws[run % draws.len()] {
                assert_eq!(
                    stream.next_u64(),
                    reference.next_u64(),
                    "seed {seed} (run {run}), draw {draw}"
                );
            }
        }
        stream.batches_made
    }

    /// Draws per run around the batch's 16 (32 words): none, within, the
    /// last one, one past, well past, and several refills past.
    const DRAWS: [usize; 12] = [0, 1, 7, 15, 16, 17, 3, 31, 2, 40, 16, 100];

    #[test]
    fn sequential_seeds_through_batches_match_chacha8rng() {
        let seeds: Vec<u64> = (1000..1400).collect();
        let made = compare_runs(&seeds, &DRAWS, true);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(
                made > 40,
                "only {made} batches: the batched way went untested"
            );
        }
        // Every run small: batches all the way.
        let small = compare_runs(&seeds, &[16, 9, 0, 12], true);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(small >= 99, "{small} batches for 400 small sequential runs");
        }
    }

    #[test]
    fn seeds_out_of_order_and_wrapping_match_chacha8rng() {
        // Wrapping around u64::MAX inside a batch and across batches.
        let wrapping: Vec<u64> = (0..40).map(|i| (u64::MAX - 20).wrapping_add(i)).collect();
        compare_runs(&wrapping, &[16, 5, 17, 1], true);
        // Jumps, repeats and steps back: seeds inside an old batch, and
        // sequences that restart.
        let jumpy = [
            5u64, 6, 7, 8, 9, 7, 6, 100, 101, 3, 4, 5, 6, 200, 199, 200, 201, 202, 203, 204,
        ];
        compare_runs(&jumpy, &[4, 16, 0, 20, 1], true);
        let spread: Vec<u64> = (0..200)
            .map(|i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        compare_runs(&spread, &DRAWS, true);
    }

    #[test]
    fn without_batches_the_plain_way_matches_chacha8rng() {
        let seeds: Vec<u64> = (0..300).collect();
        assert_eq!(compare_runs(&seeds, &DRAWS, false), 0);
    }
}
