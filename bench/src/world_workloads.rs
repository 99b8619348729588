//! The world rows' workloads (issue #12): what each one measures and the
//! constants every tool's runner shares (`world.rs`: asyncsim, turmoil,
//! madsim; `world_face.rs`: the tokio face; `profile.rs`). The table's
//! description of each is in `world.rs`.

use std::time::Duration;

/// The latency range every tool is given for a message on a link. Within
/// it every tool's messages take the same time on average, (min + max) / 2:
/// asyncsim draws one of four evenly spaced values (Random draws them
/// evenly), madsim draws evenly from the range, and turmoil is given the
/// latency curve that makes its mean the same ([`turmoil_latency_curve`]).
/// turmoil's cost follows the simulated time (a tick a millisecond), so a
/// shorter mean would have it simulate less than the others do.
pub const LATENCY_MS: (u64, u64) = (1, 5);
/// Round trips of the sequential workloads.
pub const SEQUENTIAL: usize = 1000;
/// Clients of the fan-out workload, and round trips each.
pub const CLIENTS: usize = 100;
pub const ROUND_TRIPS_EACH: usize = 10;
/// The server's port.
pub const PORT: u16 = 7000;
/// The message: 8 bytes.
pub const MESSAGE: [u8; 8] = *b"ping1234";

/// The workloads, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    TcpSequential,
    TcpFanOut,
    UdpSequential,
    SmallSimulation,
}

pub const WORKLOADS: [Workload; 4] = [
    Workload::TcpSequential,
    Workload::TcpFanOut,
    Workload::UdpSequential,
    Workload::SmallSimulation,
];

impl Workload {
    /// The table's name.
    pub fn name(self) -> String {
        match self {
            Workload::TcpSequential => format!("tcp echo x{SEQUENTIAL}"),
            Workload::TcpFanOut => format!("tcp {CLIENTS} clients x {ROUND_TRIPS_EACH}"),
            Workload::UdpSequential => format!("udp echo x{SEQUENTIAL}"),
            Workload::SmallSimulation => "small simulation (2 nodes, 1 round trip)".to_string(),
        }
    }

    /// Round trips in one run.
    pub fn round_trips(self) -> usize {
        match self {
            Workload::TcpSequential | Workload::UdpSequential => SEQUENTIAL,
            Workload::TcpFanOut => CLIENTS * ROUND_TRIPS_EACH,
            Workload::SmallSimulation => 1,
        }
    }

    /// The `--only` key.
    pub fn key(self) -> &'static str {
        match self {
            Workload::TcpSequential => "tcp-seq",
            Workload::TcpFanOut => "tcp-fan",
            Workload::UdpSequential => "udp",
            Workload::SmallSimulation => "small-sim",
        }
    }
}

/// The runner name of the tokio face's rows (issue #13: at most 10 % over
/// `asyncsim::net`).
pub const FACE_RUNNER: &str = "asyncsim via the tokio face";

/// The mean latency of a message, in milliseconds, on every tool.
pub fn mean_latency_ms() -> f64 {
    (LATENCY_MS.0 + LATENCY_MS.1) as f64 / 2.0
}

/// The rate of turmoil's latency curve that gives its messages the mean
/// latency the other tools' have. turmoil 0.7 delays a message by
/// `min + floor(range_ms * x)` milliseconds (at most `max`), `x` drawn from
/// an exponential distribution of this rate (5 by default, which puts its
/// mean at 1.4 ms in a 1–5 ms range). That mean is
/// `min + sum over k = 1..=range_ms of exp(-rate * k / range_ms)`, which
/// falls as the rate grows: the rate is found by bisection.
#[cfg_attr(madsim, allow(dead_code))] // the madsim build races no turmoil
pub fn turmoil_latency_curve() -> f64 {
    let range = (LATENCY_MS.1 - LATENCY_MS.0) as f64;
    let mean = |rate: f64| {
        LATENCY_MS.0 as f64
            + (1..=LATENCY_MS.1 - LATENCY_MS.0)
                .map(|k| (-rate * k as f64 / range).exp())
                .sum::<f64>()
    };
    let (mut low, mut high) = (1e-9, 100.0);
    for _ in 0..100 {
        let middle = (low + high) / 2.0;
        if mean(middle) > mean_latency_ms() {
            low = middle;
        } else {
            high = middle;
        }
    }
    (low + high) / 2.0
}

pub fn latency() -> (Duration, Duration) {
    (
        Duration::from_millis(LATENCY_MS.0),
        Duration::from_millis(LATENCY_MS.1),
    )
}
