//! A run that ends at a limit makes a token of megabytes, which no one
//! pastes and no shell passes in one variable: a report never prints a
//! token longer than 2,000 characters. A sampled run's seed line replays the
//! run as found exactly (checked here for each sampled strategy), so the
//! notice printed before shrinking gives that line alone; any other long
//! token is written to a file under `target/asyncsim/` that the line names,
//! and `ASYNCSIM_REPLAY=<that file>` replays it. The notice goes to stderr,
//! so its cases run as a child process (this binary, one test,
//! `LONG_TOKEN_CASE` set), whose stderr the parent reads.

mod child_process;

use asyncsim::harness::Origin;
use asyncsim::{explore, Counterexample, Explore, Strategy};

/// The longest token a line prints (the harness's
/// `TOKEN_PRINTED_CHARS_MAX`).
const TOKEN_PRINTED_CHARS_MAX: usize = 2_000;

/// Three tasks that yield 1,000 times each, then a panic when a draw gives
/// 1 (on a seed's schedule, never on FIFO's, whose draws are all 0 and
/// whose token is empty: an exploration runs FIFO first): some 3,000
/// scheduling draws, a token of a few thousand characters.
async fn long_failing_run() {
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            asyncsim::spawn(async {
                for _ in 0..1_000 {
                    asyncsim::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    if asyncsim::random_range(0..2u8) == 1 {
        panic!("the end of a long run");
    }
}

/// One name for the in-process and the child explorations, so a token
/// one records is the other's own (its origin the same).
const NAME: &str = "long_failing_run";

fn settings() -> Explore {
    Explore::without_environment()
        .name(NAME)
        .runs(20)
        .persist(false)
        .progress(false)
        .trace_file(false)
        .shrink_runs(5)
}

fn found(settings: Explore) -> Counterexample {
    explore(settings, long_failing_run)
        .first_failure
        .expect("a seed draws 1")
}

#[test]
fn the_seed_replays_the_run_as_found_exactly_for_each_sampled_strategy() {
    for strategy in ["random", "pct:3", "mix"] {
        let strategy: Strategy = strategy.parse().unwrap();
        let first = found(settings().strategy(strategy.clone()).seed(40));
        assert_eq!(first.origin, Origin::Seed, "{strategy}");
        let token = first.original_tape.to_string();
        assert!(
            token.len() > TOKEN_PRINTED_CHARS_MAX,
            "{strategy}: a token of {} characters",
            token.len()
        );
        let again = found(
            settings()
                .strategy(strategy.clone())
                .replay_seed(first.seed),
        );
        assert_eq!(
            again.original_tape.to_string(),
            token,
            "{strategy}: ASYNCSIM_SEED={} replays another run",
            first.seed
        );
    }
}

#[test]
fn a_long_shrunk_token_is_named_by_its_file_in_the_report() {
    let found = found(settings().shrink(false));
    let token = found.token();
    assert!(token.len() > TOKEN_PRINTED_CHARS_MAX);
    let file = found.token_file.clone().expect("the long token's file");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
    let report = found.to_string();
    assert!(!report.contains(&token), "the report prints the token");
    assert!(
        report.contains(&format!(
            "    ASYNCSIM_REPLAY={} cargo test ",
            file.display()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "(the token is {} characters, too long to print: that file holds it)",
            token.len()
        )),
        "{report}"
    );
}

/// The child's exploration, chosen by `LONG_TOKEN_CASE`; nothing when run
/// as a test.
#[test]
fn child() {
    let Ok(case) = std::env::var("LONG_TOKEN_CASE") else {
        return;
    };
    match case.as_str() {
        "sampled" => {
            found(settings().seed(40));
        }
        // `ASYNCSIM_REPLAY` holds a token, or names a token file:
        // `Explore::new` reads it.
        "replay" => {
            let failure = found(Explore::new().name(NAME).persist(false).trace_file(false));
            assert_eq!(failure.origin, Origin::Replay);
        }
        other => panic!("unknown case {other}"),
    }
}

fn notice_of(case: &str, replay: Option<&str>) -> String {
    let mut command = child_process::this_binary();
    command.env("LONG_TOKEN_CASE", case);
    for variable in [
        "ASYNCSIM_REPLAY",
        "ASYNCSIM_SEED",
        "ASYNCSIM_STRATEGY",
        "ASYNCSIM_RUNS",
    ] {
        command.env_remove(variable);
    }
    if let Some(replay) = replay {
        command.env("ASYNCSIM_REPLAY", replay);
    }
    let stderr = child_process::stderr_of(command, case, None);
    let longest = stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(
        longest < TOKEN_PRINTED_CHARS_MAX,
        "{case}: a line of {longest} characters"
    );
    stderr
}

#[test]
fn a_sampled_runs_notice_gives_its_seed_line_for_a_long_token() {
    let stderr = notice_of("sampled", None);
    let mut lines = stderr
        .lines()
        .skip_while(|line| !line.starts_with("asyncsim: replay it before shrinking with:"));
    assert!(lines.next().is_some(), "{stderr}");
    let seed_line = lines.next().unwrap_or_default();
    // Seed 40 is the base: run 0 is FIFO, run i seed 40 + i.
    let seed: u64 = seed_line
        .strip_prefix("    ASYNCSIM_SEED=")
        .and_then(|rest| rest.split_once(" cargo test "))
        .and_then(|(seed, _)| seed.parse().ok())
        .unwrap_or_else(|| panic!("no seed line in:\n{stderr}"));
    assert!(seed > 40, "{stderr}");
    assert!(
        seed_line.contains("(the run as found, before shrinking; its token is ")
            && seed_line
                .ends_with("characters, too long to print, and the seed replays the same run)"),
        "{stderr}"
    );
}

#[test]
fn a_given_long_token_is_written_to_a_file_that_replays_it() {
    // A long token, as a report's file or a CI log gives it.
    let token = found(settings().shrink(false)).token();
    assert!(token.len() > TOKEN_PRINTED_CHARS_MAX);
    let stderr = notice_of("replay", Some(&token));
    assert!(
        stderr.contains(&format!(
            "running the given token ({} characters) only; its trace:",
            token.len()
        )),
        "{stderr}"
    );
    let mut lines = stderr
        .lines()
        .skip_while(|line| !line.starts_with("asyncsim: replay it with:"));
    assert!(lines.next().is_some(), "{stderr}");
    let line = lines.next().unwrap_or_default();
    let file = line
        .strip_prefix("    ASYNCSIM_REPLAY=")
        .and_then(|rest| rest.split_once(" cargo test "))
        .map(|(file, _)| file.to_string())
        .unwrap_or_else(|| panic!("no token file in:\n{stderr}"));
    assert!(file.ends_with(".token"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
    assert!(
        line.ends_with(&format!(
            "(the token is {} characters, too long to print: that file holds it)",
            token.len()
        )),
        "{stderr}"
    );
    // The file replays it: the same run, and it fails the same way.
    let replayed = notice_of("replay", Some(&file));
    assert!(
        replayed.contains(&format!(
            "running the given token ({} characters) only; its trace:",
            token.len()
        )),
        "{replayed}"
    );
    assert!(
        replayed.contains("failed replaying the given token: the main future panicked"),
        "{replayed}"
    );
    assert!(replayed.contains(&file), "{replayed}");
}
