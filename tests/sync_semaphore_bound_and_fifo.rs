//! `sync::Semaphore` never lets more than its permits through, and grants
//! them in request order (strict FIFO, as asyncio 3.11.7+/3.12.1+).

use asyncsim::sync::Semaphore;
use asyncsim::{time, trace, Config, Sim, Strategy};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

fn schedules() -> impl Iterator<Item = Config> {
    (0..250u64).flat_map(|seed| {
        [
            Config::new().seed(seed).strategy(Strategy::Random),
            Config::new()
                .seed(seed)
                .strategy(Strategy::Pct { depth: 3 }),
        ]
    })
}

#[test]
fn semaphore_bounds_concurrency_and_grants_in_request_order_for_every_schedule() {
    let mut peaks = std::collections::BTreeSet::new();
    for config in schedules() {
        let run = Sim::new(config).run(async {
            let semaphore = Rc::new(Semaphore::new(2));
            let inside = Rc::new(Cell::new(0usize));
            let peak = Rc::new(Cell::new(0usize));
            let workers: Vec<_> = (0..6usize)
                .map(|index| {
                    let (semaphore, inside, peak) =
                        (semaphore.clone(), inside.clone(), peak.clone());
                    asyncsim::spawn(async move {
                        for _ in 0..asyncsim::random_range(0..3u32) {
                            asyncsim::yield_now().await;
                        }
                        trace::mark(format!("request {index}"));
                        let _permit = semaphore.acquire().await;
                        trace::mark(format!("granted {index}"));
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
        });
        let requests: Vec<&str> = run
            .trace
            .marks()
            .filter_map(|mark| mark.strip_prefix("request "))
            .collect();
        let grants: Vec<&str> = run
            .trace
            .marks()
            .filter_map(|mark| mark.strip_prefix("granted "))
            .collect();
        assert_eq!(grants, requests, "FIFO grants (seed {})", run.seed);
        let (peak, available) = run.result.unwrap();
        assert!(peak <= 2, "{peak} tasks held a permit at once (seed)");
        assert_eq!(available, 2, "every permit came back");
        peaks.insert(peak);
    }
    assert!(peaks.contains(&2), "the bound is reached on some schedule");
}

#[test]
fn a_cancelled_acquire_does_not_lose_a_permit() {
    for config in schedules() {
        let run = Sim::new(config).run(async {
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
        });
        assert_eq!(run.result.unwrap(), 1, "seed {}", run.seed);
    }
}
