//! What happened in a run: a list of small `Copy` events, each with its step
//! and virtual time, plus the interned names they refer to.
//!
//! Recording is cheap: an event is a 40-byte record pushed to a `Vec`, task
//! names and mark labels are interned once, and rendering happens only when
//! someone prints the trace. Every event is also folded into a rolling 64-bit
//! hash, kept even when full recording is off ([`TraceMode::HashOnly`]), so
//! explorations can count distinct interleavings and check determinism
//! without storing anything.
//!
//! ```
//! use asyncsim_sim::{trace, Config, Sim, Strategy};
//!
//! let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
//!     trace::mark("hello");
//! });
//! let text = run.trace.to_string();
//! assert!(text.contains("mark \"hello\""));
//! assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["hello"]);
//! ```

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::panic::Location;

use crate::recycle;

thread_local! {
    /// What dropped traces leave for the next runs' traces (`recycle`):
    /// their lists' buffers and their labels' texts, emptied. One
    /// thread-local for them all, so that a trace's making and its drop
    /// each reach it once.
    static SPARES: RefCell<TraceSpares> = const { RefCell::new(TraceSpares::new()) };
}

/// Runs `use_spares` on the thread's spares; `None` (the caller makes or
/// frees its buffers itself) during thread teardown, or if a destructor
/// run while they are in use reentered.
#[inline(always)]
fn with_spares<R>(use_spares: impl FnOnce(&mut TraceSpares) -> R) -> Option<R> {
    SPARES
        .try_with(|spares| Some(use_spares(&mut *spares.try_borrow_mut().ok()?)))
        .ok()
        .flatten()
}

struct TraceSpares {
    events: Vec<Vec<Event>>,
    tasks: Vec<Vec<TaskInfo>>,
    /// Label tables of dropped traces: their texts' buffers, emptied, at
    /// their positions (see [`Trace::push_label`]).
    labels: Vec<Vec<String>>,
    label_hashes: Vec<Vec<(u32, u64)>>,
}

impl TraceSpares {
    const fn new() -> TraceSpares {
        TraceSpares {
            events: Vec::new(),
            tasks: Vec::new(),
            labels: Vec::new(),
            label_hashes: Vec::new(),
        }
    }
}

/// A dropped trace keeps the buffers of at most this many labels for a
/// later trace, each of at most `SPARE_LABEL_TEXT_BYTES` (larger ones go
/// back to the allocator): at most 64 KiB of texts per kept table.
const SPARE_LABEL_TEXTS_MAX: usize = 256;
/// Label tables kept per thread (a loop of runs needs one or two).
const SPARE_LABEL_TABLES_MAX: usize = 2;
const SPARE_LABEL_TEXT_BYTES: usize = 256;

/// A label's text on its way into a trace's label table: written into the
/// emptied buffer a dropped trace left at the label's position, so a loop
/// of runs that make as many labels as the last runs allocates none for
/// them; past those, an owned text moves in and a borrowed one is copied.
pub(crate) trait LabelText: AsRef<str> {
    /// The text as a label of its own (no buffer kept at its position).
    fn into_label(self) -> String;
    /// Writes the text into `kept` (empty), a kept buffer.
    fn write_into(self, kept: &mut String);
}

impl LabelText for String {
    #[inline]
    fn into_label(self) -> String {
        self
    }

    #[inline]
    fn write_into(self, kept: &mut String) {
        // Made for this label: it moves in, the kept buffer goes.
        *kept = self;
    }
}

impl LabelText for &str {
    #[inline]
    fn into_label(self) -> String {
        self.to_owned()
    }

    #[inline]
    fn write_into(self, kept: &mut String) {
        kept.push_str(self);
    }
}

impl LabelText for Cow<'_, str> {
    #[inline]
    fn into_label(self) -> String {
        match self {
            Cow::Owned(text) => text,
            Cow::Borrowed(text) => text.to_owned(),
        }
    }

    #[inline]
    fn write_into(self, kept: &mut String) {
        match self {
            Cow::Owned(text) => *kept = text,
            Cow::Borrowed(text) => kept.push_str(text),
        }
    }
}

