//! `JoinError`: why a task's `JoinHandle` (or a `JoinSet`'s join) resolved
//! without its output: cancelled (aborted, or its node crashed) or panicked,
//! with tokio's wording.

use std::fmt;

use super::Id;

/// Why a task's `JoinHandle` resolved without its output.
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// Dropped with its node's crash: a cancellation, as tokio reports the
    /// tasks of a runtime that shut down.
    Crashed(String),
    /// The panic message, with its location when the engine captured it,
    /// and the node the task ran on when it was not the main node.
    Panic(String, Option<String>),
}

impl JoinError {
    pub(super) fn from_sim(error: asyncsim::JoinError) -> JoinError {
        let id = Id::of(error.task());
        if let Some(node) = error.crashed_node() {
            return JoinError {
                id,
                repr: Repr::Crashed(node.to_string()),
            };
        }
        match error.panic_message() {
            Some(message) => JoinError {
                id,
                repr: Repr::Panic(message.to_string(), error.panic_node().map(str::to_string)),
            },
            None => JoinError {
                id,
                repr: Repr::Cancelled,
            },
        }
    }

    pub(super) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    /// True when the task was aborted, or dropped with its node's crash.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled | Repr::Crashed(_))
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(..))
    }

    /// The panic's payload: the message as a `String` (the engine keeps the
    /// message, with its location, rather than the original payload).
    ///
    /// # Panics
    ///
    /// When the task did not panic.
    pub fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }

    /// The panic's payload, or the error back when the task did not panic.
    pub fn try_into_panic(self) -> Result<Box<dyn std::any::Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(message, _) => Ok(Box::new(message)),
            Repr::Cancelled | Repr::Crashed(_) => Err(self),
        }
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Crashed(node) => write!(
                f,
                "task {} was cancelled: its node `{node}` crashed",
                self.id
            ),
            Repr::Panic(message, None) => {
                write!(f, "task {} panicked with message {message:?}", self.id)
            }
            Repr::Panic(message, Some(node)) => write!(
                f,
                "task {} on node `{node}` panicked with message {message:?}",
                self.id
            ),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Crashed(node) => write!(
                f,
                "JoinError::Cancelled({:?}, node {node:?} crashed)",
                self.id
            ),
            Repr::Panic(message, None) => {
                write!(f, "JoinError::Panic({:?}, {message:?}, ...)", self.id)
            }
            Repr::Panic(message, Some(node)) => write!(
                f,
                "JoinError::Panic({:?}, {message:?}, node {node:?}, ...)",
                self.id
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(error: JoinError) -> std::io::Error {
        std::io::Error::other(error.to_string())
    }
}
