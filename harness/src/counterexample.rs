//! A failing schedule, shrunk, and the report a person reads.

use std::fmt;
use std::path::PathBuf;

use asyncsim_sim::trace::format_ns;
use asyncsim_sim::{Deviation, Draw, DrawLabel, EventKind, Failure, Tape, Trace};

/// Where a counterexample came from, which decides how to replay it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A sampled run: `ASYNCSIM_SEED=<seed>` reproduces it before shrinking.
    Seed,
    /// Exhaustive enumeration: only the token reproduces it.
    Exhaustive,
    /// A replayed token (`ASYNCSIM_REPLAY` or `Explore::replay`).
    Replay,
    /// A token from the regressions file.
    Regression,
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
    /// The shrunk schedule; `tape.to_string()` is the replay token.
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
    /// The shrunk run's non-FIFO decisions, with the tasks involved: what
    /// the report's "FIFO except" lines say. (Was `schedule`, a name that
    /// promised a schedule and held its deviations.)
    pub deviation_details: Vec<Deviation>,
    /// The strategy the exploration used (`random`, `pct:3`, `exhaustive:2`).
    pub strategy: String,
    /// The test's name (for the replay command line).
    pub test_name: String,
    /// Where the trace was written (`target/asyncsim/…`), if it was.
    pub trace_file: Option<PathBuf>,
    /// False when the schedule failed once and passed when run again (the
    /// body is not deterministic): then the token does not reproduce the
    /// failure, and `check` never saves it to a regressions file.
    pub reproduced: bool,
    /// When the replayed token was recorded by another test: the origin it
    /// names (a hash of that test's name; this test's differs).
    pub foreign_origin: Option<u32>,
}

impl Counterexample {
    /// The replay token of the shrunk schedule.
    pub fn token(&self) -> String {
        self.tape.to_string()
    }

    /// The shrunk schedule in words: "FIFO except: at step 7 ran `writer`
    /// instead of `reader`", one line for each of the tape's deviations
    /// (scheduling, timers, pool, start orders, random values), so the
    /// lines count [`deviations`](Self::deviations).
    pub fn schedule_text(&self) -> String {
        describe_schedule(&self.tape, &self.deviation_details, &self.trace)
    }

    /// The command lines that replay this failure.
    pub fn replay_lines(&self) -> String {
        replay_lines(
            &self.test_name,
            &self.tape,
            (self.origin == Origin::Seed).then_some(self.seed),
            &self.strategy,
        )
    }
}

/// Renders a tape's deviations from FIFO as "FIFO except: …": one line for
/// every nonzero draw of `tape`, in tape order, so the lines count exactly
/// its [`Tape::deviations`]. A draw the run explained (`details`: which task
/// ran or fired instead of which) reads in task names; any other — a random
/// value, a start order, and whatever labels come later — reads as its
/// label, value and range.
pub(crate) fn describe_schedule(tape: &Tape, details: &[Deviation], trace: &Trace) -> String {
    // Each nonzero `branch` draw left one event in the trace, in order
    // (`select!` and friends: the order; `explore_polls`: the yield), which
    // says in words which task polled which branch first.
    let mut branch_events = trace
        .events()
        .iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventKind::BranchOrder { .. } | EventKind::PollYield
            )
        })
        .filter(|_| !trace.is_truncated());
    let mut lines = tape
        .draws()
        .iter()
        .enumerate()
        .filter(|(_, draw)| draw.value != 0)
        .map(
            |(index, draw)| match details.iter().find(|deviation| deviation.draw == index) {
                Some(deviation) => explain_deviation(deviation, trace),
                None if draw.label == DrawLabel::Branch => match branch_events.next() {
                    Some(event) => format!(
                        "at step {} `{}` {}",
                        event.step,
                        event.task.map_or("?", |task| trace.task_name(task)),
                        trace.describe(event)
                    ),
                    None => describe_draw(index, draw),
                },
                None => describe_draw(index, draw),
            },
        )
        .peekable();
    if lines.peek().is_none() {
        return "plain FIFO (asyncio's own order): no deviations".to_string();
    }
    let mut text = String::from("FIFO except:");
    for line in lines {
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text
}

