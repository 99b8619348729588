//! A run is a pure function of (program, strategy, seed): the same inputs
//! give the same trace, hash, tape and result, whatever the program.

mod engine_support;

use asyncsim::{Config, Strategy, TraceMode};
use engine_support::{ops, run_program};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

fn strategies() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![
        Just(Strategy::Random),
        Just(Strategy::Fifo),
        (1u32..4).prop_map(|depth| Strategy::Pct { depth }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn same_seed_gives_same_trace_hash_and_tape(
        program in ops(),
        seed in any::<u64>(),
        strategy in strategies(),
    ) {
        let config = Config::new().seed(seed).strategy(strategy).pct_steps_estimate(40);
        let first = run_program(&program, config.clone());
        let second = run_program(&program, config);
        prop_assert!(first.result.is_ok(), "{:?}", first.result);
        prop_assert_eq!(first.trace.hash(), second.trace.hash());
        prop_assert_eq!(first.trace.event_count(), second.trace.event_count());
        prop_assert_eq!(&first.trace, &second.trace);
        prop_assert_eq!(first.trace.to_string(), second.trace.to_string());
        prop_assert_eq!(first.tape.draws(), second.tape.draws());
        prop_assert_eq!(first.steps(), second.steps());
        prop_assert_eq!(first.elapsed_ns(), second.elapsed_ns());
    }

    #[test]
    fn hash_only_mode_keeps_the_full_trace_hash(
        program in ops(),
        seed in any::<u64>(),
    ) {
        let full = run_program(&program, Config::new().seed(seed));
        let hashed = run_program(&program, Config::new().seed(seed).trace_mode(TraceMode::HashOnly));
        prop_assert_eq!(full.trace.hash(), hashed.trace.hash());
        prop_assert_eq!(full.trace.event_count(), hashed.trace.event_count());
        prop_assert!(hashed.trace.events().is_empty());
        prop_assert_eq!(full.tape.draws(), hashed.tape.draws());
    }

    #[test]
    fn one_sim_reused_for_many_runs_matches_fresh_sims(
        program in ops(),
        seed in any::<u64>(),
    ) {
        // A Sim resets between runs: the second run of a reused Sim equals a
        // first run of a fresh one.
        let fresh = run_program(&program, Config::new().seed(seed));
        let mut sim = asyncsim::Sim::new(Config::new().seed(seed));
        let _warm_up = sim.run(engine_support::exec(program.clone(), "main".into()));
        let reused = sim.run(engine_support::exec(program.clone(), "main".into()));
        prop_assert_eq!(&fresh.trace, &reused.trace);
        prop_assert_eq!(fresh.tape.draws(), reused.tape.draws());
    }

    #[test]
    fn a_run_after_an_outcome_only_run_matches_a_fresh_sim(
        program in ops(),
        seed in any::<u64>(),
    ) {
        // `run_outcome` (what the harness uses for passing runs) leaves the
        // run's trace and tape in the Sim; the next run must still start
        // clean, and the outcome must be the run's own.
        let fresh = run_program(&program, Config::new().seed(seed));
        let mut sim = asyncsim::Sim::new(Config::new().seed(seed));
        let outcome = sim.run_outcome(engine_support::exec(program.clone(), "main".into()));
        prop_assert_eq!(outcome.trace_hash, fresh.trace.hash());
        prop_assert_eq!(outcome.result.is_ok(), fresh.result.is_ok());
        let reused = sim.run(engine_support::exec(program.clone(), "main".into()));
        prop_assert_eq!(&fresh.trace, &reused.trace);
        prop_assert_eq!(fresh.tape.draws(), reused.tape.draws());
    }
}

#[test]
fn a_run_never_sees_the_marks_of_the_run_before_it_on_the_same_sim() {
    use asyncsim::trace::{mark, marks_so_far};
    for mode in [TraceMode::Full, TraceMode::HashOnly] {
        let mut sim = asyncsim::Sim::new(Config::new().trace_mode(mode));
        let first = sim.run_outcome(async {
            mark("first");
            marks_so_far()
        });
        assert_eq!(first.result.unwrap(), ["first"], "{mode:?}");
        let second = sim.run(async {
            mark("second");
            marks_so_far()
        });
        assert_eq!(second.result.unwrap(), ["second"], "{mode:?}");
        let third = sim.run_outcome(async { marks_so_far() });
        assert!(third.result.unwrap().is_empty(), "{mode:?}");
    }
}

#[test]
fn different_seeds_explore_different_schedules() {
    // Not a guarantee per pair of seeds, but over many seeds a program with
    // real choices must show more than one interleaving.
    let program = {
        use engine_support::Op::*;
        vec![
            Spawn(vec![Mark, Yield, Mark]),
            Spawn(vec![Mark, Yield, Mark]),
            Spawn(vec![Mark, Yield, Mark]),
        ]
    };
    let hashes: std::collections::BTreeSet<u64> = (0..64)
        .map(|seed| run_program(&program, Config::new().seed(seed)).trace.hash())
        .collect();
    assert!(hashes.len() > 8, "only {} distinct traces", hashes.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_trace_rebuilt_from_its_parts_has_the_same_hash(program in ops(), seed in any::<u64>()) {
        let run = run_program(&program, Config::new().seed(seed));
        let rebuilt = asyncsim::Trace::from_parts(
            run.trace.events().to_vec(),
            run.trace.tasks().to_vec(),
            run.trace.labels().to_vec(),
        );
        prop_assert_eq!(rebuilt.hash(), run.trace.hash());
        prop_assert_eq!(&rebuilt, &run.trace);
        prop_assert_eq!(rebuilt.to_string(), run.trace.to_string());
    }

    #[test]
    fn a_truncated_trace_keeps_hashing_every_event(program in ops(), seed in any::<u64>(), keep in 0usize..20) {
        let full = run_program(&program, Config::new().seed(seed));
        let short = run_program(&program, Config::new().seed(seed).trace_events_max(keep));
        prop_assert_eq!(full.tape.draws(), short.tape.draws());
        // The cap, plus the one warning that says the cap was hit.
        prop_assert!(short.trace.events().len() <= keep + 1);
        if full.trace.event_count() > keep as u64 {
            prop_assert!(short.trace.is_truncated());
            prop_assert_eq!(&short.trace.events()[..keep], &full.trace.events()[..keep]);
            prop_assert!(short
                .trace
                .warnings()
                .any(|(_, warning)| warning == asyncsim::trace::Warning::TraceTruncated));
            prop_assert!(short.trace.to_string().contains("more events not recorded"));
        } else {
            prop_assert_eq!(&short.trace, &full.trace);
        }
    }
}
