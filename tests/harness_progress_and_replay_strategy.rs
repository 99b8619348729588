//! Long explorations say how they are doing on stderr; a replay given as a
//! strategy runs that one schedule.

use asyncsim::harness::{parse_search, Explore};
use std::process::Command;

/// The body: two tasks racing to print.
async fn two_tasks() {
    let a = asyncsim::spawn(async { asyncsim::yield_now().await });
    let b = asyncsim::spawn(async { asyncsim::yield_now().await });
    a.await.unwrap();
    b.await.unwrap();
}

const CHILD: &str = "ASYNCSIM_TEST_PROGRESS_CHILD";

#[test]
fn progress_lines_report_runs_rate_and_distinct_schedules() {
    if std::env::var_os(CHILD).is_some() {
        // In the child: an exploration that reports after every run.
        let summary = asyncsim::explore(
            Explore::without_environment()
                .runs(50)
                .progress_every(std::time::Duration::ZERO),
            two_tasks,
        );
        assert_eq!(summary.runs, 50);
        return;
    }
    // Run this same test in a child process to read its stderr.
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "progress_lines_report_runs_rate_and_distinct_schedules",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("runs/s"))
        .collect();
    assert!(
        lines.len() >= 40,
        "a line after (nearly) every run:\n{stderr}"
    );
    let last = lines.last().unwrap();
    assert!(last.contains("/50 runs"), "{last}");
    assert!(last.contains("distinct schedules"), "{last}");
}

#[test]
fn progress_stays_quiet_for_short_explorations_by_default() {
    if std::env::var_os(CHILD).is_some() {
        // In the child: the default interval is seconds; 50 runs take less.
        let summary = asyncsim::explore(Explore::without_environment().runs(50), two_tasks);
        assert_eq!(summary.runs, 50);
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "progress_stays_quiet_for_short_explorations_by_default",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    assert!(output.status.success(), "{output:?}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("runs/s"));
}

#[test]
fn a_replay_strategy_runs_exactly_that_schedule_once() {
    let found = asyncsim::find(Explore::without_environment().runs(100), two_tasks, |_| {
        true
    })
    .expect("every run is a witness");
    let search = parse_search(&format!("replay:{}", found.token())).unwrap();
    let summary = asyncsim::explore(
        Explore::without_environment()
            .runs(1000)
            .with_search(search),
        two_tasks,
    );
    assert_eq!(summary.runs, 1, "one schedule, not 1000 copies of it");
    assert_eq!(summary.distinct_schedules, 1);
}
