//! The world rows (issue #12): what a simulated network costs, asyncsim's
//! `net` beside turmoil and madsim, each on its own API, on the same
//! workloads with the same latency range.
//!
//! - `tcp echo x1000`: one client connects to an echo server on another node
//!   and makes 1,000 round trips of an 8-byte message, one after another;
//! - `tcp 100 clients x 10`: 100 client tasks on one node each connect and
//!   make 10 round trips, all at once (the server runs a task per
//!   connection);
//! - `udp echo x1000`: 1,000 sequential datagram round trips;
//! - `small simulation`: a whole run per iteration: two nodes, a connection,
//!   one round trip.
//!
//! Every run is a simulation of its own with its own seed. asyncsim has two
//! rows: `new Sim/run` makes a new `Sim` for each run and records its full
//! trace (as a test calling `Sim::run` once would); `as check explores`
//! runs every run in one `Sim` with a hash-only trace, set up as the
//! harness's `check` sets up each schedule (`harness/src/drive`). The client waits 1 ms
//! of virtual time before connecting, so the server is listening on every
//! tool. madsim replaces libc's `clock_gettime` and `getrandom` when built
//! with `--cfg madsim` (which it needs to simulate anything), and that would
//! slow every other row's clock reads, so its rows come from a second build
//! of the bench, with `RUSTFLAGS="--cfg madsim"` in its own target directory
//! (`bench/rerun.sh` makes it); that build runs only the world rows.

use std::time::Duration;

use crate::timing::{race, Row, Slicer};

/// The workloads and what they share live in `world_workloads.rs` (the
/// tokio face's runner uses them too); their names stay reachable here.
pub use crate::world_workloads::*;

/// Runs the world rows this build can run: asyncsim's and turmoil's in an
/// ordinary build, asyncsim's and madsim's in a `--cfg madsim` build.
/// `only` keeps workloads by key (`world` keeps them all).
pub fn run(budget: Duration, only: &[String]) -> Vec<Row> {
    let wanted = |workload: Workload| {
        only.is_empty()
            || only
                .iter()
                .any(|key| key == "world" || key == workload.key())
    };
    let mut rows = Vec::new();
    for workload in WORKLOADS.into_iter().filter(|w| wanted(*w)) {
        let mut runners: Vec<(&'static str, Slicer<'_>)> = vec![
            (NEW_SIM_RUNNER, asyncsim_side::runner(workload)),
            (AS_CHECK_RUNNER, asyncsim_side::runner_as_check(workload)),
        ];
        // The face's rows once, in the ordinary build (the madsim build only
        // adds madsim's).
        #[cfg(not(madsim))]
        runners.push((FACE_RUNNER, crate::world_face::runner(workload)));
        #[cfg(not(madsim))]
        runners.push(("turmoil", turmoil_side::runner(workload)));
        #[cfg(madsim)]
        runners.push(("madsim", madsim_side::runner(workload)));
        for (runner, (runs, seconds)) in race(budget, runners) {
            let row = Row {
                workload: workload.name(),
                runner: runner.to_string(),
                runs,
                seconds,
                steps_per_run: workload.round_trips() as f64,
            };
            crate::progress!(
                "  {:<40} {:<10} {:>12.1} us/run {:>9.2} us/round trip",
                row.workload,
                row.runner,
                row.us_per_run(),
                row.ns_per_step() / 1e3
            );
            rows.push(row);
        }
    }
    rows
}

/// How long a run of a workload lasts in simulated time on one tool: the
/// mean over [`SIMULATED_SEEDS`] seeds, measured apart from the timed runs.
/// The tools must simulate the same thing, and turmoil's cost follows the
/// simulated time, so the table shows it beside each row.
pub struct Simulated {
    pub workload: String,
    pub runner: &'static str,
    pub ms: f64,
}

/// Seeds of [`simulated`]'s mean.
pub const SIMULATED_SEEDS: u64 = 16;

/// The simulated time a run of each wanted workload lasts on asyncsim and
/// on the peer this build races (turmoil, or madsim with `--cfg madsim`).
pub fn simulated(only: &[String]) -> Vec<Simulated> {
    let wanted = |workload: Workload| {
        only.is_empty()
            || only
                .iter()
                .any(|key| key == "world" || key == workload.key())
    };
    let mean = |one: &dyn Fn(u64) -> Duration| {
        (0..SIMULATED_SEEDS)
            .map(|seed| one(seed).as_secs_f64() * 1e3)
            .sum::<f64>()
            / SIMULATED_SEEDS as f64
    };
    let mut out = Vec::new();
    for workload in WORKLOADS.into_iter().filter(|w| wanted(*w)) {
        out.push(Simulated {
            workload: workload.name(),
            runner: "asyncsim",
            ms: mean(&|seed| asyncsim_side::simulated(workload, seed)),
        });
        #[cfg(not(madsim))]
        out.push(Simulated {
            workload: workload.name(),
            runner: "turmoil",
            ms: mean(&|seed| turmoil_side::simulated(workload, seed)),
        });
        #[cfg(madsim)]
        out.push(Simulated {
            workload: workload.name(),
            runner: "madsim",
            ms: mean(&|seed| madsim_side::simulated(workload, seed)),
        });
    }
    out
}