/// A deviation the run recorded, in task names.
fn explain_deviation(deviation: &Deviation, trace: &Trace) -> String {
    let name = |task: Option<asyncsim_sim::TaskId>| match task {
        Some(task) => format!("`{}`", trace.task_name(task)),
        None => "?".to_string(),
    };
    if let Some(what) = &deviation.what {
        return format!("at {} {what}", format_ns(deviation.time_ns));
    }
    match deviation.label {
        DrawLabel::Schedule => format!(
            "at step {} ran {} instead of {}",
            deviation.step,
            name(deviation.chosen),
            name(deviation.canonical)
        ),
        DrawLabel::Timer => format!(
            "at {} fired the timer of {} before that of {}",
            format_ns(deviation.time_ns),
            name(deviation.chosen),
            name(deviation.canonical)
        ),
        DrawLabel::Pool => format!(
            "at {} finished the pool job of {} before that of {}",
            format_ns(deviation.time_ns),
            name(deviation.chosen),
            name(deviation.canonical)
        ),
        DrawLabel::Start => format!(
            "at step {} started an unordered group in drawn order {} of {}",
            deviation.step, deviation.value, deviation.bound
        ),
        DrawLabel::Random => format!(
            "at step {} drew random value {}",
            deviation.step, deviation.value
        ),
        // Labels of the world and of select read generically until their
        // deviations carry words of their own.
        DrawLabel::Branch | DrawLabel::Net | DrawLabel::Fault | DrawLabel::Disk => format!(
            "at step {} drew {} value {} of {}",
            deviation.step,
            deviation.label.name(),
            deviation.value,
            deviation.bound
        ),
    }
}

/// A nonzero draw the run did not explain: its label, value and range.
fn describe_draw(index: usize, draw: &Draw) -> String {
    let range = match draw.bound {
        // A bound of 0 stands for all 2^64 values.
        0 => "of any u64".to_string(),
        bound => format!("of 0..{bound}"),
    };
    format!(
        "{} draw #{index} was {} instead of 0 ({range})",
        draw.label.name(),
        draw.value
    )
}

pub(crate) fn replay_lines(
    test_name: &str,
    tape: &Tape,
    seed: Option<u64>,
    strategy: &str,
) -> String {
    let test = test_name.rsplit("::").next().unwrap_or(test_name);
    let mut text = format!("    ASYNCSIM_REPLAY={tape} cargo test {test}");
    if let Some(seed) = seed {
        // `mix` is the default: only another strategy needs naming.
        let strategy_prefix = if strategy == "mix" {
            String::new()
        } else {
            format!("ASYNCSIM_STRATEGY={strategy} ")
        };
        text.push_str(&format!(
            "\n    {strategy_prefix}ASYNCSIM_SEED={seed} cargo test {test}    (the run as found, before shrinking)"
        ));
    }
    text
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
            Origin::Replay => match self.foreign_origin {
                Some(origin) => format!(
                    "replaying the given token, which another test recorded (origin {origin:08x}; \
                     this test's is {:08x}): a failure here may only mean the token is not this test's",
                    crate::setup::origin_of(&self.test_name)
                ),
                None => "replaying the given token".to_string(),
            },
            Origin::Regression => "replaying a saved regression".to_string(),
        };
        writeln!(f, "asyncsim: `{}` failed {found}", self.test_name)?;
        writeln!(f)?;
        writeln!(f, "{:?}: {}", self.failure.kind, self.failure)?;
        writeln!(f)?;
        writeln!(f, "replay it:")?;
        writeln!(f, "{}", self.replay_lines())?;
        writeln!(f)?;
        writeln!(
            f,
            "schedule (shrunk: deviations {} → {} in {} runs):",
            self.original_deviations, self.deviations, self.shrink_runs
        )?;
        for line in self.schedule_text().lines() {
            writeln!(f, "  {line}")?;
        }
        if !self.failure.blocked.is_empty() {
            writeln!(f)?;
            writeln!(f, "blocked tasks:")?;
            write!(f, "{}", self.failure.blocked_report())?;
        }
        writeln!(f)?;
        writeln!(f, "last 20 events (step, virtual time, task, event):")?;
        write!(f, "{}", self.trace.tail(20))?;
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
        }
        Ok(())
    }
}

/// The timeline picture in the report (the render module's text timeline).
fn timeline_text(trace: &Trace) -> String {
    crate::render::timeline_text(trace, 80)
}
