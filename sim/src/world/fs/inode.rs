//! A file of a node's disk: its bytes as operations see them and as a crash
//! would find them, its times, and the changes to either not yet synced
//! (`WriteOp`), each with its words for a crash's report.

/// A change of a file's contents or times, at `at` on the run's clock.
pub(super) enum WriteOp {
    Write {
        offset: u64,
        data: Vec<u8>,
        at: u64,
    },
    SetLen {
        len: u64,
        at: u64,
    },
    /// `File::set_times` (boxed: rare, and twice a write's size).
    SetTimes(Box<SetTimes>),
}

/// A file's or directory's times, in nanoseconds of the run's virtual clock
/// (`time::system_time` makes them `SystemTime`s; one set by `set_times`
/// may be before the run started: negative). Access times follow Linux's
/// `noatime` mount option: a reading never changes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Times {
    pub(super) modified: i128,
    pub(super) accessed: i128,
    pub(super) created: i128,
    /// When they last changed (Linux's ctime): a change made durable after
    /// a later one (by another sync) leaves them as the later one made them.
    pub(super) changed: u64,
}

impl Times {
    /// A file or directory made at `at`: every time is its birth.
    pub(super) fn born(at: u64) -> Times {
        let time = i128::from(at);
        Times {
            modified: time,
            accessed: time,
            created: time,
            changed: at,
        }
    }

    /// Its contents changed at `at` (a write, a length, an entry of a
    /// directory).
    pub(super) fn modify(&mut self, at: u64) {
        if at >= self.changed {
            self.modified = i128::from(at);
            self.changed = at;
        }
    }

    /// `set_times` at `set.at`.
    pub(super) fn set(&mut self, set: &SetTimes) {
        if set.at >= self.changed {
            if let Some(accessed) = set.accessed {
                self.accessed = accessed;
            }
            if let Some(modified) = set.modified {
                self.modified = modified;
            }
            self.changed = set.at;
        }
    }

    /// What `op` makes of them.
    pub(super) fn apply(&mut self, op: &WriteOp) {
        match op {
            WriteOp::Write { at, .. } | WriteOp::SetLen { at, .. } => self.modify(*at),
            WriteOp::SetTimes(set) => self.set(set),
        }
    }
}

/// What one `set_times` sets (`None`: left as it is), and when it was
/// called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SetTimes {
    pub(super) accessed: Option<i128>,
    pub(super) modified: Option<i128>,
    pub(super) at: u64,
}

#[derive(Default)]
pub(super) struct Inode {
    /// What reads see.
    pub(super) current: Vec<u8>,
    /// What a crash starts from.
    pub(super) durable: Vec<u8>,
    /// Changes since the last sync, in order.
    pub(super) pending: Vec<WriteOp>,
    /// The times `metadata` sees.
    pub(super) times: Times,
    /// The times a crash starts from: they travel with the bytes (a sync
    /// makes both durable, a crash keeps the times of the changes it kept).
    pub(super) durable_times: Times,
}

impl Inode {
    /// A new, empty file made at `at`.
    pub(super) fn born(at: u64) -> Inode {
        Inode {
            times: Times::born(at),
            durable_times: Times::born(at),
            ..Inode::default()
        }
    }
}

/// What `op` makes of a file's bytes.
pub(super) fn apply_write(buffer: &mut Vec<u8>, op: &WriteOp) {
    match op {
        WriteOp::Write { offset, data, .. } => {
            let start = *offset as usize;
            let end = start + data.len();
            if buffer.len() < end {
                buffer.resize(end, 0);
            }
            buffer[start..end].copy_from_slice(data);
        }
        WriteOp::SetLen { len, .. } => buffer.resize(*len as usize, 0),
        WriteOp::SetTimes(_) => {}
    }
}

impl WriteOp {
    pub(super) fn describe(&self, path: &str) -> String {
        match self {
            WriteOp::Write { data, .. } => format!(
                "write {} byte{} to {path}",
                data.len(),
                if data.len() == 1 { "" } else { "s" }
            ),
            WriteOp::SetLen { len, .. } => format!("set the length of {path} to {len}"),
            WriteOp::SetTimes(_) => format!("set the times of {path}"),
        }
    }
}
