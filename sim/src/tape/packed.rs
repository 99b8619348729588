//! Long tapes, packed: the older draws of a tape past [`UNPACKED_DRAWS_MAX`],
//! a byte or two each, and the iterator and unpacker that read them.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::token::{push_varint, read_varint};
use super::{Draw, DrawLabel, Tape};

/// The most draws a tape keeps as [`Draw`]s (1.5 MiB of them): a run that
/// makes more packs them, this many at a time, a byte or two each. No
/// ordinary run comes near (100 tasks × 100 yields make 10,000).
pub const UNPACKED_DRAWS_MAX: usize = 1 << 16;

/// The older draws of a long tape, packed: chunks of bytes, one per
/// [`UNPACKED_DRAWS_MAX`] draws, shared between clones of the tape (a
/// replay holds its tape's chunks without copying them).
///
/// Each draw is written against the draw before it (`Previous`), whose
/// label and bound it usually shares: a scheduling draw's bound is the
/// number of runnable tasks, which changes by a few at most between steps.
///
/// | bytes | when | meaning |
/// |---|---|---|
/// | `0vvvvvvv` | same label and bound, value < 128 | value `v` |
/// | `10dddddd vvvvvvvv` | same label, bound within −32..31 of the last, value < 256 | bound + `d` (two's complement), value `v` |
/// | `11cccccc` varint varint | anything else | label code `c`, bound, value |
#[derive(Clone, Default)]
pub(crate) struct Packed {
    pub(super) chunks: Vec<Arc<[u8]>>,
    /// How many draws the chunks hold.
    pub(super) count: usize,
    /// The draw the next chunk's first draw is written against.
    pub(super) previous: Previous,
    /// The whole tape unpacked, made by the first [`Tape::draws`] (never
    /// while the tape is still recording: pushes happen only inside a run,
    /// and nothing reads the chooser's tape until the run is over).
    pub(super) unpacked: OnceLock<Vec<Draw>>,
}

impl fmt::Debug for Packed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: usize = self.chunks.iter().map(|chunk| chunk.len()).sum();
        f.debug_struct("Packed")
            .field("draws", &self.count)
            .field("bytes", &bytes)
            .finish()
    }
}

impl Packed {
    /// Packs `draws` into a new chunk.
    pub(super) fn pack(&mut self, draws: &[Draw]) {
        let mut bytes = Vec::with_capacity(draws.len() + draws.len() / 4);
        for draw in draws {
            self.previous.write(*draw, &mut bytes);
        }
        self.chunks.push(Arc::from(bytes));
        self.count += draws.len();
        self.unpacked = OnceLock::new();
    }

    /// The packed draws alone.
    pub(super) fn iter(&self) -> Draws<'_> {
        Draws::new(&self.chunks, &[])
    }
}

/// The label and bound of the draw last written or read: what the next
/// draw is written against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Previous {
    label: DrawLabel,
    bound: u64,
}

impl Default for Previous {
    fn default() -> Previous {
        Previous {
            label: DrawLabel::Schedule,
            bound: 0,
        }
    }
}

/// The one-byte form's flag (clear) and the two-byte form's (set, with the
/// next bit clear); both set is the full form.
pub(super) const PACKED_FULL: u8 = 0b1100_0000;
pub(super) const PACKED_NEAR: u8 = 0b1000_0000;

impl Previous {
    #[inline]
    pub(super) fn write(&mut self, draw: Draw, bytes: &mut Vec<u8>) {
        let delta = draw.bound.wrapping_sub(self.bound) as i64;
        if draw.label == self.label && delta == 0 && draw.value < 0x80 {
            bytes.push(draw.value as u8);
        } else if draw.label == self.label && (-32..32).contains(&delta) && draw.value < 0x100 {
            bytes.push(PACKED_NEAR | (delta as u8 & 0x3f));
            bytes.push(draw.value as u8);
        } else {
            bytes.push(PACKED_FULL | draw.label as u8);
            push_varint(bytes, draw.bound);
            push_varint(bytes, draw.value);
        }
        self.label = draw.label;
        self.bound = draw.bound;
    }

