//! # asyncsim
//!
//! Deterministic simulation testing for async Rust: a single-threaded
//! executor with a virtual clock, a seeded scheduler that chooses every
//! interleaving, and a harness that explores schedules, shrinks failures
//! toward asyncio's own FIFO order and replays them from one token.
//!
//! This crate is the one to depend on. It re-exports the engine ([`Sim`],
//! [`spawn`], [`time`], [`sync`], [`gather`], …) at the top level and the
//! harness as [`harness`] (documented here in full: [`harness::schedules`],
//! [`harness::run_schedule`], [`harness::assert_trace_snapshot!`], …), with
//! its entry points ([`check`], [`explore`], [`find`], [`outcomes`],
//! [`Explore`]) and the [`test`] attribute at the top level too.
//!
//! ```
//! use asyncsim::{Explore, Strategy};
//!
//! // For every schedule, gather returns results in argument order.
//! asyncsim::check(Explore::new().runs(200).strategy(Strategy::Pct { depth: 2 }), || async {
//!     let naps = [3u64, 1, 2].map(|ms| async move {
//!         asyncsim::time::sleep(std::time::Duration::from_millis(ms)).await;
//!         ms
//!     });
//!     assert_eq!(asyncsim::gather(naps).await, [3, 1, 2]);
//! });
//! ```
//!
//! The README is a guided tour of the three jobs (property tests over
//! schedules, reproducing a failure, snapshots and timelines); its examples
//! run as this crate's doctests.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The harness: exploring schedules, shrinking, replay tokens, proptest
/// strategies of schedules, trace snapshots and timelines.
#[doc(inline)]
pub use asyncsim_harness as harness;
pub use asyncsim_sim::*;

pub use asyncsim_harness::{
    check, explore, find, outcomes, Counterexample, Explore, Outcomes, Summary, TraceExt, Witness,
};

/// One import for a test file: `use asyncsim::prelude::*;` brings the
/// builder types, the entry points and the trace renderers' methods
/// (`trace.timeline(80)`, `trace.to_chrome_json()`, `trace.to_svg()`,
/// `trace.to_html()`).
///
/// ```
/// use asyncsim::prelude::*;
///
/// let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
///     asyncsim::spawn(async { asyncsim::trace::mark("speak") }).await.unwrap();
/// });
/// assert!(run.trace.timeline(40).contains("task-1"));
/// assert!(run.trace.to_html().contains("<svg"));
/// check(Explore::new().runs(10).persist(false), || async {});
/// ```
pub mod prelude {
    pub use asyncsim_harness::TraceExt;
    pub use asyncsim_harness::{check, explore, find, outcomes, Explore};
    pub use asyncsim_sim::{Config, Sim, Strategy, Tape};
}
/// `#[asyncsim::test]`: an `async fn` test checked over many schedules.
pub use asyncsim_macros::test;

/// The README's examples, compiled and run as doctests so the front page
/// never lies.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
