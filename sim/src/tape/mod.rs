//! The choice tape: every nondeterministic decision of a run, in order.
//!
//! A run makes a sequence of bounded draws: "pick one of these 3 runnable
//! tasks", "which of these 2 timers with the same deadline fires first",
//! "a random `u8`". Each draw is a value in `[0, bound)` with a [`DrawLabel`]
//! saying what kind of decision it was. Value 0 is always the canonical
//! choice, the one asyncio itself would make (the oldest runnable task, the
//! timer registered first), so the number of nonzero draws counts how far a
//! schedule deviates from plain FIFO.
//!
//! Decisions with a single option (`bound == 1`) are not draws: they are not
//! recorded and consume nothing on replay. That keeps tapes short and makes
//! "number of draws" a count of real choices.
//!
//! # Replay tokens
//!
//! A tape prints as a compact token and parses back:
//!
//! ```
//! use asyncsim_sim::{Config, Sim, Strategy, Tape};
//!
//! let run = Sim::new(Config::new().seed(3)).run(async {
//!     let a = asyncsim_sim::spawn(async { asyncsim_sim::yield_now().await; 1 });
//!     let b = asyncsim_sim::spawn(async { 2 });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! let token = run.tape.to_string();
//! let tape: Tape = token.parse().unwrap();
//! assert_eq!(tape, run.tape);
//!
//! // A malformed token is an error that says what is wrong, never a panic.
//! let error = "as1.AAAA.00000000".parse::<Tape>().unwrap_err();
//! assert!(error.to_string().contains("checksum"));
//! ```
//!
//! The token is `as1.<payload>.<checksum>`: a version tag, the draws packed
//! as base64url varints (runs of zero draws collapse to one item, so a shrunk
//! tape is a few characters), and a 32-bit FNV-1a checksum in hex.
//!
//! # Long tapes
//!
//! A draw is 24 bytes as a [`Draw`]; a soak run of ten million steps would
//! hold a quarter of a gigabyte of them. So a tape keeps at most
//! [`UNPACKED_DRAWS_MAX`] draws as `Draw`s (every tape of an ordinary run:
//! recording is a plain `Vec` push), and when that many are waiting it packs
//! them into a chunk of bytes, a byte or two a draw (`Packed`, in `packed.rs`: each draw is
//! written against the one before, whose label and bound it usually
//! shares). [`Tape::iter`] reads a packed tape as it is; [`Tape::draws`]
//! unpacks it into a slice on first use, and a replay unpacks one chunk at a
//! time (`sched::replay`).

use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;

use crate::recycle::{self, Spares};

thread_local! {
    /// Draw buffers of dropped tapes, for the next run's (`recycle`).
    static SPARE_DRAWS: Spares<Draw> = const { RefCell::new(Vec::new()) };
}

/// What kind of decision a draw made. Stored in the tape so a replay can tell
/// when the program no longer makes the same decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DrawLabel {
    /// Which runnable task is polled next (value k = the k-th oldest runnable).
    Schedule = 0,
    /// Which of several timers due at the same instant fires next.
    Timer = 1,
    /// The start order of an unordered combinator (`StartOrder::Unordered`).
    Start = 2,
    /// User data from `asyncsim::random` / `random_range`.
    Random = 3,
    /// Which of several pool jobs finishing at the same instant completes next.
    Pool = 4,
    /// The order in which one task polls its own branches (`select!`,
    /// `join!`, `join_all`, …), or whether `explore_polls` yields before a
    /// poll: interleavings inside one task (`crate::branch`).
    Branch = 5,
    /// A network decision of the world: latency, delivery order, loss,
    /// duplication.
    Net = 6,
    /// A fault of the world: a crash, a partition, `buggify`.
    Fault = 7,
    /// A disk decision of the world: what survives a crash, an I/O error.
    Disk = 8,
}

