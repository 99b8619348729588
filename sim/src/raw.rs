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
//! - [`TaskCell`], [`TaskObj`]: a spawned task's future, pinned inside the
//!   task's allocation and polled there (one allocation per task);
//! - [`RcRefMut`]: a `RefMut` into an `Rc`'s value, kept beside that `Rc`
//!   (`sync::OwnedMutexGuard`);
//! - [`TaskRc`]: that allocation, counted like an `Rc` (no weak counts), its
//!   pointer the value's own address, so a poll through the slot's reference
//!   is a load and moves no count; its memory comes from the thread's
//!   [`BlockCache`] of freed blocks, not `malloc` (BENCHMARKS.md, "Fifth
//!   engine pass": 5–7 % of a small run).
//!
//! What the rest of the engine must uphold is in the `# Safety` sections of
//! [`TaskObj`]'s two methods; the executor calls them at four places, each
//! with a `SAFETY` comment.

#![allow(unsafe_code)]

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

pub(crate) mod chacha;

use crate::kernel::{wake_packed, Core};
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

    /// Drops the future (a cancelled task, a task of a crashed node, or one
    /// left pending at the end of a run). Does nothing once it is gone.
    ///
    /// A destructor that panics is caught here and its payload returned:
    /// the future is gone either way (a panicking drop still leaves `None`
    /// in its place), so the caller can resolve the task's handle before it
    /// decides what the panic means. Many futures are dropped at once at a
    /// node crash; one panicking destructor must not leave the others'
    /// handles hanging.
    ///
    /// # Safety
    ///
    /// Not while `poll_task` runs on this task.
    unsafe fn drop_future(&self) -> std::thread::Result<()>;
}

/// A pool job's slot has no future: the engine never polls it.
impl<T> TaskObj for JoinSlot<T> {
    unsafe fn poll_task(&self, _context: &mut Context<'_>) -> Poll<()> {
        unreachable!("asyncsim bug: a pool job was polled as a task")
    }

    unsafe fn drop_future(&self) -> std::thread::Result<()> {
        Ok(())
    }
}

/// A spawned task: its join slot and its future, in one [`TaskRc`]
/// allocation.
///
/// The future is pinned: it lives inside the allocation (which never
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

    unsafe fn drop_future(&self) -> std::thread::Result<()> {
        let future = self.future.get();
        // SAFETY: the caller guarantees no poll of this task is running, so
        // this is the only access. An assignment drops the old value in
        // place and writes `None` even when that drop unwinds.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { *future = None }))
    }
}

// ---------------------------------------------------------------------------
// Borrows that travel with their `Rc`
// ---------------------------------------------------------------------------

/// A `RefMut` into an `Rc`'s value that keeps that `Rc` alive: what an
/// owned mutex guard holds (`sync::OwnedMutexGuard`).
///
/// Sound because the borrowed value lives inside the `Rc`'s allocation,
/// which never moves and lives as long as `owner`; `value` is declared
/// first, so it is dropped (ending the borrow) before `owner`; and the
/// borrow is made by a closure that can only borrow from the owner it is
/// given, for any lifetime. Forgetting the whole value leaks the borrow,
/// which is safe (the cell stays borrowed).
pub(crate) struct RcRefMut<O: 'static, T: 'static> {
    value: std::cell::RefMut<'static, T>,
    owner: Rc<O>,
}

impl<O: 'static, T: 'static> RcRefMut<O, T> {
    pub(crate) fn new(
        owner: Rc<O>,
        borrow: impl for<'a> FnOnce(&'a O) -> std::cell::RefMut<'a, T>,
    ) -> RcRefMut<O, T> {
        let value = borrow(&owner);
        // SAFETY: see the type's docs; a `RefMut`'s layout does not depend
        // on its lifetime.
        let value = unsafe {
            std::mem::transmute::<std::cell::RefMut<'_, T>, std::cell::RefMut<'static, T>>(value)
        };
        RcRefMut { value, owner }
    }

    /// The `Rc` the value is borrowed from.
    pub(crate) fn owner(&self) -> &Rc<O> {
        &self.owner
    }

    /// Ends the borrow and gives the `Rc` back.
    pub(crate) fn into_owner(self) -> Rc<O> {
        let RcRefMut { value, owner } = self;
        drop(value);
        owner
    }
}

impl<O: 'static, T: 'static> std::ops::Deref for RcRefMut<O, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<O: 'static, T: 'static> std::ops::DerefMut for RcRefMut<O, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

// ---------------------------------------------------------------------------
// Task allocations
// ---------------------------------------------------------------------------

