//! `find` and `outcomes` given a token (`ASYNCSIM_REPLAY`) that no longer
//! fits the program: `outcomes` counts a tape divergence whose token, the
//! one given, reproduces it; `find` has no witness and says why on stderr
//! (the divergence, in the engine's words), where before it returned `None`
//! as for a value no schedule gives. The `find` runs in a child process
//! (this binary, one test, `FIND_CHILD` set) whose stderr the parent reads.

use std::process::Command;

use asyncsim::harness::{Explore, Schedule};
use asyncsim::{FailureKind, Tape};

fn settings() -> Explore {
    Explore::without_environment()
        .runs(400)
        .name("print_order")
        .progress(false)
}

/// Two tasks print; the order is the value.
async fn print_order() -> String {
    let printed = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let (first, second) = (printed.clone(), printed.clone());
    let a = asyncsim::spawn(async move { first.borrow_mut().push('a') });
    let b = asyncsim::spawn(async move { second.borrow_mut().push('b') });
    a.await.unwrap();
    b.await.unwrap();
    let order = printed.borrow().clone();
    order
}

/// The same program after a change: one task, so no draw picks between two.
async fn one_printer() -> String {
    asyncsim::spawn(async { 'a' }).await.unwrap().to_string()
}

/// The token of the schedule that prints "ba".
fn reversed() -> Tape {
    asyncsim::find(settings(), print_order, |order| order == "ba")
        .expect("b can print first")
        .token()
        .parse()
        .unwrap()
}

#[test]
fn outcomes_counts_the_divergence_and_its_token_reproduces_it() {
    let token = reversed();
    let census = asyncsim::outcomes(settings().replay(token.clone()), one_printer);
    assert!(census.values.is_empty(), "{census}");
    assert_eq!(census.failures.len(), 1, "{census}");
    let (kind, count, schedule) = &census.failures[0];
    assert_eq!((*kind, *count), (FailureKind::TapeDivergence, 1));
    assert_eq!(
        schedule,
        &Schedule::Tape(token.clone()),
        "the token as given"
    );
    let Schedule::Tape(replayed) = schedule else {
        unreachable!()
    };
    let again = asyncsim::outcomes(settings().replay(replayed.clone()), one_printer);
    assert_eq!(again.failures[0].0, FailureKind::TapeDivergence, "{again}");
}

/// The child: `find` over `one_printer` with the token in `FIND_CHILD`.
#[test]
fn child() {
    let Ok(token) = std::env::var("FIND_CHILD") else {
        return;
    };
    let witness = asyncsim::find(
        settings().replay(token.parse().unwrap()),
        one_printer,
        |_| true,
    );
    assert!(witness.is_none());
}

#[test]
fn find_says_why_a_given_token_has_no_witness() {
    let token = reversed();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("FIND_CHILD", token.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|line| line.starts_with("asyncsim: `print_order`: no witness"))
        .unwrap_or_else(|| panic!("find said nothing:\n{stderr}"));
    assert!(
        line.starts_with(
            "asyncsim: `print_order`: no witness: the given token does not fit: tape divergence at draw "
        ),
        "{line}"
    );
    assert!(
        line.contains("the program changed since the token was recorded"),
        "{line}"
    );
}
