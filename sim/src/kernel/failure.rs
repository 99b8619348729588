//! Building the run's failure from its state: deadlock, limits, tape
//! divergence, foreign wakes. The first failure wins; the loop stops at the
//! next step boundary.

use super::*;
use crate::config::{default_time_limit_ns, environment_time_limit_ns};
use crate::failure::{BlockedTask, Failure, FailureKind, PROGRAM_CHANGED};
use crate::trace::{format_ns, TaskId, WaitOn};

impl Core {
    /// The run reached its task limit: record the failure (the run stops
    /// at the next step). Past the hard limit the task cannot even be made.
    #[cold]
    #[inline(never)]
    pub(super) fn fail_task_limit(&self, tasks_max: usize) {
        let mut state = self.state.borrow_mut();
        let message = if tasks_max <= TASKS_HARD_LIMIT {
            format!(
                "task limit: the run spawned {tasks_max} tasks (Config::tasks_max); a runaway spawn loop? raise the limit with Config::tasks_max"
            )
        } else {
            format!(
                "task limit: the run spawned {TASKS_HARD_LIMIT} tasks, the most one run can have (Config::tasks_max asks for more); a runaway spawn loop?"
            )
        };
        let failure = Failure::new(
            FailureKind::TaskLimit,
            message.clone(),
            state.step,
            state.clock.now_ns,
        );
        state.fail(failure);
        if state.tasks.len() >= TASKS_HARD_LIMIT {
            drop(state);
            panic!("{message}");
        }
    }

    pub(super) fn fail_foreign_wake(&self) {
        let mut state = self.state.borrow_mut();
        let message =
            "a waker of this run was used from another OS thread (or after the run ended): \
            that is nondeterminism asyncsim cannot control; keep all wakes inside the simulation \
            (use asyncsim::spawn_blocking instead of real threads)"
                .to_string();
        let failure = Failure::new(
            FailureKind::ForeignWake,
            message,
            state.step,
            state.clock.now_ns,
        );
        state.fail(failure);
    }
}
impl Core {
    /// Under `Config::waker_sites`: each blocked task that waits on a
    /// future asyncsim cannot see is named by where its waker was last
    /// cloned, which is where that future registered it
    /// ("tokio::sync::Mutex::lock at src/server.rs:42").
    pub(super) fn name_foreign_waits(&self, failure: &mut Failure) {
        let sites = self.waker_sites.borrow();
        for blocked in &mut failure.blocked {
            if blocked.wait != WaitOn::Unknown {
                continue;
            }
            // The other waits' words (after the first "; and on ") stay.
            let others = blocked
                .waiting_on
                .find(AND_ON)
                .map(|at| blocked.waiting_on[at..].to_string())
                .unwrap_or_default();
            blocked.waiting_on = match sites.get(blocked.task.index()) {
                Some(Some(site)) => match crate::waker_site::describe(site) {
                    Some(name) => format!(
                        "{name} (not an asyncsim primitive: named by where it registered the task's waker)"
                    ),
                    None => "a non-asyncsim future (not an asyncsim primitive; this build has no symbols to name it by)".to_string(),
                },
                _ => "a non-asyncsim future that never registered the task's waker: nothing can wake it".to_string(),
            } + &others;
        }
    }
}

/// Between a blocked task's waits in its report.
const AND_ON: &str = "; and on ";

impl State {
    /// Records the run's failure (the first one wins); the loop stops at the
    /// next step boundary.
    pub(crate) fn fail(&mut self, failure: Failure) {
        self.failure.get_or_insert(failure);
        self.attention = true;
    }

    pub(super) fn describe_wait(&self, on: WaitOn) -> String {
        let text = self.trace.describe_wait(on);
        match on {
            WaitOn::Resource(_, id) => {
                match self.resources.get(id as usize).and_then(|info| info.held()) {
                    Some(holder) => format!("{text} held by `{}`", self.trace.task_name(holder)),
                    None => text,
                }
            }
            WaitOn::Unknown => format!(
                "{text} (not an asyncsim primitive; the engine cannot see what it waits for: Config::waker_sites names it)"
            ),
            _ => text,
        }
    }

