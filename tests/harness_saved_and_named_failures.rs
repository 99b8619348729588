//! What `check` saves and how reports name what ran: a nondeterministic
//! failure's token (which reproduces nothing) is never saved, and a search
//! outside a test is named after the function it was written in.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};

use asyncsim::Explore;

#[test]
fn a_failure_that_does_not_reproduce_is_never_saved() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let directory = std::env::temp_dir().join(format!(
        "asyncsim-regressions-nondeterministic-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&directory);
    // Calls 1 and 2 are the determinism check's, call 3 is run 0 (it
    // fails), call 4 re-runs it in full (it passes): not deterministic.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        asyncsim::check(
            Explore::without_environment()
                .runs(10)
                .name("flaky")
                .regressions_dir(&directory)
                .trace_file(false)
                .progress(false),
            || async {
                let call = CALLS.fetch_add(1, Ordering::SeqCst) + 1;
                assert_ne!(call, 3, "fails on the third call only");
            },
        )
    }));
    let report = *outcome.unwrap_err().downcast::<String>().unwrap();
    assert!(report.contains("not deterministic"), "{report}");
    let saved = std::fs::read_to_string(directory.join("flaky.txt")).unwrap_or_default();
    assert!(
        !saved.lines().any(|line| line.starts_with("as1.")),
        "a token that reproduces nothing was saved:\n{saved}"
    );
    let _ = std::fs::remove_dir_all(&directory);
}

fn explore_from_a_helper() -> asyncsim::Summary {
    asyncsim::explore(
        Explore::without_environment().runs(5).progress(false),
        || async { asyncsim::yield_now().await },
    )
}

#[test]
fn a_search_outside_a_test_is_named_after_its_function() {
    // Outside `cargo test`'s named threads (an example's `main`), the
    // report names the function the body was written in, not `<test>`.
    let summary = std::thread::Builder::new()
        .name("main".to_string())
        .spawn(explore_from_a_helper)
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(
        summary.test_name,
        "harness_saved_and_named_failures::explore_from_a_helper"
    );
    assert!(summary
        .to_string()
        .starts_with("`harness_saved_and_named_failures::explore_from_a_helper`: 5 runs"));
    // `Explore::name` wins everywhere.
    let named = asyncsim::explore(
        Explore::without_environment()
            .runs(5)
            .progress(false)
            .name("lease"),
        || async {},
    );
    assert_eq!(named.test_name, "lease");
}
