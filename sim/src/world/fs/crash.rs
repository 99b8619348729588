//! The crash model of a node's disk: which unsynced changes a crash keeps
//! (weighted `disk` draws: a prefix of the namespace's changes and of each
//! file's writes, a torn write's first sectors), and what it lost in words.

use super::*;

/// A weighted `disk` draw in `0..bound`: 0 (canonical) unless faults are
/// on and the draw says otherwise; a nonzero value is a fault of kind `op`.
pub(super) fn survivors(
    bound: usize,
    what: &str,
    op: FaultOp,
    describe: impl Fn(u64) -> String,
) -> usize {
    if bound <= 1 {
        return 0;
    }
    super::super::draw_fault(
        DrawLabel::Disk,
        bound as u64,
        UNSYNCED_SURVIVAL_PROBABILITY,
        what,
        op,
        describe,
    ) as usize
}

/// How many lost changes a crash's fault event names before "and N more".
pub(super) const LOST_NAMED_MAX: usize = 4;

/// What a crash lost, for its fault event: every unsynced change counted,
/// the first few lost ones named.
#[derive(Default)]
pub(super) struct Losses {
    pub(super) unsynced: usize,
    pub(super) lost: usize,
    pub(super) named: Vec<String>,
}

impl Losses {
    pub(super) fn lose(&mut self, describe: impl FnOnce() -> String) {
        self.lost += 1;
        if self.named.len() < LOST_NAMED_MAX {
            self.named.push(describe());
        }
    }

    /// "the crash of `db` lost 2 of 2 unsynced changes: create /wal, write
    /// 120 bytes to /wal"; `None` when it lost nothing.
    pub(super) fn words(&self, node: &str) -> Option<String> {
        if self.lost == 0 {
            return None;
        }
        let mut text = format!(
            "the crash of `{node}` lost {} of {} unsynced change{}: {}",
            self.lost,
            self.unsynced,
            if self.unsynced == 1 { "" } else { "s" },
            self.named.join(", ")
        );
        if self.lost > self.named.len() {
            text.push_str(&format!(" and {} more", self.lost - self.named.len()));
        }
        Some(text)
    }
}

/// A crash of node `node`: its disk keeps what the crash model keeps, and
/// what it lost (if anything) is a fault event in words.
pub(crate) fn crash(disk: &mut Disk, node: &str) {
    let mut losses = Losses::default();
    let meta = std::mem::take(&mut disk.pending_meta);
    let count = meta.len();
    let keep = survivors(
        count + 1,
        "asyncsim::fs crash: namespace changes kept",
        FaultOp::Kept,
        |kept| format!("the crash of `{node}` kept {kept} of {count} unsynced namespace changes"),
    );
    for op in meta.iter().take(keep) {
        op.apply(&mut disk.durable);
    }
    // The names as the node last saw them, for the lost changes' words.
    let names = std::mem::replace(&mut disk.current, disk.durable.clone());
    losses.unsynced += count;
    for op in meta.iter().skip(keep) {
        losses.lose(|| op.describe(&names));
    }
    for (number, inode) in disk.inodes.iter_mut().enumerate() {
        if inode.pending.is_empty() {
            continue;
        }
        let pending = std::mem::take(&mut inode.pending);
        let count = pending.len();
        let keep = survivors(
            count + 1,
            "asyncsim::fs crash: unsynced writes kept",
            FaultOp::Kept,
            |kept| {
                format!("the crash of `{node}` kept {kept} of {count} unsynced writes of file #{number}")
            },
        );
        for op in pending.iter().take(keep) {
            apply_write(&mut inode.durable, op);
            inode.durable_times.apply(op);
        }
        let mut torn = 0;
        if let Some(WriteOp::Write { offset, data, at }) = pending.get(keep) {
            let sectors = data.len().div_ceil(SECTOR_BYTES);
            torn = survivors(
                sectors,
                "asyncsim::fs crash: sectors of a torn write kept",
                FaultOp::Torn,
                |kept| {
                    format!("the crash of `{node}` tore a write of file #{number}: {kept} of {sectors} sectors kept")
                },
            );
            if torn > 0 {
                let part = WriteOp::Write {
                    offset: *offset,
                    data: data[..torn * SECTOR_BYTES].to_vec(),
                    at: *at,
                };
                apply_write(&mut inode.durable, &part);
                inode.durable_times.apply(&part);
            }
        }
        losses.unsynced += count;
        for (index, op) in pending.iter().enumerate().skip(keep) {
            losses.lose(|| {
                let words = op.describe(&names.file_path(number));
                if index == keep && torn > 0 {
                    format!("{words} (torn: {} bytes kept)", torn * SECTOR_BYTES)
                } else {
                    words
                }
            });
        }
        inode.current = inode.durable.clone();
        inode.times = inode.durable_times;
    }
    if let Some(words) = losses.words(node) {
        super::super::record_fault(FaultOp::CrashLost, words);
    }
}
