//! "That it? What else you got?": a task stores its result; awaiting it
//! later does not run it again.
//!
//! ```text
//! cargo run --example task_result
//! ```

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::snippets::run_task_result;
use common::support::{fifo, print_run, run_once};

fn main() {
    let executions = Rc::new(Cell::new(0));
    print_run(
        "create_task(compute()), sleep past its end, then await it",
        &run_once(fifo(), run_task_result(executions.clone())),
    );
    println!("compute ran {} time(s)", executions.get());
}
