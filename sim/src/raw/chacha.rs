//! The first two ChaCha8 blocks of four seeds at once, or the first block
//! of eight (AVX2).
//!
//! A seed's draws are the words of `ChaCha8Rng::seed_from_u64(seed)`: PCG32
//! turns the seed into a key, and ChaCha8 turns the key into blocks of 16
//! words. `rand_chacha` makes four blocks of one key per call; its eight
//! rounds are one long chain of dependent instructions, so that call costs
//! about 45 ns however little of it a run reads, plus 16 ns for the key.
//! A small run reads under 32 words, and the harness runs seeds in
//! sequence, so here the first two blocks of four consecutive seeds are made
//! together, one (seed, block) pair per 32-bit lane of eight: the four
//! quarter-rounds of each half round are independent, and the batch of four
//! costs about 94 ns against 60–75 ns for one seed the plain way
//! (BENCHMARKS.md, "Fifth engine pass"). When runs read at most one block
//! (16 words), the eight lanes are eight seeds' first blocks instead (a
//! short batch): the same work for twice the seeds.
//!
//! The output is the same words, checked word for word against
//! `rand_chacha` in `strategy`'s tests; machines without AVX2 use
//! `rand_chacha` alone.

/// Words per seed in a batch: two ChaCha blocks.
pub(crate) const BATCH_WORDS: usize = 32;

/// Seeds per batch.
pub(crate) const BATCH_SEEDS: usize = 4;

/// Words per seed in a short batch: one ChaCha block.
pub(crate) const SHORT_WORDS: usize = 16;

/// Seeds per short batch.
pub(crate) const SHORT_SEEDS: usize = 8;

/// Four seeds' first [`BATCH_WORDS`] words each, or (a short batch) eight
/// seeds' first [`SHORT_WORDS`], in stream order.
#[derive(Clone)]
pub(crate) struct Batch {
    words: [u32; BATCH_WORDS * BATCH_SEEDS],
}

impl Batch {
    pub(crate) fn new() -> Batch {
        Batch {
            words: [0; BATCH_WORDS * BATCH_SEEDS],
        }
    }

    /// Seed `index`'s words of a batch.
    #[inline]
    pub(crate) fn seed(&self, index: usize) -> &[u32; BATCH_WORDS] {
        self.words[BATCH_WORDS * index..][..BATCH_WORDS]
            .try_into()
            .unwrap()
    }

    /// Seed `index`'s words of a short batch.
    #[inline]
    pub(crate) fn short_seed(&self, index: usize) -> &[u32; SHORT_WORDS] {
        self.words[SHORT_WORDS * index..][..SHORT_WORDS]
            .try_into()
            .unwrap()
    }
}

/// Fills `batch` with the first two blocks of `seeds`' streams; false
/// (and `batch` untouched) when this machine cannot (no AVX2).
pub(crate) fn fill(seeds: [u64; BATCH_SEEDS], batch: &mut Batch) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked above.
            unsafe { avx2::fill(seeds, batch) };
            return true;
        }
    }
    let _ = (seeds, batch);
    false
}

/// Fills `batch` with the first block of each of `seeds`' streams (a short
/// batch: the same eight lanes' work as [`fill`], for twice the seeds);
/// false (and `batch` untouched) when this machine cannot (no AVX2).
pub(crate) fn fill_short(seeds: [u64; SHORT_SEEDS], batch: &mut Batch) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked above.
            unsafe { avx2::fill_short(seeds, batch) };
            return true;
        }
    }
    let _ = (seeds, batch);
    false
}

/// `(MUL^(k+1), INC·(MUL^k + … + 1))`: PCG32's state after `k + 1` steps
/// from `seed` is `seed·a + c`, so the eight key words need no chain of
/// eight dependent multiplies.
const PCG_JUMPS: [(u64, u64); 8] = {
    const MUL: u64 = 6_364_136_223_846_793_005;
    const INC: u64 = 11_634_580_027_462_260_723;
    let mut jumps = [(0, 0); 8];
    let (mut a, mut c) = (1u64, 0u64);
    let mut k = 0;
    while k < 8 {
        a = a.wrapping_mul(MUL);
        c = c.wrapping_mul(MUL).wrapping_add(INC);
        jumps[k] = (a, c);
        k += 1;
    }
    jumps
};