impl DrawLabel {
    // Codes are written into tokens: append new labels, never renumber.
    const ALL: [DrawLabel; 9] = [
        DrawLabel::Schedule,
        DrawLabel::Timer,
        DrawLabel::Start,
        DrawLabel::Random,
        DrawLabel::Pool,
        DrawLabel::Branch,
        DrawLabel::Net,
        DrawLabel::Fault,
        DrawLabel::Disk,
    ];

    fn from_code(code: u64) -> Option<DrawLabel> {
        Self::ALL.get(code as usize).copied()
    }

    /// A short lowercase name for reports ("schedule", "timer", …).
    pub fn name(self) -> &'static str {
        match self {
            DrawLabel::Schedule => "schedule",
            DrawLabel::Timer => "timer",
            DrawLabel::Start => "start",
            DrawLabel::Random => "random",
            DrawLabel::Pool => "pool",
            DrawLabel::Branch => "branch",
            DrawLabel::Net => "net",
            DrawLabel::Fault => "fault",
            DrawLabel::Disk => "disk",
        }
    }
}

impl fmt::Display for DrawLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One recorded decision: `value` in `[0, bound)`.
///
/// `bound == 0` stands for the full `u64` range (used by `random::<u64>()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Draw {
    /// What kind of decision this was.
    pub label: DrawLabel,
    /// How many options there were (0 means 2^64).
    pub bound: u64,
    /// Which option was taken; 0 is the canonical (FIFO) one.
    pub value: u64,
}

/// The draws of one run, in the order they were made.
///
/// A tape compares equal to another when their draw labels and values match;
/// bounds are kept for reports and checks but are not part of the token, so a
/// tape parsed from a token has `bound == 0` on every draw until it is
/// replayed and re-recorded.
///
/// A long run's tape keeps its older draws packed, a byte or two each (see
/// the [module docs](self#long-tapes)); [`Tape::iter`] reads them without
/// unpacking.
#[derive(Clone, Default)]
pub struct Tape {
    /// The newest draws: every draw of a tape that was never packed (any
    /// tape of fewer than [`UNPACKED_DRAWS_MAX`] draws), and on a packed one
    /// those made since it last packed.
    draws: Vec<Draw>,
    /// The older draws of a long tape, packed; they come before `draws`.
    packed: Option<Box<Packed>>,
    /// Which test the token was recorded by (a hash of its name), when the
    /// harness stamped it: a fourth part of the token. Not a draw, so two
    /// tapes that differ only here are equal.
    origin: Option<u32>,
}

/// A dropped tape's buffer serves the next run's tape (see `recycle`).
impl Drop for Tape {
    fn drop(&mut self) {
        recycle::give(&SPARE_DRAWS, std::mem::take(&mut self.draws));
    }
}

impl PartialEq for Tape {
    fn eq(&self, other: &Tape) -> bool {
        // Trailing zero draws are canonical choices an exhausted tape makes
        // anyway, so they do not distinguish two tapes.
        let length = self.significant_len();
        length == other.significant_len()
            && self
                .iter()
                .zip(other.iter())
                .take(length)
                .all(|(x, y)| x.label == y.label && x.value == y.value)
    }
}

impl Eq for Tape {}

impl Tape {
    /// An empty tape: replaying it follows the canonical (FIFO) path.
    pub fn new() -> Tape {
        Tape::default()
    }

    /// An empty tape with room for `draws` draws (at most
    /// [`UNPACKED_DRAWS_MAX`]: a longer tape packs its draws as it goes).
    pub fn with_capacity(draws: usize) -> Tape {
        Tape {
            draws: recycle::take(&SPARE_DRAWS, draws.min(UNPACKED_DRAWS_MAX)),
            packed: None,
            origin: None,
        }
    }

    /// A tape holding exactly these draws.
    pub fn from_draws(draws: Vec<Draw>) -> Tape {
        Tape {
            draws,
            packed: None,
            origin: None,
        }
    }

