//! `try_join!` returns the outputs in argument order or the first error in
//! the poll order (each failing branch's error occurs across schedules);
//! `join_all` and `select` (the function forms) order their polls by draw
//! like the macros.

use asyncsim::harness::Explore;
use asyncsim::{join_all, select, try_join, yield_now, Config, Sim, Strategy};
use std::cell::RefCell;

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(100_000)
}

#[test]
fn try_join_outputs_are_in_argument_order_for_every_schedule() {
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX), || async {
        let outputs = try_join!(
            async {
                yield_now().await;
                Ok::<_, String>(1)
            },
            async { Ok(2) },
            async {
                yield_now().await;
                yield_now().await;
                Ok(3)
            },
        );
        assert_eq!(outputs, Ok((1, 2, 3)));
    });
    assert_eq!(summary.failures, 0, "{summary}");
    assert_eq!(summary.exhausted, Some(true));
    assert!(summary.runs > 5, "{summary}");
}

#[test]
fn try_join_returns_the_first_error_in_poll_order() {
    let census = asyncsim::outcomes(settings().exhaustive(u32::MAX), || async {
        try_join!(async { Err::<u8, _>("left") }, async {
            Err::<u8, _>("right")
        })
    });
    let values: Vec<Result<(u8, u8), &str>> =
        census.values.iter().map(|outcome| outcome.value).collect();
    assert_eq!(
        values,
        [Err("left"), Err("right")],
        "FIFO first, then the other order"
    );
}

#[test]
fn join_all_polls_in_every_order_and_returns_argument_order() {
    let census = asyncsim::outcomes(settings().exhaustive(1), || async {
        let log = RefCell::new(String::new());
        let outputs = join_all(['a', 'b', 'c'].map(|name| {
            let log = &log;
            async move {
                log.borrow_mut().push(name);
                yield_now().await;
                name
            }
        }))
        .await;
        assert_eq!(outputs, ['a', 'b', 'c']);
        log.into_inner()
    });
    let mut orders: Vec<String> = census
        .values
        .iter()
        .map(|outcome| outcome.value.clone())
        .collect();
    orders.sort();
    assert_eq!(orders, ["abc", "acb", "bac", "bca", "cab", "cba"]);
}

#[test]
fn join_all_of_many_futures_makes_one_draw_per_poll() {
    let run = Sim::new(Config::new().seed(8).strategy(Strategy::Random)).run(async {
        join_all((0..100u32).map(|index| async move {
            yield_now().await;
            index
        }))
        .await
    });
    // Two polls (all yield, then all finish), a rotation of 100 each.
    assert_eq!(run.tape.len(), 2, "{:?}", run.tape);
    assert!(run.tape.draws().iter().all(|draw| draw.bound == 100));
    assert_eq!(run.result.unwrap(), (0..100).collect::<Vec<_>>());
}

#[test]
fn select_function_lets_any_ready_future_win() {
    let census = asyncsim::outcomes(settings().exhaustive(1), || async {
        select([10, 20, 30].map(|value| async move { value })).await
    });
    let mut winners: Vec<(usize, i32)> =
        census.values.iter().map(|outcome| outcome.value).collect();
    assert_eq!(winners[0], (0, 10), "FIFO: the first argument");
    winners.sort_unstable();
    winners.dedup();
    assert_eq!(winners, [(0, 10), (1, 20), (2, 30)]);
}
