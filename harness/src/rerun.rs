//! How a failure is run again: the command lines a report prints
//! (`ASYNCSIM_REPLAY=<token> cargo test <name>`, the seed's line), the
//! command that reruns a test (also the hang watchdog's), and a token's
//! origin: which test recorded it, and the words for a token another test
//! recorded.

use asyncsim_sim::{Failure, FailureKind, Tape};

use crate::persist::TOKEN_PRINTED_CHARS_MAX;

/// A replay token as a report shows it, the one place
/// [`TOKEN_PRINTED_CHARS_MAX`] is applied to a token in words: the token
/// itself, or, when longer, the file it was written to
/// (`target/asyncsim/<test>-<checksum>.token`, by
/// `persist::write_token_file`), which `ASYNCSIM_REPLAY` takes as it takes a
/// token, so `ASYNCSIM_REPLAY={shown}` replays it either way. Writing is
/// idempotent (the file is named by the token's checksum and renamed into
/// place), so a `Display` that shows a long token may write it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShownToken {
    /// Short enough to print (or a long one that could not be written: then
    /// printed whole, the only way back).
    Whole(String),
    /// Too long to print: written to `path`.
    InFile {
        /// The file that holds the token.
        path: std::path::PathBuf,
        /// The token's length.
        characters: usize,
    },
}

impl ShownToken {
    /// `token` as a report shows it; `test_name` names its file.
    pub fn new(test_name: &str, token: String) -> ShownToken {
        if token.len() <= TOKEN_PRINTED_CHARS_MAX {
            return ShownToken::Whole(token);
        }
        match crate::persist::write_token_file(test_name, &token) {
            Some(path) => ShownToken::InFile {
                path,
                characters: token.len(),
            },
            None => ShownToken::Whole(token),
        }
    }

    /// [`ShownToken::new`] named after the test running now (libtest names
    /// its thread after it), for a value shown with no test at hand (a
    /// `Witness`, a `Schedule`).
    pub fn here(token: String) -> ShownToken {
        let thread = std::thread::current();
        let name = match thread.name() {
            Some(name) if name != "main" => name,
            _ => "asyncsim",
        };
        ShownToken::new(name, token)
    }

    /// The file that holds a token too long to print.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            ShownToken::Whole(_) => None,
            ShownToken::InFile { path, .. } => Some(path),
        }
    }

    /// The token in words: `token <token>`, or `token in <file>`.
    pub fn words(&self) -> String {
        match self {
            ShownToken::Whole(token) => format!("token {token}"),
            ShownToken::InFile { path, .. } => format!("token in {}", path.display()),
        }
    }

    /// What follows a line that names the file: `    (the token is N
    /// characters, too long to print: that file holds it)`, or nothing.
    pub fn note(&self) -> String {
        match self {
            ShownToken::Whole(_) => String::new(),
            ShownToken::InFile { characters, .. } => format!(
                "    (the token is {characters} characters, too long to print: that file holds it)"
            ),
        }
    }
}

