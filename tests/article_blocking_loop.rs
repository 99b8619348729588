//! "Blocking the loop": `time.sleep` inside a coroutine holds the event loop,
//! "halting all execution" — ten speakers that each `asyncio.sleep(3)` and
//! then `time.sleep(3)` run their async sleeps together (3 s) and then their
//! blocking sleeps one after another (10 × 3 s). asyncio's debug mode would
//! flag every one of those callbacks as slow; so does the engine.

#[path = "../examples/common/mod.rs"]
mod common;

use std::collections::BTreeSet;

use asyncsim::{blocking, time, trace, EventKind, TaskId};
use common::snippets::{run_speakers, secs, Bark};
use common::support::{assert_trace_snapshot, check_every_schedule, fifo, marks, run_once};

const RUNS: u64 = 500;
const SPEAKERS: usize = 10;

fn speaker_names() -> BTreeSet<String> {
    (0..SPEAKERS)
        .map(|index| format!("wait[{index}]"))
        .collect()
}

#[test]
fn ten_blocking_speakers_take_3_plus_10_times_3_virtual_seconds_on_every_schedule() {
    check_every_schedule(
        RUNS,
        || run_speakers(SPEAKERS, Bark::Blocking),
        |run| {
            assert!(run.is_ok());
            assert_eq!(run.elapsed(), secs(3 + 10 * 3));
        },
    );
}

#[test]
fn the_slow_poll_report_names_all_ten_speakers_on_every_schedule() {
    check_every_schedule(
        RUNS,
        || run_speakers(SPEAKERS, Bark::Blocking),
        |run| {
            let slow = run.slow_polls();
            assert_eq!(slow.len(), SPEAKERS);
            let named: BTreeSet<String> = slow.iter().map(|poll| poll.name.clone()).collect();
            assert_eq!(named, speaker_names());
            assert!(slow.iter().all(|poll| poll.held_ns == 3_000_000_000));
            // One after another: the k-th blocking sleep starts at 3 + 3k s.
            let starts: Vec<u64> = slow
                .iter()
                .map(|poll| poll.start_ns / 1_000_000_000)
                .collect();
            assert_eq!(starts, (0..10).map(|k| 3 + 3 * k).collect::<Vec<_>>());
        },
    );
}

#[test]
fn each_blocked_speaker_waits_for_the_previous_ones_so_they_finish_3_seconds_apart() {
    check_every_schedule(
        RUNS,
        || run_speakers(SPEAKERS, Bark::Blocking),
        |run| {
            let finished_at: Vec<u64> = run
                .trace
                .events()
                .iter()
                .filter(|event| event.kind == EventKind::Complete)
                .filter(|event| {
                    event
                        .task
                        .is_some_and(|task| task != asyncsim::TaskId::MAIN)
                })
                .map(|event| event.time_ns / 1_000_000_000)
                .collect();
            assert_eq!(finished_at, (0..10).map(|k| 6 + 3 * k).collect::<Vec<_>>());
        },
    );
}

#[test]
fn with_the_culprit_left_out_ten_speakers_take_3_virtual_seconds_and_nothing_is_slow() {
    check_every_schedule(
        RUNS,
        || run_speakers(SPEAKERS, Bark::WithoutCulprit),
        |run| {
            assert_eq!(run.elapsed(), secs(3));
            assert!(run.slow_polls().is_empty());
        },
    );
}

#[test]
fn with_asyncio_sleep_instead_of_time_sleep_ten_speakers_take_6_virtual_seconds() {
    check_every_schedule(
        RUNS,
        || run_speakers(SPEAKERS, Bark::Polite),
        |run| {
            assert_eq!(run.elapsed(), secs(3 + 3));
            assert!(run.slow_polls().is_empty());
        },
    );
}

#[test]
fn a_timer_due_while_the_loop_is_blocked_fires_late_on_every_schedule() {
    check_every_schedule(
        RUNS,
        || async {
            let heartbeat = asyncsim::spawn(async {
                time::sleep(secs(1)).await;
                trace::mark("heartbeat");
            });
            // The heartbeat has set its 1 s timer before the clock can move.
            time::sleep(std::time::Duration::from_millis(500)).await;
            blocking::sleep(secs(3));
            heartbeat.await.expect("heartbeat does not panic");
        },
        |run| {
            let timed: Vec<(u64, String)> = run
                .trace
                .timed_marks()
                .map(|(time_ns, mark)| (time_ns, mark.to_string()))
                .collect();
            assert_eq!(timed, [(3_500_000_000, "heartbeat".to_string())]);
            // The heartbeat's timer was set for 1 s and fired only when the
            // loop was released.
            let set_for: Vec<u64> = run
                .trace
                .events()
                .iter()
                .filter_map(|event| match event.kind {
                    EventKind::TimerSet { deadline_ns } if event.task != Some(TaskId::MAIN) => {
                        Some(deadline_ns)
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(set_for, [1_000_000_000]);
            let fired_at: Vec<u64> = run
                .trace
                .events()
                .iter()
                .filter(|event| matches!(event.kind, EventKind::TimerFire { .. }))
                .filter(|event| event.task != Some(TaskId::MAIN))
                .map(|event| event.time_ns)
                .collect();
            assert_eq!(fired_at, [3_500_000_000], "due at 1 s, fired at 3.5 s");
            assert_eq!(marks(&run.trace), ["heartbeat"]);
        },
    );
}

#[test]
fn blocking_loop_fifo_trace_snapshots() {
    assert_trace_snapshot(
        "blocking_loop",
        &run_once(fifo(), run_speakers(SPEAKERS, Bark::Blocking)).trace,
    );
    assert_trace_snapshot(
        "blocking_loop_without_culprit",
        &run_once(fifo(), run_speakers(SPEAKERS, Bark::WithoutCulprit)).trace,
    );
}
