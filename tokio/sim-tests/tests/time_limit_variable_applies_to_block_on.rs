//! `Runtime::block_on` makes its own config, so a program that simulates
//! more than the default hour of virtual time through a runtime of its own
//! has only `ASYNCSIM_TIME_LIMIT` to raise the limit with
//! (`#[tokio::main(time_limit = "2h")]` has an argument:
//! `attribute_macros.rs`). The variable is read
//! once a process: each case is a child (this binary, one test,
//! `BLOCK_ON_CHILD` set) whose exit and stderr the parent reads.

use std::process::{Command, Output};
use std::time::Duration;

/// The child: a program that sleeps 90 virtual minutes, its body run by
/// `Runtime::block_on` as `#[tokio::main]`'s is. Nothing when run as a test.
#[test]
fn child() {
    if std::env::var_os("BLOCK_ON_CHILD").is_none() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_secs(90 * 60)).await;
    });
    eprintln!("child: run over");
}

fn child_output(limit: Option<&str>) -> (Output, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    for variable in ["ASYNCSIM_TIME_LIMIT", "ASYNCSIM_SEED", "ASYNCSIM_REPLAY"] {
        command.env_remove(variable);
    }
    if let Some(limit) = limit {
        command.env("ASYNCSIM_TIME_LIMIT", limit);
    }
    let output = command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("BLOCK_ON_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

#[test]
fn block_on_follows_asyncsim_time_limit() {
    let (output, stderr) = child_output(Some("2h"));
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child: run over"), "{stderr}");
}

#[test]
fn without_it_block_on_fails_at_the_hour_naming_it() {
    let (output, stderr) = child_output(None);
    assert!(!output.status.success(), "{stderr}");
    assert!(!stderr.contains("child: run over"), "{stderr}");
    for words in [
        "past Config::time_limit (3600s, the default)",
        "(Runtime::block_on too), with the variable ASYNCSIM_TIME_LIMIT (`2h`, `90m`, `3600s`)",
        "#[tokio::main] or #[asyncsim::test]: the argument `time_limit = \"2h\"`",
    ] {
        assert!(stderr.contains(words), "{words:?} in {stderr}");
    }
}

#[test]
fn a_malformed_value_is_said() {
    let (output, stderr) = child_output(Some("two hours"));
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("ASYNCSIM_TIME_LIMIT=\"two hours\" is malformed: expected a duration of virtual time (`2h`, `90m`, `3600s`)"),
        "{stderr}"
    );
}
