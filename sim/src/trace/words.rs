//! A trace in words: an event described (`Trace::describe`, and
//! `Trace::describe_at`, with what its neighbours tell, worked out when
//! rendering), what a task waits on, and the trace's lines (`Trace::tail`,
//! `Display`). Nothing here runs while a run records: only when someone
//! reads the trace.

use std::fmt;

use super::*;

impl Trace {
    /// Renders one event's description (without step and time).
    pub fn describe(&self, event: &Event) -> String {
        match event.kind {
            EventKind::Spawn { parent } => match parent {
                Some(parent) => format!("spawn (by {})", self.task_name(parent)),
                None => "spawn".to_string(),
            },
            EventKind::Poll => "poll".to_string(),
            EventKind::Pending { on: WaitOn::Yield } => "yielded".to_string(),
            EventKind::Pending { on } => format!("pending on {}", self.describe_wait(on)),
            EventKind::Wake { by } => match by {
                Some(by) => format!("woken by {}", self.task_name(by)),
                None => "woken by the engine".to_string(),
            },
            EventKind::TimerSet { deadline_ns } => {
                format!("timer set for {}", format_ns(deadline_ns))
            }
            EventKind::TimerFire { deadline_ns } => {
                format!("timer fired (due {})", format_ns(deadline_ns))
            }
            EventKind::ClockJump { from_ns } => format!(
                "clock {} -> {}",
                format_ns(from_ns),
                format_ns(event.time_ns)
            ),
            EventKind::BlockingSleep { duration_ns } => {
                let on_worker = event
                    .task
                    .and_then(|task| self.tasks.get(task.index()))
                    .is_some_and(|info| info.blocking);
                if on_worker {
                    format!(
                        "blocking sleep {} (on a pool worker)",
                        format_ns(duration_ns)
                    )
                } else {
                    format!("blocking sleep {} (holds the loop)", format_ns(duration_ns))
                }
            }
            EventKind::SlowPoll { held_ns } => {
                format!("slow poll: held the loop {}", format_ns(held_ns))
            }
            EventKind::PoolQueue { job } => format!("pool job {job} queued"),
            EventKind::PoolStart { job, worker } => {
                format!("pool job {job} started on worker {worker}")
            }
            EventKind::PoolFinish { job, worker } => {
                format!("pool job {job} finished on worker {worker}")
            }
            EventKind::Complete => "complete".to_string(),
            EventKind::Panic => "panic".to_string(),
            EventKind::Abort => "aborted".to_string(),
            EventKind::Mark { label } => format!("mark {:?}", self.label(label)),
            EventKind::Warning(warning) => format!("warning: {}", warning.message()),
            EventKind::Crash { node } => format!("dropped: node {node} crashed"),
            EventKind::BranchOrder { live, value, site } => {
                let order = crate::branch::order::describe_order(live, value);
                match self.branch_site(site) {
                    Some((what, at)) => format!(
                        "{} at {}:{} {order}",
                        what.trim_start_matches("asyncsim::"),
                        at.file(),
                        at.line()
                    ),
                    None => order,
                }
            }
            EventKind::PollYield => "explore_polls: yielded before polling".to_string(),
            EventKind::Net { op, socket, bytes } => {
                // A stream's label reads local -> peer; what a deliver, an
                // accept, a reset or a timeout tells of came from the peer.
                let incoming = matches!(
                    op,
                    NetOp::Deliver | NetOp::Accept | NetOp::Reset | NetOp::TimedOut
                );
                let socket = socket_words(self.label(socket), incoming);
                match op {
                    NetOp::Send | NetOp::Deliver => {
                        format!("net {} {bytes} bytes on {socket}", op.name())
                    }
                    NetOp::Refused | NetOp::ConnectTimedOut | NetOp::ConnectAborted => {
                        format!("net {}: {socket}", op.name())
                    }
                    _ => format!("net {} {socket}", op.name()),
                }
            }
            EventKind::NetDrop {
                why,
                from,
                to,
                bytes,
            } => format!(
                "net drop {bytes} bytes from {} to {}: {}",
                self.label(from),
                self.label(to),
                why.words()
            ),
            EventKind::Fault { what, .. } => format!("fault: {}", self.label(what)),
        }
    }

