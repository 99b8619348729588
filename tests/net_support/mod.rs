//! Links with a fixed latency, shared by the net trace tests.

use std::time::Duration;

use asyncsim::net::NetConfig;

/// A millisecond, in the trace's nanoseconds.
pub const MS: u64 = 1_000_000;

/// A link whose every message takes exactly `ms` milliseconds.
pub fn fixed(ms: u64) -> NetConfig {
    NetConfig::new().latency(Duration::from_millis(ms), Duration::from_millis(ms))
}
