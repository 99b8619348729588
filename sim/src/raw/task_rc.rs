//! [`TaskRc`]: the counted allocation of a task's cell, and the thread's
//! cache of freed blocks it comes from.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A shared, counted allocation for a task's cell (or a pool job's slot):
/// an `Rc` without weak counts, whose pointer is the value's own address.
///
/// Against `std::rc::Rc` (measured with `Rc<dyn …>` in its place, #15
/// finding 8, BENCHMARKS.md): 5 % of the bench's `check` row and 7 % of a
/// 10×10 run. Reaching the value is a load (for a trait object, with its
/// vtable), with no offset past the counts; the count sits in the 8 bytes
/// just below the value. The block is laid out as
/// `[padding][count: Cell<usize>][value]`, the value at offset
/// [`header_size`]`(align)` from the block's start, and comes from the
/// thread's [`BlockCache`] of freed blocks (the global allocator behind it).
pub(crate) struct TaskRc<T: ?Sized> {
    value: NonNull<T>,
    /// Owns a `T` (for the drop checker). (`NonNull` is what makes the type
    /// `!Send` and `!Sync`, as the non-atomic count requires: a
    /// `PhantomData<T>` is `Send` whenever `T` is.)
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
        let slot = TaskRc::<T>::allocate();
        // SAFETY: the write makes the whole value.
        unsafe {
            slot.as_ptr().write(value);
            TaskRc::from_allocated(slot)
        }
    }

    /// A new block with a count of 1, for a value its caller makes in
    /// place (a task's future is moved once, into the block, rather than
    /// into a cell on the stack first and then the cell into the block):
    /// write the whole value at the address returned, then
    /// [`TaskRc::from_allocated`]. A block never made into a reference
    /// leaks.
    #[inline(always)]
    pub(super) fn allocate() -> NonNull<T> {
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
            NonNull::new_unchecked(value_ptr)
        }
    }

    /// Gives back a block from [`TaskRc::allocate`] without dropping
    /// anything in it.
    ///
    /// # Safety
    ///
    /// `value` came from `TaskRc::<T>::allocate`, was never made into a
    /// reference, and whatever was written there is dropped already.
    #[inline]
    pub(super) unsafe fn free_allocated(value: NonNull<T>) {
        let header = header_size(std::mem::align_of::<T>());
        // SAFETY: `allocate`'s block, given back with `allocate`'s size
        // and alignment.
        unsafe {
            let block = value.as_ptr().cast::<u8>().sub(header);
            BlockCache::free(
                NonNull::new_unchecked(block),
                header + std::mem::size_of::<T>(),
                std::mem::align_of::<T>(),
            );
        }
    }

    /// The reference (count 1) to a block from [`TaskRc::allocate`].
    ///
    /// # Safety
    ///
    /// `value` came from `TaskRc::<T>::allocate`, once, and a whole valid
    /// `T` was written there since.
    #[inline(always)]
    pub(super) unsafe fn from_allocated(value: NonNull<T>) -> TaskRc<T> {
        TaskRc {
            value,
            _owns: PhantomData,
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

impl<T> TaskRc<T> {
    /// The same allocation seen through `view`, a reference to the whole
    /// value as another (usually unsized) type: `|cell| cell as &dyn Trait`.
    /// The count moves over; `self` is not dropped.
    ///
    /// Sound because the view is checked to be the whole value: the same
    /// address, size and alignment, so the block's layout (and where its
    /// count sits) reads the same through it, and what `release` drops in
    /// place is a valid `U` covering exactly the value's bytes (a trait
    /// object's vtable drops `T` itself). A view of a field that fills the
    /// whole value would skip `T`'s own `Drop`, which is a leak, not unsound.
    ///
    /// # Panics
    ///
    /// When `view` returns anything but a view of the whole value.
    #[inline(always)]
    pub(crate) fn unsize<U: ?Sized>(self, view: impl for<'a> FnOnce(&'a T) -> &'a U) -> TaskRc<U> {
        let viewed: &U = view(&self);
        assert!(
            std::ptr::addr_eq(viewed, self.as_ptr())
                && std::mem::size_of_val(viewed) == std::mem::size_of::<T>()
                && std::mem::align_of_val(viewed) == std::mem::align_of::<T>(),
            "asyncsim bug: TaskRc::unsize with a view that is not the whole value"
        );
        let value = NonNull::from(viewed);
        std::mem::forget(self);
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
        // `mem::forget` makes references without a value in memory, so the
        // count can overflow in safe code: abort, as `Rc` does, rather than
        // wrap to a count that frees the block under live references.
        let current = count.get();
        if current == usize::MAX {
            std::process::abort();
        }
        count.set(current + 1);
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
        // Allocated for this size and alignment (`allocate`: the same,
        // read back from the value).
        BlockCache::free(
            NonNull::new_unchecked(block),
            header + layout.size(),
            layout.align(),
        );
    }
}

/// The thread's free blocks, by size class: a run's task cells, freed at
/// its end, are the next run's, instead of going back to `malloc` (about
/// 170 instructions a task through `malloc` and `free`, and in a process
/// with a second thread, such as the hang watchdog's, glibc's locked paths
/// for its fast bins; about 25 through the cache).
///
/// A block of class `c` is `(c + 1) * CLASS_STEP` bytes aligned to
/// `CLASS_STEP`, always allocated with exactly that layout whichever path
/// makes or frees it (the cache, or the global allocator when the cache is
/// full or the thread's cache is gone), so any path may free it. Larger or
/// more aligned blocks go to the global allocator directly. Each class
/// keeps at most `CLASS_BUDGET` bytes; free blocks are linked through their
/// first word.
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
        // A nonzero multiple of a power of two, aligned to it.
        std::alloc::Layout::from_size_align((class + 1) * CLASS_STEP, CLASS_STEP)
            .expect("a class's layout is valid")
    }

    /// The layout of an unclassed request (`size > 0`): the count needs
    /// 8-byte alignment too.
    fn direct_layout(size: usize, align: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(size, align.max(COUNT_SIZE))
            .expect("asyncsim: a task's future is too large to allocate")
    }

    /// A block of at least `size` bytes (`size >= COUNT_SIZE`), aligned to
    /// `max(align, COUNT_SIZE)`.
    #[inline(always)]
    fn allocate(size: usize, align: usize) -> NonNull<u8> {
        let Some(class) = BlockCache::class(size, align) else {
            return global_allocate(BlockCache::direct_layout(size, align));
        };
        let cached = BLOCKS
            .try_with(|cache| {
                let head = cache.heads[class].get();
                if head.is_null() {
                    return None;
                }
                // SAFETY: a free block's first word links to the next
                // (`free`), and nothing else holds a free block.
                cache.heads[class].set(unsafe { head.cast::<*mut u8>().read() });
                cache.counts[class].set(cache.counts[class].get() - 1);
                NonNull::new(head)
            })
            .ok()
            .flatten();
        match cached {
            Some(block) => block,
            None => global_allocate(BlockCache::class_layout(class)),
        }
    }

    /// Gives back a block [`BlockCache::allocate`] returned for the same
    /// `size` and `align`.
    ///
    /// # Safety
    ///
    /// As above; nothing uses the block afterwards.
    #[inline(always)]
    unsafe fn free(block: NonNull<u8>, size: usize, align: usize) {
        let Some(class) = BlockCache::class(size, align) else {
            // SAFETY: allocated with this layout (`allocate`).
            unsafe { std::alloc::dealloc(block.as_ptr(), BlockCache::direct_layout(size, align)) };
            return;
        };
        let layout = BlockCache::class_layout(class);
        let kept = BLOCKS
            .try_with(|cache| {
                let count = cache.counts[class].get();
                if count as usize * layout.size() >= CLASS_BUDGET {
                    return false;
                }
                // SAFETY: the block is free, at least 16 bytes and 16-aligned
                // (its class's layout): its first word holds the link.
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

#[inline(always)]
fn global_allocate(layout: std::alloc::Layout) -> NonNull<u8> {
    // SAFETY: every layout here has a nonzero size (at least the count).
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

    /// Compiles only while `TaskRc` is not `Send` (the trait's method is
    /// ambiguous for a `Send` type, which has both impls).
    #[allow(dead_code)]
    trait AmbiguousIfSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    const _: fn() = || {
        let _ = <TaskRc<u8> as AmbiguousIfSend<_>>::check;
    };

    #[test]
    fn unsize_keeps_the_count_and_refuses_a_partial_view() {
        let value = TaskRc::new((7u64, 8u64));
        let copy = value.clone();
        let whole: TaskRc<dyn std::fmt::Debug> = value.unsize(|pair| pair as &dyn std::fmt::Debug);
        assert_eq!(format!("{:?}", &*whole), "(7, 8)");
        drop(whole);
        assert_eq!(copy.0, 7);
        let partial = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let again = copy.clone();
            let _ = again.unsize(|pair| &pair.0);
        }));
        assert!(partial.is_err(), "a view of one field is refused");
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
        // A `malloc` of the same size between: it would take a block that
        // had gone back to `malloc`.
        let between = Box::new([3u64; 6]);
        // Same class (48 bytes with the count), most recently freed first.
        let second = TaskRc::new([2u8; 33]);
        assert_eq!(second.as_ptr().cast::<u8>(), address.cast::<u8>());
        assert_eq!(*second, [2u8; 33]);
        assert_eq!(between[5], 3);
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