/// Key word `k` of `seed` (rand_core's `seed_from_u64`: PCG32's output
/// function on its state after `k + 1` steps).
#[inline(always)]
fn key_word(seed: u64, k: usize) -> u32 {
    let (a, c) = PCG_JUMPS[k];
    let state = seed.wrapping_mul(a).wrapping_add(c);
    let xorshifted = (((state >> 18) ^ state) >> 27) as u32;
    xorshifted.rotate_right((state >> 59) as u32)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{key_word, Batch, BATCH_SEEDS, BATCH_WORDS, SHORT_SEEDS, SHORT_WORDS};

    /// "expand 32-byte k".
    const CONSTANTS: [i32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

    macro_rules! rotate {
        ($x:expr, 16, $r16:expr, $r8:expr) => {
            _mm256_shuffle_epi8($x, $r16)
        };
        ($x:expr, 8, $r16:expr, $r8:expr) => {
            _mm256_shuffle_epi8($x, $r8)
        };
        ($x:expr, $bits:literal, $r16:expr, $r8:expr) => {
            _mm256_or_si256(
                _mm256_slli_epi32::<$bits>($x),
                _mm256_srli_epi32::<{ 32 - $bits }>($x),
            )
        };
    }

    macro_rules! quarter_round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $r16:ident, $r8:ident) => {
            $a = _mm256_add_epi32($a, $b);
            $d = rotate!(_mm256_xor_si256($d, $a), 16, $r16, $r8);
            $c = _mm256_add_epi32($c, $d);
            $b = rotate!(_mm256_xor_si256($b, $c), 12, $r16, $r8);
            $a = _mm256_add_epi32($a, $b);
            $d = rotate!(_mm256_xor_si256($d, $a), 8, $r16, $r8);
            $c = _mm256_add_epi32($c, $d);
            $b = rotate!(_mm256_xor_si256($b, $c), 7, $r16, $r8);
        };
    }

    /// The ChaCha8 blocks of eight lanes at once: lane `l` has key words
    /// `$key[0..8]`'s lane `l` and block counter `$counter`'s lane `l` (the
    /// stream is 0). Evaluates to the 16 words of every lane's block as two
    /// transposed halves: `low[l]` is words 0–7 of lane `l`, `high[l]`
    /// words 8–15. Shared by [`fill`] and [`fill_short`]; a macro, not a
    /// function: a `#[target_feature]` function cannot be `inline(always)`,
    /// and out of line it returned its 512 bytes through memory (+140
    /// instructions a small simulation).
    macro_rules! blocks {
        ($key:ident, $counter:ident) => {{
            let (key, counter) = ($key, $counter);
            let constant = CONSTANTS.map(|word| _mm256_set1_epi32(word));
            let zero = _mm256_setzero_si256();
            // Rotations by 16 and 8 bits are byte shuffles within each word.
            let r16 = _mm256_setr_epi8(
                2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5, 10,
                11, 8, 9, 14, 15, 12, 13,
            );
            let r8 = _mm256_setr_epi8(
                3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14, 3, 0, 1, 2, 7, 4, 5, 6, 11,
                8, 9, 10, 15, 12, 13, 14,
            );
            let [mut x0, mut x1, mut x2, mut x3] = constant;
            let [mut x4, mut x5, mut x6, mut x7, mut x8, mut x9, mut x10, mut x11] = key;
            let (mut x12, mut x13, mut x14, mut x15) = (counter, zero, zero, zero);
            // ChaCha8: four double rounds, columns then diagonals.
            for _ in 0..4 {
                quarter_round!(x0, x4, x8, x12, r16, r8);
                quarter_round!(x1, x5, x9, x13, r16, r8);
                quarter_round!(x2, x6, x10, x14, r16, r8);
                quarter_round!(x3, x7, x11, x15, r16, r8);
                quarter_round!(x0, x5, x10, x15, r16, r8);
                quarter_round!(x1, x6, x11, x12, r16, r8);
                quarter_round!(x2, x7, x8, x13, r16, r8);
                quarter_round!(x3, x4, x9, x14, r16, r8);
            }
            // Row `w` holds word `w` of every lane; two 8×8 transposes turn
            // lanes into runs of words.
            let low = transpose([
                _mm256_add_epi32(x0, constant[0]),
                _mm256_add_epi32(x1, constant[1]),
                _mm256_add_epi32(x2, constant[2]),
                _mm256_add_epi32(x3, constant[3]),
                _mm256_add_epi32(x4, key[0]),
                _mm256_add_epi32(x5, key[1]),
                _mm256_add_epi32(x6, key[2]),
                _mm256_add_epi32(x7, key[3]),
            ]);
            let high = transpose([
                _mm256_add_epi32(x8, key[4]),
                _mm256_add_epi32(x9, key[5]),
                _mm256_add_epi32(x10, key[6]),
                _mm256_add_epi32(x11, key[7]),
                _mm256_add_epi32(x12, counter),
                x13,
                x14,
                x15,
            ]);
            (low, high)
        }};
    }

    /// Rows → columns: `out[l]` is lane `l` of `rows[0..8]`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn transpose(rows: [__m256i; 8]) -> [__m256i; 8] {
        let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
        // Pairs of rows, then quads, within each 128-bit half; then halves.
        let t0 = _mm256_unpacklo_epi32(r0, r1);
        let t1 = _mm256_unpackhi_epi32(r0, r1);
        let t2 = _mm256_unpacklo_epi32(r2, r3);
        let t3 = _mm256_unpackhi_epi32(r2, r3);
        let t4 = _mm256_unpacklo_epi32(r4, r5);
        let t5 = _mm256_unpackhi_epi32(r4, r5);
        let t6 = _mm256_unpacklo_epi32(r6, r7);
        let t7 = _mm256_unpackhi_epi32(r6, r7);
        let u = [
            _mm256_unpacklo_epi64(t0, t2),
            _mm256_unpackhi_epi64(t0, t2),
            _mm256_unpacklo_epi64(t1, t3),
            _mm256_unpackhi_epi64(t1, t3),
            _mm256_unpacklo_epi64(t4, t6),
            _mm256_unpackhi_epi64(t4, t6),
            _mm256_unpacklo_epi64(t5, t7),
            _mm256_unpackhi_epi64(t5, t7),
        ];
        [
            _mm256_permute2x128_si256::<0x20>(u[0], u[4]),
            _mm256_permute2x128_si256::<0x20>(u[1], u[5]),
            _mm256_permute2x128_si256::<0x20>(u[2], u[6]),
            _mm256_permute2x128_si256::<0x20>(u[3], u[7]),
            _mm256_permute2x128_si256::<0x31>(u[0], u[4]),
            _mm256_permute2x128_si256::<0x31>(u[1], u[5]),
            _mm256_permute2x128_si256::<0x31>(u[2], u[6]),
            _mm256_permute2x128_si256::<0x31>(u[3], u[7]),
        ]
    }

    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill(seeds: [u64; BATCH_SEEDS], batch: &mut Batch) {
        // Each lane's key: seed `lane / 2`'s (both of its blocks share it).
        // Written out, not `array::from_fn`/`map` closures: closures do not
        // share this function's target feature, and whether they are inlined
        // moved with unrelated code (+1.5 M instructions in `check`).
        let mut key = [_mm256_setzero_si256(); 8];
        for (k, lane) in key.iter_mut().enumerate() {
            let w0 = key_word(seeds[0], k) as i32;
            let w1 = key_word(seeds[1], k) as i32;
            let w2 = key_word(seeds[2], k) as i32;
            let w3 = key_word(seeds[3], k) as i32;
            *lane = _mm256_setr_epi32(w0, w0, w1, w1, w2, w2, w3, w3);
        }
        // Block counter (words 12, 13) 0 or 1; the stream (14, 15) is 0.
        let counter = _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1);
        let (low, high) = blocks!(key, counter);
        for (seed, words) in batch.words.chunks_exact_mut(BATCH_WORDS).enumerate() {
            let parts = [
                low[2 * seed],
                high[2 * seed],
                low[2 * seed + 1],
                high[2 * seed + 1],
            ];
            for (part, vector) in parts.into_iter().enumerate() {
                // SAFETY: 8 of the seed's 32 words, 32 bytes in bounds;
                // an unaligned store.
                unsafe { _mm256_storeu_si256(words[8 * part..].as_mut_ptr().cast(), vector) };
            }
        }
    }

    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn fill_short(seeds: [u64; SHORT_SEEDS], batch: &mut Batch) {
        // Lane `i` is seed `i`'s first block (written out as in `fill`).
        let mut key = [_mm256_setzero_si256(); 8];
        for (k, lane) in key.iter_mut().enumerate() {
            let w0 = key_word(seeds[0], k) as i32;
            let w1 = key_word(seeds[1], k) as i32;
            let w2 = key_word(seeds[2], k) as i32;
            let w3 = key_word(seeds[3], k) as i32;
            let w4 = key_word(seeds[4], k) as i32;
            let w5 = key_word(seeds[5], k) as i32;
            let w6 = key_word(seeds[6], k) as i32;
            let w7 = key_word(seeds[7], k) as i32;
            *lane = _mm256_setr_epi32(w0, w1, w2, w3, w4, w5, w6, w7);
        }
        // Block counter (words 12, 13) and stream (14, 15) all 0.
        let zero = _mm256_setzero_si256();
        let (low, high) = blocks!(key, zero);
        for (seed, words) in batch.words.chunks_exact_mut(SHORT_WORDS).enumerate() {
            for (part, vector) in [low[seed], high[seed]].into_iter().enumerate() {
                // SAFETY: 8 of the seed's 16 words, 32 bytes in bounds;
                // an unaligned store.
                unsafe { _mm256_storeu_si256(words[8 * part..].as_mut_ptr().cast(), vector) };
            }
        }
    }
}
