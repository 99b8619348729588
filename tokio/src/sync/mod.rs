//! `tokio::sync` under `simulation`: tokio's own primitives (they need no
//! runtime of tokio's, and their types are the ones third-party crates
//! take), re-exported, except [`watch`], which is the face's own.
//!
//! tokio's `watch` parks each waiting receiver on one of eight `Notify`s
//! picked by tokio's thread-local generator, which is seeded from the OS:
//! with two receivers waiting, a `send` woke them in an order no seed
//! decides, so a run could not be replayed. The face's `watch` has tokio's
//! API and semantics and wakes its waiters in the order they began waiting.

pub use tokio::sync::*;

pub mod watch;
