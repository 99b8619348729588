//! [`NetConfig`]: how a link behaves (latency range, loss, duplication,
//! the TCP timeout and a lost segment's retransmission delay).

use std::time::Duration;

use crate::clock::duration_to_ns;

/// How a link behaves: latency range, loss and duplication rates, and how
/// long a stream waits for delivery before it breaks.
///
/// ```
/// use asyncsim_sim::net::NetConfig;
/// use std::time::Duration;
/// let lossy = NetConfig::new()
///     .latency(Duration::from_millis(1), Duration::from_millis(10))
///     .loss(0.01)
///     .duplicate(0.001)
///     .tcp_timeout(Duration::from_secs(5));
/// assert_eq!(lossy.loss_rate(), 0.01);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NetConfig {
    pub(super) latency_min_ns: u64,
    pub(super) latency_max_ns: u64,
    pub(super) loss: f64,
    pub(super) duplicate: f64,
    pub(super) tcp_timeout_ns: u64,
    pub(super) retransmit_ns: u64,
}

impl Default for NetConfig {
    fn default() -> NetConfig {
        NetConfig {
            latency_min_ns: 1_000_000,
            latency_max_ns: 5_000_000,
            loss: 0.0,
            duplicate: 0.0,
            tcp_timeout_ns: 30_000_000_000,
            retransmit_ns: 200_000_000,
        }
    }
}

impl NetConfig {
    /// The defaults: 1–5 ms latency, no loss, no duplication, a 30 s TCP
    /// timeout, 200 ms per retransmission of a lost segment.
    pub fn new() -> NetConfig {
        NetConfig::default()
    }

    /// Latency range of one message (`min == max`: fixed, no draw).
    ///
    /// # Panics
    ///
    /// When `min > max` (at the caller's line).
    #[track_caller]
    pub fn latency(mut self, min: Duration, max: Duration) -> NetConfig {
        assert!(
            min <= max,
            "NetConfig::latency: min ({min:?}) is more than max ({max:?})"
        );
        self.latency_min_ns = duration_to_ns(min);
        self.latency_max_ns = duration_to_ns(max);
        self
    }

    /// The probability that a message is lost (a datagram is dropped; a
    /// stream segment is retransmitted: delayed, never lost).
    #[track_caller]
    pub fn loss(mut self, probability: f64) -> NetConfig {
        self.loss = check_probability("loss", probability);
        self
    }

    /// The probability that a datagram is delivered twice.
    #[track_caller]
    pub fn duplicate(mut self, probability: f64) -> NetConfig {
        self.duplicate = check_probability("duplicate", probability);
        self
    }

    /// How long a stream or a connect waits for delivery (across a
    /// partition) before it fails with `TimedOut`: a stream's end whose
    /// bytes (or window probes) get no ack for this long gives up, as
    /// Linux's does after its retries (about 15 minutes with the default
    /// `net.ipv4.tcp_retries2`; 30 s here unless set), and its peer is not
    /// told. A connect across a partition fails after it too (Linux's
    /// gives up after about 127 s of SYN retransmissions: see
    /// `TcpStream::connect`).
    pub fn tcp_timeout(mut self, timeout: Duration) -> NetConfig {
        self.tcp_timeout_ns = duration_to_ns(timeout).max(1);
        self
    }

    /// The extra delay of a lost stream segment (its retransmission).
    pub fn retransmit(mut self, delay: Duration) -> NetConfig {
        self.retransmit_ns = duration_to_ns(delay);
        self
    }

    /// The loss probability.
    pub fn loss_rate(&self) -> f64 {
        self.loss
    }

    /// The duplication probability.
    pub fn duplicate_rate(&self) -> f64 {
        self.duplicate
    }

    /// The latency range.
    pub fn latency_range(&self) -> (Duration, Duration) {
        (
            Duration::from_nanos(self.latency_min_ns),
            Duration::from_nanos(self.latency_max_ns),
        )
    }

    /// The TCP timeout.
    pub fn tcp_timeout_duration(&self) -> Duration {
        Duration::from_nanos(self.tcp_timeout_ns)
    }
}

#[track_caller]
fn check_probability(what: &str, probability: f64) -> f64 {
    assert!(
        (0.0..=1.0).contains(&probability),
        "NetConfig::{what}: {probability} is not a probability in [0, 1]"
    );
    probability
}
