//! A failing schedule, shrunk, and the report a person reads.

use std::fmt;
use std::path::PathBuf;

use asyncsim_sim::trace::Warning;
use asyncsim_sim::{Deviation, DrawLabel, EventKind, Failure, FailureKind, Tape, Trace};

use crate::rerun::{divergence_replay_note, origin_of, replay_lines, LongToken};
use crate::run_to_completion::describe_run_to_completion;
use crate::schedule_text::{describe_diverged, describe_schedule, divergence_in, OrderWords};

/// Where a counterexample came from, which decides how to replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A sampled run: `ASYNCSIM_SEED=<seed>` reproduces it before shrinking.
    Seed,
    /// Exhaustive enumeration: only the token reproduces it.
    Exhaustive,
    /// A sampled exploration's first run, asyncio's own order (FIFO: every
    /// draw 0), which runs before any seed: the token reproduces it, and it
    /// is already the simplest schedule.
    Fifo,
    /// A replayed token (`ASYNCSIM_REPLAY` or `Explore::replay`).
    Replay,
    /// A token from the regressions file.
    Regression,
}

/// What became of a counterexample's schedule between being found and being
/// reported: shrunk, or why not. The report's schedule heading says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shrinking {
    /// Shrunk: [`Counterexample::shrink_runs`] runs looked for a simpler
    /// schedule that fails the same way.
    Shrunk,
    /// Shrunk until its budget was spent: the failure reached a limit (the
    /// step or the virtual-time limit), so each run is as long as the limit
    /// allows, and a shrink spends at most a million polls on such runs;
    /// the schedule may shrink further (`ASYNCSIM_REPLAY` it with a lower
    /// limit, or fix what never stops).
    StoppedAtLimitBudget,
    /// No deviation from FIFO: already the simplest schedule, nothing to
    /// shrink.
    AlreadySimplest,
    /// Shrinking was turned off (`Explore::shrink(false)`, or
    /// `shrink_runs(0)`).
    Off,
    /// A given token (`ASYNCSIM_REPLAY`, `Explore::replay`): replayed as
    /// given, never shrunk.
    GivenToken,
    /// The schedule failed once and passed when run again (the body is not
    /// deterministic): no failure to keep while shrinking.
    NotReproduced,
}

/// A failing schedule: what failed, how to replay it, and the shrunk
/// schedule. `Display` renders the full failure report (what `check`
/// panics with).
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// 0-based: how many schedules ran before it.
    pub run_index: u64,
    /// The seed of the failing run (0 when it came from a tape).
    pub seed: u64,
    /// How the failure was found.
    pub origin: Origin,
    /// The one-run failure: its kind and message (from the shrunk run).
    pub failure: Failure,
    /// The shrunk schedule; `tape.to_string()` is the replay token. For a
    /// given token that diverged, that token as given: it reproduces the
    /// divergence in this test.
    pub tape: Tape,
    /// Nonzero draws left after shrinking.
    pub deviations: usize,
    /// The full trace of the shrunk run.
    pub trace: Trace,
    /// The schedule as first found, before shrinking.
    pub original_tape: Tape,
    /// Nonzero draws before shrinking.
    pub original_deviations: usize,
    /// Runs the shrink made.
    pub shrink_runs: u64,
    /// Whether the schedule was shrunk, or why not.
    pub shrinking: Shrinking,
    /// The shrunk run's non-FIFO decisions, with the tasks involved: what
    /// the report's "FIFO except" lines say. (Was `schedule`, a name that
    /// promised a schedule and held its deviations.)
    pub deviation_details: Vec<Deviation>,
    /// The shrunk run's departures from *run-to-completion* order
    /// (`Run::preemptions`: the task that ran last keeps running while it
    /// is runnable). When they are few against its deviations from FIFO
    /// ([`reads_as_run_to_completion`](Self::reads_as_run_to_completion)),
    /// the report reads the schedule this way ("`A` ran to completion
    /// before `B` was scheduled").
    pub preemptions: Vec<Deviation>,
    /// The strategy the exploration used (`random`, `pct:3`, `exhaustive:2`).
    pub strategy: String,
    /// The test's name (for the replay command line).
    pub test_name: String,
    /// Where the trace was written (`target/asyncsim/…`), if it was.
    pub trace_file: Option<PathBuf>,
    /// Where the replay token was written when it is too long to print (over
    /// 2,000 characters: a run that ends at a limit makes one of megabytes),
    /// which the report's replay line names: `ASYNCSIM_REPLAY=<that file>`
    /// replays it. None for a token the report prints.
    pub token_file: Option<PathBuf>,
    /// False when the schedule failed once and passed when run again (the
    /// body is not deterministic): then the token does not reproduce the
    /// failure, and `check` never saves it to a regressions file.
    pub reproduced: bool,
    /// When the replayed token was recorded by another test: the origin it
    /// names (a hash of that test's name; this test's differs).
    pub foreign_origin: Option<u32>,
    /// The words the report gives FIFO in: asyncio's, or tokio's for a
    /// `#[tokio::test]`.
    pub(crate) order_words: OrderWords,
    /// How many times the body ran for this report, and what for: its last
    /// line says so, since whatever the body prints repeats as often.
    pub(crate) body_runs: BodyRuns,
}

