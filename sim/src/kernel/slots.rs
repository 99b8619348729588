//! Task slots: one per task, with its cell, its state, what it waits on and
//! its node.

use std::borrow::Cow;
use std::cell::RefCell;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::panic::{self};
use std::sync::OnceLock;

use super::*;
use crate::raw::TaskOwner;
use crate::trace::{EventKind, TaskId, TaskInfo, WaitOn};

/// The engine's hold on a task (`raw::TaskOwner`), its slot seen as a
/// `dyn JoinSlotAny`.
pub(super) type Owner = TaskOwner<dyn JoinSlotAny>;

/// A simulated machine. Every task belongs to one: the main future and
/// what it spawns run on [`NodeId::MAIN`]; a spawned task inherits its
/// parent's node (a pool job its submitter's), `cx::spawn_on` names one.
/// A crash of a node drops all of its tasks at once (`cx::crash_node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node of the main future.
    pub(crate) const MAIN: NodeId = NodeId(0);
}

/// What a task slot holds: a future the loop polls, or a pool job's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SlotKind {
    /// A spawned future (or the main one): queued at once.
    Future,
    /// A pool job (`spawn_blocking`): never polled, done when the pool
    /// delivers.
    PoolJob,
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskState {
    /// Pending, not in the run queue.
    Idle,
    /// In the run queue.
    Queued,
    /// Being polled (`Core::running_woken` says whether it was woken
    /// meanwhile and goes back to the queue after the poll).
    Running,
    /// Finished, panicked or aborted. Never queued again.
    Done,
}

pub(super) struct TaskSlot {
    /// The task's future and join slot in one allocation (for a pool job,
    /// the join slot alone); `None` for the main task, whose future lives on
    /// `Sim::run`'s stack and whose output goes straight to the caller.
    /// Polled in place; dropped from here at the end of the run.
    pub(super) cell: Option<Owner>,
    /// A future, or a pool job's handle (which has none).
    pub(super) kind: SlotKind,
    /// The node the task runs on.
    pub(super) node: NodeId,
    pub(super) state: TaskState,
    /// What the task waited on at its last `Pending`.
    pub(super) waiting_on: WaitOn,
    /// `abort()` was called while the task was running.
    pub(super) abort_requested: bool,
}

impl TaskSlot {
    /// Gives the slot its task's owner back after a poll. `begin_poll` took
    /// it out, so the slot is empty: a plain write, with no destructor to
    /// test for (measured: a `cell = owner` assignment tests the old value
    /// on every step).
    #[inline(always)]
    pub(super) fn put_back(&mut self, owner: Option<Owner>) {
        debug_assert!(
            self.cell.is_none(),
            "asyncsim bug: a task's owner came back to a slot that has one"
        );
        // The old value is `None`: forgetting it drops nothing.
        std::mem::forget(std::mem::replace(&mut self.cell, owner));
    }
}

/// How a spawn names its task.
pub(crate) enum TaskName {
    /// `task-<id>` (`blocking-<id>` for a pool job).
    Default,
    /// Given through `task::Builder::name`.
    Given(String),
    /// The spawn site, as `task-<id>@<file>:<line>` (see [`site_task_name`]).
    Site(&'static Location<'static>),
}

impl From<Option<String>> for TaskName {
    #[inline(always)]
    fn from(name: Option<String>) -> TaskName {
        name.map_or(TaskName::Default, TaskName::Given)
    }
}

