//! From a failing schedule to a [`Counterexample`]: re-run it in full,
//! shrink it, replay the result strictly, save its trace.

use std::future::Future;

use asyncsim_sim::tape::Tape;
use asyncsim_sim::trace::WaitOn;
use asyncsim_sim::{Failure, FailureKind, Sim, TraceMode};

use crate::classify::{examine, failure_signature, Signature};
use crate::counterexample::{BodyRuns, Counterexample, Origin, Shrinking, FIRST_RUN_IS_FIFO};
use crate::persist;
use crate::rerun::{
    blame_foreign_token, divergence_replay_note, origin_of, replay_lines, LongToken, ShownToken,
};
use crate::schedule::Schedule;
use crate::setup::{run_with, Setup};
use crate::shrink::{self, LIMIT_SHRINK_POLLS_MAX};
use crate::test_result::TestResult;

/// Re-runs a failing schedule in full, shrinks it, and builds the report.
pub(crate) fn counterexample<B, F>(
    setup: &Setup<'_>,
    body: &B,
    schedule: &Schedule,
    origin: Origin,
    run_index: u64,
) -> Counterexample
where
    B: Fn() -> F,
    F: Future,
    F::Output: TestResult,
{
    let settings = setup.settings;
    let mut sim = Sim::new(settings.config.clone());
    let mut full_config = setup.config(schedule, TraceMode::Full, false);
    full_config.record_deviations = true;
    let found = examine(run_with(&mut sim, body, full_config));
    let seed = match schedule {
        Schedule::Seed(seed) => *seed,
        Schedule::Tape(_) => 0,
    };
    let strategy = setup.strategy_name();
    // Every token a report prints names this test as its origin.
    let origin_stamp = Some(origin_of(&setup.test_name));
    let mut original = found.tape;
    original.set_origin(origin_stamp);
    let Some(mut found_failure) = found.failure else {
        // The fast run failed and the full one did not.
        let failure = Failure::body(format!(
            "asyncsim: the schedule failed once and passed when run again ({schedule}): the body is not deterministic"
        ));
        let token_file = long_token_file(&setup.test_name, &original);
        return Counterexample {
            run_index,
            seed,
            origin,
            failure,
            deviations: original.deviations(),
            original_deviations: original.deviations(),
            tape: original.clone(),
            original_tape: original,
            trace: found.trace,
            shrink_runs: 0,
            shrinking: Shrinking::NotReproduced,
            deviation_details: found.deviations,
            preemptions: found.preemptions,
            strategy,
            test_name: setup.test_name.clone(),
            trace_file: None,
            token_file,
            reproduced: false,
            foreign_origin: setup.foreign_origin,
            order_words: settings.order_words,
            body_runs: BodyRuns {
                rerun: 1,
                ..BodyRuns::default()
            },
        };
    };
    blame_foreign_token(&mut found_failure, setup.foreign_origin, &setup.test_name);
    // A given token that diverges is what reproduces the divergence, as
    // given, in this test: the realised tape, cut where the run left the
    // token, replays a run that passes.
    let diverged = match (schedule, &origin) {
        (Schedule::Tape(given), Origin::Replay)
            if found_failure.kind == FailureKind::TapeDivergence =>
        {
            Some(given.clone())
        }
        _ => None,
    };
    if let Some(given) = &diverged {
        // A token keeps no draw's range; the run made the same draws up to
        // the divergence (a strict replay) and knows theirs, which the
        // report's words give. The token's text is unchanged.
        let realised = std::mem::replace(&mut original, given.clone());
        for (draw, made) in original.draws_mut().iter_mut().zip(realised.iter()) {
            if draw.label == made.label && draw.value == made.value {
                draw.bound = made.bound;
            }
        }
    }
    let signature = Signature::of(&found_failure);
    // A token too long to print: the seed line replays a sampled run as
    // found; any other is written to a file the line names.
    let found_token_file = match &origin {
        Origin::Seed => None,
        _ => long_token_file(&setup.test_name, &original),
    };
    let found_long = match (&found_token_file, &origin) {
        (Some(path), _) => LongToken::InFile(path),
        (None, Origin::Seed) => LongToken::SeedReplaysIt,
        (None, _) => LongToken::Printed,
    };
    eprintln!(
        "{}",
        found_notice(
            &setup.test_name,
            &origin,
            setup.foreign_origin,
            run_index,
            &strategy,
            seed,
            found_failure.message.lines().next().unwrap_or_default(),
            &original,
            found_long,
            diverged.is_some(),
        )
    );
    let shrinking = if origin == Origin::Replay {
        Shrinking::GivenToken
    } else if original.deviations() == 0 {
        Shrinking::AlreadySimplest
    } else if !settings.shrink || settings.shrink_runs_max == 0 {
        Shrinking::Off
    } else {
        Shrinking::Shrunk
    };
    // Polls the shrink's runs made, against the budget of a failure that
    // reached a limit.
    let polls = std::cell::Cell::new(0u64);
    let at_a_limit = matches!(
        found_failure.kind,
        FailureKind::StepLimit | FailureKind::TimeLimit
    );
    let shrunk = if shrinking == Shrinking::Shrunk {
        shrink::shrink(
            &original,
            found.preemptions.len(),
            &signature,
            settings.shrink_runs_max,
            || at_a_limit && polls.get() >= LIMIT_SHRINK_POLLS_MAX,
            |candidate| {
                let mut config = setup.config(
                    &Schedule::Tape(candidate.tape.clone()),
                    TraceMode::HashOnly,
                    true,
                );
                config.replay_sticky = candidate.sticky;
                let run = run_with(&mut sim, body, config);
                polls.set(polls.get() + run.steps());
                let preemptions = run.preemptions().len();
                let tape = run.tape.clone();
                failure_signature(run.result).map(|signature| shrink::Attempt {
                    signature,
                    tape,
                    preemptions,
                })
            },
        )
    } else {
        shrink::Shrunk {
            tape: original.clone(),
            runs: 0,
            stopped: false,
        }
    };
    let shrinking = if shrunk.stopped {
        Shrinking::StoppedAtLimitBudget
    } else {
        shrinking
    };
    // The final, strict replay of the shrunk tape: its trace and deviations
    // are what the report shows.
    let last = examine(run_with(
        &mut sim,
        body,
        setup.config(&Schedule::Tape(shrunk.tape.clone()), TraceMode::Full, false),
    ));
    let (mut failure, mut tape, trace, deviations_list, preemptions) = match last.failure {
        Some(failure) if Signature::of(&failure) == signature => (
            failure,
            last.tape,
            last.trace,
            last.deviations,
            last.preemptions,
        ),
        _ => (
            found_failure,
            original.clone(),
            found.trace,
            found.deviations,
            found.preemptions,
        ),
    };
    let named = name_foreign_waits(setup, &mut sim, body, &tape, trace.hash(), &mut failure);
    blame_foreign_token(&mut failure, setup.foreign_origin, &setup.test_name);
    match diverged {
        Some(_) => tape = original.clone(),
        None => tape.set_origin(origin_stamp),
    }
    let trace_file = if settings.write_trace_file {
        persist::write_trace_file(&setup.test_name, &tape, &trace)
    } else {
        None
    };
    let token_file = long_token_file(&setup.test_name, &tape);
    Counterexample {
        run_index,
        seed,
        origin,
        failure,
        deviations: tape.deviations(),
        original_deviations: original.deviations(),
        tape,
        original_tape: original,
        trace,
        shrink_runs: shrunk.runs,
        shrinking,
        deviation_details: deviations_list,
        preemptions,
        strategy,
        test_name: setup.test_name.clone(),
        trace_file,
        token_file,
        reproduced: true,
        foreign_origin: setup.foreign_origin,
        order_words: settings.order_words,
        body_runs: BodyRuns {
            rerun: 1,
            shrinking: shrunk.runs,
            replays: 1 + u64::from(named),
            ..BodyRuns::default()
        },
    }
}

