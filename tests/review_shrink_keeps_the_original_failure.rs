//! Shrinking keeps the failure that was found: a simpler schedule that fails
//! with another panic (another assertion, another line) is a different bug
//! and is not accepted, even though its `FailureKind` is the same.

use asyncsim::harness::{explore, find, Explore};
use std::cell::RefCell;
use std::rc::Rc;

/// The task that ran first among `a`, `b`, `c` (FIFO: `a`).
async fn first_to_run() -> &'static str {
    let order = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let order = order.clone();
            asyncsim::spawn(async move { order.borrow_mut().push(name) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let first = order.borrow()[0];
    first
}

/// Two different bugs: `b` first (one step from FIFO: draw value 1) and
/// `c` first (draw value 2).
async fn two_bugs() {
    match first_to_run().await {
        "b" => panic!("bug B: b ran first"),
        "c" => panic!("bug C: c ran first"),
        _ => {}
    }
}

fn quiet() -> Explore {
    Explore::without_environment()
        .progress(false)
        .persist(false)
        .trace_file(false)
}

#[test]
fn a_shrunk_failure_is_the_panic_that_was_found_not_a_simpler_other_one() {
    let witness = find(quiet().runs(500), first_to_run, |first| *first == "c")
        .expect("some random schedule runs `c` first");
    let summary = explore(quiet().replay_seed(witness.seed), two_bugs);
    let failure = summary.first_failure.expect("the seed fails");
    assert!(
        failure.failure.message.contains("bug C"),
        "the report shows another bug than the one found:\n{failure}"
    );
    // It still shrinks: only the one decision that runs `c` first is left.
    assert_eq!(failure.deviations, 1, "{failure}");
    assert_eq!(failure.tape.draws()[0].value, 2, "{failure}");
}

#[test]
fn a_failure_that_only_one_line_raises_still_shrinks_toward_fifo() {
    // Both bugs at one assertion: the simpler schedule (`b` first) is the
    // same failure, so the shrinker takes it.
    let witness = find(quiet().runs(500), first_to_run, |first| *first == "c")
        .expect("some random schedule runs `c` first");
    let summary = explore(quiet().replay_seed(witness.seed), || async {
        let first = first_to_run().await;
        assert_eq!(first, "a", "a non-FIFO task ran first");
    });
    let failure = summary.first_failure.expect("the seed fails");
    assert_eq!(failure.deviations, 1, "{failure}");
    assert_eq!(failure.tape.draws()[0].value, 1, "{failure}");
}
