//! The panic hook: inside a run, task code's panics are captured for the
//! failure report instead of printed.

use std::cell::RefCell;
use std::panic::{self};
use std::sync::Once;

use super::*;
use crate::raw::{self};

thread_local! {
    /// The message and location of the last panic inside a run, captured by
    /// our panic hook instead of being printed.
    static LAST_PANIC: RefCell<Option<CapturedPanic>> = const { RefCell::new(None) };
}

/// A panic's message and location, as the hook saw it.
pub(super) struct CapturedPanic {
    pub(super) message: String,
    pub(super) location: Option<String>,
}

impl CapturedPanic {
    /// The panic the hook captured on this thread, or one made from the
    /// payload alone (a panic hook installed after ours hid it).
    pub(super) fn take(payload: &(dyn std::any::Any + Send)) -> CapturedPanic {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| CapturedPanic {
                message: explained(panic_message(payload), None),
                location: None,
            })
    }

    /// `at src/lib.rs:12: the message`, to follow "… panicked".
    pub(super) fn text(&self) -> String {
        match &self.location {
            Some(location) => format!("at {location}: {}", self.message),
            None => format!("with: {}", self.message),
        }
    }
}

pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// How a face explains panics its users cannot act on as they stand:
/// `(message, location) -> Some(explanation)`, or `None` to keep the message.
pub type PanicExplainer = fn(&str, Option<&str>) -> Option<String>;

static EXPLAINER: std::sync::OnceLock<PanicExplainer> = std::sync::OnceLock::new();

/// Sets (once per process; later calls do nothing) how a panic of task code
/// is worded in the run's report and its `JoinError`: the tokio face uses it
/// to turn real tokio's "no reactor running" into which dependency line to
/// switch. Consulted only when a task panics, so it costs a poll nothing
/// (the face wrapped every poll in `catch_unwind` for this before).
pub fn set_panic_explainer(explainer: PanicExplainer) {
    let _ = EXPLAINER.set(explainer);
}

#[cold]
fn explained(message: String, location: Option<&str>) -> String {
    match EXPLAINER
        .get()
        .and_then(|explain| explain(&message, location))
    {
        Some(explanation) => explanation,
        None => message,
    }
}

/// Installs (once per process) a panic hook that, inside a run, captures the
/// message and location for the failure report instead of printing it; the
/// previous hook still handles panics outside runs.
pub(super) fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // Only panics of task code (a poll, a pool job) are the run's to
            // report; any other panic inside a run is printed as usual.
            let in_task_code = raw::with_current(&CORE, |core| {
                core.running.get() != NOT_RUNNING || core.in_user_code.get()
            });
            if in_task_code == Some(true) {
                let location = info
                    .location()
                    .map(|location| format!("{}:{}", location.file(), location.line()));
                let captured = CapturedPanic {
                    message: explained(panic_message(info.payload()), location.as_deref()),
                    location,
                };
                let _ = LAST_PANIC.try_with(|last| *last.borrow_mut() = Some(captured));
            } else {
                previous(info);
            }
        }));
    });
}

/// Resolves a join slot with its task's panic, and counts it for the
/// end-of-run sweep (which looks for unretrieved panics only when a slot
/// got one).
pub(super) fn deliver_panic(slot: &dyn JoinSlotAny, error: JoinError) {
    try_with_core(|core| core.state.borrow_mut().panics_delivered += 1);
    slot.fail(error);
}
