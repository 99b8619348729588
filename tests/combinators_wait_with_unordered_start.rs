//! `wait(.., StartOrder::Unordered)` models `asyncio.wait` given
//! coroutines up to Python 3.10 (a set: start order not guaranteed): some
//! schedule starts the children out of argument order, and `done` and
//! `pending` are still consistent for every schedule.

use asyncsim::{time, trace, wait, EventKind, ReturnWhen, StartOrder};
use std::time::Duration;

mod schedule_support;

use schedule_support::every_run;

type Outcome = (Vec<(usize, usize)>, Vec<usize>);

async fn body() -> Outcome {
    let (done, pending) = wait(
        (0..4usize).map(|index| async move {
            trace::mark(format!("{index}"));
            time::sleep(Duration::from_secs(if index == 2 { 1 } else { 5 })).await;
            index
        }),
        ReturnWhen::FirstCompleted,
        StartOrder::Unordered,
    )
    .await;
    (done, pending.into_iter().map(|(index, _)| index).collect())
}

fn spawn_order(run: &asyncsim::Run<Outcome>) -> Vec<String> {
    let trace = &run.trace;
    trace
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Spawn { .. }))
        .filter_map(|event| event.task)
        .map(|task| trace.task_name(task).to_string())
        .filter(|name| name.starts_with("wait["))
        .collect()
}

#[test]
fn unordered_wait_splits_done_and_pending_for_every_schedule() {
    every_run(u32::MAX, 50_000, body, |run| {
        let (done, pending) = run.result.unwrap();
        assert_eq!(done, [(2, 2)]);
        assert_eq!(pending, [0, 1, 3], "pending is listed in argument order");
    });
}

#[test]
fn unordered_wait_starts_out_of_argument_order_on_some_schedule() {
    let argument: Vec<String> = (0..4).map(|index| format!("wait[{index}]")).collect();
    let mut orders = std::collections::BTreeSet::new();
    every_run(u32::MAX, 50_000, body, |run| {
        let spawned = spawn_order(&run);
        let mut sorted = spawned.clone();
        sorted.sort();
        assert_eq!(sorted, argument, "every child is spawned once");
        orders.insert(spawned);
    });
    assert!(orders.len() > 1);
    let witness = orders.iter().find(|order| **order != argument).unwrap();
    println!("a start order other than argument order: {witness:?}");
}

#[test]
fn argument_order_wait_always_spawns_in_argument_order() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            wait(
                (0..4usize).map(|index| async move { index }),
                ReturnWhen::AllCompleted,
                StartOrder::Argument,
            )
            .await
            .0
            .len()
        },
        |run| {
            let trace = &run.trace;
            let spawned: Vec<&str> = trace
                .events()
                .iter()
                .filter(|event| matches!(event.kind, EventKind::Spawn { .. }))
                .filter_map(|event| event.task)
                .map(|task| trace.task_name(task))
                .filter(|name| name.starts_with("wait["))
                .collect();
            assert_eq!(spawned, ["wait[0]", "wait[1]", "wait[2]", "wait[3]"]);
            assert_eq!(run.result.unwrap(), 4);
        },
    );
}
