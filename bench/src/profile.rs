//! `asyncsim-bench profile WORKLOAD [SECONDS|Nr]`: only asyncsim's side of
//! one workload, in a loop, for profilers and A/B runs (`bench/ab.sh`).

use std::time::Instant;

use asyncsim::{Config, Sim, Strategy};

use crate::speed::{futures_mutex_body, sim_check, sim_mutex_body, sim_yields};
use crate::{bugs, rt, world};

/// Runs only asyncsim's side of one workload for `seconds` (for `perf`).
pub fn profile(workload: &str, seconds: f64, max_runs: u64) {
    let start = Instant::now();
    // `WORKLOAD[-hash][-fifo][-reuse]`: trace only the hash, FIFO strategy,
    // or (world workloads) one `Sim` for every run, as `check` runs them
    // (`smallsim-reuse-hash` is the world table's `as check explores` row).
    let mut config = Config::new().strategy(Strategy::Random);
    if workload.contains("-hash") {
        config = config.trace_mode(asyncsim::TraceMode::HashOnly);
    }
    if workload.contains("-fifo") {
        config = config.strategy(Strategy::Fifo);
    }
    let reuse = workload.contains("-reuse");
    let workload = workload.split('-').next().unwrap_or(workload);
    if workload == "harness" {
        // The `check` row's asyncsim runner: `runs` schedules through the
        // harness on one thread.
        let runs = if max_runs == u64::MAX {
            10_000
        } else {
            max_runs
        };
        let seconds_taken = sim_check(runs, 1);
        println!(
            "harness check: {runs} runs, {:.2} us/run",
            seconds_taken * 1e6 / runs as f64
        );
        return;
    }
    // The world rows' asyncsim side (a new `Sim` a run, as there, or one
    // `Sim` for all with `-reuse`): `tcpseq`, `tcpfan`, `udp`, `smallsim`;
    // `face:tcpseq`, … the same workload through the tokio face (its
    // overhead, for callgrind and A/B; a new `Sim` a run, as its row).
    // (The `--cfg madsim` build has no face.)
    let (face, key) = match workload.strip_prefix("face:") {
        Some(key) if cfg!(not(madsim)) => (true, key),
        _ => (false, workload),
    };
    if let Some(world) = world::WORKLOADS
        .into_iter()
        .find(|w| w.key().replace('-', "") == key)
    {
        let mut runs = 0u64;
        let mut steps = 0u64;
        let mut reused = (reuse && !face).then(|| Sim::new(Config::new()));
        while start.elapsed().as_secs_f64() < seconds && runs < max_runs {
            let config = config.clone().seed(runs);
            steps += match reused.as_mut() {
                Some(sim) => world::asyncsim_run_in(sim, world, config),
                None if face => face_run(world, config),
                None => world::asyncsim_run(world, config),
            };
            runs += 1;
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{workload}: {runs} runs, {:.2} us/run, {:.1} ns/step, {:.1} steps/run",
            elapsed * 1e6 / runs as f64,
            elapsed * 1e9 / steps as f64,
            steps as f64 / runs as f64
        );
        return;
    }
    if face {
        panic!("unknown world workload `{key}` (tcpseq, tcpfan, udp, smallsim)");
    }
    let mut sim = Sim::new(config);
    let mut runs = 0u64;
    let mut steps = 0u64;
    while start.elapsed().as_secs_f64() < seconds && runs < max_runs {
        sim.config_mut().seed = runs;
        let run_steps = match workload {
            "10x10" => sim.run(sim_yields(10, 10)).steps(),
            "100x100" => sim.run(sim_yields(100, 100)).steps(),
            "check" => sim.run(bugs::check_body::<rt::Sim>()).steps(),
            "mutex" => sim.run(sim_mutex_body()).steps(),
            "timers" => sim.run(crate::speed::sim_timers()).steps(),
            "mutexfutures" => sim.run(futures_mutex_body()).steps(),
            // What a run costs with nothing in it, and with three tasks
            // that return at once (fixed costs, for profiling).
            "empty" => sim.run(async {}).steps(),
            "spawn3" => sim
                .run(async {
                    let handles: Vec<_> = (0..3).map(|_| asyncsim::spawn(async {})).collect();
                    for handle in handles {
                        handle.await.unwrap();
                    }
                })
                .steps(),
            other => panic!(
                "unknown profile workload `{other}` (10x10, 100x100, check, mutex, mutexfutures, timers, harness, tcpseq, tcpfan, udp, smallsim)"
            ),
        };
        steps += run_steps;
        runs += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{workload}: {runs} runs, {:.2} us/run, {:.1} ns/step",
        elapsed * 1e6 / runs as f64,
        elapsed * 1e9 / steps as f64
    );
}

/// One run of `world` through the tokio face; its steps.
#[cfg(not(madsim))]
fn face_run(world: world::Workload, config: Config) -> u64 {
    crate::world_face::run(world, config)
}

/// (The `--cfg madsim` build has no face: never called there.)
#[cfg(madsim)]
fn face_run(_: world::Workload, _: Config) -> u64 {
    unreachable!("the --cfg madsim build has no tokio face")
}
