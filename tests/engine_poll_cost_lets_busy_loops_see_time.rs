//! `Config::poll_cost`: opt-in virtual time per poll, so a busy loop that
//! waits for a timer's flag sees the timer fire; without it the loop spins
//! to the step limit, whose message names the option.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::{Config, FailureKind, Sim, Strategy};

/// Spins on `yield_now` until a 1 s timer sets the flag; returns the spins.
async fn busy_wait() -> u64 {
    let flag = Rc::new(Cell::new(false));
    let setter = flag.clone();
    let _setter = asyncsim::spawn(async move {
        asyncsim::time::sleep(Duration::from_secs(1)).await;
        setter.set(true);
    });
    let mut spins = 0;
    while !flag.get() {
        spins += 1;
        asyncsim::yield_now().await;
    }
    spins
}

#[test]
fn without_a_poll_cost_a_busy_loop_hits_the_step_limit_which_names_poll_cost() {
    let run = Sim::new(Config::new().steps_max(10_000)).run(busy_wait());
    assert_eq!(run.elapsed(), Duration::ZERO, "time never moved");
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::StepLimit);
    assert!(failure.message.contains("Config::poll_cost"), "{failure}");
}

#[test]
fn with_a_poll_cost_a_busy_loop_sees_the_timer_on_every_seed() {
    for seed in 0..200 {
        for strategy in [Strategy::Fifo, Strategy::Random, Strategy::Pct { depth: 2 }] {
            let config = Config::new()
                .seed(seed)
                .strategy(strategy.clone())
                .steps_max(100_000)
                .poll_cost(Duration::from_millis(1));
            let run = Sim::new(config).run(busy_wait());
            let elapsed = run.elapsed();
            let spins = run
                .result
                .unwrap_or_else(|failure| panic!("seed {seed} {strategy}: {failure}"));
            assert!(elapsed >= Duration::from_secs(1));
            // Each spin is one poll of 1 ms: about a thousand before 1 s.
            // Random may pick the spinner again a few times after the
            // setter wakes (each time with probability 1/2); PCT may keep
            // it ahead until it demotes a task polled 4096 times in a row
            // while others wait.
            let most = match strategy {
                Strategy::Pct { .. } => 1001 + 4096,
                Strategy::Random => 1001 + 64,
                _ => 1001,
            };
            assert!(
                (500..=most).contains(&spins),
                "seed {seed} {strategy}: {spins} spins"
            );
        }
    }
}

#[test]
fn a_poll_cost_gives_polls_a_width_in_the_trace() {
    let config = Config::new()
        .strategy(Strategy::Fifo)
        .poll_cost(Duration::from_millis(3));
    let run = Sim::new(config).run(async {
        asyncsim::spawn(async { asyncsim::trace::mark("work") })
            .await
            .unwrap();
    });
    // main polls (3 ms), the task polls (3 ms), main polls again (3 ms).
    assert_eq!(run.elapsed(), Duration::from_millis(9));
    let text = run.trace.to_string();
    assert!(text.contains("0.003s"), "{text}");
}

#[test]
fn a_zero_poll_cost_changes_nothing() {
    for seed in 0..50 {
        let plain = Sim::new(Config::new().seed(seed)).run(async {
            let a = asyncsim::spawn(async {
                asyncsim::yield_now().await;
                1
            });
            asyncsim::time::sleep(Duration::from_millis(5)).await;
            a.await.unwrap()
        });
        let zero = Sim::new(Config::new().seed(seed).poll_cost(Duration::ZERO)).run(async {
            let a = asyncsim::spawn(async {
                asyncsim::yield_now().await;
                1
            });
            asyncsim::time::sleep(Duration::from_millis(5)).await;
            a.await.unwrap()
        });
        assert_eq!(plain.trace.hash(), zero.trace.hash());
        assert_eq!(plain.tape, zero.tape);
    }
}
