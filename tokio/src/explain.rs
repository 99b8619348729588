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

/// The published crate whose source `caller` is in, as cargo unpacks one:
/// `…/registry/src/<index>/<name>-<version>/src/…` gives `(name, version)`
/// (the version is what follows the first dash that digits and a dot
/// follow: a name may hold dashes and digits, `sha-1-0.10.0`, a version
/// dashes, `0.4.0-alpha.1`). `None` for a location elsewhere (your own
/// crate, a path or git dependency).
fn registry_crate(caller: &str) -> Option<(&str, &str)> {
    let after = &caller[caller.find("/registry/src/")? + "/registry/src/".len()..];
    let unpacked = after.split('/').nth(1)?;
    let dash = unpacked.char_indices().find_map(|(at, c)| {
        let rest = unpacked[at + 1..].trim_start_matches(|c: char| c.is_ascii_digit());
        (c == '-' && rest.len() < unpacked.len() - at - 1 && rest.starts_with('.')).then_some(at)
    })?;
    Some((&unpacked[..dash], &unpacked[dash + 1..]))
}

/// The explanation of a real tokio call inside a simulated run.
pub(crate) fn real_tokio(original: &str, caller: Option<&str>) -> String {
    let inside = caller.and_then(inside_tokio).unwrap_or_default();
    // A published crate is switched by unpacking it with its tokio lines
    // changed: name the command, with its name and version when the line
    // is in one.
    let (name, version) = caller
        .filter(|_| inside.is_empty())
        .and_then(registry_crate)
        .unwrap_or(("<crate>", "<version>"));
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
         (a published crate: in your crate's folder, \
         `bash <asyncsim checkout>/tokio/switch-tokio.sh {name} {version} vendor` unpacks it into \
         vendor/ with its tokio lines switched and prints the `[patch.crates-io]` line to add; \
         README, \"Crates built on tokio\"), or keep its runtime calls out of the simulated code. If that \
         line is your own call of a part of tokio the face re-exports unchanged \
         (`tokio::io::unix::AsyncFd`, which needs tokio's reactor for a real descriptor, or \
         another item of `tokio::io`/`tokio::sync` that uses tokio's runtime inside), that item \
         cannot run in a simulated run: keep it out of the simulated code"
    )
}

#[cfg(test)]
mod tests {
    use super::registry_crate;

    #[test]
    fn a_published_crates_name_and_version_come_from_its_unpacked_path() {
        let index = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        assert_eq!(
            registry_crate(&format!("{index}/axum-0.8.9/src/serve/mod.rs:389")),
            Some(("axum", "0.8.9"))
        );
        assert_eq!(
            registry_crate(&format!(
                "{index}/tokio-util-0.7.20/src/time/delay_queue.rs:10"
            )),
            Some(("tokio-util", "0.7.20"))
        );
        assert_eq!(
            registry_crate(&format!("{index}/h2-0.4.0-alpha.1/src/lib.rs:1")),
            Some(("h2", "0.4.0-alpha.1"))
        );
        assert_eq!(
            registry_crate(&format!("{index}/sha-1-0.10.0/src/lib.rs:1")),
            Some(("sha-1", "0.10.0"))
        );
        assert_eq!(registry_crate("src/lib.rs:72"), None);
        assert_eq!(
            registry_crate("/home/you/vendor/axum-0.8.9/src/lib.rs:1"),
            None
        );
    }
}
