//! The engine's unsafe code, in one place, with the argument for each use.
//!
//! The crate denies `unsafe_code`; this module allows it. Each piece is here
//! because a measured speed-up needed it (BENCHMARKS.md, "Third engine
//! pass": together they took a 100×100 step from 67 to 35 ns; a safe variant
//! of the task cell, cloning the `Rc` or moving it out of its slot around
//! every poll, measured 44–46 ns):
//!
//! - [`task_waker`]: a task's waker is an integer in the waker's data word —
//!   no allocation, no reference count, no memory shared between threads;
//! - [`CurrentGuard`], [`with_current`]: the thread's running core as a raw
//!   pointer in a `Cell`, read on every wake;
//! - [`OwnedCell`]: a task slot's strong reference to its cell, kept as the
//!   pointer `Rc::into_raw` gives, so a poll needs no reference count;
//! - [`TaskCell`], [`TaskObj`]: a spawned task's future, pinned inside the
//!   task's `Rc` allocation and polled there (one allocation per task).
//!
//! What the rest of the engine must uphold is in the `# Safety` sections of
//! [`TaskObj`]'s two methods; the executor calls them at four places, each
//! with a `SAFETY` comment.

#![allow(unsafe_code)]

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::executor::{wake_packed, Core};
use crate::task::{JoinError, JoinSlot, JoinSlotAny, JoinSlotRef};
use crate::trace::TaskId;

// ---------------------------------------------------------------------------
// Wakers
// ---------------------------------------------------------------------------

/// A waker whose data word is `data` itself (the executor packs a run id and
/// a task index into it).
///
/// Sound because no function of the vtable dereferences the data word: clone
/// copies it, drop does nothing, wake hands the integer to
/// `executor::wake_packed`. Such a waker is trivially `Send + Sync`: it
/// shares no memory with anything.
#[inline(always)]
pub(crate) fn task_waker(data: usize) -> Waker {
    // SAFETY: see above; the vtable's contract (clone returns an equivalent
    // waker, wake consumes it, drop releases it) holds for a plain integer.
    unsafe { Waker::from_raw(RawWaker::new(data as *const (), &TASK_WAKER_VTABLE)) }
}

static TASK_WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(
    |data| RawWaker::new(data, &TASK_WAKER_VTABLE),
    |data| wake_packed(data as usize),
    |data| wake_packed(data as usize),
    |_| {},
);

// ---------------------------------------------------------------------------
// The thread's running core
// ---------------------------------------------------------------------------

thread_local! {
    /// The running core: non-null exactly while a [`CurrentGuard`] lives on
    /// this thread, and that guard owns an `Rc` of the core.
    static CORE: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
    /// The running run's key (its id shifted into a waker's run bits); 0
    /// outside runs.
    static RUN_KEY: Cell<usize> = const { Cell::new(0) };
}

/// Makes a core the thread's running core for as long as the guard lives.
pub(crate) struct CurrentGuard {
    /// Keeps the core alive while `CORE` points at it.
    _core: Rc<Core>,
}

impl CurrentGuard {
    /// # Panics
    ///
    /// When a run is already in progress on this thread (simulations do not
    /// nest); the outer run's core stays in place.
    pub(crate) fn enter(core: Rc<Core>, run_key: usize) -> CurrentGuard {
        assert!(
            !in_run(),
            "Sim::run was called inside a running simulation; simulations do not nest (run them one after another)"
        );
        CORE.with(|current| current.set(Rc::as_ptr(&core)));
        RUN_KEY.with(|key| key.set(run_key));
        CurrentGuard { _core: core }
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        RUN_KEY.with(|key| key.set(0));
        CORE.with(|current| current.set(std::ptr::null()));
    }
}

/// Runs `f` with the thread's running core, if a run is in progress.
///
/// Sound because the pointer is non-null only while a `CurrentGuard` owns an
/// `Rc` of the core, and that guard lives in `Sim::run`'s frame, below every
/// frame that can call this: it cannot be dropped while `f` runs. `Core` is
/// only ever shared (`&Core`), its mutable parts behind `Cell`/`RefCell`.
#[inline(always)]
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    // `try_with`: the panic hook asks too, possibly during thread teardown
    // (a `Cell` of a pointer has no destructor, so in practice this never
    // fails and costs the same as `with`).
    let core = CORE.try_with(Cell::get).unwrap_or(std::ptr::null());
    if core.is_null() {
        return None;
    }
    // SAFETY: see above.
    Some(f(unsafe { &*core }))
}

/// True while a run is in progress on this thread.
#[inline]
pub(crate) fn in_run() -> bool {
    !CORE.with(Cell::get).is_null()
}

/// The running run's key (0 outside runs).
#[inline(always)]
pub(crate) fn run_key() -> usize {
    RUN_KEY.with(Cell::get)
}

// ---------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------

