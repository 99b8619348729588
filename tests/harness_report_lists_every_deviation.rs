//! The failure report's "FIFO except" lists every deviation of the shrunk
//! tape — scheduling, timers, random values — one line each, so the lines
//! count `deviations`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::{Counterexample, Explore};

fn settings() -> Explore {
    Explore::without_environment()
        .runs(2000)
        .persist(false)
        .trace_file(false)
        .progress(false)
}

/// The "FIFO except" lines of a report's schedule.
fn except_lines(found: &Counterexample) -> Vec<String> {
    let text = found.schedule_text();
    let mut lines = text.lines();
    match lines.next() {
        Some("FIFO except:") => lines.map(|line| line.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

fn assert_lines_match_deviations(found: &Counterexample) {
    let lines = except_lines(found);
    assert_eq!(lines.len(), found.deviations, "{found}");
    assert_eq!(found.tape.deviations(), found.deviations, "{found}");
}

#[test]
fn a_bug_caused_by_random_values_lists_each_value() {
    // Two random latencies; the bug needs both to be particular values.
    let summary = asyncsim::explore(settings(), || async {
        let first = asyncsim::random_range(0..4u64);
        let second = asyncsim::random_range(0..4u64);
        assert!(!(first == 3 && second == 2), "unlucky latencies");
    });
    let found = summary.first_failure.expect("found");
    assert_eq!(found.deviations, 2, "{found}");
    assert_lines_match_deviations(&found);
    let lines = except_lines(&found);
    assert!(
        lines.iter().all(|line| line.starts_with("random draw #")),
        "{found}"
    );
    assert!(lines[0].contains("was 3 instead of 0 (of 0..4)"), "{found}");
    assert!(lines[1].contains("was 2 instead of 0 (of 0..4)"), "{found}");
}

#[test]
fn a_bug_caused_by_a_random_value_and_a_timer_order_lists_both() {
    // A lease renewal lands at 2 ms. The checker waits a random latency;
    // it sees the lease expired only when its latency is also 2 ms (a
    // nonzero random draw) and its timer fires first (a timer deviation).
    let summary = asyncsim::explore(settings(), || async {
        let renewed = Rc::new(Cell::new(false));
        let latency_ms = asyncsim::random_range(1..=3u64);
        let renewer = {
            let renewed = renewed.clone();
            asyncsim::task::Builder::new()
                .name("renewer")
                .spawn(async move {
                    asyncsim::time::sleep(Duration::from_millis(2)).await;
                    renewed.set(true);
                })
        };
        let checker = {
            let renewed = renewed.clone();
            asyncsim::task::Builder::new()
                .name("checker")
                .spawn(async move {
                    asyncsim::time::sleep(Duration::from_millis(latency_ms)).await;
                    renewed.get() || latency_ms != 2
                })
        };
        renewer.await.unwrap();
        assert!(
            checker.await.unwrap(),
            "the lease was seen expired at its renewal"
        );
    });
    let found = summary.first_failure.expect("found");
    assert_eq!(found.deviations, 2, "{found}");
    assert_lines_match_deviations(&found);
    let lines = except_lines(&found);
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with("random draw #"))
            .count(),
        1,
        "{found}"
    );
    assert!(
        lines.iter().any(|line| line.contains("`checker`")),
        "the other deviation names the checker: {found}"
    );
}

#[test]
fn every_counterexample_of_a_mixed_search_has_one_line_per_deviation() {
    // A property over many failing schedules: seeds 0..40 each find a
    // failure of a body whose bug needs a random value and an interleaving.
    for base in 0..40 {
        let summary = asyncsim::explore(settings().runs(200).seed(base * 1000), || async {
            let counter = Rc::new(Cell::new(0));
            let pause = asyncsim::random_range(0..3u64);
            let first = {
                let counter = counter.clone();
                asyncsim::spawn(async move {
                    let read = counter.get();
                    for _ in 0..pause {
                        asyncsim::yield_now().await;
                    }
                    counter.set(read + 1);
                })
            };
            let second = {
                let counter = counter.clone();
                asyncsim::spawn(async move {
                    asyncsim::yield_now().await;
                    counter.set(counter.get() + 1);
                })
            };
            first.await.unwrap();
            second.await.unwrap();
            assert_eq!(counter.get(), 2, "lost update");
        });
        let found = summary.first_failure.expect("found");
        assert!(found.deviations >= 1, "{found}");
        assert_lines_match_deviations(&found);
    }
}

#[test]
fn a_fifo_schedule_with_the_program_s_own_crash_says_whose_the_fault_was() {
    // The body crashes a node itself and fails under plain FIFO: the
    // schedule drew no fault, yet the report lists one. It used to say
    // "nothing was delayed or faulted" just above that list.
    let summary = asyncsim::explore(settings().runs(5), || async {
        let server = asyncsim::node::Builder::new("server").start(|| async {});
        server.crash();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        assert!(server.is_running(), "the program's own crash");
    });
    let found = summary.first_failure.expect("it fails");
    let text = found.schedule_text();
    assert!(text.starts_with("plain FIFO, no deviations"), "{text}");
    assert!(
        text.ends_with("by the schedule (the faults listed below are the program's own)"),
        "{text}"
    );
    assert!(
        found.to_string().contains("crashed node `server`"),
        "{found}"
    );
    // Without a fault the words stay as they were.
    let plain = asyncsim::explore(settings().runs(5), || async {
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        assert!(asyncsim::node::current().ip().is_loopback(), "no fault");
    });
    let text = plain.first_failure.expect("it fails").schedule_text();
    assert!(text.ends_with("nothing was delayed or faulted"), "{text}");
}
