//! A failing `check` panics at the caller's line (the test's own file), not
//! inside the harness: the "thread panicked at …" line of `cargo test` then
//! names the test that failed.

use std::sync::{Arc, Mutex};

#[test]
fn a_failing_check_panics_at_the_line_that_called_it() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    // Installed before the first run: the engine's hook, installed then,
    // hands this one every panic that is not task code.
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
        asyncsim::check(
            asyncsim::Explore::new()
                .runs(5)
                .persist(false)
                .trace_file(false)
                .progress(false),
            || async { assert_eq!(1 + 1, 3, "always fails") },
        )
    });
    let _ = std::panic::take_hook();
    assert!(outcome.is_err(), "the check failed");
    let seen = seen.lock().unwrap();
    let last = seen.last().expect("the check's panic reached the hook");
    assert_eq!(
        *last,
        format!("tests/harness_failure_points_at_the_callers_line.rs:{line}"),
        "all panics seen: {seen:?}"
    );
}