    /// The test this tape's token names as its origin (a 32-bit hash of
    /// the test's name), if any. Tokens without one (all `as1`/`as2` tokens
    /// made before origins existed) still parse.
    ///
    /// ```
    /// use asyncsim_sim::Tape;
    /// let mut tape = Tape::new();
    /// tape.set_origin(Some(0xfeed_beef));
    /// let token = tape.to_string();
    /// assert_eq!(token.split('.').count(), 4);
    /// assert_eq!(token.parse::<Tape>().unwrap().origin(), Some(0xfeed_beef));
    /// assert_eq!("as1..811c9dc5".parse::<Tape>().unwrap().origin(), None);
    /// ```
    pub fn origin(&self) -> Option<u32> {
        self.origin
    }

    /// Stamps (or clears) the origin written into the token.
    pub fn set_origin(&mut self, origin: Option<u32>) {
        self.origin = origin;
    }

    /// The origin a token recorded by the test (or program) `name` carries:
    /// a 32-bit FNV-1a hash of the name. The harness stamps its tokens with
    /// their test's, the tokio face its `block_on` runs' with their
    /// program's, so a token replayed elsewhere is recognised as such.
    ///
    /// ```
    /// use asyncsim_sim::Tape;
    /// assert_ne!(Tape::origin_for("bank::alice"), Tape::origin_for("bank::bob"));
    /// assert_eq!(Tape::origin_for(""), 0x811c_9dc5);
    /// ```
    pub fn origin_for(name: &str) -> u32 {
        name.bytes().fold(0x811c_9dc5u32, |hash, byte| {
            (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
        })
    }

    /// The draws, in order.
    ///
    /// On a long tape, whose older draws are packed, the first call unpacks
    /// the whole tape into a slice (24 bytes a draw) that the tape keeps;
    /// [`Tape::iter`] reads it without that.
    pub fn draws(&self) -> &[Draw] {
        match &self.packed {
            None => &self.draws,
            Some(packed) => packed.unpacked.get_or_init(|| self.iter().collect()),
        }
    }

    /// Every draw, in order, read where it is kept (packed or not).
    ///
    /// ```
    /// use asyncsim_sim::{Config, Sim, Strategy};
    ///
    /// let run = Sim::new(Config::new().seed(5).strategy(Strategy::Random)).run(async {
    ///     let a = asyncsim_sim::spawn(async { asyncsim_sim::yield_now().await });
    ///     let b = asyncsim_sim::spawn(async { asyncsim_sim::yield_now().await });
    ///     a.await.unwrap();
    ///     b.await.unwrap();
    /// });
    /// assert!(run.tape.iter().eq(run.tape.draws().iter().copied()));
    /// ```
    pub fn iter(&self) -> Draws<'_> {
        let chunks = self
            .packed
            .as_ref()
            .map_or(&[][..], |packed| &packed.chunks);
        Draws::new(chunks, &self.draws)
    }

    /// Mutable access for shrinkers and enumerators (a packed tape is
    /// unpacked first).
    pub fn draws_mut(&mut self) -> &mut Vec<Draw> {
        if let Some(mut packed) = self.packed.take() {
            // The unpacked copy, when `draws` made one, is the whole tape.
            let mut all = packed
                .unpacked
                .take()
                .unwrap_or_else(|| packed.iter().collect());
            all.truncate(packed.count);
            all.extend_from_slice(&self.draws);
            self.draws = all;
        }
        &mut self.draws
    }

    /// How many draws were made.
    pub fn len(&self) -> usize {
        self.draws.len() + self.packed.as_ref().map_or(0, |packed| packed.count)
    }

    /// True when no decision was drawn.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many draws took a non-canonical value: the distance from FIFO.
    pub fn deviations(&self) -> usize {
        self.iter().filter(|draw| draw.value != 0).count()
    }

    /// The draws up to and including the last nonzero one.
    pub fn significant(&self) -> &[Draw] {
        &self.draws()[..self.significant_len()]
    }

