//! The kernel's side of `cx`: every call the rest of the crate makes into
//! the run in progress. (`cx.rs` finds the core and calls these.)

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use super::*;
use crate::clock::{TimerAction, TimerKey};
use crate::pool::{JobWork, PoolJob};
use crate::raw;
use crate::tape::DrawLabel;
use crate::trace::{EventKind, LabelHashes, LabelText, NetOp, ResourceKind, TaskId, WaitOn};

/// Runs `f` with the current core, or panics with a message naming `what`.
#[inline]
pub(crate) fn with_core<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    match raw::with_current(&CORE, f) {
        Some(result) => result,
        None => outside_a_run(what),
    }
}

#[cold]
#[inline(never)]
pub(super) fn outside_a_run(what: &str) -> ! {
    panic!(
        "{what} was called outside a simulation: call it inside the future passed to Sim::run (or asyncsim::check; through the tokio face, inside #[tokio::test], #[tokio::main] or Runtime::block_on)"
    )
}

/// Runs `f` with the current core if there is one.
#[inline]
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    raw::with_current(&CORE, f)
}

/// The id of the run in progress on this thread, if any.
#[inline]
pub(crate) fn current_run_id() -> Option<u64> {
    try_with_core(|core| core.run_id.get())
}

/// Spawns a future as a new task of the current run, named as `name` says.
#[inline(always)]
pub(crate) fn spawn_task_named<F>(future: F, name: TaskName) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_task_on(None, future, name)
}

/// Spawns a future as a new task of the current run.
#[inline(always)]
pub(crate) fn spawn_task<F>(future: F, name: Option<String>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let name = TaskName::from(name);
    spawn_task_on(None, future, name)
}

/// Spawns a future as a new task of the current run on `node`.
#[allow(dead_code)] // for the world (`sim/src/world`)
#[inline(always)]
pub(crate) fn spawn_on<F>(node: NodeId, future: F, name: Option<String>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_task_on(Some(node), future, TaskName::from(name))
}

/// Spawns on `node`, or on the spawning task's node. Inlined into the
/// caller's spawn (with the wrappers above), as the future's one way into
/// its cell.
#[inline(always)]
pub(super) fn spawn_task_on<F>(
    node: Option<NodeId>,
    future: F,
    name: TaskName,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // The future goes into its cell first (`raw::NewTask`: a cell built
    // after the call below, the future held across it, cost two more
    // copies of it), and the cell is finished between two looks at the
    // core: captured by a closure it was copied once more on its way (a
    // `memcpy` of a large future, such as a world server's). Nothing runs
    // in between that could spawn.
    let started = raw::NewTask::new(future);
    let (id, parent, node, run_id) = with_core("asyncsim::spawn", |core| {
        let (id, parent, node) = core.claim_task(node);
        (id, parent, node, core.run_id.get())
    });
    let (owner, cell) = started.finish(JoinSlot::new(TaskId(id), run_id));
    with_core("asyncsim::spawn", |core| {
        let name = name.for_task(id, "task", core);
        let task = core.add_task(Some(owner), name, parent, SlotKind::Future, node);
        debug_assert_eq!(task.0, id);
        JoinHandle::new(cell.unsize(|cell| cell as &dyn JoinSlotRef<F::Output>))
    })
}

