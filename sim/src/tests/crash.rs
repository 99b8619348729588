//! `cx::crash_node`: a node's tasks are dropped at the next step boundary,
//! their destructors run, their handles resolve with a crash error, and
//! nothing of the node (timers, pool jobs) acts afterwards.

use std::time::Duration;

use crate::cx::{self, NodeId};
use crate::trace::{mark, EventKind};
use crate::{Config, FailureKind, Run, Sim, Strategy};

/// Marks `label` when dropped: shows when (and whether) a future's
/// destructor ran.
struct MarkOnDrop(&'static str);

impl Drop for MarkOnDrop {
    fn drop(&mut self) {
        mark(self.0);
    }
}

/// Pending forever, marking `label` when dropped.
async fn park(label: &'static str) {
    let _guard = MarkOnDrop(label);
    std::future::pending::<()>().await;
}

fn run_fifo<T>(future: impl std::future::Future<Output = T>) -> Run<T> {
    Sim::new(Config::new().strategy(Strategy::Fifo)).run(future)
}

fn marks<T>(run: &Run<T>) -> Vec<&str> {
    run.trace.marks().collect()
}

#[test]
fn a_crash_drops_every_task_of_the_node_and_their_handles_resolve_with_the_crash() {
    let run = run_fifo(async {
        let server = cx::new_node("server".into());
        let first = cx::spawn_on(server, park("first dropped"), Some("first".into()));
        let second = cx::spawn_on(server, park("second dropped"), Some("second".into()));
        let bystander = crate::spawn(async {
            crate::yield_now().await;
            crate::yield_now().await;
            7
        });
        crate::yield_now().await; // both parked
        cx::crash_node(server, "test".into());
        let first = first.await.unwrap_err();
        let second = second.await.unwrap_err();
        (first, second, bystander.await.unwrap())
    });
    let (first, second, bystander) = run.result.as_ref().unwrap();
    assert!(first.is_crashed() && !first.is_cancelled() && !first.is_panic());
    assert_eq!(first.crashed_node(), Some("server"));
    assert_eq!(
        first.to_string(),
        "task `first` was dropped because node `server` crashed"
    );
    assert!(second.is_crashed());
    assert_eq!(*bystander, 7, "a task of another node is untouched");
    assert_eq!(marks(&run), ["first dropped", "second dropped"]);
    let crashes = run
        .trace
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Crash { node: 1 }))
        .count();
    assert_eq!(crashes, 2);
}

#[test]
fn a_spawned_task_inherits_its_parents_node_and_dies_with_it() {
    let run = run_fifo(async {
        let server = cx::new_node("server".into());
        let parent = cx::spawn_on(
            server,
            async {
                assert_eq!(cx::current_node(), NodeId(1));
                let child = crate::spawn(park("child dropped"));
                child.await.unwrap_err().is_crashed()
            },
            None,
        );
        assert_eq!(cx::current_node(), NodeId::MAIN);
        crate::yield_now().await;
        crate::yield_now().await;
        cx::crash_node(server, "test".into());
        parent.await.unwrap_err().is_crashed()
    });
    assert!(*run.result.as_ref().unwrap());
    assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["child dropped"]);
}

#[test]
fn a_crash_requested_inside_a_poll_takes_effect_after_the_poll() {
    let run = run_fifo(async {
        let server = cx::new_node("server".into());
        let worker = cx::spawn_on(
            server,
            async move {
                let _guard = MarkOnDrop("worker dropped");
                // The node crashes itself: the rest of this poll still runs.
                cx::crash_node(cx::current_node(), "self".into());
                mark("worker still polled");
                crate::yield_now().await;
                mark("worker polled again");
            },
            None,
        );
        let outcome = worker.await;
        mark("main resumed");
        outcome.unwrap_err().is_crashed()
    });
    assert!(*run.result.as_ref().unwrap());
    assert_eq!(
        marks(&run),
        ["worker still polled", "worker dropped", "main resumed"]
    );
}

#[test]
fn the_timers_of_a_crashed_node_never_fire() {
    let run = run_fifo(async {
        let server = cx::new_node("server".into());
        let sleeper = cx::spawn_on(
            server,
            async {
                crate::time::sleep(Duration::from_secs(5)).await;
                mark("woke");
            },
            None,
        );
        crate::yield_now().await;
        cx::crash_node(server, "test".into());
        crate::time::sleep(Duration::from_secs(10)).await;
        sleeper.await.unwrap_err().is_crashed()
    });
    assert!(*run.result.as_ref().unwrap());
    assert!(marks(&run).is_empty());
    let fired: Vec<_> = run
        .trace
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::TimerFire { .. }))
        .map(|event| event.task)
        .collect();
    assert_eq!(
        fired,
        [Some(crate::TaskId(0))],
        "only main's own timer fires"
    );
    assert_eq!(run.elapsed(), Duration::from_secs(10));
}

