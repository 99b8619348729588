//! `find` and `outcomes` answer questions about the schedule space, with
//! the same answers on one thread or two; shards split the runs.

use asyncsim::harness::{Explore, Schedule};
use asyncsim::{Config, Sim, Strategy};
use std::cell::RefCell;
use std::rc::Rc;

fn settings() -> Explore {
    Explore::without_environment().runs(400).progress(false)
}

async fn print_order() -> String {
    let printed = Rc::new(RefCell::new(String::new()));
    let tasks: Vec<_> = ['a', 'b', 'c']
        .into_iter()
        .map(|name| {
            let printed = printed.clone();
            asyncsim::spawn(async move { printed.borrow_mut().push(name) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let order = printed.borrow().clone();
    order
}

#[test]
fn outcomes_lists_every_print_order_with_counts_and_witnesses() {
    let census = asyncsim::outcomes(settings(), print_order);
    let mut orders: Vec<&String> = census.distinct();
    orders.sort();
    assert_eq!(orders, ["abc", "acb", "bac", "bca", "cab", "cba"]);
    assert_eq!(
        census.values.iter().map(|o| o.count).sum::<u64>(),
        census.runs
    );
    // Each witness replays its value from its token, and from its seed
    // under the strategy that seed ran (the default `mix` alternates Random
    // and PCT by seed); run 0 is FIFO's, whose order is the spawn order.
    for outcome in &census.values {
        let seed = match &outcome.witness {
            Schedule::Seed(seed) => *seed,
            Schedule::Tape(tape) => {
                assert_eq!(
                    (
                        outcome.witness_run_index,
                        tape.len(),
                        outcome.value.as_str()
                    ),
                    (0, 0, "abc"),
                    "only run 0, FIFO, is witnessed by a tape"
                );
                continue;
            }
        };
        let tape: asyncsim::Tape = outcome.token().parse().unwrap();
        let run = Sim::new(Config::new().strategy(Strategy::Replay(tape))).run(print_order());
        assert_eq!(run.result.unwrap(), outcome.value);
        if Strategy::Mix.for_seed(seed) == Strategy::Random {
            let run = Sim::new(Config::new().seed(seed)).run(print_order());
            assert_eq!(run.result.unwrap(), outcome.value);
        }
    }
    let two = asyncsim::outcomes(settings().jobs(2), print_order);
    assert_eq!(
        two.values
            .iter()
            .map(|o| (&o.value, o.count, &o.witness))
            .collect::<Vec<_>>(),
        census
            .values
            .iter()
            .map(|o| (&o.value, o.count, &o.witness))
            .collect::<Vec<_>>()
    );
}

#[test]
fn fifo_has_exactly_one_outcome() {
    let census = asyncsim::outcomes(settings().strategy(Strategy::Fifo), print_order);
    assert_eq!(census.distinct(), [&"abc".to_string()]);
}

#[test]
fn find_returns_a_witness_whose_token_replays_the_value() {
    let witness = asyncsim::find(settings(), print_order, |order| order == "cba")
        .expect("reverse order is possible");
    assert_eq!(witness.value, "cba");
    let replay =
        Sim::new(Config::new().strategy(Strategy::Replay(witness.token().parse().unwrap())))
            .run(print_order());
    assert_eq!(replay.result.unwrap(), "cba");
    assert_eq!(replay.trace, witness.trace);
    let parallel = asyncsim::find(settings().jobs(2), print_order, |order| order == "cba").unwrap();
    assert_eq!(parallel.run_index, witness.run_index);
    // An impossible value has no witness.
    assert!(asyncsim::find(settings(), print_order, |order| order == "aaa").is_none());
}

#[test]
fn shards_split_the_runs_and_together_see_what_one_run_sees() {
    let whole = asyncsim::explore(settings(), || async {
        print_order().await;
    });
    let mut runs = 0;
    for shard in 0..3 {
        let part = asyncsim::explore(settings().shard(shard, 3), || async {
            print_order().await;
        });
        runs += part.runs;
    }
    assert_eq!(runs, whole.runs);
    // At least the six print orders; main's wake-ups add more schedules.
    assert!(whole.distinct_schedules >= 6);
    assert!(whole.new_in_last_1000 <= whole.distinct_schedules);
}