/// Empties a label table's texts for a later trace, keeping their buffers
/// at their positions (at most `SPARE_LABEL_TEXTS_MAX`, each of at most
/// `SPARE_LABEL_TEXT_BYTES`: a larger one is let go, its position kept
/// with an empty text). `used` is how many hold texts; past them they are
/// empty already.
fn empty_label_texts(labels: &mut Vec<String>, used: usize) {
    labels.truncate(SPARE_LABEL_TEXTS_MAX);
    for text in labels.iter_mut().take(used) {
        if text.capacity() <= SPARE_LABEL_TEXT_BYTES {
            text.clear();
        } else {
            *text = String::new();
        }
    }
}

mod kinds;
mod words;

use kinds::socket_words;
pub use kinds::*;

/// One thing that happened: at `step` (polls so far), at virtual `time_ns`,
/// concerning `task` (None for engine-wide events like clock jumps).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    /// Number of polls made before this event (the step being run, 1-based
    /// inside a poll).
    pub step: u64,
    /// Virtual time in nanoseconds since the run started.
    pub time_ns: u64,
    /// The task the event concerns.
    pub task: Option<TaskId>,
    /// What happened.
    pub kind: EventKind,
}

/// How much of a trace to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraceMode {
    /// Every event is stored (up to `Config::trace_events_max`) and hashed.
    #[default]
    Full,
    /// Events are only folded into the rolling hash: constant memory.
    HashOnly,
}

/// Static facts about a task, for rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's name: given through `task::Builder`, else `task-<id>`;
    /// `main` for the main future. (Default names are shared static strings,
    /// so spawning an unnamed task allocates no name.)
    pub name: Cow<'static, str>,
    /// Who spawned it.
    pub parent: Option<TaskId>,
    /// True for `spawn_blocking` jobs' handles (they have no future).
    pub blocking: bool,
}