#[test]
fn the_pool_jobs_of_a_crashed_node_die_queued_or_running() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo).pool_size(1)).run(async {
        let server = cx::new_node("server".into());
        let submitter = cx::spawn_on(
            server,
            async {
                let running = crate::spawn_blocking(|| {
                    crate::blocking::sleep(Duration::from_secs(3));
                    1
                });
                let queued = crate::spawn_blocking(|| {
                    mark("queued job ran");
                    2
                });
                (running.await, queued.await)
            },
            None,
        );
        // Let the submitter queue both jobs; the first one runs.
        crate::yield_now().await;
        cx::crash_node(server, "test".into());
        crate::yield_now().await;
        // The worker is free again: a job of main runs at once.
        let after = crate::spawn_blocking(|| {
            mark("main's job ran");
            3
        })
        .await
        .unwrap();
        (submitter.await.unwrap_err().is_crashed(), after)
    });
    assert_eq!(run.result.as_ref().unwrap(), &(true, 3));
    assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["main's job ran"]);
    assert_eq!(
        run.elapsed(),
        Duration::ZERO,
        "the crashed job's finish never came"
    );
    let pool_finishes = run
        .trace
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::PoolFinish { .. }))
        .count();
    assert_eq!(pool_finishes, 1, "only main's job finished");
}

#[test]
fn a_panicking_destructor_at_a_crash_leaves_no_handle_hanging_and_fails_the_run() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("destructor blew up");
        }
    }
    let run = run_fifo(async {
        let server = cx::new_node("server".into());
        let bomb = cx::spawn_on(
            server,
            async {
                let _bomb = PanicOnDrop;
                std::future::pending::<()>().await;
            },
            Some("bomb".into()),
        );
        let calm = cx::spawn_on(server, park("calm dropped"), Some("calm".into()));
        crate::yield_now().await;
        cx::crash_node(server, "test".into());
        let bomb = bomb.await.unwrap_err().is_crashed();
        let calm = calm.await.unwrap_err().is_crashed();
        mark("both handles resolved");
        (bomb, calm)
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure.message.contains("destructor of task `bomb`")
            && failure.message.contains("destructor blew up"),
        "{}",
        failure.message
    );
    // The calm task was still dropped after the bomb's destructor panicked.
    assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["calm dropped"]);
}

#[test]
fn an_abort_whose_destructor_panics_still_resolves_the_handle() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("destructor blew up");
        }
    }
    let run = run_fifo(async {
        let victim = crate::spawn(async {
            let _bomb = PanicOnDrop;
            std::future::pending::<()>().await;
        });
        crate::yield_now().await;
        let victim_id = victim.id();
        let aborter = crate::spawn(async move { cx::abort_task(victim_id) });
        let aborter = aborter.await.unwrap_err();
        (victim.await.unwrap_err().is_cancelled(), aborter.is_panic())
    });
    assert_eq!(run.result.unwrap(), (true, true));
}

#[test]
fn the_main_node_cannot_crash() {
    let run = run_fifo(async { cx::crash_node(NodeId::MAIN, "test".into()) });
    let failure = run.result.unwrap_err();
    assert!(failure.message.contains("the main node cannot crash"));
}

#[test]
fn weighted_draws_are_zero_without_a_draw_when_faults_are_off() {
    let body = || async {
        (0..200)
            .map(|_| cx::draw_weighted(crate::DrawLabel::Fault, 4, 0.5, "test"))
            .collect::<Vec<u64>>()
    };
    let on = Sim::new(Config::new().seed(3)).run(body());
    let values = on.result.unwrap();
    assert!(values.iter().all(|value| *value < 4));
    let nonzero = values.iter().filter(|value| **value != 0).count();
    assert!(
        (60..140).contains(&nonzero),
        "about half nonzero: {nonzero}"
    );
    assert_eq!(on.tape.len(), 200);
    let off = Sim::new(Config::new().seed(3).faults(false)).run(body());
    assert!(off.result.unwrap().iter().all(|value| *value == 0));
    assert_eq!(off.tape.len(), 0);
    // A replay gives the same values.
    let replay = Sim::new(Config::new().strategy(Strategy::Replay(on.tape.clone()))).run(body());
    assert_eq!(replay.result.unwrap(), values);
}