/// The file a token too long to print is written to
/// ([`TOKEN_PRINTED_CHARS_MAX`]), or None for a token a line can print (or
/// one that could not be written).
fn long_token_file(test_name: &str, tape: &Tape) -> Option<std::path::PathBuf> {
    ShownToken::new(test_name, tape.to_string())
        .file()
        .map(std::path::Path::to_path_buf)
}

/// A report whose blocked tasks wait on futures asyncsim cannot see into
/// (tokio's `Mutex`, a `futures` channel) names them from one more replay of
/// its tape with `Config::waker_sites` on: where each such task's waker was
/// last cloned is where the future registered it. The capture changes no
/// decision; the replay's names are used only if it is the same run (same
/// trace hash, same failure and blocked tasks). True when it made that
/// replay.
fn name_foreign_waits<B, F>(
    setup: &Setup<'_>,
    sim: &mut Sim,
    body: &B,
    tape: &Tape,
    trace_hash: u64,
    failure: &mut Failure,
) -> bool
where
    B: Fn() -> F,
    F: Future,
    F::Output: TestResult,
{
    if !failure
        .blocked
        .iter()
        .any(|task| task.wait == WaitOn::Unknown)
    {
        return false;
    }
    let mut config = setup.config(&Schedule::Tape(tape.clone()), TraceMode::HashOnly, false);
    config.waker_sites = true;
    let named = examine(run_with(sim, body, config));
    let Some(named_failure) = named.failure else {
        return true;
    };
    let same_tasks = named_failure.blocked.len() == failure.blocked.len()
        && named_failure
            .blocked
            .iter()
            .zip(&failure.blocked)
            .all(|(named, plain)| named.task == plain.task && named.wait == plain.wait);
    if named.trace.hash() == trace_hash
        && named_failure.kind == failure.kind
        && named_failure.step == failure.step
        && same_tasks
    {
        failure.blocked = named_failure.blocked;
    }
    true
}

