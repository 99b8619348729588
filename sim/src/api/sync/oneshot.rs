//! A channel for exactly one value: [`channel`] gives a [`Sender`] and a
//! [`Receiver`] (asyncio's bare `Future`, resolved once).
//!
//! ```
//! use asyncsim_sim::sync::oneshot;
//! use asyncsim_sim::{Config, Sim};
//!
//! let run = Sim::new(Config::new().seed(4)).run(async {
//!     let (sender, receiver) = oneshot::channel();
//!     asyncsim_sim::spawn(async move { sender.send("done").unwrap() });
//!     receiver.await
//! });
//! assert_eq!(run.result.unwrap(), Ok("done"));
//! ```

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::Binding;
use crate::trace::ResourceKind;

struct Shared<T> {
    inner: RefCell<Inner<T>>,
    binding: Binding,
}

struct Inner<T> {
    value: Option<T>,
    sender_alive: bool,
    receiver_alive: bool,
    /// The receiver's waker while it waits.
    waker: Option<Waker>,
}

/// A connected sender and receiver.
///
/// ```
/// let (sender, receiver) = asyncsim_sim::sync::oneshot::channel::<u32>();
/// assert!(!sender.is_closed());
/// drop(receiver);
/// assert!(sender.is_closed());
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Rc::new(Shared {
        inner: RefCell::new(Inner {
            value: None,
            sender_alive: true,
            receiver_alive: true,
            waker: None,
        }),
        binding: Binding::new(ResourceKind::Oneshot),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// Sends the one value. Dropping it without sending closes the channel.
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver; gives the value back if the
    /// receiver is gone.
    ///
    /// ```
    /// let (sender, receiver) = asyncsim_sim::sync::oneshot::channel();
    /// drop(receiver);
    /// assert_eq!(sender.send(1), Err(1));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        self.shared.binding.id();
        let waker = {
            let mut inner = self.shared.inner.borrow_mut();
            if !inner.receiver_alive {
                return Err(value);
            }
            inner.value = Some(value);
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True when the receiver was dropped: a send would fail.
    ///
    /// ```
    /// let (sender, _receiver) = asyncsim_sim::sync::oneshot::channel::<()>();
    /// assert!(!sender.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        !self.shared.inner.borrow().receiver_alive
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut inner = self.shared.inner.borrow_mut();
            inner.sender_alive = false;
            inner.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Awaits the one value: `Ok(value)`, or [`RecvError`] when the sender was
/// dropped without sending.
///
/// ```
/// use asyncsim_sim::sync::oneshot;
/// let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
///     let (sender, receiver) = oneshot::channel::<u8>();
///     drop(sender);
///     receiver.await
/// });
/// assert_eq!(run.result.unwrap(), Err(oneshot::RecvError));
/// ```
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// The value if it was sent; `Err(TryRecvError::Empty)` if not yet,
    /// `Err(TryRecvError::Closed)` if it never will be.
    ///
    /// ```
    /// use asyncsim_sim::sync::oneshot::{channel, TryRecvError};
    /// let (sender, mut receiver) = channel();
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    /// sender.send(3).unwrap();
    /// assert_eq!(receiver.try_recv(), Ok(3));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut inner = self.shared.inner.borrow_mut();
        match inner.value.take() {
            Some(value) => Ok(value),
            None if inner.sender_alive => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Closed),
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let shared = &self.shared;
        shared.binding.id();
        let mut inner = shared.inner.borrow_mut();
        if let Some(value) = inner.value.take() {
            return Poll::Ready(Ok(value));
        }
        if !inner.sender_alive {
            return Poll::Ready(Err(RecvError));
        }
        match &inner.waker {
            Some(waker) if waker.will_wake(context.waker()) => {}
            _ => inner.waker = Some(context.waker().clone()),
        }
        drop(inner);
        shared.binding.waiting();
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut inner = self.shared.inner.borrow_mut();
        inner.receiver_alive = false;
        inner.waker = None;
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// The sender was dropped without sending.
///
/// ```
/// let error = asyncsim_sim::sync::oneshot::RecvError;
/// assert_eq!(error.to_string(), "the oneshot sender was dropped without sending");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] has no value.
///
/// ```
/// use asyncsim_sim::sync::oneshot::{channel, TryRecvError};
/// let (sender, mut receiver) = channel::<()>();
/// drop(sender);
/// assert_eq!(receiver.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Not sent yet.
    Empty,
    /// The sender was dropped without sending.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value sent yet"),
            TryRecvError::Closed => f.write_str("the oneshot sender was dropped without sending"),
        }
    }
}

impl std::error::Error for TryRecvError {}