/// The record of one run. See the [module docs](self).
#[derive(Clone, Default)]
pub struct Trace {
    pub(crate) events: Vec<Event>,
    pub(crate) tasks: Vec<TaskInfo>,
    /// The label table: its first `labels_len` texts are this trace's
    /// labels (by id); past them, empty buffers an earlier trace left,
    /// each written into by the label that takes its position
    /// ([`Trace::push_label`]). Read only through `labels()`, `label()`.
    labels: Vec<String>,
    /// (A `u32`: it shares its word with `truncated`, so the trace, and
    /// the run state around it, keep their size and layout.)
    labels_len: u32,
    /// The text hashes ([`label_text_hash`]) of labels whose maker knew
    /// them (the world's kept words), by label id in id order: `hash` uses
    /// them instead of reading those texts again. Derived from `labels`,
    /// so no part of equality.
    pub(crate) known_label_hashes: Vec<(u32, u64)>,
    pub(crate) hash: u64,
    pub(crate) event_count: u64,
    pub(crate) truncated: bool,
    /// Label ids of marks not kept in `events` (HashOnly mode, or past the
    /// event cap), so [`marks_so_far`] works in every mode.
    pub(crate) unstored_marks: Vec<u32>,
    /// The macros behind `BranchOrder` events (`select!` and its file:line),
    /// indexed by their `site`; words only, never hashed.
    pub(crate) branch_sites: Vec<(&'static str, &'static Location<'static>)>,
    /// A trace cut at `Config::trace_events_max`: the last
    /// [`EVENTS_PAST_CAP_KEPT`] events past the cap, so a report shows where
    /// the run really ended. Made by the first event past the cap, on the
    /// path only such events take: a run under the cap never touches it.
    /// Derived from events the hash covers, so no part of equality. (Boxed:
    /// one word in the trace, which every run moves, not a `VecDeque`'s
    /// four.)
    #[allow(clippy::box_collection)]
    pub(crate) past_cap: Option<Box<std::collections::VecDeque<Event>>>,
}

/// How many of a cut trace's last events it keeps past the cap
/// ([`Trace::events_past_cap`]): the report's "last 20 events".
pub const EVENTS_PAST_CAP_KEPT: usize = 20;

/// Buffers for a new trace's events (room for `events`), tasks (room for
/// `tasks`) and labels: dropped traces' when the thread kept some.
fn spare_buffers(events: usize, tasks: usize) -> (Vec<Event>, Vec<TaskInfo>, Vec<String>) {
    let taken = with_spares(|spares| {
        (
            recycle::take_from(&mut spares.events, events),
            recycle::take_from(&mut spares.tasks, tasks),
            recycle::take_from(&mut spares.labels, 0),
        )
    });
    taken.unwrap_or_else(|| {
        (
            Vec::with_capacity(events),
            Vec::with_capacity(tasks),
            Vec::new(),
        )
    })
}

/// A dropped trace's buffers serve the next run's trace (see `recycle`).
impl Drop for Trace {
    fn drop(&mut self) {
        // Without the spares (thread teardown, or a destructor run by a
        // `clear` reentered) the buffers go back to the allocator.
        with_spares(|spares| {
            recycle::give_to(&mut spares.events, std::mem::take(&mut self.events));
            recycle::give_to(&mut spares.tasks, std::mem::take(&mut self.tasks));
            if !self.labels.is_empty() && spares.labels.len() < SPARE_LABEL_TABLES_MAX {
                empty_label_texts(&mut self.labels, self.labels_len as usize);
                spares.labels.push(std::mem::take(&mut self.labels));
            }
            if self.known_label_hashes.capacity() != 0 {
                recycle::give_to(
                    &mut spares.label_hashes,
                    std::mem::take(&mut self.known_label_hashes),
                );
            }
        });
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The labels are the table's live ones (not the kept buffers past
        // them).
        f.debug_struct("Trace")
            .field("events", &self.events)
            .field("tasks", &self.tasks)
            .field("labels", &self.labels())
            .field("known_label_hashes", &self.known_label_hashes)
            .field("hash", &self.hash)
            .field("event_count", &self.event_count)
            .field("truncated", &self.truncated)
            .field("unstored_marks", &self.unstored_marks)
            .field("branch_sites", &self.branch_sites)
            .field("past_cap", &self.past_cap)
            .finish()
    }
}

impl PartialEq for Trace {
    fn eq(&self, other: &Trace) -> bool {
        self.hash == other.hash
            && self.event_count == other.event_count
            && self.events.len() == other.events.len()
            && self.events.iter().zip(&other.events).all(|(ours, theirs)| {
                // A branch order's site is words, kept only in memory (a
                // trace file does not carry it): equal without it.
                match (ours.kind, theirs.kind) {
                    (
                        EventKind::BranchOrder { live, value, .. },
                        EventKind::BranchOrder {
                            live: their_live,
                            value: their_value,
                            ..
                        },
                    ) => {
                        live == their_live
                            && value == their_value
                            && ours.step == theirs.step
                            && ours.task == theirs.task
                            && ours.time_ns == theirs.time_ns
                    }
                    _ => ours == theirs,
                }
            })
            && self.tasks == other.tasks
            && self.labels() == other.labels()
    }
}

impl Eq for Trace {}

const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;

impl Trace {
    /// An empty trace with room for `events` events.
    pub(crate) fn with_capacity(events: usize, tasks: usize) -> Trace {
        let (events, tasks, labels) = spare_buffers(events, tasks);
        Trace {
            events,
            tasks,
            labels,
            labels_len: 0,
            known_label_hashes: Vec::new(),
            hash: HASH_SEED,
            event_count: 0,
            truncated: false,
            unstored_marks: Vec::new(),
            branch_sites: Vec::new(),
            past_cap: None,
        }
    }

