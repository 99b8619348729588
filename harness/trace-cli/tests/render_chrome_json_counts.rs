//! The Chrome Trace Event JSON of a run parses and holds, per task track,
//! one complete event per poll and one instant per mark.

mod samples;

use asyncsim_harness::render::{chrome_json, TraceExt};
use asyncsim_sim::trace::{EventKind, TaskId, Trace};
use serde_json::Value;

fn parse(trace: &Trace) -> Vec<Value> {
    let value: Value = serde_json::from_str(&chrome_json(trace)).expect("valid JSON");
    value["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .clone()
}

fn count(events: &[Value], phase: &str, category: &str, tid: u64) -> usize {
    events
        .iter()
        .filter(|event| event["ph"] == phase && event["cat"] == category && event["tid"] == tid)
        .count()
}

fn count_in_trace(trace: &Trace, task: TaskId, wanted: fn(&EventKind) -> bool) -> usize {
    trace
        .events()
        .iter()
        .filter(|event| event.task == Some(task) && wanted(&event.kind))
        .count()
}

#[test]
fn every_poll_and_mark_is_on_its_task_track_for_every_schedule() {
    for seed in 0..200 {
        let run = samples::run_in_executor(seed);
        let events = parse(&run.trace);
        for index in 0..run.trace.tasks().len() {
            let task = TaskId(index as u32);
            let tid = index as u64 + 1;
            let polls = count_in_trace(&run.trace, task, |kind| *kind == EventKind::Poll);
            let marks = count_in_trace(&run.trace, task, |kind| {
                matches!(kind, EventKind::Mark { .. })
            });
            assert_eq!(
                count(&events, "X", "poll", tid),
                polls,
                "seed {seed} task {index}"
            );
            assert_eq!(
                count(&events, "i", "mark", tid),
                marks,
                "seed {seed} task {index}"
            );
            let names: Vec<&Value> = events
                .iter()
                .filter(|event| {
                    event["ph"] == "M" && event["name"] == "thread_name" && event["tid"] == tid
                })
                .map(|event| &event["args"]["name"])
                .collect();
            assert_eq!(names.len(), 1);
            assert!(names[0]
                .as_str()
                .unwrap()
                .starts_with(run.trace.task_name(task)));
        }
        // Two pool jobs, each drawn on its job track and its worker track.
        let workers = events
            .iter()
            .filter(|event| event["ph"] == "X" && event["cat"] == "pool")
            .filter(|event| event["tid"].as_u64().unwrap() >= 1_000_000)
            .count();
        assert_eq!(workers, 2, "seed {seed}");
        // Every flow start has its finish.
        let starts = events.iter().filter(|event| event["ph"] == "s").count();
        let finishes = events.iter().filter(|event| event["ph"] == "f").count();
        assert_eq!(starts, finishes);
        assert!(starts > 0);
    }
}

#[test]
fn a_blocking_poll_lasts_as_long_as_it_held_the_loop() {
    let run = samples::blocking_speakers(10);
    let events = parse(&run.trace);
    let blocking: Vec<&Value> = events
        .iter()
        .filter(|event| event["ph"] == "X" && event["cat"] == "poll,blocking")
        .collect();
    assert_eq!(blocking.len(), 10);
    for (index, event) in blocking.iter().enumerate() {
        assert_eq!(event["dur"].as_f64(), Some(3_000_000.0)); // 3 s in µs
        assert_eq!(
            event["ts"].as_f64(),
            Some(3_000_000.0 * (index as f64 + 1.0))
        );
        assert_eq!(event["tid"].as_u64(), Some(index as u64 + 2));
    }
    // Timestamps are virtual: the last event is at 33 s.
    let last = events
        .iter()
        .filter_map(|event| event["ts"].as_f64())
        .fold(0.0, f64::max);
    assert_eq!(last, 33_000_000.0);
    assert_eq!(run.trace.to_chrome_json(), chrome_json(&run.trace));
}
