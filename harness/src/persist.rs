//! Failure persistence: failing tokens saved beside the test, replayed first
//! on the next run (like proptest's regressions files).
//!
//! The file is `<dir>/<test name>.txt`, one token a line; `#` starts a
//! comment. `<dir>` is `$CARGO_MANIFEST_DIR/asyncsim-regressions` unless
//! `Explore::regressions_dir` says otherwise. Commit it: it is how a failure
//! found once stays tested.

use std::io::Write;
use std::path::{Path, PathBuf};

use asyncsim_sim::trace::{Event, EventKind};
use asyncsim_sim::{Tape, Trace};

/// A file name for a test: its path with `::` turned into `__` and anything
/// outside `[A-Za-z0-9_-]` into `_`.
pub(crate) fn file_stem(test_name: &str) -> String {
    test_name
        .replace("::", "__")
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || character == '_' || character == '-' {
                character
            } else {
                '_'
            }
        })
        .collect()
}

/// The regressions file of a test, or None when there is nowhere to put it.
pub(crate) fn regressions_path(directory: Option<&Path>, test_name: &str) -> Option<PathBuf> {
    let directory = match directory {
        Some(directory) => directory.to_path_buf(),
        None => PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR")?).join("asyncsim-regressions"),
    };
    Some(directory.join(format!("{}.txt", file_stem(test_name))))
}

/// The saved tokens, in file order. A missing file has none. A file that
/// cannot be read, and lines that are not tokens (or not UTF-8), are
/// reported on stderr and skipped: a damaged file must not hide the test,
/// nor one bad line the other saved schedules.
pub(crate) fn load(path: &Path) -> Vec<Tape> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            eprintln!(
                "asyncsim: could not read the regressions file {}: {error}; its saved schedules were not replayed",
                path.display()
            );
            return Vec::new();
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut tapes = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let token = line.split('#').next().unwrap_or_default().trim();
        if token.is_empty() {
            continue;
        }
        match token.parse::<Tape>() {
            Ok(tape) => tapes.push(tape),
            Err(error) => eprintln!(
                "asyncsim: {}:{}: skipping a saved token: {error}",
                path.display(),
                number + 1
            ),
        }
    }
    tapes
}

/// The longest token a replay line prints: about 25 lines of a terminal,
/// what a person still selects and pastes. A run that ends at a limit
/// makes a far longer one (93 KB at the hour's time limit, 2.6 MB for a
/// million steps), which no one pastes, and which above 128 KiB no shell
/// can even pass in one variable (Linux's `MAX_ARG_STRLEN`): such a token
/// is written to a file ([`write_token_file`]), and
/// `ASYNCSIM_REPLAY=<that file>` replays it.
pub(crate) const TOKEN_PRINTED_CHARS_MAX: usize = 2_000;

/// Appends a token (with a comment) unless it is already saved.
///
/// A token too long to print ([`TOKEN_PRINTED_CHARS_MAX`]: a run that
/// ended at a limit makes one of up to megabytes) is still saved whole: the
/// file is committed so the failure stays tested on every checkout and CI
/// machine, and a token file under `target/` is on none of them. Its
/// comment goes on a line of its own before it, with its length, so a person
/// reading the file, or a diff of it, reads what failed first, not the token.
///
/// The line (with the header, for a new file) goes out in one `write` to a
/// file opened for appending, so tests that save to the same file at the
/// same time (two test binaries with a test of the same name, run in
/// parallel by nextest) do not interleave their lines.
pub(crate) fn append(path: &Path, tape: &Tape, comment: &str) -> std::io::Result<()> {
    if load(path).iter().any(|saved| saved == tape) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    if file.metadata()?.len() == 0 {
        text.push_str(
            "# asyncsim regressions: failing schedules, replayed first on every run. Commit this file.\n",
        );
    }
    let comment = comment.replace(['\n', '\r'], " ");
    let token = tape.to_string();
    if token.len() > TOKEN_PRINTED_CHARS_MAX {
        text.push_str(&format!(
            "# {comment} (the next line's token, {} characters)\n{token}\n",
            token.len()
        ));
    } else {
        text.push_str(&format!("{token} # {comment}\n"));
    }
    file.write_all(text.as_bytes())
}

