//! `check` panics with a report a person can act on; it checks determinism
//! first, saves failing schedules and replays them first next time.

mod harness_support;

use asyncsim::harness::Explore;
use harness_support::{lock_order_deadlock, lost_update};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn settings() -> Explore {
    Explore::without_environment().runs(500).progress(false)
}

fn report_of(
    settings: Explore,
    body: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> String {
    let outcome = catch_unwind(AssertUnwindSafe(|| asyncsim::check(settings, body)));
    let payload = outcome.expect_err("check panics on a failing schedule");
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(_) => panic!("check's panic carries the report as a String"),
    }
}

fn lost() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    Box::pin(lost_update())
}

fn deadlock() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    Box::pin(lock_order_deadlock())
}

#[test]
fn check_report_names_failure_replay_lines_schedule_events_and_trace_file() {
    let report = report_of(settings().persist(false).name("demo::lost_update"), lost);
    eprintln!("{report}");
    for expected in [
        "asyncsim: `demo::lost_update` failed after",
        "lost update",
        "ASYNCSIM_REPLAY=as1.",
        "cargo test demo::lost_update",
        "ASYNCSIM_SEED=",
        "deviations ",
        "FIFO except:",
        "instead of `reader`",
        "last 20 events",
        "timeline:",
        "full trace: ",
    ] {
        assert!(
            report.contains(expected),
            "missing {expected:?} in:\n{report}"
        );
    }
    let path = report
        .lines()
        .find_map(|line| line.strip_prefix("full trace: "))
        .unwrap();
    assert!(
        path.contains("target") && path.contains("asyncsim"),
        "{path}"
    );
    let saved = asyncsim::harness::trace_file::load(std::path::Path::new(path)).unwrap();
    assert!(saved.event_count() > 0);
}

#[test]
fn check_report_lists_blocked_tasks_of_a_deadlock() {
    let report = report_of(settings().persist(false).name("deadlock"), deadlock);
    assert!(report.contains("Deadlock"), "{report}");
    // The kind is said once: "Deadlock: the main future is pending …".
    assert!(
        report.contains("\nDeadlock: the main future is pending"),
        "{report}"
    );
    assert!(!report.contains("Deadlock: deadlock:"), "{report}");
    assert!(report.contains("blocked tasks:"), "{report}");
    assert!(
        report.contains("task `left`") && report.contains("task `right`"),
        "{report}"
    );
}

#[test]
fn check_passes_a_correct_body_over_every_schedule() {
    let summary = asyncsim::check(settings().persist(false).exhaustive(u32::MAX), || async {
        let a = asyncsim::spawn(async { 1 });
        let b = asyncsim::spawn(async { 2 });
        assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
    });
    assert_eq!(summary.exhausted, Some(true), "{summary}");
    assert!(summary.runs > 1, "{summary}");
}

#[test]
fn check_rejects_a_nondeterministic_body_naming_the_divergent_event() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        asyncsim::check(settings().persist(false), || async {
            // State kept between runs: the second run spawns one task more.
            let extra = CALLS.fetch_add(1, Ordering::SeqCst) % 2;
            for _ in 0..=extra {
                asyncsim::spawn(async {}).await.unwrap();
            }
        })
    }));
    let report = *outcome.unwrap_err().downcast::<String>().unwrap();
    assert!(report.contains("not deterministic"), "{report}");
    assert!(report.contains("diverge at event #"), "{report}");
    assert!(
        report.contains("first run:") && report.contains("second run:"),
        "{report}"
    );
}

#[test]
fn failing_schedules_are_saved_and_replayed_first() {
    let directory =
        std::env::temp_dir().join(format!("asyncsim-regressions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    let first = report_of(
        settings()
            .regressions_dir(&directory)
            .name("persisted")
            .trace_file(false),
        lost,
    );
    let file = directory.join("persisted.txt");
    let saved = std::fs::read_to_string(&file).expect("the failing token was saved");
    let token = saved
        .lines()
        .find(|line| line.starts_with("as1."))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert!(first.contains(&token));
    // Next time the saved schedule runs first: found with zero exploration.
    let summary_report = report_of(
        settings()
            .regressions_dir(&directory)
            .name("persisted")
            .trace_file(false)
            .runs(0),
        lost,
    );
    assert!(
        summary_report.contains("replaying a saved regression"),
        "{summary_report}"
    );
    assert!(summary_report.contains(&token));
    let _ = std::fs::remove_dir_all(&directory);
}

/// Two modules may each hold a test of one name (`alpha::works`,
/// `beta::works`): the replay line and the saved regression's file name
/// the test by its whole path, or `cargo test works` would run both and
/// the notice would point at a file that is not there.
mod twin {
    use super::*;

    #[test]
    fn works() {
        let directory =
            std::env::temp_dir().join(format!("asyncsim-twin-regressions-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        let settings = || settings().regressions_dir(&directory);
        let report = report_of(settings(), lost);
        let path = thread_path();
        assert_eq!(path, "twin::works");
        assert!(report.contains(&format!("cargo test {path}")), "{report}");
        let file = directory.join("twin__works.txt");
        assert!(
            file.exists(),
            "the regression was saved as {}",
            file.display()
        );
        let mut notices = Vec::new();
        let replayed = asyncsim::explore(settings().check_determinism(false), lost);
        if let Some(failure) = replayed.first_failure {
            notices.push(failure.replay_lines());
        }
        assert!(!notices.is_empty(), "the saved schedule fails again");
        assert!(
            notices[0].contains(&format!("cargo test {path}")),
            "{notices:?}"
        );
        let _ = std::fs::remove_dir_all(&directory);
    }

    fn thread_path() -> String {
        std::thread::current()
            .name()
            .unwrap_or_default()
            .to_string()
    }
}

/// Calls of [`counted_lost_update`]'s body.
static BODY_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn counted_lost_update() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    BODY_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Box::pin(lost_update())
}

/// A body that prints shows its output once per run: the report's last
/// line says how many runs made it and what each was for, and the count is
/// exactly the body's calls.
#[test]
fn the_report_says_how_often_the_body_ran_and_why() {
    BODY_CALLS.store(0, std::sync::atomic::Ordering::SeqCst);
    let report = report_of(
        settings().persist(false).trace_file(false).name("counted"),
        counted_lost_update,
    );
    let calls = BODY_CALLS.load(std::sync::atomic::Ordering::SeqCst);
    let last = report.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("the body ran {calls} time(s) for this report (")),
        "{calls} calls: {report}"
    );
    for part in [
        "1 to estimate a run's length for PCT",
        "2 to check that it is deterministic",
        " exploring",
        "1 re-running the failing schedule in full",
        " shrinking",
        "1 replaying the reported schedule",
    ] {
        assert!(last.contains(part), "{part:?} in {last}");
    }
    assert!(
        last.ends_with("so whatever it prints shows that often"),
        "{last}"
    );
}
