//! The face's `runtime::Handle`, defined here, below `task/` and `runtime`,
//! so that `task::JoinSet::spawn_on` can name it (tokio's signature) without
//! an import circle; `runtime` re-exports it and holds its methods.

/// A handle to "the runtime": the current simulated run (and, for a
/// runtime's own handle, where its tasks spawned outside `block_on` wait).
#[derive(Clone, Debug)]
pub struct Handle {
    /// The runtime's held-back tasks (`None` for `Handle::current()`).
    pub(crate) held_back: Option<u64>,
    /// The runtime's id (`runtime::Id`).
    pub(crate) id: std::num::NonZeroU64,
    /// The runtime's name (`Builder::name`).
    pub(crate) name: Option<std::sync::Arc<str>>,
}
