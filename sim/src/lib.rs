//! The asyncsim engine: a deterministic, single-threaded executor with a
//! virtual clock and a seeded scheduler.
//!
//! A run is a pure function of (program, strategy, seed or tape). Every
//! decision — which runnable task is polled next, which of several timers due
//! at the same instant fires first, a random value — is one bounded draw on
//! a [`Tape`], where 0 is always asyncio's own choice. Record the tape and you
//! can replay the run exactly; shrink it toward zeros and you move toward
//! plain FIFO.
//!
//! # A first run
//!
//! ```
//! use asyncsim_sim::{trace, Config, Sim, Strategy};
//! use std::time::Duration;
//!
//! let run = Sim::new(Config::new().seed(7).strategy(Strategy::Random)).run(async {
//!     let speaker = asyncsim_sim::spawn(async {
//!         trace::mark("speak");
//!         42
//!     });
//!     asyncsim_sim::time::sleep(Duration::from_secs(1)).await;
//!     speaker.await.unwrap()
//! });
//! assert_eq!(run.elapsed(), Duration::from_secs(1)); // virtual: the test took microseconds
//! assert_eq!(run.result.unwrap(), 42);
//!
//! // The tape replays this run exactly.
//! let replay = Sim::new(Config::new().strategy(Strategy::Replay(run.tape.clone()))).run(async {
//!     let speaker = asyncsim_sim::spawn(async {
//!         trace::mark("speak");
//!         42
//!     });
//!     asyncsim_sim::time::sleep(Duration::from_secs(1)).await;
//!     speaker.await.unwrap()
//! });
//! assert_eq!(replay.trace, run.trace);
//! ```
//!
//! # Lazy futures
//!
//! A future that is never awaited (or spawned) never runs, like a coroutine
//! object in Python that nobody awaits:
//!
//! ```
//! use asyncsim_sim::{trace, Config, Sim};
//! let run = Sim::new(Config::new()).run(async {
//!     let _never = async { trace::mark("never printed") };
//! });
//! assert_eq!(run.trace.marks().count(), 0);
//! ```
//!
//! And a future, once awaited, is consumed: awaiting it again does not
//! compile (Python raises at run time).
//!
//! ```compile_fail
//! # asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
//! let speak = async { 1 };
//! speak.await;
//! speak.await; // error[E0382]: use of moved value
//! # });
//! ```
//!
//! # Failures are values
//!
//! A panic, a deadlock, a step or time limit end the run with a
//! [`Failure`] in `run.result`, never a hang or a crash of the test binary.

// Unsafe code lives in one module, `raw` (allocation-free wakers, the
// thread's current core, futures pinned in their task's allocation), each
// use argued there; it imports nothing of the engine and exports only safe
// functions, so the rest of the crate has no `unsafe` at all. See
// ARCHITECTURE.md.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod api;
pub mod branch;
mod clock;
mod config;
mod cx;
mod failure;
mod kernel;
mod pool;
mod raw;
mod recycle;
mod sched;
pub mod tape;
#[cfg(test)]
mod tests;
pub mod trace;
mod variables;
mod waker_site;
mod watchdog;
mod world;

/// The link configuration `Config::net` takes, beside `Config` (also at
/// `net::NetConfig`).
pub use world::net::NetConfig;
#[doc(hidden)]
pub use world::take_sometimes_counts;
pub use world::{always, fault, fs, net, node, sometimes, sometimes_so_far};

pub use api::{blocking, combinators, random, sync, task, time};
pub use blocking::spawn_blocking;
pub use branch::{explore_polls, join_all, select};
pub use clock::duration_to_ns;
pub use combinators::{
    as_completed, as_completed_with, gather, gather_results, gather_with, race, try_gather, wait,
    wait_results, wait_timeout, AsCompleted, Outcome, ReturnWhen, StartOrder, WaitResult,
    WaitResults,
};
pub use config::{Config, DEFAULT_POOL_SIZE, DEFAULT_TIME_LIMIT};
#[doc(hidden)]
pub use failure::PROGRAM_CHANGED;
pub use failure::{BlockedTask, Failure, FailureKind};
#[doc(hidden)]
pub use kernel::RunOutcome;
pub use kernel::{Deviation, Run, Sim, SlowPoll};
pub use random::{random, random_range};
pub use sched::{Strategy, PCT_SPIN_POLLS};
pub use tape::{Draw, DrawLabel, Tape, TapeError};
pub use task::{spawn, yield_now, JoinError, JoinHandle};
pub use trace::{Event, EventKind, TaskId, Trace, TraceMode};
#[doc(hidden)]
pub use variables::quoted_cut as __quoted_cut;
