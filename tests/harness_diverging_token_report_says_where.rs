//! The report of a given token the run diverged from says where it did: its
//! schedule heading names the draw, the deviations before it read as usual,
//! the divergence reads in the engine's words at its place, and the token's
//! deviations past it are said not to have been reached (no run made them).

use asyncsim::harness::Explore;
use asyncsim::Tape;

fn settings() -> Explore {
    Explore::without_environment()
        .runs(2000)
        .name("dice")
        .persist(false)
        .trace_file(false)
        .progress(false)
}

/// The report's lines from its schedule heading to the blank line after.
fn schedule_section(report: &str) -> Vec<&str> {
    report
        .lines()
        .skip_while(|line| !line.starts_with("schedule ("))
        .take_while(|line| !line.is_empty())
        .collect()
}

/// Three dice, drawn on the tape (draws 0, 1 and 2).
async fn three_dice() -> (u8, u8, u8) {
    let first = asyncsim::random_range(0..4u8);
    let second = asyncsim::random_range(0..4u8);
    let third = asyncsim::random_range(0..4u8);
    (first, second, third)
}

/// The same program after a change: its second die has two faces, so a
/// token whose second value is 3 no longer fits at draw 1.
async fn second_die_changed() -> (u8, u8, u8) {
    let first = asyncsim::random_range(0..4u8);
    let second = asyncsim::random_range(0..2u8);
    let third = asyncsim::random_range(0..4u8);
    (first, second, third)
}

/// A token of `three_dice` that rolled 1, 3, 2, as a user pastes it.
fn one_three_two() -> Tape {
    asyncsim::find(settings(), three_dice, |dice| *dice == (1, 3, 2))
        .expect("some run rolls 1, 3, 2")
        .token()
        .parse()
        .expect("the token parses")
}

#[test]
fn a_divergence_midway_reads_before_at_and_past_it() {
    let token = one_three_two();
    let report = asyncsim::explore(settings().replay(token), || async {
        second_die_changed().await;
    })
    .first_failure
    .expect("a divergence")
    .to_string();
    assert_eq!(
        schedule_section(&report),
        [
            "schedule (not shrunk: replayed as given; deviations 3; the run diverged from it at draw 1):",
            "  FIFO except:",
            "    random draw #0 was 1 instead of 0 (of 0..4)",
            "    at draw 1 the run diverged from the token: the tape says a random draw of value 3, \
             but the program now makes a random draw in 0..2",
            "  not reached, past the divergence: random draw #2 was 2",
        ],
        "{report}"
    );
}

#[test]
fn a_token_the_program_finished_before_reads_where_it_stopped() {
    let token = one_three_two();
    let report = asyncsim::explore(settings().replay(token), || async {
        asyncsim::random_range(0..4u8);
    })
    .first_failure
    .expect("a divergence")
    .to_string();
    assert_eq!(
        schedule_section(&report),
        [
            "schedule (not shrunk: replayed as given; deviations 3; the run diverged from it at draw 1):",
            "  FIFO except:",
            "    random draw #0 was 1 instead of 0 (of 0..4)",
            "    at draw 1 the run diverged from the token: the program finished without making \
             draw 1, which the tape says is a random draw of value 3",
            "  not reached, past the divergence: random draw #2 was 2",
        ],
        "{report}"
    );
}
