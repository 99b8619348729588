//! The thread's current value (the running simulation's core), reachable
//! from anywhere on the thread without a borrow or a count.

use std::cell::Cell;
use std::rc::Rc;
use std::thread::LocalKey;

/// A thread-local slot for the current value: declare one with
/// `thread_local!` and `CurrentCell::new()`; only [`run_as_current`] sets it.
pub(crate) struct CurrentCell<T: 'static> {
    /// Non-null exactly while [`run_as_current`] runs its body on this
    /// thread, and that call owns an `Rc` of the value.
    pointer: Cell<*const T>,
}

impl<T: 'static> CurrentCell<T> {
    pub(crate) const fn new() -> CurrentCell<T> {
        CurrentCell {
            pointer: Cell::new(std::ptr::null()),
        }
    }
}

/// Runs `body` with `value` as the thread's current value in `key`.
///
/// # Panics
///
/// When `key` already has a current value (a run inside a run).
pub(crate) fn run_as_current<T: 'static, R>(
    key: &'static LocalKey<CurrentCell<T>>,
    value: Rc<T>,
    body: impl FnOnce() -> R,
) -> R {
    assert!(
        !is_current(key),
        "asyncsim: a simulation was started inside a running one"
    );
    key.with(|cell| cell.pointer.set(Rc::as_ptr(&value)));
    /// Clears the slot when the body ends, by return or by unwinding.
    struct Clear<T: 'static>(&'static LocalKey<CurrentCell<T>>);
    impl<T: 'static> Drop for Clear<T> {
        fn drop(&mut self) {
            let _ = self.0.try_with(|cell| cell.pointer.set(std::ptr::null()));
        }
    }
    let clear = Clear(key);
    let result = body();
    // The slot is cleared before `value` (the `Rc` the pointer relies on)
    // can go, on either path: `clear` is dropped first.
    drop(clear);
    drop(value);
    result
}

/// Runs `f` with the thread's current value in `key`, if there is one.
///
/// Sound because the pointer is non-null only while `run_as_current` runs
/// its body, whose caller's frame owns an `Rc` of the value and clears the
/// pointer before letting go of it (even while unwinding); any call of this
/// function that sees the pointer runs inside that body, on this thread, so
/// the value outlives `f`, and `f` cannot keep the reference. The value is
/// only ever shared (`&T`).
#[inline(always)]
pub(crate) fn with_current<T: 'static, R>(
    key: &'static LocalKey<CurrentCell<T>>,
    f: impl FnOnce(&T) -> R,
) -> Option<R> {
    // `try_with`: the panic hook asks too, possibly during thread teardown.
    let pointer = key
        .try_with(|cell| cell.pointer.get())
        .unwrap_or(std::ptr::null());
    if pointer.is_null() {
        return None;
    }
    // SAFETY: see above.
    Some(f(unsafe { &*pointer }))
}

/// True while `key` has a current value on this thread.
#[inline]
pub(crate) fn is_current<T: 'static>(key: &'static LocalKey<CurrentCell<T>>) -> bool {
    key.try_with(|cell| !cell.pointer.get().is_null())
        .unwrap_or(false)
}
