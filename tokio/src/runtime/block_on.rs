//! `block_on`: one simulated run of a future, as a program's `main` or a
//! test's `Runtime::block_on` makes it: its schedule from the environment
//! (`ASYNCSIM_SEED`, `ASYNCSIM_REPLAY`), its tokens stamped with the
//! program's name, and what it says when it ends (a failure's report with
//! its replay line; on a program's own main thread, that the program ran
//! simulated).

use std::future::Future;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use super::{HeldBack, CURRENT};
use crate::explain::Explained;
use crate::handle::Handle;
use crate::registry;
use crate::task::Start;

/// One simulated run of `future` (see the module documentation).
#[track_caller]
pub(super) fn block_on<F: Future>(
    pool_size: Option<usize>,
    time_limit: Option<Duration>,
    handle: &Handle,
    future: F,
) -> F::Output {
    if asyncsim::task::current().is_some() {
        // tokio lets a `spawn_blocking` closure (a thread of its pool) call
        // `Handle::block_on`; here the closure is a pool job run on the
        // run's one thread, and the run waits for it to return.
        let in_pool_job = crate::task::in_pool_job();
        panic!(
            "Cannot start a runtime from within a runtime: block_on was called inside a simulated \
             run; await the future instead (or spawn it with tokio::spawn){}",
            if in_pool_job {
                ". Inside a spawn_blocking closure tokio allows Handle::block_on (its pool is \
                 threads of their own); a simulated run's pool job runs on the run's one thread, \
                 and the run waits for it to return, so no future can run inside it: do the async \
                 part in the task, before or after `spawn_blocking(..).await`, and hand the \
                 closure what it needs"
            } else {
                ""
            }
        );
    }
    // Its time limit is `#[tokio::main(time_limit = …)]`'s, else
    // `ASYNCSIM_TIME_LIMIT`'s, else the hour.
    let mut config = asyncsim::Config::new();
    if let Some(limit) = time_limit {
        config = config.time_limit(limit);
    }
    // The hang watchdog's line gives `ASYNCSIM_SEED=<seed> <this command>`.
    config.rerun_command = rerun_command();
    if let Some(pool_size) = pool_size {
        config = config.pool_size(pool_size);
    }
    // A given token that diverges is the replay line's token, as given: the
    // realised tape, cut where the run left it, replays a run that passes.
    let mut given = None;
    // Tokens name the program that recorded them, as the harness's name
    // their test: one recorded elsewhere is said to be so.
    let program = program_name();
    let origin = asyncsim::Tape::origin_for(&program);
    let mut foreign = None;
    config = match environment_schedule() {
        Ok(Some(strategy)) => {
            if let asyncsim::Strategy::Replay(tape) = &strategy {
                given = Some(tape.to_string());
                foreign = tape.origin().filter(|recorded| *recorded != origin);
            }
            config.strategy(strategy)
        }
        Ok(None) => config.seed(environment_seed()),
        Err(message) => panic!("{message}"),
    };
    let held_back: Vec<Start> = handle
        .held_back
        .and_then(registry::get::<HeldBack>)
        .map(|held_back| std::mem::take(&mut *held_back.borrow_mut()))
        .unwrap_or_default();
    // This runtime is `Handle::current()`'s for the run (restored after,
    // even when the run panics).
    struct Restore(Option<(NonZeroU64, Option<Arc<str>>)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| *current.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(CURRENT.with(|current| {
        current
            .borrow_mut()
            .replace((handle.id, handle.name.clone()))
    }));
    if let Some(recorded) = foreign {
        eprintln!(
            "asyncsim: `{program}`: the replay token was recorded by another program (origin \
             {recorded:08x}; this one's is {origin:08x}): running it anyway"
        );
    }
    let run = asyncsim::Sim::new(config).run(Explained::new(async move {
        for start in held_back {
            start();
        }
        future.await
    }));
    let elapsed_ns = run.elapsed_ns();
    match run.result {
        Ok(output) => {
            if std::thread::current().name() == Some("main") {
                // A program's own run that succeeded printed the simulated
                // world's output (`10.0.0.1:…`) as if real: say it was not.
                let how = match given {
                    Some(_) => "replaying the given token".to_string(),
                    None => format!("seed {}", environment_seed()),
                };
                eprintln!(
                    "asyncsim: `{program}` ran simulated (one run, {how}, {} of virtual time){}",
                    asyncsim::trace::format_ns(elapsed_ns),
                    simulated_program_hint(&program)
                );
            }
            output
        }
        Err(mut failure) => {
            // A divergence of another program's token is the token's doing,
            // not a change to this program.
            if let (Some(recorded), asyncsim::FailureKind::TapeDivergence) = (foreign, failure.kind)
            {
                if let Some(start) = failure.message.rfind(asyncsim::PROGRAM_CHANGED) {
                    failure.message.replace_range(
                        start..start + asyncsim::PROGRAM_CHANGED.len(),
                        &format!(
                            "the token was recorded by another program (origin {recorded:08x}; \
                             this one's, `{program}`, is {origin:08x}): its draws are that \
                             program's (replay it there; this program may be unchanged)"
                        ),
                    );
                }
            }
            let tail: Vec<String> = run.trace.to_string().lines().map(str::to_string).collect();
            let tail = tail[tail.len().saturating_sub(20)..].join("\n");
            let (token, what) = match given {
                Some(given) if failure.kind == asyncsim::FailureKind::TapeDivergence => (
                    given,
                    " (the given token: it reproduces this tape divergence, not a failure of the \
                     program; run without ASYNCSIM_REPLAY for a fresh failing token)",
                ),
                _ => {
                    let mut tape = run.tape;
                    tape.set_origin(Some(origin));
                    (tape.to_string(), "")
                }
            };
            // A token too long to print (a run that ends at a limit makes
            // one of megabytes) is written to a file, which the line names.
            let token = asyncsim::harness::__ShownToken::new(&program, token);
            panic!(
                "the simulated run failed: {failure}\n\nreplay it{what}:\n    ASYNCSIM_REPLAY={token}{}\n\nlast events (step, virtual time, task, event):\n{tail}{}",
                token.note(),
                if std::thread::current().name() == Some("main") {
                    SIMULATED_PROGRAM
                } else {
                    ""
                }
            )
        }
    }
}

/// Said under the failure of a run on a program's own main thread (not a
/// test's): a binary that `cargo test` built (for its integration tests) has
/// the dev-dependency's `simulation` on and is left in `target/debug/`, where
/// a user runs it expecting the real server and sees it fail at once (a
/// listener nobody connects to is a deadlock here).
const SIMULATED_PROGRAM: &str = "\n\nnote: this program ran simulated: it was built with asyncsim-tokio's \
    `simulation` feature, so `#[tokio::main]` (and `Runtime::block_on`) made one simulated run, on the simulated \
    network, disk and clock. `cargo test` turns a dev-dependency's features on for every target it builds, the \
    package's binaries included, and leaves them in target/: for the real program use `cargo run`, or \
    `cargo build` before running target/debug/<name>. A test that runs this binary \
    (`env!(\"CARGO_BIN_EXE_<name>\")`, assert_cmd) runs this simulated one too: give the binary a package of its \
    own without the `simulation` dev-dependency and test it with `cargo test -p <that package>` (README, the \
    tokio face).";

/// What the success line of a program's simulated run adds: for a binary
/// (which `cargo test` builds with `simulation` on and leaves in
/// `target/debug/`), how to run the real one; nothing for an example (cargo
/// builds every example with the dev-dependencies' features).
fn simulated_program_hint(program: &str) -> String {
    let example = std::env::current_exe()
        .ok()
        .and_then(|path| Some(path.parent()?.file_name()? == "examples"))
        .unwrap_or(false);
    if example {
        String::new()
    } else {
        format!(
            ": it was built with asyncsim-tokio's `simulation` feature, as `cargo test` builds a \
             package's binaries; for the real program use `cargo run`, or `cargo build` before \
             running target/debug/{program}"
        )
    }
}

/// The name a `block_on` run's tokens are stamped with (`Tape::origin_for`):
/// the test's in a test (libtest names its thread after it, as the harness
/// names its tokens), else the program's (its file's stem).
fn program_name() -> String {
    match std::thread::current().name() {
        Some(test) if test != "main" => test.to_string(),
        _ => std::env::current_exe()
            .ok()
            .and_then(|program| Some(program.file_stem()?.to_str()?.to_string()))
            .unwrap_or_else(|| "main".to_string()),
    }
}

/// The command that runs this `block_on` again, as the hang watchdog's line
/// gives it (`Config::rerun_command`'s number): `cargo test <test>` in a
/// test (libtest names its thread after it), else `cargo run --example
/// <name>` for an example and `cargo run --bin <name>` for a program. Made
/// once per thread.
fn rerun_command() -> u32 {
    thread_local! {
        static COMMAND: std::cell::OnceCell<u32> = const { std::cell::OnceCell::new() };
    }
    COMMAND.with(|command| {
        *command.get_or_init(|| {
            let text = match std::thread::current().name() {
                Some(test) if test != "main" => format!("cargo test {test}"),
                _ => {
                    let program = std::env::current_exe().ok();
                    let name = program
                        .as_deref()
                        .and_then(|program| program.file_stem()?.to_str().map(str::to_string));
                    let example = program
                        .as_deref()
                        .and_then(|program| program.parent()?.file_name())
                        .is_some_and(|folder| folder == "examples");
                    match name {
                        Some(name) if example => format!("cargo run --example {name}"),
                        Some(name) => format!("cargo run --bin {name}"),
                        None => "cargo run".to_string(),
                    }
                }
            };
            asyncsim::Config::new().rerun_command(&text).rerun_command
        })
    })
}

/// `ASYNCSIM_REPLAY=<token>`, or the file that holds one (a report names
/// the file of a token too long to print): replay exactly that run.
fn environment_schedule() -> Result<Option<asyncsim::Strategy>, String> {
    match std::env::var("ASYNCSIM_REPLAY") {
        Ok(token) if !token.trim().is_empty() => asyncsim::harness::__replay_token(token.trim())
            .map(|tape| Some(asyncsim::Strategy::Replay(tape)))
            .map_err(|error| format!("ASYNCSIM_REPLAY: {error}")),
        _ => Ok(None),
    }
}

/// `ASYNCSIM_SEED=<n>`, else 0.
fn environment_seed() -> u64 {
    std::env::var("ASYNCSIM_SEED")
        .ok()
        .and_then(|seed| seed.trim().parse().ok())
        .unwrap_or(0)
}
