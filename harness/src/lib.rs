//! asyncsim exploration.
pub use asyncsim_sim as sim;
