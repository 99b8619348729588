//! asyncsim facade.
pub use asyncsim_harness as harness;
pub use asyncsim_sim::*;

pub use asyncsim_harness::{
    check, explore, find, outcomes, Counterexample, Explore, Outcomes, Summary, Witness,
};
/// `#[asyncsim::test]`: an `async fn` test checked over many schedules.
pub use asyncsim_macros::test;