    /// Renders the event at `index` like [`Trace::describe`], with what its
    /// neighbours tell: a wake by the engine whose timer was set from
    /// another task's poll (a message's arrival sets its reader's timer,
    /// `cx::register_timer_for`) says which delivery woke the reader, and
    /// the timer's firing just before it says it is that arrival's, so the
    /// two lines read in order ("timer fired (due 0.01s): the arrival of
    /// a delivery", then "woken by a delivery on TcpStream#1 …"). Worked out
    /// here, when rendering; nothing is recorded for it.
    pub fn describe_at(&self, index: usize) -> String {
        if let Some(words) = self.arrival_wake_words(index) {
            return words;
        }
        let event = &self.events[index];
        if matches!(event.kind, EventKind::TimerFire { .. }) {
            if let Some((socket_event, _)) = self.arrival_at(index + 1) {
                let what = match socket_event {
                    Some((NetOp::Deliver, _)) => "the arrival of a delivery",
                    Some((NetOp::Accept, _)) => "the arrival of a connection",
                    Some((NetOp::Reset, _)) => "the arrival of a reset",
                    Some((NetOp::TimedOut, _)) => "its connection's timeout",
                    _ => "an arrival on its socket",
                };
                return format!("{}: {what}", self.describe(event));
            }
        }
        if let (EventKind::TimerSet { .. }, Some(task)) = (event.kind, event.task) {
            // Only a message's arrival sets a timer for a task other than
            // the one being polled: say whose poll sent it.
            const REACH: usize = 4096;
            let polled = self.events[index.saturating_sub(REACH)..index]
                .iter()
                .rev()
                .find(|earlier| matches!(earlier.kind, EventKind::Poll))
                .and_then(|poll| poll.task);
            if let Some(sender) = polled.filter(|sender| *sender != task) {
                return format!(
                    "{}: an arrival, sent in `{}`'s poll",
                    self.describe(event),
                    self.task_name(sender)
                );
            }
        }
        self.describe(event)
    }

    /// For a `Wake { by: None }` at `index` right after its task's timer
    /// fired, where that timer was set while another task was polled: the
    /// words of the arrival (the socket event of the woken task's next
    /// poll). Scans a bounded stretch of the trace either side.
    pub fn arrival_wake_words(&self, index: usize) -> Option<String> {
        let (socket_event, sender) = self.arrival_at(index)?;
        let sender = self.task_name(sender);
        Some(match socket_event {
            Some((NetOp::Deliver, socket)) => format!(
                "woken by a delivery on {} (sent by `{sender}`)",
                socket_words(self.label(socket), true)
            ),
            Some((NetOp::Accept, socket)) => format!(
                "woken by a connection on {} (connect by `{sender}`)",
                socket_words(self.label(socket), true)
            ),
            Some((op, socket)) => format!(
                "woken by its socket {} ({} after `{sender}`'s poll)",
                socket_words(self.label(socket), true),
                op.name()
            ),
            None => format!("woken by an arrival on its socket (set in motion by `{sender}`)"),
        })
    }

    /// The arrival behind the wake at `index` (see
    /// [`Trace::arrival_wake_words`]): the woken task's first socket event
    /// of its next poll, if any, and the task whose poll set the timer.
    fn arrival_at(&self, index: usize) -> Option<(Option<(NetOp, u32)>, TaskId)> {
        const REACH: usize = 4096;
        let event = self.events.get(index)?;
        let (EventKind::Wake { by: None }, Some(task)) = (event.kind, event.task) else {
            return None;
        };
        let fired = self.events.get(index.checked_sub(1)?)?;
        let EventKind::TimerFire { deadline_ns } = fired.kind else {
            return None;
        };
        if fired.task != Some(task) {
            return None;
        }
        let before = &self.events[index.saturating_sub(REACH)..index - 1];
        let set = before.iter().rposition(|earlier| {
            earlier.task == Some(task)
                && matches!(earlier.kind, EventKind::TimerSet { deadline_ns: due } if due == deadline_ns)
        })?;
        let sender = before[..set]
            .iter()
            .rev()
            .find(|earlier| matches!(earlier.kind, EventKind::Poll))?
            .task?;
        if sender == task {
            return None;
        }
        let after = &self.events[index + 1..(index + 1 + REACH).min(self.events.len())];
        let poll = after
            .iter()
            .position(|later| later.task == Some(task) && matches!(later.kind, EventKind::Poll));
        let socket_event = poll.and_then(|poll| {
            after[poll + 1..]
                .iter()
                .take_while(|later| !matches!(later.kind, EventKind::Poll))
                .find_map(|later| match later.kind {
                    EventKind::Net { op, socket, .. } if later.task == Some(task) => {
                        Some((op, socket))
                    }
                    _ => None,
                })
        });
        // A reset is recorded at its arrival by no task, just before the
        // timer that wakes the end's reader, whose read then records none.
        let socket_event = socket_event.or_else(|| self.reset_arrived(index - 1, task));
        Some((socket_event, sender))
    }

