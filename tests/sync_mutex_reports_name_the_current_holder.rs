//! Every report that shows a task waiting on a `sync::Mutex` names the task
//! that holds the mutex at that moment: after hand-offs, after a granted
//! waiter was aborted, after a waiter gave up, and in step-limit reports
//! taken while the lock is on its way to the next waiter.

use asyncsim::sync::Mutex;
use asyncsim::task::Builder;
use asyncsim::trace::{ResourceKind, WaitOn};
use asyncsim::{BlockedTask, Config, Failure, FailureKind, Sim, Strategy};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

mod schedule_support;

use schedule_support::every_run;

fn blocked<'a>(failure: &'a Failure, name: &str) -> &'a BlockedTask {
    failure
        .blocked
        .iter()
        .find(|task| task.name == name)
        .unwrap_or_else(|| panic!("`{name}` is not in the report: {failure}"))
}

/// The rendered wait of a task that waits on a mutex: `Mutex#<id>`, then
/// ` held by `<holder>`` when someone holds it.
fn mutex_wait(task: &BlockedTask) -> (u32, Option<String>) {
    let WaitOn::Resource(ResourceKind::Mutex, id) = task.wait else {
        panic!("`{}` does not wait on a mutex: {:?}", task.name, task.wait);
    };
    let rest = task
        .waiting_on
        .strip_prefix(&format!("Mutex#{id}"))
        .unwrap_or_else(|| panic!("{}", task.waiting_on));
    let holder = match rest {
        "" => None,
        rest => Some(
            rest.strip_prefix(" held by `")
                .and_then(|rest| rest.strip_suffix('`'))
                .unwrap_or_else(|| panic!("{}", task.waiting_on))
                .to_string(),
        ),
    };
    (id, holder)
}

/// Polls `future` once, then drops it (a `select` whose other branch won).
async fn poll_once_then_give_up<F: Future>(future: F) {
    let mut future = pin!(future);
    std::future::poll_fn(|context| {
        assert!(future.as_mut().poll(context).is_pending());
        Poll::Ready(())
    })
    .await;
}

#[test]
fn a_deadlock_after_a_hand_off_names_the_new_holder() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let mutex = Rc::new(Mutex::new(()));
        let guard = mutex.lock().await;
        let heir = Builder::new().name("heir").spawn({
            let mutex = mutex.clone();
            async move {
                let _guard = mutex.lock().await;
                std::future::pending::<()>().await;
            }
        });
        let late = Builder::new().name("late").spawn({
            let mutex = mutex.clone();
            async move {
                asyncsim::yield_now().await;
                let _guard = mutex.lock().await;
            }
        });
        asyncsim::yield_now().await; // `heir` queues up behind us
        drop(guard); // hands the lock to `heir`
        heir.await.unwrap();
        late.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    assert_eq!(
        mutex_wait(blocked(&failure, "late")).1.as_deref(),
        Some("heir")
    );
    assert!(failure.to_string().contains("held by `heir`"), "{failure}");
}

#[test]
fn a_lock_passed_on_by_an_aborted_waiter_names_the_next_holder() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let mutex = Rc::new(Mutex::new(()));
        let guard = mutex.lock().await;
        let spawn_locker = |name: &str| {
            let mutex = mutex.clone();
            Builder::new().name(name).spawn(async move {
                let _guard = mutex.lock().await;
                std::future::pending::<()>().await;
            })
        };
        let first = spawn_locker("first");
        let second = spawn_locker("second");
        let third = spawn_locker("third");
        asyncsim::yield_now().await; // all three queue up behind us
        drop(guard); // hands the lock to `first`…
        first.abort(); // …which passes it on to `second` without resuming
        assert!(first.await.unwrap_err().is_cancelled());
        second.await.unwrap();
        third.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    assert!(failure.blocked.iter().all(|task| task.name != "first"));
    assert_eq!(
        mutex_wait(blocked(&failure, "third")).1.as_deref(),
        Some("second")
    );
}