    /// The trace recorded so far, handed over whole (a run's end: `Sim::run`
    /// gives it to its caller); this one is left empty, with buffers for
    /// `events` events and `tasks` tasks taken as [`Trace::with_capacity`]
    /// takes them. Field by field: a fresh trace made and swapped in was
    /// three copies of the whole struct a run. (The literal names every
    /// field: a field added later does not compile until it is handed over
    /// here too.)
    #[inline]
    pub(crate) fn hand_over(&mut self, events: usize, tasks: usize) -> Trace {
        let (events, tasks, labels) = spare_buffers(events, tasks);
        Trace {
            events: std::mem::replace(&mut self.events, events),
            tasks: std::mem::replace(&mut self.tasks, tasks),
            labels: std::mem::replace(&mut self.labels, labels),
            labels_len: std::mem::take(&mut self.labels_len),
            known_label_hashes: std::mem::take(&mut self.known_label_hashes),
            hash: std::mem::replace(&mut self.hash, HASH_SEED),
            event_count: std::mem::take(&mut self.event_count),
            truncated: std::mem::take(&mut self.truncated),
            unstored_marks: std::mem::take(&mut self.unstored_marks),
            branch_sites: std::mem::take(&mut self.branch_sites),
            past_cap: self.past_cap.take(),
        }
    }

    /// Builds a trace from parts (for trace files and tests). The hash is
    /// recomputed from the events.
    pub fn from_parts(events: Vec<Event>, tasks: Vec<TaskInfo>, labels: Vec<String>) -> Trace {
        let labels_len = u32::try_from(labels.len()).expect("fewer than 2^32 labels");
        let mut trace = Trace {
            events: Vec::with_capacity(events.len()),
            tasks,
            labels,
            labels_len,
            known_label_hashes: Vec::new(),
            hash: HASH_SEED,
            event_count: 0,
            truncated: false,
            unstored_marks: Vec::new(),
            branch_sites: Vec::new(),
            past_cap: None,
        };
        for event in events {
            trace.record(event, usize::MAX, TraceMode::Full);
        }
        trace
    }

    /// The recorded events, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Every task of the run, indexed by [`TaskId::index`].
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }

    /// The interned mark labels, indexed by `EventKind::Mark::label`.
    #[inline]
    pub fn labels(&self) -> &[String] {
        &self.labels[..self.labels_len as usize]
    }

    /// How many labels the table has (the next one's id).
    #[inline]
    pub(crate) fn label_count(&self) -> u32 {
        self.labels_len
    }

    /// The name of a task (`main`, a builder name, or `task-<id>`).
    pub fn task_name(&self, task: TaskId) -> &str {
        self.tasks
            .get(task.index())
            .map_or("<unknown task>", |info| &*info.name)
    }

    /// The combinator behind a `BranchOrder` event's `site` (`select!`) and
    /// where it is in the source, when known.
    pub fn branch_site(&self, site: u32) -> Option<(&'static str, &'static Location<'static>)> {
        self.branch_sites.get(site as usize).copied()
    }

    /// Interns a combinator's site for a `BranchOrder` event (not hashed).
    pub(crate) fn intern_branch_site(
        &mut self,
        what: &'static str,
        at: &'static Location<'static>,
    ) -> u32 {
        let known = self
            .branch_sites
            .iter()
            .position(|(_, known)| std::ptr::eq(*known, at));
        known.unwrap_or_else(|| {
            self.branch_sites.push((what, at));
            self.branch_sites.len() - 1
        }) as u32
    }

    /// Adds `text` to the label table as a new entry (moved if owned, else
    /// copied into a kept buffer); its id.
    #[inline(always)]
    pub(crate) fn push_label(&mut self, text: impl LabelText) -> u32 {
        let id = self.labels_len;
        match self.labels.get_mut(id as usize) {
            Some(kept) => text.write_into(kept),
            None => self.labels.push(text.into_label()),
        }
        self.labels_len = id + 1;
        id
    }

    /// Notes the text hash of label `id` (just added), known to its maker.
    pub(crate) fn note_label_hash(&mut self, id: u32, text_hash: u64) {
        if self.known_label_hashes.capacity() == 0 {
            // A spare buffer: a trace a run would otherwise allocate one.
            self.known_label_hashes =
                with_spares(|spares| recycle::take_from(&mut spares.label_hashes, 8))
                    .unwrap_or_else(|| Vec::with_capacity(8));
        }
        self.known_label_hashes.push((id, text_hash));
    }

    /// The text of an interned mark label.
    pub fn label(&self, label: u32) -> &str {
        self.labels()
            .get(label as usize)
            .map_or("<unknown label>", String::as_str)
    }

