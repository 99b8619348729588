//! A failure at a limit (the step or the virtual-time limit) makes each
//! shrinking run as long as the limit allows, so a shrink of a thousand
//! candidates could take hours. The shrink stops once its runs made a
//! million polls, and the report's heading says that it stopped and why.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use asyncsim::harness::Explore;
use asyncsim::{Config, Strategy};

#[test]
fn a_livelock_one_schedule_finds_shrinks_within_its_budget() {
    let settings = Explore::without_environment()
        .strategy(Strategy::Random)
        .config(Config::new().steps_max(500_000))
        .runs(50)
        .persist(false)
        .progress(false)
        .trace_file(false)
        .name("harness_limit_failures_shrink_within_a_budget::livelock");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        asyncsim::check(settings, || async {
            let stop = Rc::new(Cell::new(false));
            let setter = {
                let stop = stop.clone();
                asyncsim::spawn(async move { stop.set(true) })
            };
            // Polled before `setter`, it never sees the flag.
            let watcher = asyncsim::spawn(async move {
                if !stop.get() {
                    loop {
                        asyncsim::yield_now().await;
                    }
                }
            });
            setter.await.unwrap();
            watcher.await.unwrap();
        })
    }));
    let payload = outcome.expect_err("a schedule that polls the watcher first livelocks");
    let report = payload.downcast_ref::<String>().expect("a text report");
    assert!(report.contains("StepLimit"), "{report}");
    assert!(
        report.contains("then stopped: each run reaches a limit, and shrinking spends at most 1000000 polls on such runs):"),
        "{report}"
    );
}
