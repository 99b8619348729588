//! A waker that is an integer: its data word is the value itself.

use std::marker::PhantomData;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// What an integer waker's `wake` does with its integer.
pub(crate) trait WakeInteger: 'static {
    fn wake(data: usize);

    /// Told of every clone of a waker made with
    /// [`IntegerWakers::noting_clones`] (never of the plain ones'), before
    /// the clone is made.
    fn cloned(_data: usize) {}
}

/// One of a `WakeInteger`'s two vtables, chosen once (per run) and used for
/// every waker made with it: `plain`, whose clone only copies the integer,
/// or `noting_clones`, whose clone first calls `W::cloned` (so the engine
/// can note where a task's waker was registered; the plain clone carries no
/// test for it).
#[derive(Clone, Copy)]
pub(crate) struct IntegerWakers(&'static RawWakerVTable);

impl IntegerWakers {
    #[inline(always)]
    pub(crate) fn plain<W: WakeInteger>() -> IntegerWakers {
        IntegerWakers(IntegerVtable::<W>::VTABLE)
    }

    pub(crate) fn noting_clones<W: WakeInteger>() -> IntegerWakers {
        IntegerWakers(NotingVtable::<W>::VTABLE)
    }

    /// A waker with this vtable whose data word is `data` itself; waking
    /// it calls `W::wake(data)`.
    ///
    /// Sound because no function of either vtable dereferences the data
    /// word: clone copies it (after telling `W::cloned`, for the noting one),
    /// drop does nothing, wake hands the integer to `W`. Such a waker is
    /// trivially `Send + Sync`: it shares no memory with anything.
    #[inline(always)]
    pub(crate) fn waker(self, data: usize) -> Waker {
        // SAFETY: `self.0` is one of the two vtables below (the constructors
        // are the only way to make an `IntegerWakers`); neither dereferences
        // the data word (see above), so the vtable's contract
        // (clone returns an equivalent waker, wake consumes it, drop releases
        // it) holds for a plain integer.
        unsafe { Waker::from_raw(RawWaker::new(data as *const (), self.0)) }
    }
}

struct IntegerVtable<W>(PhantomData<W>);

impl<W: WakeInteger> IntegerVtable<W> {
    const VTABLE: &'static RawWakerVTable = &RawWakerVTable::new(
        |data| RawWaker::new(data, IntegerVtable::<W>::VTABLE),
        |data| W::wake(data as usize),
        |data| W::wake(data as usize),
        |_| {},
    );
}

struct NotingVtable<W>(PhantomData<W>);

impl<W: WakeInteger> NotingVtable<W> {
    const VTABLE: &'static RawWakerVTable = &RawWakerVTable::new(
        |data| {
            W::cloned(data as usize);
            RawWaker::new(data, NotingVtable::<W>::VTABLE)
        },
        |data| W::wake(data as usize),
        |data| W::wake(data as usize),
        |_| {},
    );
}
