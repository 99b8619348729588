//! A `Sim` made after another was dropped on the thread starts with that
//! one's emptied core (its buffers): it must run, hash and show exactly as
//! a `Sim` made from nothing.

use std::time::Duration;

use crate::{Config, Sim, Strategy};

async fn body() -> u64 {
    let handles: Vec<_> = (0..3u64)
        .map(|n| {
            crate::spawn(async move {
                crate::time::sleep(Duration::from_millis(n)).await;
                crate::trace::mark(format!("task {n}"));
                n
            })
        })
        .collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.unwrap();
    }
    sum
}

#[test]
fn a_new_sim_after_a_dropped_one_runs_as_a_first_one() {
    let config = || Config::new().seed(7).strategy(Strategy::Random);
    // Empty the thread's spare, then run once in a core made from nothing.
    drop(super::super::kernel::take_spare_core_for_tests());
    let first = Sim::new(config()).run(body());
    assert!(super::super::kernel::take_spare_core_for_tests().is_some());
    // The dropped `Sim` above left its core; this one runs in it.
    let mut other = Sim::new(Config::new().seed(99).strategy(Strategy::Fifo));
    let other_run = other.run(body());
    drop(other);
    let again = Sim::new(config()).run(body());
    assert_eq!(again.trace, first.trace);
    assert_eq!(again.trace.hash(), first.trace.hash());
    assert_eq!(again.tape.to_string(), first.tape.to_string());
    assert_eq!(again.result.unwrap(), 3);
    assert_ne!(other_run.trace.hash(), first.trace.hash());
}

#[test]
fn a_new_sim_shows_no_tape_of_the_last_sims_run() {
    let mut sim = Sim::new(Config::new().seed(3).strategy(Strategy::Random));
    let _ = sim.run_outcome(body());
    assert!(sim.with_last_run(|tape, _| tape.len()) > 0);
    drop(sim);
    let fresh = Sim::new(Config::new().seed(5));
    assert_eq!(
        fresh.with_last_run(|tape, config| (tape.len(), config.seed)),
        (0, 5)
    );
}