    /// Reads the draw at `position` in `bytes` (written by [`Previous::write`]).
    #[inline]
    pub(super) fn read(&mut self, bytes: &[u8], position: &mut usize) -> Draw {
        let first = bytes[*position];
        *position += 1;
        let (label, bound, value) = if first & PACKED_NEAR == 0 {
            (self.label, self.bound, u64::from(first))
        } else if first & PACKED_FULL == PACKED_NEAR {
            // Sign-extend the six bits of the delta.
            let delta = (((first & 0x3f) << 2) as i8 >> 2) as i64;
            let value = bytes[*position];
            *position += 1;
            (
                self.label,
                self.bound.wrapping_add(delta as u64),
                u64::from(value),
            )
        } else {
            let label = DrawLabel::from_code(u64::from(first & 0x3f))
                .expect("asyncsim bug: a packed tape names an unknown label");
            let bound =
                read_varint(bytes, position).expect("asyncsim bug: a packed tape is cut off");
            let value =
                read_varint(bytes, position).expect("asyncsim bug: a packed tape is cut off");
            (label, bound, value)
        };
        self.label = label;
        self.bound = bound;
        Draw {
            label,
            bound,
            value,
        }
    }
}

/// The draws of a tape, in order, read where they are kept: [`Tape::iter`].
#[derive(Clone, Debug)]
pub struct Draws<'a> {
    /// Packed chunks not yet read to their end; the first is being read.
    chunks: &'a [Arc<[u8]>],
    /// Where in the first chunk the next draw starts.
    position: usize,
    previous: Previous,
    /// The draws kept unpacked, read after the chunks.
    newest: std::slice::Iter<'a, Draw>,
}

impl<'a> Draws<'a> {
    pub(super) fn new(chunks: &'a [Arc<[u8]>], newest: &'a [Draw]) -> Draws<'a> {
        Draws {
            chunks,
            position: 0,
            previous: Previous::default(),
            newest: newest.iter(),
        }
    }
}

impl Iterator for Draws<'_> {
    type Item = Draw;

    #[inline]
    fn next(&mut self) -> Option<Draw> {
        while let Some(chunk) = self.chunks.first() {
            if self.position < chunk.len() {
                return Some(self.previous.read(chunk, &mut self.position));
            }
            self.chunks = &self.chunks[1..];
            self.position = 0;
        }
        self.newest.next().copied()
    }
}

/// A replay's reading of a long (packed) tape, one chunk at a time, so a
/// replay holds one chunk's draws unpacked, never the whole tape's.
#[derive(Clone, Debug)]
pub(crate) struct Unpacker {
    chunks: Vec<Arc<[u8]>>,
    /// The next chunk to unpack (`chunks.len()`: then the newest draws).
    next: usize,
    previous: Previous,
    newest: Vec<Draw>,
    /// True once the newest draws were handed out: nothing is left.
    done: bool,
}

impl Unpacker {
    /// Reads `tape` (packed or not) from its start.
    pub(crate) fn new(tape: &Tape) -> Unpacker {
        Unpacker {
            chunks: tape
                .packed
                .as_ref()
                .map_or_else(Vec::new, |packed| packed.chunks.clone()),
            next: 0,
            previous: Previous::default(),
            newest: tape.draws.clone(),
            done: false,
        }
    }

    /// Replaces `window` with the next stretch of draws (never empty); false
    /// when none is left.
    pub(crate) fn next_window(&mut self, window: &mut Vec<Draw>) -> bool {
        window.clear();
        if let Some(chunk) = self.chunks.get(self.next) {
            let mut position = 0;
            while position < chunk.len() {
                window.push(self.previous.read(chunk, &mut position));
            }
            self.next += 1;
            return true;
        }
        let left = !self.done && !self.newest.is_empty();
        self.done = true;
        window.extend_from_slice(if left { &self.newest } else { &[] });
        left
    }

    /// True when [`Unpacker::next_window`] has nothing more to hand out.
    pub(crate) fn finished(&self) -> bool {
        self.next == self.chunks.len() && (self.done || self.newest.is_empty())
    }

    /// The draws not yet handed out by [`Unpacker::next_window`].
    pub(crate) fn rest(&self) -> impl Iterator<Item = Draw> + '_ {
        let newest: &[Draw] = if self.done { &[] } else { &self.newest };
        Draws {
            chunks: &self.chunks[self.next..],
            position: 0,
            previous: self.previous,
            newest: newest.iter(),
        }
    }
}