    /// The tasks not done, each with what it waits on: its last wait (its
    /// slot's), then every other socket side it waits on, as the world
    /// tells ([`super::SocketWaits`]).
    pub(super) fn blocked_tasks(&self) -> Vec<BlockedTask> {
        let mut socket_waits = Vec::new();
        if let Some(ask) = super::handle::SOCKET_WAITS.get() {
            ask(&mut socket_waits);
        }
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.state != TaskState::Done)
            .map(|(index, slot)| {
                let task = TaskId(index as u32);
                let mut other_waits: Vec<WaitOn> = Vec::new();
                for &(waiting, on) in &socket_waits {
                    if waiting == task && on != slot.waiting_on && !other_waits.contains(&on) {
                        other_waits.push(on);
                    }
                }
                let mut waiting_on = self.describe_wait(slot.waiting_on);
                for &on in &other_waits {
                    waiting_on.push_str(AND_ON);
                    waiting_on.push_str(&self.describe_wait(on));
                }
                BlockedTask {
                    task,
                    name: self.trace.tasks[index].name.to_string(),
                    waiting_on,
                    wait: slot.waiting_on,
                    other_waits,
                }
            })
            .collect()
    }

    pub(super) fn fail_deadlock(&mut self) {
        let blocked = self.blocked_tasks();
        let names: Vec<String> = blocked
            .iter()
            .map(|task| format!("`{}`", task.name))
            .collect();
        let message = format!(
            "deadlock: the main future is pending, no task is runnable, and no timer or pool job is left to wake one; blocked: {}",
            names.join(", ")
        );
        let mut failure =
            Failure::new(FailureKind::Deadlock, message, self.step, self.clock.now_ns);
        failure.blocked = blocked;
        self.fail(failure);
    }

    pub(super) fn fail_time_limit(&mut self, next_ns: u64) {
        let blocked = self.blocked_tasks();
        let limit_ns = self.config.time_limit_ns;
        let default = if limit_ns != default_time_limit_ns() {
            ""
        } else if environment_time_limit_ns().is_some() {
            ", from ASYNCSIM_TIME_LIMIT"
        } else {
            ", the default"
        };
        // Whose timer it is, and what the main future waits for: the usual
        // run that gets here is a service whose `interval` ticks on while
        // the test awaits its task, which nothing told to stop.
        let ticking = blocked.iter().find(
            |task| matches!(task.wait, WaitOn::Timer { deadline_ns } if deadline_ns == next_ns),
        );
        let mut message = format!(
            "virtual-time limit: the next timer is at {}, past Config::time_limit ({}{default})",
            format_ns(next_ns),
            format_ns(limit_ns),
        );
        if let Some(task) = ticking {
            message.push_str(&format!("; it is `{}`'s", task.name));
        }
        let main_waits = blocked
            .iter()
            .find(|task| task.task == TaskId(0))
            .map(|main| match main.wait {
                WaitOn::Join(_)
                | WaitOn::Resource(..)
                | WaitOn::Socket { .. }
                | WaitOn::Unknown => {
                    format!(" — here it waits on {}", main.waiting_on)
                }
                _ => String::new(),
            })
            .unwrap_or_default();
        message.push_str(&format!(
            ". Most often a task wakes on a timer again and again (an `interval`, or a `sleep` in a loop) and nothing stops it while the main future waits{main_waits}: a shutdown signal never sent? If the program really runs that long, raise the limit with Config::time_limit (under #[tokio::test], #[tokio::main] or #[asyncsim::test]: the argument `time_limit = \"2h\"`) or, for every run that sets none (Runtime::block_on too), with the variable ASYNCSIM_TIME_LIMIT (`2h`, `90m`, `3600s`)"
        ));
        let mut failure = Failure::new(
            FailureKind::TimeLimit,
            message,
            self.step,
            self.clock.now_ns,
        );
        failure.blocked = blocked;
        self.fail(failure);
    }

    pub(super) fn fail_step_limit(&mut self) {
        let runnable: Vec<String> = self
            .runnable
            .as_slice()
            .iter()
            .map(|task| format!("`{}`", self.trace.tasks[*task as usize].name))
            .collect();
        let mut message = format!(
            "step limit: the run made {} polls (Config::steps_max) without finishing; still runnable: {} (a livelock, a busy loop on yield_now waiting for time to pass, or a loop over operations that are always ready (a `send_to` loop), which the cooperative budget makes yield but not wait? virtual time moves only when nothing is runnable, unless Config::poll_cost gives each poll a cost; raise the limit with Config::steps_max if the program really is that long, lower it to find such a loop sooner)",
            self.config.steps_max,
            runnable.join(", ")
        );
        // The busy loops above leave the clock where it was; a service
        // whose periodic timer nobody stops (its test awaits the task
        // without sending the shutdown) moves it on, tick after tick, and
        // reads as "still runnable" too: name that cause when time moved.
        if self.clock.now_ns > 0 {
            message.push_str(&format!(
                "; virtual time reached {}: if it kept moving, a task woke on a timer again and again (an `interval`, or a `sleep` in a loop, that nothing stops while the main future waits for its task: a shutdown signal never sent?), and Config::time_limit ends such a run sooner",
                format_ns(self.clock.now_ns)
            ));
        }
        let mut failure = Failure::new(
            FailureKind::StepLimit,
            message,
            self.step,
            self.clock.now_ns,
        );
        failure.blocked = self.blocked_tasks();
        self.fail(failure);
    }

    /// `fail_divergence` for the divergence the chooser noted (the check
    /// for one stays a compare on the hot path).
    #[cold]
    #[inline(never)]
    pub(super) fn fail_pending_divergence(&mut self) {
        if let Some(divergence) = self.chooser.divergence.take() {
            self.fail_divergence(divergence);
        }
    }

    pub(super) fn fail_divergence(&mut self, divergence: crate::sched::Divergence) {
        let expected = divergence.expected;
        let range = if divergence.bound == 0 {
            "any u64".to_string()
        } else {
            format!("0..{}", divergence.bound)
        };
        let message = format!(
            "tape divergence at draw {}: the tape says a {} draw of value {}, but the program now makes a {} draw in {}; {PROGRAM_CHANGED}",
            divergence.index, expected.label, expected.value, divergence.label, range
        );
        let failure = Failure::new(
            FailureKind::TapeDivergence,
            message,
            self.step,
            self.clock.now_ns,
        );
        self.fail(failure);
    }

    /// A strict replay the program finished before reading to its end, with
    /// a nonzero draw left: the tape came from another program.
    pub(super) fn leftover_divergence(&self) -> Option<Failure> {
        let (index, draw) = self.chooser.leftover()?;
        let message = format!(
            "tape divergence at draw {index}: the program finished without making draw {index}, which the tape says is a {} draw of value {}; {PROGRAM_CHANGED}",
            draw.label, draw.value
        );
        Some(Failure::new(
            FailureKind::TapeDivergence,
            message,
            self.step,
            self.clock.now_ns,
        ))
    }

    /// A panic nobody else can observe fails the run (the main future's, or
    /// a task's or pool job's whose handle was dropped).
    pub(super) fn fail_panic(
        &mut self,
        task: TaskId,
        name: String,
        message: String,
        location: Option<Box<str>>,
    ) {
        let mut failure = Failure::new(FailureKind::Panic, message, self.step, self.clock.now_ns);
        failure.task = Some(task);
        failure.task_name = Some(name);
        failure.location = location;
        self.fail(failure);
    }
}
