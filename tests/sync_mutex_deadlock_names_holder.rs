//! A lock-order inversion between two tasks deadlocks on some schedules;
//! the deadlock report names the mutex each task waits on and the task
//! holding it.

use asyncsim::sync::Mutex;
use asyncsim::task::Builder;
use asyncsim::trace::WaitOn;
use asyncsim::{Config, FailureKind, Sim, Strategy};
use std::rc::Rc;

mod schedule_support;

use schedule_support::random_and_pct;

async fn inversion() {
    let first = Rc::new(Mutex::new(()));
    let second = Rc::new(Mutex::new(()));
    let (a, b) = (first.clone(), second.clone());
    let writer = Builder::new().name("writer").spawn(async move {
        let _one = a.lock().await;
        asyncsim::yield_now().await;
        let _two = b.lock().await;
    });
    let reader = Builder::new().name("reader").spawn(async move {
        let _two = second.lock().await;
        asyncsim::yield_now().await;
        let _one = first.lock().await;
    });
    writer.await.unwrap();
    reader.await.unwrap();
}

#[test]
fn lock_order_inversion_deadlock_names_the_holder() {
    let mut deadlocks = 0;
    let mut successes = 0;
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(inversion());
        let Err(failure) = run.result else {
            successes += 1;
            continue;
        };
        deadlocks += 1;
        assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
        let writer = failure
            .blocked
            .iter()
            .find(|task| task.name == "writer")
            .unwrap();
        let reader = failure
            .blocked
            .iter()
            .find(|task| task.name == "reader")
            .unwrap();
        assert!(
            matches!(writer.wait, WaitOn::Resource(_, _)),
            "{:?}",
            writer.wait
        );
        assert!(
            writer.waiting_on.starts_with("Mutex#"),
            "{}",
            writer.waiting_on
        );
        assert!(
            writer.waiting_on.ends_with("held by `reader`"),
            "{}",
            writer.waiting_on
        );
        assert!(
            reader.waiting_on.ends_with("held by `writer`"),
            "{}",
            reader.waiting_on
        );
        assert_ne!(
            writer.waiting_on, reader.waiting_on,
            "two different mutexes"
        );
        let report = failure.to_string();
        assert!(report.contains("task `writer`"), "{report}");
        assert!(report.contains("held by `reader`"), "{report}");
    }
    assert!(
        deadlocks > 0 && successes > 0,
        "{deadlocks} deadlocks, {successes} successes"
    );
}

#[test]
fn fifo_schedule_of_the_inversion_deadlocks() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(inversion());
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock);
    println!("{failure}");
    // The Pending events in the trace name the mutex too.
    let text = run.trace.to_string();
    assert!(text.contains("Mutex#"), "{text}");
}
