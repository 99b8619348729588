//! "Creating an event loop": `Sim::run` is `loop.run_until_complete`.
//!
//! ```text
//! cargo run --example event_loop
//! ```

mod common;

use common::snippets::{forget_some_func, some_func};
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "run_until_complete(some_func())",
        &run_once(fifo(), some_func()),
    );
    print_run(
        "some_func() created but never awaited: it never runs",
        &run_once(fifo(), forget_some_func()),
    );
}
