//! What a run's result means to a driver: hit or not, and when two failures
//! are the same bug.

use asyncsim_sim::{Deviation, Failure, FailureKind, Run, Tape, Trace};

use crate::test_result::TestResult;

/// The failure a run's result stands for: the run's own failure, or the
/// body's `Err`/`false` value as a [`FailureKind::Body`] failure. The one
/// definition every driver, the shrinker and the report use.
pub(crate) fn result_failure<T: TestResult>(result: Result<T, Failure>) -> Option<Failure> {
    match result {
        Err(failure) => Some(failure),
        Ok(value) => value.into_test_result().err().map(Failure::body),
    }
}

pub(crate) fn failure_kind<T: TestResult>(result: Result<T, Failure>) -> Option<FailureKind> {
    result_failure(result).map(|failure| failure.kind)
}

pub(crate) fn failure_signature<T: TestResult>(result: Result<T, Failure>) -> Option<Signature> {
    result_failure(result).map(|failure| Signature::of(&failure))
}

/// A run taken apart for a report: its failure and what explains it.
pub(crate) struct Examined {
    pub(crate) failure: Option<Failure>,
    pub(crate) trace: Trace,
    /// The realised tape, trimmed.
    pub(crate) tape: Tape,
    pub(crate) deviations: Vec<Deviation>,
    /// The picks that departed from run-to-completion order
    /// (`Run::preemptions`).
    pub(crate) preemptions: Vec<Deviation>,
}

/// Takes a run apart. A body failure (`Err`, `false`) keeps the run's tape
/// and trace like any other failure, and its step.
pub(crate) fn examine<T: TestResult>(run: Run<T>) -> Examined {
    let steps = run.steps();
    let deviations = run.deviations().to_vec();
    let preemptions = run.preemptions().to_vec();
    let Run {
        result,
        trace,
        mut tape,
        ..
    } = run;
    tape.trim();
    let failure = result_failure(result).map(|mut failure| {
        if failure.kind == FailureKind::Body {
            failure.step = steps;
        }
        failure
    });
    Examined {
        failure,
        trace,
        tape,
        deviations,
        preemptions,
    }
}

/// What makes two failures "the same bug" for the shrinker: the kind and,
/// for panics, every `file.rs:line` the message names (where the panic was
/// raised, and where a child's panic was re-raised). Messages themselves
/// may differ (an `assert_eq!` prints the values it saw), so they do not
/// count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Signature {
    pub(crate) kind: FailureKind,
    pub(crate) locations: Vec<String>,
}

impl Signature {
    /// A panic's own location comes from [`Failure::location`]; the
    /// message adds the locations it names besides (a child's panic
    /// re-raised through `unwrap`).
    pub(crate) fn of(failure: &Failure) -> Signature {
        let mut signature = Signature::of_parts(failure.kind, &failure.message);
        if let (FailureKind::Panic, Some(location)) = (failure.kind, &failure.location) {
            if let Some(position) = signature
                .locations
                .iter()
                .position(|seen| **seen == **location)
            {
                signature.locations.remove(position);
            }
            signature.locations.insert(0, location.to_string());
        }
        signature
    }

    fn of_parts(kind: FailureKind, message: &str) -> Signature {
        let locations = if kind == FailureKind::Panic {
            panic_locations(message)
        } else {
            Vec::new()
        };
        Signature { kind, locations }
    }
}

/// Every `path.rs:line` in a panic message, in order.
fn panic_locations(message: &str) -> Vec<String> {
    message
        .split(|c: char| c.is_whitespace() || "\"'`()[]{},;".contains(c))
        .filter_map(|word| {
            let word = word.trim_end_matches(':');
            let (file, line) = word.rsplit_once(':')?;
            (file.ends_with(".rs") && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()))
                .then(|| word.to_string())
        })
        .collect()
}

