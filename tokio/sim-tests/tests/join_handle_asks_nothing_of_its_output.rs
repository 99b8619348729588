//! `JoinHandle<T>`'s methods, `Future` and `Debug` ask nothing of `T`, as
//! tokio's (`impl<T> JoinHandle<T>`): a crate generic over a handle's output
//! compiles against the face. tokio-util's `task::AbortOnDropHandle<T>`
//! (`impl<T> AbortOnDropHandle<T>` calling `abort`, `is_finished`,
//! `abort_handle`, `id`, and polling the handle) did not, when the face's
//! impls asked `T: 'static`, so switching tokio-util's tokio line to the
//! face (README, "Crates built on tokio") failed to build.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::{AbortHandle, JoinError, JoinHandle};

/// tokio-util's `AbortOnDropHandle`, in its shape: generic over `T` with no
/// bound, aborting its task when dropped.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    fn abort(&self) {
        self.0.abort()
    }

    fn is_finished(&self) -> bool {
        self.0.is_finished()
    }

    fn abort_handle(&self) -> AbortHandle {
        self.0.abort_handle()
    }

    fn id(&self) -> tokio::task::Id {
        self.0.id()
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort()
    }
}

impl<T> std::fmt::Debug for AbortOnDrop<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbortOnDrop")
            .field("id", &self.0.id())
            .field("handle", &self.0)
            .finish()
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

#[tokio::test]
async fn a_handle_wrapper_generic_over_its_output_works() {
    let finishes = AbortOnDrop(tokio::spawn(async { 7 }));
    assert!(format!("{finishes:?}").contains("AbortOnDrop"));
    let id = finishes.id();
    assert_eq!(finishes.abort_handle().id(), id);
    assert_eq!(finishes.await.unwrap(), 7);

    let sleeper = AbortOnDrop(tokio::spawn(std::future::pending::<()>()));
    let abort = sleeper.abort_handle();
    assert!(!sleeper.is_finished());
    drop(sleeper); // aborts it
    tokio::task::yield_now().await;
    assert!(abort.is_finished());

    let aborted = AbortOnDrop(tokio::spawn(std::future::pending::<()>()));
    aborted.abort();
    assert!(aborted.await.unwrap_err().is_cancelled());
}
