//! Tests whose subject writes to the process's stderr (the watchdog's
//! lines, which no test capture sees) run a case as a child: this test
//! binary again, one test (`child`), a variable naming the case. Shared by
//! the watchdog's tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// This test binary, to run its `child` test alone with `--nocapture`.
pub fn this_binary() -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", "child", "--nocapture", "--test-threads=1"]);
    command
}

/// Runs `command` (named `case` in messages) and gathers its stderr lines
/// until one contains `until` (then kills it) or it exits, successfully
/// (asserted); gives up after 60 s.
pub fn stderr_of(mut command: Command, case: &str, until: Option<&str>) -> String {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            if lines.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    loop {
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if until.is_some_and(|until| line.contains(until)) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return seen;
                }
            }
            // The child exited (its stderr closed).
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().unwrap();
                assert!(status.success(), "child {case} failed:\n{seen}");
                return seen;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("child {case}: no line with {until:?} and no end in 60 s:\n{seen}");
            }
        }
    }
}
