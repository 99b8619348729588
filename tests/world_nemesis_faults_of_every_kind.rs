//! The nemesis draws every kind of fault of its plan (crash, partition,
//! clog, disk error burst) across schedules, heals each one, and ends with
//! the world whole again; its faults are in the trace's fault lane.

use std::collections::BTreeSet;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::trace::{EventKind, FaultOp};
use asyncsim::{fault, fs, node, trace, Config, Explore, Sim};

fn listener_init() -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    || {
        Box::pin(async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                drop(stream);
            }
        })
    }
}

/// Runs a nemesis that may do anything to `db` and `cache`; afterwards the
/// world must be whole. Returns the nemesis's marks.
async fn body() -> Vec<String> {
    let db = node::Builder::new("db").start(listener_init());
    let cache = node::Builder::new("cache").start(listener_init());
    fault::Nemesis::new()
        .crash(&["db", "cache"])
        .partition(&["main", "db", "cache"])
        .clog(&["db", "cache"])
        .disk_errors(&["db"])
        .interval(Duration::from_millis(10), Duration::from_millis(40))
        .rounds(6)
        .probability(0.9)
        .spawn()
        .await
        .unwrap();
    // Healed: both nodes run, accept connections from `main`, and `db`'s
    // disk works.
    assert!(db.is_running() && cache.is_running());
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    for address in ["db:7000", "cache:7000"] {
        let connected =
            asyncsim::time::timeout(Duration::from_secs(1), TcpStream::connect(address)).await;
        assert!(
            matches!(connected, Ok(Ok(_))),
            "{address} after the nemesis: {connected:?}"
        );
    }
    db.spawn(async { fs::write("/after", b"ok").await.unwrap() })
        .await
        .unwrap();
    trace::marks_so_far()
}

#[test]
fn across_schedules_the_nemesis_injects_every_kind_of_fault_and_heals_each() {
    let outcomes = asyncsim::outcomes(Explore::new().runs(150), body);
    assert!(outcomes.failures.is_empty(), "{:?}", outcomes.failures);
    let marks: BTreeSet<String> = outcomes.distinct().into_iter().flatten().cloned().collect();
    for expected in [
        "nemesis: crash node `db`",
        "nemesis: heal crash node `db`",
        "nemesis: partition `db` from the others",
        "nemesis: heal partition `db` from the others",
        "nemesis: clog `db`->`cache`",
        "nemesis: disk errors on `db`",
        "nemesis: heal disk errors on `db`",
    ] {
        assert!(
            marks.contains(expected),
            "{expected:?} never seen: {marks:?}"
        );
    }
}

#[test]
fn the_nemesis_faults_are_in_the_fault_lane() {
    let mut seen = BTreeSet::new();
    for seed in 0..40 {
        let run = Sim::new(Config::new().seed(seed)).run(body());
        run.result.unwrap();
        for event in run.trace.events() {
            if let EventKind::Fault { op, .. } = event.kind {
                seen.insert(op.name());
            }
        }
    }
    for op in [
        FaultOp::Crash,
        FaultOp::Restart,
        FaultOp::Partition,
        FaultOp::Repair,
        FaultOp::Clog,
        FaultOp::Unclog,
        FaultOp::DiskErrorRate,
    ] {
        assert!(seen.contains(op.name()), "{op:?} never seen: {seen:?}");
    }
}
