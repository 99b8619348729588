//! Explaining real tokio inside a simulated run.
//!
//! A dependency that still names real `tokio` (it did not switch to this
//! crate) calls tokio's runtime from inside an asyncsim run, where no tokio
//! runtime exists, and tokio panics with "there is no reactor running, must
//! be called from the context of a Tokio 1.x runtime". That message sends the
//! user looking for a missing `#[tokio::main]`; the real cause is a
//! dependency line. Every future the face hands to the engine (each spawned
//! task, the body of `#[tokio::test]`, `block_on`'s future) is wrapped in
//! [`Explained`], which registers [`explain`] with the engine's panic hook:
//! when task code panics, the engine asks it for the wording, and that panic
//! is reported (in the failure and the task's `JoinError`) as one that says
//! what happened and how to switch. Any other panic keeps its message. The
//! wrapper costs a poll nothing: nothing is caught, the hook runs only on a
//! panic.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The error of an item of tokio's that cannot be simulated: `Unsupported`,
/// "tokio::{item} cannot be simulated: {instead}", naming what to do
/// instead (every refusal by name of the face says it so).
pub(crate) fn unsupported(item: &str, instead: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("tokio::{item} cannot be simulated: {instead}"),
    )
}

/// The part of real tokio's "no runtime" panics that every one of them has.
const REAL_TOKIO_MARKER: &str = "Tokio 1.x runtime";

pin_project_lite::pin_project! {
    /// A future whose panics from real tokio are explained: it registers
    /// the explanation with the engine (`asyncsim::task::set_panic_explainer`,
    /// consulted only when task code panics) and is polled as it is, with no
    /// `catch_unwind` around each poll.
    pub(crate) struct Explained<F> {
        #[pin]
        future: F,
    }
}

impl<F> Explained<F> {
    pub(crate) fn new(future: F) -> Explained<F> {
        register();
        Explained { future }
    }
}

/// Registers (once per process) the explanation with the engine.
fn register() {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    REGISTER.call_once(|| asyncsim::task::set_panic_explainer(explain));
}

/// The engine's panic hook asks this when task code panics: real tokio's
/// "no runtime" panics get the explanation (at the line that called real
/// tokio: its entry points are `#[track_caller]`, so that is the line of
/// the crate to switch — unless that crate's function is `#[track_caller]`
/// too, as tokio-util's `DelayQueue::insert` is, when it is the line that
/// called that crate); any other panic keeps its message.
fn explain(message: &str, location: Option<&str>) -> Option<String> {
    message
        .contains(REAL_TOKIO_MARKER)
        .then(|| real_tokio(message, location))
}

impl<F: Future> Future for Explained<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(context)
    }
}

/// Runs a pool job's closure with the same explanation.
pub(crate) fn call<R>(work: impl FnOnce() -> R) -> R {
    register();
    work()
}

/// What to use instead when the panic's location is inside tokio's own
/// source: a part of tokio the face re-exports unchanged (`sync`, `io`)
/// that calls tokio's runtime inside, which no dependency line can switch.
/// `None` for a location elsewhere (then it is the line that called tokio).
fn inside_tokio(caller: &str) -> Option<String> {
    let at = caller.find("/tokio-1.")?;
    let file = &caller[at..];
    let hint = if file.contains("/src/sync/mpsc/") {
        "`tokio::sync::mpsc::Sender::send_timeout` waits on tokio's own timer: write \
         `tokio::time::timeout(duration, sender.send(value))` instead (the face's timer)"
    } else if file.contains("/src/io/") || file.contains("/src/runtime/blocking/") {
        "tokio's own blocking pool (its `io::Stdin`/`Stdout`/`Stderr`, or `io::unix::AsyncFd`'s \
         reactor) runs nothing here: through the face, `tokio::io::stdout()`/`stderr()` write \
         through and `stdin()` is refused; a crate calling real tokio's is the case below"
    } else {
        "a part of tokio that the face re-exports unchanged (`sync`, `io`) uses tokio's runtime \
         inside: keep that call out of the simulated code, or the case below"
    };
    Some(format!(
        "the call is inside tokio's own code at {caller}; {hint}. Otherwise: "
    ))
}

/// The explanation of a real tokio call inside a simulated run.
pub(crate) fn real_tokio(original: &str, caller: Option<&str>) -> String {
    let inside = caller.and_then(inside_tokio).unwrap_or_default();
    let caller = match caller {
        Some(caller) => format!(
            " at {caller} (that line, or a function it calls that passes its caller's location on: \
             tokio-util's `DelayQueue::insert` is one, so the crate to switch may be the one that line calls)"
        ),
        None => String::new(),
    };
    format!(
        "real tokio was called inside an asyncsim run{caller}; tokio said: \"{original}\". \
         {inside}Some crate in this build names the real `tokio` instead of the face `asyncsim-tokio`, \
         so its runtime calls (a sleep, a spawn, a socket) find no tokio runtime here. \
         Switch that crate's dependency line to \
         `tokio = {{ package = \"asyncsim-tokio\", version = \"0.1\", features = [\"simulation\", ...] }}` \
         (a third-party crate: vendor it with that one line changed, as this repository's \
         mini-redis proof does), or keep its runtime calls out of the simulated code. If that \
         line is your own call of a part of tokio the face re-exports unchanged \
         (`tokio::io::unix::AsyncFd`, which needs tokio's reactor for a real descriptor, or \
         another item of `tokio::io`/`tokio::sync` that uses tokio's runtime inside), that item \
         cannot run in a simulated run: keep it out of the simulated code"
    )
}
