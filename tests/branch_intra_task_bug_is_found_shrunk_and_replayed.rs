//! A bug that only an order of branches inside one task shows (the flume
//! shape: producer and consumer as two branches of one `join!`) is found,
//! shrunk to one deviation, explained, and replayed from its token; plain
//! FIFO passes it.

mod branch_support;

use asyncsim::harness::Explore;
use asyncsim::{Config, DrawLabel, FailureKind, Sim, Strategy, Tape};
use branch_support::with_asyncsim_join;

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
        .runs(1000)
}

#[test]
fn fifo_and_every_poll_in_one_order_pass() {
    let fifo = Sim::new(Config::new().strategy(Strategy::Fifo)).run(with_asyncsim_join());
    assert!(fifo.result.is_ok());
    // Argument order in every poll: nothing in the trace about branches.
    assert!(!fifo.trace.to_string().contains("polled branch"));
    assert!(fifo
        .tape
        .draws()
        .iter()
        .all(|draw| draw.label == DrawLabel::Branch && draw.value == 0));
}

#[test]
fn the_intra_task_bug_is_found_shrunk_to_one_deviation_and_replayed() {
    let summary = asyncsim::explore(settings(), with_asyncsim_join);
    let failure = summary
        .first_failure
        .expect("the branch-order bug is found");
    assert_eq!(failure.failure.kind, FailureKind::Panic, "{failure}");
    assert!(
        failure.failure.message.contains("received out of order"),
        "{failure}"
    );
    assert_eq!(failure.deviations, 1, "{failure}");
    let deviation = failure
        .tape
        .draws()
        .iter()
        .find(|draw| draw.value != 0)
        .expect("one nonzero draw");
    assert_eq!(
        deviation.label,
        DrawLabel::Branch,
        "the deviation is a branch order"
    );
    // The trace, and so the report's trace tail, says which branch went first.
    let trace = failure.trace.to_string();
    assert!(trace.contains("polled branch 2 before branch 1"), "{trace}");
    assert!(
        failure
            .to_string()
            .contains("polled branch 2 before branch 1"),
        "{failure}"
    );
    // The report's schedule says it in words too, and where the join! is.
    let join_line = include_str!("branch_support/mod.rs")
        .lines()
        .position(|line| line.contains("asyncsim::join!(producer"))
        .unwrap()
        + 1;
    let words = format!(
        "`main` join! at tests/branch_support/mod.rs:{join_line} polled branch 2 before branch 1"
    );
    assert!(
        failure.schedule_text().contains(&words),
        "{words}\n{}",
        failure.schedule_text()
    );
    assert!(trace.contains(&words[7..]), "{trace}");
    // A trace file keeps the event.
    let file = asyncsim::harness::trace_file::to_string(&failure.trace);
    assert_eq!(
        asyncsim::harness::trace_file::from_str(&file).unwrap(),
        failure.trace
    );

    // The token replays the identical failing run.
    let tape: Tape = failure.token().parse().expect("the token parses");
    let replay =
        Sim::new(Config::new().strategy(Strategy::Replay(tape.clone()))).run(with_asyncsim_join());
    assert_eq!(replay.trace, failure.trace);
    assert_eq!(replay.result.unwrap_err().kind, FailureKind::Panic);
    let replayed = asyncsim::explore(settings().replay(tape), with_asyncsim_join);
    assert_eq!(replayed.runs, 1);
    assert!(replayed.first_failure.is_some());

    // Exhaustive search finds it within one deviation too.
    let exhaustive = asyncsim::explore(settings().exhaustive(1), with_asyncsim_join);
    assert_eq!(
        exhaustive
            .first_failure
            .expect("found exhaustively")
            .deviations,
        1
    );
}
