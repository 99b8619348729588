//! Replaying a run's tape reproduces the run exactly, also after the tape
//! went through its text token.

mod engine_support;

use asyncsim::{Config, Strategy, Tape};
use engine_support::{ops, run_program};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

fn exploring() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![
        3 => Just(Strategy::Random),
        1 => (1u32..4).prop_map(|depth| Strategy::Pct { depth }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn replaying_the_tape_gives_the_identical_trace(
        program in ops(),
        seed in any::<u64>(),
        strategy in exploring(),
    ) {
        let config = Config::new().seed(seed).strategy(strategy).pct_steps_estimate(40);
        let original = run_program(&program, config);
        prop_assert!(original.result.is_ok(), "{:?}", original.result);

        let replay = run_program(&program, Config::new().strategy(Strategy::Replay(original.tape.clone())));
        prop_assert!(replay.result.is_ok(), "{:?}", replay.result);
        prop_assert_eq!(&replay.trace, &original.trace);
        prop_assert_eq!(replay.trace.hash(), original.trace.hash());
        prop_assert_eq!(replay.tape.draws(), original.tape.draws());
        // The replay's seed is irrelevant: the tape decides.
        let other_seed = run_program(
            &program,
            Config::new().seed(seed ^ 0x5555).strategy(Strategy::Replay(original.tape.clone())),
        );
        prop_assert_eq!(&other_seed.trace, &original.trace);
    }

    #[test]
    fn replaying_the_parsed_token_gives_the_identical_trace(
        program in ops(),
        seed in any::<u64>(),
    ) {
        let original = run_program(&program, Config::new().seed(seed));
        let token = original.tape.to_string();
        let parsed: Tape = token.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&parsed, &original.tape);
        let replay = run_program(&program, Config::new().strategy(Strategy::Replay(parsed)));
        prop_assert!(replay.result.is_ok(), "{:?}", replay.result);
        prop_assert_eq!(&replay.trace, &original.trace);

        // The same through the strategy's own text form.
        let strategy: Strategy = format!("replay:{token}").parse().map_err(TestCaseError::fail)?;
        let again = run_program(&program, Config::new().strategy(strategy));
        prop_assert_eq!(&again.trace, &original.trace);
        // And a replay's own tape prints the same token.
        prop_assert_eq!(replay.tape.to_string(), token);
    }

    #[test]
    fn fifo_equals_replaying_an_empty_tape(program in ops()) {
        let fifo = run_program(&program, Config::new().strategy(Strategy::Fifo));
        prop_assert_eq!(fifo.tape.deviations(), 0);
        let empty = run_program(&program, Config::new().strategy(Strategy::Replay(Tape::new())));
        prop_assert_eq!(&empty.trace, &fifo.trace);
        let trimmed = {
            let mut tape = fifo.tape.clone();
            tape.trim();
            tape
        };
        prop_assert!(trimmed.is_empty());
    }

    #[test]
    fn replay_explains_each_deviation(program in ops(), seed in any::<u64>()) {
        let original = run_program(&program, Config::new().seed(seed));
        let replay = run_program(&program, Config::new().strategy(Strategy::Replay(original.tape.clone())));
        // Every non-canonical scheduling/timer draw is explained; random
        // data draws are not.
        let expected = original
            .tape
            .draws()
            .iter()
            .filter(|draw| draw.value != 0 && draw.label != asyncsim::DrawLabel::Random)
            .count();
        prop_assert_eq!(replay.deviations().len(), expected);
        for deviation in replay.deviations() {
            prop_assert_eq!(original.tape.draws()[deviation.draw].value, deviation.value);
            prop_assert!(deviation.value < deviation.bound);
            prop_assert_ne!(deviation.chosen, deviation.canonical);
        }
    }
}

#[test]
fn random_data_replays() {
    let body = || async {
        let a = asyncsim::random::<u64>();
        let b = asyncsim::random_range(-50..50i32);
        let c = asyncsim::random::<bool>();
        let d = asyncsim::random_range(3..=7u8);
        (a, b, c, d)
    };
    let mut distinct = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let original = asyncsim::Sim::new(Config::new().seed(seed)).run(body());
        let value = original.result.clone().unwrap();
        assert!((-50..50).contains(&value.1) && (3..=7).contains(&value.3));
        distinct.insert(value);
        let token: Tape = original.tape.to_string().parse().unwrap();
        let replay =
            asyncsim::Sim::new(Config::new().strategy(Strategy::Replay(token))).run(body());
        assert_eq!(replay.result.unwrap(), value, "seed {seed}");
    }
    assert!(
        distinct.len() > 190,
        "random values barely vary: {}",
        distinct.len()
    );
}

/// A bug only some interleavings show: the reader must see the writer's
/// first step but not its second.
async fn racy() -> u32 {
    let x = std::rc::Rc::new(std::cell::Cell::new(0));
    let writer = {
        let x = x.clone();
        asyncsim::spawn(async move {
            x.set(1);
            asyncsim::yield_now().await;
            x.set(2);
        })
    };
    let reader = {
        let x = x.clone();
        asyncsim::spawn(async move {
            asyncsim::yield_now().await;
            assert_ne!(x.get(), 1, "reader saw the half-written value");
            x.get()
        })
    };
    writer.await.unwrap();
    reader.await.unwrap_or(99)
}

