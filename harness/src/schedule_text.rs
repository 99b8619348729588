//! A shrunk schedule in words, as FIFO with its exceptions ("FIFO except:
//! at step 7 ran `writer` instead of `reader`"), and a given token the run
//! diverged from; each draw's line, in task names when the run explained it.

use asyncsim_sim::trace::format_ns;
use asyncsim_sim::{Deviation, Draw, DrawLabel, Event, EventKind, Tape, Trace};

/// The trace events of nonzero `branch` draws, in order (`select!` and
/// friends: the order; `explore_polls`: the yield): the n-th nonzero branch
/// draw is the n-th such event. None when the trace was truncated, since
/// then the count no longer lines up.
pub(crate) fn branch_events(trace: &Trace) -> impl Iterator<Item = &Event> + '_ {
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

/// Whose words a report gives the ordinary order in (every draw 0): asyncio's,
/// whose loop the engine models, or tokio's, for a test through the tokio
/// face (its `#[tokio::test]` sets them: `Explore::__tokio_words`), whose
/// users know a current-thread runtime and a `select!` that draws its order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum OrderWords {
    #[default]
    Asyncio,
    Tokio,
}

impl OrderWords {
    /// What a schedule with no deviation did, in these words.
    fn plain_fifo(self) -> &'static str {
        match self {
            OrderWords::Asyncio => {
                "plain FIFO, no deviations: tasks ran in the order they became runnable (asyncio's own order), \
                 each select!/join! polled its branches in argument order, and nothing was delayed or faulted"
            }
            OrderWords::Tokio => {
                "plain FIFO, no deviations: tasks ran in the order they were woken (as tokio's current-thread \
                 runtime runs them), each select!/join! polled its branches in argument order (as tokio's select! \
                 does with `biased;`), and nothing was delayed or faulted"
            }
        }
    }
}

/// Renders a tape's deviations from FIFO as "FIFO except: …": one line for
/// every nonzero draw of `tape`, in tape order, so the lines count exactly
/// its [`Tape::deviations`]. A draw the run explained (`details`: which task
/// ran or fired instead of which) reads in task names; any other — a random
/// value, a start order, and whatever labels come later — reads as its
/// label, value and range. A tape with none says what FIFO is, in `words`.
pub(crate) fn describe_schedule(
    tape: &Tape,
    details: &[Deviation],
    trace: &Trace,
    words: OrderWords,
) -> String {
    let mut lines = exception_lines(tape.draws(), details, trace)
        .into_iter()
        .peekable();
    if lines.peek().is_none() {
        let fifo = words.plain_fifo();
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
pub(crate) fn describe_diverged(
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
pub(crate) fn divergence_in(message: &str) -> Option<(usize, &str)> {
    let rest = message.strip_prefix("tape divergence at draw ")?;
    let (index, rest) = rest.split_once(": ")?;
    let what = rest.split_once("; ").map_or(rest, |(what, _)| what);
    Some((index.parse().ok()?, what))
}

/// A deviation the run recorded, in task names.
pub(crate) fn explain_deviation(deviation: &Deviation, trace: &Trace) -> String {
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
pub(crate) fn describe_draw(index: usize, draw: &Draw) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_without_deviations_says_what_fifo_chose() {
        let text = describe_schedule(
            &Tape::default(),
            &[],
            &Trace::default(),
            OrderWords::Asyncio,
        );
        assert!(text.starts_with("plain FIFO, no deviations"), "{text}");
        assert!(text.contains("(asyncio's own order)"), "{text}");
        assert!(
            text.contains("each select!/join! polled its branches in argument order"),
            "{text}"
        );
    }

    #[test]
    fn a_tokio_test_hears_of_fifo_in_tokios_words() {
        let text = describe_schedule(&Tape::default(), &[], &Trace::default(), OrderWords::Tokio);
        assert!(text.starts_with("plain FIFO, no deviations"), "{text}");
        assert!(!text.contains("asyncio"), "{text}");
        assert!(
            text.contains("(as tokio's current-thread runtime runs them)"),
            "{text}"
        );
        // A tokio user's select! is random in tokio: the report says which
        // order it took here.
        assert!(
            text.contains("in argument order (as tokio's select! does with `biased;`)"),
            "{text}"
        );
    }
}
