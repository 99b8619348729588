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
