//! `sync::Semaphore` never lets more than its permits through, and grants
//! them in request order (strict FIFO, as asyncio 3.11.7+/3.12.1+).

use asyncsim::sync::Semaphore;
use asyncsim::trace::{ResourceKind, WaitOn};
use asyncsim::{time, EventKind, TaskId};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod schedule_support;

use schedule_support::every_run;

#[test]
fn semaphore_bounds_concurrency_and_grants_in_request_order_for_every_schedule_within_two_deviations(
) {
    let mut peaks = std::collections::BTreeSet::new();
    let mut queued_runs = 0;
    every_run(
        2,
        50_000,
        || async {
            let semaphore = Rc::new(Semaphore::new(2));
            let inside = Rc::new(Cell::new(0usize));
            let peak = Rc::new(Cell::new(0usize));
            let workers: Vec<_> = (0..6usize)
                .map(|_| {
                    let (semaphore, inside, peak) =
                        (semaphore.clone(), inside.clone(), peak.clone());
                    asyncsim::spawn(async move {
                        for _ in 0..asyncsim::random_range(0..3u32) {
                            asyncsim::yield_now().await;
                        }
                        let _permit = semaphore.acquire().await;
                        inside.set(inside.get() + 1);
                        peak.set(peak.get().max(inside.get()));
                        time::sleep(Duration::from_millis(asyncsim::random_range(0..3u64))).await;
                        inside.set(inside.get() - 1);
                    })
                })
                .collect();
            for worker in workers {
                worker.await.unwrap();
            }
            (peak.get(), semaphore.available_permits())
        },
        |run| {
            // Waiters are woken (handed a permit) in the order they blocked.
            // (They may then resume in any order: two permits can be handed
            // out before either waiter runs.)
            let events = run.trace.events();
            let blocked: Vec<(usize, TaskId)> = events
                .iter()
                .enumerate()
                .filter(|(_, event)| {
                    matches!(
                        event.kind,
                        EventKind::Pending {
                            on: WaitOn::Resource(ResourceKind::Semaphore, _)
                        }
                    )
                })
                .map(|(index, event)| (index, event.task.unwrap()))
                .collect();
            let mut woken: Vec<(usize, TaskId)> = blocked
                .iter()
                .map(|(blocked_at, task)| {
                    let woken_at = events[*blocked_at..]
                        .iter()
                        .position(|event| {
                            event.task == Some(*task)
                                && matches!(event.kind, EventKind::Wake { .. })
                        })
                        .expect("every waiter is woken");
                    (blocked_at + woken_at, *task)
                })
                .collect();
            woken.sort_unstable();
            let blocked_order: Vec<TaskId> = blocked.iter().map(|(_, task)| *task).collect();
            let woken_order: Vec<TaskId> = woken.iter().map(|(_, task)| *task).collect();
            assert_eq!(
                woken_order, blocked_order,
                "FIFO grants (replay {})",
                run.tape
            );
            if blocked.len() >= 3 {
                queued_runs += 1;
            }
            let (peak, available) = run.result.unwrap();
            assert!(peak <= 2, "{peak} tasks held a permit at once (seed)");
            assert_eq!(available, 2, "every permit came back");
            peaks.insert(peak);
        },
    );
    assert!(peaks.contains(&2), "the bound is reached on some schedule");
    assert!(
        queued_runs > 100,
        "only {queued_runs} schedules queued three waiters"
    );
}

#[test]
fn a_cancelled_acquire_does_not_lose_a_permit() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let semaphore = Rc::new(Semaphore::new(1));
            let permit = semaphore.acquire().await;
            let waiter = {
                let semaphore = semaphore.clone();
                asyncsim::spawn(async move {
                    let _permit = semaphore.acquire().await;
                })
            };
            asyncsim::yield_now().await;
            drop(permit); // may be handed to `waiter` before it resumes
            waiter.abort();
            let _ = waiter.await;
            semaphore.available_permits()
        },
        |run| {
            assert_eq!(run.result.unwrap(), 1, "replay {}", run.tape);
        },
    );
}
