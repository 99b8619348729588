//! Named properties: `always` fails the run with its name; `sometimes` is
//! counted across runs (`Summary::sometimes`), and `require_sometimes` fails
//! an exploration in which a reached name never held.

use asyncsim::Explore;

#[test]
fn sometimes_counts_the_runs_in_which_each_name_held() {
    let summary = asyncsim::explore(Explore::new().runs(400), || async {
        let coin = asyncsim::random_range(0..4u8);
        asyncsim::sometimes("one in four", coin == 0);
        asyncsim::sometimes("one in four", false); // a later miss does not undo a hit
        asyncsim::sometimes("every run", true);
        asyncsim::sometimes("never", false);
    });
    let quarter = summary.sometimes["one in four"];
    assert!((50..150).contains(&quarter), "{quarter} of 400");
    assert_eq!(summary.sometimes["every run"], 400);
    assert_eq!(summary.sometimes["never"], 0);
    assert_eq!(summary.never_held(), ["never"]);
}

#[test]
fn require_sometimes_fails_a_check_where_a_name_never_held() {
    let failed = std::panic::catch_unwind(|| {
        asyncsim::check(Explore::new().runs(50).require_sometimes(), || async {
            asyncsim::sometimes("the retry path ran", false);
        });
    })
    .unwrap_err();
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("never held: sometimes `the retry path ran`"),
        "{message}"
    );
    // Held in some run: the check passes.
    asyncsim::check(Explore::new().runs(50).require_sometimes(), || async {
        asyncsim::sometimes("the retry path ran", asyncsim::random_range(0..5u8) == 0);
    });
}

#[test]
fn always_fails_the_run_with_its_name() {
    let summary = asyncsim::explore(Explore::new().runs(100), || async {
        let value = asyncsim::random_range(0..10u8);
        asyncsim::always("value stays below 9", value < 9);
    });
    let found = summary.first_failure.expect("some run draws 9");
    assert!(
        found
            .failure
            .message
            .contains("always `value stays below 9`"),
        "{}",
        found.failure.message
    );
}

#[test]
fn exhaustive_search_counts_sometimes_too() {
    let summary = asyncsim::explore(Explore::new().exhaustive(1), || async {
        let coin = asyncsim::random_range(0..2u8);
        asyncsim::sometimes("heads", coin == 1);
    });
    assert_eq!(summary.runs, 2);
    assert_eq!(summary.sometimes["heads"], 1);
}
