//! What a run hands back: [`Run`], and the records it carries.

use std::time::Duration;

use crate::failure::Failure;
use crate::sched::Strategy;
use crate::tape::{DrawLabel, Tape};
use crate::trace::{TaskId, Trace};

/// One non-canonical decision of a run, with enough context to explain it
/// ("at step 7 ran `writer` instead of `reader`").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deviation {
    /// Index of the draw on the tape.
    pub draw: usize,
    /// The step the decision was for (the poll it chose, for schedule draws).
    pub step: u64,
    /// Virtual time of the decision.
    pub time_ns: u64,
    /// What kind of decision.
    pub label: DrawLabel,
    /// The value drawn (nonzero).
    pub value: u64,
    /// How many options there were.
    pub bound: u64,
    /// The task the decision favoured, when it chose between tasks or timers.
    pub chosen: Option<TaskId>,
    /// The task asyncio's own order would have favoured.
    pub canonical: Option<TaskId>,
    /// For the world's draws (`net`, `fault`, `disk`): what the value did,
    /// in words ("dropped a datagram of 8 bytes main:49152 -> db:53", "crash node
    /// `db`"); `None` for the engine's own decisions.
    pub what: Option<String>,
}

/// A poll that held the loop at least `Config::slow_poll`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowPoll {
    /// The task polled.
    pub task: TaskId,
    /// Its name.
    pub name: String,
    /// The step of the poll.
    pub step: u64,
    /// Virtual time when the poll started.
    pub start_ns: u64,
    /// How long it held the loop.
    pub held_ns: u64,
}

/// What one run produced.
#[derive(Debug)]
pub struct Run<T> {
    /// The main future's output, or why there is none.
    pub result: Result<T, Failure>,
    /// Everything that happened.
    pub trace: Trace,
    /// Every draw: replays this run exactly (`Strategy::Replay`).
    pub tape: Tape,
    /// The seed the run used.
    pub seed: u64,
    /// The strategy the run used.
    pub strategy: Strategy,
    pub(super) steps: u64,
    pub(super) elapsed_ns: u64,
    pub(super) slow_polls: Vec<SlowPoll>,
    pub(super) deviations: Vec<Deviation>,
    pub(super) preemptions: Vec<Deviation>,
}

impl<T> Run<T> {
    /// Virtual time from start to end of the run.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_ns)
    }

    /// Virtual time in nanoseconds.
    pub fn elapsed_ns(&self) -> u64 {
        self.elapsed_ns
    }

    /// How many polls the run made.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The polls that held the loop at least `Config::slow_poll`, in order.
    pub fn slow_polls(&self) -> &[SlowPoll] {
        &self.slow_polls
    }

    /// The scheduling and timer decisions that departed from asyncio's
    /// order, in order, with the tasks involved. (Random-data draws are not
    /// listed: they have no canonical task.)
    ///
    /// Recorded when the run replays a tape — how the harness explains a
    /// failure — or when `Config::record_deviations(true)` is set; empty
    /// otherwise, to keep exploration runs cheap.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    /// The scheduling decisions that departed from *run-to-completion*
    /// order, in order: the order in which the task picked last runs again
    /// whenever it is runnable (after a `yield_now`, say), and otherwise the
    /// oldest runnable task does (the order `Config::replay_sticky` follows
    /// once a tape runs out, and preemption bounding counts from). Each is
    /// a [`Deviation`] whose `canonical` is the task that order would have
    /// run: the task picked last when it was runnable (a preemption), else
    /// the oldest. A schedule in which one task runs far ahead of another
    /// is many deviations from asyncio's order and few of these.
    ///
    /// Recorded with [`Run::deviations`]; empty otherwise.
    ///
    /// ```
    /// use asyncsim_sim::{Config, Sim, Strategy};
    ///
    /// // asyncio's order alternates two yielding tasks: every pick after
    /// // the first polls of `a` and `b` switches away from a runnable task.
    /// let config = Config::new().strategy(Strategy::Fifo).record_deviations(true);
    /// let run = Sim::new(config).run(async {
    ///     let spin = || async { for _ in 0..3 { asyncsim_sim::yield_now().await } };
    ///     let a = asyncsim_sim::spawn(spin());
    ///     let b = asyncsim_sim::spawn(spin());
    ///     a.await.unwrap();
    ///     b.await.unwrap();
    /// });
    /// assert!(run.deviations().is_empty());
    /// assert!(run.preemptions().len() >= 5);
    /// ```
    pub fn preemptions(&self) -> &[Deviation] {
        &self.preemptions
    }

    /// True when the main future completed.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }
}

/// What [`Sim::run_outcome`] reports: the run's result and its trace hash.
#[doc(hidden)]
#[derive(Debug)]
pub struct RunOutcome<T> {
    /// As [`Run::result`].
    pub result: Result<T, Failure>,
    /// As `Run::trace.hash()`.
    pub trace_hash: u64,
}