    /// How many draws [`Tape::significant`] holds.
    fn significant_len(&self) -> usize {
        if self.packed.is_none() {
            return self
                .draws
                .iter()
                .rposition(|draw| draw.value != 0)
                .map_or(0, |index| index + 1);
        }
        self.iter()
            .enumerate()
            .filter(|(_, draw)| draw.value != 0)
            .last()
            .map_or(0, |(index, _)| index + 1)
    }

    /// Drops trailing zero draws, which an exhausted tape makes anyway.
    pub fn trim(&mut self) {
        let keep = self.significant_len();
        let packed = self.packed.as_ref().map_or(0, |packed| packed.count);
        if keep >= packed {
            self.draws.truncate(keep - packed);
            if let Some(packed) = &mut self.packed {
                // The unpacked copy, if one was made, is now too long.
                packed.unpacked = OnceLock::new();
            }
        } else {
            self.draws_mut().truncate(keep);
        }
    }

    /// Gives back the spare capacity of the draws kept unpacked (a tape
    /// kept for later, like an `outcomes` witness's).
    pub fn shrink_to_fit(&mut self) {
        self.draws.shrink_to_fit();
    }

    /// Records a draw. The capacity test is `Vec::push`'s own, made first so
    /// that a full buffer can pack instead of growing past
    /// [`UNPACKED_DRAWS_MAX`]; the push after it then never grows.
    #[inline]
    pub(crate) fn push(&mut self, draw: Draw) {
        if self.draws.len() == self.draws.capacity() {
            self.make_room();
        }
        self.draws.push(draw);
    }

    /// The buffer is full: grow it (doubling, up to [`UNPACKED_DRAWS_MAX`]),
    /// or, that far, pack its draws and start it over.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        let length = self.draws.len();
        if length < UNPACKED_DRAWS_MAX {
            let wanted = (length * 2).clamp(16, UNPACKED_DRAWS_MAX);
            self.draws.reserve_exact(wanted - length);
            return;
        }
        let packed = self.packed.get_or_insert_with(Box::default);
        packed.pack(&self.draws);
        self.draws.clear();
    }

    pub(crate) fn clear(&mut self) {
        self.draws.clear();
        self.packed = None;
    }

    /// The bytes the unpacked draws' buffer holds.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.draws.capacity() * std::mem::size_of::<Draw>()
    }

    /// The draws kept unpacked, and whether older ones are packed before
    /// them (a replay reads those through [`Unpacker`]).
    pub(crate) fn newest(&self) -> (&[Draw], bool) {
        (&self.draws, self.packed.is_some())
    }
}

mod packed;
mod token;

pub use packed::{Draws, UNPACKED_DRAWS_MAX};
pub(crate) use packed::{Packed, Unpacker};
pub use token::TapeError;

#[cfg(test)]
mod tests {
    use super::token::{base64_decode, base64_encode};
    use super::*;

    fn draw(label: DrawLabel, value: u64) -> Draw {
        Draw {
            label,
            bound: value.wrapping_add(1),
            value,
        }
    }

    #[test]
    fn token_round_trips_mixed_draws() {
        let tape = Tape::from_draws(vec![
            draw(DrawLabel::Schedule, 0),
            draw(DrawLabel::Schedule, 0),
            draw(DrawLabel::Timer, 0),
            draw(DrawLabel::Schedule, 3),
            draw(DrawLabel::Random, u64::MAX),
            draw(DrawLabel::Pool, 1 << 60),
            draw(DrawLabel::Start, 1),
            draw(DrawLabel::Branch, 0),
            draw(DrawLabel::Branch, 5),
        ]);
        let parsed: Tape = tape.to_string().parse().unwrap();
        assert_eq!(parsed, tape);
        assert_eq!(parsed.len(), tape.len());
    }

