//! "Blocking the loop": ten speakers that `asyncio.sleep(3)` together and
//! then `time.sleep(3)` one after another take 3 + 10 × 3 = 33 s; every
//! blocking poll shows up in the slow-poll report.
//!
//! ```text
//! cargo run --example blocking_loop
//! ```

mod common;

use common::snippets::{run_speakers, Bark};
use common::support::{fifo, print_run, run_once};

fn main() {
    print_run(
        "ten speakers: asyncio.sleep(3), then time.sleep(3)  (the culprit)",
        &run_once(fifo(), run_speakers(10, Bark::Blocking)),
    );
    print_run(
        "ten speakers: asyncio.sleep(3) only",
        &run_once(fifo(), run_speakers(10, Bark::WithoutCulprit)),
    );
}
