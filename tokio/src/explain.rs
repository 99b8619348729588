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
    // A panic that only quotes one explained already (a task's `JoinError`
    // unwrapped by its joiner) keeps its message: explaining it again would
    // blame the joiner's line and say it all twice.
    (message.contains(REAL_TOKIO_MARKER) && !message.contains(EXPLAINED))
        .then(|| real_tokio(message, location))
}

/// The start of every explanation [`real_tokio`] gives.
const EXPLAINED: &str = "real tokio was called inside an asyncsim run";

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
/// source, and who reached it (`from`, the first frame past tokio's:
/// [`reached_from`]). A part of tokio the face re-exports unchanged (`sync`,
/// `io`) may call tokio's runtime inside, which no dependency line can
/// switch; any other part (`net`, `time`, the runtime) the face replaces,
/// so the code that reached it names real tokio: that is the crate to
/// switch. `None` for a location elsewhere (then it is the line that called
/// tokio).
fn inside_tokio(caller: &str, from: Option<&str>) -> Option<String> {
    let at = caller.find("/tokio-1.")?;
    let file = &caller[at..];
    let reached = from
        .map(|from| format!(", reached from {from}"))
        .unwrap_or_default();
    let hint = if file.contains("/src/sync/mpsc/") {
        "`tokio::sync::mpsc::Sender::send_timeout` waits on tokio's own timer: write \
         `tokio::time::timeout(duration, sender.send(value))` instead (the face's timer)"
    } else if file.contains("/src/io/") || file.contains("/src/runtime/blocking/") {
        "tokio's own blocking pool (its `io::Stdin`/`Stdout`/`Stderr`, or `io::unix::AsyncFd`'s \
         reactor) runs nothing here: through the face, `tokio::io::stdout()`/`stderr()` write \
         through and `stdin()` is refused; a crate calling real tokio's is the case below"
    } else if from.is_some() {
        return Some(format!(
            "the call is inside tokio's own code at {caller}{reached}: that code (or a crate it \
             calls) names real tokio, whose sockets, timers and runtime the face replaces. "
        ));
    } else {
        "a part of tokio that the face re-exports unchanged (`sync`, `io`) uses tokio's runtime \
         inside: keep that call out of the simulated code, or the case below"
    };
    Some(format!(
        "the call is inside tokio's own code at {caller}{reached}; {hint}. Otherwise: "
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

/// Where the code that led into tokio's own source is, when the panic's
/// location is inside it (tokio-tungstenite's `connect_async` calls real
/// `tokio::net::TcpStream::connect`, whose resolver panics in tokio's
/// `net/addr.rs`): the first frame of the panicking thread's backtrace past
/// tokio's own frames that is neither tokio's nor the standard library's, as
/// `file:line`. Asked only for such a panic (the hook runs on the panicking
/// thread, before unwinding); `None` without line tables.
fn reached_from() -> Option<String> {
    let backtrace = std::backtrace::Backtrace::force_capture().to_string();
    first_caller_past_tokio(&backtrace)
}

/// [`reached_from`] on a backtrace's text: its `at file:line:column` lines,
/// innermost first; the frames before tokio's first are the panic hook's own.
fn first_caller_past_tokio(backtrace: &str) -> Option<String> {
    let locations = backtrace
        .lines()
        .filter_map(|line| line.trim().strip_prefix("at "));
    let is_tokio = |location: &str| location.contains("/tokio-1.");
    let is_std = |location: &str| location.starts_with("/rustc/") || location.contains("/library/");
    let found = locations
        .skip_while(|location| !is_tokio(location))
        .find(|location| !is_tokio(location) && !is_std(location))?;
    // `path:line:column` → `path:line`, `./tests/x.rs` → `tests/x.rs`.
    let found = found.trim_start_matches("./");
    Some(match found.rsplit_once(':') {
        Some((rest, column))
            if rest.contains(':') && column.bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest.to_string()
        }
        _ => found.to_string(),
    })
}

/// The script that switches a published crate's tokio lines, where this
/// crate's source is: a checkout's `tokio/switch-tokio.sh`, or (the face
/// from crates.io) the copy cargo unpacked with it, so the command is the
/// one to run as it stands.
pub(crate) const SWITCH_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/switch-tokio.sh");

/// The explanation of a real tokio call inside a simulated run.
pub(crate) fn real_tokio(original: &str, caller: Option<&str>) -> String {
    // Inside tokio's own source the line says nothing of who called it:
    // name the code that did, from the backtrace.
    let from = caller
        .filter(|caller| caller.contains("/tokio-1."))
        .and_then(|_| reached_from());
    let inside = caller
        .and_then(|caller| inside_tokio(caller, from.as_deref()))
        .unwrap_or_default();
    // A published crate is switched by unpacking it with its tokio lines
    // changed: name the command, with its name and version when the line
    // is in one.
    let (name, version) = match &from {
        Some(from) => registry_crate(from),
        None => caller
            .filter(|_| inside.is_empty())
            .and_then(registry_crate),
    }
    .unwrap_or(("<crate>", "<version>"));
    let caller = match caller {
        Some(caller) if inside.is_empty() => format!(
            " at {caller} (that line, or a function it calls that passes its caller's location on: \
             tokio-util's `DelayQueue::insert` is one, so the crate to switch may be the one that line calls)"
        ),
        Some(caller) => format!(" at {caller}"),
        None => String::new(),
    };
    format!(
        "{EXPLAINED}{caller}; tokio said: \"{original}\". \
         {inside}Some crate in this build names the real `tokio` instead of the face `asyncsim-tokio`, \
         so its runtime calls (a sleep, a spawn, a socket) find no tokio runtime here. \
         Switch that crate's dependency line to \
         `tokio = {{ package = \"asyncsim-tokio\", version = \"0.1\", features = [\"simulation\", ...] }}` \
         (a published crate: in your crate's folder, \
         `bash {SWITCH_SCRIPT} {name} {version} vendor` unpacks it into \
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
    use super::{first_caller_past_tokio, registry_crate};

    #[test]
    fn the_code_that_led_into_tokio_is_the_first_frame_past_tokios_own() {
        // The shape of tokio-tungstenite's `connect_async` reaching real
        // tokio's resolver (trial15), as `Backtrace`'s text gives it.
        let registry = "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
        let backtrace = format!(
            "   0: std::backtrace::Backtrace::force_capture\n\
             \x20            at /rustc/59807616e1fa/library/std/src/backtrace.rs:312:13\n\
             \x20  1: asyncsim_tokio::explain::reached_from\n\
             \x20            at /work/asyncsim/tokio/src/explain.rs:140:21\n\
             \x20  2: asyncsim_sim::kernel::panic::explained\n\
             \x20            at /work/asyncsim/sim/src/kernel/panic.rs:70:10\n\
             \x20  3: core::panicking::panic_fmt\n\
             \x20            at /rustc/59807616e1fa/library/core/src/panicking.rs:80:14\n\
             \x20  4: tokio::runtime::blocking::pool::spawn_blocking\n\
             \x20            at {registry}/tokio-1.54.1/src/runtime/blocking/pool.rs:150:14\n\
             \x20  5: tokio::net::addr::sealed::<impl ToSocketAddrsPriv for str>::to_socket_addrs\n\
             \x20            at {registry}/tokio-1.54.1/src/net/addr.rs:182:25\n\
             \x20  6: core::future::future::<impl Future for Pin<P>>::poll\n\
             \x20            at /rustc/59807616e1fa/library/core/src/future/future.rs:133:9\n\
             \x20  7: tokio_tungstenite::connect::connect_async_with_config::{{{{closure}}}}\n\
             \x20            at {registry}/tokio-tungstenite-0.30.0/src/connect.rs:61:24\n\
             \x20  8: tests::echo::{{{{closure}}}}\n\
             \x20            at ./tests/websocket.rs:23:31\n"
        );
        let from = first_caller_past_tokio(&backtrace).unwrap();
        assert_eq!(
            from,
            format!("{registry}/tokio-tungstenite-0.30.0/src/connect.rs:61")
        );
        assert_eq!(registry_crate(&from), Some(("tokio-tungstenite", "0.30.0")));
        // Code of your own (a path, not a published crate): its line.
        let own = backtrace.replace(
            &format!("{registry}/tokio-tungstenite-0.30.0/src/connect.rs:61:24"),
            "./tests/websocket.rs:9:5",
        );
        assert_eq!(
            first_caller_past_tokio(&own).as_deref(),
            Some("tests/websocket.rs:9")
        );
        // No tokio frame, or no line tables: nothing.
        assert_eq!(
            first_caller_past_tokio("   0: main\n             at ./src/main.rs:1:1\n"),
            None
        );
        assert_eq!(
            first_caller_past_tokio("   0: tokio::net::addr\n   1: main\n"),
            None
        );
    }

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
