//! A crash that loses unsynced changes says so: one fault event (`crash
//! lost`, letter `U` in the fault lane) names what the node's disk lost,
//! the first few changes by path and the rest counted, also when the
//! outcome is the ordinary draw 0 (every unsynced change lost). A crash
//! that loses nothing records no such event.

use std::io::ErrorKind;

use asyncsim::trace::{EventKind, FaultOp};
use asyncsim::{fs, node, Config, Explore, Sim, Trace};
use futures::AsyncWriteExt;

/// The words of every `crash lost` fault of `trace`.
fn lost_words(trace: &Trace) -> Vec<String> {
    trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Fault {
                op: FaultOp::CrashLost,
                what,
            } => Some(trace.label(what).to_string()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_lost_file_creation_is_named_in_the_shrunk_report() {
    let summary = asyncsim::explore(Explore::new().runs(20), || async {
        let leader = node::Builder::new("leader").start(|| async {});
        leader
            .spawn(async {
                let mut wal = fs::File::create("/wal").await.unwrap();
                wal.write_all(&[7; 120]).await.unwrap();
                // BUG: the data is synced, the directory entry is not.
                wal.sync_data().await.unwrap();
            })
            .await
            .unwrap();
        leader.crash();
        leader.restart();
        let found = leader
            .spawn(async { fs::read("/wal").await.map_err(|error| error.kind()) })
            .await
            .unwrap();
        assert_ne!(found, Err(ErrorKind::NotFound), "the synced WAL is gone");
    });
    let found = summary
        .first_failure
        .expect("the lost creation was not found");
    let report = found.to_string();
    assert!(report.contains("the synced WAL is gone"), "{report}");
    // Draw 0 lost it: no deviation to shrink, and still named.
    assert_eq!(found.deviations, 0, "{report}");
    assert!(
        report.contains("the crash of `leader` lost 1 of 1 unsynced change: create /wal"),
        "{report}"
    );
    let lane = report
        .lines()
        .find(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane: {report}"));
    // The crash's letter tops the column they share (the loss's stacks
    // under it); the legend and the notes name the loss.
    assert!(lane.contains('C'), "{report}");
    assert!(report.contains("U crash lost unsynced changes"), "{report}");
}

#[test]
fn the_words_name_the_first_few_lost_changes_and_count_the_rest() {
    let run = Sim::new(Config::new()).run(async {
        let db = node::Builder::new("db").start(|| async {});
        db.spawn(async {
            fs::create_dir("/d").await.unwrap();
            fs::sync_dir("/").await.unwrap();
            let mut log = fs::File::create("/d/log").await.unwrap();
            for chunk in 1..=5 {
                log.write_all(&vec![b'x'; chunk]).await.unwrap();
            }
            log.set_len(2).await.unwrap();
            fs::rename("/d/log", "/d/log.old").await.unwrap();
        })
        .await
        .unwrap();
        db.crash();
        db.restart();
        db.spawn(async { fs::read_dir("/d").await.unwrap().len() })
            .await
            .unwrap()
    });
    assert_eq!(run.result.unwrap(), 0, "the directory kept a name");
    assert_eq!(
        lost_words(&run.trace),
        [
            "the crash of `db` lost 8 of 8 unsynced changes: create /d/log, \
          rename /d/log to /d/log.old, write 1 byte to /d/log.old, \
          write 2 bytes to /d/log.old and 4 more"
        ],
        "{}",
        run.trace
    );
}

#[test]
fn a_crash_that_loses_nothing_records_no_loss() {
    let run = Sim::new(Config::new()).run(async {
        let db = node::Builder::new("db").start(|| async {});
        db.spawn(async {
            let mut file = fs::File::create("/f").await.unwrap();
            file.write_all(b"kept").await.unwrap();
            file.sync_all().await.unwrap();
        })
        .await
        .unwrap();
        db.crash();
    });
    run.result.unwrap();
    assert!(lost_words(&run.trace).is_empty(), "{}", run.trace);
    let crashes = run
        .trace
        .events()
        .iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventKind::Fault {
                    op: FaultOp::Crash,
                    ..
                }
            )
        })
        .count();
    assert_eq!(crashes, 1);
}