/// Where a failing run's trace is written: `<target>/asyncsim/`.
pub(crate) fn trace_directory() -> PathBuf {
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("asyncsim");
    }
    if let Ok(executable) = std::env::current_exe() {
        if let Some(target) = executable
            .ancestors()
            .find(|directory| directory.file_name().is_some_and(|name| name == "target"))
        {
            return target.join("asyncsim");
        }
    }
    std::env::temp_dir().join("asyncsim")
}

/// The self-contained HTML timeline written beside a trace file:
/// `name-1234abcd.trace.json` → `name-1234abcd.html`.
pub(crate) fn timeline_page_path(trace_file: &Path) -> PathBuf {
    let name = trace_file
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let stem = name.strip_suffix(".trace.json").unwrap_or(name);
    trace_file.with_file_name(format!("{stem}.html"))
}

/// The most events a failure's trace file (and the page beside it) holds:
/// the first half and the last half of a longer trace's. A run that ends at
/// a limit records a million events (the step limit's million polls, or an
/// hour of an `interval`'s ticks), which made a 95 MB trace file and a
/// 115 MB page per failure, written again at each replay of its saved
/// regression; 50,000 events are some 5 MB of file and 6 MB of page, which
/// a browser still opens, and the start and the end of the run are where
/// its story is.
pub(crate) const TRACE_FILE_EVENTS_MAX: usize = 50_000;

/// The trace a failure's files hold: `trace` itself, or, when it recorded
/// more than [`TRACE_FILE_EVENTS_MAX`] events, its first and last halves
/// with a mark between them that says how many events were left out
/// there, so every view of the file (`asyncsim-trace view`, the page's
/// list and timeline) shows the cut where it is.
pub(crate) fn trace_for_file(trace: &Trace) -> std::borrow::Cow<'_, Trace> {
    let events = trace.events();
    if events.len() <= TRACE_FILE_EVENTS_MAX {
        return std::borrow::Cow::Borrowed(trace);
    }
    let half = TRACE_FILE_EVENTS_MAX / 2;
    let left_out = events.len() - 2 * half;
    let first_left_out = events[half];
    let mut labels = trace.labels().to_vec();
    labels.push(format!(
        "asyncsim: {left_out} events left out here (steps {} to {}): a trace file keeps the first and the last {half} of a run's events",
        first_left_out.step,
        events[events.len() - half - 1].step,
    ));
    let mut kept = Vec::with_capacity(2 * half + 1);
    kept.extend_from_slice(&events[..half]);
    kept.push(Event {
        step: first_left_out.step,
        time_ns: first_left_out.time_ns,
        task: None,
        kind: EventKind::Mark {
            label: (labels.len() - 1) as u32,
        },
    });
    kept.extend_from_slice(&events[events.len() - half..]);
    std::borrow::Cow::Owned(Trace::from_parts(kept, trace.tasks().to_vec(), labels))
}

/// Writes the trace of a failing run under `target/asyncsim/`, in the trace
/// file format (`asyncsim-trace` views, converts and diffs it), at most
/// [`TRACE_FILE_EVENTS_MAX`] events of it ([`trace_for_file`]).
pub(crate) fn write_trace_file(test_name: &str, tape: &Tape, trace: &Trace) -> Option<PathBuf> {
    let directory = trace_directory();
    let checksum = tape
        .to_string()
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let path = directory.join(format!("{}-{checksum}.trace.json", file_stem(test_name)));
    // Beside it, the timeline as a self-contained page: a browser shows it
    // with nothing to install.
    let page = timeline_page_path(&path);
    let trace = trace_for_file(trace);
    let written = std::fs::create_dir_all(&directory)
        .and_then(|()| crate::trace_file::save(&trace, &path))
        .and_then(|()| std::fs::write(&page, crate::render::html(&trace)));
    match written {
        Ok(()) => Some(path),
        Err(error) => {
            eprintln!("asyncsim: could not write {}: {error}", path.display());
            None
        }
    }
}

