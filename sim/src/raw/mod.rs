//! The engine's unsafe code, in one place, with the argument for each use.
//! It imports nothing of the engine: each piece is generic over what the
//! engine puts in it, so its soundness can be read here alone.
//!
//! The crate denies `unsafe_code`; this module allows it. Each piece is here
//! because a measured speed-up needed it (BENCHMARKS.md, "Third engine
//! pass": together they took a 100×100 step from 67 to 35 ns; a safe variant
//! of the task cell, cloning the `Rc` around every poll or a `RefCell`
//! around the future, measured 44–46 ns; the kernel now moves the task's
//! one owner out of its slot and back around every poll, which costs about
//! what the raw pointer it replaced did: BENCHMARKS.md, "A/B of the engine
//! before and after this session"):
//!
//! - [`IntegerWakers`] (`waker.rs`): a waker that is an integer in the
//!   waker's data word — no allocation, no reference count, no memory shared
//!   between threads;
//! - [`run_as_current`], [`with_current`] (`current.rs`): the thread's
//!   running core as a raw pointer in a `Cell`, read on every wake, set only
//!   for the duration of a closure that owns the core;
//! - [`TaskOwner`], [`NewTask`], [`new_job`] (`task.rs`): a spawned task's
//!   future, pinned inside the task's allocation and polled there (one
//!   allocation per task), through the one owner the engine holds;
//! - [`TaskRc`] (`task_rc.rs`): that allocation, counted like an `Rc` (no
//!   weak counts), its pointer the value's own address (against
//!   `std::rc::Rc`, 5 % of the bench's `check` row and 7 % of a 10×10 run,
//!   measured for #15's finding 8), its block from the thread's cache of
//!   freed blocks (a run's cells are the next run's: 4 % of a 10×10 run and
//!   of the `check` row, in a process with the hang watchdog's thread);
//! - [`ThreadBound`] (`thread_bound.rs`): a `!Send` value made `Send` by
//!   being reachable only on its thread (leaked if dropped elsewhere): the
//!   tokio face's handles, without a thread-local table (#13);
//! - `chacha`: the AVX2 batch of ChaCha8 blocks (called only after
//!   `is_x86_feature_detected!("avx2")`; 5 % of the `check` row, measured
//!   for the same finding).
//!
//! Every function this module exports is safe: what callers must uphold is
//! carried by types (a task has one owner, polled through `&mut`; the core
//! is current only inside the closure that owns it), not by comments at the
//! call sites.

#![allow(unsafe_code)]

pub(crate) mod chacha;
mod current;
mod task;
mod task_rc;
mod thread_bound;
mod waker;

pub(crate) use current::{is_current, run_as_current, with_current, CurrentCell};
pub(crate) use task::{new_job, Completes, JobCell, NewTask, TaskCell, TaskOwner, Upcast};
pub(crate) use task_rc::TaskRc;
pub use thread_bound::ThreadBound;
pub(crate) use waker::{IntegerWakers, WakeInteger};
