//! Under `Strategy::Fifo` the engine reproduces asyncio's order: `call_soon`
//! FIFO for tasks, registration order for equal timers. Other strategies
//! reach the other orders.

mod engine_support;

use std::collections::BTreeSet;
use std::time::Duration;

use asyncsim::trace::mark;
use asyncsim::{task, time, yield_now, Config, Sim, Strategy, TaskId};
use engine_support::{ops, run_program, spawn_count};
use proptest::prelude::*;

fn fifo() -> Config {
    Config::new().strategy(Strategy::Fifo)
}

fn marks<T>(run: &asyncsim::Run<T>) -> Vec<&str> {
    run.trace.marks().collect()
}

#[test]
fn spawned_tasks_run_in_spawn_order_after_the_spawner_yields() {
    let run = Sim::new(fifo()).run(async {
        let handles: Vec<_> = ["A", "B", "C"]
            .into_iter()
            .map(|name| asyncsim::spawn(async move { mark(name) }))
            .collect();
        mark("main before yield");
        yield_now().await;
        mark("main after yield");
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(
        marks(&run),
        ["main before yield", "A", "B", "C", "main after yield"]
    );
    assert_eq!(run.trace.start_order(), [TaskId(1), TaskId(2), TaskId(3)]);
}

#[test]
fn a_yield_goes_to_the_back_of_the_queue() {
    let run = Sim::new(fifo()).run(async {
        let worker = |name: &'static str| async move {
            for round in 0..3 {
                mark(format!("{name}{round}"));
                yield_now().await;
            }
        };
        let a = asyncsim::spawn(worker("a"));
        let b = asyncsim::spawn(worker("b"));
        let c = asyncsim::spawn(worker("c"));
        a.await.unwrap();
        b.await.unwrap();
        c.await.unwrap();
    });
    assert_eq!(
        marks(&run),
        ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]
    );
}

#[test]
fn a_task_spawned_by_a_task_runs_after_everything_already_queued() {
    let run = Sim::new(fifo()).run(async {
        let outer = asyncsim::spawn(async {
            let inner = asyncsim::spawn(async { mark("inner") });
            mark("outer");
            inner.await.unwrap();
            mark("outer after inner");
        });
        let sibling = asyncsim::spawn(async { mark("sibling") });
        outer.await.unwrap();
        sibling.await.unwrap();
        mark("main done");
    });
    assert_eq!(
        marks(&run),
        [
            "outer",
            "sibling",
            "inner",
            "outer after inner",
            "main done"
        ]
    );
}

#[test]
fn equal_deadline_timers_fire_in_registration_order() {
    // C registers its timer first, then A, then B (the yields delay them),
    // all for t = 1 s; they must fire C, A, B.
    let run = Sim::new(fifo()).run(async {
        let sleeper = |name: &'static str, yields: usize| async move {
            for _ in 0..yields {
                yield_now().await;
            }
            time::sleep_until(time::Instant::from_nanos(1_000_000_000)).await;
            mark(name);
        };
        let a = asyncsim::spawn(sleeper("A", 1));
        let b = asyncsim::spawn(sleeper("B", 2));
        let c = asyncsim::spawn(sleeper("C", 0));
        a.await.unwrap();
        b.await.unwrap();
        c.await.unwrap();
    });
    assert_eq!(marks(&run), ["C", "A", "B"]);
    assert_eq!(run.elapsed(), Duration::from_secs(1));
    assert_eq!(run.tape.deviations(), 0);
}

fn three_timers(config: Config) -> Vec<String> {
    let run = Sim::new(config).run(async {
        let handles: Vec<_> = ["A", "B", "C"]
            .into_iter()
            .map(|name| {
                asyncsim::spawn(async move {
                    time::sleep(Duration::from_secs(1)).await;
                    mark(name);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(run.elapsed(), Duration::from_secs(1));
    run.trace.marks().map(str::to_string).collect()
}

#[test]
fn random_reaches_every_order_of_three_equal_timers() {
    assert_eq!(three_timers(fifo()), ["A", "B", "C"]);
    let orders: BTreeSet<Vec<String>> = (0..200)
        .map(|seed| three_timers(Config::new().seed(seed)))
        .collect();
    assert_eq!(orders.len(), 6, "orders seen: {orders:?}");
}

#[test]
fn timer_order_alone_is_drawn_for_equal_deadlines() {
    // With a single sleeper per deadline there is nothing to draw; with
    // three at one deadline there are two timer draws (3 options, then 2).
    let run = Sim::new(Config::new().seed(1)).run(async {
        let handles: Vec<_> = (0..3)
            .map(|_| asyncsim::spawn(time::sleep(Duration::from_secs(1))))
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let timer_bounds: Vec<u64> = run
        .tape
        .draws()
        .iter()
        .filter(|draw| draw.label == asyncsim::DrawLabel::Timer)
        .map(|draw| draw.bound)
        .collect();
    assert_eq!(timer_bounds, [3, 2]);
}

#[test]
fn named_tasks_keep_spawn_order_ids() {
    let run = Sim::new(fifo()).run(async {
        let first = task::Builder::new().name("first").spawn(async {});
        let second = task::Builder::new().name("second").spawn(async {});
        assert_eq!((first.id(), second.id()), (TaskId(1), TaskId(2)));
        first.await.unwrap();
        second.await.unwrap();
    });
    assert!(run.result.is_ok());
    assert_eq!(run.trace.task_name(TaskId(1)), "first");
    assert_eq!(run.trace.task_name(TaskId(2)), "second");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn under_fifo_tasks_first_run_in_spawn_order(program in ops()) {
        let run = run_program(&program, fifo());
        prop_assert!(run.result.is_ok());
        let expected: Vec<TaskId> = (1..=spawn_count(&program) as u32).map(TaskId).collect();
        prop_assert_eq!(run.trace.start_order(), expected);
        prop_assert_eq!(run.tape.deviations(), 0);
        // Random data is the start of its range on the canonical path.
        prop_assert!(run.trace.marks().all(|label| !label.contains(":r") || label.ends_with(":r0")));
    }

    #[test]
    fn fifo_never_polls_a_spawned_task_before_its_spawner_yields(program in ops()) {
        // Between a Spawn event and the spawned task's first Poll, the
        // spawner's current poll has ended (a Pending or Complete of the
        // spawner comes first).
        let run = run_program(&program, fifo());
        let events = run.trace.events();
        for (index, event) in events.iter().enumerate() {
            if let (asyncsim::EventKind::Spawn { parent: Some(parent) }, Some(child)) = (event.kind, event.task) {
                let first_poll = events[index..]
                    .iter()
                    .position(|later| later.task == Some(child) && later.kind == asyncsim::EventKind::Poll)
                    .expect("every spawned task is polled");
                let parent_ended = events[index..index + first_poll].iter().any(|later| {
                    later.task == Some(parent)
                        && matches!(later.kind, asyncsim::EventKind::Pending { .. } | asyncsim::EventKind::Complete)
                });
                prop_assert!(parent_ended, "{} ran inline in {}", child, parent);
            }
        }
    }
}