/// A task as the executor holds it: its join slot and, for a spawned task,
/// its future ([`TaskCell`]), in one allocation.
pub(crate) trait TaskObj: JoinSlotAny {
    /// Polls the future once. On completion the future is dropped (before
    /// the output reaches the handle, so its destructors run first, as an
    /// `async` wrapper's would) and the handle's waiter is woken; a panic
    /// drops the future while unwinding.
    ///
    /// # Safety
    ///
    /// Not re-entrant: nothing may poll this task or drop its future while
    /// the call runs. (The executor polls a task only from its run loop, and
    /// an abort of the running task waits for the poll to end.)
    unsafe fn poll_task(&self, context: &mut Context<'_>) -> Poll<()>;

    /// Drops the future (a cancelled task, or one left pending at the end of
    /// a run). Does nothing once it is gone.
    ///
    /// # Safety
    ///
    /// Not while `poll_task` runs on this task.
    unsafe fn drop_future(&self);
}

/// A pool job's slot has no future: the engine never polls it.
impl<T> TaskObj for JoinSlot<T> {
    unsafe fn poll_task(&self, _context: &mut Context<'_>) -> Poll<()> {
        unreachable!("asyncsim bug: a pool job was polled as a task")
    }

    unsafe fn drop_future(&self) {}
}

/// A spawned task: its join slot and its future, in one `Rc` allocation.
///
/// The future is pinned: it lives inside the `Rc` allocation (which never
/// moves its contents) and is never moved out of its `Option`, only ever
/// dropped in place (by assigning `None`).
pub(crate) struct TaskCell<F: Future> {
    slot: JoinSlot<F::Output>,
    future: UnsafeCell<Option<F>>,
}

impl<F: Future> TaskCell<F> {
    pub(crate) fn new(future: F, task: TaskId, run_id: u64) -> TaskCell<F> {
        TaskCell {
            slot: JoinSlot::new(task, run_id),
            future: UnsafeCell::new(Some(future)),
        }
    }
}

impl<F: Future> JoinSlotRef<F::Output> for TaskCell<F> {
    fn join_slot(&self) -> &JoinSlot<F::Output> {
        &self.slot
    }
}

impl<F: Future> JoinSlotAny for TaskCell<F> {
    fn fail(&self, error: JoinError) {
        self.slot.fail(error);
    }

    fn handle_alive(&self) -> bool {
        self.slot.handle_alive()
    }

    fn panic_unretrieved(&self) -> bool {
        self.slot.panic_unretrieved()
    }
}

/// Drops the future in place if a poll unwinds (an `async` wrapper's
/// unwinding would drop it there too).
struct DropOnUnwind<F>(*mut Option<F>);

impl<F> Drop for DropOnUnwind<F> {
    fn drop(&mut self) {
        // SAFETY: only alive during `poll_task`, which has exclusive access.
        unsafe { *self.0 = None };
    }
}

impl<F: Future> TaskObj for TaskCell<F> {
    #[inline]
    unsafe fn poll_task(&self, context: &mut Context<'_>) -> Poll<()> {
        let future = self.future.get();
        // SAFETY: the caller guarantees exclusive access for this call.
        let Some(running) = (unsafe { &mut *future }).as_mut() else {
            return Poll::Ready(());
        };
        let guard = DropOnUnwind(future);
        // SAFETY: pinned, as the type's docs argue.
        let poll = unsafe { Pin::new_unchecked(running) }.poll(context);
        std::mem::forget(guard);
        match poll {
            Poll::Ready(output) => {
                // SAFETY: exclusive, as above. Dropped before the output
                // reaches the handle.
                unsafe { *future = None };
                self.slot.complete(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    unsafe fn drop_future(&self) {
        // SAFETY: the caller guarantees no poll of this task is running.
        unsafe { *self.future.get() = None };
    }
}

/// A task slot's strong reference to its cell, kept as the pointer
/// `Rc::into_raw` gives: the pointer a poll needs is then a load, not an
/// offset computed from the vtable's alignment, and no reference count moves.
pub(crate) struct OwnedCell(NonNull<dyn TaskObj>);

impl OwnedCell {
    pub(crate) fn new(cell: Rc<dyn TaskObj>) -> OwnedCell {
        // SAFETY: `Rc::into_raw` never returns null.
        OwnedCell(unsafe { NonNull::new_unchecked(Rc::into_raw(cell).cast_mut()) })
    }

    /// The cell's address, valid for as long as this value lives.
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *const dyn TaskObj {
        self.0.as_ptr()
    }

    /// Another strong reference, as an `Rc`.
    pub(crate) fn to_rc(&self) -> Rc<dyn TaskObj> {
        // SAFETY: the pointer came from `Rc::into_raw` and this value still
        // owns its strong count, so the allocation is alive.
        unsafe {
            Rc::increment_strong_count(self.0.as_ptr());
            Rc::from_raw(self.0.as_ptr())
        }
    }
}

impl std::ops::Deref for OwnedCell {
    type Target = dyn TaskObj;

    fn deref(&self) -> &(dyn TaskObj + 'static) {
        // SAFETY: alive while `self` is (it owns a strong count).
        unsafe { self.0.as_ref() }
    }
}

impl Drop for OwnedCell {
    fn drop(&mut self) {
        // SAFETY: gives back the strong count `new` took over.
        drop(unsafe { Rc::from_raw(self.0.as_ptr()) });
    }
}
