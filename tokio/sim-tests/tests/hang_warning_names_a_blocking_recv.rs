//! `blocking_recv` in a task waits for a sender that another task of the
//! run would use: that task never runs (the run's tasks share one thread),
//! so the poll never returns. The hang watchdog says so on stderr, naming
//! the task by its spawn site, and gives the line that replays the run. The
//! run is a child process (this binary, one test,
//! `HANG_CHILD` set, `ASYNCSIM_HANG_WARNING=200ms`) that never ends: the
//! parent reads its stderr and kills it once the line is there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn child() {
    if std::env::var_os("HANG_CHILD").is_none() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<u32>(1);
        let waiting = tokio::spawn(async move { receiver.blocking_recv() });
        let sending = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            sender.send(1).await.unwrap();
        });
        assert_eq!(waiting.await.unwrap(), Some(1));
        sending.await.unwrap();
    });
}

#[test]
fn a_blocking_recv_waiting_for_another_task_is_named_on_stderr() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("HANG_CHILD", "1")
        .env("ASYNCSIM_HANG_WARNING", "200ms")
        // The hang line, not the blocking line that a poll this long also
        // gets (`ASYNCSIM_BLOCKING_WARNING`).
        .env("ASYNCSIM_BLOCKING_WARNING", "off")
        .env_remove("ASYNCSIM_SEED")
        .env_remove("ASYNCSIM_REPLAY")
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
    // The warning's line and the replay line after it.
    let mut said = Vec::new();
    while said.len() < 2 {
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("asyncsim: ") => said.push(line),
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no hang warning ({error:?}); stderr:\n{seen}{said:?}");
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = &said[0];
    assert!(
        line.starts_with(
            "asyncsim: task-1@tests/hang_warning_names_a_blocking_recv.rs:22 has been inside one poll for "
        ),
        "{line}"
    );
    assert!(line.contains("(run seed 0, "), "{line}");
    assert_eq!(
        said[1],
        "asyncsim: replay that run alone: ASYNCSIM_SEED=0 cargo test child"
    );
    assert!(
        line.contains("or a blocking call waiting for another task of this run"),
        "{line}"
    );
}
