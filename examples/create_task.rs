//! "Starting a function and getting back to it later": a plain coroutine
//! prints A, B, C; a task made with `create_task` prints A, C, B.
//!
//! ```text
//! cargo run --example create_task
//! ```

mod common;

use common::snippets::{run_with_create_task, run_without_create_task};
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "will_speak = speak()  (a coroutine: starts when awaited)",
        &run_once(fifo(), run_without_create_task()),
    );
    print_run(
        "will_speak = create_task(speak())  (a task: starts when main yields)",
        &run_once(fifo(), run_with_create_task()),
    );
}
