//! A crash keeps a file's times with its data: after a restart its
//! modified time is that of the last change that survived (a sync made the
//! changes before it durable, their times with them), never later than
//! what survived and never earlier than the last sync; a directory's, that
//! of the last create in it that survived. Over many schedules, with the
//! crash's drawn prefixes; the same seed gives the same times; and a crash
//! that lost a `set_times` says so in its `crash lost` words.

mod schedule_support;

use std::time::{Duration, SystemTime};

use asyncsim::time::{sleep, system_now};
use asyncsim::{fs, node, random_range, Config, Sim, Strategy};
use futures::AsyncWriteExt;
use schedule_support::random_and_pct;

const WRITES: usize = 5;
const CREATES: usize = 4;

/// What one run did and found after the crash.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    /// `/d/log`'s birth.
    born: SystemTime,
    /// When each write of one byte (`a`, `b`, …) was made.
    written: Vec<SystemTime>,
    /// How many writes `sync_data` made durable.
    synced: usize,
    /// `/d`'s creation.
    made: SystemTime,
    /// When each of `/d/f0`, `/d/f1`, … was created.
    created: Vec<SystemTime>,
    /// How many creates `sync_dir("/d")` made durable.
    dir_synced: usize,
    /// After the restart: `/d/log`'s bytes, its (modified, created).
    survived: Vec<u8>,
    log_times: (SystemTime, SystemTime),
    /// After the restart: `/d`'s names `f*`, its (modified, created).
    names: Vec<String>,
    dir_times: (SystemTime, SystemTime),
}

/// Writes and creates at drawn times, syncing a drawn number of each,
/// crashes node `db`, restarts it, and looks.
async fn write_crash_and_look() -> Seen {
    let db = node::Builder::new("db").start(|| async {});
    let before = db
        .spawn(async {
            fs::create_dir("/d").await.unwrap();
            let made = system_now();
            fs::sync_dir("/").await.unwrap();
            let mut log = fs::File::create("/d/log").await.unwrap();
            let born = system_now();
            log.sync_all().await.unwrap();
            let synced = random_range(0..=WRITES);
            let dir_synced = random_range(0..=CREATES);
            let mut written = Vec::new();
            let mut created = Vec::new();
            for index in 0..WRITES.max(CREATES) {
                sleep(Duration::from_millis(1 + random_range(0..10u64))).await;
                if index < WRITES {
                    log.write_all(&[b'a' + index as u8]).await.unwrap();
                    written.push(system_now());
                    if index + 1 == synced {
                        log.sync_data().await.unwrap();
                    }
                }
                if index < CREATES {
                    fs::File::create(format!("/d/f{index}")).await.unwrap();
                    created.push(system_now());
                    if index + 1 == dir_synced {
                        fs::sync_dir("/d").await.unwrap();
                    }
                }
            }
            (born, written, synced, made, created, dir_synced)
        })
        .await
        .unwrap();
    db.crash();
    db.restart();
    let after = db
        .spawn(async {
            let survived = fs::read("/d/log").await.unwrap();
            let log = fs::metadata("/d/log").await.unwrap();
            let names = fs::read_dir("/d")
                .await
                .unwrap()
                .into_iter()
                .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
                .filter(|name| name.starts_with('f'))
                .collect();
            let dir = fs::metadata("/d").await.unwrap();
            (
                survived,
                (log.modified().unwrap(), log.created().unwrap()),
                names,
                (dir.modified().unwrap(), dir.created().unwrap()),
            )
        })
        .await
        .unwrap();
    let (born, written, synced, made, created, dir_synced) = before;
    let (survived, log_times, names, dir_times) = after;
    Seen {
        born,
        written,
        synced,
        made,
        created,
        dir_synced,
        survived,
        log_times,
        names,
        dir_times,
    }
}

/// Checks one run's times against what survived; returns (writes kept,
/// creates kept).
fn check(seen: &Seen) -> (usize, usize) {
    let kept = seen.survived.len();
    assert!(kept >= seen.synced && kept <= WRITES, "{seen:?}");
    assert_eq!(seen.survived, &b"abcde"[..kept], "{seen:?}");
    let (modified, created) = seen.log_times;
    assert_eq!(created, seen.born, "the birth survives: {seen:?}");
    let last_kept = match kept {
        0 => seen.born,
        kept => seen.written[kept - 1],
    };
    assert_eq!(
        modified, last_kept,
        "the last surviving write's time: {seen:?}"
    );
    let last_synced = match seen.synced {
        0 => seen.born,
        synced => seen.written[synced - 1],
    };
    assert!(
        modified >= last_synced,
        "earlier than the last sync: {seen:?}"
    );
    if kept < WRITES {
        assert!(
            modified < seen.written[kept],
            "a lost write's time: {seen:?}"
        );
    }

    let names: Vec<String> = (0..seen.names.len()).map(|i| format!("f{i}")).collect();
    assert_eq!(seen.names, names, "a prefix of the creates: {seen:?}");
    let kept_creates = names.len();
    assert!(kept_creates >= seen.dir_synced, "{seen:?}");
    let (dir_modified, dir_created) = seen.dir_times;
    assert_eq!(dir_created, seen.made, "{seen:?}");
    // `/d/log`'s create was made durable by its `sync_all`, before f0.
    let last_create = match kept_creates {
        0 => seen.born,
        kept => seen.created[kept - 1],
    };
    assert_eq!(
        dir_modified, last_create,
        "the last surviving create's: {seen:?}"
    );
    (kept, kept_creates)
}

