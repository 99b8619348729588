//! "Unblock the Blockers": `blocking_func` on the loop takes 6 s, the two
//! runs taking turns; in the executor pool it takes 3 s (6 s with a pool of
//! one worker).
//!
//! ```text
//! cargo run --example run_in_executor
//! ```

mod common;

use asyncsim::Sim;
use common::snippets::start;
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "blocking_func() called on the loop",
        &run_once(fifo(), start(false)),
    );
    print_run(
        "await loop.run_in_executor(None, blocking_func)",
        &run_once(fifo(), start(true)),
    );
    print_run(
        "the same with a pool of one worker",
        &Sim::new(fifo().pool_size(1)).run(start(true)),
    );
}
