//! A failing schedule, shrunk, and the report a person reads.

use std::fmt;
use std::path::PathBuf;

use asyncsim_sim::trace::format_ns;
use asyncsim_sim::{
    Deviation, Draw, DrawLabel, Event, EventKind, Failure, FailureKind, Tape, Trace,
};

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
        describe_schedule(&self.tape, &self.deviation_details, &self.trace)
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
                    crate::reproduce::LIMIT_SHRINK_POLLS_MAX
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
            (self.origin == Origin::Seed).then_some(self.seed),
            &self.strategy,
        )
    }
}

/// The trace events of nonzero `branch` draws, in order (`select!` and
/// friends: the order; `explore_polls`: the yield): the n-th nonzero branch
/// draw is the n-th such event. None when the trace was truncated, since
/// then the count no longer lines up.
fn branch_events(trace: &Trace) -> impl Iterator<Item = &Event> + '_ {
    let events = if trace.is_truncated() {
        &[][..]
    } else {
        trace.events()
    };
    events.iter().filter(|event| {
        matches!(
            event.kind,
            EventKind::BranchOrder { .. } | EventKind::PollYield
        )
    })
}

/// Renders a tape's deviations from FIFO as "FIFO except: …": one line for
/// every nonzero draw of `tape`, in tape order, so the lines count exactly
/// its [`Tape::deviations`]. A draw the run explained (`details`: which task
/// ran or fired instead of which) reads in task names; any other — a random
/// value, a start order, and whatever labels come later — reads as its
/// label, value and range.
pub(crate) fn describe_schedule(tape: &Tape, details: &[Deviation], trace: &Trace) -> String {
    let mut lines = exception_lines(tape.draws(), details, trace)
        .into_iter()
        .peekable();
    if lines.peek().is_none() {
        let fifo = "plain FIFO, no deviations: tasks ran in the order they became runnable (asyncio's own order), \
                    each select!/join! polled its branches in argument order, and nothing was delayed or faulted";
        // A crash, restart or disk error the program asked for itself is a
        // fault no draw chose: the report's fault list shows it, so say
        // whose it was rather than "nothing was faulted" above that list.
        let own_faults = trace
            .events()
            .iter()
            .any(|event| matches!(event.kind, EventKind::Fault { .. }));
        return if own_faults {
            format!("{fifo} by the schedule (the faults listed below are the program's own)")
        } else {
            fifo.to_string()
        };
    }
    let mut text = String::from("FIFO except:");
    for line in lines {
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text
}

/// One line for each nonzero draw of `draws` (a tape's first draws), in
/// order: in task names when the run explained it, else its label and value.
fn exception_lines(draws: &[Draw], details: &[Deviation], trace: &Trace) -> Vec<String> {
    // Each nonzero `branch` draw says in words, by its trace event, which
    // task polled which branch first.
    let mut branch_events = branch_events(trace);
    draws
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
        .collect()
}

/// Renders a given token the run diverged from at draw `at` (`what`: the
/// divergence, in the kernel's words): its deviations before that draw as in
/// [`describe_schedule`], where the run left the token, and the token's
/// deviations past it, which no run made. A token keeps no draw's range, so
/// those say their label and value only.
fn describe_diverged(
    tape: &Tape,
    at: usize,
    what: &str,
    details: &[Deviation],
    trace: &Trace,
) -> String {
    let draws = tape.draws();
    let reached = &draws[..at.min(draws.len())];
    let mut text = String::from("FIFO except:");
    for line in exception_lines(reached, details, trace) {
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text.push_str(&format!(
        "\n  at draw {at} the run diverged from the token: {what}"
    ));
    let past: Vec<String> = draws
        .iter()
        .enumerate()
        .skip(at + 1)
        .filter(|(_, draw)| draw.value != 0)
        .map(|(index, draw)| format!("{} draw #{index} was {}", draw.label.name(), draw.value))
        .collect();
    if !past.is_empty() {
        text.push_str(&format!(
            "\nnot reached, past the divergence: {}",
            past.join(", ")
        ));
    }
    text
}

/// The draw a tape divergence's message names, and what happened there:
/// the kernel writes "tape divergence at draw N: <what>; <cause>"
/// (`sim/src/kernel/failure.rs`), and the harness replaces only the cause.
fn divergence_in(message: &str) -> Option<(usize, &str)> {
    let rest = message.strip_prefix("tape divergence at draw ")?;
    let (index, rest) = rest.split_once(": ")?;
    let what = rest.split_once("; ").map_or(rest, |(what, _)| what);
    Some((index.parse().ok()?, what))
}

/// Renders a schedule as run-to-completion order (the task that ran last
/// runs again while it is runnable, else the oldest runnable task) with its
/// exceptions in tape order — each preemption, and each nonzero draw that is
/// not a scheduling one, worded as in [`describe_schedule`] — followed by
/// what the order amounted to, read from the trace: which task ran ahead of
/// which.
fn describe_run_to_completion(
    tape: &Tape,
    preemptions: &[Deviation],
    details: &[Deviation],
    trace: &Trace,
) -> String {
    let polled = polled_tasks(trace);
    let name = |task: Option<asyncsim_sim::TaskId>| match task {
        Some(task) => format!("`{}`", trace.task_name(task)),
        None => "?".to_string(),
    };
    let mut exceptions: Vec<(usize, String)> = preemptions
        .iter()
        .map(|preemption| {
            // The order would have run the task picked last if it was
            // runnable (then this pick preempted it), else the oldest.
            let last = preemption
                .step
                .checked_sub(1)
                .and_then(|step| polled.get(&step).copied());
            let line = if last.is_some() && last == preemption.canonical {
                format!(
                    "at step {} ran {}, preempting {}",
                    preemption.step,
                    name(preemption.chosen),
                    name(preemption.canonical)
                )
            } else {
                format!(
                    "at step {} ran {} instead of {}, the oldest runnable task",
                    preemption.step,
                    name(preemption.chosen),
                    name(preemption.canonical)
                )
            };
            (preemption.draw, line)
        })
        .collect();
    // The other draws read as in "FIFO except" (a branch draw by its trace
    // event: the n-th nonzero branch draw is the n-th such event).
    let mut branch_events = branch_events(trace);
    for (index, draw) in tape.iter().enumerate() {
        if draw.value == 0 {
            continue;
        }
        let branch_event = match draw.label {
            DrawLabel::Branch => branch_events.next(),
            _ => None,
        };
        if draw.label == DrawLabel::Schedule {
            continue;
        }
        let line = match details.iter().find(|deviation| deviation.draw == index) {
            Some(deviation) => explain_deviation(deviation, trace),
            None => match branch_event {
                Some(event) => format!(
                    "at step {} `{}` {}",
                    event.step,
                    event.task.map_or("?", |task| trace.task_name(task)),
                    trace.describe(event)
                ),
                None => describe_draw(index, &draw),
            },
        };
        exceptions.push((index, line));
    }
    exceptions.sort_by_key(|(index, _)| *index);
    let order = "run to completion (the task that ran last runs again while it is runnable, else the oldest runnable task)";
    let mut text = if exceptions.is_empty() {
        format!("{order}, with no preemption")
    } else {
        format!("{order} except:")
    };
    for (_, line) in &exceptions {
        text.push_str("\n  ");
        text.push_str(line);
    }
    for line in runs_ahead(trace) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// Which task each step polled.
fn polled_tasks(trace: &Trace) -> std::collections::BTreeMap<u64, asyncsim_sim::TaskId> {
    trace
        .events()
        .iter()
        .filter(|event| event.kind == EventKind::Poll)
        .filter_map(|event| Some((event.step, event.task?)))
        .collect()
}

/// The most "ran ahead" lines a report prints.
const RUNS_AHEAD_MAX: usize = 5;

/// What a schedule amounted to, from its trace: the stretches of consecutive
/// polls of one task during which other tasks were runnable (asyncio's
/// order would have run them in between), the longest and those near it,
/// as "`A` ran to completion (steps 3–91, 45 polls) before `B` was
/// scheduled" when the task finished and the other had never run, else
/// "`A` ran 12 polls in a row (steps 3–14) while `B` waited". Empty for a
/// truncated trace.
fn runs_ahead(trace: &Trace) -> Vec<String> {
    use std::collections::BTreeSet;
    if trace.is_truncated() {
        return Vec::new();
    }
    struct Stretch {
        task: asyncsim_sim::TaskId,
        first_step: u64,
        last_step: u64,
        polls: u64,
        /// Polls after the first at which another task was runnable.
        passed_over: u64,
        /// The tasks runnable at those polls, oldest id first.
        waiting: BTreeSet<asyncsim_sim::TaskId>,
        completed: bool,
    }
    let mut runnable: BTreeSet<asyncsim_sim::TaskId> = BTreeSet::new();
    let mut ever_polled: BTreeSet<asyncsim_sim::TaskId> = BTreeSet::new();
    let mut stretches: Vec<Stretch> = Vec::new();
    // The waiting tasks of each stretch that had never run when it ended.
    let mut never_ran: Vec<BTreeSet<asyncsim_sim::TaskId>> = Vec::new();
    for event in trace.events() {
        let Some(task) = event.task else { continue };
        match event.kind {
            EventKind::Spawn { .. } | EventKind::Wake { .. } => {
                runnable.insert(task);
            }
            EventKind::Pending {
                on: asyncsim_sim::trace::WaitOn::Yield,
            } => {
                runnable.insert(task);
            }
            EventKind::Poll => {
                runnable.remove(&task);
                let others: Vec<_> = runnable.iter().copied().collect();
                match stretches.last_mut() {
                    Some(stretch) if stretch.task == task && !stretch.completed => {
                        stretch.last_step = event.step;
                        stretch.polls += 1;
                        if !others.is_empty() {
                            stretch.passed_over += 1;
                            stretch.waiting.extend(others);
                        }
                    }
                    _ => {
                        if let Some(stretch) = stretches.last() {
                            let unrun = stretch
                                .waiting
                                .iter()
                                .filter(|waiting| !ever_polled.contains(waiting))
                                .copied()
                                .collect();
                            never_ran.push(unrun);
                        }
                        stretches.push(Stretch {
                            task,
                            first_step: event.step,
                            last_step: event.step,
                            polls: 1,
                            passed_over: 0,
                            waiting: BTreeSet::new(),
                            completed: false,
                        });
                    }
                }
                ever_polled.insert(task);
            }
            EventKind::Complete | EventKind::Panic | EventKind::Abort | EventKind::Crash { .. } => {
                runnable.remove(&task);
                if let Some(stretch) = stretches.last_mut() {
                    if stretch.task == task && event.kind == EventKind::Complete {
                        stretch.completed = true;
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(stretch) = stretches.last() {
        let unrun = stretch
            .waiting
            .iter()
            .filter(|waiting| !ever_polled.contains(waiting))
            .copied()
            .collect();
        never_ran.push(unrun);
    }
    let names = |tasks: &mut dyn Iterator<Item = &asyncsim_sim::TaskId>| {
        let names: Vec<String> = tasks
            .map(|task| format!("`{}`", trace.task_name(*task)))
            .collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    };
    // The stretches that say something: the one that passed over others
    // most, and those that come near it (a quarter of it; run-to-completion
    // order makes many short ones).
    let longest = stretches
        .iter()
        .map(|stretch| stretch.passed_over)
        .max()
        .unwrap_or(0);
    let worth = (longest / 4).max(2);
    let mut lines: Vec<String> = stretches
        .iter()
        .zip(&never_ran)
        .filter(|(stretch, _)| stretch.passed_over >= worth)
        .map(|(stretch, unrun)| {
            let task = trace.task_name(stretch.task);
            let (first, last, polls) = (stretch.first_step, stretch.last_step, stretch.polls);
            if stretch.completed && !unrun.is_empty() {
                format!(
                    "`{task}` ran to completion (steps {first}–{last}, {polls} polls) before {} was scheduled",
                    names(&mut unrun.iter())
                )
            } else if stretch.completed {
                format!(
                    "`{task}` ran to completion (steps {first}–{last}, {polls} polls) while {} waited",
                    names(&mut stretch.waiting.iter())
                )
            } else {
                format!(
                    "`{task}` ran {polls} polls in a row (steps {first}–{last}) while {} waited",
                    names(&mut stretch.waiting.iter())
                )
            }
        })
        .collect();
    if lines.len() > RUNS_AHEAD_MAX {
        let more = lines.len() - RUNS_AHEAD_MAX;
        lines.truncate(RUNS_AHEAD_MAX);
        lines.push(format!("… and {more} more such stretches"));
    }
    lines
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
        Ok(())
    }
}

/// The timeline picture in the report (the render module's text timeline).
fn timeline_text(trace: &Trace) -> String {
    crate::render::timeline_text(trace, 80)
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

    #[test]
    fn a_schedule_without_deviations_says_what_fifo_chose() {
        let text = describe_schedule(&Tape::default(), &[], &Trace::default());
        assert!(text.starts_with("plain FIFO, no deviations"), "{text}");
        // A tokio user's select! is random in tokio: the report says which
        // order it took here.
        assert!(
            text.contains("each select!/join! polled its branches in argument order"),
            "{text}"
        );
    }
}
