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
