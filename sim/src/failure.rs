//! Why a run did not produce its main future's output.

use std::fmt;

use crate::trace::{format_ns, TaskId, WaitOn};

/// A task that could not make progress when the run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedTask {
    /// The task.
    pub task: TaskId,
    /// Its name.
    pub name: String,
    /// What it waits on, rendered ("Mutex#2 held by `reader`"): its last
    /// wait, then each of [`BlockedTask::other_waits`] ("read of
    /// TcpStream#0 …; and on write of TcpStream#0 …").
    pub waiting_on: String,
    /// Its last wait (the one its last poll parked last), as data.
    pub wait: WaitOn,
    /// Its other waits the engine sees, in a fixed order: every socket side
    /// it waits on besides `wait` (a read and a write of one task, a read
    /// beside a `readable` of another stream), streams first, then
    /// listeners, then UDP sockets, each by id.
    pub other_waits: Vec<WaitOn>,
}

/// How a tape divergence's message ends: the cause it gives. A harness that
/// knows the token was recorded by another test puts that cause in its place.
pub const PROGRAM_CHANGED: &str =
    "the program changed since the token was recorded (re-run the exploration to get a fresh token)";

/// What kind of failure; see [`Failure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// A task panicked and nobody could observe it.
    Panic,
    /// The main future is pending and nothing can ever wake anything.
    Deadlock,
    /// The run made `Config::steps_max` polls (livelock or runaway loop).
    StepLimit,
    /// Virtual time passed `Config::time_limit`.
    TimeLimit,
    /// A replayed tape no longer fits the program.
    TapeDivergence,
    /// A waker was used from another OS thread or after its run ended.
    ForeignWake,
    /// The run spawned more than `Config::tasks_max` tasks.
    TaskLimit,
    /// The body itself reported a failure (used by the harness).
    Body,
}

/// Why a run failed, with everything needed to act on it.
///
/// `Display` gives the message a user sees:
///
/// ```
/// use asyncsim_sim::{Config, FailureKind, Sim};
/// let run = Sim::new(Config::new()).run(async {
///     let (_tx, rx) = futures::channel::oneshot::channel::<()>();
///     rx.await.ok();
/// });
/// let failure = run.result.unwrap_err();
/// assert_eq!(failure.kind, FailureKind::Deadlock);
/// assert!(failure.to_string().contains("deadlock"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The kind, for matching.
    pub kind: FailureKind,
    /// The message, in full.
    pub message: String,
    /// The task it concerns (the panicking task).
    pub task: Option<TaskId>,
    /// The task's name.
    pub task_name: Option<String>,
    /// The step (polls made) when it happened.
    pub step: u64,
    /// Virtual time when it happened.
    pub time_ns: u64,
    /// The tasks that were blocked (for deadlocks and limits).
    pub blocked: Vec<BlockedTask>,
    /// For a panic: where it was raised (`file.rs:line`), as the panic hook
    /// saw it; the message names it too, with any re-raising locations.
    /// (A boxed `str` keeps `Failure` small: runs return it by value.)
    pub location: Option<Box<str>>,
}

impl Failure {
    pub(crate) fn new(kind: FailureKind, message: String, step: u64, time_ns: u64) -> Failure {
        Failure {
            kind,
            message,
            task: None,
            task_name: None,
            step,
            time_ns,
            blocked: Vec::new(),
            location: None,
        }
    }

    /// A failure reported by a test body (the harness uses this for body panics
    /// it catches outside the engine).
    pub fn body(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Body, message.into(), 0, 0)
    }

    /// The list of blocked tasks, one a line, for reports.
    pub fn blocked_report(&self) -> String {
        let mut text = String::new();
        for blocked in &self.blocked {
            text.push_str(&format!(
                "  task `{}` ({}) waits on {}\n",
                blocked.name, blocked.task, blocked.waiting_on
            ));
        }
        text
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A multi-line message (an assert_eq! diff) keeps its shape; the
        // position goes on a line of its own.
        let separator = if self.message.contains('\n') {
            "\n"
        } else {
            " "
        };
        write!(
            f,
            "{}{separator}(at step {}, virtual time {})",
            self.message,
            self.step,
            format_ns(self.time_ns)
        )?;
        if !self.blocked.is_empty() {
            write!(f, "\nblocked tasks:\n{}", self.blocked_report().trim_end())?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}
