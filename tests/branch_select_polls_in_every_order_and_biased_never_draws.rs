//! `select!`: the live branches are polled in a drawn order on every poll
//! (every order occurs across schedules), the first to finish with a
//! matching output wins, `biased;` polls in argument order and never draws,
//! preconditions and patterns disable branches, `else` runs when all are
//! disabled, and the macro works through a re-export.

use asyncsim::harness::Explore;
use asyncsim::{select, yield_now, Config, DrawLabel, FailureKind, Sim, Strategy};
use std::cell::{Cell, RefCell};

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(100_000)
}

/// Each branch writes its name when polled first and finishes at its
/// second poll: the value is the order of the first polls and the winner.
async fn first_polls_and_winner() -> (String, char) {
    let log = RefCell::new(String::new());
    let branch = |name: char| {
        let log = &log;
        async move {
            log.borrow_mut().push(name);
            yield_now().await;
            name
        }
    };
    let winner = select! {
        name = branch('a') => name,
        name = branch('b') => name,
        name = branch('c') => name,
    };
    (log.into_inner(), winner)
}

#[test]
fn select_polls_its_branches_in_every_order_across_schedules() {
    let census = asyncsim::outcomes(settings().exhaustive(1), first_polls_and_winner);
    let mut orders: Vec<String> = census
        .values
        .iter()
        .map(|outcome| outcome.value.0.clone())
        .collect();
    orders.sort();
    orders.dedup();
    assert_eq!(orders, ["abc", "acb", "bac", "bca", "cab", "cba"]);
    // Under FIFO the first branch is polled first and wins.
    assert_eq!(census.values[0].value, ("abc".to_string(), 'a'));
    // Any branch can win.
    let mut winners: Vec<char> = census
        .values
        .iter()
        .map(|outcome| outcome.value.1)
        .collect();
    winners.sort_unstable();
    winners.dedup();
    assert_eq!(winners, ['a', 'b', 'c']);
}

#[test]
fn among_ready_branches_the_one_polled_first_wins() {
    let census = asyncsim::outcomes(settings().exhaustive(1), || async {
        select! {
            value = async { 1 } => value,
            value = async { 2 } => value,
            value = async { 3 } => value,
        }
    });
    let mut winners: Vec<(i32, u64)> = census
        .values
        .iter()
        .map(|outcome| (outcome.value, outcome.count))
        .collect();
    winners.sort_unstable();
    // Six orders, each branch first in two of them.
    assert_eq!(winners, [(1, 2), (2, 2), (3, 2)]);
}

#[test]
fn biased_select_polls_in_argument_order_and_never_draws() {
    for seed in 0..200 {
        let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(async {
            let polled = RefCell::new(String::new());
            let branch = |name: char, ready_at: u32| {
                let polled = &polled;
                async move {
                    for _ in 0..ready_at {
                        polled.borrow_mut().push(name);
                        yield_now().await;
                    }
                    polled.borrow_mut().push(name);
                    name
                }
            };
            let winner = select! {
                biased;
                name = branch('a', 2) => name,
                name = branch('b', 1) => name,
                name = branch('c', 1) => name,
            };
            (polled.into_inner(), winner)
        });
        assert!(
            run.tape
                .draws()
                .iter()
                .all(|draw| draw.label != DrawLabel::Branch),
            "seed {seed}: biased drew {:?}",
            run.tape
        );
        assert_eq!(
            run.result.unwrap(),
            ("abcab".to_string(), 'b'),
            "seed {seed}"
        );
    }
    // And the space has one schedule.
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX), || async {
        select! {
            biased;
            _ = yield_now() => {},
            _ = yield_now() => {},
        }
    });
    assert_eq!((summary.runs, summary.exhausted), (1, Some(true)));
}

#[test]
fn a_false_precondition_disables_a_branch_which_is_never_polled() {
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX), || async {
        let polled = Cell::new(false);
        let value = select! {
            _ = async { polled.set(true) }, if false => 0,
            value = async { yield_now().await; 5 }, if true => value,
        };
        assert_eq!(value, 5);
        assert!(!polled.get(), "a disabled branch was polled");
    });
    assert_eq!(summary.failures, 0, "{summary}");
    assert_eq!(summary.exhausted, Some(true));
}

#[test]
fn an_output_that_does_not_match_disables_its_branch_and_the_others_go_on() {
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX), || async {
        let value = select! {
            Some(value) = async { None::<u32> } => value,
            Some(value) = async { yield_now().await; Some(9) } => value,
        };
        assert_eq!(value, 9);
    });
    assert_eq!(summary.failures, 0, "{summary}");
    assert!(summary.runs >= 2, "both orders ran: {summary}");
}

