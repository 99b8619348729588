//! `tokio::io` under `simulation`: tokio's own I/O traits and utilities
//! (runtime-agnostic), re-exported, except the standard streams. tokio's
//! `stdin`/`stdout`/`stderr` run each read or write on tokio's blocking
//! pool, which a simulated run does not have; here `stdout` and `stderr`
//! write through at once (the process's own streams, as tokio's do) and
//! `stdin` is refused with an error that names the alternative (a real
//! terminal's input is outside the run's control).
//!
//! ```
//! use asyncsim_tokio as tokio;
//! use tokio::io::AsyncWriteExt;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let mut out = tokio::io::stdout();
//!     out.write_all(b"written at once\n").await.unwrap();
//!     out.flush().await.unwrap();
//! });
//! ```

pub use tokio::io::*;

#[cfg(feature = "io-std")]
mod std_streams;
#[cfg(feature = "io-std")]
pub use std_streams::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
