//! "Concurrent runnings": `asyncio.wait` over six coroutines. With 3.6's set
//! (`StartOrder::Unordered`) the start order is whatever the set gives (here
//! one set order replayed on asyncio's FIFO loop); with
//! 3.7+'s argument order they start 0, 1, 2, …; `FIRST_COMPLETED` returns
//! as soon as one is done.
//!
//! ```text
//! cargo run --example concurrent_wait
//! ```

mod common;

use asyncsim::harness::run_schedule;
use asyncsim::StartOrder;
use common::concurrent::{run_wait, run_wait_first_completed};
use common::support::{fifo, print_run, run_once, set_order};

fn main() {
    print_run(
        "await asyncio.wait([meow(x) for x in range(6)])  (3.7+: argument order)",
        &run_once(fifo(), run_wait(StartOrder::Argument)),
    );
    print_run(
        "the same in 3.6: a set that iterates 3, 0, 5, 1, 4, 2, on the FIFO loop",
        &run_schedule(&set_order(&[3, 0, 5, 1, 4, 2]), || {
            run_wait(StartOrder::Unordered)
        }),
    );
    print_run(
        "asyncio.wait([nap(3), nap(1), nap(2)], return_when=FIRST_COMPLETED)",
        &run_once(fifo(), run_wait_first_completed(StartOrder::Argument)),
    );
}