impl TaskName {
    /// The name of task `id`; `prefix` is `task` or `blocking`. An unnamed
    /// spawn's (the common one) in line: a load from the shared names.
    /// A spawn site's name, or a given one, is also told to the `core`'s
    /// watchdog beacon, which names the task by it if one of its polls
    /// hangs or blocks.
    #[inline(always)]
    pub(super) fn for_task(self, id: u32, prefix: &'static str, core: &Core) -> Cow<'static, str> {
        match self {
            TaskName::Default if prefix == "task" => default_task_name(id),
            other => other.for_task_named(id, prefix, core),
        }
    }

    #[inline(never)]
    fn for_task_named(self, id: u32, prefix: &'static str, core: &Core) -> Cow<'static, str> {
        let beacon = core.beacon;
        match self {
            TaskName::Default => Cow::Owned(format!("{prefix}-{id}")),
            TaskName::Given(name) => {
                if let Some(watchdog_id) = core.given_names.number(id, &name) {
                    beacon.named(id, watchdog_id);
                }
                Cow::Owned(name)
            }
            TaskName::Site(site) => {
                let (name, watchdog_id) = site_task_name(id, prefix, site);
                if let Some(watchdog_id) = watchdog_id {
                    beacon.named(id, watchdog_id);
                }
                name
            }
        }
    }
}

/// `task-<id>@<file>:<line>`, e.g. `task-3@src/server.rs:42`: unique in the
/// run (the id) and saying where the task came from (the file relative to
/// its crate: [`short_file`]). Interned: a program
/// spawns the same (id, site) pairs run after run, so each pair is formatted
/// once per thread and later spawns borrow the string (no allocation); past
/// the first ids, or a crowd of sites at one id, a fresh string. An interned
/// name comes with its number in the hang watchdog's names (given once,
/// when first formatted), by which the watchdog can say it.
pub(super) fn site_task_name(
    id: u32,
    prefix: &'static str,
    site: &'static Location<'static>,
) -> (Cow<'static, str>, Option<u32>) {
    const SHARED_IDS: usize = 4096;
    const SITES_PER_ID: usize = 8;
    type Interned = Vec<Vec<(&'static Location<'static>, &'static str, &'static str, u32)>>;
    thread_local! {
        static NAMES: RefCell<Interned> = const { RefCell::new(Vec::new()) };
    }
    let format = || format!("{prefix}-{id}@{}:{}", short_file(site.file()), site.line());
    let index = id as usize;
    if index >= SHARED_IDS {
        return (Cow::Owned(format()), None);
    }
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if names.len() <= index {
            names.resize_with(index + 1, Vec::new);
        }
        let sites = &mut names[index];
        let found = sites.iter().find(|(known, known_prefix, _, _)| {
            std::ptr::eq(*known, site) && std::ptr::eq(*known_prefix, prefix)
        });
        match found {
            Some((_, _, name, watchdog_id)) => (Cow::Borrowed(*name), Some(*watchdog_id)),
            None if sites.len() < SITES_PER_ID => {
                let name: &'static str = Box::leak(format().into_boxed_str());
                let watchdog_id = watchdog::text_id(name);
                sites.push((site, prefix, name, watchdog_id));
                (Cow::Borrowed(name), Some(watchdog_id))
            }
            None => (Cow::Owned(format()), None),
        }
    })
}

/// The number of a name given through `task::Builder::name` in the hang
/// watchdog's texts, so its lines name the task as reports do (`sleeper`,
/// not `task-1`): looked up in the thread's own table (a program names the
/// same tasks run after run), which keeps at most `GIVEN_NAMES_MAX` names;
/// a thread's later new names get none, and the watchdog says `task-<id>`
/// for them (a program that names each task afresh, `conn-<uuid>`, keeps
/// neither memory nor the lock of the process's texts busy). Only looked
/// up, never iterated: the table's order decides nothing.
fn given_name_id(name: &str) -> Option<u32> {
    const GIVEN_NAMES_MAX: usize = 4096;
    type Given = std::collections::HashMap<Box<str>, u32, BuildHasherDefault<NameHasher>>;
    thread_local! {
        static GIVEN: RefCell<Given> = RefCell::new(Given::default());
    }
    GIVEN.with(|given| {
        let mut given = given.borrow_mut();
        if let Some(id) = given.get(name) {
            return Some(*id);
        }
        if given.len() >= GIVEN_NAMES_MAX {
            return None;
        }
        let id = watchdog::text_id(name);
        given.insert(name.into(), id);
        Some(id)
    })
}

/// The watchdog's numbers ([`given_name_id`]) of the names a core's runs
/// gave tasks through `task::Builder::name`, by task id, as the last run to
/// name each id named it. A program names the same ids alike run after run
/// (a world's node tasks by their node's name), so a named spawn compares
/// its name with the one its id had, and only a name new to the id is
/// looked up in the thread's table: no hash on the spawn path of a program's
/// later runs (the lookup cost the bench's small simulation, two named node
/// tasks a run, ~0.8 %). The first `GIVEN_IDS_MAX` ids are kept. Read only
/// to name a task in the watchdog's lines: nothing here decides anything.
#[derive(Default)]
pub(crate) struct GivenNames(RefCell<Vec<(Box<str>, u32)>>);

/// How many task ids [`GivenNames`] keeps a name for (as many as the
/// watchdog's beacon can name).
const GIVEN_IDS_MAX: usize = 4096;

/// No number: an id not yet named (an empty name is a name).
const NO_NUMBER: u32 = u32::MAX;

impl GivenNames {
    /// The watchdog's number of `name`, given to task `id`.
    #[inline]
    fn number(&self, id: u32, name: &str) -> Option<u32> {
        if let Some((known, number)) = self.0.borrow().get(id as usize) {
            if *number != NO_NUMBER && **known == *name {
                return Some(*number);
            }
        }
        self.learn(id, name)
    }

