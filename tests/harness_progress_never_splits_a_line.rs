//! A progress line never lands inside a line of the program's own output
//! (#14.9): with stdout and stderr in one file (`> log 2>&1`) the harness
//! writes no progress lines at all, and with stderr in a file of its own it
//! writes whole lines there. Each case runs this test binary again as a
//! child, with its output redirected, and reads the files back.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use asyncsim::Explore;

const CHILD: &str = "ASYNCSIM_PROGRESS_TEST_CHILD";

/// The child: a table row written in two halves around a long exploration
/// whose progress would print a line after every run.
#[test]
fn child_prints_a_row_around_an_exploration() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    print!("| row 1 | ");
    std::io::stdout().flush().unwrap();
    let settings = Explore::without_environment()
        .strategy(asyncsim::Strategy::Random)
        .runs(200)
        .progress_every(Duration::ZERO)
        .persist(false)
        .trace_file(false);
    let summary = asyncsim::explore(settings, || async {
        let a = asyncsim::spawn(async { asyncsim::yield_now().await });
        let b = asyncsim::spawn(async { asyncsim::yield_now().await });
        a.await.unwrap();
        b.await.unwrap();
    });
    assert_eq!(summary.runs, 200);
    println!("200 runs |");
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("progress_never_splits_a_line");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the child with stdout in `out` and stderr in `err` (the same file
/// when equal); returns what each file holds.
fn run_child(out: &str, err: &str) -> (String, String) {
    let out_path = scratch(out);
    let err_path = scratch(err);
    let out_file = std::fs::File::create(&out_path).unwrap();
    let err_file = if out == err {
        out_file.try_clone().unwrap()
    } else {
        std::fs::File::create(&err_path).unwrap()
    };
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_prints_a_row_around_an_exploration",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .status()
        .unwrap();
    assert!(status.success(), "the child failed");
    (
        std::fs::read_to_string(&out_path).unwrap(),
        std::fs::read_to_string(&err_path).unwrap(),
    )
}

#[test]
fn progress_lines_never_land_in_a_file_shared_with_stdout() {
    let (log, _) = run_child("shared.log", "shared.log");
    assert!(log.contains("| row 1 | 200 runs |"), "{log}");
    assert!(!log.contains("runs/s"), "{log}");
}

#[test]
fn progress_lines_go_whole_to_a_file_of_their_own() {
    let (out, err) = run_child("table.txt", "progress.txt");
    assert!(out.contains("| row 1 | 200 runs |"), "{out}");
    assert!(!out.contains("runs/s"), "{out}");
    let progress: Vec<&str> = err.lines().filter(|line| line.contains("runs/s")).collect();
    assert!(progress.len() >= 100, "{err}");
    assert!(
        progress
            .iter()
            .all(|line| line.starts_with("asyncsim: `") && line.ends_with(" s")),
        "{err}"
    );
}
