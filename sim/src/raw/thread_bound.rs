//! [`ThreadBound`]: a `!Send` value made `Send` and `Sync` by being usable
//! only on the thread that made it. The tokio face's handles (`JoinHandle`,
//! `AbortHandle`, a world future awaited inside a `Send` future) are this:
//! tokio promises they are `Send`, a run's state is single-threaded, and a
//! thread-local table keyed by number (what the face used before) costs a
//! hash lookup and an allocation per handle.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// A value reachable only on the thread that made it, and `Send + Sync`.
///
/// On another thread [`ThreadBound::get`] gives `None` (a future wrapped in
/// it panics when polled there), and dropping it there *leaks* the value
/// instead of running its destructor (which would touch the run's `Rc`
/// counts from a second thread): a misuse that costs memory, never a data
/// race. The home thread is known by a token each thread takes once from a
/// process-wide counter (never reused, so no later thread is ever taken for
/// it). The token only says who may touch the value; nothing a run decides
/// can depend on it (the engine reads no OS or `std` thread id).
///
/// ```
/// use asyncsim_sim::task::ThreadBound;
/// use std::rc::Rc;
/// let local = ThreadBound::new(Rc::new(5));
/// assert_eq!(local.get().map(|five| **five), Some(5));
/// let elsewhere = std::thread::spawn(move || local.get().is_none()).join().unwrap();
/// assert!(elsewhere); // and the Rc was leaked there, not dropped
/// ```
pub struct ThreadBound<T> {
    home: u64,
    value: ManuallyDrop<T>,
}

/// This thread's token, taken from the counter on the thread's first use
/// (a thread-local load after); `None` while the thread's locals are being
/// torn down. 2^64 tokens do not run out.
#[inline]
fn this_thread() -> Option<u64> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static ME: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    ME.try_with(|me| *me).ok()
}

// SAFETY: the value is reached (by reference, pinned, or by its destructor)
// only through `get`, `get_mut`, `poll` and `drop`, each of which first
// checks that the calling thread is the one that made it. On any other
// thread it is only moved as bytes, or leaked. So its `!Send`/`!Sync` parts
// (`Rc` counts, `RefCell` flags) are touched by one thread only.
unsafe impl<T> Send for ThreadBound<T> {}
// SAFETY: as above; through a shared `&ThreadBound` another thread can read
// only `home`, which is plain data.
unsafe impl<T> Sync for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    /// Binds `value` to this thread.
    ///
    /// # Panics
    ///
    /// While this thread's thread-locals are being destroyed.
    #[inline]
    pub fn new(value: T) -> ThreadBound<T> {
        ThreadBound {
            home: this_thread().expect("ThreadBound::new on a thread being torn down"),
            value: ManuallyDrop::new(value),
        }
    }

    #[inline]
    fn at_home(&self) -> bool {
        this_thread() == Some(self.home)
    }

    /// The value, on the thread that made it.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        if self.at_home() {
            Some(&self.value)
        } else {
            None
        }
    }

    /// The value, mutably, on the thread that made it.
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.at_home() {
            Some(&mut self.value)
        } else {
            None
        }
    }
}

impl<T> Drop for ThreadBound<T> {
    #[inline]
    fn drop(&mut self) {
        if self.at_home() {
            // SAFETY: `value` is dropped once, here, on its own thread, and
            // never used again.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
    }
}

/// A bound future is polled on its own thread; polled on another it panics.
/// Only an `Unpin` future can be bound: dropped on another thread the value
/// is leaked *with its memory inside the wrapper*, which the wrapper's owner
/// then frees, and a pinned future (one that may have lent its address, as
/// an intrusive waiter list does) must never have its memory reused without
/// its destructor. Bind `Box::pin(future)` instead: leaking the box keeps
/// the pinned memory forever, as `Pin` requires.
///
/// ```compile_fail
/// use asyncsim_sim::task::ThreadBound;
/// fn is_future<F: std::future::Future>(_: &F) {}
/// let bound = ThreadBound::new(async {}); // an async block is not `Unpin`
/// is_future(&bound);
/// ```
///
/// ```
/// use asyncsim_sim::task::ThreadBound;
/// fn is_future<F: std::future::Future>(_: &F) {}
/// let bound = ThreadBound::new(Box::pin(async {}));
/// is_future(&bound);
/// ```
impl<F: Future + Unpin> Future for ThreadBound<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        let future = self.get_mut().get_mut().unwrap_or_else(|| {
            panic!(
                "a future bound to its asyncsim run's thread was polled on another thread: a \
                 simulated run is single-threaded; keep the work inside the run"
            )
        });
        Pin::new(future).poll(context)
    }
}
