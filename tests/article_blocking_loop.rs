//! "Blocking the loop": `time.sleep` inside a coroutine holds the event loop,
//! "halting all execution" — ten speakers that each `asyncio.sleep(3)` and
//! then `time.sleep(3)` run their async sleeps together (3 s) and then their
//! blocking sleeps one after another (10 × 3 s). asyncio's debug mode would
//! flag every one of those callbacks as slow; so does the engine.

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use std::collections::BTreeSet;
use std::time::Duration;

use asyncsim::blocking::{self, slow_polls_so_far};
use asyncsim::time::{self, Instant};
use asyncsim::trace::{self, marks_so_far};
use asyncsim::{ReturnWhen, StartOrder};
use common::snippets::{run_speakers, secs, speak_with, Bark};
use common::support::{assert_trace_snapshot, fifo, run_once};
use schedule_support::on_every_schedule;

const SPEAKERS: usize = 10;

#[test]
fn ten_blocking_speakers_take_3_plus_10_times_3_virtual_seconds_on_every_schedule_within_one_deviation(
) {
    on_every_schedule(1, 50_000, || async {
        run_speakers(SPEAKERS, Bark::Blocking).await;
        assert_eq!(Instant::now().since_start(), secs(3 + 10 * 3));
    });
}

#[test]
fn the_slow_poll_report_names_all_ten_speakers_on_every_schedule_within_one_deviation() {
    on_every_schedule(1, 50_000, || async {
        run_speakers(SPEAKERS, Bark::Blocking).await;
        let slow = slow_polls_so_far();
        let named: BTreeSet<String> = slow.iter().map(|poll| poll.name.clone()).collect();
        let speakers: BTreeSet<String> = (0..SPEAKERS)
            .map(|index| format!("wait[{index}]"))
            .collect();
        assert_eq!(slow.len(), SPEAKERS);
        assert_eq!(named, speakers);
        assert!(slow.iter().all(|poll| poll.held_ns == 3_000_000_000));
        // One after another: the k-th blocking sleep starts at 3 + 3k s.
        let starts: Vec<u64> = slow
            .iter()
            .map(|poll| poll.start_ns / 1_000_000_000)
            .collect();
        assert_eq!(starts, (0..10).map(|k| 3 + 3 * k).collect::<Vec<_>>());
    });
}

#[test]
fn each_blocked_speaker_waits_for_the_previous_ones_so_they_finish_3_seconds_apart() {
    // `run_speakers`, with each speaker reporting when it finished.
    on_every_schedule(1, 50_000, || async {
        let speakers: Vec<_> = (0..SPEAKERS)
            .map(|_| async {
                assert!(speak_with(Bark::Blocking).await);
                Instant::now().since_start().as_secs()
            })
            .collect();
        let (done, pending) =
            asyncsim::wait(speakers, ReturnWhen::AllCompleted, StartOrder::Unordered).await;
        assert!(pending.is_empty());
        let mut finished_at: Vec<u64> = done.iter().map(|(_, at)| *at).collect();
        finished_at.sort_unstable();
        assert_eq!(finished_at, (0..10).map(|k| 6 + 3 * k).collect::<Vec<_>>());
    });
}

#[test]
fn with_the_culprit_left_out_ten_speakers_take_3_virtual_seconds_and_nothing_is_slow() {
    on_every_schedule(1, 50_000, || async {
        run_speakers(SPEAKERS, Bark::WithoutCulprit).await;
        assert_eq!(Instant::now().since_start(), secs(3));
        assert!(slow_polls_so_far().is_empty());
    });
}

#[test]
fn with_asyncio_sleep_instead_of_time_sleep_ten_speakers_take_6_virtual_seconds() {
    on_every_schedule(1, 50_000, || async {
        run_speakers(SPEAKERS, Bark::Polite).await;
        assert_eq!(Instant::now().since_start(), secs(3 + 3));
        assert!(slow_polls_so_far().is_empty());
    });
}

#[test]
fn a_timer_due_while_the_loop_is_blocked_fires_late_on_every_schedule() {
    on_every_schedule(u32::MAX, 50_000, || async {
        let heartbeat = asyncsim::spawn(async {
            let due = Instant::now() + secs(1);
            time::sleep(secs(1)).await;
            trace::mark("heartbeat");
            (due, Instant::now())
        });
        // The heartbeat has set its 1 s timer before the clock can move.
        time::sleep(Duration::from_millis(500)).await;
        blocking::sleep(secs(3));
        let (due, fired) = heartbeat.await.expect("heartbeat does not panic");
        assert_eq!(due.since_start(), secs(1), "set for 1 s");
        assert_eq!(
            fired.since_start(),
            Duration::from_millis(3500),
            "fired only when the loop was released"
        );
        assert_eq!(marks_so_far(), ["heartbeat"]);
        let slow = slow_polls_so_far();
        assert_eq!(slow.len(), 1, "main's blocking poll: {slow:?}");
        assert_eq!(
            (slow[0].start_ns, slow[0].held_ns),
            (500_000_000, 3_000_000_000)
        );
    });
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
