//! "Unblock the Blockers": `blocking_func` called on the loop makes the two
//! `run` jobs take turns (3 s + 3 s); handed to `run_in_executor`, it runs
//! on the executor pool, both jobs block at the same time on two workers,
//! and the whole thing takes 3 s — "no more blocking the event loop". With a
//! pool of one worker, the jobs queue and it takes 6 s again.

#[path = "../examples/common/mod.rs"]
mod common;

use asyncsim::{time, trace, Config, Sim, Strategy};
use common::snippets::{secs, start};
use common::support::{
    assert_trace_snapshot, check_every_schedule, fifo, marks, run_once, schedules,
};

const RUNS: u64 = 500;

fn positions(marks: &[String], label: &str) -> Vec<usize> {
    marks
        .iter()
        .enumerate()
        .filter(|(_, mark)| *mark == label)
        .map(|(index, _)| index)
        .collect()
}

#[test]
fn two_jobs_in_the_executor_finish_in_3_virtual_seconds_on_every_schedule() {
    check_every_schedule(
        RUNS,
        || start(true),
        |run| {
            assert!(run.is_ok());
            assert_eq!(run.elapsed(), secs(3));
            assert!(run.slow_polls().is_empty(), "the loop is never blocked");
        },
    );
}

#[test]
fn both_before_block_marks_come_before_either_after_block_mark_on_every_schedule() {
    check_every_schedule(
        RUNS,
        || start(true),
        |run| {
            let marks = marks(&run.trace);
            let before = positions(&marks, "before block");
            let after = positions(&marks, "after block");
            assert_eq!((before.len(), after.len()), (2, 2), "marks: {marks:?}");
            assert!(before[1] < after[0], "marks: {marks:?}");
            // Both runs have started before either ends: they overlap.
            assert_eq!(positions(&marks, "before run").len(), 2);
            assert_eq!(&marks[6..], ["after run", "after run"], "marks: {marks:?}");
        },
    );
}

#[test]
fn with_a_pool_of_one_worker_the_jobs_queue_and_take_6_virtual_seconds() {
    for config in schedules(RUNS) {
        let run = Sim::new(config.pool_size(1)).run(start(true));
        assert!(run.is_ok());
        assert_eq!(run.elapsed(), secs(6), "seed {}", run.seed);
        // The second job blocks only when the first is done.
        let blocks: Vec<(u64, String)> = run
            .trace
            .timed_marks()
            .filter(|(_, mark)| mark.ends_with("block"))
            .map(|(time_ns, mark)| (time_ns / 1_000_000_000, mark.to_string()))
            .collect();
        let starts: Vec<u64> = blocks
            .iter()
            .filter(|(_, mark)| mark == "before block")
            .map(|(seconds, _)| *seconds)
            .collect();
        assert_eq!(starts, [0, 3], "seed {}: {blocks:?}", run.seed);
        assert!(
            run.slow_polls().is_empty(),
            "a queued job does not block the loop"
        );
    }
}

#[test]
fn blocking_func_on_the_loop_takes_6_virtual_seconds_and_the_runs_take_turns() {
    let one_run = ["before run", "before block", "after block", "after run"];
    check_every_schedule(
        RUNS,
        || start(false),
        |run| {
            assert!(run.is_ok());
            assert_eq!(run.elapsed(), secs(6));
            assert_eq!(marks(&run.trace), [one_run, one_run].concat());
            let slow: Vec<&str> = run
                .slow_polls()
                .iter()
                .map(|poll| poll.name.as_str())
                .collect();
            assert_eq!(slow.len(), 2, "both runs hold the loop: {slow:?}");
        },
    );
}

/// A heartbeat that marks every second for four seconds, next to `start`.
async fn start_with_heartbeat(executor: bool) -> Vec<u64> {
    let heartbeat = asyncsim::spawn(async {
        let mut beats = Vec::new();
        for _ in 0..4 {
            time::sleep(secs(1)).await;
            trace::mark("beat");
            beats.push(time::Instant::now().as_nanos() / 1_000_000_000);
        }
        beats
    });
    start(executor).await;
    heartbeat.await.expect("heartbeat does not panic")
}

#[test]
fn the_loop_keeps_running_while_the_executor_blocks_and_stalls_when_the_loop_blocks() {
    check_every_schedule(
        RUNS,
        || start_with_heartbeat(true),
        |run| {
            assert_eq!(run.result.as_ref().ok(), Some(&vec![1, 2, 3, 4]), "on time");
        },
    );
    check_every_schedule(
        RUNS,
        || start_with_heartbeat(false),
        |run| {
            // A run blocks the loop from 0 s to 3 s before the clock can
            // reach the first beat, so every schedule has it late.
            let beats = run.result.as_ref().expect("the run completes");
            assert!(beats[0] >= 3, "first beat at {} s", beats[0]);
        },
    );
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