/// asyncsim's row with a new `Sim` and a full trace a run.
pub const NEW_SIM_RUNNER: &str = "asyncsim (new Sim/run, random)";
/// asyncsim's row run as the harness's `check` runs schedules: one `Sim`,
/// a hash-only trace.
pub const AS_CHECK_RUNNER: &str = "asyncsim as `check` explores (one Sim, hash-only trace)";

/// One asyncsim run of `workload` (for `profile`) in a new `Sim`; its steps.
pub fn asyncsim_run(workload: Workload, config: asyncsim::Config) -> u64 {
    asyncsim_side::run(workload, config)
}

/// One asyncsim run of `workload` (for `profile`) in `sim`, which earlier
/// runs used too; its steps.
pub fn asyncsim_run_in(
    sim: &mut asyncsim::Sim,
    workload: Workload,
    config: asyncsim::Config,
) -> u64 {
    asyncsim_side::run_in(sim, workload, config)
}

/// asyncsim: `node` and `net` in a `Sim` with a random schedule (exploring
/// while the peers do not), a new `Sim` a run.
mod asyncsim_side {
    use std::time::Duration;

    use asyncsim::net::{NetConfig, TcpListener, TcpStream, UdpSocket};
    use asyncsim::{node, Config, Sim, Strategy, TraceMode};
    use futures::{AsyncReadExt, AsyncWriteExt};

    use super::{latency, Workload, CLIENTS, MESSAGE, PORT, ROUND_TRIPS_EACH, SEQUENTIAL};
    use crate::timing::{looped, Slicer};