#[test]
fn after_a_crash_the_times_are_those_of_the_changes_that_survived() {
    let mut outcomes = std::collections::BTreeSet::new();
    for config in random_and_pct(24) {
        let run = Sim::new(config.clone()).run(write_crash_and_look());
        let seen = run
            .result
            .unwrap_or_else(|failure| panic!("{config:?}: {failure}"));
        let (kept, kept_creates) = check(&seen);
        outcomes.insert((kept > seen.synced, kept_creates > seen.dir_synced));
    }
    // The crash kept unsynced changes in some runs and lost them in others,
    // so both sides of the rule were checked.
    for both in [(true, true), (false, false)] {
        assert!(outcomes.contains(&both), "{outcomes:?}");
    }
}

#[test]
fn the_canonical_crash_keeps_the_times_of_the_last_sync() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(write_crash_and_look());
    let seen = run.result.unwrap();
    assert_eq!(check(&seen), (seen.synced, seen.dir_synced));
}

#[test]
fn set_times_survive_once_synced_and_are_lost_with_the_page_cache_before() {
    for sync in [false, true] {
        let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async move {
            let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
            let db = node::Builder::new("db").start(|| async {});
            let written = db
                .spawn(async move {
                    let mut file = fs::File::create("/log").await.unwrap();
                    file.write_all(b"x").await.unwrap();
                    let written = system_now();
                    file.sync_all().await.unwrap();
                    let dir = fs::File::open("/").await.unwrap();
                    file.set_modified(old).await.unwrap();
                    dir.set_modified(old).await.unwrap();
                    if sync {
                        file.sync_data().await.unwrap();
                        dir.sync_all().await.unwrap();
                    }
                    written
                })
                .await
                .unwrap();
            db.crash();
            db.restart();
            let after = db
                .spawn(async {
                    let file = fs::metadata("/log").await.unwrap().modified().unwrap();
                    let root = fs::metadata("/").await.unwrap().modified().unwrap();
                    (file, root)
                })
                .await
                .unwrap();
            (after, old, written)
        });
        let ((file, root), old, written) = run.result.unwrap();
        if sync {
            assert_eq!((file, root), (old, old));
        } else {
            // The file's synced write; `/`'s synced create of `/log` (made
            // durable by the file's `sync_all`), at the same time.
            assert_eq!((file, root), (written, written));
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_times() {
    let mut distinct = std::collections::BTreeSet::new();
    for config in random_and_pct(24) {
        let first = Sim::new(config.clone()).run(write_crash_and_look());
        let again = Sim::new(config.clone()).run(write_crash_and_look());
        assert_eq!(first.tape, again.tape, "{config:?}");
        let (first, again) = (first.result.unwrap(), again.result.unwrap());
        assert_eq!(first, again, "{config:?}");
        distinct.insert(format!("{:?}", first.log_times));
    }
    // The times depend on the schedule: equal by the seed, not by chance.
    assert!(distinct.len() > 10, "{distinct:?}");
}

#[test]
fn a_crash_names_the_set_times_it_lost() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let db = node::Builder::new("db").start(|| async {});
        db.spawn(async {
            fs::create_dir("/d").await.unwrap();
            let file = fs::File::create("/d/log").await.unwrap();
            file.sync_all().await.unwrap();
            fs::sync_dir("/d").await.unwrap();
            let old = SystemTime::UNIX_EPOCH;
            file.set_modified(old).await.unwrap();
            fs::File::open("/d")
                .await
                .unwrap()
                .set_modified(old)
                .await
                .unwrap();
        })
        .await
        .unwrap();
        db.crash();
    });
    run.result.unwrap();
    let lost: Vec<String> = run
        .trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            asyncsim::trace::EventKind::Fault {
                op: asyncsim::trace::FaultOp::CrashLost,
                what,
            } => Some(run.trace.label(what).to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        lost,
        ["the crash of `db` lost 2 of 2 unsynced changes: set the times of /d, set the times of /d/log"]
    );
}