    /// The rolling hash of every event, recorded or not, combined with the
    /// text of every mark label (events carry only label ids, so two runs
    /// whose marks differ in text still hash differently).
    #[inline]
    pub fn hash(&self) -> u64 {
        let mut known = self.known_label_hashes.iter().peekable();
        let labels_hash = self
            .labels()
            .iter()
            .enumerate()
            .fold(HASH_SEED, |hash, (id, label)| {
                let text_hash = match known.peek() {
                    Some(&&(known_id, text_hash)) if known_id as usize == id => {
                        known.next();
                        text_hash
                    }
                    _ => label_text_hash(label),
                };
                (hash ^ text_hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            });
        (self.hash ^ labels_hash.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// How many events happened (recorded or only hashed).
    pub fn event_count(&self) -> u64 {
        self.event_count
    }

    /// True when events were dropped (hash-only mode or the size limit).
    pub fn is_truncated(&self) -> bool {
        self.truncated || self.event_count != self.events.len() as u64
    }

    /// The user marks, in order: the article's printed lines.
    pub fn marks(&self) -> impl Iterator<Item = &str> + '_ {
        self.events.iter().filter_map(|event| match event.kind {
            EventKind::Mark { label } => Some(self.label(label)),
            _ => None,
        })
    }

    /// The user marks with the virtual time each was made at.
    pub fn timed_marks(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        self.events.iter().filter_map(|event| match event.kind {
            EventKind::Mark { label } => Some((event.time_ns, self.label(label))),
            _ => None,
        })
    }

    /// The warnings, with the task each concerns.
    pub fn warnings(&self) -> impl Iterator<Item = (Option<TaskId>, Warning)> + '_ {
        self.events.iter().filter_map(|event| match event.kind {
            EventKind::Warning(warning) => Some((event.task, warning)),
            _ => None,
        })
    }

    /// The order in which tasks were first polled (main excluded): the
    /// "start order" of spawned work.
    pub fn start_order(&self) -> Vec<TaskId> {
        let mut seen = vec![false; self.tasks.len()];
        let mut order = Vec::new();
        for event in &self.events {
            if let (EventKind::Poll, Some(task)) = (event.kind, event.task) {
                if task != TaskId::MAIN && !std::mem::replace(&mut seen[task.index()], true) {
                    order.push(task);
                }
            }
        }
        order
    }

    /// Empties the trace for a new run (a run's start: what an earlier run
    /// on the core left, also one that unwound before `hand_over`). Every
    /// field is named, so the compiler asks a field added later for its
    /// reset here, as it does in `hand_over`'s and `with_capacity`'s
    /// literals.
    #[inline]
    pub(crate) fn reset(&mut self) {
        let Trace {
            events,
            tasks,
            labels,
            labels_len,
            known_label_hashes,
            hash,
            event_count,
            truncated,
            unstored_marks,
            branch_sites,
            past_cap,
        } = self;
        events.clear();
        tasks.clear();
        if *labels_len != 0 {
            empty_label_texts(labels, *labels_len as usize);
            *labels_len = 0;
        }
        known_label_hashes.clear();
        *hash = HASH_SEED;
        *event_count = 0;
        *truncated = false;
        unstored_marks.clear();
        branch_sites.clear();
        *past_cap = None;
    }

    // Always inlined, with `mix` and `kind_code`: callers pass a constant
    // kind, and the match folds away (measured: out of line, a call and a
    // jump table on every spawn, wake and completion, 2 % of `check`).
    #[inline(always)]
    pub(crate) fn record(&mut self, event: Event, events_max: usize, mode: TraceMode) {
        self.hash = mix(self.hash, &event);
        self.store(event, events_max, mode);
    }

    /// `record` for the two events of every step, with the hash words
    /// known at compile time instead of matched out of the kind.
    #[inline(always)]
    pub(crate) fn record_poll(
        &mut self,
        step: u64,
        time_ns: u64,
        task: TaskId,
        events_max: usize,
        mode: TraceMode,
    ) {
        self.hash = mix_words(self.hash, CODE_POLL, u64::from(task.0), 0, time_ns);
        let event = Event {
            step,
            time_ns,
            task: Some(task),
            kind: EventKind::Poll,
        };
        self.store(event, events_max, mode);
    }

    /// See [`Trace::record_poll`].
    #[inline(always)]
    pub(crate) fn record_pending(
        &mut self,
        step: u64,
        time_ns: u64,
        task: TaskId,
        on: WaitOn,
        events_max: usize,
        mode: TraceMode,
    ) {
        let payload = wait_code(on);
        self.hash = mix_words(self.hash, CODE_PENDING, u64::from(task.0), payload, time_ns);
        let event = Event {
            step,
            time_ns,
            task: Some(task),
            kind: EventKind::Pending { on },
        };
        self.store(event, events_max, mode);
    }

    /// `record` for a network event, its hash words made from the fields
    /// (the kind is never built in memory to be matched: a wide load of a
    /// value just written in narrow pieces stalls).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(crate) fn record_net(
        &mut self,
        step: u64,
        time_ns: u64,
        task: Option<TaskId>,
        (op, socket, bytes): (NetOp, u32, u32),
        events_max: usize,
        mode: TraceMode,
    ) {
        let payload = op as u64 | (u64::from(socket) << 8) | (u64::from(bytes) << 40);
        let task_word = task.map_or(u64::MAX, |task| u64::from(task.0));
        self.hash = mix_words(self.hash, CODE_NET, task_word, payload, time_ns);
        let event = Event {
            step,
            time_ns,
            task,
            kind: EventKind::Net { op, socket, bytes },
        };
        self.store(event, events_max, mode);
    }

