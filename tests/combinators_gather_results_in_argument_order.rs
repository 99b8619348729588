//! `gather` returns its children's outputs in argument order, whatever the
//! schedule and whatever order they finish in; children are spawned in
//! argument order and, under FIFO scheduling, first run in that order.

use asyncsim::trace::TaskId;
use asyncsim::{gather, time, Config, EventKind, Sim, Strategy};
use std::time::Duration;

/// 250 seeds under `Random` and 250 under `Pct { depth: 3 }`.
mod schedule_support;

use schedule_support::{every_run, random_and_pct};

/// Five children that sleep a drawn time and yield a drawn number of times.
async fn five_children() -> Vec<usize> {
    gather((0..5usize).map(|index| async move {
        let millis = asyncsim::random_range(0..4u64);
        time::sleep(Duration::from_millis(millis)).await;
        for _ in 0..asyncsim::random_range(0..3u32) {
            asyncsim::yield_now().await;
        }
        index * 10
    }))
    .await
}

/// The ids of the tasks named `gather[i]`, in the order they were spawned.
fn spawn_order(trace: &asyncsim::Trace) -> Vec<TaskId> {
    trace
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Spawn { .. }))
        .filter_map(|event| event.task)
        .filter(|task| trace.task_name(*task).starts_with("gather["))
        .collect()
}

fn names(trace: &asyncsim::Trace, tasks: &[TaskId]) -> Vec<String> {
    tasks
        .iter()
        .map(|task| trace.task_name(*task).to_string())
        .collect()
}

fn argument_order() -> Vec<String> {
    (0..5).map(|index| format!("gather[{index}]")).collect()
}

#[test]
fn gather_returns_results_in_argument_order_for_every_schedule_within_two_deviations() {
    let mut completion_orders = std::collections::BTreeSet::new();
    every_run(2, 50_000, five_children, |run| {
        let trace = &run.trace;
        let completed: Vec<String> = trace
            .events()
            .iter()
            .filter(|event| matches!(event.kind, EventKind::Complete))
            .filter_map(|event| event.task)
            .map(|task| trace.task_name(task).to_string())
            .collect();
        completion_orders.insert(completed);
        assert_eq!(
            run.result.as_ref().unwrap(),
            &[0, 10, 20, 30, 40],
            "replay {}",
            run.tape
        );
    });
    // The property is only interesting if the children really finished in
    // different orders.
    assert!(completion_orders.len() > 10, "{completion_orders:?}");
}

#[test]
fn gather_spawns_children_in_argument_order_for_every_schedule_within_two_deviations() {
    every_run(2, 50_000, five_children, |run| {
        assert_eq!(
            names(&run.trace, &spawn_order(&run.trace)),
            argument_order(),
            "replay {}",
            run.tape
        );
    });
}

#[test]
fn gather_with_fifo_starts_children_in_argument_order() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(five_children());
    assert_eq!(run.result.unwrap(), [0, 10, 20, 30, 40]);
    assert_eq!(
        names(&run.trace, &run.trace.start_order()),
        argument_order()
    );
}

#[test]
fn gather_of_nothing_is_an_empty_vec_at_once() {
    let run =
        Sim::new(Config::new()).run(async { gather(Vec::<std::future::Ready<u8>>::new()).await });
    assert_eq!(run.steps(), 1);
    assert!(run.result.unwrap().is_empty());
}

#[test]
fn gather_reraises_a_child_panic_naming_the_child() {
    for config in random_and_pct(250).take(100) {
        let run = Sim::new(config).run(async {
            gather((0..3).map(|index| async move {
                asyncsim::yield_now().await;
                assert_ne!(index, 1, "child one fails");
                index
            }))
            .await
        });
        let failure = run.result.unwrap_err();
        assert_eq!(failure.kind, asyncsim::FailureKind::Panic);
        assert!(
            failure.message.contains("child 1") && failure.message.contains("child one fails"),
            "{}",
            failure.message
        );
    }
}

#[test]
fn dropping_a_gather_aborts_its_children() {
    for config in random_and_pct(250).take(100) {
        let run = Sim::new(config).run(async {
            let result = time::timeout(
                Duration::from_secs(1),
                gather((1..=3u64).map(|seconds| async move {
                    time::sleep(Duration::from_secs(seconds * 5)).await;
                    asyncsim::trace::mark("child finished");
                })),
            )
            .await;
            time::sleep(Duration::from_secs(60)).await;
            result.is_err()
        });
        assert_eq!(run.trace.marks().count(), 0, "replay {}", run.tape);
        assert!(run.result.unwrap());
    }
}
