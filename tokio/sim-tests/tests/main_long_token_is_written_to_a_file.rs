//! A `#[tokio::main]` (or `block_on`) run's token longer than 2,000
//! characters (a run that ends at a limit makes one of megabytes) is not
//! printed: the report names the file under `target/asyncsim/` that holds
//! it, and `ASYNCSIM_REPLAY=<that file>` replays it, as the harness's
//! reports do. The program is a test of this binary run as a child.

use std::process::Command;

/// The longest token a line prints (the harness's
/// `TOKEN_PRINTED_CHARS_MAX`).
const TOKEN_PRINTED_CHARS_MAX: usize = 2_000;

/// Three tasks that yield 1,000 times each, then a failure: some 3,000
/// scheduling draws, a token of a few thousand characters.
#[tokio::main(flavor = "current_thread")]
async fn long_then_fails() {
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..1_000 {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    panic!("the end of a long run");
}

/// The program when run as a child (`LONG_CHILD` set).
#[test]
fn program() {
    if std::env::var_os("LONG_CHILD").is_some() {
        long_then_fails();
    }
}

/// Runs the program (with `ASYNCSIM_REPLAY=replay`): its stderr and its
/// "replay it" line.
fn run(replay: Option<&str>) -> (String, String) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "program", "--nocapture", "--test-threads=1"])
        .env("LONG_CHILD", "1")
        .env_remove("ASYNCSIM_SEED")
        .env_remove("ASYNCSIM_REPLAY");
    if let Some(replay) = replay {
        child.env("ASYNCSIM_REPLAY", replay);
    }
    let output = child.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "the program passed: {stderr}");
    let longest = stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(
        longest < TOKEN_PRINTED_CHARS_MAX,
        "a line of {longest} characters"
    );
    let line = stderr
        .lines()
        .skip_while(|line| !line.starts_with("replay it"))
        .nth(1)
        .unwrap_or_else(|| panic!("no replay line: {stderr}"))
        .to_string();
    (stderr, line)
}

#[test]
fn a_long_token_is_named_by_its_file_which_replays_it() {
    let (stderr, line) = run(None);
    let file = line
        .trim()
        .strip_prefix("ASYNCSIM_REPLAY=")
        .and_then(|rest| rest.split_once("    (the token is "))
        .map(|(file, _)| file.to_string())
        .unwrap_or_else(|| panic!("no token file in: {stderr}"));
    assert!(file.ends_with(".token"), "{line}");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(token.len() > TOKEN_PRINTED_CHARS_MAX, "{token}");
    assert!(token.parse::<asyncsim::Tape>().is_ok(), "{token:.100}");
    assert!(
        line.ends_with(&format!(
            "(the token is {} characters, too long to print: that file holds it)",
            token.len()
        )),
        "{line}"
    );
    // The file replays the run: the same failure, the same token.
    let (replayed, again) = run(Some(&file));
    assert!(replayed.contains("the end of a long run"), "{replayed}");
    assert_eq!(again, line);
}