    pub fn runner(workload: Workload) -> Slicer<'static> {
        looped(move |seed| {
            let config = Config::new()
                .seed(seed)
                .strategy(Strategy::Random)
                .steps_max(u64::MAX);
            run(workload, config);
        })
    }

    /// As the harness's `check` explores: one `Sim` for every run, each
    /// run's configuration put in with `config_mut` (Random, the run's seed,
    /// a hash-only trace), and each run's trace hash taken.
    pub fn runner_as_check(workload: Workload) -> Slicer<'static> {
        let mut sim = Sim::new(Config::new());
        looped(move |seed| {
            let config = Config::new()
                .seed(seed)
                .strategy(Strategy::Random)
                .trace_mode(TraceMode::HashOnly);
            run_in(&mut sim, workload, config);
        })
    }

    /// The simulated time of one run (seed `seed`, Random).
    pub fn simulated(workload: Workload, seed: u64) -> Duration {
        let config = Config::new()
            .seed(seed)
            .strategy(Strategy::Random)
            .steps_max(u64::MAX);
        Sim::new(config).run(one_run(workload)).elapsed()
    }

    /// One run of `workload` in a new `Sim`; its steps.
    pub fn run(workload: Workload, config: Config) -> u64 {
        let seed = config.seed;
        let run = Sim::new(config.steps_max(u64::MAX)).run(one_run(workload));
        if let Err(failure) = run.result {
            panic!("asyncsim {workload:?}, seed {seed}: {failure}");
        }
        run.steps()
    }

    /// One run of `workload` in `sim`, as `config` says; its steps. The
    /// trace's hash is taken, as `check` takes it of every run.
    pub fn run_in(sim: &mut Sim, workload: Workload, config: Config) -> u64 {
        let seed = config.seed;
        *sim.config_mut() = config.steps_max(u64::MAX);
        let run = sim.run(one_run(workload));
        if let Err(failure) = run.result {
            panic!("asyncsim {workload:?}, seed {seed}: {failure}");
        }
        std::hint::black_box(run.trace.hash());
        run.steps()
    }

    async fn one_run(workload: Workload) {
        let (min, max) = latency();
        if workload == Workload::UdpSequential {
            node::Builder::new("server").start(|| async {
                let socket = UdpSocket::bind(("0.0.0.0", PORT)).await.expect("bind");
                let mut buf = [0; 64];
                loop {
                    let (n, from) = socket.recv_from(&mut buf).await.expect("recv");
                    socket.send_to(&buf[..n], from).await.expect("send");
                }
            });
        } else {
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("bind");
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    drop(asyncsim::spawn(echo(stream)));
                }
            });
        }
        asyncsim::net::set_link("main", "server", NetConfig::new().latency(min, max));
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        match workload {
            Workload::UdpSequential => {
                let socket = UdpSocket::bind(("0.0.0.0", 0)).await.expect("bind");
                let mut buf = [0; 64];
                for _ in 0..SEQUENTIAL {
                    socket
                        .send_to(&MESSAGE, ("server", PORT))
                        .await
                        .expect("send");
                    let (n, _) = socket.recv_from(&mut buf).await.expect("recv");
                    assert_eq!(buf[..n], MESSAGE);
                }
            }
            Workload::TcpFanOut => {
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|_| asyncsim::spawn(client(ROUND_TRIPS_EACH)))
                    .collect();
                for client in clients {
                    client.await.expect("client");
                }
            }
            Workload::SmallSimulation => client(1).await,
            Workload::TcpSequential => client(SEQUENTIAL).await,
        }
    }

    async fn echo(mut stream: TcpStream) {
        let mut buf = [0; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn client(round_trips: usize) {
        let mut stream = TcpStream::connect(("server", PORT)).await.expect("connect");
        let mut buf = [0; 8];
        for _ in 0..round_trips {
            stream.write_all(&MESSAGE).await.expect("write");
            stream.read_exact(&mut buf).await.expect("read");
            assert_eq!(buf, MESSAGE);
        }
    }
}

/// turmoil: each host on its own tokio current-thread runtime, time in 1 ms
/// ticks.
#[cfg(not(madsim))]
mod turmoil_side {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use turmoil::net::{TcpListener, TcpStream, UdpSocket};

    use super::{
        latency, turmoil_latency_curve, Workload, CLIENTS, MESSAGE, PORT, ROUND_TRIPS_EACH,
        SEQUENTIAL,
    };
    use crate::timing::{looped, Slicer};

    pub fn runner(workload: Workload) -> Slicer<'static> {
        let curve = turmoil_latency_curve();
        looped(move |seed| {
            one_run(workload, seed, curve);
        })
    }

    /// The simulated time of one run (seed `seed`).
    pub fn simulated(workload: Workload, seed: u64) -> Duration {
        one_run(workload, seed, turmoil_latency_curve())
    }

    /// One run; its simulated time.
    fn one_run(workload: Workload, seed: u64, curve: f64) -> Duration {
        let (min, max) = latency();
        let mut sim = turmoil::Builder::new()
            .rng_seed(seed)
            .min_message_latency(min)
            .max_message_latency(max)
            .simulation_duration(Duration::from_secs(24 * 3600))
            // 100 clients connect at once: the listener's queue (64 by
            // default) must hold them.
            .tcp_capacity(1024)
            .build();
        // The same mean latency as the other tools (see `LATENCY_MS`).
        sim.set_message_latency_curve(curve);
        match workload {
            Workload::UdpSequential => {
                sim.host("server", || async {
                    let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
                    let mut buf = [0; 64];
                    loop {
                        let (n, from) = socket.recv_from(&mut buf).await?;
                        socket.send_to(&buf[..n], from).await?;
                    }
                });
                sim.client("client", async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let socket = UdpSocket::bind(("0.0.0.0", 0)).await?;
                    let mut buf = [0; 64];
                    for _ in 0..SEQUENTIAL {
                        socket.send_to(&MESSAGE, ("server", PORT)).await?;
                        let (n, _) = socket.recv_from(&mut buf).await?;
                        assert_eq!(buf[..n], MESSAGE);
                    }
                    Ok(())
                });
            }
            _ => {
                sim.host("server", || async {
                    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
                    loop {
                        let (stream, _) = listener.accept().await?;
                        tokio::spawn(echo(stream));
                    }
                });
                sim.client("client", async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    match workload {
                        Workload::TcpFanOut => {
                            let clients: Vec<_> = (0..CLIENTS)
                                .map(|_| tokio::spawn(client(ROUND_TRIPS_EACH)))
                                .collect();
                            for client in clients {
                                client.await.expect("client task")?;
                            }
                        }
                        Workload::SmallSimulation => client(1).await?,
                        _ => client(SEQUENTIAL).await?,
                    }
                    Ok(())
                });
            }
        }
        sim.run().expect("the turmoil simulation runs");
        sim.elapsed()
    }

    async fn echo(mut stream: TcpStream) {
        let mut buf = [0; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Connects and makes `round_trips` round trips; Send (turmoil's
    /// `tokio::spawn` needs it), so the error is a string.
    async fn client(round_trips: usize) -> std::result::Result<(), String> {
        let run = async {
            let mut stream = TcpStream::connect(("server", PORT)).await?;
            let mut buf = [0; 8];
            for _ in 0..round_trips {
                stream.write_all(&MESSAGE).await?;
                stream.read_exact(&mut buf).await?;
                assert_eq!(buf, MESSAGE);
            }
            Ok::<_, std::io::Error>(())
        };
        run.await.map_err(|error| error.to_string())
    }
}

/// madsim (built with `--cfg madsim`): nodes, a network and a random
/// scheduler in one runtime.
#[cfg(madsim)]
mod madsim_side {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::time::Duration;

    use madsim::net::{TcpListener, TcpStream, UdpSocket};
    use madsim::runtime::{Handle, Runtime};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::{latency, Workload, CLIENTS, MESSAGE, PORT, ROUND_TRIPS_EACH, SEQUENTIAL};
    use crate::timing::{looped, Slicer};

    const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    pub fn runner(workload: Workload) -> Slicer<'static> {
        looped(move |seed| {
            one_run(workload, seed);
        })
    }

    /// The simulated time of one run (seed `seed`).
    pub fn simulated(workload: Workload, seed: u64) -> Duration {
        one_run(workload, seed)
    }

    /// One run; its simulated time.
    fn one_run(workload: Workload, seed: u64) -> Duration {
        let (min, max) = latency();
        let mut config = madsim::Config::default();
        // madsim draws from a half-open range: up to (not including) max + 1 ns.
        config.net.send_latency = min..max + Duration::from_nanos(1);
        let runtime = Runtime::with_seed_and_config(seed, config);
        runtime.block_on(async move {
            let start = madsim::time::Instant::now();
            run_body(workload).await;
            start.elapsed()
        })
    }

    async fn run_body(workload: Workload) {
        {
            let handle = Handle::current();
            let server = handle.create_node().name("server").ip(SERVER).build();
            let client_node = handle.create_node().name("client").ip(CLIENT).build();
            let server_addr = SocketAddr::new(SERVER, PORT);
            if workload == Workload::UdpSequential {
                server.spawn(async move {
                    let socket = UdpSocket::bind(server_addr).await.expect("bind");
                    let mut buf = [0; 64];
                    loop {
                        let (n, from) = socket.recv_from(&mut buf).await.expect("recv");
                        socket.send_to(from, &buf[..n]).await.expect("send");
                    }
                });
                client_node
                    .spawn(async move {
                        madsim::time::sleep(Duration::from_millis(1)).await;
                        let socket = UdpSocket::bind(SocketAddr::new(CLIENT, 0))
                            .await
                            .expect("bind");
                        let mut buf = [0; 64];
                        for _ in 0..SEQUENTIAL {
                            socket.send_to(server_addr, &MESSAGE).await.expect("send");
                            let (n, _) = socket.recv_from(&mut buf).await.expect("recv");
                            assert_eq!(buf[..n], MESSAGE);
                        }
                    })
                    .await
                    .expect("the client");
                return;
            }
            server.spawn(async move {
                let listener = TcpListener::bind(server_addr).await.expect("bind");
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    madsim::task::spawn(echo(stream));
                }
            });
            client_node
                .spawn(async move {
                    madsim::time::sleep(Duration::from_millis(1)).await;
                    match workload {
                        Workload::TcpFanOut => {
                            let clients: Vec<_> = (0..CLIENTS)
                                .map(|_| madsim::task::spawn(client(server_addr, ROUND_TRIPS_EACH)))
                                .collect();
                            for client in clients {
                                client.await.expect("client task");
                            }
                        }
                        Workload::SmallSimulation => client(server_addr, 1).await,
                        _ => client(server_addr, SEQUENTIAL).await,
                    }
                })
                .await
                .expect("the client");
        }
    }

    async fn echo(mut stream: TcpStream) {
        let mut buf = [0; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    // madsim's stream sends what was written at `flush`.
                    if stream.write_all(&buf[..n]).await.is_err() || stream.flush().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn client(server: SocketAddr, round_trips: usize) {
        let mut stream = TcpStream::connect(server).await.expect("connect");
        let mut buf = [0; 8];
        for _ in 0..round_trips {
            stream.write_all(&MESSAGE).await.expect("write");
            stream.flush().await.expect("flush");
            stream.read_exact(&mut buf).await.expect("read");
            assert_eq!(buf, MESSAGE);
        }
    }
}
