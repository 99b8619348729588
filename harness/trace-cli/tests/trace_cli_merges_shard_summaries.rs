//! `asyncsim-trace merge`: the summaries that real sharded explorations
//! (`ASYNCSIM_SHARD=i/n`, here `Explore::shard`) write merge into what one
//! machine running every shard would report.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use asyncsim_harness::shard_summary::{self, ShardSummary};
use asyncsim_harness::{explore, Explore, Summary};

fn directory(name: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn settings(name: &str, directory: &Path) -> Explore {
    Explore::without_environment()
        .name(name)
        .persist(false)
        .trace_file(false)
        .progress(false)
        .shard_summaries(Some(directory.to_path_buf()))
}

/// A lost update that needs the second writer to run between the first
/// one's read and write.
async fn lost_update() {
    let counter = Rc::new(Cell::new(0));
    let slow = counter.clone();
    let first = asyncsim_sim::spawn(async move {
        let read = slow.get();
        asyncsim_sim::yield_now().await;
        slow.set(read + 1);
    });
    let quick = counter.clone();
    let second = asyncsim_sim::spawn(async move {
        asyncsim_sim::yield_now().await;
        quick.set(quick.get() + 1);
    });
    first.await.unwrap();
    second.await.unwrap();
    assert_eq!(counter.get(), 2, "lost update");
}

async fn three_yielders() {
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            asyncsim_sim::spawn(async {
                asyncsim_sim::yield_now().await;
                asyncsim_sim::yield_now().await;
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn merge(directory: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_asyncsim-trace"))
        .arg("merge")
        .arg(directory)
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn sampled_shards_merge_into_the_whole_explorations_counts_and_first_failure() {
    let directory = directory("merge_sampled");
    let whole: Summary = explore(
        Explore::without_environment()
            .name("merge::sampled")
            .persist(false)
            .trace_file(false)
            .progress(false)
            .runs(300),
        lost_update,
    );
    for shard in 0..3 {
        explore(
            settings("merge::sampled", &directory)
                .runs(300)
                .shard(shard, 3),
            lost_update,
        );
    }
    let summaries = shard_summary::load_directory(&directory).unwrap();
    assert_eq!(summaries.len(), 3);
    let report = shard_summary::merge(summaries);
    let test = &report.tests[0];
    assert_eq!(test.runs, whole.runs);
    assert_eq!(test.failures, whole.failures);
    assert_eq!(test.distinct_schedules, whole.distinct_schedules);
    let first = test.first_failure.as_ref().expect("a shard found it");
    let found = whole.first_failure.as_ref().unwrap();
    assert_eq!(first.run_index, found.run_index);
    assert_eq!(first.token, found.token());

    let (status, text) = merge(&directory);
    assert_eq!(status, 1, "a failure fails the merge:\n{text}");
    assert!(
        text.starts_with(&format!(
            "`merge::sampled`: {} runs (mix) over 3 of 3 shards, {} failed, {} distinct schedules",
            whole.runs, whole.failures, whole.distinct_schedules
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("ASYNCSIM_REPLAY={}", found.token())),
        "{text}"
    );
}

#[test]
fn exhaustive_shards_merge_into_an_exhausted_space_and_a_missing_shard_is_named() {
    let directory = directory("merge_exhaustive");
    let whole = explore(
        Explore::without_environment()
            .name("merge::exhaustive")
            .persist(false)
            .progress(false)
            .exhaustive(2)
            .runs(100_000),
        three_yielders,
    );
    assert_eq!(whole.exhausted, Some(true));
    for shard in 0..4 {
        explore(
            settings("merge::exhaustive", &directory)
                .exhaustive(2)
                .runs(100_000)
                .shard(shard, 4),
            three_yielders,
        );
    }
    let (status, text) = merge(&directory);
    assert_eq!(status, 0, "{text}");
    assert!(
        text.starts_with(&format!(
            "`merge::exhaustive`: {} runs (exhaustive:2) over 4 of 4 shards, 0 failed, {} distinct schedules; bounded space exhausted",
            whole.runs, whole.distinct_schedules
        )),
        "{text}"
    );
    // Lose one shard's file: the merge says which, and fails.
    let lost: ShardSummary = shard_summary::load_directory(&directory).unwrap().remove(2);
    std::fs::remove_file(directory.join(lost.file_name())).unwrap();
    let (status, text) = merge(&directory);
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("missing shards: 3/4"), "{text}");
    assert!(text.contains("bounded space NOT exhausted"), "{text}");
}

#[test]
fn merging_nothing_is_a_clear_error() {
    let directory = directory("merge_nothing");
    let output = Command::new(env!("CARGO_BIN_EXE_asyncsim-trace"))
        .arg("merge")
        .arg(&directory)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no shard summaries"));
}