/// Queues a closure on the simulated executor pool.
pub(crate) fn spawn_blocking_job<F, R>(work: F, name: TaskName) -> JoinHandle<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    with_core("asyncsim::spawn_blocking", |core| {
        assert!(
            core.state.borrow().pool.context.is_none(),
            "asyncsim::spawn_blocking was called inside a spawn_blocking job; submit the work from async code instead"
        );
        let (id, parent, node) = core.claim_task(None);
        let (owner, slot) = raw::new_job(JoinSlot::new(TaskId(id), core.run_id.get()));
        let name = name.for_task(id, "blocking", core);
        let task = core.add_task(Some(owner), name, parent, SlotKind::PoolJob, node);
        let writer = slot.clone();
        let job_work: JobWork = Box::new(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(work));
            let result: Result<R, String> =
                outcome.map_err(|payload| CapturedPanic::take(&*payload).text());
            Box::new(move || match result {
                Ok(value) => writer.header().complete(Ok(value)),
                Err(message) => {
                    let (name, on) = try_with_core(|core| {
                        let state = core.state.borrow();
                        let on = (node != NodeId::MAIN).then(|| state.node_name(node));
                        (state.trace.task_name(task).to_string(), on)
                    })
                    .unwrap_or_default();
                    if writer.header().handle_alive() {
                        deliver_panic(
                            writer.header(),
                            JoinError::panicked(task, name, message, on),
                        );
                    } else {
                        try_with_core(|core| {
                            let mut state = core.state.borrow_mut();
                            state.record(Some(task), EventKind::Panic);
                            let message = format!("pool job `{name}` panicked {message} (and its JoinHandle was dropped, so nobody can observe it)");
                            state.fail_panic(task, name, message, None);
                        });
                    }
                }
            })
        });
        {
            let mut state = core.state.borrow_mut();
            let job = state.pool.jobs.len() as u32;
            state.pool.jobs.push(PoolJob {
                task,
                work: Some(job_work),
                deliver: None,
                worker: None,
            });
            state.pool.queue.push_back(job);
            state.tasks[task.index()].waiting_on = WaitOn::PoolJob(job);
            state.record(Some(task), EventKind::PoolQueue { job });
        }
        core.start_pool_jobs();
        JoinHandle::new(slot.unsize(|slot| slot as &dyn JoinSlotRef<R>))
    })
}

/// Blocks the current task (or pool job) for `duration` of virtual time.
pub(crate) fn blocking_sleep(duration: Duration) {
    let duration_ns = crate::clock::duration_to_ns(duration);
    with_core("asyncsim::blocking::sleep", |core| {
        let mut state = core.state.borrow_mut();
        let state = &mut *state;
        if let Some(mut job) = state.pool.context {
            let at = job.start_ns + job.offset_ns;
            state.record_at(at, Some(job.task), EventKind::BlockingSleep { duration_ns });
            job.offset_ns = job.offset_ns.saturating_add(duration_ns);
            state.pool.context = Some(job);
            return;
        }
        let task = core.running_task();
        state.record(task, EventKind::BlockingSleep { duration_ns });
        state.clock.now_ns = state.clock.now_ns.saturating_add(duration_ns);
        core.beacon.clock(state.clock.now_ns);
        state.held_ns = state.held_ns.saturating_add(duration_ns);
        state.poll_end_work = true;
        state.flush_deferred();
        if state.clock.now_ns > state.config.time_limit_ns {
            let limit = state.clock.now_ns;
            state.fail_time_limit(limit);
        }
    });
}

/// Records a user mark.
pub(crate) fn mark(label: &str) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        let state = &mut *state;
        let id = state.label_ids.intern(&mut state.trace, label);
        state.record_for_caller(core.running_task(), EventKind::Mark { label: id });
    });
}

/// The marks recorded so far in the current run.
pub(crate) fn marks_so_far() -> Vec<String> {
    with_core("asyncsim::trace::marks_so_far", |core| {
        core.state.borrow().trace.marks_so_far()
    })
}

/// The slow polls recorded so far in the current run.
pub(crate) fn slow_polls_so_far() -> Vec<SlowPoll> {
    with_core("asyncsim::blocking::slow_polls_so_far", |core| {
        core.state.borrow().slow_polls.clone()
    })
}

/// The virtual time now (a pool job sees its own time).
#[inline]
pub(crate) fn now_ns(what: &str) -> u64 {
    with_core(what, |core| core.state.borrow().caller_now_ns())
}

/// [`now_ns`] when run `run_id` is the one in progress on this thread
/// (one look at the thread's run where a handle's check and its clock
/// read took two); `None` otherwise.
#[inline]
pub(crate) fn now_in_run(run_id: u64) -> Option<u64> {
    try_with_core(|core| {
        if core.run_id.get() != run_id {
            return None;
        }
        Some(core.state.borrow().caller_now_ns())
    })
    .flatten()
}

