//! What a test body's value means: success, or a failure with a message.

/// A value a test body may return under [`check`](crate::check): `()` always
/// passes; `Result<T, E>` fails on `Err` with the error's `Debug` text.
///
/// ```
/// use asyncsim::harness::TestResult;
/// assert!(().into_test_result().is_ok());
/// assert_eq!(Err::<(), _>("lost update").into_test_result().unwrap_err(), "\"lost update\"");
/// ```
pub trait TestResult {
    /// `Ok` when the run passed, else the failure's message.
    fn into_test_result(self) -> Result<(), String>;
}

impl TestResult for () {
    fn into_test_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: std::fmt::Debug> TestResult for Result<T, E> {
    fn into_test_result(self) -> Result<(), String> {
        self.map(|_| ()).map_err(|error| format!("{error:?}"))
    }
}

impl TestResult for bool {
    /// `false` fails: handy for `|| async { invariant_holds() }`.
    fn into_test_result(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("the body returned false".to_string())
        }
    }
}
