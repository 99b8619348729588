//! A token longer than 2,000 characters (a run that ends at a limit makes
//! one of megabytes) is printed by no report: every place that shows a token
//! in words (a `Schedule`, a `Witness`, a census, a shard merge) names the
//! file under `target/asyncsim/` that holds it, which `ASYNCSIM_REPLAY`
//! takes as it takes a token. A regressions file still holds it whole (it is
//! committed; `target/` is not), its comment on a line of its own before it.
//! A malformed variable's message quotes its value cut.

use asyncsim::harness::shard_summary::{merge, ShardFailure, ShardSummary, FORMAT};
use asyncsim::harness::Schedule;
use asyncsim::{find, outcomes, Explore};

/// The longest token a line prints (the harness's
/// `TOKEN_PRINTED_CHARS_MAX`).
const TOKEN_PRINTED_CHARS_MAX: usize = 2_000;

/// Three tasks that yield 1,000 times each: some 3,000 scheduling draws, a
/// token of a few thousand characters; the value is a draw of 0 or 1.
async fn long_run() -> u8 {
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
    asyncsim::random_range(0..2u8)
}

fn settings() -> Explore {
    Explore::without_environment()
        .runs(4)
        .persist(false)
        .progress(false)
        .trace_file(false)
}

/// `text` names `token` by a file that holds it, and never prints it.
fn names_by_file(text: &str, token: &str) {
    assert!(
        token.len() > TOKEN_PRINTED_CHARS_MAX,
        "{} characters",
        token.len()
    );
    assert!(!text.contains(token), "the token is printed: {text:.300}");
    let file = text
        .split_once("token in ")
        .map(|(_, rest)| rest.split([')', ' ', '\n']).next().unwrap_or_default())
        .unwrap_or_else(|| panic!("no token file in: {text}"));
    assert!(file.ends_with(".token"), "{text}");
    assert_eq!(std::fs::read_to_string(file).unwrap().trim(), token);
}

/// A run whose value is 1: a seed's, with its long token (an exploration's
/// first run is FIFO, whose draws are all 0: its value 0, its token empty).
fn seeded(value: &u8) -> bool {
    *value == 1
}

#[test]
fn a_witness_names_its_long_token_by_its_file() {
    let witness = find(settings(), long_run, seeded).expect("a seed draws 1");
    names_by_file(&witness.to_string(), &witness.token());
}

#[test]
fn a_census_names_its_long_tokens_by_their_files() {
    let census = outcomes(settings().runs(8), long_run);
    let text = census.to_string();
    assert_eq!(census.values.len(), 2, "{text:.2000}");
    for value in &census.values {
        let line = text
            .lines()
            .find(|line| line.contains(&format!("× {:?} ", value.value)))
            .unwrap();
        if value.witness_run_index == 0 {
            // FIFO's token, empty, is short: printed whole.
            assert!(line.contains(&format!("token {}", value.token())), "{line}");
        } else {
            names_by_file(line, &value.token());
        }
    }
}

#[test]
fn a_schedule_names_its_long_token_by_its_file_and_a_short_one_in_full() {
    let witness = find(settings(), long_run, seeded).unwrap();
    let long = Schedule::Tape(witness.tape.clone());
    names_by_file(&long.to_string(), &witness.token());
    let short = asyncsim::Tape::default();
    assert_eq!(
        Schedule::Tape(short.clone()).to_string(),
        format!("token {short}")
    );
}

#[test]
fn a_shard_merge_names_a_long_token_by_its_file() {
    let witness = find(settings(), long_run, seeded).unwrap();
    let token = witness.token();
    let summary = ShardSummary {
        format: FORMAT.to_string(),
        test: "lease".to_string(),
        strategy: "mix".to_string(),
        shard: 1,
        shards: 1,
        runs: 10,
        failures: 1,
        schedule_hashes: vec![],
        exhausted: None,
        stopped_at_run_cap: false,
        first_failure: Some(ShardFailure {
            run_index: 3,
            seed: Some(3),
            token: token.clone(),
            kind: "Panic".to_string(),
            message: "boom".to_string(),
        }),
        sometimes: Default::default(),
    };
    let text = merge(vec![summary]).to_string();
    assert!(!text.contains(&token), "{text:.300}");
    let line = text
        .lines()
        .find(|line| line.starts_with("    ASYNCSIM_REPLAY="))
        .unwrap_or_else(|| panic!("{text}"));
    let file = line
        .strip_prefix("    ASYNCSIM_REPLAY=")
        .and_then(|rest| rest.split_once(" cargo test lease"))
        .map(|(file, _)| file)
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(std::fs::read_to_string(file).unwrap().trim(), token);
    assert!(
        line.ends_with(&format!(
            "(the token is {} characters, too long to print: that file holds it)",
            token.len()
        )),
        "{line}"
    );
}

/// Fails after a long run whose value is 1 (a seed's, not FIFO's, whose
/// token is empty).
async fn long_failing_run() {
    if long_run().await == 1 {
        panic!("the end of a long run");
    }
}

#[test]
fn a_regressions_file_holds_a_long_token_whole_after_its_comment_and_replays_it() {
    let directory =
        std::env::temp_dir().join(format!("asyncsim-long-regressions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    let checking = || {
        std::panic::catch_unwind(|| {
            asyncsim::check(
                Explore::without_environment()
                    .name("long_regression")
                    .runs(20)
                    // Shrunk, the token would be FIFO's, empty.
                    .shrink(false)
                    .progress(false)
                    .trace_file(false)
                    .regressions_dir(&directory),
                long_failing_run,
            )
        })
        .expect_err("a seed draws 1")
    };
    checking();
    let text = std::fs::read_to_string(directory.join("long_regression.txt")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text:.500}");
    assert!(
        lines[0].starts_with("# asyncsim regressions"),
        "{}",
        lines[0]
    );
    let token = lines[2];
    assert!(token.len() > TOKEN_PRINTED_CHARS_MAX);
    assert!(token.parse::<asyncsim::Tape>().is_ok(), "{token:.100}");
    assert!(
        lines[1].starts_with("# Panic: the main future panicked at ")
            && lines[1].ends_with(&format!(
                ": the end of a long run (the next line's token, {} characters)",
                token.len()
            )),
        "{}",
        lines[1]
    );
    // The next check replays it first, and saves it once.
    let report = checking();
    let report = report.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        report.contains("replaying a saved regression"),
        "{report:.2000}"
    );
    assert_eq!(
        std::fs::read_to_string(directory.join("long_regression.txt")).unwrap(),
        text
    );
    let _ = std::fs::remove_dir_all(&directory);
}

/// The child: `Explore::new` reads the environment.
#[test]
fn child() {
    if std::env::var_os("MALFORMED_CHILD").is_some() {
        let _ = Explore::new();
    }
}

#[test]
fn a_malformed_variables_value_is_quoted_cut() {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("MALFORMED_CHILD", "1")
        .env("ASYNCSIM_REPLAY", format!("as1.{}", "A".repeat(5_000)));
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    // At the test's line that called `Explore::new`, not inside asyncsim.
    assert!(
        stderr.contains(
            "panicked at tests/harness_long_tokens_are_named_by_their_file_everywhere.rs:"
        ),
        "{stderr}"
    );
    let line = stderr
        .lines()
        .find(|line| line.starts_with("ASYNCSIM_REPLAY="))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.len() < 400, "a line of {} characters", line.len());
    assert!(
        line.starts_with(&format!(
            "ASYNCSIM_REPLAY=\"as1.{}\"… (5004 characters) is malformed: expected a replay token",
            "A".repeat(76)
        )),
        "{line}"
    );
}
