//! Explaining real tokio inside a simulated run.
//!
//! A dependency that still names real `tokio` (it did not switch to this
//! crate) calls tokio's runtime from inside an asyncsim run, where no tokio
//! runtime exists, and tokio panics with "there is no reactor running, must
//! be called from the context of a Tokio 1.x runtime". That message sends the
//! user looking for a missing `#[tokio::main]`; the real cause is a
//! dependency line. Every future the face hands to the engine (each spawned
//! task, the body of `#[tokio::test]`, `block_on`'s future) is wrapped in
//! [`Explained`], which recognises that panic and raises one that says what
//! happened and how to switch. Any other panic continues unchanged
//! (`resume_unwind` does not call the panic hook again, so the engine's
//! report keeps the original message and location).

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The part of real tokio's "no runtime" panics that every one of them has.
const REAL_TOKIO_MARKER: &str = "Tokio 1.x runtime";

pin_project_lite::pin_project! {
    /// A future whose panics from real tokio are explained.
    pub(crate) struct Explained<F> {
        #[pin]
        future: F,
    }
}

impl<F> Explained<F> {
    pub(crate) fn new(future: F) -> Explained<F> {
        install_location_hook();
        Explained { future }
    }
}

thread_local! {
    /// Where real tokio last panicked for want of a runtime on this thread:
    /// tokio's entry points are `#[track_caller]`, so this is the line of
    /// the crate that called real tokio — the one to switch — unless that
    /// crate's function is `#[track_caller]` too (tokio-util's
    /// `DelayQueue::insert`), when it is the line that called that crate.
    static REAL_TOKIO_CALLER: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

/// Chains (once per process) a panic hook that notes where a real-tokio
/// "no runtime" panic came from, then hands every panic to the hook before
/// it (the engine's, which captures panics of task code for its reports).
/// Installed when the first future is wrapped, so after the engine's own.
fn install_location_hook() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if message.is_some_and(|message| message.contains(REAL_TOKIO_MARKER)) {
                let location = info
                    .location()
                    .map(|location| format!("{}:{}", location.file(), location.line()));
                let _ = REAL_TOKIO_CALLER.try_with(|caller| *caller.borrow_mut() = location);
            }
            previous(info);
        }));
    });
}

impl<F: Future> Future for Explained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        let future = self.project().future;
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(context))) {
            Ok(poll) => poll,
            Err(payload) => explain_or_resume(payload),
        }
    }
}

/// Runs a pool job's closure with the same explanation.
pub(crate) fn call<R>(work: impl FnOnce() -> R) -> R {
    match panic::catch_unwind(AssertUnwindSafe(work)) {
        Ok(output) => output,
        Err(payload) => explain_or_resume(payload),
    }
}

fn explain_or_resume(payload: Box<dyn std::any::Any + Send>) -> ! {
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    match message {
        Some(message) if message.contains(REAL_TOKIO_MARKER) => {
            let caller = REAL_TOKIO_CALLER
                .try_with(|caller| caller.borrow_mut().take())
                .ok()
                .flatten();
            panic!("{}", real_tokio(&message, caller.as_deref()))
        }
        _ => panic::resume_unwind(payload),
    }
}

/// The explanation of a real tokio call inside a simulated run.
pub(crate) fn real_tokio(original: &str, caller: Option<&str>) -> String {
    let caller = match caller {
        Some(caller) => format!(
            " at {caller} (that line, or a function it calls that passes its caller's location on: \
             tokio-util's `DelayQueue::insert` is one, so the crate to switch may be the one that line calls)"
        ),
        None => String::new(),
    };
    format!(
        "real tokio was called inside an asyncsim run{caller}; tokio said: \"{original}\". \
         Some crate in this build names the real `tokio` instead of the face `asyncsim-tokio`, \
         so its runtime calls (a sleep, a spawn, a socket) find no tokio runtime here. \
         Switch that crate's dependency line to \
         `tokio = {{ package = \"asyncsim-tokio\", version = \"0.1\", features = [\"simulation\", ...] }}` \
         (a third-party crate: vendor it with that one line changed, as this repository's \
         mini-redis proof does), or keep its runtime calls out of the simulated code"
    )
}
