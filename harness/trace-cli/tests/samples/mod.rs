//! Sample runs for the renderer and command tests.

#![allow(dead_code)]

use std::time::Duration;

use asyncsim_sim::{blocking, task, time, trace, Config, Run, Sim, Strategy};

/// The article's blocking example: `speakers` tasks each sleep 3 s, then
/// block the loop 3 s; all awaited.
pub fn blocking_speakers(speakers: usize) -> Run<()> {
    Sim::new(Config::new().strategy(Strategy::Fifo)).run(async move {
        let handles: Vec<_> = (0..speakers)
            .map(|index| {
                task::Builder::new()
                    .name(format!("speak-{index}"))
                    .spawn(async {
                        time::sleep(Duration::from_secs(3)).await;
                        blocking::sleep(Duration::from_secs(3));
                    })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

/// `run_in_executor`: two tasks each await a pool job that marks, sleeps
/// 3 s and marks; under schedule `seed`.
pub fn run_in_executor(seed: u64) -> Run<()> {
    Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(async {
        let handles: Vec<_> = (0..2)
            .map(|index| {
                task::Builder::new()
                    .name(format!("run-{index}"))
                    .spawn(async {
                        trace::mark("before run");
                        asyncsim_sim::spawn_blocking(|| {
                            trace::mark("before block");
                            blocking::sleep(Duration::from_secs(3));
                            trace::mark("after block");
                        })
                        .await
                        .unwrap();
                        trace::mark("after run");
                    })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    })
}

/// A run of the simulated world with faults: node `db` is partitioned from
/// `main`, repaired, crashed and restarted; under schedule `seed`.
pub fn faulty(seed: u64) -> Run<()> {
    Sim::new(Config::new().seed(seed)).run(async {
        let db = asyncsim_sim::node::Builder::new("db").start(|| async {
            time::sleep(Duration::from_secs(10)).await;
        });
        time::sleep(Duration::from_millis(10)).await;
        asyncsim_sim::net::partition("main", "db");
        time::sleep(Duration::from_millis(10)).await;
        asyncsim_sim::net::repair("main", "db");
        time::sleep(Duration::from_millis(10)).await;
        db.crash();
        time::sleep(Duration::from_millis(10)).await;
        db.restart();
    })
}
