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
                message: panic_message(payload),
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
                let captured = CapturedPanic {
                    message: panic_message(info.payload()),
                    location: info
                        .location()
                        .map(|location| format!("{}:{}", location.file(), location.line())),
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