async fn racy_checked() {
    let seen = racy().await;
    assert_ne!(seen, 99, "the reader panicked");
}

#[test]
fn a_failing_run_replays_to_the_same_failure() {
    let mut failures = 0;
    for seed in 0..200 {
        let run = asyncsim::Sim::new(Config::new().seed(seed)).run(racy_checked());
        let Err(failure) = &run.result else { continue };
        failures += 1;
        assert!(failure.message.contains("the reader panicked"), "{failure}");
        let token: Tape = run.tape.to_string().parse().unwrap();
        let replay =
            asyncsim::Sim::new(Config::new().strategy(Strategy::Replay(token))).run(racy_checked());
        assert_eq!(replay.result.as_ref().unwrap_err(), failure, "seed {seed}");
        assert_eq!(replay.trace, run.trace);
    }
    assert!(
        failures > 10 && failures < 190,
        "{failures} of 200 seeds failed"
    );
}

#[test]
fn recorded_deviations_match_the_replays_explanation() {
    for seed in 0..100 {
        let original =
            asyncsim::Sim::new(Config::new().seed(seed).record_deviations(true)).run(racy());
        let replay =
            asyncsim::Sim::new(Config::new().strategy(Strategy::Replay(original.tape.clone())))
                .run(racy());
        assert_eq!(original.deviations(), replay.deviations(), "seed {seed}");
        let nonzero = original
            .tape
            .draws()
            .iter()
            .filter(|d| d.value != 0)
            .count();
        assert_eq!(original.deviations().len(), nonzero);
    }
}

/// Three tasks that yield, sleep and draw data for `rounds` rounds each: a
/// run long enough that its tape packs its older draws (#14.10).
async fn long_body(rounds: u32) -> u64 {
    let worker = move |index: u64| async move {
        let mut sum = 0u64;
        for round in 0..rounds {
            asyncsim::yield_now().await;
            if round % 1000 == 0 {
                sum += asyncsim::random_range(0..1000u64);
                asyncsim::time::sleep(std::time::Duration::from_millis(index + 1)).await;
            }
            sum = sum.wrapping_mul(31).wrapping_add(u64::from(round));
        }
        sum
    };
    let handles: Vec<_> = (0..3).map(|index| asyncsim::spawn(worker(index))).collect();
    let mut total = 0;
    for handle in handles {
        total ^= handle.await.unwrap();
    }
    total
}

#[test]
fn a_long_tape_replays_exactly_and_a_leftover_past_its_first_chunk_is_named() {
    let rounds = 150_000;
    let config = Config::new().strategy(Strategy::Random).seed(11);
    let original = asyncsim::Sim::new(config).run(long_body(rounds));
    assert!(original.result.is_ok(), "{:?}", original.result);
    assert!(
        original.tape.len() > 2 * asyncsim::tape::UNPACKED_DRAWS_MAX,
        "{} draws",
        original.tape.len()
    );
    let replay =
        asyncsim::Sim::new(Config::new().strategy(Strategy::Replay(original.tape.clone())))
            .run(long_body(rounds));
    assert_eq!(replay.result, original.result);
    assert_eq!(replay.trace.hash(), original.trace.hash());
    assert_eq!(replay.trace, original.trace);
    assert_eq!(replay.tape, original.tape);
    assert!(replay.tape.iter().eq(original.tape.draws().iter().copied()));
}

/// `draws` data draws in `0..10`, the one at `odd_one` (if any) in `0..2`.
async fn data_draws(draws: usize, odd_one: Option<usize>) -> u64 {
    let mut sum = 0;
    for index in 0..draws {
        let bound: u64 = if Some(index) == odd_one { 2 } else { 10 };
        sum += asyncsim::random_range(0..bound);
    }
    sum
}

#[test]
fn a_long_tape_names_a_divergence_or_a_leftover_past_its_first_chunk() {
    let draws = 3 * asyncsim::tape::UNPACKED_DRAWS_MAX + 17;
    let original = asyncsim::Sim::new(Config::new().strategy(Strategy::Random).seed(3))
        .run(data_draws(draws, None));
    assert_eq!(original.tape.len(), draws);
    let replay = |body| {
        asyncsim::Sim::new(Config::new().strategy(Strategy::Replay(original.tape.clone())))
            .run(body)
    };
    assert_eq!(replay(data_draws(draws, None)).result, original.result);

    // A draw whose range shrank, deep in the tape.
    let odd_one = (2 * asyncsim::tape::UNPACKED_DRAWS_MAX + 5..)
        .find(|index| original.tape.draws()[*index].value >= 2)
        .unwrap();
    let failure = replay(data_draws(draws, Some(odd_one))).result.unwrap_err();
    assert!(
        failure
            .message
            .starts_with(&format!("tape divergence at draw {odd_one}:")),
        "{failure}"
    );

    // A program that stops early leaves nonzero draws unread: the strict
    // replay names the first, wherever it is packed (here in a chunk the
    // replay has not unpacked yet).
    let stop = 2 * asyncsim::tape::UNPACKED_DRAWS_MAX;
    let first_leftover = (stop..)
        .find(|index| original.tape.draws()[*index].value != 0)
        .unwrap();
    let failure = replay(data_draws(stop, None)).result.unwrap_err();
    assert!(
        failure
            .message
            .contains(&format!("finished without making draw {first_leftover},")),
        "{failure}"
    );
}