    #[inline(always)]
    fn store(&mut self, event: Event, events_max: usize, mode: TraceMode) {
        self.event_count += 1;
        if mode == TraceMode::Full && self.events.len() < events_max {
            self.events.push(event);
            return;
        }
        if mode == TraceMode::Full {
            self.truncated = true;
            self.keep_past_cap(event);
        }
        if let EventKind::Mark { label } = event.kind {
            self.unstored_marks.push(label);
        }
    }

    /// An event past the cap, into the ring of the last ones (out of line:
    /// only a cut trace's events come here). (Measured: taking the whole
    /// slow path out of line, the event by reference, cost the engine's
    /// 10x10 1,400 instructions a run; this way it is 43,116 -> 42,992.)
    #[cold]
    #[inline(never)]
    fn keep_past_cap(&mut self, event: Event) {
        let kept = self.past_cap.get_or_insert_with(|| {
            Box::new(std::collections::VecDeque::with_capacity(
                EVENTS_PAST_CAP_KEPT,
            ))
        });
        if kept.len() == EVENTS_PAST_CAP_KEPT {
            kept.pop_front();
        }
        kept.push_back(event);
    }

    /// A trace cut at `Config::trace_events_max`: the run's last events
    /// past the cap (up to [`EVENTS_PAST_CAP_KEPT`], oldest first), which
    /// [`events`](Trace::events) does not hold; empty for a trace that was
    /// not cut (its events end where the run did), a hash-only one, or one
    /// read from a file.
    ///
    /// ```
    /// use asyncsim_sim::{Config, Sim};
    /// let run = Sim::new(Config::new().trace_events_max(10)).run(async {
    ///     for _ in 0..100 {
    ///         asyncsim_sim::yield_now().await;
    ///     }
    /// });
    /// let end = run.trace.events_past_cap();
    /// assert_eq!(end.len(), asyncsim_sim::trace::EVENTS_PAST_CAP_KEPT);
    /// assert!(end[0].step > run.trace.events()[9].step + 50);
    /// ```
    pub fn events_past_cap(&self) -> Vec<Event> {
        self.past_cap
            .as_deref()
            .map_or_else(Vec::new, |kept| kept.iter().copied().collect())
    }

    /// Every mark so far, stored as an event or not, in order.
    pub(crate) fn marks_so_far(&self) -> Vec<String> {
        self.marks()
            .chain(self.unstored_marks.iter().map(|label| self.label(*label)))
            .map(str::to_string)
            .collect()
    }
}