    /// The reset or timeout that came, at the time of the timer fired at `fired`, to
    /// the socket `task` waited on then, if one did.
    fn reset_arrived(&self, fired: usize, task: TaskId) -> Option<(NetOp, u32)> {
        const REACH: usize = 4096;
        let time_ns = self.events[fired].time_ns;
        let waited = self.events[fired.saturating_sub(REACH)..fired]
            .iter()
            .rev()
            .find_map(|earlier| match earlier.kind {
                EventKind::Pending { on } if earlier.task == Some(task) => Some(on),
                _ => None,
            })?;
        let WaitOn::Socket { socket, .. } = waited else {
            return None;
        };
        self.events[..fired]
            .iter()
            .rev()
            .take_while(|earlier| earlier.time_ns == time_ns)
            .find_map(|earlier| match earlier.kind {
                EventKind::Net {
                    op: op @ (NetOp::Reset | NetOp::TimedOut),
                    socket: reset,
                    ..
                } if earlier.task.is_none() && reset == socket => Some((op, socket)),
                _ => None,
            })
    }

    /// Renders what a task waits on ("JoinHandle of `worker`", "Mutex#2").
    pub fn describe_wait(&self, on: WaitOn) -> String {
        match on {
            WaitOn::Unknown => "a non-asyncsim future".to_string(),
            WaitOn::Yield => "nothing (yielded, runnable again)".to_string(),
            WaitOn::Join(task) => format!("JoinHandle of `{}`", self.task_name(task)),
            WaitOn::Timer { deadline_ns } => format!("timer at {}", format_ns(deadline_ns)),
            WaitOn::PoolJob(job) => format!("pool job {job}"),
            WaitOn::Resource(kind, id) => format!("{}#{id}", kind.name()),
            WaitOn::Socket {
                op: SocketWait::Write,
                socket,
            } => {
                // A writer waits for room toward the peer.
                format!(
                    "write of {}: the peer's receive buffer is full (it has not read what was sent)",
                    socket_words(self.label(socket), false)
                )
            }
            WaitOn::Socket {
                op: SocketWait::Error,
                socket,
            } => format!(
                "an error on {} (none comes: the simulated network sends no ICMP errors)",
                self.label(socket)
            ),
            WaitOn::Socket { op, socket } => {
                // A task waits for what comes in from the peer.
                format!(
                    "{} of {}",
                    op.name(),
                    socket_words(self.label(socket), true)
                )
            }
        }
    }

    /// The last `count` events, rendered one a line.
    pub fn tail(&self, count: usize) -> String {
        let start = self.events.len().saturating_sub(count);
        let mut text = String::new();
        self.write_lines(&mut text, start..self.events.len());
        text
    }

    /// A cut trace's last events, past the cap
    /// ([`events_past_cap`](Trace::events_past_cap)), rendered one a line as
    /// [`tail`](Trace::tail) renders its (each in its own words: its
    /// neighbours are not all kept); empty for a trace that was not cut.
    pub fn tail_past_cap(&self) -> String {
        let events = self.events_past_cap();
        let width = events
            .iter()
            .map(|event| self.task_of(event).chars().count())
            .fold(TASK_COLUMN_MIN, usize::max);
        let mut text = String::new();
        for event in &events {
            self.write_event_line(&mut text, event, &self.describe(event), width);
        }
        text
    }

    /// The events of `range`, one a line, their task column as wide as the
    /// longest task name among them (at least [`TASK_COLUMN_MIN`]), so a
    /// long name (the tokio face's `task-3@src/server.rs:42`) keeps the
    /// descriptions in one column.
    fn write_lines(&self, out: &mut String, range: std::ops::Range<usize>) {
        let width = self.events[range.clone()]
            .iter()
            .map(|event| self.task_of(event).chars().count())
            .fold(TASK_COLUMN_MIN, usize::max);
        for index in range {
            self.write_line(out, index, width);
        }
    }

    /// An event's task as its line names it.
    fn task_of(&self, event: &Event) -> &str {
        event.task.map_or("-", |task| self.task_name(task))
    }

    fn write_line(&self, out: &mut String, index: usize, width: usize) {
        self.write_event_line(out, &self.events[index], &self.describe_at(index), width);
    }

    /// One line: `event`'s step, time and task, and `words`.
    fn write_event_line(&self, out: &mut String, event: &Event, words: &str, width: usize) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "{:>5} {:>10}  {:<width$} {words}",
            event.step,
            format_ns(event.time_ns),
            self.task_of(event),
        );
    }
}

/// The narrowest task column of a trace's lines (and the whole trace's,
/// `Display`): asyncsim's own names (`task-12`, `main`, most
/// `Builder::name`s) fit, and line up as they always have.
const TASK_COLUMN_MIN: usize = 12;

impl fmt::Display for Trace {
    /// One event a line: `step  time  task  description`. No addresses, no
    /// wall-clock time: stable across machines, for insta snapshots.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        // The task column stays twelve wide here, whatever the names: this
        // text is snapshotted and digested by tests that pin schedules.
        for index in 0..self.events.len() {
            self.write_line(&mut text, index, TASK_COLUMN_MIN);
        }
        if self.is_truncated() {
            text.push_str(&format!(
                "... {} more events not recorded (hash {:016x})\n",
                self.event_count - self.events.len() as u64,
                self.hash()
            ));
        }
        f.write_str(&text)
    }
}
