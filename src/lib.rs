//! asyncsim facade.
pub use asyncsim_harness as harness;
pub use asyncsim_sim::*;