/// The runs of the body an exploration made up to its report, by purpose:
/// a test whose body prints sees its output that many times (a failing
/// `runs = 1` test's some seven), and the report's last line says why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyRuns {
    /// PCT's FIFO run that estimates a run's length.
    pub(crate) estimate: u64,
    /// The determinism check's two runs of one schedule.
    pub(crate) determinism: u64,
    /// Saved regressions replayed.
    pub(crate) regressions: u64,
    /// The exploration's runs, up to the failing one for `check`.
    pub(crate) exploring: u64,
    /// The failing schedule run again in full, with its trace.
    pub(crate) rerun: u64,
    /// The shrink's runs.
    pub(crate) shrinking: u64,
    /// The reported schedule replayed strictly, for the report's trace, and
    /// once more to name what blocked tasks wait on, when it did.
    pub(crate) replays: u64,
}

impl fmt::Display for BodyRuns {
    /// `the body ran 7 times for this report (…), so what it prints shows
    /// that often`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let purposes = [
            (self.estimate, "to estimate a run's length for PCT"),
            (self.determinism, "to check that it is deterministic"),
            (self.regressions, "replaying saved regressions"),
            (self.exploring, "exploring"),
            (self.rerun, "re-running the failing schedule in full"),
            (self.shrinking, "shrinking"),
            (self.replays, "replaying the reported schedule"),
        ];
        let total: u64 = purposes.iter().map(|(runs, _)| runs).sum();
        let parts: Vec<String> = purposes
            .into_iter()
            .filter(|(runs, _)| *runs > 0)
            .map(|(runs, what)| format!("{runs} {what}"))
            .collect();
        write!(
            f,
            "the body ran {total} time(s) for this report ({}), so whatever it prints shows that often",
            parts.join(", ")
        )
    }
}

impl Counterexample {
    /// The replay token of the shrunk schedule.
    pub fn token(&self) -> String {
        self.tape.to_string()
    }

    /// The shrunk schedule in words, in its shorter reading: "FIFO except:
    /// at step 7 ran `writer` instead of `reader`", one line for each of the
    /// tape's deviations (scheduling, timers, pool, start orders, random
    /// values), so the lines count [`deviations`](Self::deviations); or,
    /// when that is much shorter
    /// ([`reads_as_run_to_completion`](Self::reads_as_run_to_completion)),
    /// as run-to-completion order with its
    /// preemptions ([`preemptions`](Self::preemptions)) and the other
    /// draws' lines, followed by what the order amounted to: "`A` ran to
    /// completion (steps 3–91, 45 polls) before `B` was scheduled".
    pub fn schedule_text(&self) -> String {
        if let Some((at, what)) = self.divergence() {
            return describe_diverged(&self.tape, at, what, &self.deviation_details, &self.trace);
        }
        if self.reads_as_run_to_completion() {
            return describe_run_to_completion(
                &self.tape,
                &self.preemptions,
                &self.deviation_details,
                &self.trace,
            );
        }
        describe_schedule(
            &self.tape,
            &self.deviation_details,
            &self.trace,
            self.order_words,
        )
    }

    /// True when the schedule reads shorter as run-to-completion order with
    /// exceptions than as asyncio's order with exceptions: when twice its
    /// preemptions, its other nonzero draws and one are fewer than its
    /// deviations from FIFO (asyncio's order is the baseline; the other
    /// reading has to pay for itself). The shrinker minimises the same
    /// measure.
    pub fn reads_as_run_to_completion(&self) -> bool {
        let other = self
            .tape
            .iter()
            .filter(|draw| draw.value != 0 && draw.label != DrawLabel::Schedule)
            .count();
        crate::shrink::run_to_completion_cost(self.preemptions.len(), other)
            < self.tape.deviations()
    }

    /// For a given token the run diverged from: the draw where it did, and
    /// what happened there.
    fn divergence(&self) -> Option<(usize, &str)> {
        if self.origin != Origin::Replay || self.failure.kind != FailureKind::TapeDivergence {
            return None;
        }
        divergence_in(&self.failure.message)
    }

