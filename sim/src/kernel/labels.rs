//! The run's interned labels (mark texts, fault words, socket names): a
//! text's id in the trace's label table, found again by a fast hash of the
//! text (`trace::label_key`). The table keeps the only copy of each text; the index keeps ids.
//! Only looked up, never iterated: its order decides nothing.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::trace::{label_key, LabelText, Trace};

/// Interned label ids by the hash of their text.
#[derive(Default)]
pub(super) struct LabelIds {
    /// The first text seen with each hash.
    first: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    /// Texts whose hash a different text had first (a 64-bit collision:
    /// kept apart so that interning stays exact).
    collided: Vec<u32>,
}

impl LabelIds {
    pub(super) fn clear(&mut self) {
        self.first.clear();
        self.collided.clear();
    }

    /// The id of `text` in `trace`'s labels, added there (moved if owned, else
    /// copied into a kept buffer) when no earlier interned label has that
    /// text.
    pub(super) fn intern(&mut self, trace: &mut Trace, text: impl LabelText) -> u32 {
        let key = label_key(text.as_ref());
        self.intern_keyed(trace, text, key)
    }

    /// [`LabelIds::intern`] with the text's key ([`label_key`]) known.
    #[inline(always)]
    pub(super) fn intern_keyed(
        &mut self,
        trace: &mut Trace,
        text: impl LabelText,
        key: u64,
    ) -> u32 {
        let labels = trace.labels();
        let id = trace.label_count();
        // One probe of the map: the entry, found or made.
        match self.first.entry(key) {
            Entry::Vacant(vacant) => {
                vacant.insert(id);
            }
            Entry::Occupied(known) if labels[*known.get() as usize] == text.as_ref() => {
                return *known.get();
            }
            Entry::Occupied(_) => {
                let found = self
                    .collided
                    .iter()
                    .find(|&&known| labels[known as usize] == text.as_ref());
                if let Some(&known) = found {
                    return known;
                }
                self.collided.push(id);
            }
        }
        trace.push_label(text)
    }
}

/// The map's hasher: its keys are hashes already.
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_an_id_and_others_get_the_next() {
        let mut ids = LabelIds::default();
        let mut trace = Trace::default();
        trace.push_label("added without interning");
        assert_eq!(ids.intern(&mut trace, "a"), 1);
        assert_eq!(ids.intern(&mut trace, "b".to_string()), 2);
        assert_eq!(ids.intern(&mut trace, "a".to_string()), 1);
        // A text added to the table without interning is not found.
        assert_eq!(ids.intern(&mut trace, "added without interning"), 3);
        assert_eq!(
            trace.labels(),
            [
                "added without interning",
                "a",
                "b",
                "added without interning"
            ]
        );
        ids.clear();
        trace.reset();
        assert_eq!(ids.intern(&mut trace, "b"), 0);
    }

    #[test]
    fn a_hash_collision_keeps_the_texts_apart() {
        let mut ids = LabelIds::default();
        let mut trace = Trace::default();
        assert_eq!(ids.intern(&mut trace, "first"), 0);
        // Forge a collision: "second" found under "first"'s hash.
        let key = label_key("second");
        ids.first.insert(key, 0);
        assert_eq!(ids.intern(&mut trace, "second"), 1);
        assert_eq!(ids.intern(&mut trace, "second"), 1);
        assert_eq!(ids.intern(&mut trace, "first"), 0);
        assert_eq!(trace.labels(), ["first", "second"]);
    }

    #[test]
    fn texts_of_every_length_hash_apart() {
        let texts: Vec<String> = (0..40).map(|n| "x".repeat(n)).collect();
        let mut hashes: Vec<u64> = texts.iter().map(|text| label_key(text)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), texts.len());
        assert_ne!(
            label_key("TcpListener (server:7000)"),
            label_key("TcpListener (server:7001)")
        );
    }
}
