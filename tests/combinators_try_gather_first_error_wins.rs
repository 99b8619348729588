//! `try_gather` returns the first error in completion order as soon as it
//! happens, and the other children keep running (asyncio's `gather` with
//! `return_exceptions=False` does not cancel the siblings).

use asyncsim::{time, trace, try_gather, Sim};
use std::time::Duration;

mod schedule_support;

use schedule_support::random_and_pct;

#[test]
fn try_gather_returns_the_first_error_at_once_and_siblings_keep_running() {
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(async {
            let child = |seconds: u64, fails: bool| async move {
                time::sleep(Duration::from_secs(seconds)).await;
                trace::mark(format!("child {seconds} done"));
                if fails {
                    Err(seconds)
                } else {
                    Ok(seconds)
                }
            };
            let result = try_gather([
                child(3, false),
                child(1, true),
                child(2, true),
                child(4, false),
            ])
            .await;
            let returned_at = time::Instant::now();
            time::sleep(Duration::from_secs(10)).await; // let the siblings finish
            (result, returned_at)
        });
        let marks: Vec<&str> = run.trace.marks().collect();
        assert_eq!(
            marks,
            [
                "child 1 done",
                "child 2 done",
                "child 3 done",
                "child 4 done"
            ],
            "the siblings kept running (seed {})",
            run.seed
        );
        let (result, returned_at) = run.result.unwrap();
        assert_eq!(result, Err(1));
        assert_eq!(returned_at.since_start(), Duration::from_secs(1));
    }
}

#[test]
fn try_gather_error_is_the_first_to_complete_when_errors_tie_in_time() {
    let mut winners = std::collections::BTreeSet::new();
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(async {
            try_gather((0..3u32).map(|index| async move {
                time::sleep(Duration::from_secs(1)).await;
                for _ in 0..asyncsim::random_range(0..3u32) {
                    asyncsim::yield_now().await;
                }
                trace::mark(format!("{index}"));
                Err::<(), u32>(index)
            }))
            .await
        });
        let first_mark: u32 = run.trace.marks().next().unwrap().parse().unwrap();
        let error = run.result.unwrap().unwrap_err();
        assert_eq!(
            error, first_mark,
            "the first to complete wins (seed {})",
            run.seed
        );
        winners.insert(error);
    }
    assert_eq!(winners.len(), 3, "each child wins on some schedule");
}

#[test]
fn try_gather_returns_every_output_in_argument_order_when_nothing_fails() {
    for config in random_and_pct(250) {
        let run = Sim::new(config).run(async {
            try_gather((0..4u64).map(|index| async move {
                time::sleep(Duration::from_millis(asyncsim::random_range(0..3u64))).await;
                Ok::<u64, ()>(index)
            }))
            .await
        });
        assert_eq!(run.result.unwrap(), Ok(vec![0, 1, 2, 3]));
    }
}
