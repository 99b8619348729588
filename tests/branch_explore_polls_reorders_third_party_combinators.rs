//! `explore_polls` for combinators a user cannot change, measured on the
//! flume shape with `futures::future::join` (which always polls its first
//! branch first): wrapping the whole join cannot find the bug — in a
//! one-task program a yield before the join's poll changes nothing inside
//! it — while wrapping the branches handed to the join finds it (within one
//! deviation under exhaustive search; random schedules find it in the first
//! few runs and shrink it to at most two, since the shrinker moves toward
//! zeros and cannot move a yield to an earlier poll).

mod branch_support;

use asyncsim::harness::Explore;
use asyncsim::{explore_polls, FailureKind};
use branch_support::{channel, consumer, producer};

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(2000)
}

async fn third_party_join_unwrapped() {
    let channel = channel();
    futures::future::join(producer(channel.clone()), consumer(channel)).await;
}

async fn third_party_join_wrapped_whole() {
    let channel = channel();
    explore_polls(futures::future::join(
        producer(channel.clone()),
        consumer(channel),
    ))
    .await;
}

async fn third_party_join_of_wrapped_branches() {
    let channel = channel();
    futures::future::join(
        explore_polls(producer(channel.clone())),
        explore_polls(consumer(channel)),
    )
    .await;
}

#[test]
fn a_third_party_join_alone_has_one_schedule() {
    let summary = asyncsim::explore(settings().exhaustive(u32::MAX), || {
        third_party_join_unwrapped()
    });
    assert_eq!((summary.runs, summary.failures), (1, 0), "{summary}");
}

#[test]
fn wrapping_the_whole_join_does_not_find_the_bug() {
    let sampled = asyncsim::explore(settings(), third_party_join_wrapped_whole);
    assert!(sampled.first_failure.is_none(), "{sampled}");
    assert!(
        sampled.distinct_schedules > 1,
        "the yields were drawn: {sampled}"
    );
    let exhaustive = asyncsim::explore(settings().exhaustive(3), third_party_join_wrapped_whole);
    assert_eq!(exhaustive.exhausted, Some(true));
    assert!(exhaustive.first_failure.is_none(), "{exhaustive}");
}

#[test]
fn wrapping_the_branches_finds_the_bug() {
    let summary = asyncsim::explore(settings(), third_party_join_of_wrapped_branches);
    let failure = summary
        .first_failure
        .expect("found by yields of the wrapped branches");
    assert_eq!(failure.failure.kind, FailureKind::Panic, "{failure}");
    assert!(failure.run_index < 10, "{failure}");
    assert!(failure.deviations <= 2, "{failure}");
    // One yield is enough: the consumer's, in the poll where the producer
    // hands a value off.
    let exhaustive = asyncsim::explore(
        settings().exhaustive(1),
        third_party_join_of_wrapped_branches,
    );
    let failure = exhaustive
        .first_failure
        .expect("found within one deviation");
    assert_eq!(failure.deviations, 1, "{failure}");
}
