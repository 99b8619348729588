//! The `ASYNCSIM_*` variables apply to `#[tokio::test]` as to
//! `asyncsim::check`: this binary runs its own counted test again as a
//! child with `ASYNCSIM_RUNS` set, and counts the schedules it ran.

use std::process::Command;

#[tokio::test]
async fn counted() {
    println!("face-run");
    tokio::task::yield_now().await;
}

fn runs_with(variable: &str, value: &str) -> usize {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", "counted", "--nocapture", "--test-threads=1"]);
    for other in ["ASYNCSIM_RUNS", "ASYNCSIM_SEED", "ASYNCSIM_REPLAY"] {
        child.env_remove(other);
    }
    let output = child.env(variable, value).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| *line == "face-run")
        .count()
}

#[test]
fn asyncsim_runs_sets_how_many_schedules_a_tokio_test_runs() {
    let (few, more) = (
        runs_with("ASYNCSIM_RUNS", "3"),
        runs_with("ASYNCSIM_RUNS", "10"),
    );
    assert!(few >= 3, "{few}");
    assert_eq!(
        more - few,
        7,
        "ASYNCSIM_RUNS=3 ran {few} bodies, =10 ran {more}"
    );
}

#[test]
fn asyncsim_seed_replays_one_schedule() {
    // One seed: one schedule (and the harness's determinism check, if any,
    // runs it once more).
    let one = runs_with("ASYNCSIM_SEED", "5");
    assert!((1..=2).contains(&one), "ASYNCSIM_SEED ran {one} bodies");
}
