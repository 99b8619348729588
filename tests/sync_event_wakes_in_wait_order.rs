//! `sync::Event`: `set` wakes the waiters in the order they started
//! waiting, and waiting on a set event returns without yielding.

use asyncsim::sync::Event;
use asyncsim::trace::WaitOn;
use asyncsim::{trace, Config, EventKind, Sim, Strategy};
use std::rc::Rc;

mod schedule_support;

use schedule_support::every_run;

#[test]
fn set_wakes_waiters_in_wait_order_for_every_schedule_within_three_deviations() {
    let mut interesting = 0;
    every_run(
        3,
        50_000,
        || async {
            let event = Rc::new(Event::new());
            let waiters: Vec<_> = (0..4usize)
                .map(|index| {
                    let event = event.clone();
                    asyncsim::spawn(async move {
                        for _ in 0..asyncsim::random_range(0..3u32) {
                            asyncsim::yield_now().await;
                        }
                        event.wait().await;
                        trace::mark(format!("{index}"));
                    })
                })
                .collect();
            for _ in 0..8 {
                asyncsim::yield_now().await;
            }
            trace::mark("set");
            event.set();
            for waiter in waiters {
                waiter.await.unwrap();
            }
        },
        |run| {
            assert!(run.result.is_ok());
            let trace = &run.trace;
            let set_step = trace
                .events()
                .iter()
                .find(|event| {
                    matches!(event.kind, EventKind::Mark { .. })
                        && trace.describe(event) == "mark \"set\""
                })
                .map(|event| event.step)
                .unwrap();
            // The order the tasks blocked on the event, and the order `set` woke them.
            let blocked: Vec<_> = trace
                .events()
                .iter()
                .filter(|event| event.step < set_step)
                .filter(|event| {
                    matches!(
                        event.kind,
                        EventKind::Pending {
                            on: WaitOn::Resource(..)
                        }
                    )
                })
                .filter_map(|event| event.task)
                .collect();
            let woken: Vec<_> = trace
                .events()
                .iter()
                .filter(|event| {
                    event.step == set_step && matches!(event.kind, EventKind::Wake { by: Some(_) })
                })
                .filter_map(|event| event.task)
                .filter(|task| blocked.contains(task))
                .collect();
            assert_eq!(woken, blocked, "replay {}", run.tape);
            if blocked.len() >= 2 {
                interesting += 1;
            }
        },
    );
    assert!(
        interesting > 100,
        "only {interesting} schedules had two waiters blocked"
    );
}

#[test]
fn under_fifo_waiters_resume_in_wait_order() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let event = Rc::new(Event::new());
        let waiters: Vec<_> = (0..4usize)
            .map(|index| {
                let event = event.clone();
                asyncsim::spawn(async move {
                    event.wait().await;
                    trace::mark(format!("{index}"));
                })
            })
            .collect();
        asyncsim::yield_now().await;
        event.set();
        for waiter in waiters {
            waiter.await.unwrap();
        }
    });
    assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["0", "1", "2", "3"]);
}

#[test]
fn waiting_on_a_set_event_does_not_yield_for_any_schedule() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let event = Rc::new(Event::new());
            let busy = asyncsim::spawn(async {
                for _ in 0..5 {
                    trace::mark("other task ran");
                    asyncsim::yield_now().await;
                }
            });
            event.set();
            trace::mark("before wait");
            event.wait().await;
            event.wait().await;
            trace::mark("after wait");
            busy.await.unwrap();
        },
        |run| {
            let marks: Vec<&str> = run.trace.marks().collect();
            let before = marks
                .iter()
                .position(|mark| *mark == "before wait")
                .unwrap();
            assert_eq!(marks[before + 1], "after wait", "replay {}", run.tape);
        },
    );
}

#[test]
fn a_waiter_woken_by_set_returns_even_if_the_event_is_cleared_at_once() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let event = Rc::new(Event::new());
            let waiter = {
                let event = event.clone();
                asyncsim::spawn(async move { event.wait().await })
            };
            for _ in 0..3 {
                asyncsim::yield_now().await;
            }
            event.set();
            event.clear();
            let _ = asyncsim::time::timeout(std::time::Duration::from_secs(1), waiter).await;
            event.is_set()
        },
        |run| {
            // Either the waiter had not started waiting (then it stays blocked
            // and the timeout fires) or it was woken and returned; never a hang.
            assert!(!run.result.unwrap());
        },
    );
}
