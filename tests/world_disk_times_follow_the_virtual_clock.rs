//! The disk keeps each file's and directory's times on the run's virtual
//! wall clock (`time::system_now`: 2000-01-01 00:00:00 UTC at the start of
//! every run, plus the virtual time since): a file's modified time is the
//! time of its last write, truncation or `set_len`; a directory's, of the
//! last create, remove or rename in it (as Linux); `created` is the birth;
//! `accessed` follows Linux's `noatime` (a read never changes it); and
//! `File::set_times` sets them. Each property holds over many schedules of
//! two tasks doing the same to their own files at drawn times.

mod schedule_support;

use std::time::{Duration, SystemTime};

use asyncsim::time::{sleep, system_now};
use asyncsim::{fs, random_range, spawn, Sim};
use futures::AsyncWriteExt;
use schedule_support::random_and_pct;

/// A drawn pause of 0–9 ms (so the two tasks' changes interleave
/// differently from schedule to schedule).
async fn a_while() {
    sleep(Duration::from_millis(random_range(0..10u64))).await;
}

/// (modified, accessed, created) of `path`.
async fn times(path: &str) -> (SystemTime, SystemTime, SystemTime) {
    let metadata = fs::metadata(path).await.unwrap();
    (
        metadata.modified().unwrap(),
        metadata.accessed().unwrap(),
        metadata.created().unwrap(),
    )
}

/// Runs `script(0)` and `script(1)` as two tasks, on each schedule of
/// `random_and_pct(24)`, and fails with the run's trace if either failed.
fn on_many_schedules<F, Fut>(script: F)
where
    F: Fn(usize) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    for config in random_and_pct(24) {
        let run = Sim::new(config.clone()).run(async move {
            let start = system_now();
            let tasks = [spawn(script(0)), spawn(script(1))];
            for task in tasks {
                task.await.unwrap();
            }
            // `/` was made at the run's start: 2000-01-01 00:00:00 UTC.
            let (_, _, root_created) = times("/").await;
            assert_eq!(root_created, start);
            let since_unix = start.duration_since(SystemTime::UNIX_EPOCH).unwrap();
            assert_eq!(since_unix, Duration::from_secs(946_684_800));
        });
        if let Err(failure) = run.result {
            panic!("{config:?}: {failure}\n{}", run.trace);
        }
    }
}

#[test]
fn a_files_modified_time_is_the_virtual_time_of_its_last_change() {
    on_many_schedules(|index| async move {
        let path = format!("/file{index}");
        a_while().await;
        let mut file = fs::File::create(&path).await.unwrap();
        let born = system_now();
        assert_eq!(times(&path).await, (born, born, born), "a new file");
        let mut last = born;
        for round in 0..4u8 {
            a_while().await;
            file.write_all(&[round; 3]).await.unwrap();
            let written = system_now();
            assert!(written >= last);
            last = written;
            // Read after a pause: the write's time, not the reading's.
            a_while().await;
            sleep(Duration::from_millis(1)).await;
            assert_eq!(times(&path).await, (written, born, born), "round {round}");
            assert_eq!(file.metadata().await.unwrap().modified().unwrap(), written);
            // A read changes nothing (`noatime`).
            assert_eq!(
                fs::read(&path).await.unwrap().len(),
                3 * (round as usize + 1)
            );
            assert_eq!(times(&path).await, (written, born, born));
        }
        a_while().await;
        file.set_len(1).await.unwrap();
        let shortened = system_now();
        assert!(shortened > last);
        assert_eq!(times(&path).await, (shortened, born, born), "set_len");
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        // Truncated by `write` (the same file: its birth stays).
        fs::write(&path, b"new").await.unwrap();
        let rewritten = system_now();
        assert!(rewritten > shortened);
        assert_eq!(times(&path).await, (rewritten, born, born), "fs::write");
        // A rename is the directory's change, not the file's.
        a_while().await;
        let moved = format!("/moved{index}");
        fs::rename(&path, &moved).await.unwrap();
        assert_eq!(times(&moved).await, (rewritten, born, born), "renamed");
        // A copy is a new file, written now.
        let copy = format!("/copy{index}");
        fs::copy(&moved, &copy).await.unwrap();
        let copied = system_now();
        assert_eq!(times(&copy).await, (copied, copied, copied), "a copy");
    });
}

