//! A trace's tail (a report's "last 20 events") keeps its descriptions in
//! one column when a task's name is longer than the usual twelve characters
//! (a `Builder::name`, the tokio face's `task-3@src/server.rs:42`): the task
//! column is as wide as the longest name among the lines shown; with short
//! names it is as it always was. The whole trace (`Display`) keeps twelve:
//! tests snapshot and digest it to pin schedules.

use asyncsim::{Config, Sim, Strategy};

fn run_with_a_task_named(name: &str) -> asyncsim::Trace {
    let name = name.to_string();
    Sim::new(Config::new().strategy(Strategy::Fifo))
        .run(async move {
            asyncsim::task::Builder::new()
                .name(name)
                .spawn(async { asyncsim::trace::mark("hello") })
                .await
                .unwrap();
        })
        .trace
}

#[test]
fn a_long_task_name_widens_the_column_for_every_line() {
    let trace = run_with_a_task_named("replica-7@storage/wal.rs:120");
    assert_eq!(
        trace.tail(20),
        "    0         0s  main                         spawn
    1         0s  main                         poll
    1         0s  replica-7@storage/wal.rs:120 spawn (by main)
    1         0s  main                         pending on JoinHandle of `replica-7@storage/wal.rs:120`
    2         0s  replica-7@storage/wal.rs:120 poll
    2         0s  replica-7@storage/wal.rs:120 mark \"hello\"
    2         0s  main                         woken by replica-7@storage/wal.rs:120
    2         0s  replica-7@storage/wal.rs:120 complete
    3         0s  main                         poll
    3         0s  main                         complete
"
    );
    // The whole trace as it was.
    assert!(trace.to_string().contains(
        "    1         0s  replica-7@storage/wal.rs:120 spawn (by main)\n    1         0s  main         pending"
    ));
    // The tail measures the names it shows.
    assert_eq!(
        trace.tail(2),
        "    3         0s  main         poll\n    3         0s  main         complete\n"
    );
}

#[test]
fn short_task_names_keep_the_twelve_column_layout() {
    let trace = run_with_a_task_named("speaker");
    assert_eq!(
        trace.tail(3),
        "    2         0s  speaker      complete
    3         0s  main         poll
    3         0s  main         complete
"
    );
}
