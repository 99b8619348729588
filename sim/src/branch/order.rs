//! The order in which one poll of `select!`/`join!`/`join_all` visits its
//! live branches, decoded from a `Branch` draw, and its words for traces.
//!
//! Pure data: it imports nothing of the engine, so the trace can render a
//! `BranchOrder` event with it while `branch` records that event.

use std::fmt::Write as _;

/// Up to this many live branches, a poll's order is any of their `n!`
/// orders (one draw of at most 120 options); with more, a drawn rotation.
pub const ORDERED_BRANCHES_MAX: usize = 5;

/// `n!` for `n <= ORDERED_BRANCHES_MAX`.
const FACTORIALS: [u64; ORDERED_BRANCHES_MAX + 1] = [1, 1, 2, 6, 24, 120];

/// The order in which one poll visits `count` live branches: positions
/// `0..count` (into the caller's list of live branches), each once.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    /// For a drawn permutation (`count <= ORDERED_BRANCHES_MAX`).
    permuted: [u8; ORDERED_BRANCHES_MAX],
    /// For a rotation: the first position.
    start: usize,
    count: usize,
    next: usize,
}

impl Order {
    /// Argument order.
    pub(crate) fn identity(count: usize) -> Order {
        Order {
            permuted: [0, 1, 2, 3, 4],
            start: 0,
            count,
            next: 0,
        }
    }

    /// The order a draw of `value` stands for: a Lehmer code over `count!`
    /// permutations (0 = argument order), or a rotation start.
    pub(crate) fn from_value(count: usize, value: u64) -> Order {
        let mut order = Order::identity(count);
        if count > ORDERED_BRANCHES_MAX {
            order.start = value as usize;
            return order;
        }
        let mut remaining: [u8; ORDERED_BRANCHES_MAX] = [0, 1, 2, 3, 4];
        let mut value = value;
        for slot in 0..count {
            let radix = FACTORIALS[count - 1 - slot];
            let pick = (value / radix) as usize;
            value %= radix;
            order.permuted[slot] = remaining[pick];
            // Remove the pick from the unused positions, keeping their order.
            remaining.copy_within(pick + 1..count - slot, pick);
        }
        order
    }

    /// How many options a draw over `count` live branches has.
    pub(crate) fn options(count: usize) -> u64 {
        if count > ORDERED_BRANCHES_MAX {
            count as u64
        } else {
            FACTORIALS[count]
        }
    }

    /// The words for this order: "polled branch 2 before branch 1", or the
    /// whole order, as 1-based argument positions.
    pub(crate) fn describe(&self, argument_position: impl Fn(usize) -> usize) -> String {
        if self.count > ORDERED_BRANCHES_MAX {
            return format!(
                "polled branch {} first, then on in argument order (wrapping around)",
                argument_position(self.start) + 1
            );
        }
        let positions: Vec<usize> = self
            .clone()
            .map(|position| argument_position(position) + 1)
            .collect();
        if let [first, second] = positions[..] {
            return format!("polled branch {first} before branch {second}");
        }
        let mut text = String::from("polled its branches in the order ");
        for (index, position) in positions.iter().enumerate() {
            if index > 0 {
                text.push_str(", ");
            }
            let _ = write!(text, "{position}");
        }
        text
    }
}

impl Iterator for Order {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.count {
            return None;
        }
        let slot = self.next;
        self.next += 1;
        Some(if self.count > ORDERED_BRANCHES_MAX {
            (self.start + slot) % self.count
        } else {
            usize::from(self.permuted[slot])
        })
    }
}

/// `EventKind::BranchOrder::live`: a bit per live argument position when
/// they are all below 31, else the high bit and the count.
pub(crate) fn live_bits(count: usize, position: impl Fn(usize) -> usize) -> u32 {
    const COUNT_ONLY: u32 = 1 << 31;
    let mut bits = 0;
    for live in 0..count {
        let argument = position(live);
        if argument >= 31 {
            return COUNT_ONLY | (count as u32 & !COUNT_ONLY);
        }
        bits |= 1 << argument;
    }
    bits
}

/// The trace's words for `EventKind::BranchOrder`.
pub(crate) fn describe_order(live: u32, value: u32) -> String {
    const COUNT_ONLY: u32 = 1 << 31;
    if live & COUNT_ONLY != 0 {
        let count = (live & !COUNT_ONLY) as usize;
        let order = Order::from_value(count, u64::from(value));
        return format!(
            "{} (numbering its {count} live branches)",
            order.describe(|live| live)
        );
    }
    let arguments: Vec<usize> = (0..31).filter(|bit| live & (1 << bit) != 0).collect();
    Order::from_value(arguments.len(), u64::from(value)).describe(|live| arguments[live])
}