#[test]
fn a_directorys_modified_time_changes_on_create_remove_and_rename_in_it() {
    on_many_schedules(|index| async move {
        let dir = format!("/dir{index}");
        let other = format!("/other{index}");
        a_while().await;
        fs::create_dir(&dir).await.unwrap();
        let made = system_now();
        assert_eq!(times(&dir).await, (made, made, made), "a new directory");
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        let mut file = fs::File::create(format!("{dir}/a")).await.unwrap();
        let created = system_now();
        assert!(created > made);
        assert_eq!(times(&dir).await, (created, made, made), "create in it");
        // Writes to a file in it are the file's changes, not its own.
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        file.write_all(b"data").await.unwrap();
        fs::write(format!("{dir}/a"), b"again").await.unwrap();
        assert_eq!(times(&dir).await.0, created, "writes in it");
        a_while().await;
        fs::rename(format!("{dir}/a"), format!("{dir}/b"))
            .await
            .unwrap();
        let renamed = system_now();
        assert!(renamed > created);
        assert_eq!(times(&dir).await.0, renamed, "rename in it");
        fs::create_dir(&other).await.unwrap();
        let other_made = system_now();
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        fs::rename(format!("{dir}/b"), format!("{other}/b"))
            .await
            .unwrap();
        let moved = system_now();
        assert!(moved > other_made);
        assert_eq!(times(&dir).await.0, moved, "renamed out of it");
        assert_eq!(times(&other).await, (moved, other_made, other_made));
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        fs::remove_file(format!("{other}/b")).await.unwrap();
        let removed = system_now();
        assert_eq!(times(&other).await.0, removed, "remove in it");
        assert_eq!(times(&dir).await.0, moved, "the other directory");
        // A directory made in it changes it; one made below, only its parent.
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        fs::create_dir_all(format!("{dir}/x/y")).await.unwrap();
        let nested = system_now();
        assert!(nested > removed);
        assert_eq!(times(&dir).await.0, nested);
        assert_eq!(times(&format!("{dir}/x")).await, (nested, nested, nested));
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        fs::create_dir(format!("{dir}/x/y/z")).await.unwrap();
        let deeper = system_now();
        assert_eq!(times(&format!("{dir}/x/y")).await.0, deeper);
        assert_eq!(times(&format!("{dir}/x")).await.0, nested);
        assert_eq!(times(&dir).await.0, nested);
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        fs::remove_dir_all(format!("{dir}/x")).await.unwrap();
        let cleared = system_now();
        assert!(cleared > deeper);
        assert_eq!(times(&dir).await, (cleared, made, made), "remove_dir_all");
    });
}

#[test]
fn set_times_sets_what_it_names_and_leaves_the_rest() {
    on_many_schedules(|index| async move {
        let path = format!("/file{index}");
        let dir = format!("/dir{index}");
        let long_ago = SystemTime::UNIX_EPOCH + Duration::from_secs(123_456_789 + index as u64);
        let later = SystemTime::UNIX_EPOCH + Duration::new(4_000_000_000, 7);
        a_while().await;
        let file = fs::File::create(&path).await.unwrap();
        let born = system_now();
        a_while().await;
        file.set_modified(long_ago).await.unwrap();
        assert_eq!(times(&path).await, (long_ago, born, born), "set_modified");
        file.set_times(fs::FileTimes::new().set_accessed(later))
            .await
            .unwrap();
        assert_eq!(times(&path).await, (long_ago, later, born), "accessed only");
        file.set_times(fs::FileTimes::new()).await.unwrap();
        assert_eq!(times(&path).await, (long_ago, later, born), "nothing set");
        file.set_times(
            fs::FileTimes::new()
                .set_accessed(long_ago)
                .set_modified(later),
        )
        .await
        .unwrap();
        assert_eq!(times(&path).await, (later, long_ago, born), "both");
        // Through a read-only handle too (the disk checks no permissions),
        // and a later write sets the modified time again.
        let reader = fs::File::open(&path).await.unwrap();
        reader.set_modified(long_ago).await.unwrap();
        assert_eq!(times(&path).await.0, long_ago);
        a_while().await;
        fs::write(&path, b"x").await.unwrap();
        let written = system_now();
        assert_eq!(times(&path).await, (written, long_ago, born));
        // A directory opened as a file.
        fs::create_dir(&dir).await.unwrap();
        let made = system_now();
        let handle = fs::File::open(&dir).await.unwrap();
        handle.set_modified(long_ago).await.unwrap();
        assert_eq!(times(&dir).await, (long_ago, made, made), "a directory");
        assert_eq!(
            handle.metadata().await.unwrap().modified().unwrap(),
            long_ago
        );
        a_while().await;
        sleep(Duration::from_millis(1)).await;
        fs::write(format!("{dir}/new"), b"").await.unwrap();
        let created = system_now();
        assert_eq!(times(&dir).await, (created, made, made), "then a create");
    });
}
