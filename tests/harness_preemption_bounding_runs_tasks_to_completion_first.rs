//! Preemption bounding (`Explore::preemptions(k)`, `ASYNCSIM_STRATEGY=
//! preemptions:k`): the baseline keeps running the task that ran last while
//! it is runnable, so the orderings where one task runs far ahead of another
//! — many deviations from FIFO, out of reach of delay bounding — are among
//! its first schedules. Every schedule within the bound comes once, and a
//! failure it finds replays from its token like any other.

mod harness_support;

use std::cell::Cell;
use std::rc::Rc;

use asyncsim::harness::Explore;
use asyncsim::{Config, Sim, Strategy};
use harness_support::{choose, two_tasks};

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(1_000_000)
}

/// The long task must finish before the short one checks: 45 polls ahead.
async fn rare_ordering() {
    let done = Rc::new(Cell::new(false));
    let slow = {
        let done = done.clone();
        asyncsim::spawn(async move {
            for _ in 0..45 {
                asyncsim::yield_now().await;
            }
            done.set(true);
        })
    };
    let fast = {
        let done = done.clone();
        asyncsim::spawn(async move {
            for _ in 0..5 {
                asyncsim::yield_now().await;
            }
            assert!(!done.get(), "the long task finished first");
        })
    };
    slow.await.unwrap();
    fast.await.unwrap();
}

#[test]
fn zero_preemptions_run_each_task_until_it_blocks_and_find_the_rare_ordering_first() {
    let summary = asyncsim::explore(settings().preemptions(0), rare_ordering);
    let found = summary
        .first_failure
        .expect("the run-to-completion schedule fails");
    assert_eq!(found.run_index, 0);
    assert!(found
        .failure
        .message
        .contains("the long task finished first"));
    assert_eq!(found.strategy, "preemptions:0");
    // Delay bounding from FIFO cannot reach it with a few deviations.
    let delay_bounded = asyncsim::explore(settings().exhaustive(3).runs(20_000), rare_ordering);
    assert!(delay_bounded.first_failure.is_none());
}

#[test]
fn the_token_of_a_preemption_bounded_failure_replays_it_under_the_default_config() {
    let summary = asyncsim::explore(settings().preemptions(1), rare_ordering);
    let found = summary.first_failure.expect("found");
    let tape: asyncsim::Tape = found.token().parse().expect("a valid token");
    let replay = Sim::new(Config::new().strategy(Strategy::Replay(tape))).run(rare_ordering());
    let failure = replay.result.expect_err("the replay fails too");
    assert!(
        failure.message.contains("the long task finished first"),
        "{failure}"
    );
}

#[test]
fn two_tasks_unbounded_still_have_c_2k_k_schedules_each_once() {
    // Without a bound the baseline does not matter: every interleaving once.
    for k in 1..=4usize {
        let expected = choose(2 * k as u64, k as u64);
        let summary = asyncsim::explore(settings().preemptions(u32::MAX), move || async move {
            two_tasks(k).await;
        });
        assert_eq!(summary.runs, expected, "k = {k}");
        assert_eq!(summary.exhausted, Some(true));
        assert_eq!(summary.distinct_schedules, expected, "k = {k}");
    }
}

#[test]
fn bounded_preemptions_grow_to_the_whole_space_each_schedule_once() {
    let mut previous = 0;
    for bound in 0..=7u32 {
        let summary = asyncsim::explore(settings().preemptions(bound), || async {
            two_tasks(4).await;
        });
        assert_eq!(summary.exhausted, Some(true), "bound {bound}");
        assert_eq!(summary.distinct_schedules, summary.runs, "bound {bound}");
        assert!(summary.runs >= previous);
        previous = summary.runs;
    }
    assert_eq!(previous, 70);
    let run_to_completion = asyncsim::explore(settings().preemptions(0), || async {
        two_tasks(4).await;
    });
    assert_eq!(run_to_completion.runs, 1);
}

#[test]
fn the_search_parses_from_its_name() {
    assert_eq!(
        asyncsim::harness::parse_search("preemptions:3").unwrap(),
        asyncsim::harness::Search::Preemptions { max_preemptions: 3 }
    );
    assert_eq!(
        asyncsim::harness::Search::Preemptions { max_preemptions: 3 }.to_string(),
        "preemptions:3"
    );
    let error = asyncsim::harness::parse_search("preemptions:lots").unwrap_err();
    assert!(error.contains("whole number"), "{error}");
}
