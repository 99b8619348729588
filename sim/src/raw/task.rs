//! Task cells: a spawned task's header (the engine's join slot) and its
//! future in one [`TaskRc`] allocation, the future pinned there and polled
//! in place through the task's one [`TaskOwner`].

use std::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::TaskRc;

/// A header that takes the future's output when it completes.
pub(crate) trait Completes<T> {
    fn complete(&self, output: T);
}

/// A header seen as the type the engine keeps for every task (`H`, a trait
/// object): what the owner's [`TaskOwner::header`] returns.
pub(crate) trait Upcast<H: ?Sized> {
    fn upcast(&self) -> &H;
}

/// A task as its owner reaches it: poll, drop the future, read the header.
/// Private: only [`TaskOwner`] calls these, under the rules below.
trait TaskObj<H: ?Sized> {
    /// Polls the future once. On completion the future is dropped (before
    /// the output reaches the header, so its destructors run first, as an
    /// `async` wrapper's would) and the output goes to the header; a panic
    /// drops the future while unwinding.
    ///
    /// # Safety
    ///
    /// Not re-entrant: nothing may poll this task or drop its future while
    /// the call runs.
    unsafe fn poll_task(&self, context: &mut Context<'_>) -> Poll<()>;

    /// Drops the future; nothing once it is gone. A destructor's panic is
    /// caught and returned (the future is gone either way).
    ///
    /// # Safety
    ///
    /// Not while `poll_task` runs on this task.
    unsafe fn drop_future(&self) -> std::thread::Result<()>;

    fn header(&self) -> &H;
}

/// A spawned task: its header and its future, in one [`TaskRc`]
/// allocation.
///
/// The future is pinned: it lives inside the allocation (which never
/// moves its contents) and is never moved out of its `Option`, only ever
/// dropped in place (by assigning `None`).
pub(crate) struct TaskCell<S, F> {
    header: S,
    future: UnsafeCell<Option<F>>,
}

impl<S, F> TaskCell<S, F> {
    /// The header, which the engine and the task's handle share.
    #[inline(always)]
    pub(crate) fn header(&self) -> &S {
        &self.header
    }
}

/// A pool job: a header and no future (the engine never polls it).
pub(crate) struct JobCell<S> {
    header: S,
}

impl<S> JobCell<S> {
    #[inline(always)]
    pub(crate) fn header(&self) -> &S {
        &self.header
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

impl<S, F, H> TaskObj<H> for TaskCell<S, F>
where
    F: Future,
    S: Completes<F::Output> + Upcast<H>,
    H: ?Sized,
{
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
                // reaches the header.
                unsafe { *future = None };
                self.header.complete(output);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    unsafe fn drop_future(&self) -> std::thread::Result<()> {
        let future = self.future.get();
        // SAFETY: the caller guarantees no poll of this task is running, so
        // this is the only access. An assignment drops the old value in
        // place and writes `None` even when that drop unwinds.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { *future = None }))
    }

    #[inline(always)]
    fn header(&self) -> &H {
        self.header.upcast()
    }
}

impl<S: Upcast<H>, H: ?Sized> TaskObj<H> for JobCell<S> {
    unsafe fn poll_task(&self, _context: &mut Context<'_>) -> Poll<()> {
        unreachable!("asyncsim bug: a pool job was polled as a task")
    }

    unsafe fn drop_future(&self) -> std::thread::Result<()> {
        Ok(())
    }

    #[inline(always)]
    fn header(&self) -> &H {
        self.header.upcast()
    }
}

/// The engine's hold on a task: the only way to poll its future or drop it.
///
/// Exactly one exists per task ([`NewTask::finish`] and [`new_job`] make it beside
/// the typed reference the task's handle gets, and it is not `Clone`), and
/// both operations take `&mut self`: so no poll or drop of a task can run
/// while another runs on it, which is `TaskObj`'s contract. It holds a
/// count, so the allocation outlives any poll through it.
pub(crate) struct TaskOwner<H: ?Sized + 'static> {
    cell: TaskRc<dyn TaskObj<H>>,
}

impl<H: ?Sized + 'static> TaskOwner<H> {
    /// Polls the future once (see `TaskObj::poll_task`); `Ready` once the
    /// future is gone, and always for a pool job (never polled).
    #[inline(always)]
    pub(crate) fn poll(&mut self, context: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `&mut self` on the task's only owner: nothing else can
        // poll it or drop its future during this call.
        unsafe { self.cell.poll_task(context) }
    }

    /// Drops the future in place (a cancelled task, a task of a crashed
    /// node, or one left pending at the end of a run); nothing once it is
    /// gone. A destructor that panics is caught and its payload returned:
    /// the future is gone either way, so the caller can resolve the task's
    /// handle before it decides what the panic means. Many futures are
    /// dropped at once at a node crash; one panicking destructor must not
    /// leave the others' handles hanging.
    pub(crate) fn drop_future(&mut self) -> std::thread::Result<()> {
        // SAFETY: as in `poll`.
        unsafe { self.cell.drop_future() }
    }

