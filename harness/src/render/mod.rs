//! Pictures of a run: a terminal timeline, Chrome Trace Event JSON (for
//! Perfetto and `chrome://tracing`), and a self-contained SVG or HTML page.
//!
//! Every renderer reads only the trace (virtual time, steps, names), never
//! the wall clock or addresses, so the output of a run is the same on every
//! machine and can be snapshotted.
//!
//! ```
//! use asyncsim::prelude::*; // the renderers' methods (`TraceExt`)
//! use asyncsim::{blocking, task, time};
//! use std::time::Duration;
//!
//! let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
//!     let bark = task::Builder::new().name("bark").spawn(async {
//!         time::sleep(Duration::from_secs(3)).await;
//!         blocking::sleep(Duration::from_secs(3)); // holds the loop
//!     });
//!     bark.await.unwrap();
//! });
//! let timeline = run.trace.timeline(60);
//! assert!(timeline.contains("bark"));
//! assert!(timeline.contains('#')); // the poll that blocked the loop
//! assert!(run.trace.to_svg().starts_with("<svg"));
//! assert!(run.trace.to_chrome_json().contains("traceEvents"));
//! ```
//!
//! # Reading the text timeline
//!
//! One row per task, in task-id order (`main` first); virtual time runs
//! left to right and each column is a slice of it. A column shows the
//! strongest thing that happened in it:
//!
//! | symbol | meaning |
//! |---|---|
//! | `*` | a user mark (`trace::mark`) |
//! | `!` / `x` | the task panicked / was aborted |
//! | `#` | a poll that held the loop (a blocking sleep): nothing else ran |
//! | `=` | a `spawn_blocking` job running on a pool worker |
//! | `\|` | a poll that took no virtual time |
//! | `.` | the task exists and waits (or is runnable) |
//!
//! A run with faults of the simulated world (`EventKind::Fault`: a crash
//! or restart, a partition and its repair, an isolation, a clog or a link
//! change, a lost or duplicated message, a drawn disk error, what a crash
//! kept, tore or lost, a true `buggify`; and every dropped message,
//! `EventKind::NetDrop`, in its trace line's words: a full buffer, a cut,
//! a closed socket, a crash, a reset) has one more row, `faults`, under the
//! tasks', whichever task caused them: `C` crash, `R` restart, `P`
//! partition or isolation, `H` heal (repair, rejoin, unclog), `E` disk
//! error, `T` a crash kept or tore unsynced writes, `U` a crash lost
//! unsynced changes (named in words), `L` link changed or
//! clogged, `D` message lost (dropped) or duplicated, `B` buggify. Faults
//! sharing a column stack in rows under `faults`, the first listed on top (a
//! crash and its restart at one instant: `C` over `R`), at most three rows
//! (a `+` in the third: more, listed under the grid); the legend says so
//! when they do. In the SVG, faults at one x are one tick with all their
//! letters (`CR`), every fault on hover. A run without faults has no such row.
//!
//! Under the grid: a scale, a legend, the polls that blocked the loop, the
//! marks and the faults (in words), with their exact times.
//!
//! # Chrome Trace Event JSON
//!
//! Timestamps are virtual microseconds. Each task is a track (its tid is
//! the task id plus one), each pool worker a track (tid 1 000 000 plus the
//! worker index), and track 0 holds engine-wide events. Each poll is a
//! complete event (`"X"`) whose duration is the virtual time it held the
//! loop; polls that held it for no time (most of them) get a nominal
//! duration of 1 µs so they are visible and can anchor flow arrows. Several
//! zero-time polls at the same instant therefore overlap slightly on
//! screen; their exact order is the `step` in each slice's arguments. Marks,
//! wakes, timer fires, clock jumps, panics, aborts and warnings are instant
//! events (`"i"`); each wake is also a flow
//! (`"s"` → `"f"`) from the waker's poll (or a 1 µs engine slice, for timer
//! and pool wakes) to the woken task's next poll. Faults are instant events
//! (category `fault`, named in words: "crashed node `db`") on a track of
//! their own, `faults` (tid 999 999), present only when the run had some.
//!
//! Open the file at <https://ui.perfetto.dev> ("Open trace file") or in
//! `chrome://tracing` ("Load").

mod chrome;
mod model;
mod svg;
mod text;

use asyncsim_sim::trace::Trace;