/// Registers a timer waking `waker` at `deadline_ns`; returns its key.
pub(crate) fn register_timer(deadline_ns: u64, waker: Waker) -> TimerKey {
    with_core("asyncsim::time::sleep", |core| {
        let mut state = core.state.borrow_mut();
        let task = core.running_task().unwrap_or(TaskId::MAIN);
        let key = state
            .clock
            .insert(deadline_ns, TimerAction::Wake { task, waker });
        state.record(Some(task), EventKind::TimerSet { deadline_ns });
        if let Some(slot) = state.tasks.get_mut(task.index()) {
            slot.waiting_on = WaitOn::Timer { deadline_ns };
        }
        key
    })
}

/// Registers a timer waking `waker` at `deadline_ns` on behalf of `task`,
/// from another task's poll (the world: a sender sets the timer of the
/// reader its message is for, so the reader is polled once, at the
/// arrival). The timer is `task`'s: its events name `task` and it dies with
/// `task`'s node; `task`'s wait reason is left as it is.
pub(crate) fn register_timer_for(task: TaskId, deadline_ns: u64, waker: Waker) -> TimerKey {
    with_core("asyncsim::net", |core| {
        let mut state = core.state.borrow_mut();
        let key = state
            .clock
            .insert(deadline_ns, TimerAction::Wake { task, waker });
        state.record(Some(task), EventKind::TimerSet { deadline_ns });
        key
    })
}

/// Calls `call(arg)` at `deadline_ns`: the world acting at a time (a
/// datagram that may arrive to a full receive buffer is settled at its
/// arrival, so its drop is recorded then). The call runs between steps,
/// outside every borrow of the run's state, with no task running, before
/// the other timers due with it and with no draw among calls or between
/// them and those timers. It records no event of its own; the clock jumps
/// to it like to any timer, so it keeps an otherwise stuck run going until
/// it fired. Cancel it with [`cancel_timer`]. Set nothing a run need not:
/// a run that sets none fires its timers exactly as before.
pub(crate) fn call_at(deadline_ns: u64, call: fn(u64), arg: u64) -> TimerKey {
    with_core("asyncsim::net", |core| {
        let mut state = core.state.borrow_mut();
        state.clock.calls_set = true;
        state
            .clock
            .insert(deadline_ns, TimerAction::Call { call, arg })
    })
}

/// Replaces the waker of a registered timer, due at `deadline_ns` (the
/// future moved between tasks or combinators). Returns false when the timer
/// already fired.
pub(crate) fn update_timer(key: TimerKey, deadline_ns: u64, waker: &Waker) -> bool {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        let current = core.running_task();
        if let Some(slot) = current.and_then(|task| state.tasks.get_mut(task.index())) {
            slot.waiting_on = WaitOn::Timer { deadline_ns };
        }
        match state.clock.get_mut(key) {
            Some(TimerAction::Wake { waker: stored, .. }) => {
                if !stored.will_wake(waker) {
                    *stored = waker.clone();
                }
                true
            }
            _ => false,
        }
    })
    .unwrap_or(false)
}

/// Cancels a timer (its future was dropped).
pub(crate) fn cancel_timer(key: TimerKey) {
    try_with_core(|core| {
        match core.state.try_borrow_mut() {
        Ok(mut state) => {
            state.clock.remove(key);
        }
        // The kernel drops user values only outside its borrow (ARCHITECTURE:
        // "the run state is never borrowed while user code runs"); a timer
        // whose cancel was skipped here would later wake its task for
        // nothing. Loud in debug builds; in release the timer stays (a
        // spurious wake, which futures tolerate) rather than a panic inside
        // a destructor.
        Err(_) => debug_assert!(
            false,
            "asyncsim bug: a timer was cancelled (its future dropped) while the run's state was borrowed"
        ),
    }
    });
}

/// Records what the current task is about to wait on (call before returning
/// `Pending`).
#[inline]
pub(crate) fn set_waiting_on(on: WaitOn) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        if let Some(task) = core.running_task() {
            state.tasks[task.index()].waiting_on = on;
        }
    });
}

/// What a failure's report asks the world: every task waiting on a socket
/// and what it waits for (`world::socket_waits`). The world sets it when it
/// is made (the kernel imports nothing of the world); a run without one
/// reports each task's last wait, as before.
pub(crate) type SocketWaits = fn(&mut Vec<(TaskId, WaitOn)>);