    #[test]
    fn token_round_trips_every_label_and_keeps_older_labels_unescaped() {
        let draws: Vec<Draw> = DrawLabel::ALL
            .iter()
            .flat_map(|label| [draw(*label, 0), draw(*label, 9), draw(*label, 1 << 60)])
            .collect();
        let tape = Tape::from_draws(draws);
        let parsed: Tape = tape.to_string().parse().unwrap();
        assert_eq!(parsed, tape);
        // Labels below the escape take one header byte, as before labels
        // were added: a token made before then still reads the same.
        let pool = Tape::from_draws(vec![draw(DrawLabel::Pool, 5)]);
        assert_eq!(pool.encode_payload(), vec![(5 << 4) | (4 << 1)]);
        assert!(pool.to_string().starts_with("as1."));
        let disk = Tape::from_draws(vec![draw(DrawLabel::Disk, 5)]);
        assert_eq!(disk.encode_payload(), vec![(5 << 4) | (7 << 1), 1]);
        assert!(disk.to_string().starts_with("as2."));
    }

    #[test]
    fn token_of_empty_tape_round_trips() {
        let parsed: Tape = Tape::new().to_string().parse().unwrap();
        assert!(parsed.is_empty());
    }

    #[test]
    fn token_with_flipped_character_is_rejected() {
        let tape = Tape::from_draws(vec![draw(DrawLabel::Schedule, 5)]);
        let mut token = tape.to_string().into_bytes();
        token[4] = if token[4] == b'A' { b'B' } else { b'A' };
        let error = String::from_utf8(token)
            .unwrap()
            .parse::<Tape>()
            .unwrap_err();
        assert!(matches!(error, TapeError::Checksum { .. }), "{error}");
    }

    #[test]
    fn token_truncated_names_the_missing_part() {
        let error = "as1.AAAA".parse::<Tape>().unwrap_err();
        assert_eq!(error, TapeError::MissingPart("checksum"));
        assert!(error.to_string().contains("truncated"));
    }