/// What a driver asks of each run: `Some(data)` for a hit.
pub(crate) trait Classify<T, R>: Sync {
    /// True when only the result matters: sampled runs then skip handing
    /// over their trace and tape (`Sim::run_outcome`).
    const RESULT_ONLY: bool;
    fn run(&self, run: Run<T>) -> Option<R>;
    fn result(&self, result: Result<T, Failure>) -> Option<R>;
}

/// A classifier that needs the whole run (its tape, say).
pub(crate) struct ByRun<C>(pub(crate) C);

impl<T, R, C: Fn(Run<T>) -> Option<R> + Sync> Classify<T, R> for ByRun<C> {
    const RESULT_ONLY: bool = false;

    fn run(&self, run: Run<T>) -> Option<R> {
        (self.0)(run)
    }

    fn result(&self, _result: Result<T, Failure>) -> Option<R> {
        unreachable!("asyncsim bug: a whole-run classifier was given a result only")
    }
}

/// A classifier that looks at the result only.
pub(crate) struct ByResult<C>(pub(crate) C);

impl<T, R, C: Fn(Result<T, Failure>) -> Option<R> + Sync> Classify<T, R> for ByResult<C> {
    const RESULT_ONLY: bool = true;

    fn run(&self, run: Run<T>) -> Option<R> {
        (self.0)(run.result)
    }

    fn result(&self, result: Result<T, Failure>) -> Option<R> {
        (self.0)(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use asyncsim_sim::{Config, Sim};

    #[test]
    fn a_panic_signature_is_its_kind_and_locations_not_its_values() {
        let left = Signature::of_parts(
            FailureKind::Panic,
            "the main future panicked at src/a.rs:12: left: 1, right: 2",
        );
        let right = Signature::of_parts(
            FailureKind::Panic,
            "the main future panicked at src/a.rs:12: left: 5, right: 2",
        );
        assert_eq!(left, right);
        assert_eq!(left.locations, ["src/a.rs:12"]);
        let elsewhere = Signature::of_parts(FailureKind::Panic, "panicked at src/a.rs:13: left: 1");
        assert_ne!(left, elsewhere);
        let nested = Signature::of_parts(
            FailureKind::Panic,
            "panicked at tests/t.rs:9: called `Result::unwrap()` on an `Err` value: \
             JoinError(\"task `x` panicked at tests/t.rs:30: boom\")",
        );
        assert_eq!(nested.locations, ["tests/t.rs:9", "tests/t.rs:30"]);
        assert_eq!(
            Signature::of_parts(FailureKind::Deadlock, "at src/a.rs:1"),
            Signature::of_parts(FailureKind::Deadlock, "at src/b.rs:2")
        );
    }

    #[test]
    fn a_panic_signature_reads_the_failures_location_field() {
        let run = Sim::new(Config::new()).run(async {
            let value = 1;
            assert_eq!(value, 2, "values differ");
        });
        let failure = run.result.unwrap_err();
        let location = failure
            .location
            .as_deref()
            .expect("a panic has its location")
            .to_string();
        assert!(
            location.starts_with("harness/src/classify.rs:"),
            "{location}"
        );
        assert_eq!(Signature::of(&failure).locations[0], location);
        // The field decides even when the message does not name it.
        let mut bare = failure.clone();
        bare.message = "panicked: values differ".to_string();
        assert_eq!(Signature::of(&bare), Signature::of(&failure));
        let mut elsewhere = bare.clone();
        elsewhere.location = Some("harness/src/classify.rs:1".into());
        assert_ne!(Signature::of(&elsewhere), Signature::of(&failure));
    }

    #[test]
    fn failure_kind_counts_err_and_false_as_body_failures() {
        let run = Sim::new(Config::new()).run(async { Err::<(), _>("broken") });
        assert_eq!(failure_kind(run.result), Some(FailureKind::Body));
        let run = Sim::new(Config::new()).run(async { false });
        assert_eq!(failure_kind(run.result), Some(FailureKind::Body));
        let run = Sim::new(Config::new()).run(async {});
        assert_eq!(failure_kind(run.result), None);
    }
}