    /// The report's line above the schedule: whether it was shrunk (the
    /// deviations before and after, and the runs it took) or why not, and
    /// how the schedule reads.
    pub fn schedule_heading(&self) -> String {
        let completion = self.reads_as_run_to_completion();
        let not_shrunk = match self.shrinking {
            Shrinking::Shrunk if completion => {
                return format!(
                    "schedule (shrunk: deviations from FIFO {} → {}, read as run to completion with {} preemption(s), in {} runs):",
                    self.original_deviations,
                    self.deviations,
                    self.preemptions.len(),
                    self.shrink_runs
                );
            }
            Shrinking::Shrunk => {
                return format!(
                    "schedule (shrunk: deviations {} → {} in {} runs):",
                    self.original_deviations, self.deviations, self.shrink_runs
                );
            }
            Shrinking::StoppedAtLimitBudget => {
                return format!(
                    "schedule (shrunk: deviations {} → {} in {} runs, then stopped: each run reaches a limit, and shrinking spends at most {} polls on such runs):",
                    self.original_deviations,
                    self.deviations,
                    self.shrink_runs,
                    crate::shrink::LIMIT_SHRINK_POLLS_MAX
                );
            }
            Shrinking::AlreadySimplest => {
                return "schedule (already the simplest schedule: no deviation from FIFO):"
                    .to_string();
            }
            Shrinking::Off => "shrinking is off",
            Shrinking::GivenToken => "replayed as given",
            Shrinking::NotReproduced => "it passed when run again, the body is not deterministic",
        };
        if let Some((at, _)) = self.divergence() {
            format!(
                "schedule (not shrunk: {not_shrunk}; deviations {}; the run diverged from it at draw {at}):",
                self.deviations
            )
        } else if completion {
            format!(
                "schedule (not shrunk: {not_shrunk}; deviations from FIFO {}, read as run to completion with {} preemption(s)):",
                self.deviations,
                self.preemptions.len()
            )
        } else {
            format!(
                "schedule (not shrunk: {not_shrunk}; deviations {}):",
                self.deviations
            )
        }
    }

    /// The command lines that replay this failure.
    pub fn replay_lines(&self) -> String {
        replay_lines(
            &self.test_name,
            &self.tape,
            self.token_file
                .as_deref()
                .map_or(LongToken::Printed, LongToken::InFile),
            (self.origin == Origin::Seed).then_some(self.seed),
            &self.strategy,
        )
    }
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = match self.origin {
            Origin::Seed => {
                // Under `mix` each seed runs one strategy: name it.
                let this_seed = match self.strategy.parse::<asyncsim_sim::Strategy>() {
                    Ok(asyncsim_sim::Strategy::Mix) => {
                        format!(
                            ", which ran {}",
                            asyncsim_sim::Strategy::Mix.for_seed(self.seed)
                        )
                    }
                    _ => String::new(),
                };
                format!(
                    "after {} schedule(s) (strategy {}, seed {}{this_seed})",
                    self.run_index + 1,
                    self.strategy,
                    self.seed
                )
            }
            Origin::Exhaustive => format!(
                "after {} schedule(s) (strategy {})",
                self.run_index + 1,
                self.strategy
            ),
            Origin::Fifo => format!(
                "after {} schedule(s) (strategy {}; {FIRST_RUN_IS_FIFO})",
                self.run_index + 1,
                self.strategy
            ),
            Origin::Replay => match self.foreign_origin {
                Some(origin) => format!(
                    "replaying the given token, which another test recorded (origin {origin:08x}; \
                     this test's is {:08x}): a failure here may only mean the token is not this test's",
                    origin_of(&self.test_name)
                ),
                None => "replaying the given token".to_string(),
            },
            Origin::Regression => "replaying a saved regression".to_string(),
        };
        writeln!(f, "asyncsim: `{}` failed {found}", self.test_name)?;
        writeln!(f)?;
        writeln!(f, "{}", headline(&self.failure))?;
        writeln!(f)?;
        if self.origin == Origin::Replay && self.failure.kind == FailureKind::TapeDivergence {
            writeln!(
                f,
                "replay it {}:",
                divergence_replay_note(self.foreign_origin.is_some())
            )?;
        } else {
            writeln!(f, "replay it:")?;
        }
        writeln!(f, "{}", self.replay_lines())?;
        writeln!(f)?;
        writeln!(f, "{}", self.schedule_heading())?;
        for line in self.schedule_text().lines() {
            writeln!(f, "  {line}")?;
        }
        if !self.failure.blocked.is_empty() {
            writeln!(f)?;
            writeln!(f, "blocked tasks:")?;
            write!(f, "{}", self.failure.blocked_report())?;
        }
        writeln!(f)?;
        // A cut trace kept its last events past the cap: the run's end.
        let past_cap = self.trace.tail_past_cap();
        let kept = past_cap.lines().count();
        writeln!(
            f,
            "{}",
            last_events_heading(&self.trace, &self.failure, kept)
        )?;
        if kept == 0 {
            write!(f, "{}", self.trace.tail(20))?;
        } else {
            write!(f, "{past_cap}")?;
        }
        let timeline = timeline_text(&self.trace);
        if !timeline.trim().is_empty() {
            writeln!(f)?;
            writeln!(f, "timeline:")?;
            write!(f, "{timeline}")?;
            if !timeline.ends_with('\n') {
                writeln!(f)?;
            }
        }
        if let Some(path) = &self.trace_file {
            writeln!(f)?;
            writeln!(f, "full trace: {}", path.display())?;
            writeln!(
                f,
                "timeline page: {} (open it in a browser)",
                crate::persist::timeline_page_path(path).display()
            )?;
            let recorded = self.trace.events().len();
            let half = crate::persist::TRACE_FILE_EVENTS_MAX / 2;
            if recorded > 2 * half {
                writeln!(
                    f,
                    "(both hold the first and the last {half} of the run's {recorded} recorded events, a mark between them: a trace file keeps at most {})",
                    crate::persist::TRACE_FILE_EVENTS_MAX
                )?;
            }
        }
        writeln!(f)?;
        writeln!(f, "{}", self.body_runs)?;
        Ok(())
    }
}

