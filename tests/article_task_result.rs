//! "That it? What else you got?": a task begins executing when created, and
//! stores its result; awaiting it later returns the result without running
//! the work again (and, being done, without yielding to the loop).

#[path = "../examples/common/mod.rs"]
mod common;
mod schedule_support;

use std::cell::Cell;
use std::rc::Rc;

use asyncsim::task::Builder;
use asyncsim::time::{self, Instant};
use asyncsim::trace::{self, marks_so_far};
use common::snippets::{run_task_result, secs};
use common::support::{assert_trace_snapshot, fifo, run_once};
use schedule_support::on_every_schedule;

#[test]
fn a_finished_task_awaited_later_returns_its_stored_result_without_running_again() {
    on_every_schedule(u32::MAX, 50_000, || async {
        let executions = Rc::new(Cell::new(0));
        assert_eq!(run_task_result(executions.clone()).await, 42);
        assert_eq!(executions.get(), 1, "exactly one execution");
        assert_eq!(
            marks_so_far(),
            [
                "compute runs",
                "main awaits the finished task",
                "main has the result"
            ]
        );
        // The task's future was polled to completion before the await.
        assert_eq!(Instant::now().since_start(), secs(2));
    });
}

#[test]
fn awaiting_a_finished_task_does_not_yield_to_the_loop_on_any_schedule() {
    // A busy neighbour marks "tick" at every step it gets. If awaiting the
    // finished task yielded, some schedule would let a tick in between.
    on_every_schedule(u32::MAX, 50_000, || async {
        let task = Builder::new().name("compute").spawn(async { 42 });
        let ticker = Builder::new().name("ticker").spawn(async {
            for _ in 0..20 {
                trace::mark("tick");
                asyncsim::yield_now().await;
            }
        });
        time::sleep(secs(1)).await;
        let marks_before = marks_so_far().len();
        let result = task.await.expect("compute does not panic");
        assert_eq!(marks_so_far().len(), marks_before, "no tick in between");
        assert_eq!(result, 42);
        ticker.await.expect("ticker does not panic");
    });
}

#[test]
fn a_task_begins_executing_without_being_awaited() {
    on_every_schedule(u32::MAX, 50_000, || async {
        let executions = Rc::new(Cell::new(0));
        let counter = executions.clone();
        let never_awaited = Builder::new().name("compute").spawn(async move {
            counter.set(counter.get() + 1);
        });
        time::sleep(secs(1)).await;
        drop(never_awaited);
        assert_eq!(executions.get(), 1);
    });
}

#[test]
fn task_result_fifo_trace_snapshot() {
    assert_trace_snapshot(
        "task_result",
        &run_once(fifo(), run_task_result(Rc::new(Cell::new(0)))).trace,
    );
}
