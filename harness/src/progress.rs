//! Progress lines on stderr during long explorations.
//!
//! A progress line must never split a line of the program's own output. The
//! harness cannot know where another writer's line stands, so it writes
//! progress only where no such line can be:
//!
//! - stderr and stdout are **different files** (stdout piped into a table,
//!   `2> progress.log`): each progress line is one write of a whole line on
//!   stderr, and stdout's lines are untouched whatever they hold;
//! - stderr is a **terminal** (also when stdout is the same terminal): a
//!   person is watching; Rust's stdout writes whole lines, so only a line a
//!   program flushed unfinished on purpose can be followed on screen by a
//!   progress line, and the screen is not a record;
//! - stderr is the **same file or pipe as stdout** and not a terminal
//!   (`> log 2>&1`, a CI log): no progress lines. What is written there is
//!   kept, and a table or a test's `test name ... ` written without its end
//!   yet would be split for good. The summary line each check prints at the
//!   end says what was covered.
//!
//! Lines go through `eprint!`, so a test's captured output captures them as
//! before (they show with `--nocapture`).

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress on stderr, by wall clock (reporting only; never a decision).
pub(crate) struct Progress {
    enabled: bool,
    every: Duration,
    start: Instant,
    state: Mutex<ProgressState>,
}

struct ProgressState {
    done: u64,
    distinct: HashSet<u64>,
    next_report: Duration,
}

impl Progress {
    pub(crate) fn new(enabled: bool, every: Duration) -> Progress {
        Progress {
            enabled: enabled && lines_fit(std::io::stderr().is_terminal(), shares_stdout()),
            every,
            start: Instant::now(),
            state: Mutex::new(ProgressState {
                done: 0,
                distinct: HashSet::new(),
                next_report: every,
            }),
        }
    }

    pub(crate) fn tick(&self, hash: u64, total: u64, name: &str) {
        if !self.enabled {
            return;
        }
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.done += 1;
        state.distinct.insert(hash);
        let elapsed = self.start.elapsed();
        if elapsed >= state.next_report {
            state.next_report = elapsed + self.every;
            let rate = state.done as f64 / elapsed.as_secs_f64().max(1e-9);
            // The whole line in one write: nothing else lands inside it.
            let line = format!(
                "asyncsim: `{name}`: {}/{total} runs, {rate:.0} runs/s, {} distinct schedules, {:.1} s\n",
                state.done,
                state.distinct.len(),
                elapsed.as_secs_f64()
            );
            eprint!("{line}");
        }
    }
}

/// Whether progress lines may be written, given whether stderr is a
/// terminal and whether it is the same file as stdout (`None`: unknown,
/// taken as the same). See the [module docs](self).
fn lines_fit(stderr_is_terminal: bool, same_as_stdout: Option<bool>) -> bool {
    stderr_is_terminal || same_as_stdout == Some(false)
}

/// Whether stdout and stderr are the same file, pipe or terminal (`None`
/// when that cannot be told: not a Unix system, or no `/dev/stdout`).
fn shares_stdout() -> Option<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let stdout = std::fs::metadata("/dev/stdout").ok()?;
        let stderr = std::fs::metadata("/dev/stderr").ok()?;
        Some(stdout.dev() == stderr.dev() && stdout.ino() == stderr.ino())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_to_a_terminal_or_a_file_of_their_own_only() {
        // A terminal: someone is watching.
        assert!(lines_fit(true, Some(true)));
        assert!(lines_fit(true, Some(false)));
        // A file or pipe of its own: stdout's lines cannot be split.
        assert!(lines_fit(false, Some(false)));
        // The same file as stdout (`> log 2>&1`), or unknown: never.
        assert!(!lines_fit(false, Some(true)));
        assert!(!lines_fit(false, None));
    }
}
