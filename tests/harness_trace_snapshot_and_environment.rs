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

/// A run of two tasks named by their spawn sites (as the tokio face names
/// every task), spawned at `first` and `second`.
fn site_named_run(
    first: &'static std::panic::Location<'static>,
    second: &'static std::panic::Location<'static>,
) -> asyncsim::Trace {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async move {
        let reader = asyncsim::task::Builder::new()
            .site(first)
            .spawn(async { asyncsim::yield_now().await });
        let writer = asyncsim::task::Builder::new()
            .site(second)
            .spawn(async { asyncsim::trace::mark("written") });
        reader.await.unwrap();
        writer.await.unwrap();
    });
    run.trace
}

#[test]
fn a_snapshot_names_a_spawn_site_without_its_line() {
    let (first, second) = (
        std::panic::Location::caller(),
        std::panic::Location::caller(),
    );
    // A line added above the spawns moves them: the snapshot's text stays.
    let (first_moved, second_moved) = (
        std::panic::Location::caller(),
        std::panic::Location::caller(),
    );
    assert_ne!(first.line(), first_moved.line());
    let trace = site_named_run(first, second);
    let text = asyncsim::harness::__trace_snapshot_text(&trace);
    assert_eq!(
        text,
        asyncsim::harness::__trace_snapshot_text(&site_named_run(first_moved, second_moved))
    );
    let named: Vec<&str> = trace
        .tasks()
        .iter()
        .map(|task| &*task.name)
        .filter(|name| name.contains('@'))
        .collect();
    assert_eq!(named.len(), 2, "{trace}");
    for name in named {
        let (site, line) = name.rsplit_once(':').unwrap();
        assert!(line.parse::<u32>().is_ok(), "{name}");
        assert!(trace.to_string().contains(name), "{trace}");
        assert!(!text.contains(name), "{text}");
        // In the task column, padded as the trace pads it, and in words.
        assert!(text.contains(&format!("  {site} ")), "{text}");
    }
    assert!(text.contains(" on JoinHandle of `task-1@"), "{text}");
    assert_trace_snapshot!("harness_site_named_tasks_trace", trace);
    let header = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("snapshots")
            .join("harness_site_named_tasks_trace.snap"),
    )
    .unwrap();
    assert!(header.contains("\nexpression: trace\n"), "{header}");
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
