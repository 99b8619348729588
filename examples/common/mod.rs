//! The article's snippets, ported once and shared.
//!
//! Every example in `examples/` runs one of these programs and prints its
//! trace; `examples/article.rs` runs them all over many schedules; and the
//! tests in `tests/article_*.rs` state the article's claims about them as
//! properties. Keeping one copy means the examples show exactly the code the
//! tests check.
//!
//! The article's `print` is [`asyncsim::trace::mark`], `asyncio.sleep` is
//! [`asyncsim::time::sleep`], `time.sleep` is [`asyncsim::blocking::sleep`],
//! `create_task` is [`asyncsim::spawn`] (named through `task::Builder` so
//! traces read well) and `run_in_executor(None, f)` is
//! [`asyncsim::spawn_blocking`].

#![allow(dead_code)]

pub mod concurrent;
pub mod demo;
pub mod snippets;
pub mod support;
