//! "Handling async function results": `gather` returns results in argument
//! order, even when (as in 3.5–3.6) the jobs start in set order.
//!
//! ```text
//! cargo run --example gather
//! ```

mod common;

use asyncsim::harness::run_schedule;
use common::concurrent::{run_gather, run_gather_unordered};
use common::support::{fifo, print_run, run_once, set_order};

fn main() {
    print_run(
        "x = await asyncio.gather(*[meow(x) for x in range(6)])",
        &run_once(fifo(), run_gather()),
    );
    print_run(
        "the same with 3.5–3.6's set: one that iterates 3, 0, 5, 1, 4, 2, on the FIFO loop",
        &run_schedule(&set_order(&[3, 0, 5, 1, 4, 2]), run_gather_unordered),
    );
}