impl std::fmt::Display for ShownToken {
    /// The token, or the path of the file that holds it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShownToken::Whole(token) => f.write_str(token),
            ShownToken::InFile { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// Where a replay line finds a token too long to print
/// ([`TOKEN_PRINTED_CHARS_MAX`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum LongToken<'a> {
    /// Written to this file, which `ASYNCSIM_REPLAY=<file>` reads.
    InFile(&'a std::path::Path),
    /// Not written, since the seed line replays the same run exactly (a
    /// sampled run, before shrinking): the seed line alone is printed.
    SeedReplaysIt,
    /// Not written (writing failed): printed in full, the only way back.
    Printed,
}

/// The command lines that replay `tape` (and, for a sampled run, the seed
/// that found it), for the test program running now. A token longer than
/// [`TOKEN_PRINTED_CHARS_MAX`] is named as `long` says.
pub(crate) fn replay_lines(
    test_name: &str,
    tape: &Tape,
    long: LongToken<'_>,
    seed: Option<u64>,
    strategy: &str,
) -> String {
    let program = std::env::current_exe().ok();
    replay_lines_for(program.as_deref(), test_name, tape, long, seed, strategy)
}

/// [`replay_lines`] for the program at `program`.
fn replay_lines_for(
    program: Option<&std::path::Path>,
    test_name: &str,
    tape: &Tape,
    long: LongToken<'_>,
    seed: Option<u64>,
    strategy: &str,
) -> String {
    // The whole path libtest names the test by (`alpha::works`): its last
    // segment alone would also run every other module's `works`.
    let command = rerun_command(program, test_name);
    let token = tape.to_string();
    let characters = token.len();
    let (mut text, seed_note) = match long {
        _ if characters <= TOKEN_PRINTED_CHARS_MAX => {
            (format!("    ASYNCSIM_REPLAY={token} {command}"), String::new())
        }
        LongToken::InFile(path) => (
            format!(
                "    ASYNCSIM_REPLAY={} {command}    (the token is {characters} characters, too long to print: that file holds it)",
                path.display()
            ),
            String::new(),
        ),
        LongToken::SeedReplaysIt if seed.is_some() => (
            String::new(),
            format!("; its token is {characters} characters, too long to print, and the seed replays the same run"),
        ),
        LongToken::SeedReplaysIt | LongToken::Printed => {
            (format!("    ASYNCSIM_REPLAY={token} {command}"), String::new())
        }
    };
    if let Some(seed) = seed {
        // `mix` is the default: only another strategy needs naming.
        let strategy_prefix = if strategy == "mix" {
            String::new()
        } else {
            format!("ASYNCSIM_STRATEGY={strategy} ")
        };
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!(
            "    {strategy_prefix}ASYNCSIM_SEED={seed} {command}    (the run as found, before shrinking{seed_note})"
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
                LongToken::Printed,
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

    /// The tape of `draws` schedule draws of value 1 of 2.
    fn tape_of(draws: usize) -> Tape {
        Tape::from_draws(vec![
            asyncsim_sim::Draw {
                label: asyncsim_sim::DrawLabel::Schedule,
                bound: 2,
                value: 1,
            };
            draws
        ])
    }

    /// The longest tape whose token a line prints, and the next, one draw
    /// longer, whose token it does not.
    fn tapes_either_side_of_the_limit() -> (Tape, Tape) {
        let mut draws = 1;
        while tape_of(draws + 1).to_string().len() <= TOKEN_PRINTED_CHARS_MAX {
            draws += 1;
        }
        (tape_of(draws), tape_of(draws + 1))
    }

    #[test]
    fn a_token_up_to_the_limit_is_printed_and_a_longer_one_is_named_by_its_file() {
        use std::path::Path;
        let (short, long) = tapes_either_side_of_the_limit();
        assert!(short.to_string().len() <= TOKEN_PRINTED_CHARS_MAX);
        assert!(long.to_string().len() > TOKEN_PRINTED_CHARS_MAX);
        let file = Path::new("/home/you/kv/target/asyncsim/kv__search-0badf00d.token");
        let line = |tape: &Tape| {
            replay_lines_for(
                None,
                "kv::search",
                tape,
                LongToken::InFile(file),
                None,
                "exhaustive:2",
            )
        };
        assert_eq!(
            line(&short),
            format!("    ASYNCSIM_REPLAY={short} cargo test kv::search")
        );
        assert_eq!(
            line(&long),
            format!(
                "    ASYNCSIM_REPLAY={} cargo test kv::search    (the token is {} characters, too long to print: that file holds it)",
                file.display(),
                long.to_string().len()
            )
        );
    }

    #[test]
    fn a_sampled_runs_long_token_is_replaced_by_its_seed_line() {
        let (short, long) = tapes_either_side_of_the_limit();
        let line = |tape: &Tape| {
            replay_lines_for(
                None,
                "kv::search",
                tape,
                LongToken::SeedReplaysIt,
                Some(7),
                "pct:3",
            )
        };
        assert_eq!(
            line(&short),
            format!(
                "    ASYNCSIM_REPLAY={short} cargo test kv::search\n    ASYNCSIM_STRATEGY=pct:3 ASYNCSIM_SEED=7 cargo test kv::search    (the run as found, before shrinking)"
            )
        );
        assert_eq!(
            line(&long),
            format!(
                "    ASYNCSIM_STRATEGY=pct:3 ASYNCSIM_SEED=7 cargo test kv::search    (the run as found, before shrinking; its token is {} characters, too long to print, and the seed replays the same run)",
                long.to_string().len()
            )
        );
    }

    #[test]
    fn a_long_token_that_could_not_be_written_is_printed() {
        let (_, long) = tapes_either_side_of_the_limit();
        let text = replay_lines_for(None, "t", &long, LongToken::Printed, None, "mix");
        assert_eq!(text, format!("    ASYNCSIM_REPLAY={long} cargo test t"));
    }
}
