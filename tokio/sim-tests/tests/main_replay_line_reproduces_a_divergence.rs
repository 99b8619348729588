//! A `#[tokio::main]` run given a token that diverges (another program's)
//! prints a "replay it" line that reproduces the divergence: this binary
//! runs its own `replayed` test again as a child with `ASYNCSIM_REPLAY` set.

use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;

use asyncsim::Explore;

/// One task and no draw where `lost_update` makes its deviation: its token
/// diverges here.
#[tokio::main(flavor = "current_thread")]
async fn one_task() {
    tokio::spawn(async {}).await.unwrap();
}

/// Passes without `ASYNCSIM_REPLAY`; the child runs it with a token.
#[test]
fn replayed() {
    one_task();
}

/// Fails when the second writer runs between the first one's read and
/// write.
async fn lost_update() {
    let counter = Rc::new(Cell::new(0));
    let slow = counter.clone();
    let first = asyncsim::spawn(async move {
        let read = slow.get();
        asyncsim::yield_now().await;
        slow.set(read + 1);
    });
    let quick = counter.clone();
    let second = asyncsim::spawn(async move {
        asyncsim::yield_now().await;
        quick.set(quick.get() + 1);
    });
    first.await.unwrap();
    second.await.unwrap();
    assert_eq!(counter.get(), 2, "lost update");
}

/// The child's panic message and its replay line's token.
fn replay(token: &str) -> (String, String) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", "replayed", "--nocapture", "--test-threads=1"]);
    for other in ["ASYNCSIM_RUNS", "ASYNCSIM_SEED"] {
        child.env_remove(other);
    }
    let output = child.env("ASYNCSIM_REPLAY", token).output().unwrap();
    assert!(
        !output.status.success(),
        "the token replayed a pass: {output:?}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let failure = stderr
        .lines()
        .find(|line| line.starts_with("the simulated run failed"))
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_string();
    let line = stderr
        .lines()
        .skip_while(|line| !line.starts_with("replay it"))
        .nth(1)
        .unwrap_or_else(|| panic!("{stderr}"));
    let replay_token = line
        .trim()
        .strip_prefix("ASYNCSIM_REPLAY=")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    assert!(
        stderr.contains("reproduces this tape divergence"),
        "{stderr}"
    );
    (failure, replay_token)
}

#[test]
fn a_divergences_replay_line_reproduces_it() {
    let settings = Explore::without_environment()
        .runs(500)
        .persist(false)
        .trace_file(false)
        .progress(false);
    let token = asyncsim::explore(settings, lost_update)
        .first_failure
        .expect("found")
        .token();
    let (failure, replay_token) = replay(&token);
    assert!(failure.contains("tape divergence"), "{failure}");
    assert_eq!(replay_token, token, "the given token");
    let (again, _) = replay(&replay_token);
    assert_eq!(again, failure);
}
