//! "Concurrent runnings": `asyncio.wait` over six coroutines. With 3.6's set
//! (`StartOrder::Unordered`) the start order is whatever the set gives; with
//! 3.7+'s argument order they start 0, 1, 2, …; `FIRST_COMPLETED` returns
//! as soon as one is done.
//!
//! ```text
//! cargo run --example concurrent_wait
//! ```

mod common;

use asyncsim::{Config, Sim, StartOrder, Strategy};
use common::concurrent::{run_wait, run_wait_first_completed};
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "await asyncio.wait([meow(x) for x in range(6)])  (3.7+: argument order)",
        &run_once(fifo(), run_wait(StartOrder::Argument)),
    );
    // Seed 3 happens to draw a set order far from argument order.
    print_run(
        "the same in 3.6 (a set), seed 3",
        &Sim::new(Config::new().seed(3).strategy(Strategy::Random))
            .run(run_wait(StartOrder::Unordered)),
    );
    print_run(
        "asyncio.wait([nap(3), nap(1), nap(2)], return_when=FIRST_COMPLETED)",
        &run_once(fifo(), run_wait_first_completed(StartOrder::Argument)),
    );
}
