//! The virtual clock: it moves only when nothing is runnable, straight to the
//! earliest timer. Concurrent sleeps cost the longest chain, sequential
//! awaits cost the sum, and every event happens at the time the program
//! implies, whatever the schedule.

mod engine_support;

use std::time::Duration;

use asyncsim::time::{self, Instant};
use asyncsim::{Config, EventKind, Sim, Strategy};
use engine_support::{chain_ms, expected_mark_times, ops, run_program, total_sleep_ms};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn elapsed_time_is_the_longest_sleep_chain(program in ops(), seed in any::<u64>()) {
        for strategy in [Strategy::Fifo, Strategy::Random, Strategy::Pct { depth: 2 }] {
            let run = run_program(&program, Config::new().seed(seed).strategy(strategy.clone()));
            prop_assert!(run.result.is_ok(), "{:?}", run.result);
            prop_assert_eq!(
                run.elapsed_ns(),
                chain_ms(&program, 0) * 1_000_000,
                "strategy {}", strategy
            );
            prop_assert!(run.elapsed_ns() <= total_sleep_ms(&program) * 1_000_000);
        }
    }

    #[test]
    fn every_mark_happens_at_its_programs_time(program in ops(), seed in any::<u64>()) {
        let run = run_program(&program, Config::new().seed(seed));
        let expected = expected_mark_times(&program);
        let seen: Vec<(u64, String)> = run
            .trace
            .timed_marks()
            .filter(|(_, label)| !label.contains(":r"))
            .map(|(time, label)| (time, label.to_string()))
            .collect();
        prop_assert_eq!(seen.len(), expected.len());
        for (time, label) in &seen {
            prop_assert_eq!(Some(time), expected.get(label), "mark {}", label);
        }
    }

    #[test]
    fn the_clock_never_goes_back_and_jumps_only_to_timers(program in ops(), seed in any::<u64>()) {
        let run = run_program(&program, Config::new().seed(seed));
        let events = run.trace.events();
        for pair in events.windows(2) {
            prop_assert!(pair[0].time_ns <= pair[1].time_ns, "{:?}", pair);
        }
        let deadlines: std::collections::BTreeSet<u64> = events
            .iter()
            .filter_map(|event| match event.kind {
                EventKind::TimerSet { deadline_ns } => Some(deadline_ns),
                _ => None,
            })
            .collect();
        for event in events {
            match event.kind {
                EventKind::ClockJump { from_ns } => {
                    prop_assert!(from_ns < event.time_ns);
                    prop_assert!(deadlines.contains(&event.time_ns), "jump to {} is no timer", event.time_ns);
                }
                // Nothing blocks the loop here, so timers fire on time.
                EventKind::TimerFire { deadline_ns } => prop_assert_eq!(deadline_ns, event.time_ns),
                _ => {}
            }
        }
    }

    #[test]
    fn sequential_sleeps_cost_their_sum(sleeps in prop::collection::vec(0u64..5_000, 0..12)) {
        let total: u64 = sleeps.iter().sum();
        let run = Sim::new(Config::new()).run(async move {
            for ms in sleeps {
                time::sleep(Duration::from_millis(ms)).await;
            }
            Instant::now()
        });
        prop_assert_eq!(run.result.as_ref().unwrap().as_nanos(), total * 1_000_000);
        prop_assert_eq!(run.elapsed_ns(), total * 1_000_000);
    }

    #[test]
    fn concurrent_sleeps_cost_the_longest(sleeps in prop::collection::vec(0u64..5_000, 1..12), seed in any::<u64>()) {
        let longest = *sleeps.iter().max().unwrap();
        let run = Sim::new(Config::new().seed(seed)).run(async move {
            let handles: Vec<_> = sleeps
                .into_iter()
                .map(|ms| asyncsim::spawn(time::sleep(Duration::from_millis(ms))))
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
        prop_assert_eq!(run.elapsed_ns(), longest * 1_000_000);
    }
}

#[test]
fn the_articles_example_takes_three_seconds_not_five() {
    // asyncio-basics: two coroutines sleeping 2 s and 3 s, run concurrently.
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let a = asyncsim::spawn(time::sleep(Duration::from_secs(2)));
        let b = asyncsim::spawn(time::sleep(Duration::from_secs(3)));
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(run.elapsed(), Duration::from_secs(3));
    let sequential = Sim::new(Config::new()).run(async {
        time::sleep(Duration::from_secs(2)).await;
        time::sleep(Duration::from_secs(3)).await;
    });
    assert_eq!(sequential.elapsed(), Duration::from_secs(5));
}

#[test]
fn sleep_until_timeout_and_interval_keep_exact_times() {
    let run = Sim::new(Config::new()).run(async {
        time::sleep_until(Instant::from_nanos(1_500)).await;
        let at_1500 = Instant::now().as_nanos();
        // A deadline in the past yields once and does not move the clock.
        time::sleep_until(Instant::from_nanos(10)).await;
        let still = Instant::now().as_nanos();
        let expired = time::timeout(
            Duration::from_nanos(100),
            time::sleep(Duration::from_secs(9)),
        )
        .await;
        let after_timeout = Instant::now().as_nanos();
        let finished =
            time::timeout(Duration::from_secs(9), time::sleep(Duration::from_nanos(7))).await;
        let after_quick = Instant::now().as_nanos();
        let mut ticks = time::interval(Duration::from_nanos(1_000));
        let mut tick_times = Vec::new();
        for _ in 0..4 {
            tick_times.push(ticks.tick().await.as_nanos());
        }
        (
            at_1500,
            still,
            expired.is_err(),
            after_timeout,
            finished.is_ok(),
            after_quick,
            tick_times,
        )
    });
    let (at_1500, still, expired, after_timeout, finished, after_quick, ticks) =
        run.result.clone().unwrap();
    assert_eq!((at_1500, still), (1_500, 1_500));
    assert!(expired);
    assert_eq!(after_timeout, 1_600);
    assert!(finished);
    assert_eq!(after_quick, 1_607);
    assert_eq!(ticks, [1_607, 2_607, 3_607, 4_607]);
    // The timeout's cancelled 9 s sleep left no timer behind: the run ended at the last tick.
    assert_eq!(run.elapsed_ns(), 4_607);
}
