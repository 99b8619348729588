//! `tokio::select!`, `join!` and `try_join!` on the face are asyncsim's:
//! the order in which `select!` polls its branches is drawn from the tape,
//! so every branch that could win does win in some schedule (tokio's own
//! macro picks with an OS-seeded generator: not replayable).

use std::collections::BTreeSet;
use std::time::Duration;

use asyncsim::Explore;

#[test]
fn select_lets_each_ready_branch_win_in_some_schedule() {
    let census = asyncsim::outcomes(Explore::new().runs(200), || async {
        tokio::select! {
            value = async { 1 } => value,
            value = async { 2 } => value,
            value = async { 3 } => value,
        }
    });
    let winners: BTreeSet<i32> = census.distinct().into_iter().copied().collect();
    assert_eq!(winners, BTreeSet::from([1, 2, 3]));
}

#[test]
fn biased_select_always_takes_the_first_ready_branch() {
    let census = asyncsim::outcomes(Explore::new().runs(100), || async {
        tokio::select! {
            biased;
            value = async { 1 } => value,
            value = async { 2 } => value,
        }
    });
    assert_eq!(census.distinct(), [&1]);
}

#[test]
fn select_with_a_timer_and_else_matches_tokio_semantics() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<u32>(4);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            sender.send(7).await.unwrap();
        });
        let mut seen = Vec::new();
        loop {
            tokio::select! {
                Some(value) = receiver.recv() => seen.push(value),
                _ = tokio::time::sleep(Duration::from_millis(50)), if seen.is_empty() => seen.push(0),
                else => break,
            }
        }
        assert_eq!(seen, [7]);
    });
}

#[test]
fn join_and_try_join_return_outputs_in_argument_order() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let slow = async {
            tokio::time::sleep(Duration::from_millis(3)).await;
            "slow"
        };
        let fast = async { "fast" };
        assert_eq!(tokio::join!(slow, fast), ("slow", "fast"));
        let failed: Result<(u8, u8), &str> = tokio::try_join!(async { Ok(1) }, async { Err("no") });
        assert_eq!(failed, Err("no"));
    });
}

/// Two ready branches through the face's `select!`.
async fn two_ready_branches() -> u8 {
    tokio::select! { // the face's select
        value = async { 1 } => value,
        value = async { 2 } => value,
    }
}

#[test]
fn a_drawn_order_names_the_faces_select_by_the_users_file_and_line() {
    let line = include_str!("select_and_join.rs")
        .lines()
        .position(|line| line.ends_with("// the face's select"))
        .unwrap()
        + 1;
    let run = (0..100)
        .map(|seed| {
            let config = asyncsim::Config::new()
                .seed(seed)
                .strategy(asyncsim::Strategy::Random);
            asyncsim::Sim::new(config).run(two_ready_branches())
        })
        .find(|run| run.result == Ok(2))
        .expect("some seed polls branch 2 first");
    let trace = run.trace.to_string();
    // The path is the workspace's: tokio/sim-tests/tests/select_and_join.rs.
    let words = format!("/tests/select_and_join.rs:{line} polled branch 2 before branch 1");
    assert!(trace.contains("select! at "), "{trace}");
    assert!(trace.contains(&words), "{words}\n{trace}");
}
