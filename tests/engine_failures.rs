//! Every way a run can fail is reported as a value in `run.result`, with a
//! message a user can act on; softer problems become trace warnings.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use asyncsim::trace::Warning;
use asyncsim::{
    task, time, yield_now, Config, Draw, DrawLabel, EventKind, FailureKind, JoinHandle, Run, Sim,
    Strategy, Tape, TaskId,
};

fn fifo() -> Config {
    Config::new().strategy(Strategy::Fifo)
}

#[test]
fn a_panic_in_the_main_task_names_main_time_step_and_payload() {
    let run = Sim::new(fifo()).run(async {
        time::sleep(Duration::from_millis(2_500)).await;
        if run_forever_flag() {
            return 1;
        }
        panic!("boom in main: {}", 7);
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure.message.contains("the main future panicked"),
        "{failure}"
    );
    assert!(failure.message.contains("boom in main: 7"), "{failure}");
    assert!(
        failure.message.contains("engine_failures.rs"),
        "location: {failure}"
    );
    assert_eq!(failure.task, Some(TaskId::MAIN));
    assert_eq!(failure.task_name.as_deref(), Some("main"));
    assert_eq!(failure.time_ns, 2_500_000_000);
    assert_eq!(failure.step, 2);
    let shown = failure.to_string();
    assert!(shown.contains("at step 2"), "{shown}");
    assert!(shown.contains("virtual time 2.5s"), "{shown}");
    assert!(run
        .trace
        .events()
        .iter()
        .any(|event| event.kind == EventKind::Panic && event.task == Some(TaskId::MAIN)));
}

fn run_forever_flag() -> bool {
    false
}

#[test]
fn a_panic_in_a_detached_task_fails_the_run_with_its_name() {
    let run = Sim::new(fifo()).run(async {
        drop(task::Builder::new().name("worker").spawn(async {
            time::sleep(Duration::from_secs(1)).await;
            panic!("worker exploded");
        }));
        time::sleep(Duration::from_secs(5)).await;
        "main finished"
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    assert_eq!(failure.task, Some(TaskId(1)));
    assert_eq!(failure.task_name.as_deref(), Some("worker"));
    assert!(
        failure.message.contains("task `worker` (#1) panicked"),
        "{failure}"
    );
    assert!(
        failure.message.contains("JoinHandle was dropped"),
        "{failure}"
    );
    assert!(failure.message.contains("worker exploded"), "{failure}");
    assert_eq!(failure.time_ns, 1_000_000_000);
    assert!(failure.to_string().contains("virtual time 1s"));
    // The run stopped at the panic: main's 5 s sleep never finished.
    assert_eq!(run.elapsed(), Duration::from_secs(1));
}

#[test]
fn a_panic_in_an_awaited_task_is_a_join_error_not_a_run_failure() {
    let run = Sim::new(Config::new()).run(async {
        let handle = task::Builder::new()
            .name("fragile")
            .spawn(async { panic!("fragile broke") });
        let error = handle.await.unwrap_err();
        (
            error.is_panic(),
            error.is_cancelled(),
            error.task_name().to_string(),
            error.panic_message().map(str::to_string),
            error.to_string(),
        )
    });
    let (is_panic, is_cancelled, name, message, shown) = run.result.unwrap();
    assert!(is_panic && !is_cancelled);
    assert_eq!(name, "fragile");
    assert!(message.unwrap().contains("fragile broke"));
    assert!(
        shown.contains("task `fragile` panicked at tests/engine_failures.rs:")
            && shown.ends_with(": fragile broke"),
        "{shown}"
    );
    assert_eq!(run.trace.warnings().count(), 0);
}

/// Runs a body that spawns a panicking task (or pool job) with `spawn`,
/// keeps its handle alive past the panic, then drops it unawaited.
fn run_keeping_a_panicked_handle(
    spawn: impl FnOnce() -> JoinHandle<()> + 'static,
) -> Run<&'static str> {
    Sim::new(fifo()).run(async move {
        let handle = spawn();
        time::sleep(Duration::from_secs(1)).await;
        assert!(handle.is_finished());
        // `handle` is still alive here, so the panic was observable.
        drop(handle);
        "done"
    })
}

#[test]
fn a_panic_whose_handle_is_kept_but_never_awaited_is_a_warning() {
    let run = run_keeping_a_panicked_handle(|| {
        task::Builder::new()
            .name("ignored")
            .spawn(async { panic!("nobody looks") })
    });
    assert_eq!(run.result.unwrap(), "done");
    let warnings: Vec<_> = run.trace.warnings().collect();
    assert_eq!(warnings, [(Some(TaskId(1)), Warning::PanicNotRetrieved)]);
    assert!(run.trace.to_string().contains("task panic never retrieved"));
}

#[test]
fn a_pool_job_panic_whose_handle_is_kept_but_never_awaited_is_a_warning() {
    let run = run_keeping_a_panicked_handle(|| {
        asyncsim::spawn_blocking(|| panic!("nobody looks at the pool"))
    });
    assert_eq!(run.result.unwrap(), "done");
    let warnings: Vec<_> = run.trace.warnings().collect();
    assert_eq!(warnings, [(Some(TaskId(1)), Warning::PanicNotRetrieved)]);
}

#[test]
fn a_deadlock_names_every_blocked_task_and_what_it_waits_on() {
    type Slot = Rc<RefCell<Option<asyncsim::JoinHandle<()>>>>;
    let run = Sim::new(Config::new().seed(3)).run(async {
        let alice_slot: Slot = Rc::default();
        let bob_slot: Slot = Rc::default();
        let (done_tx, done_rx) = futures::channel::oneshot::channel::<()>();
        let alice = {
            let bob_slot = bob_slot.clone();
            task::Builder::new().name("alice").spawn(async move {
                yield_now().await;
                let bob = bob_slot.borrow_mut().take().unwrap();
                bob.await.unwrap();
                let _ = done_tx.send(());
            })
        };
        let bob = {
            let alice_slot = alice_slot.clone();
            task::Builder::new().name("bob").spawn(async move {
                yield_now().await;
                let alice = alice_slot.borrow_mut().take().unwrap();
                alice.await.unwrap();
            })
        };
        *alice_slot.borrow_mut() = Some(alice);
        *bob_slot.borrow_mut() = Some(bob);
        time::sleep(Duration::from_millis(10)).await;
        done_rx.await.unwrap();
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock);
    assert!(failure.message.starts_with("deadlock"), "{failure}");
    for name in ["`main`", "`alice`", "`bob`"] {
        assert!(failure.message.contains(name), "{name} missing: {failure}");
    }
    let blocked: Vec<(&str, &str)> = failure
        .blocked
        .iter()
        .map(|task| (task.name.as_str(), task.waiting_on.as_str()))
        .collect();
    assert_eq!(blocked.len(), 3, "{blocked:?}");
    assert!(
        blocked.contains(&("alice", "JoinHandle of `bob`")),
        "{blocked:?}"
    );
    assert!(
        blocked.contains(&("bob", "JoinHandle of `alice`")),
        "{blocked:?}"
    );
    assert!(blocked
        .iter()
        .any(|(name, on)| *name == "main" && on.contains("not an asyncsim primitive")));
    assert_eq!(failure.time_ns, 10_000_000);
    let shown = failure.to_string();
    assert!(shown.contains("blocked tasks:"), "{shown}");
    assert!(
        shown.contains("task `alice` (#1) waits on JoinHandle of `bob`"),
        "{shown}"
    );
}

#[test]
fn a_busy_loop_on_yield_hits_the_step_limit() {
    let run = Sim::new(fifo().steps_max(500)).run(async {
        let spinner = task::Builder::new().name("spinner").spawn(async {
            loop {
                yield_now().await;
            }
        });
        spinner.await.unwrap();
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::StepLimit);
    assert_eq!(failure.step, 500);
    assert_eq!(run.steps(), 500);
    assert!(failure.message.contains("500 polls"), "{failure}");
    assert!(failure.message.contains("Config::steps_max"), "{failure}");
    assert!(
        failure.message.contains("still runnable: `spinner`"),
        "{failure}"
    );
}

/// A service whose periodic timer nobody stops (its test awaits the task
/// and never signals shutdown) reaches the step limit with the clock far
/// on: the message names that cause, not only the busy loops that leave
/// time standing.
#[test]
fn an_interval_nobody_stops_hits_the_step_limit_and_is_named() {
    let run = Sim::new(fifo().steps_max(500)).run(async {
        let ticker = task::Builder::new().name("ticker").spawn(async {
            let mut every = time::interval(Duration::from_millis(100));
            loop {
                every.tick().await;
            }
        });
        ticker.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::StepLimit);
    assert!(
        failure.message.contains("virtual time reached 49.9s"),
        "{failure}"
    );
    assert!(
        failure
            .message
            .contains("a task woke on a timer again and again (an `interval`"),
        "{failure}"
    );
    assert!(failure.message.contains("Config::time_limit"), "{failure}");
}

/// The same service under the default limits ends at an hour of virtual
/// time (`DEFAULT_TIME_LIMIT`), some 36,000 polls, instead of running on to
/// the step limit's million (a week, the old default time limit, let it:
/// minutes of real time per failure). The message names whose timer it is,
/// what the main future waits on, and how to raise the limit.
#[test]
fn an_interval_nobody_stops_ends_at_the_default_hour() {
    assert_eq!(asyncsim::DEFAULT_TIME_LIMIT, Duration::from_secs(3600));
    let run = Sim::new(fifo()).run(async {
        let ticker = task::Builder::new().name("ticker").spawn(async {
            let mut every = time::interval(Duration::from_millis(100));
            loop {
                every.tick().await;
            }
        });
        ticker.await.unwrap();
    });
    let steps = run.steps();
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::TimeLimit, "{failure}");
    assert_eq!(failure.time_ns, 3_600_000_000_000);
    assert!(steps < 40_000, "{steps} polls");
    for words in [
        "the next timer is at 3600.1s, past Config::time_limit (3600s, the default); it is `ticker`'s",
        "a task wakes on a timer again and again (an `interval`",
        "here it waits on JoinHandle of `ticker`",
        "a shutdown signal never sent?",
        "under #[tokio::test], #[tokio::main] or #[asyncsim::test]: the argument `time_limit = \"2h\"`",
        "with the variable ASYNCSIM_TIME_LIMIT",
    ] {
        assert!(failure.message.contains(words), "{words:?} in {failure}");
    }
}

/// A busy loop leaves the clock at 0: no word of timers.
#[test]
fn a_busy_loop_at_time_zero_is_not_blamed_on_timers() {
    let run = Sim::new(fifo().steps_max(100)).run(async {
        loop {
            yield_now().await;
        }
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::StepLimit);
    assert!(!failure.message.contains("timer"), "{failure}");
}

#[test]
#[allow(deprecated)]
fn the_old_max_steps_builder_still_sets_the_step_limit() {
    assert_eq!(Config::new().max_steps(77).steps_max, 77);
    let run = Sim::new(fifo().max_steps(40)).run(async {
        loop {
            yield_now().await;
        }
    });
    assert_eq!(run.steps(), 40);
    assert_eq!(run.result.unwrap_err().kind, FailureKind::StepLimit);
}

#[test]
fn an_endless_interval_hits_the_virtual_time_limit() {
    let ticks = Rc::new(Cell::new(0u32));
    let counter = ticks.clone();
    let run = Sim::new(fifo().time_limit(Duration::from_secs(10))).run(async move {
        let mut interval = time::interval(Duration::from_secs(1));
        loop {
            interval.tick().await;
            counter.set(counter.get() + 1);
        }
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::TimeLimit);
    assert!(failure.message.contains("virtual-time limit"), "{failure}");
    assert!(
        failure.message.contains("next timer is at 11s"),
        "{failure}"
    );
    assert!(
        failure.message.contains("Config::time_limit (10s)"),
        "{failure}"
    );
    assert_eq!(failure.time_ns, 10_000_000_000);
    assert_eq!(ticks.get(), 11); // ticks at 0 s, 1 s, ..., 10 s
    assert_eq!(failure.blocked.len(), 1);
    assert_eq!(failure.blocked[0].waiting_on, "timer at 11s");
}

#[test]
fn a_blocking_sleep_past_the_time_limit_fails_too() {
    let run = Sim::new(fifo().time_limit(Duration::from_secs(10))).run(async {
        asyncsim::blocking::sleep(Duration::from_secs(11));
        yield_now().await;
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::TimeLimit);
    assert!(failure.message.contains("11s"), "{failure}");
}

#[test]
fn tasks_pending_when_main_completes_are_destroyed_with_a_warning() {
    struct Dropped(Rc<Cell<bool>>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    let run = Sim::new(fifo()).run(async move {
        drop(task::Builder::new().name("sleeper").spawn(async move {
            let _guard = Dropped(flag);
            time::sleep(Duration::from_secs(60)).await;
        }));
        let _kept = task::Builder::new()
            .name("kept")
            .spawn(futures::future::pending::<()>());
        yield_now().await;
        "main done"
    });
    assert_eq!(run.result.clone().unwrap(), "main done");
    assert!(dropped.get(), "the pending task's future was not dropped");
    let warnings: Vec<_> = run.trace.warnings().collect();
    assert_eq!(
        warnings,
        [
            (Some(TaskId(1)), Warning::DestroyedPending),
            (Some(TaskId(2)), Warning::DestroyedPending)
        ]
    );
    assert!(run.trace.to_string().contains("sleeper"));
    assert!(run
        .trace
        .to_string()
        .contains("task destroyed while still pending"));
    assert_eq!(run.elapsed_ns(), 0);
}

#[test]
fn tasks_pending_when_main_completes_are_dropped_in_spawn_order_however_many() {
    // More pending tasks and timers than the end of a run holds on its
    // stack: every one is still dropped, oldest task first.
    struct Dropped(u32, Rc<RefCell<Vec<u32>>>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.1.borrow_mut().push(self.0);
        }
    }
    let order = Rc::new(RefCell::new(Vec::new()));
    let into = order.clone();
    let run = Sim::new(fifo()).run(async move {
        for index in 0..9u32 {
            let guard = Dropped(index, into.clone());
            drop(task::spawn(async move {
                let _guard = guard;
                time::sleep(Duration::from_secs(u64::from(index) + 1)).await;
            }));
        }
        yield_now().await;
    });
    run.result.unwrap();
    assert_eq!(*order.borrow(), (0..9).collect::<Vec<_>>());
    let warnings = run.trace.warnings().count();
    assert_eq!(warnings, 9);
}

async fn two_randoms() -> (u32, u32) {
    (
        asyncsim::random_range(0..10u32),
        asyncsim::random_range(0..10u32),
    )
}

#[test]
fn a_tape_whose_value_no_longer_fits_is_a_divergence_at_that_draw() {
    let tape = Tape::from_draws(vec![
        Draw {
            label: DrawLabel::Random,
            bound: 10,
            value: 4,
        },
        Draw {
            label: DrawLabel::Random,
            bound: 100,
            value: 42,
        },
    ]);
    let run = Sim::new(Config::new().strategy(Strategy::Replay(tape))).run(two_randoms());
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::TapeDivergence);
    assert!(
        failure.message.contains("tape divergence at draw 1"),
        "{failure}"
    );
    assert!(failure.message.contains("value 42"), "{failure}");
    assert!(failure.message.contains("in 0..10"), "{failure}");
    assert!(failure.message.contains("program changed"), "{failure}");
}

#[test]
fn a_tape_whose_kind_no_longer_fits_is_a_divergence_at_that_draw() {
    // Recorded: a scheduling program. Replayed against one that draws data.
    let recorded = Sim::new(Config::new().seed(5)).run(async {
        let a = asyncsim::spawn(async { yield_now().await });
        let b = asyncsim::spawn(async { yield_now().await });
        a.await.unwrap();
        b.await.unwrap();
    });
    assert!(recorded.tape.draws()[0].label == DrawLabel::Schedule);
    let token = recorded.tape.to_string();
    let run = Sim::new(Config::new().strategy(Strategy::Replay(token.parse().unwrap())))
        .run(two_randoms());
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::TapeDivergence);
    assert!(failure.message.contains("at draw 0"), "{failure}");
    assert!(failure.message.contains("a schedule draw"), "{failure}");
    assert!(failure.message.contains("random draw"), "{failure}");
}

#[test]
fn a_lenient_replay_wraps_instead_of_diverging() {
    let tape = Tape::from_draws(vec![Draw {
        label: DrawLabel::Random,
        bound: 100,
        value: 42,
    }]);
    let mut config = Config::new().strategy(Strategy::Replay(tape));
    config.replay_lenient = true;
    let run = Sim::new(config).run(two_randoms());
    assert_eq!(run.result.unwrap(), (2, 0));
}

#[test]
fn a_waker_woken_on_another_thread_is_a_foreign_wake() {
    let run = Sim::new(fifo()).run(async {
        let waker =
            std::future::poll_fn(|context| std::task::Poll::Ready(context.waker().clone())).await;
        std::thread::spawn(move || waker.wake()).join().unwrap();
        yield_now().await;
        "should not finish"
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::ForeignWake);
    assert!(failure.message.contains("another OS thread"), "{failure}");
    assert!(failure.message.contains("spawn_blocking"), "{failure}");
}

#[test]
fn a_foreign_wake_fails_only_its_own_run_not_one_running_on_another_thread() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};

    // Run B yields on another thread until run A (on this thread) is over;
    // A's waker is woken from a third thread meanwhile. The wake is recorded
    // process-wide, and B sees the count move while it runs: only A fails.
    let a_done = Arc::new(AtomicBool::new(false));
    let (started, b_started) = mpsc::channel();
    let b = {
        let a_done = a_done.clone();
        std::thread::spawn(move || {
            Sim::new(fifo()).run(async move {
                started.send(()).unwrap();
                let mut yields = 0u64;
                while !a_done.load(Ordering::SeqCst) {
                    yield_now().await;
                    yields += 1;
                }
                // A few more steps after A's wake was recorded.
                for _ in 0..100 {
                    yield_now().await;
                }
                yields
            })
        })
    };
    b_started.recv().unwrap();
    let a = Sim::new(fifo()).run(async {
        let waker =
            std::future::poll_fn(|context| std::task::Poll::Ready(context.waker().clone())).await;
        std::thread::spawn(move || waker.wake()).join().unwrap();
        yield_now().await;
    });
    a_done.store(true, Ordering::SeqCst);
    assert_eq!(a.result.unwrap_err().kind, FailureKind::ForeignWake);
    let b = b.join().unwrap();
    assert!(b.result.is_ok(), "{:?}", b.result.map(|_| ()));
}

#[test]
fn a_waker_used_after_its_run_ended_does_nothing_to_the_next_run() {
    let mut sim = Sim::new(fifo());
    let first = sim.run(async {
        std::future::poll_fn(|context| std::task::Poll::Ready(context.waker().clone())).await
    });
    let stale = first.result.unwrap();
    let second = sim.run(async move {
        stale.wake_by_ref();
        yield_now().await;
        7
    });
    // A stale waker belongs to another run: it must not wake this run's
    // main (a foreign wake is recorded for the old run only).
    assert_eq!(second.result.unwrap(), 7);
}

#[test]
fn spawning_past_tasks_max_is_a_task_limit() {
    let run = Sim::new(fifo().tasks_max(5)).run(async {
        let mut handles = Vec::new();
        for _ in 0..10 {
            handles.push(asyncsim::spawn(async {}));
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
    let failure = run.result.clone().unwrap_err();
    assert_eq!(failure.kind, FailureKind::TaskLimit);
    assert!(failure.message.contains("spawned 5 tasks"), "{failure}");
    assert!(failure.message.contains("Config::tasks_max"), "{failure}");
    assert_eq!(failure.step, 1);
}

#[test]
fn a_failure_in_mains_last_poll_still_fails_the_run() {
    // Regression: a failure recorded during the poll in which main completes
    // used to be dropped in favour of main's output.
    let limit = Sim::new(fifo().tasks_max(2)).run(async {
        drop(asyncsim::spawn(async {}));
        drop(asyncsim::spawn(async {}));
        "finished in the same poll"
    });
    assert_eq!(limit.result.unwrap_err().kind, FailureKind::TaskLimit);

    let late = Sim::new(fifo().time_limit(Duration::from_secs(1))).run(async {
        asyncsim::blocking::sleep(Duration::from_secs(2));
    });
    let failure = late.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::TimeLimit);
    assert!(failure.message.contains("2s"), "{failure}");
}

#[test]
fn a_foreign_wake_in_mains_last_poll_still_fails_the_run() {
    let run = Sim::new(fifo()).run(async {
        let waker =
            std::future::poll_fn(|context| std::task::Poll::Ready(context.waker().clone())).await;
        std::thread::spawn(move || waker.wake()).join().unwrap();
        "returned right after the foreign wake"
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::ForeignWake);
}
