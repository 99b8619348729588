//! "Unblock the Blockers": `blocking_func` called on the loop makes the two
//! `run` jobs take turns (3 s + 3 s); handed to `run_in_executor`, it runs
//! on the executor pool, both jobs block at the same time on two workers,
//! and the whole thing takes 3 s — "no more blocking the event loop". With a
//! pool of one worker, the jobs queue and it takes 6 s again.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use asyncsim::blocking::slow_polls_so_far;
use asyncsim::time::{self, Instant};
use asyncsim::trace::{self, marks_so_far};
use asyncsim::{Config, Sim, Strategy};
use common::snippets::{secs, start};
use common::support::{assert_trace_snapshot, fifo, random_and_pct, run_once};
use schedule_support::on_every_schedule;

const RUNS: u64 = 500;

/// The marks about blocking (`before block`, `after block`), in order.
fn block_marks() -> Vec<String> {
    marks_so_far()
        .into_iter()
        .filter(|mark| mark.ends_with("block"))
        .collect()
}

#[test]
fn two_jobs_in_the_executor_finish_in_3_virtual_seconds_on_every_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        start(true).await;
        assert_eq!(Instant::now().since_start(), secs(3));
        assert!(slow_polls_so_far().is_empty(), "the loop is never blocked");
    });
}

#[test]
fn both_before_block_marks_come_before_either_after_block_mark_on_every_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        start(true).await;
        assert_eq!(
            block_marks(),
            ["before block", "before block", "after block", "after block"]
        );
        // Both runs have started before either ends: they overlap.
        let marks = marks_so_far();
        assert_eq!(marks.len(), 8, "{marks:?}");
        assert_eq!(marks.iter().filter(|m| *m == "before run").count(), 2);
        assert_eq!(&marks[6..], ["after run", "after run"], "{marks:?}");
    });
}

#[test]
fn with_a_pool_of_one_worker_the_jobs_queue_and_take_6_virtual_seconds() {
    for schedules in random_and_pct(RUNS) {
        let one_worker = schedules.config(Config::new().pool_size(1));
        asyncsim::check(one_worker, || async {
            start(true).await;
            assert_eq!(Instant::now().since_start(), secs(6));
            // The second job blocks only when the first is done.
            assert_eq!(
                block_marks(),
                ["before block", "after block", "before block", "after block"]
            );
            assert!(
                slow_polls_so_far().is_empty(),
                "a queued job does not block the loop"
            );
        });
    }
}

#[test]
fn blocking_func_on_the_loop_takes_6_virtual_seconds_and_the_runs_take_turns() {
    let one_run = ["before run", "before block", "after block", "after run"];
    on_every_schedule(u32::MAX, 50_000, || async {
        start(false).await;
        assert_eq!(Instant::now().since_start(), secs(6));
        assert_eq!(marks_so_far(), [one_run, one_run].concat());
        let slow = slow_polls_so_far();
        assert_eq!(slow.len(), 2, "both runs hold the loop: {slow:?}");
        assert!(slow.iter().all(|poll| poll.held_ns == 3_000_000_000));
    });
}

/// A heartbeat that marks every second for four seconds, next to `start`;
/// returns the second of each beat.
async fn start_with_heartbeat(executor: bool) -> Vec<u64> {
    let heartbeat = asyncsim::spawn(async {
        let mut beats = Vec::new();
        for _ in 0..4 {
            time::sleep(secs(1)).await;
            trace::mark("beat");
            beats.push(Instant::now().since_start().as_secs());
        }
        beats
    });
    start(executor).await;
    heartbeat.await.expect("heartbeat does not panic")
}

#[test]
fn the_loop_keeps_running_while_the_executor_blocks_and_stalls_when_the_loop_blocks() {
    for schedules in random_and_pct(RUNS) {
        asyncsim::check(schedules.clone(), || async {
            assert_eq!(start_with_heartbeat(true).await, [1, 2, 3, 4], "on time");
        });
        asyncsim::check(schedules, || async {
            // A run blocks the loop from 0 s to 3 s before the clock can
            // reach the first beat, so every schedule has it late.
            let beats = start_with_heartbeat(false).await;
            assert!(beats[0] >= 3, "first beat at {} s", beats[0]);
        });
    }
}

#[test]
fn run_in_executor_fifo_trace_snapshots() {
    assert_trace_snapshot("run_in_executor", &run_once(fifo(), start(true)).trace);
    assert_trace_snapshot(
        "run_in_executor_blocking_version",
        &run_once(fifo(), start(false)).trace,
    );
    let one_worker = Config::new().strategy(Strategy::Fifo).pool_size(1);
    assert_trace_snapshot(
        "run_in_executor_pool_of_one",
        &Sim::new(one_worker).run(start(true)).trace,
    );
}
