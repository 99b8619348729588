//! A waker that is an integer: its data word is the value itself.

use std::marker::PhantomData;
use std::task::{RawWaker, RawWakerVTable, Waker};

/// What an integer waker's `wake` does with its integer.
pub(crate) trait WakeInteger: 'static {
    fn wake(data: usize);
}

/// A waker whose data word is `data` itself; waking it calls `W::wake(data)`.
///
/// Sound because no function of the vtable dereferences the data word:
/// clone copies it, drop does nothing, wake hands the integer to `W`. Such a
/// waker is trivially `Send + Sync`: it shares no memory with anything.
#[inline(always)]
pub(crate) fn integer_waker<W: WakeInteger>(data: usize) -> Waker {
    // SAFETY: see above; the vtable's contract (clone returns an equivalent
    // waker, wake consumes it, drop releases it) holds for a plain integer.
    unsafe { Waker::from_raw(RawWaker::new(data as *const (), IntegerVtable::<W>::VTABLE)) }
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