/// Writes a token too long to print ([`TOKEN_PRINTED_CHARS_MAX`]) to
/// `target/asyncsim/<test>-<checksum>.token`, the file a replay line names
/// (`ASYNCSIM_REPLAY=<file>` reads it), and returns that file; None, said
/// on stderr, when it cannot be written (the line then prints the token).
pub(crate) fn write_token_file(test_name: &str, token: &str) -> Option<PathBuf> {
    let directory = trace_directory();
    let checksum = token.rsplit('.').next().unwrap_or_default();
    let path = directory.join(format!("{}-{checksum}.token", file_stem(test_name)));
    // Written beside it and renamed into place: two tests (or test
    // binaries) that make the same token write the same file, and a reader
    // never sees it half written.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let partial = path.with_extension(format!(
        "token.{}-{}.partial",
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = std::fs::create_dir_all(&directory)
        .and_then(|()| std::fs::write(&partial, format!("{token}\n")))
        .and_then(|()| std::fs::rename(&partial, &path));
    match written {
        Ok(()) => Some(path),
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            eprintln!("asyncsim: could not write {}: {error}", path.display());
            None
        }
    }
}

/// The token `ASYNCSIM_REPLAY` names: the variable's value itself, or,
/// when that is no token but a file's path, the token that file holds (a
/// replay line names the file of a token too long to print).
pub fn replay_token(value: &str) -> Result<Tape, String> {
    let error = match value.parse::<Tape>() {
        Ok(tape) => return Ok(tape),
        Err(error) => error,
    };
    let path = Path::new(value);
    if !path.is_file() {
        return Err(error.to_string());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|read| format!("could not read the token file {}: {read}", path.display()))?;
    text.trim()
        .parse::<Tape>()
        .map_err(|error| format!("the file {} holds no replay token: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stem_is_a_plain_file_name() {
        assert_eq!(file_stem("tests::lost_update"), "tests__lost_update");
        assert_eq!(file_stem("a b/c"), "a_b_c");
    }

    #[test]
    fn append_then_load_round_trips_and_skips_duplicates() {
        let directory =
            std::env::temp_dir().join(format!("asyncsim-persist-test-{}", std::process::id()));
        let path = directory.join("t.txt");
        let _ = std::fs::remove_file(&path);
        let tape = Tape::from_draws(vec![asyncsim_sim::Draw {
            label: asyncsim_sim::DrawLabel::Schedule,
            bound: 3,
            value: 2,
        }]);
        append(&path, &tape, "first").unwrap();
        append(&path, &tape, "again").unwrap();
        assert_eq!(load(&path), vec![tape]);
        let _ = std::fs::remove_dir_all(&directory);
    }

    #[test]
    fn appends_from_many_threads_keep_every_line_whole() {
        let directory = std::env::temp_dir().join(format!(
            "asyncsim-persist-concurrent-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&directory);
        let path = directory.join("shared.txt");
        std::thread::scope(|scope| {
            for thread in 0..8u64 {
                let path = &path;
                scope.spawn(move || {
                    for value in 1..=40u64 {
                        let draws = (0..20)
                            .map(|_| asyncsim_sim::Draw {
                                label: asyncsim_sim::DrawLabel::Schedule,
                                bound: 0,
                                value: thread * 1000 + value,
                            })
                            .collect();
                        append(path, &Tape::from_draws(draws), "a comment").unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
        assert_eq!(lines.len(), 8 * 40, "{text}");
        assert_eq!(load(&path).len(), 8 * 40, "{text}");
        let _ = std::fs::remove_dir_all(&directory);
    }
}