    /// A name new to task `id`: looked up, and kept for the id.
    #[cold]
    #[inline(never)]
    fn learn(&self, id: u32, name: &str) -> Option<u32> {
        let number = given_name_id(name)?;
        let index = id as usize;
        if index < GIVEN_IDS_MAX {
            let mut known = self.0.borrow_mut();
            if known.len() <= index {
                known.resize_with(index + 1, || (Box::default(), NO_NUMBER));
            }
            known[index] = (name.into(), number);
        }
        Some(number)
    }
}

/// The hasher of [`given_name_id`]'s table: the trace's word hash
/// ([`crate::trace::bytes_key`], which keys labels too). std's default
/// (SipHash, keyed from OS randomness, which the engine otherwise never reads)
/// cost a named spawn about 100 instructions more, 0.6 % of a whole small
/// simulation, whose node tasks are named; a program's own task names need no
/// defence against flooding. The table is only looked up, so its hasher
/// decides nothing.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.rotate_left(5) ^ crate::trace::bytes_key(bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A source file as a report names it: relative to its crate
/// (`src/server.rs`, `tests/service.rs`, `examples/kv.rs`), so two files of
/// one name (a test's `service.rs` and the library's) read apart. `file!()`
/// is relative to the workspace (`tokio/sim-tests/tests/service.rs`), or
/// absolute for a crate from a registry (whose own path has a `src/` too):
/// the crate's part starts at its last `src/`, else its last `tests/`,
/// `examples/` or `benches/`. A file under none (a build script's output) is
/// named by its last component, or its last two for `mod.rs`, `lib.rs` and
/// `main.rs`.
fn short_file(file: &str) -> &str {
    for root in ["src", "tests", "examples", "benches"] {
        let mut start = None;
        let mut offset = 0;
        for component in file.split(['/', '\\']) {
            // A directory: the file's own name ends with `.rs`.
            if component == root && offset + component.len() < file.len() {
                start = Some(offset);
            }
            offset += component.len() + 1;
        }
        if let Some(start) = start {
            return &file[start..];
        }
    }
    let mut parts = file.rsplitn(3, ['/', '\\']);
    let last = parts.next().unwrap_or(file);
    if !matches!(last, "mod.rs" | "lib.rs" | "main.rs") {
        return last;
    }
    match parts.next() {
        Some(parent) => &file[file.len() - last.len() - 1 - parent.len()..],
        None => last,
    }
}

/// `task-<id>`: for the first ids a shared static string (built once per
/// process, so an unnamed spawn allocates no name), beyond them a fresh one.
#[inline(always)]
pub(super) fn default_task_name(id: u32) -> Cow<'static, str> {
    const SHARED: usize = 1024;
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    match NAMES
        .get_or_init(|| (0..SHARED).map(|id| format!("task-{id}")).collect())
        .get(id as usize)
    {
        Some(name) => Cow::Borrowed(name.as_str()),
        None => Cow::Owned(task_name_beyond_shared(id)),
    }
}

#[cold]
#[inline(never)]
fn task_name_beyond_shared(id: u32) -> String {
    format!("task-{id}")
}
impl Core {
    /// Registers a task and queues its first poll (after everything already
    /// runnable: asyncio's `call_soon`).
    pub(super) fn add_task(
        &self,
        cell: Option<Owner>,
        name: Cow<'static, str>,
        parent: Option<TaskId>,
        kind: SlotKind,
        node: NodeId,
    ) -> TaskId {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let id = state.tasks.len() as u32;
        let pool_job = kind == SlotKind::PoolJob;
        state.tasks.push(TaskSlot {
            cell,
            kind,
            node,
            state: if pool_job {
                TaskState::Idle
            } else {
                TaskState::Queued
            },
            waiting_on: if pool_job {
                WaitOn::PoolJob(0)
            } else {
                WaitOn::Unknown
            },
            abort_requested: false,
        });
        state.trace.tasks.push(TaskInfo {
            name,
            parent,
            blocking: pool_job,
        });
        state.chooser.task_spawned(id);
        state.record(Some(TaskId(id)), EventKind::Spawn { parent });
        if !pool_job {
            state.runnable.push_back(id);
        }
        TaskId(id)
    }

    /// The id the next task gets, its parent (the running task, or the pool
    /// job whose closure runs) and its node (`node`, or the parent's). At
    /// the task limit the run fails (and past the hard limit this panics).
    #[inline]
    pub(super) fn claim_task(&self, node: Option<NodeId>) -> (u32, Option<TaskId>, NodeId) {
        let (id, parent, node, tasks_max) = {
            let state = self.state.borrow();
            let parent = self
                .running_task()
                .or(state.pool.context.map(|job| job.task));
            let node = node.unwrap_or_else(|| state.node_of(parent));
            (state.tasks.len(), parent, node, state.config.tasks_max)
        };
        if id >= tasks_max.min(TASKS_HARD_LIMIT) {
            self.fail_task_limit(tasks_max);
        }
        (id as u32, parent, node)
    }