thread_local! {
    pub(super) static SOCKET_WAITS: std::cell::Cell<Option<SocketWaits>> =
        const { std::cell::Cell::new(None) };
}

/// Sets what a failure's report asks the world ([`SocketWaits`]).
pub(crate) fn set_socket_waits(socket_waits: SocketWaits) {
    SOCKET_WAITS.set(Some(socket_waits));
}

/// The node (incarnation) task `task` of the current run runs on. Cold: a
/// look at the run's state (a crash asks it of each socket's waiters).
pub(crate) fn task_node(task: TaskId) -> Option<NodeId> {
    try_with_core(|core| {
        core.state
            .borrow()
            .tasks
            .get(task.index())
            .map(|slot| slot.node)
    })
    .flatten()
}

/// The running task, if a task is being polled.
#[inline]
pub(crate) fn current_task() -> Option<TaskId> {
    try_with_core(Core::running_task).flatten()
}

/// The id of the run in progress and the task being polled, in one look at
/// the thread's run and no borrow of its state.
#[inline]
pub(crate) fn current_run_and_task() -> Option<(u64, Option<TaskId>)> {
    try_with_core(|core| (core.run_id.get(), core.running_task()))
}

/// The name of a task of the current run.
pub(crate) fn task_name(task: TaskId) -> Option<String> {
    try_with_core(|core| core.state.borrow().trace.task_name(task).to_string())
}

/// The current run's spawned tasks not done (futures, not pool jobs nor
/// the main future), and its tasks queued to be polled. Cold: a walk over
/// the run's tasks.
pub(crate) fn task_counts() -> Option<(usize, usize)> {
    try_with_core(|core| {
        let state = core.state.borrow();
        // Slot 0 is the main future (`TaskId::MAIN`), not a spawned task.
        let spawned = state.tasks.iter().skip(1);
        let alive = spawned
            .filter(|slot| slot.kind == SlotKind::Future && slot.state != TaskState::Done)
            .count();
        let queued = state
            .tasks
            .iter()
            .filter(|slot| slot.state == TaskState::Queued)
            .count();
        (alive, queued)
    })
}

/// True once a task of the current run is done (finished, panicked,
/// aborted, or dropped with its node); unknown tasks count as done.
pub(crate) fn task_done(task: TaskId) -> bool {
    try_with_core(|core| {
        let state = core.state.borrow();
        state
            .tasks
            .get(task.index())
            .is_none_or(|slot| slot.state == TaskState::Done)
    })
    .unwrap_or(true)
}

/// Aborts a task of the current run.
pub(crate) fn abort_task(task: TaskId) {
    try_with_core(|core| core.abort(task));
}

/// Makes one non-scheduling draw.
pub(crate) fn draw(label: DrawLabel, bound: u64, what: &str) -> u64 {
    with_core(what, |core| {
        let mut state = core.state.borrow_mut();
        let value = state.chooser.draw(label, bound);
        if let Some(divergence) = state.chooser.divergence.take() {
            state.fail_divergence(divergence);
        }
        value
    })
}

/// A weighted draw (see `Chooser::draw_weighted`); with
/// `Config::faults(false)`, always 0 and no draw is made.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn draw_weighted(
    label: DrawLabel,
    bound: u64,
    nonzero_probability: f64,
    what: &str,
) -> u64 {
    with_core(what, |core| {
        let mut state = core.state.borrow_mut();
        if !state.config.faults {
            return 0;
        }
        let value = state
            .chooser
            .draw_weighted(label, bound, nonzero_probability);
        if let Some(divergence) = state.chooser.divergence.take() {
            state.fail_divergence(divergence);
        }
        value
    })
}

/// A draw (`weighted`: see [`draw_weighted`]; otherwise [`draw`]) whose
/// nonzero value, when the run explains itself (a replay, or
/// `Config::record_deviations`), is listed as a deviation in the words of
/// `describe(value)`, so a report reads "at 0.35s dropped a datagram …"
/// rather than a draw number. `describe` must not call into the run.
#[inline(always)]
pub(crate) fn draw_described(
    label: DrawLabel,
    bound: u64,
    weighted: Option<f64>,
    what: &str,
    describe: impl FnOnce(u64) -> String,
) -> u64 {
    // The words are made only for a deviation noted (out of line, and
    // outside the run's borrow): the closure's captures are not even
    // gathered on the way of an ordinary draw.
    let (value, noted) = draw_noted(label, bound, weighted, what);
    if noted {
        describe_deviation(describe(value));
    }
    value
}

