//! The world's examples, checked: the concurrent fetch takes the slowest
//! page's time, not the sum, on every schedule; the write-ahead-logged store
//! loses an acknowledged write to one crash when it acknowledges before the
//! sync (found, shrunk to that crash), and never does when fixed.

#[path = "../examples/world_fetch_pages.rs"]
mod fetch_pages;
#[path = "../examples/world_kv_store.rs"]
mod kv_store;

use std::time::Duration;

use asyncsim::{DrawLabel, Explore};

#[test]
fn gathering_pages_takes_the_slowest_page_not_the_sum_on_every_schedule() {
    let slowest = fetch_pages::SITES.iter().map(|(_, ms)| *ms).max().unwrap();
    let sum: u64 = fetch_pages::SITES.iter().map(|(_, ms)| *ms).sum();
    asyncsim::check(Explore::new().runs(200), move || async move {
        let (one_by_one, at_once) = fetch_pages::compare().await;
        // Each fetch adds a connect and a request/reply: 2 round trips of
        // at most 10 ms.
        assert!(one_by_one >= Duration::from_millis(sum), "{one_by_one:?}");
        assert!(at_once >= Duration::from_millis(slowest), "{at_once:?}");
        assert!(
            at_once <= Duration::from_millis(slowest + 20),
            "{at_once:?}"
        );
    });
}

#[test]
fn the_store_that_acknowledges_before_syncing_loses_a_write_to_one_crash() {
    let summary = kv_store::search(false);
    let found = summary
        .first_failure
        .expect("the planted bug was not found");
    assert!(
        found
            .failure
            .message
            .contains("acknowledged writes survive crashes"),
        "{}",
        found.failure.message
    );
    let faults = found
        .tape
        .draws()
        .iter()
        .filter(|draw| draw.label == DrawLabel::Fault && draw.value != 0)
        .count();
    assert_eq!(faults, 1, "the shrunk run keeps exactly one fault: {found}");
    let report = found.to_string();
    // The schedule names the fault in words, and the trace marks it.
    assert!(report.contains("the nemesis: crash node `kv`"), "{report}");
    assert!(report.contains("\"nemesis: crash node `kv`\""), "{report}");
    // The report's timeline has the fault lane, and so has the page beside
    // the failing run's trace file.
    let lane = report
        .lines()
        .find(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane: {report}"));
    assert!(lane.contains('C') && lane.contains('R'), "{report}");
    assert!(report.contains("crashed node `kv`"), "{report}");
    let trace_file = found.trace_file.as_ref().expect("no trace file written");
    let page = trace_file.with_file_name(
        trace_file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".trace.json", ".html"),
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<g class=\"lane faults\""),
        "{}",
        page.display()
    );
}

#[test]
fn the_store_that_syncs_before_acknowledging_keeps_every_write() {
    let summary = kv_store::search(true);
    assert!(summary.first_failure.is_none(), "{summary}");
}
