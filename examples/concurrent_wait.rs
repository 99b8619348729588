//! "Concurrent runnings": `asyncio.wait` over six coroutines.
//!
//! - Python 3.5–3.10: `wait` put its argument in a set (3.8–3.10 deprecate
//!   passing coroutines), so the coroutines start in the set's order —
//!   `StartOrder::Unordered`; here one set order, replayed on asyncio's FIFO
//!   loop.
//! - Python 3.11+: `wait` refuses coroutines, so the caller creates the tasks
//!   first (`create_task` in argument order) and waits on them: they start
//!   in creation order, whatever order `wait`'s set has.
//! - `FIRST_COMPLETED` returns as soon as one is done.
//!
//! ```text
//! cargo run --example concurrent_wait
//! ```

mod common;

use asyncsim::harness::run_schedule;
use asyncsim::StartOrder;
use common::concurrent::{run_wait, run_wait_first_completed, run_wait_on_tasks};
use common::support::{fifo, print_run, run_once, set_order};

fn main() {
    let set = set_order(&[3, 0, 5, 1, 4, 2]);
    print_run(
        "await asyncio.wait([meow(x) for x in range(6)])  (3.5–3.10: a set; \
         this one iterates 3, 0, 5, 1, 4, 2, on the FIFO loop)",
        &run_schedule(&set, || run_wait(StartOrder::Unordered)),
    );
    print_run(
        "await asyncio.wait([asyncio.create_task(meow(x)) for x in range(6)])  \
         (3.11+: tasks first; the same set order, the same FIFO loop)",
        &run_schedule(&set, || run_wait_on_tasks(StartOrder::Unordered)),
    );
    print_run(
        "asyncio.wait([nap(3), nap(1), nap(2)], return_when=FIRST_COMPLETED)  \
         (started in argument order, as tasks created in that order start)",
        &run_once(fifo(), run_wait_first_completed(StartOrder::Argument)),
    );
}