/// Renders the Gantt-style terminal timeline of `trace`, at most about
/// `width` columns wide (never narrower than the names plus 10 columns).
///
/// See the [module docs](self) for the symbols.
///
/// ```
/// use asyncsim::harness::render::timeline_text;
/// use asyncsim::{trace, Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async { trace::mark("hello") });
/// let text = timeline_text(&run.trace, 40);
/// assert!(text.lines().any(|line| line.starts_with("main") && line.contains('*')));
/// assert!(text.contains("\"hello\""));
/// ```
pub fn timeline_text(trace: &Trace, width: usize) -> String {
    text::timeline_text(trace, width)
}

/// Renders `trace` in the Chrome Trace Event Format, as a JSON value
/// (`{"traceEvents": [...], ...}`). See the [module docs](self) for the
/// tracks and the treatment of zero-time polls.
///
/// ```
/// use asyncsim::harness::render::chrome_value;
/// use asyncsim::{Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {});
/// let value = chrome_value(&run.trace);
/// let polls = value["traceEvents"]
///     .as_array()
///     .unwrap()
///     .iter()
///     .filter(|event| event["ph"] == "X" && event["cat"] == "poll")
///     .count();
/// assert_eq!(polls, 1);
/// ```
pub fn chrome_value(trace: &Trace) -> serde_json::Value {
    chrome::chrome_value(trace)
}

/// [`chrome_value`] as a JSON string, ready to save and open in Perfetto.
///
/// ```
/// use asyncsim::harness::render::chrome_json;
/// use asyncsim::{Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {});
/// let json = chrome_json(&run.trace);
/// assert!(json.starts_with('{') && json.contains("\"traceEvents\""));
/// ```
pub fn chrome_json(trace: &Trace) -> String {
    serde_json::to_string(&chrome::chrome_value(trace))
        .expect("a serde_json::Value always serialises")
}

/// Renders `trace` as a self-contained SVG picture: one lane (`<g
/// class="lane">`) per task, polls as bars, polls that blocked the loop in
/// orange, pool jobs in green, marks as purple ticks, wakes as arrows, a
/// virtual-time axis on top; faults of the simulated world as red ticks
/// with their letter in a lane of their own (`<g class="lane faults">`),
/// when the run had some. Every shape has a `<title>` (hover text).
///
/// ```
/// use asyncsim::harness::render::svg;
/// use asyncsim::{Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {
///     asyncsim::spawn(async {}).await.unwrap();
/// });
/// let picture = svg(&run.trace);
/// assert_eq!(picture.matches("<g class=\"lane\"").count(), 2);
/// ```
pub fn svg(trace: &Trace) -> String {
    svg::svg(trace)
}

/// An HTML page embedding [`svg`], with a details panel that follows the
/// mouse and the full event list. No external assets.
///
/// ```
/// use asyncsim::harness::render::html;
/// use asyncsim::{Config, Sim};
///
/// let run = Sim::new(Config::new()).run(async {});
/// let page = html(&run.trace);
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg"));
/// ```
pub fn html(trace: &Trace) -> String {
    svg::html(trace)
}

/// Method syntax for the renderers: `trace.timeline(80)`,
/// `trace.to_chrome_json()`, `trace.to_svg()`, `trace.to_html()`. In scope
/// with `use asyncsim::prelude::*` (or `use asyncsim::TraceExt`); the free
/// functions of this module need no import of a trait.
///
/// ```
/// use asyncsim::prelude::*;
///
/// let run = Sim::new(Config::new()).run(async {});
/// assert!(run.trace.timeline(40).starts_with(' '));
/// assert!(run.trace.to_html().contains(&run.trace.to_svg()));
/// ```
pub trait TraceExt {
    /// [`timeline_text`].
    fn timeline(&self, width: usize) -> String;
    /// [`chrome_json`].
    fn to_chrome_json(&self) -> String;
    /// [`svg`].
    fn to_svg(&self) -> String;
    /// [`html`].
    fn to_html(&self) -> String;
}

impl TraceExt for Trace {
    fn timeline(&self, width: usize) -> String {
        timeline_text(self, width)
    }

    fn to_chrome_json(&self) -> String {
        chrome_json(self)
    }

    fn to_svg(&self) -> String {
        svg(self)
    }

    fn to_html(&self) -> String {
        html(self)
    }
}
