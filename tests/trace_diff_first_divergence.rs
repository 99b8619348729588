//! `diff::first_divergence` names the first event where two traces differ.

mod render_samples;

use asyncsim::harness::diff::first_divergence;
use asyncsim::trace::{EventKind, TaskId};
use asyncsim::Trace;

fn with_event_changed(trace: &Trace, index: usize, kind: EventKind) -> Trace {
    let mut events = trace.events().to_vec();
    events[index].kind = kind;
    Trace::from_parts(events, trace.tasks().to_vec(), trace.labels().to_vec())
}

#[test]
fn identical_runs_have_no_divergence() {
    for seed in 0..100 {
        let a = render_samples::assorted(seed);
        let b = render_samples::assorted(seed);
        assert_eq!(first_divergence(&a.trace, &b.trace), None, "seed {seed}");
    }
}

#[test]
fn a_trace_changed_at_a_known_event_diverges_exactly_there() {
    let run = render_samples::blocking_speakers();
    let count = run.trace.events().len();
    for index in [0, 1, count / 2, count - 1] {
        let changed = with_event_changed(&run.trace, index, EventKind::Abort);
        let divergence = first_divergence(&run.trace, &changed).expect("they differ");
        assert_eq!(divergence.index, index);
        assert_eq!(divergence.left, Some(run.trace.events()[index]));
        assert_eq!(
            divergence.right.map(|event| event.kind),
            Some(EventKind::Abort)
        );
        let text = divergence.to_string();
        assert!(
            text.contains(&format!("diverge at event #{index}")),
            "{text}"
        );
        assert!(text.contains("aborted"), "{text}");
        assert_eq!(divergence.common.len(), index.min(3), "{text}");
    }
}

#[test]
fn the_report_names_tasks_and_shows_both_sides() {
    let run = render_samples::blocking_speakers();
    // Find speak-3's blocking sleep and make it a different task's.
    let index = run
        .trace
        .events()
        .iter()
        .position(|event| {
            event.task == Some(TaskId(4)) && matches!(event.kind, EventKind::BlockingSleep { .. })
        })
        .unwrap();
    let mut events = run.trace.events().to_vec();
    events[index].task = Some(TaskId(5));
    let other = Trace::from_parts(
        events,
        run.trace.tasks().to_vec(),
        run.trace.labels().to_vec(),
    );
    let text = first_divergence(&run.trace, &other).unwrap().to_string();
    assert!(text.contains("left:") && text.contains("right:"), "{text}");
    let marked: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("  > "))
        .collect();
    assert_eq!(marked.len(), 2, "{text}");
    assert!(
        marked[0].contains("speak-3") && marked[1].contains("speak-4"),
        "{text}"
    );
}

#[test]
fn a_prefix_diverges_where_it_ends() {
    let run = render_samples::blocking_speakers();
    let keep = run.trace.events().len() - 5;
    let prefix = Trace::from_parts(
        run.trace.events()[..keep].to_vec(),
        run.trace.tasks().to_vec(),
        run.trace.labels().to_vec(),
    );
    let divergence = first_divergence(&run.trace, &prefix).unwrap();
    assert_eq!(divergence.index, keep);
    assert!(divergence.left.is_some());
    assert_eq!(divergence.right, None);
    assert!(divergence.to_string().contains("(the trace ends here)"));
}

#[test]
fn different_schedules_diverge_at_the_first_different_event() {
    let mut found = 0;
    for seed in 1..100 {
        let a = render_samples::assorted(0);
        let b = render_samples::assorted(seed);
        if a.trace == b.trace {
            continue;
        }
        let divergence = first_divergence(&a.trace, &b.trace).expect("the traces differ");
        let index = divergence.index;
        // Everything before the divergence is the same event by event (marks
        // compare by text: label numbers depend on the order of first use).
        for (left, right) in a.trace.events()[..index]
            .iter()
            .zip(&b.trace.events()[..index])
        {
            assert_eq!(
                (left.step, left.time_ns, left.task),
                (right.step, right.time_ns, right.task)
            );
            assert_eq!(
                a.trace.describe(left),
                b.trace.describe(right),
                "seed {seed}"
            );
        }
        assert_ne!(divergence.left, divergence.right, "seed {seed}");
        found += 1;
    }
    assert!(found > 10, "only {found} schedules differed");
}
