//! # asyncsim-tokio: tokio's API, simulated
//!
//! Depend on this crate **under the name `tokio`** and code written against
//! tokio keeps compiling unchanged:
//!
//! ```toml
//! [dependencies]
//! tokio = { package = "asyncsim-tokio", version = "0.1", features = ["full"] }
//!
//! [dev-dependencies]
//! tokio = { package = "asyncsim-tokio", version = "0.1", features = ["full", "simulation"] }
//! ```
//!
//! Without the `simulation` feature every item is real tokio's, re-exported
//! unchanged (`cargo build` ships real tokio). With it (above: only when
//! tests are built) the runtime parts are asyncsim's:
//!
//! - `tokio::spawn` and [`task`] (`JoinHandle`, `JoinSet`, `AbortHandle`,
//!   `LocalSet`, `spawn_local`, `spawn_blocking` on the simulated pool,
//!   `yield_now`) are asyncsim tasks, scheduled by a seeded, replayable
//!   chooser;
//! - [`time`] is the virtual clock (`pause` is a no-op: time is always
//!   virtual, and it jumps when every task waits);
//! - `#[tokio::test]` checks the test over many schedules
//!   (`asyncsim::check`; the `ASYNCSIM_*` variables apply) and
//!   `#[tokio::main]` / [`runtime::Runtime::block_on`] make one simulated run;
//! - [`net`] and [`fs`] are the simulated network and the node's disk, with
//!   tokio's own `AsyncRead`/`AsyncWrite`;
//! - `select!`, `join!` and `try_join!` are asyncsim's: `select!` polls its
//!   branches in an order drawn from the tape;
//! - [`signal`]: `ctrl_c()` and `unix::signal` hear what the test sends to
//!   their node ([`signal::simulate::ctrl_c`]), and nothing else;
//! - `sync`, `io` and the other runtime-agnostic parts are tokio's own, so
//!   their types are the ones third-party crates expect, except
//!   [`sync::watch`] (tokio's wakes its waiting receivers in an order drawn
//!   by an OS-seeded generator: the face's wakes them in the order they
//!   began waiting), [`io::stdout`]/[`io::stderr`] (tokio runs them on its
//!   blocking pool: here they write through) and [`io::stdin`] (refused).
//!
//! What cannot be simulated (`process`, a real thread) fails with a
//! message that names the alternative, and a real tokio call inside a
//! simulated run (a dependency that still uses real tokio) fails with a
//! message that says how to switch it.
//!
//! ```
//! # #[cfg(feature = "simulation")] {
//! use asyncsim_tokio as tokio;
//! use std::time::Duration;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let took = runtime.block_on(async {
//!     let start = tokio::time::Instant::now();
//!     let mut set = tokio::task::JoinSet::new();
//!     for ms in [30u64, 10, 20] {
//!         set.spawn(async move {
//!             tokio::time::sleep(Duration::from_millis(ms)).await;
//!             ms
//!         });
//!     }
//!     let mut finished = Vec::new();
//!     while let Some(ms) = set.join_next().await {
//!         finished.push(ms.unwrap());
//!     }
//!     assert_eq!(finished, [10, 20, 30]); // in virtual time, shortest first
//!     start.elapsed()
//! });
//! assert_eq!(took, Duration::from_millis(30)); // the longest sleep, not the sum
//! # }
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

// ---------------------------------------------------------------------------
// Without `simulation`: real tokio, every item, unchanged (but `#[tokio::main]`
// takes the simulated attribute's `time_limit` too, and drops it).
// ---------------------------------------------------------------------------

#[cfg(not(feature = "simulation"))]
pub use tokio::*;

/// `#[tokio::main]`: real tokio's, which also takes (and drops) the
/// simulated attribute's `time_limit`, so `#[tokio::main(time_limit =
/// "2h")]` builds for real (`cargo build`) as well as simulated (`cargo
/// test`). Every other argument is tokio's to check.
#[cfg(all(not(feature = "simulation"), feature = "macros", feature = "rt"))]
pub use asyncsim_tokio_macros::real_main as main;

/// Real tokio's `#[tokio::main]`, which the one above expands to.
#[cfg(all(not(feature = "simulation"), feature = "macros", feature = "rt"))]
#[doc(hidden)]
pub use tokio::main as __real_main;