/// [`draw_described`]'s draw: its value, and whether it was noted as a
/// deviation (whose words the caller then gives, [`describe_deviation`]).
pub(crate) fn draw_noted(
    label: DrawLabel,
    bound: u64,
    weighted: Option<f64>,
    what: &str,
) -> (u64, bool) {
    with_core(what, |core| {
        let mut state = core.state.borrow_mut();
        let value = match weighted {
            Some(_) if !state.config.faults => return (0, false),
            Some(probability) => state.chooser.draw_weighted(label, bound, probability),
            None => state.chooser.draw(label, bound),
        };
        if let Some(divergence) = state.chooser.divergence.take() {
            state.fail_divergence(divergence);
        }
        let noted = value != 0 && state.record_deviations;
        if noted {
            let step = state.step;
            state.note_deviation(label, step, value, bound, core.running_task(), None);
        }
        (value, noted)
    })
}

/// The words of the deviation [`draw_noted`] just noted.
#[cold]
#[inline(never)]
pub(crate) fn describe_deviation(what: String) {
    try_with_core(|core| {
        if let Some(deviation) = core.state.borrow_mut().deviations.last_mut() {
            deviation.what = Some(what);
        }
    });
}

/// The run's configuration (the world reads `Config::net`, `buggify`).
pub(crate) fn with_config<R>(what: &str, read: impl FnOnce(&Config) -> R) -> R {
    with_core(what, |core| read(&core.state.borrow().config))
}

#[allow(dead_code)] // for the world's trace events
/// The id of `label` in the run's label table (shared with marks; its text
/// enters the trace hash): how world events name sockets and files.
pub(crate) fn intern_label(label: impl LabelText) -> u32 {
    intern_label_known(label, None)
}

/// [`intern_label`], with the text's hashes when the caller knows them
/// already: its text hash for the trace (`trace::label_text_hash`) and its
/// interning key (`label_key`).
pub(crate) fn intern_label_known(label: impl LabelText, known: Option<LabelHashes>) -> u32 {
    with_core("asyncsim::trace", |core| {
        let mut state = core.state.borrow_mut();
        let state = &mut *state;
        let new_id = state.trace.label_count();
        let id = match known {
            Some(known) => state
                .label_ids
                .intern_keyed(&mut state.trace, label, known.key),
            None => state.label_ids.intern(&mut state.trace, label),
        };
        if let (true, Some(known)) = (id == new_id, known) {
            note_label_hash(state, id, known.text);
        }
        id
    })
}

/// Notes a label's known text hash, for the trace's hash — under
/// `TraceMode::HashOnly`, whose runs (`check`'s) all take it; a full trace
/// reads its labels' texts when asked (most runs of one never are).
#[inline]
fn note_label_hash(state: &mut State, id: u32, text_hash: u64) {
    if state.config.trace_mode == crate::trace::TraceMode::HashOnly {
        state.trace.note_label_hash(id, text_hash);
    }
}

/// Adds `label` to the run's label table as a new entry, without looking
/// for an equal one (no hashing): for a text that names a thing made once,
/// like `TcpStream#3 (…)`. (A mark of the same text would get an id of its
/// own.)
pub(crate) fn add_label(label: impl LabelText, text_hash: Option<u64>) -> u32 {
    with_core("asyncsim::trace", |core| {
        let mut state = core.state.borrow_mut();
        let id = state.trace.push_label(label);
        if let Some(text_hash) = text_hash {
            note_label_hash(&mut state, id, text_hash);
        }
        id
    })
}

/// The node of the running task (or of the pool job whose closure runs);
/// the main node outside tasks and outside runs.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn current_node() -> NodeId {
    try_with_core(|core| {
        let state = core.state.borrow();
        let task = core
            .running_task()
            .or(state.pool.context.map(|job| job.task));
        state.node_of(task)
    })
    .unwrap_or(NodeId::MAIN)
}

