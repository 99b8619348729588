//! A token names the test it came from (a hash of the test's name), and
//! replaying it in another test says so; tokens without an origin, as made
//! before origins existed, still replay.

mod harness_support;

use asyncsim::{Explore, Tape};
use harness_support::lost_update;

fn settings(name: &str) -> Explore {
    Explore::without_environment()
        .runs(500)
        .name(name)
        .persist(false)
        .trace_file(false)
        .progress(false)
}

fn token_of(name: &str) -> String {
    asyncsim::explore(settings(name), lost_update)
        .first_failure
        .expect("found")
        .token()
}

#[test]
fn find_and_outcomes_witnesses_name_their_test_too() {
    let origin = Some(Tape::origin_for("bank::witness"));
    let witness = asyncsim::find(settings("bank::witness"), two_orders, |order| order == "ba")
        .expect("some schedule runs b first");
    assert_eq!(witness.tape.origin(), origin, "{witness}");
    assert_eq!(witness.token().split('.').count(), 4, "{witness}");
    let census = asyncsim::outcomes(settings("bank::witness").runs(100), two_orders);
    assert_eq!(census.values.len(), 2, "{census}");
    for value in &census.values {
        assert_eq!(value.tape.origin(), origin, "{census}");
    }
}

/// The order in which two tasks ran: "ab" or "ba".
async fn two_orders() -> String {
    let order = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let (a, b) = (order.clone(), order.clone());
    let first = asyncsim::spawn(async move { a.borrow_mut().push('a') });
    let second = asyncsim::spawn(async move { b.borrow_mut().push('b') });
    first.await.unwrap();
    second.await.unwrap();
    let order = order.borrow().clone();
    order
}

#[test]
fn the_same_schedule_found_by_two_tests_gives_two_tokens() {
    let (a, b) = (token_of("bank::alice"), token_of("bank::bob"));
    assert_ne!(a, b, "two tests, one token");
    let (tape_a, tape_b): (Tape, Tape) = (a.parse().unwrap(), b.parse().unwrap());
    assert_eq!(tape_a, tape_b, "the same draws");
    assert_ne!(tape_a.origin(), tape_b.origin());
    assert_eq!(a.split('.').count(), 4, "{a}");
}

#[test]
fn replaying_a_token_in_its_own_test_says_nothing_and_elsewhere_says_so() {
    let token: Tape = token_of("bank::alice").parse().unwrap();
    let home = asyncsim::explore(settings("bank::alice").replay(token.clone()), lost_update);
    assert_eq!(home.foreign_token_origin, None);
    let home_failure = home.first_failure.expect("the token fails again");
    assert_eq!(home_failure.foreign_origin, None);
    assert!(
        home_failure
            .to_string()
            .contains("replaying the given token\n"),
        "{home_failure}"
    );

    let away = asyncsim::explore(settings("bank::bob").replay(token.clone()), lost_update);
    assert_eq!(away.foreign_token_origin, token.origin());
    assert!(
        away.to_string()
            .contains("the replayed token was recorded by another test"),
        "{away}"
    );
    let report = away
        .first_failure
        .expect("the same body fails the same way")
        .to_string();
    assert!(report.contains("which another test recorded"), "{report}");
}

#[test]
fn a_token_without_an_origin_still_replays_without_a_note() {
    let mut tape: Tape = token_of("bank::alice").parse().unwrap();
    tape.set_origin(None);
    let old_style = tape.to_string();
    assert_eq!(old_style.split('.').count(), 3, "{old_style}");
    let replayed = asyncsim::explore(
        settings("bank::bob").replay(old_style.parse().unwrap()),
        lost_update,
    );
    assert_eq!(replayed.foreign_token_origin, None);
    assert_eq!(replayed.failures, 1);
}

/// Another test's body: one task, no draw where `lost_update` makes its
/// deviation, so `lost_update`'s token diverges here.
async fn one_task() {
    asyncsim::spawn(async {}).await.unwrap();
}

#[test]
fn a_divergence_in_another_tests_replay_blames_the_token_first_not_a_change() {
    let token: Tape = token_of("bank::alice").parse().unwrap();
    let away = asyncsim::explore(settings("bank::bob").replay(token.clone()), one_task);
    let summary = away.to_string();
    let note = summary
        .find("the replayed token was recorded by another test")
        .unwrap_or_else(|| panic!("no note: {summary}"));
    let failure = summary.find("first failure").expect("a failure");
    assert!(note < failure, "the cause comes first: {summary}");

    let report = away.first_failure.expect("a divergence").to_string();
    let mut lines = report.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.contains("which another test recorded"), "{report}");
    let headline = lines
        .find(|line| line.contains("tape divergence at draw"))
        .unwrap_or_else(|| panic!("no divergence: {report}"));
    assert!(!headline.contains("program changed"), "{headline}");
    assert!(
        headline.contains(&format!(
            "the token was recorded by another test (origin {:08x}",
            token.origin().unwrap()
        )),
        "{headline}"
    );

    // The same divergence in the token's own test: the program changed.
    let home = asyncsim::explore(settings("bank::alice").replay(token), one_task);
    let report = home.first_failure.expect("a divergence").to_string();
    assert!(
        report.contains("the program changed since the token was recorded"),
        "{report}"
    );
    assert!(!report.contains("another test"), "{report}");
}

/// The token and the test of a report's first "replay it" line
/// (`ASYNCSIM_REPLAY=<token> cargo test <test>`).
fn replay_line(report: &str) -> (Tape, String) {
    let line = report
        .lines()
        .skip_while(|line| !line.starts_with("replay it"))
        .nth(1)
        .unwrap_or_else(|| panic!("no replay line: {report}"));
    let rest = line
        .trim()
        .strip_prefix("ASYNCSIM_REPLAY=")
        .unwrap_or_else(|| panic!("{line}"));
    let (token, command) = rest.split_once(' ').expect("a command");
    let test = command
        .strip_prefix("cargo test ")
        .unwrap_or_else(|| panic!("{line}"));
    (token.parse().expect("a token"), test.to_string())
}

#[test]
fn a_divergences_replay_line_reproduces_the_divergence() {
    let token: Tape = token_of("bank::alice").parse().unwrap();
    // In another test, and in its own test after the program changed.
    for test in ["bank::bob", "bank::alice"] {
        let report = asyncsim::explore(settings(test).replay(token.clone()), one_task)
            .first_failure
            .expect("a divergence");
        let (replay, named) = replay_line(&report.to_string());
        assert_eq!(named, test, "{report}");
        assert_eq!(replay, token, "the given token: {report}");
        assert_eq!(replay.to_string(), report.token(), "{report}");
        let again = asyncsim::explore(settings(&named).replay(replay), one_task)
            .first_failure
            .unwrap_or_else(|| panic!("the replay line passed: {report}"));
        assert_eq!(again.failure.kind, report.failure.kind, "{again}");
        assert_eq!(again.failure.message, report.failure.message, "{again}");
        assert!(
            report
                .to_string()
                .contains("reproduces this tape divergence"),
            "it says what the line does: {report}"
        );
    }
}
