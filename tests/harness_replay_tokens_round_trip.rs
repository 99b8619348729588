//! Every failing schedule's token replays to the same failure with the same
//! trace; a bad token is a clear error, never a crash.

mod harness_support;

use asyncsim::harness::Explore;
use asyncsim::{Config, Sim, Strategy, Tape, TapeError};
use harness_support::{lock_order_deadlock, lost_update};

#[test]
fn hundreds_of_failing_tokens_replay_to_the_same_failure() {
    let mut failing = 0;
    for seed in 0..1500u64 {
        let run = Sim::new(Config::new().seed(seed)).run(lost_update());
        let Err(failure) = run.result else { continue };
        failing += 1;
        let token = run.tape.to_string();
        let tape: Tape = token.parse().unwrap();
        let replay = Sim::new(Config::new().strategy(Strategy::Replay(tape))).run(lost_update());
        let replayed = replay.result.unwrap_err();
        assert_eq!(replayed.kind, failure.kind, "seed {seed}");
        assert_eq!(replayed.message, failure.message, "seed {seed}");
        assert_eq!(replay.trace.hash(), run.trace.hash(), "seed {seed}");
    }
    assert!(failing >= 200, "only {failing} failing schedules");
}

#[test]
fn deadlock_tokens_replay_to_the_same_blocked_tasks() {
    let mut failing = 0;
    for seed in 0..600u64 {
        let run = Sim::new(Config::new().seed(seed)).run(lock_order_deadlock());
        let Err(failure) = run.result else { continue };
        failing += 1;
        let tape: Tape = run.tape.to_string().parse().unwrap();
        let replay =
            Sim::new(Config::new().strategy(Strategy::Replay(tape))).run(lock_order_deadlock());
        assert_eq!(replay.result.unwrap_err().blocked, failure.blocked);
        assert_eq!(replay.trace, run.trace);
    }
    assert!(failing >= 100, "only {failing} failing schedules");
}

#[test]
fn bad_tokens_are_clear_errors() {
    let good = Sim::new(Config::new().seed(3))
        .run(lost_update())
        .tape
        .to_string();
    let truncated = &good[..good.len() - 3];
    let error = truncated.parse::<Tape>().unwrap_err();
    assert!(matches!(
        error,
        TapeError::Corrupt(_) | TapeError::Checksum { .. }
    ));
    assert!(
        error.to_string().contains("copy the whole token"),
        "{error}"
    );
    assert_eq!("".parse::<Tape>().unwrap_err(), TapeError::Empty);
    assert!(matches!(
        "as9.AAAA.00000000".parse::<Tape>().unwrap_err(),
        TapeError::Version(_)
    ));
}

#[test]
fn replaying_a_token_of_another_program_reports_divergence() {
    // A schedule of the deadlock program does not fit the lost-update one.
    let failing = (0..200u64)
        .map(|seed| Sim::new(Config::new().seed(seed)).run(lock_order_deadlock()))
        .find(|run| run.result.is_err())
        .unwrap();
    let summary = asyncsim::explore(
        Explore::without_environment()
            .replay(failing.tape.clone())
            .trace_file(false),
        || async {
            let tasks: Vec<_> = (0..6).map(|_| asyncsim::spawn(async {})).collect();
            for task in tasks {
                task.await.unwrap();
            }
        },
    );
    // Either the tape fits by chance (and passes) or it is a clear divergence.
    if let Some(failure) = summary.first_failure {
        assert_eq!(failure.failure.kind, asyncsim::FailureKind::TapeDivergence);
    }
}