    /// The task's header.
    #[inline(always)]
    pub(crate) fn header(&self) -> &H {
        self.cell.header()
    }
}

/// A task's cell begun: its future already in its block, its header to
/// come ([`NewTask::finish`]), so that a spawn can move the future into
/// the block before it asks the run for the task's id. The future then
/// goes from the spawner's frame straight into its cell, where, held
/// across that call (which may unwind), it was copied at every call on
/// the way. Dropped unfinished, it drops the future and frees the block.
pub(crate) struct NewTask<S, F> {
    cell: std::ptr::NonNull<TaskCell<S, F>>,
}

impl<S, F> NewTask<S, F> {
    /// Moves `future` into a new block.
    #[inline(always)]
    pub(crate) fn new(future: F) -> NewTask<S, F> {
        let cell = TaskRc::<TaskCell<S, F>>::allocate();
        // SAFETY: `allocate`'s block is sized and aligned for the whole
        // cell and uninitialised; `addr_of_mut!` reaches its future field
        // without a reference to the cell, and the write makes that field
        // (once; `finish` writes the header). Nothing here can unwind
        // between the allocation and `NewTask`, which frees the block.
        unsafe {
            std::ptr::addr_of_mut!((*cell.as_ptr()).future).write(UnsafeCell::new(Some(future)));
        }
        NewTask { cell }
    }

    /// The task, its header written: its owner, for the engine, and a
    /// typed reference to the same allocation, for the task's handle (which
    /// only reads the header).
    #[inline(always)]
    pub(crate) fn finish<H>(self, header: S) -> (TaskOwner<H>, TaskRc<TaskCell<S, F>>)
    where
        F: Future + 'static,
        S: Completes<F::Output> + Upcast<H> + 'static,
        H: ?Sized + 'static,
    {
        let cell = std::mem::ManuallyDrop::new(self).cell;
        // SAFETY: the future is written (`new`) and now the header: the
        // whole cell, in `allocate`'s block, given to the one `TaskRc`
        // (count 1) with nothing between that can unwind; `self`'s drop,
        // which would drop the future and free the block, does not run.
        let cell = unsafe {
            std::ptr::addr_of_mut!((*cell.as_ptr()).header).write(header);
            TaskRc::from_allocated(cell)
        };
        let owner = cell.clone().unsize(|cell| cell as &dyn TaskObj<H>);
        (TaskOwner { cell: owner }, cell)
    }
}

impl<S, F> Drop for NewTask<S, F> {
    fn drop(&mut self) {
        // SAFETY: unfinished: only the future was written, and the block
        // never became a reference. Should the future's destructor unwind,
        // the block leaks (as `TaskRc`'s `release` does): never freed
        // under a value still being dropped, never dropped twice.
        unsafe {
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*self.cell.as_ptr()).future));
            TaskRc::free_allocated(self.cell);
        }
    }
}

/// A new pool job (a header with no future): its owner and a typed
/// reference, as [`NewTask::finish`].
pub(crate) fn new_job<S, H>(header: S) -> (TaskOwner<H>, TaskRc<JobCell<S>>)
where
    S: Upcast<H> + 'static,
    H: ?Sized + 'static,
{
    let cell = TaskRc::new(JobCell { header });
    let owner = cell.clone().unsize(|cell| cell as &dyn TaskObj<H>);
    (TaskOwner { cell: owner }, cell)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;

    /// Counts its drops.
    struct Tally(Rc<Cell<u32>>);

    impl Drop for Tally {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    struct Header;

    impl Completes<()> for Header {
        fn complete(&self, _output: ()) {}
    }

    impl Upcast<Header> for Header {
        fn upcast(&self) -> &Header {
            self
        }
    }

    /// A task begun and never finished (its spawn unwound before it had
    /// an id) drops its future, once; a finished one drops it with its
    /// last reference, once.
    #[test]
    fn a_new_task_drops_its_future_once_finished_or_not() {
        let drops = Rc::new(Cell::new(0));
        let tally = Tally(drops.clone());
        let unfinished = NewTask::<Header, _>::new(async move {
            let _tally = &tally;
        });
        assert_eq!(drops.get(), 0);
        drop(unfinished);
        assert_eq!(drops.get(), 1);

        let tally = Tally(drops.clone());
        let started = NewTask::new(async move {
            let _tally = &tally;
        });
        let (mut owner, cell): (TaskOwner<Header>, _) = started.finish(Header);
        let waker = futures::task::noop_waker();
        let mut context = Context::from_waker(&waker);
        assert!(owner.poll(&mut context).is_ready());
        assert_eq!(drops.get(), 2);
        drop(owner);
        drop(cell);
        assert_eq!(drops.get(), 2);
    }
}
