//! A search says what it covered: a bounded search whether it exhausted
//! its space (and a run cap that cut it short says so), every check how
//! many schedules ran and how many were distinct, in one readable line.

use asyncsim::Explore;

fn settings() -> Explore {
    Explore::without_environment()
        .persist(false)
        .trace_file(false)
        .progress(false)
}

/// Two tasks of three polls each, and the main task waiting on them.
async fn two_tasks() {
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            asyncsim::spawn(async {
                for _ in 0..2 {
                    asyncsim::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn a_bounded_check_that_covers_its_space_says_exhausted() {
    let summary = asyncsim::check(settings().exhaustive(2).runs(100_000), two_tasks);
    assert_eq!(summary.exhausted, Some(true));
    assert!(!summary.stopped_at_run_cap);
    assert_eq!(summary.distinct_schedules, summary.runs);
    let line = summary.to_string();
    assert!(line.contains("runs (exhaustive:2)"), "{line}");
    assert!(line.ends_with("bounded space exhausted"), "{line}");
}

#[test]
fn a_bounded_check_cut_short_by_its_run_cap_says_so() {
    let whole = asyncsim::check(settings().exhaustive(2).runs(100_000), two_tasks);
    for cap in 1..whole.runs {
        let summary = asyncsim::check(settings().exhaustive(2).runs(cap), two_tasks);
        assert_eq!(summary.runs, cap);
        assert_eq!(summary.exhausted, Some(false), "cap {cap}");
        assert!(summary.stopped_at_run_cap, "cap {cap}");
        let line = summary.to_string();
        assert!(
            line.contains("NOT exhausted: stopped at the run cap"),
            "cap {cap}: {line}"
        );
    }
    // A cap of exactly the space's size covers it.
    let exact = asyncsim::check(settings().exhaustive(2).runs(whole.runs), two_tasks);
    assert_eq!(exact.exhausted, Some(true));
    assert!(!exact.stopped_at_run_cap);
}

#[test]
fn a_cap_cut_is_reported_the_same_over_threads() {
    let whole = asyncsim::check(settings().exhaustive(2).runs(100_000), two_tasks);
    for jobs in [1, 2, 3] {
        let cut = asyncsim::check(
            settings().exhaustive(2).runs(whole.runs - 1).jobs(jobs),
            two_tasks,
        );
        assert!(
            cut.stopped_at_run_cap && cut.exhausted == Some(false),
            "jobs {jobs}"
        );
        let full = asyncsim::check(
            settings().exhaustive(2).runs(whole.runs).jobs(jobs),
            two_tasks,
        );
        assert!(
            !full.stopped_at_run_cap && full.exhausted == Some(true),
            "jobs {jobs}"
        );
    }
}

#[test]
fn a_sampled_check_names_its_test_runs_distinct_schedules_and_strategy() {
    let summary = asyncsim::check(settings().name("two tasks").runs(300), two_tasks);
    assert_eq!(summary.runs, 300);
    assert_eq!(summary.exhausted, None);
    assert!(summary.distinct_schedules > 1 && summary.distinct_schedules < 300);
    let line = summary.to_string();
    assert!(
        line.starts_with(&format!(
            "`two tasks`: 300 runs (mix), 0 failed, {} distinct schedules",
            summary.distinct_schedules
        )),
        "{line}"
    );
    assert!(!line.contains("exhausted"), "{line}");
}

#[test]
fn an_explore_summary_shows_the_first_failures_token_not_a_tape_dump() {
    let summary = asyncsim::explore(settings().runs(200), || async {
        assert_ne!(asyncsim::random_range(0..3u8), 2, "drew 2");
    });
    let failure = summary.first_failure.as_ref().expect("found");
    let line = summary.to_string();
    assert!(
        line.contains(&format!(
            "first failure at run {}: {}",
            failure.run_index,
            failure.token()
        )),
        "{line}"
    );
    assert!(!line.contains("Draw {"), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
}
