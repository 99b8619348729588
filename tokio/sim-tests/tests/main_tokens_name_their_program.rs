//! A `#[tokio::main]` (or `block_on`) run's token names the program that
//! recorded it, as the harness's tokens name their test: replayed in
//! another program it is said to be another's, and a divergence there is
//! blamed on the token, not on a change to the program. Each program is a
//! test of this binary run as a child (libtest names the thread it runs on,
//! whose name the face takes for the program's).

use std::process::Command;

use asyncsim::Tape;

/// Two draws, then a failure: its token has deviations to diverge on.
#[tokio::main(flavor = "current_thread")]
async fn draws_then_fails() {
    let first = tokio::asyncsim::random_range(0..1000u32);
    let second = tokio::asyncsim::random_range(0..1000u32);
    panic!("drew {first} and {second}");
}

/// No draw at all.
#[tokio::main(flavor = "current_thread")]
async fn draws_nothing() {
    tokio::spawn(async {}).await.unwrap();
}

/// A program of its own when run as a child (`PROGRAM_CHILD` set).
#[test]
fn recorder() {
    if std::env::var_os("PROGRAM_CHILD").is_some() {
        draws_then_fails();
    }
}

/// Another program.
#[test]
fn other() {
    if std::env::var_os("PROGRAM_CHILD").is_some() {
        draws_nothing();
    }
}

/// Runs the child test `program` (with `ASYNCSIM_REPLAY=token`): its
/// stderr, and the token of its "replay it" line.
fn run(program: &str, token: Option<&str>) -> (String, String) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", program, "--nocapture", "--test-threads=1"])
        .env("PROGRAM_CHILD", "1")
        .env_remove("ASYNCSIM_SEED")
        .env_remove("ASYNCSIM_REPLAY");
    if let Some(token) = token {
        child.env("ASYNCSIM_REPLAY", token);
    }
    let output = child.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{program} passed: {stderr}");
    let line = stderr
        .lines()
        .skip_while(|line| !line.starts_with("replay it"))
        .nth(1)
        .unwrap_or_else(|| panic!("no replay line: {stderr}"));
    let token = line
        .trim()
        .strip_prefix("ASYNCSIM_REPLAY=")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    (stderr, token)
}

#[test]
fn a_token_names_its_program_and_another_program_says_so() {
    let (recorded, token) = run("recorder", None);
    let tape: Tape = token
        .parse()
        .unwrap_or_else(|error| panic!("{error}: {recorded}"));
    assert!(tape.deviations() > 0, "{recorded}");
    assert_eq!(tape.origin(), Some(Tape::origin_for("recorder")), "{token}");

    // In another program: said before the run, and its divergence blamed on
    // the token.
    let (elsewhere, _) = run("other", Some(&token));
    let note = format!(
        "asyncsim: `other`: the replay token was recorded by another program (origin {:08x}; \
         this one's is {:08x}): running it anyway",
        Tape::origin_for("recorder"),
        Tape::origin_for("other")
    );
    assert!(elsewhere.lines().any(|line| line == note), "{elsewhere}");
    let failure = elsewhere
        .lines()
        .find(|line| line.starts_with("the simulated run failed"))
        .unwrap_or_else(|| panic!("{elsewhere}"));
    assert!(failure.contains("tape divergence at draw "), "{failure}");
    assert!(
        failure.contains("the token was recorded by another program"),
        "{failure}"
    );
    assert!(!failure.contains("the program changed"), "{failure}");

    // In its own program: no note, the same failure.
    let (home, again) = run("recorder", Some(&token));
    assert!(!home.contains("another program"), "{home}");
    assert!(home.contains("drew "), "{home}");
    assert_eq!(again, token);
}
