//! Where two traces part ways: the first event that differs, with a few
//! events of context from each side.
//!
//! Events are compared by what they mean, not by interned numbers: the
//! step, the virtual time, the task (id and name) and the rendered
//! description (so a mark compares by its text, not its label index).
//!
//! ```
//! use asyncsim::harness::diff::first_divergence;
//! use asyncsim::{trace, Config, Sim};
//!
//! let a = Sim::new(Config::new()).run(async { trace::mark("one"); trace::mark("two") });
//! let b = Sim::new(Config::new()).run(async { trace::mark("one"); trace::mark("TWO") });
//! assert!(first_divergence(&a.trace, &a.trace).is_none());
//! let divergence = first_divergence(&a.trace, &b.trace).unwrap();
//! assert_eq!(divergence.index, 3); // spawn, poll, mark "one", then the difference
//! assert!(divergence.to_string().contains("mark \"TWO\""));
//! ```

use std::fmt;

use asyncsim_sim::trace::{format_ns, Event, Trace};

/// How many events before the divergence [`first_divergence`] shows.
pub const CONTEXT_BEFORE: usize = 3;
/// How many events from the divergence on each side it shows.
pub const CONTEXT_AFTER: usize = 4;

/// The first place two traces differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceDivergence {
    /// Index of the first differing event (equal to the shorter trace's
    /// length when one trace is a prefix of the other).
    pub index: usize,
    /// The left trace's event there (None: the left trace ended).
    pub left: Option<Event>,
    /// The right trace's event there (None: the right trace ended).
    pub right: Option<Event>,
    /// The events both traces share just before the divergence, rendered.
    pub common: Vec<String>,
    /// The left trace from the divergence on, rendered.
    pub left_context: Vec<String>,
    /// The right trace from the divergence on, rendered.
    pub right_context: Vec<String>,
}

/// One event as a line: index, step, time, task, description.
fn render(trace: &Trace, index: usize, event: &Event) -> String {
    let task = event.task.map_or("-", |task| trace.task_name(task));
    format!(
        "#{index:<5} step {:<5} {:>10}  {:<12} {}",
        event.step,
        format_ns(event.time_ns),
        task,
        trace.describe(event)
    )
}

fn same(a: &Trace, left: &Event, b: &Trace, right: &Event) -> bool {
    left.step == right.step
        && left.time_ns == right.time_ns
        && left.task == right.task
        && left.task.map(|task| a.task_name(task)) == right.task.map(|task| b.task_name(task))
        && a.describe(left) == b.describe(right)
}

/// The first event where `a` and `b` differ, or None when their recorded
/// events are the same (see the [module docs](self) for what "the same"
/// means).
///
/// ```
/// use asyncsim::harness::diff::first_divergence;
/// use asyncsim::{Config, Sim};
///
/// let short = Sim::new(Config::new()).run(async {});
/// let long = Sim::new(Config::new()).run(async { asyncsim::yield_now().await });
/// let divergence = first_divergence(&short.trace, &long.trace).unwrap();
/// assert!(divergence.left.is_some() && divergence.right.is_some());
/// ```
pub fn first_divergence(a: &Trace, b: &Trace) -> Option<TraceDivergence> {
    first_divergence_with_context(a, b, CONTEXT_BEFORE, CONTEXT_AFTER)
}

/// [`first_divergence`] with `before` shared events and `after` events of
/// each side in the context.
///
/// ```
/// use asyncsim::harness::diff::first_divergence_with_context;
/// use asyncsim::{trace, Config, Sim};
///
/// let a = Sim::new(Config::new()).run(async { trace::mark("a") });
/// let b = Sim::new(Config::new()).run(async { trace::mark("b") });
/// let divergence = first_divergence_with_context(&a.trace, &b.trace, 1, 1).unwrap();
/// assert_eq!(divergence.common.len(), 1);
/// assert_eq!(divergence.left_context.len(), 1);
/// ```
pub fn first_divergence_with_context(
    a: &Trace,
    b: &Trace,
    before: usize,
    after: usize,
) -> Option<TraceDivergence> {
    let (left, right) = (a.events(), b.events());
    let index = left
        .iter()
        .zip(right)
        .position(|(l, r)| !same(a, l, b, r))
        .unwrap_or(left.len().min(right.len()));
    if index == left.len() && index == right.len() {
        return None;
    }
    let start = index.saturating_sub(before);
    let common = (start..index)
        .map(|i| render(a, i, &left[i]))
        .collect::<Vec<_>>();
    let side = |trace: &Trace, events: &[Event]| -> Vec<String> {
        (index..events.len().min(index.saturating_add(after)))
            .map(|i| render(trace, i, &events[i]))
            .collect()
    };
    Some(TraceDivergence {
        index,
        left: left.get(index).copied(),
        right: right.get(index).copied(),
        common,
        left_context: side(a, left),
        right_context: side(b, right),
    })
}

impl fmt::Display for TraceDivergence {
    /// ```text
    /// the traces diverge at event #5
    ///   both:
    ///     #2     step 1          0s  main         spawn (by main)
    ///   left:
    ///   > #5     step 2          0s  a            poll
    ///   right:
    ///   > #5     step 2          0s  b            poll
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the traces diverge at event #{}", self.index)?;
        if !self.common.is_empty() {
            writeln!(f, "  both:")?;
            for line in &self.common {
                writeln!(f, "    {line}")?;
            }
        }
        for (name, context) in [("left", &self.left_context), ("right", &self.right_context)] {
            writeln!(f, "  {name}:")?;
            if context.is_empty() {
                writeln!(f, "  > (the trace ends here)")?;
            }
            for (offset, line) in context.iter().enumerate() {
                let arrow = if offset == 0 { ">" } else { " " };
                writeln!(f, "  {arrow} {line}")?;
            }
        }
        Ok(())
    }
}