    /// Draws of every shape the packing has a form for: runs with one
    /// bound, bounds that drift, big values, every label, `bound == 0`.
    fn long_draws(count: usize) -> Vec<Draw> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut bound = 2u64;
        (0..count)
            .map(|index| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match state % 100 {
                    0 => Draw {
                        label: DrawLabel::ALL[(state >> 8) as usize % DrawLabel::ALL.len()],
                        bound: 0,
                        value: state,
                    },
                    1..=3 => Draw {
                        label: DrawLabel::Random,
                        bound: 1 << 40,
                        value: state >> 30,
                    },
                    4..=20 => {
                        bound = (bound + (state >> 20) % 61).saturating_sub(30).max(2);
                        Draw {
                            label: DrawLabel::Schedule,
                            bound,
                            value: (state >> 8) % bound,
                        }
                    }
                    _ => Draw {
                        label: DrawLabel::Schedule,
                        bound,
                        value: (index as u64 ^ state) % bound,
                    },
                }
            })
            .collect()
    }

    fn recorded(draws: &[Draw]) -> Tape {
        let mut tape = Tape::with_capacity(0);
        for draw in draws {
            tape.push(*draw);
        }
        tape
    }

    #[test]
    fn a_long_tape_packs_its_draws_and_reads_them_back_exactly() {
        let draws = long_draws(3 * UNPACKED_DRAWS_MAX + 123);
        let tape = recorded(&draws);
        let packed = tape.packed.as_ref().expect("a long tape packs");
        assert_eq!(packed.count, 3 * UNPACKED_DRAWS_MAX);
        assert_eq!(tape.draws.len(), 123);
        assert!(tape.draws.capacity() <= UNPACKED_DRAWS_MAX);
        assert_eq!(tape.len(), draws.len());
        assert!(tape.iter().eq(draws.iter().copied()));
        assert_eq!(tape.draws(), &draws[..]);
        assert_eq!(
            tape.deviations(),
            draws.iter().filter(|d| d.value != 0).count()
        );
        // Equal to the same draws never packed, token and all.
        let plain = Tape::from_draws(draws.clone());
        assert_eq!(tape, plain);
        assert_eq!(tape.to_string(), plain.to_string());
        let mut unpacked = tape.clone();
        assert_eq!(unpacked.draws_mut(), &draws);
        assert!(unpacked.packed.is_none());
    }

    #[test]
    fn a_packed_tape_takes_about_a_byte_a_scheduling_draw() {
        // Two tasks, as in a long yield loop: one byte a draw.
        let draws: Vec<Draw> = (0..4 * UNPACKED_DRAWS_MAX as u64)
            .map(|index| draw(DrawLabel::Schedule, (index * 7 / 3) % 2))
            .map(|draw| Draw { bound: 2, ..draw })
            .collect();
        let tape = recorded(&draws);
        let packed = tape.packed.as_ref().unwrap();
        let bytes: usize = packed.chunks.iter().map(|chunk| chunk.len()).sum();
        // (The first draw says its bound: two bytes.)
        assert_eq!(bytes, packed.count + 1, "{packed:?}");
        // Many tasks, blocking and waking (the bound drifts by a few): at
        // most two.
        let mut bound = 50u64;
        let draws: Vec<Draw> = (0..2 * UNPACKED_DRAWS_MAX as u64)
            .map(|index| {
                let mixed = index.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
                if mixed % 5 == 0 {
                    bound = (bound + mixed % 5).saturating_sub(2).clamp(2, 200);
                }
                Draw {
                    label: DrawLabel::Schedule,
                    bound,
                    value: (mixed >> 8) % bound,
                }
            })
            .collect();
        let tape = recorded(&draws);
        let packed = tape.packed.as_ref().unwrap();
        let bytes: usize = packed.chunks.iter().map(|chunk| chunk.len()).sum();
        assert!(bytes < 2 * packed.count, "{packed:?}");
    }

    #[test]
    fn trimming_a_packed_tape_keeps_its_significant_draws() {
        let mut draws = long_draws(UNPACKED_DRAWS_MAX + 10);
        draws.extend((0..2 * UNPACKED_DRAWS_MAX).map(|_| Draw {
            label: DrawLabel::Schedule,
            bound: 3,
            value: 0,
        }));
        let mut tape = recorded(&draws);
        let significant = Tape::from_draws(draws.clone()).significant().len();
        assert!(tape.significant() == &draws[..significant]);
        tape.trim();
        assert_eq!(tape.len(), significant);
        assert!(tape.iter().eq(draws[..significant].iter().copied()));
        // A tape whose significant draws end inside the newest ones.
        let mut tape = recorded(&long_draws(2 * UNPACKED_DRAWS_MAX + 50));
        let before: Vec<Draw> = tape.iter().collect();
        let _ = tape.draws();
        tape.trim();
        assert_eq!(tape.draws(), &before[..tape.len()]);
    }

    #[test]
    fn an_unpacker_hands_out_a_packed_tape_window_by_window() {
        let draws = long_draws(2 * UNPACKED_DRAWS_MAX + 7);
        let tape = recorded(&draws);
        let mut unpacker = Unpacker::new(&tape);
        let mut window = Vec::new();
        let mut read = Vec::new();
        assert!(unpacker.rest().eq(draws.iter().copied()));
        while unpacker.next_window(&mut window) {
            assert!(!window.is_empty() && window.len() <= UNPACKED_DRAWS_MAX);
            read.extend_from_slice(&window);
            assert!(unpacker.rest().eq(draws[read.len()..].iter().copied()));
        }
        assert_eq!(read, draws);
        assert!(!unpacker.next_window(&mut window));
        // A tape that packed all it had: no empty last window.
        let tape = recorded(&draws[..UNPACKED_DRAWS_MAX + 1]);
        let mut unpacker = Unpacker::new(&tape);
        assert!(unpacker.next_window(&mut window) && window.len() == UNPACKED_DRAWS_MAX);
        assert!(unpacker.next_window(&mut window) && window.len() == 1);
        assert!(!unpacker.next_window(&mut window));
    }

    #[test]
    fn base64_round_trips_every_length() {
        for length in 0..20 {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        }
    }
}
