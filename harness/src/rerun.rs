//! How a failure is run again: the command lines a report prints
//! (`ASYNCSIM_REPLAY=<token> cargo test <name>`, the seed's line), the
//! command that reruns a test (also the hang watchdog's), and a token's
//! origin: which test recorded it, and the words for a token another test
//! recorded.

use asyncsim_sim::{Failure, FailureKind, Tape};

pub(crate) fn replay_lines(
    test_name: &str,
    tape: &Tape,
    seed: Option<u64>,
    strategy: &str,
) -> String {
    let program = std::env::current_exe().ok();
    replay_lines_for(program.as_deref(), test_name, tape, seed, strategy)
}

/// [`replay_lines`] for the program at `program`.
fn replay_lines_for(
    program: Option<&std::path::Path>,
    test_name: &str,
    tape: &Tape,
    seed: Option<u64>,
    strategy: &str,
) -> String {
    // The whole path libtest names the test by (`alpha::works`): its last
    // segment alone would also run every other module's `works`.
    let command = rerun_command(program, test_name);
    let mut text = format!("    ASYNCSIM_REPLAY={tape} {command}");
    if let Some(seed) = seed {
        // `mix` is the default: only another strategy needs naming.
        let strategy_prefix = if strategy == "mix" {
            String::new()
        } else {
            format!("ASYNCSIM_STRATEGY={strategy} ")
        };
        text.push_str(&format!(
            "\n    {strategy_prefix}ASYNCSIM_SEED={seed} {command}    (the run as found, before shrinking)"
        ));
    }
    text
}

/// The command that runs `test` again: `cargo test <test>`, or, in an
/// example's `main` run by `cargo run --example <name>` (a program of
/// `target/<profile>/examples/`, which libtest does not run), that command,
/// with `--release` when its profile is.
pub(crate) fn rerun_command(program: Option<&std::path::Path>, test: &str) -> String {
    let example = program.and_then(|program| {
        let folder = program.parent()?;
        if folder.file_name()? != "examples" {
            return None;
        }
        let name = program.file_stem()?.to_str()?;
        // A test build of an example (`cargo test --examples`) is
        // `<name>-<16 hex digits>`, run by libtest: `cargo test` names it.
        let hashed = name.rsplit_once('-').is_some_and(|(_, hash)| {
            hash.len() == 16 && hash.bytes().all(|byte| byte.is_ascii_hexdigit())
        });
        let release = folder.parent()?.file_name()? == "release";
        (!hashed).then(|| {
            format!(
                "cargo run{} --example {name}",
                if release { " --release" } else { "" }
            )
        })
    });
    example.unwrap_or_else(|| format!("cargo test {test}"))
}

/// What the replay line of a given token that diverged does: it reproduces
/// the divergence (the token as given, in this test), not a failure of the
/// test, and how to get a token that does.
pub(crate) fn divergence_replay_note(foreign: bool) -> &'static str {
    if foreign {
        "(the given token: it reproduces this tape divergence, not a failure of the test; \
         replay it in the test that recorded it, or re-run this test's exploration without \
         ASYNCSIM_REPLAY for a failing token of its own)"
    } else {
        "(the given token: it reproduces this tape divergence, not a failure of the test; \
         re-run the exploration without ASYNCSIM_REPLAY for a fresh failing token)"
    }
}

/// A tape divergence replaying a token another test recorded: its cause is
/// the token, not a change to the program, and the message says so in place
/// of the kernel's "the program changed" (the engine's `PROGRAM_CHANGED`).
pub(crate) fn blame_foreign_token(
    failure: &mut Failure,
    foreign_origin: Option<u32>,
    test_name: &str,
) {
    let Some(origin) = foreign_origin else {
        return;
    };
    if failure.kind != FailureKind::TapeDivergence {
        return;
    }
    if let Some(start) = failure.message.rfind(asyncsim_sim::PROGRAM_CHANGED) {
        let cause = format!(
            "the token was recorded by another test (origin {origin:08x}; this test's is {:08x}), \
             not this one: its draws are that test's (replay it in the test that recorded it; \
             this test's code may be unchanged)",
            origin_of(test_name)
        );
        failure
            .message
            .replace_range(start..start + asyncsim_sim::PROGRAM_CHANGED.len(), &cause);
    }
}

/// The origin a token names: a 32-bit FNV-1a hash of the test's name, so a
/// token replayed in another test is recognised as such (`Tape::origin_for`,
/// which the tokio face's `block_on` stamps its tokens with too).
pub(crate) fn origin_of(test_name: &str) -> u32 {
    Tape::origin_for(test_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_examples_replay_line_names_cargo_run_example() {
        use std::path::Path;
        let tape = Tape::default();
        let line = |program: &str| {
            replay_lines_for(
                Some(Path::new(program)),
                "kv::search",
                &tape,
                Some(3),
                "mix",
            )
        };
        assert_eq!(
            line("/home/you/kv/target/debug/examples/world_kv"),
            format!("    ASYNCSIM_REPLAY={tape} cargo run --example world_kv\n    ASYNCSIM_SEED=3 cargo run --example world_kv    (the run as found, before shrinking)")
        );
        assert!(line("/home/you/kv/target/release/examples/world_kv")
            .contains("cargo run --release --example world_kv\n"));
        // A test binary, or an example built as one, is libtest's.
        assert!(line("/home/you/kv/target/debug/deps/bank-0123456789abcdef")
            .contains("cargo test kv::search\n"));
        assert!(
            line("/home/you/kv/target/debug/examples/world_kv-0123456789abcdef")
                .contains("cargo test kv::search\n")
        );
    }
}
