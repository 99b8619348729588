//! A failing `#[tokio::test]` panics at the test (what its expansion calls,
//! `tokio::__private::test`, passes the caller's location on), so libtest's
//! "panicked at" line names the test's file, not the harness's.

use std::sync::{Arc, Mutex};

#[test]
fn a_failing_tokio_test_panics_at_the_line_that_called_it() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(location) = info.location() {
            record
                .lock()
                .unwrap()
                .push(format!("{}:{}", location.file(), location.line()));
        }
    }));
    let line = line!() + 2;
    let outcome = std::panic::catch_unwind(|| {
        tokio::__private::test(
            asyncsim::Explore::new()
                .runs(5)
                .persist(false)
                .trace_file(false)
                .progress(false),
            || async { assert_eq!(tokio::spawn(async { 2 }).await.unwrap(), 3) },
        )
    });
    let _ = std::panic::take_hook();
    assert!(outcome.is_err(), "the test failed");
    let seen = seen.lock().unwrap();
    let last = seen.last().expect("the test's panic reached the hook");
    assert!(
        last.ends_with(&format!("tests/failure_points_at_the_test.rs:{line}")),
        "all panics seen: {seen:?}"
    );
}
