//! asyncsim exploration: run a test body over many schedules, find and
//! shrink failures, replay them, and ask questions of the schedule space.
//!
//! ```
//! use asyncsim::{check, explore, Explore};
//! use std::cell::Cell;
//! use std::rc::Rc;
//!
//! // Every schedule must pass.
//! check(Explore::new().runs(200).persist(false), || async {
//!     let a = asyncsim::spawn(async { 20 });
//!     let b = asyncsim::spawn(async { 22 });
//!     assert_eq!(a.await.unwrap() + b.await.unwrap(), 42);
//! });
//!
//! // A lost update across an `await`: found, shrunk to one deviation.
//! let summary = explore(Explore::new().runs(200), || async {
//!     let counter = Rc::new(Cell::new(0));
//!     let writers: Vec<_> = (0..2)
//!         .map(|_| {
//!             let counter = counter.clone();
//!             asyncsim::spawn(async move {
//!                 let read = counter.get();
//!                 asyncsim::yield_now().await;
//!                 counter.set(read + 1);
//!             })
//!         })
//!         .collect();
//!     for writer in writers {
//!         writer.await.unwrap();
//!     }
//!     assert_eq!(counter.get(), 2);
//! });
//! let failure = summary.first_failure.unwrap();
//! // `failure.to_string()` is the report; `failure.tape` replays it.
//! assert!(failure.to_string().contains("ASYNCSIM_REPLAY="));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod classify;
mod counterexample;
mod determinism;
mod drive;
mod exhaustive;
mod explore;
mod persist;
mod progress;
mod reproduce;
mod rerun;
mod run_to_completion;
mod runner;
mod schedule;
mod schedule_text;
mod schedules;
mod setup;
mod shrink;
mod snapshot;
mod summary;
mod test_result;
mod workers;

pub mod diff;
pub mod render;
pub mod shard_summary;
pub mod trace_file;

pub use asyncsim_sim as sim;
pub use counterexample::{Counterexample, Origin, Shrinking};
pub use exhaustive::ENUMERABLE_BOUND_MAX;
pub use explore::{parse_search, Explore, Search, DEFAULT_RUNS, DEFAULT_SHRINK_RUNS};
pub use render::TraceExt;
pub use runner::{check, explore, find, outcomes, run_schedule};
pub use schedule::Schedule;
pub use schedules::{schedules, schedules_of_length};
#[allow(deprecated)]
pub use summary::Outcome;
pub use summary::{DistinctValue, Outcomes, Summary, Witness};
pub use test_result::TestResult;

#[doc(hidden)]
pub use insta;
// The tokio face's `block_on` report and replay reader: a long token
// written to a file and named by it, and `ASYNCSIM_REPLAY=<that file>` read.
#[doc(hidden)]
pub use persist::replay_token as __replay_token;
#[doc(hidden)]
pub use rerun::ShownToken as __ShownToken;
#[doc(hidden)]
pub use snapshot::trace_snapshot_text as __trace_snapshot_text;
