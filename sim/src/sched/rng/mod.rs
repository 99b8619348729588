//! The generator behind `Random` and PCT: `ChaCha8Rng::seed_from_u64`'s
//! words, made cheaply (a reseeded core, or batches of sequential seeds).

use rand_chacha::ChaCha8Core;
use rand_core::block::BlockRngCore;
use rand_core::SeedableRng;

use crate::raw::chacha::{self, BATCH_SEEDS, BATCH_WORDS, SHORT_SEEDS, SHORT_WORDS};

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
/// cost of one seed's key and first refill; when it read at most
/// [`SHORT_WORDS`], the first block of the next eight seeds, for the same
/// work (a short batch). A run that reads past them continues on the plain
/// way. Nothing is computed for a run that never
/// draws (FIFO, replay).
pub(crate) struct Stream {
    core: ChaCha8Core,
    /// Buffered words; `words[index..end]` are unread.
    words: <ChaCha8Core as BlockRngCore>::Results,
    /// The next unread word: always even (only whole `u64`s are read).
    index: usize,
    /// One past the last buffered word: 0 before the run's first draw,
    /// the batch's words a seed while reading a batch's copy, 64 on the
    /// plain way.
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
    /// The previous run read at most [`BATCH_WORDS`] words; at most
    /// [`SHORT_WORDS`].
    previous_fitted: bool,
    previous_short: bool,
    /// Four (or, short, eight) consecutive seeds' first blocks, the first
    /// of those seeds, and whether the batch is short.
    batch: chacha::Batch,
    batch_first: Option<u64>,
    batch_short: bool,
    #[cfg(test)]
    batches_allowed: bool,
    #[cfg(test)]
    batches_made: u64,
    #[cfg(test)]
    short_batches_made: u64,
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
    pub(crate) fn new() -> Stream {
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
            previous_short: false,
            batch: chacha::Batch::new(),
            batch_first: None,
            batch_short: false,
            #[cfg(test)]
            batches_allowed: true,
            #[cfg(test)]
            batches_made: 0,
            #[cfg(test)]
            short_batches_made: 0,
        }
    }

    /// Starts `seed`'s stream. Lazy: the words are made at the first draw.
    pub(crate) fn reseed(&mut self, seed: u64) {
        let read = match self.source {
            Source::Fresh => 0,
            Source::Batch | Source::Plain => self.read_before + self.index,
        };
        self.previous_fitted = read <= BATCH_WORDS;
        self.previous_short = read <= SHORT_WORDS;
        self.previous_seed = self.started.then_some(self.seed);
        self.started = true;
        self.seed = seed;
        self.source = Source::Fresh;
        self.index = 0;
        self.end = 0;
        self.read_before = 0;
    }

    #[inline(always)]
    pub(crate) fn next_u64(&mut self) -> u64 {
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
                debug_assert_eq!(self.index, self.end);
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
            .filter(|&offset| {
                let seeds = if self.batch_short {
                    SHORT_SEEDS
                } else {
                    BATCH_SEEDS
                };
                offset < seeds as u64
            });
        if lane.is_none() && self.batch_wanted() {
            let made = if self.previous_short {
                let seeds = std::array::from_fn(|offset| seed.wrapping_add(offset as u64));
                chacha::fill_short(seeds, &mut self.batch).then_some(SHORT_SEEDS)
            } else {
                let seeds = std::array::from_fn(|offset| seed.wrapping_add(offset as u64));
                chacha::fill(seeds, &mut self.batch).then_some(BATCH_SEEDS)
            };
            if let Some(seeds) = made {
                self.batch_first = Some(seed);
                self.batch_short = seeds == SHORT_SEEDS;
                lane = Some(0);
                #[cfg(test)]
                {
                    self.batches_made += 1;
                    self.short_batches_made += u64::from(seeds == SHORT_SEEDS);
                }
            }
        }
        let Some(lane) = lane else {
            return false;
        };
        let lane = lane as usize;
        if self.batch_short {
            self.words.as_mut()[..SHORT_WORDS].copy_from_slice(self.batch.short_seed(lane));
            self.end = SHORT_WORDS;
        } else {
            self.words.as_mut()[..BATCH_WORDS].copy_from_slice(self.batch.seed(lane));
            self.end = BATCH_WORDS;
        }
        self.source = Source::Batch;
        self.index = 0;
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
pub(crate) fn bounded(rng: &mut Stream, bound: u64) -> u64 {
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
        compare_runs_counted(seeds, draws, batches).0
    }

    /// As `compare_runs`; the batches made and how many of them were short.
    fn compare_runs_counted(seeds: &[u64], draws: &[usize], batches: bool) -> (u64, u64) {
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
        (stream.batches_made, stream.short_batches_made)
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

    /// Runs of at most 8 draws (16 words) take short batches of eight
    /// seeds' first blocks; a run that reads past its block, or a short run
    /// after a longer one, still gives the seed's words.
    #[test]
    fn short_batches_match_chacha8rng() {
        let avx2 = {
            #[cfg(target_arch = "x86_64")]
            {
                std::arch::is_x86_feature_detected!("avx2")
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                false
            }
        };
        let seeds: Vec<u64> = (5000..5400).collect();
        let (made, short) = compare_runs_counted(&seeds, &[8, 3, 0, 6, 1, 8, 2], true);
        if avx2 {
            assert_eq!(made, short, "a run of 8 draws or fewer made a long batch");
            assert!(
                short >= 49,
                "{short} short batches for 400 small sequential runs"
            );
        }
        // Past the short block (9, 12, 20, 40 draws) inside a short batch,
        // and back again to long batches and short ones.
        let (made, short) = compare_runs_counted(
            &seeds,
            &[8, 9, 1, 12, 8, 16, 20, 4, 40, 2, 2, 2, 2, 2],
            true,
        );
        if avx2 {
            assert!(short > 10 && made > short, "{made} batches, {short} short");
        }
        let wrapping: Vec<u64> = (0..40).map(|i| (u64::MAX - 20).wrapping_add(i)).collect();
        compare_runs_counted(&wrapping, &[2, 8, 9, 1], true);
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
