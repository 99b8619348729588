//! The world rows' workloads (issue #12): what each one measures and the
//! constants every tool's runner shares (`world.rs`: asyncsim, turmoil,
//! madsim; `world_face.rs`: the tokio face; `profile.rs`). The table's
//! description of each is in `world.rs`.

use std::time::Duration;

/// The latency range every tool is given for a message on a link.
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

pub fn latency() -> (Duration, Duration) {
    (
        Duration::from_millis(LATENCY_MS.0),
        Duration::from_millis(LATENCY_MS.1),
    )
}
