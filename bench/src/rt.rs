//! A tiny runtime abstraction so one test body runs unchanged on asyncsim and
//! on shuttle, with exactly the same scheduling points: every interleaving
//! point in a body is an explicit `R::yield_now().await` or an await on one of
//! the runtime-agnostic primitives below (which block only when they must).
//! `join2` polls two futures inside one task: asyncsim draws their order at
//! each poll (`asyncsim::join!`); shuttle does not explore that order, and
//! polls them as `futures::join!` does, in argument order.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// What a body needs from a runtime.
pub trait Rt: 'static {
    /// A task's join future: yields the task's output (a panic in the task
    /// resurfaces as a panic in the joiner). Each runtime's own handle,
    /// unboxed, as a test written for that runtime would await it.
    type Join<T: 'static>: Future<Output = T>;
    /// Spawns a task.
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static;
    /// One scheduling point.
    fn yield_now() -> impl Future<Output = ()>;
    /// Polls two futures inside the calling task until both finish (a
    /// `join!`).
    fn join2<A: Future, B: Future>(a: A, b: B) -> impl Future<Output = (A::Output, B::Output)>;
}

/// A runtime's join handle, unwrapped: the task's output, or the joiner
/// panics with the task's failure.
pub struct Joined<H>(H);

impl<T, E, H> Future for Joined<H>
where
    E: std::fmt::Debug,
    H: Future<Output = Result<T, E>> + Unpin,
{
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Ok(value)) => Poll::Ready(value),
            Poll::Ready(Err(error)) => panic!("joined task failed: {error:?}"),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// asyncsim.
pub struct Sim;

impl Rt for Sim {
    type Join<T: 'static> = Joined<asyncsim::JoinHandle<T>>;

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Joined(asyncsim::spawn(future))
    }

    fn yield_now() -> impl Future<Output = ()> {
        asyncsim::yield_now()
    }

    /// `asyncsim::join!`: the branch order of each poll is a draw.
    async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
        asyncsim::join!(a, b)
    }
}

/// shuttle's async executor (`shuttle::future`).
pub struct Shuttle;

impl Rt for Shuttle {
    type Join<T: 'static> = Joined<shuttle::future::JoinHandle<T>>;

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Joined(shuttle::future::spawn_local(future))
    }

    fn yield_now() -> impl Future<Output = ()> {
        shuttle::future::yield_now()
    }

    /// shuttle explores task interleavings, not the order in which one task
    /// polls its own branches: `futures::join!` polls them in argument
    /// order, as a test written for shuttle would.
    async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
        futures::join!(a, b)
    }
}

/// A future that returns `Pending` once (waking itself), for executors
/// without a yield of their own (`LocalPool`).
pub struct YieldNow(bool);

/// Yields once to any executor.
pub fn yield_once() -> YieldNow {
    YieldNow(false)
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A runtime-agnostic async mutex (no scheduling point when uncontended).
#[derive(Default)]
pub struct Lock {
    locked: Cell<bool>,
    waiters: RefCell<VecDeque<Waker>>,
}

impl Lock {
    /// An unlocked lock.
    pub fn new() -> Rc<Lock> {
        Rc::new(Lock::default())
    }

    /// Acquires the lock.
    pub fn lock(self: &Rc<Self>) -> impl Future<Output = LockGuard> + '_ {
        std::future::poll_fn(move |cx| {
            if self.locked.get() {
                self.waiters.borrow_mut().push_back(cx.waker().clone());
                Poll::Pending
            } else {
                self.locked.set(true);
                Poll::Ready(LockGuard(self.clone()))
            }
        })
    }
}

/// Releases the lock on drop.
pub struct LockGuard(Rc<Lock>);

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.0.locked.set(false);
        let waiter = self.0.waiters.borrow_mut().pop_front();
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

/// A runtime-agnostic unbounded single-consumer channel.
pub struct Chan<T> {
    queue: RefCell<VecDeque<T>>,
    receiver: RefCell<Option<Waker>>,
}

impl<T> Chan<T> {
    /// An empty channel.
    pub fn new() -> Rc<Chan<T>> {
        Rc::new(Chan {
            queue: RefCell::new(VecDeque::new()),
            receiver: RefCell::new(None),
        })
    }

    /// Sends (never blocks).
    pub fn send(&self, value: T) {
        self.queue.borrow_mut().push_back(value);
        let waker = self.receiver.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Receives the oldest message, waiting for one.
    pub fn recv(&self) -> impl Future<Output = T> + '_ {
        std::future::poll_fn(move |cx| match self.queue.borrow_mut().pop_front() {
            Some(value) => Poll::Ready(value),
            None => {
                *self.receiver.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}
