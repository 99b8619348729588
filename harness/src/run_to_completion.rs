//! A shrunk schedule in words as run-to-completion order (the task that ran
//! last runs again while it is runnable) with its preemptions, and what
//! that order amounted to: "`A` ran to completion (steps 3–91, 45 polls)
//! before `B` was scheduled", read from the trace.

use asyncsim_sim::{Deviation, DrawLabel, EventKind, Tape, Trace};

use crate::schedule_text::{branch_events, describe_draw, explain_deviation};

/// Renders a schedule as run-to-completion order (the task that ran last
/// runs again while it is runnable, else the oldest runnable task) with its
/// exceptions in tape order — each preemption, and each nonzero draw that is
/// not a scheduling one, worded as in [`describe_schedule`](crate::schedule_text::describe_schedule) — followed by
/// what the order amounted to, read from the trace: which task ran ahead of
/// which.
pub(crate) fn describe_run_to_completion(
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
