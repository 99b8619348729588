//! `as_completed` yields outputs in the order the children finish: with
//! distinct sleep durations, shortest first, for every schedule within three
//! deviations of FIFO; it starts
//! the children in a drawn order (asyncio passes it a set).

use asyncsim::{as_completed, as_completed_with, time, EventKind, Sim, StartOrder};
use std::time::Duration;

mod schedule_support;

use schedule_support::{every_run, random_and_pct};

#[test]
fn as_completed_yields_shortest_sleep_first_for_every_schedule_within_three_deviations() {
    every_run(
        3,
        50_000,
        || async {
            // Distinct durations, shuffled by a draw.
            let mut durations: Vec<u64> = (1..=5).collect();
            for index in (1..durations.len()).rev() {
                let other = asyncsim::random_range(0..=index);
                durations.swap(index, other);
            }
            let mut finished = as_completed(durations.iter().map(|millis| {
                let millis = *millis;
                async move {
                    time::sleep(Duration::from_millis(millis)).await;
                    millis
                }
            }));
            let mut order = Vec::new();
            while let Some(millis) = finished.next().await {
                order.push(millis);
            }
            (durations, order)
        },
        |run| {
            let (durations, order) = run.result.unwrap();
            assert_eq!(
                order,
                [1, 2, 3, 4, 5],
                "durations {durations:?}, replay {}",
                run.tape
            );
        },
    );
}

#[test]
fn as_completed_yields_in_completion_order_when_children_tie_in_time() {
    every_run(
        3,
        50_000,
        || async {
            let mut finished = as_completed_with(
                StartOrder::Argument,
                (0..4usize).map(|index| async move {
                    for _ in 0..asyncsim::random_range(0..4u32) {
                        asyncsim::yield_now().await;
                    }
                    asyncsim::trace::mark(format!("{index}"));
                    index
                }),
            );
            let mut order = Vec::new();
            while let Some((index, output)) = finished.next_indexed().await {
                assert_eq!(index, output);
                order.push(output);
            }
            order
        },
        |run| {
            let marked: Vec<usize> = run
                .trace
                .marks()
                .map(|mark| mark.parse().unwrap())
                .collect();
            assert_eq!(run.result.unwrap(), marked, "replay {}", run.tape);
        },
    );
}

#[test]
fn as_completed_starts_children_in_a_drawn_order() {
    let mut orders = std::collections::BTreeSet::new();
    for config in random_and_pct(250).take(100) {
        let run = Sim::new(config).run(async {
            let mut finished = as_completed((0..3usize).map(|index| async move { index }));
            while finished.next().await.is_some() {}
        });
        let trace = &run.trace;
        let spawned: Vec<String> = trace
            .events()
            .iter()
            .filter(|event| matches!(event.kind, EventKind::Spawn { .. }))
            .filter_map(|event| event.task)
            .map(|task| trace.task_name(task).to_string())
            .filter(|name| name.starts_with("as_completed["))
            .collect();
        assert_eq!(spawned.len(), 3);
        orders.insert(spawned);
    }
    assert!(orders.len() > 1, "the start order varies: {orders:?}");
}
