//! A failing run's trace file and the timeline page beside it hold at most
//! 50,000 events: the first and the last 25,000, with a mark between them
//! that says how many were left out. A run that ends at a limit records
//! hundreds of thousands of events (here an hour of 100 ms ticks, some
//! 216,000; a step-limit run a million), which wrote tens to hundreds of
//! megabytes per failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use asyncsim::harness::{trace_file, Explore};
use asyncsim::Strategy;

#[test]
fn a_long_failing_runs_files_keep_its_first_and_last_events() {
    let settings = Explore::without_environment()
        .strategy(Strategy::Fifo)
        .runs(1)
        .persist(false)
        .progress(false)
        .name("harness_trace_files_are_capped::ticker");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        asyncsim::check(settings, || async {
            let ticker = asyncsim::spawn(async {
                let mut every = asyncsim::time::interval(Duration::from_millis(100));
                loop {
                    every.tick().await;
                }
            });
            ticker.await.unwrap();
        })
    }));
    let payload = outcome.expect_err("the run ends at the time limit");
    let report = payload.downcast_ref::<String>().expect("a text report");
    assert!(report.contains("TimeLimit"), "{report}");
    let recorded: usize = report
        .split("of the run's ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no count of recorded events in:\n{report}"));
    assert!(recorded > 200_000, "{recorded} events recorded");
    assert!(
        report.contains(&format!(
            "(both hold the first and the last 25000 of the run's {recorded} recorded events, a mark between them: a trace file keeps at most 50000)"
        )),
        "{report}"
    );
    let path = report
        .lines()
        .find_map(|line| line.strip_prefix("full trace: "))
        .expect("a trace file");
    let saved = trace_file::load(Path::new(path)).unwrap();
    assert_eq!(saved.events().len(), 50_001);
    let marks: Vec<&str> = saved.marks().collect();
    let left_out = recorded - 50_000;
    assert_eq!(marks.len(), 1, "{marks:?}");
    assert!(
        marks[0].starts_with(&format!(
            "asyncsim: {left_out} events left out here (steps "
        )),
        "{marks:?}"
    );
    // The run's last events are in the file: the failure's step.
    let last_step = saved.events().last().unwrap().step;
    assert!(last_step > 35_000, "the file ends at step {last_step}");
    let file_bytes = std::fs::metadata(path).unwrap().len();
    let page = path.replace(".trace.json", ".html");
    let page_bytes = std::fs::metadata(&page).unwrap().len();
    assert!(file_bytes < 8_000_000, "{file_bytes} bytes in {path}");
    assert!(page_bytes < 10_000_000, "{page_bytes} bytes in {page}");
}
