//! Sync primitives as the run knows them, for reports: their kind and,
//! for mutex-like ones, who holds them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::trace::{ResourceKind, TaskId};

/// A scheduler-aware resource (a sync primitive), for reports.
pub(super) struct ResourceInfo {
    pub(super) kind: ResourceKind,
    pub(super) holder: Option<Arc<HolderCell>>,
}

/// A mutex-like resource's holder, shared between the primitive, which
/// keeps it up to date (a store, no call into the engine), and the run,
/// which reads it only when a report renders a wait on the resource.
///
/// An atomic only so that the primitive stays `Send`: it is written and
/// read on the run's thread alone, so `Relaxed` is enough.
#[derive(Debug)]
pub(crate) struct HolderCell(AtomicU32);

impl HolderCell {
    /// No task (task ids stay far below it: `TASKS_HARD_LIMIT`).
    const NONE: u32 = u32::MAX;

    pub(crate) fn new(holder: Option<TaskId>) -> HolderCell {
        HolderCell(AtomicU32::new(HolderCell::encode(holder)))
    }

    #[inline]
    pub(crate) fn set(&self, holder: Option<TaskId>) {
        self.0.store(HolderCell::encode(holder), Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> Option<TaskId> {
        match self.0.load(Ordering::Relaxed) {
            HolderCell::NONE => None,
            task => Some(TaskId(task)),
        }
    }

    #[inline]
    pub(super) fn encode(holder: Option<TaskId>) -> u32 {
        holder.map_or(HolderCell::NONE, |task| task.0)
    }
}

impl ResourceInfo {
    /// Who holds the resource now, if it is mutex-like and shared its
    /// holder.
    pub(super) fn held(&self) -> Option<TaskId> {
        self.holder.as_ref().and_then(|holder| holder.get())
    }
}
