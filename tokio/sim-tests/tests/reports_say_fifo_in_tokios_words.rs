//! A failing `#[tokio::test]`'s report says what the ordinary order (FIFO,
//! no deviation) is in tokio's words, not asyncio's: its expansion,
//! `tokio::__private::test`, sets them. `asyncsim::check` keeps asyncio's.

use std::panic::{catch_unwind, AssertUnwindSafe};

fn settings() -> asyncsim::Explore {
    asyncsim::Explore::without_environment()
        .runs(5)
        .persist(false)
        .trace_file(false)
        .progress(false)
}

/// Fails in every order, FIFO's first: the report's schedule is plain FIFO.
async fn fails_in_fifo_order() {
    assert_eq!(tokio::spawn(async { 2 }).await.unwrap(), 3);
}

fn report(check: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(check)).expect_err("the test failed");
    payload
        .downcast::<String>()
        .map(|text| *text)
        .expect("the report is the panic's message")
}

#[test]
fn a_tokio_tests_report_says_fifo_in_tokios_words() {
    let report = report(|| tokio::__private::test(settings(), fails_in_fifo_order));
    assert!(report.contains("plain FIFO, no deviations"), "{report}");
    assert!(
        report.contains("(as tokio's current-thread runtime runs them)"),
        "{report}"
    );
    assert!(!report.contains("asyncio"), "{report}");
}

#[test]
fn asyncsims_own_check_says_fifo_in_asyncios_words() {
    let report = report(|| {
        asyncsim::check(settings(), fails_in_fifo_order);
    });
    assert!(report.contains("plain FIFO, no deviations"), "{report}");
    assert!(report.contains("(asyncio's own order)"), "{report}");
}