/// Why a failure of a sampled exploration's first run names no seed: the
/// words its report and the notice printed when it is found share.
pub(crate) const FIRST_RUN_IS_FIFO: &str = "its first run is FIFO, no deviation, before any seed";

/// The heading of the report's last events. A trace cut at
/// `Config::trace_events_max` kept the run's first events and, past the
/// cap, its last `kept_past_cap` (`Trace::events_past_cap`: a ring only
/// events past the cap reach, so a run under it pays nothing), which the
/// report shows: the heading says they are where the run ended, after how
/// many more, and where the recording stopped. (A cut trace without them,
/// which a run does not make, shows its last recorded events and says they
/// are not the run's last.)
fn last_events_heading(trace: &Trace, failure: &Failure, kept_past_cap: usize) -> String {
    let recorded = trace.events();
    // A cut trace ends with one event past the cap, at the run's end: the
    // warning that says the cap was hit.
    let kept = recorded
        .iter()
        .rposition(|event| event.kind != EventKind::Warning(Warning::TraceTruncated));
    let unrecorded = trace.event_count().saturating_sub(recorded.len() as u64);
    match kept {
        Some(last) if unrecorded > 0 => {
            let stopped = recorded[last].step;
            let end = recorded
                .last()
                .map_or(failure.step, |event| event.step.max(failure.step));
            let ended = if end > stopped {
                format!(" and ended at step {end}")
            } else {
                String::new()
            };
            if kept_past_cap > 0 {
                // The events kept past the cap (`Trace::events_past_cap`).
                return format!(
                    "last {kept_past_cap} events (step, virtual time, task, event), where the run ended: the trace keeps \
                     a run's first {} events (Config::trace_events_max) and stopped recording at step {stopped}; the run \
                     made {unrecorded} more{ended}, of which these are the last:",
                    last + 1,
                );
            }
            format!(
                "last 20 events recorded (step, virtual time, task, event), not the run's last: the trace keeps a run's \
                 first {} events (Config::trace_events_max) and stopped recording at step {stopped}; the run made {unrecorded} \
                 more{ended}:",
                last + 1,
            )
        }
        _ => "last 20 events (step, virtual time, task, event):".to_string(),
    }
}

/// The timeline picture in the report (the render module's text timeline).
fn timeline_text(trace: &Trace) -> String {
    crate::render::timeline_text(trace, 80)
}

/// "Kind: message", the kind said once: a message that starts with its
/// kind in words ("deadlock: …", "step limit: …") loses that start.
fn headline(failure: &Failure) -> String {
    let kind = format!("{:?}", failure.kind);
    let mut words = String::new();
    for (index, letter) in kind.chars().enumerate() {
        if letter.is_uppercase() && index > 0 {
            words.push(' ');
        }
        words.extend(letter.to_lowercase());
    }
    let text = failure.to_string();
    let rest = text
        .strip_prefix(&words)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(&text);
    format!("{kind}: {rest}")
}