/// Makes a node for this run, named for messages ("node `name` crashed").
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn new_node(name: std::rc::Rc<str>) -> NodeId {
    with_core("asyncsim::node", |core| {
        let mut state = core.state.borrow_mut();
        let node = NodeId(state.node_names.len() as u32);
        state.node_names.push(Some(name));
        node
    })
}

/// Crashes `node` at the next step boundary (never inside a poll): every
/// task of it is dropped, its timers and pool jobs die, and the handles of
/// its tasks resolve with a `JoinError` that names the crash.
///
/// # Panics
///
/// For the main node (the main future cannot be dropped under the caller).
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn crash_node(node: NodeId, reason: String) {
    assert!(
        node != NodeId::MAIN,
        "the main node cannot crash: the main future runs on it (crash another node)"
    );
    with_core("asyncsim::crash", |core| {
        core.state
            .borrow_mut()
            .at_boundary(BoundaryWork::Crash { node, reason });
    });
}

/// Runs `call` at the next step boundary: after the poll in progress (or
/// before the next one), outside every borrow of the run's state, with no
/// task running. Calls run in request order.
#[allow(dead_code)] // for the world (`sim/src/world`)
pub(crate) fn at_step_boundary(call: Box<dyn FnOnce()>) {
    with_core("asyncsim::at_step_boundary", |core| {
        core.state
            .borrow_mut()
            .at_boundary(BoundaryWork::Call(call));
    });
}

/// Records a trace event for the running task (or pool job, at its own
/// time); for no task outside tasks.
#[allow(dead_code)] // for the world (`sim/src/world`)
/// Records a `BranchOrder` event; `site` (the `select!`'s file:line) is
/// interned beside the trace for its words, outside the hash.
pub(crate) fn record_branch_order(
    live: u32,
    value: u32,
    what: &'static str,
    site: Option<&'static std::panic::Location<'static>>,
) {
    try_with_core(|core| {
        let running = core.running_task();
        let mut state = core.state.borrow_mut();
        let site = site.map_or(u32::MAX, |at| state.trace.intern_branch_site(what, at));
        state.record_for_caller(running, EventKind::BranchOrder { live, value, site });
    });
}

/// Records a network event (`EventKind::Net`) for whoever called: `record`
/// with the kind known here, so its hash words need no match on the kind.
/// A socket's operation completed, so it also spends a unit of the running
/// task's cooperative budget (`budget.rs`).
/// Its closure is inlined always: called from two places in each UDP round
/// trip, LLVM had left it out of line (2 % of the tokio face's `udp echo`).
#[inline]
pub(crate) fn record_net(op: NetOp, socket: u32, bytes: u32) {
    try_with_core(
        #[inline(always)]
        |core| {
            let running = core.running_task();
            let mut state = core.state.borrow_mut();
            // A socket's operation completed: a unit of the budget spent.
            state.spend_on_completion();
            if state.pool.context.is_some() {
                state.record_for_caller(running, EventKind::Net { op, socket, bytes });
            } else {
                let state = &mut *state;
                state.trace.record_net(
                    state.step,
                    state.clock.now_ns,
                    running,
                    (op, socket, bytes),
                    state.config.trace_events_max,
                    state.config.trace_mode,
                );
            }
        },
    );
}

pub(crate) fn record(kind: EventKind) {
    try_with_core(|core| {
        let running = core.running_task();
        core.state.borrow_mut().record_for_caller(running, kind);
    });
}

/// Registers a sync primitive; returns its per-run id.
pub(crate) fn register_resource(kind: ResourceKind) -> Option<u32> {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        let id = state.resources.len() as u32;
        state.resources.push(ResourceInfo { kind, holder: None });
        id
    })
}

/// Shares a resource's holder cell with the run: from now on its reports
/// name whoever the cell names (until then they name no holder).
pub(crate) fn share_resource_holder(id: u32, holder: Arc<HolderCell>) {
    try_with_core(|core| {
        let mut state = core.state.borrow_mut();
        if let Some(info) = state.resources.get_mut(id as usize) {
            debug_assert!(
                matches!(info.kind, ResourceKind::Mutex | ResourceKind::Other),
                "asyncsim bug: only mutex-like resources have a holder"
            );
            info.holder = Some(holder);
        }
    });
}