    /// The task being polled, if any (read without a borrow of the state).
    #[inline]
    pub(super) fn running_task(&self) -> Option<TaskId> {
        let running = self.running.get();
        (running != NOT_RUNNING).then_some(TaskId(running))
    }

    pub(crate) fn abort(&self, task: TaskId) {
        let mut work = None;
        let owner = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let Some(slot) = state.tasks.get_mut(task.index()) else {
                return;
            };
            match slot.state {
                TaskState::Done => return,
                TaskState::Running => {
                    slot.abort_requested = true;
                    return;
                }
                TaskState::Queued => {
                    state.runnable.remove_task(task.0);
                    state.chooser.queue_changed();
                }
                TaskState::Idle => {}
            }
            let slot = &mut state.tasks[task.index()];
            if slot.kind == SlotKind::PoolJob {
                // A pool job: only a job still in the queue can be cancelled.
                let Some(position) = state
                    .pool
                    .queue
                    .iter()
                    .position(|job| state.pool.jobs[*job as usize].task == task)
                else {
                    return;
                };
                let job = state
                    .pool
                    .queue
                    .remove(position)
                    .expect("position is in range");
                // The closure is user code: dropped after the borrow.
                work = state.pool.jobs[job as usize].work.take();
            }
            let slot = &mut state.tasks[task.index()];
            slot.state = TaskState::Done;
            let owner = slot.cell.take();
            state.record(Some(task), EventKind::Abort);
            owner
        };
        drop(work);
        if let Some(owner) = owner {
            let name = self.state.borrow().trace.task_name(task).to_string();
            // The handle resolves even when the destructor panicked; the
            // panic then goes on in the aborting task.
            if let Err(payload) = self.retire(task, owner, JoinError::cancelled(task, name)) {
                panic::resume_unwind(payload);
            }
        }
    }

    /// Ends a task that is not running, outside the borrow: drops its
    /// future, resolves its handle with `error` whatever the destructor did,
    /// and gives the owner back to the slot (which keeps the allocation
    /// until the run ends). Returns the destructor's panic, if any.
    pub(super) fn retire(
        &self,
        task: TaskId,
        mut owner: Owner,
        error: JoinError,
    ) -> std::thread::Result<()> {
        let dropped = owner.drop_future();
        owner.header().fail(error);
        self.state.borrow_mut().tasks[task.index()].cell = Some(owner);
        dropped
    }
}
impl State {
    /// The node of `task` (the main node for none, or outside the run).
    #[inline]
    pub(super) fn node_of(&self, task: Option<TaskId>) -> NodeId {
        task.and_then(|task| self.tasks.get(task.index()))
            .map_or(NodeId::MAIN, |slot| slot.node)
    }

    /// A node's name for messages: as `cx::new_node` named it, else `node-<id>`.
    pub(super) fn node_name(&self, node: NodeId) -> String {
        match self.node_names.get(node.0 as usize) {
            Some(Some(name)) => name.to_string(),
            Some(None) => "main".to_string(),
            None => format!("node-{}", node.0),
        }
    }
}

#[cfg(test)]
mod short_file_tests {
    use super::short_file;

    #[test]
    fn a_spawn_sites_file_is_named_relative_to_its_crate() {
        // A workspace member's test, its library, an example.
        assert_eq!(
            short_file("tokio/sim-tests/tests/service.rs"),
            "tests/service.rs"
        );
        assert_eq!(short_file("tests/service.rs"), "tests/service.rs");
        assert_eq!(short_file("src/lib.rs"), "src/lib.rs");
        assert_eq!(
            short_file("tokio/src/task/join_set.rs"),
            "src/task/join_set.rs"
        );
        assert_eq!(
            short_file("examples/common/support.rs"),
            "examples/common/support.rs"
        );
        // A module named `tests` inside `src/` stays under `src/`.
        assert_eq!(short_file("src/tests/mod.rs"), "src/tests/mod.rs");
        // A registry crate: its own `src/`, not the registry's.
        assert_eq!(
            short_file("/home/you/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/kv-1.0.0/src/net/mod.rs"),
            "src/net/mod.rs"
        );
        // Under none of them: the last component (two for a `mod.rs`).
        assert_eq!(short_file("/tmp/out/generated.rs"), "generated.rs");
        assert_eq!(short_file("/tmp/out/net/mod.rs"), "net/mod.rs");
        assert_eq!(short_file("lib.rs"), "lib.rs");
    }
}
