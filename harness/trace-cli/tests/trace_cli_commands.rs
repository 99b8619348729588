//! The `asyncsim-trace` command: views, converts and diffs trace files;
//! missing and corrupted files are clear errors with exit status 2.

mod samples;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use asyncsim_harness::trace_file;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_asyncsim-trace"))
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .env_remove("COLUMNS")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trace_cli_commands");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn saved(name: &str, trace: &asyncsim_sim::Trace) -> String {
    let path = dir().join(name);
    trace_file::save(trace, &path).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let missing = dir().join("no-such-trace.json");
    let output = run(&["view", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("no-such-trace.json"), "{stderr}");
    assert!(stderr.contains("cannot read the trace file"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_corrupted_file_is_a_clear_error() {
    let run_ = samples::blocking_speakers(3);
    let good = trace_file::to_string(&run_.trace);
    let path = dir().join("corrupted.json");
    std::fs::write(&path, &good[..good.len() / 3]).unwrap();
    for command in ["view", "chrome", "svg", "html", "events"] {
        let output = run(&[command, path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{command}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("corrupted.json"), "{stderr}");
        assert!(
            stderr.contains("not a valid asyncsim trace file"),
            "{stderr}"
        );
        assert!(
            stderr.contains("line"),
            "the JSON error says where: {stderr}"
        );
    }
    std::fs::write(&path, "just some text").unwrap();
    let output = run(&["view", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("not a valid asyncsim trace file"));
    let newer = good.replace(
        &format!("\"version\": {}", trace_file::VERSION),
        "\"version\": 99",
    );
    assert_ne!(newer, good);
    std::fs::write(&path, newer).unwrap();
    let output = run(&["view", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("version 99 is newer than this build reads"),
        "{stderr}"
    );
}

#[test]
fn view_prints_the_timeline_at_the_asked_width() {
    let trace = samples::blocking_speakers(3).trace;
    let file = saved("view.json", &trace);
    let output = run(&["view", &file, "--width", "50"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout, asyncsim_harness::render::timeline_text(&trace, 50));
    assert!(stdout.contains("speak-2") && stdout.contains('#'));
}

#[test]
fn conversions_write_to_stdout_or_to_a_file() {
    let trace = samples::run_in_executor(5).trace;
    let file = saved("convert.json", &trace);
    let output = run(&["chrome", &file]);
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout),
        asyncsim_harness::render::chrome_json(&trace)
    );
    let out = dir().join("convert.svg");
    let output = run(&["svg", &file, "-o", out.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        asyncsim_harness::render::svg(&trace)
    );
    let output = run(&["html", &file]);
    assert!(text(&output.stdout).starts_with("<!DOCTYPE html>"));
    let output = run(&["events", &file]);
    assert_eq!(text(&output.stdout), trace.to_string());
}

#[test]
fn diff_exits_zero_for_identical_traces_and_one_at_a_divergence() {
    let a = saved("diff-a.json", &samples::run_in_executor(1).trace);
    let a_again = saved("diff-a-again.json", &samples::run_in_executor(1).trace);
    let output = run(&["diff", &a, &a_again]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("identical"));

    let blocking = saved("diff-blocking-3.json", &samples::blocking_speakers(3).trace);
    let blocking_4 = saved("diff-blocking-4.json", &samples::blocking_speakers(4).trace);
    let output = run(&["diff", &blocking, &blocking_4]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    // The fourth speaker's spawn is the first difference.
    assert!(
        stdout.contains("the traces diverge at event #5"),
        "{stdout}"
    );
    assert!(stdout.contains("speak-3"), "{stdout}");
}

#[test]
fn help_and_usage_errors() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for command in ["view", "chrome", "svg", "html", "diff", "perfetto"] {
        assert!(help.contains(command), "{command}");
    }
    for args in [
        &[][..],
        &["frobnicate"],
        &["view"],
        &["diff", "only-one"],
        &["view", "x", "--width", "wide"],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains("--help"), "{args:?}");
    }
}

#[test]
fn a_saved_run_with_faults_shows_its_fault_lane_in_every_picture() {
    let trace = samples::faulty(3).trace;
    let file = saved("faulty.json", &trace);
    let view = text(&run(&["view", &file, "--width", "80"]).stdout);
    assert_eq!(view, asyncsim_harness::render::timeline_text(&trace, 80));
    let row = view
        .lines()
        .find(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane:\n{view}"));
    for letter in ['P', 'H', 'C', 'R'] {
        assert!(row.contains(letter), "{view}");
    }
    assert!(view.contains("crashed node `db`"), "{view}");
    let svg = text(&run(&["svg", &file]).stdout);
    assert!(svg.contains("<g class=\"lane faults\""), "{svg}");
    let chrome = text(&run(&["chrome", &file]).stdout);
    assert!(chrome.contains("\"cat\":\"fault\""), "{chrome}");
    let events = text(&run(&["events", &file]).stdout);
    assert!(
        events.contains("fault: partitioned `main` <-> `db`"),
        "{events}"
    );
}