/// A shared, counted allocation for a task's cell (or a pool job's slot):
/// an `Rc` without weak counts, whose memory comes from the thread's
/// [`BlockCache`] instead of the global allocator.
///
/// A small run allocates and frees a cell per task; through `malloc` and
/// `free` that was about 140 instructions a task, through the cache it is
/// about 20 (BENCHMARKS.md, "Fifth engine pass").
///
/// The pointer is the value's own address (for a trait object, with its
/// vtable), so reaching the value is a load; the count sits in the 8 bytes
/// just below the value. The block is laid out as
/// `[padding][count: Cell<usize>][value]`, the value at offset
/// [`header_size`]`(align)` from the block's start.
pub(crate) struct TaskRc<T: ?Sized> {
    value: NonNull<T>,
    /// Owns a `T` (for the drop checker); also makes the type `!Send` and
    /// `!Sync`, as the non-atomic count requires.
    _owns: PhantomData<T>,
}

/// Bytes before the value: room for the count, and a multiple of the
/// value's alignment so that the value is aligned in an aligned block.
#[inline(always)]
const fn header_size(align: usize) -> usize {
    if align > COUNT_SIZE {
        align
    } else {
        COUNT_SIZE
    }
}

const COUNT_SIZE: usize = std::mem::size_of::<Cell<usize>>();

impl<T> TaskRc<T> {
    /// Moves `value` into a new block, with a count of 1.
    #[inline]
    pub(crate) fn new(value: T) -> TaskRc<T> {
        let align = std::mem::align_of::<T>();
        let header = header_size(align);
        let block = BlockCache::allocate(header + std::mem::size_of::<T>(), align);
        // SAFETY: the block holds `header + size_of::<T>()` bytes aligned to
        // `max(align, COUNT_SIZE)` (`allocate`'s contract); `header` is a
        // multiple of `align` and at least `COUNT_SIZE`, so the count (at
        // `header - COUNT_SIZE`, 8-aligned) and the value (at `header`)
        // are in bounds, aligned, and do not overlap.
        unsafe {
            let value_ptr = block.as_ptr().add(header).cast::<T>();
            value_ptr
                .cast::<u8>()
                .sub(COUNT_SIZE)
                .cast::<Cell<usize>>()
                .write(Cell::new(1));
            value_ptr.write(value);
            TaskRc {
                value: NonNull::new_unchecked(value_ptr),
                _owns: PhantomData,
            }
        }
    }
}

impl<T: ?Sized> TaskRc<T> {
    /// The value's address, valid for as long as this reference lives.
    #[inline(always)]
    pub(crate) fn as_ptr(&self) -> *const T {
        self.value.as_ptr()
    }

    #[inline(always)]
    fn count(&self) -> &Cell<usize> {
        // SAFETY: the count lives `COUNT_SIZE` bytes below the value, in the
        // same block, alive while any reference is (`new`).
        unsafe {
            &*self
                .value
                .as_ptr()
                .cast::<u8>()
                .sub(COUNT_SIZE)
                .cast::<Cell<usize>>()
        }
    }
}

// Unsizing a `TaskRc` by hand (`CoerceUnsized` is not stable): the
// compiler's unsizing coercion of the same pointer, so the vtable is `T`'s
// and the address unchanged; the count moves over from `this`, which is not
// dropped.
impl<T: 'static> TaskRc<T> {
    /// The allocation as the executor sees it.
    #[inline(always)]
    pub(crate) fn into_task_obj(self) -> TaskRc<dyn TaskObj>
    where
        T: TaskObj,
    {
        let this = std::mem::ManuallyDrop::new(self);
        let value: NonNull<dyn TaskObj> = this.value;
        TaskRc {
            value,
            _owns: PhantomData,
        }
    }

    /// The allocation as a handle sees it.
    #[inline(always)]
    pub(crate) fn into_join_ref<R>(self) -> TaskRc<dyn JoinSlotRef<R>>
    where
        T: JoinSlotRef<R>,
    {
        let this = std::mem::ManuallyDrop::new(self);
        let value: NonNull<dyn JoinSlotRef<R>> = this.value;
        TaskRc {
            value,
            _owns: PhantomData,
        }
    }
}

/// Like `Rc`: moving the reference never moves the value.
impl<T: ?Sized> Unpin for TaskRc<T> {}

impl<T: ?Sized> Clone for TaskRc<T> {
    #[inline(always)]
    fn clone(&self) -> TaskRc<T> {
        let count = self.count();
        // Cannot overflow: every reference is a distinct value in memory.
        count.set(count.get() + 1);
        TaskRc {
            value: self.value,
            _owns: PhantomData,
        }
    }
}

