//! A program's `#[tokio::main]` that fails says the program ran simulated,
//! and how to get the real one: `cargo test` builds the package's binaries
//! with the dev-dependency's `simulation` on and leaves them in
//! `target/debug/`, where a user runs the server they just tested and sees
//! it fail at once (a listener nobody connects to is a deadlock here). A
//! test's run (libtest names its thread after the test) does not say it.

/// A server as a user's `main` starts it: nobody connects in a simulated
/// run, so it deadlocks.
#[tokio::main]
async fn serve_forever() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:7878")
        .await
        .unwrap();
    let _ = listener.accept().await;
}

/// The failure message of `serve_forever` on a thread called `name` (a
/// program's own main thread is called `main`).
fn failure_on_a_thread_called(name: &str) -> String {
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(serve_forever)
        .unwrap();
    let payload = thread.join().expect_err("the run deadlocks");
    payload
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted panic message")
}

#[test]
fn a_programs_failure_says_it_ran_simulated_and_how_to_run_the_real_one() {
    let message = failure_on_a_thread_called("main");
    assert!(message.contains("deadlock"), "{message}");
    assert!(
        message.contains("note: this program ran simulated"),
        "{message}"
    );
    assert!(message.contains("`cargo test`"), "{message}");
    assert!(message.contains("`cargo run`"), "{message}");
    // A test that runs the binary (assert_cmd) gets the simulated one too.
    assert!(message.contains("CARGO_BIN_EXE_<name>"), "{message}");
    assert!(
        message.contains("cargo test -p <that package>"),
        "{message}"
    );
}

#[test]
fn a_tests_failure_does_not() {
    let message = failure_on_a_thread_called("a_test_of_the_server");
    assert!(message.contains("deadlock"), "{message}");
    assert!(!message.contains("ran simulated"), "{message}");
}

/// A program that succeeds: its simulated output looks real.
#[tokio::main]
async fn prints_its_address() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:7878")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    println!("listening on {}", listener.local_addr().unwrap());
}

/// Run as a child (`PROGRAM_CHILD` set): `prints_its_address` on a thread
/// called `main`, as a program's own.
#[test]
fn succeeding_program() {
    if std::env::var_os("PROGRAM_CHILD").is_some() {
        std::thread::Builder::new()
            .name("main".to_string())
            .spawn(prints_its_address)
            .unwrap()
            .join()
            .unwrap();
    }
}

#[test]
fn a_programs_success_says_on_stderr_that_it_ran_simulated() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "succeeding_program", "--nocapture"])
        .env("PROGRAM_CHILD", "1")
        .env_remove("ASYNCSIM_SEED")
        .env_remove("ASYNCSIM_REPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("listening on 10.0.0.1:7878"), "{stdout}");
    let program = std::env::current_exe().unwrap();
    let program = program.file_stem().unwrap().to_str().unwrap();
    let line = format!(
        "asyncsim: `{program}` ran simulated (one run, seed 0, 1.5s of virtual time): it was built \
         with asyncsim-tokio's `simulation` feature, as `cargo test` builds a package's binaries; \
         for the real program use `cargo run`, or `cargo build` before running \
         target/debug/{program}"
    );
    assert!(stderr.lines().any(|said| said == line), "{stderr}");
}

#[test]
fn a_tests_success_says_nothing() {
    // On a thread named after the test, as libtest runs it: no line (the
    // test's own report is the harness's).
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_test_thread_succeeds", "--nocapture"])
        .env("PROGRAM_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("ran simulated"), "{stderr}");
}

#[test]
fn a_test_thread_succeeds() {
    if std::env::var_os("PROGRAM_CHILD").is_some() {
        prints_its_address();
    }
}
