//! "Order mucking": coroutines run sequentially in the order they are
//! awaited; tasks run at once whatever the await order.
//!
//! ```text
//! cargo run --example order_mucking
//! ```

mod common;

use common::snippets::{run_in_await_order, run_tasks_in_await_order};
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "define meow(1), meow(2), meow(3); await 3, then 1, then 2",
        &run_once(fifo(), run_in_await_order([3, 1, 2])),
    );
    print_run(
        "create_task all the things; await 3, then 1, then 2",
        &run_once(fifo(), run_tasks_in_await_order([3, 1, 2])),
    );
}