impl<T: ?Sized> std::ops::Deref for TaskRc<T> {
    type Target = T;

    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: alive while `self` is (it holds a count).
        unsafe { self.value.as_ref() }
    }
}

impl<T: ?Sized> Drop for TaskRc<T> {
    #[inline]
    fn drop(&mut self) {
        let count = self.count();
        let left = count.get() - 1;
        count.set(left);
        if left == 0 {
            // SAFETY: the last reference is going: nothing else can reach
            // the value or the block.
            unsafe { release(self.value) };
        }
    }
}

/// Drops the value and gives its block back.
///
/// # Safety
///
/// `value` came from a [`TaskRc`] whose count just reached 0.
unsafe fn release<T: ?Sized>(value: NonNull<T>) {
    // SAFETY: the value is alive until `drop_in_place` below; the layout is
    // `TaskRc::new`'s, read from the vtable for a trait object. If a
    // destructor unwinds, the block leaks, as an `Rc`'s would.
    unsafe {
        let layout = std::alloc::Layout::for_value(value.as_ref());
        let header = header_size(layout.align());
        std::ptr::drop_in_place(value.as_ptr());
        let block = value.as_ptr().cast::<u8>().sub(header);
        BlockCache::free(
            NonNull::new_unchecked(block),
            header + layout.size(),
            layout.align(),
        );
    }
}

/// The thread's free blocks, by size class: freed task cells are kept for
/// the next run's tasks instead of going back to `malloc`.
///
/// A block of class `c` is `(c + 1) * CLASS_STEP` bytes aligned to
/// `CLASS_STEP`, always allocated with exactly that layout whichever path
/// makes it, so any path may free it. Larger or more aligned blocks go to
/// the global allocator directly. Each class keeps at most
/// `CLASS_BUDGET` bytes; free blocks are linked through their first word.
struct BlockCache {
    heads: [Cell<*mut u8>; CLASSES],
    counts: [Cell<u32>; CLASSES],
}

const CLASS_STEP: usize = 16;
const CLASSES: usize = 64;
const CLASS_BUDGET: usize = 256 * 1024;

thread_local! {
    static BLOCKS: BlockCache = const {
        BlockCache {
            heads: [const { Cell::new(std::ptr::null_mut()) }; CLASSES],
            counts: [const { Cell::new(0) }; CLASSES],
        }
    };
}

impl BlockCache {
    /// The class of a request, if it has one.
    #[inline(always)]
    fn class(size: usize, align: usize) -> Option<usize> {
        let class = size.div_ceil(CLASS_STEP).wrapping_sub(1);
        (class < CLASSES && align <= CLASS_STEP).then_some(class)
    }

    #[inline(always)]
    fn class_layout(class: usize) -> std::alloc::Layout {
        // SAFETY: a nonzero multiple of a power of two, aligned to it.
        unsafe {
            std::alloc::Layout::from_size_align_unchecked((class + 1) * CLASS_STEP, CLASS_STEP)
        }
    }

    /// The layout of an unclassed request (`size > 0`).
    fn direct_layout(size: usize, align: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(size, align.max(COUNT_SIZE))
            .expect("asyncsim: a task's future is too large to allocate")
    }

    /// A block of at least `size` bytes (`size >= COUNT_SIZE`), aligned to
    /// `max(align, COUNT_SIZE)`.
    #[inline(always)]
    fn allocate(size: usize, align: usize) -> NonNull<u8> {
        if let Some(class) = BlockCache::class(size, align) {
            let cached = BLOCKS
                .try_with(|cache| {
                    let head = cache.heads[class].get();
                    if head.is_null() {
                        return None;
                    }
                    // SAFETY: a free block's first word links to the next.
                    cache.heads[class].set(unsafe { head.cast::<*mut u8>().read() });
                    cache.counts[class].set(cache.counts[class].get() - 1);
                    // SAFETY: not null, checked above.
                    Some(unsafe { NonNull::new_unchecked(head) })
                })
                .ok()
                .flatten();
            match cached {
                Some(block) => block,
                None => global_allocate(BlockCache::class_layout(class)),
            }
        } else {
            global_allocate(BlockCache::direct_layout(size, align))
        }
    }

