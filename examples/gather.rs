//! "Handling async function results": `gather` returns results in argument
//! order, even when (as in 3.5–3.6) the jobs start in set order.
//!
//! ```text
//! cargo run --example gather
//! ```

mod common;

use asyncsim::{Config, Sim, Strategy};
use common::concurrent::{run_gather, run_gather_unordered};
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "x = await asyncio.gather(*[meow(x) for x in range(6)])",
        &run_once(fifo(), run_gather()),
    );
    print_run(
        "the same with 3.6's set-ordered start, seed 3",
        &Sim::new(Config::new().seed(3).strategy(Strategy::Random)).run(run_gather_unordered()),
    );
}
