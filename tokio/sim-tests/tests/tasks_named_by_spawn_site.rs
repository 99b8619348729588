//! A task spawned through the face is named by where it was spawned,
//! `task-<id>@<file>:<line>`, in panic and deadlock reports and the trace:
//! the reader sees which `tokio::spawn` made it, not only its number.

use asyncsim::{Config, FailureKind, Sim, TraceExt};

/// The line of this file that ends with `marker`.
fn line_of(marker: &str) -> usize {
    let source = include_str!("tasks_named_by_spawn_site.rs");
    source
        .lines()
        .position(|line| line.ends_with(marker))
        .unwrap()
        + 1
}

fn site(marker: &str) -> String {
    format!("@tests/tasks_named_by_spawn_site.rs:{}", line_of(marker))
}

#[test]
fn a_panic_report_names_the_spawn_site() {
    let run = Sim::new(Config::new()).run(async {
        let _quiet = tokio::spawn(async {}); // quiet spawn
        drop(tokio::spawn(async { panic!("the loud task fails") })); // loud spawn
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
    });
    let report = run.result.unwrap_err().to_string();
    assert!(report.contains("the loud task fails"), "{report}");
    assert!(
        report.contains(&format!("task-2{}", site("// loud spawn"))),
        "the panicking task is named by its spawn site: {report}"
    );
    let trace = run.trace.to_string();
    assert!(
        trace.contains(&format!("task-1{}", site("// quiet spawn"))),
        "{trace}"
    );
}

#[test]
fn a_pool_job_and_a_join_set_member_are_named_by_their_spawn_sites() {
    let run = Sim::new(Config::new()).run(async {
        let mut set = tokio::task::JoinSet::new();
        set.spawn(async { 1 }); // set spawn
        set.join_next().await.unwrap().unwrap();
        drop(tokio::task::spawn_blocking(|| panic!("the pool job fails"))); // blocking spawn
        std::future::pending::<()>().await;
    });
    let failure = run.result.unwrap_err();
    let report = failure.to_string();
    assert!(
        report.contains(&format!("blocking-2{}", site("// blocking spawn"))),
        "{report}"
    );
    let trace = run.trace.to_string();
    assert!(
        trace.contains(&format!("task-1{}", site("// set spawn"))),
        "{trace}"
    );
}

#[test]
fn a_deadlock_report_names_the_blocked_tasks_spawn_site() {
    let run = Sim::new(Config::new()).run(async {
        let (_keep, never) = tokio::sync::oneshot::channel::<()>();
        let waiter = tokio::spawn(async move { never.await.ok() }); // waiter spawn
        waiter.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    assert!(
        report.contains(&format!("task-1{}", site("// waiter spawn"))),
        "the blocked task is named by its spawn site: {report}"
    );
}

#[test]
fn join_set_members_from_extend_and_from_iter_are_named_by_the_caller() {
    let run = Sim::new(Config::new()).run(async {
        let mut set = tokio::task::JoinSet::new();
        set.extend([async { 1 }]); // extend spawn
        let direct = tokio::task::JoinSet::from_iter([async { 2 }]); // from_iter spawn
        let collected: tokio::task::JoinSet<u8> = [async { 3 }].into_iter().collect();
        let mut sum = 0;
        for mut set in [set, direct, collected] {
            while let Some(value) = set.join_next().await {
                sum += value.unwrap();
            }
        }
        assert_eq!(sum, 6);
    });
    run.result.unwrap();
    let trace = run.trace.to_string();
    assert!(
        trace.contains(&format!("task-1{}", site("// extend spawn"))),
        "{trace}"
    );
    assert!(
        trace.contains(&format!("task-2{}", site("// from_iter spawn"))),
        "{trace}"
    );
    // `collect()` reaches `from_iter` through core's `Iterator::collect`,
    // which does not pass its caller on: the face's own file, not core's.
    assert!(trace.contains("task-3@src/task/join_set.rs:"), "{trace}");
}

#[test]
fn the_timeline_keeps_each_task_s_number_and_spawn_line() {
    // A test file's name is long: cut from the end, every task's label read
    // `task-1@tasks_named_b~` and no two lanes could be told apart.
    let run = Sim::new(Config::new()).run(async {
        let first = tokio::spawn(async {}); // first lane
        let second = tokio::spawn(async {}); // second lane
        first.await.unwrap();
        second.await.unwrap();
    });
    let timeline = run.trace.timeline(80);
    for (task, marker) in [(1, "// first lane"), (2, "// second lane")] {
        let label = format!("task-{task}@~");
        let line = timeline
            .lines()
            .find(|line| line.starts_with(&label))
            .unwrap_or_else(|| panic!("no lane starts with {label}: {timeline}"));
        let end = format!("rs:{} ", line_of(marker));
        assert!(
            line.contains(&end),
            "{line} names its spawn line: {timeline}"
        );
    }
}