/// Folds one event into the rolling hash (a multiply-xorshift mix: fast, and
/// order-sensitive so two interleavings of the same events differ).
#[inline(always)]
fn mix(hash: u64, event: &Event) -> u64 {
    let (code, payload) = kind_code(&event.kind);
    let task = event.task.map_or(u64::MAX, |task| u64::from(task.0));
    mix_words(hash, code, task, payload, event.time_ns)
}

#[inline(always)]
fn mix_words(hash: u64, code: u64, task: u64, payload: u64, time_ns: u64) -> u64 {
    // Two rounds: what happened to whom, then its payload and time (the
    // rotation keeps a payload and a time of equal value from cancelling).
    let mut h = hash;
    for word in [code | (task << 8), payload ^ time_ns.rotate_left(32)] {
        h = (h ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h ^= h >> 29;
    }
    h
}

const CODE_POLL: u64 = 2;
const CODE_PENDING: u64 = 3;
const CODE_NET: u64 = 19;

#[inline]
fn wait_code(on: WaitOn) -> u64 {
    match on {
        WaitOn::Unknown => 0,
        WaitOn::Yield => 5,
        WaitOn::Join(task) => 1 | (u64::from(task.0) << 8),
        WaitOn::Timer { deadline_ns } => 2 ^ deadline_ns.rotate_left(8),
        WaitOn::PoolJob(job) => 3 | (u64::from(job) << 8),
        WaitOn::Resource(kind, id) => 4 | ((kind as u64) << 4) | (u64::from(id) << 8),
        WaitOn::Socket { op, socket } => 6 | ((op as u64) << 4) | (u64::from(socket) << 8),
    }
}

// Inlined into `record`, see there.
#[inline(always)]
fn kind_code(kind: &EventKind) -> (u64, u64) {
    let task = |task: Option<TaskId>| task.map_or(u64::MAX, |task| u64::from(task.0));
    match *kind {
        EventKind::Spawn { parent } => (1, task(parent)),
        EventKind::Poll => (CODE_POLL, 0),
        EventKind::Pending { on } => (CODE_PENDING, wait_code(on)),
        EventKind::Wake { by } => (4, task(by)),
        EventKind::TimerSet { deadline_ns } => (5, deadline_ns),
        EventKind::TimerFire { deadline_ns } => (6, deadline_ns),
        EventKind::ClockJump { from_ns } => (7, from_ns),
        EventKind::BlockingSleep { duration_ns } => (8, duration_ns),
        EventKind::SlowPoll { held_ns } => (9, held_ns),
        EventKind::PoolQueue { job } => (10, u64::from(job)),
        EventKind::PoolStart { job, worker } => (11, u64::from(job) | (u64::from(worker) << 32)),
        EventKind::PoolFinish { job, worker } => (12, u64::from(job) | (u64::from(worker) << 32)),
        EventKind::Complete => (13, 0),
        EventKind::Panic => (14, 0),
        EventKind::Abort => (15, 0),
        EventKind::Mark { label } => (16, u64::from(label)),
        EventKind::Warning(warning) => (17, warning as u64),
        // Codes are hashed: append new kinds, never renumber.
        EventKind::Crash { node } => (18, u64::from(node)),
        // 32 and up: select's (`crate::branch`); the world appends from 19.
        // The site is words only: not hashed.
        EventKind::BranchOrder { live, value, .. } => {
            (32, u64::from(live) << 32 | u64::from(value))
        }
        EventKind::PollYield => (33, 0),
        // The world's, from 19.
        EventKind::Net { op, socket, bytes } => (
            CODE_NET,
            op as u64 | (u64::from(socket) << 8) | (u64::from(bytes) << 40),
        ),
        EventKind::Fault { op, what } => (20, op as u64 | (u64::from(what) << 8)),
        EventKind::NetDrop {
            why,
            from,
            to,
            bytes,
        } => (
            21,
            (why as u64 | (u64::from(from) << 8) | (u64::from(bytes) << 40))
                ^ u64::from(to).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ),
    }
}

/// A label text's two hashes, for a maker that keeps them with the text
/// (the world's kept words): what [`Trace::hash`] folds in for it
/// ([`label_text_hash`]) and the key the run's labels are interned under
/// ([`label_key`]), so neither is computed again for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LabelHashes {
    pub(crate) text: u64,
    pub(crate) key: u64,
}

