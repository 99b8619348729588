//! A deadlock on futures asyncsim cannot see into (here `futures`'s mutex)
//! is reported by the harness with each blocked task's primitive and line:
//! the harness replays the shrunk tape once more with `Config::waker_sites`.
//! asyncsim's own primitives keep their words.

use std::rc::Rc;

use asyncsim::task::Builder;
use asyncsim::Explore;

async fn inversion() {
    let first = Rc::new(futures::lock::Mutex::new(()));
    let second = Rc::new(futures::lock::Mutex::new(()));
    let (a, b) = (first.clone(), second.clone());
    let writer = Builder::new().name("writer").spawn(async move {
        let _one = a.lock().await;
        asyncsim::yield_now().await;
        let _two = b.lock().await; // writer waits here
    });
    let reader = Builder::new().name("reader").spawn(async move {
        let _two = second.lock().await;
        asyncsim::yield_now().await;
        let _one = first.lock().await; // reader waits here
    });
    writer.await.unwrap();
    reader.await.unwrap();
}

fn line_of(marker: &str) -> usize {
    let source = include_str!("harness_deadlock_report_names_foreign_primitives.rs");
    source
        .lines()
        .position(|line| line.ends_with(marker))
        .unwrap()
        + 1
}

#[test]
fn the_report_names_the_foreign_lock_each_task_waits_on() {
    let summary = asyncsim::explore(Explore::new().runs(200), inversion);
    let found = summary.first_failure.expect("the inversion deadlocks");
    let report = found.to_string();
    for name in ["writer", "reader"] {
        let expected = format!(
            "task `{name}` (#{}) waits on futures_util::lock::mutex::MutexLockFuture at tests/harness_deadlock_report_names_foreign_primitives.rs:{} (not an asyncsim primitive",
            if name == "writer" { 1 } else { 2 },
            line_of(&format!("// {name} waits here"))
        );
        assert!(report.contains(&expected), "{report}");
    }
    assert!(
        report.contains("task `main` (#0) waits on JoinHandle of `writer`"),
        "{report}"
    );
    // The trace's lines stay the run's own ("pending on a non-asyncsim
    // future"): only the blocked tasks are named from the capture.
    let blocked = &report[report.find("blocked tasks:").expect("a list")..];
    let blocked = &blocked[..blocked.find("\n\n").unwrap_or(blocked.len())];
    assert!(blocked.contains("task `reader`"), "{blocked}");
    assert!(!blocked.contains("non-asyncsim"), "{blocked}");
}

#[test]
fn asyncsim_primitives_keep_their_words() {
    let summary = asyncsim::explore(Explore::new().runs(200), || async {
        let first = Rc::new(asyncsim::sync::Mutex::new(()));
        let second = Rc::new(asyncsim::sync::Mutex::new(()));
        let (a, b) = (first.clone(), second.clone());
        let writer = Builder::new().name("writer").spawn(async move {
            let _one = a.lock().await;
            asyncsim::yield_now().await;
            let _two = b.lock().await;
        });
        let _two = second.lock().await;
        asyncsim::yield_now().await;
        let _one = first.lock().await;
        writer.await.unwrap();
    });
    let report = summary.first_failure.expect("deadlocks").to_string();
    assert!(report.contains("waits on Mutex#"), "{report}");
    assert!(report.contains("held by `main`"), "{report}");
}
