//! "That it? What else you got?": a task begins executing when created, and
//! stores its result; awaiting it later returns the result without running
//! the work again (and, being done, without yielding to the loop).

#[path = "../examples/common/mod.rs"]
mod common;

use std::cell::Cell;
use std::rc::Rc;

use asyncsim::task::Builder;
use asyncsim::{time, trace};
use common::snippets::{run_task_result, secs};
use common::support::{assert_trace_snapshot, check_every_schedule, fifo, marks, run_once};

const RUNS: u64 = 600;

#[test]
fn a_finished_task_awaited_later_returns_its_stored_result_without_running_again() {
    let executions = Rc::new(Cell::new(0));
    let mut runs = 0;
    check_every_schedule(
        RUNS,
        || {
            runs += 1;
            run_task_result(executions.clone())
        },
        |run| {
            assert_eq!(run.result.as_ref().ok(), Some(&42));
            assert_eq!(
                marks(&run.trace),
                [
                    "compute runs",
                    "main awaits the finished task",
                    "main has the result"
                ]
            );
            // The task's future was polled to completion before the await.
            assert_eq!(run.elapsed(), secs(2));
        },
    );
    assert_eq!(executions.get(), runs, "exactly one execution per run");
}

#[test]
fn awaiting_a_finished_task_does_not_yield_to_the_loop_on_any_schedule() {
    // A busy neighbour marks "tick" at every step it gets. If awaiting the
    // finished task yielded, some schedule would let a tick in between.
    check_every_schedule(
        RUNS,
        || async {
            let task = Builder::new().name("compute").spawn(async { 42 });
            let ticker = Builder::new().name("ticker").spawn(async {
                for _ in 0..20 {
                    trace::mark("tick");
                    asyncsim::yield_now().await;
                }
            });
            time::sleep(secs(1)).await;
            trace::mark("before await");
            let result = task.await.expect("compute does not panic");
            trace::mark("after await");
            ticker.await.expect("ticker does not panic");
            result
        },
        |run| {
            assert_eq!(run.result.as_ref().ok(), Some(&42));
            let marks = marks(&run.trace);
            let before = marks
                .iter()
                .position(|mark| mark == "before await")
                .unwrap();
            assert_eq!(marks[before + 1], "after await", "marks: {marks:?}");
        },
    );
}

#[test]
fn a_task_begins_executing_without_being_awaited() {
    check_every_schedule(
        RUNS,
        || async {
            let executions = Rc::new(Cell::new(0));
            let counter = executions.clone();
            let never_awaited = Builder::new().name("compute").spawn(async move {
                counter.set(counter.get() + 1);
            });
            time::sleep(secs(1)).await;
            drop(never_awaited);
            executions.get()
        },
        |run| assert_eq!(run.result.as_ref().ok(), Some(&1)),
    );
}

#[test]
fn task_result_fifo_trace_snapshot() {
    assert_trace_snapshot(
        "task_result",
        &run_once(fifo(), run_task_result(Rc::new(Cell::new(0)))).trace,
    );
}