#[test]
fn a_step_limit_during_a_hand_off_names_the_waiter_the_lock_went_to() {
    // Step 1: main locks, spawns `heir`, yields. Step 2: `heir` waits.
    // Step 3: main unlocks (the lock goes to `heir`, which has not resumed
    // yet) and spins: the report still shows `heir` waiting on the mutex,
    // which it holds now.
    let run = Sim::new(Config::new().strategy(Strategy::Fifo).steps_max(3)).run(async {
        let mutex = Rc::new(Mutex::new(()));
        let guard = mutex.lock().await;
        let _heir = Builder::new().name("heir").spawn({
            let mutex = mutex.clone();
            async move {
                let _guard = mutex.lock().await;
            }
        });
        asyncsim::yield_now().await;
        drop(guard);
        loop {
            asyncsim::yield_now().await;
        }
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::StepLimit, "{failure}");
    assert_eq!(
        mutex_wait(blocked(&failure, "heir")).1.as_deref(),
        Some("heir")
    );
}

#[test]
fn a_waiter_that_gave_up_names_whoever_holds_the_mutex_at_the_end() {
    // `quitter` waits on the mutex once, gives up, and blocks on something
    // asyncsim cannot see: its last wait is still the mutex, and the report
    // names the mutex's holder at the time of the report (nobody, or a task
    // that took the free mutex later without anyone waiting).
    for late_holder in [false, true] {
        let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async move {
            let mutex = Rc::new(Mutex::new(()));
            let guard = mutex.lock().await;
            let quitter = Builder::new().name("quitter").spawn({
                let mutex = mutex.clone();
                async move {
                    poll_once_then_give_up(mutex.lock()).await;
                    std::future::pending::<()>().await;
                }
            });
            asyncsim::yield_now().await; // `quitter` waits and gives up
            drop(guard); // nobody waits: the mutex is free
            let late = late_holder.then(|| {
                let mutex = mutex.clone();
                Builder::new().name("late").spawn(async move {
                    let _guard = mutex.lock().await;
                    std::future::pending::<()>().await;
                })
            });
            quitter.await.unwrap();
            if let Some(late) = late {
                late.await.unwrap();
            }
        });
        let failure = run.result.unwrap_err();
        assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
        let expected = late_holder.then(|| "late".to_string());
        assert_eq!(mutex_wait(blocked(&failure, "quitter")).1, expected);
    }
}

/// Who holds the mutex, from the program's own marks in the trace.
fn holder_from_marks(marks: &[String]) -> Option<String> {
    let mut holder = None;
    for mark in marks {
        if let Some(name) = mark.strip_prefix("got ") {
            holder = Some(name.to_string());
        } else if let Some(name) = mark.strip_prefix("release ") {
            assert_eq!(holder.as_deref(), Some(name), "{marks:?}");
            holder = None;
        } else if let Some(name) = mark.strip_prefix("aborted ") {
            // An aborted holder's guard is dropped by the abort; the lock
            // went to the next waiter, whose `got` mark follows.
            if holder.as_deref() == Some(name) {
                holder = None;
            }
        }
    }
    holder
}

#[test]
fn every_deadlock_report_names_the_current_holder_for_every_schedule_within_three_deviations() {
    let mut deadlocks = 0;
    let mut named = 0;
    let mut unnamed = 0;
    every_run(
        3,
        50_000,
        || async {
            let mutex = Rc::new(Mutex::new(()));
            let workers: Vec<_> = (0..4)
                .map(|index| {
                    let mutex = mutex.clone();
                    let name = format!("w{index}");
                    Builder::new().name(name.clone()).spawn(async move {
                        for _ in 0..3 {
                            match asyncsim::random_range(0..6u32) {
                                0 => {
                                    // Wait once, give up, block where the
                                    // engine cannot see.
                                    poll_once_then_give_up(mutex.lock()).await;
                                    if asyncsim::random_range(0..2u32) == 0 {
                                        std::future::pending::<()>().await;
                                    }
                                }
                                _ => {
                                    let guard = mutex.lock().await;
                                    asyncsim::trace::mark(format!("got {name}"));
                                    for _ in 0..asyncsim::random_range(0..3u32) {
                                        asyncsim::yield_now().await;
                                    }
                                    if asyncsim::random_range(0..5u32) == 0 {
                                        std::future::pending::<()>().await;
                                    }
                                    asyncsim::trace::mark(format!("release {name}"));
                                    drop(guard);
                                }
                            }
                        }
                    })
                })
                .collect();
            let victim = asyncsim::random_range(0..5usize);
            for _ in 0..asyncsim::random_range(0..6u32) {
                asyncsim::yield_now().await;
            }
            if let Some(worker) = workers.get(victim) {
                worker.abort();
                asyncsim::trace::mark(format!("aborted w{victim}"));
            }
            for worker in workers {
                let _ = worker.await;
            }
        },
        |run| {
            let Err(failure) = run.result else {
                return;
            };
            assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
            deadlocks += 1;
            let marks: Vec<String> = run.trace.marks().map(str::to_string).collect();
            let holder = holder_from_marks(&marks);
            for task in &failure.blocked {
                if let WaitOn::Resource(ResourceKind::Mutex, _) = task.wait {
                    assert_eq!(
                        mutex_wait(task).1,
                        holder,
                        "`{}` (replay {}, {:?}): {marks:?}\n{failure}",
                        task.name,
                        run.tape,
                        run.strategy
                    );
                    if holder.is_some() {
                        named += 1;
                    } else {
                        unnamed += 1;
                    }
                }
            }
        },
    );
    println!("{deadlocks} deadlocks, {named} waits naming a holder, {unnamed} naming none");
    assert!(
        deadlocks > 0 && named > 0 && unnamed > 0,
        "{deadlocks} deadlocks, {named} waits naming a holder, {unnamed} naming none"
    );
}

#[test]
fn a_mutex_of_send_data_stays_send() {
    // The holder the mutex shares with its run must not cost it `Send`.
    fn send<T: Send>() {}
    send::<Mutex<Vec<u8>>>();
}