#[test]
fn else_runs_when_every_branch_is_disabled_and_handlers_may_break() {
    let run = Sim::new(Config::new().seed(1)).run(async {
        let (sender, mut receiver) = asyncsim::sync::channel::<u32>(8);
        for value in 1..=3 {
            sender.send(value).await.unwrap();
        }
        drop(sender);
        let mut total = 0;
        loop {
            select! {
                // The future borrows `receiver`; the handler may use it again.
                Some(value) = receiver.recv() => {
                    total += value;
                    if receiver.is_empty() {
                        continue;
                    }
                }
                else => break,
            }
        }
        total
    });
    assert_eq!(run.result.unwrap(), 6);
}

#[test]
fn every_branch_disabled_without_else_panics_with_a_clear_message() {
    let run = Sim::new(Config::new()).run(async {
        select! {
            Some(value) = async { None::<u8> } => value,
        }
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure
            .message
            .contains("all branches are disabled and there is no `else` branch"),
        "{failure}"
    );
}

#[test]
fn mut_bindings_and_nested_patterns_bind_by_value() {
    let run = Sim::new(Config::new().seed(2)).run(async {
        select! {
            (Some(mut text), [first, ..]) = async { (Some(String::from("a")), [1u8, 2]) } => {
                text.push('b');
                (text, first)
            }
        }
    });
    assert_eq!(run.result.unwrap(), ("ab".to_string(), 1));
}

/// A crate that re-exports the macros under its own name (as the tokio face
/// does for `tokio::select!`).
mod face {
    pub use asyncsim::{join, select, try_join};
}

#[test]
fn the_macros_work_through_a_re_export() {
    let census = asyncsim::outcomes(settings().exhaustive(1), || async {
        let winner = face::select! {
            value = async { 'x' } => value,
            value = async { 'y' } => value,
        };
        let joined = face::join!(async { 1 }, async { 2 });
        let tried = face::try_join!(async { Ok::<_, ()>(3) }, async { Ok(4) });
        (winner, joined, tried)
    });
    let mut winners: Vec<char> = census
        .values
        .iter()
        .map(|outcome| outcome.value.0)
        .collect();
    winners.sort_unstable();
    winners.dedup();
    assert_eq!(winners, ['x', 'y']);
    assert!(census
        .values
        .iter()
        .all(|outcome| outcome.value.1 == (1, 2) && outcome.value.2 == Ok((3, 4))));
}

/// Two ready branches; which one wins depends on the drawn order.
async fn two_ready_branches() -> u8 {
    select! { // first select
        value = async { 1 } => value,
        value = async { 2 } => value,
    }
}

/// The same program, its `select!` on another line.
async fn two_ready_branches_elsewhere() -> u8 {
    select! { // second select
        value = async { 1 } => value,
        value = async { 2 } => value,
    }
}

/// The line of this file that ends with `marker`.
fn line_of(marker: &str) -> usize {
    include_str!("branch_select_polls_in_every_order_and_biased_never_draws.rs")
        .lines()
        .position(|line| line.ends_with(marker))
        .unwrap()
        + 1
}

#[test]
fn a_drawn_order_names_the_select_by_file_and_line_and_keeps_the_hash() {
    let seed = (0..100)
        .find(|&seed| {
            let config = Config::new().seed(seed).strategy(Strategy::Random);
            Sim::new(config).run(two_ready_branches()).result == Ok(2)
        })
        .expect("some seed polls branch 2 first");
    let config = || Config::new().seed(seed).strategy(Strategy::Random);
    let first = Sim::new(config()).run(two_ready_branches());
    let second = Sim::new(config()).run(two_ready_branches_elsewhere());
    let file = "tests/branch_select_polls_in_every_order_and_biased_never_draws.rs";
    for (run, marker) in [(&first, "// first select"), (&second, "// second select")] {
        let words = format!(
            "select! at {file}:{} polled branch 2 before branch 1",
            line_of(marker)
        );
        let trace = run.trace.to_string();
        assert!(trace.contains(&words), "{words}\n{trace}");
    }
    // The site is words only: the runs' hashes and tapes are the same.
    assert_eq!(first.trace.hash(), second.trace.hash());
    assert_eq!(first.tape, second.tape);
    assert_ne!(first.trace.to_string(), second.trace.to_string());
}
