//! A run longer than `Config::trace_events_max` records its first events
//! and keeps its last 20 past the cap: the report's last events are the
//! run's real end, and its heading says so, at which step the recording
//! stopped, and where the run failed. A trace that was not cut keeps the
//! plain heading.

use asyncsim::{explore, Config, Counterexample, EventKind, Explore};

/// Two tasks that yield 100 times each, then a panic: some 400 events.
async fn two_hundred_yields_then_a_panic() {
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            asyncsim::spawn(async {
                for _ in 0..100 {
                    asyncsim::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    panic!("the end");
}

fn found(config: Config) -> Counterexample {
    let settings = Explore::without_environment()
        .runs(1)
        .persist(false)
        .progress(false)
        .trace_file(false)
        .config(config);
    explore(settings, two_hundred_yields_then_a_panic)
        .first_failure
        .expect("every schedule fails")
}

#[test]
fn a_cut_trace_shows_the_runs_last_events_and_says_where_it_stopped() {
    let found = found(Config::new().trace_events_max(50));
    let events = found.trace.events();
    // The first 50, and the warning at the run's end that the cap was hit.
    assert_eq!(events.len(), 51);
    assert_eq!(
        events[50].kind,
        EventKind::Warning(asyncsim::trace::Warning::TraceTruncated)
    );
    let stopped = events[49].step;
    let end = events[50].step;
    let more = found.trace.event_count() - 51;
    assert!(end > stopped + 100, "{found}");
    let report = found.to_string();
    let heading = format!(
        "\nlast 20 events (step, virtual time, task, event), where the run ended: the trace keeps a run's \
         first 50 events (Config::trace_events_max) and stopped recording at step {stopped}; the run made \
         {more} more and ended at step {end}, of which these are the last:\n"
    );
    assert!(report.contains(&heading), "{report}");
    // The run's end: the last 20 events past the cap, the last of them the
    // main task's poll that panicked, at the step the run ended.
    let past_cap = found.trace.events_past_cap();
    assert_eq!(past_cap.len(), 20);
    assert_eq!(past_cap[19].step, end, "{past_cap:?}");
    assert!(past_cap[0].step > stopped + 100, "{past_cap:?}");
    let lines: Vec<&str> = report
        .split(&heading)
        .nth(1)
        .unwrap()
        .lines()
        .take(20)
        .collect();
    for (line, event) in lines.iter().zip(&past_cap) {
        assert!(
            line.starts_with(&format!("{:>5} ", event.step)),
            "{line}\n{report}"
        );
    }
    assert_eq!(
        lines[19],
        found.trace.tail_past_cap().lines().last().unwrap()
    );
}

#[test]
fn a_whole_trace_keeps_the_plain_heading() {
    let found = found(Config::new());
    assert_eq!(found.trace.event_count(), found.trace.events().len() as u64);
    let report = found.to_string();
    assert!(
        report.contains("\nlast 20 events (step, virtual time, task, event):\n"),
        "{report}"
    );
    assert!(!report.contains("not the run's last"), "{report}");
}
