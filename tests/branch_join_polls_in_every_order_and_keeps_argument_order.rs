//! `join!` polls its live branches in a drawn order on every poll (every
//! order occurs across schedules, argument order under FIFO), and its
//! outputs are in argument order for every schedule.

use asyncsim::harness::Explore;
use asyncsim::{join, yield_now, Config, DrawLabel, Sim, Strategy};
use std::cell::RefCell;
use std::time::Duration;

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(100_000)
}

/// Each branch writes its name when first polled; the run's value is the
/// order of those first polls.
async fn first_poll_order() -> String {
    let log = RefCell::new(String::new());
    let branch = |name: char| {
        let log = &log;
        async move {
            log.borrow_mut().push(name);
            yield_now().await;
            name
        }
    };
    let outputs = join!(branch('a'), branch('b'), branch('c'));
    assert_eq!(outputs, ('a', 'b', 'c'));
    log.into_inner()
}

#[test]
fn join_polls_its_branches_in_every_order_across_schedules() {
    // One deviation is enough for any order of three branches: the order of
    // a poll is one draw of 3! = 6 options.
    let census = asyncsim::outcomes(settings().exhaustive(1), first_poll_order);
    let mut orders: Vec<String> = census
        .values
        .iter()
        .map(|outcome| outcome.value.clone())
        .collect();
    orders.sort();
    assert_eq!(orders, ["abc", "acb", "bac", "bca", "cab", "cba"]);
    assert_eq!(
        census.values[0].value, "abc",
        "the first schedule is FIFO: argument order"
    );
    let summary = asyncsim::explore(settings().exhaustive(1), || async {
        first_poll_order().await;
    });
    assert_eq!(summary.exhausted, Some(true));
    assert_eq!(summary.failures, 0);
}

#[test]
fn fifo_polls_in_argument_order() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(first_poll_order());
    assert_eq!(run.result.unwrap(), "abc");
}

/// Three branches that interleave sleeps and yields: the space of branch
/// orders is small enough to enumerate whole.
async fn staggered() -> (u64, &'static str, Vec<u8>) {
    join!(
        async {
            asyncsim::time::sleep(Duration::from_millis(2)).await;
            yield_now().await;
            7u64
        },
        async {
            yield_now().await;
            "two"
        },
        async {
            let mut seen = Vec::new();
            for step in 0..2u8 {
                yield_now().await;
                seen.push(step);
            }
            seen
        },
    )
}

#[test]
fn join_outputs_are_in_argument_order_for_every_schedule() {
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX), || async {
        assert_eq!(staggered().await, (7, "two", vec![0, 1]));
    });
    assert_eq!(summary.exhausted, Some(true), "{summary}");
    assert_eq!(summary.failures, 0, "{summary}");
    // More than one schedule: the branch orders were really enumerated.
    assert!(summary.runs > 10, "{summary}");
}

#[test]
fn a_poll_with_one_live_branch_makes_no_draw() {
    for seed in 0..50 {
        let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(async {
            join!(async { 1 }, async {
                for _ in 0..5 {
                    yield_now().await;
                }
                2
            })
        });
        let branch_draws: Vec<_> = run
            .tape
            .draws()
            .iter()
            .filter(|draw| draw.label == DrawLabel::Branch)
            .collect();
        // The first poll orders two live branches; the other five polls
        // find one left.
        assert_eq!(branch_draws.len(), 1, "seed {seed}: {:?}", run.tape);
        assert_eq!(branch_draws[0].bound, 2);
        assert_eq!(run.result.unwrap(), (1, 2));
    }
}
