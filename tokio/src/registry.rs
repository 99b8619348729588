//! Send-able handles to a run's single-threaded state.
//!
//! tokio's handles (`File`, a runtime's `Handle`) are `Send`, and
//! code moves them into spawned tasks, which tokio requires to be `Send`.
//! asyncsim's state is `!Send` (a run lives on one thread). So such a face
//! handle holds only a key: the state lives in this thread's table, found by
//! key. A handle that really travels to another thread finds nothing there
//! and says so; dropping it there leaves its entry to this thread (no unsafe,
//! no data race). (`JoinHandle`, `AbortHandle`, `JoinSet` and `LocalFuture` hold their
//! state themselves in an `asyncsim::task::ThreadBound`, and sockets in an
//! `asyncsim::net::Detached`: no table entry.)
//!
//! Keys come from one process-wide counter, so a key never names another
//! thread's entry. The table is only looked up, never iterated: nothing here
//! affects the order of anything.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// Keys are distinct counter values: a multiply spreads them over the
/// table's buckets, with none of SipHash's cost on every lookup.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Table = HashMap<u64, Rc<dyn Any>, BuildHasherDefault<KeyHasher>>;

thread_local! {
    static ENTRIES: RefCell<Table> = RefCell::new(Table::default());
}

/// Stores `value`; the key finds it again on this thread.
pub(crate) fn insert<T: 'static>(value: Rc<T>) -> u64 {
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    ENTRIES.with(|entries| entries.borrow_mut().insert(key, value));
    key
}

/// The entry of `key`, if it lives on this thread and has type `T`.
pub(crate) fn get<T: 'static>(key: u64) -> Option<Rc<T>> {
    let entry = ENTRIES
        .try_with(|entries| entries.borrow().get(&key).cloned())
        .ok()
        .flatten()?;
    entry.downcast::<T>().ok()
}

/// Removes the entry of `key` (nothing on another thread). The value is
/// dropped after the table's borrow ends, so its destructor may use the
/// table.
pub(crate) fn remove(key: u64) {
    let removed = ENTRIES
        .try_with(|entries| entries.borrow_mut().remove(&key))
        .ok()
        .flatten();
    drop(removed);
}

/// The panic for a handle used away from its run's thread.
#[cold]
pub(crate) fn foreign(what: &str) -> ! {
    panic!(
        "{what} was used on a thread other than the one of the asyncsim run that made it: \
         a simulated run is single-threaded, so its handles cannot be used from a thread you \
         started (std::thread::spawn); keep the work inside the run (tokio::spawn, \
         tokio::task::spawn_blocking)"
    )
}

/// A `Send` future that drives a `!Send` one (a world future holding the
/// run's `Rc`s), without a table entry: how the face awaits the world's
/// futures inside futures that tokio promises are `Send`. It panics when
/// polled on another thread, and is leaked if dropped there
/// (`asyncsim::task::ThreadBound`); the future is boxed so that a leak
/// keeps its pinned memory, as `Pin` requires.
pub(crate) struct LocalFuture<F>(asyncsim::task::ThreadBound<std::pin::Pin<Box<F>>>);

impl<F: std::future::Future> LocalFuture<F> {
    pub(crate) fn new(future: F) -> LocalFuture<F> {
        LocalFuture(asyncsim::task::ThreadBound::new(Box::pin(future)))
    }
}

impl<F: std::future::Future> std::future::Future for LocalFuture<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        std::pin::Pin::new(&mut self.0).poll(context)
    }
}

/// A waker that does nothing, for the few polls whose wake-up nobody waits
/// for (`try_join_next`, closing a dropped write half).
pub(crate) fn noop_waker() -> std::task::Waker {
    struct NoWake;
    impl std::task::Wake for NoWake {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    std::task::Waker::from(std::sync::Arc::new(NoWake))
}
