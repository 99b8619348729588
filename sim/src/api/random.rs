//! Seeded data nondeterminism: values drawn from the tape.
//!
//! A value from [`random`] or [`random_range`] is a draw like any scheduling
//! decision: recorded, replayed, and shrunk toward 0 (toward the start of the
//! range). Use it for anything a test would otherwise take from an OS random
//! source.
//!
//! ```
//! use asyncsim_sim::{Config, Sim, Strategy};
//!
//! let first = Sim::new(Config::new().seed(9)).run(async { asyncsim_sim::random_range(10..20u32) });
//! let again = Sim::new(Config::new().strategy(Strategy::Replay(first.tape.clone()))).run(async {
//!     asyncsim_sim::random_range(10..20u32)
//! });
//! assert_eq!(first.result.unwrap(), again.result.unwrap());
//! ```

use std::ops::{Range, RangeInclusive};

use crate::cx;
use crate::tape::DrawLabel;

/// Types [`random`] can produce.
pub trait Random: Sized {
    /// Builds a value from one draw.
    fn from_draw() -> Self;
}

fn draw_full(bits: u32) -> u64 {
    let bound = if bits >= 64 { 0 } else { 1u64 << bits };
    cx::draw(DrawLabel::Random, bound, "asyncsim::random")
}

macro_rules! random_int {
    ($($unsigned:ty => $signed:ty),*) => {$(
        impl Random for $unsigned {
            fn from_draw() -> $unsigned {
                draw_full(<$unsigned>::BITS) as $unsigned
            }
        }
        impl Random for $signed {
            fn from_draw() -> $signed {
                draw_full(<$signed>::BITS) as $unsigned as $signed
            }
        }
        impl RandomRange for Range<$unsigned> {
            type Output = $unsigned;
            #[track_caller]
            fn draw(self) -> $unsigned {
                assert!(self.start < self.end, "asyncsim::random_range: empty range");
                let span = (self.end - self.start) as u64;
                self.start + cx::draw(DrawLabel::Random, span, "asyncsim::random_range") as $unsigned
            }
        }
        impl RandomRange for RangeInclusive<$unsigned> {
            type Output = $unsigned;
            #[track_caller]
            fn draw(self) -> $unsigned {
                let (start, end) = self.into_inner();
                assert!(start <= end, "asyncsim::random_range: empty range");
                let span = ((end - start) as u64).wrapping_add(1);
                start + cx::draw(DrawLabel::Random, span, "asyncsim::random_range") as $unsigned
            }
        }
        impl RandomRange for Range<$signed> {
            type Output = $signed;
            #[track_caller]
            fn draw(self) -> $signed {
                assert!(self.start < self.end, "asyncsim::random_range: empty range");
                let span = self.end.wrapping_sub(self.start) as $unsigned as u64;
                self.start.wrapping_add(cx::draw(DrawLabel::Random, span, "asyncsim::random_range") as $signed)
            }
        }
        impl RandomRange for RangeInclusive<$signed> {
            type Output = $signed;
            #[track_caller]
            fn draw(self) -> $signed {
                let (start, end) = self.into_inner();
                assert!(start <= end, "asyncsim::random_range: empty range");
                let span = (end.wrapping_sub(start) as $unsigned as u64).wrapping_add(1);
                start.wrapping_add(cx::draw(DrawLabel::Random, span, "asyncsim::random_range") as $signed)
            }
        }
    )*};
}

random_int!(u8 => i8, u16 => i16, u32 => i32, u64 => i64, usize => isize);

impl Random for bool {
    fn from_draw() -> bool {
        cx::draw(DrawLabel::Random, 2, "asyncsim::random") == 1
    }
}

/// Ranges [`random_range`] accepts: `a..b` and `a..=b` of the integer types.
pub trait RandomRange {
    /// The element type.
    type Output;
    /// Draws one value in the range.
    fn draw(self) -> Self::Output;
}

/// A value of `T` drawn from the tape (0 / `false` on the canonical path).
///
/// ```
/// use asyncsim_sim::{Config, Sim, Strategy};
/// let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async { asyncsim_sim::random::<u32>() });
/// assert_eq!(run.result.unwrap(), 0);
/// ```
///
/// # Panics
///
/// Outside a run.
pub fn random<T: Random>() -> T {
    T::from_draw()
}

/// A value in `range`, drawn from the tape (the start of the range on the
/// canonical path).
///
/// # Panics
///
/// Outside a run, or when the range is empty (at the caller's line).
#[track_caller]
pub fn random_range<R: RandomRange>(range: R) -> R::Output {
    range.draw()
}
