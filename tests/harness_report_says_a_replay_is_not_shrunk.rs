//! A failure report's schedule heading says what the shrinker did: for a
//! schedule found and shrunk, the deviations before and after and the runs
//! it took; for a given token replayed (never shrunk), that it was replayed
//! as given, not "shrunk: deviations 1 → 1 in 0 runs".

mod branch_support;

use asyncsim::harness::Explore;
use asyncsim::Tape;
use branch_support::with_asyncsim_join;

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(1000)
}

/// The report's line that begins "schedule (".
fn heading(report: &str) -> &str {
    report
        .lines()
        .find(|line| line.starts_with("schedule ("))
        .unwrap_or_else(|| panic!("no schedule heading in:\n{report}"))
}

#[test]
fn a_shrunk_failure_says_shrunk_and_a_replay_says_not_shrunk() {
    let found = asyncsim::explore(settings(), with_asyncsim_join)
        .first_failure
        .expect("the branch-order bug is found");
    assert!(found.shrink_runs > 0, "{found}");
    let report = found.to_string();
    assert_eq!(
        heading(&report),
        format!(
            "schedule (shrunk: deviations {} → {} in {} runs):",
            found.original_deviations, found.deviations, found.shrink_runs
        ),
        "{report}"
    );

    let tape: Tape = found.token().parse().expect("the token parses");
    let replayed = asyncsim::explore(settings().replay(tape), with_asyncsim_join)
        .first_failure
        .expect("the token replays the failure");
    assert_eq!(replayed.shrink_runs, 0);
    let report = replayed.to_string();
    assert_eq!(
        heading(&report),
        format!(
            "schedule (not shrunk: replayed as given; deviations {}):",
            found.deviations
        ),
        "{report}"
    );
    assert!(!report.contains("in 0 runs"), "{report}");
}
