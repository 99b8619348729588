//! Schedules as proptest inputs.

use asyncsim_sim::{Draw, DrawLabel, Tape};
use proptest::prelude::*;

/// A proptest [`Strategy`] whose values are schedules (tapes). Run one with
/// [`run_schedule`](crate::run_schedule), which replays leniently, so every
/// generated tape is a valid schedule. proptest shrinks the tape like any
/// `Vec`: fewer draws and smaller values, that is toward FIFO.
///
/// ```
/// use asyncsim::harness::{run_schedule, schedules};
/// use proptest::prelude::*;
///
/// proptest!(ProptestConfig::with_cases(32), |(schedule in schedules(), n in 1..4usize)| {
///     let run = run_schedule(&schedule, || async move {
///         let tasks: Vec<_> = (0..n).map(|i| asyncsim::spawn(async move { i })).collect();
///         let mut sum = 0;
///         for task in tasks {
///             sum += task.await.unwrap();
///         }
///         sum
///     });
///     prop_assert_eq!(run.result.unwrap(), n * (n - 1) / 2);
/// });
/// ```
pub fn schedules() -> impl Strategy<Value = Tape> {
    schedules_of_length(48)
}

/// Like [`schedules`], with at most `draws_max` draws (the rest of a run
/// goes FIFO).
pub fn schedules_of_length(draws_max: usize) -> impl Strategy<Value = Tape> {
    let value = prop_oneof![3 => Just(0u64), 2 => 1u64..4, 1 => 4u64..16];
    proptest::collection::vec(value, 0..=draws_max).prop_map(|values| {
        Tape::from_draws(
            values
                .into_iter()
                .map(|value| Draw {
                    label: DrawLabel::Schedule,
                    bound: 0,
                    value,
                })
                .collect(),
        )
    })
}
