//! Traces snapshot into `snapshots/` with insta; `Explore::new()` reads the
//! `ASYNCSIM_*` variables and names a malformed one.

use asyncsim::harness::{assert_trace_snapshot, Explore, Search};
use asyncsim::{Config, Sim, Strategy};
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
fn trace_snapshot_is_stored_under_snapshots() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let speaker = asyncsim::task::Builder::new()
            .name("speaker")
            .spawn(async { asyncsim::trace::mark("hello") });
        asyncsim::yield_now().await;
        speaker.await.unwrap();
    });
    assert_trace_snapshot!("harness_fifo_speaker_trace", run.trace);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join("harness_fifo_speaker_trace.snap");
    assert!(path.exists(), "{}", path.display());
}

/// All environment cases in one test: variables are process-wide.
#[test]
fn explore_new_reads_the_environment_and_names_malformed_variables() {
    let variables = [
        "ASYNCSIM_RUNS",
        "ASYNCSIM_SEED",
        "ASYNCSIM_REPLAY",
        "ASYNCSIM_STRATEGY",
        "ASYNCSIM_JOBS",
        "ASYNCSIM_SHARD",
    ];
    let clear = || {
        for variable in variables {
            std::env::remove_var(variable);
        }
    };
    clear();
    std::env::set_var("ASYNCSIM_RUNS", "77");
    std::env::set_var("ASYNCSIM_STRATEGY", "exhaustive:3");
    let settings = Explore::new();
    assert_eq!(settings.runs_max(), 77);
    assert_eq!(settings.search(), &Search::Exhaustive { max_deviations: 3 });
    // ASYNCSIM_RUNS wins over the code's runs (a nightly job scales every
    // test with it); the code's strategy wins over ASYNCSIM_STRATEGY.
    assert_eq!(Explore::new().runs(5).runs_max(), 77);
    assert_eq!(
        Explore::new().strategy(asyncsim::Strategy::Random).search(),
        &Search::Sampled(asyncsim::Strategy::Random)
    );
    clear();
    assert_eq!(Explore::new().runs(5).runs_max(), 5);
    clear();

    for (variable, value) in [
        ("ASYNCSIM_RUNS", "many"),
        ("ASYNCSIM_SEED", "-1"),
        ("ASYNCSIM_REPLAY", "as1.nope"),
        ("ASYNCSIM_STRATEGY", "sideways"),
        ("ASYNCSIM_JOBS", "0"),
        ("ASYNCSIM_SHARD", "3/2"),
    ] {
        std::env::set_var(variable, value);
        let outcome = catch_unwind(AssertUnwindSafe(Explore::new));
        clear();
        let message = *outcome
            .expect_err("a malformed variable panics")
            .downcast::<String>()
            .unwrap();
        assert!(message.contains(variable), "{message}");
    }

    // ASYNCSIM_SEED runs one seed.
    std::env::set_var("ASYNCSIM_SEED", "12");
    let summary = asyncsim::explore(Explore::new().runs(500).trace_file(false), || async {});
    clear();
    assert_eq!(summary.runs, 1);
}
