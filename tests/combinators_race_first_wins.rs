//! `race` resolves to the first child to finish, with its argument index,
//! and cancels the others.

use asyncsim::{race, time, trace, Config, Sim};
use std::time::Duration;

mod schedule_support;

use schedule_support::every_run;

#[test]
fn race_returns_the_shortest_sleep_and_cancels_the_rest_for_every_schedule() {
    every_run(
        u32::MAX,
        50_000,
        || async {
            let winner = race([4u64, 2, 3].map(|seconds| async move {
                time::sleep(Duration::from_secs(seconds)).await;
                trace::mark(format!("{seconds} finished"));
                seconds
            }))
            .await;
            time::sleep(Duration::from_secs(10)).await; // losers would finish by now
            winner
        },
        |run| {
            assert_eq!(
                run.trace.marks().collect::<Vec<_>>(),
                ["2 finished"],
                "replay {}",
                run.tape
            );
            assert_eq!(run.result.unwrap(), (1, 2));
        },
    );
}

#[test]
fn race_winner_is_the_first_to_complete_when_children_tie_in_time() {
    let mut winners = std::collections::BTreeSet::new();
    every_run(
        u32::MAX,
        50_000,
        || async {
            race((0..3usize).map(|index| async move {
                for _ in 0..asyncsim::random_range(0..3u32) {
                    asyncsim::yield_now().await;
                }
                trace::mark(format!("{index}"));
                index
            }))
            .await
        },
        |run| {
            let first: usize = run.trace.marks().next().unwrap().parse().unwrap();
            let (index, output) = run.result.unwrap();
            assert_eq!((index, output), (first, first));
            winners.insert(index);
        },
    );
    assert_eq!(winners.len(), 3, "every child wins on some schedule");
}

#[test]
fn race_of_nothing_panics_with_advice() {
    let run = Sim::new(Config::new()).run(async {
        let _ = race(Vec::<std::future::Ready<()>>::new()).await;
    });
    let failure = run.result.unwrap_err();
    assert!(
        failure.message.contains("pass at least one"),
        "{}",
        failure.message
    );
}
