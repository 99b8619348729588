//! A failure report's schedule heading says why a schedule that was never
//! shrunk was not: a failure with no deviation from FIFO is already the
//! simplest schedule, shrinking may be off, and a schedule that passed when
//! run again has no failure to keep. None of them reads "shrunk: … in 0
//! runs".

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use asyncsim::harness::{Explore, Shrinking};
use asyncsim::Strategy;

mod harness_support;
use harness_support::lost_update;

fn settings() -> Explore {
    Explore::without_environment()
        .runs(200)
        .persist(false)
        .progress(false)
        .trace_file(false)
}

/// The report's line that begins "schedule (".
fn heading(report: &str) -> &str {
    report
        .lines()
        .find(|line| line.starts_with("schedule ("))
        .unwrap_or_else(|| panic!("no schedule heading in:\n{report}"))
}

async fn fails_in_every_order() {
    asyncsim::spawn(async {}).await.unwrap();
    panic!("fails in every order");
}

#[test]
fn a_failure_in_fifo_order_is_already_the_simplest_schedule() {
    let found = asyncsim::explore(settings().strategy(Strategy::Fifo), fails_in_every_order)
        .first_failure
        .expect("found");
    assert_eq!(found.shrinking, Shrinking::AlreadySimplest);
    let report = found.to_string();
    assert_eq!(
        heading(&report),
        "schedule (already the simplest schedule: no deviation from FIFO):",
        "{report}"
    );
}

#[test]
fn a_failure_with_shrinking_off_says_so() {
    let found = asyncsim::explore(settings().shrink(false), lost_update)
        .first_failure
        .expect("found");
    assert_eq!(found.shrinking, Shrinking::Off);
    assert!(found.deviations > 0, "{found}");
    let report = found.to_string();
    assert_eq!(
        heading(&report),
        format!(
            "schedule (not shrunk: shrinking is off; deviations {}):",
            found.deviations
        ),
        "{report}"
    );
}

#[test]
fn a_schedule_that_passed_when_run_again_says_it_was_not_shrunk() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    // Fails on its first call only: the harness's full re-run passes.
    let found = asyncsim::explore(settings().strategy(Strategy::Random), || async {
        assert!(CALLS.fetch_add(1, SeqCst) > 0, "the first call fails");
    })
    .first_failure
    .expect("found");
    assert!(!found.reproduced, "{found}");
    assert_eq!(found.shrinking, Shrinking::NotReproduced);
    let report = found.to_string();
    assert_eq!(
        heading(&report),
        format!(
            "schedule (not shrunk: it passed when run again, the body is not deterministic; deviations {}):",
            found.deviations
        ),
        "{report}"
    );
    assert!(!report.contains("in 0 runs"), "{report}");
}

#[test]
fn a_shrunk_failure_still_says_how() {
    let found = asyncsim::explore(settings(), lost_update)
        .first_failure
        .expect("found");
    assert_eq!(found.shrinking, Shrinking::Shrunk);
    let report = found.to_string();
    assert_eq!(
        heading(&report),
        format!(
            "schedule (shrunk: deviations {} → {} in {} runs):",
            found.original_deviations, found.deviations, found.shrink_runs
        ),
        "{report}"
    );
}
