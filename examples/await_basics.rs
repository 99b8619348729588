//! "The real magic — await": the awaited coroutine runs inline, to the end.
//!
//! ```text
//! cargo run --example await_basics
//! ```

mod common;

use common::snippets::run_await;
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run("await speak_async()", &run_once(fifo(), run_await()));
}
