//! `tokio::fs` times as a user reads them (`metadata(..).await?.modified()?`
//! for cache invalidation, log rotation, the newest file): kept on the
//! run's virtual wall clock (`tokio::asyncsim::time::system_now`), so they
//! advance with writes and sleeps, a directory's with the entries made,
//! renamed and removed in it; `File::set_modified`/`set_times` set them;
//! a crash keeps the times of the changes that survived; and the same seed
//! gives the same times. Each over many schedules.

use std::time::{Duration, SystemTime};

use asyncsim::{Config, Sim, Strategy};
use asyncsim_tokio_tests::{on_many_schedules, random_and_pct};
use tokio::asyncsim::time::system_now;
use tokio::io::AsyncWriteExt;

async fn modified(path: &str) -> SystemTime {
    tokio::fs::metadata(path).await.unwrap().modified().unwrap()
}

/// A drawn pause of 1–10 ms.
async fn a_while() {
    let millis = asyncsim::random_range(1..=10u64);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// Two rotating loggers, each in its own directory: writes at drawn times,
/// rotation (a rename and a new file) every third write.
async fn two_loggers() {
    let loggers: Vec<_> = (0..2)
        .map(|index| {
            tokio::spawn(async move {
                let dir = format!("/logs{index}");
                tokio::fs::create_dir(&dir).await.unwrap();
                let path = format!("{dir}/current");
                let mut file = tokio::fs::File::create(&path).await.unwrap();
                let mut dir_changed = system_now();
                let mut last = system_now();
                for line in 0..7u32 {
                    a_while().await;
                    file.write_all(format!("line {line}\n").as_bytes())
                        .await
                        .unwrap();
                    let written = system_now();
                    assert!(written > last);
                    last = written;
                    a_while().await;
                    // The write's time, not now: a sleep changes nothing.
                    assert_eq!(modified(&path).await, written);
                    assert_eq!(file.metadata().await.unwrap().modified().unwrap(), written);
                    assert_eq!(modified(&dir).await, dir_changed);
                    if line % 3 == 2 {
                        tokio::fs::rename(&path, format!("{dir}/{line}.old"))
                            .await
                            .unwrap();
                        file = tokio::fs::File::create(&path).await.unwrap();
                        dir_changed = system_now();
                        assert_eq!(modified(&dir).await, dir_changed);
                        assert_eq!(modified(&format!("{dir}/{line}.old")).await, written);
                    }
                }
                tokio::fs::remove_file(format!("{dir}/2.old"))
                    .await
                    .unwrap();
                let removed = system_now();
                assert_eq!(modified(&dir).await, removed);
                // The newest file by modified time, as a user picks it.
                let mut entries = tokio::fs::read_dir(&dir).await.unwrap();
                let mut newest = None;
                while let Some(entry) = entries.next_entry().await.unwrap() {
                    let time = entry.metadata().await.unwrap().modified().unwrap();
                    if newest.as_ref().is_none_or(|(best, _)| time > *best) {
                        newest = Some((time, entry.file_name()));
                    }
                }
                assert_eq!(newest.unwrap().1, "current");
                let metadata = tokio::fs::metadata(&dir).await.unwrap();
                assert!(metadata.created().unwrap() < metadata.modified().unwrap());
            })
        })
        .collect();
    for logger in loggers {
        logger.await.unwrap();
    }
}

#[test]
fn modified_times_follow_the_writes_and_the_entries_on_the_virtual_clock() {
    on_many_schedules(two_loggers);
}

#[test]
fn set_modified_and_set_times_take_effect() {
    on_many_schedules(|| async {
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_234_567_890);
        let older = SystemTime::UNIX_EPOCH + Duration::new(1_000, 5);
        a_while().await;
        let file = tokio::fs::File::create("/cache").await.unwrap();
        let born = system_now();
        a_while().await;
        file.set_modified(old).await.unwrap();
        assert_eq!(modified("/cache").await, old);
        let times = tokio::fs::FileTimes::new()
            .set_accessed(older)
            .set_modified(older);
        file.set_times(times).await.unwrap();
        let metadata = tokio::fs::metadata("/cache").await.unwrap();
        assert_eq!(metadata.modified().unwrap(), older);
        assert_eq!(metadata.accessed().unwrap(), older);
        assert_eq!(metadata.created().unwrap(), born);
        file.set_times(tokio::fs::FileTimes::new().set_accessed(old))
            .await
            .unwrap();
        let metadata = file.metadata().await.unwrap();
        assert_eq!(metadata.modified().unwrap(), older, "left as it was");
        assert_eq!(metadata.accessed().unwrap(), old);
    });
}

/// Writes `a`..`e` at drawn times, `sync_data` after a drawn number of
/// them, crashes the node and restarts it: (the write times, how many were
/// synced, the bytes that survived, the modified time after the restart).
async fn write_crash_and_look() -> (Vec<SystemTime>, usize, Vec<u8>, SystemTime) {
    let db = asyncsim::node::Builder::new("db").start(|| async {});
    let (written, synced) = db
        .spawn(async {
            let mut file = tokio::fs::File::create("/wal").await.unwrap();
            let mut written = vec![system_now()];
            file.sync_all().await.unwrap();
            let synced = asyncsim::random_range(0..=5usize);
            for index in 0..5u8 {
                a_while().await;
                file.write_all(&[b'a' + index]).await.unwrap();
                written.push(system_now());
                if usize::from(index) + 1 == synced {
                    file.sync_data().await.unwrap();
                }
            }
            (written, synced)
        })
        .await
        .unwrap();
    db.crash();
    db.restart();
    let (survived, modified) = db
        .spawn(async {
            let bytes = tokio::fs::read("/wal").await.unwrap();
            (bytes, modified("/wal").await)
        })
        .await
        .unwrap();
    (written, synced, survived, modified)
}

#[test]
fn after_a_crash_the_modified_time_is_the_last_surviving_writes() {
    let mut kept_unsynced = [false, false];
    for config in random_and_pct(24).chain([Config::new().strategy(Strategy::Fifo)]) {
        let run = Sim::new(config.clone()).run(write_crash_and_look());
        let (written, synced, survived, modified) = run.result.unwrap();
        let kept = survived.len();
        assert!(kept >= synced, "{config:?}");
        assert_eq!(survived, &b"abcde"[..kept], "{config:?}");
        // written[0] is the birth: the time of an empty file.
        assert_eq!(modified, written[kept], "{config:?}");
        assert!(modified >= written[synced], "{config:?}");
        kept_unsynced[usize::from(kept > synced)] = true;
    }
    assert_eq!(kept_unsynced, [true, true], "both sides checked");
}

#[test]
fn the_same_seed_gives_the_same_times() {
    let mut distinct = std::collections::BTreeSet::new();
    for config in random_and_pct(24) {
        let first = Sim::new(config.clone()).run(write_crash_and_look());
        let again = Sim::new(config.clone()).run(write_crash_and_look());
        let (first, again) = (first.result.unwrap(), again.result.unwrap());
        assert_eq!(first, again, "{config:?}");
        distinct.insert(first.3);
    }
    assert!(distinct.len() > 10, "{distinct:?}");
}