impl LabelHashes {
    /// `text`'s hashes.
    pub(crate) fn of(text: &str) -> LabelHashes {
        LabelHashes {
            text: label_text_hash(text),
            key: label_key(text),
        }
    }
}

/// A label's text as [`Trace::hash`] folds it in (FNV-1a).
pub(crate) fn label_text_hash(text: &str) -> u64 {
    text.bytes().fold(HASH_SEED, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The key a label's text is interned under (`kernel::labels`): a 64-bit
/// hash, 8 bytes at a time (labels run to a hundred bytes: SipHash was
/// most of interning one). Here beside [`label_text_hash`], so a maker that
/// keeps both ([`LabelHashes`]) needs the trace alone.
pub(crate) fn label_key(text: &str) -> u64 {
    bytes_key(text.as_bytes())
}

/// [`label_key`] over bytes: also the word hash of the kernel's table of
/// given task names (`kernel/slots.rs`, `NameHasher`).
pub(crate) fn bytes_key(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hash = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    hash ^ (hash >> 29)
}

/// Formats virtual nanoseconds as seconds with trailing zeros trimmed:
/// `0s`, `1s`, `1.5s`, `0.000001s`. Stable, for snapshots.
pub fn format_ns(ns: u64) -> String {
    let mut text = String::with_capacity(16);
    push_ns(&mut text, ns);
    text
}

/// Appends [`format_ns`]'s words for `ns` to `text`.
pub(crate) fn push_ns(text: &mut String, ns: u64) {
    // By hand: the world words its events with it as they happen.
    let mut digits = [0u8; 32];
    let mut start = 20;
    let mut seconds = ns / 1_000_000_000;
    loop {
        start -= 1;
        digits[start] = b'0' + (seconds % 10) as u8;
        seconds /= 10;
        if seconds == 0 {
            break;
        }
    }
    let mut end = 20;
    let mut fraction = ns % 1_000_000_000;
    if fraction != 0 {
        digits[20] = b'.';
        for place in (21..30).rev() {
            digits[place] = b'0' + (fraction % 10) as u8;
            fraction /= 10;
        }
        end = 30;
        while digits[end - 1] == b'0' {
            end -= 1;
        }
    }
    digits[end] = b's';
    text.reserve(end + 1 - start);
    for &digit in &digits[start..=end] {
        text.push(char::from(digit));
    }
}

/// Records a user mark — the article's `print` — in the running task's trace.
///
/// Outside a run it does nothing but is not an error, so library code can
/// mark freely. Inside a pool job (`spawn_blocking`) the mark carries the
/// job's own virtual time.
///
/// ```
/// use asyncsim_sim::{trace, Config, Sim};
/// let run = Sim::new(Config::new()).run(async { trace::mark("A"); trace::mark("B") });
/// assert_eq!(run.trace.marks().collect::<Vec<_>>(), ["A", "B"]);
/// ```
pub fn mark(label: impl AsRef<str>) {
    crate::cx::mark(label.as_ref());
}

/// The marks the current run has made so far, in order (pool jobs' marks
/// once the clock has reached them). Lets a test body assert on what it
/// printed, for example inside `asyncsim::check`.
///
/// ```
/// use asyncsim_sim::{trace, Config, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     trace::mark("A");
///     trace::mark("B");
///     trace::marks_so_far()
/// });
/// assert_eq!(run.result.unwrap(), ["A", "B"]);
/// ```
///
/// # Panics
///
/// Outside a run. (Works in `HashOnly` trace mode too: mark labels are
/// kept even when events are not.)
pub fn marks_so_far() -> Vec<String> {
    crate::cx::marks_so_far()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_ns_trims_zeros() {
        assert_eq!(format_ns(0), "0s");
        assert_eq!(format_ns(3_000_000_000), "3s");
        assert_eq!(format_ns(1_500_000_000), "1.5s");
        assert_eq!(format_ns(1), "0.000000001s");
    }
}