/// The two lines printed the moment a failure is found, before shrinking:
/// where it was found and how to replay it. A seed is named only for a
/// sampled run (a saved regression or a given token has none: its token is
/// the way back), and a regression says which saved schedule failed. A
/// given token another test recorded says so first; one that diverged
/// (`diverged`) is named as given, with what replaying it does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn found_notice(
    test_name: &str,
    origin: &Origin,
    foreign_origin: Option<u32>,
    run_index: u64,
    strategy: &str,
    seed: u64,
    first_line: &str,
    tape: &Tape,
    long: LongToken<'_>,
    diverged: bool,
) -> String {
    let found = match origin {
        Origin::Seed => format!("failed at run {run_index} ({strategy}, seed {seed})"),
        Origin::Exhaustive => format!("failed at run {run_index} ({strategy})"),
        Origin::Fifo => format!("failed at run {run_index} ({strategy}; {FIRST_RUN_IS_FIFO})"),
        Origin::Regression => format!(
            "failed replaying saved regression #{} (asyncsim-regressions/{}.txt)",
            run_index + 1,
            crate::persist::file_stem(test_name)
        ),
        Origin::Replay => match foreign_origin {
            Some(origin) => format!(
                "failed replaying the given token, which another test recorded (origin {origin:08x})"
            ),
            None => "failed replaying the given token".to_string(),
        },
    };
    // A divergence's message ends with its cause, which for another test's
    // token is that token (`blame_foreign_token`): the words above said so
    // already, so the line stops before saying it again.
    let first_line = match foreign_origin {
        Some(_) if diverged => first_line
            .split_once("; ")
            .map_or(first_line, |(divergence, _)| divergence),
        _ => first_line,
    };
    let replay = match origin {
        _ if diverged => format!(
            "replay it with {}",
            divergence_replay_note(foreign_origin.is_some())
        ),
        // Nothing to shrink: the token is the schedule reported.
        Origin::Replay | Origin::Fifo => "replay it with".to_string(),
        _ => "replay it before shrinking with".to_string(),
    };
    format!(
        "asyncsim: `{test_name}` {found}: {first_line}\nasyncsim: {replay}:\n{}",
        replay_lines(
            test_name,
            tape,
            long,
            (*origin == Origin::Seed).then_some(seed),
            strategy
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tape() -> Tape {
        Tape::default()
    }

    #[test]
    fn a_saved_regression_is_not_announced_as_seed_zero() {
        let notice = found_notice(
            "bank::deposits",
            &Origin::Regression,
            None,
            1,
            "mix",
            0,
            "the main future panicked",
            &tape(),
            LongToken::Printed,
            false,
        );
        assert!(
            notice.contains(
                "failed replaying saved regression #2 (asyncsim-regressions/bank__deposits.txt)"
            ),
            "{notice}"
        );
        assert!(!notice.to_lowercase().contains("seed"), "{notice}");
        assert!(!notice.contains("at run"), "{notice}");
        assert!(notice.contains("ASYNCSIM_REPLAY="), "{notice}");
    }

    #[test]
    fn a_given_token_is_not_announced_as_seed_zero() {
        let notice = found_notice(
            "t",
            &Origin::Replay,
            None,
            0,
            "mix",
            0,
            "boom",
            &tape(),
            LongToken::Printed,
            false,
        );
        assert!(
            notice.contains("failed replaying the given token: boom"),
            "{notice}"
        );
        assert!(!notice.to_lowercase().contains("seed"), "{notice}");
        assert!(!notice.contains("before shrinking"), "{notice}");
    }

    #[test]
    fn another_tests_token_says_so_before_the_failure() {
        let notice = found_notice(
            "t",
            &Origin::Replay,
            Some(0xd325_187d),
            0,
            "mix",
            0,
            "boom",
            &tape(),
            LongToken::Printed,
            false,
        );
        assert!(
            notice.starts_with(
                "asyncsim: `t` failed replaying the given token, which another test recorded (origin d325187d): boom\n"
            ),
            "{notice}"
        );
    }

    #[test]
    fn another_tests_diverging_token_is_said_to_be_so_once() {
        let origin = 0xd325_187d;
        let mut failure = asyncsim_sim::Failure::body(format!(
            "tape divergence at draw 2: the program finished without making draw 2, which the tape \
             says is a schedule draw of value 1; {}",
            asyncsim_sim::PROGRAM_CHANGED
        ));
        failure.kind = FailureKind::TapeDivergence;
        blame_foreign_token(&mut failure, Some(origin), "t");
        let notice = found_notice(
            "t",
            &Origin::Replay,
            Some(origin),
            0,
            "replay",
            0,
            &failure.message,
            &tape(),
            LongToken::Printed,
            true,
        );
        let mut lines = notice.lines();
        assert_eq!(
            lines.next(),
            Some(
                "asyncsim: `t` failed replaying the given token, which another test recorded \
                 (origin d325187d): tape divergence at draw 2: the program finished without making \
                 draw 2, which the tape says is a schedule draw of value 1"
            ),
            "{notice}"
        );
        assert_eq!(
            lines.next(),
            Some(
                "asyncsim: replay it with (the given token: it reproduces this tape divergence, \
                 not a failure of the test; replay it in the test that recorded it, or re-run this \
                 test's exploration without ASYNCSIM_REPLAY for a failing token of its own):"
            ),
            "{notice}"
        );
        assert_eq!(notice.matches("another test").count(), 1, "{notice}");
    }

    #[test]
    fn a_sampled_run_names_its_seed() {
        let notice = found_notice(
            "t",
            &Origin::Seed,
            None,
            40,
            "mix",
            40,
            "boom",
            &tape(),
            LongToken::Printed,
            false,
        );
        assert!(
            notice.contains("failed at run 40 (mix, seed 40): boom"),
            "{notice}"
        );
        assert!(notice.contains("ASYNCSIM_SEED=40 cargo test t"), "{notice}");
    }
}
