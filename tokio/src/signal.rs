//! `tokio::signal` in a simulated run: no signal ever arrives.
//!
//! A program that waits for ctrl-c to shut down waits forever here; if
//! nothing else can happen, the run reports a deadlock, which names the
//! waiting task.

use std::future::pending;
use std::io;

/// Completes when the process receives ctrl-c: in a simulated run, never.
pub async fn ctrl_c() -> io::Result<()> {
    pending().await
}

/// Unix signals: a stream that never yields.
#[cfg(unix)]
pub mod unix {
    use std::future::pending;
    use std::task::{Context, Poll};

    /// tokio's signal kinds, re-exported.
    #[cfg(feature = "signal")]
    pub use tokio::signal::unix::SignalKind;

    /// A stream of one kind of signal that never yields in a simulated run.
    #[derive(Debug)]
    pub struct Signal {
        _private: (),
    }

    /// Listens for a kind of signal (none ever arrives).
    #[cfg(feature = "signal")]
    pub fn signal(_kind: SignalKind) -> std::io::Result<Signal> {
        Ok(Signal { _private: () })
    }

    impl Signal {
        /// The next signal: never.
        pub async fn recv(&mut self) -> Option<()> {
            pending().await
        }

        /// Polls for the next signal: always pending.
        pub fn poll_recv(&mut self, _context: &mut Context<'_>) -> Poll<Option<()>> {
            Poll::Pending
        }
    }
}