    /// Gives back a block [`BlockCache::allocate`] returned for the same
    /// `size` and `align`.
    ///
    /// # Safety
    ///
    /// As above; the block is not used afterwards.
    #[inline(always)]
    unsafe fn free(block: NonNull<u8>, size: usize, align: usize) {
        if let Some(class) = BlockCache::class(size, align) {
            let layout = BlockCache::class_layout(class);
            let kept = BLOCKS
                .try_with(|cache| {
                    let count = cache.counts[class].get();
                    if count as usize * layout.size() >= CLASS_BUDGET {
                        return false;
                    }
                    // SAFETY: the block is free and at least 16 bytes,
                    // 16-aligned: its first word holds the link.
                    unsafe {
                        block
                            .as_ptr()
                            .cast::<*mut u8>()
                            .write(cache.heads[class].get())
                    };
                    cache.heads[class].set(block.as_ptr());
                    cache.counts[class].set(count + 1);
                    true
                })
                .unwrap_or(false);
            if !kept {
                // SAFETY: allocated with this layout (`allocate`).
                unsafe { std::alloc::dealloc(block.as_ptr(), layout) };
            }
        } else {
            // SAFETY: allocated with this layout (`allocate`).
            unsafe { std::alloc::dealloc(block.as_ptr(), BlockCache::direct_layout(size, align)) };
        }
    }
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        for (class, head) in self.heads.iter().enumerate() {
            let mut block = head.replace(std::ptr::null_mut());
            while !block.is_null() {
                // SAFETY: a free block of this class: its first word links
                // to the next, and it was allocated with the class layout.
                unsafe {
                    let next = block.cast::<*mut u8>().read();
                    std::alloc::dealloc(block, BlockCache::class_layout(class));
                    block = next;
                }
            }
            self.counts[class].set(0);
        }
    }
}

fn global_allocate(layout: std::alloc::Layout) -> NonNull<u8> {
    // SAFETY: every layout here has a nonzero size.
    let block = unsafe { std::alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts its drops in a shared cell.
    struct Tally<'a>(&'a Cell<u32>, [u64; 3]);

    impl Drop for Tally<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn the_value_is_dropped_once_when_the_last_reference_goes() {
        let drops = Cell::new(0);
        let first = TaskRc::new(Tally(&drops, [7, 8, 9]));
        let second = first.clone();
        let third = second.clone();
        drop(first);
        drop(third);
        assert_eq!(drops.get(), 0);
        assert_eq!(second.1, [7, 8, 9]);
        drop(second);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn a_freed_block_is_reused_for_the_next_value_of_its_class() {
        let first = TaskRc::new([1u64; 5]);
        let address = first.as_ptr();
        drop(first);
        // Same class (48 bytes with the count), most recently freed first.
        let second = TaskRc::new([2u8; 33]);
        assert_eq!(second.as_ptr().cast::<u8>(), address.cast::<u8>());
        assert_eq!(*second, [2u8; 33]);
    }

    #[test]
    fn over_aligned_and_large_values_are_aligned_and_intact() {
        #[repr(align(64))]
        struct Wide([u8; 100]);
        let values: Vec<TaskRc<Wide>> = (0..20).map(|i| TaskRc::new(Wide([i; 100]))).collect();
        for (i, value) in values.iter().enumerate() {
            assert_eq!(value.as_ptr() as usize % 64, 0);
            assert!(value.0.iter().all(|&byte| byte == i as u8));
        }
        let large = TaskRc::new([3u64; 1000]);
        assert!(large.iter().all(|&word| word == 3));
        let copy = large.clone();
        drop(large);
        assert_eq!(copy[999], 3);
    }

    #[test]
    fn a_class_keeps_at_most_its_budget_of_free_blocks() {
        let values: Vec<TaskRc<[u64; 63]>> = (0..2000).map(|_| TaskRc::new([0; 63])).collect();
        drop(values);
        let class = BlockCache::class(COUNT_SIZE + 63 * 8, 8).expect("a class");
        let kept = BLOCKS.with(|cache| cache.counts[class].get()) as usize;
        assert_eq!(kept, CLASS_BUDGET / BlockCache::class_layout(class).size());
    }

    #[test]
    fn a_trait_object_keeps_the_count_and_drops_the_right_type() {
        trait Named {
            fn name(&self) -> u32;
        }
        struct Value<'a>(u32, &'a Cell<u32>);
        impl Named for Value<'_> {
            fn name(&self) -> u32 {
                self.0
            }
        }
        impl Drop for Value<'_> {
            fn drop(&mut self) {
                self.1.set(self.1.get() + self.0);
            }
        }
        let dropped = Cell::new(0);
        let value = TaskRc::new(Value(40, &dropped));
        let clone = value.clone();
        let object: NonNull<dyn Named + '_> = {
            let this = std::mem::ManuallyDrop::new(value);
            this.value
        };
        let object = TaskRc {
            value: object,
            _owns: PhantomData,
        };
        assert_eq!(object.name(), 40);
        drop(clone);
        assert_eq!(dropped.get(), 0);
        drop(object);
        assert_eq!(dropped.get(), 40);
    }
}