// ---------------------------------------------------------------------------
// With `simulation`: the runtime parts are asyncsim's, the rest is tokio's.
// ---------------------------------------------------------------------------

#[cfg(feature = "simulation")]
mod coop;
#[cfg(feature = "simulation")]
mod explain;
#[cfg(feature = "simulation")]
mod handle;
#[cfg(feature = "simulation")]
mod registry;

#[cfg(feature = "simulation")]
pub mod fs;
#[cfg(feature = "simulation")]
pub mod net;
#[cfg(feature = "simulation")]
pub mod process;
#[cfg(feature = "simulation")]
pub mod runtime;
#[cfg(feature = "simulation")]
pub mod signal;
#[cfg(feature = "simulation")]
pub mod task;
#[cfg(feature = "simulation")]
pub mod time;

#[cfg(feature = "simulation")]
pub use task::spawn;

/// The asyncsim this face runs on, for what tokio has no word for: the
/// world's nodes, the nemesis, faults, `always`/`sometimes`. A
/// `#[tokio::test]` starts a server node with
/// `tokio::asyncsim::node::Builder::new("server").start(|| async { … })`
/// and reaches it as `"server:port"` from `tokio::net`. It is the very
/// crate the run uses: no second dependency to keep at the same version.
#[cfg(feature = "simulation")]
pub use asyncsim;

#[cfg(feature = "simulation")]
pub mod io;

#[cfg(all(feature = "simulation", feature = "sync"))]
pub mod sync;

#[cfg(feature = "simulation")]
pub use tokio::pin;

/// tokio's `stream` module (empty in tokio: its stream utilities live in
/// `tokio-stream`), re-exported so the path exists.
#[cfg(feature = "simulation")]
pub use tokio::stream;

/// `select!` with its branch order drawn from the run's tape (asyncsim's
/// `select!`; `biased;` polls in argument order and draws nothing).
#[cfg(all(feature = "simulation", feature = "macros"))]
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => { $crate::__private::asyncsim::select!($($input)*) };
}

/// `join!`: every future to completion, polled in a drawn order; the outputs
/// in argument order.
#[cfg(all(feature = "simulation", feature = "macros"))]
#[macro_export]
macro_rules! join {
    ($($input:tt)*) => { $crate::__private::asyncsim::join!($($input)*) };
}

/// `try_join!`: like `join!`, returning the first error.
#[cfg(all(feature = "simulation", feature = "macros"))]
#[macro_export]
macro_rules! try_join {
    ($($input:tt)*) => { $crate::__private::asyncsim::try_join!($($input)*) };
}

#[cfg(all(feature = "simulation", feature = "rt"))]
pub use tokio::task_local;

/// `#[tokio::main]`: the function's body as one simulated run.
#[cfg(all(feature = "simulation", feature = "macros"))]
pub use asyncsim_tokio_macros::main;

/// `#[tokio::test]`: the test checked over many schedules.
#[cfg(all(feature = "simulation", feature = "macros"))]
pub use asyncsim_tokio_macros::test;

/// What the attribute macros expand to. Not public API.
#[cfg(feature = "simulation")]
#[doc(hidden)]
pub mod __private {
    pub use asyncsim;

    use std::future::Future;

    /// `#[tokio::test]`: `body` checked over the schedules `explore` says,
    /// with real-tokio panics explained; a failure panics at the test's
    /// attribute.
    #[track_caller]
    pub fn test<B, F>(explore: asyncsim::Explore, body: B)
    where
        B: Fn() -> F + Sync,
        F: Future,
        F::Output: asyncsim::harness::TestResult,
    {
        // Its reports say FIFO in tokio's words, not asyncio's.
        asyncsim::check(explore.__tokio_words(), || {
            crate::explain::Explained::new(body())
        });
    }

    /// The strategy text of `#[tokio::test(strategy = "…")]`, checked when
    /// the test compiled.
    pub fn search(text: &str) -> asyncsim::harness::Search {
        asyncsim::harness::parse_search(text)
            .unwrap_or_else(|error| panic!("#[tokio::test(strategy = {text:?})]: {error}"))
    }
}
