//! `ASYNCSIM_TIME_LIMIT` sets the virtual-time limit of every config that
//! sets none (`Config::new()`, and so `check` and `Explore::new`), as
//! `ASYNCSIM_HANG_WARNING` sets the watchdog's threshold; an explicit
//! `Config::time_limit` wins, and a malformed value is said, never
//! ignored. The variable is read once a process, so each case runs as a
//! child process (this binary, one test, `LIMIT_CASE` set) with the
//! variable set or removed, and the parent reads its exit and stderr.

use std::process::{Command, Output};
use std::time::Duration;

use asyncsim::{Config, FailureKind, Sim};

/// Ninety virtual minutes: past the default hour, inside `2h`.
const NINETY_MINUTES: Duration = Duration::from_secs(90 * 60);

/// The child's body, chosen by `LIMIT_CASE`; nothing when run as a test.
#[test]
fn child() {
    let Ok(case) = std::env::var("LIMIT_CASE") else {
        return;
    };
    match case.as_str() {
        // A run of the default config that sleeps 90 virtual minutes.
        "sleeps" => {
            let run = Sim::new(Config::new()).run(async {
                asyncsim::time::sleep(NINETY_MINUTES).await;
            });
            match run.result {
                Ok(()) => eprintln!("child: passed at {:?}", run.elapsed()),
                Err(failure) => {
                    assert_eq!(failure.kind, FailureKind::TimeLimit, "{failure}");
                    eprintln!("child: failed: {}", failure.message);
                }
            }
        }
        // The same under an explicit limit of an hour: it wins.
        "explicit" => {
            let run = Sim::new(Config::new().time_limit(Duration::from_secs(3600))).run(async {
                asyncsim::time::sleep(NINETY_MINUTES).await;
            });
            let failure = run.result.expect_err("the explicit hour wins");
            assert_eq!(failure.kind, FailureKind::TimeLimit, "{failure}");
            eprintln!("child: failed: {}", failure.message);
        }
        // `check` with `Explore::new()`'s config: it panics on a failure.
        "check" => {
            let settings = asyncsim::Explore::new()
                .runs(2)
                .persist(false)
                .trace_file(false)
                .progress(false);
            asyncsim::check(settings, || async {
                asyncsim::time::sleep(NINETY_MINUTES).await;
            });
            eprintln!("child: passed");
        }
        other => panic!("unknown LIMIT_CASE {other}"),
    }
}

/// Runs the child `case` with `ASYNCSIM_TIME_LIMIT` set to `limit` (or
/// removed) and the other `ASYNCSIM_*` variables a run reads removed.
fn child_output(case: &str, limit: Option<&str>) -> (Output, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    for variable in [
        "ASYNCSIM_TIME_LIMIT",
        "ASYNCSIM_SEED",
        "ASYNCSIM_REPLAY",
        "ASYNCSIM_RUNS",
        "ASYNCSIM_STRATEGY",
    ] {
        command.env_remove(variable);
    }
    if let Some(limit) = limit {
        command.env("ASYNCSIM_TIME_LIMIT", limit);
    }
    let output = command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("LIMIT_CASE", case)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

#[test]
fn two_hours_from_the_variable_let_ninety_minutes_pass() {
    let (output, stderr) = child_output("sleeps", Some("2h"));
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child: passed at 5400s"), "{stderr}");
    // The other spellings of the same syntax.
    for limit in ["90m", "5400s", "7200"] {
        let (output, stderr) = child_output("sleeps", Some(limit));
        assert!(output.status.success(), "{limit}: {stderr}");
        assert!(
            stderr.contains("child: passed at 5400s"),
            "{limit}: {stderr}"
        );
    }
}

#[test]
fn without_the_variable_the_hour_ends_it_naming_the_variable() {
    let (output, stderr) = child_output("sleeps", None);
    assert!(output.status.success(), "{stderr}");
    for words in [
        "child: failed: virtual-time limit: the next timer is at 5400s, past Config::time_limit (3600s, the default)",
        "with the variable ASYNCSIM_TIME_LIMIT (`2h`, `90m`, `3600s`)",
    ] {
        assert!(stderr.contains(words), "{words:?} in {stderr}");
    }
}

#[test]
fn a_limit_from_the_variable_is_said_to_be_from_it() {
    let (output, stderr) = child_output("sleeps", Some("80m"));
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("past Config::time_limit (4800s, from ASYNCSIM_TIME_LIMIT)"),
        "{stderr}"
    );
}

#[test]
fn an_explicit_time_limit_wins_over_the_variable() {
    let (output, stderr) = child_output("explicit", Some("2h"));
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("child: failed: virtual-time limit: the next timer is at 5400s, past Config::time_limit (3600s)"),
        "{stderr}"
    );
}

#[test]
fn check_follows_the_variable() {
    let (output, stderr) = child_output("check", Some("2h"));
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child: passed"), "{stderr}");
    let (output, stderr) = child_output("check", None);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("ASYNCSIM_TIME_LIMIT"), "{stderr}");
}

#[test]
fn a_malformed_value_is_said_not_ignored() {
    for limit in ["soon", "0", "off", "-2h"] {
        let (output, stderr) = child_output("sleeps", Some(limit));
        assert!(!output.status.success(), "{limit}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "ASYNCSIM_TIME_LIMIT={limit:?} is malformed: expected a duration of virtual time (`2h`, `90m`, `3600s`)"
            )),
            "{limit}: {stderr}"
        );
    }
}

/// The panic is at the user's line that made the config (`Config::new()`
/// in `sleeps`, `Explore::new()` in `check`), not inside asyncsim, and a
/// long value is cut.
#[test]
fn a_malformed_value_panics_at_the_users_line_cut() {
    let here = "panicked at tests/engine_time_limit_from_the_environment.rs:";
    for case in ["sleeps", "check"] {
        let (output, stderr) = child_output(case, Some("soon"));
        assert!(!output.status.success(), "{case}: {stderr}");
        assert!(stderr.contains(here), "{case}: {stderr}");
    }
    let long = "9".repeat(3_000) + "x";
    let (_, stderr) = child_output("sleeps", Some(&long));
    assert!(
        stderr.contains(&format!(
            "ASYNCSIM_TIME_LIMIT=\"{}\"… (3001 characters) is malformed: expected a duration of virtual time",
            "9".repeat(80)
        )),
        "{stderr:.500}"
    );
    assert!(stderr.len() < 2_000, "{stderr:.500}");
}
