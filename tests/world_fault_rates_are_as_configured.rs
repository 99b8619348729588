//! Weighted fault draws happen at their configured rates under Random and
//! PCT: a 1 % loss rate drops about 1 % of datagrams, a 5 % duplication
//! rate duplicates about 5 %, a 10 % disk error rate fails about 10 % of
//! disk operations. Counted from the trace's fault events.

use std::time::Duration;

use asyncsim::net::{NetConfig, UdpSocket};
use asyncsim::trace::{EventKind, FaultOp};
use asyncsim::{fs, node, Config, Sim, Strategy};

const SENDS: u32 = 2_000;
const SEEDS: u64 = 10;

/// Sends `SENDS` datagrams from `main` to `db` and writes `SENDS` files on
/// `db`; counts the faults of each kind.
fn faults(strategy: Strategy, net: NetConfig) -> (u64, u64, u64) {
    let (mut lost, mut duplicated, mut disk) = (0, 0, 0);
    for seed in 0..SEEDS {
        let config = Config::new()
            .seed(seed)
            .strategy(strategy.clone())
            .net(net.clone())
            .disk_errors(0.1);
        let run = Sim::new(config).run(async {
            let db = node::Builder::new("db").start(|| async {
                let _socket = UdpSocket::bind("0.0.0.0:9").await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let socket = UdpSocket::bind("0.0.0.0:9").await.unwrap();
            for _ in 0..SENDS {
                socket.send_to(b"x", "db:9").await.unwrap();
            }
            db.spawn(async {
                for _ in 0..SENDS {
                    let _ = fs::metadata("/").await;
                }
            })
            .await
            .unwrap();
        });
        run.result.unwrap();
        for event in run.trace.events() {
            match event.kind {
                EventKind::Fault {
                    op: FaultOp::Lost, ..
                } => lost += 1,
                EventKind::Fault {
                    op: FaultOp::Duplicated,
                    ..
                } => duplicated += 1,
                EventKind::Fault {
                    op: FaultOp::DiskError,
                    ..
                } => disk += 1,
                _ => {}
            }
        }
    }
    (lost, duplicated, disk)
}

fn assert_about(what: &str, count: u64, trials: u64, rate: f64) {
    let measured = count as f64 / trials as f64;
    assert!(
        (measured - rate).abs() < rate * 0.25,
        "{what}: {count} of {trials} = {measured:.4}, configured {rate}"
    );
}

#[test]
fn faults_happen_at_their_configured_rates_under_random_and_pct() {
    let net = NetConfig::new()
        .latency(Duration::from_millis(1), Duration::from_millis(1))
        .loss(0.01)
        .duplicate(0.05);
    for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
        let (lost, duplicated, disk) = faults(strategy, net.clone());
        let trials = u64::from(SENDS) * SEEDS;
        assert_about("lost datagrams", lost, trials, 0.01);
        // Only datagrams that were not lost can be duplicated.
        assert_about("duplicated datagrams", duplicated, trials - lost, 0.05);
        assert_about("disk errors", disk, trials, 0.1);
    }
}

#[test]
fn with_faults_off_no_fault_is_drawn() {
    let net = NetConfig::new().loss(0.5).duplicate(0.5);
    for seed in 0..3 {
        let config = Config::new().seed(seed).net(net.clone()).faults(false);
        let run = Sim::new(config.disk_errors(0.5)).run(async {
            let socket = UdpSocket::bind("0.0.0.0:9").await.unwrap();
            node::Builder::new("db").start(|| async {});
            for _ in 0..100 {
                socket.send_to(b"x", "db:9").await.unwrap();
                fs::metadata("/").await.unwrap();
            }
        });
        run.result.unwrap();
        let faults = run
            .trace
            .events()
            .iter()
            .filter(|event| matches!(event.kind, EventKind::Fault { .. }))
            .count();
        assert_eq!(faults, 0);
    }
}

/// `exhaustive(1)` enumerates fault values like any other draw: over three
/// datagrams on a lossy link it visits the run that loses each one, and no
/// run loses two (that needs two faults). The loss rate does not matter to
/// the enumeration, only to sampling.
#[test]
fn exhaustive_one_visits_every_single_fault_run_and_no_double_one() {
    let link = NetConfig::new()
        .latency(Duration::from_millis(1), Duration::from_millis(1))
        .loss(0.001);
    let explore = asyncsim::Explore::new()
        .exhaustive(1)
        .config(Config::new().net(link));
    let outcomes = asyncsim::outcomes(explore, || async {
        let inbox = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        node::Builder::new("sender").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
            for datagram in 0..3u8 {
                socket.send_to(&[datagram], "main:5000").await.unwrap();
            }
        });
        let mut got = Vec::new();
        let mut buf = [0u8; 1];
        while let Ok(Ok(_)) =
            asyncsim::time::timeout(Duration::from_millis(10), inbox.recv_from(&mut buf)).await
        {
            got.push(buf[0]);
        }
        got
    });
    assert!(outcomes.failures.is_empty(), "{:?}", outcomes.failures);
    let mut seen: Vec<Vec<u8>> = outcomes.distinct().into_iter().cloned().collect();
    seen.sort();
    assert_eq!(seen, [vec![0, 1], vec![0, 1, 2], vec![0, 2], vec![1, 2]]);
}
